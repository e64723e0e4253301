#!/bin/sh
# shellcheck disable=SC2015  # "[ a ] && [ b ] || fail" fails when either test is false
# `make test-single-header`, first part: a program that vendors ONLY the
# generated single header (build/dist/frame.h), copied out of the tree.
#  - two translation units, one with FRAME_IMPLEMENTATION (which includes the
#    header three times); the other holds no definition of any frame_ symbol;
#  - FRAME_STATIC: two files with their own static copy link into one program
#    and export no frame_ symbol;
# all compiled with the project's warnings and -Werror.
# Environment (set by mk/dist.mk): DIST_HDR, CC, WARN.
set -eu

[ -n "${DIST_HDR:-}" ] && [ -f "$DIST_HDR" ] || { echo "check_single_header.sh: DIST_HDR missing"; exit 2; }
: "${CC:=cc}" "${WARN:=-std=c99 -pedantic -Wall -Wextra}"

root=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libframe-vendor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
checks=0
fail() { echo "test-single-header: FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); }

cp "$DIST_HDR" "$tmp/frame.h"
for f in vendor_main.c vendor_impl.c static_a.c static_b.c static_main.c; do
    cp "tests/consumer/$f" "$tmp/$f"
done
cd "$tmp"

# the header is self-contained: nothing it includes comes from the tree
grep -q '^#[[:space:]]*include[[:space:]]*"' frame.h && fail "frame.h includes a local file"; ok

# shellcheck disable=SC2086
for f in vendor_main.c vendor_impl.c static_a.c static_b.c static_main.c; do
    $CC $WARN -Werror -O2 -c "$f" -o "${f%.c}.o" || fail "compiling $f"
done
ok

# the file without FRAME_IMPLEMENTATION defines nothing of libframe
defs=$(nm --defined-only vendor_main.o | awk '{ print $3 }' | grep '^frame_' || true)
[ -z "$defs" ] || fail "vendor_main.o defines: $defs"; ok
# the implementation file defines the whole API
# (the core without FRAME_POSIX; with it, the POSIX helpers too)
n=$(nm --defined-only vendor_impl.o | awk '$2 == "T" { print $3 }' | grep -c '^frame_[a-z]' || true)
want=$(sed '/^#ifdef FRAME_POSIX$/,$d' frame.h | sed -n 's/^FRAME_API[^(]*[ *]\(frame_[a-z0-9_]*\)(.*/\1/p' | sort -u | wc -l)
[ "$n" -eq "$want" ] || fail "vendor_impl.o defines $n public functions, frame.h declares $want"; ok
# shellcheck disable=SC2086
$CC $WARN -Werror -O2 -D_POSIX_C_SOURCE=200809L -DFRAME_POSIX -c vendor_impl.c -o vendor_posix.o || fail "compiling with FRAME_POSIX"
n=$(nm --defined-only vendor_posix.o | awk '$2 == "T" { print $3 }' | grep -c '^frame_[a-z]' || true)
want=$(sed -n 's/^FRAME_API[^(]*[ *]\(frame_[a-z0-9_]*\)(.*/\1/p' frame.h | sort -u | wc -l)
[ "$n" -eq "$want" ] || fail "with FRAME_POSIX, vendor_impl.o defines $n public functions, frame.h declares $want"; ok

$CC vendor_main.o vendor_impl.o -o vendored || fail "linking the vendored program"
out=$(./vendored) || fail "vendored program failed"
case "$out" in "ok "*) ok ;; *) fail "vendored program printed: $out" ;; esac

# FRAME_STATIC: private copies, no global frame_ symbol, no clash
globals=$(nm static_a.o static_b.o | awk 'NF == 3 && $2 ~ /^[A-Z]$/ && $2 != "U" { print $3 }' | grep '^frame_' || true)
[ -z "$globals" ] || fail "FRAME_STATIC objects export: $globals"; ok
$CC static_main.o static_a.o static_b.o -o static-copies || fail "linking two FRAME_STATIC copies"
[ "$(./static-copies)" = "ok" ] || fail "FRAME_STATIC program"; ok

cd "$root"
echo "test-single-header: vendored header OK ($checks checks: two TUs, FRAME_STATIC twice in one program)"
