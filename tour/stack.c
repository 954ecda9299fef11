/* Tour section "stack": frames of nested calls, block-scoped locals sharing slots, frame size
 * against local size, and what a tail call does to frames. */
#include "tour/tour.h"

#include <stdint.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* Keeps a local's address escaping (so the local lives on the stack) without doing anything. */
NOINLINE static void escape(const volatile void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* ---- nested calls -------------------------------------------------------------------------- */

struct frames {
    uintptr_t local[4];
    uintptr_t frame[4];
};

#define LEVEL(n, next)                                                           \
    NOINLINE static void level##n(struct frames *f)                              \
    {                                                                            \
        volatile int local = n;                                                  \
        escape(&local);                                                          \
        f->local[n] = (uintptr_t)&local;                                         \
        f->frame[n] = (uintptr_t)__builtin_frame_address(0);                     \
        next;                                                                    \
        escape(&local); /* used after the call: no tail call, the frame stays */ \
    }
LEVEL(3, (void)0)
LEVEL(2, level3(f))
LEVEL(1, level2(f))
LEVEL(0, level1(f))

static void nested_calls(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    struct frames f;
    int i, down = 0;
    long long diff[3];

    level0(&f);
    tour_sub(t, "Frames of nested calls: level0 -> level1 -> level2 -> level3");
    tour_line(t, "  %-8s %-16s %-20s %s", "call", "&local", "decimal", "below the caller by");
    mw__json_array(json, "nested_calls");
    for (i = 0; i < 4; i++) {
        mw__json_object(json, NULL);
        mw__json_int(json, "level", i);
        mw__json_uint(json, "local", f.local[i]);
        mw__json_uint(json, "frame", f.frame[i]);
        if (i > 0) {
            diff[i - 1] = (long long)f.local[i - 1] - (long long)f.local[i];
            down += diff[i - 1] > 0;
            mw__json_int(json, "below_caller", diff[i - 1]);
            tour_line(t, "  level%-3d 0x%-14lx %-20lu %lld bytes", i, (unsigned long)f.local[i],
                      (unsigned long)f.local[i], diff[i - 1]);
        } else {
            tour_line(t, "  level%-3d 0x%-14lx %-20lu -", i, (unsigned long)f.local[i],
                      (unsigned long)f.local[i]);
        }
        mw__json_end(json);
    }
    mw__json_end(json);
    mw__json_bool(json, "grows_down", down == 3);
    if (down == 3)
        tour_conclude(t, true,
                      "Each call's local sits below its caller's (by %lld, %lld and %lld bytes): "
                      "the stack grows toward lower addresses, one frame per active call.",
                      diff[0], diff[1], diff[2]);
    else
        tour_conclude(t, false,
                      "Only %d of 3 calls put their local below the caller's: on this machine the "
                      "stack does not simply grow down.",
                      down);
}

/* ---- two blocks ---------------------------------------------------------------------------- */

/* out[0..5]: the six locals; out[6], out[7]: the stack pointer inside each block. */
NOINLINE static void two_blocks(uintptr_t out[8])
{
    {
        int a = 12, b = 24, c = 48;
        escape(&a);
        escape(&b);
        escape(&c);
        out[0] = address_of(&a);
        out[1] = address_of(&b);
        out[2] = address_of(&c);
        out[6] = stack_pointer();
    }
    {
        int x = 21, y = 42, z = 84;
        escape(&x);
        escape(&y);
        escape(&z);
        out[3] = address_of(&x);
        out[4] = address_of(&y);
        out[5] = address_of(&z);
        out[7] = stack_pointer();
    }
}

static void blocks(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    static const char *const names[6] = {"a", "b", "c", "x", "y", "z"};
    uintptr_t addr[8];
    int i, j, shared = 0;
    bool ascending;

    two_blocks(addr);
    tour_sub(t, "Locals of two { } blocks in one function");
    mw__json_array(json, "blocks");
    for (i = 0; i < 6; i++) {
        mw__json_object(json, NULL);
        mw__json_str(json, "name", names[i]);
        mw__json_uint(json, "address", addr[i]);
        mw__json_end(json);
        if (i == 0 || i == 3)
            tour_line(t, "  %s",
                      i == 0 ? "{ int a = 12, b = 24, c = 48; }"
                             : "{ int x = 21, y = 42, z = 84; }");
        if (i % 3)
            tour_line(t, "    %s: 0x%lx %lu   %+ld from %s", names[i], (unsigned long)addr[i],
                      (unsigned long)addr[i], (long)(addr[i] - addr[i - 1]), names[i - 1]);
        else
            tour_line(t, "    %s: 0x%lx %lu", names[i], (unsigned long)addr[i],
                      (unsigned long)addr[i]);
    }
    mw__json_end(json);
    for (i = 3; i < 6; i++)
        for (j = 0; j < 3; j++)
            shared += addr[i] == addr[j];
    ascending = addr[0] < addr[1] && addr[1] < addr[2];
    mw__json_int(json, "shared_slots", shared);
    mw__json_bool(json, "same_stack_pointer", addr[6] == addr[7]);
    mw__json_bool(json, "declaration_order_ascending", ascending);
    if (shared == 3)
        tour_conclude(t, true,
                      "x, y and z reuse the very slots of a, b and c: a block's locals live only "
                      "while the block runs, and the compiler gives their space to the next "
                      "block.");
    else if (shared > 0)
        tour_conclude(t, true,
                      "%d of x, y, z took a slot a, b or c had used: a block's locals live only "
                      "while the block runs, and the compiler hands their space on, slot by slot "
                      "as it sees fit.",
                      shared);
    else
        tour_conclude(t, false,
                      "No slot was reused between the two blocks: this compiler (or its options) "
                      "gave each block its own space in the same frame.");
    if (addr[6] == addr[7])
        tour_conclude(t, true,
                      "The stack pointer was 0x%lx in both blocks: their locals share one frame, "
                      "set up once when the function started, not a frame per block.",
                      (unsigned long)addr[6]);
    else
        tour_conclude(t, false,
                      "The stack pointer moved by %ld bytes between the blocks: this build grew "
                      "the frame for the second block.",
                      (long)(addr[6] - addr[7]));
    tour_note(t,
              "The order inside a frame is the compiler's choice: a, b, c were placed at %s "
              "addresses.",
              ascending ? "increasing" : "non-increasing");
}

/* ---- frame size against local size --------------------------------------------------------- */

#define RECURSE(bytes)                                         \
    NOINLINE static void recurse_##bytes(int n, uintptr_t *sp) \
    {                                                          \
        volatile char buf[bytes];                              \
        buf[0] = (char)n;                                      \
        escape(buf);                                           \
        sp[n] = (uintptr_t)buf;                                \
        if (n > 0)                                             \
            recurse_##bytes(n - 1, sp);                        \
        escape(buf);                                           \
    }
RECURSE(16)
RECURSE(256)
RECURSE(1024)
RECURSE(4096)

static void frame_sizes(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    static const struct {
        int bytes;
        void (*fn)(int, uintptr_t *);
    } runs[] = {{16, recurse_16}, {256, recurse_256}, {1024, recurse_1024}, {4096, recurse_4096}};
    uintptr_t sp[9];
    long frame[4] = {0}, overhead_min = 0, overhead_max = 0;
    size_t i;
    bool consistent = true;

    tour_sub(t, "Recursion: frame size against the size of a local array (8 levels each)");
    tour_line(t, "  %-14s %-18s %s", "local array", "bytes per level", "overhead (frame - array)");
    mw__json_array(json, "frame_sizes");
    for (i = 0; i < MW__ARRAY_LEN(runs); i++) {
        int k;
        runs[i].fn(8, sp);
        frame[i] = (long)(sp[1] - sp[0]); /* sp[8] is the outermost level, sp[0] the deepest */
        for (k = 1; k <= 8; k++)
            if ((long)(sp[k] - sp[k - 1]) != frame[i])
                consistent = false;
        long overhead = frame[i] - runs[i].bytes;
        if (i == 0 || overhead < overhead_min)
            overhead_min = overhead;
        if (i == 0 || overhead > overhead_max)
            overhead_max = overhead;
        mw__json_object(json, NULL);
        mw__json_int(json, "array_bytes", runs[i].bytes);
        mw__json_int(json, "frame_bytes", frame[i]);
        mw__json_end(json);
        tour_line(t, "  %-14d %-18ld %ld", runs[i].bytes, frame[i], overhead);
    }
    mw__json_end(json);
    mw__json_bool(json, "frames_equal_per_level", consistent);
    if (consistent && frame[0] > 0 && overhead_min >= 0)
        tour_conclude(
            t, true,
            "Every level of one function takes the same frame: its locals plus %ld to %ld "
            "bytes for the return address, saved registers and alignment. Depth times "
            "frame size is what recursion costs in stack.",
            overhead_min, overhead_max);
    else
        tour_conclude(t, false,
                      "Frames were not the array plus a fixed overhead on this build (levels %s, "
                      "overhead %ld..%ld bytes).",
                      consistent ? "equal" : "unequal", overhead_min, overhead_max);
}

/* ---- tail calls ---------------------------------------------------------------------------- */

static uintptr_t tail_sp[16], plain_sp[16];

NOINLINE static void sink(long v)
{
    __asm__ volatile("" : : "r"(v) : "memory");
}

/* A call in tail position: nothing of this frame is needed after it, so the compiler may jump
 * instead of calling. clang is told it must (musttail); gcc does it at -O2, and the optimize
 * attribute asks for it at lower levels too (it only works when optimising at all). */
#if defined(__clang__)
#define MUST_TAIL __attribute__((musttail))
#define TAIL_OPT
#else
#define MUST_TAIL
#define TAIL_OPT __attribute__((optimize("optimize-sibling-calls")))
#endif

NOINLINE TAIL_OPT static long factorial_tail(long n, long acc)
{
    tail_sp[n] = stack_pointer();
    if (n == 0)
        return acc;
    MUST_TAIL return factorial_tail(n - 1, acc * n);
}

NOINLINE static long factorial_plain(long n)
{
    long r;

    plain_sp[n] = stack_pointer();
    if (n == 0)
        return 1;
    r = n * factorial_plain(n - 1);
    sink(r); /* work after the call keeps this frame alive */
    return r;
}

static void tail_calls(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    const long n = 10;
    long a, b, i;
    int distinct_tail = 1, distinct_plain = 1;

    a = factorial_tail(n, 1);
    b = factorial_plain(n);
    for (i = n - 1; i >= 0; i--) {
        distinct_tail += tail_sp[i] != tail_sp[i + 1];
        distinct_plain += plain_sp[i] != plain_sp[i + 1];
    }
    tour_sub(t, "Tail calls: factorial(10) with the call in tail position, and without");
    tour_line(t, "  %-24s stack pointer at n=10 .. n=0", "");
    tour_line(t, "  %-24s 0x%lx .. 0x%lx  (%d distinct)", "tail call:", (unsigned long)tail_sp[n],
              (unsigned long)tail_sp[0], distinct_tail);
    tour_line(t, "  %-24s 0x%lx .. 0x%lx  (%d distinct)",
              "result used after call:", (unsigned long)plain_sp[n], (unsigned long)plain_sp[0],
              distinct_plain);
    mw__json_int(json, "tail_distinct_sp", distinct_tail);
    mw__json_int(json, "plain_distinct_sp", distinct_plain);
    mw__json_int(json, "tail_result", a);
    mw__json_int(json, "plain_result", b);
    if (distinct_tail == 1 && distinct_plain == n + 1)
        tour_conclude(t, true,
                      "The tail-called factorial ran all %ld levels at one stack pointer: the "
                      "compiler turned the call into a jump and reused the frame. The other "
                      "version took %d frames, %ld bytes apart.",
                      n + 1, distinct_plain, (long)(plain_sp[n] - plain_sp[n - 1]));
    else
        tour_conclude(t, false,
                      "The tail-call version used %d distinct stack pointers for %ld levels: this "
                      "build did not turn the tail call into a jump (optimisation off?).",
                      distinct_tail, n + 1);
}

static int run(struct tour *t)
{
    nested_calls(t);
    blocks(t);
    frame_sizes(t);
    tail_calls(t);
    return 0;
}

const struct tour_section mw_tour_stack = {"stack", "The stack", run};
