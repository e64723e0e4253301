# tests/hardening/hardening.mk: the hardening gates, included by the top
# Makefile after tests/tests.mk (CRITERION_CFLAGS, CRITERION_LIBS, the unit
# test binary for valgrind) and fuzz/fuzz.mk (JSONTESTSUITE, the reference
# JSON parser fuzz/ref_json.c).
#   make test-conformance  JSONTestSuite through the header validator
#   make test-hostile      hostile-input tests, every vector before a guard page
#   make test-static       cppcheck and gcc -fanalyzer on lib/ and posix/: no findings
#   make test-valgrind     the unit and hardening tests under valgrind memcheck
# (see fuzz/README.md)

.PHONY: test-conformance test-hostile test-static test-valgrind
TEST_TARGETS += test-conformance test-hostile test-static test-valgrind

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

# ---- static analysis of lib/ and posix/: no findings allowed (the symbol check that
# lib/ needs no allocator or stdio is tests/tests.mk's test-symbols)
# cppcheck's variableScope is off: lib/ declares its variables at the top of
# a function or block on purpose (STYLE.md); every other check is on.

test-static:
	@$(call need_tool,cppcheck); \
	echo "cppcheck lib/"; \
	cppcheck --quiet --error-exitcode=1 --std=c99 --enable=warning,style,performance,portability \
	  --inline-suppr -Iinclude -Ilib --suppress=missingIncludeSystem --suppress=variableScope lib/ posix/
	@$(call need_tool,gcc); set -e; for f in $(LIB_SRCS) $(POSIX_SRCS); do \
	  echo "gcc -fanalyzer $$f"; \
	  gcc $(WARN) -O1 -Iinclude -Ilib -DFRAME_BUILDING -fanalyzer -Werror -c $$f -o /dev/null; \
	done

# ---- valgrind: every process's log must stay empty (Criterion runs tests in
# worker processes whose exit status does not carry valgrind's verdict)
VALGRIND ?= valgrind
# Criterion jobs under valgrind: one per core (the gate took about 12
# minutes at 1 job)
VALGRIND_JOBS ?= 2
VALGRIND_FLAGS := -q --trace-children=yes --leak-check=full --show-leak-kinds=definite \
                  --errors-for-leak-kinds=definite --track-origins=yes \
                  --suppressions=$(CURDIR)/tests/hardening/valgrind.supp
VALGRIND_BINS := $(HARDENING_BIN) $(TEST_BIN)
test-valgrind: $(VALGRIND_BINS)
	@$(call need_tool,$(VALGRIND)); set -e; for b in $(VALGRIND_BINS); do \
	  d=$(BUILD)/valgrind/$$(basename $$b); rm -rf $$d; mkdir -p $$d; \
	  echo "== valgrind $$b"; \
	  HARDENING_JSONTS=$(JSONTESTSUITE) HARDENING_ROOT=$(CURDIR) FRAME_VECTOR_DIR=$(CURDIR)/tests/vectors \
	    $(VALGRIND) $(VALGRIND_FLAGS) --log-file=$$d/%p.log $$b -j$(VALGRIND_JOBS) -S; \
	  if [ -n "$$(find $$d -name '*.log' -size +0)" ]; then \
	    cat $$(find $$d -name '*.log' -size +0); echo "valgrind found errors in $$b"; exit 1; fi; \
	done
