"""Minimal libframe codec and frame-exec helpers for the frame-exec tests (stdlib only).

A frame is a 4-byte little-endian header length, the header (compact JSON,
"size" first) and "size" body bytes. This is just enough to test the examples;
the real Python binding lives in bindings/python.
"""
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import time


# Every request carries this token unless it says otherwise (token=None).
TOKEN = "test-token-0123456789abcdef"


def encode(header, body=b"", token=True):
    h = {"size": len(body)}
    if token is True and "token" not in header:
        h["token"] = TOKEN
    h.update(header)
    text = json.dumps(h, ensure_ascii=False, separators=(",", ":")).encode()
    return struct.pack("<I", len(text)) + text + body


def request(cmd, body=b"", **extra):
    h = {"cmd": cmd}
    if extra.get("token", True) is None:
        del extra["token"]
        h.update(extra)
        return encode(h, body, token=False)
    h.update(extra)
    return encode(h, body)


def recv_exact(sock, n):
    parts, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (got, n))
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def recv_frame(sock):
    """Returns (header dict, body bytes); raises EOFError at end of stream."""
    (hlen,) = struct.unpack("<I", recv_exact(sock, 4))
    header = json.loads(recv_exact(sock, hlen))
    return header, recv_exact(sock, header["size"])


def split_reply(header, body):
    """(exit, stdout, stderr) of a command reply, checking the sizes add up."""
    assert "error" not in header, header
    assert header["stdout"] + header["stderr"] == header["size"] == len(body), header
    return header["exit"], body[: header["stdout"]], body[header["stdout"]:]


class FrameParser:
    """Incremental parser for non-blocking clients: feed bytes, get frames."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        frames = []
        while len(self.buf) >= 4:
            (hlen,) = struct.unpack_from("<I", self.buf)
            if len(self.buf) < 4 + hlen:
                break
            header = json.loads(bytes(self.buf[4:4 + hlen]))
            end = 4 + hlen + header["size"]
            if len(self.buf) < end:
                break
            frames.append((header, bytes(self.buf[4 + hlen:end])))
            del self.buf[:end]
        return frames


def fd_count(pid):
    """Open descriptors of a process (Linux /proc)."""
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_for(cond, what, limit=10.0):
    """Polls cond() until true; bounded, for states a server reaches asynchronously."""
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


class Server:
    """Starts frame-exec-server on 127.0.0.1:0 and reads the port it prints."""

    def __init__(self, binary, *args, env=None, wrapper=(), startup=30.0):
        self.proc = subprocess.Popen(
            list(wrapper) + [binary, "--listen", "127.0.0.1:0"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.classic_port = None
        line = b""
        deadline = time.monotonic() + startup
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self.kill()
                raise RuntimeError("server did not start in %.0f s" % startup)
            ch = os.read(self.proc.stdout.fileno(), 1)
            if not ch:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError("server exited before listening: " + err)
            line += ch
        m = re.match(rb"listening on 127\.0\.0\.1:(\d+)\n$", line)
        assert m, line
        self.port = int(m.group(1))
        self.pid = self.proc.pid
        if "--classic-listen" in args:
            line = self.proc.stdout.readline()
            m = re.match(rb"classic listening on 127\.0\.0\.1:(\d+)\n$", line)
            assert m, line
            self.classic_port = int(m.group(1))

    def connect_from(self, src, timeout=30.0, port=None):
        """A connection from another loopback address (127.0.0.2...)."""
        s = socket.socket()
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port or self.port))
        return s

    def connect(self, timeout=30.0):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def run(self, cmd, body=b"", **extra):
        with self.connect() as s:
            s.sendall(request(cmd, body, **extra))
            return recv_frame(s)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        """Signals the server; returns (exit code, stderr text)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("server did not stop within %.0f s of signal %d" % (timeout, sig))
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
