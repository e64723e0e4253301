# fuzz/fuzz.mk: fuzzing and hardening gates (included by the top Makefile).
#
#   make fuzz              libFuzzer harnesses (clang) in build/fuzz/, their
#                          standalone replayers build/fuzz/replay_*, and the
#                          seed corpora in build/fuzz/corpus/
#   make fuzz-smoke        runs each harness for FUZZ_SMOKE_SECONDS (default 45;
#                          5 harnesses, about 4 minutes), after replaying the
#                          regression inputs in fuzz/regress/
#   make fuzz-smoke-small  the same against the size-optimised code (FRAME_SMALL:
#                          its own string scanner, UTF-8 check and validator
#                          paths), FUZZ_SMALL_SECONDS (default 15) each
#   make test-conformance  JSONTestSuite through the header validator
#   make test-hostile      hostile-input tests, every vector before a guard page
#   make test-static       cppcheck and gcc -fanalyzer on lib/: no findings
#   make test-valgrind     the unit and hardening tests under valgrind memcheck
# (the test-* targets build build/tests/hardening; see fuzz/README.md)
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
FUZZ_NAMES := fuzz_decode fuzz_decode_noalloc fuzz_split fuzz_header fuzz_roundtrip
FUZZ_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
JSONTESTSUITE ?= $(CURDIR)/../shared/JSONTestSuite/test_parsing

FUZZ_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/obj/lib/%.o)
FUZZ_REPLAY_LIB_OBJS := $(LIB_SRCS:lib/%.c=$(FUZZ_DIR)/robj/lib/%.o)
FUZZ_HDRS := fuzz/fuzz_common.h fuzz/ref_json.h $(LIB_HDRS)

.PHONY: fuzz fuzz-smoke fuzz-smoke-small fuzz-corpus test-conformance test-hostile test-static test-valgrind
TEST_TARGETS += test-conformance test-hostile test-static test-valgrind

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

# ---- seed corpora, regenerated when the vectors or the generator change
fuzz-corpus: $(FUZZ_DIR)/corpus/.stamp
$(FUZZ_DIR)/corpus/.stamp: fuzz/gen_corpus.py $(wildcard tests/vectors/*.json)
	@mkdir -p $(@D)
	$(PYTHON) fuzz/gen_corpus.py $(FUZZ_DIR)/corpus --vectors tests/vectors --jsonts $(JSONTESTSUITE)
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

# ---- hardening tests (Criterion): build/tests/hardening
HARDENING_SRCS := $(sort $(wildcard tests/hardening/*.c))
HARDENING_BIN := $(BUILD)/tests/hardening
CRITERION_LIBS ?= -lcriterion
# It reuses tests/support.c (guard pages, the decode recorder, JSON reading).
$(HARDENING_BIN): $(HARDENING_SRCS) tests/hardening/hardening.h fuzz/ref_json.c fuzz/ref_json.h \
		tests/support.c tests/support.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -Iinclude -Itests -Ifuzz $(CRITERION_CFLAGS) \
	  -DVECTOR_DIR='"$(CURDIR)/tests/vectors"' $(HARDENING_SRCS) fuzz/ref_json.c tests/support.c \
	  $(LIBA) $(CRITERION_LIBS) -o $@

# Criterion options: one job at a time, short file names.
HARDENING_RUN = HARDENING_JSONTS=$(JSONTESTSUITE) HARDENING_ROOT=$(CURDIR) $(HARDENING_BIN) -j1 -S

test-conformance: $(HARDENING_BIN)
	$(HARDENING_RUN) --filter 'conformance/*'

test-hostile: $(HARDENING_BIN)
	$(HARDENING_RUN) --filter 'hostile/*'

# ---- static analysis of lib/: no findings allowed (the symbol check that
# lib/ needs no allocator or stdio is tests/tests.mk's test-symbols)
# cppcheck's variableScope is off: lib/ declares its variables at the top of
# a function or block on purpose (STYLE.md); every other check is on.
# A missing tool is a loud SKIP, or a failure with REQUIRE_TOOLS=1 (for CI).
REQUIRE_TOOLS ?= 0
define need_tool
command -v $(1) >/dev/null 2>&1 || { \
  if [ "$(REQUIRE_TOOLS)" = 1 ]; then echo "$@: $(1) is not installed (REQUIRE_TOOLS=1)"; exit 1; fi; \
  echo "$@: $(1) is not installed: SKIPPED"; exit 0; }
endef

test-static:
	@$(call need_tool,cppcheck); \
	echo "cppcheck lib/"; \
	cppcheck --quiet --error-exitcode=1 --std=c99 --enable=warning,style,performance,portability \
	  --inline-suppr -Iinclude -Ilib --suppress=missingIncludeSystem --suppress=variableScope lib/
	@$(call need_tool,gcc); set -e; for f in $(LIB_SRCS); do \
	  echo "gcc -fanalyzer $$f"; \
	  gcc $(WARN) -O1 -Iinclude -DFRAME_BUILDING -fanalyzer -Werror -c $$f -o /dev/null; \
	done

# ---- valgrind: every process's log must stay empty (Criterion runs tests in
# worker processes whose exit status does not carry valgrind's verdict)
VALGRIND ?= valgrind
# Criterion jobs under valgrind (the whole gate takes about 12 minutes at 1)
VALGRIND_JOBS ?= 1
VALGRIND_FLAGS := -q --trace-children=yes --leak-check=full --show-leak-kinds=definite \
                  --errors-for-leak-kinds=definite --track-origins=yes
VALGRIND_BINS := $(HARDENING_BIN)
ifneq ($(wildcard tests/tests.mk),)
VALGRIND_BINS += $(BUILD)/tests/run_tests
endif
test-valgrind: $(VALGRIND_BINS)
	@$(call need_tool,$(VALGRIND)); set -e; for b in $(VALGRIND_BINS); do \
	  d=$(BUILD)/valgrind/$$(basename $$b); rm -rf $$d; mkdir -p $$d; \
	  echo "== valgrind $$b"; \
	  HARDENING_JSONTS=$(JSONTESTSUITE) HARDENING_ROOT=$(CURDIR) FRAME_VECTOR_DIR=$(CURDIR)/tests/vectors \
	    $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$$d/%p.log $$b -j$(VALGRIND_JOBS) -S; \
	  if [ -n "$$(find $$d -name '*.log' -size +0)" ]; then \
	    cat $$(find $$d -name '*.log' -size +0); echo "valgrind found errors in $$b"; exit 1; fi; \
	done
