# examples/examples.mk: the example programs, included by the top Makefile.
#   make examples             builds build/examples/*
#   make test-examples-exec   frame-exec end-to-end tests (127.0.0.1 only)
#   make test-udp-demo        runs frame-udp-demo and checks its table
#   make soak-exec            5,000 connections against one server (not in make test)
#
# Shared helpers for any example: examples/common/{net,evloop}.h. Link
# $(EX_COMMON_OBJS) and compile with $(EX_CFLAGS) to use them.

EX_BUILD := $(BUILD)/examples
EX_CFLAGS := $(ALL_CFLAGS) -Iexamples/common
EX_COMMON_HDRS := examples/common/net.h examples/common/evloop.h
EX_COMMON_OBJS := $(EX_BUILD)/common/net.o $(EX_BUILD)/common/evloop.o
EX_EXEC_HDRS := examples/frame_exec/exec.h include/frame.h $(EX_COMMON_HDRS)

.PHONY: test-examples-exec test-udp-demo soak-exec
examples: $(EX_BUILD)/frame-exec $(EX_BUILD)/frame-exec-server $(EX_BUILD)/frame-udp-demo

$(EX_BUILD)/common/%.o: examples/common/%.c $(EX_COMMON_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -c $< -o $@

# The same event loop on poll(2), to test the portable backend on Linux too.
$(EX_BUILD)/common/evloop-poll.o: examples/common/evloop.c $(EX_COMMON_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -DEV_USE_POLL -c $< -o $@

$(EX_BUILD)/frame-exec-server: examples/frame_exec/server.c $(EX_EXEC_HDRS) $(EX_COMMON_OBJS) $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_COMMON_OBJS) $(LIBA)

$(EX_BUILD)/frame-exec-server-poll: examples/frame_exec/server.c $(EX_EXEC_HDRS) $(EX_BUILD)/common/net.o $(EX_BUILD)/common/evloop-poll.o $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_BUILD)/common/net.o $(EX_BUILD)/common/evloop-poll.o $(LIBA)

$(EX_BUILD)/frame-exec: examples/frame_exec/client.c $(EX_EXEC_HDRS) $(EX_COMMON_OBJS) $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_COMMON_OBJS) $(LIBA)

$(EX_BUILD)/frame-udp-demo: examples/udp_demo/udp_demo.c include/frame.h $(EX_COMMON_OBJS) $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_COMMON_OBJS) $(LIBA)

test-examples-exec: $(EX_BUILD)/frame-exec $(EX_BUILD)/frame-exec-server $(EX_BUILD)/frame-exec-server-poll
	$(PYTHON) examples/tests/test_exec.py $(EX_BUILD)

test-udp-demo: $(EX_BUILD)/frame-udp-demo
	$(PYTHON) examples/tests/test_udp_demo.py $(EX_BUILD)/frame-udp-demo

soak-exec: $(EX_BUILD)/frame-exec-server
	$(PYTHON) examples/tests/soak_exec.py $(EX_BUILD)/frame-exec-server

TEST_TARGETS += test-examples-exec test-udp-demo

-include apps/frame-files/files.mk
