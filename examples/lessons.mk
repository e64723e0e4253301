# examples/lessons.mk: the seven lessons of examples/ (README.md "Examples"),
# included by the top Makefile. Each lesson is one .c file of at most 150
# lines; examples/lesson_net.h holds the socket set-up they share.
#   make examples       builds build/examples/<lesson> (and the other examples)
#   make test-lessons   runs every lesson against itself on 127.0.0.1 and
#                       checks its output; compiles each with -Werror first
# Lesson 4 needs libuv (Debian: libuv1-dev).

LESSONS := hello classic_exec epoll_echo uv_echo datagrams big_body read_header
LESSON_DIR := $(BUILD)/examples
LESSON_BINS := $(LESSONS:%=$(LESSON_DIR)/%)
LESSON_UV := $(shell pkg-config --libs libuv 2>/dev/null || echo -luv)

.PHONY: test-lessons test-lessons-warnings
examples: $(LESSON_BINS)

$(LESSON_BINS): $(LESSON_DIR)/%: examples/%.c examples/lesson_net.h include/frame.h include/frame_posix.h $(LIBA)
	@mkdir -p $(@D)
	@$(if $(filter uv_echo,$*),[ -f /usr/include/uv.h ] || pkg-config --exists libuv || \
	    { echo "examples/uv_echo.c needs libuv (Debian: apt-get install libuv1-dev)"; exit 1; })
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(if $(filter uv_echo,$*),$(LESSON_UV))

# Zero warnings under the project's flags, with every compiler at hand.
test-lessons-warnings: $(LIBA)
	@for cc in $(CC) $(shell command -v clang 2>/dev/null); do \
	    for l in $(LESSONS); do \
	        echo "$$cc -Werror examples/$$l.c"; \
	        $$cc $(ALL_CFLAGS) -Werror -fsyntax-only examples/$$l.c || exit 1; \
	    done; \
	done

test-lessons: test-lessons-warnings $(LESSON_BINS)
	$(PYTHON) examples/tests/test_lessons.py $(LESSON_DIR)

TEST_TARGETS += test-lessons
