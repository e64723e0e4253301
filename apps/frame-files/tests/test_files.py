#!/usr/bin/env python3
"""End-to-end tests of frame-files (apps/frame-files): the server, the
client and the checksums, over 127.0.0.1 only.

    python3 apps/frame-files/tests/test_files.py [--valgrind] [--quick] [-k NAME] BUILD_DIR

BUILD_DIR holds frame-files, frame-files-server and files_crypto_test (make
make test-apps-files builds them). Every scenario asserts; every child process
is killed at the end whatever happens; everything on disk lives in one
temporary directory that is removed afterwards. --valgrind runs the servers
(and some clients) under valgrind and fails on any memory error, leak or
leaked descriptor; it skips the 1 GiB round trip and uses 50 clients instead
of 200. KEEP_TMP=1 in the environment keeps the temporary directory (logs,
valgrind reports) for a look after a failure. Python 3.8+, standard library
only.
"""
import argparse
import hashlib
import json
import os
import pty
import random
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

ARGS = None
BUILD = None
TMP = None
PROCS = []  # every child started, killed at exit
VG_LOGS = []  # valgrind logs to check
PASSWORD = "correct horse battery staple"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def exe(name):
    return os.path.join(BUILD, name)


def valgrind_prefix(tag, check_fds=True):
    """valgrind's command line; its log is checked at the end (descriptors
    only for processes that are meant to exit normally)."""
    log = os.path.join(TMP, "valgrind-%s-%d.log" % (tag, len(VG_LOGS)))
    VG_LOGS.append((log, check_fds))
    return ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--track-fds=yes", "--log-file=" + log]


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    PROCS.append(p)
    return p


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


class Server:
    """frame-files-server on 127.0.0.1, port 0, in its own root."""

    def __init__(self, root, *extra, env=None, port=0, expect_start=True):
        self.root = root
        self.errpath = os.path.join(TMP, "server-%d.err" % len(PROCS))
        cmd = [exe("frame-files-server"), "--root", root, "--port", str(port),
               "--kdf-iterations", "1000",
               # every client here comes from 127.0.0.1: the per-address limits and the
               # login slow-down are tested by test_files_attacks.py
               "--login-backoff", "0", "--max-conns-per-addr", "100000", "--auth-timeout", "600",
               "--max-sessions-per-user", "1000",
               # 200 clients log in at once here; the bounded queue is test_files_attacks's
               "--kdf-queue", "1000"] + list(extra)
        if ARGS.valgrind:
            cmd = valgrind_prefix("server", check_fds=expect_start) + cmd
        self.err = open(self.errpath, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.p = spawn(cmd, stdout=subprocess.PIPE, stderr=self.err, env=e)
        self.port = None
        if not expect_start:
            return
        line = self._readline(60 if ARGS.valgrind else 15)
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)$", line)
        assert m, "unexpected first line %r; stderr: %s" % (line, self.log())
        self.port = int(m.group(1))
        assert self.port > 0

    def _readline(self, timeout):
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            assert left > 0, "server did not say it is listening: %s" % self.log()
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                b = os.read(self.p.stdout.fileno(), 1)
                assert b, "server exited: %s" % self.log()
                buf += b
        return buf.decode().strip()

    def log(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=None):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout or (60 if ARGS.valgrind else 15))
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("server did not stop on signal %d" % sig)
        self.p.stdout.close()
        self.err.close()
        return rc

    def fds(self):
        return os.listdir("/proc/%d/fd" % self.p.pid)

    def sockets(self):
        n = 0
        for fd in self.fds():
            try:
                if os.readlink("/proc/%d/fd/%s" % (self.p.pid, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
        return n


def frame(hdr, body=b""):
    h = {"size": len(body)}
    h.update(hdr)
    j = json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode()
    return struct.pack("<I", len(j)) + j + body


def raw_frame(header_json, body=b""):
    if isinstance(header_json, str):
        header_json = header_json.encode()
    return struct.pack("<I", len(header_json)) + header_json + body


class Conn:
    def __init__(self, port, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, hdr, body=b""):
        self.s.sendall(frame(hdr, body))

    def _fill(self, n):
        while len(self.buf) < n:
            b = self.s.recv(1 << 20)
            if not b:
                raise EOFError("connection closed with %d of %d bytes" % (len(self.buf), n))
            self.buf += b

    def take(self, n):
        self._fill(n)
        b, self.buf = self.buf[:n], self.buf[n:]
        return b

    def reply(self):
        (hl,) = struct.unpack("<I", self.take(4))
        h = json.loads(self.take(hl).decode())
        body = self.take(h["size"]) if h["size"] else b""
        return h, body

    def at_eof(self, timeout=10):
        """True when the server closes the connection (after any data)."""
        self.s.settimeout(timeout)
        try:
            while True:
                if self.buf:
                    self.buf = b""
                b = self.s.recv(65536)
                if not b:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def register(port, user, pw=PASSWORD):
    c = Conn(port)
    c.send({"op": "register", "user": user, "password": pw})
    r, _ = c.reply()
    c.close()
    return r


def login(port, user, pw=PASSWORD, conn=None):
    c = conn or Conn(port)
    for _ in range(400):
        c.send({"op": "login", "user": user, "password": pw})
        r, _ = c.reply()
        # One check at a time per user: parallel logins are told to wait (as
        # frame-files itself does, they try again).
        if r.get("error") != "SLOW_DOWN":
            break
        time.sleep(0.05)
    if conn is None:
        c.close()
    return r


def token_of(port, user, pw=PASSWORD):
    r = login(port, user, pw)
    assert r.get("ok") is True and re.fullmatch(r"[0-9a-f]{64}", r["token"]), r
    return r["token"]


CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _k in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    CRC_TABLE.append(_c)


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ CRC_TABLE[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF


def digest(algo, data):
    if algo == "crc32c":
        return "%08x" % crc32c(data)
    return hashlib.sha256(data).hexdigest()


def upload(c, token, name, data, algo="sha256", checksum=None):
    c.send({"op": "upload", "token": token, "name": name, "checksum": algo}, data)
    c.send({"op": "commit", algo: checksum or digest(algo, data)})
    r, _ = c.reply()
    return r


def download(c, token, name, algo="sha256"):
    c.send({"op": "download", "token": token, "name": name, "checksum": algo})
    h, body = c.reply()
    if "error" in h:
        return h, None
    t, _ = c.reply()
    assert t.get("ok") is True and t.get(algo) == digest(algo, body), (t, len(body))
    return h, body


def user_dir(server, user):
    return os.path.join(server.root, "files", user)


def temp_files(server, user):
    d = user_dir(server, user)
    return [n for n in os.listdir(d) if n.startswith(".upload-")] if os.path.isdir(d) else []


def client(port, user, *args, pwfile=None, env=None, **kw):
    cmd = [exe("frame-files"), "-p", str(port), "-u", user, "--password-file", pwfile or PWFILE] + list(args)
    if kw.pop("valgrind", False) and ARGS.valgrind:
        cmd = valgrind_prefix("client") + cmd
    e = dict(os.environ)
    e.update(env or {})
    return spawn(cmd, env=e, **kw)


def run_client(port, user, *args, timeout=60, **kw):
    p = client(port, user, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------

def t_crypto():
    """SHA-256/PBKDF2 (libcrypto) and CRC-32C: NIST/RFC vectors, then against hashlib."""
    for env in ({}, {"FRAME_FILES_NO_SHANI": "1", "FRAME_FILES_NO_SSE42": "1"}):
        e = dict(os.environ)
        e.update(env)
        p = subprocess.run([exe("files_crypto_test")], env=e, capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr.decode()
        assert b"0 failures" in p.stdout
        rnd = random.Random(5)
        for size in (0, 1, 55, 56, 63, 64, 65, 1000, 70000, 300001):
            data = bytes(rnd.getrandbits(8) for _ in range(size))
            path = os.path.join(TMP, "kat.bin")
            with open(path, "wb") as f:
                f.write(data)
            out = subprocess.run([exe("files_crypto_test"), "sha256", path], env=e, capture_output=True,
                                 timeout=60).stdout.decode().strip()
            assert out == hashlib.sha256(data).hexdigest(), (size, env)
            out = subprocess.run([exe("files_crypto_test"), "crc32c", path], env=e, capture_output=True,
                                 timeout=60).stdout.decode().strip()
            if size <= 70000:
                assert out == "%08x" % crc32c(data), (size, env)
        for pl, sl, it, dl in ((8, 16, 1, 32), (0, 0, 2, 33), (70, 16, 1000, 64), (5, 100, 4097, 100)):
            pw = bytes(rnd.getrandbits(8) for _ in range(pl))
            salt = bytes(rnd.getrandbits(8) for _ in range(sl))
            out = subprocess.run([exe("files_crypto_test"), "pbkdf2", pw.hex(), salt.hex(), str(it), str(dl)],
                                 env=e, capture_output=True, timeout=60).stdout.decode().strip()
            assert out == hashlib.pbkdf2_hmac("sha256", pw, salt, it, dl).hex(), (pl, sl, it, dl)


def t_accounts():
    """register, duplicate register, wrong password, tokens, logout, stored hashes."""
    port = S.port
    assert register(port, "alice") == {"size": 0, "ok": True}
    r = register(port, "alice", "another password")
    assert r.get("error") == "USER_EXISTS" and r.get("message"), r
    for bad in ("", "-x", "a/b", "x" * 33, "..", "al ice"):
        r = register(port, bad)
        assert r.get("error") == "BAD_USER", (bad, r)
    r = register(port, "shorty", "1234567")
    assert r.get("error") == "BAD_PASSWORD", r
    r = login(port, "alice", "wrong password")
    assert r.get("error") == "AUTH_FAILED", r
    r = login(port, "nobody", PASSWORD)
    assert r.get("error") == "AUTH_FAILED", r
    t1, t2 = token_of(port, "alice"), token_of(port, "alice")
    assert t1 != t2
    c = Conn(port)
    c.send({"op": "list", "token": "00" * 32})
    assert c.reply()[0].get("error") == "NOT_LOGGED_IN"
    c.send({"op": "list"})
    assert c.reply()[0].get("error") == "NOT_LOGGED_IN"
    c.send({"op": "logout", "token": t1})
    assert c.reply()[0] == {"size": 0, "ok": True}
    c.send({"op": "list", "token": t1})
    assert c.reply()[0].get("error") == "NOT_LOGGED_IN"
    c.send({"op": "list", "token": t2})
    assert c.reply()[0].get("ok") is True
    c.send({"op": "frobnicate"})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    c.close()
    # the users file holds PBKDF2-HMAC-SHA256 hashes, never the password
    with open(os.path.join(S.root, "users")) as f:
        users = f.read()
    assert PASSWORD not in users and "another password" not in users
    rec = [l.split() for l in users.splitlines() if l.startswith("alice ")]
    assert len(rec) == 1 and rec[0][1] == "pbkdf2-sha256" and len(rec[0][3]) == 32, rec
    assert hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), bytes.fromhex(rec[0][3]),
                               int(rec[0][2])).hex() == rec[0][4]
    st = os.stat(os.path.join(S.root, "users"))
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert PASSWORD not in S.log() and "wrong password" not in S.log()


def t_client_basics():
    """the C client: put, ls, get (file, stdout, directory), rm, missing file."""
    port = S.port
    rc, _, err = run_client(port, "bob", "register")
    assert rc == 0 and err == "", err
    rc, _, err = run_client(port, "bob", "register")
    assert rc == 1 and "USER_EXISTS" in err, err
    rc, _, err = run_client(port, "bob", "ls", pwfile=os.path.join(TMP, "wrongpw"))
    assert rc == 1 and "AUTH_FAILED" in err, err
    data = os.urandom(3 * 1024 * 1024 + 17)
    src = os.path.join(TMP, "basics.bin")
    with open(src, "wb") as f:
        f.write(data)
    for algo in ("crc32c", "sha256"):
        rc, out, err = run_client(port, "bob", "--checksum", algo, "put", src, "b-" + algo, valgrind=True)
        assert rc == 0 and out == b"" and err == "", err
        with open(os.path.join(user_dir(S, "bob"), "b-" + algo), "rb") as f:
            assert f.read() == data
        st = os.stat(os.path.join(user_dir(S, "bob"), "b-" + algo))
        assert stat.S_IMODE(st.st_mode) == 0o600
        dst = os.path.join(TMP, "back-" + algo)
        rc, out, err = run_client(port, "bob", "--checksum", algo, "get", "b-" + algo, dst, valgrind=True)
        assert rc == 0 and err == "", err
        with open(dst, "rb") as f:
            assert f.read() == data
        rc, out, err = run_client(port, "bob", "--checksum", algo, "get", "b-" + algo, "-")
        assert rc == 0 and out == data, err
    os.makedirs(os.path.join(TMP, "getdir"), exist_ok=True)
    rc, _, err = run_client(port, "bob", "get", "b-crc32c", os.path.join(TMP, "getdir"))
    assert rc == 0 and os.path.getsize(os.path.join(TMP, "getdir", "b-crc32c")) == len(data), err
    rc, out, err = run_client(port, "bob", "ls", valgrind=True)
    lines = out.decode().splitlines()
    assert rc == 0 and len(lines) == 2 and lines[0].split()[-1] == "b-crc32c", out
    assert lines[0].split()[0] == str(len(data))
    rc, _, err = run_client(port, "bob", "rm", "b-sha256")
    assert rc == 0 and not os.path.exists(os.path.join(user_dir(S, "bob"), "b-sha256"))
    rc, _, err = run_client(port, "bob", "rm", "b-sha256")
    assert rc == 1 and "NOT_FOUND" in err, err
    rc, out, err = run_client(port, "bob", "get", "missing", os.path.join(TMP, "missing"))
    assert rc == 1 and "NOT_FOUND" in err and not os.path.exists(os.path.join(TMP, "missing")), err
    assert not [n for n in os.listdir(TMP) if ".part-" in n]
    rc, _, err = run_client(port, "bob", "put", src, "../escape")
    assert rc == 1 and "name" in err, err
    # a download onto a device writes into it and never replaces it
    rc, _, err = run_client(port, "bob", "get", "b-crc32c", "/dev/null")
    assert rc == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode), err
    # empty files
    empty = os.path.join(TMP, "empty")
    open(empty, "wb").close()
    rc, _, err = run_client(port, "bob", "put", empty)
    assert rc == 0, err
    rc, out, err = run_client(port, "bob", "get", "empty", "-")
    assert rc == 0 and out == b"", err


TRAVERSALS = [
    "..", ".", "../x", "a/../../x", "/etc/passwd", "\\\\srv\\share", "C:x", "ok\u0000../x",
    "a" * 256, "\u20ac" * 86, "", "x\ny", "x\u0085y", "x\u007fy", "sub/file", ".hidden",
    ".upload-0123456789abcdef", "a\\b",
]


def t_traversal(server=None):
    """every traversal form, checked after JSON unescaping; links are never followed."""
    srv = server or S
    port = srv.port
    user = "trav%d" % port
    assert register(port, user).get("ok") is True
    tok = token_of(port, user)
    c = Conn(port)
    for name in TRAVERSALS:
        r = upload(c, tok, name, b"evil")
        assert r.get("error") == "BAD_NAME", (name, r)
        h, _ = download(c, tok, name)
        assert h.get("error") == "BAD_NAME", (name, h)
        c.send({"op": "delete", "token": tok, "name": name})
        assert c.reply()[0].get("error") == "BAD_NAME", name
    # the same names written with JSON escapes: checked after unescaping
    for esc in (r'"\u002e\u002e"', r'"a\u002f..\u002f..\u002fx"', r'"ok\u0000x"', r'"\u005c\u005csrv"',
                r'"C\u003ax"', r'"\/etc\/passwd"'):
        c.s.sendall(raw_frame('{"size":0,"op":"delete","token":"%s","name":%s}' % (tok, esc)))
        assert c.reply()[0].get("error") == "BAD_NAME", esc
    # longest names that are allowed
    for name in ("a" * 255, "\u20ac" * 85, "C", "x..y", "caf\u00e9 \u2603.txt"):
        r = upload(c, tok, name, b"fine")
        assert r.get("ok") is True, (name, r)
        h, body = download(c, tok, name)
        assert body == b"fine", name
    # links inside the user's directory that lead out are never followed
    outside = os.path.join(TMP, "secret-%d" % port)
    with open(outside, "wb") as f:
        f.write(b"top secret")
    os.makedirs(os.path.join(TMP, "outdir"), exist_ok=True)
    d = user_dir(srv, user)
    os.symlink(outside, os.path.join(d, "evil"))
    os.symlink("../../../", os.path.join(d, "up"))
    os.symlink(os.path.join(TMP, "outdir"), os.path.join(d, "dirlink"))
    os.mkfifo(os.path.join(d, "fifo"))
    for name in ("evil", "up", "dirlink", "fifo"):
        h, body = download(c, tok, name)
        assert h.get("error") == "FORBIDDEN" and body is None, (name, h)
    c.send({"op": "list", "token": tok})
    listed = []
    while True:
        h, _ = c.reply()
        if "entry" not in h:
            break
        listed.append(h["entry"])
    assert not {"evil", "up", "dirlink", "fifo"} & set(listed) and "C" in listed, listed
    # an upload to a link's name replaces the link, never writes through it
    assert upload(c, tok, "evil", b"replaced").get("ok") is True
    assert not os.path.islink(os.path.join(d, "evil"))
    with open(outside, "rb") as f:
        assert f.read() == b"top secret"
    # deleting a link removes the link, not what it points to
    c.send({"op": "delete", "token": tok, "name": "up"})
    assert c.reply()[0].get("ok") is True
    assert not os.path.lexists(os.path.join(d, "up")) and os.path.isdir(TMP)
    c.send({"op": "delete", "token": tok, "name": "dirlink"})
    assert c.reply()[0].get("ok") is True and os.path.isdir(os.path.join(TMP, "outdir"))
    # nothing was created outside the user's directory
    assert sorted(os.listdir(srv.root)) == [".lock", "files", "users"], os.listdir(srv.root)
    assert not os.path.exists(os.path.join(TMP, "x")) and not os.path.exists("/x")
    assert temp_files(srv, user) == []
    c.close()


def t_traversal_fallback():
    """the same with openat() + O_NOFOLLOW instead of openat2()."""
    srv = Server(os.path.join(TMP, "root-noopenat2"), env={"FRAME_FILES_NO_OPENAT2": "1"})
    try:
        t_traversal(srv)
    finally:
        assert srv.stop() == 0


def t_checksums_and_protocol():
    """bad checksum, abort, commit without upload, pipelining, early errors."""
    port = S.port
    assert register(port, "carol").get("ok") is True
    tok = token_of(port, "carol")
    c = Conn(port)
    data = os.urandom(100000)
    for algo in ("sha256", "crc32c"):
        r = upload(c, tok, "bad-" + algo, data, algo, checksum=digest(algo, data[:-1]))
        assert r.get("error") == "CHECKSUM_MISMATCH", r
        assert not os.path.exists(os.path.join(user_dir(S, "carol"), "bad-" + algo))
        r = upload(c, tok, "bad-" + algo, data, algo, checksum=digest(algo, data).upper())
        assert r.get("ok") is True and r.get("bytes") == len(data), r
    # a commit whose checksum is not hex
    c.send({"op": "upload", "token": tok, "name": "k", "checksum": "crc32c"}, b"abc")
    c.send({"op": "commit", "crc32c": "zz\n0000!"[:8]})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    # a commit with the wrong key
    c.send({"op": "upload", "token": tok, "name": "k", "checksum": "crc32c"}, b"abc")
    c.send({"op": "commit", "sha256": hashlib.sha256(b"abc").hexdigest()})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    # abort
    c.send({"op": "upload", "token": tok, "name": "aborted"}, data)
    c.send({"op": "abort"})
    assert c.reply()[0] == {"size": 0, "ok": True}
    assert not os.path.exists(os.path.join(user_dir(S, "carol"), "aborted"))
    assert temp_files(S, "carol") == []
    c.send({"op": "commit", "sha256": "00" * 32})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    c.send({"op": "upload", "token": tok, "name": "x", "checksum": "md5"}, b"abc")
    c.send({"op": "abort"})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    # an early error still consumes the body and the commit: the connection goes on
    c.send({"op": "upload", "token": "ff" * 32, "name": "x"}, data)
    c.send({"op": "commit", "sha256": digest("sha256", data)})
    assert c.reply()[0].get("error") == "NOT_LOGGED_IN"
    c.send({"op": "list", "token": tok, "extra": [1, {"nested": True}]}, b"")
    h, _ = c.reply()
    assert h.get("entry") in ("bad-crc32c", "bad-sha256"), h
    while "entry" in h:
        h, _ = c.reply()
    assert h.get("ok") is True and h.get("count") == 2, h
    # a non-commit frame after an upload body is a protocol error: reply, then close
    c.send({"op": "upload", "token": tok, "name": "y"}, b"abc")
    c.send({"op": "list", "token": tok})
    assert c.reply()[0].get("error") == "BAD_REQUEST"
    assert c.at_eof()
    assert temp_files(S, "carol") == []
    # pipelined: many requests in one write, replies in order
    c = Conn(port)
    blob = b"".join([
        frame({"op": "download", "token": tok, "name": "bad-sha256", "checksum": "crc32c"}),
        frame({"op": "upload", "token": tok, "name": "p1"}, b"pipelined"),
        frame({"op": "commit", "sha256": hashlib.sha256(b"pipelined").hexdigest()}),
        frame({"op": "download", "token": tok, "name": "p1"}),
        frame({"op": "delete", "token": tok, "name": "p1"}),
        frame({"op": "download", "token": tok, "name": "p1"}),
    ])
    c.s.sendall(blob)
    h, body = c.reply()
    assert h.get("ok") is True and body == data
    t, _ = c.reply()
    assert t.get("crc32c") == "%08x" % crc32c(data)
    assert c.reply()[0].get("ok") is True
    h, body = c.reply()
    assert body == b"pipelined"
    assert c.reply()[0].get("sha256") == hashlib.sha256(b"pipelined").hexdigest()
    assert c.reply()[0].get("ok") is True
    assert c.reply()[0].get("error") == "NOT_FOUND"
    c.close()


MALFORMED = [
    (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "LOOKS_LIKE_TEXT"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, "LOOKS_LIKE_TLS"),
    (raw_frame('{"size":0,}'), "JSON_SYNTAX"),
    (raw_frame('{"size":0,"op":"list","op":"list"}'), "DUPLICATE_NAME"),
    (raw_frame('[1,2]'), "NOT_OBJECT"),
    (raw_frame('{"op":"list"}'), "SIZE_MISSING"),
    (raw_frame('{"size":-1}'), "SIZE_INVALID"),
    (raw_frame('{"size":9007199254740992}'), "BODY_TOO_LARGE"),
    (raw_frame(b'{"size":0,"op":"\xff"}'), "BAD_UTF8"),
    (raw_frame(r'{"size":0,"op":"\ud800"}'), "LONE_SURROGATE"),
    (struct.pack("<I", 0), "HEADER_EMPTY"),
    (struct.pack("<I", 20000) + b"\x00" * 100, "HEADER_TOO_LARGE"),
    (raw_frame(b"\xef\xbb\xbf{}"), "BOM"),
]


def t_malformed():
    """a malformed frame: error reply naming it, connection closed, others unaffected."""
    port = S.port
    tok = token_of(port, "alice")
    bystander = Conn(port)
    bystander.send({"op": "list", "token": tok})
    while "entry" in bystander.reply()[0]:
        pass
    for data, name in MALFORMED:
        c = Conn(port)
        c.s.sendall(data)
        h, _ = c.reply()
        assert h.get("error") == name and h.get("message") and isinstance(h.get("offset"), int), (name, h)
        assert c.at_eof(), name
        c.close()
    # a valid request after a malformed frame on the same connection is never read
    c = Conn(port)
    c.s.sendall(raw_frame('{"size":0,}') + frame({"op": "list", "token": tok}))
    assert c.reply()[0].get("error") == "JSON_SYNTAX"
    assert c.at_eof()
    bystander.send({"op": "list", "token": tok})
    h, _ = bystander.reply()
    while "entry" in h:
        h, _ = bystander.reply()
    assert h.get("ok") is True
    bystander.close()


def t_timeouts():
    """idle connections, half-sent headers and stalled bodies time out; others go on."""
    srv = Server(os.path.join(TMP, "root-timeouts"), "--idle-timeout", "1", "--frame-timeout", "1")
    try:
        port = srv.port
        assert register(port, "tim").get("ok") is True
        tok = token_of(port, "tim")
        idle = Conn(port)
        half = Conn(port)
        half.s.sendall(struct.pack("<I", 100) + b'{"size":0,')
        stall = Conn(port)
        stall.s.sendall(frame({"op": "upload", "token": tok, "name": "stalled"}, b"x" * 100000)[:50000])
        wait_for(lambda: temp_files(srv, "tim"), 5, "the stalled upload's temporary file")
        t0 = time.monotonic()
        for c in (idle, half, stall):
            h, _ = c.reply()
            assert h.get("error") == "TIMEOUT", h
            assert c.at_eof()
        assert time.monotonic() - t0 < 8
        wait_for(lambda: temp_files(srv, "tim") == [], 5, "the temporary file to go")
        assert not os.path.exists(os.path.join(user_dir(srv, "tim"), "stalled"))
        # a connection that keeps working is not cut
        c = Conn(port)
        for _ in range(6):
            c.send({"op": "list", "token": tok})
            assert c.reply()[0].get("ok") is True
            time.sleep(0.3)
        c.close()
    finally:
        assert srv.stop() == 0


def t_concurrent_clients():
    """N clients connected at once, each uploading and downloading its own file."""
    n = 50 if ARGS.valgrind else 200
    port = S.port
    users = ["many%d" % i for i in range(10)]
    for u in users:
        assert register(port, u).get("ok") is True
    seen = {}

    def at_barrier():
        seen["sockets"] = S.sockets()

    barrier = threading.Barrier(n, action=at_barrier, timeout=120)
    results = [None] * n

    def worker(i):
        try:
            rnd = random.Random(i)
            user = users[i % len(users)]
            data = os.urandom(rnd.randrange(0, 256 * 1024))
            algo = "sha256" if i % 2 else "crc32c"
            c = Conn(port, timeout=120)
            r = login(port, user, conn=c)
            tok = r["token"]
            barrier.wait()
            r = upload(c, tok, "file-%03d" % i, data, algo)
            assert r.get("ok") is True and r.get("bytes") == len(data), r
            h, body = download(c, tok, "file-%03d" % i, algo)
            assert body == data
            c.close()
            with open(os.path.join(user_dir(S, user), "file-%03d" % i), "rb") as f:
                assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
            results[i] = True
        except BaseException as e:  # reported below
            results[i] = repr(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    # the first failure first (the others are then the barrier's)
    bad = sorted((r for r in results if r is not True), key=lambda r: "BrokenBarrier" in str(r))
    assert not bad, bad[:5]
    # every client had its connection open at the same moment (+1: the listener)
    assert seen["sockets"] >= n + 1, seen
    print("    %d clients at once (the server held %d sockets), %.1f s" %
          (n, seen["sockets"], time.monotonic() - t0))
    # and the same with the C client, one process each
    srcdir = os.path.join(TMP, "many")
    os.makedirs(srcdir, exist_ok=True)
    procs = []
    data = {}
    for i in range(n):
        name = "proc-%03d" % i
        data[name] = os.urandom(random.Random(1000 + i).randrange(1, 200 * 1024))
        with open(os.path.join(srcdir, name), "wb") as f:
            f.write(data[name])
    t0 = time.monotonic()
    for i, name in enumerate(data):
        procs.append(client(port, users[i % len(users)], "put", os.path.join(srcdir, name),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0 and out == b"" and err == b"", err
    procs = []
    for i, name in enumerate(data):
        procs.append(client(port, users[i % len(users)], "get", name, os.path.join(srcdir, name + ".back"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0 and err == b"", err
    for name, d in data.items():
        with open(os.path.join(srcdir, name + ".back"), "rb") as f:
            assert f.read() == d, name
    print("    %d client processes put then get, %.1f s" % (n, time.monotonic() - t0))
    shutil.rmtree(srcdir)


def t_same_name():
    """two uploads of one name at once: one whole file wins, nothing is mixed or left."""
    port = S.port
    assert register(port, "dave").get("ok") is True
    tok = token_of(port, "dave")
    a, b = os.urandom(8 << 20), os.urandom(8 << 20)
    ca, cb = Conn(port), Conn(port)
    fa, fb = frame({"op": "upload", "token": tok, "name": "same"}, a), frame(
        {"op": "upload", "token": tok, "name": "same"}, b)
    half = len(fa) // 2
    ca.s.sendall(fa[:half])
    cb.s.sendall(fb[:half])
    wait_for(lambda: len(temp_files(S, "dave")) == 2, 10, "two temporary files")
    ca.s.sendall(fa[half:] + frame({"op": "commit", "sha256": digest("sha256", a)}))
    cb.s.sendall(fb[half:] + frame({"op": "commit", "sha256": digest("sha256", b)}))
    assert ca.reply()[0].get("ok") is True
    assert cb.reply()[0].get("ok") is True
    with open(os.path.join(user_dir(S, "dave"), "same"), "rb") as f:
        got = f.read()
    assert got in (a, b)
    assert temp_files(S, "dave") == []
    # and with two C clients racing
    pa, pb = os.path.join(TMP, "same-a"), os.path.join(TMP, "same-b")
    for p, d in ((pa, a), (pb, b)):
        with open(p, "wb") as f:
            f.write(d)
    procs = [client(port, "dave", "put", p, "same2", stderr=subprocess.PIPE) for p in (pa, pb)]
    for p in procs:
        assert p.wait(60) == 0, p.stderr.read()
        p.stderr.close()
    with open(os.path.join(user_dir(S, "dave"), "same2"), "rb") as f:
        assert f.read() in (a, b)
    assert temp_files(S, "dave") == []
    ca.close()
    cb.close()


def start_stdin_upload(port, user, name, size):
    return client(port, user, "put", "-", name, "--size", str(size), stdin=subprocess.PIPE,
                  stderr=subprocess.PIPE)


def feed(p, nbytes, block=b"\x5a" * (1 << 20)):
    sent = 0
    while sent < nbytes:
        p.stdin.write(block)
        sent += len(block)
    p.stdin.flush()


def t_killed_uploads():
    """killed client, killed server, SIGTERM'd server, interrupted download."""
    port = S.port
    assert register(port, "erin").get("ok") is True
    # the client dies mid-upload: the server removes the temporary file
    p = start_stdin_upload(port, "erin", "big", 200 << 20)
    feed(p, 20 << 20)
    wait_for(lambda: temp_files(S, "erin"), 10, "the temporary file")
    p.kill()
    p.wait()
    p.stdin.close() if not p.stdin.closed else None
    p.stderr.close()
    wait_for(lambda: temp_files(S, "erin") == [], 10, "the temporary file to be removed")
    assert "big" not in os.listdir(user_dir(S, "erin"))
    assert "interrupted" in S.log()
    # a short stdin: the client gives up and nothing is stored
    p = start_stdin_upload(port, "erin", "short", 10 << 20)
    p.stdin.write(b"x" * 1000)
    p.stdin.close()
    assert p.wait(30) == 1 and b"ended after 1000" in p.stderr.read()
    p.stderr.close()
    wait_for(lambda: temp_files(S, "erin") == [], 10, "the temporary file to be removed")
    assert "short" not in os.listdir(user_dir(S, "erin"))

    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        root = os.path.join(TMP, "root-kill-%d" % sig)
        srv = Server(root)
        assert register(srv.port, "erin").get("ok") is True
        p = start_stdin_upload(srv.port, "erin", "big", 200 << 20)
        feed(p, 20 << 20)
        wait_for(lambda: temp_files(srv, "erin") and
                 os.path.getsize(os.path.join(user_dir(srv, "erin"), temp_files(srv, "erin")[0])) > 0,
                 10, "upload data in the temporary file")
        rc = srv.stop(sig)
        try:
            feed(p, 1 << 20)
            p.stdin.close()
        except BrokenPipeError:
            pass
        assert p.wait(30) == 1, "the client must fail when the server goes away"
        p.stderr.close()
        if sig == signal.SIGKILL:
            assert rc == -signal.SIGKILL
            # a killed server cannot clean up: the next one does, at start
            assert len(temp_files(srv, "erin")) == 1
            srv2 = Server(root)
            assert "removed 1 temporary file" in srv2.log()
            assert temp_files(srv2, "erin") == []
            assert srv2.stop() == 0
        else:
            assert rc == 0, srv.log()
            assert temp_files(srv, "erin") == [], "clean shutdown leaves no temporary file"
            assert "discarded 1 unfinished upload" in srv.log(), srv.log()
        assert "big" not in os.listdir(user_dir(srv, "erin"))



class FakeServer:
    """A scripted server on 127.0.0.1 for one client connection: answers the
    login, then sends `download_reply` (raw bytes) and stays open until
    stopped (or closes at once if close_after)."""

    def __init__(self, download_reply, close_after=False):
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.port = self.ls.getsockname()[1]
        self.reply = download_reply
        self.close_after = close_after
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        s, _ = self.ls.accept()
        c = Conn.__new__(Conn)
        c.s, c.buf = s, b""
        s.settimeout(30)
        try:
            h, _ = c.reply()
            assert h["op"] == "login"
            c.send({"ok": True, "token": "ab" * 32})
            h, _ = c.reply()
            assert h["op"] == "download"
            s.sendall(self.reply)
            if not self.close_after:
                self.done.wait(30)
        except Exception:
            pass
        s.close()
        self.ls.close()

    def stop(self):
        self.done.set()
        self.t.join(10)


def t_client_download_failures():
    """the client keeps no partial or corrupt download: bad checksum, cut, interrupt."""
    data = os.urandom(1 << 20)
    dst = os.path.join(TMP, "dl-target")
    part = lambda: [n for n in os.listdir(TMP) if n.startswith(".dl-target.part-")]
    good_head = frame({"ok": True, "name": "x", "checksum": "crc32c"}, data)
    # a corrupt transfer: the trailer's checksum does not match the bytes
    fs = FakeServer(good_head + frame({"ok": True, "crc32c": "%08x" % (crc32c(data) ^ 1)}))
    rc, _, err = run_client(fs.port, "erin", "get", "x", dst)
    fs.stop()
    assert rc == 1 and "corrupt" in err and not os.path.exists(dst) and part() == [], err
    # the server disappears in the middle of the body
    fs = FakeServer(good_head[:len(good_head) // 2], close_after=True)
    rc, _, err = run_client(fs.port, "erin", "get", "x", dst)
    fs.stop()
    assert rc == 1 and "middle of a reply" in err and not os.path.exists(dst) and part() == [], err
    # the user interrupts (SIGINT) a download that stalls half-way
    fs = FakeServer(good_head[:len(good_head) // 2])
    p = client(fs.port, "erin", "get", "x", dst, stderr=subprocess.PIPE)
    wait_for(lambda: part() and os.path.getsize(os.path.join(TMP, part()[0])) > 0, 10, "download data")
    p.send_signal(signal.SIGINT)
    assert p.wait(10) == 128 + signal.SIGINT
    p.stderr.close()
    fs.stop()
    assert part() == [] and not os.path.exists(dst)
    # and the same file, whole and correct, is saved
    fs = FakeServer(good_head + frame({"ok": True, "crc32c": "%08x" % crc32c(data)}))
    rc, _, err = run_client(fs.port, "erin", "get", "x", dst)
    fs.stop()
    assert rc == 0 and part() == [], err
    with open(dst, "rb") as f:
        assert f.read() == data


def t_gigabyte():
    """1 GiB up and down, made on the fly and checked by SHA-256 on this side."""
    port = S.port
    assert register(port, "gina").get("ok") is True
    size = 1 << 30
    base = bytearray(os.urandom(1 << 20))
    t0 = time.monotonic()
    p = start_stdin_upload(port, "gina", "gig", size)
    h = hashlib.sha256()
    for i in range(size >> 20):
        base[:8] = struct.pack("<Q", i)
        h.update(base)
        p.stdin.write(base)
    p.stdin.close()
    assert p.wait(120) == 0, p.stderr.read()
    p.stderr.close()
    t1 = time.monotonic()
    assert os.path.getsize(os.path.join(user_dir(S, "gina"), "gig")) == size
    p = client(port, "gina", "get", "gig", "-", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    h2 = hashlib.sha256()
    n = 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        h2.update(b)
        n += len(b)
    assert p.wait(120) == 0, p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    t2 = time.monotonic()
    assert n == size and h2.digest() == h.digest()
    rc, _, err = run_client(port, "gina", "rm", "gig")
    assert rc == 0, err
    print("    1 GiB up %.1f s, down %.1f s (through Python pipes)" % (t1 - t0, t2 - t1))


def t_progress_bar():
    """a progress bar on a terminal; nothing at all otherwise."""
    port = S.port
    src = os.path.join(TMP, "bar.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(40 << 20))
    for args in (("put", src, "bar"), ("get", "bar", os.path.join(TMP, "bar.back"))):
        master, slave = pty.openpty()
        p = client(port, "bob", *args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    b = os.read(master, 4096)
                except OSError:
                    break
                if not b:
                    break
                out += b
            elif p.poll() is not None:
                break
        os.close(master)
        assert p.wait(30) == 0, out
        text = out.decode("utf-8", "replace")
        assert "100%" in text and "40.0 MiB / 40.0 MiB" in text and "/s" in text and text.endswith("\n"), text
        assert "\r" in text
        rc, out, err = run_client(port, "bob", *args)
        assert rc == 0 and err == "", err


def t_startup_errors():
    """port in use, root in use: clear messages."""
    srv = Server(os.path.join(TMP, "root-other"), port=S.port, expect_start=False)
    assert srv.p.wait(30) == 1
    assert "already in use" in srv.log(), srv.log()
    srv.p.stdout.close()
    srv = Server(S.root, expect_start=False)
    assert srv.p.wait(30) == 1
    assert "in use by another" in srv.log(), srv.log()
    srv.p.stdout.close()


def t_no_fd_leak():
    """after all that, the server holds as many descriptors as at the start."""
    wait_for(lambda: len(S.fds()) == BASE_FDS, 15, "descriptors back to %d (now %d)" % (BASE_FDS, len(S.fds())))


TESTS = [t_crypto, t_accounts, t_client_basics, t_traversal, t_traversal_fallback, t_checksums_and_protocol,
         t_malformed, t_timeouts, t_concurrent_clients, t_same_name, t_killed_uploads, t_client_download_failures, t_gigabyte,
         t_progress_bar, t_startup_errors, t_no_fd_leak]


def main():
    global ARGS, BUILD, TMP, S, PWFILE, BASE_FDS
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--quick", action="store_true", help="skip the 1 GiB round trip")
    ap.add_argument("-k", action="append", default=[], help="run only tests whose name contains this")
    ARGS = ap.parse_args()
    BUILD = ARGS.build
    TMP = tempfile.mkdtemp(prefix="frame-files-test-")
    PWFILE = os.path.join(TMP, "pw")
    with open(PWFILE, "w") as f:
        f.write(PASSWORD + "\n")
    with open(os.path.join(TMP, "wrongpw"), "w") as f:
        f.write("not the password\n")
    failed = 0
    ran = 0
    S = None
    t_start = time.monotonic()
    try:
        S = Server(os.path.join(TMP, "root"), "--frame-timeout", "20")
        BASE_FDS = len(S.fds())
        for t in TESTS:
            if ARGS.k and not any(k in t.__name__ for k in ARGS.k):
                continue
            if t is t_gigabyte and (ARGS.valgrind or ARGS.quick):
                print("skip %s" % t.__name__)
                continue
            t0 = time.monotonic()
            try:
                t()
                print("ok   %s (%.1f s)" % (t.__name__, time.monotonic() - t0))
                ran += 1
            except Exception as e:
                import traceback
                traceback.print_exc()
                print("FAIL %s: %s" % (t.__name__, e))
                failed += 1
                ran += 1
        rc = S.stop(signal.SIGINT)
        assert rc == 0, "the server must exit 0 after SIGINT, got %s: %s" % (rc, S.log())
        assert "shutting down" in S.log()
        if ARGS.valgrind:
            for log, check_fds in VG_LOGS:
                with open(log) as f:
                    text = f.read()
                # descriptors open at exit, other than stdin/out/err and valgrind's own log
                fds = [l for l in re.findall(r"Open file descriptor \d+: ?(.*)", text) if l.strip() != log]
                bad = [l for l in text.splitlines() if re.match(r"==\d+== +(Invalid|Conditional|Use of uninit|"
                                                                r"Syscall param|Mismatched|.*definitely lost|"
                                                                r".*indirectly lost|.*possibly lost)", l)]
                if bad or (check_fds and fds):
                    print("FAIL valgrind %s:\n%s" % (log, text[-3000:]))
                    failed += 1
            print("valgrind: %d logs checked (%d with descriptor checks)" %
                  (len(VG_LOGS), sum(1 for _, c in VG_LOGS if c)))
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        for p in PROCS:
            if ARGS.valgrind and p.returncode == 99:
                print("FAIL valgrind reported errors (exit 99) for pid %d" % p.pid)
                failed += 1
        if not os.environ.get("KEEP_TMP"):
            shutil.rmtree(TMP, ignore_errors=True)
    print("%s: %d scenarios, %d failed, %.1f s" % ("FAIL" if failed else "PASS", ran, failed,
                                                    time.monotonic() - t_start))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
