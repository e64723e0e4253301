# bench/bench.mk: the benchmark (included by the top Makefile). See docs/BENCH.md.
#   make bench           builds build/bench/bench and build/bench/loopback
#                        (installs libcjson-dev, libjansson-dev, libjson-c-dev,
#                        libsimdjson-dev when missing)
#   make bench-run       runs everything once (wall clock, callgrind, Python,
#                        loopback), prints the table, writes build/bench/results.md
#   make bench-record    bench-run, then writes the table to bench/RESULTS.md (the
#                        committed copy) and its summary into docs/BENCH.md
#   make bench-profile   callgrind profiles of libframe on every workload,
#                        per function and per line, into build/bench/profile/
#   make bench-reqrep    request/reply over loopback TCP, Nagle on and TCP_NODELAY
#                        (bench/reqrep.c, bench/reqrep_py.py; ~30 s): builds
#                        build/bench/reqrep and prints the Markdown table; bench-run
#                        runs it after run.py, bench-record records it too
# BENCH_ARGS passes options to bench/run.py, e.g. BENCH_ARGS='--quick' or
# BENCH_ARGS='--skip loopback'; BENCH_REQREP_ARGS to bench/reqrep_py.py, e.g.
# BENCH_REQREP_ARGS='--nagle-only' or '--record bench/RESULTS.md --doc docs/BENCH.md'.

BENCH_BUILD := $(BUILD)/bench
BENCH_BIN := $(BENCH_BUILD)/bench
BENCH_LOOPBACK := $(BENCH_BUILD)/loopback
BENCH_HDRS := bench/bench.h include/frame.h
BENCH_LIBS := -lcjson -ljansson -ljson-c -lsimdjson
# simdjson is C++: bench/peer_simdjson.cpp (extern "C" entry points), and the
# bench binary is linked with $(CXX) (make's default: g++) for the C++ runtime.
# The DOM parser and validate_utf8() live in libsimdjson, which picks its kernel
# at run time; On-Demand is compiled into peer_simdjson.cpp for the kernel that
# the compiler may assume (without -march: the scalar fallback). So that file
# gets -march=haswell (AVX2) where the CPU has it: not -march=native, whose
# AVX-512 valgrind cannot run.
BENCH_SIMDJSON_ARCH ?= $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw bmi2 /proc/cpuinfo && \
                         grep -qw pclmulqdq /proc/cpuinfo && echo -march=haswell)
BENCH_CXXFLAGS := -std=c++17 -Wall -Wextra -Wshadow -Wconversion $(CFLAGS) $(BENCH_SIMDJSON_ARCH)
# run.py copies $(BUILD)/$(SONAME) into $(BENCH_BUILD) and points the Python
# binding at the copy, so a rebuild of the library during a run changes nothing.
BENCH_ENV = PYTHONPATH=$(abspath bindings/python) PYTHONDONTWRITEBYTECODE=1
BENCH_RUN = $(BENCH_ENV) $(PYTHON) bench/run.py --build $(BENCH_BUILD) --repo $(CURDIR) \
            --library $(abspath $(BUILD)/$(SONAME)) --examples $(abspath $(BUILD)/apps)
# frame-files and its raw-copy baseline (apps/frame-files/files.mk), for the
# loopback rows; built when that makefile exists, and the rows stay "pending"
# if they do not build.
BENCH_FF_BINS := $(FF_BINS) $(filter %/files_rawcopy,$(FF_TEST_BINS))
BENCH_ARGS ?=
# Request/reply: the C rows (public API only, linked with $(LIBA); sendmsg() is
# wrapped to count frame_fd_write's calls) and the Python rows (the pure binding).
BENCH_REQREP := $(BENCH_BUILD)/reqrep
# The Python rows use the package as users get it: the extension (python-ext).
BENCH_REQREP_ENV = PYTHONPATH=$(abspath $(BUILD)/python/site) LIBFRAME_IMPL=extension PYTHONDONTWRITEBYTECODE=1
BENCH_REQREP_RUN = $(BENCH_REQREP_ENV) $(PYTHON) bench/reqrep_py.py --c-bench $(BENCH_REQREP)
BENCH_REQREP_ARGS ?=

.PHONY: bench-deps bench-tools bench-run bench-record bench-profile bench-reqrep
bench: $(BENCH_BIN) $(BENCH_LOOPBACK) $(BENCH_REQREP)

# Bench-only dependencies, installed when missing (Debian; root or sudo).
bench-deps:
	@if [ ! -f /usr/include/cjson/cJSON.h ] || [ ! -f /usr/include/jansson.h ] || \
	    [ ! -f /usr/include/json-c/json_tokener.h ] || [ ! -f /usr/include/simdjson.h ]; then \
	    echo "bench: installing libcjson-dev libjansson-dev libjson-c-dev libsimdjson-dev"; \
	    s=; [ "$$(id -u)" = 0 ] || s=sudo; \
	    DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq --no-install-recommends \
	        libcjson-dev libjansson-dev libjson-c-dev libsimdjson-dev; \
	fi
bench-tools:
	@if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then \
	    echo "bench: installing valgrind"; \
	    s=; [ "$$(id -u)" = 0 ] || s=sudo; \
	    DEBIAN_FRONTEND=noninteractive $$s apt-get install -y -qq --no-install-recommends valgrind; \
	fi

$(BENCH_BUILD)/%.o: bench/%.c $(BENCH_HDRS) | bench-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ibench -c $< -o $@

$(BENCH_BUILD)/%.o: bench/%.cpp bench/bench.h | bench-deps
	@mkdir -p $(@D)
	$(CXX) $(BENCH_CXXFLAGS) -Ibench -c $< -o $@

# -z now: no lazy symbol binding inside the measured loops (callgrind counts).
$(BENCH_BIN): $(BENCH_BUILD)/bench.o $(BENCH_BUILD)/workload.o $(BENCH_BUILD)/peers.o $(BENCH_BUILD)/peer_jsonc.o \
              $(BENCH_BUILD)/peer_simdjson.o $(LIBA)
	$(CXX) $(LDFLAGS) -Wl,-z,now -o $@ $^ $(BENCH_LIBS)

$(BENCH_LOOPBACK): $(BENCH_BUILD)/loopback.o $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $^

# No cJSON or jansson needed here (an explicit rule: not the pattern rule above).
$(BENCH_BUILD)/reqrep.o: bench/reqrep.c include/frame.h include/frame_posix.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BENCH_REQREP): $(BENCH_BUILD)/reqrep.o $(LIBA)
	$(CC) $(LDFLAGS) -Wl,--wrap=sendmsg -o $@ $^

bench-reqrep: $(BENCH_REQREP) python-ext
	$(BENCH_REQREP_RUN) $(BENCH_REQREP_ARGS)

bench-run: bench bench-tools $(LIBSO) python-ext
	$(if $(BENCH_FF_BINS),-@$(MAKE) --no-print-directory $(BENCH_FF_BINS))
	$(BENCH_RUN) $(BENCH_ARGS)
	$(BENCH_REQREP_RUN) $(BENCH_REQREP_ARGS)

# run.py rewrites bench/RESULTS.md whole; reqrep_py.py then appends its section.
bench-record: bench bench-tools $(LIBSO) python-ext
	$(if $(BENCH_FF_BINS),-@$(MAKE) --no-print-directory $(BENCH_FF_BINS))
	$(BENCH_RUN) --record bench/RESULTS.md --doc docs/BENCH.md $(BENCH_ARGS)
	$(BENCH_REQREP_RUN) --record bench/RESULTS.md --doc docs/BENCH.md $(BENCH_REQREP_ARGS)

# Builds its own binary from a snapshot of lib/ (so lines match the source shown).
bench-profile: bench-deps bench-tools
	$(BENCH_RUN) --profile --cc "$(CC)" --cflags "$(CFLAGS)" --cxx "$(CXX)" \
	    --cxxflags="$(BENCH_SIMDJSON_ARCH)" $(BENCH_ARGS)

# ---- builder scaling (bench/builder_scale.c) -----------------------------------
#   make bench-scale     callgrind instructions per member of headers of 20 and
#                        512 members (the size member + 511) built by the builder
BENCH_SCALE := $(BENCH_BUILD)/builder_scale
BENCH_SCALE_SIZES ?= 20 511

$(BENCH_BUILD)/builder_scale.o: bench/builder_scale.c include/frame.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BENCH_SCALE): $(BENCH_BUILD)/builder_scale.o $(LIBA)
	$(CC) $(LDFLAGS) -Wl,-z,now -o $@ $^

.PHONY: bench-scale
bench-scale: $(BENCH_SCALE) bench-tools
	@for n in $(BENCH_SCALE_SIZES); do \
	    reps=$$((20000 / n)); out=$(BENCH_BUILD)/scale.$$n.cg; rm -f $$out*; \
	    valgrind -q --tool=callgrind --collect-atstart=no --toggle-collect=scale_build \
	        --callgrind-out-file=$$out $(BENCH_SCALE) --members $$n --reps $$reps >/dev/null || exit 1; \
	    ir=$$(sed -n 's/^\(totals\|summary\): *\([0-9]*\).*/\2/p' $$out | head -1); \
	    echo "builder_scale: $$n members: $$((ir / (n * reps))) instructions per member ($$ir for $$reps headers)"; \
	done
