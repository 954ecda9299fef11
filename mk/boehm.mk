# The Boehm GC compatible layer (src/boehm, include/memwalk/boehm): libmemwalk-boehm.so, a thin
# translation of Boehm's API to libmemwalk.so's, and its checks against real programs.
#
#   build/libmemwalk-boehm.so   Boehm's GC_* functions; needs libmemwalk.so.0 (found next to it)

BOEHM_SRCS    := $(sort $(wildcard src/boehm/*.c))
BOEHM_OBJS    := $(BOEHM_SRCS:%.c=$(BUILD)/obj/%.o)
BOEHM_SO      := $(BUILD)/libmemwalk-boehm.so
BOEHM_SONAME  := libmemwalk-boehm.so.$(SOVERSION)
LINT_SRCS     += $(BOEHM_SRCS) $(wildcard include/memwalk/boehm/*.h include/memwalk/boehm/gc/*.h)
CLEAN_EXTRA   +=

all: $(BOEHM_SO)

# -z defs: every GC_* must be implemented here (an undefined one would fall through to libgc).
$(BOEHM_SO): $(BOEHM_OBJS) src/boehm/boehm.map $(LIB_SO)
	$(Q)$(call say,LD,$@)$(CC) -shared -Wl,-soname,$(BOEHM_SONAME) -Wl,-z,defs \
	  -Wl,--version-script=src/boehm/boehm.map -Wl,-rpath,'$$ORIGIN' -o $@ $(BOEHM_OBJS) \
	  -L$(BUILD) -lmemwalk -pthread -ldl
	$(Q)ln -sf libmemwalk-boehm.so $(BUILD)/$(BOEHM_SONAME)

# ---- tests: tests/boehm/test_*.c build against memwalk's <gc.h> and link with the layer ----------
TEST_CFLAGS_boehm  = -Iinclude/memwalk/boehm
TEST_LDLIBS_boehm  = -L$(BUILD) -lmemwalk-boehm -Wl,-rpath,$(abspath $(BUILD))
$(BUILD)/tests/test_boehm: $(BOEHM_SO)

# Real Debian programs built for Boehm GC (w3m, mmv, chase, debfoster): identical outputs on Boehm
# and on memwalk, by default and with MEMWALK_GC_COLLECT_EVERY (about half a minute).
CHECKS += check-boehm-programs check-boehm-peers
.PHONY: check-boehm-programs check-boehm-peers
check-boehm-programs: $(MEMWALK) $(BOEHM_SO)
	$(Q)tests/boehm/programs.sh $(MEMWALK)

# Boehm GC's own tests, compiled unchanged against memwalk's <gc.h> (skipped, and said so, when
# their sources are not on this machine).
check-boehm-peers: $(BOEHM_SO)
	$(Q)tests/boehm/peers.sh $(BUILD) $(CC)

# The gc-run tests run a program built against Boehm's own header and libgc.so.1, and a static one.
$(BUILD)/tests/test_boehm: $(MEMWALK) $(BUILD)/tests/boehm_prog $(BUILD)/tests/missing_prog \
                          $(BUILD)/tests/static_prog
$(BUILD)/tests/boehm_prog $(BUILD)/tests/missing_prog: $(BUILD)/tests/%: tests/boehm/progs/%.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 $(OPT) $(WARN) $< $$(pkg-config --cflags --libs bdw-gc) \
	  -ldl -o $@
$(BUILD)/tests/static_prog: tests/boehm/progs/static_prog.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -static $(OPT) $< -o $@

# ---- install: the library next to libmemwalk.so, the headers under include/memwalk/boehm --------
.PHONY: install-boehm uninstall-boehm
install: install-boehm
install-boehm: $(BOEHM_SO)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/memwalk/boehm/gc
	install -m 755 $(BOEHM_SO) $(DESTDIR)$(LIBDIR)/libmemwalk-boehm.so.$(VERSION)
	ln -sf libmemwalk-boehm.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(BOEHM_SONAME)
	ln -sf $(BOEHM_SONAME) $(DESTDIR)$(LIBDIR)/libmemwalk-boehm.so
	install -m 644 include/memwalk/boehm/gc.h $(DESTDIR)$(INCDIR)/memwalk/boehm/
	install -m 644 include/memwalk/boehm/gc/*.h $(DESTDIR)$(INCDIR)/memwalk/boehm/gc/

uninstall: uninstall-boehm
uninstall-boehm:
	rm -f $(DESTDIR)$(LIBDIR)/libmemwalk-boehm.so*

# ---- bench: the same Boehm binaries on Boehm and on memwalk (bench/boehm/run-bench) -------------
BOEHM_BENCH_RUNS ?= 5
$(BUILD)/bench/boehm/binary_trees: bench/boehm/binary_trees.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$@)$(CC) -std=gnu11 $(OPT) $(WARN) $< $$(pkg-config --cflags --libs bdw-gc) -o $@

.PHONY: bench-boehm
bench: bench-boehm
bench-boehm: $(MEMWALK) $(BOEHM_SO) $(if $(HAVE_LIBGC),$(BUILD)/bench/boehm/binary_trees)
	$(Q)if [ -z "$(HAVE_LIBGC)" ] || ! command -v w3m >/dev/null; then \
	  echo "bench-boehm: needs libgc-dev and w3m (scripts/install-deps adds them): skipped"; \
	else python3 bench/boehm/run-bench --memwalk $(MEMWALK) --runs $(BOEHM_BENCH_RUNS) \
	  --trees $(BUILD)/bench/boehm/binary_trees --gen-html tests/boehm/gen-html; fi

# `make lint` formats src/boehm with the rest (LINT_SRCS); cppcheck sees it here.
.PHONY: lint-boehm
lint: lint-boehm
lint-boehm:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Iinclude -Isrc -D__linux__ -D__x86_64__ $(BOEHM_SRCS)
