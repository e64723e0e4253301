# libframe — GNU make. `make` builds the libraries, `make test` runs everything.
# Honours CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR.

# The version lives in include/frame.h only; everything here follows from it.
VERSION_MAJOR := $(shell sed -n 's/^\#define FRAME_VERSION_MAJOR \([0-9]*\)/\1/p' include/frame.h)
VERSION := $(shell sed -n 's/^\#define FRAME_VERSION_STRING "\(.*\)"/\1/p' include/frame.h)

CC ?= cc
PYTHON ?= python3
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BUILD ?= build

WARN := -std=c99 -pedantic -Wall -Wextra -Wconversion -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wcast-qual -Wpointer-arith -Wundef
CFLAGS ?= -O2 -g
# FRAME_KERNEL=sse2|neon|word|small forces lib/'s string kernel (lib/scan.h)
# in every build of lib/; empty: the target's own.
FRAME_KERNEL ?=
KERNEL_FLAG := $(if $(FRAME_KERNEL),-DFRAME_KERNEL_$(shell echo '$(FRAME_KERNEL)' | tr a-z A-Z))
ALL_CFLAGS := $(WARN) $(CFLAGS) $(KERNEL_FLAG) -Iinclude
# Only frame_* symbols leave the shared library (see lib/internal.h for FRAME_API).
LIB_CFLAGS := $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DFRAME_BUILDING

# LIB_SRCS is the freestanding core (what the bare-metal, size and portable
# targets build); POSIX_SRCS the POSIX helpers of include/frame_posix.h, which
# the installed libraries hold too.
LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_HDRS := include/frame.h $(wildcard lib/*.h)
POSIX_SRCS := $(sort $(wildcard posix/*.c))
POSIX_HDRS := $(LIB_HDRS) include/frame_posix.h
LIB_OBJS := $(LIB_SRCS:lib/%.c=$(BUILD)/obj/%.o) $(POSIX_SRCS:posix/%.c=$(BUILD)/obj/posix/%.o)
LIBA := $(BUILD)/libframe.a
SONAME := libframe.so.$(VERSION_MAJOR)
LIBSO := $(BUILD)/libframe.so.$(VERSION)

TEST_TARGETS :=

.PHONY: all lib demo test test-readme test-vectors-fresh check clean install uninstall dist examples fuzz bench bench-run coverage
all: lib
lib: $(LIBA) $(LIBSO)

$(BUILD)/obj/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(BUILD)/obj/posix/%.o: posix/%.c $(POSIX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -Ilib -c $< -o $@

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) $(LDFLAGS) -o $@ $^
	ln -sf libframe.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libframe.so

# The first command of README.md: a stream of frames decoded one byte at a time.
demo: $(BUILD)/hello
	$(BUILD)/hello
$(BUILD)/hello: examples/hello.c $(LIBA)
	$(CC) $(ALL_CFLAGS) $< $(LIBA) -o $@

# README.md's example must compile exactly as shown, and run.
test-readme: $(LIBA)
	@mkdir -p $(BUILD)/readme
	$(PYTHON) -c 'import re,sys; s=open("README.md").read(); b=re.findall(r"```c\n(.*?)```", s, re.S); sys.exit("README.md has no C example") if not b else open("$(BUILD)/readme/example.c","w").write(b[0])'
	$(CC) $(ALL_CFLAGS) -Werror $(BUILD)/readme/example.c $(LIBA) -o $(BUILD)/readme/example
	$(BUILD)/readme/example > $(BUILD)/readme/out.txt
	grep -q "^hello$$" $(BUILD)/readme/out.txt
TEST_TARGETS += test-readme

# tests/vectors/*.json are generated: they must be what make_vectors.py writes.
test-vectors-fresh:
	$(PYTHON) tests/vectors/make_vectors.py --check
TEST_TARGETS += test-vectors-fresh

# A missing tool is a loud SKIP, or a failure with REQUIRE_TOOLS=1 (as in CI):
# $(call need_tool,NAME) at the start of a recipe.
REQUIRE_TOOLS ?= 0
define need_tool
command -v $(1) >/dev/null 2>&1 || { \
  if [ "$(REQUIRE_TOOLS)" = 1 ]; then echo "$@: $(1) is not installed (REQUIRE_TOOLS=1)"; exit 1; fi; \
  echo "$@: $(1) is not installed: SKIPPED"; exit 0; }
endef

# Each area's targets are in that area's file (`make help` lists the ones
# people use). Each file says at its top which variables it takes from the
# files above it; the order below is that order.
include tests/tests.mk
include mk/dist.mk                  # uses tests/tests.mk's TEST_SRCS, TEST_CFLAGS...
include fuzz/fuzz.mk
include tests/hardening/hardening.mk  # uses tests/tests.mk's and fuzz/fuzz.mk's
include bindings/python/python.mk
include examples/examples.mk
include examples/lessons.mk
include apps/apps.mk
include bench/bench.mk
include tools/frame/frame.mk
include mk/help.mk
include mk/buildsys.mk

# Runs every test target in order and stops at the first failure.
test: lib
	@set -e; for t in $(TEST_TARGETS); do echo "== make $$t"; $(MAKE) --no-print-directory $$t; done
check: test

clean:
	rm -rf $(BUILD)
