"""Tests of the `frame` tool (tools/frame), standard library only.

    python3 tools/frame/tests/test_frame.py build/tools/frame

- every decode vector through `frame decode` and `frame check` (valid streams
  give the vector's headers and bodies; invalid ones its error name, offset,
  frame, and for TRUNCATED / *_TOO_LARGE the missing / declared / limit);
- every encode vector through `frame encode` (-m/-s/-j members, and -H for the
  valid ones): byte-identical frames or the vector's error, and encode | decode
  round trips;
- inspect, --bodies, --body=hex|base64|text, exit codes;
- send/listen against each other and against the Python package
  (bindings/python, LIBFRAME_IMPL=pure) over 127.0.0.1 (and ::1 when the
  machine has it), TCP and UDP, each bounded in time, every process ended.
"""

import base64
import glob
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VECTORS = os.path.join(ROOT, "tests", "vectors")
TOOL = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "tools", "frame"))
os.environ["LIBFRAME_IMPL"] = "pure"
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import libframe  # noqa: E402  (the pure implementation, as LIBFRAME_IMPL says)

TIMEOUT = 20  # seconds, for any one command
ERROR_RE = re.compile(r"^frame: (?:.*: )?([A-Z_0-9]+) at offset (\d+) \(frame (\d+)\): (.*)$", re.M)


def run(args, stdin=b"", timeout=TIMEOUT):
    return subprocess.run([TOOL] + list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def load_vectors(prefix):
    out = []
    for path in sorted(glob.glob(os.path.join(VECTORS, prefix + "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
    return out


def config_args(cfg):
    cfg = cfg or {}
    args = []
    if "prefix_width" in cfg:
        args += ["--width", str(cfg["prefix_width"])]
    if cfg.get("byte_order") == "big":
        args.append("--big-endian")
    if "size_name" in cfg:
        args += ["--size-name", cfg["size_name"]]
    if cfg.get("profile") == "raw":
        args.append("--raw")
    if "max_header" in cfg:
        args += ["--max-header", str(cfg["max_header"])]
    if "max_body" in cfg:
        args += ["--max-body", str(cfg["max_body"])]
    return args


def member_arg(m):
    """One -m/-s/-j option (as bytes) for an encode vector member."""
    if isinstance(m, dict):
        name = bytes.fromhex(m["name_hex"]) if "name_hex" in m else m["name"].encode()
        kind = m["type"]
        if "value_hex" in m:
            value = bytes.fromhex(m["value_hex"])
        else:
            value = m["value"]
    else:
        name, kind, value = m[0].encode(), m[1], m[2]
    if kind == "string":
        if isinstance(value, bytes):
            return [b"-s", name + b"=" + value]
        if "\0" in value:  # argv cannot hold NUL: the JSON form
            return [b"-j", name + b"=" + json.dumps(value, ensure_ascii=False).encode()]
        return [b"-s", name + b"=" + value.encode()]
    if kind == "raw":
        return [b"-j", name + b"=" + (value if isinstance(value, bytes) else value.encode())]
    if kind == "bool":
        text = "true" if value else "false"
    elif kind == "null":
        text = "null"
    else:
        text = str(value)
    return [b"-m", name + b"=" + text.encode()]


def header_option(members):
    """The members as one -H object, or None when one cannot be written so."""
    parts = []
    for m in members:
        if isinstance(m, dict):
            return None
        name, kind, value = m
        if kind == "raw":
            text = value
        elif kind == "string":
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = json.dumps(value)
        parts.append(json.dumps(name, ensure_ascii=False) + ":" + text)
    return "{" + ",".join(parts) + "}"


def expected_header_text(header_json):
    # the tool prints the object as sent, without the white space around it,
    # line breaks between tokens as spaces
    return header_json.strip(" \t\r\n").replace("\r", " ").replace("\n", " ")


class Counter:
    decode_vectors = 0
    encode_vectors = 0


class DecodeVectors(unittest.TestCase):
    def check_vector(self, v, tmp):
        args = config_args(v.get("config"))
        stream = bytes.fromhex(v["stream"])
        path = os.path.join(tmp, v["name"] + ".bin")
        with open(path, "wb") as f:
            f.write(stream)
        if v.get("datagram"):
            args.append("--datagram")
        err = v["error"]
        if v["name"].startswith("config_"):
            for cmd in ("decode", "check"):
                r = run([cmd] + args + [path])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(b"frame: --", r.stderr)
            return
        # decode, from stdin
        r = run(["decode", "--body=hex"] + args, stdin=stream)
        lines = r.stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), len(v["frames"]), r.stdout)
        for k, (line, fr) in enumerate(zip(lines, v["frames"])):
            got = json.loads(line)
            self.assertEqual(got["frame"], k)
            self.assertEqual(got["body"], fr["body"])
            self.assertEqual(got["body_length"], len(fr["body"]) // 2)
            if "header_json" in fr:
                text = line[line.index('"header":') + 9:line.index(',"body_length":')]
                self.assertEqual(text, expected_header_text(fr["header_json"]))
                self.assertEqual(got["header"], json.loads(fr["header_json"]))
            else:
                self.assertIsNone(got["header"])
        self.check_error(r, err)
        # check, from a file
        r = run(["check"] + args + [path])
        if err is None:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith(b"valid: %d frame" % len(v["frames"])), r.stdout)
        else:
            self.assertTrue(r.stdout.startswith(b"invalid: "), r.stdout)
            self.check_error(r, err)

    def check_error(self, r, err):
        if err is None:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, b"")
            return
        self.assertEqual(r.returncode, 1, r.stderr)
        m = ERROR_RE.search(r.stderr.decode("utf-8"))
        self.assertIsNotNone(m, r.stderr)
        self.assertEqual((m.group(1), int(m.group(2)), int(m.group(3))),
                         (err["name"], err["offset"], err["frame"]), r.stderr)
        if "missing" in err:
            self.assertIn("(%d more %s needed)" % (err["missing"], "octet was" if err["missing"] == 1 else "octets were"),
                          m.group(4))
        if "declared" in err:
            self.assertIn("(declared %d, limit %d)" % (err["declared"], err["limit"]), m.group(4))

    def test_every_decode_vector(self):
        vectors = load_vectors("dec_") + load_vectors("dgram_") + load_vectors("config_")
        self.assertGreater(len(vectors), 250)
        with tempfile.TemporaryDirectory() as tmp:
            for v in vectors:
                with self.subTest(vector=v["name"]):
                    self.check_vector(v, tmp)
        Counter.decode_vectors = len(vectors)


class EncodeVectors(unittest.TestCase):
    def test_every_encode_vector(self):
        vectors = load_vectors("enc_")
        self.assertGreater(len(vectors), 50)
        via_h = 0
        with tempfile.TemporaryDirectory() as tmp:
            for v in vectors:
                with self.subTest(vector=v["name"]):
                    body = bytes.fromhex(v["body"])
                    path = os.path.join(tmp, "body")
                    with open(path, "wb") as f:
                        f.write(body)
                    args = config_args(v.get("config"))
                    margs = [a for m in v["members"] for a in member_arg(m)]
                    r = run([b"encode"] + [a.encode() for a in args] + margs + [path.encode()])
                    if v["error"]:
                        self.assertEqual(r.returncode, 1, r.stderr)
                        self.assertEqual(r.stdout, b"")
                        self.assertIn((": %s" % v["error"]["name"]).encode(), r.stderr)
                        continue
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stdout.hex(), v["frame"])
                    # the same members as one -H object
                    h = header_option(v["members"])
                    if h is not None and v["members"]:
                        r2 = run(["encode"] + args + ["-H", h, path])
                        self.assertEqual(r2.returncode, 0, r2.stderr)
                        self.assertEqual(r2.stdout.hex(), v["frame"])
                        via_h += 1
                    # and back
                    d = run(["decode", "--body=hex"] + args, stdin=r.stdout)
                    self.assertEqual(d.returncode, 0, d.stderr)
                    got = json.loads(d.stdout)
                    self.assertEqual(got["body"], v["body"])
                    if v.get("config", {}).get("profile") != "raw":
                        w = v.get("config", {}).get("prefix_width", 4)
                        line = d.stdout.decode("utf-8")
                        text = line[line.index('"header":') + 9:line.index(',"body_length":')]
                        self.assertEqual(text.encode(), r.stdout[w:len(r.stdout) - len(body)])
        self.assertGreater(via_h, 20)
        Counter.encode_vectors = len(vectors)

    def test_member_values(self):
        r = run(["encode", "-m", "n=3", "-m", "t=true", "-m", "s=hello", "-m", "e=", "-m", 'q="5"',
                 "-m", "o={ \"a\" : [1, 2] }", "-s", "x=5", "-j", "y=[ ]", "-n", "2"], stdin=b"ab")
        self.assertEqual(r.returncode, 0, r.stderr)
        head = b'{"size":2,"n":3,"t":true,"s":"hello","e":"","q":"5","o":{"a":[1,2]},"x":"5","y":[]}'
        one = len(head).to_bytes(4, "little") + head + b"ab"
        self.assertEqual(r.stdout, one * 2)
        # -j refuses what is not JSON; -m then -H keep the command-line order
        r = run(["encode", "-j", "y=nope", "--empty"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"JSON_SYNTAX", r.stderr)
        r = run(["encode", "-m", "a=1", "-H", '{"b": 2}', "--width", "2", "--big-endian", "--empty"])
        self.assertEqual(r.stdout, b'\x00\x16{"size":0,"a":1,"b":2}')

    def test_header_option_errors(self):
        r = run(["encode", "-H", '{"a":1, "b":}', "--empty"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"-H: JSON_SYNTAX at offset 12", r.stderr)
        r = run(["encode", "-H", "[1]", "--empty"])
        self.assertEqual(r.returncode, 1)
        r = run(["encode", "-H", '{"size":1}', "--empty"])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"RESERVED_NAME", r.stderr)
        r = run(["encode", "-H", '{"a":1}', "-m", "a=2", "--empty"])
        self.assertIn(b"DUPLICATE_NAME", r.stderr)
        # 511 members from -H, plus size: the most a header holds
        big = "{" + ",".join('"k%d":0' % i for i in range(511)) + "}"
        r = run(["encode", "-H", big, "--empty"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout[4:].decode().count(":"), 512)


class Views(unittest.TestCase):
    STREAM = (libframe.encode({"name": "a.txt"}, b"hello")
              + libframe.encode({"n": [1, {"x": None}]}, bytes(range(40)))
              + libframe.encode(None, b""))

    def test_bodies(self):
        for mode, want in (("hex", [b"hello".hex(), bytes(range(40)).hex(), ""]),
                           ("base64", [base64.b64encode(b).decode() for b in (b"hello", bytes(range(40)), b"")])):
            r = run(["decode", "--body=" + mode], stdin=self.STREAM)
            self.assertEqual([json.loads(x)["body"] for x in r.stdout.splitlines()], want)
        r = run(["decode", "--body", "text"], stdin=libframe.encode({}, b'a"\n\xff\xc3\xa9'))
        self.assertEqual(json.loads(r.stdout)["body"], 'a"\n\ufffd\u00e9')
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "bodies")
            r = run(["decode", "--bodies", d], stdin=self.STREAM + b"\x0a\x00\x00\x00{\"size\":9}abc")
            self.assertEqual(r.returncode, 1)
            self.assertEqual(sorted(os.listdir(d)), ["0", "1", "2"])  # no file for the cut frame
            with open(os.path.join(d, "1"), "rb") as f:
                self.assertEqual(f.read(), bytes(range(40)))
        r = run(["decode", "--body=nope"])
        self.assertEqual(r.returncode, 2)

    def test_decode_lines(self):
        r = run(["decode"], stdin=self.STREAM)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.decode().splitlines(), [
            '{"frame":0,"offset":0,"header":{"size":5,"name":"a.txt"},"body_length":5}',
            '{"frame":1,"offset":34,"header":{"size":40,"n":[1,{"x":null}]},"body_length":40}',
            '{"frame":2,"offset":108,"header":{"size":0},"body_length":0}'])
        # several files are several streams
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i in range(2):
                paths.append(os.path.join(tmp, "s%d" % i))
                with open(paths[-1], "wb") as f:
                    f.write(self.STREAM)
            r = run(["check"] + paths)
            self.assertEqual(r.stdout, b"valid: 6 frames, 244 octets\n")
            r = run(["decode"] + paths)
            self.assertEqual([(x["frame"], x["offset"]) for x in lines(r.stdout)], [(0, 0), (1, 34), (2, 108)] * 2)

    def test_inspect(self):
        r = run(["inspect"], stdin=self.STREAM)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertNotIn("\033[", out)  # not a terminal: no colours
        self.assertIn("frame 1 at offset 34, 74 octets", out)
        self.assertIn("prefix  1e 00 00 00  = 30, header length (4 octets, little-endian)", out)
        self.assertIn('            "x": null\n', out)
        self.assertIn("0000  68 65 6c 6c 6f", out)
        self.assertIn("|hello|", out)
        self.assertIn("3 frames, 122 octets", out)
        r = run(["inspect", "--color=always"], stdin=self.STREAM)
        self.assertIn("\033[", r.stdout.decode())
        r = run(["inspect", "--big-endian", "--width", "2"], stdin=b"\x00\x0a{\"size\":1}" + b"x" * 100)
        self.assertEqual(r.returncode, 1)
        self.assertIn("00 0a  = 10", r.stdout.decode())
        self.assertIn(b"TRUNCATED", r.stderr)


class ExitCodes(unittest.TestCase):
    def test_classes(self):
        self.assertEqual(run(["decode"], stdin=Views.STREAM).returncode, 0)
        self.assertEqual(run(["check"], stdin=b"").returncode, 0)  # an empty stream is valid
        self.assertEqual(run(["check"], stdin=b"\x16\x03\x01\x02").returncode, 1)
        for bad in (["nope"], ["decode", "--width", "3"], ["decode", "--max-body", "9007199254740992"],
                    ["decode", "--size-name", 'a"b'], ["decode", "--bogus"], ["send"], ["listen"],
                    ["send", "::1:80"], ["listen", "1", "--echo", "-m", "a=1"]):
            r = run(bad)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertTrue(r.stderr.startswith(b"frame: "), r.stderr)
        r = run(["decode", "/nonexistent/file"])
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"cannot open /nonexistent/file", r.stderr)
        self.assertEqual(run([]).returncode, 2)
        for cmd in ("encode", "decode", "inspect", "check", "send", "listen"):
            r = run([cmd, "--help"])
            self.assertEqual(r.returncode, 0)
            self.assertIn(b"--big-endian", r.stdout)
            self.assertIn(b"usage: frame " + cmd.encode(), r.stdout)


def pcap_file(path, packets):
    """A pcap (Ethernet) of UDP packets: (payload, sport, dport, ipv6)."""
    import struct
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    for k, (payload, sport, dport, v6) in enumerate(packets):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + b"\0" * 15 + b"\1" + b"\0" * 15 + b"\1" + udp
            eth = b"\0" * 12 + b"\x86\xdd" + ip
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             b"\x7f\0\0\1", b"\x7f\0\0\1") + udp
            eth = b"\0" * 12 + b"\x81\x00\x00\x05\x08\x00" + ip  # with a VLAN tag
        out.append(struct.pack("<IIII", 1700000000 + k, 0, len(eth), len(eth)) + eth)
    with open(path, "wb") as f:
        f.write(b"".join(out))


class Captures(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("FRAME_TOOL_PCAP") == "yes" or os.environ.get("REQUIRE_TOOLS") == "1",
                         "frame was built without libpcap (libpcap-dev)")
    def test_capture_as_datagrams(self):
        good = libframe.encode({"u": 1}, b"dg")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "c.pcap")
            pcap_file(path, [(good, 5000, 9000, False), (b"dns?", 5353, 53, False),
                             (libframe.encode({"u": 2}, b""), 9000, 5000, True)])
            r = run(["check", "--datagram", "--port", "9000", path])
            self.assertEqual((r.returncode, r.stdout), (0, b"valid: 2 frames, 42 octets\n"), r.stderr)
            r = run(["decode", "--datagram", "--port", "9000", path])
            self.assertEqual([x["header"]["u"] for x in lines(r.stdout)], [1, 2])
            r = run(["check", "--datagram", path])  # the DNS packet too
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr.decode(), r"c\.pcap: packet 2 \(UDP 5353 -> 53\): LOOKS_LIKE_TEXT at offset 0 \(frame 1\)")
            pcap_file(path, [(good + b"x", 1, 9000, False)])
            r = run(["check", "--datagram", path])
            self.assertEqual(ERROR_RE.search(r.stderr.decode()).group(1, 2), ("DATAGRAM_TRAILING", "22"))


# ---- networking ------------------------------------------------------------------------


class Listener:
    """`frame listen ...` started on port 0; the port comes from its stderr."""

    def __init__(self, *args, host="127.0.0.1"):
        self.proc = subprocess.Popen([TOOL, "listen", "%s:0" % (("[%s]" % host) if ":" in host else host)]
                                     + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self._line(5)
        m = re.match(rb"frame: listening on (.*):(\d+) \((tcp|udp)\)", line)
        if not m:
            self.stop()
            raise AssertionError("listen said %r" % line)
        self.port = int(m.group(2))

    def _line(self, timeout):
        ready, _, _ = select.select([self.proc.stderr], [], [], timeout)
        return self.proc.stderr.readline() if ready else b""

    def wait(self, timeout=TIMEOUT):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            self.stop()
        return self.proc.returncode, out, err

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def lines(out):
    return [json.loads(x) for x in out.decode("utf-8").splitlines()]


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class SendListen(unittest.TestCase):
    def setUp(self):
        # every listener started by a test is ended when the test ends, whatever happens
        self.listeners = []
        self.addCleanup(lambda: [lst.stop() for lst in self.listeners])

    def listen(self, *args, **kw):
        lst = Listener(*args, **kw)
        self.listeners.append(lst)
        return lst

    def test_tcp_echo(self):
        lst = self.listen("--echo", "--once", "--body=text")
        r = run(["send", "127.0.0.1:%d" % lst.port, "-m", "name=a.txt", "-m", "n=1", "-n", "3",
                 "--body=text", "--timeout", "10"], stdin=b"hello")
        code, out, err = lst.wait()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(code, 0, err)
        want = {"size": 5, "name": "a.txt", "n": 1}
        for got in (lines(r.stdout), lines(out)):
            self.assertEqual([(x["frame"], x["header"], x["body"]) for x in got],
                             [(k, want, "hello") for k in range(3)])
        self.assertIn(b"connection from 127.0.0.1:", err)

    def test_tcp_large_body_and_stream(self):
        body = os.urandom(3 << 20)  # over 1 MiB: the path with the progress bar
        stream = libframe.encode({"i": 0}, body) + libframe.encode({"i": 1}, b"x")
        lst = self.listen("--echo", "--once")
        r = run(["send", "localhost:%d" % lst.port, "--stream", "--body=base64"], stdin=stream)
        code, out, err = lst.wait()
        self.assertEqual((r.returncode, code), (0, 0), r.stderr + err)
        got = lines(r.stdout)
        self.assertEqual([x["header"] for x in got], [{"size": len(body), "i": 0}, {"size": 1, "i": 1}])
        self.assertEqual(base64.b64decode(got[0]["body"]), body)
        self.assertEqual([x["body_length"] for x in lines(out)], [len(body), 1])

    def test_fixed_reply_to_python_client(self):
        lst = self.listen("-m", "ok=true", "--reply-body", "pong", "--frames", "2")
        with socket.create_connection(("127.0.0.1", lst.port), timeout=10) as s:
            for body in (b"ping", b"again"):
                libframe.send_frame(s, {"from": "python"}, body)
                reply = libframe.recv_frame(s)
                self.assertEqual((reply.header, reply.body), ({"size": 4, "ok": True}, b"pong"))
        code, out, err = lst.wait()
        self.assertEqual(code, 0, err)
        self.assertEqual([x["header"] for x in lines(out)],
                         [{"size": 4, "from": "python"}, {"size": 5, "from": "python"}])

    def test_send_to_python_server(self):
        srv = socket.create_server(("127.0.0.1", 0))
        srv.settimeout(10)
        port = srv.getsockname()[1]
        seen = []

        def serve():
            conn, _ = srv.accept()
            with conn:
                conn.settimeout(10)
                while True:
                    frame = libframe.recv_frame(conn)
                    if frame is None:
                        break
                    seen.append(frame)
                    libframe.send_frame(conn, {"ok": True, "got": frame.header}, frame.body.upper())

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        r = run(["send", "127.0.0.1:%d" % port, "-H", '{"k": "v"}', "-n", "2", "--body=text",
                 "--timeout", "10"], stdin=b"hello")
        t.join(10)
        srv.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(f.header, f.body) for f in seen], [({"size": 5, "k": "v"}, b"hello")] * 2)
        self.assertEqual([(x["header"], x["body"]) for x in lines(r.stdout)],
                         [({"size": 5, "ok": True, "got": {"size": 5, "k": "v"}}, "HELLO")] * 2)

    def test_udp(self):
        lst = self.listen("--datagram", "--echo", "--frames", "3", "--width", "2")
        r = run(["send", "127.0.0.1:%d" % lst.port, "--datagram", "--width", "2", "-m", "q=1", "-n", "2",
                 "--replies", "2", "--body=text", "--timeout", "10"], stdin=b"dgram")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([(x["frame"], x["header"], x["body"]) for x in lines(r.stdout)],
                         [(k, {"size": 5, "q": 1}, "dgram") for k in range(2)])
        # a Python client: one datagram out, the echo back, and a bad datagram
        cfg = libframe.Config(prefix_width=2)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.sendto(libframe.encode({"py": True}, b"abc", cfg) + b"trailing", ("127.0.0.1", lst.port))
            s.sendto(libframe.encode({"py": True}, b"abc", cfg), ("127.0.0.1", lst.port))
            data, _ = s.recvfrom(65536)
            frame = libframe.Decoder(cfg).feed_datagram(data)
            self.assertEqual((frame.header, frame.body), ({"size": 3, "py": True}, b"abc"))
        code, out, err = lst.wait()
        self.assertEqual(code, 1, err)  # the bad datagram
        self.assertEqual(len(lines(out)), 3)
        m = ERROR_RE.search(err.decode())
        self.assertEqual(m.group(1, 2), ("DATAGRAM_TRAILING", "25"))
        # a stream split into datagrams, no replies wanted
        lst = self.listen("--datagram", "--frames", "2")
        stream = libframe.encode({"a": 1}, b"x") + libframe.encode({"a": 2}, b"yy")
        r = run(["send", "127.0.0.1:%d" % lst.port, "--datagram", "--stream", "--timeout", "0.3"], stdin=stream)
        code, out, err = lst.wait()
        self.assertEqual((r.returncode, code), (0, 0), r.stderr + err)
        self.assertEqual([x["header"]["a"] for x in lines(out)], [1, 2])

    @unittest.skipUnless(have_ipv6(), "no IPv6 loopback on this machine")
    def test_ipv6(self):
        lst = self.listen("--echo", "--once", host="::1")
        r = run(["send", "[::1]:%d" % lst.port, "-m", "v=6", "--empty"])
        code, out, err = lst.wait()
        self.assertEqual((r.returncode, code), (0, 0), r.stderr + err)
        self.assertEqual(lines(r.stdout)[0]["header"], {"size": 0, "v": 6})
        self.assertIn(b"connection from [::1]:", err)

    def test_bad_stream_to_listener(self):
        lst = self.listen("--once")
        r = run(["send", "127.0.0.1:%d" % lst.port, "--stream"], stdin=b"GET / HTTP/1.1\r\n\r\n")
        code, out, err = lst.wait()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(code, 1)
        self.assertRegex(err.decode(), r"frame: 127\.0\.0\.1:\d+: LOOKS_LIKE_TEXT at offset 0 \(frame 0\)")

    def test_bad_reply(self):
        srv = socket.create_server(("127.0.0.1", 0))
        srv.settimeout(10)

        def serve():
            conn, _ = srv.accept()
            with conn:
                conn.recv(100)
                conn.sendall(libframe.encode({"a": 1}, b"") + b"\x05\x00\x00\x00[1]  ")

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        r = run(["send", "127.0.0.1:%d" % srv.getsockname()[1], "--empty"])
        t.join(10)
        srv.close()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(len(lines(r.stdout)), 1)
        self.assertEqual(ERROR_RE.search(r.stderr.decode()).group(1, 2, 3), ("NOT_OBJECT", "24", "1"))

    def test_refused_and_in_use(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, not listening: connecting is refused
            r = run(["send", "127.0.0.1:%d" % port, "--empty"])
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"cannot connect to 127.0.0.1:%d (tcp): connection refused" % port, r.stderr)
            s.listen(1)
            r = run(["listen", "127.0.0.1:%d" % port])
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"cannot listen on 127.0.0.1:%d (tcp): address already in use" % port, r.stderr)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            r = run(["listen", "--datagram", "127.0.0.1:%d" % port])
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"address already in use", r.stderr)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = run(["send", "--datagram", "127.0.0.1:%d" % port, "--empty", "--replies", "1", "--timeout", "2"])
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"connection refused", r.stderr)

    def test_progress_bar_on_a_terminal(self):
        import pty
        lst = self.listen("--echo", "--once")
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([TOOL, "send", "127.0.0.1:%d" % lst.port, "-m", "big=1"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave)
            out, _ = proc.communicate(os.urandom(2 << 20), timeout=TIMEOUT)
            os.close(slave)
            seen = b""
            while select.select([master], [], [], 0.5)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            os.close(master)
            lst.wait()
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(lines(out)[0]["body_length"], 2 << 20)
        self.assertIn(b"sending [", seen)
        self.assertIn(b"receiving [", seen)
        self.assertIn(b"100%  2.0 / 2.0 MiB", seen)
        # not on a terminal: no bar
        lst = self.listen("--echo", "--once")
        r = run(["send", "127.0.0.1:%d" % lst.port, "-m", "big=1"], stdin=os.urandom(2 << 20))
        lst.wait()
        self.assertEqual(r.stderr, b"")

    def test_timeout(self):
        with socket.create_server(("127.0.0.1", 0)) as srv:  # accepts, never answers nor closes
            start = time.monotonic()
            r = run(["send", "127.0.0.1:%d" % srv.getsockname()[1], "--empty", "--timeout", "0.5"])
            self.assertLess(time.monotonic() - start, 5)
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"nothing happened for 0.5 s", r.stderr)


if __name__ == "__main__":
    if not os.access(TOOL, os.X_OK):
        sys.exit("test_frame.py: %s is not built (make frame-tool)" % TOOL)
    result = unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[2:], exit=False, verbosity=1).result
    if result.wasSuccessful():
        print("test-frame-tool: OK: %d decode vectors through decode and check, %d encode vectors "
              "through encode (and -H) and back through decode; send/listen against each other and "
              "the Python package (pure) over TCP and UDP" % (Counter.decode_vectors, Counter.encode_vectors))
    sys.exit(0 if result.wasSuccessful() else 1)
