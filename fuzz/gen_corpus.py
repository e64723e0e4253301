#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses (build time, not committed).

    fuzz/gen_corpus.py OUT_DIR [--vectors tests/vectors] [--jsonts DIR]

For each harness NAME the seeds go to OUT_DIR/NAME/seed-*; other files there
(what libFuzzer added) are left alone. Sources:
  - tests/vectors/*.json: decode vectors become streams (fuzz_decode,
    fuzz_split) and headers (fuzz_header); encode vectors and valid decoded
    headers become member records (fuzz_roundtrip);
  - JSONTestSuite test_parsing cases (when the directory exists), as a header
    member value and as a whole header (fuzz_header);
  - a few hand-made frames that reach the limits (512 members, depth 32).
Input layouts are described in fuzz/fuzz_common.h and fuzz/fuzz_roundtrip.c.
Standard library only.
"""
import argparse
import glob
import json
import os
import struct
import sys

HARNESSES = ("fuzz_decode", "fuzz_split", "fuzz_header", "fuzz_roundtrip")
NAMES = {"size": 0, "data_size": 1, "file_size": 2}
WIDTHS = {1: 0, 2: 1, 4: 2, 8: 3}
MAX_BODY = (1 << 53) - 1


def params(cfg, ctl=(0, 0, 0, 0)):
    """The 8-byte parameter block (+ explicit name) for a vector config."""
    cfg = cfg or {}
    width = cfg.get("prefix_width", 4)
    b0 = WIDTHS.get(width, 2)
    if cfg.get("byte_order", "little") == "big":
        b0 |= 4
    if cfg.get("profile", "json") == "raw":
        b0 |= 8
    name = cfg.get("size_name", "size")
    extra = b""
    if name in NAMES:
        b0 |= NAMES[name] << 4
    else:
        b0 |= 3 << 4
        nb = name.encode("utf-8")[:255]
        extra = bytes([len(nb)]) + nb
    mh = cfg.get("max_header", 65536)
    mh = mh if 0 < mh < 65536 else 0
    mb = cfg.get("max_body", MAX_BODY)
    if mb == MAX_BODY:
        b3 = 0
    elif 0 < mb < 0xC0:
        b3 = mb
    else:
        k = max(1, min(63, (mb + 1).bit_length() - 1))
        if (1 << k) - 1 < mb:
            k += 1
        b3 = 0xC0 + min(k, 63)
    return bytes([b0, mh & 255, mh >> 8, b3]) + bytes(ctl) + extra


def prefix(value, width=4, big=False):
    return value.to_bytes(width, "big" if big else "little")


def frame(header, body=b"", width=4, big=False):
    return prefix(len(header), width, big) + header + body


def headers_of(stream, cfg):
    """Yields the header bytes of each frame in a stream (best effort)."""
    cfg = cfg or {}
    if cfg.get("profile", "json") == "raw":
        return
    w = cfg.get("prefix_width", 4)
    big = cfg.get("byte_order", "little") == "big"
    name = cfg.get("size_name", "size")
    i = 0
    while i + w <= len(stream):
        h = int.from_bytes(stream[i:i + w], "big" if big else "little")
        hdr = stream[i + w:i + w + h]
        if not hdr or h > 1 << 20:
            return
        yield hdr
        try:
            n = json.loads(hdr.decode("utf-8")).get(name)
        except (ValueError, AttributeError):
            return
        if not isinstance(n, int) or n < 0:
            return
        i += w + h + n


# ---- fuzz_roundtrip records ---------------------------------------------

def rec_name(name):
    nb = name.encode("utf-8", "surrogatepass")[:255]
    return bytes([len(nb)]) + nb


def records(members, body):
    """members: list of (name, type, value) as in encode vectors."""
    out = b""
    for name, typ, value in members:
        n = rec_name(name)
        if typ == "string":
            vb = value.encode("utf-8", "surrogatepass")[:255]
            out += b"\x00" + n + bytes([len(vb)]) + vb
        elif typ == "int":
            out += b"\x01" + n + struct.pack("<q", max(-(1 << 63), min((1 << 63) - 1, value)))
        elif typ == "uint":
            out += b"\x02" + n + struct.pack("<Q", value & ((1 << 64) - 1))
        elif typ == "bool":
            out += b"\x03" + n + (b"\x01" if value else b"\x00")
        elif typ == "null":
            out += b"\x04" + n
        elif typ == "raw":
            vb = value.encode("utf-8", "surrogatepass")[:65535] if isinstance(value, str) else \
                json.dumps(value).encode()
            out += b"\x05" + n + struct.pack("<H", len(vb)) + vb
    for i in range(0, len(body), 255):
        chunk = body[i:i + 255]
        out += b"\x06" + bytes([len(chunk)]) + chunk
    return out


def members_of_object(obj, size_name):
    ms = []
    for k, v in obj.items():
        if k == size_name:
            continue
        if isinstance(v, bool):
            ms.append((k, "bool", v))
        elif v is None:
            ms.append((k, "null", None))
        elif isinstance(v, int) and -(1 << 63) <= v < (1 << 63):
            ms.append((k, "int", v))
        elif isinstance(v, int) and 0 <= v < (1 << 64):
            ms.append((k, "uint", v))
        elif isinstance(v, str):
            ms.append((k, "string", v))
        else:
            ms.append((k, "raw", json.dumps(v, ensure_ascii=False)))
    return ms


def encode_members(vec):
    ms = []
    for m in vec.get("members", []):
        if isinstance(m, list) and len(m) == 3:
            ms.append(tuple(m))
        elif isinstance(m, dict):
            name = m.get("name", "")
            if "name_hex" in m:
                name = bytes.fromhex(m["name_hex"]).decode("utf-8", "surrogateescape")
            value = m.get("value")
            if "value_hex" in m:
                value = bytes.fromhex(m["value_hex"]).decode("utf-8", "surrogateescape")
            ms.append((name, m.get("type", "null"), value))
    return ms


# ---- hand-made seeds -------------------------------------------------------

def synthetic():
    """(harness, name, bytes) seeds that reach the limits."""
    out = []
    simple = frame(b'{"size":3,"type":"x"}', b"abc")
    out.append(("stream", "simple", params(None) + simple))
    out.append(("stream", "three", params(None) + simple + frame(b'{"size":0}') +
                frame(b'{ "a" : [1, {"b": null}], "size" : 2 }', b"hi")))
    out.append(("stream", "raw_w1", params({"profile": "raw", "prefix_width": 1}) +
                b"\x03abc\x00\x01z"))
    out.append(("stream", "big_endian_w2", params({"prefix_width": 2, "byte_order": "big"}) +
                frame(b'{"size":1}', b"!", 2, True)))
    members = b",".join(b'"m%d":%d' % (i, i % 10) for i in range(511))
    maxm = b'{"size":0,' + members + b"}"
    out.append(("header", "members_511", params(None) + maxm))
    out.append(("stream", "members_511", params(None) + frame(maxm)))
    out.append(("header", "members_512", params(None) +
                b'{"size":0,' + members + b',"x":1}'))
    deep = b'{"size":0,"d":' + b"[" * 31 + b"]" * 31 + b"}"
    out.append(("header", "depth_32", params(None) + deep))
    out.append(("header", "depth_33", params(None) + b'{"size":0,"d":' + b"[" * 32 + b"]" * 32 + b"}"))
    out.append(("header", "escapes", params(None) +
                b'{"size":5,"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\ud83d\\ude00\xc3\xa9"}'))
    out.append(("header", "dup", params(None) + b'{"size":1,"a":1,"\\u0061":2}'))
    out.append(("header", "nested_size", params(None) + b'{"o":{"size":"x"},"size":7}'))
    out.append(("stream", "tls", params(None) + b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"))
    out.append(("stream", "http", params(None) + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    out.append(("roundtrip", "all_types", params(None) + records(
        [("s", "string", "h\u00e9\"llo\n"), ("i", "int", -5), ("u", "uint", (1 << 64) - 1),
         ("b", "bool", True), ("z", "null", None), ("j", "raw", '{ "a" : [1, 2.5e3, "\\u0041"] }')],
        b"body bytes")))
    out.append(("roundtrip", "many", params(None) + records(
        [("m%d" % i, "int", i) for i in range(520)], b"")))
    out.append(("roundtrip", "raw_profile", params({"profile": "raw", "prefix_width": 2}) +
                records([], b"x" * 300)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--vectors", default="tests/vectors")
    ap.add_argument("--jsonts", default=None)
    args = ap.parse_args()

    seeds = {h: {} for h in HARNESSES}

    def add(harness, name, data):
        seeds[harness]["seed-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in name)] = data

    for kind, name, data in synthetic():
        if kind == "stream":
            add("fuzz_decode", name, data)
            add("fuzz_split", name, data)
        elif kind == "header":
            add("fuzz_header", name, data)
        else:
            add("fuzz_roundtrip", name, data)

    nvec = 0
    for path in sorted(glob.glob(os.path.join(args.vectors, "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                vec = json.load(f)
        except (OSError, ValueError) as e:
            print("gen_corpus: skipping %s: %s" % (path, e), file=sys.stderr)
            continue
        nvec += 1
        name = vec.get("name") or os.path.basename(path)[:-5]
        cfg = vec.get("config") or {}
        if vec.get("kind", "decode") == "decode":
            try:
                stream = bytes.fromhex(vec.get("stream", ""))
            except ValueError:
                continue
            add("fuzz_decode", name, params(cfg) + stream)
            add("fuzz_decode", name + "-bytes-pause", params(cfg, (0x23, 0, 1, 0)) + stream)
            add("fuzz_split", name, params(cfg, (0, 0, 5, 1)) + stream)
            for i, hdr in enumerate(headers_of(stream, cfg)):
                add("fuzz_header", "%s-%d" % (name, i), params(cfg) + hdr)
            body = b""
            for fr in vec.get("frames") or []:
                if isinstance(fr.get("header"), dict):
                    try:
                        body = bytes.fromhex(fr.get("body", ""))
                    except ValueError:
                        body = b""
                    add("fuzz_roundtrip", name, params(cfg) +
                        records(members_of_object(fr["header"], cfg.get("size_name", "size")), body))
                    break
        else:
            try:
                body = bytes.fromhex(vec.get("body", ""))
            except ValueError:
                body = b""
            add("fuzz_roundtrip", name, params(cfg) + records(encode_members(vec), body))

    ncases = 0
    if args.jsonts and os.path.isdir(args.jsonts):
        for path in sorted(glob.glob(os.path.join(args.jsonts, "*.json"))):
            with open(path, "rb") as f:
                case = f.read()
            base = os.path.basename(path)[:-5]
            add("fuzz_header", "jsonts-v-" + base, params(None) + b'{"size":0,"v":' + case + b"}")
            if case.lstrip(b" \t\r\n").startswith(b"{"):
                add("fuzz_header", "jsonts-h-" + base, params(None) + case)
            ncases += 1

    total = 0
    for h, files in seeds.items():
        d = os.path.join(args.out, h)
        os.makedirs(d, exist_ok=True)
        for fn, data in files.items():
            p = os.path.join(d, fn)
            try:
                with open(p, "rb") as f:
                    if f.read() == data:
                        continue
            except OSError:
                pass
            with open(p, "wb") as f:
                f.write(data)
        total += len(files)
    print("gen_corpus: %d seeds (%d vectors, %d JSONTestSuite cases) in %s" %
          (total, nvec, ncases, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
