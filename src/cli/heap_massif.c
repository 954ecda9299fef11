/* The massif.out file: massif's header lines, then every snapshot kept, oldest first, with the
 * tree of the detailed ones. ms_print and massif-visualizer read it as massif's own. */
#include "cli/heap_int.h"

#include <errno.h>

#define MAX_LEVELS 16

/* A node at indent: one line per inlined call at its address (each with one child), the real
 * function's line, then its children. */
static void put_node(FILE *f, const struct hp_node *n, unsigned indent, lk_sym_t *sym,
                     double threshold)
{
    static char lines[MAX_LEVELS][HP_LINE];
    size_t nl, k;
    uint32_t i;

    if (n->places) {
        fprintf(f, "%*sn0: %llu in %u place%s below massif's threshold (%.2f%%)\n", indent + 1, "",
                (unsigned long long)n->bytes, n->places, n->places == 1 ? "," : "s, all",
                threshold);
        return;
    }
    nl = hp_describe(sym, n->ip, lines, MAX_LEVELS);
    for (k = 0; k < nl; k++)
        fprintf(f, "%*sn%u: %llu %s\n", (int)(indent + k + 1), "", k + 1 < nl ? 1 : n->nkids,
                (unsigned long long)n->bytes, lines[k]);
    indent += (unsigned)nl;
    for (i = 0; i < n->nkids; i++)
        put_node(f, &n->kids[i], indent, sym, threshold);
}

int hp_massif_write(FILE *f, const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                    const struct hp_massif_opts *o)
{
    uint32_t i, k;
    int a;

    fprintf(f, "desc: %s\ncmd:", o->desc && *o->desc ? o->desc : "(none)");
    for (a = 0; a < o->argc; a++)
        fprintf(f, " %s", o->argv[a]);
    fprintf(f, "\ntime_unit: %s\n", hp_unit_name(p));
    for (i = 0; i < p->h.nsnaps; i++) {
        const struct hp_snap *s = &p->snaps[i];
        int detailed = (s->h.flags & MW__PROF_DETAILED) != 0;
        struct hp_node *tree = NULL;
        if (detailed) {
            tree = hp_tree_make(p, s, st, o->threshold);
            if (!tree)
                return -ENOMEM;
        }
        fprintf(f,
                "#-----------\nsnapshot=%u\n#-----------\ntime=%llu\nmem_heap_B=%llu\n"
                "mem_heap_extra_B=%llu\nmem_stacks_B=0\nheap_tree=%s\n",
                i, (unsigned long long)s->h.time,
                (unsigned long long)(tree ? tree->bytes : s->h.heap),
                (unsigned long long)s->h.extra,
                !detailed                      ? "empty"
                : (s->h.flags & MW__PROF_PEAK) ? "peak"
                                               : "detailed");
        if (tree) {
            fprintf(f,
                    "n%u: %llu (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n",
                    tree->nkids, (unsigned long long)tree->bytes);
            for (k = 0; k < tree->nkids; k++)
                put_node(f, &tree->kids[k], 0, sym, o->threshold);
            hp_tree_free(tree);
        }
    }
    if (fflush(f) != 0 || ferror(f))
        return -(errno ? errno : EIO);
    return 0;
}
