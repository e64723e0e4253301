#!/usr/bin/env python3
"""Runs the seven lessons of examples/ against themselves (127.0.0.1 only) and
checks what they print, not only their exit status.

usage: test_lessons.py BUILD_DIR [TEST...]   (BUILD_DIR: where the lessons are built,
       build/examples; TEST: e.g. EpollEcho, or UvEcho.test_client_against_server)

Every process is started in its own session and its whole group is killed at
the end of its test, however the test ends; every wait has a time limit.
"""
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/examples"
TIMEOUT = 60  # seconds, for any one program to finish


def lesson(name):
    return os.path.join(BIN, name)


def kill_group(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=10)


def run(*args, timeout=TIMEOUT):
    """Runs a lesson to its end: (exit status, stdout, stderr) as text."""
    p = subprocess.Popen([lesson(args[0])] + list(args[1:]), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        kill_group(p)
    return p.returncode, out.decode(), err.decode()


class Server:
    """A lesson's server on port 0; .port is the one it printed."""

    def __init__(self, *args):
        self.p = subprocess.Popen([lesson(args[0])] + list(args[1:]), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        self.lines = []
        first = self._line(10)
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", first)
        if m is None:
            self.stop()
        assert m, "the first line is not 'listening on 127.0.0.1:PORT': %r" % first
        self.port = m.group(1)

    def _line(self, timeout):
        out = b""
        end = time.monotonic() + timeout
        while not out.endswith(b"\n") and time.monotonic() < end:
            if select.select([self.p.stdout], [], [], 0.1)[0]:
                c = os.read(self.p.stdout.fileno(), 1)
                if not c:
                    break
                out += c
        return out.decode()

    def wait_lines(self, n, timeout=20):
        """The server's next n lines (what it printed after 'listening on')."""
        while len(self.lines) < n:
            line = self._line(timeout)
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
        return self.lines

    def stop(self):
        kill_group(self.p)
        self.p.stdout.close()
        self.p.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def frame(header, body=b""):
    """One frame in the canonical encoding (size first, compact JSON)."""
    h = dict(size=len(body))
    h.update(header)
    j = json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode()
    return struct.pack("<I", len(j)) + j + body


def read_exact(s, n):
    data = b""
    while len(data) < n:
        c = s.recv(min(n - len(data), 1 << 20))
        if not c:
            raise EOFError("%d of %d bytes" % (len(data), n))
        data += c
    return data


def read_frame(s):
    (hlen,) = struct.unpack("<I", read_exact(s, 4))
    raw = read_exact(s, hlen)
    h = json.loads(raw)
    return raw, h, read_exact(s, h["size"])


def assert_closed(s):
    """The server closed the connection (a reset: it left bytes unread)."""
    try:
        got = s.recv(10)
    except ConnectionResetError:
        got = b""
    assert got == b"", got


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LESSONS = ["hello", "classic_exec", "epoll_echo", "uv_echo", "datagrams", "big_body", "read_header"]


class Lessons(unittest.TestCase):
    def test_at_most_150_lines_each_and_readme_says_how_many(self):
        with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        listed = re.findall(r"^\d\. \[(\w+)\.c\]\(examples/\w+\.c\) \((\d+)", readme, re.M)
        self.assertEqual([name for name, _ in listed], LESSONS)  # in reading order
        for name, count in listed:
            with open(os.path.join(ROOT, "examples", name + ".c"), encoding="utf-8") as f:
                lines = len(f.read().splitlines())
            self.assertLessEqual(lines, 150, name)
            self.assertEqual(int(count), lines, "README.md's line count of %s.c" % name)


class Hello(unittest.TestCase):
    def test_output_is_the_readme_one(self):
        rc, out, err = run("hello")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "alice sent 5 bytes: hello\n"
                              "alice sent 23 bytes: sticky packets, unstuck\n"
                              "alice sent 0 bytes: \n"
                              "116 bytes, 3 frames, end of stream: OK\n")


class ClassicExec(unittest.TestCase):
    def test_client_gets_status_stdout_and_stderr_apart(self):
        with Server("classic_exec", "server") as srv:
            rc, out, err = run("classic_exec", "client", srv.port, "echo $((6*7))",
                               "head -c 60000 /dev/zero | tr '\\0' a",
                               "echo to stdout; echo to stderr >&2; exit 3")
            self.assertEqual(rc, 3, err)  # the last command's status
            self.assertEqual(err, "to stderr\n")
            self.assertEqual(out, "$ echo $((6*7))\n42\n[exit 0]\n"
                                  "$ head -c 60000 /dev/zero | tr '\\0' a\n" + "a" * 60000 +
                                  "[exit 0]\n$ echo to stdout; echo to stderr >&2; exit 3\n"
                                  "to stdout\n[exit 3]\n")
            lines = srv.wait_lines(4)
            self.assertEqual(lines, ['ran "echo $((6*7))": exit 0, 3 + 0 bytes of output',
                                     'ran "head -c 60000 /dev/zero | tr \'\\0\' a": exit 0, 60000 + 0 bytes of output',
                                     'ran "echo to stdout; echo to stderr >&2; exit 3": exit 3, 10 + 10 bytes of output',
                                     "connection closed: CLOSED"])

    def test_glued_and_split_frames_are_two_commands(self):
        """What recv(1024) gets wrong: two frames in one send, one frame a byte at a time."""
        with Server("classic_exec", "server") as srv, \
                socket.create_connection(("127.0.0.1", int(srv.port)), timeout=20) as s:
            s.sendall(frame({}, b"echo one") + frame({}, b"echo two"))
            for word in (b"one", b"two"):
                raw, h, body = read_frame(s)
                self.assertEqual((h["status"], h["stdout_size"], body), (0, 4, word + b"\n"))
            for byte in frame({}, b"exit 7"):
                s.sendall(bytes([byte]))
            raw, h, body = read_frame(s)
            self.assertEqual(raw, b'{"size":0,"status":7,"stdout_size":0}')
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert_closed(s)
            self.assertEqual(srv.wait_lines(4)[3], "connection closed: LOOKS_LIKE_TEXT")


    def test_command_too_long_is_refused(self):
        with Server("classic_exec", "server") as srv:
            rc, out, err = run("classic_exec", "client", srv.port, "echo " + "x" * 5000)
            self.assertEqual((rc, out), (2, ""))
            self.assertIn("bad reply", err)
            self.assertEqual(srv.wait_lines(1), ["connection closed: BODY_TOO_LARGE"])


class EpollEcho(unittest.TestCase):
    def echo_client(self, port, frames, size, results, i):
        """A writer thread sends while this thread reads: a client must read while it writes."""
        body = os.urandom(size)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            w = threading.Thread(target=lambda: s.sendall(b"".join(
                frame({"n": k, "echoed_by": "spoofed"}, body) for k in range(frames))))
            w.start()
            ok = 0
            for k in range(frames):
                raw, h, got = read_frame(s)
                ok += raw == b'{"size":%d,"n":%d,"echoed_by":"epoll_echo"}' % (size, k) and got == body
            w.join()
        results[i] = ok

    def test_many_clients_large_bodies_short_writes(self):
        with Server("epoll_echo") as srv:
            results = [0] * 4
            ts = [threading.Thread(target=self.echo_client, args=(int(srv.port), 6, 1 << 20, results, i))
                  for i in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            self.assertEqual(results, [6] * 4)
            lines = srv.wait_lines(4)
            for line in lines:
                m = re.fullmatch(r"client \d+: 6 frames echoed, (\d+) short writes, decoder OK", line)
                self.assertTrue(m, line)
                self.assertGreater(int(m.group(1)), 0)  # it paused and resumed

    def test_uv_client_and_empty_bodies(self):
        with Server("epoll_echo") as srv:
            rc, out, err = run("uv_echo", "client", srv.port, "hello", "", "epoll")
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(out, '{"size":5,"n":0,"echoed_by":"epoll_echo"} hello\n'
                                  '{"size":0,"n":1,"echoed_by":"epoll_echo"} \n'
                                  '{"size":5,"n":2,"echoed_by":"epoll_echo"} epoll\n')

    def test_back_pressure_on_a_client_that_never_reads(self):
        with Server("epoll_echo") as srv:
            hog = socket.create_connection(("127.0.0.1", int(srv.port)), timeout=2)
            chunk = frame({}, b"x" * (1 << 20))
            sent = 0
            try:
                while sent < (200 << 20):
                    hog.sendall(chunk)
                    sent += len(chunk)
            except socket.timeout:
                pass
            self.assertLess(sent, 200 << 20, "the server kept reading a client that never reads")
            # ...and the other clients are served meanwhile.
            rc, out, err = run("uv_echo", "client", srv.port, "still", "here")
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.count("epoll_echo"), 2)
            hog.close()
            with socket.create_connection(("127.0.0.1", int(srv.port)), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.1\r\n\r\n")
                assert_closed(s)
            self.assertIn("decoder LOOKS_LIKE_TEXT", "\n".join(srv.wait_lines(3)))


class UvEcho(unittest.TestCase):
    def test_client_against_server(self):
        with Server("uv_echo", "server") as srv:
            rc, out, err = run("uv_echo", "client", srv.port, "hello", "libuv", "", "sticky packets")
            self.assertEqual((rc, err), (0, ""))
            self.assertEqual(out, '{"size":5,"n":0,"echoed_by":"uv_echo"} HELLO\n'
                                  '{"size":5,"n":1,"echoed_by":"uv_echo"} LIBUV\n'
                                  '{"size":0,"n":2,"echoed_by":"uv_echo"} \n'
                                  '{"size":14,"n":3,"echoed_by":"uv_echo"} STICKY PACKETS\n')
            self.assertEqual(srv.wait_lines(1), ["end of stream: OK"])  # between two frames

    def test_pipelined_frames_pause_and_resume(self):
        """Many frames in one read: the server pauses in the middle of its buffer and resumes there."""
        big = os.urandom(900000)
        frames = [(b"ab", {}), (big, {"echoed_by": "spoofed"}), (b"", {"k": [1, {"x": None}]}),
                  (big[:70000], {})]
        with Server("uv_echo", "server") as srv:
            with socket.create_connection(("127.0.0.1", int(srv.port)), timeout=30) as s:
                w = threading.Thread(target=lambda: s.sendall(b"".join(frame(h, b) for b, h in frames)))
                w.start()
                for b, h in frames:
                    raw, got_h, got = read_frame(s)
                    want = dict(size=len(b))
                    want.update({k: v for k, v in h.items() if k != "echoed_by"})
                    want["echoed_by"] = "uv_echo"
                    self.assertEqual((got_h, got), (want, b.upper()))
                w.join()
                s.sendall(frame({}, b"cut")[:-1])  # a frame cut short by the end of stream
            self.assertEqual(srv.wait_lines(1), ["end of stream: TRUNCATED"])

    def test_client_fails_when_replies_are_missing(self):
        with socket.create_server(("127.0.0.1", 0)) as listener:
            def serve():  # takes both frames, answers nothing, closes
                conn, _ = listener.accept()
                with conn:
                    read_frame(conn)
                    read_frame(conn)
            t = threading.Thread(target=serve)
            t.start()
            rc, out, err = run("uv_echo", "client", str(listener.getsockname()[1]), "a", "b")
            t.join(10)
        self.assertEqual((rc, out, err), (1, "end of stream: OK\n", ""))

    def test_body_over_the_limit_refused(self):
        with Server("uv_echo", "server") as srv, \
                socket.create_connection(("127.0.0.1", int(srv.port)), timeout=10) as s:
            s.sendall(frame({}, b"")[:4] + b'{"size":1048577}')
            assert_closed(s)  # BODY_TOO_LARGE: refused before anything is allocated


class Datagrams(unittest.TestCase):
    def test_truncation_loss_and_duplicates(self):
        rc, out, err = run("datagrams")
        self.assertEqual((rc, err), (0, ""))
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^listening on 127\.0\.0\.1:\d+$")
        self.assertEqual(lines[1:], [
            'seq 0: 5 bytes "hello"',
            'seq 1: 23 bytes "one frame, one datagram"',
            "a datagram of 3025 bytes, 1024 read: DATAGRAM_TRUNCATED, dropped",
            "(seq 2 to 3 missing: lost, or cut and dropped)",
            'seq 4: 13 bytes "after the gap"',
            'seq 5: 5 bytes "twice"',
            "seq 5: late or twice, skipped",
            "received 4 frames; dropped 1 bad datagram(s); 2 missing, 1 late or twice"])


class BigBody(unittest.TestCase):
    def transfer(self, data):
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "in.bin"), os.path.join(d, "out.bin")
            with open(src, "wb") as f:
                f.write(data)
            with Server("big_body", "recv", "0", dst) as srv:
                rc, out, err = run("big_body", "send", srv.port, src)
                self.assertEqual((rc, err), (0, ""))
                lines = srv.wait_lines(3)
                srv.p.wait(timeout=20)  # it takes one file, then exits
                progress = srv.p.stderr.read().decode()
                self.assertEqual(srv.p.returncode, 0, progress)
                with open(dst, "rb") as f:
                    self.assertTrue(f.read() == data, "the file received differs")
            return out.splitlines(), lines, progress

    def test_small_files_checksum_matches_fnv1a(self):
        for data in (b"", b"a", os.urandom(300000)):
            out, lines, progress = self.transfer(data)
            want = fnv1a64(data)
            self.assertEqual(out[0], "sent %s: %d bytes, fnv1a64 %s" % (
                out[0].split(" ")[1][:-1], len(data), want))
            self.assertEqual(lines[0], 'receiving "%s": %d bytes' % (out[0].split(" ")[1][:-1], len(data)))
            self.assertEqual(lines[1], "received %d bytes, fnv1a64 %s: matches the sender's" % (len(data), want))
            self.assertRegex(lines[2], r"^peak resident memory: [\d.]+ MiB$")
            if data:
                self.assertIn("100%", progress)

    def test_large_file_constant_memory(self):
        size = 96 << 20
        out, lines, progress = self.transfer(os.urandom(size))
        self.assertTrue(lines[1].startswith("received %d bytes" % size) and lines[1].endswith("matches the sender's"))
        for line in (out[1], lines[2]):  # sender and receiver alike
            self.assertLess(float(re.fullmatch(r"peak resident memory: ([\d.]+) MiB", line).group(1)), 8)
        steps = [int(p) for p in re.findall(r"\r\s*(\d+)%", progress)]
        self.assertEqual(steps, list(range(1, 101)))  # one progress line, redrawn


class ReadHeader(unittest.TestCase):
    def test_the_example_header(self):
        rc, out, err = run("read_header")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.splitlines()[1:], [
            "members: size (number) id (number) name (string) port (number) retries (number) "
            "big (number) user (object) password (string)",
            "id: 42", "port: 8080", "retries: TYPE, using 3", "big: RANGE, using 0",
            "name: 10 bytes: caf\u00e9 \U0001F600",
            "user.login: ann", "user.roles: admin (an administrator)", "user.roles: dev",
            'reply: {"size":0,"id":42,"name":"caf\u00e9 \U0001F600","port":8080,'
            '"big":18446744073709551616,"user":{"login":"ann","roles":["admin","dev"]},'
            '"retries":3,"login":"ann"}'])

    def test_ranges_missing_members_and_long_strings(self):
        rc, out, err = run("read_header", '{"size":0,"port":70000,"retries":-1,"name":"%s"}' % ("x" * 64))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines()[2:], [
            "id: NOT_FOUND, using 0", "port: out of range, using 9000",
            "retries: out of range, using 3", "big: NOT_FOUND, using 0", "name: too long (64 bytes)",
            'reply: {"size":0,"port":70000,"name":"%s","retries":3}' % ("x" * 64)])

    def test_answer_replaces_the_members_it_sets(self):
        rc, out, err = run("read_header", '{"size":7,"login":"eve","retries":9,"user":{"login":[1,{"a":null}]}}')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines()[-1],
                         'reply: {"size":0,"user":{"login":[1,{"a":null}]},"retries":9,"login":[1,{"a":null}]}')

    def test_invalid_headers_are_refused_with_the_offset(self):
        for header, want in (('{"size":0,"id":1,}', "JSON_SYNTAX at byte 17"),
                             ('{"id":1}', "SIZE_MISSING at byte 8"),
                             ('{"size":0,"a":1,"a":2}', "DUPLICATE_NAME at byte 16")):
            rc, out, err = run("read_header", header)
            self.assertEqual((rc, out), (1, "not a valid header: %s\n" % want), header)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[2:], verbosity=2)  # then test names, if any
