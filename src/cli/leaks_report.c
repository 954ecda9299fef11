/* The report of one traced process, in memcheck's words and layout: the fatal signal if any,
 * HEAP SUMMARY, loss records sorted as memcheck sorts them, LEAK SUMMARY, ERROR SUMMARY; and
 * the same facts as a JSON object. */
#include "cli/leaks_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INLINE 16
#define STACK_MAX  (MW__LEAK_MAX_CALLERS + 1) /* addresses of a stack looked at, at most */

static const char *const kind_words[] = {"definitely lost", "indirectly lost", "possibly lost",
                                         "still reachable"};
static const char *const kind_names[] = {"definite", "indirect", "possible", "reachable"};

/* A stack as memcheck shows it, symbolized only as far as someone looks: the frames memcheck
 * names for the allocator entry point, then each recorded return address with its inlined
 * calls. */
struct stack {
    lk_sym_t *sym;
    const uint64_t *ips;
    uint32_t depth; /* addresses used, the entry point's included */
    uint32_t next;  /* the next address to expand */
    int alloc;      /* ips[0] is the tracer's entry point */
    const char *entry[2];
    size_t nentry;
    int group; /* which of memcheck's functions of that name */
    struct lk_frame *f;
    size_t n, cap;
    uint16_t *end; /* frames once address k is expanded: end[k] (allocated with the frames) */
};

struct rec {
    mw__leak_lossrec_t r; /* the figures, merged */
    uint32_t trace;       /* the oldest stack of the record */
    struct stack st;
    int suppressed;
};

static void stack_init(struct stack *st, lk_sym_t *sym, const uint64_t *ips, uint32_t depth,
                       int alloc, int num_callers)
{
    memset(st, 0, sizeof *st);
    st->sym = sym;
    st->ips = ips;
    st->depth = depth < STACK_MAX ? depth : STACK_MAX; /* a record file can claim more */
    st->alloc = alloc;
    if (alloc && depth > 0) {
        struct lk_frame f0;
        /* The tracer's entry point, named from its symbol only: memcheck's names for it. */
        lk_sym_symbol(sym, ips[0], 1, &f0);
        st->nentry = lk_entry_frames(f0.fn_raw, st->entry, &st->group);
        /* memcheck counts its own frames in --num-callers: fewer callers when it shows two,
         * and only the first at --num-callers=1. */
        if (num_callers > 0 && st->nentry > (size_t)num_callers)
            st->nentry = (size_t)num_callers;
        if (num_callers > 0 && st->depth + st->nentry - 1 > (uint32_t)num_callers)
            st->depth = (uint32_t)num_callers + 1 - (uint32_t)st->nentry;
        if (st->depth < 1)
            st->depth = 1;
    } else if (num_callers > 0 && depth > (uint32_t)num_callers) {
        st->depth = (uint32_t)num_callers;
    }
}

static int push(struct stack *st, const struct lk_frame *f, size_t n)
{
    if (st->n + n > st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 32;
        struct lk_frame *nf;
        while (ncap < st->n + n)
            ncap *= 2;
        nf = realloc(st->f, ncap * sizeof *nf);
        if (!nf)
            return -1;
        st->f = nf;
        st->cap = ncap;
    }
    memcpy(st->f + st->n, f, n * sizeof *f);
    st->n += n;
    return 0;
}

/* Expands one more address; returns 0 when there is none left. */
static int expand(struct stack *st)
{
    struct lk_frame f[MAX_INLINE];
    size_t n, k;

    if (st->next >= st->depth)
        return 0;
    if (st->next == 0 && st->alloc) {
        struct lk_frame sym;
        lk_sym_symbol(st->sym, st->ips[0], 1, &sym);
        for (k = 0; k < st->nentry; k++) {
            f[k] = sym;
            /* A name of memcheck's own, or the symbol itself (a C++ operator then prints
             * demangled and matches suppressions mangled, "_Znwm"). */
            f[k].fn_raw = st->entry[k];
            f[k].fn = st->entry[k] == sym.fn_raw ? sym.fn : st->entry[k];
            f[k].file = NULL;
            f[k].inlined = 0;
            f[k].kind = LK_FN_NORMAL;
        }
        n = st->nentry;
    } else {
        n = lk_sym_lookup(st->sym, st->ips[st->next], st->next == 0, f, MAX_INLINE);
    }
    if (!st->end && !(st->end = malloc(st->depth * sizeof *st->end)))
        return 0;
    if (push(st, f, n) < 0)
        return 0;
    st->end[st->next++] = (uint16_t)st->n;
    return 1;
}

/* Frame i of the whole recorded stack (suppressions look at all of it, as memcheck's). */
static const struct lk_frame *stack_at(void *ctx, size_t i)
{
    struct stack *st = ctx;

    while (st->n <= i)
        if (!expand(st))
            return NULL;
    return &st->f[i];
}

/* The printed stack: memcheck stops at the outermost main, or, without one, at the outermost
 * function below main (named "(below main)"), judging by symbols alone. Returns the number of
 * frames to print, all expanded. */
static size_t stack_printed(struct stack *st)
{
    uint32_t upto = st->depth, i;

    for (i = st->depth; i-- > (st->alloc ? 1u : 0u);) {
        struct lk_frame f;
        lk_sym_symbol(st->sym, st->ips[i], i == 0, &f);
        if (f.kind != LK_FN_NORMAL)
            upto = i + 1;
        if (f.kind == LK_FN_MAIN)
            break;
    }
    while (st->next < upto && expand(st))
        ;
    /* A suppression may have looked further: only the frames up to the cut are printed. */
    return upto > 0 && st->next >= upto ? st->end[upto - 1] : st->n;
}

static void stack_free(struct stack *st)
{
    free(st->f);
    free(st->end);
    st->f = NULL;
    st->end = NULL;
    st->n = st->cap = 0;
}

/* memcheck's order: total size, then reachable < possible < indirect < definite, then the
 * number of blocks, then the age of the stack (memcheck compares its ExeContext addresses,
 * which grow as stacks are first seen; our trace ids count the same way). */
static int state_rank(uint32_t kind)
{
    static const int rank[4] = {3, 2, 1, 0}; /* definite, indirect, possible, reachable */

    return rank[kind & 3];
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *p = a, *q = b;
    const mw__leak_lossrec_t *x = &p->r, *y = &q->r;
    uint64_t tx = x->bytes + x->indirect, ty = y->bytes + y->indirect;

    if (tx != ty)
        return tx < ty ? -1 : 1;
    if (state_rank(x->kind) != state_rank(y->kind))
        return state_rank(x->kind) < state_rank(y->kind) ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks < y->blocks ? -1 : 1;
    if (p->trace != q->trace)
        return p->trace < q->trace ? -1 : 1;
    return 0;
}

/* Records whose kind and stack (as memcheck records it: its entry frames, then the callers
 * up to --num-callers) are equal are one loss record. */
static int cmp_key(const void *a, const void *b)
{
    const struct rec *p = a, *q = b;
    size_t i;
    int c;

    if (p->r.kind != q->r.kind)
        return p->r.kind < q->r.kind ? -1 : 1;
    if (p->st.nentry != q->st.nentry)
        return p->st.nentry < q->st.nentry ? -1 : 1;
    if (p->st.group != q->st.group)
        return p->st.group < q->st.group ? -1 : 1;
    for (i = 0; i < p->st.nentry; i++) {
        c = strcmp(p->st.entry[i] ? p->st.entry[i] : "", q->st.entry[i] ? q->st.entry[i] : "");
        if (c)
            return c;
    }
    if (!p->st.entry[0] && p->st.depth > 0 && q->st.depth > 0 && p->st.ips[0] != q->st.ips[0])
        return p->st.ips[0] < q->st.ips[0] ? -1 : 1; /* unknown entry points: by address */
    if (p->st.depth != q->st.depth)
        return p->st.depth < q->st.depth ? -1 : 1;
    for (i = 1; i < p->st.depth; i++)
        if (p->st.ips[i] != q->st.ips[i])
            return p->st.ips[i] < q->st.ips[i] ? -1 : 1;
    return 0;
}

static size_t merge(struct rec *recs, size_t n)
{
    size_t r, w;

    qsort(recs, n, sizeof *recs, cmp_key);
    for (r = 0, w = 0; r < n; r++) {
        if (w > 0 && cmp_key(&recs[w - 1], &recs[r]) == 0) {
            struct rec *m = &recs[w - 1];
            m->r.blocks += recs[r].r.blocks;
            m->r.bytes += recs[r].r.bytes;
            m->r.indirect += recs[r].r.indirect;
            if (recs[r].trace < m->trace) {
                m->trace = recs[r].trace;
                m->st = recs[r].st;
            }
            continue;
        }
        recs[w++] = recs[r];
    }
    return w;
}

static void print_frames(FILE *out, int pid, const struct lk_frame *f, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        fprintf(out, "==%d==    %s 0x%llX: ", pid, i == 0 ? "at" : "by",
                (unsigned long long)f[i].ip);
        if (f[i].fn && f[i].file)
            fprintf(out, "%s (%s:%d)\n", f[i].fn, f[i].file, f[i].line);
        else if (f[i].fn && f[i].module)
            fprintf(out, "%s (in %s)\n", f[i].fn, f[i].module);
        else if (f[i].fn)
            fprintf(out, "%s\n", f[i].fn);
        else if (f[i].module)
            fprintf(out, "??? (%s+0x%llx)\n", f[i].module, (unsigned long long)f[i].offset);
        else
            fprintf(out, "???\n");
    }
}

static void json_frames(mw__sb_t *j, const struct lk_frame *f, size_t n)
{
    size_t i;

    mw__sb_puts(j, "[");
    for (i = 0; i < n; i++) {
        mw__sb_printf(j, "%s{\"ip\":\"0x%llx\",\"function\":", i ? "," : "",
                      (unsigned long long)f[i].ip);
        if (f[i].fn)
            mw__sb_json_str(j, f[i].fn);
        else
            mw__sb_puts(j, "null");
        mw__sb_puts(j, ",\"file\":");
        if (f[i].file)
            mw__sb_json_str(j, f[i].file);
        else
            mw__sb_puts(j, "null");
        mw__sb_printf(j, ",\"line\":%d,\"module\":", f[i].file ? f[i].line : 0);
        if (f[i].module)
            mw__sb_json_str(j, f[i].module);
        else
            mw__sb_puts(j, "null");
        mw__sb_printf(j, ",\"offset\":\"0x%llx\"}", (unsigned long long)f[i].offset);
    }
    mw__sb_puts(j, "]");
}

static const char *signame(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);

    snprintf(buf, len, "SIG%s", abbrev ? abbrev : "?");
    return buf;
}

static const char *fault_words(int sig, int code)
{
    switch (sig) {
    case SIGSEGV:
        return code == SEGV_ACCERR ? "Bad permissions for mapped region"
                                   : "Access not within mapped region";
    case SIGBUS:
        return code == BUS_ADRALN   ? "Invalid address alignment"
               : code == BUS_ADRERR ? "Non-existent physical address"
                                    : "Object-specific hardware error";
    case SIGFPE:
        return code == FPE_INTDIV ? "Integer divide by zero" : "Arithmetic exception";
    case SIGILL:
        return "Illegal opcode";
    default:
        return NULL;
    }
}

void lk_report_print(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                     mw__sb_t *json, struct lk_report_stats *st)
{
    int pid = r->h.pid;
    lk_sym_t *sym = lk_sym_new(r->mods, r->h.nmodules, o->cache_dir);
    struct rec *recs = calloc(r->h.nrecords + 1, sizeof *recs);
    uint64_t kb[4] = {0}, kn[4] = {0}, sb = 0, sn = 0, inuse_b = 0, inuse_n = 0;
    char a[32], b[32], c[32], d[32], e[32], f6[32];
    size_t i, k, nrecs = 0;
    struct stack fault;
    size_t nfault = 0;
    int *nodebug = calloc(r->h.nmodules + 1, sizeof(int));
    static const uint64_t no_ips[1];

    int callers = o->num_callers;

    memset(st, 0, sizeof *st);
    memset(&fault, 0, sizeof fault);
    if (callers <= 0) {
        /* Not told: the depth the tracer recorded with, at least its default. */
        callers = 12;
        for (i = 0; i < r->h.ntraces; i++)
            if (r->trace_depth[i] > (uint32_t)callers)
                callers = (int)r->trace_depth[i];
    }
    if (!sym || !recs || !nodebug) {
        fprintf(out, "==%d== memwalk: out of memory while writing the report\n", pid);
        free(recs);
        free(nodebug);
        lk_sym_free(sym);
        return;
    }
    for (i = 0; i < r->h.nrecords; i++) {
        const mw__leak_lossrec_t *lr = &r->recs[i];
        struct rec *rc = &recs[nrecs++];
        rc->r = *lr;
        rc->trace = lr->trace;
        if (lr->trace < r->h.ntraces)
            stack_init(&rc->st, sym, r->trace_ips[lr->trace], r->trace_depth[lr->trace], 1,
                       callers);
        else
            stack_init(&rc->st, sym, no_ips, 0, 1, callers);
        inuse_b += lr->bytes;
        inuse_n += lr->blocks;
    }
    nrecs = merge(recs, nrecs);
    qsort(recs, nrecs, sizeof *recs, cmp_rec);
    for (i = 0; i < nrecs; i++) {
        const mw__leak_lossrec_t *lr = &recs[i].r;
        recs[i].suppressed = o->supp && lk_supp_match(o->supp, stack_at, &recs[i].st, lr->kind);
        if (recs[i].suppressed) {
            sb += lr->bytes;
            sn += lr->blocks;
        } else {
            kb[lr->kind] += lr->bytes;
            kn[lr->kind] += lr->blocks;
        }
    }

    if (r->h.end == MW__LEAK_END_SIGNAL) {
        const char *w = fault_words(r->h.code, r->h.fault_code);
        fprintf(out, "==%d== \n==%d== Process terminating with default action of signal %d (%s)\n",
                pid, pid, r->h.code, signame(r->h.code, a, sizeof a));
        if (w && r->h.fault_code > 0)
            fprintf(out, "==%d==  %s at address 0x%llX\n", pid, w,
                    (unsigned long long)r->h.fault_addr);
        /* The first fault frame is the interrupted instruction itself. */
        stack_init(&fault, sym, r->fault, r->h.fault_depth, 0, 0);
        nfault = stack_printed(&fault);
        print_frames(out, pid, fault.f, nfault);
    }
    fprintf(out, "==%d== \n==%d== HEAP SUMMARY:\n", pid, pid);
    fprintf(out, "==%d==     in use at exit: %s bytes in %s blocks\n", pid,
            lk_commas(inuse_b, a, sizeof a), lk_commas(inuse_n, b, sizeof b));
    fprintf(out, "==%d==   total heap usage: %s allocs, %s frees, %s bytes allocated\n", pid,
            lk_commas(r->h.allocs, a, sizeof a), lk_commas(r->h.frees, b, sizeof b),
            lk_commas(r->h.bytes_allocated, c, sizeof c));
    fprintf(out, "==%d== \n", pid);

    for (i = 0; i < nrecs; i++) {
        const mw__leak_lossrec_t *lr = &recs[i].r;
        int counts = o->full && (o->errors & (1u << lr->kind));
        size_t nf;
        if (recs[i].suppressed) {
            if (counts) {
                st->supp_errors++;
                st->supp_contexts++;
            }
            continue;
        }
        if (counts) {
            st->errors++;
            st->contexts++;
        }
        if (!o->full || !(o->show & (1u << lr->kind)))
            continue;
        if (lr->indirect)
            fprintf(out,
                    "==%d== %s (%s direct, %s indirect) bytes in %s blocks are %s in loss "
                    "record %s of %s\n",
                    pid, lk_commas(lr->bytes + lr->indirect, a, sizeof a),
                    lk_commas(lr->bytes, b, sizeof b), lk_commas(lr->indirect, c, sizeof c),
                    lk_commas(lr->blocks, d, sizeof d), kind_words[lr->kind],
                    lk_commas(i + 1, e, sizeof e), lk_commas(nrecs, f6, sizeof f6));
        else
            fprintf(out, "==%d== %s bytes in %s blocks are %s in loss record %s of %s\n", pid,
                    lk_commas(lr->bytes, a, sizeof a), lk_commas(lr->blocks, b, sizeof b),
                    kind_words[lr->kind], lk_commas(i + 1, c, sizeof c),
                    lk_commas(nrecs, d, sizeof d));
        nf = stack_printed(&recs[i].st);
        print_frames(out, pid, recs[i].st.f, nf);
        for (k = 0; k < nf; k++)
            if (recs[i].st.f[k].mod >= 0 && !recs[i].st.f[k].has_debug)
                nodebug[recs[i].st.f[k].mod] = 1;
        fprintf(out, "==%d== \n", pid);
    }

    if (inuse_n == 0) {
        fprintf(out, "==%d== All heap blocks were freed -- no leaks are possible\n", pid);
    } else {
        fprintf(out, "==%d== LEAK SUMMARY:\n", pid);
        fprintf(out, "==%d==    definitely lost: %s bytes in %s blocks\n", pid,
                lk_commas(kb[0], a, sizeof a), lk_commas(kn[0], b, sizeof b));
        fprintf(out, "==%d==    indirectly lost: %s bytes in %s blocks\n", pid,
                lk_commas(kb[1], a, sizeof a), lk_commas(kn[1], b, sizeof b));
        fprintf(out, "==%d==      possibly lost: %s bytes in %s blocks\n", pid,
                lk_commas(kb[2], a, sizeof a), lk_commas(kn[2], b, sizeof b));
        fprintf(out, "==%d==    still reachable: %s bytes in %s blocks\n", pid,
                lk_commas(kb[3], a, sizeof a), lk_commas(kn[3], b, sizeof b));
        if (r->h.heur_blocks[0] + r->h.heur_blocks[1] + r->h.heur_blocks[2] + r->h.heur_blocks[3]) {
            static const char *const heur[4] = {"stdstring", "length64", "newarray",
                                                "multipleinheritance"};
            fprintf(out, "==%d==                       of which reachable via heuristic:\n", pid);
            for (k = 0; k < 4; k++)
                if (r->h.heur_blocks[k])
                    fprintf(out, "==%d==                         %-19s: %s bytes in %s blocks\n",
                            pid, heur[k], lk_commas(r->h.heur_bytes[k], a, sizeof a),
                            lk_commas(r->h.heur_blocks[k], b, sizeof b));
        }
        fprintf(out, "==%d==         suppressed: %s bytes in %s blocks\n", pid,
                lk_commas(sb, a, sizeof a), lk_commas(sn, b, sizeof b));
        if (!o->full && kn[0] + kn[1] + kn[2] + kn[3] > 0)
            fprintf(out, "==%d== Rerun with --leak-check=full to see details of leaked memory\n",
                    pid);
        if (o->full && kn[3] > 0 && !(o->show & (1u << MW__LEAK_REACHABLE)))
            fprintf(out,
                    "==%d== Reachable blocks (those to which a pointer was found) are not "
                    "shown.\n==%d== To see them, rerun with: --leak-check=full "
                    "--show-leak-kinds=all\n",
                    pid, pid);
    }
    {
        int any = 0;
        for (i = 0; i < r->h.nmodules; i++) {
            if (!nodebug[i])
                continue;
            if (!any)
                fprintf(out, "==%d== Note: no debug info (module+offset shown) for: %s", pid,
                        lk_sym_module_name(sym, i));
            else
                fprintf(out, ", %s", lk_sym_module_name(sym, i));
            any = 1;
        }
        if (any)
            fprintf(out, "\n");
    }
    if (r->h.threads_unstopped)
        fprintf(out,
                "==%d== Note: %u thread(s) could not be stopped for the scan (signals blocked); "
                "their stacks were scanned whole\n",
                pid, r->h.threads_unstopped);
    if (r->h.limits) {
        /* The tracer's fixed tables that filled up (record.h, enum mw__leak_limit). */
        static const char *const what[] = {
            "too many live threads: later ones were not traced",
            "too many threads to stop: the rest were not scanned",
            "the block table is full: tracing stopped early",
            "too many distinct stacks: later blocks have no stack",
            "too many tracer mappings: some were scanned as roots",
            "too many exited threads: some of their stacks were scanned as roots",
            "too many loaded objects: some frames have no module",
            "too many ranges to skip: some allocator memory was scanned as roots"};
        for (i = 0; i < sizeof what / sizeof what[0]; i++)
            if (r->h.limits & (1u << i))
                fprintf(out, "==%d== Note: tracer limit reached: %s\n", pid, what[i]);
    }
    fprintf(out, "==%d== \n", pid);
    fprintf(out, "==%d== ERROR SUMMARY: %s errors from %s contexts (suppressed: %s from %s)\n", pid,
            lk_commas(st->errors, a, sizeof a), lk_commas(st->contexts, b, sizeof b),
            lk_commas(st->supp_errors, c, sizeof c), lk_commas(st->supp_contexts, d, sizeof d));

    if (json) {
        static const char *const ends[] = {"exit", "_exit", "signal"};
        mw__sb_printf(json,
                      "{\"pid\":%d,\"ppid\":%d,\"end\":\"%s\",\"%s\":%d,"
                      "\"heap\":{\"in_use_bytes\":%llu,\"in_use_blocks\":%llu,\"allocs\":%llu,"
                      "\"frees\":%llu,\"bytes_allocated\":%llu},\"leaks\":{",
                      pid, r->h.ppid, r->h.end < 3 ? ends[r->h.end] : "exit",
                      r->h.end == MW__LEAK_END_SIGNAL ? "signal" : "status", r->h.code,
                      (unsigned long long)inuse_b, (unsigned long long)inuse_n,
                      (unsigned long long)r->h.allocs, (unsigned long long)r->h.frees,
                      (unsigned long long)r->h.bytes_allocated);
        for (k = 0; k < 4; k++)
            mw__sb_printf(json, "\"%s\":{\"bytes\":%llu,\"blocks\":%llu},", kind_names[k],
                          (unsigned long long)kb[k], (unsigned long long)kn[k]);
        mw__sb_printf(
            json,
            "\"suppressed\":{\"bytes\":%llu,\"blocks\":%llu},\"reachable_via_heuristic\":"
            "{\"stdstring\":%llu,\"length64\":%llu,\"newarray\":%llu,"
            "\"multipleinheritance\":%llu}},\"errors\":%llu,\"loss_records\":[",
            (unsigned long long)sb, (unsigned long long)sn, (unsigned long long)r->h.heur_bytes[0],
            (unsigned long long)r->h.heur_bytes[1], (unsigned long long)r->h.heur_bytes[2],
            (unsigned long long)r->h.heur_bytes[3], (unsigned long long)st->errors);
        for (i = 0; i < nrecs; i++) {
            const mw__leak_lossrec_t *lr = &recs[i].r;
            size_t nf = stack_printed(&recs[i].st);
            mw__sb_printf(
                json,
                "%s{\"record\":%zu,\"kind\":\"%s\",\"bytes\":%llu,\"indirect_bytes\":%llu,"
                "\"blocks\":%llu,\"suppressed\":%s,\"stack\":",
                i ? "," : "", i + 1, kind_names[lr->kind], (unsigned long long)lr->bytes,
                (unsigned long long)lr->indirect, (unsigned long long)lr->blocks,
                recs[i].suppressed ? "true" : "false");
            json_frames(json, recs[i].st.f, nf);
            mw__sb_puts(json, "}");
        }
        mw__sb_puts(json, "]");
        if (r->h.end == MW__LEAK_END_SIGNAL) {
            mw__sb_puts(json, ",\"fault_stack\":");
            json_frames(json, fault.f, nfault);
        }
        mw__sb_puts(json, "}");
    }
    for (i = 0; i < nrecs; i++)
        stack_free(&recs[i].st);
    stack_free(&fault);
    free(recs);
    free(nodebug);
    lk_sym_free(sym);
}
