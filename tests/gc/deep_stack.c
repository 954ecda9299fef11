/* A program for the test suite: objects held only by the frames of a main-thread stack much deeper
 * than 8 MiB must survive collections. It lifts its own stack limit and runs again (a stack limit
 * set before exec decides the process layout), then recurses DEPTH frames of about 4 KiB, each
 * holding one collected object in a local, collects at the bottom, and checks every object on the
 * way back.
 *
 *   gc-deep-stack MODE   MODE = main     main collects, stack limit lifted before exec
 *                               thread   another registered thread collects meanwhile
 *                               raised   the limit lifted at run time, after the collector started
 *                                        (the process keeps the layout of an 8 MiB limit)
 *                               coroutine  a collection on a coroutine stack (makecontext) while
 *                                        main's frames and the coroutine's hold objects
 * Exit status: 0 every object survived, 1 some were freed, 77 the limit cannot be lifted. */
#include <memwalk/gc.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

#define DEPTH   8192 /* frames of about 4 KiB: 32 MiB of stack */
#define OBJ     64
#define PATTERN 0x3c

static const char *mode;
static sem_t at_bottom, collected;
static int bad;

static void fill(unsigned char *o, long depth)
{
    memset(o, PATTERN, OBJ);
    memcpy(o, &depth, sizeof depth);
}

static int intact(const unsigned char *o, long depth)
{
    long d;

    memcpy(&d, o, sizeof d);
    if (d != depth)
        return 0;
    for (size_t i = sizeof d; i < OBJ; i++)
        if (o[i] != PATTERN)
            return 0;
    return 1;
}

/* Allocates and writes objects of the same size: slots the collector freed by mistake are
 * overwritten, so the check does not depend on MEMWALK_GC_POISON alone. */
static void __attribute__((noinline)) reuse_freed_slots(void)
{
    for (int i = 0; i < 200000; i++)
        memset(mw_gc_malloc(OBJ), 0xee, OBJ);
}

static void __attribute__((noinline)) bottom(void)
{
    if (!strcmp(mode, "thread")) {
        sem_post(&at_bottom);
        while (sem_wait(&collected) != 0)
            ;
    } else {
        mw_gc_collect();
    }
    reuse_freed_slots();
}

static long __attribute__((noinline)) descend(long depth)
{
    volatile char pad[4000];
    unsigned char *volatile obj = mw_gc_malloc(OBJ);
    long r;

    fill(obj, depth);
    pad[depth % sizeof pad] = (char)depth;
    if (depth + 1 < DEPTH)
        r = descend(depth + 1);
    else {
        bottom();
        r = 0;
    }
    if (!intact(obj, depth))
        bad++;
    return r + pad[depth % sizeof pad];
}

static void *collector(void *arg)
{
    (void)arg;
    if (mw_gc_register_thread() != 0)
        exit(3);
    while (sem_wait(&at_bottom) != 0)
        ;
    mw_gc_collect();
    sem_post(&collected);
    mw_gc_unregister_thread();
    return NULL;
}

/* ---- coroutine mode ---- */
#define CO_STACK (256 << 10)
static ucontext_t main_ctx, co_ctx;
static int co_bad;

static void __attribute__((noinline)) co_body(void)
{
    unsigned char *volatile mine = mw_gc_malloc(OBJ);

    fill(mine, -1);
    mw_gc_collect(); /* on the coroutine's stack */
    reuse_freed_slots();
    co_bad = !intact(mine, -1);
    swapcontext(&co_ctx, &main_ctx);
}

static long __attribute__((noinline)) co_descend(long depth)
{
    unsigned char *volatile obj = mw_gc_malloc(OBJ);
    long r = 0;

    fill(obj, depth);
    if (depth < 64) {
        r = co_descend(depth + 1);
    } else {
        void *stack =
            mmap(NULL, CO_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED)
            exit(3);
        getcontext(&co_ctx);
        co_ctx.uc_stack.ss_sp = stack;
        co_ctx.uc_stack.ss_size = CO_STACK;
        co_ctx.uc_link = &main_ctx;
        makecontext(&co_ctx, co_body, 0);
        swapcontext(&main_ctx, &co_ctx);
    }
    if (!intact(obj, depth))
        bad++;
    return r;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    pthread_t t;

    if (argc < 2) {
        fprintf(stderr, "usage: gc-deep-stack main|thread|raised|coroutine\n");
        return 2;
    }
    mode = argv[1];
    if (!strcmp(mode, "coroutine")) {
        mw_gc_malloc(1);
        co_descend(0);
        if (bad || co_bad) {
            printf("coroutine: %d objects held by main's frames and %d held by the coroutine "
                   "were freed\n",
                   bad, co_bad);
            return 1;
        }
        printf("coroutine: every object survived\n");
        return 0;
    }
    if (getrlimit(RLIMIT_STACK, &rl) != 0)
        return 3;
    if (!strcmp(mode, "raised")) {
        mw_gc_malloc(1); /* the collector starts under the current limit */
        rl.rlim_cur = rl.rlim_max;
        if (rl.rlim_cur != RLIM_INFINITY || setrlimit(RLIMIT_STACK, &rl) != 0) {
            printf("skip: the stack limit cannot be lifted\n");
            return 77;
        }
    } else if (rl.rlim_cur != RLIM_INFINITY) {
        rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
        if (setrlimit(RLIMIT_STACK, &rl) != 0) {
            printf("skip: the stack limit cannot be lifted\n");
            return 77;
        }
        execv("/proc/self/exe", argv);
        perror("exec");
        return 3;
    }
    sem_init(&at_bottom, 0, 0);
    sem_init(&collected, 0, 0);
    mw_gc_malloc(1); /* main registers itself, near the top of its stack */
    if (!strcmp(mode, "thread"))
        pthread_create(&t, NULL, collector, NULL);
    descend(0);
    if (!strcmp(mode, "thread"))
        pthread_join(t, NULL);
    if (bad) {
        printf("%s: %d of %d objects held only by main's frames were freed\n", mode, bad, DEPTH);
        return 1;
    }
    printf("%s: all %d objects held by main's frames survived\n", mode, DEPTH);
    return 0;
}
