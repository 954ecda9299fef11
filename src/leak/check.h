/* What the exit check's files share: the snapshot of live blocks being classified, the marking
 * (mark.c) and the roots (roots.c). Only check.c, mark.c and roots.c include this. */
#ifndef MEMWALK_LEAK_CHECK_H
#define MEMWALK_LEAK_CHECK_H

#include "leak/leak.h"

/* One live block during the check. */
struct mw__cb {
    uintptr_t addr;
    uint64_t size;
    uint64_t seq;
    uint64_t indirect;
    uint32_t trace;
    uint32_t state; /* enum mw__leak_kind; starts DEFINITE (memcheck's "unreached") */
    uint64_t off;   /* addr - the allocator's pointer */
    uint8_t heur;   /* the memcheck heuristic that made it reachable, 0 if none */
    uint8_t vtable; /* MW__VT_*: whether its first word points at a vtable */
};
enum { MW__VT_UNKNOWN = 0, MW__VT_NO, MW__VT_YES };

/* The blocks, sorted by address, and the bounds of any pointer that may hit one. */
extern struct mw__cb *mw__B;
extern size_t mw__N;
extern uintptr_t mw__lo_addr, mw__hi_addr;

/* ---- mark.c ---- */
/* The mark stack (cap entries: each block is pushed at most twice). */
void mw__mark_init(uint32_t *stack, size_t cap);
/* Sets mw__lo_addr and mw__hi_addr and builds the lookup index of the blocks mw__B[0..mw__N)
 * (sorted by address). Returns 0, or -1 when out of memory (the lookups then search the blocks
 * themselves). */
int mw__mark_index(void);
/* The block containing v (memcheck's rule for 0-byte blocks included), or -1. */
long mw__mark_find(uintptr_t v);
/* A root word (a register, or a word of a root range). */
void mw__mark_hit(uintptr_t v);
/* Scans a root range. */
void mw__mark_range(uintptr_t lo, uintptr_t hi);
/* Marks everything reachable from what was hit so far. */
void mw__mark_drain(void);
/* Makes block i, unreached, a definitely lost leader of what it reaches (indirectly lost). */
void mw__mark_clique(size_t i);
uint64_t mw__mark_scanned(void);

/* ---- roots.c ---- */
/* Scans every root range (registers are hit by the caller). Returns 0, or -1 when the
 * mappings cannot be read. */
int mw__roots_scan(const struct mw__check_in *in);
/* Calls fn(lo', hi', ctx) for the parts of [lo, hi) that may hold data: all of it, but where
 * [lo, hi) is private anonymous memory, only the pages that were ever written (the rest reads
 * as zeros). For large blocks. */
void mw__roots_scan_written(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t, uintptr_t, void *),
                            void *ctx);
/* Closes what the scan opened (at the end of the check). */
void mw__roots_done(void);
/* 1 when a is in a readable file mapping whose first words point into executable file
 * mappings (memcheck's vtable test). */
int mw__roots_is_vtable(uintptr_t a);

#endif
