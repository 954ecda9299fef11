# The cleanup header's and the benchmark harness's own targets: the valgrind and compile-time
# checks of cleanup.h, the harness's barrier program, `make bench-harness`.

# ---- cleanup.h --------------------------------------------------------------------------------
# cleanup_prog: every scenario of tests/cleanup/cases.h in one plain process, for valgrind.
$(BUILD)/tests/cleanup_prog: tests/cleanup/cleanup_prog.c tests/cleanup/cases.h include/memwalk/cleanup.h
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -o $@ $< -pthread

CHECKS += check-cleanup-valgrind check-cleanup-compile check-auto-free
.PHONY: check-cleanup-valgrind check-cleanup-compile check-auto-free
check-cleanup-valgrind: $(BUILD)/tests/cleanup_prog
	$(Q)tests/cleanup/valgrind-check.sh $< '17 scenarios, 0 failed'

# Misuses of cleanup.h must not compile (an ignored take, a wrong type, a goto past a cleanup).
CHECK_EARLY += check-cleanup-compile
check-cleanup-compile:
	$(Q)tests/cleanup/compile-checks.sh $(CURDIR) gcc clang

# The example prints its points, then releases them last-declared first.
check-auto-free: $(BUILD)/examples/auto_free
	$(Q)tests/cleanup/valgrind-check.sh $< '^p2: ' 'reverse order' 'point_free: p2' 'point_free: p1'

# ---- the harness ------------------------------------------------------------------------------
# The barrier program is built at -O2 whatever OPT says: it shows what the optimizer deletes.
$(BUILD)/tests/bench_barrier: tests/bench/barrier_prog.c include/memwalk/bench.h
	@mkdir -p $(@D)
	$(Q)$(call say,CC -O2,$@)$(CC) -std=gnu11 -O2 $(WARN) $(BASE_CPPFLAGS) -o $@ $< -pthread

# bench_self: MW_BENCH registrations run by mw_bench_main.
$(BUILD)/tests/bench_self: $(BUILD)/obj/tests/bench/bench_self.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $< $(LIB_A) $(LDLIBS_BASE)

.PHONY: bench-harness
bench: bench-harness
bench-harness: $(BUILD)/tests/bench_self
	$(Q)$< --baseline empty

# mw_bench_main end to end: formats, filter, baseline, SVG, bad usage (a quick run).
CHECKS += check-bench-main
.PHONY: check-bench-main
check-bench-main: $(BUILD)/tests/bench_self
	$(Q)tests/bench/check-main.sh $<

# The bench suite runs the barrier program; the experiments (src/lab) come with libmemwalk.a.
# make check's clang run leaves the experiments (src/lab, which has no internal assertions) to the
# gcc run, which checks their counts and their speed; it runs the harness's own tests.
CLANG_TESTS_bench := !(bench_exp/*)
TEST_DEPS_bench = $(BUILD)/tests/bench_barrier

# `memwalk bench` end to end: a full run (JSON + SVG), quick text and CSV runs, failure paths.
CHECKS += check-bench-cli
.PHONY: check-bench-cli
check-bench-cli: $(MEMWALK)
	$(Q)tests/bench/check-cli.sh $(MEMWALK)

# `make bench` also runs the experiments of `memwalk bench` (about 5 s).
.PHONY: bench-experiments
bench: bench-experiments
bench-experiments: $(MEMWALK)
	$(Q)$(MEMWALK) bench
