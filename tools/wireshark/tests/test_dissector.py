"""Tests of the Wireshark dissector (tools/wireshark/libframe.lua) with tshark.

    python3 tools/wireshark/tests/test_dissector.py [build/tools/frame]

Each test writes a pcap (a small writer below: Ethernet, IPv4, TCP with a
handshake, or UDP) from known streams, runs tshark with the dissector
(-X lua_script:) and checks the fields and expert infos it prints. Covered: a
frame split over three segments, three frames in one segment, a 1 MiB body,
every SPEC error the dissector reports, the preferences (width, byte order,
size name, raw), the heuristic (off by default), UDP datagrams, and every
decode vector whose parameters the dissector has, each as its own TCP
connection (the error name, and the offset within the frame).

Skips, saying so, when tshark is absent, unless REQUIRE_TOOLS=1 (CI), where
that is a failure. Standard library only.
"""

import glob
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LUA = os.path.join(ROOT, "tools", "wireshark", "libframe.lua")
VECTORS = os.path.join(ROOT, "tests", "vectors")
TSHARK = shutil.which("tshark")
TOOL = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None  # build/tools/frame
PORT = 7000
TIMEOUT = 120


def frame(header_json, body=b"", width=4, big=False):
    h = header_json.encode() if isinstance(header_json, str) else header_json
    return len(h).to_bytes(width, "big" if big else "little") + h + body


def canonical(members, body=b""):
    return frame(json.dumps(dict([("size", len(body))] + list(members.items())),
                            separators=(",", ":"), ensure_ascii=False), body)


# ---- a small pcap writer ---------------------------------------------------------------------

def _ipv4(proto, src, dst, payload):
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                       bytes(src), bytes(dst))
    s = sum(struct.unpack("!10H", head))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    head = head[:10] + struct.pack("!H", ~s & 0xFFFF) + head[12:]
    return head + payload


class Pcap:
    """Ethernet/IPv4 packets; TCP connections get a handshake, then data segments."""

    def __init__(self):
        self.packets = []

    def _eth(self, ip):
        self.packets.append(b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip)

    def _tcp(self, sport, dport, seq, ack, flags, data=b"", to_server=True):
        src, dst = ([127, 0, 0, 1], [127, 0, 0, 2]) if to_server else ([127, 0, 0, 2], [127, 0, 0, 1])
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                          65535, 0, 0) + data
        self._eth(_ipv4(6, src, dst, tcp))

    def tcp(self, segments, client_port, server_port=PORT):
        """One connection: the client sends each segment in turn."""
        cseq, sseq = 1000, 5000
        self._tcp(client_port, server_port, cseq, 0, 0x02)
        self._tcp(server_port, client_port, sseq, cseq + 1, 0x12, to_server=False)
        cseq += 1
        sseq += 1
        self._tcp(client_port, server_port, cseq, sseq, 0x10)
        for seg in segments:
            self._tcp(client_port, server_port, cseq, sseq, 0x18, seg)
            cseq += len(seg)
        return self

    def udp(self, datagrams, client_port, server_port=PORT):
        for d in datagrams:
            u = struct.pack("!HHHH", client_port, server_port, 8 + len(d), 0) + d
            self._eth(_ipv4(17, [127, 0, 0, 1], [127, 0, 0, 2], u))
        return self

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for k, p in enumerate(self.packets):
                f.write(struct.pack("<IIII", 1700000000 + k, 0, len(p), len(p)) + p)


def split(data, n):
    """data in n nearly equal segments."""
    step = -(-len(data) // n)
    return [data[i:i + step] for i in range(0, len(data), step)]


class Tshark:
    """Runs tshark with the dissector on a pcap; rows of the fields asked for."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.count = 0

    def run(self, pcap, fields, prefs=(), extra=()):
        self.count += 1
        path = os.path.join(self.tmp, "t%d.pcap" % self.count)
        pcap.write(path)
        args = [TSHARK, "-n", "-r", path, "-X", "lua_script:" + LUA,
                "-o", "libframe.tcp_port:%d" % PORT, "-o", "libframe.udp_port:%d" % PORT]
        for p in prefs:
            args += ["-o", p]
        args += list(extra) + ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                               "-E", "aggregator=|"]
        for fl in fields:
            args += ["-e", fl]
        env = dict(os.environ, HOME=self.tmp, XDG_CONFIG_HOME=self.tmp)  # no user profile
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT, env=env)
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode != 0 or "Lua" in err and "rror" in err:
            raise AssertionError("tshark failed (%d): %s" % (r.returncode, err))
        return [line.split("\t") for line in r.stdout.decode("utf-8").splitlines()]


def spec_experts(text):
    """The dissector's expert messages ("NAME: ..."), without TCP's."""
    return "|".join(m for m in text.split("|") if re.match(r"[A-Z_0-9]+: ", m))


def rows_with(rows, col=0):
    return [r for r in rows if r[col]]


@unittest.skipIf(TSHARK is None, "tshark is not installed")
class Dissector(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.TemporaryDirectory()
        cls.ts = Tshark(cls.tmpdir.name)

    @classmethod
    def tearDownClass(cls):
        cls.tmpdir.cleanup()

    def fields(self, pcap, fields, prefs=(), extra=()):
        return self.ts.run(pcap, fields, prefs, extra)

    def test_frame_over_three_segments(self):
        f = canonical({"name": "a.txt", "n": [1, {"x": None}]}, b"hello world")
        rows = self.fields(Pcap().tcp(split(f, 3), 40001),
                           ["frame.number", "libframe.size", "libframe.header", "libframe.header_length",
                            "libframe.prefix", "libframe.body", "libframe.member"])
        got = rows_with(rows, 1)
        self.assertEqual(len(got), 1, rows)
        num, size, header, hlen, prefix, body, members = got[0]
        self.assertEqual(num, "6")  # handshake (3) + the 3rd segment
        self.assertEqual(size, "11")
        self.assertEqual(header, f[4:4 + int(hlen)].decode())
        self.assertEqual(prefix, hlen)
        self.assertEqual(body.replace(":", ""), b"hello world".hex())
        self.assertEqual(members.split("|"), ["size", "name", "n", "[0]", "[1]", "x"])

    def test_three_frames_in_one_segment(self):
        seg = canonical({"i": 0}, b"abc") + canonical({"i": 1}) + canonical({"i": 2}, b"\x00" * 7)
        rows = self.fields(Pcap().tcp([seg], 40002), ["libframe.size", "libframe.header", "_ws.col.Info"])
        got = rows_with(rows)
        self.assertEqual(len(got), 1, rows)
        self.assertEqual(got[0][0], "3|0|7")
        self.assertEqual(got[0][1], '{"size":3,"i":0}|{"size":0,"i":1}|{"size":7,"i":2}')
        self.assertTrue(got[0][2].startswith("3 frames: "), got[0][2])

    def test_one_mib_body(self):
        body = bytes(range(256)) * 4096  # 1 MiB
        data = canonical({"big": True}, body) + canonical({"after": 1}, b"z")
        rows = self.fields(Pcap().tcp(split(data, 40), 40003), ["frame.number", "libframe.size", "libframe.header"])
        got = rows_with(rows, 1)
        self.assertEqual([r[1] for r in got], ["1048576|1"] if len(got) == 1 else ["1048576", "1"], rows)
        self.assertEqual(got[-1][0], str(3 + 40))

    def test_errors(self):
        cases = [
            (b"\x00\x00\x00\x00{}", "HEADER_EMPTY", ()),
            (b"\x01\x00\x01\x00" + b"x" * 10, "HEADER_TOO_LARGE", ()),
            (b"\x16\x03\x01\x02\x00\x01\x00", "LOOKS_LIKE_TLS", ()),
            (b"GET / HTTP/1.1\r\n\r\n", "LOOKS_LIKE_TEXT", ()),
            (frame(b'\xef\xbb\xbf{"size":0}'), "BOM", ()),
            (frame(b'[{"size":0}]'), "NOT_OBJECT", ()),
            (frame(b'{"size":0,}'), "JSON_SYNTAX", ()),
            (frame(b'{"size":0,"a":"\xc0\x80"}'), "BAD_UTF8", ()),
            (frame(b'{"size":0,"a":"\\ud800x"}'), "LONE_SURROGATE", ()),
            (frame(b'{"size":0,"a":1,"\\u0061":2}'), "DUPLICATE_NAME", ()),
            (frame(b'{"size":0,"a":' + b"[" * 32 + b"]" * 32 + b"}"), "TOO_DEEP", ()),
            (frame(b'{"size":0,' + b",".join(b'"m%d":0' % i for i in range(512)) + b"}"), "TOO_MANY_MEMBERS", ()),
            (frame(b'{"length":5}') + b"hello", "SIZE_MISSING", ()),
            (frame(b'{"size":5.0}') + b"hello", "SIZE_INVALID", ()),
            (frame(b'{"size":"5"}') + b"hello", "SIZE_INVALID", ()),
            (frame(b'{"size":9007199254740992}'), "BODY_TOO_LARGE", ()),
            (frame(b'{"size":0,"pad":"' + b"p" * 20 + b'"}'), "HEADER_TOO_LARGE", ("libframe.max_header:30",)),
        ]
        seen = set()
        for prefs in sorted(set(c[2] for c in cases)):
            # one connection per case, a good frame first: the error is in frame 1
            pcap, names = Pcap(), {}
            for k, (data, name, p) in enumerate(cases):
                if p == prefs:
                    pcap.tcp([canonical({"ok": 1}) + data], 41000 + k)
                    names[41000 + k] = name
            rows = self.fields(pcap, ["tcp.srcport", "libframe.size", "_ws.expert.message"], prefs)
            for port, name in sorted(names.items()):
                with self.subTest(error=name):
                    got = [[r[1], spec_experts(r[2])] for r in rows if int(r[0]) == port and spec_experts(r[2])]
                    self.assertEqual(len(got), 1, rows)
                    self.assertEqual(got[0][1].count("|"), 0, got)  # one expert info
                    self.assertEqual(got[0][0].split("|")[0], "0")  # after the good frame
                    self.assertTrue(got[0][1].startswith(name + ": "), got[0][1])
                    seen.add(name)
        # after an error the rest of the connection is not read as frames
        rows = self.fields(Pcap().tcp([canonical({"a": 1}), b"GET / HTTP/1.1\r\n", canonical({"b": 2})], 41999),
                           ["frame.number", "libframe.size", "_ws.col.Info"])
        self.assertEqual([r[1:] for r in rows[3:]], [["0", '{"size":0,"a":1}'], ["", "LOOKS_LIKE_TEXT"],
                                                       ["", "data after an error (framing lost)"]])
        # datagrams: one frame each, cut short or followed by more octets
        good = canonical({"u": 1}, b"dg")
        rows = self.fields(Pcap().udp([good, good[:-1], good + b"++", good[:2]], 42000),
                           ["libframe.size", "_ws.expert.message"])
        self.assertEqual([r[0] for r in rows], ["2", "2", "2", ""])
        self.assertEqual([spec_experts(r[1]).split(":")[0] for r in rows],
                         ["", "DATAGRAM_TRUNCATED", "DATAGRAM_TRAILING", "DATAGRAM_TRUNCATED"])
        seen |= {"DATAGRAM_TRUNCATED", "DATAGRAM_TRAILING"}
        Counter.errors = len(seen)

    def test_preferences(self):
        body = b"payload"
        h = b'{"data_size":7,"size":"not me"}'
        stream = frame(h, body, width=2, big=True)
        prefs = ("libframe.width:2", "libframe.big_endian:TRUE", "libframe.size_name:data_size")
        rows = self.fields(Pcap().tcp(split(stream, 2), 43001), ["libframe.size", "libframe.prefix"], prefs)
        self.assertEqual(rows_with(rows), [["7", str(len(h))]])
        # width 8, and the raw profile (Twisted's Int32StringReceiver: 4 octets big-endian)
        rows = self.fields(Pcap().tcp([frame(b'{"size":1}', b"x", width=8)], 43002), ["libframe.size"],
                           ("libframe.width:8",))
        self.assertEqual(rows_with(rows), [["1"]])
        rows = self.fields(Pcap().tcp([b"\x00\x00\x00\x07twisted\x00\x00\x00\x00"], 43003),
                           ["libframe.size", "libframe.body"], ("libframe.raw:TRUE", "libframe.big_endian:TRUE"))
        self.assertEqual(rows_with(rows), [["7|0", b"twisted".hex()]])

    def test_heuristic(self):
        data = canonical({"h": 1}, b"hi")
        pcap = Pcap().tcp([data], 44001, server_port=5555)
        args = ["libframe.size"]
        off = self.ts.run(pcap, args, ("libframe.tcp_port:0",))
        self.assertEqual(rows_with(off), [])  # off by default
        on = self.ts.run(pcap, args, ("libframe.tcp_port:0", "libframe.heuristic:TRUE"))
        self.assertEqual(rows_with(on), [["2"]])
        # "Decode As" works on any port too
        da = self.ts.run(pcap, args, ("libframe.tcp_port:0",), ("-d", "tcp.port==5555,libframe"))
        self.assertEqual(rows_with(da), [["2"]])

    def test_decode_vectors(self):
        """Each decode vector with parameters the dissector has, as a TCP connection
        (datagram vectors as UDP datagrams): its frames, or its error's name and
        offset within the frame. TRUNCATED is what a capture cannot show."""
        groups = {}
        for path in sorted(glob.glob(os.path.join(VECTORS, "dec_*.json")) + glob.glob(os.path.join(VECTORS, "dgram_*.json"))):
            with open(path, encoding="utf-8") as f:
                v = json.load(f)
            cfg = v.get("config") or {}
            if "max_body" in cfg or not v["stream"]:
                continue
            err = v["error"]
            if err and err["name"] == "TRUNCATED":
                continue
            key = tuple(sorted(cfg.items())) + (("datagram", bool(v.get("datagram"))),)
            groups.setdefault(key, []).append(v)
        checked = 0
        for key, vectors in sorted(groups.items(), key=lambda kv: str(kv[0])):
            cfg = dict(key)
            prefs = []
            if "prefix_width" in cfg:
                prefs.append("libframe.width:%d" % cfg["prefix_width"])
            if cfg.get("byte_order") == "big":
                prefs.append("libframe.big_endian:TRUE")
            if "size_name" in cfg:
                prefs.append("libframe.size_name:" + cfg["size_name"])
            if "max_header" in cfg:
                prefs.append("libframe.max_header:%d" % cfg["max_header"])
            if cfg.get("profile") == "raw":
                prefs.append("libframe.raw:TRUE")
            pcap = Pcap()
            for k, v in enumerate(vectors):
                stream = bytes.fromhex(v["stream"])
                if cfg["datagram"]:
                    pcap.udp([stream], 20000 + k)
                else:
                    pcap.tcp([stream], 20000 + k)
            rows = self.fields(pcap, ["tcp.srcport", "udp.srcport", "libframe.size", "_ws.expert.message"], prefs)
            by_port = {}
            for r in rows:
                port = int(r[0] or r[1])
                got = by_port.setdefault(port, [[], []])
                if r[2]:
                    got[0] += r[2].split("|")
                if spec_experts(r[3]):
                    got[1] += spec_experts(r[3]).split("|")
            for k, v in enumerate(vectors):
                with self.subTest(vector=v["name"]):
                    sizes, experts = by_port.get(20000 + k, [[], []])
                    want = [str(len(fr["body"]) // 2) for fr in v["frames"]]
                    err = v["error"]
                    if err is None:
                        self.assertEqual(sizes, want)
                        self.assertEqual(experts, [])
                    else:
                        self.assertEqual(sizes[:len(want)], want)
                        self.assertEqual(len(experts), 1, experts)
                        self.assertTrue(experts[0].startswith(err["name"] + ": "), (experts, err))
                        if err["name"] not in ("DATAGRAM_TRUNCATED", "DATAGRAM_TRAILING"):
                            rel = err["offset"] - sum(self.frame_len(fr, cfg) for fr in v["frames"])
                            m = re.search(r"\(offset (\d+) in the frame\)", experts[0])
                            self.assertEqual(int(m.group(1)) if m else 0, rel, experts[0])
                    checked += 1
        self.assertGreater(checked, 200)
        Counter.vectors = checked

    @unittest.skipIf(TOOL is None, "no frame tool given")
    def test_against_the_frame_tool(self):
        """Streams made by `frame encode` (width 2, big-endian, size name "len"),
        as TCP segments of 7 octets and as UDP datagrams: tshark's fields and
        `frame decode` (reading the same pcap with --datagram) agree."""
        params = ["--width", "2", "--big-endian", "--size-name", "len"]
        prefs = ("libframe.width:2", "libframe.big_endian:TRUE", "libframe.size_name:len")
        one = subprocess.run([TOOL, "encode", "-H", '{"name": "r\u00e9sum\u00e9", "tags": ["a", {"b": null}]}',
                              "-m", "n=42"] + params, input=b"body octets", stdout=subprocess.PIPE,
                             check=True, timeout=TIMEOUT).stdout
        three = subprocess.run([TOOL, "encode", "-m", "k=v", "-n", "3"] + params, input=b"xyz",
                               stdout=subprocess.PIPE, check=True, timeout=TIMEOUT).stdout
        stream = one + three
        pcap = Pcap().tcp([stream[i:i + 7] for i in range(0, len(stream), 7)], 45001)
        rows = self.fields(pcap, ["libframe.size", "libframe.header"], prefs)
        got = [(size, header) for r in rows_with(rows) for size, header in zip(r[0].split("|"), r[1].split("|"))]
        tool = [json.loads(x) for x in subprocess.run([TOOL, "decode"] + params, input=stream,
                                                      stdout=subprocess.PIPE, timeout=TIMEOUT).stdout.splitlines()]
        self.assertEqual(len(got), 4)
        self.assertEqual([(str(t["body_length"]), json.dumps(t["header"], ensure_ascii=False, separators=(",", ":")))
                          for t in tool], got)
        # UDP: the same frames as datagrams; frame decode reads the pcap
        path = os.path.join(self.tmpdir.name, "udp.pcap")
        pcap = Pcap().udp([one, three[:len(three) // 3], one + b"!"], 45002)
        pcap.write(path)
        rows = self.fields(pcap, ["libframe.size", "_ws.expert.message"], prefs)
        r = subprocess.run([TOOL, "decode", "--datagram", "--port", str(PORT), path] + params,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
        if b"built without libpcap" in r.stderr:
            self.skipTest("frame was built without libpcap")
        self.assertEqual([str(t["body_length"]) for t in map(json.loads, r.stdout.splitlines())],
                         [x[0] for x in rows[:2]])
        self.assertIn(b"DATAGRAM_TRAILING at offset %d (frame 2)" % len(one), r.stderr)
        self.assertTrue(spec_experts(rows[2][1]).startswith("DATAGRAM_TRAILING"), rows)

    @staticmethod
    def frame_len(fr, cfg):
        w = cfg.get("prefix_width", 4)
        return w + len(fr.get("header_json", "").encode()) + len(fr["body"]) // 2


class Counter:
    errors = 0
    vectors = 0


if __name__ == "__main__":
    if TSHARK is None:
        if os.environ.get("REQUIRE_TOOLS") == "1":
            sys.exit("test-wireshark: tshark is not installed and REQUIRE_TOOLS=1: FAILED "
                     "(DEBIAN_FRONTEND=noninteractive apt-get install -y tshark)")
        print("test-wireshark: SKIPPED: tshark is not installed "
              "(DEBIAN_FRONTEND=noninteractive apt-get install -y tshark); nothing was tested")
        sys.exit(0)
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    if TOOL is None:
        print("test-wireshark: NOTE: no frame tool given: the comparison with `frame decode` did not run")
    if result.wasSuccessful():
        version = subprocess.run([TSHARK, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().splitlines()[0]
        print("test-wireshark: OK with %s: three-segment frame, three frames in a segment, 1 MiB body, "
              "%d SPEC errors as expert infos, preferences, heuristic, %d decode vectors, agreement with frame decode"
              % (version, Counter.errors, Counter.vectors))
    sys.exit(0 if result.wasSuccessful() else 1)
