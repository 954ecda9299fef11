# The tour: its suite links -lutil (forkpty); `make tour` for anyone, checked as a user would.
TEST_LDLIBS_tour := -lutil
# make check's clang run leaves out what does not depend on the compiler: the whole tour's text
# and JSON, Python's section, section 4's experiments (whose counts test_bench checks with
# clang too) and the whole tour under memwalk leaks (the leak suites run with clang too). The
# gcc run runs them all.
CLANG_TESTS_tour := !(tour_stack_heap/*|tour_python/*|tour_text/fits_80_columns_*|tour_json/every_section_*|tour_leaks/*)
# The examples suite runs the example programs: build them first.
TEST_DEPS_examples := $(EXAMPLE_BINS)

# make tour as an unprivileged user without sudo, optional tools hidden from PATH.
CHECKS += check-tour-anyone
CHECK_EARLY += check-tour-anyone
.PHONY: check-tour-anyone
check-tour-anyone:
	$(Q)tests/tour/check-anyone.sh $(CURDIR)

# memwalk tour --html in headless Chromium (scripts/install-deps installs it for make check).
CHECKS += check-tour-html
.PHONY: check-tour-html
check-tour-html: $(MEMWALK) examples
	$(Q)tests/tour/check-html.sh $(MEMWALK) $(BUILD)/tests

# '-' is standard output and an unwritable output path fails first, for every command.
CHECKS += check-outputs
.PHONY: check-outputs
check-outputs: $(MEMWALK) examples
	$(Q)tests/tour/check-outputs.sh $(MEMWALK)
