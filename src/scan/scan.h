/* Conservative root finding, shared by the collector (src/gc) and the leak tracer (src/leak).
 *
 * A conservative scanner treats every aligned word in a root range as a possible pointer. This
 * module answers which ranges those are and reads them:
 *   - data roots: the writable PT_LOAD segments of every loaded object (dl_iterate_phdr, so a
 *     library dlopen'ed after start is seen at the next call), with PT_GNU_RELRO cut out (it is
 *     read-only after relocation and holds no heap pointers) and with caller-given ranges cut out
 *     (a collector's or tracer's own bookkeeping must not keep garbage alive);
 *   - the current thread's stack from its stack pointer to its base, after spilling the
 *     callee-saved registers into the frame so a pointer held only in a register is seen (the
 *     bounds of a stack, and what to scan when a thread runs on a stack of its own);
 *   - the current thread's static TLS blocks (dlpi_tls_data of each module).
 *
 * Everything here is allocation-free and stdio-free: the preload runs it inside its host. The one
 * exception is mw__scan_thread_stack_bounds for a non-main thread (pthread_getattr_np), marked
 * below. Names are internal (mw__), hidden from libmemwalk.so's exports. */
#ifndef MEMWALK_SCAN_H
#define MEMWALK_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum mw__root_kind {
    MW__ROOT_DATA,  /* writable segment of a loaded object (.data, .bss, GOT after RELRO) */
    MW__ROOT_STACK, /* a thread stack, registers spilled into it */
    MW__ROOT_TLS,   /* a static TLS block */
    MW__ROOT_USER,  /* registered by the program */
};

typedef struct mw__range {
    uintptr_t lo; /* inclusive */
    uintptr_t hi; /* exclusive */
} mw__range_t;

/* Called once per root range. object is the loaded object's path ("" for the main program) for
 * data and TLS roots, NULL otherwise. */
typedef void (*mw__range_fn)(void *ctx, uintptr_t lo, uintptr_t hi, enum mw__root_kind kind,
                             const char *object);

/* Reports the data roots of every loaded object, minus RELRO and minus the skip ranges (any
 * order, may overlap). Returns the number of ranges reported. */
size_t mw__scan_data_roots(mw__range_fn fn, void *ctx, const mw__range_t *skip, size_t nskip);

/* Reports the calling thread's static TLS blocks, one per module that has PT_TLS. */
size_t mw__scan_tls_roots(mw__range_fn fn, void *ctx);

/* Fills out[] with the writable segments (RELRO included) of the loaded object that contains
 * addr; a tracer passes the address of one of its own functions to skip itself. Returns the
 * number of ranges written (0 when addr is in no object). */
size_t mw__scan_object_ranges(const void *addr, mw__range_t *out, size_t max);

/* The main thread's stack base (highest address): __libc_stack_end when the dynamic loader
 * provides it, else field 28 (startstack) of /proc/self/stat rounded up to the mapping end.
 * Returns 0 when neither works. */
uintptr_t mw__scan_main_stack_base(void);

/* The calling thread's stack [lo, hi). For the main thread hi is mw__scan_main_stack_base() and
 * lo the lowest address of the [stack] mapping now (from /proc/self/maps; the mapping grows down
 * on demand, whatever the stack limit, and mw__scan_stack_ranges follows it); without /proc, the
 * base minus a finite RLIMIT_STACK. For another thread it uses pthread_getattr_np, which may
 * allocate: the preload must not call it from inside an allocator hook. Returns 0 or -errno
 * (-ERANGE: the main stack's limit is unlimited and /proc/self/maps cannot be read). */
int mw__scan_thread_stack_bounds(uintptr_t *lo, uintptr_t *hi);

/* What to scan of a thread whose stack is [*lo, hi) (from mw__scan_thread_stack_bounds) and whose
 * stack pointer is sp. Writes 1 or 2 ranges to out and returns their number:
 *   - sp inside the stack: [sp, hi);
 *   - sp below *lo in the same mapping (a main stack that grew): [sp, hi), and *lo lowered;
 *   - sp on another stack (a coroutine's, an alternate signal stack): [sp, end of sp's mapping)
 *     and the whole mapped stack [max(*lo, its mapping's start), hi), since the thread's saved
 *     frames are somewhere in it.
 * Returns -errno when /proc/self/maps cannot be read, -EFAULT when sp or hi - 1 is in no mapping:
 * the stack cannot be bounded. Allocation-free; reads /proc/self/maps only when sp is outside. */
int mw__scan_stack_ranges(uintptr_t sp, uintptr_t *lo, uintptr_t hi, mw__range_t out[2]);

/* The extent [*lo, *hi) of the loaded object's PT_LOAD segments whose flags include all of flags
 * (PF_X, PF_W...; 0: every segment), *lo > *hi (empty) when none has them. Returns 1 when addr
 * lies in one of its PT_LOAD segments, whatever their flags. */
struct dl_phdr_info;
int mw__scan_load_extent(const struct dl_phdr_info *info, unsigned flags, uintptr_t addr,
                         uintptr_t *lo, uintptr_t *hi);

/* Calls fn(ctx, a, b) for every piece [a, b) of [lo, hi) that none of the nskip skip ranges
 * covers, in address order. A skip range is two words, lo (inclusive) then hi (exclusive), at
 * the start of each stride-byte record of skip (so both mw__range_t arrays and key/value pairs
 * serve); the records are sorted by lo. Allocation-free. */
void mw__scan_minus(uintptr_t lo, uintptr_t hi, const void *skip, size_t nskip, size_t stride,
                    void (*fn)(void *ctx, uintptr_t lo, uintptr_t hi), void *ctx);

/* Stores the callee-saved registers (MW__SCAN_NREGS words) into regs: a value held only in a
 * register is a root too. Used with __builtin_unwind_init(), which makes the compiler save them
 * in the frame as well. MW__SCAN_SP(sp) reads the stack pointer. */
#if defined(__x86_64__)
#define MW__SCAN_NREGS 6
#define MW__SCAN_SPILL(regs)                                                            \
    __asm__ volatile("movq %%rbx, 0(%0)\n\tmovq %%rbp, 8(%0)\n\tmovq %%r12, 16(%0)\n\t" \
                     "movq %%r13, 24(%0)\n\tmovq %%r14, 32(%0)\n\tmovq %%r15, 40(%0)"   \
                     :                                                                  \
                     : "r"(regs)                                                        \
                     : "memory")
#define MW__SCAN_SP(sp) __asm__ volatile("movq %%rsp, %0" : "=r"(sp))
#elif defined(__aarch64__)
#define MW__SCAN_NREGS 11
#define MW__SCAN_SPILL(regs)                                                  \
    __asm__ volatile("stp x19, x20, [%0, #0]\n\tstp x21, x22, [%0, #16]\n\t"  \
                     "stp x23, x24, [%0, #32]\n\tstp x25, x26, [%0, #48]\n\t" \
                     "stp x27, x28, [%0, #64]\n\tstr x29, [%0, #80]"          \
                     :                                                        \
                     : "r"(regs)                                              \
                     : "memory")
#define MW__SCAN_SP(sp) __asm__ volatile("mov %0, sp" : "=r"(sp))
#else
#define MW__SCAN_NREGS       1
#define MW__SCAN_SPILL(regs) ((void)(regs))
#define MW__SCAN_SP(sp)      ((sp) = (uintptr_t)__builtin_frame_address(0))
#endif

/* Spills the callee-saved registers into this call's frame, then calls fn(ctx, sp) with the stack
 * pointer at that point: scanning [sp, stack base) then covers every value the suspended callers
 * hold, in memory or in registers. */
void mw__scan_with_registers(void (*fn)(void *ctx, uintptr_t sp), void *ctx);

/* Calls hit(ctx, value, where) for every word-aligned word in [lo, hi) whose value lies in
 * [min, max). Inline so a constant hit function is inlined into the loop. */
static inline void mw__scan_words(uintptr_t lo, uintptr_t hi, uintptr_t min, uintptr_t max,
                                  void (*hit)(void *ctx, uintptr_t value, uintptr_t where),
                                  void *ctx)
{
    uintptr_t p = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);

    for (; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t)) {
        uintptr_t v = *(volatile const uintptr_t *)p;
        if (v >= min && v < max)
            hit(ctx, v, p);
    }
}

#endif
