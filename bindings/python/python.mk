# bindings/python/python.mk: the Python binding (included by the top Makefile).
#   make python-peer   builds the C peer of the interop tests into build/python/
#   make test-python   runs the binding's unittest suite (vectors, C interop over
#                      sockets and asyncio, the ctypes binding, packaging)
#   make bench-python  frames per second, pure Python vs the ctypes binding
PY_DIR := bindings/python
PY_BUILD := $(BUILD)/python
PY_PEER := $(PY_BUILD)/c_peer
PY_ENV = PYTHONPATH=$(abspath $(PY_DIR)) PYTHONDONTWRITEBYTECODE=1 \
         LIBFRAME_LIBRARY=$(abspath $(BUILD)/$(SONAME)) \
         LIBFRAME_C_PEER=$(abspath $(PY_PEER)) LIBFRAME_VECTORS=$(abspath tests/vectors)

.PHONY: python-peer test-python bench-python

python-peer: $(PY_PEER)

$(PY_PEER): $(PY_DIR)/tests/c_peer.c include/frame.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBA) $(LDFLAGS)

test-python: $(PY_PEER) $(LIBSO)
	$(PY_ENV) $(PYTHON) -m unittest discover -s $(PY_DIR)/tests -t $(PY_DIR)/tests

bench-python: $(LIBSO)
	$(PY_ENV) $(PYTHON) $(PY_DIR)/bench_decode.py

TEST_TARGETS += test-python
