"""The error table of libframe (include/frame.h FRAME_ERRNO_MAP) as exceptions.

Every error of the C library has the same name here (``HEADER_TOO_LARGE``) and
an exception class named after it (``HeaderTooLargeError``). All of them derive
from :class:`FrameError`, which carries where the error happened.
"""

from typing import Dict, Optional, Tuple, Type

# (number, NAME, description): the same rows, in the same order, as
# FRAME_ERRNO_MAP in include/frame.h. Numbers are stable and append-only.
ERRNO_TABLE: Tuple[Tuple[int, str, str], ...] = (
    (0, "OK", "success"),
    (1, "PAUSED", "a callback paused the decoder; call frame_decoder_resume()"),
    (2, "CALLBACK", "a callback returned an error code"),
    (3, "CONFIG", "invalid configuration"),
    (4, "ARGUMENT", "invalid argument or call out of order"),
    (5, "HEADER_EMPTY", "the prefix declares an empty header"),
    (6, "HEADER_TOO_LARGE", "the header is longer than the maximum header length"),
    (7, "LOOKS_LIKE_TEXT",
     "the prefix is printable text: a text protocol (HTTP?) is talking to a frame port"),
    (8, "LOOKS_LIKE_TLS",
     "the prefix is a TLS record: a TLS client is talking to a plain frame port"),
    (9, "JSON_SYNTAX", "the header is not well-formed JSON"),
    (10, "NOT_OBJECT", "the header's top-level value is not an object"),
    (11, "BOM", "the header starts with a byte-order mark"),
    (12, "BAD_UTF8", "the header contains bytes that are not valid UTF-8"),
    (13, "LONE_SURROGATE", "a \\u escape is an unpaired surrogate"),
    (14, "DUPLICATE_NAME", "an object has two members with the same name"),
    (15, "TOO_DEEP", "the header nests deeper than FRAME_MAX_DEPTH"),
    (16, "TOO_MANY_MEMBERS", "the header has more than FRAME_MAX_MEMBERS members"),
    (17, "SIZE_MISSING", "the header has no size member"),
    (18, "SIZE_INVALID", "the size member is not a plain non-negative integer"),
    (19, "BODY_TOO_LARGE", "the declared body size is larger than the maximum body length"),
    (20, "TRUNCATED", "the stream ended inside a frame"),
    (21, "DATAGRAM_TRUNCATED", "the datagram ends before its frame does"),
    (22, "DATAGRAM_TRAILING", "the datagram holds bytes after its frame"),
    (23, "NOT_FOUND", "no member has that name"),
    (24, "TYPE", "the value has another JSON type"),
    (25, "RANGE", "the number is out of range for the requested type"),
    (26, "BUFFER_TOO_SMALL", "the buffer is too small"),
    (27, "RESERVED_NAME", "the size member is written by the builder itself"),
    (28, "SIZE_MISMATCH", "the body does not match the declared size"),
    (29, "WRITE", "the write callback failed"),
    (30, "WOULD_BLOCK",
     "the transport took fewer bytes; call frame_encoder_resume() later"),
    (31, "CLOSED", "the stream ended between frames: no more frames (not an error)"),
    (32, "READ", "reading from the file descriptor failed (errno says why)"),
)

__all__ = ["FrameError", "ERRNO", "ERRORS", "errname", "strerror",
           "PausedError", "CallbackError", "ConfigError", "ArgumentError",
           "HeaderEmptyError", "HeaderTooLargeError", "LooksLikeTextError", "LooksLikeTLSError",
           "JSONSyntaxError", "NotObjectError", "BOMError", "BadUTF8Error",
           "LoneSurrogateError", "DuplicateNameError", "TooDeepError", "TooManyMembersError",
           "SizeMissingError", "SizeInvalidError", "BodyTooLargeError", "TruncatedError",
           "DatagramTruncatedError", "DatagramTrailingError", "NotFoundError", "TypeMismatchError",
           "RangeError", "BufferTooSmallError", "ReservedNameError", "SizeMismatchError",
           "WriteError", "WouldBlockError", "ClosedError", "ReadError"]

ERRNO: Dict[str, int] = {name: num for num, name, _ in ERRNO_TABLE}
_DESCRIPTIONS: Dict[str, str] = {name: desc for _, name, desc in ERRNO_TABLE}


def errname(code: int) -> str:
    """The name of error number `code` ("UNKNOWN" for other numbers), like frame_errname()."""
    for num, name, _ in ERRNO_TABLE:
        if num == code:
            return name
    return "UNKNOWN"


def strerror(code: int) -> str:
    """The one-line description of error number `code`, like frame_strerror()."""
    for num, _, desc in ERRNO_TABLE:
        if num == code:
            return desc
    return "unknown error"


class FrameError(Exception):
    """Base class of every libframe error.

    Attributes:
        name: the error's name as in C, without FRAME_E_ (e.g. "JSON_SYNTAX").
        code: its number in FRAME_ERRNO_MAP.
        offset: the stream offset (from 0 at the stream's first byte, or the
            datagram's first byte) that SPEC.md assigns to the error, or None
            for errors that are not about input bytes (encoder, config).
        frame: 0-based index of the frame in which it happened, or None.
        declared: for HEADER_TOO_LARGE / BODY_TOO_LARGE (and the foreign-prefix
            errors) the size that was refused, else None.
        limit: the limit that `declared` broke, else None.
        missing: for TRUNCATED, the least number of bytes that were still needed.
    """

    name = "UNKNOWN"
    code = -1

    def __init__(self, message: Optional[str] = None, *, offset: Optional[int] = None,
                 frame: Optional[int] = None, declared: Optional[int] = None,
                 limit: Optional[int] = None, missing: Optional[int] = None) -> None:
        self.offset = offset
        self.frame = frame
        self.declared = declared
        self.limit = limit
        self.missing = missing
        if message is None:
            message = _DESCRIPTIONS.get(self.name, "unknown error")
        where = []
        if offset is not None:
            where.append("offset %d" % offset)
        if frame is not None:
            where.append("frame %d" % frame)
        if declared is not None:
            where.append("declared %d" % declared)
        if limit is not None:
            where.append("limit %d" % limit)
        if missing is not None:
            where.append("missing %d" % missing)
        text = "%s: %s" % (self.name, message)
        if where:
            text += " (" + ", ".join(where) + ")"
        super().__init__(text)
        self.message = message

    def __reduce__(self):  # keep the attributes through pickling
        return (_rebuild, (self.name, self.message, self.offset, self.frame, self.declared,
                           self.limit, self.missing))


def _rebuild(name, message, offset, frame, declared, limit, missing):
    return ERRORS[name](message, offset=offset, frame=frame, declared=declared, limit=limit,
                        missing=missing)


# One class per error of FRAME_ERRNO_MAP (OK excepted), named after it.

class PausedError(FrameError):
    """PAUSED (1): a callback paused the decoder; call frame_decoder_resume()."""
    name = "PAUSED"
    code = 1


class CallbackError(FrameError):
    """CALLBACK (2): a callback returned an error code."""
    name = "CALLBACK"
    code = 2


class ConfigError(FrameError):
    """CONFIG (3): invalid configuration."""
    name = "CONFIG"
    code = 3


class ArgumentError(FrameError):
    """ARGUMENT (4): invalid argument or call out of order."""
    name = "ARGUMENT"
    code = 4


class HeaderEmptyError(FrameError):
    """HEADER_EMPTY (5): the prefix declares an empty header."""
    name = "HEADER_EMPTY"
    code = 5


class HeaderTooLargeError(FrameError):
    """HEADER_TOO_LARGE (6): the header is longer than the maximum header length."""
    name = "HEADER_TOO_LARGE"
    code = 6


class LooksLikeTextError(FrameError):
    """LOOKS_LIKE_TEXT (7): the prefix is printable text: a text protocol (HTTP?) is talking to a frame port."""
    name = "LOOKS_LIKE_TEXT"
    code = 7


class LooksLikeTLSError(FrameError):
    """LOOKS_LIKE_TLS (8): the prefix is a TLS record: a TLS client is talking to a plain frame port."""
    name = "LOOKS_LIKE_TLS"
    code = 8


class JSONSyntaxError(FrameError):
    """JSON_SYNTAX (9): the header is not well-formed JSON."""
    name = "JSON_SYNTAX"
    code = 9


class NotObjectError(FrameError):
    """NOT_OBJECT (10): the header's top-level value is not an object."""
    name = "NOT_OBJECT"
    code = 10


class BOMError(FrameError):
    """BOM (11): the header starts with a byte-order mark."""
    name = "BOM"
    code = 11


class BadUTF8Error(FrameError):
    """BAD_UTF8 (12): the header contains bytes that are not valid UTF-8."""
    name = "BAD_UTF8"
    code = 12


class LoneSurrogateError(FrameError):
    """LONE_SURROGATE (13): a \\u escape is an unpaired surrogate."""
    name = "LONE_SURROGATE"
    code = 13


class DuplicateNameError(FrameError):
    """DUPLICATE_NAME (14): an object has two members with the same name."""
    name = "DUPLICATE_NAME"
    code = 14


class TooDeepError(FrameError):
    """TOO_DEEP (15): the header nests deeper than FRAME_MAX_DEPTH."""
    name = "TOO_DEEP"
    code = 15


class TooManyMembersError(FrameError):
    """TOO_MANY_MEMBERS (16): the header has more than FRAME_MAX_MEMBERS members."""
    name = "TOO_MANY_MEMBERS"
    code = 16


class SizeMissingError(FrameError):
    """SIZE_MISSING (17): the header has no size member."""
    name = "SIZE_MISSING"
    code = 17


class SizeInvalidError(FrameError):
    """SIZE_INVALID (18): the size member is not a plain non-negative integer."""
    name = "SIZE_INVALID"
    code = 18


class BodyTooLargeError(FrameError):
    """BODY_TOO_LARGE (19): the declared body size is larger than the maximum body length."""
    name = "BODY_TOO_LARGE"
    code = 19


class TruncatedError(FrameError):
    """TRUNCATED (20): the stream ended inside a frame."""
    name = "TRUNCATED"
    code = 20


class DatagramTruncatedError(FrameError):
    """DATAGRAM_TRUNCATED (21): the datagram ends before its frame does."""
    name = "DATAGRAM_TRUNCATED"
    code = 21


class DatagramTrailingError(FrameError):
    """DATAGRAM_TRAILING (22): the datagram holds bytes after its frame."""
    name = "DATAGRAM_TRAILING"
    code = 22


class NotFoundError(FrameError):
    """NOT_FOUND (23): no member has that name."""
    name = "NOT_FOUND"
    code = 23


class TypeMismatchError(FrameError):
    """TYPE (24): the value has another JSON type."""
    name = "TYPE"
    code = 24


class RangeError(FrameError):
    """RANGE (25): the number is out of range for the requested type."""
    name = "RANGE"
    code = 25


class BufferTooSmallError(FrameError):
    """BUFFER_TOO_SMALL (26): the buffer is too small."""
    name = "BUFFER_TOO_SMALL"
    code = 26


class ReservedNameError(FrameError):
    """RESERVED_NAME (27): the size member is written by the builder itself."""
    name = "RESERVED_NAME"
    code = 27


class SizeMismatchError(FrameError):
    """SIZE_MISMATCH (28): the body does not match the declared size."""
    name = "SIZE_MISMATCH"
    code = 28


class WriteError(FrameError):
    """WRITE (29): the write callback failed."""
    name = "WRITE"
    code = 29


class WouldBlockError(FrameError):
    """WOULD_BLOCK (30): the transport took fewer bytes; call frame_encoder_resume() later."""
    name = "WOULD_BLOCK"
    code = 30


class ClosedError(FrameError):
    """CLOSED (31): the stream ended between frames (the C POSIX helpers' status; recv_frame
    returns None there instead)."""
    name = "CLOSED"
    code = 31


class ReadError(FrameError):
    """READ (32): reading from the file descriptor failed (the C POSIX helpers)."""
    name = "READ"
    code = 32


# ERRORS["HEADER_TOO_LARGE"] is HeaderTooLargeError, and so on.
ERRORS: Dict[str, Type[FrameError]] = {
    PausedError.name: PausedError,
    CallbackError.name: CallbackError,
    ConfigError.name: ConfigError,
    ArgumentError.name: ArgumentError,
    HeaderEmptyError.name: HeaderEmptyError,
    HeaderTooLargeError.name: HeaderTooLargeError,
    LooksLikeTextError.name: LooksLikeTextError,
    LooksLikeTLSError.name: LooksLikeTLSError,
    JSONSyntaxError.name: JSONSyntaxError,
    NotObjectError.name: NotObjectError,
    BOMError.name: BOMError,
    BadUTF8Error.name: BadUTF8Error,
    LoneSurrogateError.name: LoneSurrogateError,
    DuplicateNameError.name: DuplicateNameError,
    TooDeepError.name: TooDeepError,
    TooManyMembersError.name: TooManyMembersError,
    SizeMissingError.name: SizeMissingError,
    SizeInvalidError.name: SizeInvalidError,
    BodyTooLargeError.name: BodyTooLargeError,
    TruncatedError.name: TruncatedError,
    DatagramTruncatedError.name: DatagramTruncatedError,
    DatagramTrailingError.name: DatagramTrailingError,
    NotFoundError.name: NotFoundError,
    TypeMismatchError.name: TypeMismatchError,
    RangeError.name: RangeError,
    BufferTooSmallError.name: BufferTooSmallError,
    ReservedNameError.name: ReservedNameError,
    SizeMismatchError.name: SizeMismatchError,
    WriteError.name: WriteError,
    WouldBlockError.name: WouldBlockError,
    ClosedError.name: ClosedError,
    ReadError.name: ReadError,
}


def error(name: str, message: Optional[str] = None, **where: Optional[int]) -> FrameError:
    """Makes the exception for error `name` (e.g. error("TRUNCATED", offset=7, frame=0))."""
    return ERRORS[name](message, **where)
