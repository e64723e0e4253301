# apps/apps.mk: the programs of apps/ (products, not lessons), included by the
# top Makefile. They share apps/common/ (libuv event loop, OpenSSL TLS and
# tokens, per-address limits, logging): link $(APP_COMMON_OBJS) $(LIBA)
# $(APP_LIBS) and compile with $(APP_CFLAGS).
#
# Debian packages: libuv1-dev, libssl-dev (and openssl for the TLS tests).
#
#   make apps                builds every app

APP_BUILD := $(BUILD)/apps
# gnu99: POSIX and the libuv/OpenSSL headers; the project's warnings otherwise.
APP_CFLAGS := $(filter-out -std=c99,$(WARN)) -std=gnu99 $(CFLAGS) -Iinclude -Iapps/common
APP_LIBS := -luv -lssl -lcrypto
APP_COMMON_SRCS := $(sort $(wildcard apps/common/*.c))
APP_COMMON_HDRS := $(sort $(wildcard apps/common/*.h)) include/frame.h
APP_COMMON_OBJS := $(APP_COMMON_SRCS:apps/common/%.c=$(APP_BUILD)/common/%.o)
APP_TARGETS :=

.PHONY: apps apps-common
apps-common: $(APP_COMMON_OBJS)

$(APP_BUILD)/common/%.o: apps/common/%.c $(APP_COMMON_HDRS)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -c $< -o $@

include apps/frame-exec/exec.mk
include apps/frame-files/files.mk

apps: $(APP_TARGETS)

# apps/common through a tiny echo server: limits, deadlines, TLS.
$(APP_BUILD)/common-echo: apps/common/tests/echo_server.c $(APP_COMMON_OBJS) $(APP_COMMON_HDRS)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(APP_COMMON_OBJS) $(APP_LIBS)

$(APP_BUILD)/common-guard-test: apps/common/tests/guard_test.c $(APP_COMMON_OBJS) $(APP_COMMON_HDRS)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(APP_COMMON_OBJS) $(APP_LIBS)

.PHONY: test-apps-common
test-apps-common: $(APP_BUILD)/common-echo $(APP_BUILD)/common-guard-test
	$(APP_BUILD)/common-guard-test
	timeout 120 $(PYTHON) apps/common/tests/test_common.py $(APP_BUILD)/common-echo
TEST_TARGETS += test-apps-common
