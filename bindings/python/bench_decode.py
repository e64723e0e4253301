#!/usr/bin/env python3
"""Frames per second decoding the same stream with libframe.pure and
libframe.native (the C library through ctypes): what `native` buys.

    PYTHONPATH=bindings/python LIBFRAME_LIBRARY=build/libframe.so.1 \\
        python3 bindings/python/bench_decode.py [--frames N] [--repeat R]

The stream is fed in 64 KiB pieces, as a socket would deliver it, and every
frame is built into a Frame (header dict + body), as an application would
receive it. Best of R runs. Rows: small frames (a typical metadata header and
a 100-byte body), a header with nesting and escapes, and 64 KiB bodies.
"""

import argparse
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import libframe
import libframe.pure as pure

try:
    import libframe.native as native
except (ImportError, OSError) as e:  # pragma: no cover
    native = None
    NATIVE_ERROR = str(e)


def workloads(n: int) -> List[Tuple[str, bytes, int]]:
    small = b"".join(pure.encode({"type": "msg", "id": i, "user": "alice", "ok": True},
                                 b"x" * 100) for i in range(n))
    rich = b"".join(pure.encode({"type": "event", "id": i, "path": "/srv/data/r\u00e9sum\u00e9.txt",
                                 "note": "line 1\nline 2\t\"quoted\" \U0001F600",
                                 "meta": {"tags": ["a", "b", "c"], "size": {"w": 640, "h": 480},
                                          "score": 0.75, "owner": None}},
                                b"y" * 100) for i in range(n))
    big_n = max(n // 40, 10)
    big = b"".join(pure.encode({"chunk": i}, b"z" * 65536) for i in range(big_n))
    return [("small header, 100 B body", small, n), ("nested header, escapes", rich, n),
            ("64 KiB bodies", big, big_n)]


def decode_all(impl: Any, stream: bytes) -> int:
    d = impl.Decoder()
    count = 0
    view = memoryview(stream)
    for i in range(0, len(stream), 65536):
        for _ in d.feed(view[i:i + 65536]):
            count += 1
    d.finish()
    return count


def best_time(fn: Callable[[], int], expect: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        got = fn()
        dt = time.perf_counter() - t0
        if got != expect:
            raise SystemExit("decoded %d frames, expected %d" % (got, expect))
        best = min(best, dt)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if native is None:
        print("native binding not available: %s" % NATIVE_ERROR, file=sys.stderr)
        return 1
    print("libframe %s, Python %s, C library %s (%s)" % (
        libframe.__version__, sys.version.split()[0], native.version, native.library_path))
    print("%-26s %14s %14s %8s %12s" % ("stream", "pure fr/s", "native fr/s", "ratio",
                                        "native MB/s"))
    rows: Dict[str, float] = {}
    for name, stream, n in workloads(args.frames):
        t_pure = best_time(lambda: decode_all(pure, stream), n, args.repeat)
        t_native = best_time(lambda: decode_all(native, stream), n, args.repeat)
        rows[name] = t_pure / t_native
        print("%-26s %14.0f %14.0f %7.1fx %12.0f" % (
            name, n / t_pure, n / t_native, t_pure / t_native,
            len(stream) / t_native / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
