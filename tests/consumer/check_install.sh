#!/bin/sh
# shellcheck disable=SC2015  # "[ a ] && [ b ] || fail" fails when either test is false
# `make test-consumer`: libframe as its users get it.
#  1. `make install PREFIX=<temporary prefix>`; the soname chain, the .pc file
#     and the header are checked;
#  2. tests/consumer/app.c is copied OUT of the tree and built with
#     `cc app.c $(pkg-config --cflags --libs libframe)` (pkg-config sees only
#     the temporary prefix), linked dynamically and statically, and run;
#  3. `make uninstall` leaves no file behind;
#  4. `make install DESTDIR=<stage> PREFIX=/usr/local` installs exactly the
#     expected files under the stage, with a .pc that does not mention the
#     stage, and `make uninstall` with the same variables removes them.
# Environment (set by mk/dist.mk): MAKE, CC, VERSION, SONAME.
set -eu

: "${MAKE:=make}" "${CC:=cc}"
[ -n "${VERSION:-}" ] && [ -n "${SONAME:-}" ] || { echo "check_install.sh: VERSION and SONAME must be set"; exit 2; }

root=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libframe-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
checks=0
fail() { echo "test-consumer: FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); }

# ---- 1. install into a temporary prefix ------------------------------------
prefix="$tmp/prefix"
$MAKE --no-print-directory -s install PREFIX="$prefix" >/dev/null
lib="$prefix/lib"
[ "$(readlink "$lib/libframe.so")" = "$SONAME" ] || fail "libframe.so does not point to $SONAME"; ok
[ "$(readlink "$lib/$SONAME")" = "libframe.so.$VERSION" ] || fail "$SONAME does not point to libframe.so.$VERSION"; ok
[ -f "$lib/libframe.so.$VERSION" ] && [ ! -L "$lib/libframe.so.$VERSION" ] || fail "libframe.so.$VERSION is not a file"; ok
readelf -d "$lib/libframe.so.$VERSION" | grep 'SONAME' | grep -q "\[$SONAME\]" || fail "SONAME is not $SONAME"; ok
[ -f "$lib/libframe.a" ] || fail "no libframe.a"; ok
cmp -s include/frame.h "$prefix/include/frame.h" || fail "installed frame.h differs from include/frame.h"; ok
# the installed shared library exports frame_* and nothing else
extra=$(nm -D --defined-only "$lib/libframe.so.$VERSION" | awk 'NF >= 3 { print $3 }' | grep -v '^frame_[a-z0-9]' || true)
[ -z "$extra" ] || fail "installed libframe.so exports: $extra"; ok

PKG_CONFIG_LIBDIR="$lib/pkgconfig"
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR 2>/dev/null || true
[ "$(pkg-config --modversion libframe)" = "$VERSION" ] || fail "pkg-config --modversion is not $VERSION"; ok
[ "$(pkg-config --variable=prefix libframe)" = "$prefix" ] || fail "pkg-config prefix"; ok

# ---- 2. a program outside the tree ------------------------------------------
mkdir "$tmp/app"
cp tests/consumer/app.c "$tmp/app/app.c"
cd "$tmp/app"
strict="-std=c99 -pedantic -Wall -Wextra -Werror"
# shellcheck disable=SC2046,SC2086
$CC $strict app.c $(pkg-config --cflags --libs libframe) -o app-dynamic || fail "dynamic build"
readelf -d app-dynamic | grep NEEDED | grep -q "\[$SONAME\]" || fail "app-dynamic does not need $SONAME"; ok
LD_LIBRARY_PATH="$lib" ldd ./app-dynamic | grep -q "$lib/$SONAME" || fail "app-dynamic does not load the installed $SONAME"; ok
out=$(LD_LIBRARY_PATH="$lib" ./app-dynamic) || fail "app-dynamic failed: $out"
[ "$out" = "ok $VERSION" ] || fail "app-dynamic printed: $out"; ok

# shellcheck disable=SC2046,SC2086
$CC $strict app.c $(pkg-config --cflags libframe) -Wl,-Bstatic $(pkg-config --libs --static libframe) \
    -Wl,-Bdynamic -o app-static || fail "static build"
if readelf -d app-static | grep NEEDED | grep -q libframe; then fail "app-static needs a shared libframe"; fi; ok
out=$(env -u LD_LIBRARY_PATH ./app-static) || fail "app-static failed: $out"
[ "$out" = "ok $VERSION" ] || fail "app-static printed: $out"; ok
# The POSIX helpers (frame_posix.h), from the same library.
cp "$root/tests/consumer/app_posix.c" .
# shellcheck disable=SC2046,SC2086
$CC $strict app_posix.c $(pkg-config --cflags --libs libframe) -o app-posix || fail "POSIX helpers build"
out=$(LD_LIBRARY_PATH="$lib" ./app-posix) || fail "app-posix failed: $out"
[ "$out" = "ok" ] || fail "app-posix printed: $out"; ok
cd "$root"

# ---- 3. uninstall -------------------------------------------------------------
$MAKE --no-print-directory -s uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "uninstall left: $left"; ok

# ---- 4. DESTDIR staging --------------------------------------------------------
stage="$tmp/stage"
$MAKE --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr/local >/dev/null
got=$(cd "$stage" && find . ! -type d | sort | tr '\n' ' ')
want="./usr/local/bin/frame ./usr/local/include/frame.h ./usr/local/include/frame_posix.h ./usr/local/lib/libframe.a ./usr/local/lib/libframe.so ./usr/local/lib/$SONAME ./usr/local/lib/libframe.so.$VERSION ./usr/local/lib/pkgconfig/libframe.pc ./usr/local/share/libframe/libframe.lua "
[ "$got" = "$want" ] || fail "DESTDIR install: got [$got], want [$want]"; ok
pc="$stage/usr/local/lib/pkgconfig/libframe.pc"
grep -qx 'prefix=/usr/local' "$pc" || fail "staged .pc: prefix is not /usr/local"; ok
if grep -q "$stage" "$pc"; then fail "staged .pc mentions DESTDIR"; fi; ok
grep -qx "Version: $VERSION" "$pc" || fail "staged .pc: Version"; ok
$MAKE --no-print-directory -s uninstall DESTDIR="$stage" PREFIX=/usr/local >/dev/null
left=$(find "$stage" ! -type d)
[ -z "$left" ] || fail "DESTDIR uninstall left: $left"; ok

echo "test-consumer: OK ($checks checks: install, pkg-config, dynamic and static link, uninstall, DESTDIR)"
