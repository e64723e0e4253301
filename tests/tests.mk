# Criterion unit tests, sanitizer and coverage runs, symbol checks.
# Included by the top Makefile (which defines CC, WARN, CFLAGS, ALL_CFLAGS,
# LIB_CFLAGS, LIB_SRCS, LIB_HDRS, LIBA, LIBSO, BUILD).
#
#   make test-unit      build/tests/run_tests (all tests/test_*.c) against $(LIBA)
#   make test-asan      library + tests rebuilt with ASan+UBSan in build/asan/
#   make test-symbols   no malloc/stdio in libframe.a; libframe.so exports frame_* only
#   make coverage       library rebuilt with --coverage in build/cov/, gcovr report
#                       (fails under 95% of lib/ lines)
#   make test-kernels   the Criterion suite and the guard-page vector test once
#                       per string kernel this host runs (lib/scan.h), each
#                       forced with FRAME_KERNEL=... in build/kernel-NAME/
# TEST_ARGS passes options to the Criterion runner, e.g.
#   make test-unit TEST_ARGS='--filter decoder/*'

TEST_SRCS := $(sort $(wildcard tests/test_*.c)) tests/support.c
TEST_HDRS := tests/support.h include/frame.h
TEST_VECTOR_DIR := $(CURDIR)/tests/vectors
CRITERION_CFLAGS := $(shell pkg-config --cflags criterion 2>/dev/null || echo -pthread)
CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
TEST_CFLAGS = $(WARN) $(CFLAGS) -Iinclude -Itests $(CRITERION_CFLAGS) \
              -DVECTOR_DIR='"$(TEST_VECTOR_DIR)"'
# Jobs for the Criterion runner: the machine is shared, the big tests are
# memory-bound; 2 keeps a full run well under two minutes.
TEST_JOBS ?= 2
TEST_RUN = FRAME_VECTOR_DIR='$(TEST_VECTOR_DIR)' $(1) --jobs $(TEST_JOBS) -S $(TEST_ARGS)

TEST_BIN := $(BUILD)/tests/run_tests
TEST_OBJS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%.o)

# lib/'s private headers (scan.h, the kernel_*.h it includes, the walks and
# name sets): the test builds below depend on them by this name (the top
# Makefile's LIB_HDRS holds them too).
LIB_PRIVATE_HDRS := $(wildcard lib/*.h)
$(LIB_OBJS): $(LIB_PRIVATE_HDRS)

.PHONY: test-unit test-asan test-symbols coverage tests-build test-kernels test-kernel-guard
TEST_TARGETS += test-unit test-symbols test-asan test-kernels

tests-build: $(TEST_BIN)

$(BUILD)/tests/%.o: tests/%.c $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(TEST_BIN): $(TEST_OBJS) $(LIBA)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIBA) $(CRITERION_LIBS)

test-unit: $(TEST_BIN)
	$(call TEST_RUN,$(TEST_BIN))

# ---- every string kernel (lib/scan.h) on this host ---------------------------
# The kernels the compiler can target here, by the conditions scan.h uses,
# then the two that run anywhere. Each gets its own build directory, the
# whole Criterion suite (vectors fed whole, byte by byte and at random splits,
# every chunk before an unmapped guard page: tests/support.c; every vector
# header cut at every length before a guard page: tests/test_guard.c) and the
# hardening test that parses every vector's headers alone before a guard page.
CC_MACROS := $(shell $(CC) -dM -E -x c /dev/null 2>/dev/null | awk '{ print $$2 }')
KERNELS_NATIVE := $(if $(filter __x86_64__,$(CC_MACROS)),$(if $(filter __SSE2__,$(CC_MACROS)),sse2)) \
                  $(if $(filter __aarch64__,$(CC_MACROS)),$(if $(filter __ARM_NEON,$(CC_MACROS)),neon))
TEST_KERNELS ?= $(strip $(KERNELS_NATIVE) word small)

# $(call KERNEL_NAME_OF,COMPILER,FLAGS): a shell command printing the kernel
# that lib/ compiled by COMPILER with FLAGS gets (mk/dist.mk uses it too).
KERNEL_NAME_OF = $(1) -Iinclude -DFRAME_BUILDING $(2) -dM -E lib/json.c | \
    sed -n 's/^.define FRAME__KERNEL_NAME "\(.*\)"$$/\1/p'

# Each FRAME_KERNEL_X must select kernel X (scan.h's FRAME__KERNEL_NAME), else
# a typo in a name would quietly test the default kernel again.
test-kernels:
	@set -e; for k in $(TEST_KERNELS); do \
	    K=$$(echo $$k | tr a-z A-Z); \
	    got=$$($(call KERNEL_NAME_OF,$(CC),-DFRAME_KERNEL_$$K)); \
	    [ "$$got" = "$$k" ] || { echo "test-kernels: -DFRAME_KERNEL_$$K selects kernel '$$got', not $$k"; exit 1; }; \
	    echo "== test-kernels: $$k kernel (build $(BUILD)/kernel-$$k)"; \
	    $(MAKE) --no-print-directory BUILD=$(BUILD)/kernel-$$k FRAME_KERNEL=$$k test-unit test-kernel-guard; \
	done
	@echo "test-kernels: OK, the Criterion suite and every vector before a guard page passed with each kernel: $(TEST_KERNELS)"

# (called by test-kernels with its BUILD; hardening.mk builds the binary)
test-kernel-guard: $(BUILD)/tests/hardening
	$(HARDENING_RUN) --filter 'hostile/every_vector_before_a_guard_page'

# ---- AddressSanitizer + UndefinedBehaviorSanitizer ------------------------
ASAN_DIR := $(BUILD)/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(ASAN_DIR)/obj/%.o) $(POSIX_SRCS:posix/%.c=$(ASAN_DIR)/obj/posix/%.o)
ASAN_TEST_OBJS := $(TEST_SRCS:tests/%.c=$(ASAN_DIR)/tests/%.o)
ASAN_BIN := $(ASAN_DIR)/run_tests
$(ASAN_LIB_OBJS): $(LIB_PRIVATE_HDRS)

$(ASAN_DIR)/obj/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_DIR)/obj/posix/%.o: posix/%.c $(POSIX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -Ilib -c $< -o $@

$(ASAN_DIR)/tests/%.o: tests/%.c $(TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_BIN): $(ASAN_TEST_OBJS) $(ASAN_LIB_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CRITERION_LIBS)

# Leaks inside Criterion's own runner are not ours to report.
$(ASAN_DIR)/lsan.supp:
	@mkdir -p $(@D)
	printf 'leak:libcriterion.so\n' > $@

test-asan: $(ASAN_BIN) $(ASAN_DIR)/lsan.supp
	ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	LSAN_OPTIONS=suppressions=$(abspath $(ASAN_DIR)/lsan.supp):print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(call TEST_RUN,$(ASAN_BIN))

# ---- symbols --------------------------------------------------------------
# The static library must not need an allocator or stdio; the shared library
# must export the frame_* API and nothing else (no frame__ internals either),
# and every function declared in frame.h must be exported.
TEST_FORBIDDEN_SYMS := malloc calloc realloc free aligned_alloc posix_memalign memalign \
    valloc strdup strndup printf fprintf sprintf snprintf vprintf vfprintf vsprintf \
    vsnprintf dprintf puts fputs fputc putc putchar fwrite fread fopen fclose fflush \
    stdin stdout stderr perror abort exit getenv __printf_chk __fprintf_chk \
    __sprintf_chk __snprintf_chk __vfprintf_chk __vsnprintf_chk __vsprintf_chk

test-symbols: $(LIBA) $(LIBSO)
	@set -e; \
	defd=$$(nm --defined-only $(LIBA) | awk 'NF >= 3 { print $$3 }' | sort -u); \
	undef=$$(nm -u $(LIBA) | awk 'NF >= 2 { print $$2 }' | sed 's/@.*//' | sort -u | \
	    grep -vxF "$$defd" || true); \
	bad=""; for s in $(TEST_FORBIDDEN_SYMS); do \
	    if printf '%s\n' $$undef | grep -qx "$$s"; then bad="$$bad $$s"; fi; done; \
	if [ -n "$$bad" ]; then echo "test-symbols: $(LIBA) needs:$$bad"; exit 1; fi; \
	echo "test-symbols: $(LIBA) needs from outside:" $$undef; \
	exported=$$(nm -D --defined-only $(LIBSO) | awk 'NF >= 3 { print $$3 }' | sed 's/@.*//' | sort -u); \
	extra=$$(printf '%s\n' $$exported | grep -v '^frame_[a-z0-9]' || true); \
	if [ -n "$$extra" ]; then echo "test-symbols: $(LIBSO) exports non-API symbols:" $$extra; exit 1; fi; \
	api=$$(sed -n 's/^FRAME_API[^(]*[ *]\(frame_[a-z0-9_]*\)(.*/\1/p' include/frame.h include/frame_posix.h | sort -u); \
	[ -n "$$api" ] || { echo "test-symbols: no FRAME_API functions found in frame.h"; exit 1; }; \
	missing=""; for s in $$api; do \
	    printf '%s\n' $$exported | grep -qx "$$s" || missing="$$missing $$s"; done; \
	if [ -n "$$missing" ]; then echo "test-symbols: $(LIBSO) does not export:$$missing"; exit 1; fi; \
	notapi=$$(printf '%s\n' $$exported | grep -vxF "$$(printf '%s\n' $$api)" || true); \
	if [ -n "$$notapi" ]; then echo "test-symbols: exported but not in frame.h:" $$notapi; exit 1; fi; \
	echo "test-symbols: OK ($$(printf '%s\n' $$api | wc -l) API functions exported, nothing else)"

# ---- coverage ---------------------------------------------------------------
COV_DIR := $(BUILD)/cov
COV_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(COV_DIR)/obj/%.o) $(POSIX_SRCS:posix/%.c=$(COV_DIR)/obj/posix/%.o)
COV_BIN := $(COV_DIR)/run_tests
$(COV_LIB_OBJS): $(LIB_PRIVATE_HDRS)
COV_MIN_LINES ?= 95

$(COV_DIR)/obj/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O0 -g -Iinclude -fPIC -fvisibility=hidden -DFRAME_BUILDING --coverage \
	    -c $< -o $@

$(COV_DIR)/obj/posix/%.o: posix/%.c $(POSIX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O0 -g -Iinclude -Ilib -fPIC -fvisibility=hidden -DFRAME_BUILDING --coverage \
	    -c $< -o $@

# The tests themselves are not instrumented (only lib/ is reported).
$(COV_BIN): $(TEST_OBJS) $(COV_LIB_OBJS)
	$(CC) $(CFLAGS) --coverage $(LDFLAGS) -o $@ $^ $(CRITERION_LIBS)

# The report is made even when a test fails; the target then fails too.
coverage: $(COV_BIN)
	@command -v gcovr >/dev/null || { echo "coverage: gcovr is not installed"; exit 1; }
	rm -f $(COV_DIR)/obj/*.gcda
	@status=0; $(call TEST_RUN,$(COV_BIN)) || status=$$?; \
	gcovr --root . --filter 'lib/' --filter 'posix/' --object-directory $(COV_DIR)/obj $(COV_DIR)/obj \
	    --txt $(COV_DIR)/coverage.txt --print-summary --fail-under-line $(COV_MIN_LINES) \
	    || status=$$?; \
	gcovr --root . --filter 'lib/' --filter 'posix/' --object-directory $(COV_DIR)/obj $(COV_DIR)/obj \
	    --branches --txt $(COV_DIR)/branches.txt >/dev/null; \
	cat $(COV_DIR)/coverage.txt; \
	echo "coverage: per-file branch table in $(COV_DIR)/branches.txt"; \
	if [ $$status -ne 0 ]; then echo "coverage: FAILED (tests or line coverage under $(COV_MIN_LINES)%)"; fi; \
	exit $$status
