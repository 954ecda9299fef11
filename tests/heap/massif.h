/* Reading massif.out files back (massif's own and memwalk heap's) for the heap profiler's
 * tests: every snapshot's figures and the nodes of the detailed ones. */
#ifndef MEMWALK_TESTS_HEAP_MASSIF_H
#define MEMWALK_TESTS_HEAP_MASSIF_H

#include <stddef.h>
#include <stdint.h>

#define MS_MEMWALK MW_BUILD_DIR "/memwalk"
#define MS_VICTIMS MW_BUILD_DIR "/tests/heap/victims"

struct ms_node {
    unsigned depth; /* 1: a top-level site (the caller of the allocation function) */
    unsigned nkids;
    uint64_t bytes;
    char what[512]; /* the frame without its address ("f (x.c:3)"), or "N places" */
};

struct ms_snap {
    uint64_t time, heap, extra;
    int detailed, peak;
    struct ms_node *nodes;
    size_t nnodes;
};

struct ms_file {
    char desc[512], cmd[512], unit[16];
    struct ms_snap *snaps;
    size_t nsnaps;
};

/* Reads path; returns 0, or -1 when it is not a massif file (a message on stderr). */
int ms_read(const char *path, struct ms_file *f);
void ms_free(struct ms_file *f);
/* The peak snapshot, or NULL. */
const struct ms_snap *ms_peak(const struct ms_file *f);
/* The largest mem_heap_B of any snapshot. */
uint64_t ms_max_heap(const struct ms_file *f);

#endif
