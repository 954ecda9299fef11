/* `memwalk leaks`: runs a program with the leak tracer preloaded, collects each traced
 * process's raw result over a socket, symbolizes it and prints memcheck's leak report. */
#include "cli/cli.h"
#include "cli/leaks_errors.h"
#include "cli/launch.h"
#include "cli/leaks_int.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CMD "leaks"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: memwalk leaks [options] [--] PROGRAM [ARGS...]\n"
            "       memwalk leaks [options] --read FILE...\n"
            "\n"
            "Runs PROGRAM (unmodified, dynamically linked) with the leak tracer preloaded and\n"
            "prints memcheck's leak report when it exits, and for each forked child that exits.\n"
            "Bad frees (double, invalid, mismatched) are reported as memcheck does, as they\n"
            "happen, and counted as errors.\n"
            "\n"
            "options:\n"
            "  --leak-check=full|summary      loss records and summary (default), or summary\n"
            "  --show-leak-kinds=KINDS        loss records printed (default definite,possible)\n"
            "  --errors-for-leak-kinds=KINDS  loss records counted as errors (same default)\n"
            "                                 KINDS: comma list of definite, indirect, possible,\n"
            "                                 reachable; or all; or none\n"
            "  --error-exitcode=N             exit with N when errors were found (1-255)\n"
            "  -s, --show-error-list=yes|no   list the error contexts again at the end, each\n"
            "                                 with its count, as memcheck's -s (default no)\n"
            "  --num-callers=N                frames per stack, the allocation function included\n"
            "                                 (1-%d, default 12); records equal in these merge\n"
            "  --trace-children=yes|no        also trace programs PROGRAM executes (default no)\n"
            "  --track-fds=no|yes|all         list the file descriptors open at exit, with the\n"
            "                                 stack that opened each (all: stdin, stdout and\n"
            "                                 stderr too; default no)\n"
            "  --freelist-vol=BYTES           recent frees remembered, so that a second free is\n"
            "                                 reported with both stacks (default 20000000,\n"
            "                                 memcheck's; 0: none; K, M, G suffixes)\n"
            "  --freelist-hold=yes|no         also hold those blocks back from reuse, as\n"
            "                                 memcheck does: stale words in reused memory\n"
            "                                 then hide no leak (slower; default no)\n"
            "  --suppressions=FILE            hide loss records matching FILE (memcheck's\n"
            "                                 suppression format; may be repeated)\n"
            "  --log-file=FILE                report to FILE instead of stderr; %%p = process id\n"
            "  --json=FILE                    write JSON reports to FILE too ('-': stdout)\n"
            "  -q, --quiet                    no preamble\n"
            "  --read                         ARGS are raw result files written by the tracer\n"
            "                                 preloaded by hand (MEMWALK_OUT): report them\n"
            "\n"
            "Exit status: PROGRAM's own; N of --error-exitcode when errors were found; 128+N when\n"
            "PROGRAM was killed by signal N; 126 when it cannot be executed or is statically\n"
            "linked; 127 when it is not found; 2 bad usage; 3 unreadable --suppressions or\n"
            "--read file, or a --json file that cannot be written; 4 internal failure.\n"
            "The preload is found next to memwalk, in ../lib/memwalk, or at $MEMWALK_PRELOAD.\n"
            "Symbolized addresses are kept in ~/.cache/memwalk/symbols ($MEMWALK_SYMBOL_CACHE;\n"
            "off: no cache).\n"
            "See memwalk-leaks(1).\n",
            MW__LEAK_MAX_CALLERS);
}

struct opts {
    struct lk_report_opts rep;
    int error_exitcode; /* 0: not set */
    int num_callers;
    int callers_given;
    int trace_children;
    int track_fds;         /* 0 no, 1 yes, 2 all */
    uint64_t freelist_vol; /* --freelist-vol; UINT64_MAX: not given */
    int freelist_hold;     /* --freelist-hold; -1: not given */
    int quiet;
    int read_mode;
    const char *log_file;
    const char *json_file;
    FILE *json_out; /* opened before the program runs; stdout for '-' */
};

struct proc {
    int pid;
    int ppid;      /* 0 until known */
    int forked;    /* a copy of another traced process (fork), not a fresh program */
    char *command; /* the Command: line, as memcheck writes it */
    unsigned char *buf;
    size_t len, cap;
    FILE *log;
    int preamble_done;
    int reported;
    int hellos; /* HELLO messages seen from this process id */
    struct lk_report_stats stats;
};

static struct proc *procs;
static size_t nprocs;
static mw__sb_t json;
static int json_count;
static pid_t root_pid;

static struct proc *proc_get(int pid)
{
    return mw_launch_proc(&procs, &nprocs, sizeof *procs, pid);
}

/* The log stream of a process: stderr, or its own file when --log-file has %p. */
static FILE *proc_log(const struct opts *o, struct proc *p)
{
    static FILE *shared;
    char path[PATH_MAX];
    int per_pid;

    if (p->log)
        return p->log;
    if (!o->log_file)
        return p->log = stderr;
    per_pid = strstr(o->log_file, "%p") != NULL;
    if (!per_pid && shared)
        return p->log = shared;
    mw_launch_path(o->log_file, p->pid, path, sizeof path);
    p->log = fopen(path, "we");
    if (!p->log) {
        mw_cli_error(CMD, path, "%s (reporting to stderr)", strerror(errno));
        p->log = stderr;
    } else if (!per_pid) {
        shared = p->log;
    }
    return p->log;
}

/* The Command: line of argv, escaped as memcheck's (malloc'd; NULL when out of memory). */
static char *command_line(char *const *argv, int argc)
{
    mw__sb_t sb = {0};
    int i;

    for (i = 0; i < argc; i++) {
        if (i)
            mw__sb_putc(&sb, ' ');
        lk_command_arg(&sb, argv[i]);
    }
    return mw__sb_take(&sb);
}

/* The parent of a live (or not yet reaped) process, 0 when it cannot be told. */
static int parent_of(int pid)
{
    char path[64], buf[512], *paren;
    int fd, ppid = 0;
    ssize_t n;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    paren = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
    if (!paren || sscanf(paren + 1, " %*c %d", &ppid) != 1)
        return 0;
    return ppid;
}

static int per_pid_logs(const struct opts *o)
{
    return o->log_file && strstr(o->log_file, "%p") != NULL;
}

/* memcheck's preamble, from a process's Command: line and parent. Its Parent PID line is
 * there when the log goes to a file. */
static void preamble(const struct opts *o, struct proc *p)
{
    FILE *f = proc_log(o, p);

    p->preamble_done = 1;
    if (o->quiet)
        return;
    fprintf(f, "==%d== memwalk leaks, a leak checker for unmodified programs\n", p->pid);
    fprintf(f, "==%d== Command: %s\n", p->pid, p->command ? p->command : "");
    if (o->log_file && p->ppid > 0)
        fprintf(f, "==%d== Parent PID: %d\n", p->pid, p->ppid);
    fprintf(f, "==%d== \n", p->pid);
    fflush(f);
}

/* A forked child runs its parent's program: memcheck repeats the parent's Command: line in
 * the child's own log file (a shared log gets no second preamble). */
static void forked_preamble(const struct opts *o, struct proc *p)
{
    size_t i;

    if (p->preamble_done || !p->forked || !per_pid_logs(o))
        return;
    for (i = 0; i < nprocs && p->ppid > 0; i++)
        if (procs[i].pid == p->ppid && procs[i].command) {
            char *c = strdup(procs[i].command);
            if (c) {
                free(p->command);
                p->command = c;
            }
            break;
        }
    preamble(o, p);
}

static void report(const struct opts *o, struct proc *p)
{
    struct lk_result r;
    FILE *f = proc_log(o, p);

    if (lk_result_parse(p->buf, p->len, &r) < 0) {
        fprintf(f, "==%d== memwalk: the leak record of this process is damaged: no report\n",
                p->pid);
        fflush(f);
        return;
    }
    if (p->ppid <= 0)
        p->ppid = r.h.ppid;
    forked_preamble(o, p);
    if (o->json_file) {
        mw__sb_t one = {0};
        mw__json_t j;
        mw__json_init(&j, &one);
        lk_report_print(f, &r, &o->rep, &j, &p->stats);
        if (mw__json_finish(&j) == 0 && one.buf) {
            mw__sb_puts(&json, json_count++ ? "," : "");
            mw__sb_puts(&json, one.buf);
        }
        mw__sb_free(&one);
    } else {
        lk_report_print(f, &r, &o->rep, NULL, &p->stats);
    }
    p->reported = 1;
    fflush(f);
    lk_result_free(&r);
}

/* Handles one framed message; returns -1 when it is malformed. */
static int handle(const struct opts *o, const unsigned char *m, size_t len)
{
    mw__leak_msg_t h;
    struct proc *p;

    if (mw_launch_header(m, len, &h) < 0)
        return -1;
    p = proc_get(h.pid);
    if (!p)
        return -1;
    m += sizeof h;
    if (h.type == MW__LEAK_MSG_HELLO) {
        int forked = (h.flags & MW__LEAK_HELLO_FORKED) != 0;
        /* The root's first HELLO is the program memwalk started, its preamble printed already.
         * Any other HELLO of a fresh program is a new one: the first of a process, or one it
         * executed in its place (memcheck starts over then: a preamble, a report to come). */
        int fresh = !(h.pid == root_pid && p->hellos == 0) && (!forked || !p->preamble_done);
        p->hellos++;
        if (fresh) {
            char *args[256];
            int n = 0;
            size_t i = 0;
            char *copy = malloc(h.len + 1);
            p->forked = forked;
            p->ppid = parent_of(h.pid);
            p->reported = 0;
            p->preamble_done = 0;
            if (copy) {
                memcpy(copy, m, h.len);
                copy[h.len] = '\0';
                while (i < h.len && n < 256) {
                    args[n++] = copy + i;
                    i += strlen(copy + i) + 1;
                }
                free(p->command);
                p->command = command_line(args, n);
                free(copy);
            }
            /* A program PROGRAM executed (--trace-children=yes) gets its own preamble; a
             * forked child, in its own log file, its parent's. */
            if (!p->forked)
                preamble(o, p);
            else if (p->ppid > 0)
                forked_preamble(o, p);
        }
    } else if (h.type == MW__LEAK_MSG_LIVE) {
        forked_preamble(o, p); /* a forked child's error in its own log: its preamble first */
        if (lk_live_message(proc_log(o, p), h.pid, m, h.len, h.flags) < 0)
            return -1;
    } else if (h.type == MW__LEAK_MSG_DATA) {
        if (p->len + h.len > p->cap) {
            size_t ncap = p->cap ? p->cap * 2 : 65536;
            unsigned char *nb;
            while (ncap < p->len + h.len)
                ncap *= 2;
            nb = realloc(p->buf, ncap);
            if (!nb)
                return -1;
            p->buf = nb;
            p->cap = ncap;
        }
        memcpy(p->buf + p->len, m, h.len);
        p->len += h.len;
        if (h.flags & MW__LEAK_MSG_END) {
            report(o, p);
            free(p->buf);
            p->buf = NULL;
            p->len = p->cap = 0;
        }
    }
    return 0;
}

/* ---- running the program ------------------------------------------------------------------ */
static int handle_msg(void *ctx, const unsigned char *m, size_t len)
{
    return handle(ctx, m, len);
}

static void bad_msg(void *ctx)
{
    struct proc *root = proc_get(root_pid);

    if (root)
        fprintf(proc_log(ctx, root), "==%d== memwalk: ignored a malformed message\n", root->pid);
}

static int run(const struct opts *o, int argc, char **argv)
{
    struct mw_launch l = {CMD, NULL, 0, -1};
    char options[160], vol[40] = "";
    int status = 0, rc;
    pid_t child_pid;
    size_t i;
    struct proc *root;

    if (o->freelist_vol != UINT64_MAX)
        snprintf(vol, sizeof vol, ",vol:%llu", (unsigned long long)o->freelist_vol);
    snprintf(options, sizeof options, "%d,%s%s%s%s", o->num_callers,
             o->trace_children ? "yes" : "no", vol,
             o->freelist_hold < 0 ? ""
             : o->freelist_hold   ? ",hold:yes"
                                  : ",hold:no",
             o->track_fds == 2 ? ",fds:all"
             : o->track_fds    ? ",fds:yes"
                               : "");
    l.options = options;
    rc = mw_launch_start(&l, argv);
    if (rc)
        return rc;
    child_pid = l.pid;
    root_pid = child_pid;
    root = proc_get(child_pid);
    if (!root)
        return MW_EXIT_FAILURE;
    root->command = command_line(argv, argc);
    root->ppid = getpid();
    preamble(o, root);

    if (mw_launch_collect(&l, handle_msg, bad_msg, (void *)o, &status) < 0)
        return MW_EXIT_FAILURE;

    for (i = 0; i < nprocs; i++)
        forked_preamble(o, &procs[i]); /* forked children that never reported */
    root = proc_get(child_pid);
    if (!root->reported)
        mw_launch_unreported(proc_log(o, root), root->pid, status, argv[0], "leak report");
    if (o->error_exitcode && root->stats.errors > 0)
        return o->error_exitcode;
    return mw_launch_status(status);
}

/* --read: reports from raw files written by a preload used by hand. */
static int read_files(const struct opts *o, int argc, char **argv)
{
    int i, rc = MW_EXIT_OK;

    for (i = 0; i < argc; i++) {
        char *data;
        size_t len, off = 0;
        int r = mw__read_file(argv[i], &data, &len);
        if (r < 0) {
            mw_cli_error(CMD, argv[i], "%s", strerror(-r));
            rc = MW_EXIT_ACCESS;
            continue;
        }
        while (off < len) {
            mw__leak_msg_t h;
            if (mw_launch_header((const unsigned char *)data + off, len - off, &h) < 0)
                break;
            handle(o, (const unsigned char *)data + off, sizeof h + h.len);
            off += sizeof h + h.len;
        }
        if (off != len || len == 0) {
            mw_cli_error(CMD, argv[i], "not a complete memwalk leak record");
            rc = MW_EXIT_ACCESS;
        }
        free(data);
    }
    for (i = 0; i < (int)nprocs; i++)
        if (o->error_exitcode && procs[i].stats.errors > 0 && rc == MW_EXIT_OK)
            rc = o->error_exitcode;
    return rc;
}

static int parse_yesno(const char *s, int *out)
{
    if (strcmp(s, "yes") == 0)
        *out = 1;
    else if (strcmp(s, "no") == 0)
        *out = 0;
    else
        return -EINVAL;
    return 0;
}

static int write_json(const struct opts *o, int argc, char **argv, int status)
{
    mw__sb_t doc = {0}, procs = {0};
    mw__json_t j;
    FILE *f;
    int i;

    mw__json_init(&j, &doc);
    mw__json_object(&j, NULL);
    mw__json_str(&j, "tool", "memwalk leaks");
    mw__json_str(&j, "version", MW_VERSION_STRING);
    mw__json_array(&j, "command");
    for (i = 0; i < argc; i++)
        mw__json_str(&j, NULL, argv[i]);
    mw__json_end(&j);
    mw__json_int(&j, "exit_status", status);
    /* The processes' reports, written as each process ended. */
    mw__sb_printf(&procs, "[%s]", json.buf ? json.buf : "");
    mw__json_raw(&j, "processes", procs.buf);
    i = procs.err ? procs.err : mw__json_finish(&j);
    mw__sb_putc(&doc, '\n');
    mw__sb_free(&procs);
    if (i < 0 || doc.err) {
        mw__sb_free(&doc);
        return -ENOMEM;
    }
    f = o->json_out;
    errno = EIO;
    if (fputs(doc.buf, f) == EOF || (f == stdout ? fflush(f) : fclose(f)) != 0) {
        int e = errno;
        mw__sb_free(&doc);
        return -e;
    }
    mw__sb_free(&doc);
    return 0;
}

static int cmd_leaks(int argc, char **argv)
{
    enum {
        O_LEAK_CHECK = 256,
        O_SHOW,
        O_ERRORS,
        O_EXITCODE,
        O_CALLERS,
        O_CHILDREN,
        O_SUPP,
        O_LOG,
        O_JSON,
        O_READ,
        O_TRACK_FDS,
        O_FREELIST_VOL,
        O_FREELIST_HOLD,
        O_ERROR_LIST,
    };
    static const struct option longopts[] = {
        {"leak-check", required_argument, NULL, O_LEAK_CHECK},
        {"show-leak-kinds", required_argument, NULL, O_SHOW},
        {"errors-for-leak-kinds", required_argument, NULL, O_ERRORS},
        {"error-exitcode", required_argument, NULL, O_EXITCODE},
        {"num-callers", required_argument, NULL, O_CALLERS},
        {"trace-children", required_argument, NULL, O_CHILDREN},
        {"suppressions", required_argument, NULL, O_SUPP},
        {"log-file", required_argument, NULL, O_LOG},
        {"json", required_argument, NULL, O_JSON},
        {"read", no_argument, NULL, O_READ},
        {"track-fds", required_argument, NULL, O_TRACK_FDS},
        {"freelist-vol", required_argument, NULL, O_FREELIST_VOL},
        {"freelist-hold", required_argument, NULL, O_FREELIST_HOLD},
        {"show-error-list", required_argument, NULL, O_ERROR_LIST},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    struct opts o;
    int c, rc;
    uint64_t v;
    char err[512];

    memset(&o, 0, sizeof o);
    o.rep.show = o.rep.errors = (1u << MW__LEAK_DEFINITE) | (1u << MW__LEAK_POSSIBLE);
    o.rep.full = 1;
    o.num_callers = 12;
    o.freelist_vol = UINT64_MAX;
    o.freelist_hold = -1;
    o.rep.cache_dir = lk_cache_dir();
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:qs", longopts, NULL)) != -1) {
        switch (c) {
        case O_LEAK_CHECK:
            if (strcmp(optarg, "full") == 0 || strcmp(optarg, "yes") == 0)
                o.rep.full = 1;
            else if (strcmp(optarg, "summary") == 0)
                o.rep.full = 0;
            else {
                mw_cli_error(CMD, "--leak-check", "'%s': expected full or summary", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case O_SHOW:
        case O_ERRORS:
            if (lk_parse_kinds(optarg, c == O_SHOW ? &o.rep.show : &o.rep.errors) < 0) {
                mw_cli_error(CMD, c == O_SHOW ? "--show-leak-kinds" : "--errors-for-leak-kinds",
                             "'%s': expected a comma list of definite, indirect, possible, "
                             "reachable, or all, or none",
                             optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case O_EXITCODE:
            if (mw__parse_u64(optarg, &v) < 0 || v < 1 || v > 255) {
                mw_cli_error(CMD, "--error-exitcode", "'%s': expected a number from 1 to 255",
                             optarg);
                return MW_EXIT_USAGE;
            }
            o.error_exitcode = (int)v;
            break;
        case O_CALLERS:
            if (mw__parse_u64(optarg, &v) < 0 || v < 1 || v > MW__LEAK_MAX_CALLERS) {
                mw_cli_error(CMD, "--num-callers", "'%s': expected a number from 1 to %d", optarg,
                             MW__LEAK_MAX_CALLERS);
                return MW_EXIT_USAGE;
            }
            o.num_callers = (int)v;
            o.callers_given = 1;
            break;
        case O_CHILDREN:
            if (parse_yesno(optarg, &o.trace_children) < 0) {
                mw_cli_error(CMD, "--trace-children", "'%s': expected yes or no", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case O_SUPP:
            if (lk_supp_load(&o.rep.supp, optarg, err, sizeof err) < 0) {
                mw_cli_error(CMD, optarg, "%s", err);
                lk_supp_free(o.rep.supp);
                return errno == EINVAL || strstr(err, "line ") ? MW_EXIT_USAGE : MW_EXIT_ACCESS;
            }
            break;
        case O_LOG:
            o.log_file = optarg;
            break;
        case O_JSON:
            o.json_file = optarg;
            break;
        case O_READ:
            o.read_mode = 1;
            break;
        case O_TRACK_FDS:
            if (strcmp(optarg, "all") == 0) {
                o.track_fds = 2;
            } else if (parse_yesno(optarg, &o.track_fds) < 0) {
                mw_cli_error(CMD, "--track-fds", "'%s': expected yes, no or all", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case O_FREELIST_VOL:
            if (mw__parse_size(optarg, &o.freelist_vol) < 0 || o.freelist_vol > (1ull << 40)) {
                mw_cli_error(CMD, "--freelist-vol",
                             "'%s': expected a number of bytes up to 1T (K, M, G suffixes)",
                             optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case O_FREELIST_HOLD:
            if (parse_yesno(optarg, &o.freelist_hold) < 0) {
                mw_cli_error(CMD, "--freelist-hold", "'%s': expected yes or no", optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 's':
            o.rep.error_list = 1;
            break;
        case O_ERROR_LIST:
            if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
                mw_cli_error(CMD, "--show-error-list", "'%s': expected yes or no", optarg);
                lk_supp_free(o.rep.supp);
                return MW_EXIT_USAGE;
            }
            o.rep.error_list = optarg[0] == 'y';
            break;
        default:
            lk_supp_free(o.rep.supp);
            return mw_cli_bad_option(CMD, argv, c);
        }
    }
    if (optind >= argc) {
        mw_cli_error(CMD, NULL,
                     o.read_mode ? "no file to read (try 'memwalk help leaks')"
                                 : "no program to run (try 'memwalk help leaks')");
        lk_supp_free(o.rep.supp);
        return MW_EXIT_USAGE;
    }
    /* Records equal in their first --num-callers frames are one, as memcheck's. A file read
     * back was recorded with the tracer's depth, 12 unless MEMWALK_NUM_CALLERS said more. */
    o.rep.num_callers = o.read_mode && !o.callers_given ? 0 : o.num_callers;
    /* The JSON file is opened first: a bad path should not cost a whole run. */
    if (o.json_file &&
        !(o.json_out = strcmp(o.json_file, "-") == 0 ? stdout : fopen(o.json_file, "we"))) {
        mw_cli_error(CMD, o.json_file, "%s", strerror(errno));
        lk_supp_free(o.rep.supp);
        return MW_EXIT_ACCESS;
    }
    if (o.read_mode)
        rc = read_files(&o, argc - optind, argv + optind);
    else
        rc = run(&o, argc - optind, argv + optind);
    if (o.json_file) {
        int r = write_json(&o, argc - optind, argv + optind, rc);
        if (r < 0) {
            mw_cli_error(CMD, o.json_file, "%s", strerror(-r));
            if (rc == 0)
                rc = MW_EXIT_FAILURE;
        }
    }
    lk_supp_free(o.rep.supp);
    return rc;
}

MW_CLI_COMMAND(leaks_command, "leaks", "run a program and report its leaks as memcheck does",
               cmd_leaks, usage, 30)
