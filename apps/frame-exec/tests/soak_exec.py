#!/usr/bin/env python3
"""Soak test: one frame-exec-server holding thousands of connections (127.0.0.1).

usage: soak_exec.py path/to/frame-exec-server [--conns N] [--rounds R] [--max-header B]

1. starts the server, opens N connections (default 5000) and waits until the
   server holds them all; reports the server's memory per idle connection
   (VmRSS growth / N) and the kernel's TCP memory (/proc/net/sockstat);
2. every connection sends a request at once, then R-1 more, one after the
   other (default R=4); every reply is checked byte for byte; reports
   requests per second (each request runs a child process);
3. checks the server still holds every connection and answers a new one,
   then stops it with SIGTERM (exit status 0 expected).
Not part of `make test` (it takes about a minute); run `make soak-exec`.
"""
import os
import resource
import selectors
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exec_proto as P  # noqa: E402


def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def tcp_mem_pages():
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("mem") + 1])
    return -1


def cpu_seconds(pid):
    """(own user+system, reaped children's user+system) CPU seconds of pid."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(f[11]) + int(f[12])) / tick, (int(f[13]) + int(f[14])) / tick


def slab_kib():
    for line in open("/proc/meminfo"):
        if line.startswith("Slab:"):
            return int(line.split()[1])
    return -1


def main():
    binary = sys.argv[1]
    n = arg("--conns", 5000)
    rounds = arg("--rounds", 4)
    max_header = arg("--max-header", 4096)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= want, "cannot raise the fd limit to %d" % want

    # All connections come from 127.0.0.1 and sit idle before their first
    # request: lift the per-address cap and the time to authenticate.
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(FRAME_EXEC_TOKEN=P.TOKEN, HOME="/tmp")
    srv = P.Server(binary, "--max-conns", str(n + 100), "--max-conns-per-addr", str(n + 100),
                   "--auth-timeout", "600", "--idle-timeout", "600", "--max-header",
                   str(max_header), "-q", env=env)
    try:
        base_fds = P.fd_count(srv.pid)
        print("load average before: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])
        rss0, mem0, slab0 = rss_kib(srv.pid), tcp_mem_pages(), slab_kib()
        t0 = time.monotonic()
        socks = []
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            socks.append(s)
        P.wait_for(lambda: P.fd_count(srv.pid) >= base_fds + n, "the server to accept %d connections" % n, 60)
        t_conn = time.monotonic() - t0
        time.sleep(0.5)  # let the numbers settle before reading them (a measurement, not a test)
        rss1, mem1, slab1 = rss_kib(srv.pid), tcp_mem_pages(), slab_kib()
        per_conn = (rss1 - rss0) * 1024.0 / n
        print("connections held: %d (opened and accepted in %.2f s)" % (n, t_conn))
        print("server VmRSS: %d KiB before, %d KiB with %d idle connections: %.0f bytes per connection"
              % (rss0, rss1, n, per_conn))
        print("kernel: TCP buffer memory (sockstat) %d -> %d pages; slab %d -> %d KiB "
              "(both ends of every connection; the machine is shared, so approximate)"
              % (mem0, mem1, slab0, slab1))

        sel = selectors.DefaultSelector()
        state = {}
        for i, s in enumerate(socks):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
            state[i] = [0, P.FrameParser()]

        def req(i, r):
            return P.request(["printf", "%s", "c%d-r%d" % (i, r)])

        t0 = time.monotonic()
        cpu0 = cpu_seconds(srv.pid)
        for i, s in enumerate(socks):
            s.sendall(req(i, 0))
        done, total = 0, n * rounds
        deadline = time.monotonic() + 600
        while done < total:
            assert time.monotonic() < deadline, "only %d of %d replies" % (done, total)
            for key, _ in sel.select(1.0):
                i, s = key.data, key.fileobj
                data = s.recv(65536)
                assert data, "the server closed connection %d" % i
                for h, b in state[i][1].feed(data):
                    r = state[i][0]
                    assert P.split_reply(h, b) == (0, b"c%d-r%d" % (i, r), b""), (i, r, h, b)
                    done += 1
                    state[i][0] = r + 1
                    if r + 1 < rounds:
                        s.setblocking(True)
                        s.sendall(req(i, r + 1))
                        s.setblocking(False)
        elapsed = time.monotonic() - t0
        cpu1 = cpu_seconds(srv.pid)
        rss2 = rss_kib(srv.pid)
        print("requests: %d (%d per connection, every reply checked) in %.2f s: %.0f requests/s"
              % (total, rounds, elapsed, total / elapsed))
        print("CPU: server %.0f us per request; the commands (printf children) %.0f us per request"
              % ((cpu1[0] - cpu0[0]) * 1e6 / total, (cpu1[1] - cpu0[1]) * 1e6 / total))
        print("load average after: %s" % open("/proc/loadavg").read().split(" ", 3)[:3])
        print("server VmRSS after the requests: %d KiB" % rss2)
        assert P.fd_count(srv.pid) >= base_fds + n, "connections were dropped"
        h, b = srv.run(["echo", "still answering"])
        assert P.split_reply(h, b) == (0, b"still answering\n", b""), (h, b)
        print("after the run: all %d connections still held, a new client is answered" % n)
        sel.close()
        for s in socks:
            s.close()
        code, err = srv.stop()
        assert code == 0, (code, err)
        print("server stopped cleanly (SIGTERM, exit status 0)")
    finally:
        srv.kill()


if __name__ == "__main__":
    main()
