# memwalk: one non-recursive GNU Makefile. Each module adds its extra targets in mk/<module>.mk;
# sources, test suites and examples are found by their place in the tree.
#
#   make            build/memwalk, build/libmemwalk.{a,so}, build/libmemwalk-leak.so
#   make check      install missing Debian packages, build with gcc and clang, run every test
#   make tour       install missing packages, build, run `memwalk tour`
#   make examples | bench | stress | fuzz | lint | format | install | clean      V=1 for full commands
#   make ASSERTS=1  a debug build (build-debug/) with the internal invariants checked

VERSION     := 0.1.0
SOVERSION   := 0
PREFIX      ?= /usr/local
DESTDIR     ?=
# ASSERTS=1: a debug build with the internal invariants checked (src/common/assert.h), in a
# directory of its own so that it never mixes with the release objects.
ASSERTS     ?=
BUILD       ?= $(if $(filter 1,$(ASSERTS)),build-debug,build)
CLANG_BUILD ?= build-clang

ifeq ($(origin CC),default)
CC := gcc
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif
# $(call say,WHAT,FILE): the short line printed for each step unless V=1 (or QUIET=1, which
# `make tour` uses to keep its build to one line).
say = $(if $(Q),$(if $(QUIET),,echo '  $(1)	$(2)';))
# make tour and make check build with one job per core unless -j was given.
NPROC := $(shell nproc 2>/dev/null || echo 1)
JOBS   = $(if $(filter -j% j%,$(MAKEFLAGS)),,-j$(NPROC))

# Optional parts: found with pkg-config, switched off (and said so) when missing.
HAVE_LIBDW     := $(shell pkg-config --exists libdw libelf 2>/dev/null && echo 1)
HAVE_CRITERION := $(shell pkg-config --exists criterion 2>/dev/null && echo 1)
HAVE_LIBGC     := $(shell pkg-config --exists bdw-gc 2>/dev/null && echo 1)

OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Werror
CFLAGS   ?=
BASE_CPPFLAGS := -Iinclude -Isrc -I. -D_GNU_SOURCE -DMW_VERSION_STRING='"$(VERSION)"'
ALL_CFLAGS     = -std=gnu11 $(OPT) $(WARN) -fPIC -MMD -MP $(BASE_CPPFLAGS) $(CFLAGS)
LDLIBS_BASE   := -pthread -ldl -lm

ifeq ($(ASSERTS),1)
BASE_CPPFLAGS += -DMW_ASSERTS=1
endif
ifeq ($(HAVE_LIBDW),1)
BASE_CPPFLAGS += -DMW_HAVE_LIBDW=1
DW_LIBS := $(shell pkg-config --libs libdw libelf)
endif

# ---- sources ------------------------------------------------------------------------------------
LIB_MODULES     := common maps scan gc bench lab
LIB_SRCS        := $(sort $(foreach m,$(LIB_MODULES),$(wildcard src/$(m)/*.c)))
LIB_OBJS        := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# The experiments (src/lab) serve the memwalk command, the tour and the tests through the static
# archive; none of their names is public, so the shared library leaves them out.
LIB_SO_OBJS     := $(filter-out $(BUILD)/obj/src/lab/%,$(LIB_OBJS))
# The preload: the leak module and the scanner, built apart with their own flags (no libdw, no
# stdio, hidden symbols but the allocator entry points). PRELOAD_EXTRA_SRCS lets mk/leak.mk add
# allocation-free helpers from src/common.
PRELOAD_SRCS     = $(sort $(wildcard src/leak/*.c src/scan/*.c) src/common/assert.c $(PRELOAD_EXTRA_SRCS))
PRELOAD_OBJS     = $(PRELOAD_SRCS:%.c=$(BUILD)/obj-preload/%.o)
PRELOAD_CFLAGS  := -fvisibility=hidden -ftls-model=initial-exec -fno-omit-frame-pointer
CLI_SRCS        := $(sort $(wildcard src/cli/*.c tour/*.c))
CLI_OBJS        := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

LIB_A    := $(BUILD)/libmemwalk.a
LIB_SO   := $(BUILD)/libmemwalk.so
LIB_SONAME := libmemwalk.so.$(SOVERSION)
PRELOAD  := $(BUILD)/libmemwalk-leak.so
MEMWALK  := $(BUILD)/memwalk

# Modules add to these in mk/*.mk. CHECKS: the checks `make check` runs; CHECK_EARLY: those of
# them that use nothing of the build (they start at once, beside it).
CHECKS        :=
CHECK_EARLY   :=
EXAMPLE_BINS  :=
CLI_LDLIBS    :=
CLEAN_EXTRA   :=
# make lint: clang-format checks these (every C file of the tree), cppcheck the products' sources.
LINT_SRCS      = $(LIB_SRCS) $(PRELOAD_SRCS) $(CLI_SRCS) $(wildcard include/memwalk/*.h src/*/*.h) \
                 $(wildcard tests/*/*.[ch] tests/*/*/*.[ch] examples/*.c stress/*.c fuzz/*.c \
                   bench/*.c bench/*/*.[ch])

.PHONY: all check tour examples bench stress fuzz lint format install uninstall clean tests deps \
        config-note check-build-clang check-prereqs
all: $(MEMWALK) $(LIB_A) $(LIB_SO) $(PRELOAD) config-note

# Says which optional parts this build leaves out (scripts/install-deps adds what they need).
HAVE_CLANG := $(shell command -v clang >/dev/null 2>&1 && echo 1)
# (make tour leaves it to install-deps --tour, which says what the tour skips.)
config-note:
	@$(if $(HAVE_LIBDW)$(QUIET),,echo "memwalk: note: off: symbolized leak stacks (no libdw-dev): stacks print module+offset";) true
	@$(if $(HAVE_CRITERION)$(QUIET),,echo "memwalk: note: off: the test suites (no libcriterion-dev); make check installs it";) true
	@$(if $(HAVE_LIBGC)$(QUIET),,echo "memwalk: note: off: the Boehm GC comparison in make bench (no libgc-dev)";) true
	@$(if $(HAVE_CLANG)$(QUIET),,echo "memwalk: note: off: the clang build of make check and make fuzz (no clang)";) true

# ---- rules --------------------------------------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj-preload/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(call say,CC [LD],$<)$(CC) $(ALL_CFLAGS) $(PRELOAD_CFLAGS) -DMW_PRELOAD=1 -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)$(call say,AR,$@)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_SO_OBJS) src/libmemwalk.map
	$(Q)$(call say,LD,$@)$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
	  -Wl,--version-script=src/libmemwalk.map -o $@ $(LIB_SO_OBJS) $(LDLIBS_BASE)
	$(Q)ln -sf libmemwalk.so $(BUILD)/$(LIB_SONAME)

$(PRELOAD): $(PRELOAD_OBJS) src/leak/preload.map
	$(Q)$(call say,LD,$@)$(CC) -shared -Wl,--version-script=src/leak/preload.map \
	  -Wl,-z,nodelete -o $@ $(PRELOAD_OBJS) -pthread -ldl

$(MEMWALK): $(CLI_OBJS) $(LIB_A)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $(CLI_OBJS) $(LIB_A) $(CLI_LDLIBS) $(LDLIBS_BASE)

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS += $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

# ---- module fragments: included before the test template, which reads their TEST_* variables ---
include $(sort $(wildcard mk/*.mk))

# ---- tests: every tests/<suite>/test_*.c joins one Criterion binary $(BUILD)/tests/test_<suite>.
# A suite may set TEST_CFLAGS_<suite>, TEST_LDLIBS_<suite> and TEST_DEPS_<suite> in its mk file.
TEST_SUITES := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/*/test_*.c)))))
TEST_BINS   := $(TEST_SUITES:%=$(BUILD)/tests/test_%)
TEST_CPPFLAGS = -DMW_BUILD_DIR='"$(abspath $(BUILD))"' -DMW_SRC_DIR='"$(CURDIR)"'
CRITERION_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

define test_suite
$(BUILD)/tests/test_$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/$(1)/test_*.c)) $(LIB_A) \
                          $$(TEST_DEPS_$(1))
	@mkdir -p $$(@D)
	$$(Q)$$(call say,LD,$$@)$$(CC) -o $$@ \
	  $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/$(1)/test_*.c)) $(LIB_A) \
	  $$(TEST_LDLIBS_$(1)) $$(CRITERION_LIBS) $$(DW_LIBS) $$(LDLIBS_BASE)
$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/$(1)/*.c)): ALL_CFLAGS += $$(TEST_CPPFLAGS) $$(TEST_CFLAGS_$(1))
endef
$(foreach s,$(TEST_SUITES),$(eval $(call test_suite,$(s))))

tests: all $(TEST_BINS)

# ---- examples: examples/<name>.c -> $(BUILD)/examples/<name>, linked with libmemwalk.a ---------
$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(LIB_A)
	@mkdir -p $(@D)
	$(Q)$(call say,LD,$@)$(CC) -o $@ $< $(LIB_A) $(LDLIBS_BASE)
examples: $(EXAMPLE_BINS)
	@:
# Objects are kept, so a second make relinks nothing that did not change.
.SECONDARY:

# ---- the two README commands --------------------------------------------------------------------
deps:
	$(Q)scripts/install-deps

# The tour starts for anyone with a C compiler and make: install-deps --tour installs what it can
# and says what the tour skips without the rest; the build is parallel and says one line. The
# tour runs the examples point_leak and point_fixed under `memwalk leaks`: they are built too.
TOUR_ARGS ?=
tour:
	$(Q)scripts/install-deps --tour
	$(Q)echo "memwalk: building with $(CC) ($(NPROC) jobs; V=1 shows the commands)"
	$(Q)$(MAKE) --no-print-directory $(JOBS) QUIET=$(if $(Q),1) all examples
	$(Q)$(MEMWALK) tour $(TOUR_ARGS)

# check: scripts/check-runner runs the steps below side by side, one per core, each with a log
# of its own in $(BUILD)/check-logs, and prints them in this order: the gcc build (with what
# every check needs), the clang build, lint, the checks, the unit suites built by gcc, and those
# built by clang. Each step starts as soon as a core is free and the build it needs is done.
check: deps
	$(Q)scripts/check-runner --jobs $(NPROC) --logs $(BUILD)/check-logs $(CHECK_STEPS)

# The checks run side by side, so what they need is built before any runs, in one parallel make:
# all, the suites, the examples and every prerequisite of every check, read from make's own
# database (make -pq). A new check needs nothing more than its CHECKS line; a check whose recipe
# builds something itself (a sub-make) must name it as a prerequisite instead.
space := $(empty) $(empty)
check-prereqs:
	$(Q)$(MAKE) --no-print-directory $(JOBS) all tests examples \
	  $$($(MAKE) -pq --no-print-directory 2>/dev/null | \
	     sed -n -E 's/^($(subst $(space),|,$(strip $(CHECKS)))):(.*)$$/\2/p' | tr '|' ' ')

check-build-clang:
	$(Q)$(MAKE) --no-print-directory $(JOBS) CC=clang BUILD=$(CLANG_BUILD) ASSERTS=1 all tests examples

# The order the steps start in: the builds and the checks that need no build (CHECK_EARLY), then
# the longest steps first (so that none is left running alone at the end), then the rest. With
# clang, a suite runs the tests CLANG_TESTS_<suite> selects (a Criterion --filter pattern; all
# when unset): the timing experiments run once, in the gcc build's suite.
CHECK_LONG   := check-gc-stress check-leaks-oracle $(BUILD)/tests/test_tour check-gc-sanitize \
                check-boehm-programs fuzz-maps-check check-leaks-robust $(BUILD)/tests/test_bench
CHECK_LATE    = $(filter-out $(CHECK_EARLY) $(CHECK_LONG),$(CHECKS) $(TEST_BINS))
check_step    = $(if $(filter $(BUILD)/tests/test_%,$(1)),\
                  --suite $(1) build-gcc 'timeout 600 $(1) --short-filename',\
                  --step $(1) $(if $(filter $(CHECK_EARLY),$(1)),-,build-gcc) \
                    '$(MAKE) --no-print-directory $(1)')
CHECK_STEPS   = --step build-gcc - '$(MAKE) --no-print-directory check-prereqs' \
                --step build-clang - '$(MAKE) --no-print-directory check-build-clang' \
                --step lint - '$(MAKE) --no-print-directory lint' \
                $(foreach c,$(CHECK_EARLY) $(filter $(CHECKS) $(TEST_BINS),$(CHECK_LONG)) \
                  $(CHECK_LATE),$(call check_step,$(c))) \
                $(foreach s,$(TEST_SUITES),--suite $(CLANG_BUILD)/tests/test_$(s) build-clang \
                  'timeout 600 $(CLANG_BUILD)/tests/test_$(s) --short-filename \
                   $(if $(CLANG_TESTS_$(s)),--filter "$(CLANG_TESTS_$(s))")')

# ---- install ------------------------------------------------------------------------------------
INCDIR  := $(PREFIX)/include
LIBDIR  := $(PREFIX)/lib
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man

# Outside the loader's default directories, programs linked with `pkg-config --libs memwalk`
# find libmemwalk.so.0 through a run path (on Debian, /usr/local/lib is a default directory).
comma := ,
PC_RPATH = $(if $(filter /usr /usr/local,$(PREFIX)),,-Wl$(comma)-rpath$(comma)$${libdir})

$(BUILD)/memwalk.pc: memwalk.pc.in FORCE
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	  -e 's|@RPATH@|$(PC_RPATH)|g' $< > $@

install: all examples $(BUILD)/memwalk.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/memwalk $(DESTDIR)$(LIBDIR)/pkgconfig \
	  $(DESTDIR)$(INCDIR)/memwalk $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(MEMWALK) $(DESTDIR)$(BINDIR)/memwalk
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libmemwalk.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libmemwalk.so.$(VERSION)
	ln -sf libmemwalk.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libmemwalk.so
	install -m 755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/memwalk/libmemwalk-leak.so
	# the seed's Point programs, which `memwalk tour` runs under `memwalk leaks`
	install -m 755 $(BUILD)/examples/point_leak $(BUILD)/examples/point_fixed \
	  $(DESTDIR)$(LIBDIR)/memwalk/
	install -m 644 include/memwalk/*.h $(DESTDIR)$(INCDIR)/memwalk/
	install -m 644 $(BUILD)/memwalk.pc $(DESTDIR)$(LIBDIR)/pkgconfig/memwalk.pc
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(wildcard man/*.3) $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -rf $(DESTDIR)$(BINDIR)/memwalk $(DESTDIR)$(LIBDIR)/libmemwalk.* $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	  $(DESTDIR)$(LIBDIR)/memwalk $(DESTDIR)$(INCDIR)/memwalk $(DESTDIR)$(LIBDIR)/pkgconfig/memwalk.pc \
	  $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1))) \
	  $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(wildcard man/*.3)))

# ---- lint ---------------------------------------------------------------------------------------
# make check runs make lint; make format rewrites what clang-format would change.
lint:
	$(Q)clang-format --dry-run --Werror $(sort $(LINT_SRCS))
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -Iinclude -Isrc -D__linux__ -D__x86_64__ $(LIB_SRCS) $(PRELOAD_SRCS) $(CLI_SRCS)

format:
	$(Q)clang-format -i $(sort $(LINT_SRCS))

clean:
	rm -rf $(BUILD) $(CLANG_BUILD) build-debug $(CLEAN_EXTRA)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

FORCE:
