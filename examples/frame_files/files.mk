# examples/frame_files/files.mk: frame-files, a file server and its client.
# Included by examples/examples.mk (which defines EX_BUILD, EX_CFLAGS and
# EX_COMMON_OBJS).
#   make examples               builds build/examples/frame-files{,-server}
#   make test-examples-files    end-to-end tests (127.0.0.1 only, ~1 min)
#   make files-throughput       1 GiB upload vs a raw socket copy (not in make test)
#   make files-valgrind         the end-to-end tests with the server under valgrind

FF_DIR := examples/frame_files
FF_HDRS := $(FF_DIR)/ff.h $(FF_DIR)/sha256.h $(FF_DIR)/crc32c.h include/frame.h
FF_OBJS := $(EX_BUILD)/frame_files/ff.o $(EX_BUILD)/frame_files/sha256.o $(EX_BUILD)/frame_files/crc32c.o
FF_BINS := $(EX_BUILD)/frame-files $(EX_BUILD)/frame-files-server
FF_TEST_BINS := $(EX_BUILD)/files_crypto_test $(EX_BUILD)/files_rawcopy

EXAMPLE_BINS += $(FF_BINS)
.PHONY: test-examples-files files-throughput files-valgrind
examples: $(FF_BINS)

$(EX_BUILD)/frame_files/%.o: $(FF_DIR)/%.c $(FF_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -c $< -o $@

$(EX_BUILD)/frame-files-server: $(FF_DIR)/server.c $(FF_HDRS) $(FF_OBJS) $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -pthread -o $@ $< $(FF_OBJS) $(LIBA)

$(EX_BUILD)/frame-files: $(FF_DIR)/client.c $(FF_HDRS) $(FF_OBJS) $(EX_BUILD)/common/net.o $(LIBA)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS) $(EX_BUILD)/common/net.o $(LIBA)

$(EX_BUILD)/files_crypto_test: examples/tests/files_crypto_test.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(FF_OBJS)

$(EX_BUILD)/files_rawcopy: examples/tests/files_rawcopy.c $(FF_HDRS) $(FF_OBJS)
	$(CC) $(EX_CFLAGS) $(LDFLAGS) -o $@ $< $(EX_BUILD)/frame_files/sha256.o $(EX_BUILD)/frame_files/crc32c.o

test-examples-files: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) examples/tests/test_files.py $(EX_BUILD)

files-valgrind: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) examples/tests/test_files.py --valgrind $(EX_BUILD)

files-throughput: $(FF_BINS) $(FF_TEST_BINS)
	$(PYTHON) examples/tests/files_throughput.py $(EX_BUILD)

TEST_TARGETS += test-examples-files
