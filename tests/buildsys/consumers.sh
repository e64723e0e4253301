#!/bin/sh
# shellcheck disable=SC2015  # "[ a ] && [ b ] || fail" fails when either test is false
# `make test-buildsys-consumers`: libframe used the ways CMake and Meson users
# use it. Each consumer is a project made in a temporary directory, outside
# the tree, from the files that docs/DISTRIBUTION.md shows (extracted by
# snippets.py, README.md's short forms checked against them) plus a C program
# (tests/consumer/app.c, as app.c) and a C++ one (tests/consumer/cxx_app.cpp,
# as app.cpp); its build.sh, as the document shows it, builds both and runs
# them, and each must print "ok VERSION". Then, for each:
#   cmake-find-package  against `cmake --install` in a temporary prefix
#                       (CMAKE_PREFIX_PATH); app uses libframe.so.1 from that
#                       prefix, app_cxx is static; libframeConfigVersion.cmake
#                       accepts 1.0 and 1.x, refuses 2.0 and 0.9
#   cmake-subdirectory  libframe's tree as third_party/libframe; its tests,
#                       tool and install rules stay off
#   cmake-fetchcontent  a source tarball (tests/buildsys/tarball.py) by path
#   meson-pkgconfig     dependency('libframe') found through the libframe.pc
#                       of `make install` in a temporary prefix
#   meson-wrap          the same meson.build with subprojects/libframe.wrap
#                       (the tarball in subprojects/packagecache), no pkg-config
#   meson-subproject    the same with libframe's tree as subprojects/libframe
# Environment (from mk/buildsys.mk): MAKE, CC, PYTHON, VERSION, SONAME, BUILDSYS_DIR.
set -eu
TEST_NAME=test-buildsys-consumers
ROOT=$(pwd)
: "${MAKE:=make}" "${CC:=cc}" "${PYTHON:=python3}"
[ -n "${VERSION:-}" ] && [ -n "${SONAME:-}" ] && [ -n "${BUILDSYS_DIR:-}" ] ||
    { echo "consumers.sh: VERSION, SONAME and BUILDSYS_DIR must be set"; exit 2; }
# shellcheck source=tests/buildsys/common.sh
. "$ROOT/tests/buildsys/common.sh"
need_tools c++

tmp=$(mktemp -d "${TMPDIR:-/tmp}/libframe-consumers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
log=$tmp/log
results=""
passed() { results="$results
  $1: OK ($2)"; }

doc=$tmp/doc
run "$log" "$PYTHON" "$ROOT/tests/buildsys/snippets.py" "$doc" "$ROOT/docs/DISTRIBUTION.md" "$ROOT/README.md"
tarball=$tmp/libframe-$VERSION.tar.gz
run "$log" "$PYTHON" "$ROOT/tests/buildsys/tarball.py" "$ROOT" "$tarball"

# The builds of the consumer projects: Ninja, two jobs (the documented
# commands stay as written: these only choose the generator and -j).
CMAKE_GENERATOR=Ninja CMAKE_BUILD_PARALLEL_LEVEL=2
export CMAKE_GENERATOR CMAKE_BUILD_PARALLEL_LEVEL
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR CMAKE_PREFIX_PATH 2>/dev/null || true
nopc=$tmp/no-pkgconfig; mkdir -p "$nopc"

# new_project NAME SNIPPET-DIR: $tmp/NAME from the document's files, app.c, app.cpp
new_project() {
    [ -d "$doc/$2" ] || fail "docs/DISTRIBUTION.md shows no $2/"
    cp -R "$doc/$2" "$tmp/$1"
    cp "$ROOT/tests/consumer/app.c" "$tmp/$1/app.c"
    cp "$ROOT/tests/consumer/cxx_app.cpp" "$tmp/$1/app.cpp"
    proj=$tmp/$1
}

# build_and_run NAME [VAR=VALUE...]: the document's build.sh, in the project;
# both programs must print "ok VERSION".
build_and_run() {
    name=$1; shift
    if ! (cd "$proj" && env "$@" sh ./build.sh > "$tmp/$name.out" 2> "$tmp/$name.err"); then
        echo "$TEST_NAME: FAIL: $name: build.sh failed"; tail -n 40 "$tmp/$name.out" "$tmp/$name.err"; exit 1
    fi
    got=$(grep '^ok ' "$tmp/$name.out" | tr '\n' ' ')
    [ "$got" = "ok $VERSION ok $VERSION " ] || { cat "$tmp/$name.out" "$tmp/$name.err"; fail "$name: the programs printed [$got]"; }
}

# needs PROGRAM yes|no: whether PROGRAM needs the shared libframe
needs() {
    if readelf -d "$1" | grep NEEDED | grep -q "\[$SONAME\]"; then n=yes; else n=no; fi
    [ "$n" = "$2" ] || fail "$1: needs $SONAME: $n, expected $2"
}

# ---- CMake: find_package, against `cmake --install` ------------------------------------
cmake_libframe
cprefix=$tmp/cmake-prefix
run "$log" cmake --install "$cmake_dir" --prefix "$cprefix"
# configured for /usr/local: libframe.pc is written for the prefix given at install time
grep -qx "prefix=$cprefix" "$cprefix/lib/pkgconfig/libframe.pc" || fail "cmake --install --prefix: libframe.pc has another prefix"
new_project cmake-find-package cmake-find-package
build_and_run cmake-find-package PREFIX="$cprefix"
needs "$proj/build/app" yes; needs "$proj/build/app_cxx" no
ldd "$proj/build/app" | grep -q " $cprefix/lib/$SONAME " || fail "find_package: app does not load $cprefix/lib/$SONAME"
for v in 1.0:TRUE 1.$(echo "$VERSION" | cut -d. -f2):TRUE 2.0:FALSE 0.9:FALSE; do
    # shellcheck disable=SC2016  # ${...} is CMake's
    printf 'set(PACKAGE_FIND_VERSION %s)\nstring(REPLACE . ";" _v "%s")\nlist(GET _v 0 PACKAGE_FIND_VERSION_MAJOR)\nlist(GET _v 1 PACKAGE_FIND_VERSION_MINOR)\nset(PACKAGE_FIND_VERSION_PATCH 0)\nset(PACKAGE_FIND_VERSION_COUNT 2)\ninclude("%s")\nmessage("${PACKAGE_VERSION_COMPATIBLE}")\n' \
        "${v%:*}" "${v%:*}" "$cprefix/lib/cmake/libframe/libframeConfigVersion.cmake" > "$tmp/cv.cmake"
    got=$(cmake -P "$tmp/cv.cmake" 2>&1)
    [ "$got" = "${v#*:}" ] || fail "libframeConfigVersion.cmake: find_package(libframe ${v%:*}) compatible = $got, expected ${v#*:}"
done
passed "CMake find_package(libframe CONFIG)" "C app on libframe::frame (shared, from the prefix), C++ app on libframe::frame_static; 1.0 and 1.x accepted, 2.0 and 0.9 refused"

# ---- CMake: add_subdirectory --------------------------------------------------------------------
new_project cmake-subdirectory cmake-subdirectory
mkdir -p "$proj/third_party"
ln -s "$ROOT" "$proj/third_party/libframe"
build_and_run cmake-subdirectory
needs "$proj/build/app" no; needs "$proj/build/app_cxx" yes
sub=$proj/build/third_party/libframe
[ -f "$sub/libframe.a" ] || fail "add_subdirectory: no libframe.a in $sub"
[ ! -e "$sub/frame" ] && [ ! -e "$sub/run_tests" ] || fail "add_subdirectory: the tool or the tests were built in a subproject"
if grep -q 'frame\.h\|libframe\.pc' "$sub/cmake_install.cmake" 2>/dev/null; then fail "add_subdirectory: libframe's install rules are on"; fi
passed "CMake add_subdirectory()" "C app on libframe::frame_static, C++ app on libframe::frame (shared); no tests, tool or install rules"

# ---- CMake: FetchContent from a tarball ----------------------------------------------------------
new_project cmake-fetchcontent cmake-fetchcontent
grep -q "/path/to/libframe-$VERSION.tar.gz" "$proj/CMakeLists.txt" || fail "FetchContent snippet: no /path/to/libframe-$VERSION.tar.gz (version in the doc?)"
sed "s|/path/to/libframe-$VERSION.tar.gz|$tarball|" "$proj/CMakeLists.txt" > "$proj/CMakeLists.txt.new"
mv "$proj/CMakeLists.txt.new" "$proj/CMakeLists.txt"
build_and_run cmake-fetchcontent
needs "$proj/build/app" no; needs "$proj/build/app_cxx" yes
[ -f "$proj/build/_deps/libframe-src/include/frame.h" ] || fail "FetchContent: the tarball was not unpacked in _deps/"
passed "CMake FetchContent (URL of a local tarball)" "C app static, C++ app shared"

# ---- Meson: dependency() through pkg-config (make install) --------------------------------------
mprefix=$tmp/make-prefix
# shellcheck disable=SC2086  # $MAKE may hold options
run "$log" $MAKE --no-print-directory -s install PREFIX="$mprefix"
new_project meson-pkgconfig meson
rm -rf "$proj/subprojects"
build_and_run meson-pkgconfig PKG_CONFIG_PATH="$mprefix/lib/pkgconfig" LD_LIBRARY_PATH="$mprefix/lib"
grep -q "Run-time dependency libframe found: YES $VERSION" "$tmp/meson-pkgconfig.out" || fail "meson-pkgconfig: libframe not found through pkg-config"
needs "$proj/build/app" yes
LD_LIBRARY_PATH="$mprefix/lib" ldd "$proj/build/app" | grep -q " $mprefix/lib/$SONAME " || fail "meson-pkgconfig: app does not load $mprefix/lib/$SONAME"
passed "Meson dependency('libframe') through pkg-config" "C and C++ apps on the libframe.pc of make install"

# ---- Meson: the wrap file (tarball in the package cache) -----------------------------------------
new_project meson-wrap meson
wrap=$proj/subprojects/libframe.wrap
[ -f "$wrap" ] || fail "docs/DISTRIBUTION.md shows no meson/subprojects/libframe.wrap"
grep -qx "directory = libframe-$VERSION" "$wrap" || fail "libframe.wrap: directory is not libframe-$VERSION"
sum=$(sha256sum "$tarball" | cut -d' ' -f1)
sed "s/^source_hash = .*/source_hash = $sum/" "$wrap" > "$wrap.new" && mv "$wrap.new" "$wrap"
mkdir -p "$proj/subprojects/packagecache"
cp "$tarball" "$proj/subprojects/packagecache/$(sed -n 's/^source_filename = //p' "$wrap")"
build_and_run meson-wrap PKG_CONFIG_LIBDIR="$nopc"
grep -q "Dependency libframe found: YES $VERSION (overridden)" "$tmp/meson-wrap.out" || fail "meson-wrap: libframe_dep did not come from the wrap"
[ -f "$proj/subprojects/libframe-$VERSION/meson.build" ] || fail "meson-wrap: the tarball was not unpacked"
passed "Meson subproject through subprojects/libframe.wrap" "C and C++ apps; override_dependency('libframe')"

# ---- Meson: libframe's tree as subprojects/libframe ---------------------------------------------
new_project meson-subproject meson
rm -f "$proj/subprojects/libframe.wrap"
ln -s "$ROOT" "$proj/subprojects/libframe"
build_and_run meson-subproject PKG_CONFIG_LIBDIR="$nopc"
grep -q "Dependency libframe found: YES $VERSION (overridden)" "$tmp/meson-subproject.out" || fail "meson-subproject: libframe_dep did not come from the subproject"
passed "Meson subproject (subprojects/libframe directory)" "C and C++ apps"

echo "$TEST_NAME: OK, each built outside the tree from the files docs/DISTRIBUTION.md shows:$results"
