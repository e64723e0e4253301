"""asyncio: frames over StreamReader / StreamWriter.

- read_frames(reader): an async iterator over the frames of a StreamReader;
- FrameStream: a framed connection (recv, send, async iteration, async with);
- connect() / serve(): open one, or serve each accepted one to a handler.

Every frame leaves in one transport write; send() waits for drain(), so a
slow peer holds the sender back (backpressure). Errors are the FrameError
classes of the sync API, raised after the frames that came before them.
"""

import asyncio
from collections import deque
from typing import (Any, AsyncIterator, Awaitable, Callable, Deque, Generator, Mapping,
                    Optional)

from ._config import Config, ConfigLike, make_config
from ._errors import FrameError
from ._io import put_frame
from ._types import Frame

READ_SIZE = 1 << 16


def _impl() -> Any:
    from . import _impl as impl  # the selected implementation
    return impl


async def read_frames(reader: asyncio.StreamReader, config: ConfigLike = None, *,
                      decoder: Any = None, read_size: int = READ_SIZE,
                      **params: Any) -> AsyncIterator[Frame]:
    """Yields the frames of `reader` until its end of stream:

        async for frame in libframe.read_frames(reader):
            ...

    Reads up to `read_size` bytes at a time (it owns the reader: bytes after
    the last frame it yields are consumed). Raises TruncatedError when the
    stream ends inside a frame, and the decoder's errors after the frames
    before them. `decoder`, `config` and keyword arguments as for recv_frame().
    """
    if decoder is None:
        decoder = _impl().Decoder(config, **params)
    elif config is not None or params:
        raise TypeError("give either a decoder or a config, not both")
    while True:
        data = await reader.read(read_size)
        if not data:
            decoder.finish()
            return
        for frame in decoder.feed(data):
            yield frame


class FrameStream:
    """A connection that carries frames, over an asyncio reader and writer.

    Use it as an async context manager (closes on exit) and as an async
    iterator over the frames received:

        async with libframe.connect("127.0.0.1", 7000) as stream:
            await stream.send({"name": "greeting.txt"}, b"hello")
            async for frame in stream:
                print(frame.header, frame.body)

    Args:
        reader, writer: an asyncio.StreamReader and StreamWriter.
        config, **params: the wire parameters (as for Decoder).
        read_size: bytes asked from the reader at a time.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 config: ConfigLike = None, *, read_size: int = READ_SIZE,
                 **params: Any) -> None:
        self.config: Config = make_config(config, params)
        self.reader = reader
        self.writer = writer
        impl = _impl()
        self._decoder = impl.Decoder(self.config)
        self._build_head = impl.build_head
        self._read_size = read_size
        self._frames: Deque[Frame] = deque()
        self._error: Optional[FrameError] = None
        self._eof = False

    async def recv(self) -> Optional[Frame]:
        """The next frame, or None at a clean end of stream (between frames).
        Raises TruncatedError at an end of stream inside a frame, and the
        decoder's errors (after the frames that came before them)."""
        frames = self._frames
        while not frames:
            if self._error is not None:
                raise self._error
            if self._eof:
                return None
            data = await self.reader.read(self._read_size)
            if not data:
                self._eof = True
                self._decoder.finish()
                return None
            try:
                for frame in self._decoder.feed(data):
                    frames.append(frame)
            except FrameError as e:
                self._error = e
        return frames.popleft()

    def __aiter__(self) -> "FrameStream":
        return self

    async def __anext__(self) -> Frame:
        frame = await self.recv()
        if frame is None:
            raise StopAsyncIteration
        return frame

    def send_nowait(self, header: Optional[Mapping[str, Any]], body: Any = b"") -> None:
        """Queues one frame in one transport write, without waiting: call
        drain() now and then. Raises the encoder's errors before anything is
        written."""
        view = body if isinstance(body, bytes) else memoryview(body).cast("B")
        put_frame(self.writer, self._build_head(header, len(view), self.config), view)

    async def send(self, header: Optional[Mapping[str, Any]], body: Any = b"") -> None:
        """Sends one frame (one transport write), then waits for drain()."""
        self.send_nowait(header, body)
        await self.writer.drain()

    async def drain(self) -> None:
        """Waits until the transport's buffer is below its high-water mark."""
        await self.writer.drain()

    async def close(self) -> None:
        """Closes the connection and waits until it is closed."""
        writer = self.writer
        if not writer.is_closing():
            writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def __aenter__(self) -> "FrameStream":
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        peer = self.writer.get_extra_info("peername")
        return "<libframe.FrameStream peer=%r>" % (peer,)


class _Connect:
    """What connect() returns: await it for a FrameStream, or use it in
    `async with` to have the stream closed at the end."""

    def __init__(self, host: Optional[str], port: Optional[int], config: Config,
                 kwargs: Any) -> None:
        self._args = (host, port, config, kwargs)
        self._stream: Optional[FrameStream] = None

    async def _open(self) -> FrameStream:
        host, port, config, kwargs = self._args
        reader, writer = await asyncio.open_connection(host, port, **kwargs)
        return FrameStream(reader, writer, config)

    def __await__(self) -> Generator[Any, None, FrameStream]:
        return self._open().__await__()

    async def __aenter__(self) -> FrameStream:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._stream is not None:
            await self._stream.close()


_CONFIG_FIELDS = ("prefix_width", "byte_order", "size_name", "max_header", "max_body", "profile")


def _split(config: ConfigLike, kwargs: Any) -> Any:
    params = {k: kwargs.pop(k) for k in _CONFIG_FIELDS if k in kwargs}
    return make_config(config, params), kwargs


def connect(host: Optional[str] = None, port: Optional[int] = None, config: ConfigLike = None,
            **kwargs: Any) -> _Connect:
    """Opens a TCP connection that carries frames:

        async with libframe.connect("127.0.0.1", 7000) as stream: ...
        stream = await libframe.connect("127.0.0.1", 7000)

    Keyword arguments are Config fields (prefix_width...) or go to
    asyncio.open_connection (ssl=, limit=...).
    """
    cfg, rest = _split(config, dict(kwargs))
    return _Connect(host, port, cfg, rest)


async def serve(handler: Callable[[FrameStream], Awaitable[None]], host: Any = None,
                port: Optional[int] = None, config: ConfigLike = None,
                **kwargs: Any) -> asyncio.AbstractServer:
    """Starts a TCP server that runs `await handler(stream)` for each
    connection with a FrameStream, and closes the stream when it returns (or
    raises: the exception then goes to the event loop's handler).

        async with await libframe.serve(handle, "127.0.0.1", 7000) as server:
            await server.serve_forever()

    Keyword arguments are Config fields or go to asyncio.start_server.
    """
    cfg, rest = _split(config, dict(kwargs))

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = FrameStream(reader, writer, cfg)
        try:
            await handler(stream)
        finally:
            await stream.close()

    return await asyncio.start_server(on_client, host, port, **rest)
