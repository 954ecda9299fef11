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
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 -O1 -g $(WARN) $(MAPS_HELPER_FLAGS_$*) -o $@ $<

# The suite runs them; TEST_DEPS_maps would be expanded before this file is read, so the
# prerequisite is added with a rule of its own.
$(BUILD)/tests/test_maps: $(MAPS_HELPERS) $(MEMWALK)
