"""Helpers for blocking sockets and asyncio streams.

They never read past the end of the frame they return (they ask the decoder
how many bytes it still needs and read at most that many), so frames and other
traffic can follow on the same connection.
"""

import socket
from typing import Any, List, Mapping, Optional

from ._config import ConfigLike
from ._encode import send_parts
from ._errors import ArgumentError
from ._types import Frame

_MAX_READ = 1 << 20
# Bodies up to this size are copied after the head (one buffer, one send);
# larger ones are gathered with the head by sendmsg / writelines.
_JOIN_MAX = 1 << 16


def _decoder(decoder: Any, config: ConfigLike, params: Any) -> Any:
    if decoder is not None:
        if config is not None or params:
            raise TypeError("give either a decoder or a config, not both")
        if not decoder.at_boundary:
            raise ArgumentError("the decoder is in the middle of a frame")
        return decoder
    from . import Decoder  # the selected implementation
    return Decoder(config, **params)


def _head(header: Optional[Mapping[str, Any]], body_size: int, config: ConfigLike,
          params: Any) -> bytes:
    from . import build_head  # the selected implementation
    return build_head(header, body_size, config, **params)


def _want(d: Any) -> int:
    n = d.needed
    return min(n if n else d.config.prefix_width, _MAX_READ)


def recv_frame(sock: socket.socket, config: ConfigLike = None, *, decoder: Any = None,
               **params: Any) -> Optional[Frame]:
    """Receives one frame from a blocking socket.

    Returns the Frame, or None when the peer closed the connection cleanly
    between frames. Raises TruncatedError if it closed in the middle of a
    frame, and the decoder's errors for a bad frame. Socket errors and
    timeouts (socket.timeout) propagate.

    Pass `decoder` (a Decoder kept for the connection) to have error offsets
    and frame indexes counted over the whole stream; otherwise a fresh decoder
    counts from this frame's first byte.
    """
    d = _decoder(decoder, config, params)
    while True:
        data = sock.recv(_want(d))
        if not data:
            d.finish()  # raises TruncatedError unless at a frame boundary
            return None
        for frame in d.feed(data):
            return frame


def send_frame(sock: Any, header: Optional[Mapping[str, Any]], body: Any = b"",
               config: ConfigLike = None, **params: Any) -> None:
    """Sends one frame (canonical header) on a blocking socket in one system
    call: head and body joined (bodies up to 64 KiB), or gathered by one
    sendmsg() (larger bodies; a short send is completed by further calls).

    `sock` may be any object with sendall() (then one sendall of the frame).
    Raises the encoder's errors before anything is sent.
    """
    view = body if isinstance(body, bytes) else memoryview(body).cast("B")
    head = _head(header, len(view), config, params)
    if len(view) <= _JOIN_MAX:
        send_parts(sock, [head + view if len(view) else head])
    else:
        send_parts(sock, [head, view])


async def read_frame(reader: Any, config: ConfigLike = None, *, decoder: Any = None,
                     **params: Any) -> Optional[Frame]:
    """Reads one frame from an asyncio.StreamReader.

    Returns the Frame, or None at a clean end of stream between frames;
    raises TruncatedError at an end of stream inside a frame, and the
    decoder's errors for a bad frame. `decoder` as for recv_frame().
    """
    d = _decoder(decoder, config, params)
    while True:
        data = await reader.read(_want(d))
        if not data:
            d.finish()
            return None
        for frame in d.feed(data):
            return frame


async def write_frame(writer: Any, header: Optional[Mapping[str, Any]], body: Any = b"",
                      config: ConfigLike = None, **params: Any) -> None:
    """Writes one frame to an asyncio.StreamWriter in one transport write,
    then waits for drain() (backpressure)."""
    view = body if isinstance(body, bytes) else memoryview(body).cast("B")
    put_frame(writer, _head(header, len(view), config, params), view)
    await writer.drain()


def put_frame(writer: Any, head: bytes, body: Any) -> None:
    """Hands head + body to an asyncio writer (StreamWriter or transport) in
    one call: write() of the two joined for bodies up to 64 KiB, else
    writelines([head, body]), which the transport turns into one send (it
    joins the pieces, or gathers them with sendmsg on Python 3.12+)."""
    if len(body) <= _JOIN_MAX:
        writer.write(head + body if len(body) else head)
    else:
        writer.writelines([head, body])


def frame_writer(out: Any, header: Optional[Mapping[str, Any]], body_size: int,
                 config: ConfigLike = None, **params: Any) -> Any:
    """A FrameWriter of the selected implementation (see FrameWriter)."""
    from . import FrameWriter
    return FrameWriter(out, header, body_size, config, **params)
