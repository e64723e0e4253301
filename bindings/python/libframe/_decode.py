"""The pure-Python incremental decoder."""

from typing import Any, Callable, Iterator, List, Optional

from ._config import Config, ConfigLike, make_config
from ._errors import ArgumentError, FrameError, error
from ._scan import ScanError, scan
from ._types import (BodyChunk, Event, Frame, FrameEnd, HeaderEvent, as_bytes, load_header,
                     enter_mode)

_PREFIX, _HEADER, _BODY, _FAILED = range(4)
_TEXT_BYTES = frozenset(range(0x20, 0x7F)) | frozenset(b"\t\r\n")


def foreign_prefix(prefix: bytes, otherwise: str) -> str:
    """The error for a prefix over its limit: LOOKS_LIKE_TLS, LOOKS_LIKE_TEXT or `otherwise`."""
    if len(prefix) >= 2 and prefix[0] == 0x16 and prefix[1] == 0x03:
        return "LOOKS_LIKE_TLS"
    if all(b in _TEXT_BYTES for b in prefix):
        return "LOOKS_LIKE_TEXT"
    return otherwise


def _raise_after(items: List[Any], err: Optional[FrameError]) -> Iterator[Any]:
    yield from items
    if err is not None:
        raise err


class Decoder:
    """Incremental frame decoder (pure Python).

    Feed it bytes as they arrive, split anywhere; it returns what they
    completed. The same stream gives the same frames (or the same error, at the
    same offset) however it is split.

    Args:
        config: a Config, a dict of Config fields, or None for the defaults;
            keyword arguments (prefix_width=2, size_name="data_size"...) are
            applied on top.
        parse_float: passed to json.loads for numbers with a fraction or
            exponent (e.g. decimal.Decimal); default float.

    Example::

        d = Decoder()
        for frame in d.feed(sock.recv(65536)):
            print(frame.header, len(frame.body))

    Errors are FrameError subclasses named as in C (JSONSyntaxError for
    JSON_SYNTAX...), with .offset (stream offset of the offending byte as
    SPEC.md defines it), .frame (0-based frame index) and for some .declared,
    .limit, .missing. After an error the decoder stays failed: every call
    raises the same error until reset().
    """

    def __init__(self, config: ConfigLike = None, *,
                 parse_float: Optional[Callable[[str], Any]] = None, **params: Any) -> None:
        self.config: Config = make_config(config, params)
        self._parse_float = parse_float
        cfg = self.config
        self._w = cfg.prefix_width
        self._big = cfg.byte_order == "big"
        self._raw = cfg.raw
        self._max_header = cfg.max_header
        self._max_body = cfg.max_body
        self._size_name = cfg._size_name_bytes
        self.reset()

    def reset(self) -> None:
        """Back to the start of a new stream: offset 0, frame 0, no error."""
        self._state = _PREFIX
        self._offset = 0          # stream offset of the next byte (or of the error)
        self._frame = 0
        self._fstart = 0          # stream offset of the current frame's first byte
        self._pbuf = bytearray()  # prefix bytes so far
        self._hbuf = bytearray()  # header bytes so far
        self._hlen = 0
        self._remaining = 0       # body bytes still to come
        self._declared = 0
        self._limit = 0
        self._header: Any = None
        self._header_json = b""
        self._parts: List[bytes] = []
        self._mode = ""
        self._error: Optional[FrameError] = None

    # -- state -------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Bytes consumed so far; after an error, the error's offset."""
        return self._offset

    @property
    def frame_index(self) -> int:
        """Index (from 0) of the frame being decoded, or of the one that failed."""
        return self._frame

    @property
    def needed(self) -> int:
        """The least number of bytes still needed to complete the current frame
        (exact once the header is parsed); 0 at a frame boundary."""
        if self._state == _PREFIX:
            return self._w - len(self._pbuf) if self._pbuf else 0
        if self._state == _HEADER:
            return self._hlen - len(self._hbuf)
        if self._state == _BODY:
            return self._remaining
        return 0

    @property
    def declared_size(self) -> int:
        """The prefix value until the header is parsed, then the body size."""
        return self._declared

    @property
    def limit(self) -> int:
        """The limit a HEADER_TOO_LARGE / BODY_TOO_LARGE broke, else 0."""
        return self._limit

    @property
    def error(self) -> Optional[FrameError]:
        """The error that stopped the decoder, or None."""
        return self._error

    @property
    def at_boundary(self) -> bool:
        """True between frames (nothing of a frame consumed yet)."""
        return self._state == _PREFIX and not self._pbuf

    # -- feeding -----------------------------------------------------------

    def feed(self, data: Any) -> Iterator[Frame]:
        """Consumes `data` (any bytes-like object) and returns an iterator over
        the frames it completed, each a Frame(header, body, header_json).

        The work is done at the call; the iterator then yields the frames and,
        if the data held an error, raises it after the frames that came before
        it. A body is kept in memory until its frame is complete: for large
        bodies use feed_events().
        """
        return self._feed(data, True)

    def feed_events(self, data: Any) -> Iterator[Event]:
        """Like feed(), but yields events as soon as their bytes are here:
        HeaderEvent(header, body_size, header_json), then BodyChunk(data) for
        the body (in chunks, as it arrives), then FrameEnd(index)."""
        return self._feed(data, False)

    def _feed(self, data: Any, whole: bool) -> Iterator[Any]:
        if self._error is not None:
            return _raise_after([], self._error)
        data = as_bytes(data)
        enter_mode(self, whole)
        out: List[Any] = []
        try:
            self._run(data, whole, out)
        except FrameError as err:
            return _raise_after(out, err)
        return iter(out)

    def _fail(self, name: str, offset: int, **extra: Any) -> FrameError:
        err = error(name, offset=offset, frame=self._frame, **extra)
        self._error = err
        self._state = _FAILED
        self._offset = offset
        return err

    def _prefix_done(self, pb: bytes) -> Optional[HeaderEvent]:
        """Checks a complete prefix; returns the raw profile's header event."""
        v = int.from_bytes(pb, "big" if self._big else "little")
        self._declared = v
        if self._raw:
            if v > self._max_body:
                self._limit = self._max_body
                raise self._fail(foreign_prefix(pb, "BODY_TOO_LARGE"), self._fstart,
                                 declared=v, limit=self._max_body)
            return self._header_done({}, b"", v)
        if v == 0:
            raise self._fail("HEADER_EMPTY", self._fstart)
        if v > self._max_header:
            self._limit = self._max_header
            raise self._fail(foreign_prefix(pb, "HEADER_TOO_LARGE"), self._fstart,
                             declared=v, limit=self._max_header)
        self._hlen = v
        self._state = _HEADER
        return None

    def _parse_header(self, hdr: bytes) -> HeaderEvent:
        try:
            size, _ = scan(hdr, True, self._size_name, self._max_body)
        except ScanError as e:
            pos = self._fstart + self._w + e.pos
            if e.name == "BODY_TOO_LARGE":
                self._declared = e.declared or 0
                self._limit = self._max_body
                raise self._fail(e.name, pos, declared=e.declared,
                                 limit=self._max_body) from None
            raise self._fail(e.name, pos) from None
        assert size is not None
        return self._header_done(load_header(hdr, self._parse_float), hdr, size)

    def _header_done(self, header: Any, hdr: bytes, size: int) -> HeaderEvent:
        self._declared = size
        self._remaining = size
        self._header = header
        self._header_json = hdr
        self._state = _BODY
        return HeaderEvent(header, size, hdr)

    def _run(self, data: bytes, whole: bool, out: List[Any]) -> None:
        n = len(data)
        pos = 0
        base = self._offset
        w = self._w
        while pos < n:
            st = self._state
            if st == _PREFIX:
                pbuf = self._pbuf
                if not pbuf:
                    self._fstart = base + pos
                    if n - pos >= w:
                        pb = data[pos:pos + w]
                        pos += w
                    else:
                        pbuf += data[pos:]
                        pos = n
                        break
                else:
                    take = min(w - len(pbuf), n - pos)
                    pbuf += data[pos:pos + take]
                    pos += take
                    if len(pbuf) < w:
                        break
                    pb = bytes(pbuf)
                    pbuf.clear()
                self._offset = base + pos
                ev = self._prefix_done(pb)
                if ev is not None and not whole:
                    out.append(ev)
            elif st == _HEADER:
                hbuf = self._hbuf
                hlen = self._hlen
                if not hbuf and n - pos >= hlen:
                    hdr = data[pos:pos + hlen]
                    pos += hlen
                else:
                    take = min(hlen - len(hbuf), n - pos)
                    hbuf += data[pos:pos + take]
                    pos += take
                    if len(hbuf) < hlen:
                        break
                    hdr = bytes(hbuf)
                    hbuf.clear()
                self._offset = base + pos
                ev = self._parse_header(hdr)
                if not whole:
                    out.append(ev)
            else:  # _BODY
                rem = self._remaining
                take = rem if rem <= n - pos else n - pos
                if take:
                    chunk = data[pos:pos + take]
                    pos += take
                    rem -= take
                    self._remaining = rem
                    if whole:
                        self._parts.append(chunk)
                    else:
                        out.append(BodyChunk(chunk))
                if rem:
                    break
            # A frame ends when its body is complete (perhaps empty).
            if self._state == _BODY and self._remaining == 0:
                if whole:
                    parts = self._parts
                    body = parts[0] if len(parts) == 1 else b"".join(parts)
                    self._parts = []
                    out.append(Frame(self._header, body, self._header_json))
                else:
                    out.append(FrameEnd(self._frame))
                self._frame += 1
                self._state = _PREFIX
                self._header = None
                self._header_json = b""
        self._offset = base + pos

    # -- end of stream, datagrams --------------------------------------------

    def finish(self) -> None:
        """Tells the decoder the stream has ended. Returns at a frame boundary;
        otherwise raises TruncatedError (offset = stream length, .missing =
        the least number of bytes that were still needed). A failed decoder
        raises its error."""
        if self._error is not None:
            raise self._error
        if self.at_boundary:
            return
        missing = self.needed
        raise self._fail("TRUNCATED", self._offset, missing=missing)

    def feed_datagram(self, data: Any) -> Frame:
        """Decodes one datagram that must hold exactly one whole frame.
        Everything is checked before anything is returned: a bad datagram
        raises (DatagramTruncatedError, DatagramTrailingError or a header
        error, offsets counted from the datagram's first byte) and the decoder
        fails like feed() (reset() to go on). Frames are counted across
        datagrams. The decoder must be at a frame boundary."""
        if self._error is not None:
            raise self._error
        if not self.at_boundary:
            raise ArgumentError("feed_datagram() needs a decoder at a frame boundary")
        data = as_bytes(data)
        n = len(data)
        w = self._w
        self._fstart = 0
        if n < w:
            raise self._fail("DATAGRAM_TRUNCATED", n)
        pb = data[:w]
        self._prefix_done(pb)
        if self._raw:
            total = w + self._declared
            header: Any = {}
            hdr = b""
        else:
            hlen = self._hlen
            if n < w + hlen:
                raise self._fail("DATAGRAM_TRUNCATED", n)
            hdr = data[w:w + hlen]
            ev = self._parse_header(hdr)
            header = ev.header
            total = w + hlen + ev.body_size
        if n < total:
            raise self._fail("DATAGRAM_TRUNCATED", n)
        if n > total:
            raise self._fail("DATAGRAM_TRAILING", total)
        self._state = _PREFIX
        self._header = None
        self._header_json = b""
        self._frame += 1
        self._offset += n
        return Frame(header, data[total - self._declared:total], hdr)

    def __repr__(self) -> str:
        return "<libframe.pure.Decoder offset=%d frame=%d%s>" % (
            self._offset, self._frame,
            " error=%s" % self._error.name if self._error is not None else "")
