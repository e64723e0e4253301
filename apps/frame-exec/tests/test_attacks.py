#!/usr/bin/env python3
"""The attacks of issue 18 against frame-exec-server, each reproduced (127.0.0.1 only).

usage: test_attacks.py BUILD_DIR  (BUILD_DIR holds frame-exec-server and frame-exec)

Each test names the finding it covers (f02 = finding 2...). Every server and
program a test starts is killed by its cleanup; every wait is bounded.
"""
import os
import pwd
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import exec_proto as P  # noqa: E402

BIN = None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def procs_with(marker):
    """pids of the processes `sleep MARKER` (not the shells that name it)."""
    want = b"sleep\0" + marker.encode() + b"\0"
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if f.read() == want:
                        found.append(int(d))
            except OSError:
                pass
    return found


MARKERS = []


def marker():
    """A sleep duration no other process uses: '40.123457' (remembered, so
    that a cleanup can kill what a failing server left running)."""
    m = "%d.%06d" % (random.randint(40, 90), random.randint(0, 999999))
    MARKERS.append(m)
    return m


def make_cert(d, name="cert"):
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + "-key.pem")
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


def cgroup2_dir():
    """The cgroup v2 directory this process is in, when it may create a
    cgroup there (what the server's --cgroup auto needs), else None."""
    try:
        with open("/proc/self/cgroup") as f:
            rel = next((l[3:].strip() for l in f if l.startswith("0::")), None)
        with open("/proc/self/mountinfo") as f:
            mounts = [l.split() for l in f if " - cgroup2 " in l]
    except OSError:
        return None
    if rel is None or not mounts:
        return None
    root, mnt = mounts[0][3], mounts[0][4]
    if root != "/" and (rel == root or rel.startswith(root + "/")):
        rel = rel[len(root):]
    d = mnt + (rel if rel != "/" else "")
    probe = os.path.join(d, "frame-exec-test-probe.%d" % os.getpid())
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError:
        return None
    return d


CGROUP2 = cgroup2_dir()
NEEDS_CGROUP2 = unittest.skipUnless(CGROUP2, "no cgroup v2 this user may create cgroups in")
HAVE_127_0_0_2 = second_loopback()
NEEDS_127_0_0_2 = unittest.skipUnless(HAVE_127_0_0_2, "127.0.0.2 is not a usable loopback source here")

class Attacks(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="frame-exec-attacks-")
        self.env = {k: v for k, v in os.environ.items() if k not in ("FRAME_EXEC_TOKEN", "XDG_RUNTIME_DIR")}
        self.env["HOME"] = self.tmp
        self.tenv = dict(self.env, FRAME_EXEC_TOKEN=P.TOKEN)
        self.procs = []
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        while MARKERS:  # descendants a broken server let escape: by pid
            for pid in procs_with(MARKERS.pop()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            if isinstance(p, P.Server):
                p.kill()
                p.proc.stdout.close()
                p.proc.stderr.close()
                if CGROUP2:  # a killed server leaves its (empty) cgroups behind
                    base = os.path.join(CGROUP2, "frame-exec-server.%d" % p.pid)
                    for d in [os.path.join(base, n) for n in
                              (os.listdir(base) if os.path.isdir(base) else []) if n.startswith("cmd-")] + [base]:
                        try:
                            os.rmdir(d)
                        except OSError:
                            pass
            elif p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, *args, env=None):
        s = P.Server(os.path.join(BIN, "frame-exec-server"), *args, env=env or self.tenv)
        self.procs.append(s)
        return s

    def stderr_of(self, srv):
        srv.stop()
        return srv.proc.stderr.read().decode(errors="replace") if not srv.proc.stderr.closed else ""

    def client(self, *args, env=None, stdin=b""):
        return subprocess.run([os.path.join(BIN, "frame-exec")] + list(args), input=stdin,
                              capture_output=True, timeout=60, env=env or self.tenv)

    def sock(self, s):
        self.socks.append(s)
        return s

    # -- finding 2: connection slots --------------------------------------
    @NEEDS_127_0_0_2
    def test_f02_idle_connections_from_one_address_do_not_lock_out_others(self):
        srv = self.server("--max-conns", "40", "--max-conns-per-addr", "8", "--auth-timeout", "3")
        held = []
        for _ in range(40):  # the attacker: 127.0.0.2, no token, never sends
            held.append(self.sock(srv.connect_from("127.0.0.2", timeout=5)))
        refused = 0
        time.sleep(0.3)  # every refusal has been written
        for s in held:
            s.settimeout(0.05)
            try:
                h, _ = P.recv_frame(s)
                self.assertEqual(h["error"], "BUSY")
                refused += 1
            except socket.timeout:
                pass
        self.assertEqual(refused, 32, "only 8 connections of one address are held")
        t0 = time.monotonic()
        h, b = srv.run(["echo", "served"])
        self.assertEqual(P.split_reply(h, b), (0, b"served\n", b""))
        self.assertLess(time.monotonic() - t0, 2)
        # The 8 held ones are closed once their time to authenticate is over.
        for s in held:
            s.settimeout(10)
            try:
                while s.recv(4096):
                    pass
            except (ConnectionResetError, socket.timeout):
                self.fail("an unauthenticated connection was kept")
        self.assertLess(time.monotonic() - t0, 8)

    @NEEDS_127_0_0_2
    def test_f02_unauthenticated_connections_cost_little_memory(self):
        # One address in backoff opens 250 connections, each sending 64 KiB
        # that will not be parsed: the server reads 4 KiB of each at most.
        srv = self.server("--max-conns", "300", "--max-conns-per-addr", "300",
                          "--auth-backoff", "10000:10000", "--auth-timeout", "20")
        with srv.connect_from("127.0.0.2") as s:
            s.sendall(P.request(["id"], token="wrong-token-wrong-token"))
            self.assertEqual(P.recv_frame(s)[0]["error"], "UNAUTHORIZED")
        base = rss_kib(srv.pid)
        junk = struct.pack("<I", 4000) + b"{" + b" " * 65535
        for _ in range(250):
            s = self.sock(srv.connect_from("127.0.0.2", timeout=5))
            s.setblocking(False)
            try:
                s.send(junk)
            except BlockingIOError:
                pass
        time.sleep(1)
        grown = rss_kib(srv.pid) - base
        self.assertLess(grown, 250 * 8 + 2048, "RSS grew %d KiB for 250 connections" % grown)
        h, b = srv.run(["echo", "fine"])  # another address is served
        self.assertEqual(P.split_reply(h, b), (0, b"fine\n", b""))

    # -- finding 6: memory bound ------------------------------------------
    def test_f06_24_clients_that_never_read_keep_rss_bounded(self):
        srv = self.server("--max-procs", "2", "--max-output", "4M", "--max-conns-per-addr", "64",
                          "--idle-timeout", "30")
        srv.run(["true"])  # warm up
        base = rss_kib(srv.pid)
        for _ in range(24):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect(("127.0.0.1", srv.port))
            s.sendall(P.request(["head", "-c", "4194304", "/dev/zero"]))
            self.sock(s)  # never read
        peak, end = base, time.monotonic() + 4
        while time.monotonic() < end:
            peak = max(peak, rss_kib(srv.pid))
            time.sleep(0.1)
        bound = 2 * 4096 + 4096  # --max-procs x --max-output, plus 4 MiB of slack
        self.assertLess(peak - base, bound,
                        "RSS grew %d KiB (bound %d KiB)" % (peak - base, bound))
        for s in self.socks:
            s.close()
        self.socks = []
        h, b = srv.run(["echo", "after"])  # slots come back once the clients leave
        self.assertEqual(P.split_reply(h, b), (0, b"after\n", b""))

    # -- finding 7: escape from the time limit ----------------------------
    def test_f07_setsid_ignoring_term_killed_at_time_limit(self):
        srv = self.server()
        m = marker()
        t0 = time.monotonic()
        h, _ = srv.run(["sh", "-c", 'setsid sh -c "trap \\"\\" TERM; sleep %s" & sleep 100' % m],
                       timeout_ms=1000)
        self.assertTrue(h.get("timed_out"), h)
        self.assertLess(time.monotonic() - t0, 5)
        P.wait_for(lambda: not procs_with(m), "every descendant to be gone", 3)

    def test_f07_process_flood_killed_at_time_limit(self):
        srv = self.server()
        m = marker()
        h, _ = srv.run(["sh", "-c", "while :; do (setsid sleep %s &) ; done" % m], timeout_ms=700)
        self.assertTrue(h.get("timed_out"), h)
        P.wait_for(lambda: not procs_with(m), "every one of the flood to be gone", 5)
        h, b = srv.run(["echo", "next"])
        self.assertEqual(P.split_reply(h, b), (0, b"next\n", b""))

    def test_f07_double_fork_killed_when_client_leaves(self):
        srv = self.server()
        m = marker()
        s = srv.connect()
        s.sendall(P.request(["sh", "-c", '(setsid sh -c "sleep %s & sleep %s" &); sleep 100' % (m, m)]))
        P.wait_for(lambda: len(procs_with(m)) == 2, "the descendants to start", 5)
        s.close()  # the client leaves
        P.wait_for(lambda: not procs_with(m), "every descendant to be gone", 3)

    def test_f07_leftovers_end_with_the_command_and_slot(self):
        srv = self.server("--max-procs", "1")
        m = marker()
        h, b = srv.run(["sh", "-c", "setsid sleep %s > /dev/null 2>&1 & echo started" % m])
        self.assertEqual(P.split_reply(h, b), (0, b"started\n", b""))
        P.wait_for(lambda: not procs_with(m), "the leftover to be killed", 3)
        h, b = srv.run(["echo", "next"])  # the one slot is free again
        self.assertEqual(P.split_reply(h, b), (0, b"next\n", b""))

    @NEEDS_CGROUP2
    def test_f07_each_command_runs_in_a_cgroup_of_its_own(self):
        srv = self.server()
        base = "frame-exec-server.%d" % srv.pid
        seen = []
        for _ in range(2):
            code, out, _ = P.split_reply(*srv.run(["cat", "/proc/self/cgroup"]))
            self.assertEqual(code, 0)
            line = [l for l in out.decode().splitlines() if l.startswith("0::")]
            self.assertEqual(len(line), 1, out)
            parts = line[0][3:].split("/")
            self.assertEqual(parts[-2], base, line)
            self.assertTrue(parts[-1].startswith("cmd-"), line)
            seen.append(parts[-1])
        self.assertNotEqual(seen[0], seen[1])
        P.wait_for(lambda: not [n for n in os.listdir(os.path.join(CGROUP2, base)) if n.startswith("cmd-")],
                   "the commands' cgroups to be removed", 3)
        code, _ = srv.stop()
        self.assertEqual(code, 0)
        self.assertFalse(os.path.exists(os.path.join(CGROUP2, base)), "the server's cgroup is left")

    @NEEDS_CGROUP2
    def test_f07_a_command_that_kills_its_keeper_leaves_nothing_running(self):
        # The keeper cannot contain what outlives it; the cgroup can.
        srv = self.server("--max-procs", "1")
        m = marker()
        h, b = srv.run(["sh", "-c", "sleep %s > /dev/null 2>&1 & echo started; kill -9 $PPID" % m])
        self.assertIn(b"started", b)
        P.wait_for(lambda: not procs_with(m), "the process left by a killed keeper to be gone", 3)
        h, b = srv.run(["echo", "next"])  # the one slot is free again
        self.assertEqual(P.split_reply(h, b), (0, b"next\n", b""))

    def test_f07_cgroup_directory_that_is_not_cgroup2_refused(self):
        with self.assertRaises(RuntimeError) as e:
            self.server("--cgroup", self.tmp)
        self.assertIn("not on a cgroup v2 file system", str(e.exception))

    # -- finding 8: every local user trusted ------------------------------
    def test_f08_token_generated_into_private_file(self):
        srv = self.server(env=self.env)  # no token given at all
        path = os.path.join(self.tmp, ".frame-exec-token")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            token = f.read().strip()
        self.assertGreaterEqual(len(token), 32)
        with srv.connect() as s:
            s.sendall(P.request(["id"], token=None))
            self.assertEqual(P.recv_frame(s)[0]["error"], "UNAUTHORIZED")
        time.sleep(0.3)
        p = self.client("127.0.0.1:%d" % srv.port, "--", "echo", "mine", env=self.env)  # reads the file
        self.assertEqual((p.returncode, p.stdout), (0, b"mine\n"), p.stderr)
        code, err = srv.stop()
        self.assertIn(path, err)

    @unittest.skipUnless(os.geteuid() == 0, "needs root")
    def test_f08_user_drops_privileges(self):
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        srv = self.server("--user", "nobody")
        h, b = srv.run(["id", "-u"])
        self.assertEqual(P.split_reply(h, b), (0, b"%d\n" % nobody.pw_uid, b""))

    # -- finding 9: weak token handling -----------------------------------
    def test_f09_short_token_refused(self):
        p = subprocess.run([os.path.join(BIN, "frame-exec-server"), "--listen", "127.0.0.1:0",
                            "--token", "x"], capture_output=True, timeout=10, env=self.env)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"16", p.stderr)

    @NEEDS_127_0_0_2
    def test_f09_wrong_guesses_slowed_and_logged(self):
        srv = self.server("--auth-backoff", "200:5000", "--max-conns-per-addr", "64")
        t0 = time.monotonic()
        for i in range(5):  # one guesser, one address
            with srv.connect_from("127.0.0.2") as s:
                s.sendall(P.request(["id"], token="guess-%016d" % i))
                self.assertEqual(P.recv_frame(s)[0]["error"], "UNAUTHORIZED")
        slow = time.monotonic() - t0
        self.assertGreater(slow, 2.5, "5 guesses took %.2f s" % slow)  # 0.2+0.4+0.8+1.6
        t1 = time.monotonic()
        h, b = srv.run(["echo", "other"])  # another address is not slowed
        self.assertEqual(P.split_reply(h, b), (0, b"other\n", b""))
        self.assertLess(time.monotonic() - t1, 1)
        _, err = srv.stop()
        self.assertEqual(err.count("wrong token"), 5, err)

    def test_f09_token_not_in_command_environment_nor_ps(self):
        srv = self.server()  # token in FRAME_EXEC_TOKEN
        h, b = srv.run(["env"])
        self.assertNotIn(b"FRAME_EXEC_TOKEN", b)
        self.assertNotIn(P.TOKEN.encode(), b)
        srv2 = self.server("--token", P.TOKEN, env=self.env)
        with open("/proc/%d/cmdline" % srv2.pid, "rb") as f:
            self.assertNotIn(P.TOKEN.encode(), f.read())

    # -- finding 10: TLS ---------------------------------------------------
    def test_f10_tls(self):
        cert, key = make_cert(self.tmp)
        other, _ = make_cert(self.tmp, "other")
        srv = self.server("--tls-cert", cert, "--tls-key", key)
        addr = "127.0.0.1:%d" % srv.port
        p = self.client("--tls-ca", cert, addr, "--", "sh", "-c", "echo secret; echo e >&2")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"secret\n", b"e\n"))
        p = self.client("--tls-ca", cert, "-i", addr, "--", "wc", "-c", stdin=b"x" * 300000)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, b"300000"))
        p = self.client("--tls-ca", other, addr, "--", "true")  # an impostor's CA
        self.assertEqual(p.returncode, 255)
        self.assertIn(b"not trusted", p.stderr)
        p = self.client(addr, "--", "true")  # plain TCP to a TLS port
        self.assertEqual(p.returncode, 255)

    def test_f10_non_loopback_without_tls_refused(self):
        for extra in ([], ["--classic-listen", "0.0.0.0:0"]):
            p = subprocess.run([os.path.join(BIN, "frame-exec-server"), "--listen",
                                "0.0.0.0:0" if not extra else "127.0.0.1:0"] + extra,
                               capture_output=True, timeout=10, env=self.tenv)
            self.assertEqual(p.returncode, 2, p)
            self.assertIn(b"refusing", p.stderr)

    # -- finding 13: classic tutorial programs ------------------------------
    def tutorial_client(self, port, key, cmd):
        return subprocess.run([sys.executable, os.path.join(HERE, "tutorial_client.py"), str(port), key, cmd],
                              capture_output=True, timeout=30)

    def test_f13_tutorial_client_against_classic_listen(self):
        for key in ("size", "data_size"):
            srv = self.server("--classic-listen", "127.0.0.1:0", "--classic-key", key, "--time-limit", "1")
            p = self.tutorial_client(srv.classic_port, key, "echo out; echo err >&2")
            self.assertEqual((p.returncode, p.stdout), (0, b"out\nerr\n"), p.stderr)
            # An error (here the time limit) closes the connection: the
            # tutorial client fails loudly instead of printing nothing.
            p = self.tutorial_client(srv.classic_port, key, "sleep 5")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"struct.error", p.stderr)
            _, err = srv.stop()
            self.assertIn("no credentials", err)

    def test_f13_frame_exec_against_tutorial_server(self):
        for key in ("size", "data_size"):
            ts = subprocess.Popen([sys.executable, os.path.join(HERE, "tutorial_server.py"), key],
                                  stdout=subprocess.PIPE)
            self.procs.append(ts)
            port = int(ts.stdout.readline())
            p = self.client("--classic-key", key, "127.0.0.1:%d" % port, "--", "echo", "hello", "classic")
            self.assertEqual((p.returncode, p.stdout), (0, b"hello classic\n"), p.stderr)
            ts.kill()
            ts.wait(timeout=10)
            ts.stdout.close()


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
