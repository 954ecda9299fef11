# The leak checker: `memwalk leaks`, its preload, victims, oracle comparisons, benchmark.

# The preload uses the allocation-free number parsers and thread list reader of src/common.
PRELOAD_EXTRA_SRCS := src/common/parse.c src/common/task.c
$(PRELOAD): $(BUILD)/obj-preload/src/common/parse.o $(BUILD)/obj-preload/src/common/task.o

# Victim programs: ordinary -O2 builds without frame pointers, as Debian's and most programs are.
LEAK_VICTIM_SRCS := $(wildcard tests/leaks/victims/*.c)
LEAK_VICTIMS     := $(LEAK_VICTIM_SRCS:tests/leaks/victims/%.c=$(BUILD)/tests/leaks/victims/%) \
                    $(patsubst tests/leaks/victims/%.cc,$(BUILD)/tests/leaks/victims/%,\
                      $(wildcard tests/leaks/victims/*.cc))
LEAK_VICTIM_CFLAGS := -std=gnu11 -O2 -g -fno-omit-frame-pointer -Wall -Wno-unused-result -Wno-unused-but-set-variable

$(BUILD)/tests/leaks/victims/%: tests/leaks/victims/%.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -fomit-frame-pointer -o $@ $< -pthread

$(BUILD)/tests/leaks/victims/%: tests/leaks/victims/%.cc
	@mkdir -p $(@D)
	$(Q)$(call say,CXX,$@)$(CXX) -O2 -g -Wall -o $@ $<

# The entry points again in a program built without PIE: the address of malloc the program
# sees is its own PLT entry.
LEAK_VICTIMS += $(BUILD)/tests/leaks/victims/entry_points_nopie
$(BUILD)/tests/leaks/victims/entry_points_nopie: tests/leaks/victims/entry_points.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -fomit-frame-pointer -fno-pie -no-pie -o $@ $< -pthread

# The __libc_* twins in a program without PIE that takes the standard functions' addresses.
$(BUILD)/tests/leaks/victims/libc_twins: tests/leaks/victims/libc_twins.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -fomit-frame-pointer -fno-pie -no-pie -o $@ $<

$(BUILD)/tests/leaks/victims/static_prog: tests/leaks/victims/static_prog.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -O2 -static -o $@ $<

$(BUILD)/tests/leaks/victims/libplugin.so: tests/leaks/victims/lib/plugin.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -shared -fPIC -o $@ $<

.PHONY: leak-victims
leak-victims: $(LEAK_VICTIMS) $(BUILD)/tests/leaks/victims/libplugin.so

# The oracle comparisons and the robustness runs: test programs of their own (not unit suites:
# valgrind is slow), run once by `make check` through CHECKS.
LEAK_HARNESS_OBJ := $(BUILD)/obj/tests/leaks/harness.o
$(BUILD)/obj/tests/leaks/harness.o $(BUILD)/obj/tests/leaks/oracle.o $(BUILD)/obj/tests/leaks/robust.o \
  $(BUILD)/obj/tests/leaks/errors.o: ALL_CFLAGS += $(TEST_CPPFLAGS)

$(BUILD)/tests/leaks_oracle: $(BUILD)/obj/tests/leaks/oracle.o $(LEAK_HARNESS_OBJ)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $^ $(CRITERION_LIBS) $(LDLIBS_BASE)

$(BUILD)/tests/leaks_robust: $(BUILD)/obj/tests/leaks/robust.o $(LEAK_HARNESS_OBJ)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $^ $(CRITERION_LIBS) $(LDLIBS_BASE)

$(BUILD)/tests/leaks_errors: $(BUILD)/obj/tests/leaks/errors.o $(LEAK_HARNESS_OBJ)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $^ $(CRITERION_LIBS) $(LDLIBS_BASE)

CHECKS += check-leaks-oracle check-leaks-robust check-leaks-errors
.PHONY: check-leaks-oracle check-leaks-robust check-leaks-errors
check-leaks-oracle: all examples leak-victims $(BUILD)/tests/leaks_oracle
	$(Q)timeout 900 $(BUILD)/tests/leaks_oracle --short-filename -j2

# Bad frees and descriptors against memcheck (issue 12, 1 and 2).
check-leaks-errors: all leak-victims $(BUILD)/tests/leaks_errors
	$(Q)timeout 600 $(BUILD)/tests/leaks_errors --short-filename -j2

check-leaks-robust: all leak-victims $(BUILD)/tests/leaks_robust
	$(Q)timeout 600 $(BUILD)/tests/leaks_robust --short-filename -j2

# The unit suite tests the command's helpers directly, and the command and preload as programs.
LEAK_CLI_UNIT_OBJS := $(patsubst %,$(BUILD)/obj/src/cli/leaks_%.o,result supp names cache sections)
TEST_LDLIBS_leaks := $(LEAK_CLI_UNIT_OBJS) $(LIB_A)
# (The suite rule is made before this file is read, so its extra prerequisites go here.)
$(BUILD)/tests/test_leaks: $(LEAK_CLI_UNIT_OBJS) \
                           $(MEMWALK) $(PRELOAD) $(BUILD)/tests/leaks/victims/definite_one \
                           $(BUILD)/tests/leaks/victims/entry_points \
                           $(BUILD)/tests/leaks/victims/fork_child

# ---- benchmark: bench/leak_overhead (make bench runs it) ----------------------------------------
LEAK_BENCH_DIR := $(BUILD)/bench/leak_overhead
$(LEAK_BENCH_DIR)/%: bench/leak_overhead/%.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -o $@ $<

.PHONY: bench-leak
bench: bench-leak
bench-leak: all $(LEAK_BENCH_DIR)/alloc_heavy $(LEAK_BENCH_DIR)/gen_sql $(LEAK_BENCH_DIR)/measure
	$(Q)bench/leak_overhead/run.sh $(BUILD)

# ---- fuzzing: libFuzzer + ASan on the command's parsers (always clang) -------------------------
# The result stream, the symbol cache file and suppression files; seeds: the suppression
# fixtures.
FUZZ_LEAKS     := $(BUILD)/fuzz/fuzz_leaks
FUZZ_LEAKS_SRC := fuzz/fuzz_leaks.c $(patsubst %,src/cli/leaks_%.c,result supp names cache sections) \
                  $(wildcard src/common/*.c)
FUZZ_LEAKS_CORPUS := $(BUILD)/fuzz/corpus-leaks

$(FUZZ_LEAKS): $(FUZZ_LEAKS_SRC) src/cli/leaks_int.h src/leak/record.h $(wildcard src/common/*.h)
	@mkdir -p $(@D)
	$(Q)$(call say,FUZZ,$@)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(BASE_CPPFLAGS) -DMW_BUILD_DIR='"$(abspath $(BUILD))"' \
	  -o $@ $(FUZZ_LEAKS_SRC) -lm -pthread

.PHONY: fuzz-leaks fuzz-leaks-check
fuzz-leaks: $(FUZZ_LEAKS)
	@mkdir -p $(FUZZ_LEAKS_CORPUS)
	$(Q)cp -n tests/leaks/fixtures/*.supp $(FUZZ_LEAKS_CORPUS)/ 2>/dev/null || true
	$(Q)log=$(BUILD)/fuzz/fuzz_leaks.log; \
	  $(FUZZ_LEAKS) -max_total_time=$(FUZZ_TIME) -max_len=16384 -artifact_prefix=$(BUILD)/fuzz/ \
	    $(FUZZ_LEAKS_CORPUS) >$$log 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ]; then tail -n 40 $$log; echo "fuzz-leaks: FAILED (artifact in $(BUILD)/fuzz/)"; \
	  else echo "fuzz-leaks: ok: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log)"; fi; \
	  exit $$rc

fuzz: fuzz-leaks

# make check: a bounded 10 s run.
fuzz-leaks-check:
	$(Q)$(MAKE) --no-print-directory fuzz-leaks FUZZ_TIME=6
CHECKS += fuzz-leaks-check

# ---- stress: the tracer's crash cases in loops (make stress), a short slice in make check -------
LEAK_STRESS_RUNS ?= 20
.PHONY: stress-leaks check-leaks-stress
stress: stress-leaks
stress-leaks: all leak-victims
	$(Q)stress/leak_stress.sh $(BUILD) $(LEAK_STRESS_RUNS)

CHECKS += check-leaks-stress
check-leaks-stress: all leak-victims
	$(Q)stress/leak_stress.sh $(BUILD) 2

# ---- unit tests of the preload's tables and unwinder: its objects from an archive, without the
# entry points, the constructor and the exit path (tests/leak_preload/stubs.h stands in) ---------
LEAK_PRELOAD_TEST_A := $(BUILD)/tests/libleak-preload-test.a
LEAK_PRELOAD_TEST_OBJS = $(filter-out %/entry.o %/init.o %/proc.o %/signals.o %/exit.o %/errors.o %/fds.o,\
                           $(filter $(BUILD)/obj-preload/src/leak/% %/assert.o,$(PRELOAD_OBJS)))
$(LEAK_PRELOAD_TEST_A): $(PRELOAD)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $(LEAK_PRELOAD_TEST_OBJS)
TEST_DEPS_leak_preload   := $(LEAK_PRELOAD_TEST_A)
TEST_LDLIBS_leak_preload  = $(LEAK_PRELOAD_TEST_A) $(LIB_A) -lunwind
TEST_CFLAGS_leak_preload := -fomit-frame-pointer

# ---- fuzzing the allocation-free maps reader the exit check uses (make fuzz) ---------------------
FUZZ_PROCMAPS := $(BUILD)/fuzz/fuzz_procmaps
$(FUZZ_PROCMAPS): fuzz/fuzz_procmaps.c src/scan/procmaps.c src/scan/procmaps.h src/common/parse.c
	@mkdir -p $(@D)
	$(Q)$(call say,FUZZ,$@)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(BASE_CPPFLAGS) -o $@ fuzz/fuzz_procmaps.c \
	  src/scan/procmaps.c src/common/parse.c
.PHONY: fuzz-procmaps
fuzz: fuzz-procmaps
fuzz-procmaps: $(FUZZ_PROCMAPS)
	@mkdir -p $(BUILD)/fuzz/corpus-procmaps
	$(Q)cat /proc/self/maps > $(BUILD)/fuzz/corpus-procmaps/self
	$(Q)$(FUZZ_PROCMAPS) -max_total_time=$(FUZZ_TIME) -max_len=65536 \
	  -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-procmaps >$(BUILD)/fuzz/fuzz_procmaps.log 2>&1 \
	  && echo "fuzz-procmaps: ok" || { tail -n 30 $(BUILD)/fuzz/fuzz_procmaps.log; exit 1; }
