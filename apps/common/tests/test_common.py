#!/usr/bin/env python3
"""Tests of apps/common through the tiny echo server (127.0.0.1 only).

usage: test_common.py BUILD/apps/common-echo
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

ECHO = None


def make_cert(d):
    """A throwaway self-signed certificate for 127.0.0.1 and localhost."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key



def second_loopback():
    """True when 127.0.0.2 can be a source address (Linux routes all of
    127/8 to lo). The tests that need a second address, to play an attacker
    apart from a legitimate client, are skipped without it. It is only ever
    a source: every connection goes to 127.0.0.1."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


HAVE_127_0_0_2 = second_loopback()
NEEDS_127_0_0_2 = unittest.skipUnless(HAVE_127_0_0_2, "127.0.0.2 is not a usable loopback source here")

class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([ECHO] + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError("server did not start: " + line + self.p.stderr.read())
        self.port = int(line.rsplit(":", 1)[1])

    def connect(self, src="127.0.0.1"):
        s = socket.socket()
        s.settimeout(10)
        s.bind((src, 0))
        s.connect(("127.0.0.1", self.port))
        return s

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(timeout=10)
        err = self.p.stderr.read()
        self.p.stdout.close()
        self.p.stderr.close()
        return err


class CommonTest(unittest.TestCase):
    def setUp(self):
        self.servers = []
        self.tmp = tempfile.mkdtemp(prefix="app-common-")

    def tearDown(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args):
        s = Server(*args)
        self.servers.append(s)
        return s

    def test_echo_plain(self):
        s = self.start("127.0.0.1:0", "4", "0")
        with s.connect() as c:
            c.sendall(b"hello")
            self.assertEqual(c.recv(100), b"hello")

    @NEEDS_127_0_0_2
    def test_per_address_cap_leaves_other_addresses_served(self):
        s = self.start("127.0.0.1:0", "3", "0")
        held = [s.connect("127.0.0.2") for _ in range(3)]
        try:
            with s.connect("127.0.0.2") as c:
                self.assertEqual(c.recv(100), b"BUSY\n")
                self.assertEqual(c.recv(100), b"")
            with s.connect("127.0.0.1") as c:
                c.sendall(b"x")
                self.assertEqual(c.recv(10), b"x")
        finally:
            for h in held:
                h.close()
        time.sleep(0.3)
        with s.connect("127.0.0.2") as c:  # freed slots count again
            c.sendall(b"y")
            self.assertEqual(c.recv(10), b"y")

    def test_auth_deadline_closes_idle_connection(self):
        s = self.start("127.0.0.1:0", "8", "300")
        with s.connect() as idle, s.connect() as good:
            good.sendall(b"AUTH me")
            self.assertEqual(good.recv(100), b"AUTH me")
            t0 = time.monotonic()
            self.assertEqual(idle.recv(10), b"")
            self.assertLess(time.monotonic() - t0, 3)
            time.sleep(0.5)
            good.sendall(b"still")
            self.assertEqual(good.recv(100), b"still")

    def test_graceful_close(self):
        s = self.start("127.0.0.1:0", "8", "0")
        with s.connect() as c:
            c.sendall(b"QUIT")
            self.assertEqual(c.recv(100), b"QUIT")
            self.assertEqual(c.recv(100), b"")

    def test_tls_echo_and_big_reply(self):
        cert, key = make_cert(self.tmp)
        s = self.start("127.0.0.1:0", "8", "2000", cert, key)
        ctx = ssl.create_default_context(cafile=cert)
        with ctx.wrap_socket(s.connect(), server_hostname="127.0.0.1") as c:
            c.sendall(b"AUTH" + b"z" * 300000)
            got = b""
            while len(got) < 300004:
                got += c.recv(1 << 20)
            self.assertEqual(got, b"AUTH" + b"z" * 300000)

    @NEEDS_127_0_0_2
    def test_tls_handshake_flood_backs_off_per_address(self):
        cert, key = make_cert(self.tmp)
        s = self.start("127.0.0.1:0", "8", "5000", cert, key)  # backoff 100 ms .. 1 s
        ctx = ssl.create_default_context(cafile=cert)
        t0 = time.monotonic()
        for _ in range(6):  # handshakes that never authenticate
            with ctx.wrap_socket(s.connect("127.0.0.2"), server_hostname="127.0.0.1"):
                pass
        flood = time.monotonic() - t0
        self.assertGreater(flood, 1.2, "6 handshakes took %.2f s" % flood)  # 0.1+0.2+0.4+0.8
        t1 = time.monotonic()
        with ctx.wrap_socket(s.connect("127.0.0.1"), server_hostname="127.0.0.1") as c:
            c.sendall(b"AUTH ok")
            self.assertEqual(c.recv(100), b"AUTH ok")
        self.assertLess(time.monotonic() - t1, 1.0)

    def test_tls_refuses_plain_client(self):
        cert, key = make_cert(self.tmp)
        s = self.start("127.0.0.1:0", "8", "2000", cert, key)
        with s.connect() as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = c.recv(100)
            self.assertNotIn(b"GET", data)

    def test_non_loopback_without_tls_refused(self):
        p = subprocess.run([ECHO, "0.0.0.0:0", "4", "0"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("clear text", p.stderr)

    def test_address_in_use(self):
        s = self.start("127.0.0.1:0", "4", "0")
        p = subprocess.run([ECHO, "127.0.0.1:%d" % s.port, "4", "0"], capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("already in use", p.stderr)


if __name__ == "__main__":
    ECHO = os.path.abspath(sys.argv.pop(1))
    unittest.main()
