"""Real TCP sockets on 127.0.0.1 between c_peer (the C library) and Python.

C -> Python (recv_frame) and Python -> C (send_frame, FrameWriter), with the
sender writing whole frames, one byte per send() and random splits, including
16 MiB bodies; a "classic" Python peer (struct.pack('i'), json.dumps with its
default separators and ASCII escaping, recv(1024) loops) talking to C; an
echo through C's builder; truncated frames and a text protocol on the port.
Every socket has a timeout; ports are ephemeral.
"""

import json
import random
import socket
import struct
import unittest
import zlib
from typing import Any, Dict, List, Tuple

from peerproto import (Reader, config_cmd, encode_cmd, pattern_cmd, rand_json, rand_text)
from support import Peer, impls, libframe, listener, need_peer, pattern, pure

BIG = 16 * 1024 * 1024


def frame_specs(rng: random.Random, n: int, cfg: libframe.Config = libframe.Config()
                ) -> List[Tuple[list, Dict[str, Any], bytes]]:
    """n valid frames: (c_peer members, expected header, body)."""
    out = []
    for _ in range(n):
        members: List[Tuple[str, Any, Any]] = []
        header: Dict[str, Any] = {}
        for _ in range(rng.randint(0, 5)):
            name = rand_text(rng, 5, nul=False)
            if name in header or name == cfg.size_name:
                continue
            r = rng.random()
            if r < 0.3:
                value = rand_text(rng, 10)
                members.append(("s", name, value))
            elif r < 0.45:
                value = rng.randint(-2**63, 2**63 - 1)
                members.append(("i", name, value))
            elif r < 0.5:
                value = rng.random() < 0.5
                members.append(("b", name, value))
            else:
                text, value = rand_json(rng)
                members.append(("r", name, text))
            header[name] = value
        body = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 1, 10, 100, 5000))))
        out.append((members, header, body))
    return out


def with_size(cfg: libframe.Config, header: Dict[str, Any], size: int) -> Dict[str, Any]:
    full = {cfg.size_name: size}
    full.update(header)
    return full


class SplitSocket:
    """sendall() in pieces of one byte or of random sizes (TCP_NODELAY set)."""

    def __init__(self, sock: socket.socket, mode: str, rng: random.Random) -> None:
        self.sock = sock
        self.mode = mode
        self.rng = rng
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def sendall(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        while view:
            if self.mode == "1":
                n = 1
            else:
                n = self.rng.randint(1, 65536 if self.rng.random() < 0.25 else 64)
            sent = self.sock.send(view[:n])
            view = view[sent:]


class Connection:
    """A listening socket, c_peer connecting to it, and the accepted socket."""

    def __init__(self, test: unittest.TestCase, mode: str, split: str, seed: int,
                 stdin: bytes) -> None:
        peer = need_peer(test)
        self.srv = listener()
        port = self.srv.getsockname()[1]
        self.peer = Peer([peer, mode, str(port), split, str(seed)], stdin)
        try:
            self.conn, _ = self.srv.accept()
        except socket.timeout:
            self.peer.kill()
            raise
        self.conn.settimeout(20)
        test.addCleanup(self.close)

    def close(self) -> None:
        self.conn.close()
        self.srv.close()
        self.peer.kill()

    def finish(self) -> bytes:
        """Closes our side and returns c_peer's output."""
        try:
            self.conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        # Drain what the peer may still send (echo), until it closes.
        try:
            while self.conn.recv(65536):
                pass
        except OSError:
            pass
        self.conn.close()
        return self.peer.wait()


class CToPython(unittest.TestCase):
    """c_peer sends with frame_write / frame_write_begin..end; Python receives."""

    def run_split(self, split: str, big: bool) -> None:
        for impl in impls(self):
            with self.subTest(impl=impl.IMPLEMENTATION, split=split):
                rng = random.Random(split + impl.IMPLEMENTATION)
                cfg = libframe.Config()
                specs = frame_specs(rng, 25 if split == "1" else 60)
                script = [config_cmd(cfg)]
                expected = []
                for k, (members, header, body) in enumerate(specs):
                    script.append(encode_cmd(members, body))
                    expected.append((with_size(cfg, header, len(body)), body))
                    if big and k == 10:
                        script.append(pattern_cmd([("s", "name", "big.bin")], BIG, 77))
                        expected.append(({"size": BIG, "name": "big.bin"}, pattern(77, BIG)))
                c = Connection(self, "send", split, 5, b"".join(script))
                d = impl.Decoder(cfg)
                got = []
                while True:
                    f = libframe.recv_frame(c.conn, decoder=d)
                    if f is None:
                        break
                    got.append((f.header, f.body))
                self.assertEqual(len(got), len(expected))
                for (h, b), (eh, eb) in zip(got, expected):
                    self.assertEqual(h, eh)
                    self.assertTrue(b == eb, "body of %d bytes differs" % len(eb))
                out = c.finish()
                self.assertEqual(out, b"SENT %d\n" % len(expected))

    def test_whole_frames_and_16mib_body(self) -> None:
        self.run_split("whole", True)

    def test_one_byte_per_send(self) -> None:
        self.run_split("1", False)

    def test_random_splits_and_16mib_body(self) -> None:
        self.run_split("rand", True)

    def test_truncated_frame_raises_truncated(self) -> None:
        frame = pure.encode({"a": 1}, b"0123456789")
        for cut in (2, 9, len(frame) - 3):
            with self.subTest(cut=cut):
                c = Connection(self, "send", "whole", 1,
                               b"X %d\n" % (len(frame) + cut) + frame + frame[:cut])
                d = libframe.Decoder()
                self.assertEqual(libframe.recv_frame(c.conn, decoder=d).body, b"0123456789")
                with self.assertRaises(libframe.TruncatedError) as cm:
                    libframe.recv_frame(c.conn, decoder=d)
                e = cm.exception
                self.assertEqual(e.offset, len(frame) + cut)
                self.assertEqual(e.frame, 1)
                header_end = len(frame) - 10
                if cut < 4:
                    want = 4 - cut                   # the rest of the prefix
                elif cut < header_end:
                    want = header_end - cut          # the rest of the header
                else:
                    want = len(frame) - cut          # the rest of the body
                self.assertEqual(e.missing, want)
                c.finish()

    def test_text_protocol_is_recognised(self) -> None:
        c = Connection(self, "send", "1", 1, b"X 18\nGET / HTTP/1.1\r\n\r\n")
        with self.assertRaises(libframe.LooksLikeTextError) as cm:
            libframe.recv_frame(c.conn)
        self.assertEqual((cm.exception.offset, cm.exception.frame), (0, 0))
        c.finish()


class PythonToC(unittest.TestCase):
    """Python sends with send_frame / FrameWriter; c_peer decodes with frame_feed."""

    def run_split(self, split: str, big: bool) -> None:
        for impl in impls(self):
            with self.subTest(impl=impl.IMPLEMENTATION, split=split):
                rng = random.Random("py" + split + impl.IMPLEMENTATION)
                cfg = libframe.Config()
                specs = frame_specs(rng, 25 if split == "1" else 60)
                c = Connection(self, "recv", split, 9, config_cmd(cfg))
                sock: Any = c.conn if split == "whole" else SplitSocket(c.conn, split, rng)
                expected = []
                for k, (_, header, body) in enumerate(specs):
                    if k % 2:
                        libframe.send_frame(sock, header, body)
                    else:
                        sock.sendall(impl.build_head(header, len(body)) + body)
                    expected.append((with_size(cfg, header, len(body)), len(body),
                                     zlib.crc32(body)))
                    if big and k == 10:
                        data = pattern(3, BIG)
                        with impl.FrameWriter(sock, {"file": "big"}, BIG) as w:
                            for i in range(0, BIG, 1 << 20):
                                w.write(data[i:i + (1 << 20)])
                        expected.append(({"size": BIG, "file": "big"}, BIG, zlib.crc32(data)))
                frames, end = Reader(c.finish()).decoded(with_body=False)
                self.assertEqual(end, {})
                self.assertEqual([(h, n, crc) for h, n, crc, _ in frames], expected)

    def test_whole_frames_and_16mib_body(self) -> None:
        self.run_split("whole", True)

    def test_one_byte_per_send(self) -> None:
        self.run_split("1", False)

    def test_random_splits_and_16mib_body(self) -> None:
        self.run_split("rand", True)

    def test_writer_refuses_more_than_declared(self) -> None:
        c = Connection(self, "recv", "whole", 1, config_cmd(libframe.Config()))
        for impl in impls(self):
            w = impl.FrameWriter(c.conn, {"k": impl.IMPLEMENTATION}, 5)
            w.write(b"abc")
            with self.assertRaises(libframe.SizeMismatchError):
                w.write(b"def")  # would be 6 > 5: refused whole
            w.write(b"de")
            w.close()
            w2 = impl.FrameWriter(c.conn, {}, 3)
            w2.write(b"x")
            with self.assertRaises(libframe.SizeMismatchError):
                w2.close()
            w2.write(b"yz")
            w2.close()
        frames, end = Reader(c.finish()).decoded(with_body=False)
        self.assertEqual(end, {})
        expected = []
        for impl in impls(self):
            expected += [({"size": 5, "k": impl.IMPLEMENTATION}, 5, zlib.crc32(b"abcde")),
                         ({"size": 3}, 3, zlib.crc32(b"xyz"))]
        self.assertEqual([(h, n, crc) for h, n, crc, _ in frames], expected)


def classic_send(sock: socket.socket, header: Dict[str, Any], body: bytes) -> None:
    """How frames were sent before libframe: native int prefix, json.dumps defaults."""
    h = json.dumps(header).encode()
    sock.sendall(struct.pack("i", len(h)) + h + body)


def classic_recv(sock: socket.socket, buf: List[bytes]) -> Any:
    """How frames were received before libframe: recv(1024) loops."""
    def recv_exact(n: int) -> bytes:
        while len(buf[0]) < n:
            chunk = sock.recv(1024)
            if not chunk:
                raise EOFError
            buf[0] += chunk
        out, buf[0] = buf[0][:n], buf[0][n:]
        return out
    try:
        (hlen,) = struct.unpack("i", recv_exact(4))
    except EOFError:
        return None
    header = json.loads(recv_exact(hlen))
    return header, recv_exact(header["size"])


class ClassicPeer(unittest.TestCase):

    def test_classic_python_sender_to_c(self) -> None:
        rng = random.Random(11)
        specs = frame_specs(rng, 80)
        c = Connection(self, "recv", "rand", 2, config_cmd(libframe.Config()))
        expected = []
        for _, header, body in specs:
            full = dict(header)
            full["size"] = len(body)  # last, as dict(header, size=...) would
            classic_send(c.conn, full, body)
            expected.append((full, len(body), zlib.crc32(body)))
        frames, end = Reader(c.finish()).decoded(with_body=False)
        self.assertEqual(end, {})
        self.assertEqual([(h, n, crc) for h, n, crc, _ in frames], expected)

    def test_c_sender_to_classic_python_receiver(self) -> None:
        rng = random.Random(12)
        specs = frame_specs(rng, 80)
        script = [config_cmd(libframe.Config())]
        expected = []
        for members, header, body in specs:
            script.append(encode_cmd(members, body))
            expected.append((with_size(libframe.Config(), header, len(body)), body))
        c = Connection(self, "send", "rand", 3, b"".join(script))
        got = []
        buf = [b""]
        while True:
            f = classic_recv(c.conn, buf)
            if f is None:
                break
            got.append(f)
        self.assertEqual(got, expected)
        c.finish()

    def test_classic_frames_echoed_canonically_by_c(self) -> None:
        # C re-encodes what it decodes (frame_builder_add_raw of each member):
        # the echo of a classic frame is the canonical frame Python encodes.
        rng = random.Random(13)
        specs = frame_specs(rng, 40)
        c = Connection(self, "echo", "rand", 4, config_cmd(libframe.Config()))
        d = libframe.Decoder()
        for _, header, body in specs:
            full = dict(header)
            full["size"] = len(body)
            classic_send(c.conn, full, body)
            f = libframe.recv_frame(c.conn, decoder=d)
            self.assertEqual(f.header, with_size(libframe.Config(), header, len(body)))
            self.assertEqual(f.body, body)
            self.assertEqual(struct.pack("<I", len(f.header_json)) + f.header_json,
                             pure.build_head(header, len(body)))
        out = c.finish()
        self.assertEqual(out, b"END OK\n")


if __name__ == "__main__":
    unittest.main()
