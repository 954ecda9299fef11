/* A library the collector's tests open with dlopen: its global must become a root. */
void *mw_test_dl_slot;
