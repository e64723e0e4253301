"""The asyncio helpers against c_peer (the C library) over loopback:
read_frame / write_frame, read_frames (async for over a StreamReader),
FrameStream through serve() (async for, send, async with) and connect().

An asyncio server on 127.0.0.1 (ephemeral port) accepts c_peer, which sends
(random splits, a 16 MiB body), receives, or echoes frames. Every wait is
bounded by asyncio.wait_for.
"""

import asyncio
import random
import unittest
import zlib
from typing import Any, Awaitable, Callable, List, Tuple

from peerproto import Reader, config_cmd, encode_cmd, pattern_cmd
from support import Peer, impls, libframe, need_peer, pattern
from test_sockets import BIG, frame_specs, with_size

TIMEOUT = 60


def serve_one(test: unittest.TestCase, mode: str, split: str, stdin: bytes,
              handler: Callable[[Any, Any], Awaitable[None]]) -> bytes:
    """Runs an asyncio server for one c_peer connection handled by `handler`;
    returns c_peer's output."""
    peer_path = need_peer(test)

    async def main() -> bytes:
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

        async def on_client(reader: Any, writer: Any) -> None:
            try:
                await handler(reader, writer)
                if writer.can_write_eof():
                    writer.write_eof()
                while await reader.read(65536):  # until c_peer closes
                    pass
                writer.close()
                done.set_result(None)
            except BaseException as e:  # report failures to the test
                done.set_exception(e)

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        peer = Peer([peer_path, mode, str(port), split, "7"], stdin)
        try:
            await asyncio.wait_for(done, TIMEOUT)
        finally:
            server.close()
            await server.wait_closed()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, peer.wait)

    return asyncio.run(main())


class AsyncioWithC(unittest.TestCase):

    def test_read_frames_sent_by_c(self) -> None:
        for impl in impls(self):
            with self.subTest(impl=impl.IMPLEMENTATION):
                rng = random.Random("aio-read" + impl.IMPLEMENTATION)
                cfg = libframe.Config()
                script = [config_cmd(cfg)]
                expected = []
                for k, (members, header, body) in enumerate(frame_specs(rng, 60)):
                    script.append(encode_cmd(members, body))
                    expected.append((with_size(cfg, header, len(body)), body))
                    if k == 5:
                        script.append(pattern_cmd([], BIG, 5))
                        expected.append(({"size": BIG}, pattern(5, BIG)))
                got: List[Any] = []

                async def handler(reader: Any, writer: Any) -> None:
                    d = impl.Decoder()
                    while True:
                        f = await libframe.read_frame(reader, decoder=d)
                        if f is None:
                            return
                        got.append((f.header, f.body))

                out = serve_one(self, "send", "rand", b"".join(script), handler)
                self.assertEqual(out, b"SENT %d\n" % len(expected))
                self.assertEqual(len(got), len(expected))
                for g, e in zip(got, expected):
                    self.assertTrue(g == e, "frame differs: %r" % (g[0],))

    def test_write_frames_read_by_c(self) -> None:
        rng = random.Random("aio-write")
        cfg = libframe.Config()
        specs = frame_specs(rng, 60)
        expected = []

        async def handler(reader: Any, writer: Any) -> None:
            for members, header, body in specs:
                await libframe.write_frame(writer, header, body)
                expected.append((with_size(cfg, header, len(body)), len(body), zlib.crc32(body)))
            data = pattern(9, BIG)
            await libframe.write_frame(writer, {"big": True}, memoryview(data))
            expected.append(({"size": BIG, "big": True}, BIG, zlib.crc32(data)))

        out = serve_one(self, "recv", "rand", config_cmd(cfg), handler)
        frames, end = Reader(out).decoded(with_body=False)
        self.assertEqual(end, {})
        self.assertEqual([(h, n, crc) for h, n, crc, _ in frames], expected)

    def test_echo_round_trip(self) -> None:
        rng = random.Random("aio-echo")
        specs = frame_specs(rng, 50)
        got = []

        async def handler(reader: Any, writer: Any) -> None:
            d = libframe.Decoder()
            for members, header, body in specs:
                await libframe.write_frame(writer, header, body)
                f = await libframe.read_frame(reader, decoder=d)
                got.append((f.header, f.body))

        out = serve_one(self, "echo", "1", config_cmd(libframe.Config()), handler)
        self.assertEqual(out, b"END OK\n")
        self.assertEqual(got, [(with_size(libframe.Config(), h, len(b)), b)
                               for _, h, b in specs])

    def test_truncated_stream_raises(self) -> None:
        frame = libframe.encode({"x": "y"}, b"body")
        seen: List[Any] = []

        async def handler(reader: Any, writer: Any) -> None:
            d = libframe.Decoder()
            seen.append(await libframe.read_frame(reader, decoder=d))
            try:
                await libframe.read_frame(reader, decoder=d)
            except libframe.TruncatedError as e:
                seen.append(e)

        out = serve_one(self, "send", "1", b"X %d\n" % (len(frame) + 7) + frame + frame[:7],
                        handler)
        self.assertEqual(out, b"SENT 0\n")
        self.assertEqual(seen[0].body, b"body")
        e = seen[1]
        self.assertIsInstance(e, libframe.TruncatedError)
        self.assertEqual((e.offset, e.frame, e.missing), (len(frame) + 7, 1, len(frame) - 4 - 4 - 3))


def serve_stream(test: unittest.TestCase, mode: str, split: str, stdin: bytes,
                 handler: Callable[[Any], Awaitable[None]]) -> bytes:
    """libframe.serve() for one c_peer connection handled by `handler`
    (given the FrameStream, closed by serve when it returns); returns c_peer's
    output."""
    peer_path = need_peer(test)

    async def main() -> bytes:
        done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

        async def on_stream(stream: Any) -> None:
            try:
                await handler(stream)
                done.set_result(None)
            except BaseException as e:  # report failures to the test
                done.set_exception(e)

        async with await libframe.serve(on_stream, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            peer = Peer([peer_path, mode, str(port), split, "11"], stdin)
            await asyncio.wait_for(done, TIMEOUT)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, peer.wait)

    return asyncio.run(main())


class AsyncioAPIWithC(unittest.TestCase):

    def test_read_frames_async_for(self) -> None:
        for impl in impls(self):
            with self.subTest(impl=impl.IMPLEMENTATION):
                rng = random.Random("aio-frames" + impl.IMPLEMENTATION)
                cfg = libframe.Config()
                script = [config_cmd(cfg)]
                expected = []
                for k, (members, header, body) in enumerate(frame_specs(rng, 80)):
                    script.append(encode_cmd(members, body))
                    expected.append((with_size(cfg, header, len(body)), body))
                    if k == 3:
                        script.append(pattern_cmd([], BIG, 3))
                        expected.append(({"size": BIG}, pattern(3, BIG)))
                got: List[Any] = []

                async def handler(reader: Any, writer: Any) -> None:
                    async for f in libframe.read_frames(reader, decoder=impl.Decoder()):
                        got.append((f.header, f.body))

                out = serve_one(self, "send", "rand", b"".join(script), handler)
                self.assertEqual(out, b"SENT %d\n" % len(expected))
                self.assertEqual(len(got), len(expected))
                self.assertTrue(got == expected)

    def test_stream_echo_with_c(self) -> None:
        rng = random.Random("aio-stream-echo")
        specs = frame_specs(rng, 60)
        got: List[Any] = []

        async def handler(stream: Any) -> None:
            # pipelined: all frames out, then all echoes in, by async for
            for members, header, body in specs:
                await stream.send(header, body)
            async for f in stream:
                got.append((f.header, f.body))
                if len(got) == len(specs):
                    break

        out = serve_stream(self, "echo", "rand", config_cmd(libframe.Config()), handler)
        self.assertEqual(out, b"END OK\n")
        self.assertEqual(got, [(with_size(libframe.Config(), h, len(b)), b)
                               for _, h, b in specs])

    def test_stream_send_read_by_c(self) -> None:
        rng = random.Random("aio-stream-send")
        cfg = libframe.Config(prefix_width=2, byte_order="big", size_name="len")
        specs = frame_specs(rng, 40, cfg)
        expected = []

        async def handler(stream: Any) -> None:
            self.assertEqual(stream.config, cfg)
            for members, header, body in specs:
                await stream.send(header, body)
                expected.append((with_size(cfg, header, len(body)), len(body), zlib.crc32(body)))
            data = pattern(4, BIG)
            stream.send_nowait({"big": 1}, memoryview(data))
            await stream.drain()
            expected.append(({"len": BIG, "big": 1}, BIG, zlib.crc32(data)))

        async def serve_cfg() -> bytes:
            done: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()

            async def on_stream(stream: Any) -> None:
                try:
                    await handler(stream)
                    done.set_result(None)
                except BaseException as e:
                    done.set_exception(e)

            server = await libframe.serve(on_stream, "127.0.0.1", 0, prefix_width=2,
                                          byte_order="big", size_name="len")
            async with server:
                port = server.sockets[0].getsockname()[1]
                peer = Peer([need_peer(self), "recv", str(port), "rand", "5"], config_cmd(cfg))
                await asyncio.wait_for(done, TIMEOUT)
                return await asyncio.get_running_loop().run_in_executor(None, peer.wait)

        out = asyncio.run(serve_cfg())
        frames, end = Reader(out).decoded(with_body=False)
        self.assertEqual(end, {})
        self.assertEqual([(h, n, crc) for h, n, crc, _ in frames], expected)

    def test_stream_errors_are_the_sync_errors(self) -> None:
        frame = libframe.encode({"x": "y"}, b"body")
        seen: List[Any] = []

        async def handler(stream: Any) -> None:
            try:
                async for f in stream:
                    seen.append(f)
            except libframe.TruncatedError as e:
                seen.append(e)

        out = serve_stream(self, "send", "1", b"X %d\n" % (2 * len(frame) + 7) + frame + frame
                           + frame[:7], handler)
        self.assertEqual(out, b"SENT 0\n")
        self.assertEqual([f.body for f in seen[:2]], [b"body", b"body"])
        e = seen[2]
        self.assertIsInstance(e, libframe.TruncatedError)
        self.assertEqual((e.offset, e.frame, e.missing), (2 * len(frame) + 7, 2, len(frame) - 11))

        text: List[Any] = []

        async def text_handler(stream: Any) -> None:
            try:
                await stream.recv()
            except libframe.FrameError as err:
                text.append(err)

        serve_stream(self, "send", "whole", b"X 18\nGET / HTTP/1.1\r\n\r\n", text_handler)
        self.assertIsInstance(text[0], libframe.LooksLikeTextError)
        self.assertEqual((text[0].offset, text[0].frame), (0, 0))


class AsyncioConnect(unittest.TestCase):

    def test_connect_and_serve(self) -> None:
        async def handle(stream: Any) -> None:
            async for frame in stream:
                await stream.send({"ok": True, "name": frame.header.get("name")},
                                  frame.body.upper())

        async def main() -> List[Any]:
            replies = []
            async with await libframe.serve(handle, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                async with libframe.connect("127.0.0.1", port) as stream:
                    await stream.send({"name": "greeting.txt"}, b"hello, world")
                    replies.append(await stream.recv())
                stream2 = await libframe.connect("127.0.0.1", port)
                async with stream2:
                    for k in range(100):
                        stream2.send_nowait({"name": str(k)}, b"x" * k)
                    await stream2.drain()
                    async for frame in stream2:
                        replies.append(frame)
                        if len(replies) == 101:
                            break
                self.assertTrue(stream2.writer.is_closing())
            return replies

        replies = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
        self.assertEqual(replies[0].header, {"size": 12, "ok": True, "name": "greeting.txt"})
        self.assertEqual(replies[0].body, b"HELLO, WORLD")
        self.assertEqual([r.header["name"] for r in replies[1:]], [str(k) for k in range(100)])

    def test_send_waits_for_drain(self) -> None:
        """Backpressure: with a peer that does not read, send() stays blocked
        in drain() once the transport's buffer is over its high-water mark,
        and completes when the peer reads."""
        async def main() -> Tuple[int, int, int]:
            release = asyncio.Event()
            received = []

            async def handle(stream: Any) -> None:
                await release.wait()
                async for frame in stream:
                    received.append(len(frame.body))
                    if len(received) == 4:
                        break

            async with await libframe.serve(handle, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                async with libframe.connect("127.0.0.1", port) as stream:
                    stream.writer.transport.set_write_buffer_limits(high=1024)
                    sends = [asyncio.ensure_future(stream.send({"k": k}, bytes(8 << 20)))
                             for k in range(4)]
                    for _ in range(200):  # let the loop run: nothing reads, so they wait
                        await asyncio.sleep(0)
                    pending = sum(not s.done() for s in sends)
                    release.set()
                    await asyncio.wait_for(asyncio.gather(*sends), TIMEOUT)
                    while len(received) < 4:
                        await asyncio.sleep(0.01)
                    return pending, sum(s.done() for s in sends), len(received)

        pending, done, received = asyncio.run(asyncio.wait_for(main(), TIMEOUT))
        self.assertGreater(pending, 0)
        self.assertEqual((done, received), (4, 4))


if __name__ == "__main__":
    unittest.main()
