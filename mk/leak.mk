# The leak checker: `memwalk leaks`, its preload, victims, oracle comparisons, benchmark.

# Victim programs: ordinary -O2 builds without frame pointers, as Debian's and most programs are.
LEAK_VICTIM_SRCS := $(wildcard tests/leaks/victims/*.c)
LEAK_VICTIMS     := $(LEAK_VICTIM_SRCS:tests/leaks/victims/%.c=$(BUILD)/tests/leaks/victims/%)
LEAK_VICTIM_CFLAGS := -std=gnu11 -O2 -g -fno-omit-frame-pointer -Wall -Wno-unused-result -Wno-unused-but-set-variable

$(BUILD)/tests/leaks/victims/%: tests/leaks/victims/%.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) $(LEAK_VICTIM_CFLAGS) -fomit-frame-pointer -o $@ $< -pthread

$(BUILD)/tests/leaks/victims/static_prog: tests/leaks/victims/static_prog.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -O2 -static -o $@ $<

.PHONY: leak-victims
leak-victims: $(LEAK_VICTIMS)
