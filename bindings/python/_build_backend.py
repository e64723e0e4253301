"""A tiny in-tree PEP 517 / PEP 660 build backend for the libframe package.

Why: `pip install ./bindings/python` must work offline with the standard
library only; setuptools cannot build wheels here without the `wheel` package.
This backend needs nothing but the standard library (Python 3.8+): it zips
libframe/ into a pure-Python wheel (py3-none-any) and tars the project into an
sdist. Metadata comes from the [project] table of pyproject.toml, read with a
small parser that understands the simple `key = "string"` lines written there
(tomllib only exists from Python 3.11).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "libframe"
# Files of the project that go into an sdist (besides the package).
SDIST_EXTRA = ("pyproject.toml", "README.md", "_build_backend.py", "bench_decode.py",
               "python.mk")


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
    return ("Wheel-Version: 1.0\nGenerator: libframe _build_backend\nRoot-Is-Purelib: true\n"
            "Tag: %s\n" % tag).encode("ascii")


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


def _write_wheel(wheel_directory: str, files: List[Tuple[str, bytes]]) -> str:
    name, version = _dist_name()
    dist_info = "%s-%s.dist-info" % (name, version)
    files = list(files) + [
        ("%s/METADATA" % dist_info, _metadata()),
        ("%s/WHEEL" % dist_info, _wheel_meta()),
        ("%s/top_level.txt" % dist_info, (PACKAGE + "\n").encode("ascii")),
    ]
    record = [_record_line(p, d) for p, d in files] + ["%s/RECORD,," % dist_info]
    files.append(("%s/RECORD" % dist_info, ("\n".join(record) + "\n").encode("utf-8")))
    filename = "%s-%s-py3-none-any.whl" % (name, version)
    os.makedirs(wheel_directory, exist_ok=True)
    stamp = _timestamp()
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.external_attr = 0o644 << 16
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


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: Optional[dict] = None) -> str:
    name, version = _dist_name()
    dist_info = "%s-%s.dist-info" % (name, version)
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for fname, data in (("METADATA", _metadata()), ("WHEEL", _wheel_meta()),
                        ("top_level.txt", (PACKAGE + "\n").encode("ascii"))):
        with open(os.path.join(target, fname), "wb") as f:
            f.write(data)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    files = []
    for rel, full in _package_files():
        with open(full, "rb") as f:
            files.append((rel, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """PEP 660: a wheel holding a .pth file that puts this directory on sys.path."""
    return _write_wheel(wheel_directory, [("_libframe_editable.pth",
                                           (ROOT + "\n").encode("utf-8"))])


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
        with open(full, "rb") as f:
            members.append((rel, f.read()))
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
