"""Every frame leaves in one write: each helper hands a whole frame (head and
body) to the transport in a single call, so Nagle's algorithm never holds a
body back behind its head.

Fakes record the calls the helpers make (socket sendall/sendmsg, file write,
callables, asyncio transports); real loopback sockets with Nagle on count
the send system calls through a socket subclass.
"""

import asyncio
import io
import socket
import threading
import unittest
from typing import Any, List

from support import impls, libframe

SIZES = (0, 1, 100, 4096, 4097, 65536, 65537, 300000)
TIMEOUT = 20


class FakeSocket:
    """Records every call; takes all bytes (or `short` bytes per sendmsg)."""

    def __init__(self, with_sendmsg: bool = True, short: int = 0) -> None:
        self.calls: List[str] = []
        self.data = bytearray()
        self.short = short
        if not with_sendmsg:
            self.sendmsg = None  # type: ignore

    def sendall(self, data: Any) -> None:
        self.calls.append("sendall")
        self.data += data

    def send(self, data: Any) -> int:  # pragma: no cover - helpers must not use it
        self.calls.append("send")
        self.data += data
        return len(data)

    def sendmsg(self, buffers: Any) -> int:  # type: ignore[no-redef]
        self.calls.append("sendmsg")
        joined = b"".join(bytes(b) for b in buffers)
        if self.short:
            joined = joined[:self.short]
        self.data += joined
        return len(joined)


class FakeTransport(asyncio.Transport):
    """An asyncio transport that records write() / writelines() calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: List[str] = []
        self.data = bytearray()
        self._closing = False

    def write(self, data: Any) -> None:
        self.calls.append("write")
        self.data += data

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append("writelines")
        for d in list_of_data:
            self.data += d

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def get_write_buffer_size(self) -> int:
        return 0


def fake_stream_writer(loop: Any) -> Any:
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    transport = FakeTransport()
    protocol.connection_made(transport)
    return asyncio.StreamWriter(transport, protocol, reader, loop), transport


def decode_all(data: bytes) -> list:
    d = libframe.Decoder()
    frames = list(d.feed(bytes(data)))
    d.finish()
    return frames


class SyncHelpers(unittest.TestCase):

    def test_send_frame_is_one_call_per_frame(self) -> None:
        for with_sendmsg in (True, False):
            for n in SIZES:
                with self.subTest(sendmsg=with_sendmsg, size=n):
                    s = FakeSocket(with_sendmsg)
                    libframe.send_frame(s, {"n": n}, b"b" * n)
                    self.assertEqual(len(s.calls), 1, s.calls)
                    f, = decode_all(s.data)
                    self.assertEqual((f.header["n"], f.body), (n, b"b" * n))

    def test_send_frame_completes_a_short_sendmsg(self) -> None:
        s = FakeSocket(short=1000)
        body = bytes(range(256)) * 1000
        libframe.send_frame(s, {"k": 1}, body)
        self.assertGreater(len(s.calls), 1)  # the kernel took part: the rest follows
        self.assertEqual(decode_all(s.data)[0].body, body)

    def test_frame_writer_sends_the_head_with_the_first_chunk(self) -> None:
        for impl in impls(self):
            for with_sendmsg in (True, False):
                with self.subTest(impl=impl.IMPLEMENTATION, sendmsg=with_sendmsg):
                    s = FakeSocket(with_sendmsg)
                    with impl.FrameWriter(s, {"k": "whole"}, 300000) as w:
                        self.assertEqual(s.calls, [])  # the head waits for the body
                        w.write(b"x" * 300000)
                    self.assertEqual(len(s.calls), 1, s.calls)
                    with impl.FrameWriter(s, {"k": "empty"}, 0):
                        pass
                    self.assertEqual(len(s.calls), 2, s.calls)
                    with impl.FrameWriter(s, {"k": "three"}, 9) as w:
                        for piece in (b"abc", b"def", b"ghi"):
                            w.write(piece)
                    self.assertEqual(len(s.calls), 5, s.calls)  # one per chunk
                    frames = decode_all(s.data)
                    self.assertEqual([(f.header["k"], len(f.body)) for f in frames],
                                     [("whole", 300000), ("empty", 0), ("three", 9)])

    def test_frame_writer_to_a_file_and_a_callable(self) -> None:
        f = io.BytesIO()
        writes: List[int] = []
        orig = f.write
        f.write = lambda b: writes.append(len(b)) or orig(b)  # type: ignore
        with libframe.FrameWriter(f, {"to": "file"}, 5) as w:
            w.write(b"hello")
        self.assertEqual(len(writes), 1)
        got: List[bytes] = []
        with libframe.FrameWriter(got.append, {"to": "callable"}, 5) as w:
            w.write(b"hello")
        self.assertEqual(len(got), 1)
        self.assertEqual(decode_all(f.getvalue() + got[0])[1].header["to"], "callable")


class AsyncHelpers(unittest.TestCase):

    def test_write_frame_is_one_transport_call(self) -> None:
        async def main() -> None:
            writer, transport = fake_stream_writer(asyncio.get_running_loop())
            for n in SIZES:
                with self.subTest(size=n):
                    before = len(transport.calls)
                    await libframe.write_frame(writer, {"n": n}, memoryview(b"a" * n))
                    self.assertEqual(len(transport.calls) - before, 1, transport.calls)
            self.assertEqual([len(f.body) for f in decode_all(transport.data)], list(SIZES))
            writer.close()
        asyncio.run(asyncio.wait_for(main(), TIMEOUT))


class CountingSocket(socket.socket):
    """A socket that counts the calls that put bytes on the wire."""

    sends = 0

    def send(self, *args: Any) -> int:  # type: ignore[override]
        self.sends += 1
        return super().send(*args)

    def sendall(self, *args: Any) -> None:  # type: ignore[override]
        self.sends += 1
        return super().sendall(*args)

    def sendmsg(self, *args: Any) -> int:  # type: ignore[override]
        self.sends += 1
        return super().sendmsg(*args)


def nagle_pair() -> Any:
    """(counting client, accepted server socket) over 127.0.0.1, Nagle on."""
    with socket.create_server(("127.0.0.1", 0)) as srv:
        srv.settimeout(TIMEOUT)
        client = CountingSocket(socket.AF_INET, socket.SOCK_STREAM)
        client.settimeout(TIMEOUT)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        client.connect(srv.getsockname())
        conn, _ = srv.accept()
    conn.settimeout(TIMEOUT)
    return client, conn


class LoopbackWithNagle(unittest.TestCase):
    FRAMES = 40

    def test_send_frame_one_send_per_frame(self) -> None:
        client, conn = nagle_pair()
        with client, conn:
            self.assertEqual(client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), 0)
            got: List[Any] = []

            def receive() -> None:
                d = libframe.Decoder()
                for _ in range(self.FRAMES):
                    got.append(libframe.recv_frame(conn, decoder=d))
            t = threading.Thread(target=receive, daemon=True)
            t.start()
            for k in range(self.FRAMES):
                libframe.send_frame(client, {"k": k}, b"z" * (k * 37))
            t.join(TIMEOUT)
            self.assertFalse(t.is_alive(), "receiver timed out")
            self.assertEqual(client.sends, self.FRAMES)
            self.assertEqual([f.header["k"] for f in got], list(range(self.FRAMES)))

    def test_write_frame_one_send_per_frame(self) -> None:
        client, conn = nagle_pair()

        async def main() -> int:
            reader, writer = await asyncio.open_connection(sock=client)
            # asyncio turns Nagle off on its connections: turn it back on.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
            before = client.sends
            for k in range(self.FRAMES):
                await libframe.write_frame(writer, {"k": k}, b"z" * (k * 37))
            sends = client.sends - before
            writer.close()
            return sends

        with client, conn:
            sends = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
            self.assertEqual(sends, self.FRAMES)
            d = libframe.Decoder()
            frames: List[Any] = []
            while len(frames) < self.FRAMES:
                frames.append(libframe.recv_frame(conn, decoder=d))
            self.assertEqual([f.header["k"] for f in frames], list(range(self.FRAMES)))


if __name__ == "__main__":
    unittest.main()
