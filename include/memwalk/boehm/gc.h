/* memwalk's Boehm GC compatible header, found as <gc.h> (see gc/gc.h). */
#include "gc/gc.h"
