/* What the experiments share: the list, running a measurement in a freshly executed process, CSV
 * and JSON pieces, and small probes of the process (page faults, glibc's mapped blocks). */
#include "lab/lab.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const mw__lab_exp_t *const mw__lab_all[] = {&mw__lab_stack_vs_heap_desc, &mw__lab_reuse_desc,
                                            &mw__lab_sizes_desc, &mw__lab_first_touch_desc, NULL};

const mw__lab_exp_t *mw__lab_find(const char *name)
{
    for (size_t i = 0; mw__lab_all[i]; i++)
        if (strcmp(mw__lab_all[i]->name, name) == 0)
            return mw__lab_all[i];
    return NULL;
}

static mw__lab_child_t *children;

void mw__lab_child_register(mw__lab_child_t *c)
{
    c->next = children;
    children = c;
}

#define CHILD_ENV "MEMWALK_EXP_CHILD"

/* The new process: when CHILD_ENV names a registered measurement ("name in out"), read its ctx
 * from fd in, run it, write the status and the result to fd out, and exit before main. */
__attribute__((constructor)) static void exp_child_main(void)
{
    const char *v = getenv(CHILD_ENV);
    char name[64];
    int in, out, rc;
    mw__lab_child_t *c;

    if (!v || sscanf(v, "%63s %d %d", name, &in, &out) != 3)
        return;
    unsetenv(CHILD_ENV);
    for (c = children; c && strcmp(c->name, name) != 0; c = c->next)
        ;
    if (!c)
        _exit(2);
    /* Both buffers come from mmap: the malloc state stays as the new process has it. */
    size_t len = c->ctx_size + c->result_size + 1;
    char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED || (c->ctx_size && mw__read_full(in, buf, c->ctx_size) < 0))
        _exit(1);
    close(in);
    rc = c->fn(c->ctx_size ? buf : NULL, buf + c->ctx_size);
    if (mw__write_full(out, &rc, sizeof rc) < 0 ||
        (rc == 0 && mw__write_full(out, buf + c->ctx_size, c->result_size) < 0))
        _exit(1);
    _exit(0);
}

int mw__lab_in_child(const mw__lab_child_t *c, const void *ctx, void *result)
{
    int to[2], from[2], rc = 0, status, err;
    char self[PATH_MAX], var[sizeof CHILD_ENV + 96];
    ssize_t n;
    size_t nenv = 0;
    pid_t pid;

    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -errno;
    self[n] = '\0';
    /* The environment of the new process, made before fork: the child only dups and execs. */
    while (environ[nenv])
        nenv++;
    char **env = calloc(nenv + 2, sizeof *env);
    if (!env)
        return -ENOMEM;
    if (pipe2(to, O_CLOEXEC) < 0) {
        free(env);
        return -errno;
    }
    if (pipe2(from, O_CLOEXEC) < 0) {
        err = -errno;
        close(to[0]), close(to[1]), free(env);
        return err;
    }
    /* The child's ends get fixed numbers above stdio, past O_CLOEXEC. */
    snprintf(var, sizeof var, "%s=%s %d %d", CHILD_ENV, c->name, 3, 4);
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], CHILD_ENV "=", sizeof CHILD_ENV) != 0)
            env[k++] = environ[i];
    env[k++] = var;
    env[k] = NULL;
    char *argv[] = {self, (char *)c->name, NULL};
    fflush(NULL); /* nothing buffered may be written twice */
    pid = fork();
    if (pid < 0) {
        err = -errno;
        close(to[0]), close(to[1]), close(from[0]), close(from[1]), free(env);
        return err;
    }
    if (pid == 0) {
        /* dup2 onto 3 and 4 without losing one end to the other. */
        int a = fcntl(to[0], F_DUPFD, 10), b = fcntl(from[1], F_DUPFD, 10);
        if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
            _exit(127);
        execve(self, argv, env);
        _exit(127);
    }
    free(env);
    close(to[0]);
    close(from[1]);
    int sent = !c->ctx_size || mw__write_full(to[1], ctx, c->ctx_size) == 0;
    close(to[1]);
    void *tmp =
        mmap(NULL, c->result_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int got = sent && tmp != MAP_FAILED && mw__read_full(from[0], &rc, sizeof rc) == 0 &&
              (rc != 0 || mw__read_full(from[0], tmp, c->result_size) == 0);
    close(from[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = tmp == MAP_FAILED ? -ENOMEM : -ECHILD;
    else if (rc == 0)
        memcpy(result, tmp, c->result_size);
    if (tmp != MAP_FAILED)
        munmap(tmp, c->result_size);
    return rc;
}

const char *mw__lab_verdict_word(enum mw__lab_verdict v)
{
    return v == MW__LAB_HOLDS ? "holds" : v == MW__LAB_CONTRADICTED ? "contradicted" : "unclear";
}

void mw__lab_json_verdicts(mw__json_t *j, size_t n, const char *const *keys,
                           const enum mw__lab_verdict *v)
{
    mw__json_object(j, "verdicts");
    for (size_t i = 0; i < n; i++)
        mw__json_str(j, keys[i], mw__lab_verdict_word(v[i]));
    mw__json_end(j);
}

static void csv_cell(mw__sb_t *sb, double v)
{
    mw__sb_putc(sb, ',');
    mw__sb_double(sb, v); /* nothing when not finite: an empty cell */
}

static void csv_count(mw__sb_t *sb, long long v)
{
    mw__sb_putc(sb, ',');
    if (v >= 0)
        mw__sb_printf(sb, "%lld", v);
}

void mw__lab_csv_row(mw__sb_t *sb, const char *exp, const char *cas, size_t bytes, const char *per,
                     const mw_bench_result_t *r, mw__lab_counts_t counts, double relative)
{
    mw__sb_csv_str(sb, exp);
    mw__sb_putc(sb, ',');
    mw__sb_csv_str(sb, cas); /* "heap, no free" is quoted */
    mw__sb_printf(sb, ",%zu,%s", bytes, per);
    if (r) {
        mw__sb_printf(sb, ",%llu,%u", (unsigned long long)r->iters, r->samples);
        csv_cell(sb, r->wall_ns.median);
        csv_cell(sb, r->wall_ns.min);
        csv_cell(sb, r->wall_ns.mean);
        csv_cell(sb, r->wall_ns.mad);
        csv_cell(sb, r->wall_ns.max);
        csv_cell(sb, r->cpu_ns.median);
        csv_cell(sb, r->minflt_per_op + r->majflt_per_op);
    } else {
        mw__sb_puts(sb, ",,,,,,,,");
        csv_cell(sb, counts.faults);
    }
    csv_count(sb, counts.rounds);
    csv_count(sb, counts.distinct);
    csv_count(sb, counts.same_as_previous);
    csv_count(sb, counts.mmapped);
    csv_cell(sb, relative);
    mw__sb_putc(sb, '\n');
}

long mw__lab_minflt(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

size_t mw__lab_mmapped_blocks(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().hblks;
#elif defined(__GLIBC__)
    return (size_t)mallinfo().hblks;
#else
    return 0;
#endif
}

void mw__lab_cut(mw__lab_budget_t *b, const char *fmt, ...)
{
    size_t n = strlen(b->cut);
    va_list ap;

    if (n && n + 2 < sizeof b->cut) {
        memcpy(b->cut + n, "; ", 3);
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(b->cut + n, sizeof b->cut - n, fmt, ap);
    va_end(ap);
}

void mw__lab_budget_json(mw__json_t *j, const mw__lab_budget_t *b)
{
    mw__json_num(j, "budget_s", b->budget_ns > 0 ? b->budget_ns / 1e9 : NAN);
    mw__json_num(j, "estimate_s", b->estimate_ns / 1e9);
    mw__json_str(j, "cut", b->cut[0] ? b->cut : NULL);
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double mw__lab_fault_ns(double *free_ns)
{
    const size_t len = 4u << 20, page = (size_t)sysconf(_SC_PAGESIZE);
    double best = NAN, best_free = NAN;

    for (int run = 0; run < 3; run++) {
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            break;
        madvise(p, len, MADV_NOHUGEPAGE);
        double t0 = now_ns();
        for (size_t off = 0; off < len; off += page)
            p[off] = 1;
        double t1 = now_ns();
        munmap(p, len);
        double ns = (t1 - t0) / (double)(len / page), fns = (now_ns() - t1) / (double)(len / page);
        if (!(ns >= best))
            best = ns;
        if (!(fns >= best_free))
            best_free = fns;
    }
    if (free_ns)
        *free_ns = best_free;
    return best;
}
