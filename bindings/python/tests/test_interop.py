"""Seeded random interoperability between the C library (through c_peer, a
separate program using the public C API) and both Python implementations.

- 10,000 random frames (names and strings with quotes, backslashes, control
  characters, non-ASCII up to U+10FFFF, noncharacters; raw JSON with random
  white space, escapes, surrogate pairs, nesting; ~6% invalid on purpose):
  the C builder's bytes (or error) equal the Python builders'; each side
  decodes the other's stream to the same header and body, and the header
  equals what Python's json reads from the members.
- 6,000 mutated headers: frame_header_parse and the pure validator report the
  same error at the same offset (or accept with the same size).
- 1,500 mutated streams: frame_feed and both Python decoders give the same
  frames, then the same error (name, offset, frame, missing, declared, limit).
- 4,000 mutated raw JSON member values: the C builder and both Python
  builders give the same canonical bytes or the same error.
- JSONTestSuite cases wrapped in a header: C and pure agree on each.
"""

import json
import os
import random
import unittest
import zlib
from typing import Any, Dict, List, Tuple

from peerproto import (Reader, build_pure, config_cmd, decode_cmd, encode_cmd, header_cmd,
                       rand_config, rand_json, rand_members)
from support import impls, libframe, need_peer, pure, run_peer

from libframe._scan import ScanError, scan

# LIBFRAME_INTEROP_SCALE=20 runs 20 times as many mutants (a longer
# differential fuzz; the default keeps `make test-python` quick).
SCALE = max(1, int(os.environ.get("LIBFRAME_INTEROP_SCALE", "1")))
N_CASES = 10000
N_HEADER_MUTANTS = 6000 * SCALE
N_STREAM_MUTANTS = 1500 * SCALE
N_RAW_MUTANTS = 4000 * SCALE
SUITE = "/work/shared/JSONTestSuite/test_parsing"


def expected_value(typ: str, value: Any) -> Any:
    if typ == "s":
        return value if isinstance(value, str) else value.decode("utf-8")
    if typ == "r":
        return json.loads(value)
    return value


def python_decode(impl: Any, cfg: libframe.Config, stream: bytes) -> Tuple[list, Dict[str, Any]]:
    """(frames [(header, body)], end {} or the error's fields) like c_peer's."""
    d = impl.Decoder(cfg)
    frames = []
    try:
        for f in d.feed(stream):
            frames.append((f.header, f.body))
        d.finish()
    except libframe.FrameError as e:
        end = {"name": e.name, "offset": e.offset, "frame": e.frame}
        return frames, end
    return frames, {}


class RandomInterop(unittest.TestCase):

    def test_random_frames_c_and_python_agree(self) -> None:
        peer = need_peer(self)
        rng = random.Random(0x5EED)
        groups: List[Tuple[libframe.Config, List[Any]]] = []
        cmds = []
        for i in range(N_CASES):
            if i % 100 == 0:
                cfg = rand_config(rng)
                groups.append((cfg, []))
                cmds.append(config_cmd(cfg))
            members = rand_members(rng, cfg.size_name)
            n = rng.choice((0, 1, 5, 40, rng.randint(0, 3000)))
            body = bytes(rng.getrandbits(8) for _ in range(n))
            groups[-1][1].append((members, body))
            cmds.append(encode_cmd(members, body))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))

        ok = errors = 0
        streams = []
        expected_frames = []
        for cfg, cases in groups:
            stream = []
            expect = []
            for members, body in cases:
                c_frame, c_err = out.encoded()
                for impl in impls(self):
                    p_frame, p_err = build_pure(impl, members, body, cfg)
                    self.assertEqual((p_err, p_frame), (c_err, c_frame),
                                     "%s builder vs C for %r" % (impl.IMPLEMENTATION, members))
                if c_frame is None:
                    errors += 1
                    continue
                ok += 1
                stream.append(c_frame)
                header = {cfg.size_name: len(body)} if not cfg.raw else {}
                for typ, name, value in members:
                    header[name] = expected_value(typ, value)
                expect.append((header, body))
            streams.append(b"".join(stream))
            expected_frames.append(expect)
        self.assertTrue(out.at_end())
        self.assertGreater(ok, N_CASES * 0.6)
        self.assertGreater(errors, 50)

        # C decodes the Python-made streams (in random splits) ...
        cmds = []
        for (cfg, _), stream in zip(groups, streams):
            cmds.append(config_cmd(cfg))
            cmds.append(decode_cmd(stream, "r"))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))
        frames_checked = 0
        for (cfg, _), stream, expect in zip(groups, streams, expected_frames):
            c_frames, c_end = out.decoded(with_body=True)
            self.assertEqual(c_end, {})
            self.assertEqual(len(c_frames), len(expect))
            for (c_header, size, crc, c_body), (header, body) in zip(c_frames, expect):
                self.assertEqual(c_header, header)
                self.assertEqual(c_body, body)
                self.assertEqual(crc, zlib.crc32(body))
                frames_checked += 1
            # ... and both Python decoders decode the C-made stream.
            for impl in impls(self):
                frames, end = python_decode(impl, cfg, stream)
                self.assertEqual(end, {})
                self.assertEqual(frames, expect)
        self.assertEqual(frames_checked, ok)
        print("\n  interop: %d random frames encoded identically by C and Python, %d refused "
              "identically; %d decoded both ways" % (ok, errors, frames_checked), end=" ")


MUTATION_BYTES = b'"\\{}[],: 0-1e.tfnu\x00\x1f\x7f\x80\xbf\xc0\xc3\xa9\xed\xa0\xef\xbb\xf4\x90\xff'


def mutate(rng: random.Random, data: bytes, start: int = 0) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        k = rng.randrange(start, max(start + 1, len(b)))
        r = rng.random()
        if r < 0.5 and k < len(b):
            b[k] = rng.choice(MUTATION_BYTES)
        elif r < 0.75:
            b.insert(k, rng.choice(MUTATION_BYTES))
        elif r < 0.9 and k < len(b):
            del b[k]
        else:
            del b[k:]
    return bytes(b)


def pure_parse(cfg: libframe.Config, header: bytes) -> Tuple[str, int, int]:
    try:
        size, _ = scan(header, True, cfg.size_name.encode("ascii"), cfg.max_body)
        return "OK", 0, size or 0
    except ScanError as e:
        return e.name, e.pos, 0


def valid_header(rng: random.Random, cfg: libframe.Config) -> bytes:
    text, value = rand_json(rng)
    parts = ['"%s":%d' % (cfg.size_name, rng.choice((0, 7, 2**53 - 1, 2**53)))]
    if isinstance(value, dict):
        parts += ['%s:%s' % (json.dumps(k), json.dumps(v)) for k, v in value.items()]
    parts.append('"v":' + text)
    r = rng.random()
    if r < 0.05:
        parts.append(parts[0].replace('"', '"\\u00%02x' % ord(cfg.size_name[0]), 1)
                     .replace(cfg.size_name[0], "", 1))  # the size name, escaped: a duplicate
    elif r < 0.1:
        depth = rng.choice((31, 32))
        parts.append('"deep":' + "[" * depth + "]" * depth)
    elif r < 0.12:
        parts += ['"m%d":0' % k for k in range(rng.choice((510, 511, 512)))]
    rng.shuffle(parts)
    return ("{" + ",".join(parts) + "}").encode("utf-8")


class MutationInterop(unittest.TestCase):

    def test_mutated_headers_same_error_same_offset(self) -> None:
        peer = need_peer(self)
        rng = random.Random(0xBAD)
        cases = []
        cmds = []
        for i in range(N_HEADER_MUTANTS):
            if i % 500 == 0:
                cfg = libframe.Config() if i % 1000 == 0 else libframe.Config(
                    size_name="data_size", max_body=1000)
                cmds.append(config_cmd(cfg))
            h = mutate(rng, valid_header(rng, cfg))
            cases.append((cfg, h))
            cmds.append(header_cmd(h))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))
        names: Dict[str, int] = {}
        for cfg, h in cases:
            c = out.parsed()
            self.assertEqual(pure_parse(cfg, h), c, "header %r" % h)
            names[c[0]] = names.get(c[0], 0) + 1
        self.assertGreater(len(names), 8, names)  # the mutations reach many errors

    def test_mutated_streams_same_frames_same_error(self) -> None:
        peer = need_peer(self)
        rng = random.Random(0xF00D)
        cases = []
        cmds = []
        for i in range(N_STREAM_MUTANTS):
            cfg = rand_config(rng) if i % 3 else libframe.Config()
            frames = []
            for _ in range(rng.randint(1, 3)):
                try:
                    frames.append(pure.encode({"k": rng.randint(0, 9), "v": rand_json(rng)[1]},
                                              b"body" * rng.randint(0, 3), cfg))
                except libframe.FrameError:
                    pass
            stream = b"".join(frames)
            if not stream:
                continue
            stream = mutate(rng, stream)
            cases.append((cfg, stream))
            cmds.append(config_cmd(cfg))
            cmds.append(decode_cmd(stream, rng.choice("wr")))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))
        for cfg, stream in cases:
            c_frames, c_end = out.decoded(with_body=True)
            for impl in impls(self):
                d = impl.Decoder(cfg)
                frames = []
                err = None
                try:
                    for f in d.feed(stream):
                        frames.append((f.header, f.body))
                    d.finish()
                except libframe.FrameError as e:
                    err = e
                self.assertEqual(frames, [(h, b) for h, _, _, b in c_frames],
                                 "%s: %r" % (impl.IMPLEMENTATION, stream))
                if not c_end:
                    self.assertIsNone(err)
                    continue
                self.assertIsNotNone(err, "C says %s" % c_end)
                got = {"name": err.name, "offset": err.offset, "frame": err.frame,
                       "missing": err.missing or 0}
                want = dict(c_end)
                del want["declared"], want["limit"]
                if err.name != "TRUNCATED":
                    want["missing"] = 0
                self.assertEqual(got, want, "%s: %r" % (impl.IMPLEMENTATION, stream))
                if err.declared is not None:
                    self.assertEqual((err.declared, err.limit),
                                     (c_end["declared"], c_end["limit"]))

    def test_mutated_raw_json_same_result(self) -> None:
        # frame_builder_add_raw validates its text like a header: a bad byte
        # outside a string is JSON_SYNTAX, inside one BAD_UTF8...
        peer = need_peer(self)
        rng = random.Random(0xAB)
        cases = []
        cmds = [config_cmd(libframe.Config())]
        for _ in range(N_RAW_MUTANTS):
            text = rand_json(rng)[0].encode("utf-8")
            if rng.random() < 0.8:
                text = mutate(rng, text)
            members = [("r", "v", text)]
            if rng.random() < 0.3:
                members.insert(0, ("s", "a", "x"))
            cases.append(members)
            cmds.append(encode_cmd(members, b""))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))
        verdicts: Dict[str, int] = {}
        for members in cases:
            c = out.encoded()
            for impl in impls(self):
                self.assertEqual(build_pure(impl, members, b"", libframe.Config()), c,
                                 "%s: %r" % (impl.IMPLEMENTATION, members))
            verdicts[c[1] or "OK"] = verdicts.get(c[1] or "OK", 0) + 1
        self.assertGreaterEqual(len(verdicts), 4, verdicts)

    def test_json_test_suite_same_verdicts(self) -> None:
        if not os.path.isdir(SUITE):
            self.skipTest("JSONTestSuite not present")
        peer = need_peer(self)
        files = sorted(os.listdir(SUITE))
        cmds = [config_cmd(libframe.Config())]
        for f in files:
            with open(os.path.join(SUITE, f), "rb") as fh:
                cmds.append(header_cmd(b'{"size":0,"v":' + fh.read() + b"}"))
        out = Reader(run_peer([peer, "batch"], b"".join(cmds)))
        cfg = libframe.Config()
        for f, cmd in zip(files, cmds[1:]):
            h = cmd[cmd.index(b"\n") + 1:]
            c = out.parsed()
            self.assertEqual(pure_parse(cfg, h), c, f)
            if f.startswith("n_"):
                self.assertNotEqual(c[0], "OK", f)
            if f.startswith("y_") and "duplicate" not in f:
                self.assertEqual(c[0], "OK", f)


if __name__ == "__main__":
    unittest.main()
