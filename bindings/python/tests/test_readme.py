"""The clients and servers of bindings/python/README.md run as shown (on a
free port instead of 7000), each under 15 lines."""

import os
import re
import socket
import subprocess
import sys
import time
import unittest
from typing import Dict

from support import libframe

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
TIMEOUT = 30


def examples() -> Dict[str, str]:
    with open(README, encoding="utf-8") as f:
        text = f.read()
    return {m.group(1): m.group(2)
            for m in re.finditer(r"```python\n# (\w+\.py)\n(.*?)```", text, re.S)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReadmeExamples(unittest.TestCase):

    def run_pair(self, server: str, client: str) -> bytes:
        code = examples()
        port = str(free_port())
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(libframe.__file__)))
        srv = subprocess.Popen([sys.executable, "-c", code[server].replace("7000", port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:  # until the server listens (bounded)
                try:
                    socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
                    break
                except OSError:
                    self.assertLess(time.monotonic(), deadline, "the server did not start")
                    if srv.poll() is not None:
                        self.fail("the server exited: %r" % srv.communicate()[1])
                    time.sleep(0.05)
            r = subprocess.run([sys.executable, "-c", code[client].replace("7000", port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout
        finally:
            srv.kill()
            srv.communicate(timeout=TIMEOUT)

    def test_examples_are_short(self) -> None:
        code = examples()
        self.assertEqual(set(code), {"server.py", "client.py", "aio_server.py", "aio_client.py"})
        for name, text in code.items():
            self.assertLess(len(text.strip().splitlines()), 15, name)

    def test_socket_client_and_server(self) -> None:
        out = self.run_pair("server.py", "client.py")
        self.assertEqual(out, b"{'size': 12, 'ok': True, 'name': 'greeting.txt'} b'HELLO, WORLD'\n")

    def test_asyncio_client_and_server(self) -> None:
        out = self.run_pair("aio_server.py", "aio_client.py")
        self.assertEqual(out, b"{'size': 12, 'ok': True, 'name': 'greeting.txt'} b'HELLO, WORLD'\n")


if __name__ == "__main__":
    unittest.main()
