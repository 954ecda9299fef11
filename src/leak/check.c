/* The exit-time leak check: snapshot the live blocks, hit what the registers and the roots point
 * at (roots.c), mark what that reaches and classify every block the way memcheck does (mark.c),
 * and sum the blocks into loss records, one per allocation stack and kind. In an unreachable
 * cycle the first allocated block is the definite one: lost blocks are taken in allocation
 * order. */
#include "leak/check.h"

#include <string.h>

int mw__check_run(const struct mw__check_in *in, struct mw__check_out *out)
{
    size_t n = mw__blocks_count() + 64, i, got, nrec = 0;
    uint32_t ntr = mw__traces_count(), *stack;
    mw__block_t *snap;
    mw__pair_t *order;
    mw__leak_lossrec_t *acc;
    struct mw__cb *B;
    size_t acc_len = (size_t)ntr * 4 * sizeof(mw__leak_lossrec_t), stack_cap = 2 * n + 16;

    memset(out, 0, sizeof *out);
    snap = mw__leak_map(n * sizeof(mw__block_t));
    B = mw__leak_map(n * sizeof(struct mw__cb));
    stack = mw__leak_map(stack_cap * sizeof(uint32_t));
    order = mw__leak_map(n * sizeof(mw__pair_t));
    acc = mw__leak_map(acc_len ? acc_len : 4096);
    if (!snap || !B || !stack || !order || !acc)
        return -1;
    got = mw__blocks_snapshot(snap, n);
    if (got > n)
        got = n;
    /* By address, for the binary search of every candidate pointer. */
    for (i = 0; i < got; i++) {
        order[i].key = snap[i].addr;
        order[i].val = i;
    }
    mw__sort_pairs(order, got);
    for (i = 0; i < got; i++) {
        const mw__block_t *s = &snap[order[i].val];
        B[i].addr = s->addr;
        B[i].size = s->size;
        B[i].seq = s->seq;
        B[i].trace = s->trace;
        B[i].off = s->flags;
        B[i].heur = 0;
        B[i].vtable = MW__VT_UNKNOWN;
        B[i].indirect = 0;
        B[i].state = MW__LEAK_DEFINITE;
    }
    mw__B = B;
    mw__N = got;
    mw__mark_init(stack, stack_cap);
    (void)mw__mark_index(); /* without it, lookups search the blocks */

    /* Roots: registers, then memory. */
    for (i = 0; i < in->self_nregs; i++)
        mw__mark_hit(in->self_regs[i]);
    for (i = 0; i < in->nthreads; i++) {
        unsigned r;
        for (r = 0; r < in->threads[i].nregs; r++)
            mw__mark_hit(in->threads[i].regs[r]);
    }
    if (mw__roots_scan(in) < 0)
        return -1;
    mw__mark_drain();

    /* Cliques, in allocation order. */
    for (i = 0; i < got; i++) {
        order[i].key = B[i].seq;
        order[i].val = i;
    }
    mw__sort_pairs(order, got);
    for (i = 0; i < got; i++)
        mw__mark_clique((size_t)order[i].val);

    /* Loss records: one per (trace, kind). */
    for (i = 0; i < got; i++) {
        mw__leak_lossrec_t *r;
        uint32_t t = B[i].trace < ntr ? B[i].trace : 0;
        r = &acc[(size_t)t * 4 + B[i].state];
        r->trace = t;
        r->kind = B[i].state;
        r->blocks++;
        r->bytes += B[i].size;
        if (B[i].state == MW__LEAK_DEFINITE)
            r->indirect += B[i].indirect;
        if (B[i].state == MW__LEAK_REACHABLE && B[i].heur) {
            out->heur_bytes[B[i].heur - 1] += B[i].size;
            out->heur_blocks[B[i].heur - 1]++;
        }
    }
    for (i = 0; i < (size_t)ntr * 4; i++)
        if (acc[i].blocks)
            acc[nrec++] = acc[i];
    out->recs = acc;
    out->nrecs = nrec;
    out->recs_map_len = acc_len;
    out->scan_bytes = mw__mark_scanned();
    mw__roots_done();
    return 0;
}
