/* The heap profile of `memwalk heap` (profile.c), seen from the rest of the preload: one flag the
 * hooks test, and what they report. Off under `memwalk leaks`: one predictable branch per hook.
 *
 * The hooks sit where blocks.c adds, removes and moves a block, so they see exactly the blocks
 * the leak report counts. A block's slot meta is seq << MW__PROF_TRACE_BITS | trace id (blocks.c
 * keeps it so): the sequence number tells a block allocated before the profile started. */
#ifndef MEMWALK_LEAK_PROFILE_H
#define MEMWALK_LEAK_PROFILE_H

#include <stdint.h>

#define MW__PROF_TRACE_BITS 24

struct mw__leak_thread;

extern int mw__prof_on;

/* Reads the profile's options (the heap part of MEMWALK_LAUNCH) and starts it, once: from the
 * tracer's start, and again from its constructor in case the environment was not readable yet.
 * next_seq: the sequence number the next block will get. */
void mw__prof_init(uint64_t next_seq);
/* Thread t allocated a block of size bytes from trace. While t has frees batched (entry.c), its
 * events wait in t->prof and count when the batch is flushed, in the order they happened. */
void mw__prof_alloc(struct mw__leak_thread *t, uint64_t size, uint32_t trace);
/* Thread t frees a block of size bytes (slot meta). */
void mw__prof_free(struct mw__leak_thread *t, uint64_t size, uint64_t meta);
/* Thread t moved or resized a block (realloc): old size and meta, new size and trace. */
void mw__prof_realloc(struct mw__leak_thread *t, uint64_t old_size, uint64_t old_meta,
                      uint64_t size, uint32_t trace);
/* t's batch of frees is being flushed, free i next (i = the batch's size: all done): t's events
 * that came before it count now. Called when t->prof_due says one is due. */
void mw__prof_flush(struct mw__leak_thread *t, unsigned i);
/* At exit, before the result: sends the profile (PROFILE messages, record.h). */
void mw__prof_write(void);

#endif
