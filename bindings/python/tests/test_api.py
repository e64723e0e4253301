"""The Python API itself, for both implementations: decoder state and splits,
datagrams, the encoder's canonical form and refusals, configs, errors, the
socket helpers, implementation selection."""

import decimal
import json
import os
import random
import socket
import subprocess
import sys
import threading
import unittest
from typing import Any

from support import REPO, impls, libframe, need_native, pure

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_DIR = os.path.dirname(HERE)


def stream_of(impl: Any, n: int = 5) -> bytes:
    return b"".join(impl.encode({"i": i, "s": "é\n" * i}, b"x" * (i * 3)) for i in range(n))


class DecoderBehaviour(unittest.TestCase):

    def test_every_two_way_split_gives_the_same_frames(self) -> None:
        for impl in impls(self):
            s = stream_of(impl, 3)
            whole = list(impl.Decoder().feed(s))
            self.assertEqual(len(whole), 3)
            for k in range(len(s) + 1):
                d = impl.Decoder()
                got = list(d.feed(s[:k])) + list(d.feed(s[k:]))
                self.assertEqual(got, whole, "split at %d (%s)" % (k, impl.IMPLEMENTATION))
                d.finish()
                self.assertEqual(d.offset, len(s))
                self.assertEqual(d.frame_index, 3)

    def test_header_json_is_the_exact_text_in_any_split(self) -> None:
        texts = [b' \t{"size" : 2 , "a":[ 1 ]}\r\n', b'{"size":0}', b'\n{"b":"\\u00e9","size":1} ']
        bodies = [b"xy", b"", b"z"]
        stream = b"".join(len(t).to_bytes(4, "little") + t + b for t, b in zip(texts, bodies))
        rng = random.Random(5)
        for impl in impls(self):
            for trial in range(300):
                d = impl.Decoder()
                got = []
                i = 0
                while i < len(stream):
                    k = rng.randint(1, 12) if trial else 1
                    got += list(d.feed(stream[i:i + k]))
                    i += k
                d.finish()
                self.assertEqual([(f.header_json, f.body) for f in got], list(zip(texts, bodies)))
                self.assertEqual(got[2].header, {"b": "\u00e9", "size": 1})

    def test_state_while_feeding(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a": 1}, b"hello")
            hlen = len(f) - 4 - 5
            d = impl.Decoder()
            self.assertEqual((d.needed, d.at_boundary), (0, True))
            list(d.feed(f[:2]))
            self.assertEqual((d.needed, d.offset, d.at_boundary), (2, 2, False))
            list(d.feed(f[2:6]))
            self.assertEqual(d.needed, hlen - 2)
            self.assertEqual(d.declared_size, hlen)
            list(d.feed(f[6:4 + hlen + 1]))
            self.assertEqual((d.needed, d.declared_size), (4, 5))
            self.assertEqual(list(d.feed(f[4 + hlen + 1:])), [impl.Decoder().feed(f).__next__()])
            self.assertEqual((d.needed, d.frame_index, d.at_boundary), (0, 1, True))

    def test_events_mode(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a": 1}, b"hello") + impl.encode({}, b"")
            d = impl.Decoder()
            ev = list(d.feed_events(f[:-12])) + list(d.feed_events(f[-12:]))
            kinds = [type(e).__name__ for e in ev]
            self.assertEqual(kinds[0], "HeaderEvent")
            self.assertEqual(ev[0].body_size, 5)
            self.assertEqual(b"".join(e.data for e in ev if isinstance(e, libframe.BodyChunk)),
                             b"hello")
            self.assertEqual([e for e in ev if isinstance(e, libframe.FrameEnd)],
                             [libframe.FrameEnd(0), libframe.FrameEnd(1)])
            self.assertEqual(ev[-2], libframe.HeaderEvent({"size": 0}, 0, b'{"size":0}'))

    def test_modes_cannot_mix_inside_a_frame(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a": 1}, b"hello")
            d = impl.Decoder()
            list(d.feed_events(f[:-2]))
            with self.assertRaises(libframe.ArgumentError):
                d.feed(f[-2:])
            self.assertEqual(len(list(d.feed_events(f[-2:]))), 2)  # chunk + end
            self.assertEqual(len(list(d.feed(f))), 1)  # at a boundary: fine

    def test_frames_before_an_error_come_first(self) -> None:
        for impl in impls(self):
            good = impl.encode({"n": 1}, b"ok")
            bad = b"\x05\x00\x00\x00{\"a\"}"
            it = impl.Decoder().feed(good + good + bad)
            self.assertEqual(next(it).body, b"ok")
            self.assertEqual(next(it).body, b"ok")
            with self.assertRaises(libframe.JSONSyntaxError) as cm:
                next(it)
            self.assertEqual((cm.exception.offset, cm.exception.frame), (2 * len(good) + 8, 2))

    def test_errors_are_sticky_until_reset(self) -> None:
        for impl in impls(self):
            d = impl.Decoder()
            with self.assertRaises(libframe.HeaderEmptyError) as cm:
                list(d.feed(b"\0\0\0\0"))
            self.assertIs(d.error, cm.exception)
            for call in (lambda: list(d.feed(b"x")), d.finish):
                with self.assertRaises(libframe.HeaderEmptyError):
                    call()
            d.reset()
            self.assertIsNone(d.error)
            self.assertEqual([f.body for f in d.feed(impl.encode({}, b"z"))], [b"z"])
            self.assertEqual(d.offset, len(impl.encode({}, b"z")))

    def test_finish_reports_missing(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a": 1}, b"hello")
            for cut, missing in ((1, 3), (4, len(f) - 9), (len(f) - 1, 1)):
                d = impl.Decoder()
                list(d.feed(f[:cut]))
                with self.assertRaises(libframe.TruncatedError) as cm:
                    d.finish()
                self.assertEqual((cm.exception.offset, cm.exception.missing), (cut, missing))

    def test_limits_and_foreign_prefixes(self) -> None:
        for impl in impls(self):
            cases = [
                (b"GET / HTTP/1.1\r\n", {}, libframe.LooksLikeTextError, 542393671, 65536),
                (b"\x16\x03\x01\x02\x00", {}, libframe.LooksLikeTLSError, None, None),
                (b"\x01\x00\x01\x00", {}, libframe.HeaderTooLargeError, 65537, 65536),
                (b"\x00\x00\x00\x80", {"max_header": 100}, libframe.HeaderTooLargeError,
                 2**31, 100),
                (b"\x00\x09", {"prefix_width": 2, "byte_order": "big", "max_header": 8},
                 libframe.HeaderTooLargeError, 9, 8),
                (b"\x10\x00\x00\x00", {"profile": "raw", "max_body": 15},
                 libframe.BodyTooLargeError, 16, 15),
            ]
            for data, cfg, exc, declared, limit in cases:
                with self.assertRaises(exc) as cm:
                    list(impl.Decoder(cfg).feed(data))
                self.assertEqual(cm.exception.offset, 0)
                if declared is not None:
                    self.assertEqual((cm.exception.declared, cm.exception.limit),
                                     (declared, limit))

    def test_big_numbers_and_parse_float(self) -> None:
        for impl in impls(self):
            digits = "9" * 5000  # over Python 3.11's int() digit limit
            h = ('{"size":0,"n":%s,"f":1.10,"e":1e400}' % digits).encode()
            f = next(impl.Decoder().feed(len(h).to_bytes(4, "little") + h))
            self.assertEqual(f.header["n"], 10 ** 5000 - 1)
            self.assertEqual(f.header["e"], float("inf"))
            d = impl.Decoder(parse_float=decimal.Decimal)
            f = next(d.feed(len(h).to_bytes(4, "little") + h))
            self.assertEqual(f.header["f"], decimal.Decimal("1.10"))

    def test_raw_profile(self) -> None:
        for impl in impls(self):
            cfg = libframe.Config(profile="raw", prefix_width=2, byte_order="big")
            s = impl.encode({}, b"abc", cfg) + impl.encode(None, b"", cfg)
            self.assertEqual(s, b"\x00\x03abc\x00\x00")
            frames = list(impl.Decoder(cfg).feed(s))
            self.assertEqual(frames, [libframe.Frame({}, b"abc", b""), libframe.Frame({}, b"")])
            with self.assertRaises(libframe.ArgumentError):
                impl.encode({"a": 1}, b"", cfg)
            with self.assertRaises(libframe.BodyTooLargeError):
                impl.encode({}, b"x" * 256, profile="raw", prefix_width=1)


class Datagrams(unittest.TestCase):

    def test_datagrams(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a": [1, 2]}, b"body")
            d = impl.Decoder()
            self.assertEqual(d.feed_datagram(f).body, b"body")
            self.assertEqual(d.feed_datagram(f).header, {"size": 4, "a": [1, 2]})
            self.assertEqual(d.frame_index, 2)
            for data, exc, offset in ((f[:3], libframe.DatagramTruncatedError, 3),
                                      (f[:10], libframe.DatagramTruncatedError, 10),
                                      (f[:-1], libframe.DatagramTruncatedError, len(f) - 1),
                                      (f + b"!", libframe.DatagramTrailingError, len(f)),
                                      (b"\0\0\0\0", libframe.HeaderEmptyError, 0)):
                d = impl.Decoder()
                d.feed_datagram(f)
                with self.assertRaises(exc) as cm:
                    d.feed_datagram(data)
                self.assertEqual((cm.exception.offset, cm.exception.frame), (offset, 1))
                with self.assertRaises(exc):  # failed until reset
                    d.feed_datagram(f)
                d.reset()
                self.assertEqual(d.feed_datagram(f).body, b"body")

    def test_datagram_needs_a_boundary(self) -> None:
        for impl in impls(self):
            d = impl.Decoder()
            list(d.feed(b"\x01"))
            with self.assertRaises(libframe.ArgumentError):
                d.feed_datagram(impl.encode({}, b""))


def canonical_reference(header: dict, size: int) -> bytes:
    """DECISIONS.md: canonical == json.dumps(ensure_ascii=False, compact), size first."""
    full = {"size": size}
    full.update(header)
    return json.dumps(full, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Encoder(unittest.TestCase):

    def test_canonical_equals_compact_json_dumps(self) -> None:
        from peerproto import rand_json, rand_text
        rng = random.Random(99)
        for impl in impls(self):
            for _ in range(500):
                header = {}
                for _ in range(rng.randint(0, 5)):
                    name = rand_text(rng, 5)
                    if name != "size":
                        header[name] = rand_json(rng)[1]
                try:
                    head = impl.build_head(header, 3)
                except libframe.TooManyMembersError:
                    continue
                self.assertEqual(head[4:], canonical_reference(header, 3), repr(header))
                self.assertEqual(int.from_bytes(head[:4], "little"), len(head) - 4)

    def test_examples(self) -> None:
        for impl in impls(self):
            e = impl.encode
            self.assertEqual(e({"type": "hello"}, b"hi"),
                             b'\x19\x00\x00\x00{"size":2,"type":"hello"}hi')
            self.assertEqual(e({"s": "\x00\x1f\x7f/\u2028\"\\\b\f\n\r\t"}, b"")[4:],
                             b'{"size":0,"s":"\\u0000\\u001f\x7f/\xe2\x80\xa8\\"\\\\\\b\\f\\n'
                             b'\\r\\t"}')
            raw = libframe.RawJSON(' { "a" : [ 1 , -0.5E+3, "\\u0041\\ud83d\\ude00\\/" ] } ')
            self.assertEqual(e({"r": raw}, b"")[4:],
                             '{"size":0,"r":{"a":[1,-0.5E+3,"A\U0001F600/"]}}'.encode())
            self.assertEqual(e({"f": 1e16, "g": -0.0, "n": None, "t": True}, b"")[4:],
                             b'{"size":0,"f":1e+16,"g":-0.0,"n":null,"t":true}')
            self.assertEqual(e({}, b"", size_name="data_size", prefix_width=2,
                               byte_order="big"), b'\x00\x0f{"data_size":0}')
            self.assertEqual(e({"u": 2**64 - 1, "i": -2**63, "big": 10**40}, b"")[4:],
                             b'{"size":0,"u":18446744073709551615,"i":-9223372036854775808,'
                             b'"big":10000000000000000000000000000000000000000}')

    def test_refusals(self) -> None:
        deep: Any = []
        for _ in range(30):
            deep = [deep]  # 31 arrays: levels 2..32 as a member value
        cases = [
            ({"size": 1}, libframe.ReservedNameError),
            ({"a": "\ud800"}, libframe.BadUTF8Error),
            ({"\udc80": 1}, libframe.BadUTF8Error),
            ({"a": libframe.RawJSON('{"x":1,"x":2}')}, libframe.DuplicateNameError),
            ({"a": libframe.RawJSON('"\\ud800"')}, libframe.LoneSurrogateError),
            ({"a": libframe.RawJSON("[1,]")}, libframe.JSONSyntaxError),
            ({"a": libframe.RawJSON(b'"\xff"')}, libframe.BadUTF8Error),
            ({"a": [deep]}, libframe.TooDeepError),
            ({"a%d" % i: i for i in range(512)}, libframe.TooManyMembersError),
            ({"a": {"b%d" % i: i for i in range(511)}}, libframe.TooManyMembersError),
            ({"a": "x" * 70000}, libframe.HeaderTooLargeError),
        ]
        for impl in impls(self):
            self.assertEqual(impl.encode({"a": deep}, b"")[4:],
                             b'{"size":0,"a":' + b"[" * 31 + b"]" * 31 + b"}")
            self.assertEqual(len(list(impl.Decoder().feed(impl.encode(
                {"a%d" % i: i for i in range(511)}, b"")))), 1)
            for header, exc in cases:
                with self.subTest(impl=impl.IMPLEMENTATION, exc=exc.__name__):
                    with self.assertRaises(exc):
                        impl.encode(header, b"")
            for value, exc in ((float("nan"), ValueError), (object(), TypeError),
                               ({1: 2}, TypeError)):
                with self.assertRaises(exc):
                    impl.encode({"v": value}, b"")
            with self.assertRaises(libframe.BodyTooLargeError):
                impl.Builder(1001, max_body=1000)
            with self.assertRaises(libframe.HeaderTooLargeError):
                impl.encode({"a": "x" * 300}, b"", prefix_width=1)
            with self.assertRaises(libframe.HeaderTooLargeError):
                impl.Builder(5, max_header=9)  # '{"size":5}' is 10 octets
            self.assertEqual(impl.Builder(5, max_header=10).finish(), b'\n\0\0\0{"size":5}')

    def test_builder_is_sticky_and_checks_names(self) -> None:
        for impl in impls(self):
            b = impl.Builder(0)
            b.add("a", 1)
            with self.assertRaises(libframe.DuplicateNameError):
                b.add_string("a", "again")
            with self.assertRaises(libframe.DuplicateNameError):
                b.add_null("b")  # sticky: the first error again
            with self.assertRaises(libframe.DuplicateNameError):
                b.finish()
            b = impl.Builder(2).add_string(b"n", b"\xc3\xa9").add_bool("t", True)
            self.assertEqual(b.finish(), b.finish())
            self.assertEqual(b.finish()[4:], '{"size":2,"n":"é","t":true}'.encode())

    def test_nul_in_names(self) -> None:
        for impl in impls(self):
            f = impl.encode({"a\x00b": "\x00"}, b"")
            self.assertEqual(f[4:], b'{"size":0,"a\\u0000b":"\\u0000"}')
            self.assertEqual(next(impl.Decoder().feed(f)).header["a\x00b"], "\x00")


class ConfigAndErrors(unittest.TestCase):

    def test_config_validation(self) -> None:
        bad = [{"prefix_width": 3}, {"prefix_width": 16}, {"byte_order": "middle"},
               {"profile": "xml"}, {"size_name": ""}, {"size_name": "x" * 65},
               {"size_name": 'a"b'}, {"size_name": "a\\b"}, {"size_name": "a\tb"},
               {"size_name": "gr\u00f6\u00dfe"}, {"size_name": "a\x7f"},
               {"max_body": 2**53}, {"max_body": -1}, {"max_header": -1},
               {"max_header": 2**64}, {"prefix_width": True}, {"max_header": 0},
               {"max_body": 0}, {"max_body": 1.5}]
        for cfg in bad:
            with self.assertRaises(libframe.ConfigError, msg=repr(cfg)):
                libframe.Config(**cfg)
        with self.assertRaises(libframe.ConfigError):
            libframe.Decoder({"nonsense": 1})
        c = libframe.Config(max_header=2**64 - 1, max_body=2**53 - 1, size_name="x" * 64)
        self.assertEqual(libframe.Config(), libframe.Config(4, "little", "size", 65536,
                                                            2**53 - 1, "json"))
        self.assertEqual(libframe.Config(prefix_width=1).header_limit, 255)
        self.assertEqual(c.replace(prefix_width=2).prefix_width, 2)
        with self.assertRaises(AttributeError):
            c.max_body = 5  # type: ignore[misc]

    def test_valid_configs_accepted_by_c(self) -> None:
        native = need_native(self)
        # SPEC.md 4.1 allows max_header up to 2^64-1; the C library takes at
        # most 2^32-1, and the extension gives it no more (a larger header
        # could not be buffered anyway).
        for cfg in (libframe.Config(), libframe.Config(prefix_width=8, byte_order="big",
                                                       size_name=" ~!", max_header=2**32 - 1,
                                                       max_body=1, profile="raw"),
                    libframe.Config(prefix_width=1, max_header=2**64 - 1)):
            native.Decoder(cfg)  # raises if frame_config_check disagrees
            native.Builder(0, cfg)

    def test_error_table_matches_the_c_library(self) -> None:
        native = need_native(self)
        for num, name, desc in libframe._errors.ERRNO_TABLE:
            self.assertEqual(libframe._native.errname(num), name)
            self.assertEqual(libframe._native.strerror(num), desc)
            if num:
                cls = libframe.ERRORS[name]
                self.assertEqual((cls.name, cls.code), (name, num))
                self.assertTrue(issubclass(cls, libframe.FrameError))
        self.assertEqual(libframe._native.errname(33), "UNKNOWN")
        self.assertEqual(libframe.errname(33), "UNKNOWN")
        self.assertEqual(libframe.strerror(99), "unknown error")

    def test_header_file_lists_the_same_errors(self) -> None:
        import re
        with open(os.path.join(REPO, "include", "frame.h"), encoding="utf-8") as f:
            text = f.read()
        rows = re.findall(r"X\((\d+), (\w+), \"((?:[^\"\\]|\\.)*)\"\)", text)
        self.assertEqual([(int(n), name, d.replace("\\\\", "\\")) for n, name, d in rows],
                         list(libframe._errors.ERRNO_TABLE))

    def test_exceptions_pickle(self) -> None:
        import pickle
        e = libframe.TruncatedError(offset=7, frame=1, missing=3)
        e2 = pickle.loads(pickle.dumps(e))
        self.assertEqual((type(e2), e2.offset, e2.frame, e2.missing),
                         (libframe.TruncatedError, 7, 1, 3))


class SocketHelpers(unittest.TestCase):

    def test_send_recv_over_socketpair(self) -> None:
        a, b = socket.socketpair()
        a.settimeout(10)
        b.settimeout(10)
        def send() -> None:
            libframe.send_frame(a, {"k": "v"}, b"small")
            libframe.send_frame(a, {"k": "big"}, bytearray(300000))
            with libframe.FrameWriter(a, {"k": "streamed"}, 6) as w:
                w.write(b"abc")
                w.write(memoryview(b"def"))
            a.sendall(libframe.encode({}, b"")[:3])
            a.shutdown(socket.SHUT_WR)

        with a, b:
            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            self.addCleanup(sender.join, 10)
            d = libframe.Decoder()
            got = [libframe.recv_frame(b, decoder=d) for _ in range(3)]
            self.assertEqual([f.header["k"] for f in got], ["v", "big", "streamed"])
            self.assertEqual(got[1].body, bytes(300000))
            with self.assertRaises(libframe.TruncatedError) as cm:
                libframe.recv_frame(b, decoder=d)
            self.assertEqual(cm.exception.frame, 3)

    def test_clean_end_of_stream_is_none(self) -> None:
        a, b = socket.socketpair()
        b.settimeout(10)
        with a, b:
            libframe.send_frame(a, {}, b"1")
            a.close()
            self.assertEqual(libframe.recv_frame(b).body, b"1")
            self.assertIsNone(libframe.recv_frame(b))

    def test_recv_never_reads_past_the_frame(self) -> None:
        a, b = socket.socketpair()
        b.settimeout(10)
        with a, b:
            a.sendall(libframe.encode({}, b"frame") + b"NOT A FRAME")
            self.assertEqual(libframe.recv_frame(b).body, b"frame")
            self.assertEqual(b.recv(100), b"NOT A FRAME")


class ImplementationChoice(unittest.TestCase):

    def run_python(self, env: dict, code: str, path: str = "") -> subprocess.CompletedProcess:
        full = dict(os.environ)
        full.update(env)
        full["PYTHONPATH"] = path or os.path.dirname(os.path.dirname(libframe.__file__))
        return subprocess.run([sys.executable, "-W", "always", "-c", code], env=full,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)

    def test_environment_selects_the_implementation(self) -> None:
        need_native(self)
        code = "import libframe; print(libframe.IMPLEMENTATION, libframe.Decoder.__module__)"
        for choice, want in (("pure", b"python"), ("python", b"python"),
                             ("extension", b"extension"), ("native", b"extension"),
                             ("auto", b"extension"), ("", b"extension")):
            r = self.run_python({"LIBFRAME_IMPL": choice}, code)
            self.assertEqual(r.stdout.split()[:1], [want], (choice, r.stderr))
            self.assertEqual(r.stderr, b"")
        r = self.run_python({"LIBFRAME_IMPL": "fast"}, code)
        self.assertIn(b"LIBFRAME_IMPL", r.stderr)

    def test_missing_extension_falls_back_with_a_warning(self) -> None:
        # The source tree's package has no compiled extension in it.
        code = "import libframe; print(libframe.IMPLEMENTATION)"
        if any(n.startswith("_native") and n.endswith(".so")
               for n in os.listdir(os.path.join(PKG_DIR, "libframe"))):
            self.skipTest("an extension was built into the source tree")
        r = self.run_python({"LIBFRAME_IMPL": "auto"}, code, PKG_DIR)
        self.assertEqual(r.stdout.split(), [b"python"])
        self.assertIn(b"RuntimeWarning: libframe: the C extension libframe._native does not load",
                      r.stderr)
        self.assertIn(b"pure-Python implementation runs instead", r.stderr)
        self.assertIn(b"python3-dev", r.stderr)
        self.assertIn(b"LIBFRAME_IMPL=pure", r.stderr)
        r = self.run_python({"LIBFRAME_IMPL": "pure"}, code, PKG_DIR)
        self.assertEqual((r.stdout.split(), r.stderr), ([b"python"], b""))
        r = self.run_python({"LIBFRAME_IMPL": "extension"}, code, PKG_DIR)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"ImportError", r.stderr)

    def test_namespace_holds_only_the_package_names(self) -> None:
        import types
        names = {n for n in dir(libframe) if not n.startswith("_")}
        modules = {n for n in names if isinstance(getattr(libframe, n), types.ModuleType)}
        self.assertEqual(names - modules, set(libframe.__all__))
        self.assertLessEqual(modules, {"pure", "native"})
        for typing_name in ("Dict", "Optional", "Tuple", "Type", "Any", "List"):
            self.assertNotIn(typing_name, names)
        self.assertTrue(os.path.exists(os.path.join(os.path.dirname(libframe.__file__),
                                                    "py.typed")))

    def test_pure_module_has_the_same_interface(self) -> None:
        native = need_native(self)
        for name in ("Decoder", "Builder", "FrameWriter", "build_head", "encode"):
            self.assertTrue(hasattr(pure, name) and hasattr(native, name), name)
        public = {n for n in dir(pure.Decoder()) if not n.startswith("_")}
        self.assertEqual(public, {n for n in dir(native.Decoder()) if not n.startswith("_")})
        public = {n for n in dir(pure.Builder(0)) if not n.startswith("_")}
        self.assertEqual(public, {n for n in dir(native.Builder(0)) if not n.startswith("_")})


if __name__ == "__main__":
    unittest.main()
