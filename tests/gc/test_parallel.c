/* Parallel marking: several markers find exactly what one finds (no object lost, none counted
 * twice), with stealing, with a tiny mark stack, after fork; helpers start only when wanted and
 * never take a signal. Freed memory is poisoned (MEMWALK_GC_POISON) so a lost object shows. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc/gc_internal.h"

#include "gc_test.h"

struct node {
    struct node *left, *right;
    long depth, check;
};

struct big {
    struct node *tree; /* a binary tree: plenty to steal */
    struct node *list; /* a long chain: no parallelism at all */
    long **array;      /* a huge pointer array (split between markers) of atomic cells */
    long ncells;
    struct node *interior; /* a pointer into the middle of a node */
};

static struct big g; /* a data root */

static struct node *tree(long depth)
{
    struct node *n = mw_gc_malloc(sizeof *n);
    n->depth = depth;
    n->check = depth * 7 + 1;
    if (depth) {
        n->left = tree(depth - 1);
        n->right = tree(depth - 1);
    }
    return n;
}

static long tree_ok(const struct node *n, long depth)
{
    if (!n || n->depth != depth || n->check != depth * 7 + 1)
        return 0;
    return depth ? tree_ok(n->left, depth - 1) && tree_ok(n->right, depth - 1) : 1;
}

#define TREE_DEPTH 17 /* 2^18 - 1 nodes of 32 bytes: 8 MiB */
#define LIST_LEN   100000
#define NCELLS     300000

/* What the structure takes in the heap (slot sizes: 32-byte nodes, 16-byte cells, the array in
 * whole pages). */
static uint64_t expected_bytes(void)
{
    uint64_t array = ((uint64_t)NCELLS * sizeof(long *) + 4095) & ~(uint64_t)4095;
    return ((2ull << TREE_DEPTH) - 1) * 32 + (uint64_t)LIST_LEN * 32 + (uint64_t)NCELLS * 16 +
           array;
}

NOINLINE static void build(void)
{
    struct node *prev = NULL;

    g.tree = tree(TREE_DEPTH);
    for (long i = 0; i < LIST_LEN; i++) {
        struct node *n = mw_gc_malloc(sizeof *n);
        n->left = prev;
        n->depth = i;
        n->check = i * 7 + 1;
        prev = n;
    }
    g.list = prev;
    g.ncells = NCELLS;
    g.array = mw_gc_malloc(NCELLS * sizeof *g.array);
    for (long i = 0; i < NCELLS; i++) {
        g.array[i] = mw_gc_malloc_atomic(16);
        g.array[i][0] = i;
        g.array[i][1] = ~i;
    }
    /* the only reference to one more tree is an interior pointer */
    g.interior = (struct node *)((char *)tree(3) + 8);
    for (int i = 0; i < 200000; i++) /* garbage */
        mw_gc_malloc(48);
}

static void verify(void)
{
    long i = LIST_LEN;
    struct node *n;

    cr_assert(tree_ok(g.tree, TREE_DEPTH), "the tree lost nodes");
    for (n = g.list; n; n = n->left) {
        i--;
        cr_assert(n->depth == i && n->check == i * 7 + 1, "the list is damaged at %ld", i);
    }
    cr_assert_eq(i, 0);
    for (i = 0; i < g.ncells; i++)
        cr_assert(g.array[i][0] == i && g.array[i][1] == ~i, "cell %ld is damaged", i);
    cr_assert(tree_ok((struct node *)((char *)g.interior - 8), 3));
}

static void setenv_before_first_use(const char *markers, const char *stack)
{
    setenv("MEMWALK_GC_MARKERS", markers, 1);
    setenv("MEMWALK_GC_PARALLEL_MIN", "0", 1); /* small test heaps mark in parallel too */
    setenv("MEMWALK_GC_POISON", "1", 1);
    if (stack)
        setenv("MEMWALK_GC_MARK_STACK", stack, 1);
}

/* Collects until some marker stole work (a helper may not get a CPU in time on a busy
 * machine), at most 50 times; returns the live bytes of the last collection. */
static uint64_t collect_until_stolen(void)
{
    mw_gc_stats_t st;

    for (int i = 0; i < 50 && !mw__gc.mk.steals; i++)
        gc_test_collect();
    mw_gc_get_stats(&st);
    return st.live_bytes;
}

static void check_live(uint64_t live)
{
    uint64_t want = expected_bytes();
    /* Stale stack words may keep a little garbage; nothing may be missing or counted twice. */
    cr_assert(live >= want && live <= want + (1u << 20), "live %llu bytes, expected %llu",
              (unsigned long long)live, (unsigned long long)want);
}

Test(gc_parallel, four_markers_find_exactly_the_live_heap, .timeout = 120)
{
    uint64_t live;

    setenv_before_first_use("4", NULL);
    build();
    live = collect_until_stolen();
    cr_assert_eq(mw__gc.mk.started, 3);
    cr_assert_gt(mw__gc.mk.phases, 0);
    cr_assert_gt(mw__gc.mk.steals, 0, "no marker ever stole work");
    check_live(live);
    verify();
    for (int i = 0; i < 200000; i++) /* reuse what was freed */
        mw_gc_malloc(32);
    gc_test_collect();
    verify();
}

Test(gc_parallel, tiny_mark_stacks_overflow_and_recover, .timeout = 120)
{
    uint64_t live;

    setenv_before_first_use("3", "16");
    build();
    live = collect_until_stolen();
    cr_assert_gt(mw__gc.mk.phases, 0);
    check_live(live);
    verify();
}

/* The process's threads (Criterion has some of its own): their ids, in out[], and how many. */
static int tasks(char out[][16], int max)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && n < max)
            snprintf(out[n++], 16, "%.15s", e->d_name);
    closedir(d);
    return n;
}

static int known(char list[][16], int n, const char *tid)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i], tid))
            return 1;
    return 0;
}

Test(gc_parallel, one_marker_starts_no_thread)
{
    mw_gc_stats_t st;
    char before[64][16], after[64][16];
    int nb = tasks(before, 64);

    setenv_before_first_use("1", NULL);
    build();
    gc_test_collect();
    mw_gc_get_stats(&st);
    check_live(st.live_bytes);
    cr_assert_eq(mw__gc.mk.started, 0);
    cr_assert_eq(mw__gc.mk.phases, 0);
    cr_assert_eq(tasks(after, 64), nb);
}

Test(gc_parallel, small_heap_starts_no_helper)
{
    setenv_before_first_use("4", NULL);
    unsetenv("MEMWALK_GC_PARALLEL_MIN"); /* the default: 16 MiB live */
    for (int i = 0; i < 10000; i++)
        mw_gc_malloc(64);
    gc_test_collect();
    cr_assert_eq(mw__gc.mk.started, 0);
}

/* SigBlk of task tid, or 0. */
static uint64_t sigblk(const char *tid)
{
    char path[64], buf[4096], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    p = strstr(buf, "SigBlk:");
    return p ? strtoull(p + 7, NULL, 16) : 0;
}

Test(gc_parallel, helpers_take_no_signal)
{
    char before[64][16], after[64][16], self[16];
    int nb = tasks(before, 64), na, helpers = 0;
    uint64_t want = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1)) | (1ull << (SIGUSR1 - 1)) |
                    (1ull << (SIGPWR - 1)) | (1ull << (SIGCHLD - 1));

    setenv_before_first_use("3", NULL);
    build();
    gc_test_collect();
    cr_assert_eq(mw__gc.mk.started, 2);
    snprintf(self, sizeof self, "%d", (int)gettid());
    cr_assert_eq(sigblk(self) & want, 0, "the program's own mask changed");
    na = tasks(after, 64);
    for (int i = 0; i < na; i++) {
        if (known(before, nb, after[i]))
            continue;
        helpers++;
        cr_assert_eq(sigblk(after[i]) & want, want, "helper %s takes signals", after[i]);
    }
    cr_assert_eq(helpers, 2);
}

Test(gc_parallel, forked_child_starts_its_own_helpers, .timeout = 120)
{
    pid_t pid;
    int status;

    setenv_before_first_use("3", NULL);
    build();
    gc_test_collect();
    cr_assert_eq(mw__gc.mk.started, 2);
    pid = fork();
    if (pid == 0) {
        unsigned before;
        g.tree->left = tree(TREE_DEPTH - 1); /* new work for the child's markers */
        before = mw__gc.mk.started;
        gc_test_collect();
        gc_test_collect();
        _exit(before == 0 && mw__gc.mk.started == 2 && tree_ok(g.tree, TREE_DEPTH) ? 0 : 3);
    }
    cr_assert_gt(pid, 0);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    gc_test_collect();
    verify();
}

static pthread_barrier_t go;

static void *mutator(void *arg)
{
    long sum = 0;

    (void)arg;
    pthread_barrier_wait(&go);
    for (int round = 0; round < 20; round++) {
        struct node *t = tree(12);
        for (int i = 0; i < 20000; i++)
            mw_gc_malloc(40);
        sum += tree_ok(t, 12);
    }
    return (void *)(intptr_t)sum;
}

Test(gc_parallel, markers_and_registered_threads_together, .timeout = 120)
{
    pthread_t t[3];
    void *r;

    setenv_before_first_use("2", NULL);
    build();
    pthread_barrier_init(&go, NULL, 4);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(mw_gc_pthread_create(&t[i], NULL, mutator, NULL), 0);
    pthread_barrier_wait(&go);
    for (int i = 0; i < 5; i++)
        gc_test_collect();
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mw_gc_pthread_join(t[i], &r), 0);
        cr_assert_eq((intptr_t)r, 20);
    }
    cr_assert_gt(mw__gc.mk.phases, 0);
    verify();
}

Test(gc_parallel, forked_child_with_one_marker_collects)
{
    pid_t pid;
    int status;

    setenv_before_first_use("1", NULL);
    build();
    gc_test_collect();
    pid = fork();
    if (pid == 0) {
        gc_test_collect();
        _exit(tree_ok(g.tree, TREE_DEPTH) ? 0 : 3);
    }
    cr_assert_gt(pid, 0);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

NOINLINE static uintptr_t hide_tree_in_uncollectable(void)
{
    struct node **holder = mw_gc_malloc_uncollectable(sizeof *holder);
    *holder = tree(TREE_DEPTH);
    return gc_test_hide(holder);
}

Test(gc_parallel, uncollectable_roots_are_marked_in_the_parallel_phase, .timeout = 120)
{
    struct node **holder;
    uintptr_t hidden;

    setenv_before_first_use("3", NULL);
    hidden = hide_tree_in_uncollectable(); /* nothing else holds the holder or its tree */
    for (int i = 0; i < 200000; i++)
        mw_gc_malloc(48);
    for (int i = 0; i < 3; i++)
        gc_test_collect();
    cr_assert_gt(mw__gc.mk.phases, 0);
    holder = gc_test_unhide(hidden);
    cr_assert(tree_ok(*holder, TREE_DEPTH), "the tree held by an uncollectable object was lost");
    mw_gc_free(holder);
}
