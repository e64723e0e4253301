#!/usr/bin/env python3
"""End-to-end tests of frame-exec-server and frame-exec (127.0.0.1 only).

usage: test_exec.py BUILD_DIR

Starts the servers on ephemeral ports, runs every scenario (each asserts),
always kills the servers at the end. (The attacks of issue 18 are in
test_attacks.py.)
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exec_proto as P  # noqa: E402

BIN = None
SERVERS = []
TMP = tempfile.mkdtemp(prefix="frame-exec-test-")
# No token file of the real user is read or written: HOME is the temp dir.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("FRAME_EXEC_TOKEN", "XDG_RUNTIME_DIR")}
CLEAN_ENV["HOME"] = TMP
TOKEN_ENV = dict(CLEAN_ENV, FRAME_EXEC_TOKEN=P.TOKEN)


def start(binary="frame-exec-server", *args, **kw):
    kw.setdefault("env", TOKEN_ENV)
    s = P.Server(os.path.join(BIN, binary), *args, **kw)
    SERVERS.append(s)
    return s


def expect_error(sock, name, closed=True):
    h, body = P.recv_frame(sock)
    assert h.get("error") == name, h
    assert body == b"" and isinstance(h.get("message"), str), h
    if closed:
        sock.settimeout(10)
        assert sock.recv(1) == b"", "the server kept the connection open"
    return h


def check_run(srv, cmd, code, out, err, body=b"", **extra):
    h, b = srv.run(cmd, body, **extra)
    got = P.split_reply(h, b)
    assert got == (code, out, err), (h, got[0], got[1][:200], got[2][:200])
    return h


# --------------------------------------------------------------------------
# Scenarios: each takes the server and asserts.

def t_echo(srv):
    check_run(srv, ["echo", "hello", "world"], 0, b"hello world\n", b"")


def t_stdout_stderr_apart(srv):
    h = check_run(srv, ["/bin/sh", "-c", "printf out1; printf err1 >&2; printf out2; exit 3"],
                  3, b"out1out2", b"err1")
    assert h["stdout"] == 8 and h["stderr"] == 4 and "signal" not in h, h


def t_zero_output(srv):
    h = check_run(srv, ["true"], 0, b"", b"")
    assert h == {"size": 0, "exit": 0, "stdout": 0, "stderr": 0}, h
    check_run(srv, ["false"], 1, b"", b"")


def t_16mib_output(srv):
    out = b"abcdefg\n" * (16 * 1024 * 1024 // 8)
    err = (b"XY\n" * 33334)[:100000]
    check_run(srv, ["/bin/sh", "-c", "yes abcdefg | head -c 16777216; yes XY | head -c 100000 >&2"],
              0, out, err)


def t_stdin_body(srv):
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    check_run(srv, ["cat"], 0, data, b"", body=data)
    check_run(srv, ["wc", "-c"], 0, b"5\n", b"", body=b"12345")


def t_argv_no_shell(srv):
    arg = "a b;$(echo x)|'\"\\\u00e9\n"
    check_run(srv, ["printf", "%s", arg], 0, arg.encode(), b"")


def t_command_not_found(srv):
    h, b = srv.run(["no-such-command-xyz"])
    code, out, err = P.split_reply(h, b)
    assert code == 127 and out == b"" and b"no-such-command-xyz" in err, (h, err)


def t_signal_exit(srv):
    h = check_run(srv, ["/bin/sh", "-c", "kill -TERM $$"], 128 + 15, b"", b"")
    assert h["signal"] == 15, h


def t_time_limit_request(srv):
    t0 = time.monotonic()
    h = check_run(srv, ["sleep", "30"], 137, b"", b"", timeout_ms=300)
    assert h["timed_out"] is True and h["signal"] == 9, h
    assert time.monotonic() - t0 < 15, "the time limit did not stop the command"


def t_time_limit_kills_group(srv):
    # The shell's children die with it: the pipe is closed, so the reply comes.
    h = check_run(srv, ["/bin/sh", "-c", "echo start; sleep 30 & sleep 30; echo never"],
                  137, b"start\n", b"", timeout_ms=300)
    assert h["timed_out"] is True, h


def t_output_cap(srv):
    h = check_run(srv, ["yes"], 137, b"y\n" * 50000, b"", max_output=100000)
    assert h["truncated"] is True, h


def t_bad_requests_keep_connection(srv):
    with srv.connect() as s:
        for hdr, what in [({}, "no cmd"), ({"cmd": "ls"}, "string cmd"), ({"cmd": []}, "empty"),
                          ({"cmd": ["ls", 1]}, "number arg"), ({"cmd": ["ls"], "timeout_ms": 0}, "zero limit"),
                          ({"cmd": ["ls"], "timeout_ms": -5}, "negative limit"),
                          ({"cmd": ["a\u0000b"]}, "NUL in arg")]:
            s.sendall(P.encode(hdr, b"ignored body"))
            h = expect_error(s, "BAD_REQUEST", closed=False)
            assert "cmd" in h["message"] or "limit" in what or "timeout" in h["message"], (what, h)
        s.sendall(P.request(["echo", "still", "here"]))
        assert P.split_reply(*P.recv_frame(s)) == (0, b"still here\n", b"")


def t_pipelined_requests(srv):
    with srv.connect() as s:
        s.sendall(b"".join(P.request(["echo", str(i)]) for i in range(20)))
        for i in range(20):
            assert P.split_reply(*P.recv_frame(s)) == (0, b"%d\n" % i, b"")
        # 3,000 invalid requests in one burst are answered at once, one by
        # one, in order, and the connection goes on.
        s.sendall(P.encode({}) * 3000 + P.request(["echo", "after"]))
        for i in range(3000):
            assert P.recv_frame(s)[0].get("error") == "BAD_REQUEST", i
        assert P.split_reply(*P.recv_frame(s)) == (0, b"after\n", b"")


def malformed_cases():
    big = struct.pack("<I", 5000) + b"{" + b" " * 4998 + b"}"
    return [
        ("JSON_SYNTAX", struct.pack("<I", 5) + b'{"siz'),
        ("NOT_OBJECT", struct.pack("<I", 3) + b"[1]"),
        ("SIZE_MISSING", P.encode({})[0:0] + struct.pack("<I", 16) + b'{"cmd":["true"]}'),
        ("HEADER_TOO_LARGE", big),
        ("BODY_TOO_LARGE", struct.pack("<I", 30) + b'{"size":2000000,"cmd":["cat"]}'),
        ("HEADER_EMPTY", struct.pack("<I", 0)),
        ("BAD_UTF8", struct.pack("<I", 21) + b'{"size":0,"cmd":["\xff"]}'[:21]),
        ("DUPLICATE_NAME", struct.pack("<I", 29) + b'{"size":0,"cmd":[1],"cmd":[2]}'[:29]),
        ("LOOKS_LIKE_TEXT", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n"),
        ("LOOKS_LIKE_TLS", bytes.fromhex("160301020001") + os.urandom(200)),
    ]


def t_malformed_frames(srv):
    observer = srv.connect()
    try:
        for name, data in malformed_cases():
            with srv.connect() as s:
                s.sendall(data)
                h = expect_error(s, name)
                assert isinstance(h.get("offset"), int), h
                if name == "HEADER_TOO_LARGE":
                    assert "5000 > 4096" in h["message"], h
            # Everyone else is still served, on an older connection too.
            observer.sendall(P.request(["echo", name]))
            assert P.split_reply(*P.recv_frame(observer)) == (0, name.encode() + b"\n", b"")
    finally:
        observer.close()


def t_http_request(srv):
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        h = expect_error(s, "LOOKS_LIKE_TEXT")
        assert h["offset"] == 0 and "HTTP" in h["message"], h


def t_client_stops_mid_frame(srv):
    # request_timeout is 1 s on this server: a half-sent frame is answered
    # TIMEOUT and closed, while another client is served meanwhile.
    req = P.request(["echo", "x"])
    with srv.connect() as s:
        s.sendall(req[:10])
        check_run(srv, ["echo", "other"], 0, b"other\n", b"")
        t0 = time.monotonic()
        s.settimeout(15)
        h = expect_error(s, "TIMEOUT")
        assert h["offset"] == 10 and time.monotonic() - t0 < 12, h


def t_slowloris_drip(srv):
    # One byte every 0.2 s keeps the connection busy but never completes the
    # frame in time: the deadline runs from the frame's first byte.
    req = P.request(["echo", "x" * 200])
    with srv.connect() as s:
        s.settimeout(0.2)
        for i in range(len(req)):
            try:
                s.send(req[i:i + 1])
            except OSError:
                break
            try:
                h, _ = P.recv_frame(s)
                break
            except socket.timeout:
                continue
        else:
            raise AssertionError("the dripping client was never cut off")
        assert h.get("error") == "TIMEOUT" and i < 60, (h, i)


def t_client_half_close_mid_frame(srv):
    with srv.connect() as s:
        s.sendall(P.request(["echo", "x"])[:15])
        s.shutdown(socket.SHUT_WR)
        h = expect_error(s, "TRUNCATED")
        assert h["offset"] == 15, h


def t_idle_timeout(srv):
    with srv.connect() as s:
        s.settimeout(15)
        t0 = time.monotonic()
        assert s.recv(1) == b"", "an idle connection got data"
        assert time.monotonic() - t0 < 12


def t_slow_command_does_not_block(srv):
    fifo = os.path.join(TMP, "fifo")
    os.mkfifo(fifo)
    try:
        with srv.connect() as a:
            a.sendall(P.request(["cat", fifo]))  # blocks until we write the fifo
            for i in range(5):
                check_run(srv, ["echo", "meanwhile", str(i)], 0, b"meanwhile %d\n" % i, b"")
            a.settimeout(0.1)
            try:
                a.recv(1)
                raise AssertionError("the blocked command answered early")
            except socket.timeout:
                pass
            a.settimeout(30)
            with open(fifo, "wb") as f:
                f.write(b"released\n")
            assert P.split_reply(*P.recv_frame(a)) == (0, b"released\n", b"")
    finally:
        os.unlink(fifo)


def concurrent(srv, n):
    """n clients connected at once, all requests in flight before any reply is read."""
    socks, expect = [], {}
    for i in range(n):
        s = srv.connect()
        kind = i % 4
        if kind == 0:
            req = P.request(["/bin/sh", "-c", "printf 'out %d'; printf 'err %d' >&2; exit %d" % (i, i, i % 7)])
            exp = (i % 7, b"out %d" % i, b"err %d" % i)
        elif kind == 1:
            data = os.urandom(37 * i + 1)
            req, exp = P.request(["cat"], data), (0, data, b"")
        elif kind == 2:
            req, exp = P.request(["echo", "client", str(i)]), (0, b"client %d\n" % i, b"")
        else:
            req = P.request(["seq", str(10 * i)])
            exp = (0, b"".join(b"%d\n" % k for k in range(1, 10 * i + 1)), b"")
        s.sendall(req)
        socks.append(s)
        expect[s.fileno()] = (i, exp)
    # All n connections are held at once (accepted, none closed yet).
    P.wait_for(lambda: P.fd_count(srv.pid) >= srv.base_fds + n, "the server to hold %d connections" % n)
    import selectors
    sel = selectors.DefaultSelector()
    parsers = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        parsers[s.fileno()] = P.FrameParser()
    done, deadline = {}, time.monotonic() + 90
    try:
        while len(done) < n:
            assert time.monotonic() < deadline, "only %d of %d replies in time" % (len(done), n)
            for key, _ in sel.select(1.0):
                s = key.fileobj
                data = s.recv(1 << 16)
                assert data, "server closed client %d" % expect[s.fileno()][0]
                frames = parsers[s.fileno()].feed(data)
                for h, b in frames:
                    assert s.fileno() not in done, "two replies for one request"
                    done[s.fileno()] = P.split_reply(h, b)
                    sel.unregister(s)  # its idle timeout may close it now
        for fd, (i, exp) in expect.items():
            assert done[fd] == exp, ("client %d" % i, done[fd][0], exp[0])
    finally:
        sel.close()
        for s in socks:
            s.close()


def t_200_concurrent_clients(srv):
    concurrent(srv, 200)


SECRET = "s3cret-s3cret-s3cret"


def t_token_required(tsrv):
    with tsrv.connect() as s:
        s.sendall(P.request(["echo", "x"], token=None))
        h = expect_error(s, "UNAUTHORIZED")
        assert "token" in h["message"], h
    with tsrv.connect() as s:
        s.sendall(P.request(["echo", "x"], token=SECRET[:-1]))
        expect_error(s, "UNAUTHORIZED")
    with tsrv.connect() as s:
        s.sendall(P.request(["echo", "x"], token=SECRET + "x" * 300))
        expect_error(s, "UNAUTHORIZED")
    time.sleep(2.5)  # this address backs off after failures (250, 500, 1000 ms)
    check_run(tsrv, ["echo", "ok"], 0, b"ok\n", b"", token=SECRET)


def t_server_time_limit(tsrv):
    t0 = time.monotonic()
    h = check_run(tsrv, ["sleep", "30"], 137, b"", b"", token=SECRET)
    assert h["timed_out"] is True and time.monotonic() - t0 < 15, h


def t_non_loopback_refused(_):
    for addr in ["0.0.0.0:0", ":0", "[::]:0"]:
        p = subprocess.run([os.path.join(BIN, "frame-exec-server"), "--listen", addr],
                           capture_output=True, timeout=20, env=CLEAN_ENV)
        assert p.returncode == 2 and b"without TLS" in p.stderr and p.stdout == b"", (addr, p)


def t_port_in_use(srv):
    p = subprocess.run([os.path.join(BIN, "frame-exec-server"), "--listen", "127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=20, env=CLEAN_ENV)
    assert p.returncode == 1 and b"already in use" in p.stderr, p


def client(*args, stdin=b"", env=None):
    return subprocess.run([os.path.join(BIN, "frame-exec")] + list(args), input=stdin,
                          capture_output=True, timeout=60, env=env or TOKEN_ENV)


def t_client_one_shot(srv):
    addr = "127.0.0.1:%d" % srv.port
    p = client(addr, "--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (p.returncode, p.stdout, p.stderr) == (7, b"out\n", b"err\n"), p
    p = client(addr, "echo", "-n", "no dashes needed")
    assert (p.returncode, p.stdout) == (0, b"no dashes needed"), p
    p = client("-i", addr, "--", "tr", "a-z", "A-Z", stdin=b"hello\n")
    assert (p.returncode, p.stdout) == (0, b"HELLO\n"), p
    p = client(addr, "--", "head", "-c", "16777216", "/dev/zero")
    assert p.returncode == 0 and p.stdout == bytes(16777216), (p.returncode, len(p.stdout))
    p = client("--time-limit", "0.3", addr, "--", "sleep", "30")
    assert p.returncode == 137 and b"time limit" in p.stderr, p
    p = client("127.0.0.1:1", "--", "true")
    assert p.returncode == 255 and b"cannot connect" in p.stderr, p


def t_client_interactive(srv):
    p = client("127.0.0.1:%d" % srv.port,
               stdin=b"echo one\n\nfalse\necho two | tr a-z A-Z\necho err >&2\nexit\necho never\n")
    assert p.returncode == 0 and p.stdout == b"one\nTWO\n", p
    assert p.stderr == b"[exit 1]\nerr\n", p


def t_client_token(tsrv):
    addr = "127.0.0.1:%d" % tsrv.port
    p = client(addr, "--", "echo", "x", env=CLEAN_ENV)
    assert p.returncode == 255 and b"UNAUTHORIZED" in p.stderr, p
    time.sleep(0.6)
    p = client(addr, "--", "echo", "x", env=dict(CLEAN_ENV, FRAME_EXEC_TOKEN=SECRET))
    assert (p.returncode, p.stdout) == (0, b"x\n"), p
    p = client("--token", SECRET, addr, "--", "echo", "y", env=CLEAN_ENV)
    assert (p.returncode, p.stdout) == (0, b"y\n"), p


def t_client_reconnects_after_idle_close(srv):
    p = subprocess.Popen([os.path.join(BIN, "frame-exec"), "127.0.0.1:%d" % srv.port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=TOKEN_ENV)
    try:
        p.stdin.write(b"echo a\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"a\n"
        # The server (idle timeout 2 s) closes the idle session; the prompt
        # notices before sending the next line and reconnects.
        P.wait_for(lambda: P.fd_count(srv.pid) == srv.base_fds, "the idle session to be closed")
        out, err = p.communicate(b"echo b\n", timeout=30)
        assert (p.returncode, out, err) == (0, b"b\n", b""), (p.returncode, out, err)
    finally:
        p.kill()
        p.wait()


def t_reader_stalls(srv):
    # A client that never reads its 16 MiB reply is closed after the idle
    # timeout without progress; the server frees everything.
    with srv.connect() as s:
        s.sendall(P.request(["head", "-c", "16777216", "/dev/zero"]))
        P.wait_for(lambda: P.fd_count(srv.pid) == srv.base_fds, "the stalled reader to be closed", 30)


def t_busy_and_queue(lsrv):
    # This server runs one command at a time and holds at most 3 connections.
    fifo = os.path.join(TMP, "fifo-q")
    os.mkfifo(fifo)
    a, b, c = lsrv.connect(), lsrv.connect(), lsrv.connect()
    try:
        a.sendall(P.request(["cat", fifo]))
        b.sendall(P.request(["echo", "queued"]))
        with lsrv.connect() as d:
            h = expect_error(d, "BUSY")
            assert h["message"] == "too many connections", h
        b.settimeout(0.3)
        try:
            b.recv(1)
            raise AssertionError("the queued request ran while the only slot was taken")
        except socket.timeout:
            pass
        b.settimeout(30)
        with open(fifo, "wb") as f:
            f.write(b"first\n")
        assert P.split_reply(*P.recv_frame(a)) == (0, b"first\n", b"")
        assert P.split_reply(*P.recv_frame(b)) == (0, b"queued\n", b"")
        c.sendall(P.request(["echo", "third"]))
        assert P.split_reply(*P.recv_frame(c)) == (0, b"third\n", b"")
    finally:
        for x in (a, b, c):
            x.close()
        os.unlink(fifo)


def t_no_fd_leak(srv):
    base = srv.base_fds
    P.wait_for(lambda: P.fd_count(srv.pid) == base, "the server's fds to return to %d" % base)


def t_sigterm_kills_children(srv):
    pidfile = os.path.join(TMP, "pid-%d" % srv.pid)
    s = srv.connect()
    try:
        s.sendall(P.request(["/bin/sh", "-c", "echo $$ > %s.tmp; mv %s.tmp %s; exec sleep 60"
                             % (pidfile, pidfile, pidfile)]))
        P.wait_for(lambda: os.path.exists(pidfile), "the command to start")
        pid = int(open(pidfile).read())
        os.kill(pid, 0)  # running
        code, err = srv.stop(signal.SIGTERM)
        assert code == 0 and "killed 1 commands" in err, (code, err[-500:])
        try:
            os.kill(pid, 0)
            raise AssertionError("the command outlived the server")
        except ProcessLookupError:
            pass
    finally:
        s.close()


MAIN = [t_echo, t_stdout_stderr_apart, t_zero_output, t_16mib_output, t_stdin_body, t_argv_no_shell,
        t_command_not_found, t_signal_exit, t_time_limit_request, t_time_limit_kills_group,
        t_output_cap, t_bad_requests_keep_connection, t_pipelined_requests, t_malformed_frames,
        t_http_request, t_client_stops_mid_frame, t_slowloris_drip, t_client_half_close_mid_frame,
        t_idle_timeout, t_slow_command_does_not_block, t_200_concurrent_clients, t_port_in_use,
        t_client_one_shot, t_client_interactive, t_client_reconnects_after_idle_close, t_reader_stalls,
        t_non_loopback_refused, t_no_fd_leak]
TOKEN = [t_token_required, t_server_time_limit, t_client_token]

RESULTS = {"pass": 0, "fail": 0}


def run_all(label, srv, tests):
    for t in tests:
        t0 = time.monotonic()
        try:
            t(srv)
            RESULTS["pass"] += 1
            print("ok   %-8s %-34s %5.2fs" % (label, t.__name__[2:], time.monotonic() - t0), flush=True)
        except Exception:
            RESULTS["fail"] += 1
            print("FAIL %-8s %s" % (label, t.__name__[2:]), flush=True)
            traceback.print_exc()


SERVER_ARGS = ["--request-timeout", "1", "--idle-timeout", "2", "--auth-timeout", "2",
               "--time-limit", "30", "--max-conns-per-addr", "400"]


def phase(label, binary, extra_tests):
    srv = start(binary, *SERVER_ARGS)
    srv.base_fds = P.fd_count(srv.pid)
    run_all(label, srv, extra_tests)
    run_all(label, srv, [t_sigterm_kills_children])
    return srv


def main():
    global BIN
    args = sys.argv[1:]
    if len(args) != 1:
        sys.exit(__doc__)
    BIN = args[0]
    try:
        phase("main", "frame-exec-server", MAIN)
        tsrv = start("frame-exec-server", "--time-limit", "1", env=dict(CLEAN_ENV, FRAME_EXEC_TOKEN=SECRET))
        run_all("token", tsrv, TOKEN)
        tsrv.stop()
        lsrv = start("frame-exec-server", "--max-conns", "3", "--max-procs", "1")
        run_all("limits", lsrv, [t_busy_and_queue])
        lsrv.stop()
    finally:
        for s in SERVERS:
            s.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (RESULTS["pass"], RESULTS["fail"]))
    sys.exit(1 if RESULTS["fail"] else 0)


if __name__ == "__main__":
    main()
