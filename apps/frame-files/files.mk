# apps/frame-files/files.mk: frame-files, a file server and its client.
# Included by apps/apps.mk (or, until that exists, by examples/examples.mk).
#   make apps-files             builds build/apps/frame-files{,-server}
#   make test-apps-files        end-to-end tests (127.0.0.1 only, a few minutes)
#   make files-throughput       1 GiB upload vs a raw socket copy (not in make test)
#   make files-valgrind         the end-to-end tests with the server under valgrind
# Needs OpenSSL's libcrypto (Debian: libssl-dev).

FF_DIR := apps/frame-files
FF_BUILD := $(BUILD)/apps
FF_CFLAGS := $(ALL_CFLAGS) -Iexamples/common
FF_LIBS := -lcrypto
FF_HDRS := $(FF_DIR)/ff.h $(FF_DIR)/crc32c.h include/frame.h
FF_OBJS := $(FF_BUILD)/frame-files-obj/ff.o $(FF_BUILD)/frame-files-obj/crc32c.o
FF_BINS := $(FF_BUILD)/frame-files $(FF_BUILD)/frame-files-server
FF_TEST_BINS := $(FF_BUILD)/files_crypto_test $(FF_BUILD)/files_rawcopy
FF_NET_OBJ := $(BUILD)/examples/common/net.o

.PHONY: apps-files test-apps-files files-throughput files-valgrind
apps-files: $(FF_BINS)
examples: $(FF_BINS)

$(FF_BUILD)/frame-files-obj/%.o: $(FF_DIR)/%.c $(FF_HDRS)
	@mkdir -p $(@D)
	$(CC) $(FF_CFLAGS) -c $< -o $@

$(FF_BUILD)/frame-files-server: $(FF_DIR)/server.c $(FF_HDRS) $(FF_OBJS) $(LIBA)
	$(CC) $(FF_CFLAGS) $(LDFLAGS) -pthread -o $@ $< $(FF_OBJS) $(LIBA) $(FF_LIBS)

$(FF_BUILD)/frame-files: $(FF_DIR)/client.c $(FF_HDRS) $(FF_OBJS) $(FF_NET_OBJ) $(LIBA)
	$(CC) $(FF_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(FF_NET_OBJ) $(LIBA) $(FF_LIBS)

$(FF_BUILD)/files_crypto_test: $(FF_DIR)/tests/files_crypto_test.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(FF_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(FF_LIBS)

$(FF_BUILD)/files_rawcopy: $(FF_DIR)/tests/files_rawcopy.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(FF_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(FF_LIBS)

test-apps-files: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) $(FF_DIR)/tests/test_files.py $(FF_BUILD)
	$(PYTHON) $(FF_DIR)/tests/test_files_attacks.py $(FF_BUILD)

files-valgrind: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) $(FF_DIR)/tests/test_files.py --valgrind $(FF_BUILD)

files-throughput: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) $(FF_DIR)/tests/files_throughput.py $(FF_BUILD)

TEST_TARGETS += test-apps-files
