#!/usr/bin/env python3
"""The attacks of issue 18 against frame-files-server, one test each; every
test fails on the server as it was before the fixes (most of them because the
old server did not have the option or the behaviour at all).

    python3 apps/frame-files/tests/test_files_attacks.py BUILD_DIR [unittest args]

127.0.0.1 only; every process started is killed at the end of its test. Two
tests mount a small tmpfs (they need root and skip themselves otherwise).
"""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BUILD = None
PASSWORD = "correct horse battery"


def exe(name):
    return os.path.join(BUILD, name)


class Server:
    """frame-files-server on 127.0.0.1, port 0, in its own root."""

    def __init__(self, root, *extra, classic=False, kdf=1000):
        self.root = root
        self.errpath = root.rstrip("/") + ".err"
        self.err = open(self.errpath, "ab")
        cmd = [exe("frame-files-server"), "--root", root, "--port", "0", "--kdf-iterations", str(kdf)] + list(extra)
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err)
        line = self._readline(15)
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line)
        assert m, "unexpected first line %r: %s" % (line, self.log())
        self.port = int(m.group(1))
        self.classic_port = None
        if classic:
            line = self._readline(15)
            m = re.match(r"classic uploads on 127\.0\.0\.1:(\d+)$", line)
            assert m, "unexpected line %r: %s" % (line, self.log())
            self.classic_port = int(m.group(1))

    def _readline(self, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            assert left > 0, "the server said nothing: %s" % self.log()
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                b = os.read(self.p.stdout.fileno(), 1)
                assert b, "the server exited: %s" % self.log()
                buf += b
        return buf.decode().strip()

    def log(self):
        self.err.flush()
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.err.close()
        return self.p.returncode


def frame(hdr, body=b""):
    h = {"size": len(body)}
    h.update(hdr)
    j = json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode()
    return struct.pack("<I", len(j)) + j + body


class Conn:
    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, hdr, body=b""):
        self.s.sendall(frame(hdr, body))

    def take(self, n):
        while len(self.buf) < n:
            b = self.s.recv(1 << 20)
            if not b:
                raise EOFError("closed")
            self.buf += b
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def reply(self):
        (hl,) = struct.unpack("<I", self.take(4))
        h = json.loads(self.take(hl).decode())
        body = self.take(h["size"]) if h["size"] else b""
        return h

    def closed_within(self, timeout):
        """True when the server closes the connection within timeout s."""
        self.s.settimeout(timeout)
        try:
            while self.s.recv(65536):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def call(port, hdr, body=b""):
    c = Conn(port)
    try:
        c.send(hdr, body)
        return c.reply()
    finally:
        c.close()


def register(port, user, pw=PASSWORD):
    return call(port, {"op": "register", "user": user, "password": pw})


def login(port, user, pw=PASSWORD, conn=None):
    if conn:
        conn.send({"op": "login", "user": user, "password": pw})
        return conn.reply()
    return call(port, {"op": "login", "user": user, "password": pw})


def token_of(port, user, pw=PASSWORD):
    r = login(port, user, pw)
    assert r.get("ok") is True, r
    return r["token"]


def upload(c, token, name, data):
    """One reply: the commit's, or the early refusal (the commit is then dropped)."""
    c.send({"op": "upload", "token": token, "name": name, "checksum": "sha256"}, data)
    c.send({"op": "commit", "sha256": hashlib.sha256(data).hexdigest()})
    return c.reply()


def upload_new(port, token, name, data):
    c = Conn(port)
    try:
        c.send({"op": "upload", "token": token, "name": name, "checksum": "sha256"}, data)
        c.send({"op": "commit", "sha256": hashlib.sha256(data).hexdigest()})
        return c.reply()
    finally:
        c.close()


def users_record(name, pw, iters, salt=b"0123456789abcdef"):
    """A users line exactly as the server before issue 18 wrote it."""
    h = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters, 32)
    return "%s pbkdf2-sha256 %d %s %s\n" % (name, iters, salt.hex(), h.hex())


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ff-attacks-")
        self.servers = []
        self.mounts = []
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for s in self.servers:
            s.stop()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, name, *extra, **kw):
        s = Server(os.path.join(self.tmp, name), *extra, **kw)
        self.servers.append(s)
        return s

    def tmpfs(self, name, size):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", d], capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" % r.stderr.decode().strip())
        self.mounts.append(d)
        return d


class Finding01FullDisk(Base):
    def test_full_disk_register_leaves_users_whole_and_says_why(self):
        disk = self.tmpfs("disk", "256k")
        root = os.path.join(disk, "root")
        s = Server(root)
        self.servers.append(s)
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        filler = os.path.join(disk, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        r = upload_new(s.port, token_of(s.port, "alice"), "big", os.urandom(64 * 1024))
        self.assertEqual(r.get("error"), "NO_SPACE", r)
        self.assertIn("No space left on device", r.get("message", ""), r)
        self.assertEqual([n for n in os.listdir(os.path.join(root, "files", "alice")) if n.startswith(".")], [])
        r = register(s.port, "bob")
        self.assertIn(r.get("error"), ("NO_SPACE", "IO"), r)
        self.assertIn("No space left on device", r.get("message", ""), r)
        self.assertNotIn("Success", r.get("message", ""))
        with open(os.path.join(root, "users")) as f:
            lines = f.read().splitlines()
        self.assertEqual([l.split()[0] for l in lines], ["alice"])
        self.assertTrue(all(len(l.split()) == 5 for l in lines), lines)
        os.unlink(filler)
        self.assertEqual(register(s.port, "carol").get("ok"), True)
        s.stop()
        self.servers.remove(s)
        s2 = Server(root)
        self.servers.append(s2)
        for u in ("alice", "carol"):
            self.assertEqual(login(s2.port, u).get("ok"), True, u)
        self.assertEqual(login(s2.port, "bob").get("error"), "AUTH_FAILED")

    def test_damaged_record_is_reported_and_skipped(self):
        root = os.path.join(self.tmp, "root")
        os.mkdir(root)
        with open(os.path.join(root, "users"), "w") as f:
            f.write(users_record("alice", PASSWORD, 1000))
            f.write("this is not a user record\n")
            f.write(users_record("dave", PASSWORD, 1000))
            f.write("bob pbkdf2-sha256 1000 00")  # torn by a crash
        s = self.server("root")
        self.assertIn("line 2", s.log())
        self.assertEqual(login(s.port, "alice").get("ok"), True)
        self.assertEqual(login(s.port, "dave").get("ok"), True)


class Finding11Crypto(Base):
    def test_old_record_verifies_and_is_rehashed(self):
        root = os.path.join(self.tmp, "root")
        os.mkdir(root)
        with open(os.path.join(root, "users"), "w") as f:
            f.write(users_record("alice", PASSWORD, 1000))
        s = self.server("root", kdf=2000)
        self.assertEqual(login(s.port, "alice", "wrong password").get("error"), "AUTH_FAILED")
        time.sleep(0.3)  # the slow-down after a failure
        self.assertEqual(login(s.port, "alice").get("ok"), True)

        def rehashed():
            with open(os.path.join(root, "users")) as f:
                return f.read().split()[2] == "2000"
        wait_for(rehashed, 10, "the users record to be rehashed with 2000 iterations")
        s.stop()
        self.servers.remove(s)
        s2 = self.server("root", kdf=2000)
        self.assertEqual(login(s2.port, "alice").get("ok"), True)

    def test_no_hand_written_crypto_left(self):
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        self.assertFalse(os.path.exists(os.path.join(src, "sha256.c")))
        for name in ("ff.c", "server.c", "client.c"):
            with open(os.path.join(src, name)) as f:
                text = f.read()
            self.assertNotRegex(text, r"0x6a09e667|0x428a2f98")  # SHA-256 constants
        with open(os.path.join(src, "ff.c")) as f:
            text = f.read()
        for fn in ("PKCS5_PBKDF2_HMAC", "EVP_Digest", "RAND_bytes", "CRYPTO_memcmp"):
            self.assertIn(fn, text)


class Finding02Slots(Base):
    def test_per_address_cap_and_auth_deadline(self):
        s = self.server("root", "--max-conns-per-addr", "8", "--auth-timeout", "1")
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        idle = [Conn(s.port) for _ in range(8)]
        extra = Conn(s.port)
        r = extra.reply()
        self.assertEqual(r.get("error"), "BUSY", r)
        self.assertIn("per address", r.get("message"))
        extra.close()
        # the idle ones never log in: they are closed after --auth-timeout
        t0 = time.monotonic()
        for c in idle:
            self.assertTrue(c.closed_within(5), "an unauthenticated connection was kept")
            c.close()
        self.assertLess(time.monotonic() - t0, 5)
        r = login(s.port, "alice")
        self.assertEqual(r.get("ok"), True, r)


class Finding03Logins(Base):
    def test_guessing_slows_down(self):
        s = self.server("root")
        self.assertEqual(register(s.port, "victim").get("ok"), True)
        judged = [0]
        slowed = [0]
        stop = time.monotonic() + 5
        lock = threading.Lock()

        def guesser(i):
            c = Conn(s.port)
            n = 0
            while time.monotonic() < stop:
                r = login(s.port, "victim", "guess-%d-%d" % (i, n), conn=c)
                n += 1
                with lock:
                    if r.get("error") == "AUTH_FAILED":
                        judged[0] += 1
                    elif r.get("error") == "SLOW_DOWN":
                        slowed[0] += 1
                    else:
                        raise AssertionError(r)
            c.close()

        threads = [threading.Thread(target=guesser, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        # 0.25 + 0.5 + 1 + 2 s: about five guesses judged in 5 s, not hundreds
        print("\n    16 connections, 5 s: %d guesses judged, %d told SLOW_DOWN" % (judged[0], slowed[0]),
              file=sys.stderr)
        self.assertLessEqual(judged[0], 8, (judged[0], slowed[0]))
        self.assertGreater(slowed[0], 0)

    def test_parallel_logins_of_one_user_wait_their_turn(self):
        s = self.server("root")
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        procs = [subprocess.Popen([exe("frame-files"), "-p", str(s.port), "-u", "alice", "--password-file", pw,
                                   "-q", "ls"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(12)]
        self.procs.extend(procs)
        for p in procs:
            self.assertEqual(p.wait(60), 0, p.stderr.read())
            p.stderr.close()

    def test_commit_does_not_wait_behind_hashing(self):
        s = self.server("root", "--login-backoff", "0", "--workers", "1", "--kdf-queue", "8",
                        "--max-conns-per-addr", "100", kdf=300000)
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        tok = token_of(s.port, "alice")
        stop = [False]
        busy = [0]

        def flooder(i):
            c = Conn(s.port, timeout=120)
            while not stop[0]:
                r = login(s.port, "nobody%d" % i, "x" * 12, conn=c)
                if r.get("error") == "BUSY":
                    busy[0] += 1
            c.close()

        threads = [threading.Thread(target=flooder, args=(i,)) for i in range(32)]
        for t in threads:
            t.start()
        try:
            time.sleep(1)
            worst = 0
            for i in range(3):
                t0 = time.monotonic()
                r = upload_new(s.port, tok, "f%d" % i, os.urandom(1024))
                worst = max(worst, time.monotonic() - t0)
                self.assertEqual(r.get("ok"), True, r)
        finally:
            stop[0] = True
            for t in threads:
                t.join(60)
        print("\n    32 connections hashing: slowest 1 KiB upload+commit %.3f s, %d logins told BUSY" %
              (worst, busy[0]), file=sys.stderr)
        self.assertLess(worst, 1.0, "a 1 KiB upload took %.2f s behind the hashing" % worst)
        self.assertGreater(busy[0], 0, "the hashing queue is not bounded")


class Finding04Sessions(Base):
    def test_one_users_logins_never_end_anothers_session(self):
        s = self.server("root", "--max-sessions", "32", "--max-sessions-per-user", "4", "--login-backoff", "0")
        for u in ["alice", "mallory"] + ["u%d" % i for i in range(8)]:
            self.assertEqual(register(s.port, u).get("ok"), True)
        alice = token_of(s.port, "alice")
        c = Conn(s.port)
        toks = [login(s.port, "mallory", conn=c)["token"] for _ in range(100)]
        c.close()
        self.assertEqual(call(s.port, {"op": "list", "token": alice}).get("ok"), True)
        self.assertEqual(call(s.port, {"op": "list", "token": toks[0]}).get("error"), "NOT_LOGGED_IN")
        self.assertEqual(call(s.port, {"op": "list", "token": toks[-1]}).get("ok"), True)
        # fill every slot: the next login is refused, alice keeps hers
        results = [login(s.port, "u%d" % (i % 8)) for i in range(40)]
        self.assertIn("BUSY", [r.get("error") for r in results])
        self.assertEqual(call(s.port, {"op": "list", "token": alice}).get("ok"), True)


class Finding05Space(Base):
    def test_quota(self):
        s = self.server("root", "--quota", "100000")
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        tok = token_of(s.port, "alice")
        c = Conn(s.port)
        self.assertEqual(upload(c, tok, "a", os.urandom(60000)).get("ok"), True)
        r = upload(c, tok, "b", os.urandom(50000))
        self.assertEqual(r.get("error"), "QUOTA_EXCEEDED", r)
        c.close()
        self.assertEqual(call(s.port, {"op": "delete", "token": tok, "name": "a"}).get("ok"), True)
        self.assertEqual(upload_new(s.port, tok, "b", os.urandom(50000)).get("ok"), True)

    def test_trickle_holds_no_space_and_times_out(self):
        disk = self.tmpfs("disk", "4m")
        root = os.path.join(disk, "root")
        s = Server(root, "--frame-timeout", "2", "--min-rate", "1024")
        self.servers.append(s)
        for u in ("alice", "mallory"):
            self.assertEqual(register(s.port, u).get("ok"), True)
        ta, tm = token_of(s.port, "alice"), token_of(s.port, "mallory")
        body = 3 * 1024 * 1024
        m = Conn(s.port)
        hdr = json.dumps({"size": body, "op": "upload", "token": tm, "name": "big", "checksum": "sha256"}).encode()
        m.s.sendall(struct.pack("<I", len(hdr)) + hdr + b"x")
        time.sleep(0.3)
        # the declared 3 MiB are not claimed: alice's 2 MiB fit on the 4 MiB disk
        r = upload_new(s.port, ta, "photo", os.urandom(2 * 1024 * 1024))
        self.assertEqual(r.get("ok"), True, r)
        closed = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not closed:
            try:
                m.s.sendall(b"x")
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            closed = m.closed_within(0.01)
        self.assertTrue(closed, "a trickling upload was kept beyond --frame-timeout")
        m.close()
        udir = os.path.join(root, "files", "mallory")
        wait_for(lambda: not [n for n in os.listdir(udir) if n.startswith(".upload-")], 5,
                 "the trickler's temporary file to go")
        self.assertIn("--min-rate", s.log())

    def test_registration_closed_and_add_user(self):
        root = os.path.join(self.tmp, "root")
        r = subprocess.run([exe("frame-files-server"), "--root", root, "--kdf-iterations", "1000", "--add-user", "bob"],
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.server("root", "--registration", "closed")
        self.assertEqual(register(s.port, "eve").get("error"), "REGISTRATION_CLOSED")
        self.assertEqual(login(s.port, "bob").get("ok"), True)
        r = subprocess.run([exe("frame-files-server"), "--root", root, "--add-user", "carol"],
                           input=PASSWORD + "\n", capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("in use", r.stderr)


class Finding10Cleartext(Base):
    def test_non_loopback_without_tls_refused(self):
        r = subprocess.run([exe("frame-files-server"), "--root", os.path.join(self.tmp, "r"), "--bind", "0.0.0.0",
                            "--port", "0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("without TLS", r.stderr)
        self.assertIn("--insecure-no-tls", r.stderr)


def make_cert(d, cn="localhost"):
    """A throwaway self-signed certificate for 127.0.0.1 and localhost."""
    cert, key = os.path.join(d, cn + "-cert.pem"), os.path.join(d, cn + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=" + cn, "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost" if cn == "localhost" else "subjectAltName=DNS:" + cn,
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


class Finding10Tls(Base):
    def test_tls_end_to_end_and_no_cleartext(self):
        if not shutil.which("openssl"):
            self.skipTest("the openssl command is not installed")
        cert, key = make_cert(self.tmp)
        s = self.server("root", "--tls-cert", cert, "--tls-key", key)
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        src = os.path.join(self.tmp, "secret.bin")
        data = os.urandom(200000)
        with open(src, "wb") as f:
            f.write(data)
        base = [exe("frame-files"), "-H", "127.0.0.1", "-p", str(s.port), "-u", "alice", "--password-file", pw,
                "--tls-ca", cert, "-q"]
        for args in (["register"], ["put", src], ["get", "secret.bin", os.path.join(self.tmp, "back.bin")]):
            r = subprocess.run(base + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, (args, r.stderr))
        with open(os.path.join(self.tmp, "back.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        # a cleartext client gets nothing it could read as a reply, and no password is heard
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(frame({"op": "login", "user": "alice", "password": PASSWORD}))
        got = b""
        try:
            while len(got) < 4096:
                b = c.recv(4096)
                if not b:
                    break
                got += b
        except (ConnectionResetError, socket.timeout):
            pass
        c.close()
        self.assertNotIn(b'"token"', got)
        # a certificate for another name is refused by the client
        other, okey = make_cert(self.tmp, "elsewhere.example")
        r = subprocess.run(base[:-3] + ["--tls-ca", other, "-q", "ls"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)

    def test_bad_tls_key_refused_before_listening(self):
        if not shutil.which("openssl"):
            self.skipTest("the openssl command is not installed")
        cert, key = make_cert(self.tmp)
        r = subprocess.run([exe("frame-files-server"), "--root", os.path.join(self.tmp, "r"), "--bind", "0.0.0.0",
                            "--port", "0", "--tls-cert", cert, "--tls-key", os.path.join(self.tmp, "missing.pem")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)  # the key is checked before anything listens
        self.assertNotIn("without TLS", r.stderr)


class Finding12Names(Base):
    def test_spoofing_names_refused(self):
        s = self.server("root")
        self.assertEqual(register(s.port, "alice").get("ok"), True)
        tok = token_of(s.port, "alice")
        c = Conn(s.port)
        for name in ("invoice\u202egpj.exe", "a\u200bb", "a\u2215b", "report.", "report ", "x\u2066y", "\ufeffa",
                     "a\u200fb", "a\u2060b", "tab\tname"):
            r = upload(c, tok, name, b"data")
            self.assertEqual(r.get("error"), "BAD_NAME", (name, r))
            self.assertRegex(r.get("message", ""), r"contains|ends with", name)
        self.assertEqual(upload(c, tok, "caf\u00e9 r\u00e9sum\u00e9.txt", b"data").get("ok"), True)
        c.close()


TUTORIAL_UPLOADER = r'''
import socket
import struct
import json
import os
import sys

sk = socket.socket()
sk.connect(('127.0.0.1', int(sys.argv[1])))

file_path = sys.argv[2]
file_name = sys.argv[3] if len(sys.argv) > 3 else os.path.basename(file_path)
file_size = os.path.getsize(file_path)
head = {'file_name': file_name, 'file_size': file_size}
head_json = json.dumps(head)
head_bytes = head_json.encode('utf-8')
sk.send(struct.pack('i', len(head_bytes)))
sk.send(head_bytes)
with open(file_path, 'rb') as f:
    while file_size:
        content = f.read(1024)
        sk.send(content)
        file_size -= len(content)
print('upload done')
sk.close()
'''


TUTORIAL_SERVER = r'''
import socket
import struct
import json
import os
import sys

sk = socket.socket()
sk.bind(('127.0.0.1', 0))
sk.listen()
print(sk.getsockname()[1], flush=True)
sk.settimeout(30)
conn, addr = sk.accept()
head_len = struct.unpack('i', conn.recv(4))[0]
head = json.loads(conn.recv(head_len).decode('utf-8'))
file_size = head['file_size']
with open(os.path.join(sys.argv[1], head['file_name']), 'wb') as f:
    while file_size:
        content = conn.recv(1024)
        if not content:
            break
        f.write(content)
        file_size -= len(content)
conn.close()
sk.close()
'''


class Finding13Classic(Base):
    def classic_server(self, *extra):
        inbox = os.path.join(self.tmp, "inbox")
        s = self.server("root", "--classic-listen", "127.0.0.1:0", "--classic-inbox", inbox, *extra, classic=True)
        return s, inbox

    def tutorial(self, port, path, name=None):
        script = os.path.join(self.tmp, "tutorial_upload_client.py")
        with open(script, "w") as f:
            f.write(TUTORIAL_UPLOADER)
        args = [sys.executable, script, str(port), path] + ([name] if name else [])
        return subprocess.run(args, capture_output=True, text=True, timeout=60)

    def test_tutorial_upload_lands_in_inbox(self):
        s, inbox = self.classic_server()
        wait_for(lambda: "no credentials" in s.log(), 5, "the warning about classic clients")
        data = os.urandom(300000)
        src = os.path.join(self.tmp, "holiday.jpg")
        with open(src, "wb") as f:
            f.write(data)
        r = self.tutorial(s.classic_port, src)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(inbox, "holiday.jpg")
        wait_for(lambda: os.path.exists(path), 10, "the classic upload to arrive")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual([n for n in os.listdir(inbox) if n.startswith(".")], [])

    def test_client_put_classic(self):
        s, inbox = self.classic_server()
        src = os.path.join(self.tmp, "notes.txt")
        with open(src, "wb") as f:
            f.write(b"hello classic\n" * 1000)
        r = subprocess.run([exe("frame-files"), "--classic", "-p", str(s.classic_port), "put", src],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(inbox, "notes.txt"), "rb") as f:
            self.assertEqual(f.read(), b"hello classic\n" * 1000)

    def test_traversal_bad_head_and_quota_close_without_reply(self):
        s, inbox = self.classic_server("--quota", "100000")
        src = os.path.join(self.tmp, "x.bin")
        with open(src, "wb") as f:
            f.write(b"y" * 5000)
        for name in ("../escape", "/etc/evil", "..", "a\u202eb"):
            self.tutorial(s.classic_port, src, name)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape")))
        self.assertEqual(sorted(os.listdir(inbox)), [])
        # a bad head: the connection ends, and not with a frame a classic client would misread
        for raw in (struct.pack("i", 5) + b"nojso", struct.pack("i", 13) + b'{"file_size":1}' [:13],
                    struct.pack("i", 2) + b"{}"):
            k = socket.create_connection(("127.0.0.1", s.classic_port), timeout=10)
            k.sendall(raw)
            got = b""
            try:
                while True:
                    b = k.recv(4096)
                    if not b:
                        break
                    got += b
            except ConnectionResetError:
                pass
            k.close()
            self.assertEqual(got, b"", raw)
        # over the quota: refused, nothing stored
        big = os.path.join(self.tmp, "big.bin")
        with open(big, "wb") as f:
            f.write(b"z" * 200000)
        self.tutorial(s.classic_port, big)
        time.sleep(0.3)
        self.assertEqual(sorted(os.listdir(inbox)), [])
        self.assertEqual(self.tutorial(s.classic_port, src).returncode, 0)
        wait_for(lambda: os.path.exists(os.path.join(inbox, "x.bin")), 10, "x.bin")

    def test_client_put_classic_to_a_tutorial_server(self):
        inbox = os.path.join(self.tmp, "tutorial-inbox")
        os.mkdir(inbox)
        script = os.path.join(self.tmp, "tutorial_server.py")
        with open(script, "w") as f:
            f.write(TUTORIAL_SERVER)
        p = subprocess.Popen([sys.executable, script, inbox], stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        port = int(p.stdout.readline())
        src = os.path.join(self.tmp, "report.pdf")
        with open(src, "wb") as f:
            f.write(os.urandom(70000))
        r = subprocess.run([exe("frame-files"), "--classic", "-p", str(port), "put", src],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        p.wait(30)
        with open(src, "rb") as a, open(os.path.join(inbox, "report.pdf"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_classic_listen_is_loopback_only(self):
        r = subprocess.run([exe("frame-files-server"), "--root", os.path.join(self.tmp, "r"), "--port", "0",
                            "--classic-listen", "0.0.0.0:0", "--classic-inbox", os.path.join(self.tmp, "i")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("loopback", r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_files_attacks.py BUILD_DIR [unittest args]")
    BUILD = sys.argv.pop(1)
    unittest.main(verbosity=2)
