# `make help`: the targets people use, one line each. Included by the top
# Makefile; needs nothing from other files.
.PHONY: help
help:
	@echo 'make [target] (PREFIX, DESTDIR, CC, CFLAGS honoured; FRAME_KERNEL=sse2|neon|word|small'
	@echo '  forces the string kernel of lib/; see README.md)'
	@echo '  all        build libframe.a, libframe.so and the frame tool into build/ (the default)'
	@echo '  test       run every test target, stopping at the first failure'
	@echo '  check      the same as test'
	@echo '  test-kernels  the Criterion suite once per string kernel this host runs (sse2/neon, word, small)'
	@echo '  test-aarch64  the portable runner on AArch64 under qemu-user (NEON and word kernels), same output as the host'
	@echo '  install    install headers, libraries, libframe.pc and the frame tool under PREFIX'
	@echo '  uninstall  remove what install put there (same PREFIX and DESTDIR)'
	@echo '  dist       generate build/dist/frame.h, the single-header library'
	@echo '  examples   build the example programs into build/examples/'
	@echo '  fuzz       build the libFuzzer harnesses and corpus (make fuzz-smoke runs them briefly)'
	@echo '  bench      build the benchmarks (make bench-run runs them; results in docs/BENCH.md;'
	@echo '             make bench-scale: builder instructions per member at 20 and 511 members)'
	@echo '  coverage   run the Criterion suite with coverage; report in build/cov/'
	@echo 'CMake and Meson build the same library: see docs/DISTRIBUTION.md.'
