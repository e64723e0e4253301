"""The C extension (libframe.native) against the pure-Python codec.

- 10,000 seeded random cases, extension vs pure in one process: the same
  builder bytes or the same error; the frames' mutated streams decoded to
  the same frames, then the same error with the same attributes; split at a
  random point, the same again.
- header values exactly as json.loads gives them: big integers (beyond 64
  bits and beyond sys.get_int_max_str_digits()), -0.0, 1e400 given as raw
  JSON, U+0000 in names and strings, surrogate pairs, escapes;
- every decoder error class, with its offset, frame, declared, limit,
  missing: the same from both;
- the GIL: two threads decode at once (big bodies are copied without the
  GIL) and get their own frames; a decoder entered again while it works (from
  a parse_float callback) refuses with RuntimeError; Python errors raised
  inside a feed stay the decoder's error until reset();
- no leak: 1,000,000 frames decoded leave the RSS within 1 MiB of where it
  was after the first 10,000 (Linux /proc).
"""

import gc
import json
import os
import random
import sys
import threading
import unittest
from typing import Any, Dict, List, Optional, Tuple

from peerproto import build_pure, rand_config, rand_json, rand_members
from support import libframe, need_native, pure
from test_interop import mutate

N_CASES = 10000


def decode_all(impl: Any, cfg: Any, stream: bytes, split: Optional[int] = None
               ) -> Tuple[List[Any], Optional[Dict[str, Any]]]:
    """(frames, error attributes or None) of a whole stream."""
    d = impl.Decoder(cfg)
    frames: List[Any] = []
    try:
        pieces = [stream] if split is None else [stream[:split], stream[split:]]
        for piece in pieces:
            for f in d.feed(piece):
                frames.append(tuple(f))
        d.finish()
    except libframe.FrameError as e:
        return frames, {"class": type(e), "offset": e.offset, "frame": e.frame,
                        "declared": e.declared, "limit": e.limit, "missing": e.missing,
                        "decoder_offset": d.offset, "decoder_frame": d.frame_index}
    return frames, None


def same_value(a: Any, b: Any) -> bool:
    """Equality that tells -0.0 from 0.0, nan from everything and types apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b)


class Differential(unittest.TestCase):

    def test_extension_and_pure_agree_on_10000_random_cases(self) -> None:
        ext = need_native(self)
        rng = random.Random(0xC0DE)
        built = refused = decoded_errors = 0
        cfg = libframe.Config()
        stream: List[bytes] = []
        for i in range(N_CASES):
            if i % 50 == 0:
                cfg = rand_config(rng) if i % 100 else libframe.Config()
                stream = []
            members = rand_members(rng, cfg.size_name)
            body = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 1, 7, 100))))
            e_frame, e_err = build_pure(ext, members, body, cfg)
            p_frame, p_err = build_pure(pure, members, body, cfg)
            self.assertEqual((e_err, e_frame), (p_err, p_frame), repr(members))
            if e_frame is None:
                refused += 1
                continue
            built += 1
            # encode() of the same header as a dict
            header = {name: (libframe.RawJSON(v) if t == "r" else v) for t, name, v in members}
            if not cfg.raw and len(header) == len(members):
                self.assertEqual(ext.encode(header, body, cfg), pure.encode(header, body, cfg))
            stream.append(e_frame)
            whole = b"".join(stream[-3:])
            for s in (whole, mutate(rng, whole)):
                split = rng.randint(0, len(s))
                e = decode_all(ext, cfg, s, split)
                p = decode_all(pure, cfg, s)
                self.assertEqual(len(e[0]), len(p[0]), repr(s))
                for fe, fp in zip(e[0], p[0]):
                    self.assertTrue(same_value(fe[0], fp[0]), "%r != %r" % (fe[0], fp[0]))
                    self.assertEqual(fe[1:], fp[1:])
                self.assertEqual(e[1], p[1], repr(s))
                decoded_errors += e[1] is not None
        self.assertGreater(built, N_CASES * 0.6)
        self.assertGreater(refused, 100)
        self.assertGreater(decoded_errors, 1000)

    def test_datagrams_and_events_agree(self) -> None:
        ext = need_native(self)
        rng = random.Random(0xDA7A)
        for _ in range(2000):
            frame = pure.encode({"v": rand_json(rng)[1]}, b"b" * rng.randint(0, 5))
            if rng.random() < 0.7:
                frame = mutate(rng, frame)
            out = []
            for impl in (ext, pure):
                d = impl.Decoder()
                try:
                    f = d.feed_datagram(frame)
                    r: Any = ("ok", f.header, f.body, f.header_json)
                except libframe.FrameError as e:
                    r = (e.name, e.offset, e.frame, e.declared, e.limit)
                events = []
                d2 = impl.Decoder()
                try:
                    for k in range(0, len(frame), 3):
                        events += list(d2.feed_events(frame[k:k + 3]))
                    d2.finish()
                except libframe.FrameError as e:
                    events.append((e.name, e.offset, e.missing))
                out.append((r, events))
            self.assertEqual(out[0], out[1], repr(frame))


def raw_header(text: str) -> bytes:
    b = text.encode("utf-8")
    return len(b).to_bytes(4, "little") + b


class Values(unittest.TestCase):
    """Header values exactly as json.loads gives them."""

    TEXTS = [
        '{"size":0,"big":123456789012345678901234567890,"neg":-98765432109876543210}',
        '{"size":0,"i64":9223372036854775807,"u64":18446744073709551615,"m":-9223372036854775808}',
        '{"size":0,"z":-0.0,"zi":-0,"f":1e400,"nf":-1e400,"tiny":1e-400,"e":2.5E+3,"x":0.1}',
        '{"size":0,"nul\\u0000name":"a\\u0000b","\\u0000":0}',
        '{"size":0,"pair":"\\ud83d\\ude00","raw":"\U0001F600","mix":"\\u00e9\u00e9\\n\\t\\"\\\\\\/"}',
        '{"size":0,"esc":"\\b\\f\\n\\r\\t\\u001f\\u007f\\u0080\\u07ff\\u0800\\uffff"}',
        '{"size":0,"a":[1,[2,[3,{"b":[]}]],{},"x",true,false,null],"o":{"p":{"q":{}}}}',
        ' \t\r\n{ "size" : 0 , "ws" : [ 1 , 2 ] , "s" : " " } \n',
        '{"size":0,"long":"%s","longesc":"%s"}' % ("x" * 5000, "\\u00e9" * 3000),
        '{"size":0,"keyrepeat":1,"%s":2}' % ("k" * 100),
    ]

    def test_values_as_json_loads_reads_them(self) -> None:
        ext = need_native(self)
        for text in self.TEXTS:
            want = json.loads(text)
            for impl in (ext, pure):
                with self.subTest(impl=impl.IMPLEMENTATION, text=text[:60]):
                    d = impl.Decoder()
                    f, = list(d.feed(raw_header(text)))
                    self.assertTrue(same_value(f.header, want), "%r\n%r" % (f.header, want))
                    self.assertEqual(f.header_json, text.encode("utf-8"))

    def test_integers_beyond_the_str_digits_limit(self) -> None:
        ext = need_native(self)
        digits = "7" * 5000  # over sys.get_int_max_str_digits() (4300) on 3.11+
        for impl in (ext, pure):
            f, = list(impl.Decoder().feed(raw_header('{"size":0,"n":-%s}' % digits)))
            self.assertEqual(f.header["n"], -int("7" * 1000) * 10 ** 4000 - int("7" * 4000))

    def test_parse_float(self) -> None:
        import decimal
        ext = need_native(self)
        text = '{"size":0,"a":1.10,"b":[1e400],"c":3}'
        for impl in (ext, pure):
            f, = list(impl.Decoder(parse_float=decimal.Decimal).feed(raw_header(text)))
            self.assertEqual(f.header, {"size": 0, "a": decimal.Decimal("1.10"),
                                        "b": [decimal.Decimal("1e400")], "c": 3})

    def test_names_repeat_across_frames_and_decoders(self) -> None:
        ext = need_native(self)
        frames = b"".join(pure.encode({"name": "n%d" % i, "k%d" % (i % 300): i}, b"")
                          for i in range(2000))
        got = [f.header for f in ext.Decoder().feed(frames)]
        self.assertEqual(got, [{"size": 0, "name": "n%d" % i, "k%d" % (i % 300): i}
                               for i in range(2000)])

    def test_encoding_values(self) -> None:
        ext = need_native(self)
        header = {"big": 10 ** 40, "neg": -(10 ** 40), "huge": 7 ** 6000, "f": -0.0,
                  "g": 1e300, "h": 0.1, "nul\0name": "a\0b", "pair": "\U0001F600",
                  "raw": libframe.RawJSON("[1e400, -0.0, 1E+2, \"\\ud83d\\ude00\"]"),
                  "nested": {"a": [1, 2.5, None, True, {"b": "\n"}]}, "t": (1, 2)}
        self.assertEqual(ext.encode(header, b"x"), pure.encode(header, b"x"))
        self.assertEqual(ext.build_head(header, 1), pure.build_head(header, 1))
        import collections
        od = collections.OrderedDict([("a", 1), ("b", 2), ("c", 3)])
        od.move_to_end("a")  # items() order differs from the dict's storage order
        self.assertEqual(ext.encode(od, b""), pure.encode(od, b""))
        self.assertIn(b'"c":3,"a":1', ext.encode(od, b""))
        for bad, exc in (({"f": float("nan")}, ValueError), ({"f": float("inf")}, ValueError),
                         ({"s": "\ud800"}, libframe.BadUTF8Error),
                         ({"o": object()}, TypeError), ({1: 2}, TypeError),
                         ({"size": 1}, libframe.ReservedNameError),
                         ({"r": libframe.RawJSON("[1,")}, libframe.JSONSyntaxError),
                         ({"d": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
                          libframe.TooDeepError)):
            for impl in (ext, pure):
                with self.subTest(impl=impl.IMPLEMENTATION, header=repr(bad)[:40]):
                    with self.assertRaises(exc):
                        impl.encode(bad, b"")


def error_cases() -> List[Tuple[str, Dict[str, Any], bytes, str]]:
    """(description, config, stream, expected error name) for every error the
    decoders raise."""
    le = lambda n, w=4: n.to_bytes(w, "little")  # noqa: E731
    ok = raw_header('{"size":2}') + b"ab"
    return [
        ("empty header", {}, ok + le(0), "HEADER_EMPTY"),
        ("header too large", {"max_header": 10}, ok + le(11) + b"x" * 11, "HEADER_TOO_LARGE"),
        ("looks like text", {}, ok + b"GET / HTTP/1.1\r\n", "LOOKS_LIKE_TEXT"),
        ("looks like TLS", {}, ok + b"\x16\x03\x01\x02\x00\x01", "LOOKS_LIKE_TLS"),
        ("syntax", {}, ok + raw_header('{"size":1,}'), "JSON_SYNTAX"),
        ("not object", {}, ok + raw_header('[1]'), "NOT_OBJECT"),
        ("bom", {}, ok + raw_header('\ufeff{"size":0}'), "BOM"),
        ("bad utf8", {}, ok + le(13) + b'{"size":0,"\xff"}', "BAD_UTF8"),
        ("lone surrogate", {}, ok + raw_header('{"size":0,"a":"\\ud800"}'), "LONE_SURROGATE"),
        ("duplicate", {}, ok + raw_header('{"size":0,"a":1,"a":2}'), "DUPLICATE_NAME"),
        ("too deep", {}, ok + raw_header('{"size":0,"a":' + "[" * 32 + "]" * 32 + "}"),
         "TOO_DEEP"),
        ("too many members", {}, ok + raw_header(
            "{" + ",".join('"m%d":0' % k for k in range(512)) + ',"size":0}'), "TOO_MANY_MEMBERS"),
        ("size missing", {}, ok + raw_header('{"a":0}'), "SIZE_MISSING"),
        ("size invalid", {}, ok + raw_header('{"size":1.5}'), "SIZE_INVALID"),
        ("body too large", {"max_body": 5}, ok + raw_header('{"size":6}'), "BODY_TOO_LARGE"),
        ("raw body too large", {"profile": "raw", "max_body": 5}, le(2) + b"ab" + le(6),
         "BODY_TOO_LARGE"),
        ("truncated prefix", {}, ok + b"\x05\x00", "TRUNCATED"),
        ("truncated header", {}, ok + raw_header('{"size":2}')[:8], "TRUNCATED"),
        ("truncated body", {}, ok + raw_header('{"size":9}') + b"abc", "TRUNCATED"),
    ]


class Errors(unittest.TestCase):

    def test_every_error_class_same_attributes(self) -> None:
        ext = need_native(self)
        seen = set()
        for what, cfg, stream, name in error_cases():
            results = []
            for impl in (ext, pure):
                for split in (None, 1, len(stream) // 2, len(stream) - 1):
                    frames, err = decode_all(impl, cfg, stream, split)
                    with self.subTest(case=what, impl=impl.IMPLEMENTATION, split=split):
                        self.assertIsNotNone(err)
                        assert err is not None
                        self.assertEqual(err["class"], libframe.ERRORS[name])
                        self.assertEqual(len(frames), 1)
                    results.append(err)
            self.assertTrue(all(r == results[0] for r in results), (what, results))
            seen.add(name)
        # Datagram errors and the sticky error:
        for impl in (ext, pure):
            d = impl.Decoder()
            with self.assertRaises(libframe.DatagramTruncatedError) as cm:
                d.feed_datagram(raw_header('{"size":5}') + b"abc")
            self.assertEqual(cm.exception.offset, 17)
            with self.assertRaises(libframe.DatagramTruncatedError):
                d.feed_datagram(b"")  # sticky until reset
            d.reset()
            with self.assertRaises(libframe.DatagramTrailingError) as cm2:
                d.feed_datagram(raw_header('{"size":1}') + b"ab")
            self.assertEqual(cm2.exception.offset, 15)
            d.reset()
            self.assertEqual(d.feed_datagram(raw_header('{"size":1}') + b"a").body, b"a")
        seen |= {"DATAGRAM_TRUNCATED", "DATAGRAM_TRAILING"}
        # Every error a decoder can raise (the others are the builder's, the
        # C callbacks' and the accessors').
        self.assertEqual(len(seen), 18)

    def test_errors_are_the_package_classes(self) -> None:
        ext = need_native(self)
        for name, cls in libframe.ERRORS.items():
            self.assertTrue(issubclass(cls, libframe.FrameError))
            self.assertEqual(libframe._native.errname(cls.code), name)
        with self.assertRaises(libframe.ArgumentError):
            ext.Builder(-1)
        with self.assertRaises(libframe.BodyTooLargeError):
            ext.Builder(2 ** 64)
        with self.assertRaises(libframe.ConfigError):
            ext.Decoder(prefix_width=3)


class Threads(unittest.TestCase):

    def test_two_threads_decode_at_once(self) -> None:
        ext = need_native(self)
        big = b"z" * (1 << 20)  # copied without the GIL
        streams = [b"".join(pure.encode({"t": t, "i": i}, big if i % 4 == 0 else b"s")
                            for i in range(40)) for t in range(2)]
        results: Dict[int, List[Any]] = {}

        def run(t: int) -> None:
            d = ext.Decoder()
            got = []
            s = streams[t]
            for k in range(0, len(s), 300000):
                got += [(f.header["t"], f.header["i"], len(f.body)) for f in d.feed(s[k:k + 300000])]
            d.finish()
            results[t] = got

        threads = [threading.Thread(target=run, args=(t,)) for t in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        for t in range(2):
            self.assertEqual(results[t], [(t, i, (1 << 20) if i % 4 == 0 else 1)
                                          for i in range(40)])


    def test_a_busy_decoder_refuses_to_be_entered_again(self) -> None:
        ext = need_native(self)
        seen: List[Any] = []

        def parse_float(text: str) -> float:
            try:
                d.feed(b"")
            except RuntimeError as e:
                seen.append(e)
            return float(text)

        d = ext.Decoder(parse_float=parse_float)
        f, = list(d.feed(raw_header('{"size":0,"x":1.5}')))
        self.assertEqual((f.header["x"], len(seen)), (1.5, 1))

    def test_an_error_in_a_callback_is_the_decoders_error(self) -> None:
        ext = need_native(self)

        def parse_float(text: str) -> float:
            raise ZeroDivisionError(text)

        d = ext.Decoder(parse_float=parse_float)
        ok = raw_header('{"size":0}')
        with self.assertRaises(ZeroDivisionError):
            list(d.feed(ok + raw_header('{"size":0,"x":2.5}') + ok))
        with self.assertRaises(ZeroDivisionError):
            list(d.feed(ok))  # sticky
        self.assertIsInstance(d.error, ZeroDivisionError)
        d.reset()
        self.assertEqual(len(list(d.feed(ok + ok))), 2)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Leaks(unittest.TestCase):

    @unittest.skipUnless(os.path.exists("/proc/self/statm"), "needs Linux /proc")
    @unittest.skipIf(os.environ.get("LIBFRAME_SKIP_SLOW"), "LIBFRAME_SKIP_SLOW is set")
    def test_a_million_frames_do_not_grow_the_rss(self) -> None:
        ext = need_native(self)
        # 1000 frames per chunk, names and values that vary, every path of
        # the walk (escapes, non-ASCII, big and float numbers, nesting),
        # bodies whole and split across feeds, events too.
        frames = [pure.encode({"name": "f%d.bin" % i, "seq": i, "big": 10 ** 30 + i,
                               "x": -0.5 * i, "esc": "\u00e9\n\U0001F600%d" % i,
                               "a": [i, {"k%d" % (i % 7): None}]}, b"b" * (i % 50))
                  for i in range(1000)]
        chunk = b"".join(frames)
        d = ext.Decoder()
        count = 0

        def run(n_chunks: int) -> None:
            nonlocal count
            for k in range(n_chunks):
                if k % 10 == 9:
                    for ev in d.feed_events(chunk):
                        count += isinstance(ev, libframe.FrameEnd)
                else:
                    cut = 7919 * (k % 13) + 1
                    for f in d.feed(chunk[:cut]):
                        count += 1
                    for f in d.feed(chunk[cut:]):
                        count += 1
                header = {n: v for n, v in f.header.items() if n != "size"}
                ext.encode(header if k % 10 != 9 else {"k": k}, b"x")

        run(10)
        gc.collect()
        base = rss_bytes()
        run(990)
        gc.collect()
        grown = rss_bytes() - base
        self.assertEqual(count, 1000000)
        self.assertLess(grown, 1 << 20, "RSS grew by %d bytes" % grown)


if __name__ == "__main__":
    unittest.main()
