/* The report of one traced process, in memcheck's words and layout: the fatal signal if any,
 * HEAP SUMMARY, loss records sorted as memcheck sorts them, LEAK SUMMARY, ERROR SUMMARY; and
 * the same facts as a JSON object. */
#include "cli/leaks_errors.h"
#include "cli/leaks_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INLINE 16
#define STACK_MAX  (MW__LEAK_MAX_CALLERS + 1) /* addresses of a stack looked at, at most */

static const char *const kind_words[] = {"definitely lost", "indirectly lost", "possibly lost",
                                         "still reachable"};
static const char *const kind_names[] = {"definite", "indirect", "possible", "reachable"};
static const char *const heur_names[4] = {"stdstring", "length64", "newarray",
                                          "multipleinheritance"};

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
    uint16_t *end;  /* frames once address k is expanded: end[k] (allocated with the frames) */
    size_t printed; /* stack_printed's answer, once printed_known */
    int printed_known;
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

    if (st->printed_known) /* (the text, its notes and the JSON all ask) */
        return st->printed;
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
    st->printed = upto > 0 && st->next >= upto ? st->end[upto - 1] : st->n;
    st->printed_known = 1;
    return st->printed;
}

static void stack_free(struct stack *st)
{
    free(st->f);
    free(st->end);
    st->f = NULL;
    st->end = NULL;
    st->n = st->cap = 0;
    st->printed_known = 0;
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

/* A stack as a JSON array of frames (key: its member name, NULL in an array). */
static void json_frames(mw__json_t *j, const char *key, const struct lk_frame *f, size_t n)
{
    size_t i;

    mw__json_array(j, key);
    for (i = 0; i < n; i++) {
        mw__json_object(j, NULL);
        mw__json_hex(j, "ip", f[i].ip);
        mw__json_str(j, "function", f[i].fn);
        mw__json_str(j, "file", f[i].file);
        mw__json_int(j, "line", f[i].file ? f[i].line : 0);
        mw__json_str(j, "module", f[i].module);
        mw__json_hex(j, "offset", f[i].offset);
        mw__json_end(j);
    }
    mw__json_end(j);
}

size_t lk_report_stack(FILE *out, int pid, lk_sym_t *sym, const uint64_t *ips, uint32_t depth,
                       int entry, mw__json_t *json, const char *key)
{
    struct stack st;
    size_t n;

    stack_init(&st, sym, ips, depth, entry, 0);
    n = stack_printed(&st);
    if (out)
        print_frames(out, pid, st.f, n);
    if (json)
        json_frames(json, key, st.f, n);
    stack_free(&st);
    return n;
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

/* What a process's report says, computed once for the text and for the JSON. */
struct summary {
    lk_sym_t *sym;
    struct rec *recs; /* loss records, merged and in memcheck's order */
    size_t nrecs;
    uint64_t kb[4], kn[4];     /* unsuppressed bytes and blocks by kind */
    uint64_t sb, sn;           /* suppressed */
    uint64_t inuse_b, inuse_n; /* in use at exit */
    struct stack fault;        /* where a fatal signal struck */
    size_t nfault;
    struct supp_use {
        uint64_t recs, bytes, blocks;
        size_t last; /* 1 + the last record (in memcheck's order) it matched */
    } * supp_use;    /* by suppression: what this report's records matched */
};

static void summary_free(struct summary *s)
{
    size_t i;

    for (i = 0; s->recs && i < s->nrecs; i++)
        stack_free(&s->recs[i].st);
    stack_free(&s->fault);
    free(s->recs);
    free(s->supp_use);
    lk_sym_free(s->sym);
}

/* Builds the loss records (merged, sorted, matched against the suppressions) and the sums;
 * counts the leak errors into st. Returns -1 when out of memory. */
static int summary_compute(struct summary *s, const struct lk_result *r,
                           const struct lk_report_opts *o, struct lk_report_stats *st)
{
    static const uint64_t no_ips[1];
    int callers = o->num_callers;
    size_t i;

    memset(s, 0, sizeof *s);
    if (callers <= 0) {
        /* Not told: the depth the tracer recorded with, at least its default. */
        callers = 12;
        for (i = 0; i < r->h.ntraces; i++)
            if (r->trace_depth[i] > (uint32_t)callers)
                callers = (int)r->trace_depth[i];
    }
    s->sym = lk_sym_new(r->mods, r->h.nmodules, o->cache_dir);
    s->recs = calloc(r->h.nrecords + 1, sizeof *s->recs);
    s->supp_use = calloc(lk_supp_count(o->supp) + 1, sizeof *s->supp_use);
    if (!s->sym || !s->recs || !s->supp_use)
        return -1;
    for (i = 0; i < r->h.nrecords; i++) {
        const mw__leak_lossrec_t *lr = &r->recs[i];
        struct rec *rc = &s->recs[s->nrecs++];
        rc->r = *lr;
        rc->trace = lr->trace;
        if (lr->trace < r->h.ntraces)
            stack_init(&rc->st, s->sym, r->trace_ips[lr->trace], r->trace_depth[lr->trace], 1,
                       callers);
        else
            stack_init(&rc->st, s->sym, no_ips, 0, 1, callers);
        s->inuse_b += lr->bytes;
        s->inuse_n += lr->blocks;
    }
    s->nrecs = merge(s->recs, s->nrecs);
    qsort(s->recs, s->nrecs, sizeof *s->recs, cmp_rec);
    for (i = 0; i < s->nrecs; i++) {
        struct rec *rc = &s->recs[i];
        const mw__leak_lossrec_t *lr = &rc->r;
        int counts = o->full && (o->errors & (1u << lr->kind));
        int m = o->supp ? lk_supp_match(o->supp, stack_at, &rc->st, lr->kind) : 0;
        rc->suppressed = m != 0;
        if (m) {
            s->supp_use[m - 1].recs++;
            s->supp_use[m - 1].bytes += lr->bytes;
            s->supp_use[m - 1].blocks += lr->blocks;
            s->supp_use[m - 1].last = i + 1;
            s->sb += lr->bytes;
            s->sn += lr->blocks;
            st->supp_errors += counts;
            st->supp_contexts += counts;
        } else {
            s->kb[lr->kind] += lr->bytes;
            s->kn[lr->kind] += lr->blocks;
            st->errors += counts;
            st->contexts += counts;
        }
    }
    if (r->h.end == MW__LEAK_END_SIGNAL) {
        /* The first fault frame is the interrupted instruction itself. */
        stack_init(&s->fault, s->sym, r->fault, r->h.fault_depth, 0, 0);
        s->nfault = stack_printed(&s->fault);
    }
    return 0;
}

/* The modules some printed frame had no debug information for, in one note line. */
static void print_nodebug(FILE *out, int pid, const struct lk_result *r, struct summary *s,
                          const struct lk_report_opts *o)
{
    int *nodebug = calloc(r->h.nmodules + 1, sizeof(int)), any = 0;
    size_t i, k;

    if (!nodebug)
        return;
    for (i = 0; i < s->nrecs; i++) {
        struct rec *rc = &s->recs[i];
        size_t nf;
        if (rc->suppressed || !o->full || !(o->show & (1u << rc->r.kind)))
            continue;
        nf = stack_printed(&rc->st);
        for (k = 0; k < nf; k++)
            if (rc->st.f[k].mod >= 0 && !rc->st.f[k].has_debug)
                nodebug[rc->st.f[k].mod] = 1;
    }
    for (i = 0; i < r->h.nmodules; i++) {
        if (!nodebug[i])
            continue;
        if (!any)
            fprintf(out, "==%d== Note: no debug info (module+offset shown) for: %s", pid,
                    lk_sym_module_name(s->sym, i));
        else
            fprintf(out, ", %s", lk_sym_module_name(s->sym, i));
        any = 1;
    }
    if (any)
        fprintf(out, "\n");
    free(nodebug);
}

static void error_summary(FILE *out, int pid, const struct lk_report_stats *st)
{
    char a[32], b[32], c[32], d[32];

    fprintf(out, "==%d== ERROR SUMMARY: %s errors from %s contexts (suppressed: %s from %s)\n", pid,
            lk_commas(st->errors, a, sizeof a), lk_commas(st->contexts, b, sizeof b),
            lk_commas(st->supp_errors, c, sizeof c), lk_commas(st->supp_contexts, d, sizeof d));
}

struct by_last {
    size_t last, k;
};

static int cmp_by_last(const void *a, const void *b)
{
    const struct by_last *x = a, *y = b;

    return x->last > y->last ? -1 : x->last < y->last;
}

/* memcheck's -s after the first ERROR SUMMARY: the bad frees again (no leaks), then the
 * suppressions used, the one that matched last first (memcheck moves a suppression to the front
 * of its list each time it matches). Returns 1 when anything was printed (the summary is then
 * printed again). */
static int error_list(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                      const struct summary *s, struct lk_report_stats *st)
{
    int pid = r->h.pid, listed = r->sect && r->sect->nerrs;
    size_t k, used = 0, nsupp = lk_supp_count(o->supp);
    struct by_last *order = calloc(nsupp + 1, sizeof *order);
    char a[32], b[32];

    if (listed) {
        fprintf(out, "==%d== \n", pid);
        lk_errors_list(out, r, s->sym, st);
    }
    for (k = 0; order && k < nsupp; k++)
        if (s->supp_use[k].recs)
            order[used++] = (struct by_last){s->supp_use[k].last, k};
    if (used) {
        qsort(order, used, sizeof *order, cmp_by_last);
        fprintf(out, "--%d-- \n", pid);
    }
    for (k = 0; k < used; k++) {
        const struct supp_use *u = &s->supp_use[order[k].k];
        const char *name, *file;
        int line;
        lk_supp_where(o->supp, order[k].k, &name, &file, &line);
        fprintf(out, "--%d-- used_suppression: %6llu %s %s:%d suppressed: %s bytes in %s blocks\n",
                pid, (unsigned long long)u->recs, name, file, line,
                lk_commas(u->bytes, a, sizeof a), lk_commas(u->blocks, b, sizeof b));
    }
    if (used)
        fprintf(out, "==%d== \n", pid);
    free(order);
    return listed || used;
}

/* The report in memcheck's words, each line prefixed "==pid== ". */
static void report_text(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                        struct summary *s, struct lk_report_stats *st)
{
    int pid = r->h.pid;
    char a[32], b[32], c[32], d[32], e[32], f6[32];
    size_t i, k;

    lk_errors_report(out, r, s->sym, st); /* the bad frees not printed while the program ran */
    if (r->h.end == MW__LEAK_END_SIGNAL) {
        const char *w = fault_words(r->h.code, r->h.fault_code);
        fprintf(out, "==%d== \n==%d== Process terminating with default action of signal %d (%s)\n",
                pid, pid, r->h.code, signame(r->h.code, a, sizeof a));
        if (w && r->h.fault_code > 0)
            fprintf(out, "==%d==  %s at address 0x%llX\n", pid, w,
                    (unsigned long long)r->h.fault_addr);
        print_frames(out, pid, s->fault.f, s->nfault);
    }
    lk_fds_report(out, r, s->sym); /* --track-fds */
    fprintf(out, "==%d== \n==%d== HEAP SUMMARY:\n", pid, pid);
    fprintf(out, "==%d==     in use at exit: %s bytes in %s blocks\n", pid,
            lk_commas(s->inuse_b, a, sizeof a), lk_commas(s->inuse_n, b, sizeof b));
    fprintf(out, "==%d==   total heap usage: %s allocs, %s frees, %s bytes allocated\n", pid,
            lk_commas(r->h.allocs, a, sizeof a), lk_commas(r->h.frees, b, sizeof b),
            lk_commas(r->h.bytes_allocated, c, sizeof c));
    fprintf(out, "==%d== \n", pid);

    for (i = 0; i < s->nrecs; i++) {
        const mw__leak_lossrec_t *lr = &s->recs[i].r;
        size_t nf;
        if (s->recs[i].suppressed || !o->full || !(o->show & (1u << lr->kind)))
            continue;
        if (st->last_thread > 1) {
            /* The leak check is the main thread's: memcheck says so after another's error. */
            fprintf(out, "==%d== Thread 1:\n", pid);
            st->last_thread = 1;
        }
        if (lr->indirect)
            fprintf(out,
                    "==%d== %s (%s direct, %s indirect) bytes in %s blocks are %s in loss "
                    "record %s of %s\n",
                    pid, lk_commas(lr->bytes + lr->indirect, a, sizeof a),
                    lk_commas(lr->bytes, b, sizeof b), lk_commas(lr->indirect, c, sizeof c),
                    lk_commas(lr->blocks, d, sizeof d), kind_words[lr->kind],
                    lk_commas(i + 1, e, sizeof e), lk_commas(s->nrecs, f6, sizeof f6));
        else
            fprintf(out, "==%d== %s bytes in %s blocks are %s in loss record %s of %s\n", pid,
                    lk_commas(lr->bytes, a, sizeof a), lk_commas(lr->blocks, b, sizeof b),
                    kind_words[lr->kind], lk_commas(i + 1, c, sizeof c),
                    lk_commas(s->nrecs, d, sizeof d));
        nf = stack_printed(&s->recs[i].st); /* (expands st.f: before it is read) */
        print_frames(out, pid, s->recs[i].st.f, nf);
        fprintf(out, "==%d== \n", pid);
    }

    if (s->inuse_n == 0) {
        fprintf(out, "==%d== All heap blocks were freed -- no leaks are possible\n", pid);
    } else {
        const uint64_t *kb = s->kb, *kn = s->kn;
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
            fprintf(out, "==%d==                       of which reachable via heuristic:\n", pid);
            for (k = 0; k < 4; k++)
                if (r->h.heur_blocks[k])
                    fprintf(out, "==%d==                         %-19s: %s bytes in %s blocks\n",
                            pid, heur_names[k], lk_commas(r->h.heur_bytes[k], a, sizeof a),
                            lk_commas(r->h.heur_blocks[k], b, sizeof b));
        }
        fprintf(out, "==%d==         suppressed: %s bytes in %s blocks\n", pid,
                lk_commas(s->sb, a, sizeof a), lk_commas(s->sn, b, sizeof b));
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
    print_nodebug(out, pid, r, s, o);
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
    if (!o->error_list)
        fprintf(out, "==%d== For lists of detected and suppressed errors, rerun with: -s\n", pid);
    error_summary(out, pid, st);
    if (o->error_list && error_list(out, r, o, s, st))
        error_summary(out, pid, st);
}

/* The same facts as one JSON object. */
static void report_json(mw__json_t *j, const struct lk_result *r, struct summary *s,
                        const struct lk_report_stats *st)
{
    static const char *const ends[] = {"exit", "_exit", "signal"};
    size_t i, k;

    mw__json_object(j, NULL);
    mw__json_int(j, "pid", r->h.pid);
    mw__json_int(j, "ppid", r->h.ppid);
    mw__json_str(j, "end", r->h.end < 3 ? ends[r->h.end] : "exit");
    mw__json_int(j, r->h.end == MW__LEAK_END_SIGNAL ? "signal" : "status", r->h.code);
    mw__json_object(j, "heap");
    mw__json_uint(j, "in_use_bytes", s->inuse_b);
    mw__json_uint(j, "in_use_blocks", s->inuse_n);
    mw__json_uint(j, "allocs", r->h.allocs);
    mw__json_uint(j, "frees", r->h.frees);
    mw__json_uint(j, "bytes_allocated", r->h.bytes_allocated);
    mw__json_end(j);
    mw__json_object(j, "leaks");
    for (k = 0; k < 4; k++) {
        mw__json_object(j, kind_names[k]);
        mw__json_uint(j, "bytes", s->kb[k]);
        mw__json_uint(j, "blocks", s->kn[k]);
        mw__json_end(j);
    }
    mw__json_object(j, "suppressed");
    mw__json_uint(j, "bytes", s->sb);
    mw__json_uint(j, "blocks", s->sn);
    mw__json_end(j);
    mw__json_object(j, "reachable_via_heuristic");
    for (k = 0; k < 4; k++)
        mw__json_uint(j, heur_names[k], r->h.heur_bytes[k]);
    mw__json_end(j);
    mw__json_end(j);
    mw__json_uint(j, "errors", st->errors);
    mw__json_array(j, "loss_records");
    for (i = 0; i < s->nrecs; i++) {
        const mw__leak_lossrec_t *lr = &s->recs[i].r;
        size_t nf = stack_printed(&s->recs[i].st); /* (expands st.f: before it is read) */
        mw__json_object(j, NULL);
        mw__json_uint(j, "record", i + 1);
        mw__json_str(j, "kind", kind_names[lr->kind]);
        mw__json_uint(j, "bytes", lr->bytes);
        mw__json_uint(j, "indirect_bytes", lr->indirect);
        mw__json_uint(j, "blocks", lr->blocks);
        mw__json_bool(j, "suppressed", s->recs[i].suppressed);
        json_frames(j, "stack", s->recs[i].st.f, nf);
        mw__json_end(j);
    }
    mw__json_end(j);
    if (r->h.end == MW__LEAK_END_SIGNAL)
        json_frames(j, "fault_stack", s->fault.f, s->nfault);
    lk_errors_json(j, r, s->sym);
    lk_fds_json(j, r, s->sym);
    mw__json_end(j);
}

void lk_report_print(FILE *out, const struct lk_result *r, const struct lk_report_opts *o,
                     mw__json_t *json, struct lk_report_stats *st)
{
    struct summary s;

    memset(st, 0, sizeof *st);
    if (summary_compute(&s, r, o, st) < 0) {
        fprintf(out, "==%d== memwalk: out of memory while writing the report\n", r->h.pid);
        summary_free(&s);
        return;
    }
    report_text(out, r, o, &s, st);
    if (json)
        report_json(json, r, &s, st);
    summary_free(&s);
}
