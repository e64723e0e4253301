#!/usr/bin/env python3
"""The build-system snippets of docs/DISTRIBUTION.md and README.md, as files.

    snippets.py OUTDIR DOC [DOC...]

In a document, a fenced block right after `<!-- tested: PATH -->` is written,
as it stands, to OUTDIR/PATH (PATH like cmake-find-package/CMakeLists.txt);
`make test-buildsys-consumers` then builds and runs those projects. A block
after `<!-- tested excerpt: PATH -->` (README.md's short forms) must consist
of lines of that file (trailing `# comments` and indentation aside), so the
short form cannot drift from the tested one. Fails when there is nothing to
extract, when a PATH is given twice, or when an excerpt does not match."""
import os
import re
import sys

BLOCK = re.compile(r"<!-- tested( excerpt)?: (\S+) -->\n```[A-Za-z0-9_+-]*\n(.*?)^```", re.S | re.M)


def norm(line):
    return re.sub(r"\s+#.*$", "", line).strip()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, docs = sys.argv[1], sys.argv[2:]
    files, excerpts = {}, []
    for doc in docs:
        text = open(doc).read()
        marks = len(re.findall(r"<!-- tested", text))
        found = BLOCK.findall(text)
        if marks != len(found):
            sys.exit("snippets.py: %s: %d markers but %d blocks after them" % (doc, marks, len(found)))
        for excerpt, path, body in found:
            if excerpt:
                excerpts.append((doc, path, body))
            elif path in files:
                sys.exit("snippets.py: %s: %s given twice" % (doc, path))
            else:
                files[path] = body
    if not files:
        sys.exit("snippets.py: no <!-- tested: PATH --> blocks in " + " ".join(docs))
    for path, body in sorted(files.items()):
        dest = os.path.join(out, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w") as f:
            f.write(body)
    for doc, path, body in excerpts:
        if path not in files:
            sys.exit("snippets.py: %s: excerpt of %s, which no document shows in full" % (doc, path))
        have = {norm(l) for l in files[path].splitlines()}
        for line in body.splitlines():
            if norm(line) and norm(line) not in have:
                sys.exit("snippets.py: %s: line %r is not in the tested %s" % (doc, line, path))
    print("snippets.py: %d files, %d excerpts checked" % (len(files), len(excerpts)))


if __name__ == "__main__":
    main()
