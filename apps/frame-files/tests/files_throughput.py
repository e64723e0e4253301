#!/usr/bin/env python3
"""Upload throughput of frame-files against a raw socket copy, measured in
the same run (not part of make test; `make files-throughput` runs it).

    python3 examples/tests/files_throughput.py [options] BUILD_DIR

For each trial, in alternating order so that neither side always runs on a
warmer machine:
  raw      files_rawcopy: read() the source, send() it over 127.0.0.1, recv()
           into a buffer of the same size, write() it to a file, fsync() it
           (the baseline: no protocol, no checksum);
  raw-nofsync  the same without the fsync (an upper bound: not durable);
  crc32c   frame-files put SOURCE (CRC-32C computed on both sides);
  sha256   frame-files --checksum sha256 put SOURCE.
Every upload is complete only when the server has verified the checksum,
fsync'd the file, renamed it into place and fsync'd the directory, and the
client has the reply: that is what the frame-files figure times (the client's
whole run, login included). Before each run the previous output is deleted
and the page cache is synced, so each run starts from the same state.

The source is one file of --size random bytes (kept in the page cache by a
first read), the same for every run. Prints a table and, with --json, one
JSON object with every figure (the benchmark helper reads that).
Options: --size BYTES (default 1 GiB), --trials N (default 3), --buffer
BYTES (default 1 MiB, both programs), --sockbuf BYTES (default 4 MiB, both
programs; 0 = kernel autotuning), --dir DIR (a new directory is made in it
for the files and removed afterwards; default: the system's temporary
directory; give a tmpfs such as /dev/shm to leave the disk out), --json.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run_raw(build, src, dst, buffer, sockbuf, fsync=True, checksum="none"):
    cmd = [os.path.join(build, "files_rawcopy"), "--buffer", str(buffer), "--sockbuf", str(sockbuf),
           "--checksum", checksum]
    if fsync:
        cmd.append("--fsync")
    out = subprocess.run(cmd + [src, dst], capture_output=True, timeout=600, check=True).stdout
    r = json.loads(out)
    return r["bytes"] / r["seconds"]


def run_put(build, port, pwfile, src, name, buffer, sockbuf, algo):
    cmd = [os.path.join(build, "frame-files"), "-q", "-p", str(port), "-u", "bench", "--password-file", pwfile,
           "--buffer", str(buffer), "--sockbuf", str(sockbuf), "--checksum", algo, "put", src, name]
    t0 = time.monotonic()
    subprocess.run(cmd, timeout=600, check=True)
    return os.path.getsize(src) / (time.monotonic() - t0)


def measure(build, size=1 << 30, trials=3, buffer=1 << 20, sockbuf=4 << 20, workdir=None, log=print):
    """Runs the comparison; returns a dict of every figure (bytes/s)."""
    workdir = tempfile.mkdtemp(prefix="frame-files-bench-", dir=workdir)
    server = None
    try:
        src = os.path.join(workdir, "source")
        with open(src, "wb") as f:
            left = size
            while left:
                n = min(left, 1 << 24)
                f.write(os.urandom(n))
                left -= n
        with open(src, "rb") as f:
            while f.read(1 << 24):
                pass
        pwfile = os.path.join(workdir, "pw")
        with open(pwfile, "w") as f:
            f.write("benchmark password\n")
        root = os.path.join(workdir, "root")
        server = subprocess.Popen([os.path.join(build, "frame-files-server"), "-q", "--root", root, "--port", "0",
                                   "--kdf-iterations", "1000", "--buffer", str(buffer), "--sockbuf", str(sockbuf)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = server.stdout.readline().decode()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError("the server did not start: %r" % line)
        port = int(m.group(1))
        subprocess.run([os.path.join(build, "frame-files"), "-q", "-p", str(port), "-u", "bench", "--password-file",
                        pwfile, "register"], check=True, timeout=60)
        stored = os.path.join(root, "files", "bench", "up")
        raw_dst = os.path.join(workdir, "raw-copy")
        kinds = ["raw", "raw-nofsync", "crc32c", "sha256"]
        res = {k: [] for k in kinds}
        for t in range(trials):
            order = kinds if t % 2 == 0 else kinds[::-1]
            for k in order:
                for p in (stored, raw_dst):
                    if os.path.exists(p):
                        os.unlink(p)
                os.sync()
                if k.startswith("raw"):
                    v = run_raw(build, src, raw_dst, buffer, sockbuf, fsync=k == "raw")
                else:
                    v = run_put(build, port, pwfile, src, "up", buffer, sockbuf, k)
                res[k].append(v)
                log("  trial %d %-7s %8.1f MiB/s" % (t + 1, k, v / (1 << 20)))
        for p in (stored, raw_dst):
            if os.path.exists(p):
                os.unlink(p)
        out = {
            "size": size, "trials": trials, "buffer": buffer, "sockbuf": sockbuf,
            "raw_bytes_per_s": res["raw"], "raw_nofsync_bytes_per_s": res["raw-nofsync"],
            "crc32c_bytes_per_s": res["crc32c"], "sha256_bytes_per_s": res["sha256"],
        }
        for k in ("crc32c", "sha256"):
            ratios = [a / b for a, b in zip(res[k], res["raw"])]
            out[k + "_ratio_median"] = statistics.median(ratios)
            out[k + "_ratio_of_medians"] = statistics.median(res[k]) / statistics.median(res["raw"])
            out[k + "_ratio_to_nofsync_median"] = statistics.median(
                [a / b for a, b in zip(res[k], res["raw-nofsync"])])
        return out
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
            server.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("--size", type=int, default=1 << 30)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--buffer", type=int, default=1 << 20)
    ap.add_argument("--sockbuf", type=int, default=4 << 20)
    ap.add_argument("--dir")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    log = (lambda s: print(s, file=sys.stderr)) if a.json else print
    log("frame-files upload vs raw socket copy: %d MiB, buffer %d, sockbuf %d, %d trials" %
        (a.size >> 20, a.buffer, a.sockbuf, a.trials))
    r = measure(a.build, a.size, a.trials, a.buffer, a.sockbuf, a.dir, log)
    med = lambda k: statistics.median(r[k]) / (1 << 20)
    log("median: raw %.1f MiB/s, raw-nofsync %.1f MiB/s, crc32c %.1f MiB/s, sha256 %.1f MiB/s" %
        (med("raw_bytes_per_s"), med("raw_nofsync_bytes_per_s"), med("crc32c_bytes_per_s"),
         med("sha256_bytes_per_s")))
    log("ratio to raw (median of per-trial ratios): crc32c %.2f, sha256 %.2f" %
        (r["crc32c_ratio_median"], r["sha256_ratio_median"]))
    log("ratio to raw-nofsync:                      crc32c %.2f, sha256 %.2f" %
        (r["crc32c_ratio_to_nofsync_median"], r["sha256_ratio_to_nofsync_median"]))
    if a.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
