TEST_LDLIBS_tour := -lutil
# The examples suite runs the example programs: build them first.
TEST_DEPS_examples := $(EXAMPLE_BINS)
