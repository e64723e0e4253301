#!/usr/bin/env python3
"""Writes a source tarball of the working tree, as a release would be:
libframe-X.Y.Z.tar.gz holding libframe-X.Y.Z/<every file git knows of or
would add>, for the FetchContent and Meson wrap consumer tests.

    tarball.py SRCDIR OUT.tar.gz

Files: `git ls-files --cached --others --exclude-standard` when SRCDIR is a
git checkout (uncommitted work included), else every file outside build*/.
The version comes from include/frame.h (FRAME_VERSION_MAJOR/MINOR/PATCH)."""
import gzip
import io
import os
import re
import subprocess
import sys
import tarfile


def version(src):
    text = open(os.path.join(src, "include", "frame.h")).read()
    parts = [re.search(r"^#define FRAME_VERSION_%s (\d+)$" % p, text, re.M) for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        sys.exit("tarball.py: no FRAME_VERSION_MAJOR/MINOR/PATCH in include/frame.h")
    return ".".join(m.group(1) for m in parts)


def files(src):
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout.decode()
        names = [n for n in out.split("\0") if n and os.path.isfile(os.path.join(src, n))]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for root, dirs, fs in os.walk(src):
            dirs[:] = [d for d in dirs if not (d.startswith("build") or d in (".git", "__pycache__"))]
            names += [os.path.relpath(os.path.join(root, f), src) for f in fs]
    return sorted(names)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    top = "libframe-" + version(src)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in files(src):
            path = os.path.join(src, name)
            info = tar.gettarinfo(path, arcname=top + "/" + name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    os.replace(tmp, out)
    print(out)


if __name__ == "__main__":
    main()
