"""What decoders return: whole frames, or events for bodies read in chunks."""

import json
from typing import Any, Callable, Dict, NamedTuple, Optional, Union

from ._errors import ArgumentError


class Frame(NamedTuple):
    """One decoded frame.

    header: the header as a dict (the size member included); {} in the raw profile.
    body: the body.
    header_json: the header exactly as it was on the wire (b"" in the raw profile).
    """
    header: Dict[str, Any]
    body: bytes
    header_json: bytes = b""


class HeaderEvent(NamedTuple):
    """A frame's header arrived and is valid; `body_size` body octets follow
    as BodyChunk events, then a FrameEnd."""
    header: Dict[str, Any]
    body_size: int
    header_json: bytes = b""


class BodyChunk(NamedTuple):
    """Some body octets (the chunks of one frame add up to its body_size;
    an empty body has no chunk)."""
    data: bytes


class FrameEnd(NamedTuple):
    """The last octet of frame number `index` (from 0) was consumed."""
    index: int


Event = Union[HeaderEvent, BodyChunk, FrameEnd]


def _big_int(text: str) -> int:
    """int(text) for integers longer than sys.get_int_max_str_digits()."""
    neg = text.startswith("-")
    digits = text[1:] if neg else text
    value = 0
    step = 1000
    for k in range(0, len(digits), step):
        part = digits[k:k + step]
        value = value * 10 ** len(part) + int(part)
    return -value if neg else value


def load_header(text: bytes, parse_float: Optional[Callable[[str], Any]] = None) -> Dict[str, Any]:
    """The dict of a header that the validator accepted."""
    s = text.decode("utf-8")
    try:
        if parse_float is None:
            return json.loads(s)
        return json.loads(s, parse_float=parse_float)
    except ValueError:
        # Python 3.11+ refuses int() of very long digit strings; SPEC.md
        # accepts numbers of any magnitude.
        return json.loads(s, parse_int=_big_int, parse_float=parse_float)


def int_text(value: int) -> str:
    """str(value), also for integers longer than sys.get_int_max_str_digits()."""
    try:
        return str(value)
    except ValueError:
        pass
    neg = value < 0
    value = -value if neg else value
    parts = []
    base = 10 ** 1000
    while value:
        value, rem = divmod(value, base)
        parts.append(rem)
    text = str(parts[-1]) + "".join("%01000d" % p for p in reversed(parts[:-1]))
    return "-" + text if neg else text


class RawJSON:
    """A JSON value given as text, for encode()/Builder.add(): it is validated
    like a header (I-JSON rules and limits) and copied in canonical form (white
    space dropped, strings re-escaped minimally, numbers kept as written).

    Example: encode({"matrix": RawJSON("[[1, 0], [0, 1]]")}, b"")
    """
    __slots__ = ("text",)

    def __init__(self, text: Union[str, bytes]) -> None:
        if not isinstance(text, (str, bytes, bytearray)):
            raise TypeError("RawJSON takes str or bytes, not %s" % type(text).__name__)
        self.text = text

    def __repr__(self) -> str:
        return "RawJSON(%r)" % (self.text,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawJSON) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def as_bytes(data: Any, what: str = "data") -> bytes:
    """bytes of a bytes-like object (no copy for bytes)."""
    if type(data) is bytes:
        return data
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise TypeError("%s must be bytes-like, not %s" % (what, type(data).__name__)) from None


def enter_mode(decoder: Any, whole: bool) -> None:
    """Switches a decoder between feed() and feed_events(), which is only
    allowed between frames: a frame is read whole or as events, not both."""
    mode = "feed" if whole else "feed_events"
    if decoder._mode != mode:
        if not decoder.at_boundary:
            raise ArgumentError("this decoder is in the middle of a frame read with %s(); "
                                "finish it with the same method" % decoder._mode)
        decoder._mode = mode
