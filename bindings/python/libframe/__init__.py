"""libframe: length-prefixed frames with a JSON header (SPEC.md), for Python.

    frame = prefix (header length, 4 octets little-endian by default)
          | header (UTF-8 JSON object holding "size": N, canonical when encoded)
          | body (N octets)

Two implementations share one interface:

- libframe.pure: pure Python, standard library only;
- libframe.native: the C library (libframe.so.1) through ctypes.

``import libframe`` uses native when the shared library can be loaded and pure
Python otherwise. The environment chooses explicitly:

    LIBFRAME_IMPL=python|native|auto   (default auto; native fails loudly if
                                        the library cannot be loaded)
    LIBFRAME_LIBRARY=/path/to/libframe.so.1

``libframe.IMPLEMENTATION`` says which one was chosen.

Example::

    import socket, libframe
    with socket.create_connection(("127.0.0.1", 7000)) as s:
        libframe.send_frame(s, {"type": "hello"}, b"payload")
        reply = libframe.recv_frame(s)        # Frame(header, body) or None
"""

import os as _os

from ._config import (DEFAULT_MAX_HEADER, MAX_BODY_LIMIT, MAX_DEPTH, MAX_MEMBERS, MAX_SIZE_NAME,
                      Config)
from ._errors import *  # noqa: F401,F403  (the exception classes)
from ._errors import ERRNO, ERRORS, FrameError, errname, strerror
from ._io import read_frame, recv_frame, send_frame, write_frame
from ._types import BodyChunk, Event, Frame, FrameEnd, HeaderEvent, RawJSON

__version__ = "1.0.0"


def _select():
    choice = _os.environ.get("LIBFRAME_IMPL", "auto").strip().lower() or "auto"
    if choice in ("python", "pure", "py"):
        from . import pure
        return pure
    if choice == "native":
        from . import native
        return native
    if choice != "auto":
        raise ImportError("LIBFRAME_IMPL must be python, native or auto, not %r" % choice)
    try:
        from . import native
        return native
    except (ImportError, OSError):
        from . import pure
        return pure


_impl = _select()
Decoder = _impl.Decoder
Builder = _impl.Builder
FrameWriter = _impl.FrameWriter
build_head = _impl.build_head
encode = _impl.encode
IMPLEMENTATION: str = _impl.IMPLEMENTATION

__all__ = [
    "Config", "Decoder", "Builder", "FrameWriter", "encode", "build_head",
    "send_frame", "recv_frame", "read_frame", "write_frame",
    "Frame", "HeaderEvent", "BodyChunk", "FrameEnd", "Event", "RawJSON",
    "FrameError", "ERRORS", "ERRNO", "errname", "strerror", "IMPLEMENTATION",
    "MAX_DEPTH", "MAX_MEMBERS", "MAX_SIZE_NAME", "DEFAULT_MAX_HEADER", "MAX_BODY_LIMIT",
] + [cls.__name__ for cls in ERRORS.values()]
