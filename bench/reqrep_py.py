#!/usr/bin/env python3
"""Request/reply benchmark over loopback TCP: the Python rows, and the driver
that prints (and records) the whole table with the C rows of bench/reqrep.c.

    make bench-reqrep
    (= PYTHONPATH=build/python/site LIBFRAME_IMPL=extension \\
       python3 bench/reqrep_py.py --c-bench build/bench/reqrep)

One frame each way per exchange: the client sends a request frame
({"seq": i} and a body), an echo server answers with a reply frame holding the
same seq and body, and the client waits for the whole reply before the next
request. 127.0.0.1 only; Nagle's algorithm ON at both ends (TCP_NODELAY 0 set
explicitly, since asyncio turns TCP_NODELAY on by itself), then the same rows
with TCP_NODELAY at both ends for comparison. Bodies of 100 B and 10 KiB.

Python rows (the libframe package as `make python-ext` builds it, with its
extension; LIBFRAME_IMPL=pure by default when run by hand without it):
  (d) send_frame / recv_frame on blocking sockets, against a Python echo
      server doing the same (recv_frame + send_frame) in a forked child;
  (e) asyncio read_frame / write_frame, client and server both asyncio (the
      server in a forked child with its own event loop).
"sends/frame" counts, on the client, the socket send calls (sendall, sendmsg,
send) made per request frame for (d), and the StreamWriter.write() calls for
(e) (each one a send() when the transport's buffer is empty, as it is here).

Each exchange is timed with time.clock_gettime_ns(CLOCK_MONOTONIC). A row is
--warmup exchanges (at most 0.5 s), then --exchanges measured ones or as many
as fit in --max-seconds / --trials (a row stalled by Nagle + delayed ACKs stops
early and says how many it measured). Every row is measured --trials times (3)
on a new connection, the rows taking turns, and the trial whose p99 is the
median of the trials is shown (its median, p99 and sends/frame): one trial
disturbed by another process on a shared machine does not decide a row.
Cleanup: socket timeouts, an alarm() in the server child, kill + waitpid of
the child at the end of every row (also on failure), and an alarm() over the
whole run. The C binary runs under a timeout too.

Targets (issue "every frame leaves in one write"): every Nagle-on row except
the deliberately too-small-buffer C row (one-small) has a median under 0.5 ms
and a p99 under 2 ms.

--record FILE writes the section between <!-- reqrep:begin --> and
<!-- reqrep:end --> in FILE (appended when the markers are missing, e.g. after
run.py --record rewrote bench/RESULTS.md); --doc FILE does the same with the
table in docs/BENCH.md (between <!-- reqrep-results:begin/end -->).
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
os.environ.setdefault("LIBFRAME_IMPL", "pure")
if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
import libframe  # noqa: E402

SOCK_TIMEOUT = 10.0
CHILD_ALARM = 60
RUN_ALARM = 110
WARMUP_MAX_S = 0.5
MEDIAN_TARGET_US = 500.0
P99_TARGET_US = 2000.0

LABEL = {
    "send_frame": "(d) Python send_frame / recv_frame (blocking sockets; Python echo server)",
    "asyncio": "(e) Python asyncio write_frame / read_frame (asyncio client and server)",
}
C_ORDER = ["one-fits", "one-small", "gather", "fd"]
ORDER = C_ORDER + ["send_frame", "asyncio"]

current_child = 0


def log(msg):
    print("reqrep: " + msg, file=sys.stderr, flush=True)


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def on_run_alarm(signum, frame):
    if current_child:
        try:
            os.kill(current_child, signal.SIGKILL)
            os.waitpid(current_child, 0)
        except OSError:
            pass
    os.write(2, b"reqrep: time limit reached, stopping\n")
    os._exit(3)


def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def set_nodelay(sock, on):
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1 if on else 0)


def spawn(server, *args):
    """Forks a server child running server(*args); the child never returns."""
    global current_child
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(CHILD_ALARM)
            server(*args)
            code = 0
        except BaseException as exc:  # noqa: BLE001 -- report and exit, whatever it was
            try:
                log("server: %r" % (exc,))
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(code)
    current_child = pid
    return pid


def reap(pid, ok):
    """Waits up to 2 s for the child to exit after the client closed, then kills it."""
    global current_child
    deadline = time.monotonic() + (2.0 if ok else 0.0)
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            break
        if time.monotonic() >= deadline:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            break
        time.sleep(0.01)
    current_child = 0


def stats(samples, seconds):
    s = sorted(samples)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    p99 = s[(99 * n + 99) // 100 - 1]  # the smallest sample with >= 99% at or below it
    return {"exchanges": n, "median_us": med / 1e3, "p99_us": p99 / 1e3,
            "mean_us": sum(s) / n / 1e3, "max_us": s[-1] / 1e3, "seconds": seconds}


# ---- (d) blocking sockets ----------------------------------------------------------

class CountingSocket:
    """What send_frame / recv_frame see: the socket, with send calls counted."""
    __slots__ = ("_s", "sends")

    def __init__(self, s):
        self._s = s
        self.sends = 0

    def sendall(self, data):
        self.sends += 1
        return self._s.sendall(data)

    def send(self, data):
        self.sends += 1
        return self._s.send(data)

    def sendmsg(self, buffers, *args):
        self.sends += 1
        return self._s.sendmsg(buffers, *args)

    def recv(self, n):
        return self._s.recv(n)


def sync_server(lsock, nodelay):
    conn, _ = lsock.accept()
    lsock.close()
    set_nodelay(conn, nodelay)
    conn.settimeout(SOCK_TIMEOUT)
    with conn:
        while True:
            f = libframe.recv_frame(conn)
            if f is None:
                return
            libframe.send_frame(conn, {"seq": f.header["seq"]}, f.body)


def sync_row(body_len, nodelay, a):
    body = bytes((i * 7 + 1) & 0xFF for i in range(body_len))
    lsock = listener()
    addr = lsock.getsockname()
    pid = spawn(sync_server, lsock, nodelay)
    lsock.close()
    ok = False
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        set_nodelay(sock, nodelay)
        sock.settimeout(SOCK_TIMEOUT)
        sock.connect(addr)
        cs = CountingSocket(sock)
        seq = 0

        def exchange():
            nonlocal seq
            libframe.send_frame(cs, {"seq": seq}, body)
            f = libframe.recv_frame(cs)
            if f is None:
                raise RuntimeError("the server closed the connection")
            if f.header.get("seq") != seq or f.body != body:
                raise RuntimeError("the reply does not echo the request")
            seq += 1

        t0 = now_ns()
        for _ in range(a.warmup):
            if now_ns() - t0 > WARMUP_MAX_S * 1e9:
                break
            exchange()
        sends0 = cs.sends
        samples = []
        t0 = now_ns()
        t_end = t0 + int(a.max_seconds / a.trials * 1e9)
        for i in range(a.exchanges):
            s = now_ns()
            if i and s > t_end:
                break
            exchange()
            samples.append(now_ns() - s)
        r = stats(samples, (now_ns() - t0) / 1e9)
        r["sends_per_frame"] = (cs.sends - sends0) / len(samples)
        ok = True
        return r
    finally:
        sock.close()
        reap(pid, ok)


# ---- (e) asyncio -------------------------------------------------------------------

class CountingWriter:
    """What write_frame sees: the StreamWriter, with write() calls counted."""

    def __init__(self, w):
        self._w = w
        self.writes = 0

    def write(self, data):
        self.writes += 1
        self._w.write(data)

    def drain(self):
        return self._w.drain()


def async_server(lsock, nodelay):
    async def main():
        done = asyncio.Event()

        async def handle(reader, writer):
            # asyncio sets TCP_NODELAY on every TCP transport: set the row's value.
            set_nodelay(writer.get_extra_info("socket"), nodelay)
            try:
                while True:
                    f = await libframe.read_frame(reader)
                    if f is None:
                        break
                    await libframe.write_frame(writer, {"seq": f.header["seq"]}, f.body)
            finally:
                writer.close()
                done.set()

        server = await asyncio.start_server(handle, sock=lsock)
        await asyncio.wait_for(done.wait(), CHILD_ALARM)
        server.close()

    asyncio.run(main())


def async_row(body_len, nodelay, a):
    body = bytes((i * 7 + 1) & 0xFF for i in range(body_len))
    lsock = listener()
    addr = lsock.getsockname()
    pid = spawn(async_server, lsock, nodelay)
    lsock.close()

    async def client():
        reader, writer = await asyncio.open_connection(*addr)
        set_nodelay(writer.get_extra_info("socket"), nodelay)
        cw = CountingWriter(writer)
        seq = 0

        async def exchange():
            nonlocal seq
            await libframe.write_frame(cw, {"seq": seq}, body)
            f = await libframe.read_frame(reader)
            if f is None:
                raise RuntimeError("the server closed the connection")
            if f.header.get("seq") != seq or f.body != body:
                raise RuntimeError("the reply does not echo the request")
            seq += 1

        try:
            t0 = now_ns()
            for _ in range(a.warmup):
                if now_ns() - t0 > WARMUP_MAX_S * 1e9:
                    break
                await exchange()
            writes0 = cw.writes
            samples = []
            t0 = now_ns()
            t_end = t0 + int(a.max_seconds / a.trials * 1e9)
            for i in range(a.exchanges):
                s = now_ns()
                if i and s > t_end:
                    break
                await exchange()
                samples.append(now_ns() - s)
            r = stats(samples, (now_ns() - t0) / 1e9)
            r["sends_per_frame"] = (cw.writes - writes0) / len(samples)
            return r
        finally:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (OSError, asyncio.TimeoutError):
                pass

    ok = False
    try:
        limit = WARMUP_MAX_S + a.max_seconds + 2 * SOCK_TIMEOUT
        r = asyncio.run(asyncio.wait_for(client(), limit))
        ok = True
        return r
    finally:
        reap(pid, ok)


# ---- the table ---------------------------------------------------------------------

def median_trial(trials):
    """The trial whose p99 is the median of the trials (the lower one of two)."""
    by = sorted(trials, key=lambda r: r["p99_us"])
    r = dict(by[(len(by) - 1) // 2])
    r["trials"] = len(by)
    return r


def py_rows(a):
    plan = []
    for nodelay in a.nodelay_values:
        for api, fn in (("send_frame", sync_row), ("asyncio", async_row)):
            if a.only and a.only != api:
                continue
            for b in a.bodies:
                plan.append((api, fn, b, nodelay))
    done = {k: [] for k in range(len(plan))}
    for t in range(a.trials):
        for k, (api, fn, b, nodelay) in enumerate(plan):
            log("python %s, %d B, TCP_NODELAY %s, trial %d of %d" % (
                api, b, "on" if nodelay else "off", t + 1, a.trials))
            try:
                done[k].append(fn(b, nodelay, a))
            except Exception as exc:  # noqa: BLE001 -- the row fails, the others run
                log("row python %s %d B nodelay %d trial %d failed: %r" % (api, b, nodelay, t + 1, exc))
                a.failed = True
    rows = []
    for k, (api, fn, b, nodelay) in enumerate(plan):
        if not done[k]:
            continue
        r = median_trial(done[k])
        r.update({"impl": "python", "api": api, "label": LABEL[api], "body": b,
                  "nodelay": nodelay, "exempt": bool(nodelay),
                  "server": "Python, same API (forked child)"})
        rows.append(r)
    return rows


def c_rows(a):
    if not a.c_bench:
        return []
    if a.only and a.only not in C_ORDER:
        return []
    cmd = [a.c_bench, "--json", "--exchanges", str(a.exchanges), "--warmup", str(a.warmup),
           "--max-seconds", str(a.max_seconds), "--trials", str(a.trials),
           "--bodies", ",".join(map(str, a.bodies))]
    if a.only:
        cmd += ["--only", a.only]
    if a.nodelay_values == [0]:
        cmd.append("--nagle-only")
    elif a.nodelay_values == [1]:
        cmd.append("--nodelay-only")
    log("C rows: " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=RUN_ALARM - 10)
    except subprocess.TimeoutExpired:
        log("the C benchmark timed out")
        a.failed = True
        return []
    if p.returncode:
        log("the C benchmark failed (exit %d); keeping the rows it printed" % p.returncode)
        a.failed = True
    return [json.loads(line) for line in p.stdout.decode().splitlines() if line.startswith("{")]


def verdict(r):
    if r["nodelay"]:
        return "(comparison)"
    if r["api"] == "one-small":
        return "exempt"
    return "MET" if r["median_us"] < MEDIAN_TARGET_US and r["p99_us"] < P99_TARGET_US else "**MISSED**"


def fnum(x):
    return "{:,.1f}".format(x) if x < 1000 else "{:,.0f}".format(x)


def render(rows, a, info):
    out = []
    out.append("Run of %(date)s on %(cpu)s, %(os)s (1-minute load average %(load)s at the start, "
               "%(load_end)s at the end); libframe commit %(commit)s; Python %(python)s, binding "
               "implementation `%(impl)s`." % info)
    out.append("")
    out.append("Reproduce: `%s`, which builds build/bench/reqrep and runs `%s`; recorded in "
               "bench/RESULTS.md and docs/BENCH.md by the same with "
               "`BENCH_REQREP_ARGS='--record bench/RESULTS.md --doc docs/BENCH.md'` (or `make "
               "bench-record`, which also reruns everything else)." % (a.command, a.python_command))
    out.append("")
    out.append("One request frame and one reply frame per exchange over TCP on 127.0.0.1, the "
               "client waiting for each reply; %d warm-up exchanges (at most %.1f s), then %d "
               "measured ones or as many as fit in %.2g s. Each row is measured %d times on a new "
               "connection, the rows taking turns, and the trial whose p99 is the median of the "
               "%d is shown. Time per exchange from before the "
               "request is written to after the reply is decoded (CLOCK_MONOTONIC). The echo "
               "server is a forked child using the same API as the client (C rows: the C API; "
               "(d): a Python echo server with recv_frame + send_frame; (e): an asyncio server). "
               "'sends/frame' is counted on the client: send()/sendmsg() calls per request frame "
               "(C: inside the transport callbacks, for (c) by a wrapper around sendmsg(); (d): "
               "socket sendall/sendmsg/send calls; (e): StreamWriter.write() calls)."
               % (a.warmup, WARMUP_MAX_S, a.exchanges, a.max_seconds / a.trials, a.trials, a.trials))
    out.append("")
    out.append("| API | body | TCP_NODELAY | exchanges | median µs | p99 µs | sends/frame (client) "
               "| target: median < 500 µs, p99 < 2 ms |")
    out.append("|---|--:|---|--:|--:|--:|--:|---|")
    key = lambda r: (r["nodelay"], ORDER.index(r["api"]) if r["api"] in ORDER else 99, r["body"])
    for r in sorted(rows, key=key):
        out.append("| %s | %s | %s | %d | %s | %s | %.2f | %s |" % (
            r["label"], "10 KiB" if r["body"] == 10240 else "%d B" % r["body"],
            "on, both ends" if r["nodelay"] else "off (Nagle on)", r["exchanges"],
            fnum(r["median_us"]), fnum(r["p99_us"]), r["sends_per_frame"], verdict(r)))
    out.append("")
    judged = [r for r in rows if not r["nodelay"] and r["api"] != "one-small"]
    missed = [r for r in judged if verdict(r) != "MET"]
    if not judged:
        out.append("Target: no Nagle-on row was measured.")
    elif not missed:
        out.append("Target MET: all %d Nagle-on rows (the too-small-buffer row excepted) have a "
                   "median under 0.5 ms and a p99 under 2 ms." % len(judged))
    else:
        out.append("Target **MISSED** by %d of %d Nagle-on rows:" % (len(missed), len(judged)))
        out.append("")
        for r in missed:
            twin = next((x for x in rows if x["nodelay"] and x["api"] == r["api"]
                         and x["body"] == r["body"]), None)
            if r["sends_per_frame"] > 1.01:
                why = ("writes each frame in %.2f calls: Nagle holds the second until the peer's "
                       "delayed ACK" % r["sends_per_frame"])
                if r["impl"] == "python":
                    why += " (the binding in this tree; rerun after its one-write-per-frame change)"
            elif twin and (twin["median_us"] >= MEDIAN_TARGET_US or twin["p99_us"] >= P99_TARGET_US):
                why = ("one write per frame, and the TCP_NODELAY row misses too (median %s µs, p99 "
                       "%s µs): not Nagle; the cost of the code, or other processes on the machine"
                       % (fnum(twin["median_us"]), fnum(twin["p99_us"])))
            elif r["median_us"] < MEDIAN_TARGET_US:
                why = ("one write per frame and a median far under the target: the slowest 1%% "
                       "of the exchanges waited, most likely for a CPU (1-minute load average %s "
                       "at the start, %s at the end, %d CPUs); rerun on a quieter machine"
                       % (info["load"], info.get("load_end", "?"), os.cpu_count() or 0))
            else:
                why = "one write per frame"
            out.append("- %s, %s: median %s µs, p99 %s µs; %s." % (
                r["label"].split(" ")[0], "10 KiB" if r["body"] == 10240 else "%d B" % r["body"],
                fnum(r["median_us"]), fnum(r["p99_us"]), why))
    if a.failed:
        out.append("")
        out.append("**Some rows failed** (see the messages on stderr); they are missing above.")
    return "\n".join(out) + "\n"


def machine_info():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "lib", "include", "posix",
                            "bindings/python/libframe", "bench/reqrep.c", "bench/reqrep_py.py"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": "%.2f" % os.getloadavg()[0],
            "cpu": "%s, %d CPUs" % (cpu or platform.machine(), os.cpu_count() or 0),
            "os": "%s %s" % (platform.system(), platform.release()),
            "commit": (commit or "?") + (" + uncommitted changes" if dirty else ""),
            "python": platform.python_version(), "impl": libframe.IMPLEMENTATION}


def replace_block(path, begin, end, block, heading):
    with open(path) as f:
        text = f.read()
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i + len(begin)] + "\n" + block + text[j:]
    else:
        text = text.rstrip("\n") + "\n\n" + heading + begin + "\n" + block + end + "\n"
    with open(path, "w") as f:
        f.write(text)
    log("recorded in " + path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--c-bench", default=None, help="build/bench/reqrep (the C rows); none: Python only")
    ap.add_argument("--exchanges", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=4.0,
                    help="measured time per row, at most (shared by its trials)")
    ap.add_argument("--trials", type=int, default=3,
                    help="trials per row (rows take turns); the trial with the median p99 is shown")
    ap.add_argument("--bodies", default="100,10240")
    ap.add_argument("--only", default=None, choices=ORDER)
    ap.add_argument("--nagle-only", action="store_true")
    ap.add_argument("--nodelay-only", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON lines instead")
    ap.add_argument("--record", default=None, help="write the section into this file (bench/RESULTS.md)")
    ap.add_argument("--doc", default=None, help="write the table into this file (docs/BENCH.md)")
    ap.add_argument("--command", default="make bench-reqrep",
                    help="the command printed as the way to reproduce the table")
    a = ap.parse_args()
    a.bodies = [int(x) for x in a.bodies.split(",") if x]
    a.nodelay_values = [0] if a.nagle_only else [1] if a.nodelay_only else [0, 1]
    a.failed = False
    # The command line that reproduces this table (without the recording options).
    argv, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if arg in ("--record", "--doc", "--command"):
            skip = True
            continue
        if arg.startswith(("--record=", "--doc=", "--command=")):
            continue
        argv.append(os.path.relpath(arg, REPO) if os.path.isabs(arg) and arg.startswith(REPO) else arg)
    extra = [x for i, x in enumerate(argv) if not (x == "--c-bench" or (i and argv[i - 1] == "--c-bench"))]
    if extra and a.command == "make bench-reqrep":
        a.command += " BENCH_REQREP_ARGS='%s'" % " ".join(extra)
    a.python_command = " ".join(["PYTHONPATH=bindings/python",
                                 "LIBFRAME_IMPL=%s" % os.environ["LIBFRAME_IMPL"],
                                 "python3", "bench/reqrep_py.py"] + argv)
    if a.exchanges < 1 or a.warmup < 0 or a.max_seconds <= 0 or not a.bodies or not 1 <= a.trials <= 9:
        ap.error("bad counts")

    signal.signal(signal.SIGALRM, on_run_alarm)
    signal.alarm(RUN_ALARM)
    t0 = time.monotonic()
    info = machine_info()
    rows = c_rows(a)
    rows += py_rows(a)
    signal.alarm(0)
    info["load_end"] = "%.2f" % os.getloadavg()[0]
    if a.json:
        for r in rows:
            print(json.dumps(r))
        return 1 if a.failed else 0
    text = render(rows, a, info)
    print(text)
    if a.record:
        replace_block(a.record, "<!-- reqrep:begin -->", "<!-- reqrep:end -->", text,
                      "## Request/reply over loopback (bench/reqrep.c, bench/reqrep_py.py)\n\n")
    if a.doc:
        replace_block(a.doc, "<!-- reqrep-results:begin -->", "<!-- reqrep-results:end -->", text,
                      "### Request/reply results\n\n")
    log("done in %.0f s" % (time.monotonic() - t0))
    return 1 if a.failed else 0


if __name__ == "__main__":
    sys.exit(main())
