#!/bin/sh
# shellcheck disable=SC2015  # "[ a ] && [ b ] || fail" fails when either test is false
# `make test-buildsys`: the Makefile, CMake and Meson must build the same
# libframe. Each installs into its own stage (DESTDIR, PREFIX=/usr/local,
# libdir lib); then, for each:
#   - the installed files: the same list (CMake adds lib/cmake/libframe/*,
#     which must hold libframeConfig.cmake and libframeConfigVersion.cmake),
#     the same headers, the same libframe.pc byte for byte;
#   - libframe.so.VERSION: soname SONAME, the chain libframe.so -> SONAME ->
#     libframe.so.VERSION, the same exported symbols (nm -D; frame_* only),
#     libframe.a the same global symbols;
#   - frame_version() and frame_version_number(), from a program linked
#     against that install: VERSION, and what the header says;
#   - bin/frame --version;
# and the Criterion suite built by CMake and run through ctest (a part of it:
# `make test-unit` runs all of it), Meson's test registered; BUILDSYS_FULL=1
# builds and runs the whole suite under both.
# Environment (from mk/buildsys.mk): MAKE, CC, VERSION, SONAME, BUILDSYS_DIR.
set -eu
TEST_NAME=test-buildsys
ROOT=$(pwd)
: "${MAKE:=make}" "${CC:=cc}"
[ -n "${VERSION:-}" ] && [ -n "${SONAME:-}" ] && [ -n "${BUILDSYS_DIR:-}" ] ||
    { echo "compare.sh: VERSION, SONAME and BUILDSYS_DIR must be set"; exit 2; }
# shellcheck source=tests/buildsys/common.sh
. "$ROOT/tests/buildsys/common.sh"
# shellcheck disable=SC2119  # no extra tools
need_tools

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libframe-buildsys.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
log=$tmp/log

# ---- three builds, three installs -------------------------------------------------
# shellcheck disable=SC2086  # $MAKE may hold options
run "$log" $MAKE --no-print-directory -s install DESTDIR="$tmp/make" PREFIX=/usr/local

cmake_libframe
[ "$(cd "$cmake_dir" && ctest -N | sed -n 's/^Total Tests: //p')" = 1 ] || fail "ctest -N: not 1 test"
# The whole suite is `make test-unit`'s; here a part of it shows that CTest runs it
# (all of it with BUILDSYS_FULL=1).
suite="ctest runs a part of the Criterion suite, meson registers it (BUILDSYS_FULL=1: all of it under both)"
if [ "${BUILDSYS_FULL:-0}" = 1 ]; then
    (cd "$cmake_dir" && run "$log" ctest --output-on-failure)
    suite="the whole Criterion suite passes under ctest and meson test"
else
    (cd "$cmake_dir" && run "$log" env CRITERION_TEST_PATTERN='builder/*' ctest --output-on-failure)
fi
run "$log" env DESTDIR="$tmp/cmake" cmake --install "$cmake_dir" --prefix /usr/local

meson_libframe
meson introspect --tests "$meson_dir" | grep -q '"name": "criterion"' || fail "meson: no test named criterion"
if [ "${BUILDSYS_FULL:-0}" = 1 ]; then
    run "$log" meson test -C "$meson_dir" --print-errorlogs
fi
run "$log" meson install -C "$meson_dir" --destdir "$tmp/meson" --quiet --no-rebuild

# ---- what each produced --------------------------------------------------------------
cmake_pkg="libframeConfig.cmake libframeConfigVersion.cmake libframeTargets.cmake"
for s in make cmake meson; do
    p=$tmp/$s/usr/local
    [ -d "$p" ] || fail "$s installed nothing under /usr/local"
    (cd "$p" && find . ! -type d | sort) > "$tmp/$s.files"
    if [ $s = cmake ]; then
        for f in $cmake_pkg; do grep -qx "./lib/cmake/libframe/$f" "$tmp/$s.files" || fail "cmake installed no $f"; done
        grep -v '^\./lib/cmake/libframe/' "$tmp/$s.files" > "$tmp/$s.files2"; mv "$tmp/$s.files2" "$tmp/$s.files"
    fi
    for h in frame.h frame_posix.h; do cmp -s "$ROOT/include/$h" "$p/include/$h" || fail "$s installed a different $h"; done
    [ "$(readlink "$p/lib/libframe.so")" = "$SONAME" ] || fail "$s: libframe.so does not point to $SONAME"
    [ "$(readlink "$p/lib/$SONAME")" = "libframe.so.$VERSION" ] || fail "$s: $SONAME does not point to libframe.so.$VERSION"
    so=$p/lib/libframe.so.$VERSION
    [ -f "$so" ] && [ ! -L "$so" ] || fail "$s: no file libframe.so.$VERSION"
    readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p' > "$tmp/$s.soname"
    [ "$(cat "$tmp/$s.soname")" = "$SONAME" ] || fail "$s: soname is $(cat "$tmp/$s.soname"), not $SONAME"
    nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/$s.exports"
    extra=$(grep -v '^frame_[a-z0-9]' "$tmp/$s.exports" || true)
    [ -z "$extra" ] || fail "$s: libframe.so exports non-API symbols: $extra"
    nm -g --defined-only "$p/lib/libframe.a" | awk 'NF >= 3 { print $3 }' | sort -u > "$tmp/$s.static"
    $CC -std=c99 -Wall -Werror "$ROOT/tests/buildsys/version.c" -I"$p/include" -L"$p/lib" -lframe -o "$tmp/version-$s" ||
        fail "$s: a program does not link against the installed libframe"
    LD_LIBRARY_PATH="$p/lib" ldd "$tmp/version-$s" | grep -q " $p/lib/$SONAME " || fail "$s: the program does not load $p/lib/$SONAME"
    LD_LIBRARY_PATH="$p/lib" "$tmp/version-$s" > "$tmp/$s.version" || fail "$s: frame_version() disagrees with frame.h: $(cat "$tmp/$s.version")"
    [ "$(cut -d' ' -f1 "$tmp/$s.version")" = "$VERSION" ] || fail "$s: frame_version() is $(cat "$tmp/$s.version"), not $VERSION"
    echo "no frame tool" > "$tmp/$s.tool"
    if [ -x "$p/bin/frame" ]; then
        LD_LIBRARY_PATH="$p/lib" "$p/bin/frame" --version > "$tmp/$s.tool" || fail "$s: frame --version failed"
    fi
done

for what in files soname exports static version tool; do
    for s in cmake meson; do
        cmp -s "$tmp/make.$what" "$tmp/$s.$what" || {
            echo "$TEST_NAME: make and $s differ in $what:"; diff "$tmp/make.$what" "$tmp/$s.$what" || true; exit 1; }
    done
done
for s in cmake meson; do
    cmp -s "$tmp/make/usr/local/lib/pkgconfig/libframe.pc" "$tmp/$s/usr/local/lib/pkgconfig/libframe.pc" || {
        echo "$TEST_NAME: make and $s wrote different libframe.pc files:"
        diff "$tmp/make/usr/local/lib/pkgconfig/libframe.pc" "$tmp/$s/usr/local/lib/pkgconfig/libframe.pc" || true; exit 1; }
done

echo "$TEST_NAME: OK: make, cmake and meson agree: soname $SONAME, $(wc -l < "$tmp/make.exports") exported frame_* symbols," \
     "frame_version() $(cat "$tmp/make.version"), $(wc -l < "$tmp/make.files") installed files (cmake: + lib/cmake/libframe/)," \
     "libframe.pc, $(cat "$tmp/make.tool"); $suite"
