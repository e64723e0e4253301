"""Shared helpers of the Python binding's tests.

Environment (python.mk sets them):
  LIBFRAME_EXTENSION=required  the C extension (libframe.native) MUST load:
                    failing to is an error, not a skip. python.mk builds the
                    package with its extension in build/python/site/.
  LIBFRAME_C_PEER   the C peer program (bindings/python/tests/c_peer.c, built by
                    `make python-peer`); tests that need it are skipped when it
                    is not set and not found in build/python/.
  LIBFRAME_VECTORS  the test vector directory (default <repo>/tests/vectors).
"""

import os
import socket
import subprocess
import threading
import unittest
from typing import Any, List, Optional

import libframe
import libframe.pure as pure

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
VECTORS = os.environ.get("LIBFRAME_VECTORS") or os.path.join(REPO, "tests", "vectors")

try:
    import libframe.native as native
    NATIVE_ERROR = None
except ImportError as _e:  # pragma: no cover - depends on the build
    native = None  # type: ignore
    NATIVE_ERROR = str(_e)

REQUIRED = os.environ.get("LIBFRAME_EXTENSION") == "required"

IMPLS = [pure] + ([native] if native is not None else [])


def need_native(test: unittest.TestCase) -> Any:
    """The extension module, or skip (fail when LIBFRAME_EXTENSION=required)."""
    if native is None:
        if REQUIRED:
            test.fail("LIBFRAME_EXTENSION=required but the extension does not load: %s"
                      % NATIVE_ERROR)
        test.skipTest("the C extension is not built: %s" % NATIVE_ERROR)
    return native


def impls(test: unittest.TestCase) -> List[Any]:
    """Both implementations (checks that the extension loads when it must)."""
    if native is None and REQUIRED:
        need_native(test)
    return IMPLS


def c_peer_path() -> Optional[str]:
    path = os.environ.get("LIBFRAME_C_PEER")
    if path:
        return path
    cand = os.path.join(REPO, "build", "python", "c_peer")
    return cand if os.path.exists(cand) else None


def need_peer(test: unittest.TestCase) -> str:
    path = c_peer_path()
    if path is None or not os.path.exists(path):
        if os.environ.get("LIBFRAME_C_PEER"):
            test.fail("LIBFRAME_C_PEER=%s does not exist" % path)
        test.skipTest("C peer not built (make python-peer)")
    return path


def listener() -> socket.socket:
    """A TCP listening socket on 127.0.0.1, ephemeral port, with a timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    return s


def run_peer(args: List[str], stdin: bytes = b"", timeout: float = 60) -> bytes:
    """Runs the C peer to completion; returns its stdout (fails on exit != 0)."""
    proc = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError("c_peer %s exited %d: %s" % (
            " ".join(args[1:]), proc.returncode, proc.stderr.decode("utf-8", "replace")))
    return proc.stdout


class Peer:
    """c_peer running in the background: its stdin is written and its output
    read by a thread, so neither pipe can block the socket traffic."""

    def __init__(self, args: List[str], stdin: bytes = b"") -> None:
        self.args = args
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self._thread = threading.Thread(target=self._talk, args=(stdin,), daemon=True)
        self._thread.start()

    def _talk(self, stdin: bytes) -> None:
        try:
            self.out, self.err = self.proc.communicate(stdin)
        except (OSError, ValueError):  # pragma: no cover - the process died
            pass

    def wait(self, timeout: float = 60) -> bytes:
        """Waits for exit; returns stdout; fails on a non-zero exit."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.proc.kill()
            self._thread.join(5)
            raise AssertionError("c_peer %s did not finish in %ss" % (self.args[1:], timeout))
        if self.proc.returncode != 0:
            raise AssertionError("c_peer %s exited %s: %s" % (
                " ".join(self.args[1:]), self.proc.returncode,
                self.err.decode("utf-8", "replace")))
        return self.out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._thread.join(5)


def pattern(seed: int, n: int) -> bytes:
    """The body the C peer generates for (seed, n): byte i = (i * 7 + seed) % 251."""
    period = bytes((i * 7 + seed) % 251 for i in range(251))
    reps = n // 251 + 1
    return (period * reps)[:n]


__all__ = ["libframe", "pure", "native", "IMPLS", "impls", "need_native", "need_peer",
           "listener", "run_peer", "pattern", "Peer", "VECTORS", "REPO", "REQUIRED"]
