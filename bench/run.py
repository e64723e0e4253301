#!/usr/bin/env python3
"""Runs the whole libframe benchmark once and prints one table (docs/BENCH.md).

    make bench-run        (= python3 bench/run.py --build build/bench --repo .)

In one run, on one machine:
  1. wall clock: build/bench/bench on the full frame counts (best of --reps);
  2. instructions: the same binary under callgrind on fewer frames, counting
     only inside bench_measured() (--toggle-collect), one dump per row;
  3. the Python rows (bench/bench_py.py), wall clock, then under callgrind
     with a dump around each measured loop (--dump-before=getppid);
  4. loopback: a 1 GiB file over 127.0.0.1 (raw copy, libframe frames, the
     classic Python upload, and frame-files when it exists);
then writes the table to build/bench/results.md (--record FILE: also FILE) and
checks the targets of issue 7. --profile instead writes callgrind profiles of
libframe (per function, per source line) to build/bench/profile/.
"""

import argparse
import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

WORKLOADS = ["small", "medium", "large", "hostile-max", "hostile-members", "hostile-deep"]

# Frames per workload for each kind of run. Wall clock uses many frames;
# callgrind counts are exact per frame, so fewer do.
FRAMES = {
    "c_wall": {"small": 1000000, "medium": 50000, "large": 256, "hostile-max": 300,
               "hostile-members": 3000, "hostile-deep": 100},
    "c_cg": {"small": 20000, "medium": 2000, "large": 16, "hostile-max": 10,
             "hostile-members": 100, "hostile-deep": 5},
    "py_wall": {"small": 20000, "medium": 2000, "large": 16, "hostile-max": 20,
                "hostile-members": 100, "hostile-deep": 5},
    "py_cg": {"small": 1000, "medium": 100, "large": 2, "hostile-max": 2,
              "hostile-members": 5, "hostile-deep": 1},
}
QUICK_SCALE = 20  # --quick divides every count by this (at least 1 frame)

DESCRIPTION = {
    "small": "~50-byte canonical headers (3 members), 0-64-byte bodies",
    "medium": "~500-byte headers (20 members) with escapes and non-ASCII, 1 KiB bodies",
    "large": "small headers, 4 MiB bodies (1 GiB in total for the C rows)",
    "hostile-max": "the largest header SPEC.md allows: 512 members filling 65536 bytes",
    "hostile-members": "512 tiny members (the member limit), ~3.5 KB headers",
    "hostile-deep": "64 KiB headers nested to depth 32 (the limit) ~1000 times",
}
IMPL_ORDER = ["floor", "simdjson-utf8", "libframe", "cjson", "jansson", "jsonc", "simdjson-dom",
              "simdjson-ondemand", "py-native", "py-pure", "py-classic", "py-json", "memcpy"]
IMPL_NAME = {
    "floor": "floor (no validation)",
    "simdjson-utf8": "simdjson::validate_utf8 + floor (UTF-8 only)",
    "libframe": "**libframe**",
    "cjson": "cJSON",
    "jansson": "jansson",
    "jsonc": "json-c",
    "simdjson-dom": "simdjson DOM",
    "simdjson-ondemand": "simdjson On-Demand, every member",
    "py-native": "Python libframe (extension)",
    "py-pure": "Python libframe (pure)",
    "py-classic": "Python classic (struct + json.loads)",
    "py-json": "Python json.dumps + struct.pack",
    "memcpy": "memcpy of each 4 MiB body",
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run_lines(cmd, env=None):
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, env=env).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def frames_args(counts):
    args = []
    for w in WORKLOADS:
        args += ["--frames", "%s=%d" % (w, counts.get(w, 0))]
    return args


def key(r):
    return (r["kind"], r["workload"], r["impl"], r["feed"])


def dump_totals(prefix):
    """{dump number: Ir} for the callgrind dumps prefix.1, prefix.2, ..."""
    totals = {}
    for path in glob.glob(prefix + ".*"):
        suffix = path[len(prefix) + 1:]
        if not suffix.isdigit():
            continue
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    totals[int(suffix)] = int(line.split()[1])
                    break
    return totals


def clean_dumps(prefix):
    for path in glob.glob(prefix + "*"):
        os.remove(path)


# ---- the C rows ---------------------------------------------------------------

def c_rows(a, counts, reps, cg_counts):
    log("C rows, wall clock (best of %d)" % reps)
    rows = run_lines([a.bench, "--reps", str(reps)] + frames_args(counts) + a.only_args)
    log("C rows under callgrind")
    prefix = os.path.join(a.cgdir, "c")
    clean_dumps(prefix)
    cg = run_lines(["valgrind", "-q", "--tool=callgrind", "--collect-atstart=no",
                    "--toggle-collect=bench_measured", "--dump-after=bench_measured",
                    "--callgrind-out-file=" + prefix, a.bench, "--reps", "1"]
                   + frames_args(cg_counts) + a.only_args)
    totals = dump_totals(prefix)
    if len(totals) != len(cg):
        sys.exit("bench: %d callgrind dumps for %d rows" % (len(totals), len(cg)))
    ir = {key(r): totals[r["seq"] + 1] / r["frames"] for r in cg}
    cg_frames = {key(r): r["frames"] for r in cg}
    cg_simd = {key(r): r.get("simd") for r in cg}
    for r in rows:
        r["ir"] = ir.get(key(r))
        r["cg_frames"] = cg_frames.get(key(r))
        if r.get("simd") or cg_simd.get(key(r)):
            r["simd_cg"] = cg_simd.get(key(r))
    return rows


# ---- the Python rows ----------------------------------------------------------

def py_rows(a, counts, reps, cg_counts):
    script = os.path.join(a.repo, "bench", "bench_py.py")
    base = [script, "--bench", a.bench]
    log("Python rows, wall clock (best of %d)" % reps)
    rows = run_lines([sys.executable] + base + ["--reps", str(reps)]
                     + frames_args(counts) + a.py_only_args)
    log("Python rows under callgrind")
    prefix = os.path.join(a.cgdir, "py")
    clean_dumps(prefix)
    cg = run_lines(["valgrind", "-q", "--tool=callgrind", "--dump-before=getppid",
                    "--callgrind-out-file=" + prefix + ".%p", sys.executable] + base
                   + ["--reps", "1", "--marker"] + frames_args(cg_counts) + a.py_only_args)
    # Forked children (subprocess) run under valgrind until they exec: their
    # dumps carry their own pid. The script's own process has the most dumps.
    pids = {}
    for path in glob.glob(prefix + ".*.*"):
        pid = path[len(prefix) + 1:].split(".")[0]
        pids[pid] = pids.get(pid, 0) + 1
    totals = dump_totals("%s.%s" % (prefix, max(pids, key=pids.get))) if pids else {}
    for r in cg:
        n = 2 * r["seq"] + 2  # dumps: before marker 1 (setup), then loop, setup, loop...
        if n not in totals:
            sys.exit("bench: callgrind dump %d missing for the Python rows" % n)
    ir = {key(r): totals[2 * r["seq"] + 2] / r["frames"] for r in cg}
    cg_frames = {key(r): r["frames"] for r in cg}
    for r in rows:
        r["ir"] = ir.get(key(r))
        r["cg_frames"] = cg_frames.get(key(r))
    return rows


# ---- loopback -------------------------------------------------------------------

FF_SCRIPT = os.path.join("apps", "frame-files", "tests", "files_throughput.py")


def frame_files_script(repo):
    path = os.path.join(repo, FF_SCRIPT)
    return path if os.path.exists(path) else None


def frame_files_ready(a):
    need = ["frame-files", "frame-files-server", "files_rawcopy"]
    return a.examples and all(os.path.exists(os.path.join(a.examples, n)) for n in need)


def loopback_rows(a, size, reps):
    """My rows (bench/loopback.c raw and libframe frames, the classic Python
    upload), then frame-files' own comparison (apps/frame-files/tests/files_throughput.py,
    which times its raw copy and frame-files in alternation)."""
    tmp = os.path.join(a.build, "tmp")
    os.makedirs(tmp, exist_ok=True)
    src, dst = os.path.join(tmp, "src.bin"), os.path.join(tmp, "dst.bin")
    log("loopback: writing a %d MiB source file" % (size >> 20))
    block = os.urandom(1 << 20)
    with open(src, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)
    rows = []
    try:
        best = {}
        for _ in range(reps):  # interleaved, best of reps
            for mode in ("raw", "frame"):
                r = run_lines([a.loopback, mode, "--buffer", str(a.buffer), "--sockbuf",
                               str(a.sockbuf), src, dst])[0]
                if os.path.getsize(dst) != size:
                    sys.exit("bench: loopback %s copied %d bytes" % (mode, os.path.getsize(dst)))
                os.remove(dst)
                if mode not in best or r["seconds"] < best[mode]["seconds"]:
                    best[mode] = r
        rows += [best["raw"], best["frame"]]
        log("loopback: the classic Python upload (1024-byte chunks)")
        r = run_lines([sys.executable, os.path.join(a.repo, "bench", "classic_upload.py"), src, dst])[0]
        os.remove(dst)
        rows.append(r)
    finally:
        for p in (src, dst):
            if os.path.exists(p):
                os.remove(p)
    script = frame_files_script(a.repo)
    if not script or not frame_files_ready(a):
        rows.append({"mode": "frame-files", "pending": True, "script": script})
        return rows
    log("loopback: frame-files vs its raw copy (%s, %d trials)" % (os.path.relpath(script, a.repo),
                                                                   a.ff_trials))
    ffdir = os.path.join(tmp, "frame-files")
    shutil.rmtree(ffdir, ignore_errors=True)
    os.makedirs(ffdir)
    ff_log = os.path.join(a.build, "files_throughput.log")
    with open(ff_log, "wb") as errf:
        out = subprocess.run([sys.executable, script, a.examples, "--json", "--size", str(size),
                              "--trials", str(a.ff_trials), "--buffer", str(a.buffer),
                              "--sockbuf", str(a.sockbuf), "--dir", ffdir],
                             stdout=subprocess.PIPE, stderr=errf)
    shutil.rmtree(ffdir, ignore_errors=True)
    if out.returncode != 0:
        rows.append({"mode": "frame-files", "pending": True, "script": script,
                     "failed": "files_throughput.py exited with %d, see %s" % (
                         out.returncode, os.path.relpath(ff_log, a.repo))})
        return rows
    ff = json.loads(out.stdout.decode().strip().splitlines()[-1])
    med = lambda xs: sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs) // 2 - 1:len(xs) // 2 + 1]) / 2
    for mode, k in (("ff-raw", "raw_bytes_per_s"), ("ff-raw-nofsync", "raw_nofsync_bytes_per_s"),
                    ("frame-files-crc32c", "crc32c_bytes_per_s"),
                    ("frame-files-sha256", "sha256_bytes_per_s")):
        bps = med(ff[k])
        rows.append({"mode": mode, "bytes": ff["size"], "seconds": ff["size"] / bps,
                     "buffer": ff["buffer"], "trials": ff["trials"],
                     "ratio": ff.get(mode.split("-")[-1] + "_ratio_median")
                     if mode.startswith("frame-files") else None})
    return rows


# ---- the table --------------------------------------------------------------------

def fnum(x, digits=3):
    """A number with `digits` significant digits, thousands separated."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    mag = len(str(int(abs(x)))) if abs(x) >= 1 else 0
    decimals = max(0, digits - mag) if abs(x) >= 1 else digits
    if abs(x) < 1:
        decimals = max(digits, -int(("%e" % abs(x)).split("e")[1]) + digits - 1)
    return "{:,.{}f}".format(x, decimals)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fratio(x):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f×" % x
    if x >= 10:
        return "%.1f×" % x
    return "%.2f×" % x


def per_frame(r):
    return r["ns"] / r["frames"]


def impl_name(r):
    """The row's name; for simdjson, with the kernel it ran (libsimdjson picks
    one at run time, and valgrind's CPU, without AVX-512, may make it pick
    another than the wall-clock run did)."""
    name = IMPL_NAME.get(r["impl"], r["impl"])
    simd, simd_cg = r.get("simd"), r.get("simd_cg")
    if r["impl"] == "simdjson-ondemand":
        return name  # compiled in for one kernel: docs/BENCH.md
    if simd and simd_cg and simd != simd_cg:
        return "%s (%s; callgrind: %s)" % (name, simd, simd_cg)
    if simd or simd_cg:
        return "%s (%s)" % (name, simd or simd_cg)
    return name


def machine_info(a):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cc = subprocess.run(["cc", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    cc_version = cc.stdout.decode().splitlines()[0] if cc.returncode == 0 else "?"
    commit = subprocess.run(["git", "-C", a.repo, "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", a.repo, "status", "--porcelain", "--", "lib", "include"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(a.repo, "lib", "*"))) + [
            os.path.join(a.repo, "include", "frame.h")]:
        with open(path, "rb") as f:
            h.update(f.read())
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": "%s, %d CPUs" % (cpu or platform.machine(), os.cpu_count() or 0),
        "os": "%s %s" % (platform.system(), platform.release()),
        "cc": cc_version,
        "python": platform.python_version(),
        "commit": (commit or "?") + (" + uncommitted changes in lib/ or include/" if dirty else ""),
        "sources": h.hexdigest()[:12],
    }


def sort_rows(rows):
    return sorted(rows, key=lambda r: (0 if r["feed"] == "whole" else 1,
                                       IMPL_ORDER.index(r["impl"]) if r["impl"] in IMPL_ORDER else 99))


def decode_table(w, rows, out):
    dec = [r for r in rows if r["workload"] == w and r["kind"] in ("decode", "copy")]
    if not dec:
        return
    ref = {}
    for r in dec:
        if r["impl"] in ("floor", "libframe"):
            ref[(r["impl"], r["feed"])] = r
    c = [r for r in dec if not r["impl"].startswith("py-")]
    first = c[0] if c else dec[0]
    hdr_avg = first["header_bytes"] / first["frames"] if first["header_bytes"] else 0
    out.append("### Decoding: %s" % w)
    out.append("")
    out.append("%s. C rows: %s frames (%s bytes) for time, %s under callgrind; Python rows: "
               "%s frames. Average header %s bytes."
               % (DESCRIPTION[w], "{:,}".format(first["frames"]), "{:,}".format(first["bytes"]),
                  "{:,}".format(first.get("cg_frames") or 0),
                  "{:,}".format(next((r["frames"] for r in dec if r["impl"].startswith("py-")), 0)),
                  fnum(hdr_avg)))
    out.append("")
    out.append("| decoder | fed | ns/frame | MB/s | instr/frame | instr/header byte | ns/header byte "
               "| ns ÷ floor | instr ÷ floor | ns ÷ libframe | instr ÷ libframe |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in sort_rows(dec):
        feed = "whole" if r["feed"] == "whole" else "4 KiB"
        floor = ref.get(("floor", r["feed"]))
        lf = ref.get(("libframe", r["feed"]))
        hb = r["header_bytes"] / r["frames"] if r["header_bytes"] else None
        ns = per_frame(r)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            impl_name(r), feed if r["kind"] == "decode" else "–",
            fnum(ns), fnum(r["bytes"] / r["ns"] * 1e3), fnum(r.get("ir")),
            fnum(ratio(r.get("ir"), hb)) if r["kind"] == "decode" else "–",
            fnum(ratio(ns, hb)) if r["kind"] == "decode" else "–",
            fratio(ratio(ns, floor and per_frame(floor))),
            fratio(ratio(r.get("ir"), floor and floor.get("ir"))),
            fratio(ratio(ns, lf and per_frame(lf))),
            fratio(ratio(r.get("ir"), lf and lf.get("ir")))))
    out.append("")


def encode_table(w, rows, out):
    enc = [r for r in rows if r["workload"] == w and r["kind"] == "encode"]
    if not enc:
        return
    lf = next((r for r in enc if r["impl"] == "libframe"), None)
    out.append("### Encoding: %s" % w)
    out.append("")
    out.append("The same members as the decode workload, body included, into memory. C rows: %s "
               "frames; Python rows: %s." % (
                   "{:,}".format(next((r["frames"] for r in enc if not r["impl"].startswith("py-")), 0)),
                   "{:,}".format(next((r["frames"] for r in enc if r["impl"].startswith("py-")), 0))))
    out.append("")
    out.append("| encoder | ns/frame | MB/s | instr/frame | ns ÷ libframe | instr ÷ libframe |")
    out.append("|---|--:|--:|--:|--:|--:|")
    names = {"libframe": "**libframe** builder + frame_write", "cjson": "cJSON (PrintPreallocated)",
             "jansson": "jansson (json_dumpb)", "py-pure": "Python libframe (pure) encode",
             "py-native": "Python libframe (extension) encode"}
    for r in sort_rows(enc):
        ns = per_frame(r)
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            names.get(r["impl"], IMPL_NAME.get(r["impl"], r["impl"])), fnum(ns),
            fnum(r["bytes"] / r["ns"] * 1e3), fnum(r.get("ir")),
            fratio(ratio(ns, lf and per_frame(lf))), fratio(ratio(r.get("ir"), lf and lf.get("ir")))))
    out.append("")


def loopback_table(rows, out):
    if not rows:
        return
    by = {r["mode"]: r for r in rows}

    def mbs(r):
        return r and not r.get("pending") and r["bytes"] / r["seconds"] / 1e6

    out.append("### Loopback: a file over TCP on 127.0.0.1")
    out.append("")
    out.append("A file of %s bytes in the page cache is sent to a receiver that writes it to a file; "
               "buffers of %s bytes and socket buffers of %s bytes on both sides. Time from connect() to the receiver's answer. "
               "bench/loopback.c rows: best of %d; frame-files rows: median of the trials of "
               "apps/frame-files/tests/files_throughput.py, which alternates its raw copy and frame-files "
               "uploads (fsync'd, like frame-files' server)." % (
                   "{:,}".format(by["raw"]["bytes"]) if "raw" in by else "?",
                   "{:,}".format(ARGS.buffer), "{:,}".format(ARGS.sockbuf), ARGS.loop_reps))
    out.append("")
    out.append("| transfer | checksum | fsync | MB/s | ÷ raw copy |")
    out.append("|---|---|---|--:|--:|")
    spec = [
        ("ff-raw", "raw socket copy (files_rawcopy)", "–", "yes", "ff-raw"),
        ("frame-files-crc32c", "**frame-files upload**", "CRC-32C", "yes", "ff-raw"),
        ("frame-files-sha256", "**frame-files upload**", "SHA-256", "yes", "ff-raw"),
        ("ff-raw-nofsync", "raw socket copy (files_rawcopy)", "–", "no", "ff-raw-nofsync"),
        ("raw", "raw socket copy (bench/loopback.c)", "–", "no", "raw"),
        ("frame", "libframe frames (bench/loopback.c, 1 frame per buffer)", "–", "no", "raw"),
        ("classic-python", "classic Python upload (struct + json.dumps, 1024-byte chunks)", "–", "no",
         "raw"),
    ]
    for mode, name, ck, fs, base in spec:
        r = by.get(mode)
        if r is None:
            continue
        out.append("| %s | %s | %s | %s | %s |" % (name, ck, fs, fnum(mbs(r)),
                                                  fratio(ratio(mbs(r), mbs(by.get(base))))))
    pend = by.get("frame-files")
    if pend and pend.get("pending"):
        out.append("| **frame-files upload** | CRC-32C | yes | **pending** | – |")
        out.append("")
        out.append("frame-files: pending (%s)." % (
            pend.get("failed") or ("apps/frame-files/tests/files_throughput.py or the frame-files "
                                   "binaries are not there yet; `make apps` builds them")))
    out.append("")


# ---- targets ----------------------------------------------------------------------

def find(rows, kind, w, impl, feed="whole"):
    return next((r for r in rows if key(r) == (kind, w, impl, feed)), None)


def targets(rows, loop):
    """[(target, measured, verdict)] for the targets of issue 7."""
    t = []

    def verdict(ok):
        return "n/a" if ok is None else ("MET" if ok else "MISSED")

    def verdict2(ok_time, ok_instr):
        """A time target, with the instruction count as a second, noise-free opinion."""
        if ok_instr is None or ok_time is None or ok_time == ok_instr:
            return verdict(ok_time)
        return "%s by time, %s by instructions" % (verdict(ok_time), verdict(ok_instr))

    for feed in ("whole", "4k"):
        fed = "whole" if feed == "whole" else "in 4 KiB chunks"
        lf = find(rows, "decode", "small", "libframe", feed)
        fl = find(rows, "decode", "small", "floor", feed)
        cj = find(rows, "decode", "small", "cjson", feed)
        pc = find(rows, "decode", "small", "py-classic", feed)
        pp = find(rows, "decode", "small", "py-pure", feed)
        if not lf:
            continue
        ir = lf.get("ir")
        t.append(("small, %s: ≤ 400 instructions/frame, full validation" % fed,
                  "%s instr/frame" % fnum(ir), verdict(ir is not None and ir <= 400)))
        fr = ratio(ir, fl and fl.get("ir"))
        t.append(("small, %s: under 5× the no-validation floor (instructions)" % fed,
                  "%s (floor %s instr/frame)" % (fratio(fr), fnum(fl and fl.get("ir"))),
                  verdict(None if fr is None else fr < 5)))
        sp = ratio(cj and per_frame(cj), per_frame(lf))
        spi = ratio(cj and cj.get("ir"), ir)
        t.append(("small, %s: ≥ 10× faster than the cJSON decoder" % fed,
                  "%s by time, %s by instructions" % (fratio(sp), fratio(spi)),
                  verdict2(None if sp is None else sp >= 10, None if spi is None else spi >= 10)))
        for peer, name in ((pc, "the classic Python loop (struct + json.loads)"),
                           (pp, "libframe's pure-Python codec")):
            sp = ratio(peer and per_frame(peer), per_frame(lf))
            spi = ratio(peer and peer.get("ir"), ir)
            t.append(("small, %s: ≥ 100× faster than %s" % (fed, name),
                      "%s by time, %s by instructions" % (fratio(sp), fratio(spi)),
                      verdict2(None if sp is None else sp >= 100, None if spi is None else spi >= 100)))
    med = find(rows, "decode", "medium", "libframe")
    med_ns_b = med and per_frame(med) / (med["header_bytes"] / med["frames"])
    med_ir_b = med and med.get("ir") and med["ir"] / (med["header_bytes"] / med["frames"])
    for feed in ("whole", "4k"):
        m = find(rows, "decode", "medium", "libframe", feed)
        if m and m.get("ir"):
            v = m["ir"] / (m["header_bytes"] / m["frames"])
            t.append(("medium headers, %s: ≤ 6 instructions per header byte" %
                      ("whole" if feed == "whole" else "4 KiB chunks"),
                      "%s instr/byte" % fnum(v), verdict(v <= 6)))
    for w in ("hostile-max", "hostile-members", "hostile-deep"):
        h = find(rows, "decode", w, "libframe")
        if not h or not med:
            continue
        ns_b = per_frame(h) / (h["header_bytes"] / h["frames"])
        ir_b = h.get("ir") and h["ir"] / (h["header_bytes"] / h["frames"])
        r_ns, r_ir = ratio(ns_b, med_ns_b), ratio(ir_b, med_ir_b)
        t.append(("%s: time per header byte within 3× of medium" % w,
                  "%s ns/byte = %s medium's (instructions: %s instr/byte = %s)" % (
                      fnum(ns_b), fratio(r_ns), fnum(ir_b), fratio(r_ir)),
                  verdict2(None if r_ns is None else r_ns <= 3, None if r_ir is None else r_ir <= 3)))
    mc = find(rows, "copy", "large", "memcpy")
    for feed in ("whole", "4k"):
        lf = find(rows, "decode", "large", "libframe", feed)
        fl = find(rows, "decode", "large", "floor", feed)
        if lf and mc:
            share = per_frame(lf) / per_frame(mc)
            if feed == "whole":
                t.append(("large, fed whole: decoding overhead per 4 MiB body < 0.1% of its memcpy "
                          "(zero copy)",
                          "%s ns vs %s ns = %.4f%% (%s instr/frame)" % (
                              fnum(per_frame(lf)), fnum(per_frame(mc)), 100 * share, fnum(lf.get("ir"))),
                          verdict(share < 0.001)))
            else:
                t.append(("large, fed in 4 KiB chunks (for information: 1024 frame_feed calls per body)",
                          "%s ns = %.2f%% of the memcpy; the floor loop's 1024 calls: %.2f%%" % (
                              fnum(per_frame(lf)), 100 * share,
                              100 * per_frame(fl) / per_frame(mc) if fl else float("nan")),
                          "info"))
    lf = find(rows, "encode", "small", "libframe")
    cj = find(rows, "encode", "small", "cjson")
    if lf and cj:
        sp = ratio(per_frame(cj), per_frame(lf))
        spi = ratio(cj.get("ir"), lf.get("ir"))
        t.append(("encoding small frames: ≥ 5× faster than the cJSON encoder",
                  "%s by time, %s by instructions" % (fratio(sp), fratio(spi)),
                  verdict2(sp >= 5, None if spi is None else spi >= 5)))
    by = {r["mode"]: r for r in loop}
    ff = by.get("frame-files-crc32c")
    if ff:
        sha = by.get("frame-files-sha256")
        raw = by.get("ff-raw")
        rom = raw and (ff["bytes"] / ff["seconds"]) / (raw["bytes"] / raw["seconds"])
        t.append(("file transfer over loopback: ≥ 70% of the raw socket copy, checksum included",
                  "CRC-32C: %.0f%% of the raw copy by the median of per-trial ratios, %.0f%% by the "
                  "ratio of medians (SHA-256: %.0f%%); both fsync 1 GiB, which dominates here" % (
                      100 * ff["ratio"], 100 * (rom or float("nan")),
                      100 * (sha["ratio"] if sha else float("nan"))),
                  verdict2(ff["ratio"] >= 0.70, None if rom is None else rom >= 0.70)
                  .replace("by instructions", "by the ratio of medians")))
        cl = by.get("classic-python")
        sp = cl and (ff["bytes"] / ff["seconds"]) / (cl["bytes"] / cl["seconds"])
        t.append(("file transfer over loopback: ≥ 10× the classic Python upload",
                  "%s (frame-files fsyncs, the classic upload does not)" % fratio(sp),
                  verdict(None if sp is None else sp >= 10)))
    elif loop:
        t.append(("file transfer over loopback: ≥ 70% of the raw copy, checksum included", "pending", "pending"))
        t.append(("file transfer over loopback: ≥ 10× the classic Python upload", "pending", "pending"))
    return t


def headline(a, info, rows, loop):
    """The short form for docs/BENCH.md: libframe against each peer per
    workload (fed whole), then the targets."""
    out = ["Run of %(date)s on %(cpu)s, libframe commit %(commit)s." % info, ""]
    peers = [("cjson", "cJSON"), ("jansson", "jansson"), ("jsonc", "json-c"),
             ("simdjson-dom", "simdjson DOM"), ("simdjson-ondemand", "simdjson On-Demand (every member)"),
             ("simdjson-utf8", "validate_utf8 only"), ("py-classic", "Python classic")]
    out.append("| workload (fed whole) | libframe ns/frame | instr/frame | instr/header byte "
               "| ÷ floor (instr) | %s |" % " | ".join("%s ÷ libframe" % n for _, n in peers))
    out.append("|---|--:|--:|--:|--:|%s" % ("--:|" * len(peers)))
    for w in WORKLOADS:
        lf = find(rows, "decode", w, "libframe")
        if not lf:
            continue
        fl = find(rows, "decode", w, "floor")

        def vs(impl):
            r = find(rows, "decode", w, impl)
            if not r:
                return "–"
            return "%s time, %s instr" % (fratio(ratio(per_frame(r), per_frame(lf))),
                                          fratio(ratio(r.get("ir"), lf.get("ir"))))
        hb = lf["header_bytes"] / lf["frames"]
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            w, fnum(per_frame(lf)), fnum(lf.get("ir")), fnum(ratio(lf.get("ir"), hb)),
            fratio(ratio(lf.get("ir"), fl and fl.get("ir"))), " | ".join(vs(p) for p, _ in peers)))
    for w in ("small", "medium"):
        lf = find(rows, "encode", w, "libframe")
        cj = find(rows, "encode", w, "cjson")
        if lf and cj:
            out.append("| encoding %s | %s | %s | – | – | %s time, %s instr |%s" % (
                w, fnum(per_frame(lf)), fnum(lf.get("ir")),
                fratio(ratio(per_frame(cj), per_frame(lf))), fratio(ratio(cj.get("ir"), lf.get("ir"))),
                " – |" * (len(peers) - 1)))
    out.append("")
    tg = targets(rows, loop)
    if tg:
        out.append("| target | measured | verdict |")
        out.append("|---|---|---|")
        for name, measured, verdict in tg:
            out.append("| %s | %s | %s |" % (name, measured, "**%s**" % verdict if "MISSED" in verdict else verdict))
        out.append("")
    return "\n".join(out)


def update_doc(path, block):
    """Replaces the text between the bench markers of `path`."""
    begin, end = "<!-- bench-results:begin -->", "<!-- bench-results:end -->"
    with open(path) as f:
        text = f.read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        log("%s has no %s ... %s markers; not updated" % (path, begin, end))
        return
    with open(path, "w") as f:
        f.write(text[:i + len(begin)] + "\n" + block + "\n" + text[j:])


def render(a, info, rows, loop):
    out = ["# libframe benchmark results", ""]
    out.append("One run of `make bench-run` on one machine: every figure below comes from the same "
               "run, so compare them as ratios. Times are best of %d (C) / %d (Python) runs; "
               "instructions are counted by `valgrind --tool=callgrind` inside the measured loop only "
               "(exact per frame, unaffected by the noise of a shared machine)." % (a.reps, a.py_reps))
    out.append("")
    out.append("- date: %(date)s; CPU: %(cpu)s; OS: %(os)s" % info)
    out.append("- compiler: %(cc)s, `-O2 -g`; Python %(python)s; libframe commit %(commit)s "
               "(sha256 of lib/* and include/frame.h: %(sources)s)" % info)
    out.append("- 'ns ÷ X' = this row's time per frame divided by X's (above 1: slower than X); "
               "'instr ÷ X' likewise for instructions. MB/s counts every byte of the stream "
               "(prefixes, headers, bodies).")
    out.append("")
    tg = targets(rows, loop)
    if tg:
        out.append("## Targets")
        out.append("")
        out.append("| target | measured | verdict |")
        out.append("|---|---|---|")
        for name, measured, verdict in tg:
            out.append("| %s | %s | %s |" % (name, measured, "**%s**" % verdict if "MISSED" in verdict else verdict))
        out.append("")
    out.append("## Decoding")
    out.append("")
    out.append("Every C peer runs behind the same framing loop (bench/peers.c) and reads the size member; "
               "simdjson On-Demand reads every member (it checks only what it reads). simdjson's DOM "
               "parser and On-Demand pay a copy of each header into a padded buffer. In parentheses: "
               "the simdjson kernel of the wall-clock run, and of the callgrind run where it differs "
               "(valgrind's CPU has no AVX-512); On-Demand is compiled for one kernel (haswell where "
               "the CPU has AVX2). See docs/BENCH.md.")
    out.append("")
    for w in WORKLOADS:
        decode_table(w, rows, out)
    out.append("## Encoding")
    out.append("")
    for w in WORKLOADS:
        encode_table(w, rows, out)
    if loop:
        out.append("## Loopback")
        out.append("")
        loopback_table(loop, out)
    out.append("Reproduce: `make bench-run` (tables in build/bench/results.md, raw rows in "
               "build/bench/rows.json); see docs/BENCH.md.")
    return "\n".join(out) + "\n"


# ---- profiles ---------------------------------------------------------------------

def parse_callgrind(path):
    """Self cost per function and per (file, line), and inclusive cost per
    function, from an uncompressed callgrind dump (--compress-strings=no
    --compress-pos=no; positions "instr line" or "line")."""
    fn_self, fn_incl, line_self = {}, {}, {}
    fl = fi = fn = None
    after_calls = False
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            c = line[0]
            if c.isdigit() or c in "+-*" or line.startswith("0x"):
                parts = line.split()
                ir = int(parts[-1]) if len(parts) >= 2 else 0
                lineno = int(parts[-2]) if len(parts) >= 3 else int(parts[0])
                if after_calls:
                    fn_incl[fn] = fn_incl.get(fn, 0) + ir
                    after_calls = False
                    continue
                fn_self[fn] = fn_self.get(fn, 0) + ir
                fn_incl[fn] = fn_incl.get(fn, 0) + ir
                k = (fi or fl, lineno)
                line_self[k] = line_self.get(k, 0) + ir
                continue
            keyw, _, val = line.partition("=")
            if keyw == "fl":
                fl, fi = val, None
            elif keyw in ("fi", "fe"):
                fi = val
            elif keyw == "fn":
                fn, fi = "%s:%s" % (os.path.basename(fl or "?"), val), None
            elif keyw == "calls":
                after_calls = True
    return fn_self, fn_incl, line_self


def source_line(path, lineno, cache={}):
    if path not in cache:
        try:
            with open(path, errors="replace") as f:
                cache[path] = f.read().splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""


def annotate(dump, frames, repo, top=40):
    fn_self, fn_incl, line_self = parse_callgrind(dump)
    total = sum(fn_self.values())
    out = ["total %s instructions, %s per frame (%d frames)" % (
        "{:,}".format(total), fnum(total / frames), frames), "",
        "self cost per function (instr/frame, share):"]
    for name, ir in sorted(fn_self.items(), key=lambda x: -x[1]):
        if ir / total < 0.002:
            break
        out.append("  %10s  %5.1f%%  %s  (inclusive %s)" % (
            fnum(ir / frames), 100.0 * ir / total, name, fnum(fn_incl.get(name, 0) / frames)))
    out += ["", "self cost per source line, top %d (instr/frame, share):" % top]
    for (path, lineno), ir in sorted(line_self.items(), key=lambda x: -x[1])[:top]:
        shown = os.path.relpath(path, repo) if path and path.startswith(repo) else path
        out.append("  %10s  %5.1f%%  %s:%d  %s" % (fnum(ir / frames), 100.0 * ir / total, shown,
                                                   lineno, source_line(path, lineno)[:90]))
    return "\n".join(out) + "\n"


def build_snapshot(a, pdir):
    """Builds the bench binary from a copy of lib/ and include/ taken now, so
    that the per-line profile matches the source it shows even while lib/ is
    being edited."""
    src = os.path.join(pdir, "src")
    obj = os.path.join(pdir, "obj")
    for d in (src, obj):
        shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(os.path.join(a.repo, "lib"), os.path.join(src, "lib"))
    shutil.copytree(os.path.join(a.repo, "include"), os.path.join(src, "include"))
    shutil.copytree(os.path.join(a.repo, "bench"), os.path.join(src, "bench"),
                    ignore=shutil.ignore_patterns("*.py", "*.md", "*.mk", "__pycache__"))
    os.makedirs(obj)
    cflags = a.cflags.split() + ["-std=c99", "-I" + os.path.join(src, "include"),
                                 "-I" + os.path.join(src, "bench")]
    objs = []
    for c in sorted(glob.glob(os.path.join(src, "lib", "*.c"))) + [
            os.path.join(src, "bench", n) for n in ("bench.c", "workload.c", "peers.c", "peer_jsonc.c",
                                                    "peer_simdjson.cpp")]:
        base, ext = os.path.splitext(os.path.basename(c))
        o = os.path.join(obj, os.path.basename(os.path.dirname(c)) + "-" + base + ".o")
        if ext == ".cpp":
            cmd = [a.cxx, "-std=c++17"] + a.cflags.split() + a.cxxflags.split() + [
                "-I" + os.path.join(src, "bench")]
        else:
            cmd = [a.cc] + cflags
        subprocess.run(cmd + ["-c", c, "-o", o], check=True)
        objs.append(o)
    binary = os.path.join(pdir, "bench")
    subprocess.run([a.cxx, "-Wl,-z,now", "-o", binary] + objs
                   + ["-lcjson", "-ljansson", "-ljson-c", "-lsimdjson"], check=True)
    return binary, src


def profile(a):
    """Callgrind profiles of libframe's rows, per function and per line."""
    pdir = os.path.join(a.build, "profile")
    os.makedirs(pdir, exist_ok=True)
    log("building a snapshot of lib/ for profiling")
    bench, src = build_snapshot(a, pdir)
    prefix = os.path.join(pdir, "cg")
    clean_dumps(prefix)
    log("profiling libframe under callgrind")
    rows = run_lines(["valgrind", "-q", "--tool=callgrind", "--collect-atstart=no",
                      "--toggle-collect=bench_measured", "--dump-after=bench_measured",
                      "--compress-strings=no", "--compress-pos=no",
                      "--callgrind-out-file=" + prefix, bench, "--reps", "1",
                      "--only", a.only or "/libframe/"] + frames_args(a.counts["c_cg"]))
    summary = []
    for r in rows:
        dump = "%s.%d" % (prefix, r["seq"] + 1)
        name = "%s-%s-%s-%s" % (r["kind"], r["workload"], r["impl"], r["feed"])
        text = annotate(dump, r["frames"], src)
        path = os.path.join(pdir, name + ".txt")
        with open(path, "w") as f:
            f.write("# %s (bench/run.py --profile; callgrind dump %s)\n\n" % (name, dump) + text)
        summary.append("== %s\n%s" % (name, text))
        log("profile: %s" % path)
    with open(os.path.join(pdir, "all.txt"), "w") as f:
        f.write("\n".join(summary))
    log("all profiles: %s" % os.path.join(pdir, "all.txt"))


# ---- main -------------------------------------------------------------------------

ARGS = None


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/bench")
    ap.add_argument("--repo", default=".")
    ap.add_argument("--reps", type=int, default=3, help="wall-clock repetitions of the C rows")
    ap.add_argument("--py-reps", type=int, default=3, help="repetitions of the Python rows")
    ap.add_argument("--loop-reps", type=int, default=3, help="repetitions of the C loopback rows")
    ap.add_argument("--loop-size", type=int, default=1 << 30, help="loopback file size")
    ap.add_argument("--buffer", type=int, default=1 << 20, help="loopback buffer (frame-files' default)")
    ap.add_argument("--examples", default=None, help="build/apps (frame-files binaries)")
    ap.add_argument("--ff-trials", type=int, default=3, help="trials of files_throughput.py")
    ap.add_argument("--sockbuf", type=int, default=4 << 20, help="loopback SO_SNDBUF/SO_RCVBUF "
                    "(frame-files' default)")
    ap.add_argument("--quick", action="store_true", help="1/20 of the frames, 1 repetition, 64 MiB loopback")
    ap.add_argument("--skip", action="append", default=[], choices=["python", "loopback"])
    ap.add_argument("--only", default=None, help="only rows whose id (kind/workload/impl/feed) holds this")
    ap.add_argument("--record", default=None, help="also write the table to this file")
    ap.add_argument("--doc", default=None, help="with --record: update the summary in this file")
    ap.add_argument("--profile", action="store_true", help="write libframe profiles instead")
    ap.add_argument("--render-only", action="store_true",
                    help="no measuring: redo the tables from the last run's rows.json")
    ap.add_argument("--library", default=None, help="libframe.so.1 for the Python binding (copied)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"), help="compiler for --profile")
    ap.add_argument("--cflags", default="-O2 -g", help="CFLAGS for --profile")
    ap.add_argument("--cxx", default=os.environ.get("CXX", "g++"), help="C++ compiler for --profile "
                    "(bench/peer_simdjson.cpp, and the link)")
    ap.add_argument("--cxxflags", default="", help="more flags for bench/peer_simdjson.cpp with "
                    "--profile (bench.mk passes -march=haswell where the CPU has AVX2)")
    a = ap.parse_args()
    ARGS = a
    a.repo = os.path.abspath(a.repo)
    a.build = os.path.abspath(a.build)
    a.bench = os.path.join(a.build, "bench")
    a.loopback = os.path.join(a.build, "loopback")
    a.cgdir = os.path.join(a.build, "callgrind")
    a.examples = a.examples and os.path.abspath(a.examples)
    os.makedirs(a.cgdir, exist_ok=True)
    a.counts = {k: dict(v) for k, v in FRAMES.items()}
    if a.quick:
        for counts in a.counts.values():
            for w in counts:
                counts[w] = max(1, counts[w] // QUICK_SCALE)
        a.reps = a.py_reps = a.loop_reps = a.ff_trials = 1
        a.loop_size = 64 << 20
    a.only_args = ["--only", a.only] if a.only else []
    a.py_only_args = a.only_args
    if a.profile:
        profile(a)
        return
    if a.library:
        # A snapshot: the library may be rebuilt while the benchmark runs.
        snap = os.path.join(a.build, os.path.basename(a.library))
        shutil.copyfile(os.path.realpath(a.library), snap)
        os.environ["LIBFRAME_LIBRARY"] = snap
    if a.render_only:
        with open(os.path.join(a.build, "rows.json")) as f:
            saved = json.load(f)
        a.reps, a.py_reps = saved.get("reps", a.reps), saved.get("py_reps", a.py_reps)
        finish(a, saved["info"], saved["rows"], saved["loopback"], time.time())
        return
    t0 = time.time()
    info = machine_info(a)
    rows = c_rows(a, a.counts["c_wall"], a.reps, a.counts["c_cg"])
    if "python" not in a.skip:
        rows += py_rows(a, a.counts["py_wall"], a.py_reps, a.counts["py_cg"])
    loop = [] if "loopback" in a.skip else loopback_rows(a, a.loop_size, a.loop_reps)
    with open(os.path.join(a.build, "rows.json"), "w") as f:
        json.dump({"info": info, "rows": rows, "loopback": loop, "reps": a.reps,
                   "py_reps": a.py_reps}, f, indent=1)
    finish(a, info, rows, loop, t0)


def finish(a, info, rows, loop, t0):
    text = render(a, info, rows, loop)
    with open(os.path.join(a.build, "results.md"), "w") as f:
        f.write(text)
    if a.record:
        with open(a.record, "w") as f:
            f.write(text)
        if a.doc:
            update_doc(a.doc, headline(a, info, rows, loop))
    print(text)
    log("done in %.0f s: %s%s" % (time.time() - t0, os.path.join(a.build, "results.md"),
                                  " and " + a.record if a.record else ""))


if __name__ == "__main__":
    main()
