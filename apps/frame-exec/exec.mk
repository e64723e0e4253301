# apps/frame-exec/exec.mk: frame-exec-server and frame-exec, included by
# apps/apps.mk.
#   make test-apps-exec    end-to-end tests and the attacks of issue 18 (127.0.0.1 only,
#                          about 1 minute; needs the openssl command for TLS)
#   make soak-exec         5,000 connections against one server (not in make test)

EXEC_DIR := apps/frame-exec
EXEC_HDRS := $(EXEC_DIR)/exec.h $(EXEC_DIR)/keeper.h $(EXEC_DIR)/cgroup.h $(APP_COMMON_HDRS)

$(APP_BUILD)/obj/frame-exec/%.o: $(EXEC_DIR)/%.c $(EXEC_HDRS)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -c $< -o $@

# The server runs each command under frame-exec-keeper, found next to it.
EXEC_SERVER_OBJS := $(addprefix $(APP_BUILD)/obj/frame-exec/,server.o spawn.o cgroup.o)
$(APP_BUILD)/frame-exec-server: $(EXEC_SERVER_OBJS) $(APP_COMMON_OBJS) $(LIBA) $(APP_BUILD)/frame-exec-keeper
	$(CC) $(LDFLAGS) -o $@ $(EXEC_SERVER_OBJS) $(APP_COMMON_OBJS) $(LIBA) $(APP_LIBS)

# libc only: started for every command, so it must start fast.
$(APP_BUILD)/frame-exec-keeper: $(APP_BUILD)/obj/frame-exec/keeper.o $(APP_BUILD)/obj/frame-exec/cgroup.o
	$(CC) $(LDFLAGS) -o $@ $^

$(APP_BUILD)/frame-exec: $(APP_BUILD)/obj/frame-exec/client.o $(APP_COMMON_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(APP_BUILD)/obj/frame-exec/client.o $(APP_COMMON_OBJS) $(LIBA) $(APP_LIBS)

APP_TARGETS += $(APP_BUILD)/frame-exec-server $(APP_BUILD)/frame-exec-keeper $(APP_BUILD)/frame-exec

.PHONY: test-apps-exec soak-exec
test-apps-exec: $(APP_BUILD)/frame-exec-server $(APP_BUILD)/frame-exec
	timeout 200 $(PYTHON) $(EXEC_DIR)/tests/test_exec.py $(APP_BUILD)
	timeout 200 $(PYTHON) $(EXEC_DIR)/tests/test_attacks.py $(APP_BUILD)

soak-exec: $(APP_BUILD)/frame-exec-server
	$(PYTHON) $(EXEC_DIR)/tests/soak_exec.py $(APP_BUILD)/frame-exec-server

TEST_TARGETS += test-apps-exec
