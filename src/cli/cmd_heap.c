/* `memwalk heap`: runs a program with the tracer preloaded in its heap profile mode, writes each
 * traced process's profile as massif.out.PID, prints its peak and the sites that hold it, and
 * draws the heap over time when asked. */
#include "cli/cli.h"
#include "cli/heap_int.h"
#include "cli/launch.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CMD         "heap"
#define MAX_TOP     20
#define SITE_LINES  4 /* lines of each top site in the summary */
#define MAX_INLINED 16
#define MAX_FNS     32
#define MAX_DEPTH   (MW__LEAK_MAX_CALLERS - 1)

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: memwalk heap [options] [--] PROGRAM [ARGS...]\n"
        "\n"
        "Runs PROGRAM (unmodified, dynamically linked) with the tracer preloaded and profiles\n"
        "its heap as valgrind's massif does: writes massif.out.PID, which ms_print and\n"
        "massif-visualizer read, and prints the peak and the allocation sites holding it.\n"
        "\n"
        "options:\n"
        "  --time-unit=ms|B          time axis: milliseconds since the start (default), or\n"
        "                            bytes allocated and freed so far (massif's B)\n"
        "  --detailed-freq=N         every Nth snapshot is detailed (default 10)\n"
        "  --max-snapshots=N         snapshots kept (10-1000, default 100)\n"
        "  --peak-inaccuracy=P       a new peak snapshot only P%% above the last one\n"
        "                            (default 1.0; 0: at every new peak)\n"
        "  --threshold=P             tree nodes under P%% of the heap merged (default 1.0)\n"
        "  --depth=N                 frames of the allocation trees (1-%d, default 30)\n"
        "  --alloc-fn=NAME           NAME allocates: its callers show instead (repeatable)\n"
        "  --heap-admin=N            extra bytes counted per block (default 8)\n"
        "  --massif-out-file=FILE    the profile's file (default massif.out.%%p; %%p = pid)\n"
        "  --svg=FILE                also draw the heap over time by its top sites (%%p = pid)\n"
        "  --top=N                   allocation sites in the summary (0-%d, default 5)\n"
        "  --trace-children=yes|no   also profile programs PROGRAM executes (default no)\n"
        "  -q, --quiet               no preamble and no summary\n"
        "\n"
        "Exit status: PROGRAM's own; 128+N when PROGRAM was killed by signal N; 126 when it\n"
        "cannot be executed or is statically linked; 127 when it is not found; 2 bad usage;\n"
        "3 a profile or SVG file cannot be written; 4 internal failure.\n"
        "Symbolized addresses are kept in ~/.cache/memwalk/symbols ($MEMWALK_SYMBOL_CACHE;\n"
        "off: no cache).\n"
        "See memwalk-heap(1).\n",
        MAX_DEPTH, MAX_TOP);
}

struct opts {
    int unit_ms;
    unsigned detailed_freq, max_snapshots, depth, top;
    double peak_inaccuracy, threshold;
    uint64_t heap_admin;
    const char *alloc_fns[MAX_FNS + 1];
    unsigned nfns;
    const char *out_file;
    const char *svg_file;
    int trace_children;
    int quiet;
    mw__sb_t desc; /* massif's desc: line, the massif options as given */
    char **argv;   /* PROGRAM and its arguments */
    int argc;
};

struct proc {
    int pid;
    mw__sb_t prof; /* the profile stream */
    int prof_done; /* its END arrived */
    mw__sb_t data; /* the result stream */
    int reported;
    int hellos;    /* HELLO messages seen from this process id */
    mw__sb_t args; /* its command line as its HELLO said (NUL-separated); empty: PROGRAM's */
};

static struct proc *procs;
static size_t nprocs;
static pid_t root_pid;
static int status_files; /* a file could not be written */

static struct proc *proc_get(int pid)
{
    return mw_launch_proc(&procs, &nprocs, sizeof *procs, pid);
}

static const char *commas(uint64_t v, char *buf, size_t len)
{
    return lk_commas(v, buf, len);
}

/* The time of a snapshot, with its unit, for a sentence. */
static const char *when(const struct hp_profile *p, uint64_t t, char *buf, size_t len)
{
    char c[32];

    snprintf(buf, len, "%s %s", commas(t, c, sizeof c),
             p->h.unit == MW__PROF_UNIT_MS ? "ms" : "B allocated and freed");
    return buf;
}

static void summary(const struct opts *o, int pid, const struct hp_profile *p,
                    const struct lk_result *r, const struct hp_stacks *st, lk_sym_t *sym,
                    const char *file, const char *svg)
{
    const struct hp_snap *peak = hp_peak(p);
    struct hp_site top[MAX_TOP];
    size_t ntop, i, k;
    static char lines[MAX_INLINED][HP_LINE];
    char a[32], b[32], c[32], t[64];

    fprintf(stderr, "==%d== \n", pid);
    if (!peak) {
        fprintf(stderr, "==%d== No detailed snapshot was taken (no heap allocation?)\n", pid);
    } else {
        fprintf(stderr, "==%d== Heap peak: %s bytes useful + %s extra at %s (snapshot %u of %u)\n",
                pid, commas(peak->h.heap, a, sizeof a), commas(peak->h.extra, b, sizeof b),
                when(p, peak->h.time, t, sizeof t), (unsigned)(peak - p->snaps), p->h.nsnaps);
        if (p->h.peak_heap + p->h.peak_extra > peak->h.heap + peak->h.extra)
            fprintf(stderr,
                    "==%d==   the largest heap seen: %s useful + %s extra (peak snapshots are "
                    "taken %.1f%% apart)\n",
                    pid, commas(p->h.peak_heap, a, sizeof a), commas(p->h.peak_extra, b, sizeof b),
                    p->h.peak_milli / 1000.0);
        ntop = hp_top_sites(p, st, sym, top, o->top);
        if (ntop)
            fprintf(stderr, "==%d== Top allocation sites at the peak:\n", pid);
        for (i = 0; i < ntop; i++) {
            const uint64_t *ips = st->ips[top[i].trace];
            uint32_t n = st->n[top[i].trace];
            double pct = peak->h.heap ? 100.0 * (double)top[i].bytes / (double)peak->h.heap : 0;
            /* The site, then the callers of the stack holding most there, each by its real
             * function (inlined calls aside, which massif's tree shows line by line). */
            for (k = 0; k < n && k < SITE_LINES; k++) {
                size_t nl = hp_describe(sym, ips[k], lines, MAX_INLINED);
                if (k == 0)
                    fprintf(stderr, "==%d== %6.2f%% %15s B  %s\n", pid, pct,
                            commas(top[i].bytes, a, sizeof a), lines[nl - 1]);
                else
                    fprintf(stderr, "==%d== %28s%s\n", pid, "", lines[nl - 1]);
            }
        }
    }
    if (r)
        fprintf(stderr,
                "==%d== Total: %s allocs, %s frees, %s bytes allocated; at exit %s bytes in use\n",
                pid, commas(r->h.allocs, a, sizeof a), commas(r->h.frees, b, sizeof b),
                commas(r->h.bytes_allocated, c, sizeof c), commas(p->h.end_heap, t, sizeof t));
    if (file)
        fprintf(stderr, "==%d== Profile written to %s (ms_print %s)\n", pid, file, file);
    if (svg)
        fprintf(stderr, "==%d== Heap timeline drawn in %s\n", pid, svg);
}

/* Writes the profile and the SVG of one process, and its summary. */
static void report(const struct opts *o, struct proc *pr)
{
    struct lk_result r;
    struct hp_profile p;
    struct hp_stacks st = {0};
    struct hp_names names = {o->alloc_fns, o->depth};
    lk_sym_t *sym;
    char path[PATH_MAX], svg[PATH_MAX];
    const char *written = NULL, *drawn = NULL;
    FILE *f;
    int have_r, err, argc = o->argc;
    char *args[256], *const *argv = o->argv;

    pr->reported = 1;
    if (pr->args.len) {
        size_t i = 0;
        for (argc = 0; i < pr->args.len && argc < (int)MW__ARRAY_LEN(args); argc++) {
            args[argc] = pr->args.buf + i;
            i += strlen(pr->args.buf + i) + 1;
        }
        argv = args;
    }
    have_r = lk_result_parse((const unsigned char *)pr->data.buf, pr->data.len, &r) == 0;
    if (!pr->prof_done ||
        hp_profile_parse((const unsigned char *)pr->prof.buf, pr->prof.len, &p) < 0) {
        fprintf(stderr, "==%d== memwalk: the heap profile of this process is %s: no profile\n",
                pr->pid, pr->prof_done ? "damaged" : "missing");
        if (have_r)
            lk_result_free(&r);
        return;
    }
    sym = lk_sym_new(have_r ? r.mods : NULL, have_r ? r.h.nmodules : 0, lk_cache_dir());
    if (!sym || hp_stacks_make(&p, sym, &names, &st) < 0) {
        mw_cli_error(CMD, NULL, "%s", strerror(ENOMEM));
        goto out;
    }
    mw_launch_path(o->out_file, pr->pid, path, sizeof path);
    f = fopen(path, "we");
    if (!f) {
        mw_cli_error(CMD, path, "%s", strerror(errno));
        status_files = 1;
    } else {
        struct hp_massif_opts mo = {o->desc.buf, argv, argc, o->threshold};
        err = hp_massif_write(f, &p, &st, sym, &mo);
        if (fclose(f) != 0 && !err)
            err = -errno;
        if (err < 0) {
            mw_cli_error(CMD, path, "%s", strerror(-err));
            status_files = 1;
        } else {
            written = path;
        }
    }
    /* Without %p, the SVG is PROGRAM's own: a child would draw over it. */
    if (o->svg_file && (strstr(o->svg_file, "%p") || pr->pid == root_pid)) {
        struct hp_svg_opts so = {NULL, 7};
        char title[512];
        int a, n;
        n = snprintf(title, sizeof title, "memwalk heap:");
        for (a = 0; a < argc && n < (int)sizeof title - 1; a++)
            n += snprintf(title + n, sizeof title - (size_t)n, " %s", argv[a]);
        so.title = title;
        mw_launch_path(o->svg_file, pr->pid, svg, sizeof svg);
        f = strcmp(svg, "-") == 0 ? stdout : fopen(svg, "we");
        err = f ? hp_svg_write(f, &p, &st, sym, &so) : -errno;
        if (f && f != stdout && fclose(f) != 0 && !err)
            err = -errno;
        if (err < 0) {
            mw_cli_error(CMD, svg, "%s", strerror(-err));
            status_files = 1;
        } else {
            drawn = svg;
        }
    }
    if (!o->quiet)
        summary(o, pr->pid, &p, have_r ? &r : NULL, &st, sym, written, drawn);
out:
    hp_stacks_free(&st);
    lk_sym_free(sym);
    hp_profile_free(&p);
    if (have_r)
        lk_result_free(&r);
}

/* Handles one framed message; returns -1 when it is malformed. */
static int handle(void *ctx, const unsigned char *m, size_t len)
{
    const struct opts *o = ctx;
    mw__leak_msg_t h;
    struct proc *p;

    if (mw_launch_header(m, len, &h) < 0)
        return -1;
    p = proc_get(h.pid);
    if (!p)
        return -1;
    m += sizeof h;
    if (h.type == MW__LEAK_MSG_HELLO) {
        /* A fresh program (executed by a traced one) starts a new profile. */
        if (!(h.flags & MW__LEAK_HELLO_FORKED)) {
            p->prof.len = 0;
            p->prof_done = 0;
            p->data.len = 0;
        }
        /* Its cmd: line is its own, as massif's: PROGRAM's as given for the first one, the
         * path execve was given and the arguments for the others (a forked child says its
         * parent's). */
        p->args.len = 0;
        if (h.pid != root_pid || p->hellos > 0)
            mw__sb_putn(&p->args, (const char *)m, h.len);
        p->hellos++;
    } else if (h.type == MW__LEAK_MSG_PROFILE) {
        mw__sb_putn(&p->prof, (const char *)m, h.len);
        if (p->prof.err)
            return -1;
        if (h.flags & MW__LEAK_MSG_END)
            p->prof_done = 1;
    } else if (h.type == MW__LEAK_MSG_DATA) {
        mw__sb_putn(&p->data, (const char *)m, h.len);
        if (p->data.err)
            return -1;
        if (h.flags & MW__LEAK_MSG_END) {
            report(o, p);
            mw__sb_free(&p->prof);
            mw__sb_free(&p->data);
            mw__sb_free(&p->args);
            p->prof_done = 0;
        }
    }
    return 0;
}

static void bad_msg(void *ctx)
{
    (void)ctx;
    fprintf(stderr, "==%d== memwalk: ignored a malformed message\n", root_pid);
}

static int run(struct opts *o)
{
    struct mw_launch l = {CMD, NULL, 0, -1};
    char options[160];
    unsigned callers = o->depth + 1 + o->nfns;
    int status = 0, rc, i;
    struct proc *root;

    if (callers > MW__LEAK_MAX_CALLERS)
        callers = MW__LEAK_MAX_CALLERS;
    /* No freed-block queue (",vol:0"): a heap profile reports no bad frees. */
    snprintf(options, sizeof options, "%u,%s,heap:%d:%u:%u:%u:%llu:%d,vol:0", callers,
             o->trace_children ? "yes" : "no", o->unit_ms ? MW__PROF_UNIT_MS : MW__PROF_UNIT_B,
             o->detailed_freq, o->max_snapshots, (unsigned)lround(o->peak_inaccuracy * 1000),
             (unsigned long long)o->heap_admin, o->svg_file != NULL);
    l.options = options;
    rc = mw_launch_start(&l, o->argv);
    if (rc)
        return rc;
    root_pid = l.pid;
    if (!o->quiet) {
        fprintf(stderr, "==%d== memwalk heap, a heap profiler for unmodified programs\n", root_pid);
        /* The Command: line escaped as valgrind's (and memwalk leaks') is. */
        mw__sb_t cmdline = {0};
        for (i = 0; i < o->argc; i++) {
            mw__sb_putc(&cmdline, ' ');
            lk_command_arg(&cmdline, o->argv[i]);
        }
        fprintf(stderr, "==%d== Command:%s\n==%d== \n", root_pid, cmdline.buf ? cmdline.buf : "",
                root_pid);
        mw__sb_free(&cmdline);
    }
    if (mw_launch_collect(&l, handle, bad_msg, o, &status) < 0)
        return MW_EXIT_FAILURE;
    root = proc_get(root_pid);
    if (root && !root->reported)
        mw_launch_unreported(stderr, root_pid, status, o->argv[0], "heap profile");
    if (status_files && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return MW_EXIT_ACCESS;
    return mw_launch_status(status);
}

/* A number within [lo, hi] for option name, or -1 after an error line. */
static int number(const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (mw__parse_u64(arg, out) < 0 || *out < lo || *out > hi) {
        mw_cli_error(CMD, name, "'%s': expected a number from %llu to %llu", arg,
                     (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    return 0;
}

static int percent(const char *name, const char *arg, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(arg, &end);
    if (errno || end == arg || *end || !(*out >= 0 && *out <= 100)) {
        mw_cli_error(CMD, name, "'%s': expected a percentage from 0 to 100", arg);
        return -1;
    }
    return 0;
}

static int cmd_heap(int argc, char **argv)
{
    enum {
        O_UNIT = 256,
        O_FREQ,
        O_MAX,
        O_PEAK,
        O_THRESHOLD,
        O_DEPTH,
        O_ALLOC_FN,
        O_ADMIN,
        O_OUT,
        O_SVG,
        O_TOP,
        O_CHILDREN,
    };
    static const struct option longopts[] = {
        {"time-unit", required_argument, NULL, O_UNIT},
        {"detailed-freq", required_argument, NULL, O_FREQ},
        {"max-snapshots", required_argument, NULL, O_MAX},
        {"peak-inaccuracy", required_argument, NULL, O_PEAK},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"depth", required_argument, NULL, O_DEPTH},
        {"alloc-fn", required_argument, NULL, O_ALLOC_FN},
        {"heap-admin", required_argument, NULL, O_ADMIN},
        {"massif-out-file", required_argument, NULL, O_OUT},
        {"svg", required_argument, NULL, O_SVG},
        {"top", required_argument, NULL, O_TOP},
        {"trace-children", required_argument, NULL, O_CHILDREN},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct opts o;
    int c, rc, massif_opt, li = -1;
    uint64_t v;

    memset(&o, 0, sizeof o);
    o.unit_ms = 1;
    o.detailed_freq = 10;
    o.max_snapshots = 100;
    o.depth = 30;
    o.top = 5;
    o.peak_inaccuracy = 1.0;
    o.threshold = 1.0;
    o.heap_admin = 8;
    o.out_file = "massif.out.%p";
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:q", longopts, &li)) != -1) {
        massif_opt = 1;
        switch (c) {
        case O_UNIT:
            if (strcmp(optarg, "ms") != 0 && strcmp(optarg, "B") != 0) {
                mw_cli_error(CMD, "--time-unit",
                             "'%s': expected ms or B (massif's i, instructions, is not "
                             "available without an emulator)",
                             optarg);
                goto usage;
            }
            o.unit_ms = strcmp(optarg, "ms") == 0;
            break;
        case O_FREQ:
            if (number("--detailed-freq", optarg, 1, 1000000, &v) < 0)
                goto usage;
            o.detailed_freq = (unsigned)v;
            break;
        case O_MAX:
            if (number("--max-snapshots", optarg, 10, 1000, &v) < 0)
                goto usage;
            o.max_snapshots = (unsigned)v;
            break;
        case O_PEAK:
            if (percent("--peak-inaccuracy", optarg, &o.peak_inaccuracy) < 0)
                goto usage;
            break;
        case O_THRESHOLD:
            if (percent("--threshold", optarg, &o.threshold) < 0)
                goto usage;
            break;
        case O_DEPTH:
            if (number("--depth", optarg, 1, MAX_DEPTH, &v) < 0)
                goto usage;
            o.depth = (unsigned)v;
            break;
        case O_ALLOC_FN:
            if (o.nfns == MAX_FNS) {
                mw_cli_error(CMD, "--alloc-fn", "at most %d functions", MAX_FNS);
                goto usage;
            }
            o.alloc_fns[o.nfns++] = optarg;
            break;
        case O_ADMIN:
            if (number("--heap-admin", optarg, 0, 1024, &v) < 0)
                goto usage;
            o.heap_admin = v;
            break;
        case O_OUT:
            if (!*optarg) {
                mw_cli_error(CMD, "--massif-out-file", "empty file name");
                goto usage;
            }
            o.out_file = optarg;
            break;
        case O_SVG:
            massif_opt = 0;
            if (!*optarg) {
                mw_cli_error(CMD, "--svg", "empty file name");
                goto usage;
            }
            o.svg_file = optarg;
            break;
        case O_TOP:
            massif_opt = 0;
            if (number("--top", optarg, 0, MAX_TOP, &v) < 0)
                goto usage;
            o.top = (unsigned)v;
            break;
        case O_CHILDREN:
            massif_opt = 0;
            if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
                mw_cli_error(CMD, "--trace-children", "'%s': expected yes or no", optarg);
                goto usage;
            }
            o.trace_children = strcmp(optarg, "yes") == 0;
            break;
        case 'q':
            massif_opt = 0;
            o.quiet = 1;
            break;
        default:
            mw__sb_free(&o.desc);
            return mw_cli_bad_option(CMD, argv, c);
        }
        /* massif's desc: line lists the massif options as they were given. */
        if (massif_opt)
            mw__sb_printf(&o.desc, "%s--%s=%s", o.desc.len ? " " : "", longopts[li].name, optarg);
    }
    if (optind >= argc) {
        mw_cli_error(CMD, NULL, "no program to run (try 'memwalk help heap')");
        goto usage;
    }
    o.argv = argv + optind;
    o.argc = argc - optind;
    rc = run(&o);
    mw__sb_free(&o.desc);
    return rc;
usage:
    mw__sb_free(&o.desc);
    return MW_EXIT_USAGE;
}

MW_CLI_COMMAND(heap_command, "heap", "run a program and profile its heap as massif does", cmd_heap,
               usage, 33)
