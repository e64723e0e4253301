"""read_frame / write_frame on asyncio streams against c_peer (the C library).

An asyncio server on 127.0.0.1 (ephemeral port) accepts c_peer, which sends
(random splits, a 16 MiB body), receives, or echoes frames. Every wait is
bounded by asyncio.wait_for.
"""

import asyncio
import random
import unittest
import zlib
from typing import Any, Awaitable, Callable, List

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


if __name__ == "__main__":
    unittest.main()
