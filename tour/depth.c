/* Tour section "depth": recursion until the stack overflows, caught in a child process on an
 * alternate signal stack, against the stack size limit. */
#include "tour/tour.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FRAME_ARRAY   128
#define DEFAULT_LIMIT (8u << 20)

/* Shared with the child: it writes, the parent reads after the child died. */
struct probe {
    volatile uint64_t depth;
    volatile uintptr_t first_sp;
    volatile uintptr_t last_sp;
    volatile uintptr_t level1_sp;
    volatile int caught;
};

static struct probe *probe;

__attribute__((noinline)) static void dive(uint64_t level)
{
    volatile char buf[FRAME_ARRAY];

    buf[0] = (char)level;
    probe->depth = level;
    probe->last_sp = (uintptr_t)buf;
    if (level == 0)
        probe->first_sp = (uintptr_t)buf;
    else if (level == 1)
        probe->level1_sp = (uintptr_t)buf;
    /* The bound is unreachable (the stack ends long before), but it tells the compiler this
     * recursion is meant to stop. */
    if (level < UINT64_MAX / 2)
        dive(level + 1);
    __asm__ volatile("" : : "r"(buf) : "memory"); /* not a tail call: the frame stays */
}

static void on_overflow(int sig)
{
    (void)sig;
    probe->caught = 1;
    _exit(0);
}

/* The child: a handler on an alternate stack (the normal one is exhausted when SIGSEGV comes),
 * then recursion without end. */
static void child(void)
{
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_overflow;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0 ||
        sigaction(SIGBUS, &sa, NULL) < 0)
        _exit(2);
    alarm(10); /* never hang the tour */
    dive(0);
    _exit(3);
}

/* One overflow, in a child: fills the probe and the time it took. */
struct overflow {
    uint64_t limit;
    bool capped;
    int status;
    double ms;
};

static int overflow(struct overflow *o)
{
    struct rlimit rl;
    pid_t pid;
    struct timespec a, b;

    probe = mmap(NULL, sizeof *probe, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (probe == MAP_FAILED)
        return -errno;
    if (getrlimit(RLIMIT_STACK, &rl) < 0)
        rl.rlim_cur = RLIM_INFINITY;
    o->limit = rl.rlim_cur;
    o->capped = false;
    if (rl.rlim_cur == RLIM_INFINITY) {
        /* Unlimited: recursion would eat memory until the OOM killer came. Cap it in the child. */
        o->limit = DEFAULT_LIMIT;
        o->capped = true;
    }
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid = fork();
    if (pid < 0) {
        int err = -errno;
        munmap(probe, sizeof *probe);
        return err;
    }
    if (pid == 0) {
        if (o->capped) {
            rl.rlim_cur = o->limit;
            setrlimit(RLIMIT_STACK, &rl);
        }
        child();
    }
    while (waitpid(pid, &o->status, 0) < 0 && errno == EINTR)
        ;
    clock_gettime(CLOCK_MONOTONIC, &b);
    o->ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    return 0;
}

int tour_depth_measure(struct tour *t)
{
    struct overflow o;
    struct tour_shared *sh = tour_shared(t);
    int r = overflow(&o);

    if (r < 0)
        return r;
    r = probe->caught && probe->depth >= 2 ? 0 : -ECHILD;
    if (r == 0) {
        sh->have_c_depth = true;
        sh->c_depth = probe->depth;
        sh->c_frame_bytes = (double)(probe->first_sp - probe->level1_sp);
        sh->c_limit = o.limit;
    }
    munmap(probe, sizeof *probe);
    return r;
}

static int run(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    struct overflow o;
    double used_pct, frame;
    uint64_t limit;
    bool capped;
    int r;

    tour_text(t,
              "A child process recurses through a function with a %d-byte local array until the "
              "stack runs out; its SIGSEGV handler runs on an alternate stack and reports how "
              "deep it got.",
              FRAME_ARRAY);
    r = overflow(&o);
    if (r < 0) {
        tour_skip(t, "cannot run the child: %s", strerror(-r));
        return -1;
    }
    limit = o.limit;
    capped = o.capped;
    if (!probe->caught || probe->depth < 2) {
        tour_conclude(t, false, "The child did not report an overflow (status 0x%x, depth %llu).",
                      o.status, (unsigned long long)probe->depth);
        munmap(probe, sizeof *probe);
        return 0;
    }
    frame = (double)(probe->first_sp - probe->level1_sp);
    used_pct = 100.0 * (double)(probe->first_sp - probe->last_sp) / (double)limit;
    tour_shared(t)->have_c_depth = true;
    tour_shared(t)->c_depth = probe->depth;
    tour_shared(t)->c_frame_bytes = frame;
    tour_shared(t)->c_limit = limit;
    tour_line(t, "  stack limit (ulimit -s)  %llu KiB%s", (unsigned long long)(limit >> 10),
              capped ? " (unlimited: capped for the experiment)" : "");
    tour_line(t, "  depth reached            %llu calls", (unsigned long long)probe->depth);
    tour_line(t, "  bytes per frame          %.0f (array %d + return address, registers...)", frame,
              FRAME_ARRAY);
    tour_line(t, "  stack used at the fault  %llu KiB = %.1f%% of the limit",
              (unsigned long long)((probe->first_sp - probe->last_sp) >> 10), used_pct);
    tour_line(t, "  time to overflow         %.1f ms", o.ms);
    mw__json_uint(json, "limit_bytes", limit);
    mw__json_bool(json, "limit_capped", capped);
    mw__json_uint(json, "depth", probe->depth);
    mw__json_num(json, "frame_bytes", frame);
    mw__json_uint(json, "used_bytes", probe->first_sp - probe->last_sp);
    mw__json_num(json, "used_percent", used_pct);
    if (used_pct > 90.0 && used_pct <= 100.5)
        tour_conclude(t, true,
                      "Depth times frame size hit the limit: %llu calls x %.0f bytes = %.1f%% of "
                      "%llu KiB; the rest, %.1f%%, held what was on the stack before the "
                      "recursion began. A deeper recursion needs a smaller frame, a bigger limit "
                      "or a loop.",
                      (unsigned long long)probe->depth, frame, used_pct,
                      (unsigned long long)(limit >> 10), 100.0 - used_pct);
    else
        tour_conclude(t, false,
                      "The overflow came at %.1f%% of the %llu KiB limit, not near it: something "
                      "else bounds the stack here (a guard gap, a mapping below it?).",
                      used_pct, (unsigned long long)(limit >> 10));
    munmap(probe, sizeof *probe);
    return 0;
}

const struct tour_section mw_tour_depth = {"depth", "How deep can it go", run};
