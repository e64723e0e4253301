"""The pure-Python encoder: canonical headers, whole frames, streamed bodies."""

import math
from typing import Any, Callable, List, Mapping, Optional, Tuple, Union

from ._config import MAX_DEPTH, MAX_MEMBERS, Config, ConfigLike, make_config
from ._errors import (ArgumentError, BadUTF8Error, BodyTooLargeError, DuplicateNameError,
                      FrameError, HeaderTooLargeError, ReservedNameError, SizeMismatchError,
                      TooDeepError, TooManyMembersError, error)
from ._scan import ScanError, canonical, escape_str
from ._types import RawJSON, as_bytes, int_text

Text = Union[str, bytes]


def _utf8(text: Any, what: str) -> bytes:
    """UTF-8 bytes of a str, or bytes checked to be UTF-8."""
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadUTF8Error("%s is not valid Unicode (lone surrogate)" % what) from None
    if isinstance(text, (bytes, bytearray, memoryview)):
        b = bytes(text)
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            raise BadUTF8Error("%s is not valid UTF-8" % what) from None
        return b
    raise TypeError("%s must be str or bytes, not %s" % (what, type(text).__name__))


def _raw_bytes(name: Any) -> bytes:
    """The bytes of a name or of raw JSON text, not yet checked to be UTF-8
    (lone surrogates of a str become bytes that the checks then reject, as
    the C library would: raw JSON is validated like a header, so a bad byte
    outside a string is JSON_SYNTAX and inside one BAD_UTF8)."""
    if isinstance(name, str):
        return name.encode("utf-8", "surrogatepass")
    if isinstance(name, (bytes, bytearray, memoryview)):
        return bytes(name)
    raise TypeError("a member name or raw JSON must be str or bytes, not %s"
                    % type(name).__name__)


def _string_json(text: Any, what: str) -> bytes:
    return escape_str(_utf8(text, what).decode("utf-8")).encode("utf-8")


class _Value:
    """Serialises Python values canonically, counting members and depth."""

    def __init__(self, members: int) -> None:
        self.members = members

    def emit(self, v: Any, depth: int, out: List[bytes]) -> None:
        # `depth` = levels already open around v (the header object is 1).
        if v is None:
            out.append(b"null")
        elif v is True:
            out.append(b"true")
        elif v is False:
            out.append(b"false")
        elif isinstance(v, str):
            out.append(_string_json(v, "a string value"))
        elif isinstance(v, int):
            out.append(int_text(int(v)).encode("ascii"))
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError("JSON has no %r" % v)
            out.append(float.__repr__(v).encode("ascii"))
        elif isinstance(v, RawJSON):
            try:
                text, self.members = canonical(_raw_bytes(v.text), depth, self.members)
            except ScanError as e:
                raise error(e.name, "in raw JSON at offset %d" % e.pos) from None
            out.append(text)
        elif isinstance(v, Mapping):
            if depth + 1 > MAX_DEPTH:
                raise TooDeepError("a value nests deeper than %d levels" % MAX_DEPTH)
            out.append(b"{")
            first = True
            for name, item in v.items():
                if not isinstance(name, str):
                    raise TypeError("object names must be str, not %s" % type(name).__name__)
                self.members += 1
                if self.members > MAX_MEMBERS:
                    raise TooManyMembersError("more than %d members" % MAX_MEMBERS)
                if not first:
                    out.append(b",")
                first = False
                out.append(_string_json(name, "a member name"))
                out.append(b":")
                self.emit(item, depth + 1, out)
            out.append(b"}")
        elif isinstance(v, (list, tuple)):
            if depth + 1 > MAX_DEPTH:
                raise TooDeepError("a value nests deeper than %d levels" % MAX_DEPTH)
            out.append(b"[")
            for k, item in enumerate(v):
                if k:
                    out.append(b",")
                self.emit(item, depth + 1, out)
            out.append(b"]")
        else:
            raise TypeError("cannot encode %s as JSON" % type(v).__name__)


def value_json(v: Any, members: int = 0, depth: int = 1) -> bytes:
    """The canonical JSON of a Python value (as a member value of a header)."""
    out: List[bytes] = []
    _Value(members).emit(v, depth, out)
    return b"".join(out)


class Builder:
    """Builds the head of one frame (prefix + canonical header), member by
    member, like the C frame_builder.

    The size member comes first, then the members in the order they are added.
    Errors are sticky: once a call raised, every later call (and finish())
    raises the same error, so a frame is never half-built by mistake.

    Args:
        body_size: the body length the frame will declare.
        config, **params: as for Decoder.

    Raises BodyTooLargeError (body_size over max_body), ConfigError.

    Example::

        b = Builder(len(body))
        b.add("name", "report.pdf")
        b.add_raw("tags", '["a", "b"]')
        sock.sendall(b.finish() + body)
    """

    def __init__(self, body_size: int, config: ConfigLike = None, **params: Any) -> None:
        self.config: Config = make_config(config, params)
        cfg = self.config
        if not isinstance(body_size, int) or isinstance(body_size, bool) or body_size < 0:
            raise ArgumentError("body_size must be a non-negative int, not %r" % (body_size,))
        if body_size > cfg.body_limit:
            raise BodyTooLargeError(declared=min(body_size, (1 << 64) - 1),
                                    limit=cfg.body_limit)
        self.body_size = body_size
        self._size_name = cfg._size_name_bytes
        self._names = set()  # type: set
        self._members = 1    # the size member
        self._error: Optional[FrameError] = None
        self._head: Optional[bytes] = None
        if cfg.raw:
            self._parts: List[bytes] = []
        else:
            self._parts = [b'{"', self._size_name, b'":', str(body_size).encode("ascii")]
        self._len = sum(len(p) for p in self._parts)  # header bytes so far, '}' not counted
        if not cfg.raw and self._len + 1 > cfg.header_limit:
            raise HeaderTooLargeError("even an empty header does not fit",
                                      declared=self._len + 1, limit=cfg.header_limit)

    def _begin(self, name: Any) -> bytes:
        """Checks a new member's name; returns its JSON. The checks run in the
        C builder's order: reserved, member count, duplicate, then UTF-8."""
        if self._error is not None:
            raise self._error
        if self._head is not None:
            raise ArgumentError("finish() was called: the header is closed")
        if self.config.raw:
            raise ArgumentError("the raw profile has no header members")
        b = _raw_bytes(name)
        if b == self._size_name:
            raise ReservedNameError("%r is the size member, written by the builder" % (name,))
        if self._members + 1 > MAX_MEMBERS:
            raise TooManyMembersError("a header holds at most %d members" % MAX_MEMBERS)
        if b in self._names:
            raise DuplicateNameError("the header already has a member %r" % (name,))
        return _string_json(b, "the member name")

    def _add(self, name: Any, make: Callable[[int], Tuple[bytes, int]]) -> "Builder":
        """Adds a member whose value `make(members)` returns as (JSON, members
        counted after it), given the members counted with the new one."""
        try:
            name_json = self._begin(name)
            value, members = make(self._members + 1)
        except FrameError as err:
            if self._error is None and not isinstance(err, ArgumentError):
                self._error = err
            raise
        self._names.add(_raw_bytes(name))
        self._members = members
        self._parts += (b",", name_json, b":", value)
        self._len += 2 + len(name_json) + len(value)
        if self._len + 1 > self.config.header_limit:
            # Fail as soon as the header (closed by '}') cannot fit.
            self._error = HeaderTooLargeError(declared=self._len + 1,
                                              limit=self.config.header_limit)
            raise self._error
        return self

    def add(self, name: Text, value: Any) -> "Builder":
        """Adds a member with any JSON-able value: None, bool, int, float
        (finite), str, dict (str keys), list/tuple, RawJSON. Nested values
        count against the 32-level and 512-member limits."""
        def make(members: int) -> Tuple[bytes, int]:
            v = _Value(members)
            out: List[bytes] = []
            v.emit(value, 1, out)
            return b"".join(out), v.members
        return self._add(name, make)

    def add_string(self, name: Text, value: Text) -> "Builder":
        """Adds a string member (value: str, or bytes holding UTF-8)."""
        return self._add(name, lambda m: (_string_json(value, "the value"), m))

    def add_int(self, name: Text, value: int) -> "Builder":
        """Adds an integer member (any magnitude)."""
        if not isinstance(value, int):
            raise TypeError("add_int() takes an int, not %s" % type(value).__name__)
        text = int_text(int(value)).encode("ascii")
        return self._add(name, lambda m: (text, m))

    def add_bool(self, name: Text, value: bool) -> "Builder":
        """Adds true or false."""
        return self._add(name, lambda m: (b"true" if value else b"false", m))

    def add_null(self, name: Text) -> "Builder":
        """Adds null."""
        return self._add(name, lambda m: (b"null", m))

    def add_raw(self, name: Text, json_text: Text) -> "Builder":
        """Adds any JSON value given as text, validated and made canonical."""
        def make(members: int) -> Tuple[bytes, int]:
            try:
                return canonical(_raw_bytes(json_text), 1, members)
            except ScanError as e:
                raise error(e.name, "in raw JSON at offset %d" % e.pos) from None
        return self._add(name, make)

    def finish(self) -> bytes:
        """Closes the header and returns prefix + header, the bytes that go on
        the wire before the body. Raises the builder's first error, or
        HeaderTooLargeError (which an add may also raise, as soon as the
        header cannot fit). Calling it again returns the same bytes."""
        if self._error is not None:
            raise self._error
        if self._head is not None:
            return self._head
        cfg = self.config
        order = cfg.byte_order
        if cfg.raw:
            head = self.body_size.to_bytes(cfg.prefix_width, order)  # type: ignore[arg-type]
        else:
            header = b"".join(self._parts) + b"}"
            if len(header) > cfg.header_limit:
                self._error = HeaderTooLargeError(declared=len(header), limit=cfg.header_limit)
                raise self._error
            head = len(header).to_bytes(cfg.prefix_width, order) + header  # type: ignore
        self._head = head
        return head


def build_head(header: Optional[Mapping[str, Any]], body_size: int, config: ConfigLike = None,
               **params: Any) -> bytes:
    """prefix + canonical header for a frame with `header` and a body of
    `body_size` bytes."""
    b = Builder(body_size, config, **params)
    if header:
        if not isinstance(header, Mapping):
            raise TypeError("header must be a dict, not %s" % type(header).__name__)
        for name, value in header.items():
            b.add(name, value)
    return b.finish()


def encode(header: Optional[Mapping[str, Any]], body: Any = b"", config: ConfigLike = None,
           **params: Any) -> bytes:
    """The canonical bytes of one frame: prefix, header, body.

    `header` is a dict of members (str names; values None, bool, int, float,
    str, dict, list, RawJSON); it must not hold the size member, which is
    written first, from len(body). The result is byte for byte what the C
    encoder writes for the same members. Raises the FrameError the decoder
    would raise for such a frame (DuplicateNameError, TooDeepError,
    HeaderTooLargeError, BodyTooLargeError...), ReservedNameError for the size
    member, BadUTF8Error for strings with lone surrogates.

    Example: encode({"type": "hello"}, b"hi") ->
        b'\\x19\\x00\\x00\\x00{"size":2,"type":"hello"}hi'
    """
    body = as_bytes(body, "body")
    return build_head(header, len(body), config, **params) + body


def send_parts(sock: Any, parts: List[Any]) -> None:
    """Writes all of `parts` to a socket-like object in one system call when
    it can: sendmsg() with the pieces gathered (looping only on a short send),
    else one sendall() of the pieces joined."""
    sendmsg = getattr(sock, "sendmsg", None)
    if sendmsg is None or len(parts) == 1:
        sock.sendall(parts[0] if len(parts) == 1 else b"".join(parts))
        return
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        n = sendmsg(views)
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if views and n:
            views[0] = views[0][n:]


def writer_of(out: Any) -> Callable[[List[Any]], None]:
    """A function writing all of a list of byte pieces to `out` in one call to
    the transport: a socket (sendmsg, else sendall of the pieces joined), a
    binary file (one write of the pieces joined, looping on short writes) or a
    callable (called once with the pieces joined)."""
    if getattr(out, "sendall", None) is not None:
        return lambda parts: send_parts(out, parts)
    write = getattr(out, "write", None)
    if write is None:
        if callable(out):
            return lambda parts: out(parts[0] if len(parts) == 1 else b"".join(parts))
        raise TypeError("cannot write to %s" % type(out).__name__)

    def write_all(parts: List[Any]) -> None:
        view = memoryview(parts[0] if len(parts) == 1 else b"".join(parts)).cast("B")
        while view:
            n = write(view)
            if n is None:  # text-mode-like API or a non-blocking raw file
                n = len(view)
            view = view[n:]
    return write_all


class FrameWriter:
    """Writes one frame whose body is produced in pieces (a file that does
    not fit in memory...). The head goes out at once; write() sends body
    chunks; close() checks that they added up to body_size.

    The head is held back and leaves in one write with the first body chunk
    (at once for an empty body), so no head travels alone. A chunk that would
    go past body_size is refused whole before any of it is written
    (SizeMismatchError), so no frame ever carries more than it declares; close() raises SizeMismatchError if the body is short. Used as a
    context manager, close() runs on a normal exit (not after an exception:
    the frame is then incomplete, so close the connection).

    Args:
        out: a socket (sendall is used), a binary file (write) or a callable.
        header: the header members (as for encode()).
        body_size: the body length to declare.
        config, **params: as for Decoder.

    Example::

        size = os.path.getsize(path)
        with FrameWriter(sock, {"file_name": name}, size) as w, open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                w.write(chunk)
    """

    def __init__(self, out: Any, header: Optional[Mapping[str, Any]], body_size: int,
                 config: ConfigLike = None, **params: Any) -> None:
        self._write = writer_of(out)
        self.body_size = body_size
        self.written = 0
        self.closed = False
        self._pending: Optional[bytes] = self._head(header, body_size, config, params)
        if body_size == 0:
            self._flush([])

    def _head(self, header: Any, body_size: int, config: ConfigLike, params: Any) -> bytes:
        return build_head(header, body_size, config, **params)

    def write(self, chunk: Any) -> int:
        """Writes body bytes; returns their number."""
        if self.closed:
            raise ArgumentError("the frame writer is closed")
        data = as_bytes(chunk, "chunk")
        n = len(data)
        if self.written + n > self.body_size:
            raise SizeMismatchError("%d more body bytes would exceed the declared %d (%d written)"
                                    % (n, self.body_size, self.written))
        if n:
            self._flush([data])
            self.written += n
        return n

    def _flush(self, parts: List[Any]) -> None:
        if self._pending is not None:
            parts = [self._pending] + parts
            self._pending = None
        self._write(parts)

    @property
    def remaining(self) -> int:
        """Body bytes still to write."""
        return self.body_size - self.written

    def close(self) -> None:
        """Ends the frame; SizeMismatchError if the body is short (the writer
        then stays open: write the rest and close again)."""
        if self.closed:
            return
        if self.written != self.body_size:
            raise SizeMismatchError("the body has %d bytes, %d declared"
                                    % (self.written, self.body_size))
        self.closed = True

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.closed = True
