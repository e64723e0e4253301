# fuzz/fuzz.mk: fuzzing and hardening gates (included by the top Makefile).
#
#   make fuzz              libFuzzer harnesses (clang) in build/fuzz/, their
#                          standalone replayers build/fuzz/replay_*, and the
#                          seed corpora in build/fuzz/corpus/
#   make fuzz-smoke        runs each harness for FUZZ_SMOKE_SECONDS (default 45;
#                          6 harnesses, about 5 minutes), after replaying the
#                          regression inputs in fuzz/regress/
#   make fuzz-smoke-small  the same against the size-optimised code (FRAME_SMALL:
#                          its own string scanner, UTF-8 check and validator
#                          paths), FUZZ_SMALL_SECONDS (default 15) each
# The hardening gates (conformance, hostile inputs, static analysis, valgrind)
# are in tests/hardening/hardening.mk; JSONTESTSUITE is defined here for both.
#
# A long run of one harness: fuzz/run.sh fuzz_decode 900   (see fuzz/README.md)

FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS ?= -O1 -g -fno-omit-frame-pointer
FUZZ_ALL_CFLAGS := $(WARN) $(FUZZ_CFLAGS) $(FUZZ_SAN) -Iinclude
# The standalone replayers use $(CC) (gcc by default); set FUZZ_REPLAY_SAN=
# for a plain build to run under valgrind.
FUZZ_REPLAY_SAN ?= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_REPLAY_CFLAGS := $(WARN) -O1 -g $(FUZZ_REPLAY_SAN) -Iinclude
FUZZ_SMOKE_SECONDS ?= 45
FUZZ_NAMES := fuzz_decode fuzz_decode_noalloc fuzz_split fuzz_header fuzz_roundtrip fuzz_kernels
FUZZ_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
JSONTESTSUITE ?= $(CURDIR)/../shared/JSONTestSuite/test_parsing

FUZZ_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/obj/lib/%.o)
FUZZ_REPLAY_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/robj/lib/%.o)
FUZZ_HDRS := fuzz/fuzz_common.h fuzz/ref_json.h $(LIB_HDRS)
# (the kernels too: tests/tests.mk's LIB_PRIVATE_HDRS)
$(FUZZ_LIB_OBJS) $(FUZZ_REPLAY_LIB_OBJS): $(LIB_PRIVATE_HDRS)

.PHONY: fuzz fuzz-smoke fuzz-smoke-small fuzz-corpus

fuzz: $(FUZZ_NAMES:%=$(FUZZ_DIR)/%) $(FUZZ_NAMES:%=$(FUZZ_DIR)/replay_%) fuzz-corpus

# ---- objects: instrumented for libFuzzer (clang) and for the replayers ($(CC))
$(FUZZ_DIR)/obj/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/%.o: fuzz/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/fuzz_decode_noalloc.o: fuzz/fuzz_decode.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -DFUZZ_MALLOC_GUARD -c $< -o $@

$(FUZZ_DIR)/robj/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_REPLAY_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/robj/%.o: fuzz/%.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_REPLAY_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/robj/fuzz_decode_noalloc.o: fuzz/fuzz_decode.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_REPLAY_CFLAGS) -DFUZZ_MALLOC_GUARD -c $< -o $@

# ---- binaries
$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/fuzz_%.o $(FUZZ_DIR)/obj/ref_json.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@

$(FUZZ_DIR)/fuzz_decode_noalloc: $(FUZZ_DIR)/obj/fuzz_decode_noalloc.o $(FUZZ_DIR)/obj/malloc_guard.o \
		$(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_WRAP) $^ -o $@

$(FUZZ_DIR)/replay_fuzz_%: $(FUZZ_DIR)/robj/fuzz_%.o $(FUZZ_DIR)/robj/ref_json.o \
		$(FUZZ_DIR)/robj/standalone.o $(FUZZ_REPLAY_LIB_OBJS)
	$(CC) -g $(FUZZ_REPLAY_SAN) $^ -o $@

$(FUZZ_DIR)/replay_fuzz_decode_noalloc: $(FUZZ_DIR)/robj/fuzz_decode_noalloc.o \
		$(FUZZ_DIR)/robj/malloc_guard.o $(FUZZ_DIR)/robj/standalone.o $(FUZZ_REPLAY_LIB_OBJS)
	$(CC) -g $(FUZZ_REPLAY_SAN) $(FUZZ_WRAP) $^ -o $@

$(FUZZ_DIR)/robj/standalone.o: fuzz/standalone.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g $(FUZZ_REPLAY_SAN) -c $< -o $@

# ---- fuzz_kernels: one copy of the library per string kernel of the target
# (tests/tests.mk's TEST_KERNELS), each compiled from the single header with
# FRAME_STATIC and FRAME_KERNEL_<NAME> (fuzz/fuzz_kernels.h), in one binary.
FUZZ_KERNELS := $(TEST_KERNELS)
FZK_HAVE := $(if $(filter sse2,$(FUZZ_KERNELS)),-DFZK_HAVE_SSE2) $(if $(filter neon,$(FUZZ_KERNELS)),-DFZK_HAVE_NEON)
FZK_HDRS := fuzz/fuzz_kernels.h fuzz/fuzz_common.h include/frame.h
fzk_flags = -I$(DIST_DIR) -DFZK_NAME=$(1) -DFRAME_KERNEL_$(shell echo $(1) | tr a-z A-Z)

$(FUZZ_DIR)/obj/fuzz_kernels.o: fuzz/fuzz_kernels.c $(FZK_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) $(FZK_HAVE) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/fzk_%.o: fuzz/fuzz_kernels_impl.c $(FZK_HDRS) $(DIST_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(call fzk_flags,$*) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_kernels: $(FUZZ_DIR)/obj/fuzz_kernels.o $(FUZZ_KERNELS:%=$(FUZZ_DIR)/obj/fzk_%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@

$(FUZZ_DIR)/robj/fuzz_kernels.o: fuzz/fuzz_kernels.c $(FZK_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_REPLAY_CFLAGS) $(FZK_HAVE) -c $< -o $@

$(FUZZ_DIR)/robj/fzk_%.o: fuzz/fuzz_kernels_impl.c $(FZK_HDRS) $(DIST_HDR)
	@mkdir -p $(@D)
	$(CC) $(call fzk_flags,$*) $(FUZZ_REPLAY_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/replay_fuzz_kernels: $(FUZZ_DIR)/robj/fuzz_kernels.o $(FUZZ_KERNELS:%=$(FUZZ_DIR)/robj/fzk_%.o) \
		$(FUZZ_DIR)/robj/standalone.o
	$(CC) -g $(FUZZ_REPLAY_SAN) $^ -o $@

# ---- seed corpora, regenerated when the vectors or the generator change
fuzz-corpus: $(FUZZ_DIR)/corpus/.stamp
$(FUZZ_DIR)/corpus/.stamp: fuzz/gen_corpus.py $(wildcard tests/vectors/*.json)
	@mkdir -p $(@D)
	$(PYTHON) fuzz/gen_corpus.py $(FUZZ_DIR)/corpus --vectors tests/vectors --jsonts $(JSONTESTSUITE)
	@# fuzz_kernels reads the same inputs as a header and as a stream
	@mkdir -p $(FUZZ_DIR)/corpus/fuzz_kernels
	@for h in fuzz_header fuzz_decode; do for f in $(FUZZ_DIR)/corpus/$$h/*; do \
	    cp "$$f" $(FUZZ_DIR)/corpus/fuzz_kernels/$$h-$$(basename "$$f"); done; done
	@touch $@

# ---- the bounded run for CI: regressions first, then FUZZ_SMOKE_SECONDS each
fuzz-smoke: fuzz
	@set -e; for h in $(FUZZ_NAMES); do \
	  if [ -d fuzz/regress/$$h ]; then \
	    echo "== replay fuzz/regress/$$h"; $(FUZZ_DIR)/replay_$$h fuzz/regress/$$h; fi; \
	done
	@set -e; for h in $(FUZZ_NAMES); do \
	  log=$(FUZZ_DIR)/smoke_$$h.log; \
	  echo "== $$h for $(FUZZ_SMOKE_SECONDS) s (log: $$log)"; \
	  if BUILD=$(BUILD) fuzz/run.sh $$h $(FUZZ_SMOKE_SECONDS) >$$log 2>&1; then \
	    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' $$log || true; \
	  else tail -n 60 $$log; echo "$$h failed: input saved in $(FUZZ_DIR)/crashes/$$h/"; exit 1; fi; \
	done

# The size-optimised library takes other paths through the same checks, so it
# is fuzzed too, in a build directory of its own.
FUZZ_SMALL_SECONDS ?= 15
fuzz-smoke-small:
	$(MAKE) --no-print-directory fuzz-smoke BUILD=$(BUILD)/fuzz-small FUZZ_SMOKE_SECONDS=$(FUZZ_SMALL_SECONDS) \
	  FUZZ_CFLAGS='$(FUZZ_CFLAGS) -DFRAME_SMALL' FUZZ_REPLAY_SAN='$(FUZZ_REPLAY_SAN) -DFRAME_SMALL'
