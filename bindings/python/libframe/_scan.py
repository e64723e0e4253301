"""The header validator: one left-to-right pass over the header's bytes that
implements SPEC.md's JSON rules (RFC 8259 grammar, I-JSON restrictions, the
limits and the size member) and reports the first error in byte order with the
offset SPEC.md assigns to it.

This is an implementation independent of the C library's lib/json.c: it shares
no code with it and does not use Python's json module to decide anything (json
is only used afterwards, on text this module accepted, to build a dict).

The same scanner canonicalises JSON text for the encoder (white space dropped,
strings re-escaped minimally, numbers copied as written).
"""

import re
from typing import List, Optional, Set, Tuple

from ._config import MAX_DEPTH, MAX_MEMBERS

UINT64_MAX = (1 << 64) - 1


class ScanError(Exception):
    """Internal: an error `name` at byte `pos` of the scanned text."""

    def __init__(self, name: str, pos: int, declared: Optional[int] = None) -> None:
        super().__init__(name, pos)
        self.name = name
        self.pos = pos
        self.declared = declared


# Runs of bytes that may appear unescaped inside a string: printable ASCII but
# '"' and '\\', and the well-formed UTF-8 sequences of RFC 3629 (no overlongs,
# no surrogates, nothing above U+10FFFF). The pattern always matches (maybe
# empty) and stops at the first byte that is not the start of such a run: a
# quote, a backslash, a control byte, the end, or the lead byte of an ill-formed
# sequence. It has nothing after the loop that could fail, so it never
# backtracks.
_STRING_RUN = re.compile(
    rb"(?:[\x20\x21\x23-\x5b\x5d-\x7f]+"
    rb"|[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xec\xee\xef][\x80-\xbf][\x80-\xbf]"
    rb"|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf][\x80-\xbf]"
    rb"|[\xf1-\xf3][\x80-\xbf][\x80-\xbf][\x80-\xbf]"
    rb"|\xf4[\x80-\x8f][\x80-\xbf][\x80-\xbf])*")
_WS_RUN = re.compile(rb"[ \t\n\r]*")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
_WS = frozenset(b" \t\n\r")
_DIGITS = frozenset(b"0123456789")
_HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
# Bytes that start a JSON value.
_VALUE_START = frozenset(b'{["-0123456789tfn')
_SIMPLE_ESCAPES = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b", 0x66: b"\f",
                   0x6E: b"\n", 0x72: b"\r", 0x74: b"\t"}
_LITERALS = {0x74: b"true", 0x66: b"false", 0x6E: b"null"}

_OBJ_FIRST, _OBJ_NEXT, _VALUE, _ARR_FIRST, _AFTER = range(5)

# The canonical escaping of a str (SPEC.md "Canonical encoding").
_ESCAPE_TABLE = {i: "\\u%04x" % i for i in range(0x20)}
_ESCAPE_TABLE.update({0x22: '\\"', 0x5C: "\\\\", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n",
                      0x0D: "\\r", 0x09: "\\t"})


def escape_str(s: str) -> str:
    """`s` as a canonical JSON string, quotes included (no ASCII escaping)."""
    return '"' + s.translate(_ESCAPE_TABLE) + '"'


def _hex_error(buf: bytes, i: int, end: int) -> int:
    """Position of the first non-hex byte among buf[i:i+4] (end if cut)."""
    for k in range(i, i + 4):
        if k >= end or buf[k] not in _HEXDIGITS:
            return min(k, end)
    return i + 4  # not reached: the caller saw no 4 hex digits


def _escape(buf: bytes, k: int, end: int, parts: Optional[List[bytes]]) -> int:
    """The escape whose backslash is at k; returns the position after it."""
    q = k + 1
    if q >= end:
        raise ScanError("JSON_SYNTAX", end)
    c = buf[q]
    simple = _SIMPLE_ESCAPES.get(c)
    if simple is not None:
        if parts is not None:
            parts.append(simple)
        return q + 1
    if c != 0x75:  # 'u'
        raise ScanError("JSON_SYNTAX", q)
    if _HEX4.match(buf, q + 1, end) is None:
        raise ScanError("JSON_SYNTAX", _hex_error(buf, q + 1, end))
    cp = int(buf[q + 1:q + 5], 16)
    e = q + 5
    if 0xD800 <= cp <= 0xDFFF:
        # A high surrogate must be followed at once by a \u low surrogate;
        # anything else (end of text, another escape, a bad digit...) leaves it
        # unpaired, and the backslash at k is the earliest byte in error.
        if (cp >= 0xDC00 or e + 6 > end or buf[e:e + 2] != b"\\u"
                or _HEX4.match(buf, e + 2, end) is None):
            raise ScanError("LONE_SURROGATE", k)
        lo = int(buf[e + 2:e + 6], 16)
        if not 0xDC00 <= lo <= 0xDFFF:
            raise ScanError("LONE_SURROGATE", k)
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
        e += 6
    if parts is not None:
        parts.append(chr(cp).encode("utf-8"))
    return e


def _string(buf: bytes, i: int, end: int, want: bool) -> Tuple[int, Optional[bytes]]:
    """Scans the string whose opening quote is at i. Returns the position
    after the closing quote and, if `want`, the unescaped content as UTF-8."""
    j = i + 1
    parts: Optional[List[bytes]] = [] if want else None
    match = _STRING_RUN.match
    while True:
        k = match(buf, j, end).end()
        if k >= end:
            raise ScanError("JSON_SYNTAX", end)
        c = buf[k]
        if c == 0x22:
            if parts is None:
                return k + 1, None
            if not parts:
                return k + 1, buf[j:k]
            parts.append(buf[j:k])
            return k + 1, b"".join(parts)
        if c == 0x5C:
            if parts is not None:
                parts.append(buf[j:k])
            j = _escape(buf, k, end, parts)
            continue
        if c < 0x20:
            raise ScanError("JSON_SYNTAX", k)
        # A byte >= 0x80 where no well-formed sequence starts: the lead byte of
        # an ill-formed (or cut short) sequence, or a stray continuation byte.
        raise ScanError("BAD_UTF8", k)


def _number(buf: bytes, i: int, end: int):
    """Scans the number at i (a '-' or a digit). Returns the match."""
    m = _NUMBER.match(buf, i, end)
    if m is None:  # '-' not followed by a digit
        raise ScanError("JSON_SYNTAX", min(i + 1, end))
    e = m.end()
    if e < end:
        c = buf[e]
        if c == 0x2E and m.group(1) is None and m.group(2) is None:
            raise ScanError("JSON_SYNTAX", min(e + 1, end))  # '.' without a digit
        if (c == 0x65 or c == 0x45) and m.group(2) is None:
            j = e + 1
            if j < end and buf[j] in b"+-":
                j += 1
            raise ScanError("JSON_SYNTAX", min(j, end))      # 'e' without a digit
    return m


def scan(buf: bytes, header: bool = True, size_name: bytes = b"size",
         max_body: int = (1 << 53) - 1, depth: int = 0, members: int = 0,
         out: Optional[List[bytes]] = None, end: Optional[int] = None) -> Tuple[Optional[int], int]:
    """Validates buf[0:end] (end defaults to len(buf)).

    header=True: a frame header (an object, no BOM, with the top-level member
    `size_name` holding a plain integer <= max_body). header=False: any one
    JSON value, e.g. a raw member value for the encoder, nested inside `depth`
    levels and after `members` members already counted.
    If `out` is a list, the canonical form of the text is appended to it.

    Returns (body size or None, members counted in total); raises ScanError.
    """
    if end is None:
        end = len(buf)
    i = 0
    if header and buf[0:3] == b"\xef\xbb\xbf" and end >= 3:
        raise ScanError("BOM", 0)
    if i < end and buf[i] in _WS:
        i = _WS_RUN.match(buf, i, end).end()
    if i >= end:
        raise ScanError("JSON_SYNTAX", end)
    if header and buf[i] != 0x7B:
        raise ScanError("NOT_OBJECT" if buf[i] in _VALUE_START else "JSON_SYNTAX", i)

    stack: List[Optional[Set[bytes]]] = []   # a set of names per object, None per array
    size: Optional[int] = None
    is_size = False
    state = _VALUE
    ws = _WS
    ws_run = _WS_RUN.match
    emit = out.append if out is not None else None
    while True:
        if i < end and buf[i] in ws:
            i = ws_run(buf, i, end).end()
        if i >= end:
            raise ScanError("JSON_SYNTAX", end)
        c = buf[i]

        if state == _AFTER:
            top = stack[-1]
            if c == 0x2C:  # ','
                i += 1
                state = _OBJ_NEXT if top is not None else _VALUE
                if emit:
                    emit(b",")
                continue
            if c == (0x7D if top is not None else 0x5D):
                stack.pop()
                i += 1
                if emit:
                    emit(buf[i - 1:i])
                if not stack:
                    break
                continue
            raise ScanError("JSON_SYNTAX", i)

        if state == _OBJ_FIRST or state == _OBJ_NEXT:
            if c == 0x22:
                members += 1
                if members > MAX_MEMBERS:
                    raise ScanError("TOO_MANY_MEMBERS", i)
                e, name = _string(buf, i, end, True)
                names = stack[-1]
                assert names is not None and name is not None
                if name in names:
                    raise ScanError("DUPLICATE_NAME", i)
                names.add(name)
                if header and len(stack) == 1 and name == size_name:
                    is_size = True
                if emit:
                    emit(escape_str(name.decode("utf-8")).encode("utf-8"))
                    emit(b":")
                i = e
                if i < end and buf[i] in ws:
                    i = ws_run(buf, i, end).end()
                if i >= end:
                    raise ScanError("JSON_SYNTAX", end)
                if buf[i] != 0x3A:  # ':'
                    raise ScanError("JSON_SYNTAX", i)
                i += 1
                state = _VALUE
                continue
            if c == 0x7D and state == _OBJ_FIRST:
                stack.pop()
                i += 1
                if emit:
                    emit(b"}")
                if not stack:
                    break
                state = _AFTER
                continue
            raise ScanError("JSON_SYNTAX", i)

        if state == _ARR_FIRST and c == 0x5D:
            stack.pop()
            i += 1
            if emit:
                emit(b"]")
            if not stack:
                break
            state = _AFTER
            continue

        # _VALUE or _ARR_FIRST with a value
        if is_size:
            is_size = False
            if c not in _DIGITS:
                raise ScanError("SIZE_INVALID" if c in _VALUE_START else "JSON_SYNTAX", i)
            m = _number(buf, i, end)
            if m.group(1) is not None or m.group(2) is not None:
                raise ScanError("SIZE_INVALID", i)
            digits = m.group(0)
            value = int(digits) if len(digits) <= 20 else UINT64_MAX + 1
            if value > max_body:
                raise ScanError("BODY_TOO_LARGE", i, min(value, UINT64_MAX))
            size = value
            if emit:
                emit(digits)
            i = m.end()
        elif c == 0x22:
            e, content = _string(buf, i, end, emit is not None)
            if emit:
                assert content is not None
                emit(escape_str(content.decode("utf-8")).encode("utf-8"))
            i = e
        elif c == 0x7B or c == 0x5B:
            if depth + len(stack) + 1 > MAX_DEPTH:
                raise ScanError("TOO_DEEP", i)
            if c == 0x7B:
                stack.append(set())
                state = _OBJ_FIRST
            else:
                stack.append(None)
                state = _ARR_FIRST
            i += 1
            if emit:
                emit(buf[i - 1:i])
            continue
        elif c == 0x2D or c in _DIGITS:
            m = _number(buf, i, end)
            if emit:
                emit(m.group(0))
            i = m.end()
        else:
            lit = _LITERALS.get(c)
            if lit is None:
                raise ScanError("JSON_SYNTAX", i)
            n = len(lit)
            if buf[i:i + n] != lit or i + n > end:
                k = i + 1
                while k < end and k < i + n and buf[k] == lit[k - i]:
                    k += 1
                raise ScanError("JSON_SYNTAX", k)
            if emit:
                emit(lit)
            i += n
        if not stack:
            break
        state = _AFTER

    if i < end and buf[i] in ws:
        i = ws_run(buf, i, end).end()
    if i < end:
        raise ScanError("JSON_SYNTAX", i)
    if header and size is None:
        raise ScanError("SIZE_MISSING", end)
    return size, members


def canonical(text: bytes, depth: int, members: int) -> Tuple[bytes, int]:
    """Validates one JSON value (raw member value) and returns its canonical
    bytes and the members counted so far. Raises ScanError."""
    out: List[bytes] = []
    _, members = scan(text, header=False, depth=depth, members=members, out=out)
    return b"".join(out), members
