/* The report of one traced process, in memcheck's words and layout: the fatal signal if any,
 * HEAP SUMMARY, loss records sorted as memcheck sorts them, LEAK SUMMARY, ERROR SUMMARY; and
 * the same facts as a JSON object. */
#include "cli/leaks_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 1024

static const char *const kind_words[] = {"definitely lost", "indirectly lost", "possibly lost",
                                         "still reachable"};
static const char *const kind_names[] = {"definite", "indirect", "possible", "reachable"};

struct rec {
    const mw__leak_lossrec_t *r;
    struct lk_frame *f;
    size_t nf;
    int suppressed;
};

/* Symbolizes a stack, expanding inlined frames and stopping below main as memcheck does. */
static size_t frames_for(lk_sym_t *sym, const uint64_t *ips, uint32_t depth, struct lk_frame *out,
                         size_t max, int alloc_stack)
{
    size_t n = 0;
    uint32_t i;

    for (i = 0; i < depth && n < max; i++) {
        size_t k, got = lk_sym_lookup(sym, ips[i], i == 0, out + n, max - n);
        int stop = 0;
        /* Frame 0 is the tracer's entry point (malloc, calloc...): show it, not its helpers. */
        if (i == 0 && got > 1 && alloc_stack) {
            out[n] = out[n + got - 1];
            got = 1;
        }
        for (k = 0; k < got; k++) {
            const char *fn = out[n + k].fn;
            if (!fn)
                continue;
            if (strcmp(fn, "main") == 0)
                stop = 1;
            else if (strcmp(fn, "__libc_start_main") == 0 ||
                     strcmp(fn, "__libc_start_call_main") == 0 ||
                     strcmp(fn, "generic_start_main") == 0) {
                out[n + k].fn = "(below main)";
                out[n + k].file = NULL;
                got = k + 1;
                stop = 1;
                break;
            }
        }
        n += got;
        if (stop)
            break;
    }
    return n;
}

static int cmp_rec(const void *a, const void *b)
{
    const mw__leak_lossrec_t *x = ((const struct rec *)a)->r, *y = ((const struct rec *)b)->r;
    uint64_t tx = x->bytes + x->indirect, ty = y->bytes + y->indirect;

    if (tx != ty)
        return tx < ty ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks < y->blocks ? -1 : 1;
    if (x->trace != y->trace) /* trace order is creation order: older first, as memcheck */
        return x->trace < y->trace ? -1 : 1;
    return 0;
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
    lk_sym_t *sym = lk_sym_new(r->mods, r->h.nmodules);
    struct rec *recs = calloc(r->h.nrecords + 1, sizeof *recs);
    uint64_t kb[4] = {0}, kn[4] = {0}, sb = 0, sn = 0, inuse_b = 0, inuse_n = 0;
    char a[32], b[32], c[32], d[32], e[32], f6[32];
    size_t i, k;
    struct lk_frame fault[MAX_LINES];
    size_t nfault = 0;
    int *nodebug = calloc(r->h.nmodules + 1, sizeof(int));

    memset(st, 0, sizeof *st);
    if (!sym || !recs || !nodebug) {
        fprintf(out, "==%d== memwalk: out of memory while writing the report\n", pid);
        free(recs);
        free(nodebug);
        lk_sym_free(sym);
        return;
    }
    for (i = 0; i < r->h.nrecords; i++) {
        const mw__leak_lossrec_t *lr = &r->recs[i];
        recs[i].r = lr;
        recs[i].f = calloc(MAX_LINES, sizeof(struct lk_frame));
        if (recs[i].f && lr->trace < r->h.ntraces)
            recs[i].nf = frames_for(sym, r->trace_ips[lr->trace], r->trace_depth[lr->trace],
                                    recs[i].f, MAX_LINES, 1);
        inuse_b += lr->bytes;
        inuse_n += lr->blocks;
    }
    qsort(recs, r->h.nrecords, sizeof *recs, cmp_rec);
    for (i = 0; i < r->h.nrecords; i++) {
        const mw__leak_lossrec_t *lr = recs[i].r;
        recs[i].suppressed = lk_supp_match(o->supp, recs[i].f, recs[i].nf, lr->kind);
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
        nfault = frames_for(sym, r->fault, r->h.fault_depth, fault, MAX_LINES, 0);
        if (nfault) {
            /* The first fault frame is the interrupted instruction itself. */
            print_frames(out, pid, fault, nfault);
        }
    }
    fprintf(out, "==%d== \n==%d== HEAP SUMMARY:\n", pid, pid);
    fprintf(out, "==%d==     in use at exit: %s bytes in %s blocks\n", pid,
            lk_commas(inuse_b, a, sizeof a), lk_commas(inuse_n, b, sizeof b));
    fprintf(out, "==%d==   total heap usage: %s allocs, %s frees, %s bytes allocated\n", pid,
            lk_commas(r->h.allocs, a, sizeof a), lk_commas(r->h.frees, b, sizeof b),
            lk_commas(r->h.bytes_allocated, c, sizeof c));
    fprintf(out, "==%d== \n", pid);

    for (i = 0; i < r->h.nrecords; i++) {
        const mw__leak_lossrec_t *lr = recs[i].r;
        int counts = o->full && (o->errors & (1u << lr->kind));
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
                    lk_commas(i + 1, e, sizeof e), lk_commas(r->h.nrecords, f6, sizeof f6));
        else
            fprintf(out, "==%d== %s bytes in %s blocks are %s in loss record %s of %s\n", pid,
                    lk_commas(lr->bytes, a, sizeof a), lk_commas(lr->blocks, b, sizeof b),
                    kind_words[lr->kind], lk_commas(i + 1, c, sizeof c),
                    lk_commas(r->h.nrecords, d, sizeof d));
        print_frames(out, pid, recs[i].f, recs[i].nf);
        for (k = 0; k < recs[i].nf; k++)
            if (recs[i].f[k].module && !recs[i].f[k].has_debug)
                for (size_t m = 0; m < r->h.nmodules; m++)
                    if (r->mods[m].path == recs[i].f[k].module)
                        nodebug[m] = 1;
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
                        r->mods[i].path);
            else
                fprintf(out, ", %s", r->mods[i].path);
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
        for (i = 0; i < r->h.nrecords; i++) {
            const mw__leak_lossrec_t *lr = recs[i].r;
            mw__sb_printf(
                json,
                "%s{\"record\":%zu,\"kind\":\"%s\",\"bytes\":%llu,\"indirect_bytes\":%llu,"
                "\"blocks\":%llu,\"suppressed\":%s,\"stack\":",
                i ? "," : "", i + 1, kind_names[lr->kind], (unsigned long long)lr->bytes,
                (unsigned long long)lr->indirect, (unsigned long long)lr->blocks,
                recs[i].suppressed ? "true" : "false");
            json_frames(json, recs[i].f, recs[i].nf);
            mw__sb_puts(json, "}");
        }
        mw__sb_puts(json, "]");
        if (r->h.end == MW__LEAK_END_SIGNAL) {
            mw__sb_puts(json, ",\"fault_stack\":");
            json_frames(json, fault, nfault);
        }
        mw__sb_puts(json, "}");
    }
    for (i = 0; i < r->h.nrecords; i++)
        free(recs[i].f);
    free(recs);
    free(nodebug);
    lk_sym_free(sym);
}
