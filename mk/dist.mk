# Distribution and portability. Included by the top Makefile (which defines
# CC, PYTHON, WARN, CFLAGS, LDFLAGS, PREFIX, LIBDIR, INCLUDEDIR, BUILD, VERSION,
# VERSION_MAJOR, SONAME, LIB_SRCS, LIB_HDRS, LIBA, LIBSO) after tests/tests.mk
# (whose TEST_SRCS, TEST_HDRS, TEST_CFLAGS, CRITERION_LIBS and TEST_RUN the
# single-header run of the Criterion suite reuses).
#
#   make dist                 build/dist/frame.h, the single header (stb style)
#   make install / uninstall  headers, libframe.a, libframe.so.X.Y.Z + soname
#                             chain, libframe.pc; PREFIX, LIBDIR, INCLUDEDIR,
#                             PKGCONFIGDIR, DESTDIR honoured
#   make size                 code size and RAM on Cortex-M0 and x86-64
#   make size-budget          fails when the Cortex-M0 budget is exceeded
#   in `make test`:
#     test-consumer           install to a temporary prefix, build a program
#                             outside the tree with pkg-config (shared, static)
#     test-single-header      vendored single header (2 TUs, FRAME_STATIC) and
#                             the whole Criterion suite against it
#     test-cxx                the header and the implementation as C++
#     test-warnings           gcc and clang, -O0 and -O2, -Werror
#     test-small              portable runner built -Os -DFRAME_SMALL, same results
#     test-aarch64            portable runner, AArch64 under qemu-user, with its
#                             NEON kernel and again with the word kernel, output
#                             byte-identical to the host's; the fuzz_kernels
#                             replayer (NEON, word, small) on the fuzz seed
#                             corpus there (a loud SKIP without
#                             aarch64-linux-gnu-gcc or qemu-aarch64; a failure
#                             with REQUIRE_TOOLS=1, as in CI)
#   for .ci/run:
#     test-s390x              portable runner, s390x (big-endian) under qemu-user,
#                             output byte-identical to the host's
#     test-m32                portable runner with gcc -m32 (and the Criterion
#                             suite when a 32-bit libcriterion is installed)
#     test-baremetal          arm-none-eabi-gcc -mcpu=cortex-m0, zero warnings,
#                             no C library beyond mem*/str*, no .data/.bss

.PHONY: dist install uninstall size size-budget test-consumer test-single-header test-cxx \
        test-warnings test-s390x test-m32 test-aarch64 test-aarch64-run test-baremetal test-portable test-small

TEST_TARGETS += test-consumer test-single-header test-cxx test-warnings test-small test-aarch64

DIST_DIR := $(BUILD)/dist
DIST_HDR := $(DIST_DIR)/frame.h
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install
NM ?= nm

# ---- portable runner (no Criterion): host, s390x, -m32, aarch64------------------------------
PORTABLE_DIR := $(BUILD)/portable
PORTABLE_SRCS := tests/portable/runner.c tests/portable/bigsize.c
PORTABLE_VECTORS := $(PORTABLE_DIR)/vectors.c
PORTABLE_VECTOR_DIR ?= tests/vectors
PORTABLE_DEPS := $(PORTABLE_SRCS) tests/portable/portable.h $(PORTABLE_VECTORS) $(LIB_SRCS) $(LIB_HDRS) $(LIB_PRIVATE_HDRS)
# The library is compiled into the runner by the same (cross) compiler.
PORTABLE_BUILD = $(WARN) -Werror -O2 -Iinclude -Itests/portable $(LIB_SRCS) $(PORTABLE_SRCS) $(PORTABLE_VECTORS)

# ---- single header ------------------------------------------------------------
dist: $(DIST_HDR)

$(DIST_HDR): tools/amalgamate.py include/frame.h include/frame_posix.h $(wildcard lib/*.h) $(LIB_SRCS) $(POSIX_SRCS)
	$(PYTHON) tools/amalgamate.py --out $@

# ---- install --------------------------------------------------------------------
# libdir/includedir are written relative to ${prefix} when they lie under it.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

install: lib
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 644 include/frame.h $(DESTDIR)$(INCLUDEDIR)/frame.h
	$(INSTALL) -m 644 include/frame_posix.h $(DESTDIR)$(INCLUDEDIR)/frame_posix.h
	$(INSTALL) -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)/libframe.a
	$(INSTALL) -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/libframe.so.$(VERSION)
	ln -sf libframe.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libframe.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(PC_LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    tools/libframe.pc.in > $(BUILD)/libframe.pc
	$(INSTALL) -m 644 $(BUILD)/libframe.pc $(DESTDIR)$(PKGCONFIGDIR)/libframe.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/frame.h $(DESTDIR)$(INCLUDEDIR)/frame_posix.h $(DESTDIR)$(LIBDIR)/libframe.a \
	    $(DESTDIR)$(LIBDIR)/libframe.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	    $(DESTDIR)$(LIBDIR)/libframe.so $(DESTDIR)$(PKGCONFIGDIR)/libframe.pc

# ---- consumer tests ---------------------------------------------------------------
test-consumer: lib
	MAKE='$(MAKE)' CC='$(CC)' VERSION='$(VERSION)' SONAME='$(SONAME)' \
	    sh tests/consumer/check_install.sh

SH_DIR := $(BUILD)/single
SH_TEST_OBJS := $(patsubst tests/%.c,$(SH_DIR)/tests/%.o,$(TEST_SRCS))

# The implementation, compiled once from the single header.
# With the POSIX helpers (FRAME_POSIX), which tests/test_posix.c needs.
$(SH_DIR)/impl.o: tests/consumer/vendor_impl.c $(DIST_HDR)
	@mkdir -p $(@D)
	$(CC) $(WARN) -Werror $(CFLAGS) -D_POSIX_C_SOURCE=200809L -DFRAME_POSIX -I$(DIST_DIR) -c $< -o $@

# The Criterion suite, compiled with the single header in front of include/.
$(SH_DIR)/tests/%.o: tests/%.c $(TEST_HDRS) $(DIST_HDR)
	@mkdir -p $(@D)
	$(CC) -I$(DIST_DIR) $(TEST_CFLAGS) -MMD -MF $(@:.o=.d) -c $< -o $@

$(SH_DIR)/run_tests: $(SH_TEST_OBJS) $(SH_DIR)/impl.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CRITERION_LIBS)

test-single-header: $(DIST_HDR)
	$(PYTHON) tools/amalgamate.py --self-test
	DIST_HDR='$(DIST_HDR)' CC='$(CC)' WARN='$(WARN)' sh tests/consumer/check_single_header.sh
ifneq ($(strip $(TEST_SRCS)),)
	$(MAKE) --no-print-directory $(SH_DIR)/run_tests
	@# every test file must have been compiled against build/dist/frame.h
	@for d in $(SH_TEST_OBJS:.o=.d); do \
	    grep -q 'dist/frame\.h' $$d || { echo "test-single-header: $$d did not use $(DIST_HDR)"; exit 1; }; \
	    if grep -q 'include/frame\.h' $$d; then echo "test-single-header: $$d used include/frame.h"; exit 1; fi; \
	done
	$(call TEST_RUN,$(SH_DIR)/run_tests)
	@echo "test-single-header: the Criterion suite passed against $(DIST_HDR)"
else
	@echo "test-single-header: tests/tests.mk defines no TEST_SRCS: Criterion suite NOT run"; exit 1
endif

CXX_COMPILERS ?= g++ clang++
CXX_STDS ?= c++11 c++17 c++20
CXX_WARN := -Wall -Wextra -pedantic -Wshadow -Wconversion -Werror
CXX_DIR := $(BUILD)/cxx

# For each C++ compiler and standard: the installed-style header against the
# C-built libframe.a (extern "C"), and the single header with its
# implementation compiled as C++.
test-cxx: $(LIBA) $(DIST_HDR)
	@mkdir -p $(CXX_DIR)
	@set -e; n=0; for cxx in $(CXX_COMPILERS); do for std in $(CXX_STDS); do \
	    echo "  $$cxx -std=$$std"; \
	    $$cxx -std=$$std $(CXX_WARN) -Iinclude tests/consumer/cxx_app.cpp $(LIBA) -o $(CXX_DIR)/app-lib; \
	    $(CXX_DIR)/app-lib > /dev/null; \
	    $$cxx -std=$$std $(CXX_WARN) -I$(DIST_DIR) tests/consumer/cxx_app.cpp tests/consumer/cxx_impl.cpp \
	        -o $(CXX_DIR)/app-single; \
	    $(CXX_DIR)/app-single > /dev/null; \
	    n=$$((n + 2)); \
	done; done; echo "test-cxx: OK ($$n C++ builds ran: C library + C++ caller, single header as C++)"

# ---- warnings matrix ------------------------------------------------------------------
WARN_CCS ?= gcc clang
WARN_OPTS ?= -O0 -O2
WARN_DIR := $(BUILD)/warnings

test-warnings: $(DIST_HDR) $(PORTABLE_VECTORS)
	@set -e; for cc in $(WARN_CCS); do for o in $(WARN_OPTS); do \
	    d=$(WARN_DIR)/$$cc$$o; mkdir -p $$d; echo "  $$cc $$o -Werror"; \
	    for f in $(LIB_SRCS) $(POSIX_SRCS); do \
	        $$cc $(WARN) -Werror $$o -fPIC -fvisibility=hidden -DFRAME_BUILDING -Iinclude -Ilib \
	            -c $$f -o $$d/$$(basename $$f .c).o; \
	    done; \
	    $$cc $(WARN) -Werror $$o -D_POSIX_C_SOURCE=200809L -DFRAME_POSIX -I$(DIST_DIR) \
	        -c tests/consumer/vendor_impl.c -o $$d/single-posix.o; \
	    $$cc $(WARN) -Werror $$o -I$(DIST_DIR) -c tests/consumer/vendor_impl.c -o $$d/single.o; \
	    $$cc $(WARN) -Werror $$o -I$(DIST_DIR) -c tests/consumer/static_a.c -o $$d/static_a.o; \
	    $$cc $(WARN) -Werror $$o -Iinclude -c tests/consumer/app.c -o $$d/app.o; \
	    for f in $(PORTABLE_SRCS) $(PORTABLE_VECTORS); do \
	        $$cc $(WARN) -Werror $$o -Iinclude -Itests/portable -c $$f -o $$d/$$(basename $$f .c).o; \
	    done; \
	done; done; echo "test-warnings: OK ($(WARN_CCS) x $(WARN_OPTS): lib/, single header, tests/portable, tests/consumer)"

# ---- portable runner: host, s390x, -m32 ---------------------------------------------------
$(PORTABLE_VECTORS): tests/portable/gen_vectors.py $(wildcard $(PORTABLE_VECTOR_DIR)/*.json) $(PORTABLE_VECTOR_DIR)
	$(PYTHON) tests/portable/gen_vectors.py $(PORTABLE_VECTOR_DIR) $@

$(PORTABLE_DIR)/runner-host: $(PORTABLE_DEPS)
	$(CC) $(PORTABLE_BUILD) -o $@

$(PORTABLE_DIR)/host.txt: $(PORTABLE_DIR)/runner-host
	$(PORTABLE_DIR)/runner-host --emit $@

test-portable: $(PORTABLE_DIR)/host.txt

# Size-optimised builds (-Os, FRAME_SMALL) leave out the speed-only code
# paths (fast header path, hash table of names, word scanning): they must give
# the same results for every vector, and pass the whole Criterion suite.
$(PORTABLE_DIR)/runner-small: $(PORTABLE_DEPS)
	$(CC) $(PORTABLE_BUILD) -Os -DFRAME_SMALL -o $@

test-small: $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/runner-small
	$(PORTABLE_DIR)/runner-small --emit $(PORTABLE_DIR)/small.txt
	cmp $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/small.txt
	@echo "test-small: FRAME_SMALL results identical to the default build's for every vector"
	$(MAKE) --no-print-directory BUILD=$(BUILD)/small CFLAGS='-Os -g -DFRAME_SMALL' test-unit
	@echo "test-small: OK, and the Criterion suite passes against the FRAME_SMALL build"

# Debian names the s390x compiler s390x-linux-gnu-gcc (gcc-s390x-linux-gnu)
# or s390x-linux-gnu-gcc-12 (gcc-12-s390x-linux-gnu alone).
S390X_CC ?= $(or $(shell command -v s390x-linux-gnu-gcc 2>/dev/null),$(shell command -v s390x-linux-gnu-gcc-12 2>/dev/null),s390x-linux-gnu-gcc)
QEMU_S390X ?= qemu-s390x

$(PORTABLE_DIR)/runner-s390x: $(PORTABLE_DEPS)
	$(S390X_CC) -static $(PORTABLE_BUILD) -o $@

# Cross-built programs run natively where the kernel can (binfmt_misc, IA-32
# emulation), else under qemu-user: tools/cross-run.sh tries a trivial probe
# program of the same target first.
CROSS_RUN = sh tools/cross-run.sh
PROBE_CC_s390x = $(S390X_CC) -static
PROBE_CC_m32 = $(M32_CC)
PROBE_CC_aarch64 = $(AARCH64_CC) -static
$(PORTABLE_DIR)/probe-%: tools/cross-probe.c
	@mkdir -p $(@D)
	$(PROBE_CC_$*) $< -o $@

test-s390x: $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/runner-s390x $(PORTABLE_DIR)/probe-s390x
	$(CROSS_RUN) $(QEMU_S390X) $(PORTABLE_DIR)/probe-s390x \
	    $(PORTABLE_DIR)/runner-s390x --expect-endian big --emit $(PORTABLE_DIR)/s390x.txt
	cmp $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/s390x.txt
	@echo "test-s390x: OK, big-endian results identical to the host's for all $$(wc -l < $(PORTABLE_DIR)/host.txt) vectors (Criterion has no s390x build: portable runner only)"

M32_CC ?= $(CC) -m32
M32_DIR := $(BUILD)/m32

$(PORTABLE_DIR)/runner-m32: $(PORTABLE_DEPS)
	$(M32_CC) $(PORTABLE_BUILD) -o $@

# The Criterion suite too, when a 32-bit libcriterion can be linked
# (dpkg --add-architecture i386; apt-get install libcriterion-dev:i386).
QEMU_I386 ?= qemu-i386
test-m32: $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/runner-m32 $(PORTABLE_DIR)/probe-m32
	$(CROSS_RUN) $(QEMU_I386) $(PORTABLE_DIR)/probe-m32 \
	    $(PORTABLE_DIR)/runner-m32 --expect-size-t 4 --emit $(PORTABLE_DIR)/m32.txt
	cmp $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/m32.txt
	@if $(PORTABLE_DIR)/probe-m32 2>/dev/null && \
	    echo 'int main(void){return 0;}' | $(M32_CC) -x c - $(CRITERION_LIBS) -o /dev/null 2>/dev/null; then \
	    echo "test-m32: 32-bit Criterion found: running the Criterion suite with $(M32_CC)"; \
	    $(MAKE) --no-print-directory BUILD=$(M32_DIR) CC='$(M32_CC)' test-unit || exit 1; \
	else \
	    echo "test-m32: NOTE: no 32-bit libcriterion installed: the Criterion suite was NOT built with -m32;"; \
	    echo "          the portable runner (all vectors + >4 GiB size checks) ran instead"; \
	fi
	@echo "test-m32: OK, 32-bit results identical to the host's"

# AArch64 (little-endian, 64-bit) picks the NEON kernel by itself
# (lib/scan.h); the word kernel, forced, runs there too. Both must give the
# host's output for every vector.
AARCH64_CC ?= $(or $(shell command -v aarch64-linux-gnu-gcc 2>/dev/null),$(shell command -v aarch64-linux-gnu-gcc-12 2>/dev/null),aarch64-linux-gnu-gcc)
QEMU_AARCH64 ?= qemu-aarch64

$(PORTABLE_DIR)/runner-aarch64: $(PORTABLE_DEPS)
	$(AARCH64_CC) -static $(PORTABLE_BUILD) -o $@

$(PORTABLE_DIR)/runner-aarch64-word: $(PORTABLE_DEPS)
	$(AARCH64_CC) -static $(PORTABLE_BUILD) -DFRAME_KERNEL_WORD -o $@

# In `make test`: where neither the cross compiler nor (off AArch64) the
# emulator is installed, it says so and skips (need_tool).
test-aarch64:
	@$(call need_tool,$(AARCH64_CC)); \
	$(if $(filter __aarch64__,$(CC_MACROS)),,$(call need_tool,$(QEMU_AARCH64));) \
	$(MAKE) --no-print-directory test-aarch64-run

# The differential fuzz harness (fuzz/fuzz_kernels.c) built as a replayer
# with the NEON, word and small kernels: the lib/ code paths above do not use
# every kernel's primitives (the small kernel's frame__kernel_special16, say);
# this compares them all on the fuzz seeds (and whatever a local campaign
# added to the corpus).
AARCH64_FZK_DIR := $(PORTABLE_DIR)/aarch64-kernels
AARCH64_FZK_SRCS := fuzz/fuzz_kernels.c fuzz/fuzz_kernels_impl.c fuzz/fuzz_kernels.h fuzz/fuzz_common.h fuzz/standalone.c
$(PORTABLE_DIR)/replay-kernels-aarch64: $(AARCH64_FZK_SRCS) $(DIST_HDR)
	@mkdir -p $(AARCH64_FZK_DIR)
	@set -e; for k in neon word small; do \
	    echo "  $(AARCH64_CC) -DFRAME_KERNEL_$$k fuzz/fuzz_kernels_impl.c"; \
	    $(AARCH64_CC) $(WARN) -Werror -O2 -I$(DIST_DIR) -Iinclude -DFZK_NAME=$$k \
	        -DFRAME_KERNEL_$$(echo $$k | tr a-z A-Z) -c fuzz/fuzz_kernels_impl.c -o $(AARCH64_FZK_DIR)/fzk_$$k.o; \
	done
	$(AARCH64_CC) $(WARN) -Werror -O2 -Iinclude -DFZK_HAVE_NEON -c fuzz/fuzz_kernels.c -o $(AARCH64_FZK_DIR)/fuzz_kernels.o
	$(AARCH64_CC) $(WARN) -Werror -O2 -c fuzz/standalone.c -o $(AARCH64_FZK_DIR)/standalone.o
	$(AARCH64_CC) -static $(AARCH64_FZK_DIR)/*.o -o $@

test-aarch64-run: $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/runner-aarch64 $(PORTABLE_DIR)/runner-aarch64-word \
		$(PORTABLE_DIR)/probe-aarch64 $(PORTABLE_DIR)/replay-kernels-aarch64 fuzz-corpus
	@set -e; for v in neon: word:-DFRAME_KERNEL_WORD; do \
	    k=$${v%%:*}; got=$$($(call KERNEL_NAME_OF,$(AARCH64_CC),$${v#*:})); \
	    [ "$$got" = "$$k" ] || { echo "test-aarch64: $(AARCH64_CC) $${v#*:} builds the '$$got' kernel, not $$k"; exit 1; }; \
	done
	$(CROSS_RUN) $(QEMU_AARCH64) $(PORTABLE_DIR)/probe-aarch64 \
	    $(PORTABLE_DIR)/runner-aarch64 --expect-endian little --expect-size-t 8 --emit $(PORTABLE_DIR)/aarch64.txt
	cmp $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/aarch64.txt
	$(CROSS_RUN) $(QEMU_AARCH64) $(PORTABLE_DIR)/probe-aarch64 \
	    $(PORTABLE_DIR)/runner-aarch64-word --expect-endian little --expect-size-t 8 \
	    --emit $(PORTABLE_DIR)/aarch64-word.txt
	cmp $(PORTABLE_DIR)/host.txt $(PORTABLE_DIR)/aarch64-word.txt
	$(CROSS_RUN) $(QEMU_AARCH64) $(PORTABLE_DIR)/probe-aarch64 \
	    $(PORTABLE_DIR)/replay-kernels-aarch64 $(BUILD)/fuzz/corpus/fuzz_kernels
	@echo "test-aarch64: OK, AArch64 results (NEON kernel, then word kernel) identical to the host's for all $$(wc -l < $(PORTABLE_DIR)/host.txt) vectors (portable runner); NEON, word and small agree on the fuzz_kernels corpus"

# ---- bare metal and code size ---------------------------------------------------------------
ARM_CC ?= arm-none-eabi-gcc
ARM_NM ?= arm-none-eabi-nm
ARM_SIZE ?= arm-none-eabi-size
ARM_CFLAGS ?= -mcpu=cortex-m0 -mthumb -Os -ffreestanding
BAREMETAL_DIR := $(BUILD)/baremetal
SIZE_DIR := $(BUILD)/size

test-baremetal: $(DIST_HDR)
	@mkdir -p $(BAREMETAL_DIR)
	@set -e; for f in $(LIB_SRCS); do \
	    echo "  $(ARM_CC) $(ARM_CFLAGS) -Werror $$f"; \
	    $(ARM_CC) $(ARM_CFLAGS) $(WARN) -Werror -Iinclude -c $$f -o $(BAREMETAL_DIR)/$$(basename $$f .c).o; \
	done
	$(ARM_CC) $(ARM_CFLAGS) $(WARN) -Werror -I$(DIST_DIR) -c tests/consumer/vendor_impl.c -o $(BAREMETAL_DIR)/single.o
	$(ARM_CC) $(ARM_CFLAGS) $(WARN) -Werror -I$(DIST_DIR) -c tests/consumer/static_a.c -o $(BAREMETAL_DIR)/static_a.o
	$(ARM_CC) $(ARM_CFLAGS) $(WARN) -Werror -Iinclude -c tests/portable/ram_budget.c -o $(BAREMETAL_DIR)/ram_budget.o
	@set -e; ext=$$($(ARM_NM) -u $(BAREMETAL_DIR)/single.o | awk '{ print $$2 }' | sort -u); \
	bad=$$(printf '%s\n' $$ext | grep -v -E '^(mem|str)[a-z]*$$|^__aeabi_|^__gnu_thumb1_|^__(ctz|clz|popcount)[sd]i2$$' || true); \
	if [ -n "$$bad" ]; then echo "test-baremetal: needs more than mem*/str* (and libgcc):" $$bad; exit 1; fi; \
	echo "test-baremetal: external symbols:" $$ext
	@set -e; data=$$($(ARM_SIZE) -A $(BAREMETAL_DIR)/single.o | awk '$$1 ~ /^\.(data|bss)/ { s += $$2 } END { print s + 0 }'); \
	if [ "$$data" != 0 ]; then echo "test-baremetal: $$data bytes of .data/.bss (global state)"; exit 1; fi
	@echo "test-baremetal: OK (Cortex-M0, zero warnings, no libc beyond mem*/str*, no .data/.bss, sizeof(frame_decoder) <= 64)"

SIZE_TARGETS = $(if $(shell command -v $(ARM_CC) 2>/dev/null),cortex-m0) x86-64

size:
	@mkdir -p $(SIZE_DIR)
	@set -e; for t in $(SIZE_TARGETS); do case $$t in \
	    cortex-m0) $(PYTHON) tools/codesize.py --name cortex-m0 --cc '$(ARM_CC)' --nm $(ARM_NM) \
	        --cflags='$(ARM_CFLAGS)' --build $(SIZE_DIR)/cortex-m0 --json $(SIZE_DIR)/cortex-m0.json ;; \
	    x86-64) $(PYTHON) tools/codesize.py --name x86-64 --cc '$(CC)' --nm $(NM) --host \
	        --cflags=-Os --build $(SIZE_DIR)/x86-64 --json $(SIZE_DIR)/x86-64.json ;; \
	esac; done
	@echo "(code, rodata, data, bss in bytes of lib/ only; parts are link closures of their public functions)"

size-budget:
	$(PYTHON) tools/codesize.py --name cortex-m0 --cc '$(ARM_CC)' --nm $(ARM_NM) \
	    --cflags='$(ARM_CFLAGS)' --build $(SIZE_DIR)/cortex-m0 --check-budget
