#!/usr/bin/env python3
"""The classic Python file upload of the socket tutorials, for the loopback rows.

    classic_upload.py SRC DST

The sender packs the header length with struct.pack('i'), sends a json.dumps()
header ({"file_name": ..., "file_size": N}) and then the file in 1024-byte
chunks; the receiver (a child process) reads the length, the header, then
recv(1024) until it has N bytes, writing each piece to DST, and answers one
byte. Only 127.0.0.1 is used. The time runs from connect() to that byte.
Prints one JSON line: {"mode": "classic-python", "bytes": N, "seconds": S}.
"""

import json
import os
import socket
import struct
import sys
import time

CHUNK = 1024


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            raise EOFError("connection closed early")
        data += part
    return data


def receiver(listener, dst):
    conn, _ = listener.accept()
    with conn:
        (hlen,) = struct.unpack("i", recv_exact(conn, 4))
        header = json.loads(recv_exact(conn, hlen).decode())
        size = header["file_size"]
        received = 0
        with open(dst, "wb") as f:
            while received < size:
                data = conn.recv(CHUNK)
                if not data:
                    raise EOFError("connection closed early")
                f.write(data)
                received += len(data)
        conn.sendall(b"k")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    addr = listener.getsockname()
    pid = os.fork()
    if pid == 0:
        try:
            receiver(listener, dst)
        finally:
            os._exit(0)
    listener.close()
    size = os.path.getsize(src)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, open(src, "rb") as f:
        t0 = time.perf_counter()
        s.connect(addr)
        header = json.dumps({"file_name": os.path.basename(src), "file_size": size}).encode()
        s.sendall(struct.pack("i", len(header)))
        s.sendall(header)
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            s.sendall(chunk)
        if s.recv(1) != b"k":
            sys.exit("classic_upload: no answer from the receiver")
        seconds = time.perf_counter() - t0
    _, status = os.waitpid(pid, 0)
    if status != 0 or os.path.getsize(dst) != size:
        sys.exit("classic_upload: the receiver failed")
    print(json.dumps({"mode": "classic-python", "bytes": size, "seconds": seconds,
                      "buffer": CHUNK}))


if __name__ == "__main__":
    main()
