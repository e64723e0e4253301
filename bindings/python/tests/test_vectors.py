"""Every vector of tests/vectors, with the pure-Python codec and the C extension.

Decode vectors are fed whole, one byte at a time, in random splits (seeded)
and through feed_events(); each must give the vector's frames and error
(name, offset, frame, missing, declared, limit as far as the vector gives
them). Encode vectors are built member by member with Builder, and through
encode() when the members are plain Python values.
"""

import glob
import json
import os
import random
import unittest
from typing import Any, Dict, List, Tuple

from support import VECTORS, impls, libframe

FrameError = libframe.FrameError


def load_vectors() -> List[Dict[str, Any]]:
    out = []
    for path in sorted(glob.glob(os.path.join(VECTORS, "*.json"))):
        with open(path, "rb") as f:
            v = json.loads(f.read().decode("utf-8"))
        v["_file"] = os.path.basename(path)
        out.append(v)
    return out


VECTOR_LIST = load_vectors()


def splits(stream: bytes, how: str, rng: random.Random) -> List[bytes]:
    if how == "whole":
        return [stream]
    if how == "bytes":
        return [stream[i:i + 1] for i in range(len(stream))]
    out, i = [], 0
    while i < len(stream):
        n = rng.randint(0, 9)
        out.append(stream[i:i + n])
        i += n
    return out


def decode(impl: Any, v: Dict[str, Any], how: str, rng: random.Random) -> Tuple[list, Any]:
    """Runs a decode vector; returns (frames as tuples, error or None)."""
    d = impl.Decoder(v.get("config") or {})
    stream = bytes.fromhex(v["stream"])
    frames: List[Tuple[Any, bytes, bytes]] = []
    try:
        if v.get("datagram"):
            f = d.feed_datagram(stream)
            frames.append((f.header, f.header_json, f.body))
        elif how == "events":
            cur: List[Any] = []
            for chunk in splits(stream, "random", rng):
                for ev in d.feed_events(chunk):
                    if isinstance(ev, libframe.HeaderEvent):
                        cur = [ev.header, ev.header_json, b""]
                    elif isinstance(ev, libframe.BodyChunk):
                        assert ev.data, "empty body chunk"
                        cur[2] += ev.data
                    else:
                        assert ev.index == len(frames), (ev.index, len(frames))
                        frames.append(tuple(cur))
            d.finish()
        else:
            for chunk in splits(stream, how, rng):
                for f in d.feed(chunk):
                    frames.append((f.header, f.header_json, f.body))
            d.finish()
    except FrameError as e:
        return frames, e
    return frames, None


class VectorTests(unittest.TestCase):

    def test_vectors_present(self) -> None:
        # The vector set is written by another helper; it must not be empty.
        self.assertGreater(len(VECTOR_LIST), 0, "no vectors in %s" % VECTORS)

    def check_error(self, got: Any, want: Dict[str, Any]) -> None:
        self.assertIsNotNone(got, "expected %s, got no error" % want["name"])
        self.assertEqual(got.name, want["name"], str(got))
        for key in ("offset", "frame", "missing", "declared", "limit"):
            if key in want:
                self.assertEqual(getattr(got, key), want[key], "%s of %s" % (key, got))

    def test_decode_vectors(self) -> None:
        count = 0
        for impl in impls(self):
            for v in VECTOR_LIST:
                if v.get("kind") != "decode":
                    continue
                want_err = v.get("error")
                if want_err and want_err.get("name") == "CONFIG":
                    with self.subTest(impl=impl.IMPLEMENTATION, vector=v["name"]):
                        with self.assertRaises(libframe.ConfigError):
                            impl.Decoder(v.get("config") or {})
                        count += 1
                    continue
                modes = ["whole"] if v.get("datagram") else ["whole", "bytes", "random",
                                                              "events"]
                for how in modes:
                    rng = random.Random(v["name"])
                    with self.subTest(impl=impl.IMPLEMENTATION, vector=v["name"], split=how):
                        frames, err = decode(impl, v, how, rng)
                        want = v.get("frames") or []
                        self.assertEqual(len(frames), len(want), "frames completed")
                        for (header, hjson, body), w in zip(frames, want):
                            if "header" in w:
                                self.assertEqual(header, w["header"])
                            if "header_json" in w:
                                self.assertEqual(hjson, w["header_json"].encode("utf-8"))
                            self.assertEqual(body, bytes.fromhex(w.get("body", "")))
                        if want_err is None:
                            self.assertIsNone(err, "unexpected %s" % err)
                        else:
                            self.check_error(err, want_err)
                        count += 1
        self.assertGreater(count, 0)

    def test_encode_vectors(self) -> None:
        count = 0
        for impl in impls(self):
            for v in VECTOR_LIST:
                if v.get("kind") != "encode":
                    continue
                with self.subTest(impl=impl.IMPLEMENTATION, vector=v["name"]):
                    self.run_encode(impl, v)
                    count += 1
        self.assertGreater(count, 0)

    def run_encode(self, impl: Any, v: Dict[str, Any]) -> None:
        body = bytes.fromhex(v.get("body", ""))
        want_err = v.get("error")
        members = []
        plain = True
        for m in v["members"]:
            if isinstance(m, list):
                name, typ, value = m
            else:
                typ = m["type"]
                name = bytes.fromhex(m["name_hex"]) if "name_hex" in m else m["name"]
                value = bytes.fromhex(m["value_hex"]) if "value_hex" in m else m.get("value")
                plain = plain and "name_hex" not in m and "value_hex" not in m
            members.append((name, typ, value))
        got_err = None
        frame = None
        try:
            b = impl.Builder(len(body), v.get("config") or {})
            for name, typ, value in members:
                if typ == "string":
                    b.add_string(name, value)
                elif typ in ("int", "uint"):
                    b.add_int(name, value)
                elif typ == "bool":
                    b.add_bool(name, value)
                elif typ == "null":
                    b.add_null(name)
                elif typ == "raw":
                    b.add_raw(name, value)
                else:
                    self.fail("unknown member type %r" % typ)
            frame = b.finish() + body
        except FrameError as e:
            got_err = e
        if want_err is None:
            self.assertIsNone(got_err, "unexpected %s" % got_err)
            self.assertEqual(frame.hex(), v["frame"])
        else:
            self.check_error(got_err, want_err)
        if plain:
            # The dict interface must agree with the member-by-member one.
            header = {}
            for name, typ, value in members:
                header[name] = libframe.RawJSON(value) if typ == "raw" else value
            if len(header) != len(members):
                return  # duplicate names cannot be expressed as a dict
            try:
                frame2 = impl.encode(header, body, v.get("config") or {})
                err2 = None
            except FrameError as e:
                frame2, err2 = None, e
            if want_err is None:
                self.assertIsNone(err2)
                self.assertEqual(frame2.hex(), v["frame"])
            else:
                self.check_error(err2, want_err)


if __name__ == "__main__":
    unittest.main()
