#!/usr/bin/env python3
"""Generates the single-header distribution of libframe (stb style).

    python3 tools/amalgamate.py [--root DIR] [--out build/dist/frame.h]

Output layout:
    banner (what the file is, how to use it, the options)
    FRAME_STATIC block           (turns FRAME_API into `static`)
    include/frame.h              (declarations, always, behind FRAME_H)
    #ifdef FRAME_IMPLEMENTATION  (outside the header guard, once per TU)
      lib/internal.h             (private declarations; prototypes get FRAME__LINKAGE)
      lib/*.c in sorted order    (local #include "..." lines removed; a private
                                  header is inlined where it is first included)
    #endif

The sources stay the one source of truth: this script only concatenates and
marks internal prototypes. It refuses (exit status 1, with the file and the
name) sources that cannot share one translation unit: two lib/*.c files that
define the same file-scope static name or #define the same macro without
#undef-ing it first.

Python 3.8+, standard library only.
"""

import argparse
import os
import re
import sys

INCLUDE_LOCAL = re.compile(r'^\s*#\s*include\s*"([^"]+)"\s*(?://.*|/\*.*\*/\s*)?$')
VERSION_RE = re.compile(r'^#define FRAME_VERSION_STRING "([^"]+)"', re.M)

# Names every file may define for itself without clashing.
MACRO_ALLOW = set()


class AmalgamationError(Exception):
    pass


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def strip_comments_and_strings(text):
    """Blanks comments, string and character literals (keeps newlines), so
    that the simple scanners below see only code."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def preprocessor_lines(code_lines):
    """Indices of the lines that belong to preprocessor directives,
    continuation lines (after a trailing backslash) included."""
    pp = set()
    cont = False
    for idx, line in enumerate(code_lines):
        if cont or line.lstrip().startswith("#"):
            pp.add(idx)
            cont = line.rstrip().endswith("\\")
    return pp


def file_scope_statics(code):
    """Names of file-scope `static` functions and objects in C code that has
    had its comments and strings blanked."""
    names = []
    depth = 0
    stmt = []
    lines = code.split("\n")
    pp = preprocessor_lines(lines)
    for idx, line in enumerate(lines):
        if idx in pp:
            continue
        for ch in line + "\n":
            if depth == 0:
                stmt.append(ch)
            if ch == "{":
                if depth == 0:
                    names.extend(_static_name("".join(stmt)))
                    stmt = []
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    stmt = []
            elif ch == ";" and depth == 0:
                names.extend(_static_name("".join(stmt)))
                stmt = []
    return names


def _static_name(stmt):
    s = " ".join(stmt.split())
    if not re.match(r"^static\b", s):
        return []
    # function: the identifier right before the first '('
    m = re.match(r"^static\b[^(=]*?\b([A-Za-z_]\w*)\s*\(", s)
    if m and "=" not in s.split("(")[0]:
        return [m.group(1)]
    # object: identifier before '=' or '[' or ';' / '{' (first declarator only)
    m = re.match(r"^static\b(.*?)([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=|;|\{|$)", s)
    return [m.group(2)] if m else []


def macro_events(code):
    """(kind, name) for every #define / #undef in order."""
    ev = []
    for line in code.split("\n"):
        m = re.match(r"^\s*#\s*(define|undef)\s+([A-Za-z_]\w*)", line)
        if m:
            ev.append((m.group(1), m.group(2)))
    return ev


def check_one_unit(sources):
    """sources: list of (path, text). Raises AmalgamationError on names that
    would clash once the files share one translation unit."""
    problems = []
    seen_static = {}
    live_macros = {}
    for path, text in sources:
        code = strip_comments_and_strings(text)
        for name in file_scope_statics(code):
            if name in seen_static and seen_static[name] != path:
                problems.append("file-scope static '%s' defined in both %s and %s"
                                % (name, seen_static[name], path))
            seen_static.setdefault(name, path)
        for kind, name in macro_events(code):
            if kind == "undef":
                live_macros.pop(name, None)
            elif name in live_macros and live_macros[name] != path and name not in MACRO_ALLOW:
                problems.append("macro '%s' #defined in %s is #defined again in %s "
                                "(#undef it at the end of %s, or give it one home in a header)"
                                % (name, live_macros[name], path, live_macros[name]))
            else:
                live_macros[name] = path
    if problems:
        raise AmalgamationError("\n".join(problems))


def mark_internal_prototypes(text, path):
    """Prefixes every file-scope function prototype of a private header with
    FRAME__LINKAGE (empty, or `static` under FRAME_STATIC). A function declared
    static first keeps internal linkage at its definition in lib/*.c."""
    code = strip_comments_and_strings(text)
    lines = text.split("\n")
    code_lines = code.split("\n")
    depth = 0
    start = None  # line index where the current file-scope statement starts
    marks = []
    pp = preprocessor_lines(code_lines)
    for idx, cl in enumerate(code_lines):
        if idx in pp:
            continue
        for ch in cl:
            if depth == 0 and start is None and not ch.isspace():
                start = idx
            if ch in "{(":
                depth += 1
            elif ch in "})":
                depth -= 1
            elif ch == ";" and depth == 0:
                stmt = " ".join(" ".join(code_lines[start:idx + 1]).split())
                if (re.search(r"\b\w+\s*\(", stmt) and not re.match(r"^(typedef|static|extern)\b", stmt)
                        and not re.search(r"\bframe_(?!_)\w*\s*\(", stmt.split("(")[0] + "(")):
                    marks.append(start)
                start = None
        if depth == 0 and start is not None and cl.strip() in ("}", "};"):
            start = None
    for idx in marks:
        if not lines[idx].startswith(" ") and not lines[idx].startswith("\t"):
            lines[idx] = "FRAME__LINKAGE " + lines[idx]
        else:
            raise AmalgamationError("%s:%d: prototype must start at column 0" % (path, idx + 1))
    return "\n".join(lines)


class Amalgamator:
    def __init__(self, root):
        self.root = root
        self.public = os.path.join(root, "include", "frame.h")
        self.libdir = os.path.join(root, "lib")
        self.posixdir = os.path.join(root, "posix")
        self.posix_header = os.path.join(root, "include", "frame_posix.h")
        self.inlined = set()

    def rel(self, path):
        return os.path.relpath(path, self.root)

    def private_header(self, name, including):
        """Resolves #include "name" from a lib file: a lib/ header or frame.h."""
        if name in ("frame.h", "frame_posix.h"):
            return None  # the declarations are already above
        cand = os.path.join(os.path.dirname(including), name)
        if not os.path.isfile(cand):
            cand = os.path.join(self.libdir, name)  # posix/ uses lib/internal.h
        if not os.path.isfile(cand):
            raise AmalgamationError("%s: cannot find #include \"%s\"" % (self.rel(including), name))
        return os.path.normpath(cand)

    def expand(self, path):
        """Text of a lib file with local includes removed or inlined."""
        out = []
        text = read(path)
        if path.endswith(".h"):
            text = mark_internal_prototypes(text, self.rel(path))
        for line in text.split("\n"):
            m = INCLUDE_LOCAL.match(line)
            if not m:
                out.append(line)
                continue
            hdr = self.private_header(m.group(1), path)
            if hdr is None or hdr in self.inlined:
                continue
            self.inlined.add(hdr)
            out.append("/* ---- %s ---- */" % self.rel(hdr))
            out.append(self.expand(hdr).rstrip("\n"))
            out.append("/* ---- end of %s ---- */" % self.rel(hdr))
        return "\n".join(out)

    def run(self):
        public = read(self.public)
        m = VERSION_RE.search(public)
        if not m:
            raise AmalgamationError("include/frame.h: no FRAME_VERSION_STRING")
        version = m.group(1)
        if re.search(r'^\s*#\s*include\s*"', public, re.M):
            raise AmalgamationError("include/frame.h must not #include local files")
        sources = sorted(f for f in os.listdir(self.libdir) if f.endswith(".c"))
        if not sources:
            raise AmalgamationError("no lib/*.c files")
        paths = [os.path.join(self.libdir, f) for f in sources]
        posix = sorted(os.path.join(self.posixdir, f) for f in os.listdir(self.posixdir)
                       if f.endswith(".c")) if os.path.isdir(self.posixdir) else []
        check_one_unit([(self.rel(p), read(p)) for p in paths + posix])

        parts = [BANNER.replace("@VERSION@", version).rstrip("\n"), "",
                 STATIC_BLOCK.rstrip("\n"), "", public.rstrip("\n"), "",
                 IMPL_OPEN.rstrip("\n")]
        # internal.h first: the .c files may include it in any order.
        internal = os.path.join(self.libdir, "internal.h")
        if os.path.isfile(internal):
            self.inlined.add(os.path.normpath(internal))
            parts += ["", "/* ---- lib/internal.h ---- */", self.expand(internal).rstrip("\n")]
        for p in paths:
            parts += ["", "/* ---- %s ---- */" % self.rel(p), self.expand(p).rstrip("\n")]
        parts += ["", IMPL_CLOSE.rstrip("\n")]
        if posix:
            # The POSIX helpers: declarations and implementation behind
            # FRAME_POSIX, since they need more than the freestanding core.
            decl = read(self.posix_header)
            decl = "\n".join(l for l in decl.split("\n") if not INCLUDE_LOCAL.match(l))
            parts += ["", POSIX_OPEN.rstrip("\n"), "/* ---- include/frame_posix.h ---- */",
                      decl.rstrip("\n"), "", POSIX_IMPL_OPEN.rstrip("\n")]
            for p in posix:
                parts += ["", "/* ---- %s ---- */" % self.rel(p), self.expand(p).rstrip("\n")]
            parts += ["", POSIX_CLOSE.rstrip("\n")]
        parts += [""]
        return "\n".join(parts)


BANNER = """\
/*
 * frame.h -- libframe @VERSION@, single-header distribution.
 *
 * GENERATED by tools/amalgamate.py from include/frame.h, include/frame_posix.h
 * and the sources in lib/ and posix/; do not edit (change those files and run
 * `make dist`).
 *
 * Length-prefixed frames with a JSON header (see SPEC.md). Zero allocation, no
 * global state, nothing from the C library beyond mem* and str* functions.
 *
 * Use:
 *   In EXACTLY ONE .c file of your program, define FRAME_IMPLEMENTATION before
 *   including this file, so that the library is compiled there:
 *
 *       #define FRAME_IMPLEMENTATION
 *       #include "frame.h"
 *
 *   Every other file includes it without the define and gets the
 *   declarations only. Including it again in the same file is harmless.
 *
 * Options (define before the first #include of the file):
 *   FRAME_STATIC   this file gets its own private copy of the library: every
 *                  function (public and internal) is `static`, and
 *                  FRAME_IMPLEMENTATION is implied. Several files of one
 *                  program may each do this without clashing.
 *   FRAME_API      decoration of every public function (e.g. a dllexport
 *                  attribute); the same in every file; not with FRAME_STATIC.
 *   FRAME_POSIX    also the POSIX helpers of include/frame_posix.h
 *                  (frame_fd_read, frame_fd_write); compile the file with
 *                  FRAME_IMPLEMENTATION with POSIX visible (-std=gnu99, or
 *                  _POSIX_C_SOURCE 200809L before every #include).
 *
 * C++: the declarations are in extern "C"; the implementation also compiles
 * as C++11 or later.
 */"""

STATIC_BLOCK = """\
#ifndef FRAME_H
#ifdef FRAME_STATIC
#ifdef FRAME_API
#error "define FRAME_STATIC or FRAME_API, not both"
#endif
#ifndef FRAME_IMPLEMENTATION
#define FRAME_IMPLEMENTATION
#endif
#if defined(__GNUC__) || defined(__clang__)
#define FRAME_API static __attribute__((unused))
#else
#define FRAME_API static
#endif
#endif /* FRAME_STATIC */
#endif /* !FRAME_H */"""

IMPL_OPEN = """\
/* ======================================================================== */
/* Implementation                                                           */
/* ======================================================================== */
#if defined(FRAME_IMPLEMENTATION) && !defined(FRAME__IMPLEMENTATION_DONE)
#define FRAME__IMPLEMENTATION_DONE

/* Linkage of the library's internal functions (named frame__*). */
#ifndef FRAME__LINKAGE
#ifdef FRAME_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define FRAME__LINKAGE static __attribute__((unused))
#else
#define FRAME__LINKAGE static
#endif
#else
#define FRAME__LINKAGE
#endif
#endif"""

IMPL_CLOSE = """\
#endif /* FRAME_IMPLEMENTATION */"""

POSIX_OPEN = """\
/* ======================================================================== */
/* POSIX helpers (include/frame_posix.h), with FRAME_POSIX defined          */
/* ======================================================================== */
#ifdef FRAME_POSIX"""

POSIX_IMPL_OPEN = """\
#if defined(FRAME_IMPLEMENTATION) && !defined(FRAME__POSIX_DONE)
#define FRAME__POSIX_DONE"""

POSIX_CLOSE = """\
#endif /* FRAME_IMPLEMENTATION */
#endif /* FRAME_POSIX */"""


def self_test():
    """Checks the clash detection and the prototype marking on small inputs."""
    def clashes(*files):
        try:
            check_one_unit(list(files))
            return ""
        except AmalgamationError as e:
            return str(e)
    cases = [
        (clashes(("a.c", "static int frame__x(void) { return 1; }\n"),
                 ("b.c", "static int frame__x(void) { return 2; }\n")), "frame__x"),
        (clashes(("a.c", "static const int frame__tab[2] = {1, 2};\n"),
                 ("b.c", "static const char *frame__tab = \"x\";\n")), "frame__tab"),
        (clashes(("a.c", "#define FRAME__M 1\n"), ("b.c", "#define FRAME__M 2\n")), "FRAME__M"),
        (clashes(("a.c", "#define FRAME__M 1\n#undef FRAME__M\n"), ("b.c", "#define FRAME__M 2\n")), ""),
        (clashes(("a.c", "static int frame__a(void) {\n    static int n;\n    return n;\n}\n"),
                 ("b.c", "static int frame__b(void) {\n    static int n;\n    return n;\n}\n"
                         "/* static int frame__a(void) */\n")), ""),
        (clashes(("a.c", "#define FRAME__X(a) \\\n    static int frame__y(void)\n"),
                 ("b.c", "static int frame__y(void) { return 0; }\n")), ""),
    ]
    marked = mark_internal_prototypes(
        "#ifndef X\n#define X\ntypedef struct frame__s {\n    int (*f)(int);\n} frame__s;\n"
        "int frame__f(int a,\n              int b);\nstatic int frame__g(void);\n"
        "FRAME_API int frame_pub(void);\n#endif\n", "t.h")
    cases.append(("FRAME__LINKAGE int frame__f(int a," in marked, True))
    cases.append(("FRAME__LINKAGE static" in marked or "FRAME__LINKAGE typedef" in marked
                  or "FRAME__LINKAGE FRAME_API" in marked, False))
    failed = 0
    for i, (got, want) in enumerate(cases):
        ok = (want in got if want else got == "") if isinstance(want, str) else got == want
        if not ok:
            failed += 1
            sys.stderr.write("amalgamate self-test %d failed: got %r\n" % (i, got))
    print("amalgamate self-test: %d/%d passed" % (len(cases) - failed, len(cases)))
    return 1 if failed else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--out", default=None, help="output file (default: stdout)")
    args = ap.parse_args(argv)
    try:
        text = Amalgamator(os.path.abspath(args.root)).run()
    except AmalgamationError as e:
        sys.stderr.write("amalgamate: %s\n" % e)
        return 1
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
