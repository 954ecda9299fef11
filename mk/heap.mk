# The heap profiler: `memwalk heap`, its victims, the comparisons with massif, the benchmark.

# Victims: ordinary -O2 builds, as the leak checker's.
HEAP_VICTIMS := $(patsubst tests/heap/victims/%.c,$(BUILD)/tests/heap/victims/%,\
                  $(wildcard tests/heap/victims/*.c)) \
                $(patsubst tests/heap/victims/%.cc,$(BUILD)/tests/heap/victims/%,\
                  $(wildcard tests/heap/victims/*.cc))

$(BUILD)/tests/heap/victims/%: tests/heap/victims/%.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -fomit-frame-pointer -o $@ $< -pthread

$(BUILD)/tests/heap/victims/%: tests/heap/victims/%.cc
	@mkdir -p $(@D)
	$(Q)$(call say,CXX,$@)$(CXX) -O2 -g -Wall -o $@ $<

.PHONY: heap-victims
heap-victims: $(HEAP_VICTIMS)

# (mk/leak.mk is read after this file: its harness and benchmark paths are spelled out here.)
HEAP_HARNESS_OBJ := $(BUILD)/obj/tests/leaks/harness.o
HEAP_BENCH_TOOLS := $(addprefix $(BUILD)/bench/leak_overhead/,alloc_heavy gen_sql measure)

# The unit suite: the command's helpers linked in, the command run on the victims.
HEAP_CLI_OBJS := $(addprefix $(BUILD)/obj/src/cli/,heap_profile.o heap_tree.o heap_massif.o \
                   heap_svg.o leaks_symbols.o leaks_result.o leaks_names.o leaks_cache.o)
HEAP_TEST_OBJS := $(HEAP_HARNESS_OBJ) $(BUILD)/obj/tests/heap/massif.o
TEST_LDLIBS_heap = $(HEAP_CLI_OBJS) $(HEAP_TEST_OBJS) $(LIB_A)
$(BUILD)/tests/test_heap: $(HEAP_CLI_OBJS) $(HEAP_TEST_OBJS) $(MEMWALK) $(PRELOAD) $(HEAP_VICTIMS)

# The comparisons with massif (valgrind is slow: a program of its own, run once by make check).
$(BUILD)/obj/tests/heap/oracle.o: ALL_CFLAGS += $(TEST_CPPFLAGS)
$(BUILD)/tests/heap_oracle: $(BUILD)/obj/tests/heap/oracle.o $(HEAP_TEST_OBJS)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $^ $(CRITERION_LIBS) $(LDLIBS_BASE)

CHECKS += check-heap-oracle
.PHONY: check-heap-oracle
check-heap-oracle: all heap-victims $(BUILD)/tests/heap_oracle
	$(Q)timeout 600 $(BUILD)/tests/heap_oracle --short-filename -j2

# ---- benchmark: bench/heap_profile (make bench runs it) ------------------------------------------
.PHONY: bench-heap
bench: bench-heap
bench-heap: all $(HEAP_BENCH_TOOLS)
	$(Q)bench/heap_profile/run.sh $(BUILD)
