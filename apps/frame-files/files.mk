# apps/frame-files/files.mk: frame-files-server and frame-files, included by
# apps/apps.mk (which defines APP_BUILD, APP_CFLAGS, APP_COMMON_OBJS, APP_LIBS).
#   make test-apps-files    end-to-end tests (127.0.0.1 only, about 2 minutes;
#                           two tests mount a small tmpfs when run as root)
#   make files-throughput   1 GiB upload vs a raw socket copy (not in make test)
#   make files-valgrind     the end-to-end tests with the server under valgrind
# Debian packages: libssl-dev (libcrypto), libuv1-dev (apps/common).

FF_DIR := apps/frame-files
FF_HDRS := $(FF_DIR)/ff.h $(FF_DIR)/crc32c.h $(APP_COMMON_HDRS)
FF_OBJS := $(APP_BUILD)/obj/frame-files/ff.o $(APP_BUILD)/obj/frame-files/crc32c.o
FF_BINS := $(APP_BUILD)/frame-files $(APP_BUILD)/frame-files-server
FF_TEST_BINS := $(APP_BUILD)/files_crypto_test $(APP_BUILD)/files_rawcopy

APP_TARGETS += $(FF_BINS)

$(APP_BUILD)/obj/frame-files/%.o: $(FF_DIR)/%.c $(FF_HDRS)
	@mkdir -p $(@D)
	$(CC) $(APP_CFLAGS) -c $< -o $@

$(APP_BUILD)/frame-files-server: $(APP_BUILD)/obj/frame-files/server.o $(FF_OBJS) $(APP_COMMON_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) -pthread -o $@ $^ $(APP_LIBS)

$(APP_BUILD)/frame-files: $(APP_BUILD)/obj/frame-files/client.o $(FF_OBJS) $(APP_COMMON_OBJS) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^ $(APP_LIBS)

$(APP_BUILD)/files_crypto_test: $(FF_DIR)/tests/files_crypto_test.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(APP_LIBS)

$(APP_BUILD)/files_rawcopy: $(FF_DIR)/tests/files_rawcopy.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(APP_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(APP_LIBS)

.PHONY: test-apps-files files-throughput files-valgrind
test-apps-files: $(FF_BINS) $(FF_TEST_BINS)
	timeout 300 $(PYTHON) $(FF_DIR)/tests/test_files.py $(APP_BUILD)
	timeout 300 $(PYTHON) $(FF_DIR)/tests/test_files_attacks.py $(APP_BUILD)

files-valgrind: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) $(FF_DIR)/tests/test_files.py --valgrind $(APP_BUILD)

files-throughput: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) $(FF_DIR)/tests/files_throughput.py $(APP_BUILD)

TEST_TARGETS += test-apps-files
