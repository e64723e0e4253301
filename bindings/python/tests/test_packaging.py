"""`pip install ./bindings/python` works offline with the in-tree backend, and
the versions agree."""

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import unittest
import zipfile

from support import REPO, libframe

PKG_DIR = os.path.join(REPO, "bindings", "python")


def pip_available() -> bool:
    try:
        return subprocess.run([sys.executable, "-m", "pip", "--version"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Packaging(unittest.TestCase):

    def test_versions_agree(self) -> None:
        with open(os.path.join(REPO, "include", "frame.h"), encoding="utf-8") as f:
            header = re.search(r'#define FRAME_VERSION_STRING "([^"]+)"', f.read()).group(1)
        with open(os.path.join(PKG_DIR, "pyproject.toml"), encoding="utf-8") as f:
            project = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
        self.assertEqual((libframe.__version__, project), (header, header))

    def test_backend_builds_wheel_and_sdist(self) -> None:
        sys.path.insert(0, PKG_DIR)
        try:
            import _build_backend as backend
        finally:
            sys.path.remove(PKG_DIR)
        with tempfile.TemporaryDirectory() as tmp:
            whl = backend.build_wheel(tmp)
            self.assertEqual(whl, "libframe-%s-%s.whl" % (libframe.__version__,
                                                          backend._platform_tag()))
            with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
                names = set(z.namelist())
                self.assertIn("libframe/__init__.py", names)
                self.assertIn("libframe/native.py", names)
                self.assertIn("libframe/py.typed", names)
                self.assertIn("libframe/_native.pyi", names)
                self.assertEqual([n for n in names if n.startswith("libframe/_native.")
                                  and not n.endswith(".pyi")],
                                 ["libframe/_native" + sysconfig.get_config_var("EXT_SUFFIX")])
                record = z.read("libframe-%s.dist-info/RECORD" % libframe.__version__).decode()
                self.assertEqual(len(record.splitlines()), len(names))
                self.assertIn("Root-Is-Purelib: false", z.read(
                    "libframe-%s.dist-info/WHEEL" % libframe.__version__).decode())
                self.assertFalse([n for n in names if "__pycache__" in n or "tests/" in n])
            sdist = backend.build_sdist(tmp)
            with tarfile.open(os.path.join(tmp, sdist)) as t:
                top = "libframe-%s/" % libframe.__version__
                members = set(t.getnames())
                for name in ("PKG-INFO", "pyproject.toml", "_build_backend.py",
                             "libframe/_scan.py", "tests/c_peer.c", "src/native.h", "src/decoder.c",
                             "csrc/include/frame.h", "csrc/lib/decode.c"):
                    self.assertIn(top + name, members)

    @unittest.skipIf(os.environ.get("LIBFRAME_SKIP_SLOW"), "LIBFRAME_SKIP_SLOW is set")
    def test_fresh_venv_install_offline_reports_the_extension(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            r = subprocess.run([sys.executable, "-m", "venv", venv], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=300)
            py = os.path.join(venv, "bin", "python")
            if r.returncode != 0 or not os.path.exists(py):
                self.skipTest("python -m venv does not work here: %r" % r.stdout[-500:])
            env = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "LIBFRAME_IMPL", "PYTHONHOME")}
            env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                       PYTHONDONTWRITEBYTECODE="1")
            r = subprocess.run([py, "-m", "pip", "install", "--no-index", "--no-build-isolation",
                                "--quiet", PKG_DIR], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, cwd=tmp, timeout=600)
            self.assertEqual(r.returncode, 0, r.stdout.decode("utf-8", "replace"))
            code = ("import libframe; f = libframe.encode({'a': 'é'}, b'x'); "
                    "print(libframe.IMPLEMENTATION, libframe.__file__, "
                    "next(libframe.Decoder().feed(f)).header['a'] == 'é')")
            r = subprocess.run([py, "-W", "error", "-c", code], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, cwd=tmp, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            impl, path, ok = r.stdout.split()
            self.assertEqual((impl, ok), (b"extension", b"True"))
            self.assertTrue(path.decode().startswith(venv), path)
        leftovers = [n for n in os.listdir(PKG_DIR) if n.endswith(".egg-info") or n == "build"]
        self.assertEqual(leftovers, [], "the build wrote into the source tree")
        self.assertEqual([n for n in os.listdir(os.path.join(PKG_DIR, "libframe"))
                          if n.startswith("_native.") and n.endswith(".so")], [])


if __name__ == "__main__":
    unittest.main()
