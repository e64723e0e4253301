#!/usr/bin/env python3
"""Python rows of the libframe benchmark (run by bench/run.py).

Decoders, on the same streams as the C rows (read from `bench --dump-stream`),
fed whole and in 4 KiB chunks:
    py-pure      libframe.pure.Decoder (bindings/python, pure Python)
    py-native    libframe.native.Decoder (the C extension; `make python-ext` builds
                 it into build/python/site/, which is used when it is there)
    py-classic   the classic tutorial loop: struct.unpack + json.loads, with
                 the same size check the C peers make
Encoders, on the same records as the C rows (`bench --dump-records`):
    py-pure, py-native   libframe.pure.encode / libframe.native.encode
    py-json              json.dumps(ensure_ascii=False, separators=(',', ':'))
                         + struct.pack, the same bytes as libframe writes

Prints one JSON line per row, like bench/bench. With --marker, calls
os.getppid() right before and right after each measured loop, so that
`valgrind --tool=callgrind --dump-before=getppid` writes one dump per loop.
"""

import argparse
import gc
import json
import os
import struct
import subprocess
import sys
import time

CHUNK = 4096
MAX_SIZE = 2 ** 53 - 1

# The package with its C extension, as `make python-ext` builds it.
_SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "python", "site")
if os.path.isdir(os.path.join(_SITE, "libframe")):
    sys.path.insert(0, os.path.normpath(_SITE))

try:
    import libframe.pure as lf_pure
except ImportError:  # the binding is written concurrently; rows appear when it exists
    lf_pure = None
try:
    import libframe.native as lf_native
except ImportError as e:
    lf_native = None
    if lf_pure is not None:
        print("bench_py: no extension rows (make python-ext): %s" % e, file=sys.stderr)


def marker():
    os.getppid()


# ---- decoders ---------------------------------------------------------------

def decode_libframe(mod):
    def run(pieces):
        d = mod.Decoder()
        frames = body = 0
        for piece in pieces:
            for f in d.feed(piece):
                frames += 1
                body += len(f.body)
        d.finish()
        return frames, body
    return run


def classic(pieces):
    """A receive loop as the tutorials write it, over a buffer that chunks are
    appended to (one whole chunk when fed whole)."""
    unpack = struct.unpack_from
    loads = json.loads
    buf = bytearray()
    frames = body = 0
    hlen = size = -1
    for piece in pieces:
        buf += piece
        while True:
            if hlen < 0:
                if len(buf) < 4:
                    break
                (hlen,) = unpack("<I", buf, 0)
                del buf[:4]
            if size < 0:
                if len(buf) < hlen:
                    break
                header = loads(bytes(buf[:hlen]))
                del buf[:hlen]
                size = header["size"]
                if type(size) is not int or size < 0 or size > MAX_SIZE:
                    raise ValueError("bad size")
            if len(buf) < size:
                break
            data = bytes(buf[:size])
            del buf[:size]
            frames += 1
            body += len(data)
            hlen = size = -1
    if buf or hlen >= 0:
        raise ValueError("stream cut short")
    return frames, body


def classic_whole(pieces):
    """The same loop over one buffer, without copying it into a bytearray."""
    if len(pieces) != 1:
        return classic(pieces)
    buf = pieces[0]
    unpack = struct.unpack_from
    loads = json.loads
    off, end = 0, len(buf)
    frames = body = 0
    while off < end:
        (hlen,) = unpack("<I", buf, off)
        off += 4
        header = loads(buf[off:off + hlen])
        off += hlen
        size = header["size"]
        if type(size) is not int or size < 0 or size > MAX_SIZE:
            raise ValueError("bad size")
        data = buf[off:off + size]
        off += size
        frames += 1
        body += len(data)
    return frames, body


# ---- encoders ---------------------------------------------------------------

def encode_libframe(mod):
    def run(records):
        enc = mod.encode
        total = 0
        for header, body in records:
            total += len(enc(header, body))
        return total
    return run


def encode_json(records):
    dumps = json.dumps
    pack = struct.pack
    total = 0
    for header, body in records:
        h = dumps(dict(size=len(body), **header), ensure_ascii=False,
                  separators=(",", ":")).encode()
        total += len(pack("<I", len(h)) + h + body)
    return total


# ---- driver -----------------------------------------------------------------

def load_stream(bench, workload, frames):
    return subprocess.run([bench, "--dump-stream", workload, str(frames)], check=True,
                          stdout=subprocess.PIPE).stdout


def load_records(bench, workload, n):
    out = subprocess.run([bench, "--dump-records", workload, str(n)], check=True,
                         stdout=subprocess.PIPE).stdout
    bodies = {}
    records = []
    for line in out.splitlines():
        r = json.loads(line)
        size = r["body"]
        if size not in bodies:
            bodies[size] = bytes((i * 131 + 7) & 255 for i in range(size))
        records.append(({name: value for name, _type, value in r["m"]}, bodies[size]))
    return records


def measure(fn, arg, reps, use_marker):
    best = None
    result = None
    for _ in range(reps):
        gc.collect()
        if use_marker:
            marker()
        t0 = time.perf_counter_ns()
        result = fn(arg)
        t = time.perf_counter_ns() - t0
        if use_marker:
            marker()
        best = t if best is None else min(best, t)
    return best, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="the bench/bench.c binary")
    ap.add_argument("--frames", action="append", default=[], metavar="WORKLOAD=N")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--marker", action="store_true", help="call os.getppid() around each loop")
    ap.add_argument("--only", default=None, help="run rows whose id contains this")
    args = ap.parse_args()
    frames = {}
    for item in args.frames:
        name, _, n = item.partition("=")
        frames[name] = int(n)

    decoders = [("py-classic", classic_whole, classic)]
    encoders = [("py-json", encode_json)]
    if lf_pure is not None:
        decoders.insert(0, ("py-pure", decode_libframe(lf_pure), None))
        encoders.insert(0, ("py-pure", encode_libframe(lf_pure)))
    if lf_native is not None:
        decoders.insert(1, ("py-native", decode_libframe(lf_native), None))
        encoders.insert(1, ("py-native", encode_libframe(lf_native)))

    seq = 0

    def emit(kind, workload, impl, feed, n, nbytes, hbytes, ns):
        nonlocal seq
        print(json.dumps({"seq": seq, "kind": kind, "workload": workload, "impl": impl,
                          "feed": feed, "frames": n, "bytes": nbytes, "header_bytes": hbytes,
                          "reps": args.reps, "ns": ns}), flush=True)
        seq += 1

    def wanted(rid):
        return args.only is None or args.only in rid

    for workload, n in frames.items():
        if n <= 0:
            continue
        rows = [(impl, feed) for impl, _, _ in decoders for feed in ("whole", "4k")
                if wanted("decode/%s/%s/%s" % (workload, impl, feed))]
        if rows:
            data = load_stream(args.bench, workload, n)
            hbytes = nframes = off = 0
            while off < len(data):  # count frames and header bytes
                (hlen,) = struct.unpack_from("<I", data, off)
                size = json.loads(data[off + 4:off + 4 + hlen])["size"]
                off += 4 + hlen + size
                hbytes += hlen
                nframes += 1
            pieces = {"whole": [data],
                      "4k": [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]}
            for impl, feed in rows:
                fn = {name: (w, c) for name, w, c in decoders}[impl]
                fn = fn[0] if feed == "whole" or fn[1] is None else fn[1]
                ns, (got, _body) = measure(fn, pieces[feed], args.reps, args.marker)
                if got != nframes:
                    sys.exit("bench_py: %s decoded %d of %d frames" % (impl, got, nframes))
                emit("decode", workload, impl, feed, nframes, len(data), hbytes, ns)
            del pieces, data
        erows = [(impl, fn) for impl, fn in encoders
                 if wanted("encode/%s/%s/whole" % (workload, impl))]
        if erows and workload in ("small", "medium"):
            records = load_records(args.bench, workload, n)
            for impl, fn in erows:
                ns, total = measure(fn, records, args.reps, args.marker)
                emit("encode", workload, impl, "whole", len(records), total, 0, ns)


if __name__ == "__main__":
    main()
