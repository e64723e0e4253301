#!/usr/bin/env python3
"""Measures what libframe costs on a target: code and data of each part of the
library, and the RAM of the structs the caller allocates.

    python3 tools/codesize.py --name cortex-m0 --cc arm-none-eabi-gcc \
        --cflags "-mcpu=cortex-m0 -mthumb -Os -ffreestanding" --build build/size/cortex-m0 \
        [--check-budget] [--json out.json]

Method: lib/*.c are compiled with -ffunction-sections -fdata-sections; for
each part (decoder, header access, encoder, the whole library) a link is made
that keeps only what the part's public functions reach (--gc-sections with
those functions as roots, the compiler's support library linked in, the C
library left out), and the linker map is read to add up the kept input
sections of lib/ (and, separately, of libgcc). mem*/str* functions come from
the C library and are not counted; they are listed. sizeof() of the caller's
structs is read from the assembly of a small file compiled for the target.

--check-budget fails (exit status 1) when the Cortex-M0 budget of issue 8 is
exceeded: whole library <= 6 KiB of .text (code; rodata, nearly all of it the
error descriptions, is reported apart), decoder <= 3 KiB, decoder state <= 64
bytes, no .data/.bss, no C library function beyond mem*/str*.
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

DECODER = ["frame_decoder_init", "frame_feed", "frame_finish", "frame_feed_datagram",
           "frame_decoder_resume", "frame_decoder_reset", "frame_decoder_errno",
           "frame_decoder_offset", "frame_decoder_frame_index", "frame_decoder_declared_size",
           "frame_decoder_limit", "frame_decoder_callback_code", "frame_decoder_needed"]
HEADER = ["frame_header_parse", "frame_value_find", "frame_value_next", "frame_value_int64",
          "frame_value_uint64", "frame_value_bool", "frame_value_is_null", "frame_value_string",
          "frame_value_string_equals", "frame_header_find", "frame_header_get_int64",
          "frame_header_get_uint64", "frame_header_get_bool", "frame_header_get_string"]
ENCODER = ["frame_builder_init", "frame_builder_add_string", "frame_builder_add_stringn",
           "frame_builder_add_int64", "frame_builder_add_uint64", "frame_builder_add_bool",
           "frame_builder_add_null", "frame_builder_add_raw", "frame_builder_finish",
           "frame_encoder_init", "frame_write", "frame_write_begin", "frame_write_body",
           "frame_write_end", "frame_encoder_resume", "frame_encoder_pending",
           "frame_encoder_write_result"]

STRUCTS = ["frame_decoder", "frame_builder", "frame_encoder", "frame_config", "frame_header",
           "frame_callbacks"]

# Issue 8's budget: 6 KiB of code for the whole library, 3 KiB and 64 B of
# state for the decoder. (The 1.1 API took the library to 6,216 B for a
# while, under a budget of 6 KiB + 96 B, until it was cut back under 6 KiB.)
BUDGET = {"library_code": 6 * 1024, "decoder_code": 3 * 1024, "decoder_state": 64}

ALLOWED_LIBC = re.compile(r"^(mem|str)[a-z]*$")


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, **kw)
    if p.returncode != 0:
        sys.stderr.write("$ %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        raise SystemExit("codesize: command failed")
    return p


def public_functions():
    text = open(os.path.join(ROOT, "include", "frame.h"), encoding="utf-8").read()
    return sorted(set(re.findall(r"FRAME_API\s[^;(]*?\b(frame_\w+)\s*\(", text)))


def compile_lib(cc, cflags, build):
    os.makedirs(build, exist_ok=True)
    objs = []
    for f in sorted(os.listdir(os.path.join(ROOT, "lib"))):
        if not f.endswith(".c"):
            continue
        obj = os.path.join(build, f[:-2] + ".o")
        extra = ["-fcallgraph-info=su"] if CALLGRAPH else []
        run(cc + cflags + extra + ["-ffunction-sections", "-fdata-sections",
                                   "-I" + os.path.join(ROOT, "include"),
                                   "-c", os.path.join(ROOT, "lib", f), "-o", obj], cwd=build)
        objs.append(obj)
    return objs


CALLGRAPH = True  # turned off when the compiler lacks -fcallgraph-info (clang)

NODE_RE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"\\]*\\n[^"\\]*\\n(\d+) bytes \(([a-z,]+)\)"')
EDGE_RE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def stack_usage(build, roots):
    """Worst-case stack of each root from GCC's -fcallgraph-info=su files:
    the deepest path through the library's own functions. Calls through a
    pointer (the application's callbacks and write function) are not
    followed; their own stack comes on top. Returns {root: bytes or None}."""
    frames, edges, bounded = {}, {}, True
    for f in os.listdir(build):
        if not f.endswith(".ci"):
            continue
        for line in open(os.path.join(build, f), encoding="utf-8", errors="replace"):
            m = NODE_RE.search(line)
            if m:
                frames[m.group(1)] = int(m.group(2))
                if m.group(3) not in ("static", "dynamic,bounded"):
                    bounded = False
                continue
            m = EDGE_RE.search(line)
            if m:
                edges.setdefault(m.group(1), []).append(m.group(2))
    # external references are by plain name; definitions of static functions
    # are "file:name"
    def resolve(name):
        return name if name in frames else None

    memo = {}

    def depth(n, path):
        if n in path:
            raise ValueError("recursion through " + n)
        if n in memo:
            return memo[n]
        best = 0
        for t in edges.get(n, []):
            r = resolve(t)
            if r is not None:
                best = max(best, depth(r, path | {n}))
        memo[n] = frames[n] + best
        return memo[n]

    out = {}
    for r in roots:
        try:
            out[r] = depth(r, frozenset()) if r in frames else None
        except ValueError:
            out[r] = None
    return out, bounded


SECTION_RE = re.compile(r"^ (\.\S+|COMMON)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
NAME_ONLY_RE = re.compile(r"^ (\.\S+|COMMON)\s*$")
CONT_RE = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")


def kind_of(section):
    if section.startswith(".text") or section.startswith(".glue") or section.startswith(".vfp11"):
        return "code"
    if section.startswith(".rodata"):
        return "rodata"
    if section.startswith(".data"):
        return "data"
    if section.startswith(".bss") or section == "COMMON" or section.startswith(".sbss"):
        return "bss"
    return None


def parse_map(path, lib_objs):
    """Sums kept input sections by kind, for lib objects and for the rest."""
    libset = {os.path.abspath(o) for o in lib_objs}
    sums = {"lib": {"code": 0, "rodata": 0, "data": 0, "bss": 0},
            "support": {"code": 0, "rodata": 0, "data": 0, "bss": 0}, "sections": []}
    in_map = False
    pending = None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Linker script and memory map"):
            in_map = True
            continue
        if not in_map:
            continue
        m = SECTION_RE.match(line)
        if m:
            sec, size, owner = m.group(1), int(m.group(3), 16), m.group(4).strip()
        else:
            m = NAME_ONLY_RE.match(line)
            if m:
                pending = m.group(1)
                continue
            m = CONT_RE.match(line)
            if not (m and pending):
                pending = None
                continue
            sec, size, owner = pending, int(m.group(2), 16), m.group(3).strip()
        pending = None
        kind = kind_of(sec)
        if kind is None or size == 0:
            continue
        obj = owner.split("(")[0]
        who = "lib" if os.path.abspath(obj) in libset else "support"
        sums[who][kind] += size
        sums["sections"].append((size, sec, os.path.basename(obj)))
    return sums


def link_part(cc, cflags, ldflags, build, objs, name, roots, host):
    out = os.path.join(build, "part-" + name)
    cmd = cc + cflags + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
                         "-Wl,--unresolved-symbols=ignore-all", "-Wl,-e," + roots[0],
                         "-Wl,-Map=" + out + ".map", "-o", out + ".elf"]
    if host:
        cmd += ["-static", "-no-pie"]
    for r in roots:
        cmd.append("-Wl,--undefined=" + r)
    cmd += objs + ldflags + ["-lgcc"]
    run(cmd)
    return parse_map(out + ".map", objs)


def struct_sizes(cc, cflags, build):
    src = os.path.join(build, "sizes.c")
    with open(src, "w") as f:
        f.write('#include "frame.h"\n')
        for s in STRUCTS:
            f.write("const unsigned long frame_sizeof_%s = sizeof(%s);\n" % (s, s))
    asm = os.path.join(build, "sizes.s")
    run(cc + cflags + ["-I" + os.path.join(ROOT, "include"), "-S", src, "-o", asm])
    text = open(asm).read()
    sizes = {}
    for s in STRUCTS:
        m = re.search(r"^_?frame_sizeof_%s:\s*\n(?:\s*\.[a-z].*\n)*?\s*\.(?:word|long|quad|4byte|8byte)\s+(\d+)"
                      % s, text, re.M)
        sizes[s] = int(m.group(1)) if m else None
    return sizes


def undefined_externals(nm, objs):
    p = run([nm, "-u"] + objs)
    names = set()
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            names.add(parts[1])
    return sorted(n for n in names if not n.startswith("frame_"))


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cflags", default="")
    ap.add_argument("--ldflags", default="")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--build", required=True)
    ap.add_argument("--host", action="store_true", help="link as a static host executable")
    ap.add_argument("--check-budget", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--detail", default=None, help="list the biggest sections of this part")
    args = ap.parse_args(argv)
    cc, cflags, ldflags = shlex.split(args.cc), shlex.split(args.cflags), shlex.split(args.ldflags)
    build = os.path.abspath(args.build)
    global CALLGRAPH
    probe = subprocess.run(cc + ["-fcallgraph-info=su", "-E", "-x", "c", "/dev/null", "-o", os.devnull],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    CALLGRAPH = probe.returncode == 0
    objs = compile_lib(cc, cflags, build)
    everything = public_functions()
    parts = [("decoder", DECODER), ("decoder+header", DECODER + HEADER), ("header", HEADER),
             ("encoder", ENCODER), ("library", everything)]
    result = {"target": args.name, "cflags": args.cflags, "parts": {}}
    for name, roots in parts:
        result["parts"][name] = link_part(cc, cflags, ldflags, build, objs, name, roots, args.host)
    result["sizeof"] = struct_sizes(cc, cflags, build)
    result["externals"] = undefined_externals(args.nm, objs)
    stack_roots = ["frame_feed", "frame_feed_datagram", "frame_finish", "frame_header_parse",
                   "frame_builder_add_raw", "frame_builder_add_string", "frame_write"]
    result["stack"], result["stack_bounded"] = stack_usage(build, stack_roots) if CALLGRAPH else ({}, None)

    print("== %s (%s)" % (args.name, args.cflags))
    print("  %-16s %7s %7s %6s %5s   %s" % ("part", "code", "rodata", "data", "bss", "+ compiler support (code+rodata)"))
    for name, _ in parts:
        s = result["parts"][name]
        print("  %-16s %7d %7d %6d %5d   %d" % (name, s["lib"]["code"], s["lib"]["rodata"], s["lib"]["data"],
                                             s["lib"]["bss"], s["support"]["code"] + s["support"]["rodata"]))
    if args.detail:
        secs = sorted(result["parts"][args.detail]["sections"], reverse=True)
        print("  biggest sections of %s:" % args.detail)
        for size, sec, obj in secs[:int(os.environ.get("CODESIZE_TOP", "15"))]:
            print("    %6d  %-40s %s" % (size, sec, obj))
    print("  RAM: " + ", ".join("sizeof(%s) %s" % (k, v) for k, v in result["sizeof"].items()))
    if result["stack"]:
        print("  stack (worst path in the library, callbacks not included): " +
              ", ".join("%s %s" % (k, v) for k, v in result["stack"].items()) +
              ("" if result["stack_bounded"] else " (some frames are dynamic)"))
    print("  external symbols: " + " ".join(result["externals"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)

    if args.check_budget:
        problems = []
        lib = result["parts"]["library"]["lib"]
        dec = result["parts"]["decoder"]["lib"]
        if lib["code"] > BUDGET["library_code"]:
            problems.append("whole library %d bytes of .text > %d" % (lib["code"], BUDGET["library_code"]))
        if dec["code"] > BUDGET["decoder_code"]:
            problems.append("decoder %d bytes of .text > %d" % (dec["code"], BUDGET["decoder_code"]))
        if (result["sizeof"]["frame_decoder"] or 0) > BUDGET["decoder_state"]:
            problems.append("sizeof(frame_decoder) %d > %d" % (result["sizeof"]["frame_decoder"], BUDGET["decoder_state"]))
        if lib["data"] or lib["bss"]:
            problems.append("the library has .data/.bss (%d/%d bytes): global state" % (lib["data"], lib["bss"]))
        libc = [n for n in result["externals"] if not ALLOWED_LIBC.match(n) and not n.startswith("__")]
        if libc:
            problems.append("C library functions beyond mem*/str*: " + " ".join(libc))
        for p in problems:
            print("  OVER BUDGET: " + p)
        if problems:
            return 1
        print("  within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
