# CMake and Meson next to the Makefile (CMakeLists.txt, meson.build): the
# same libframe three ways, and projects that use it the ways CMake and Meson
# users do. Included by the top Makefile, which defines MAKE, CC, PYTHON,
# BUILD, VERSION and SONAME (nothing else is needed from other .mk files).
# cmake, meson and ninja are needed (Debian: cmake meson ninja-build); without
# them both tests are skipped, unless REQUIRE_TOOLS=1, where they fail.
#
#   in `make test`:
#     test-buildsys            make, CMake and Meson builds compared: installed
#                              files, libframe.pc, soname, exported symbols,
#                              frame_version(), the frame tool; ctest and
#                              meson test run (tests/buildsys/compare.sh)
#     test-buildsys-consumers  C and C++ programs outside the tree, built with
#                              the snippets of docs/DISTRIBUTION.md: CMake
#                              find_package, add_subdirectory, FetchContent;
#                              Meson dependency() through pkg-config, a wrap
#                              file and a subproject directory
#                              (tests/buildsys/consumers.sh)
#   make tarball               $(BUILD)/libframe-$(VERSION).tar.gz, the source
#                              tree as a release tarball (FetchContent, wraps)
#
# Build directories persist in $(BUILD)/buildsys/ (a second run recompiles
# only what changed); installs and consumer projects go to temporary
# directories, removed afterwards.

BUILDSYS_DIR := $(abspath $(BUILD))/buildsys
BUILDSYS_ENV = MAKE='$(MAKE)' CC='$(CC)' PYTHON='$(PYTHON)' VERSION='$(VERSION)' \
               SONAME='$(SONAME)' BUILDSYS_DIR='$(BUILDSYS_DIR)'

.PHONY: test-buildsys test-buildsys-consumers tarball
TEST_TARGETS += test-buildsys test-buildsys-consumers

test-buildsys:
	$(BUILDSYS_ENV) sh tests/buildsys/compare.sh

test-buildsys-consumers:
	$(BUILDSYS_ENV) sh tests/buildsys/consumers.sh

tarball:
	@mkdir -p $(BUILD)
	$(PYTHON) tests/buildsys/tarball.py . $(BUILD)/libframe-$(VERSION).tar.gz
