"""A tiny in-tree PEP 517 / PEP 660 build backend for the libframe package.

Why: `pip install ./bindings/python` must work offline with the standard
library only; setuptools cannot build wheels here without the `wheel` package.
This backend needs nothing but the standard library (Python 3.8+) and a C
compiler: it compiles the extension libframe._native from src/*.c and
libframe's C sources (../../lib/*.c and ../../include in the repository, or
the copies under csrc/ in an sdist) with the compiler Python was built with,
and zips it with libframe/ into a wheel for this interpreter and platform.

If the extension cannot be compiled (no compiler, no Python headers: Debian
`apt-get install gcc python3-dev`), the build says why on stderr and makes a
pure-Python wheel (py3-none-any), whose `import libframe` warns and runs the
pure implementation; LIBFRAME_REQUIRE_EXTENSION=1 makes that an error.

Metadata comes from the [project] table of pyproject.toml, read with a small
parser that understands the simple `key = "string"` lines written there
(tomllib only exists from Python 3.11).
"""

import base64
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "libframe"
# Files of the project that go into an sdist (besides the package).
SDIST_EXTRA = ("pyproject.toml", "README.md", "_build_backend.py", "bench_python.py",
               "python.mk") + tuple(
    "src/" + f for f in sorted(os.listdir(os.path.join(ROOT, "src"))) if f.endswith((".c", ".h")))
EXT_NAME = "_native"


def _is_compiled(rel: str) -> bool:
    """A compiled extension left in the package by an editable install."""
    name = os.path.basename(rel)
    return name.startswith(EXT_NAME + ".") and name.endswith((".so", ".pyd"))


def _c_sources() -> Tuple[str, str]:
    """(directory of libframe's .c files, directory of frame.h): the
    repository's lib/ and include/, or the copies an sdist carries."""
    for lib, inc in ((os.path.join(ROOT, "..", "..", "lib"), os.path.join(ROOT, "..", "..", "include")),
                     (os.path.join(ROOT, "csrc", "lib"), os.path.join(ROOT, "csrc", "include"))):
        if os.path.exists(os.path.join(inc, "frame.h")) and os.path.isdir(lib):
            return os.path.normpath(lib), os.path.normpath(inc)
    raise RuntimeError("libframe's C sources not found (lib/ and include/ next to bindings/, "
                       "or csrc/ in an sdist)")


def build_extension(out_dir: str) -> str:
    """Compiles libframe/_native<EXT_SUFFIX> into out_dir; returns its path.
    Raises RuntimeError with the compiler's output when it fails."""
    lib, inc = _c_sources()
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise RuntimeError("Python.h is not in %s: install the Python headers "
                           "(Debian: apt-get install python3-dev)" % include)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = os.path.join(out_dir, EXT_NAME + suffix)
    src = os.path.join(ROOT, "src")
    sources = sorted(os.path.join(src, f) for f in os.listdir(src) if f.endswith(".c")) + sorted(
        os.path.join(lib, f) for f in os.listdir(lib) if f.endswith(".c"))
    cmd = cc + ["-std=c99", "-O2", "-fPIC", "-fvisibility=hidden", "-shared",
                "-I" + include, "-I" + inc, "-I" + src, "-o", target] + sources
    os.makedirs(out_dir, exist_ok=True)
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    except OSError as e:
        raise RuntimeError("cannot run the C compiler %s: %s" % (cc[0], e)) from None
    if r.returncode != 0:
        raise RuntimeError("compiling the extension failed:\n%s\n%s" % (
            " ".join(cmd), r.stdout.decode("utf-8", "replace")))
    return target


def _platform_tag() -> str:
    """cpXY-cpXY-<platform> for this interpreter (the extension's ABI)."""
    impl = "cp%d%d" % sys.version_info[:2]
    plat = re.sub(r"[-.]", "_", sysconfig.get_platform())
    return "%s-%s-%s" % (impl, impl, plat)


def _project() -> Dict[str, str]:
    """The string values of [project] in pyproject.toml."""
    out: Dict[str, str] = {}
    section = None
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            m = re.match(r"^\[([^\]]+)\]$", line)
            if m:
                section = m.group(1).strip()
                continue
            m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*"([^"\\]*)"\s*(#.*)?$', line)
            if m and section == "project":
                out[m.group(1)] = m.group(2)
    for key in ("name", "version"):
        if key not in out:
            raise RuntimeError("pyproject.toml [project] has no %s" % key)
    return out


def _dist_name() -> Tuple[str, str]:
    p = _project()
    return re.sub(r"[-_.]+", "_", p["name"]), p["version"]


def _metadata() -> bytes:
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % p["version"]]
    if "description" in p:
        lines.append("Summary: %s" % p["description"])
    if "requires-python" in p:
        lines.append("Requires-Python: %s" % p["requires-python"])
    if "license" in p:
        lines.append("License: %s" % p["license"])
    lines.append("Description-Content-Type: text/markdown")
    text = "\n".join(lines) + "\n\n"
    readme = os.path.join(ROOT, "README.md")
    if os.path.exists(readme):
        with open(readme, encoding="utf-8") as f:
            text += f.read()
    return text.encode("utf-8")


def _wheel_meta(tag: str = "py3-none-any") -> bytes:
    return ("Wheel-Version: 1.0\nGenerator: libframe _build_backend\nRoot-Is-Purelib: %s\n"
            "Tag: %s\n" % ("true" if tag == "py3-none-any" else "false", tag)).encode("ascii")


def _package_files() -> List[Tuple[str, str]]:
    """(path in the archive, path on disk) of the package's files."""
    out = []
    base = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, ROOT).replace(os.sep, "/")
            out.append((rel, full))
    return out


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (path, digest, len(data))


def _write_wheel(wheel_directory: str, files: List[Tuple[str, bytes]],
                 tag: str = "py3-none-any") -> str:
    name, version = _dist_name()
    dist_info = "%s-%s.dist-info" % (name, version)
    files = list(files) + [
        ("%s/METADATA" % dist_info, _metadata()),
        ("%s/WHEEL" % dist_info, _wheel_meta(tag)),
        ("%s/top_level.txt" % dist_info, (PACKAGE + "\n").encode("ascii")),
    ]
    record = [_record_line(p, d) for p, d in files] + ["%s/RECORD,," % dist_info]
    files.append(("%s/RECORD" % dist_info, ("\n".join(record) + "\n").encode("utf-8")))
    filename = "%s-%s-%s.whl" % (name, version, tag)
    os.makedirs(wheel_directory, exist_ok=True)
    stamp = _timestamp()
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = (0o755 if path.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return filename


def _timestamp() -> Tuple[int, int, int, int, int, int]:
    # Reproducible archives: SOURCE_DATE_EPOCH if set, else a fixed date.
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    t = time.gmtime(max(epoch, 315532800))
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


# --- PEP 517 hooks ------------------------------------------------------------

def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[dict] = None) -> List[str]:
    return []


def _extension_or_none(out_dir: str) -> Optional[str]:
    """Builds the extension; on failure says why on stderr and returns None
    (or raises, with LIBFRAME_REQUIRE_EXTENSION=1)."""
    try:
        return build_extension(out_dir)
    except RuntimeError as e:
        if os.environ.get("LIBFRAME_REQUIRE_EXTENSION") == "1":
            raise
        sys.stderr.write("libframe: building the C extension failed, the wheel holds the "
                         "pure-Python implementation only (slower; import libframe warns).\n"
                         "%s\n" % e)
        return None


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    files = []
    for rel, full in _package_files():
        if _is_compiled(rel):
            continue  # a stale in-place build (editable install)
        with open(full, "rb") as f:
            files.append((rel, f.read()))
    tag = "py3-none-any"
    tmp = tempfile.mkdtemp(prefix="libframe-build-")
    try:
        ext = _extension_or_none(tmp)
        if ext is not None:
            with open(ext, "rb") as f:
                files.append((PACKAGE + "/" + os.path.basename(ext), f.read()))
            tag = _platform_tag()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _write_wheel(wheel_directory, files, tag)


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """PEP 660: a wheel holding a .pth file that puts this directory on sys.path;
    the extension is compiled into libframe/ here (in place)."""
    ext = _extension_or_none(os.path.join(ROOT, PACKAGE))
    tag = _platform_tag() if ext is not None else "py3-none-any"
    return _write_wheel(wheel_directory, [("_libframe_editable.pth",
                                           (ROOT + "\n").encode("utf-8"))], tag)


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    name, version = _dist_name()
    top = "%s-%s" % (name, version)
    filename = top + ".tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    members: List[Tuple[str, bytes]] = [("PKG-INFO", _metadata())]
    for rel in SDIST_EXTRA:
        path = os.path.join(ROOT, rel)
        if os.path.exists(path):
            with open(path, "rb") as f:
                members.append((rel, f.read()))
    for rel, full in _package_files():
        if _is_compiled(rel):
            continue
        with open(full, "rb") as f:
            members.append((rel, f.read()))
    lib, inc = _c_sources()  # the C library goes along, for building anywhere
    for d, sub in ((lib, "lib"), (inc, "include")):
        for fname in sorted(os.listdir(d)):
            if fname.endswith((".c", ".h")):
                with open(os.path.join(d, fname), "rb") as f:
                    members.append(("csrc/%s/%s" % (sub, fname), f.read()))
    tests = os.path.join(ROOT, "tests")
    if os.path.isdir(tests):
        for fname in sorted(os.listdir(tests)):
            if fname.endswith((".py", ".c")):
                with open(os.path.join(tests, fname), "rb") as f:
                    members.append(("tests/" + fname, f.read()))
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz",
                      format=tarfile.PAX_FORMAT) as tar:
        for rel, data in members:
            info = tarfile.TarInfo("%s/%s" % (top, rel))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = mtime
            tar.addfile(info, io.BytesIO(data))
    return filename
