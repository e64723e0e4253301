#!/usr/bin/env python3
"""Writes the libframe test vectors (tests/vectors/*.json), one vector per file.

Usage:
    python3 tests/vectors/make_vectors.py           # (re)write the vectors
    python3 tests/vectors/make_vectors.py --check   # exit 1 if a file differs

The output is deterministic: running it again reproduces the files byte for byte,
and any other *.json file in the directory is removed (README.md is left alone).

Every expected result here is derived by construction, never by running a
decoder: a faulty stream is built from parts, and the expected error offset is
the length of the parts placed before the fault (see `hdr_err`). The expected
bytes of encode vectors come from the small canonical encoder at the end of
this file (`canon_header`), which is Python's json.dumps with
ensure_ascii=False and separators=(',', ':'), numbers of raw values copied as
written. The format of a vector is described in README.md next to this file
and the rules in SPEC.md ("Errors", "Canonical encoding").
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

MAX_BODY = 2**53 - 1
U64_MAX = 2**64 - 1
DEFAULTS = {
    "prefix_width": 4,
    "byte_order": "little",
    "size_name": "size",
    "max_header": 65536,
    "max_body": MAX_BODY,
    "profile": "json",
}

VECTORS = []


def add(vec):
    assert re.fullmatch(r"[a-z0-9_]+", vec["name"]), vec["name"]
    assert all(v["name"] != vec["name"] for v in VECTORS), vec["name"]
    VECTORS.append(vec)


def opt(cfg, key):
    return (cfg or {}).get(key, DEFAULTS[key])


def prefix(value, cfg):
    width = opt(cfg, "prefix_width")
    assert 0 <= value < 2 ** (8 * width)
    return value.to_bytes(width, opt(cfg, "byte_order"))


def b(text):
    """Header text given as str -> UTF-8 bytes; bytes pass through."""
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


# ---------------------------------------------------------------------------
# Keeping numbers exactly as written in the "header" objects of vectors.
# Numbers are parsed into NumText markers and written back verbatim, so that
# "header" shows 1.50e+3 and 1e400 as they are on the wire (json.dumps would
# print 1500.0 and Infinity).
# ---------------------------------------------------------------------------
class NumText(str):
    pass


class Obj(list):
    """A JSON object as its list of (name, value) pairs, in order."""


_SENTINEL = "\u0001NUM\u0001"


def parse_keep_numbers(text):
    def no_constants(name):
        raise ValueError("not JSON: " + name)

    return json.loads(text, parse_float=NumText, parse_int=NumText,
                      parse_constant=no_constants, object_pairs_hook=Obj)


def to_plain(v):
    """Obj/NumText tree -> dict/list tree with numbers as sentinel strings."""
    if isinstance(v, NumText):
        return _SENTINEL + str(v)
    if isinstance(v, Obj):
        d = {}
        for k, x in v:
            assert k not in d, "duplicate name in a header meant to be valid"
            d[k] = to_plain(x)
        return d
    if isinstance(v, list):
        return [to_plain(x) for x in v]
    return v


def header_obj(header_bytes):
    obj = parse_keep_numbers(header_bytes.decode("utf-8"))
    assert isinstance(obj, Obj)
    return to_plain(obj)


def dump_vector(vec):
    text = json.dumps(vec, sort_keys=False, indent=1, ensure_ascii=True)
    text = re.sub(r'"\\u0001NUM\\u0001([-+.eE0-9]+)"', r"\1", text)
    assert "\\u0001NUM" not in text
    return text + "\n"


# ---------------------------------------------------------------------------
# Decode vectors
# ---------------------------------------------------------------------------
class Stream:
    """A stream (or datagram) built from parts, remembering completed frames."""

    def __init__(self, cfg=None):
        self.cfg = dict(cfg or {})
        self.data = bytearray()
        self.frames = []

    @property
    def width(self):
        return opt(self.cfg, "prefix_width")

    @property
    def raw(self):
        return opt(self.cfg, "profile") == "raw"

    def frame(self, header=None, body=b""):
        """Appends a whole valid frame and records it. Returns its offset F."""
        start = len(self.data)
        body = b(body)
        if self.raw:
            assert header is None
            self.data += prefix(len(body), self.cfg) + body
            self.frames.append({"body": body.hex()})
        else:
            h = b(header)
            self.data += prefix(len(h), self.cfg) + h + body
            self.frames.append({"header": header_obj(h),
                                "header_json": h.decode("utf-8"),
                                "body": body.hex()})
        return start

    def put(self, data):
        """Appends bytes that are not (yet) a completed frame. Returns their offset."""
        start = len(self.data)
        self.data += b(data)
        return start

    def put_prefix(self, value):
        return self.put(prefix(value, self.cfg))


def err(name, offset, frame, **extra):
    e = {"name": name, "offset": offset, "frame": frame}
    e.update(extra)
    return e


def dec(name, desc, s, error=None, datagram=False):
    v = {"name": name, "description": desc, "kind": "decode"}
    if s.cfg:
        v["config"] = s.cfg
    if datagram:
        v["datagram"] = True
    v["stream"] = bytes(s.data).hex()
    v["frames"] = s.frames
    v["error"] = error
    if error and error["name"] == "TRUNCATED":
        assert error["offset"] == len(s.data) and not datagram
    add(v)


def ok(name, desc, frames, cfg=None, datagram=False):
    """A valid stream made of whole frames: [(header, body), ...]."""
    s = Stream(cfg)
    for f in frames:
        if s.raw:
            s.frame(None, f)
        else:
            s.frame(*f) if isinstance(f, tuple) else s.frame(f)
    if datagram:
        assert len(s.frames) == 1
    dec(name, desc, s, None, datagram)


def hdr_err(name, desc, pre, post, errname, cfg=None, before=0, body=b"",
            datagram=False, **extra):
    """A frame whose header is pre + post, with the fault at post's first byte
    (or, with post empty, at one past the header: hs + H). `before` valid
    frames come first. Offset = F + W + len(pre), by construction."""
    s = Stream(cfg)
    for _ in range(before):
        s.frame('{"%s":0}' % opt(cfg, "size_name"))
    header = b(pre) + b(post)
    f = s.put_prefix(len(header))
    s.put(header)
    s.put(body)
    offset = f + s.width + len(b(pre))
    dec(name, desc, s, err(errname, offset, before, **extra), datagram)


def prefix_err(name, desc, prefix_bytes, errname, cfg=None, before=0, tail=b"",
               datagram=False, **extra):
    """A frame whose prefix is refused; the offset is the frame's first byte."""
    s = Stream(cfg)
    for _ in range(before):
        if s.raw:
            s.frame(None, b"")
        else:
            s.frame('{"%s":0}' % opt(cfg, "size_name"))
    assert len(prefix_bytes) == s.width
    f = s.put(prefix_bytes)
    s.put(tail)
    dec(name, desc, s, err(errname, f, before, **extra), datagram)


def config_err(name, desc, cfg):
    v = {"name": name, "description": desc, "kind": "decode", "config": cfg,
         "stream": "", "frames": [], "error": {"name": "CONFIG"}}
    add(v)


def size_hdr(n, name="size"):
    return '{"%s":%d}' % (name, n)


def gen_decode_valid():
    ok("dec_ok_minimal", "the smallest frame: header {\"size\":0}, empty body",
       [('{"size":0}', b"")])
    ok("dec_ok_body", "a 5-octet body follows the header",
       [('{"size":5}', b"hello")])
    ok("dec_ok_binary_body", "the body is opaque: NUL, 0xFF and a fake prefix are just data",
       [('{"size":8}', bytes([0, 0xFF, 0x0A, 0, 0, 0, 0x7B, 0x22]))])
    ok("dec_ok_empty_stream", "an empty stream is a clean end with no frame", [])
    ok("dec_ok_three_frames", "three frames back to back, the middle one with an empty body",
       [('{"size":3,"seq":0}', b"abc"), ('{"size":0,"seq":1}', b""),
        ('{"seq":2,"size":2}', b"\r\n")])
    ok("dec_ok_size_not_first", "the size member may be anywhere in the header",
       [('{"name":"x","list":[1,2],"size":2}', b"hi")])
    ok("dec_ok_whitespace_everywhere",
       "SP, HT, LF and CR are accepted around every token, before and after the object",
       [(' \t\r\n{ "size" :\t1 ,\n"a"\r: [ 1 , { "b" : null } ] , "c" : "d" }\r\n \t', b"x")])
    ok("dec_ok_nested_values", "objects, arrays, strings, numbers, true, false and null nested",
       [('{"size":0,"o":{"a":[1,-2,3.5,-0.25e-3,1E+2,0],"b":{"c":true,"d":false,"e":null}},'
         '"arr":[[],{},"",[[]]],"t":true,"f":false,"n":null}', b"")])
    ok("dec_ok_nested_size_is_data",
       "a member named size inside a nested object is ordinary data, even when invalid as a size",
       [('{"meta":{"size":"big","x":-1.5},"list":[{"size":null}],"size":3}', b"abc")])
    ok("dec_ok_escapes",
       "every JSON escape in names and values: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u",
       [('{"size":0,"q\\"b\\\\s\\/":"\\b\\f\\n\\r\\t\\u0041\\u00e9\\u00E9\\u20AC\\ud83d\\ude00"}',
         b"")])
    ok("dec_ok_unicode_utf8",
       "UTF-8 of every length in names and values, and escapes that name the same characters",
       [('{"size":0,"caf\u00e9":"\u65e5\u672c\u8a9e","emoji":"\U0001F600",'
         '"\u00e9scaped":"caf\\u00e9 \\ud83d\\ude00"}', b"")])
    ok("dec_ok_utf8_boundaries",
       "the edges of each UTF-8 length and of the surrogate gap are valid "
       "(U+0080 U+07FF U+0800 U+D7FF U+E000 U+FFFD U+10000 U+10FFFF)",
       [('{"size":0,"v":"\u0080\u07ff\u0800\ud7ff\ue000\ufffd\U00010000\U0010ffff"}', b"")])
    ok("dec_ok_noncharacters",
       "noncharacters are accepted raw and escaped (U+FDD0 U+FFFE U+FFFF U+1FFFE U+10FFFF): "
       "the deliberate deviation from RFC 7493",
       [('{"size":0,"raw":"\ufdd0\ufffe\uffff\U0001fffe\U0010ffff",'
         '"esc":"\\uFDD0\\uFFFE\\uFFFF\\uD83F\\uDFFE\\uDBFF\\uDFFF"}', b"")])
    ok("dec_ok_nul_escape", "\\u0000 is accepted in names and values",
       [('{"size":0,"a\\u0000":"\\u0000","a":0}', b"")])
    ok("dec_ok_del_and_slash_raw", "DEL (0x7F) and / need no escape inside strings",
       [('{"size":0,"d":"\x7f/\x7f"}', b"")])
    ok("dec_ok_empty_name_and_string", "the empty string is a valid name and value",
       [('{"":"","size":0}', b"")])
    ok("dec_ok_same_name_different_objects",
       "one name may appear once in each object, also in objects inside arrays",
       [('{"size":0,"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"size":1}}', b"")])
    ok("dec_ok_names_differ_by_case", "names are compared exactly: a and A, size and Size differ",
       [('{"size":0,"Size":1,"a":1,"A":2,"\\u00e9":3,"e\\u0301":4}', b"")])
    ok("dec_ok_escaped_size_name", "the size member is found after unescaping its name",
       [('{"\\u0073iz\\u0065":2}', b"ok")])
    ok("dec_ok_huge_numbers",
       "numbers of any magnitude and precision are accepted outside the size member",
       [('{"size":0,"big":123456789012345678901234567890123456789,"neg":-98765432109876543210,'
         '"exp":1e400,"tiny":-1.5e-999,"prec":0.10000000000000000000000000001,"e":1.50e+3}',
         b"")])
    ok("dec_ok_size_zero", "size 0 is written 0", [('{"size":0,"x":0}', b"")])
    ok("dec_ok_size_large_digits", "the size member may be large as long as it is <= max_body",
       [('{"size":1000}', bytes(range(256)) * 3 + bytes(232))])
    depth32 = '{"size":0,"a":' + "[" * 31 + "]" * 31 + "}"
    ok("dec_ok_depth_32_arrays", "31 nested arrays in the header object: depth 32 is allowed",
       [(depth32, b"")])
    depth32o = '{"size":0,"a":' + '{"a":' * 31 + "0" + "}" * 31 + "}"
    ok("dec_ok_depth_32_objects", "31 nested objects in the header object: depth 32 is allowed",
       [(depth32o, b"")])
    flat512 = '{"size":0' + "".join(',"m%03d":0' % i for i in range(511)) + "}"
    ok("dec_ok_members_512", "512 members (size + 511): the member limit is allowed",
       [(flat512, b"")])
    arr512 = '{"size":0,"arr":[' + ",".join('{"a":%d}' % i for i in range(510)) + "]}"
    ok("dec_ok_members_512_in_array_objects",
       "members of objects inside arrays count: size + arr + 510 = 512 is allowed",
       [(arr512, b"")])
    ok("dec_ok_array_elements_not_members",
       "array elements are not members: 2 members, 1000 elements",
       [('{"size":0,"a":[' + ",".join(["0"] * 1000) + "]}", b"")])
    # A header exactly as long as a small configured max_header.
    cfg = {"max_header": 64}
    pre = '{"size":1,"pad":"'
    h = pre + "x" * (64 - len(pre) - 2) + '"}'
    assert len(h) == 64
    ok("dec_ok_header_at_max_header", "a header exactly max_header (64) octets long is accepted",
       [(h, b"!")], cfg)
    # W = 1, the largest header the prefix can express.
    cfg = {"prefix_width": 1}
    pre = '{"size":0,"pad":"'
    h = pre + "y" * (255 - len(pre) - 2) + '"}'
    assert len(h) == 255
    ok("dec_ok_w1_header_255", "width 1: a 255-octet header, the most the prefix can express",
       [(h, b"")], cfg)
    # Widths and byte orders. Header of 258 octets (0x0102) makes the order visible.
    long_pre = '{"size":4,"pad":"'
    long_h = long_pre + "z" * (258 - len(long_pre) - 2) + '"}'
    assert len(long_h) == 258
    for w, order in ((1, "little"), (1, "big"), (2, "little"), (2, "big"), (4, "big"),
                     (8, "little"), (8, "big")):
        cfg = {"prefix_width": w, "byte_order": order}
        frames = [('{"size":4}', b"abcd")]
        if w > 1:
            frames.append((long_h, b"wxyz"))
            what = "a 10-octet and a 258-octet (0x0102) header"
        else:
            what = "a 10-octet header"
        ok("dec_ok_w%d_%s" % (w, order), "prefix width %d, %s-endian: %s" % (w, order, what),
           frames, cfg)
    ok("dec_ok_w4_little_258", "default prefix with a 258-octet header: 02 01 00 00",
       [(long_h, b"wxyz")])
    # Size names.
    ok("dec_ok_size_name_data_size", "size_name data_size; a member named size is ordinary data",
       [('{"data_size":3,"size":"not me"}', b"abc")], {"size_name": "data_size"})
    ok("dec_ok_size_name_file_size", "size_name file_size", [
        ('{"file_name":"a.txt","file_size":6}', b"a\nb\nc\n")], {"size_name": "file_size"})
    name64 = "x-size: {}[],~" + "." * 50
    assert len(name64) == 64
    ok("dec_ok_size_name_64_printable",
       "a 64-octet size name with space and JSON punctuation is a valid config",
       [('{"%s":1}' % name64, b"1")], {"size_name": name64})
    # max_body.
    ok("dec_ok_body_at_max_body", "a body exactly max_body (16) octets long is accepted",
       [('{"size":16}', b"0123456789abcdef")], {"max_body": 16})
    # The classic tutorial programs: struct.pack('i', len(h)) + json.dumps(...).
    h = json.dumps({"data_size": 5, "file_name": "r\u00e9sum\u00e9.txt"})
    assert h == '{"data_size": 5, "file_name": "r\\u00e9sum\\u00e9.txt"}'
    ok("dec_ok_classic_tutorial_data_size",
       "what the classic Python tutorial sends: struct.pack('i', len(h)) (little-endian "
       "machine) + json.dumps(...) "
       "with its default ', ' ': ' separators and \\u escapes",
       [(h, b"hello")], {"size_name": "data_size"})
    h = json.dumps({"file_name": "\u65e5\u672c.bin", "file_size": 3})
    ok("dec_ok_classic_tutorial_file_size_network_order",
       "a tutorial variant: struct.pack('!I', len(h)) + json.dumps(...) with file_size",
       [(h, b"\x00\x01\x02")], {"size_name": "file_size", "byte_order": "big"})
    # Raw profile.
    ok("dec_ok_raw_default_width", "raw profile: the prefix is the body length, no header",
       [b"hello", b"", b"\x00"], {"profile": "raw"})
    ok("dec_ok_raw_w1", "raw profile with a 1-octet prefix: a 255-octet body",
       [bytes(range(255))], {"profile": "raw", "prefix_width": 1})
    ok("dec_ok_raw_w2_big", "raw profile, 2-octet big-endian prefix (like Netty's common setup)",
       [b"netty", b"x" * 258], {"profile": "raw", "prefix_width": 2, "byte_order": "big"})
    ok("dec_ok_raw_w4_big", "raw profile, 4-octet big-endian prefix (Twisted Int32StringReceiver)",
       [b"twisted"], {"profile": "raw", "byte_order": "big"})
    ok("dec_ok_raw_w8_little", "raw profile, 8-octet little-endian prefix",
       [b"eight", b""], {"profile": "raw", "prefix_width": 8})
    ok("dec_ok_raw_at_max_body", "raw profile: a body exactly max_body (4) octets long",
       [b"four"], {"profile": "raw", "max_body": 4})


def gen_decode_prefix_errors():
    # HEADER_EMPTY
    prefix_err("dec_header_empty", "prefix value 0 declares an empty header", b"\0\0\0\0",
               "HEADER_EMPTY")
    prefix_err("dec_header_empty_second_frame",
               "HEADER_EMPTY in frame 1 reports that frame's first byte",
               b"\0\0\0\0", "HEADER_EMPTY", before=1, tail=b'{"size":0}')
    prefix_err("dec_header_empty_w1", "a 1-octet prefix of 0", b"\0", "HEADER_EMPTY",
               {"prefix_width": 1})
    # HEADER_TOO_LARGE
    s = Stream()
    s.put_prefix(65536)
    dec("dec_header_at_default_limit_accepted",
        "a prefix of exactly 65536 is accepted: the stream then ends 65536 octets short",
        s, err("TRUNCATED", 4, 0, missing=65536))
    prefix_err("dec_header_too_large_limit_plus_one", "prefix 65537 is one over max_header",
               (65537).to_bytes(4, "little"), "HEADER_TOO_LARGE", declared=65537, limit=65536)
    prefix_err("dec_header_too_large_7fffffff", "prefix 0x7FFFFFFF (ff ff ff 7f)",
               (0x7FFFFFFF).to_bytes(4, "little"), "HEADER_TOO_LARGE",
               declared=0x7FFFFFFF, limit=65536)
    prefix_err("dec_header_too_large_80000000",
               "prefix 0x80000000, negative to a signed 32-bit reader",
               (0x80000000).to_bytes(4, "little"), "HEADER_TOO_LARGE",
               declared=0x80000000, limit=65536)
    prefix_err("dec_header_too_large_ffffffff", "prefix 0xFFFFFFFF (-1 to a signed reader)",
               b"\xff\xff\xff\xff", "HEADER_TOO_LARGE", declared=0xFFFFFFFF, limit=65536)
    cfg = {"max_header": 64}
    s = Stream(cfg)
    s.put_prefix(64)
    s.put(b"{")
    dec("dec_header_at_small_limit_accepted",
        "with max_header 64 a prefix of 64 is accepted (the stream then ends inside the header)",
        s, err("TRUNCATED", 5, 0, missing=63))
    prefix_err("dec_header_too_large_small_limit",
               "with max_header 64 a prefix of 65 (41 00 00 00: not all printable) is refused",
               (65).to_bytes(4, "little"), "HEADER_TOO_LARGE", cfg, tail=b'{"size":0}',
               declared=65, limit=64)
    prefix_err("dec_header_too_large_second_frame",
               "HEADER_TOO_LARGE in frame 2 reports that frame's first byte",
               (70000).to_bytes(4, "little"), "HEADER_TOO_LARGE", before=2,
               declared=70000, limit=65536)
    prefix_err("dec_header_too_large_w2_big", "2-octet big-endian prefix ffff over max_header 1024",
               b"\xff\xff", "HEADER_TOO_LARGE",
               {"prefix_width": 2, "byte_order": "big", "max_header": 1024},
               declared=65535, limit=1024)
    prefix_err("dec_header_too_large_w8_max", "8-octet prefix 2^64-1",
               b"\xff" * 8, "HEADER_TOO_LARGE", {"prefix_width": 8},
               declared=U64_MAX, limit=65536)
    prefix_err("dec_header_too_large_w8_2p32", "8-octet big-endian prefix 2^32: above 32 bits",
               (2**32).to_bytes(8, "big"), "HEADER_TOO_LARGE",
               {"prefix_width": 8, "byte_order": "big"}, declared=2**32, limit=65536)
    prefix_err("dec_header_too_large_w1_tls_byte",
               "width 1: 0x16 over max_header 16 is HEADER_TOO_LARGE (TLS needs 2 octets, "
               "0x16 is not printable)",
               b"\x16", "HEADER_TOO_LARGE", {"prefix_width": 1, "max_header": 16},
               tail=b"\x03\x01", declared=22, limit=16)
    # LOOKS_LIKE_TEXT
    http = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    prefix_err("dec_text_http_get", "an HTTP GET to a frame port: 'GET ' as a prefix",
               http[:4], "LOOKS_LIKE_TEXT", tail=http[4:])
    post = b"POST /upload HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
    prefix_err("dec_text_http_post", "an HTTP POST: 'POST' as a prefix",
               post[:4], "LOOKS_LIKE_TEXT", tail=post[4:])
    ssh = b"SSH-2.0-OpenSSH_9.6\r\n"
    prefix_err("dec_text_ssh", "an SSH client banner: 'SSH-' as a prefix",
               ssh[:4], "LOOKS_LIKE_TEXT", tail=ssh[4:])
    prefix_err("dec_text_json_without_prefix",
               "JSON sent without a prefix: '{\"si' is printable text",
               b'{"si', "LOOKS_LIKE_TEXT", tail=b'ze":0}')
    prefix_err("dec_text_crlf", "CR LF CR LF counts as text", b"\r\n\r\n", "LOOKS_LIKE_TEXT")
    prefix_err("dec_text_tab_space", "HT and SP count as text", b"\t \t ", "LOOKS_LIKE_TEXT")
    prefix_err("dec_text_second_frame", "text after a valid frame reports frame 1 at its first byte",
               http[:4], "LOOKS_LIKE_TEXT", before=1, tail=http[4:])
    prefix_err("dec_text_w8", "width 8: 'GET / HT' is text", http[:8], "LOOKS_LIKE_TEXT",
               {"prefix_width": 8}, tail=http[8:])
    prefix_err("dec_text_w2_big_small_limit",
               "width 2 big-endian with max_header 16384: 'GE' = 18245 is over the limit and text",
               http[:2], "LOOKS_LIKE_TEXT",
               {"prefix_width": 2, "byte_order": "big", "max_header": 16384}, tail=http[2:])
    prefix_err("dec_text_w1_small_limit", "width 1 with max_header 32: 'G' = 71 is text",
               b"G", "LOOKS_LIKE_TEXT", {"prefix_width": 1, "max_header": 32}, tail=http[1:])
    prefix_err("dec_not_text_del", "a DEL octet is not text: HEADER_TOO_LARGE",
               b"GET\x7f", "HEADER_TOO_LARGE", declared=0x7F544547, limit=65536)
    # LOOKS_LIKE_TLS
    hello = bytes.fromhex("1603010200010001fc0303") + bytes(range(32))
    prefix_err("dec_tls_client_hello", "a TLS ClientHello (16 03 01 ...) to a plain frame port",
               hello[:4], "LOOKS_LIKE_TLS", tail=hello[4:])
    hello12 = bytes.fromhex("16030300a5010000a10303") + bytes(range(32))
    prefix_err("dec_tls_record_1_2", "a TLS 1.2 record header 16 03 03 00 a5",
               hello12[:4], "LOOKS_LIKE_TLS", tail=hello12[4:])
    prefix_err("dec_tls_w8", "width 8: a ClientHello start is TLS",
               hello[:8], "LOOKS_LIKE_TLS", {"prefix_width": 8}, tail=hello[8:])
    prefix_err("dec_tls_w2_little_small_limit",
               "width 2 little-endian with max_header 512: 16 03 = 790 is over the limit and TLS",
               hello[:2], "LOOKS_LIKE_TLS", {"prefix_width": 2, "max_header": 512},
               tail=hello[2:])
    prefix_err("dec_tls_second_frame", "TLS after a valid frame: frame 1, its first byte",
               hello[:4], "LOOKS_LIKE_TLS", before=1, tail=hello[4:])
    prefix_err("dec_not_tls_16_04", "16 04 is not a TLS record start: HEADER_TOO_LARGE",
               b"\x16\x04\x01\x02", "HEADER_TOO_LARGE", declared=0x02010416, limit=65536)


def gen_decode_header_errors():
    # BOM
    hdr_err("dec_bom", "a header that starts with a UTF-8 byte-order mark",
            b"", b'\xef\xbb\xbf{"size":0}', "BOM")
    hdr_err("dec_bom_only", "a 3-octet header that is just a BOM", b"", b"\xef\xbb\xbf", "BOM")
    hdr_err("dec_bom_after_space", "a BOM after white space is a non-ASCII byte outside a string",
            b" ", b'\xef\xbb\xbf{"size":0}', "JSON_SYNTAX")
    hdr_err("dec_bom_partial", "EF BB not followed by BF is no BOM: JSON_SYNTAX at the EF",
            b"", b'\xef\xbb{"size":0}', "JSON_SYNTAX")
    hdr_err("dec_utf16_bom", "a UTF-16 BOM (FF FE) is not JSON: JSON_SYNTAX",
            b"", b'\xff\xfe{\x00}\x00', "JSON_SYNTAX")
    # NOT_OBJECT
    for nm, text in (("array", "[1]"), ("string", '"size"'), ("number", "5"),
                     ("negative", "-1"), ("true", "true"), ("false", "false"),
                     ("null", "null")):
        hdr_err("dec_not_object_" + nm, "the header is %s, not an object" % text,
                b"", text, "NOT_OBJECT")
    hdr_err("dec_not_object_after_space", "leading white space, then an array: offset of the [",
            b" \r\n\t", b'[{"size":0}]', "NOT_OBJECT")
    hdr_err("dec_not_object_bad_literal",
            "only the first byte decides: 'nonsense' starts like null, so NOT_OBJECT",
            b"", b"nonsense", "NOT_OBJECT")
    # JSON_SYNTAX
    js = "JSON_SYNTAX"
    cases = [
        ("bad_escape", "an unknown escape letter: offset of the letter",
         '{"size":0,"a":"\\', 'x"}'),
        ("bad_escape_capital_u", "\\U is not an escape", '{"size":0,"a":"\\', 'U0041"}'),
        ("bad_escape_quote", "\\' is not an escape", '{"size":0,"a":"\\', "'\"}"),
        ("bad_hex", "a non-hex digit in \\u: offset of that digit",
         '{"size":0,"a":"\\u00', 'g1"}'),
        ("short_hex", "\\u with two digits then a quote: offset of the quote",
         '{"size":0,"a":"\\u12', '"}'),
        ("control_lf_in_string", "a raw LF inside a string", '{"size":0,"a":"x', '\ny"}'),
        ("control_nul_in_string", "a raw NUL inside a string", '{"size":0,"a":"', '\x00"}'),
        ("control_1f_in_name", "a raw 0x1F inside a name", '{"size":0,"', '\x1f":0}'),
        ("control_tab_in_string", "a raw HT inside a string", '{"size":0,"a":"', '\t"}'),
        ("leading_zero", "01 fails at the 1", '{"size":0,"n":0', "1}"),
        ("neg_leading_zero", "-01 fails at the 1", '{"size":0,"n":-0', "1}"),
        ("minus_alone", "- not followed by a digit", '{"size":0,"n":-', "a}"),
        ("fraction_no_digit", "1. not followed by a digit: offset of the }",
         '{"size":0,"n":1.', "}"),
        ("exponent_no_digit", "1e+ not followed by a digit", '{"size":0,"n":1e+', "}"),
        ("leading_dot", ".5 cannot start a value", '{"size":0,"n":', ".5}"),
        ("plus_sign", "+1 cannot start a value", '{"size":0,"n":', "+1}"),
        ("hex_number", "0x10: the x cannot follow the 0", '{"size":0,"n":0', "x10}"),
        ("nan", "NaN is not JSON", '{"size":0,"n":', "NaN}"),
        ("infinity", "Infinity is not JSON", '{"size":0,"n":-', "Infinity}"),
        ("trailing_comma_object", "a trailing comma in an object: offset of the }",
         '{"size":0,', "}"),
        ("trailing_comma_array", "a trailing comma in an array: offset of the ]",
         '{"size":0,"a":[1,', "]}"),
        ("missing_colon", "a name without a colon", '{"size" ', "0}"),
        ("missing_comma", "two members without a comma", '{"size":0 ', '"a":1}'),
        ("missing_value", "a member without a value", '{"size":0,"a":', "}"),
        ("size_value_missing", "the size member without a value: } cannot start a value",
         '{"size":', "}"),
        ("size_value_plus", "+1 as size: + cannot start a value, so JSON_SYNTAX",
         '{"size":', "+1}"),
        ("size_leading_zero", "size 01: the number is malformed at the 1", '{"size":0', "1}"),
        ("size_double_zero", "size 00: malformed at the second 0", '{"size":0', "0}"),
        ("size_fraction_no_digit", "size 1. then }: malformed at the }", '{"size":1.', "}"),
        ("size_two_numbers", "size 1 2: the 2 cannot follow", '{"size":1 ', "2}"),
        ("single_quotes", "single-quoted names are not JSON", "{", "'size':0}"),
        ("unquoted_name", "unquoted names are not JSON", "{", "size:0}"),
        ("comment", "comments are not JSON", '{"size":0,', '/*c*/"a":1}'),
        ("capital_true", "True is not a literal", '{"size":0,"t":', "True}"),
        ("bad_literal", "tru3: the 3 cannot continue true", '{"size":0,"t":tru', "3}"),
        ("bad_literal_null", "nul}: the } cannot continue null", '{"size":0,"z":nul', "}"),
        ("garbage_after_object", "a byte after the top-level object", '{"size":0} ', "x"),
        ("second_object", "a second object after the first", '{"size":0}', "{}"),
        ("nbsp_outside_string", "U+00A0 is not JSON white space: offset of its C2",
         '{"size":0,', '\u00a0"a":1}'),
        ("form_feed_outside_string", "FF (0x0C) is not JSON white space", '{"size":0,', '\f"a":1}'),
        ("vertical_tab", "VT (0x0B) is not JSON white space", "{", '\x0b"size":0}'),
        ("nul_outside_string", "NUL outside a string", '{"size":0}', "\x00"),
        ("non_ascii_outside_string", "a non-ASCII character outside a string: offset of its lead",
         '{"size":0,"a":', "\u00e9}"),
        ("close_bracket_mismatch", "an object closed by ]", '{"size":0,"a":[1', "}}"),
        ("colon_in_array", "a colon inside an array", '{"size":0,"a":[1', ":2]}"),
        ("not_a_value_start", "a header starting with a byte that cannot start JSON", "", "x"),
        ("close_brace_start", "a header starting with }", "", "}"),
        ("name_not_string", "an object whose name is not a string", "{", "1:2}"),
    ]
    for nm, desc, pre, post in cases:
        hdr_err("dec_json_" + nm, desc, pre, post, js)
    ends = [
        ("ends_in_object", "the header ends before the object closes", '{"size":0'),
        ("ends_after_comma", "the header ends after a comma", '{"size":0,'),
        ("ends_in_string", "the header ends inside a string", '{"size":0,"a":"abc'),
        ("ends_in_escape", "the header ends right after a backslash", '{"size":0,"a":"\\'),
        ("ends_in_u_escape", "the header ends inside a \\u escape", '{"size":0,"a":"\\u00'),
        ("ends_in_literal", "the header ends inside true", '{"size":0,"a":tru'),
        ("ends_in_nested", "the header ends inside a nested array", '{"size":0,"a":[[1]'),
        ("only_whitespace", "a header of white space only", " \r\n\t "),
        ("only_open_brace", "a header that is just {", "{"),
    ]
    for nm, desc, text in ends:
        hdr_err("dec_json_" + nm, desc + ": offset one past the header", text, "", js)
    # BAD_UTF8 (inside strings; offset of the lead byte)
    bu = "BAD_UTF8"
    cases = [
        ("overlong_2", "overlong 2-octet C0 AF", '{"size":0,"a":"', b'\xc0\xaf"}'),
        ("overlong_c1", "overlong 2-octet C1 BF", '{"size":0,"a":"x', b'\xc1\xbf"}'),
        ("overlong_3", "overlong 3-octet E0 80 AF", '{"size":0,"a":"', b'\xe0\x80\xaf"}'),
        ("overlong_4", "overlong 4-octet F0 80 80 AF", '{"size":0,"a":"', b'\xf0\x80\x80\xaf"}'),
        ("surrogate_d800", "the UTF-8 form of a surrogate, ED A0 80", '{"size":0,"a":"',
         b'\xed\xa0\x80"}'),
        ("surrogate_dfff", "the UTF-8 form of a surrogate, ED BF BF", '{"size":0,"a":"\u00e9',
         b'\xed\xbf\xbf"}'),
        ("above_10ffff", "F4 90 80 80 would be U+110000", '{"size":0,"a":"', b'\xf4\x90\x80\x80"}'),
        ("lead_f5", "F5 can never start UTF-8", '{"size":0,"a":"', b'\xf5\x80\x80\x80"}'),
        ("lead_ff", "FF can never appear", '{"size":0,"a":"', b'\xff"}'),
        ("lead_fe", "FE can never appear", '{"size":0,"a":"', b'\xfe\xff"}'),
        ("five_octet_form", "F8 88 80 80 80, an old 5-octet form", '{"size":0,"a":"',
         b'\xf8\x88\x80\x80\x80"}'),
        ("stray_continuation", "a lone continuation byte 80 is its own lead",
         '{"size":0,"a":"ab', b'\x80cd"}'),
        ("stray_continuation_after_char", "BF after a complete 2-octet character",
         '{"size":0,"a":"\u00e9', b'\xbf"}'),
        ("cut_by_quote", "E6 97 then the closing quote: offset of the E6",
         '{"size":0,"a":"', b'\xe6\x97"}'),
        ("cut_by_ascii", "C3 followed by A", '{"size":0,"a":"', b'\xc3A"}'),
        ("cut_4_by_quote", "F0 9F 98 then a quote", '{"size":0,"a":"', b'\xf0\x9f\x98"}'),
        ("latin1", "ISO-8859-1 e-acute (E9) alone", '{"size":0,"a":"caf', b'\xe9"}'),
        ("in_name", "invalid UTF-8 in a member name", '{"size":0,"', b'\xc0\x80":1}'),
        ("in_nested_array", "invalid UTF-8 in a string inside nested arrays",
         '{"size":0,"a":[[1,"ok","', b'\x80"]]}'),
        ("after_multibyte", "the offset counts octets, after 2-, 3- and 4-octet characters",
         '{"size":0,"a":"\u00e9\u20ac\U0001F600', b'\xed\xa0\x80"}'),
    ]
    for nm, desc, pre, post in cases:
        hdr_err("dec_utf8_" + nm, desc, pre, post, bu)
    for nm, desc, tail in (("2", "C3", b"\xc3"), ("3", "E2 82", b"\xe2\x82"),
                           ("4", "F0 9F 98", b"\xf0\x9f\x98")):
        hdr_err("dec_utf8_truncated_at_end_" + nm,
                "the header ends in the middle of a character (%s): BAD_UTF8 at its lead" % desc,
                '{"size":0,"a":"', tail, bu)
    # LONE_SURROGATE (offset of the backslash)
    ls = "LONE_SURROGATE"
    cases = [
        ("high_alone", "a high surrogate escape then the closing quote",
         '{"size":0,"a":"', '\\uD800"}'),
        ("low_alone", "a low surrogate escape alone", '{"size":0,"a":"', '\\uDC00"}'),
        ("high_then_bmp", "a high surrogate followed by a non-surrogate escape",
         '{"size":0,"a":"', '\\uD800\\u0041"}'),
        ("high_then_char", "a high surrogate followed by a plain character",
         '{"size":0,"a":"', '\\ud83dx"}'),
        ("high_then_high", "two high surrogates: the first is unpaired",
         '{"size":0,"a":"', '\\uD800\\uD800"}'),
        ("high_then_escape", "a high surrogate followed by \\n", '{"size":0,"a":"', '\\uDBFF\\n"}'),
        ("low_then_high", "inverted pair: the low one first is unpaired",
         '{"size":0,"a":"', '\\uDD1E\\uD834"}'),
        ("low_after_pair", "a valid pair, then a lone low surrogate",
         '{"size":0,"a":"\\ud83d\\ude00', '\\udc00"}'),
        ("in_name", "a lone surrogate in a member name", '{"size":0,"', '\\uDFAA":0}'),
        ("high_then_utf8", "a high escape then the raw UTF-8 of a character",
         '{"size":0,"a":"', '\\uD834\u00e9"}'),
    ]
    for nm, desc, pre, post in cases:
        hdr_err("dec_surrogate_" + nm, desc, pre, post, ls)
    hdr_err("dec_surrogate_high_then_bad_hex",
            "a high surrogate followed by a broken \\u escape: the surrogate comes first",
            '{"size":0,"a":"', '\\uD800\\u00G0"}', ls)
    hdr_err("dec_surrogate_high_at_header_end",
            "a high surrogate escape as the header's last octets: the surrogate comes first",
            '{"size":0,"a":"', '\\uD800', ls)
    # DUPLICATE_NAME (offset of the later name's opening quote)
    dn = "DUPLICATE_NAME"
    cases = [
        ("top", "a name twice at the top level", '{"size":0,"a":1,', '"a":2}'),
        ("same_value", "a name twice with the same value", '{"size":0,"a":1,', '"a":1}'),
        ("size_twice", "the size member twice", '{"size":0,', '"size":0}'),
        ("nested", "a name twice in a nested object", '{"size":0,"o":{"b":1,', '"b":2}}'),
        ("in_array_object", "a name twice in an object inside an array",
         '{"size":0,"a":[{},{"x":1,', '"x":1}]}'),
        ("via_escape", "a and \\u0061 are the same name", '{"size":0,"a":1,', '"\\u0061":2}'),
        ("via_escape_first", "\\u0061 first, then a plain a", '{"size":0,"\\u0061":1,', '"a":2}'),
        ("via_escape_long", "a 12-octet name, plain and with one escape",
         '{"size":0,"content_type":1,', '"content\\u005ftype":2}'),
        ("via_escape_non_ascii", "\u00e9 as UTF-8 and as \\u00e9 are the same name",
         '{"size":0,"\u00e9":1,', '"\\u00e9":2}'),
        ("via_surrogate_pair", "an emoji as UTF-8 and as a surrogate pair are the same name",
         '{"size":0,"\U0001F600":1,', '"\\ud83d\\ude00":2}'),
        ("empty_name", "the empty name twice", '{"":1,"size":0,', '"":2}'),
        ("before_bad_byte", "reported at the name, before a later syntax error",
         '{"size":0,"a":1,', '"a" x}'),
        ("before_bad_utf8", "the first error in byte order wins: the duplicate before bad UTF-8",
         '{"size":0,"a":1,', b'"a":"\xff"}'),
    ]
    for nm, desc, pre, post in cases:
        hdr_err("dec_duplicate_" + nm, desc, pre, post, dn)
    hdr_err("dec_utf8_before_duplicate", "the first error in byte order wins: bad UTF-8 first",
            '{"size":0,"a":"', b'\xff","a":1}', bu)
    # TOO_DEEP (offset of the [ or { that would open level 33)
    td = "TOO_DEEP"
    hdr_err("dec_too_deep_arrays_33", "32 nested arrays in the header object: level 33 is refused",
            '{"size":0,"a":' + "[" * 31, "[" + "]" * 32 + "}", td)
    hdr_err("dec_too_deep_objects_33", "32 nested objects in the header object",
            '{"size":0,"a":' + '{"a":' * 31, '{"a":0}' + "}" * 31 + "}", td)
    hdr_err("dec_too_deep_mixed_33", "arrays and objects alternating to level 33",
            '{"size":0,"a":' + '[{"a":' * 15 + "[", "{}" + "]" + '}]' * 15 + "}", td)
    hdr_err("dec_too_deep_500_arrays", "500 nested arrays (JSONTestSuite i_structure_500_nested_arrays)",
            '{"size":0,"v":' + "[" * 31, "[" * 469 + "]" * 500 + "}", td)
    hdr_err("dec_too_deep_before_syntax", "TOO_DEEP is reported at the opening bracket, "
            "before the garbage that follows it", '{"size":0,"a":' + "[" * 31, "[x", td)
    # TOO_MANY_MEMBERS (offset of the 513th member name's opening quote)
    tm = "TOO_MANY_MEMBERS"
    hdr_err("dec_too_many_members_513", "513 members at the top level",
            '{"size":0' + "".join(',"m%03d":0' % i for i in range(511)) + ",", '"m511":0}', tm)
    hdr_err("dec_too_many_members_nested", "members of nested objects count: the 513th is nested",
            '{"size":0,"o":{' + ",".join('"m%03d":0' % i for i in range(510)) + ",",
            '"m510":0}}', tm)
    hdr_err("dec_too_many_members_in_array_objects",
            "members of objects inside arrays count: size + arr + 511",
            '{"size":0,"arr":[' + ",".join('{"a":%d}' % i for i in range(510)) + ",{",
            '"a":510}]}', tm)
    many = '{"size":0' + "".join(',"m%03d":0' % i for i in range(511)) + ","
    hdr_err("dec_too_many_members_before_duplicate",
            "the count is checked at the 513th name's quote, before the name is compared",
            many, '"m000":0}', tm)
    hdr_err("dec_too_many_members_before_bad_utf8",
            "the count is checked at the 513th name's quote, before the name is read",
            many, b'"\xff":0}', tm)
    # SIZE_MISSING (offset one past the header)
    sm = "SIZE_MISSING"
    for nm, desc, text, cfg in (
            ("empty_object", "{} has no size member", "{}", None),
            ("other_members", "a header without the size member", '{"name":"a","len":5}', None),
            ("case", "Size is not size", '{"Size":5}', None),
            ("nested_only", "a size member in a nested object does not count",
             '{"meta":{"size":5}}', None),
            ("trailing_space", "white space after the object: the offset is still one past "
             "the header", '{"a":1}  \n', None),
            ("configured_name", "with size_name data_size, a member named size is not it",
             '{"size":5}', {"size_name": "data_size"}),
            ("prefix_of_name", "sizes is not size", '{"sizes":5}', None)):
        hdr_err("dec_size_missing_" + nm, desc, text, "", sm, cfg)
    # SIZE_INVALID (offset of the value's first byte)
    si = "SIZE_INVALID"
    for nm, value in (("negative", "-1"), ("negative_zero", "-0"), ("fraction", "1.0"),
                      ("zero_fraction", "0.0"), ("exponent", "1e3"), ("exponent_capital", "1E3"),
                      ("exponent_zero", "0e0"), ("string", '"1"'), ("true", "true"),
                      ("false", "false"), ("null", "null"), ("array", "[1]"),
                      ("object", '{"n":1}'), ("huge_fraction", "99999999999999999999.5")):
        hdr_err("dec_size_invalid_" + nm, "size %s is not digits only" % value,
                '{"size":', value + "}", si)
    hdr_err("dec_size_invalid_before_bad_utf8",
            "the size value is checked when reached, before a later error",
            '{"size":', b'-1,"a":"\xff"}', si)
    hdr_err("dec_size_invalid_configured_name", "with size_name file_size, \"4\" is refused",
            '{"file_name":"x","file_size":', '"4"}', si, {"size_name": "file_size"})
    hdr_err("dec_size_invalid_after_space", "white space before the value: offset of the value",
            '{"size" : \t', "1.5 }", si)
    # BODY_TOO_LARGE (header size member; offset of the value's first byte)
    bt = "BODY_TOO_LARGE"
    for nm, digits, declared in (("2p53", str(2**53), 2**53),
                                 ("2p64", str(2**64), U64_MAX),
                                 ("2p64_minus_1", str(U64_MAX), U64_MAX),
                                 ("1e21", "1" + "0" * 21, U64_MAX),
                                 ("many_digits", "9" * 40, U64_MAX)):
        hdr_err("dec_body_too_large_" + nm, "size %s is over max_body 2^53-1" % digits,
                '{"size":', digits + "}", bt, declared=declared, limit=MAX_BODY)
    hdr_err("dec_body_too_large_at_header_end",
            "the size number ends with the header: BODY_TOO_LARGE at its first digit",
            '{"size":', "99999999999999999999", bt, declared=U64_MAX, limit=MAX_BODY)
    hdr_err("dec_size_invalid_at_header_end",
            "the size number 1.5 ends with the header: SIZE_INVALID at its first digit",
            '{"size":', "1.5", si)
    s = Stream()
    s.put_prefix(len(size_hdr(MAX_BODY)))
    s.put(size_hdr(MAX_BODY))
    s.put(b"abc")
    dec("dec_body_at_max_accepted",
        "size 2^53-1 is accepted; the stream then ends 2^53-4 octets short",
        s, err("TRUNCATED", len(s.data), 0, missing=MAX_BODY - 3))
    hdr_err("dec_body_too_large_small_limit", "size 17 over a configured max_body of 16",
            '{"name":"x","size":', "17}", bt, {"max_body": 16}, declared=17, limit=16)
    hdr_err("dec_body_too_large_before_bad_utf8",
            "the size is checked when reached: BODY_TOO_LARGE before a later bad byte",
            '{"size":', b'9007199254740992,"a":"\xff"}', bt, declared=2**53, limit=MAX_BODY)
    hdr_err("dec_body_too_large_second_frame", "BODY_TOO_LARGE in frame 1",
            '{"size":', "100}", bt, {"max_body": 99}, before=1, declared=100, limit=99)


def gen_decode_truncated():
    tr = "TRUNCATED"
    frame = prefix(10, None) + b'{"size":3}' + b"abc"
    for cut, where, missing in ((1, "in the prefix", 3), (3, "in the prefix", 1),
                                (4, "right after the prefix", 10),
                                (8, "in the header", 6), (14, "right after the header", 3),
                                (16, "in the body", 1)):
        s = Stream()
        s.put(frame[:cut])
        dec("dec_truncated_%d_of_17" % cut,
            "the stream ends %s after %d of 17 octets: %d still missing" % (where, cut, missing),
            s, err(tr, cut, 0, missing=missing))
    s = Stream()
    s.put_prefix(20)
    s.put(b"x\xff")
    dec("dec_truncated_header_not_yet_checked",
        "a header is checked only once complete: a stream ending inside one is TRUNCATED, "
        "whatever its first octets are", s, err(tr, 6, 0, missing=18))
    s = Stream()
    s.frame('{"size":2}', b"ok")
    s.put(frame[:7])
    dec("dec_truncated_second_frame", "the first frame is complete, the second ends in its header",
        s, err(tr, len(s.data), 1, missing=4 + 10 - 7))
    s = Stream({"prefix_width": 8, "byte_order": "big"})
    s.put(prefix(10, s.cfg)[:5])
    dec("dec_truncated_w8_prefix", "width 8: the stream ends after 5 prefix octets",
        s, err(tr, 5, 0, missing=3))
    s = Stream({"profile": "raw"})
    s.frame(None, b"one")
    s.put(prefix(5, s.cfg) + b"tw")
    dec("dec_truncated_raw_body", "raw profile: the second body ends 3 octets short",
        s, err(tr, len(s.data), 1, missing=3))
    s = Stream({"profile": "raw"})
    s.put(b"GET / HTTP/1.1\r\n\r\n")
    dec("dec_truncated_raw_text_within_limit",
        "raw profile with the default max_body: 'GET ' is a legal body length (542393671), "
        "so no text is detected and the stream ends short",
        s, err(tr, 18, 0, missing=0x20544547 - 14))


def gen_decode_raw_errors():
    raw = {"profile": "raw", "max_body": 1024}
    prefix_err("dec_raw_body_too_large", "raw profile: prefix 1025 over max_body 1024",
               (1025).to_bytes(4, "little"), "BODY_TOO_LARGE", raw,
               declared=1025, limit=1024)
    prefix_err("dec_raw_body_too_large_w8", "raw profile, width 8: prefix 2^53 over 2^53-1",
               (2**53).to_bytes(8, "little"), "BODY_TOO_LARGE",
               {"profile": "raw", "prefix_width": 8}, declared=2**53, limit=MAX_BODY)
    prefix_err("dec_raw_body_too_large_second_frame", "raw profile: the limit in frame 1",
               (2000).to_bytes(4, "little"), "BODY_TOO_LARGE", raw, before=1,
               declared=2000, limit=1024)
    http = b"GET / HTTP/1.1\r\n\r\n"
    prefix_err("dec_raw_text", "raw profile with max_body 1024: 'GET ' is text",
               http[:4], "LOOKS_LIKE_TEXT", raw, tail=http[4:])
    prefix_err("dec_raw_text_w8_default", "raw profile, width 8, default max_body: "
               "'GET / HT' is over 2^53-1 and text", http[:8], "LOOKS_LIKE_TEXT",
               {"profile": "raw", "prefix_width": 8}, tail=http[8:])
    hello = bytes.fromhex("1603010200010001fc0303")
    prefix_err("dec_raw_tls", "raw profile with max_body 1024: a TLS record",
               hello[:4], "LOOKS_LIKE_TLS", raw, tail=hello[4:])
    prefix_err("dec_raw_tls_w8_default", "raw profile, width 8, default max_body: a TLS record",
               hello[:8], "LOOKS_LIKE_TLS", {"profile": "raw", "prefix_width": 8},
               tail=hello[8:])


def gen_datagrams():
    dt, dl = "DATAGRAM_TRUNCATED", "DATAGRAM_TRAILING"
    ok("dgram_ok", "one whole frame in one datagram", [('{"size":5}', b"hello")], datagram=True)
    ok("dgram_ok_empty_body", "a datagram holding a frame with an empty body",
       [('{"size":0}', b"")], datagram=True)
    ok("dgram_ok_raw", "raw profile: one frame in one datagram", [b"raw"], {"profile": "raw"},
       datagram=True)
    frame = prefix(10, None) + b'{"size":5}' + b"hello"
    for cut, desc in ((0, "an empty datagram"), (3, "shorter than the prefix"),
                      (9, "shorter than prefix + header"), (16, "shorter than the whole frame")):
        s = Stream()
        s.put(frame[:cut])
        dec("dgram_truncated_%d" % cut, "%s (%d of 19 octets)" % (desc, cut), s,
            err(dt, cut, 0), datagram=True)
    s = Stream()
    s.put(frame + b"!")
    dec("dgram_trailing_one", "one octet after the frame: offset W+H+N", s,
        err(dl, len(frame), 0), datagram=True)
    s = Stream()
    s.put(frame + frame)
    dec("dgram_trailing_two_frames", "two frames in one datagram: the second is trailing",
        s, err(dl, len(frame), 0), datagram=True)
    s = Stream()
    s.put(prefix(12, None) + b'{"size":+5}')  # 11 of the 12 header octets
    dec("dgram_truncated_before_header_check",
        "a bad header in a datagram too short to hold it: length is checked first",
        s, err(dt, len(s.data), 0), datagram=True)
    hdr_err("dgram_header_error_with_trailing",
            "a bad header in a datagram with bytes after the frame: the header error wins",
            '{"size":', "+5}", "JSON_SYNTAX", body=b"helloEXTRA", datagram=True)
    hdr_err("dgram_size_invalid_short_body",
            "SIZE_INVALID in a datagram whose body is short: the header is checked first",
            '{"size":', "5.0}", "SIZE_INVALID", body=b"hel", datagram=True)
    hdr_err("dgram_body_too_large", "BODY_TOO_LARGE from the header, before the length check",
            '{"size":', "100}", "BODY_TOO_LARGE", {"max_body": 99}, body=b"x" * 10,
            datagram=True, declared=100, limit=99)
    prefix_err("dgram_header_too_large", "HEADER_TOO_LARGE before the header length check",
               (65537).to_bytes(4, "little"), "HEADER_TOO_LARGE", tail=b'{"size":0}',
               datagram=True, declared=65537, limit=65536)
    prefix_err("dgram_header_empty", "a datagram whose prefix is 0", b"\0\0\0\0", "HEADER_EMPTY",
               tail=b'{"size":0}', datagram=True)
    http = b"GET /index.html HTTP/1.0\r\n\r\n"
    prefix_err("dgram_text", "an HTTP request as a datagram", http[:4], "LOOKS_LIKE_TEXT",
               tail=http[4:], datagram=True)
    s = Stream({"profile": "raw"})
    s.put(prefix(5, s.cfg) + b"abc")
    dec("dgram_raw_truncated", "raw profile: the datagram is 2 octets short", s,
        err(dt, len(s.data), 0), datagram=True)
    s = Stream({"profile": "raw"})
    s.put(prefix(3, s.cfg) + b"abcd")
    dec("dgram_raw_trailing", "raw profile: one octet after the body", s,
        err(dl, 7, 0), datagram=True)
    hdr_err("dgram_size_missing", "SIZE_MISSING in a datagram",
            '{"len":5}', "", "SIZE_MISSING", body=b"hello", datagram=True)


def gen_config():
    config_err("config_width_3", "prefix width 3 is not 1, 2, 4 or 8", {"prefix_width": 3})
    config_err("config_width_16", "prefix width 16 is not 1, 2, 4 or 8", {"prefix_width": 16})
    config_err("config_max_body_2p53", "max_body 2^53 is above 2^53-1", {"max_body": 2**53})
    config_err("config_raw_max_body_2p64", "raw profile, max_body 2^64-1",
               {"profile": "raw", "prefix_width": 8, "max_body": U64_MAX})
    config_err("config_size_name_empty", "an empty size name", {"size_name": ""})
    config_err("config_size_name_quote", "a size name with a double quote",
               {"size_name": 'my"size'})
    config_err("config_size_name_backslash", "a size name with a backslash",
               {"size_name": "my\\size"})
    config_err("config_size_name_65", "a 65-octet size name (the most is 64)",
               {"size_name": "s" * 65})
    config_err("config_size_name_tab", "a size name with a control character",
               {"size_name": "a\tb"})
    config_err("config_size_name_del", "a size name with DEL (0x7F)", {"size_name": "a\x7f"})
    config_err("config_size_name_non_ascii", "a size name with a non-ASCII character",
               {"size_name": "gr\u00f6\u00dfe"})


# ---------------------------------------------------------------------------
# Encode vectors and the canonical encoder that computes their bytes
# ---------------------------------------------------------------------------
def canon_string(s):
    """A str as a canonical JSON string, UTF-8 encoded (fails on lone surrogates)."""
    return json.dumps(s, ensure_ascii=False).encode("utf-8")


def canon_raw(text):
    """Re-emits raw JSON text canonically: no white space, strings re-escaped
    minimally, numbers copied as written."""
    def emit(v):
        if isinstance(v, NumText):
            return str(v).encode("ascii")
        if isinstance(v, Obj):
            return b"{" + b",".join(canon_string(k) + b":" + emit(x) for k, x in v) + b"}"
        if isinstance(v, list):
            return b"[" + b",".join(emit(x) for x in v) + b"]"
        if v is True:
            return b"true"
        if v is False:
            return b"false"
        if v is None:
            return b"null"
        assert isinstance(v, str)
        return canon_string(v)
    return emit(parse_keep_numbers(text))


def member_parts(m):
    """A member in either vector form -> (name bytes or str, type, value)."""
    if isinstance(m, dict):
        name = bytes.fromhex(m["name_hex"]) if "name_hex" in m else m["name"]
        value = bytes.fromhex(m["value_hex"]) if "value_hex" in m else m.get("value")
        return name, m["type"], value
    return m[0], m[1], m[2]


def canon_value(typ, value):
    if typ == "string":
        return canon_string(value)
    if typ == "int":
        assert -2**63 <= value < 2**63
        return str(value).encode("ascii")
    if typ == "uint":
        assert 0 <= value <= U64_MAX
        return str(value).encode("ascii")
    if typ == "bool":
        return b"true" if value else b"false"
    if typ == "null":
        return b"null"
    if typ == "raw":
        return canon_raw(value)
    raise AssertionError(typ)


def canon_header(cfg, body_size, members):
    out = b'{"' + opt(cfg, "size_name").encode("ascii") + b'":' + str(body_size).encode("ascii")
    for m in members:
        name, typ, value = member_parts(m)
        out += b"," + canon_string(name) + b":" + canon_value(typ, value)
    return out + b"}"


def enc(name, desc, members, body=b"", cfg=None, error=None):
    v = {"name": name, "description": desc, "kind": "encode"}
    if cfg:
        v["config"] = cfg
    v["members"] = members
    v["body"] = bytes(body).hex()
    if error is None:
        w = opt(cfg, "prefix_width")
        assert len(body) <= opt(cfg, "max_body")
        if opt(cfg, "profile") == "raw":
            assert not members
            frame = prefix(len(body), cfg) + bytes(body)
        else:
            header = canon_header(cfg, len(body), members)
            assert len(header) <= min(opt(cfg, "max_header"), 2 ** (8 * w) - 1)
            header.decode("utf-8")  # valid UTF-8
            names = [member_parts(m)[0] for m in members] + [opt(cfg, "size_name")]
            assert len(set(names)) == len(names)
            frame = prefix(len(header), cfg) + header + bytes(body)
        v["frame"] = frame.hex()
        v["error"] = None
    else:
        v["error"] = {"name": error}
    add(v)


def gen_encode():
    enc("enc_minimal", "no members, empty body: {\"size\":0}", [])
    enc("enc_body", "one string member and a 5-octet body",
        [["file_name", "string", "notes.txt"]], b"hello")
    controls = "".join(chr(c) for c in range(0x20))
    enc("enc_escape_controls",
        "every control character: \\b \\f \\n \\r \\t short forms, the rest \\u00xx lowercase",
        [["c", "string", controls]])
    enc("enc_escape_quote_backslash", "only \" and \\ are escaped among printable ASCII",
        [["q", "string", 'say "hi" \\ bye']])
    enc("enc_no_escape_del_slash", "DEL and / are written as themselves",
        [["d", "string", "\x7f/</script>"]])
    enc("enc_non_ascii_as_utf8", "non-ASCII, U+2028, U+2029, noncharacters and emoji as UTF-8",
        [["u", "string", "\u00e9\u65e5\u2028\u2029\ufffe\U0001F600\U0010FFFF"]])
    enc("enc_name_escapes", "names are escaped like strings",
        [["a\"b\\c\n\u0001\u00e9", "string", ""], ["", "string", "empty name"]])
    enc("enc_nul_in_string", "a string holding U+0000 is written \\u0000",
        [["n", "string", "a\u0000b"]])
    enc("enc_int64_limits", "int64 minimum and maximum, 0 and -1",
        [["min", "int", -2**63], ["max", "int", 2**63 - 1], ["zero", "int", 0],
         ["neg", "int", -1]])
    enc("enc_uint64_max", "uint64 maximum and 0",
        [["max", "uint", U64_MAX], ["zero", "uint", 0]])
    enc("enc_bools_null", "true, false and null",
        [["t", "bool", True], ["f", "bool", False], ["z", "null", None]])
    enc("enc_order_kept", "members keep the application's order, after size",
        [["z", "int", 1], ["a", "int", 2], ["m", "int", 3]])
    enc("enc_raw_compacted", "raw JSON loses its white space; \\u0041 is re-escaped as A",
        [["j", "raw", ' { "a" : [ 1 , 2 , {"b" :\tnull} ] ,\r\n "c" : "\\u0041" } ']])
    enc("enc_raw_number_verbatim", "raw numbers are copied exactly as written",
        [["n", "raw", "[1.50e+3, -0, 1E400, 0.000, 123456789012345678901234567890, -1.5E-7]"]])
    enc("enc_raw_scalar_number", "a raw number alone", [["x", "raw", " 2.50 "]])
    enc("enc_raw_string_reescaped",
        "raw strings are re-escaped minimally: \\/ and \\u00e9 and a surrogate pair become "
        "themselves, \\u001F becomes \\u001f",
        [["s", "raw", '"\\/\\u00e9\\ud83d\\ude00\\u001F\\u007f\\t\\u0022"']])
    enc("enc_raw_literals", "raw true, false, null, empty object and array",
        [["t", "raw", "true"], ["f", "raw", " false"], ["z", "raw", "null "],
         ["o", "raw", "{ }"], ["a", "raw", "[ ]"]])
    enc("enc_raw_nested_size_is_data", "a raw object may hold a member named size",
        [["meta", "raw", '{"size": "big"}']])
    enc("enc_raw_depth_32", "a raw value nested 31 deep makes the header 32 deep: allowed",
        [["a", "raw", "[" * 31 + "]" * 31]])
    members511 = [["m%03d" % i, "int", i] for i in range(511)]
    enc("enc_members_512", "511 members plus size: the member limit", members511)
    enc("enc_binary_body", "the body is copied as is", [], bytes([0, 0xFF, 0x10, 0x7B]))
    for w, order in ((1, "little"), (2, "big"), (2, "little"), (4, "big"), (8, "little"),
                     (8, "big")):
        cfg = {"prefix_width": w, "byte_order": order}
        enc("enc_w%d_%s" % (w, order), "prefix width %d, %s-endian" % (w, order),
            [["k", "string", "v"]], b"body", cfg)
    enc("enc_w2_big_long_header", "width 2 big-endian, a 300-octet header: prefix 01 2c",
        [["pad", "string", "p" * (300 - len('{"size":0,"pad":""}'))]], b"",
        {"prefix_width": 2, "byte_order": "big"})
    enc("enc_size_name_data_size", "size_name data_size is written first",
        [["file_name", "string", "a.txt"]], b"abc", {"size_name": "data_size"})
    enc("enc_size_name_file_size_size_ok",
        "with size_name file_size, a member named size is ordinary",
        [["size", "string", "large"]], b"xy", {"size_name": "file_size"})
    enc("enc_raw_profile", "raw profile: only the prefix and the body", [], b"hello",
        {"profile": "raw"})
    enc("enc_raw_profile_empty", "raw profile: an empty body", [], b"", {"profile": "raw"})
    enc("enc_raw_profile_w2_big", "raw profile, width 2 big-endian", [], b"x" * 258,
        {"profile": "raw", "prefix_width": 2, "byte_order": "big"})
    pad_h = canon_header({"max_header": 40}, 0, [["p", "string", ""]])
    fill = 40 - len(pad_h)
    enc("enc_header_at_max_header", "a header exactly max_header (40) octets",
        [["p", "string", "x" * fill]], b"", {"max_header": 40})
    enc("enc_body_at_max_body", "a body exactly max_body (4) octets", [], b"abcd",
        {"max_body": 4})
    # Errors.
    enc("enc_err_duplicate_name", "the same name twice",
        [["a", "int", 1], ["a", "int", 2]], error="DUPLICATE_NAME")
    enc("enc_err_duplicate_name_raw", "a duplicate name inside a raw object",
        [["o", "raw", '{"x":1,"x":2}']], error="DUPLICATE_NAME")
    enc("enc_err_duplicate_name_raw_escape", "a and \\u0061 inside a raw object",
        [["o", "raw", '{"a":1,"\\u0061":2}']], error="DUPLICATE_NAME")
    enc("enc_err_reserved_name", "a member named size is written by the builder itself",
        [["size", "int", 5]], error="RESERVED_NAME")
    enc("enc_err_reserved_name_configured", "with size_name data_size, data_size is reserved",
        [["data_size", "int", 5]], cfg={"size_name": "data_size"}, error="RESERVED_NAME")
    enc("enc_err_bad_utf8_name", "a name that is not UTF-8 (C0 80)",
        [{"name_hex": "c080", "type": "int", "value": 1}], error="BAD_UTF8")
    enc("enc_err_bad_utf8_value", "a string value that is not UTF-8 (ED A0 80, a surrogate)",
        [{"name": "s", "type": "string", "value_hex": "61eda080"}], error="BAD_UTF8")
    enc("enc_err_bad_utf8_value_truncated", "a string value ending inside a character (E2 82)",
        [{"name": "s", "type": "string", "value_hex": "e282"}], error="BAD_UTF8")
    enc("enc_err_bad_utf8_raw", "a raw string holding invalid UTF-8 (FF)",
        [{"name": "r", "type": "raw", "value_hex": "22ff22"}], error="BAD_UTF8")
    for nm, text in (("trailing_comma", "[1,]"), ("missing_value", '{"a":}'),
                     ("leading_zero", "01"), ("empty", ""), ("garbage_after", '{"a":1} x'),
                     ("two_values", "1 2"), ("single_quotes", "'a'"), ("nan", "NaN"),
                     ("unterminated", '"abc')):
        enc("enc_err_raw_json_syntax_" + nm, "raw value %r is not JSON" % text,
            [["j", "raw", text]], error="JSON_SYNTAX")
    enc("enc_err_raw_lone_surrogate", "a raw string with a lone surrogate escape",
        [["s", "raw", '"\\ud800"']], error="LONE_SURROGATE")
    enc("enc_err_raw_too_deep", "a raw value nested 32 deep makes the header 33 deep",
        [["a", "raw", "[" * 32 + "]" * 32]], error="TOO_DEEP")
    enc("enc_err_too_many_members", "512 members plus size is one too many",
        members511 + [["m511", "int", 511]], error="TOO_MANY_MEMBERS")
    enc("enc_err_too_many_members_raw", "members of a raw object count toward the limit",
        [["o", "raw", "{" + ",".join('"k%03d":0' % i for i in range(511)) + "}"]],
        error="TOO_MANY_MEMBERS")
    enc("enc_err_header_too_large", "a header one octet over max_header (40)",
        [["p", "string", "x" * (fill + 1)]], cfg={"max_header": 40}, error="HEADER_TOO_LARGE")
    enc("enc_err_header_too_large_w1", "width 1: a 256-octet header does not fit the prefix",
        [["p", "string", "x" * (256 - len('{"size":0,"p":""}'))]], cfg={"prefix_width": 1},
        error="HEADER_TOO_LARGE")
    enc("enc_err_body_too_large", "a 5-octet body over max_body 4", [], b"abcde",
        {"max_body": 4}, error="BODY_TOO_LARGE")
    enc("enc_err_body_too_large_raw", "raw profile: a 5-octet body over max_body 4", [],
        b"abcde", {"profile": "raw", "max_body": 4}, error="BODY_TOO_LARGE")
    enc("enc_err_body_too_large_raw_w1", "raw profile, width 1: a 256-octet body does not fit",
        [], b"\0" * 256, {"profile": "raw", "prefix_width": 1}, error="BODY_TOO_LARGE")
    enc("enc_err_raw_profile_member", "raw profile: no member may be added",
        [["a", "int", 1]], b"", {"profile": "raw"}, error="ARGUMENT")


def generate():
    gen_decode_valid()
    gen_decode_prefix_errors()
    gen_decode_header_errors()
    gen_decode_truncated()
    gen_decode_raw_errors()
    gen_datagrams()
    gen_config()
    gen_encode()
    return {v["name"] + ".json": dump_vector(v) for v in VECTORS}


def main(argv):
    check = "--check" in argv[1:]
    files = generate()
    # fuzz_regress_*.json are written by hand from fuzzing crashes (fuzz/README.md)
    existing = {f for f in os.listdir(HERE) if f.endswith(".json") and not f.startswith("fuzz_regress_")}
    bad = 0
    for fname, text in sorted(files.items()):
        path = os.path.join(HERE, fname)
        data = text.encode("ascii")
        old = None
        if fname in existing:
            with open(path, "rb") as f:
                old = f.read()
        if old != data:
            bad += 1
            if check:
                print("differs: " + fname)
            else:
                with open(path, "wb") as f:
                    f.write(data)
    for fname in sorted(existing - set(files)):
        bad += 1
        if check:
            print("not generated: " + fname)
        else:
            os.remove(os.path.join(HERE, fname))
    kinds = {}
    for v in VECTORS:
        key = v["kind"] if not v["error"] else v["kind"] + " " + v["error"]["name"]
        kinds[key] = kinds.get(key, 0) + 1
    if check:
        print("%d vectors, %d differ" % (len(files), bad))
        return 1 if bad else 0
    print("%d vectors written (%d changed)" % (len(files), bad))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
