"""The C implementation of libframe through ctypes: same interface as
libframe.pure (Decoder, Builder, encode, build_head, FrameWriter), C speed for
validating headers and moving bodies.

The shared library is looked for in this order:

1. the LIBFRAME_LIBRARY environment variable (a path);
2. the build tree this package sits in (<repo>/build/libframe.so.1);
3. the system's library path (ctypes.util.find_library("frame")).

Importing this module raises ImportError when none loads or when the library
is not a libframe 1.x.
"""

import ctypes
import ctypes.util
import os
import threading
from typing import Any, Callable, Iterator, List, Mapping, Optional, Tuple

from ._config import Config, ConfigLike, make_config
from ._decode import _raise_after
from ._encode import FrameWriter as _PureFrameWriter
from ._encode import value_json
from ._encode import build_head as _pure_build_head
from ._errors import ArgumentError, FrameError, errname, error
from ._types import (BodyChunk, Event, Frame, FrameEnd, HeaderEvent, RawJSON, as_bytes,
                     int_text, load_header, enter_mode)

IMPLEMENTATION = "native"

__all__ = ["Decoder", "Builder", "FrameWriter", "build_head", "encode", "IMPLEMENTATION",
           "library_path", "version"]

# --- the C structs of include/frame.h (their size is part of the ABI) --------


class _Config(ctypes.Structure):
    _fields_ = [("prefix_width", ctypes.c_uint), ("big_endian", ctypes.c_int),
                ("raw", ctypes.c_int), ("size_name", ctypes.c_char_p),
                ("max_header", ctypes.c_uint64), ("max_body", ctypes.c_uint64)]


class _Value(ctypes.Structure):
    _fields_ = [("json", ctypes.c_void_p), ("len", ctypes.c_size_t), ("type", ctypes.c_int)]


class _Header(ctypes.Structure):
    _fields_ = [("root", _Value), ("body_size", ctypes.c_uint64)]


class _Decoder(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("_cb", ctypes.c_void_p), ("_cfg", ctypes.c_void_p),
                ("_buf", ctypes.c_void_p), ("_have", ctypes.c_uint32),
                ("_callback_code", ctypes.c_int), ("_state", ctypes.c_ubyte),
                ("_errno", ctypes.c_ubyte), ("_width", ctypes.c_ubyte),
                ("_flags", ctypes.c_ubyte), ("_offset", ctypes.c_uint64),
                ("_remaining", ctypes.c_uint64), ("_frame", ctypes.c_uint64),
                ("_declared", ctypes.c_uint64)]


_ON_HEADER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(_Header))
_ON_BODY = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
_ON_END = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _Callbacks(ctypes.Structure):
    _fields_ = [("on_header", _ON_HEADER), ("on_body", _ON_BODY), ("on_frame_end", _ON_END)]


class _Builder(ctypes.Structure):
    _fields_ = [("_buf", ctypes.c_void_p), ("_cap", ctypes.c_size_t), ("_len", ctypes.c_size_t),
                ("_cfg", ctypes.c_void_p), ("_body_size", ctypes.c_uint64),
                ("_members", ctypes.c_uint), ("_errno", ctypes.c_ubyte),
                ("_finished", ctypes.c_ubyte), ("_dry", ctypes.c_ubyte)]


# --- loading -------------------------------------------------------------------

def _candidates() -> List[str]:
    env = os.environ.get("LIBFRAME_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [os.path.normpath(os.path.join(here, "..", "..", "..", "build", "libframe.so.1"))]
    found = None
    if not os.path.exists(out[0]):
        found = ctypes.util.find_library("frame")
    if found:
        out.append(found)
    return out


def _load() -> Tuple[ctypes.CDLL, str]:
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
            continue
        try:
            lib.frame_version_number.restype = ctypes.c_uint
            number = lib.frame_version_number()
        except AttributeError:
            errors.append("%s: not libframe" % path)
            continue
        if number // 10000 != 1:
            errors.append("%s: libframe %d, not 1.x" % (path, number))
            continue
        return lib, path
    raise ImportError("libframe shared library not found (set LIBFRAME_LIBRARY): "
                      + "; ".join(errors or ["nothing to try"]))


_lib, library_path = _load()


def _sig(name: str, restype: Any, *argtypes: Any) -> Callable[..., Any]:
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_P = ctypes.c_void_p
_u64 = ctypes.c_uint64
_sz = ctypes.c_size_t
_int = ctypes.c_int
_lib.frame_version.restype = ctypes.c_char_p
version: str = _lib.frame_version().decode("ascii")
_errname = _sig("frame_errname", ctypes.c_char_p, _int)
_config_check = _sig("frame_config_check", _int, _P)
_decoder_init = _sig("frame_decoder_init", _int, _P, _P, _P, _P, _sz, _P)
_feed = _sig("frame_feed", _sz, _P, ctypes.c_char_p, _sz)
_finish = _sig("frame_finish", _int, _P, ctypes.POINTER(_u64))
_feed_datagram = _sig("frame_feed_datagram", _int, _P, ctypes.c_char_p, _sz)
_reset = _sig("frame_decoder_reset", None, _P)
_d_errno = _sig("frame_decoder_errno", _int, _P)
_d_offset = _sig("frame_decoder_offset", _u64, _P)
_d_frame = _sig("frame_decoder_frame_index", _u64, _P)
_d_declared = _sig("frame_decoder_declared_size", _u64, _P)
_d_limit = _sig("frame_decoder_limit", _u64, _P)
_d_needed = _sig("frame_decoder_needed", _u64, _P)
_b_init = _sig("frame_builder_init", _int, _P, _P, _P, _sz, _u64)
_b_add_stringn = _sig("frame_builder_add_stringn", _int, _P, ctypes.c_char_p, ctypes.c_char_p,
                      _sz)
_b_add_int64 = _sig("frame_builder_add_int64", _int, _P, ctypes.c_char_p, ctypes.c_int64)
_b_add_uint64 = _sig("frame_builder_add_uint64", _int, _P, ctypes.c_char_p, ctypes.c_uint64)
_b_add_bool = _sig("frame_builder_add_bool", _int, _P, ctypes.c_char_p, _int)
_b_add_null = _sig("frame_builder_add_null", _int, _P, ctypes.c_char_p)
_b_add_raw = _sig("frame_builder_add_raw", _int, _P, ctypes.c_char_p, ctypes.c_char_p, _sz)
_b_finish = _sig("frame_builder_finish", _int, _P, ctypes.POINTER(ctypes.c_void_p),
                 ctypes.POINTER(_sz))

_ERR_PAUSED = 1
_E_BUFFER_TOO_SMALL = 26
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


def c_errname(code: int) -> str:
    """frame_errname() of the loaded library."""
    return _errname(code).decode("ascii")


def _c_config(cfg: Config) -> Tuple[_Config, bytes]:
    name = cfg.size_name.encode("ascii")
    c = _Config(cfg.prefix_width, 1 if cfg.byte_order == "big" else 0, 1 if cfg.raw else 0,
                name, cfg.max_header, cfg.max_body)
    rc = _config_check(ctypes.byref(c))
    if rc:
        raise error(errname(rc), "the C library refused the config %r" % (cfg,))
    return c, name


# --- decoder -------------------------------------------------------------------

class Decoder:
    """Incremental frame decoder running the C library's frame_feed().

    Same interface and results as libframe.pure.Decoder (see there): feed()
    yields Frame(header, body, header_json), feed_events() yields HeaderEvent /
    BodyChunk / FrameEnd, errors are the same FrameError classes with the same
    offsets. The C decoder validates the header; the dict is then built with
    json.loads.

    It needs a header buffer of min(max_header, what the prefix holds) bytes,
    allocated once per decoder.
    """

    def __init__(self, config: ConfigLike = None, *,
                 parse_float: Optional[Callable[[str], Any]] = None, **params: Any) -> None:
        self.config: Config = make_config(config, params)
        cfg = self.config
        self._parse_float = parse_float
        self._ccfg, self._cname = _c_config(cfg)
        self._w = cfg.prefix_width
        cap = 0 if cfg.raw else cfg.header_limit
        self._hbuf = ctypes.create_string_buffer(cap) if cap else None
        self._dec = _Decoder()
        self._dp = ctypes.addressof(self._dec)
        # Only on_header: body bytes are sliced out of the fed data by offset,
        # which costs one C->Python call per frame.
        self._on_header = _ON_HEADER(self._header_cb)
        self._cb = _Callbacks(self._on_header, _ON_BODY(), _ON_END())
        rc = _decoder_init(self._dp, ctypes.byref(self._ccfg), ctypes.byref(self._cb),
                           self._hbuf, cap, None)
        if rc:
            raise error(errname(rc), "frame_decoder_init failed")
        self._init_state()

    def _init_state(self) -> None:
        self._heads: List[Tuple[int, int]] = []  # (body size, body start) per header
        # The header text is taken from the fed data, not from frame_header.root
        # (which is the object only, without the white space around it). The
        # stream bytes of a frame whose header is not complete yet are kept in
        # _carry (at most W + max_header), starting at stream offset _next.
        self._next = 0        # stream offset of the next frame not yet headed
        self._carry = b""
        # The frame whose header was delivered and whose body is incomplete:
        self._cur: Optional[list] = None  # [header, json, size, body start, got, parts]
        self._error: Optional[FrameError] = None
        self._mode = ""
        self._done = 0  # frames completed

    def reset(self) -> None:
        """Back to the start of a new stream: offset 0, frame 0, no error."""
        _reset(self._dp)
        self._init_state()

    def _header_cb(self, d: int, h: Any) -> int:
        # The decoder's offset is where the body starts.
        self._heads.append((h.contents.body_size, _d_offset(self._dp)))
        return 0

    # -- state ---------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Bytes consumed so far; after an error, the error's offset."""
        return int(_d_offset(self._dp))

    @property
    def frame_index(self) -> int:
        """Index (from 0) of the frame being decoded, or of the one that failed."""
        return int(_d_frame(self._dp))

    @property
    def needed(self) -> int:
        """The least number of bytes still needed to complete the current frame."""
        return int(_d_needed(self._dp))

    @property
    def declared_size(self) -> int:
        """The prefix value until the header is parsed, then the body size."""
        return int(_d_declared(self._dp))

    @property
    def limit(self) -> int:
        """The limit a HEADER_TOO_LARGE / BODY_TOO_LARGE broke, else 0."""
        return int(_d_limit(self._dp))

    @property
    def error(self) -> Optional[FrameError]:
        """The error that stopped the decoder, or None."""
        return self._error

    @property
    def at_boundary(self) -> bool:
        """True between frames (nothing of a frame consumed yet)."""
        return self._error is None and self._cur is None and self.needed == 0

    def _raise_c_error(self, rc: int, **extra: Any) -> FrameError:
        name = errname(rc)
        where = dict(offset=int(_d_offset(self._dp)), frame=int(_d_frame(self._dp)))
        if name in ("HEADER_TOO_LARGE", "BODY_TOO_LARGE", "LOOKS_LIKE_TEXT", "LOOKS_LIKE_TLS"):
            where["declared"] = int(_d_declared(self._dp))
            where["limit"] = int(_d_limit(self._dp))
        where.update(extra)
        self._error = error(name, **where)
        return self._error

    # -- feeding ---------------------------------------------------------------

    def feed(self, data: Any) -> Iterator[Frame]:
        """Consumes `data`; returns an iterator over the frames it completed
        (then raising the error, if the data held one). See pure.Decoder.feed."""
        return self._feed(data, True)

    def feed_events(self, data: Any) -> Iterator[Event]:
        """Like feed(), but yields HeaderEvent, BodyChunk and FrameEnd events."""
        return self._feed(data, False)

    def _feed(self, data: Any, whole: bool) -> Iterator[Any]:
        if self._error is not None:
            return _raise_after([], self._error)
        data = as_bytes(data)
        enter_mode(self, whole)
        base = int(_d_offset(self._dp))
        n = len(data)
        consumed = _feed(self._dp, data, n) if n else 0
        err: Optional[FrameError] = None
        # A decoder can fail on the last byte it was given and still report
        # all of them consumed (e.g. a HEADER_EMPTY prefix): ask every time.
        rc = _d_errno(self._dp)
        if rc:
            err = self._raise_c_error(rc)
        out: List[Any] = []
        heads = self._heads
        self._heads = []
        end = base + consumed
        w = 0 if self.config.raw else self._w
        for size, start in heads:
            if self._cur is not None:  # its body ended before this header
                self._body(data, base, self._cur[3] + self._cur[2], whole, out)
            hs = self._next + self._w  # the header's first byte
            if not w:
                json = b""
            elif hs >= base:
                json = data[hs - base:start - base]
            else:  # the header began in an earlier feed
                json = self._carry[hs - self._next:] + data[:start - base]
            self._next = start + size
            self._carry = b""
            header = load_header(json, self._parse_float) if json else {}
            self._cur = [header, json, size, start, 0, []]
            if not whole:
                out.append(HeaderEvent(header, size, json))
        if self._cur is not None:
            self._body(data, base, end, whole, out)
        if self._next < end:  # a frame began and its header is not complete
            if self._next >= base:
                self._carry = data[self._next - base:consumed]
            else:
                self._carry += data[:consumed]
        return _raise_after(out, err) if err is not None else iter(out)

    def _body(self, data: bytes, base: int, upto: int, whole: bool, out: List[Any]) -> None:
        """Collects the current frame's body bytes before stream offset `upto`."""
        cur = self._cur
        assert cur is not None
        header, json, size, start, got, parts = cur
        lo = start + got
        hi = min(start + size, upto)
        if hi > lo:
            chunk = data[lo - base:hi - base]
            got += hi - lo
            cur[4] = got
            if whole:
                parts.append(chunk)
            else:
                out.append(BodyChunk(chunk))
        if got == size:
            if whole:
                body = parts[0] if len(parts) == 1 else b"".join(parts)
                out.append(Frame(header, body, json))
            else:
                out.append(FrameEnd(self._done))
            self._done += 1
            self._cur = None

    def finish(self) -> None:
        """Tells the decoder the stream has ended (TruncatedError mid-frame)."""
        if self._error is not None:
            raise self._error
        missing = _u64(0)
        rc = _finish(self._dp, ctypes.byref(missing))
        if rc:
            raise self._raise_c_error(rc, missing=int(missing.value))

    def feed_datagram(self, data: Any) -> Frame:
        """Decodes one datagram holding exactly one frame (see pure.Decoder)."""
        if self._error is not None:
            raise self._error
        if not self.at_boundary:
            raise ArgumentError("feed_datagram() needs a decoder at a frame boundary")
        data = as_bytes(data)
        rc = _feed_datagram(self._dp, data, len(data))
        heads = self._heads
        self._heads = []
        if rc and rc != _ERR_PAUSED:
            raise self._raise_c_error(rc)
        size, start = heads[0]
        json = b"" if self.config.raw else data[self._w:len(data) - size]
        header = load_header(json, self._parse_float) if json else {}
        self._done += 1
        return Frame(header, data[len(data) - size:], json)

    def __repr__(self) -> str:
        return "<libframe.native.Decoder offset=%d frame=%d%s>" % (
            self.offset, self.frame_index,
            " error=%s" % self._error.name if self._error is not None else "")


# --- encoder -------------------------------------------------------------------

def _cname(name: Any) -> bytes:
    """A member name for the C API (NUL-terminated: no NUL inside)."""
    if isinstance(name, str):
        b = name.encode("utf-8", "surrogatepass")  # C reports BAD_UTF8 for surrogates
    elif isinstance(name, (bytes, bytearray, memoryview)):
        b = bytes(name)
    else:
        raise TypeError("a member name must be str or bytes, not %s" % type(name).__name__)
    if b"\0" in b:
        raise _NeedsPure()
    return b


def _ctext(text: Any, what: str) -> bytes:
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(text).__name__))


class _NeedsPure(Exception):
    """The C API cannot take this input (a member name holding U+0000)."""


class Builder:
    """frame_builder: builds prefix + canonical header in C. Same interface as
    libframe.pure.Builder (sticky errors, the same exceptions).

    The C builder writes into a buffer that starts small and grows (the adds
    are replayed) up to what the largest allowed header needs; running out of
    room there is HeaderTooLargeError.

    Member names holding U+0000 cannot pass through the C API (its names are
    NUL-terminated); such a Builder raises ArgumentError, while encode() and
    build_head() fall back to the pure-Python encoder, which writes the same
    bytes.
    """

    def __init__(self, body_size: int, config: ConfigLike = None, *, _buf: Any = None,
                 **params: Any) -> None:
        self.config: Config = make_config(config, params)
        cfg = self.config
        if not isinstance(body_size, int) or isinstance(body_size, bool) or body_size < 0:
            raise ArgumentError("body_size must be a non-negative int, not %r" % (body_size,))
        self.body_size = body_size
        self._ccfg, self._cname = _c_config(cfg)
        # frame_builder_init wants room for at least prefix + 1 byte, even in
        # the raw profile.
        self._cap = cfg.prefix_width + (1 if cfg.raw else cfg.header_limit)
        self._b = _Builder()
        self._bp = ctypes.addressof(self._b)
        self._ops: List[Tuple[Callable[..., int], tuple]] = []
        self._error: Optional[FrameError] = None
        if _buf is None or len(_buf) < min(self._cap, 4096):
            _buf = _buffer(min(self._cap, 4096))
        rc = self._start(_buf)
        if rc == _E_BUFFER_TOO_SMALL:  # let C itself say HEADER_TOO_LARGE
            rc = self._start(_buffer(self._cap + 64))
        if rc:
            name = errname(rc)
            if name == "BUFFER_TOO_SMALL":
                name = "HEADER_TOO_LARGE"
            if name == "BODY_TOO_LARGE":
                raise error(name, declared=min(body_size, _UINT64_MAX), limit=cfg.body_limit)
            raise error(name)

    def _start(self, buf: Any) -> int:
        self._buf = buf
        return _b_init(self._bp, ctypes.byref(self._ccfg), buf, len(buf),
                       min(self.body_size, _UINT64_MAX))

    def _grow(self, bound: int) -> bool:
        """Starts again in a buffer twice as large (at most `bound` bytes) and
        replays the adds; False when the buffer already has `bound` bytes."""
        size = len(self._buf)
        while size < bound:
            size = min(size * 2, bound)
            self._start(_buffer(size))
            if all(fn(self._bp, *args) == 0 for fn, args in self._ops):
                return True
        return False

    def _fail(self, rc: int) -> FrameError:
        name = errname(rc)
        if name == "BUFFER_TOO_SMALL":
            name = "HEADER_TOO_LARGE"
        err = error(name, limit=self.config.header_limit) if name == "HEADER_TOO_LARGE" \
            else error(name)
        if name != "ARGUMENT":
            self._error = err
        return err

    def _do(self, fn: Callable[..., int], *args: Any) -> "Builder":
        if self._error is not None:
            raise self._error
        rc = fn(self._bp, *args)
        if rc == _E_BUFFER_TOO_SMALL:
            # Room for the largest header plus this member written out (at
            # most 6 bytes per input byte, as \u00XX): then the C builder
            # itself says what is wrong (HEADER_TOO_LARGE, or an error in the
            # member that a full buffer would hide).
            extra = sum(len(a) for a in args if isinstance(a, bytes))
            bound = self._cap + 6 * extra + 64
            while rc == _E_BUFFER_TOO_SMALL and self._grow(bound):
                rc = fn(self._bp, *args)
        if rc:
            raise self._fail(rc)
        self._ops.append((fn, args))
        return self

    def _name(self, name: Any) -> bytes:
        try:
            return _cname(name)
        except _NeedsPure:
            raise ArgumentError("the C builder cannot take a name holding U+0000") from None

    def add(self, name: Any, value: Any) -> "Builder":
        """Adds a member with any JSON-able value (see pure.Builder.add)."""
        if value is None:
            return self.add_null(name)
        if value is True or value is False:
            return self.add_bool(name, value)
        if isinstance(value, str):
            return self.add_string(name, value)
        if isinstance(value, int):
            return self.add_int(name, value)
        if isinstance(value, RawJSON):
            return self.add_raw(name, value.text)
        if isinstance(value, (float, Mapping, list, tuple)):
            if self._error is not None:
                raise self._error
            return self.add_raw(name, value_json(value))
        raise TypeError("cannot encode %s as JSON" % type(value).__name__)

    def add_string(self, name: Any, value: Any) -> "Builder":
        """Adds a string member (str, or bytes holding UTF-8)."""
        v = _ctext(value, "the value")
        return self._do(_b_add_stringn, self._name(name), v, len(v))

    def add_int(self, name: Any, value: int) -> "Builder":
        """Adds an integer member (any magnitude)."""
        if not isinstance(value, int):
            raise TypeError("add_int() takes an int, not %s" % type(value).__name__)
        value = int(value)
        n = self._name(name)
        if _INT64_MIN <= value <= _INT64_MAX:
            return self._do(_b_add_int64, n, value)
        if 0 <= value <= _UINT64_MAX:
            return self._do(_b_add_uint64, n, value)
        text = int_text(value).encode("ascii")
        return self._do(_b_add_raw, n, text, len(text))

    def add_bool(self, name: Any, value: bool) -> "Builder":
        """Adds true or false."""
        return self._do(_b_add_bool, self._name(name), 1 if value else 0)

    def add_null(self, name: Any) -> "Builder":
        """Adds null."""
        return self._do(_b_add_null, self._name(name))

    def add_raw(self, name: Any, json_text: Any) -> "Builder":
        """Adds any JSON value given as text, validated and made canonical by C."""
        t = _ctext(json_text, "raw JSON")
        return self._do(_b_add_raw, self._name(name), t, len(t))

    def finish(self) -> bytes:
        """Closes the header; returns prefix + header (see pure.Builder.finish)."""
        if self._error is not None:
            raise self._error
        out = ctypes.c_void_p()
        n = _sz()
        rc = _b_finish(self._bp, ctypes.byref(out), ctypes.byref(n))
        while rc == _E_BUFFER_TOO_SMALL and self._grow(self._cap + 64):
            rc = _b_finish(self._bp, ctypes.byref(out), ctypes.byref(n))
        if rc:
            raise self._fail(rc)
        return ctypes.string_at(out.value, n.value)


_local = threading.local()


def _buffer(cap: int) -> Any:
    return ctypes.create_string_buffer(cap)


def _scratch(config: Config) -> Any:
    """A per-thread buffer for build_head(), which copies its result out."""
    cap = min(config.prefix_width + (1 if config.raw else config.header_limit), 1 << 17)
    buf = getattr(_local, "buf", None)
    if buf is None or len(buf) < cap:
        buf = _local.buf = _buffer(cap)
    return buf


def build_head(header: Optional[Mapping[str, Any]], body_size: int, config: ConfigLike = None,
               **params: Any) -> bytes:
    """prefix + canonical header, built by the C builder."""
    if header and not isinstance(header, Mapping):
        raise TypeError("header must be a dict, not %s" % type(header).__name__)
    cfg = make_config(config, params)
    try:
        b = Builder(body_size, cfg, _buf=_scratch(cfg))
        if header:
            for name, value in header.items():
                if isinstance(name, str) and "\0" in name:
                    raise _NeedsPure()
                b.add(name, value)
        return b.finish()
    except _NeedsPure:
        return _pure_build_head(header, body_size, config, **params)


def encode(header: Optional[Mapping[str, Any]], body: Any = b"", config: ConfigLike = None,
           **params: Any) -> bytes:
    """The canonical bytes of one frame (see pure.encode), built in C."""
    body = as_bytes(body, "body")
    return build_head(header, len(body), config, **params) + body


class FrameWriter(_PureFrameWriter):
    """Writes one frame with a streamed body (see pure.FrameWriter); the head
    is built by the C builder."""

    def _head(self, header: Any, body_size: int, config: ConfigLike, params: Any) -> bytes:
        return build_head(header, body_size, config, **params)

