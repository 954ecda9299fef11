/* memwalk: see and manage process memory from C. This umbrella header includes every module. */
#ifndef MEMWALK_MEMWALK_H
#define MEMWALK_MEMWALK_H

#define MEMWALK_VERSION_MAJOR  0
#define MEMWALK_VERSION_MINOR  1
#define MEMWALK_VERSION_PATCH  0
#define MEMWALK_VERSION_STRING "0.1.0"
/* One integer that grows with each release, for #if comparisons. */
#define MEMWALK_VERSION \
    (MEMWALK_VERSION_MAJOR * 10000 + MEMWALK_VERSION_MINOR * 100 + MEMWALK_VERSION_PATCH)

/* The version of the library actually loaded, "MAJOR.MINOR.PATCH" (static storage): compare it
 * with MEMWALK_VERSION_STRING to detect a header/library mismatch. */
const char *mw_version(void);

#include <memwalk/maps.h>
#include <memwalk/show.h>
#include <memwalk/cleanup.h>
#include <memwalk/gc.h>
#include <memwalk/bench.h>

#endif
