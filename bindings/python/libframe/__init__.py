"""libframe: length-prefixed frames with a JSON header (SPEC.md), for Python.

    frame = prefix (header length, 4 octets little-endian by default)
          | header (UTF-8 JSON object holding "size": N, canonical when encoded)
          | body (N octets)

Two implementations share one interface:

- libframe.native: a CPython extension with the C library compiled in (the
  default; built by ``pip install ./bindings/python``);
- libframe.pure: pure Python, standard library only.

``import libframe`` uses the extension and falls back to pure Python, with a
warning that says why, when the extension cannot be loaded. The environment
chooses explicitly:

    LIBFRAME_IMPL=pure        pure Python, no warning (also: python)
    LIBFRAME_IMPL=extension   the extension or ImportError (also: native)
    LIBFRAME_IMPL=auto        the default

``libframe.IMPLEMENTATION`` says which one was chosen ("extension" or "python").

Example::

    import socket, libframe
    with socket.create_connection(("127.0.0.1", 7000)) as s:
        libframe.send_frame(s, {"type": "hello"}, b"payload")
        reply = libframe.recv_frame(s)        # Frame(header, body) or None
"""

import os as _os
import warnings as _warnings

from ._config import (DEFAULT_MAX_HEADER, MAX_BODY_LIMIT, MAX_DEPTH, MAX_MEMBERS, MAX_SIZE_NAME,
                      Config)
from ._errors import *  # noqa: F401,F403  (FrameError and its subclasses)
from ._errors import ERRNO, ERRORS, FrameError, errname, strerror
from ._io import read_frame, recv_frame, send_frame, write_frame
from ._types import BodyChunk, Event, Frame, FrameEnd, HeaderEvent, RawJSON

__version__ = "1.1.0"


def _select():  # type: ignore[no-untyped-def]
    choice = _os.environ.get("LIBFRAME_IMPL", "auto").strip().lower() or "auto"
    if choice in ("pure", "python", "py"):
        from . import pure
        return pure
    if choice in ("extension", "native", "c"):
        from . import native
        return native
    if choice != "auto":
        raise ImportError("LIBFRAME_IMPL must be pure, extension or auto, not %r" % choice)
    try:
        from . import native
        return native
    except ImportError as e:
        _warnings.warn(
            "libframe: %s; the pure-Python implementation runs instead, several times "
            "slower. To fix it, install a C compiler and the Python "
            "headers (Debian: apt-get install gcc python3-dev) and reinstall "
            "(pip install ./bindings/python); set LIBFRAME_IMPL=pure to choose pure Python "
            "without this warning." % e, RuntimeWarning, stacklevel=3)
        from . import pure
        return pure


_impl = _select()
Decoder = _impl.Decoder
Builder = _impl.Builder
FrameWriter = _impl.FrameWriter
build_head = _impl.build_head
encode = _impl.encode
IMPLEMENTATION: str = _impl.IMPLEMENTATION

from ._aio import FrameStream, connect, read_frames, serve  # noqa: E402

__all__ = [
    "Config", "Decoder", "Builder", "FrameWriter", "encode", "build_head",
    "send_frame", "recv_frame", "read_frame", "write_frame",
    "read_frames", "FrameStream", "connect", "serve",
    "Frame", "HeaderEvent", "BodyChunk", "FrameEnd", "Event", "RawJSON",
    "FrameError", "ERRORS", "ERRNO", "errname", "strerror", "IMPLEMENTATION",
    "MAX_DEPTH", "MAX_MEMBERS", "MAX_SIZE_NAME", "DEFAULT_MAX_HEADER", "MAX_BODY_LIMIT",
] + [cls.__name__ for cls in ERRORS.values()]
