"""Talking to c_peer (see c_peer.c for the command language), and the seeded
random generators of the interop tests."""

import json
import random
from typing import Any, Dict, List, Optional, Tuple

import libframe

# ----------------------------------------------------------------- commands


def config_cmd(cfg: libframe.Config) -> bytes:
    name = cfg.size_name.encode("ascii")
    return b"C %d %d %d %d %d %d\n" % (cfg.prefix_width, cfg.byte_order == "big", cfg.raw,
                                      cfg.max_header, cfg.max_body, len(name)) + name


def member_cmds(members: List[Tuple[str, Any, Any]]) -> bytes:
    """Members as (type, name, value): type s/i/u/b/n/r; name str|bytes;
    value str|bytes (s, r), int (i, u), bool (b), None (n)."""
    out = []
    for typ, name, value in members:
        n = name.encode("utf-8", "surrogatepass") if isinstance(name, str) else name
        if typ in ("s", "r"):
            v = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        elif typ in ("i", "u"):
            v = str(value).encode("ascii")
        elif typ == "b":
            v = b"1" if value else b"0"
        else:
            v = b""
        out.append(b"%s %d %d\n" % (typ.encode("ascii"), len(n), len(v)) + n + v)
    return b"".join(out)


def encode_cmd(members: List[Tuple[str, Any, Any]], body: bytes) -> bytes:
    return b"E %d %d\n" % (len(members), len(body)) + member_cmds(members) + body


def pattern_cmd(members: List[Tuple[str, Any, Any]], size: int, seed: int) -> bytes:
    return b"P %d %d %d\n" % (len(members), size, seed) + member_cmds(members)


def decode_cmd(stream: bytes, mode: str = "w") -> bytes:
    return b"D %s %d\n" % (mode.encode("ascii"), len(stream)) + stream


def header_cmd(header: bytes) -> bytes:
    return b"H %d\n" % len(header) + header


class Reader:
    """Parses c_peer's output."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def line(self) -> bytes:
        k = self.data.index(b"\n", self.pos)
        out = self.data[self.pos:k]
        self.pos = k + 1
        return out

    def take(self, n: int) -> bytes:
        out = self.data[self.pos:self.pos + n]
        if len(out) != n:
            raise AssertionError("c_peer output ends early")
        self.pos += n
        return out

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def encoded(self) -> Tuple[Optional[bytes], Optional[str]]:
        """(frame, None) or (None, error name) for an E command."""
        words = self.line().split()
        if words[0] == b"OK":
            return self.take(int(words[1])), None
        return None, words[1].decode("ascii")

    def decoded(self, with_body: bool) -> Tuple[List[Tuple[Any, int, int, bytes]], Dict[str, Any]]:
        """Frames [(header value, body size, crc32, body)] and the END result
        ({} for OK, else name/offset/frame/missing/declared/limit)."""
        frames = []
        while True:
            words = self.line().split()
            if words[0] == b"F":
                size, crc, dlen = int(words[1]), int(words[2]), int(words[3])
                dump = self.take(dlen)
                body = self.take(size) if with_body else b""
                frames.append((parse_dump(dump) if dump else {}, size, crc, body))
                continue
            assert words[0] == b"END", words
            if words[1] == b"OK":
                return frames, {}
            keys = ("offset", "frame", "missing", "declared", "limit")
            end: Dict[str, Any] = {"name": words[1].decode("ascii")}
            end.update(zip(keys, (int(w) for w in words[2:])))
            return frames, end

    def parsed(self) -> Tuple[str, int, int]:
        """(error name, position, body size) for an H command."""
        words = self.line().split()
        assert words[0] == b"R", words
        return words[1].decode("ascii"), int(words[2]), int(words[3])


def parse_dump(dump: bytes) -> Any:
    """The Python value of a c_peer header dump."""
    value, pos = _dump_value(dump, 0)
    assert pos == len(dump), "trailing bytes in dump"
    return value


def _count(dump: bytes, pos: int) -> Tuple[int, int]:
    k = dump.index(b";", pos)
    return int(dump[pos + 1:k]), k + 1


def _dump_value(dump: bytes, pos: int) -> Tuple[Any, int]:
    t = dump[pos:pos + 1]
    if t == b"T":
        return True, pos + 1
    if t == b"F":
        return False, pos + 1
    if t == b"N":
        return None, pos + 1
    n, pos = _count(dump, pos)
    if t == b"s":
        return dump[pos:pos + n].decode("utf-8"), pos + n
    if t == b"n":
        return json.loads(dump[pos:pos + n]), pos + n
    if t == b"a":
        items = []
        for _ in range(n):
            v, pos = _dump_value(dump, pos)
            items.append(v)
        return items, pos
    if t == b"o":
        obj = {}
        for _ in range(n):
            name, pos = _dump_value(dump, pos)
            v, pos = _dump_value(dump, pos)
            assert name not in obj, "duplicate name in a decoded header"
            obj[name] = v
        return obj, pos
    raise AssertionError("bad dump tag %r" % t)


# ------------------------------------------------------------- generators

# Characters that make escaping interesting: quotes, backslash, controls, DEL,
# '/', non-ASCII of 2, 3 and 4 UTF-8 bytes, U+2028, noncharacters.
CHARS = ('a', 'b', 'Z', '0', ' ', '"', '\\', '/', '\b', '\f', '\n', '\r', '\t', '\x01', '\x1f',
         '\x7f', '\u00e9', '\u00ff', '\u0800', '\u2028', '\u2029', '\ufeff', '\ufdd0', '\uffff',
         '\u4e2d', '\U0001f600', '\U0010ffff', '\U00010000')
NUMBERS = ('0', '-0', '1', '-1', '42', '0.5', '-0.0', '1e5', '1E+5', '1e-7', '-1.25e-3', '2E0',
           '123456789012345678901234567890', '9007199254740993', '-9223372036854775809',
           '3.141592653589793', '1.0e+308', '5e-324')


def rand_text(rng: random.Random, n_max: int = 6, nul: bool = True) -> str:
    chars = CHARS + (("\x00",) if nul else ())
    return "".join(rng.choice(chars) for _ in range(rng.randint(0, n_max)))


def _ws(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return ""
    return "".join(rng.choice(" \t\n\r") for _ in range(rng.randint(1, 3)))


def json_string(rng: random.Random, s: str) -> str:
    """`s` as a JSON string, each character escaped in a random allowed way."""
    out = ['"']
    short = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r',
             '\t': '\\t', '/': '\\/'}
    for ch in s:
        cp = ord(ch)
        r = rng.random()
        if cp < 0x20 or ch in '"\\':
            out.append(short[ch] if ch in short and r < 0.6 else "\\u%04x" % cp)
        elif r < 0.2:
            if cp >= 0x10000:
                hi = 0xD800 + ((cp - 0x10000) >> 10)
                lo = 0xDC00 + ((cp - 0x10000) & 0x3FF)
                esc = "\\u%04x\\u%04x" % (hi, lo)
            else:
                esc = "\\u%04x" % cp
            out.append(esc.upper().replace("\\U", "\\u") if rng.random() < 0.5 else esc)
        elif r < 0.25 and ch == "/":
            out.append("\\/")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def rand_json(rng: random.Random, depth: int = 0) -> Tuple[str, Any]:
    """(JSON text with random white space and escapes, its Python value)."""
    r = rng.random()
    if depth < 4 and r < 0.2:
        items = [rand_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        text = "[" + _ws(rng) + ("," + _ws(rng)).join(t + _ws(rng) for t, _ in items) + "]"
        return text, [v for _, v in items]
    if depth < 4 and r < 0.4:
        obj: Dict[str, Any] = {}
        parts = []
        for _ in range(rng.randint(0, 4)):
            name = rand_text(rng, 4)
            if name in obj:
                continue
            t, v = rand_json(rng, depth + 1)
            obj[name] = v
            parts.append(_ws(rng) + json_string(rng, name) + _ws(rng) + ":" + _ws(rng) + t
                         + _ws(rng))
        return "{" + ",".join(parts) + "}", obj
    if r < 0.6:
        s = rand_text(rng)
        return json_string(rng, s), s
    if r < 0.8:
        t = rng.choice(NUMBERS)
        return t, json.loads(t)
    t = rng.choice(("true", "false", "null"))
    return t, json.loads(t)


def bad_raw(rng: random.Random) -> str:
    """Raw JSON that every encoder must refuse."""
    return rng.choice((
        '{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '[1,]', '{"a":1,}', '"\\ud800"', '"\\udc00x"',
        '"\\ud800\\u0041"', 'NaN', 'Infinity', '-', '01', '1.', '.5', '1e', '+1', 'tru', 'nulll',
        '"\x01"', "'a'", '[' * 40 + ']' * 40, '{"a":[' + '[' * 31 + ']' * 31 + ']}', '',
        ' ', '"abc', '[1 2]', '{"a" 1}', '{1:2}', '"\\x"', '"\\u12g4"', '1 2', '\ufeff1'))


def rand_members(rng: random.Random, size_name: str) -> List[Tuple[str, Any, Any]]:
    """Members (type, name, value) for c_peer and Builder; now and then an
    invalid one (duplicate, reserved name, bad raw JSON, bad UTF-8)."""
    members = []
    for _ in range(rng.randint(0, 6)):
        name = rand_text(rng, 5, nul=False)
        r = rng.random()
        if r < 0.25:
            members.append(("s", name, rand_text(rng, 8)))
        elif r < 0.35:
            members.append(("i", name, rng.choice((0, -1, 1, rng.randint(-2**63, 2**63 - 1),
                                                   -2**63, 2**63 - 1))))
        elif r < 0.4:
            members.append(("u", name, rng.choice((0, 2**64 - 1, rng.randint(0, 2**64 - 1)))))
        elif r < 0.45:
            members.append(("b", name, rng.random() < 0.5))
        elif r < 0.5:
            members.append(("n", name, None))
        else:
            members.append(("r", name, _ws(rng) + rand_json(rng)[0] + _ws(rng)))
    if members and rng.random() < 0.06:
        k = rng.randrange(len(members))
        typ, _, value = members[k]
        what = rng.random()
        if what < 0.3:
            members.append((typ, members[0][1], value))           # duplicate
        elif what < 0.5:
            members[k] = (typ, size_name, value)                  # reserved
        elif what < 0.8:
            members[k] = ("r", members[k][1], bad_raw(rng))       # bad raw JSON
        elif what < 0.9:
            members[k] = ("s", members[k][1], b"ab\xc0\xafcd")    # bad UTF-8 value
        else:
            members[k] = ("s", b"x\xed\xa0\x80", "v")             # bad UTF-8 name
    return members


def build_pure(impl: Any, members: List[Tuple[str, Any, Any]], body: bytes,
               cfg: libframe.Config) -> Tuple[Optional[bytes], Optional[str]]:
    """What a Python Builder makes of the members: (frame, None) or (None, error)."""
    try:
        b = impl.Builder(len(body), cfg)
        for typ, name, value in members:
            if typ == "s":
                b.add_string(name, value)
            elif typ in ("i", "u"):
                b.add_int(name, value)
            elif typ == "b":
                b.add_bool(name, value)
            elif typ == "n":
                b.add_null(name)
            else:
                b.add_raw(name, value)
        return b.finish() + body, None
    except libframe.FrameError as e:
        return None, e.name


def rand_config(rng: random.Random) -> libframe.Config:
    r = rng.random()
    if r < 0.6:
        return libframe.Config()
    return libframe.Config(prefix_width=rng.choice((1, 2, 4, 8)),
                           byte_order=rng.choice(("little", "big")),
                           size_name=rng.choice(("size", "data_size", "file_size", "s", "n!#")),
                           max_header=rng.choice((65536, 300, 1000, 40)),
                           max_body=rng.choice((2**53 - 1, 1000, 64)))
