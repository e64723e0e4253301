#!/usr/bin/env python3
"""What the C extension buys: libframe.native (the extension) vs libframe.pure
vs the classic loops a Python user would otherwise write, on the same frames,
in one run.

    make bench-python
    # or: PYTHONPATH=build/python/site python3 bindings/python/bench_python.py

Rows (ns per frame, best of --repeat rounds in which every row runs once, so
that a change in the load of a shared machine falls on all rows alike):
  decode   the stream fed in 64 KiB pieces into whole frames (header dict +
           body): Decoder.feed() vs the classic loop (struct.unpack_from +
           json.loads over a bytearray buffer, with the size check);
  encode   one frame from a header dict and a body: encode() vs json.dumps
           (ensure_ascii=False, compact) + struct.pack + concatenation;
  asyncio  10,000 frames pipelined over 127.0.0.1: a client sends them all
           (send + drain per frame) while reading the echoes a server sends
           back; FrameStream / async for vs the classic asyncio loop
           (write + drain; readexactly + json.loads).

Workloads (as bench/workload.c describes them): small = {"size":N,
"name":"<8..16 letters>.bin","seq":K}, bodies 0..64 bytes; medium = 19 more
members of ~500 bytes with escapes, non-ASCII and surrogate pairs, 1 KiB
bodies.
"""

import argparse
import asyncio
import gc
import json
import random
import struct
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import libframe
import libframe.pure as pure

try:
    import libframe.native as ext
except ImportError as e:  # pragma: no cover
    sys.exit("bench_python: the extension is not built (make python-ext): %s" % e)

CHUNK = 65536
SPECIAL = ["\u00e9", "\u00fc", "\u00df", "\u00f1", "\u65e5", "\u672c", "\u8a9e", "\u20ac",
           "\u2028", "\U0001F600", "\U0001F680", "\n", "\t", "\"", "\\", "/", "\x01", "\x1f"]
NAMES = ["file_name", "content_type", "encoding", "gr\u00f6\u00dfe", "\u540d\u524d",
         "cr\u00e9\u00e9_le", "owner", "group", "mode", "mtime", "atime", "checksum", "algorithm",
         "tags", "note", "path", "user_agent", "na\u00efve", "emoji_\U0001F600", "tab\tname",
         "quote\"d", "slash/name", "sequence", "retries", "compressed", "deleted", "parent",
         "origin", "reply_to", "trace_id", "priority", "expires"]


def small_records(n: int, rng: random.Random) -> List[Tuple[Dict[str, Any], bytes]]:
    out = []
    for _ in range(n):
        name = "".join(chr(97 + rng.randrange(26)) for _ in range(rng.randint(8, 16))) + ".bin"
        out.append(({"name": name, "seq": rng.randrange(10000000)},
                    bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))))
    return out


def medium_records(n: int, rng: random.Random) -> List[Tuple[Dict[str, Any], bytes]]:
    out = []
    body = bytes(range(256)) * 4
    for _ in range(n):
        header: Dict[str, Any] = {}
        for name in rng.sample(NAMES, 19):
            kind = rng.randint(0, 19)
            if kind < 11:
                header[name] = "".join(
                    (" " if c < 8 else chr(97 + c % 26)) if c < 80 else rng.choice(SPECIAL)
                    for c in (rng.randint(0, 99) for _ in range(rng.randint(5, 17))))
            elif kind < 16:
                header[name] = rng.randrange(10000000000) * (1 if rng.randint(0, 3) else -1)
            elif kind < 18:
                header[name] = bool(rng.randint(0, 1))
            else:
                header[name] = None
        out.append((header, body))
    return out


# ---- decoders ---------------------------------------------------------------

def decode_with(impl: Any) -> Callable[[List[bytes]], int]:
    def run(pieces: List[bytes]) -> int:
        d = impl.Decoder()
        frames = 0
        for piece in pieces:
            for f in d.feed(piece):
                frames += 1
        d.finish()
        return frames
    return run


def decode_classic(pieces: List[bytes]) -> int:
    """The receive loop of the tutorials: a buffer, struct + json.loads."""
    unpack = struct.unpack_from
    loads = json.loads
    buf = bytearray()
    frames = 0
    for piece in pieces:
        buf += piece
        pos = 0
        n = len(buf)
        while n - pos >= 4:
            (hlen,) = unpack("<I", buf, pos)
            if n - pos - 4 < hlen:
                break
            header = loads(buf[pos + 4:pos + 4 + hlen])
            size = header["size"]
            if not isinstance(size, int) or size < 0:
                raise ValueError("bad size")
            end = pos + 4 + hlen + size
            if end > n:
                break
            body = bytes(buf[pos + 4 + hlen:end])
            frames += 1 if body is not None else 0
            pos = end
        del buf[:pos]
    return frames


# ---- encoders ---------------------------------------------------------------

def encode_with(impl: Any) -> Callable[[List[Tuple[Dict[str, Any], bytes]]], int]:
    def run(records: List[Tuple[Dict[str, Any], bytes]]) -> int:
        enc = impl.encode
        total = 0
        for header, body in records:
            total += len(enc(header, body))
        return total
    return run


def encode_classic(records: List[Tuple[Dict[str, Any], bytes]]) -> int:
    dumps = json.dumps
    pack = struct.pack
    total = 0
    for header, body in records:
        h = {"size": len(body)}
        h.update(header)
        text = dumps(h, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        total += len(pack("<I", len(text)) + text + body)
    return total


# ---- asyncio ----------------------------------------------------------------

async def pipelined_libframe(records: List[Tuple[Dict[str, Any], bytes]]) -> int:
    served = asyncio.Event()

    async def handle(stream: libframe.FrameStream) -> None:
        async for frame in stream:
            await stream.send({"seq": frame.header["seq"]}, frame.body)
        served.set()

    server = await libframe.serve(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    got = 0
    async with libframe.connect("127.0.0.1", port) as stream:
        async def sender() -> None:
            for header, body in records:
                await stream.send(header, body)

        task = asyncio.ensure_future(sender())
        async for frame in stream:
            got += 1
            if got == len(records):
                break
        await task
    await served.wait()
    server.close()
    await server.wait_closed()
    return got


async def pipelined_classic(records: List[Tuple[Dict[str, Any], bytes]]) -> int:
    dumps = json.dumps
    loads = json.loads
    pack = struct.pack
    unpack = struct.unpack

    def frame_of(header: Dict[str, Any], body: bytes) -> bytes:
        h = {"size": len(body)}
        h.update(header)
        text = dumps(h, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return pack("<I", len(text)) + text + body

    async def read(reader: asyncio.StreamReader) -> Any:
        (hlen,) = unpack("<I", await reader.readexactly(4))
        header = loads(await reader.readexactly(hlen))
        body = await reader.readexactly(header["size"]) if header["size"] else b""
        return header, body

    served = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header, body = await read(reader)
                writer.write(frame_of({"seq": header["seq"]}, body))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        writer.close()
        served.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def sender() -> None:
        for header, body in records:
            writer.write(frame_of(header, body))
            await writer.drain()

    task = asyncio.ensure_future(sender())
    got = 0
    while got < len(records):
        await read(reader)
        got += 1
    await task
    writer.close()
    await served.wait()
    server.close()
    await server.wait_closed()
    return got


def run_async(fn: Callable[[Any], Any], records: Any) -> int:
    return asyncio.run(fn(records))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=20000, help="small frames per run")
    ap.add_argument("--repeat", type=int, default=7, help="rounds (each row keeps its best)")
    ap.add_argument("--pipelined", type=int, default=10000, help="frames of the asyncio rows")
    args = ap.parse_args()
    rng = random.Random(20251206)
    workloads = [("small", small_records(args.frames, rng)),
                 ("medium", medium_records(max(args.frames // 4, 100), rng))]
    print("libframe %s, Python %s, extension (libframe.native) vs pure vs classic; "
          "one run, best of %d, ns per frame" % (ext.version, sys.version.split()[0],
                                                args.repeat))
    results: Dict[str, float] = {}
    rows = []
    for wname, records in workloads:
        stream = b"".join(ext.encode(h, b) for h, b in records)
        assert stream == b"".join(pure.encode(h, b) for h, b in records)
        pieces = [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]
        n = len(records)
        for what, who, fn, arg, expect in (
                ("decode", "extension", decode_with(ext), pieces, n),
                ("decode", "pure", decode_with(pure), pieces, n),
                ("decode", "classic", decode_classic, pieces, n),
                ("encode", "extension", encode_with(ext), records, len(stream)),
                ("encode", "pure", encode_with(pure), records, len(stream)),
                ("encode", "classic", encode_classic, records, len(stream))):
            rows.append(("%s %s %s" % (what, wname, who), fn, arg, expect, n))
    records = small_records(args.pipelined, random.Random(7))
    for who, afn in (("extension", pipelined_libframe), ("classic", pipelined_classic)):
        rows.append(("asyncio small %s" % who, lambda r, afn=afn: run_async(afn, r), records,
                     len(records), len(records)))
    # The rows take turns, so that a change in the machine's load (it is
    # shared) falls on all of them alike; each row keeps its best time.
    for _ in range(args.repeat):
        for key, fn, arg, expect, n in rows:
            gc.collect()
            t0 = time.perf_counter()
            got = fn(arg)
            t = (time.perf_counter() - t0) / n * 1e9
            if got != expect:
                sys.exit("bench_python: %s gave %d, not %d" % (key, got, expect))
            results[key] = min(t, results.get(key, t))
    for wname in ("small", "medium"):
        for what in ("decode", "encode"):
            e, p, c = (results["%s %s %s" % (what, wname, w)]
                       for w in ("extension", "pure", "classic"))
            print("%-6s %-6s  extension %7.0f   pure %7.0f   classic %7.0f   "
                  "extension is %5.2fx classic, %5.2fx pure" % (what, wname, e, p, c, c / e, p / e))
    e, c = results["asyncio small extension"], results["asyncio small classic"]
    print("asyncio pipelined %d small frames (echoed): libframe %.3f s, classic %.3f s: "
          "%.2fx" % (args.pipelined, e * args.pipelined / 1e9, c * args.pipelined / 1e9, c / e))


if __name__ == "__main__":
    main()
