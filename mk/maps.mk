# The maps module: helper programs for its live tests, the fuzz target, the benchmark.

# ---- live-test helpers: one program built as PIE, non-PIE and static ---------------------------
MAPS_HELPER_DIR := $(BUILD)/tests/maps-helpers
MAPS_HELPERS    := $(MAPS_HELPER_DIR)/target-pie $(MAPS_HELPER_DIR)/target-nopie \
                   $(MAPS_HELPER_DIR)/target-static
MAPS_HELPER_FLAGS_pie    := -fPIE -pie
MAPS_HELPER_FLAGS_nopie  := -fno-pie -no-pie
MAPS_HELPER_FLAGS_static := -static

$(MAPS_HELPER_DIR)/target-%: tests/maps/helpers/target.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 -O1 -g $(WARN) $(MAPS_HELPER_FLAGS_$*) -o $@ $< -pthread

# The suite runs them; TEST_DEPS_maps would be expanded before this file is read, so the
# prerequisite is added with a rule of its own.
$(BUILD)/tests/test_maps: $(MAPS_HELPERS) $(MEMWALK)

# ---- fuzzing: libFuzzer + ASan on the maps/smaps parsers (always clang) --------------------------
FUZZ_MAPS     := $(BUILD)/fuzz/fuzz_maps
FUZZ_MAPS_SRC := fuzz/fuzz_maps.c $(wildcard src/maps/*.c) $(wildcard src/common/*.c)
FUZZ_TIME     ?= 60
FUZZ_CORPUS   := $(BUILD)/fuzz/corpus-maps

$(FUZZ_MAPS): $(FUZZ_MAPS_SRC) $(wildcard src/maps/*.h src/common/*.h include/memwalk/*.h)
	@mkdir -p $(@D)
	$(Q)$(call say,FUZZ,$@)clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(BASE_CPPFLAGS) -o $@ $(FUZZ_MAPS_SRC) -lm -pthread

# The seed corpus is the parser fixtures; new inputs go to the build tree, not the sources.
.PHONY: fuzz-maps fuzz-maps-check
fuzz-maps: $(FUZZ_MAPS)
	@mkdir -p $(FUZZ_CORPUS)
	$(Q)cp -n tests/maps/fixtures/* $(FUZZ_CORPUS)/ 2>/dev/null || true
	$(Q)log=$(BUILD)/fuzz/fuzz_maps.log; \
	  $(FUZZ_MAPS) -max_total_time=$(FUZZ_TIME) -max_len=65536 -artifact_prefix=$(BUILD)/fuzz/ \
	    $(FUZZ_CORPUS) >$$log 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ]; then tail -n 40 $$log; echo "fuzz-maps: FAILED (artifact in $(BUILD)/fuzz/)"; \
	  else echo "fuzz-maps: ok: $$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' $$log)"; fi; \
	  exit $$rc

fuzz: fuzz-maps

# make check: a bounded 10 s run. (The target is a prerequisite: make check builds it first.)
fuzz-maps-check: $(FUZZ_MAPS)
	$(Q)$(MAKE) --no-print-directory fuzz-maps FUZZ_TIME=6
CHECKS += fuzz-maps-check

# ---- benchmark: memwalk maps -x against pmap -x on 10,000 mappings -------------------------------
$(BUILD)/bench/maps_bench_target: bench/maps_bench_target.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

.PHONY: bench-maps
bench-maps: $(MEMWALK) $(BUILD)/bench/maps_bench_target
	$(Q)bench/maps_bench.sh $(BUILD)
bench: bench-maps
