# examples/examples.mk: the example programs, included by the top Makefile.
#   make examples             builds build/examples/*
#   make test-udp-demo        runs frame-udp-demo and checks its table
#
# (frame-exec moved to apps/frame-exec: see apps/apps.mk.)
#
# Shared helpers for any example: examples/common/net.h. Link
# $(EX_COMMON_OBJS) and compile with $(EX_CFLAGS) to use them.

EX_BUILD := $(BUILD)/examples
EX_CFLAGS := $(ALL_CFLAGS) -Iexamples/common
EX_COMMON_HDRS := examples/common/net.h
EX_COMMON_OBJS := $(EX_BUILD)/common/net.o

.PHONY: test-udp-demo
examples: $(EX_BUILD)/frame-udp-demo

$(EX_BUILD)/common/%.o: examples/common/%.c $(EX_COMMON_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -c $< -o $@

$(EX_BUILD)/frame-udp-demo: examples/udp_demo/udp_demo.c include/frame.h $(EX_COMMON_OBJS) $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_COMMON_OBJS) $(LIBA)

test-udp-demo: $(EX_BUILD)/frame-udp-demo
	$(PYTHON) examples/tests/test_udp_demo.py $(EX_BUILD)/frame-udp-demo

TEST_TARGETS += test-udp-demo
