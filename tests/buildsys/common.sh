# Sourced by tests/buildsys/compare.sh and consumers.sh: libframe built with
# CMake and with Meson in build directories that persist between runs (so a
# second run only recompiles what changed), and small helpers.
# Environment: ROOT (the source tree), BUILDSYS_DIR (absolute; build/buildsys),
# TEST_NAME (for messages); REQUIRE_TOOLS=1 turns a missing tool into a failure;
# BUILDSYS_FULL=1 builds and runs the whole Criterion suite under CMake and Meson.

fail() { echo "$TEST_NAME: FAIL: $*"; exit 1; }

# Skips the test (exit 0) when cmake, meson or ninja is missing, unless
# REQUIRE_TOOLS=1 (CI), where that is a failure.
need_tools() {
    missing=""
    for t in cmake meson ninja "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
    [ -z "$missing" ] && return 0
    if [ "${REQUIRE_TOOLS:-0}" = 1 ]; then fail "missing:$missing (Debian: apt-get install cmake meson ninja-build)"; fi
    echo "$TEST_NAME: SKIPPED: missing:$missing (Debian: apt-get install cmake meson ninja-build)"
    exit 0
}

# run LOG COMMAND...: COMMAND's output goes to LOG, and is shown when it fails.
run() {
    _log=$1; shift
    if ! "$@" >>"$_log" 2>&1; then
        echo "$TEST_NAME: FAIL: $*"; echo "---- last lines of $_log:"; tail -n 40 "$_log"; exit 1
    fi
}

# libframe built by CMake in $BUILDSYS_DIR/cmake (configured for prefix
# /usr/local, libdir lib; the Criterion suite built).
cmake_libframe() {
    cmake_dir=$BUILDSYS_DIR/cmake
    mkdir -p "$BUILDSYS_DIR"
    if [ ! -f "$cmake_dir/build.ninja" ] || [ "$(cat "$cmake_dir/.libframe-root" 2>/dev/null)" != "$ROOT" ]; then
        rm -rf "$cmake_dir"
        run "$BUILDSYS_DIR/cmake.log" cmake -S "$ROOT" -B "$cmake_dir" -G Ninja \
            -DCMAKE_INSTALL_PREFIX=/usr/local -DCMAKE_INSTALL_LIBDIR=lib \
            -DLIBFRAME_BUILD_TESTS=ON -DLIBFRAME_BUILD_TOOL=ON
        echo "$ROOT" > "$cmake_dir/.libframe-root"
    fi
    run "$BUILDSYS_DIR/cmake.log" cmake --build "$cmake_dir" -j 2
}

# libframe built by Meson in $BUILDSYS_DIR/meson (prefix /usr/local, libdir lib).
meson_libframe() {
    meson_dir=$BUILDSYS_DIR/meson
    mkdir -p "$BUILDSYS_DIR"
    if [ ! -f "$meson_dir/build.ninja" ] || [ "$(cat "$meson_dir/.libframe-root" 2>/dev/null)" != "$ROOT" ]; then
        rm -rf "$meson_dir"
        run "$BUILDSYS_DIR/meson.log" meson setup "$meson_dir" "$ROOT" --prefix /usr/local --libdir lib \
            -Dtests=enabled -Dtool=enabled
        echo "$ROOT" > "$meson_dir/.libframe-root"
    fi
    if [ "${BUILDSYS_FULL:-0}" = 1 ]; then
        run "$BUILDSYS_DIR/meson.log" meson compile -C "$meson_dir" -j 2
    else
        # What is installed; the Criterion suite (run_tests) is CMake's to build
        # in a routine run (the machine is shared), Meson's with BUILDSYS_FULL=1.
        run "$BUILDSYS_DIR/meson.log" meson compile -C "$meson_dir" -j 2 \
            frame:shared_library frame:static_library frame:executable
    fi
}
