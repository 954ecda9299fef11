/* The Boehm GC compatible layer (libmemwalk-boehm.so): Boehm's functions, each a thin translation
 * to memwalk's public gc.h API. This header holds what its files share. */
#ifndef MEMWALK_BOEHM_H
#define MEMWALK_BOEHM_H

#ifndef GC_THREADS
#define GC_THREADS 1
#endif
#define GC_NO_THREAD_REDIRECTS 1

#include "memwalk/boehm/gc/gc.h"
#include "memwalk/gc.h"

#define BOEHM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Bytes added to every collected object (GC_set_all_interior_pointers): 1 by default, so a
 * pointer one past the end still points into the object, as with Boehm. */
extern int mw__boehm_extra __attribute__((visibility("hidden")));

/* Calls the program's out-of-memory function (GC_set_oom_fn) for a request of n bytes. */
void *mw__boehm_oom(size_t n) __attribute__((visibility("hidden")));

/* Hands msg (one line, no newline) to the program's warning procedure (GC_set_warn_proc). */
void mw__boehm_warn(const char *msg) __attribute__((visibility("hidden")));

/* Writes "memwalk gc: fatal: <what>" on stderr and aborts, as Boehm aborts on misuse. */
void mw__boehm_fatal(const char *what) __attribute__((noreturn, visibility("hidden")));

#endif
