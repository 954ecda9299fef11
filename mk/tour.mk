TEST_LDLIBS_tour := -lutil
