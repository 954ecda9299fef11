# The garbage collector (src/gc): the test suite's helpers, the randomized stress test, the
# sanitizer runs and the benchmarks against Boehm GC and malloc.
#
#   make stress-gc       GC_STRESS_OPS operations per run, -O0 and -O2, several seeds, several
#                        markers
#   make check-gc-stress the bounded slice `make check` runs
#   make check-gc-sanitize  the allocator under AddressSanitizer and valgrind (explicit roots)
#   make bench-gc        gcbench, churn, pause, multi-threaded binary-trees, free/realloc and
#                        false-retention benchmarks (bench/gc/run-bench)

GC_STRESS_OPS       ?= 3000000
GC_STRESS_SEEDS     ?= 1 2 3
GC_SLICE_OPS        ?= 160000
GC_BENCH_RUNS       ?= 5

# The suite dlopens a library of its own and runs the example. (A rule of its own: the
# Makefile expands TEST_DEPS_<suite> before it includes mk/*.mk.)
$(BUILD)/tests/test_gc: $(BUILD)/tests/libgc-dlroot.so $(BUILD)/examples/gc_points \
                        $(BUILD)/tests/gc-deep-stack

$(BUILD)/tests/libgc-dlroot.so: $(BUILD)/obj/tests/gc/dlroot.o
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -shared -o $@ $<

# A program the suite runs: it lifts its stack limit and runs again with a deep main stack.
$(BUILD)/tests/gc-deep-stack: $(BUILD)/obj/tests/gc/deep_stack.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $< $(LIB_A) $(LDLIBS_BASE)

# ---- stress: the same program at -O0 and -O2, against libmemwalk.a ----------------------------
GC_STRESS_BINS := $(BUILD)/stress/gc-stress-O0 $(BUILD)/stress/gc-stress-O2

$(BUILD)/stress/gc-stress-%: stress/gc_stress.c $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 -$* -g $(WARN) $(BASE_CPPFLAGS) $< $(LIB_A) \
	  $(LDLIBS_BASE) -o $@

.PHONY: stress-gc check-gc-stress check-gc-sanitize bench-gc
stress: stress-gc

stress-gc: $(GC_STRESS_BINS)
	$(Q)set -e; for s in $(GC_STRESS_SEEDS); do for b in $(GC_STRESS_BINS); do \
	  $$b --ops $(GC_STRESS_OPS) --seed $$s; \
	  MEMWALK_GC_POISON=1 MEMWALK_GC_CHECK=1 $$b --ops $$(($(GC_STRESS_OPS) / 4)) --seed $$s; \
	  MEMWALK_GC_MARK_STACK=16 MEMWALK_GC_UNMAP_AFTER=0 $$b --ops $$(($(GC_STRESS_OPS) / 4)) --seed $$s; \
	  $$b --ops $$(($(GC_STRESS_OPS) / 4)) --threads 4 --seed $$s; \
	  MEMWALK_GC_MARKERS=4 MEMWALK_GC_PARALLEL_MIN=0 MEMWALK_GC_POISON=1 $$b --ops $$(($(GC_STRESS_OPS) / 4)) --seed $$s; \
	  MEMWALK_GC_MARKERS=3 MEMWALK_GC_PARALLEL_MIN=0 MEMWALK_GC_MARK_STACK=16 MEMWALK_GC_POISON=1 \
	    $$b --ops $$(($(GC_STRESS_OPS) / 8)) --threads 3 --seed $$s; \
	  MEMWALK_GC_MARKERS=1 $$b --ops $$(($(GC_STRESS_OPS) / 4)) --seed $$s; \
	done; done

# The slice: each build plainly, with poisoning and structure checks, with a tiny mark stack
# (overflow recovery) and immediate page release, and with threads stopped at random points;
# marking with the default markers (one per CPU), with more markers than CPUs, and with one.
CHECKS += check-gc-stress
check-gc-stress: $(GC_STRESS_BINS)
	$(Q)set -e; for b in $(GC_STRESS_BINS); do \
	  $$b --ops $(GC_SLICE_OPS) --seed 11; \
	  MEMWALK_GC_POISON=1 MEMWALK_GC_CHECK=1 $$b --ops $$(($(GC_SLICE_OPS) / 2)) --seed 12; \
	  MEMWALK_GC_MARK_STACK=16 MEMWALK_GC_UNMAP_AFTER=0 $$b --ops $$(($(GC_SLICE_OPS) / 2)) --seed 13; \
	  $$b --ops $$(($(GC_SLICE_OPS) / 4)) --threads 4 --seed 14; \
	  MEMWALK_GC_POISON=1 MEMWALK_GC_CHECK=1 $$b --ops $$(($(GC_SLICE_OPS) / 8)) --threads 3 --seed 15; \
	  MEMWALK_GC_MARKERS=4 MEMWALK_GC_PARALLEL_MIN=0 MEMWALK_GC_POISON=1 MEMWALK_GC_MARK_STACK=16 \
	    $$b --ops $$(($(GC_SLICE_OPS) / 8)) --seed 16; \
	  MEMWALK_GC_MARKERS=1 $$b --ops $$(($(GC_SLICE_OPS) / 8)) --seed 17; \
	done

# ---- sanitizers: the collector built without stack/data scanning (MW_GC_EXPLICIT_ROOTS), its
# free slots reported to the tool, driven by the stress test in --explicit-roots mode. Covered:
# size classes, cursors and bitmaps, block sweep, free-run coalescing, large and huge objects,
# explicit free and realloc, user roots, the mark loop and its overflow rescan, finalizers.
GC_SAN_SRCS = $(sort $(wildcard src/gc/*.c src/scan/*.c src/common/*.c)) stress/gc_stress.c
GC_SAN_DEPS = $(GC_SAN_SRCS) $(wildcard src/gc/*.h src/scan/*.h include/memwalk/gc.h)
GC_SAN_FLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer $(WARN) $(BASE_CPPFLAGS) \
               -DMW_GC_EXPLICIT_ROOTS=1

$(BUILD)/stress/gc-stress-asan: $(GC_SAN_DEPS)
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)clang $(GC_SAN_FLAGS) -fsanitize=address,undefined \
	  -fno-sanitize-recover=all -DMW_GC_ASAN=1 $(GC_SAN_SRCS) -o $@ $(LDLIBS_BASE)

$(BUILD)/stress/gc-stress-valgrind: $(GC_SAN_DEPS)
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(GC_SAN_FLAGS) -DMW_GC_VALGRIND=1 $(GC_SAN_SRCS) -o $@ $(LDLIBS_BASE)

CHECKS += check-gc-sanitize
check-gc-sanitize: $(BUILD)/stress/gc-stress-asan $(BUILD)/stress/gc-stress-valgrind
	$(Q)set -e; a=$(BUILD)/stress/gc-stress-asan; v=$(BUILD)/stress/gc-stress-valgrind; \
	  $$a --explicit-roots --ops 250000 --seed 21; \
	  MEMWALK_GC_MARK_STACK=16 MEMWALK_GC_CHECK=1 $$a --explicit-roots --ops 120000 --seed 22; \
	  MEMWALK_GC_POISON=1 MEMWALK_GC_UNMAP_AFTER=0 $$a --explicit-roots --ops 120000 --seed 23; \
	  valgrind -q --error-exitcode=9 $$v --explicit-roots --ops 40000 --seed 24; \
	  MEMWALK_GC_MARK_STACK=16 valgrind -q --error-exitcode=9 $$v --explicit-roots --ops 25000 --seed 25

# ---- benchmarks: each source built against memwalk, Boehm GC (when libgc-dev is there) and
# malloc; bench/gc/run-bench runs them GC_BENCH_RUNS times and prints the medians.
GC_BENCH_PROGS := gcbench churn pause mtbinary freeloop shrink
GC_BENCH_ALLOCS := memwalk malloc $(if $(HAVE_LIBGC),boehm)
GC_BENCH_BINS := $(foreach p,$(GC_BENCH_PROGS),$(foreach a,$(GC_BENCH_ALLOCS),$(BUILD)/bench/gc/$(p)-$(a)))
# retention counts what a collector keeps: no malloc build
GC_BENCH_BINS += $(foreach a,memwalk $(if $(HAVE_LIBGC),boehm),$(BUILD)/bench/gc/retention-$(a))
GC_BENCH_CFLAGS = -std=gnu11 $(OPT) $(WARN) $(BASE_CPPFLAGS)

$(BUILD)/bench/gc/%-memwalk: bench/gc/%.c bench/gc/alloc.h $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(GC_BENCH_CFLAGS) -DBENCH_MEMWALK $< $(LIB_A) $(LDLIBS_BASE) -o $@
$(BUILD)/bench/gc/%-boehm: bench/gc/%.c bench/gc/alloc.h
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(GC_BENCH_CFLAGS) -DBENCH_BOEHM $< \
	  $$(pkg-config --cflags --libs bdw-gc) $(LDLIBS_BASE) -o $@
$(BUILD)/bench/gc/%-malloc: bench/gc/%.c bench/gc/alloc.h
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(GC_BENCH_CFLAGS) -DBENCH_MALLOC $< $(LDLIBS_BASE) -o $@

bench: bench-gc
bench-gc: $(GC_BENCH_BINS)
	$(Q)$(if $(HAVE_LIBGC),,echo "bench-gc: libgc-dev not found: no Boehm column (scripts/install-deps adds it)";) \
	  python3 bench/gc/run-bench --dir $(BUILD)/bench/gc --runs $(GC_BENCH_RUNS)
