# bindings/python/python.mk: the Python package (included by the top Makefile).
#   make python-ext        the package with its C extension, built in
#                          build/python/site/ (the tests import it from there);
#                          the extension compiles with -Wall -Wextra -Werror
#   make python-peer       the C peer of the interop tests, build/python/c_peer
#   make test-python       the unittest suite with the extension as default, then
#                          again with LIBFRAME_IMPL=pure (LIBFRAME_SKIP_SLOW=1: the
#                          RSS test and the venv install run once)
#   make test-python-asan  the suite with an AddressSanitizer build of the
#                          extension (ASan runtime LD_PRELOADed)
#   make bench-python      extension vs pure vs the classic loops, one run
PY_DIR := bindings/python
PY_BUILD := $(BUILD)/python
PY_PEER := $(PY_BUILD)/c_peer
PY_INC := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
PY_PKG_SRCS := $(wildcard $(PY_DIR)/libframe/*.py $(PY_DIR)/libframe/*.pyi) $(PY_DIR)/libframe/py.typed
PY_EXT_SRCS := $(sort $(wildcard $(PY_DIR)/src/*.c))
PY_EXT_HDRS := $(wildcard $(PY_DIR)/src/*.h)
# The extension's own files (src/): every warning an error. lib/*.c: the library's flags.
PY_EXT_CFLAGS := -std=c99 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -I$(PY_INC) -Iinclude
PY_LIB_CFLAGS := $(WARN) -fPIC -fvisibility=hidden -Iinclude
PY_ENV_COMMON = PYTHONDONTWRITEBYTECODE=1 LIBFRAME_C_PEER=$(abspath $(PY_PEER)) \
                LIBFRAME_VECTORS=$(abspath tests/vectors)
PY_ENV = PYTHONPATH=$(abspath $(PY_BUILD)/site) LIBFRAME_EXTENSION=required $(PY_ENV_COMMON)
PY_ASAN_RT = $(shell $(CC) -print-file-name=libasan.so)

.PHONY: python-ext python-peer test-python test-python-asan bench-python

python-peer: $(PY_PEER)

$(PY_PEER): $(PY_DIR)/tests/c_peer.c include/frame.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS)

# $(1): site directory, $(2): extra compiler flags
define py_ext_rules
$(1)/libframe/_native$(PY_EXT_SUFFIX): $(PY_EXT_SRCS) $(PY_EXT_HDRS) $(LIB_SRCS) $(LIB_HDRS) $(PY_PKG_SRCS:$(PY_DIR)/%=$(1)/%)
	@mkdir -p $(1)/obj
	for f in $(LIB_SRCS); do \
	  $(CC) $(PY_LIB_CFLAGS) $(CFLAGS) $(2) -c $$$$f -o $(1)/obj/$$$$(basename $$$$f .c).o || exit 1; \
	done
	for f in $(PY_EXT_SRCS); do \
	  $(CC) $(PY_EXT_CFLAGS) $(CFLAGS) $(2) -c $$$$f -o $(1)/obj/py_$$$$(basename $$$$f .c).o || exit 1; \
	done
	$(CC) -shared $(2) $(LDFLAGS) -o $$@ $(PY_EXT_SRCS:$(PY_DIR)/src/%.c=$(1)/obj/py_%.o) $(LIB_SRCS:lib/%.c=$(1)/obj/%.o)
$(PY_PKG_SRCS:$(PY_DIR)/%=$(1)/%): $(1)/%: $(PY_DIR)/%
	@mkdir -p $$(@D)
	cp $$< $$@
endef
$(eval $(call py_ext_rules,$(PY_BUILD)/site,))
$(eval $(call py_ext_rules,$(PY_BUILD)/asan,-fsanitize=address -fno-omit-frame-pointer))

python-ext: $(PY_BUILD)/site/libframe/_native$(PY_EXT_SUFFIX) $(PY_PKG_SRCS:$(PY_DIR)/%=$(PY_BUILD)/site/%)

test-python: $(PY_PEER) python-ext
	$(PY_ENV) $(PYTHON) -m unittest discover -s $(PY_DIR)/tests -t $(PY_DIR)/tests
	LIBFRAME_IMPL=pure LIBFRAME_SKIP_SLOW=1 $(PY_ENV) $(PYTHON) -m unittest discover -s $(PY_DIR)/tests -t $(PY_DIR)/tests

# Python itself is not instrumented: leaks at exit are the interpreter's.
test-python-asan: $(PY_PEER) $(PY_BUILD)/asan/libframe/_native$(PY_EXT_SUFFIX)
	PYTHONPATH=$(abspath $(PY_BUILD)/asan) LIBFRAME_EXTENSION=required $(PY_ENV_COMMON) \
	  LIBFRAME_SKIP_SLOW=1 LD_PRELOAD=$(PY_ASAN_RT) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  PYTHONMALLOC=malloc $(PYTHON) -m unittest discover -s $(PY_DIR)/tests -t $(PY_DIR)/tests

# Read from stdin, so that the package comes from build/python/site and not
# from the script's directory.
bench-python: python-ext
	$(PY_ENV) $(PYTHON) - $(BENCH_PYTHON_ARGS) < $(PY_DIR)/bench_python.py

TEST_TARGETS += test-python
