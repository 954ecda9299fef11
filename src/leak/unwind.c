/* A DWARF CFI stack unwinder for code built without frame pointers.
 *
 * For a return address it finds the FDE through the object's .eh_frame_hdr (binary search),
 * runs the CFA program up to the call and keeps only what x86-64 code needs to step one frame:
 * how the CFA is computed (rsp + N, rbp + N, or *(rbp + N) for realigned frames), where the
 * return address and the caller's rbp were saved. That rule is packed in 64 bits and cached: a
 * small direct-mapped cache per thread (no locking), backed by a shared table under a lock, so
 * that after warm-up one frame costs a few loads. Every stack read is bounds-checked against the
 * thread's stack; an unknown or unsupported frame ends the stack instead of guessing. */
#include "common/assert.h"
#include "leak/leak.h"

#include <elf.h>
#include <stddef.h>
#include <link.h>
#include <string.h>

#if defined(__x86_64__)

#define L1_BITS 12
#define L1_SIZE (1u << L1_BITS)

enum { CFA_RSP = 0, CFA_RBP = 1, CFA_DEREF_RBP = 2, CFA_STOP = 3 };
enum { BP_SAME = 0, BP_AT_CFA = 1, BP_AT_BP = 2 };

struct slot {
    uintptr_t pc;
    uint64_t rule;
};

/* A remembered stack: the words the unwinder read, where it read them (as offsets from the
 * first stack pointer) and the trace they gave. The unwind is a function of those words, of the
 * first frame's stack pointer and rbp, and of the (cached, deterministic) rules of the return
 * addresses it met. So when a hook is entered again from the same return address and the same
 * words hold the same values, the trace is the same and the unwind is skipped: a few
 * independent loads instead of a chain of dependent ones.
 * When no rule used rbp, every address read is the stack pointer plus a constant: the memo then
 * holds wherever the stack pointer is (the same call chain at another depth), provided the
 * reads stay inside the stack. Otherwise the stack pointer and rbp must be the same too.
 * A thread's memos are sets of MEMO_WAYS found through a compact tag array (a 28-byte set says
 * which way may hold the stack and where its memo is), each memo a header and its reads, sized
 * at start for the stack depth asked for: a memo of memcheck's 12 frames takes 3 cache lines,
 * of massif's 30, 6. A stack is remembered the second time it is walked (the first leaves a
 * ghost tag), and memos are handed out in order: memory is touched for stacks that repeat only
 * (a page the first time costs more than a walk: 11 us on the development VM, and python3's
 * imports walk thousands of stacks once each).
 * Measured on sqlite3 building 200,000 rows (11 million stacks): 13,000 walks with 4,096 memos
 * (the 512 two-way memos of 528 bytes before them: 440,000), 1.43x native CPU time against
 * 1.51x, medians of 7 interleaved runs. */
#define MEMO_WAYS     4
#define MEMO_SETS_LOG 10
#define MEMO_SETS     (1u << MEMO_SETS_LOG)
struct memo {
    uintptr_t pc, ra;
    uintptr_t sp, bp; /* of an absolute memo */
    uint32_t trace;
    uint32_t maxoff;  /* highest offset read, plus 8 */
    uint8_t n;        /* reads logged */
    uint8_t absolute; /* rbp was used: sp and bp must match */
    uint16_t off[];   /* offsets of the reads from sp, then (8-aligned) their values */
};
#define MEMO_HDR   (offsetof(struct memo, off))
#define GHOST(tag) ((tag) & ~1u) /* a stack walked once (tags of memos are odd) */
struct memo_set {
    uint32_t tag[MEMO_WAYS]; /* 0: empty way */
    uint16_t idx[MEMO_WAYS]; /* the way's memo + 1, 0: none yet */
    uint8_t ref;             /* ways used since the set last chose a victim; hand << 4 */
};

#define LOG_READS 64 /* logged per walk, before the unused rbp values are dropped */

/* The reads of one walk, for its memo. */
#define BPREAD 0x80000000u /* a saved rbp value: matters only if rbp is used later */
struct readlog {
    uintptr_t base;
    uint32_t n;
    int overflow;
    int bp_used;
    uint32_t *off;
    uintptr_t *val;
};

static inline uintptr_t rd(const uintptr_t *at, struct readlog *log, uint32_t flag)
{
    uintptr_t v = *at;

    if (log) {
        if (log->n < LOG_READS && (uintptr_t)at - log->base < BPREAD) {
            log->off[log->n] = (uint32_t)((uintptr_t)at - log->base) | flag;
            log->val[log->n] = v;
            log->n++;
        } else {
            log->overflow = 1;
        }
    }
    return v;
}

/* Recently interned traces of this thread: a repeated stack skips the shared table. */
#define RECENT_BITS 8
#define RECENT_IPS  16
struct recent {
    uint64_t hash;
    uint32_t id;
    uint32_t depth;
    uintptr_t ips[RECENT_IPS];
};

/* Where the first return addresses were for a (hook, return address) pair: the values found
 * there pick the memo, so that one call site reached along many paths keeps many memos. */
#define LAYOUT_BITS 8
#define LAYOUT_N    4
struct layout {
    uintptr_t pc, ra;
    uint32_t n;
    uint32_t off[LAYOUT_N];
};

struct mw__unwind_cache {
    unsigned gen;
    struct slot s[L1_SIZE];
    struct layout layout[1u << LAYOUT_BITS];
    struct recent recent[1u << RECENT_BITS];
    struct memo_set set[MEMO_SETS];
    unsigned nmemo; /* memos handed out */
    /* the memos follow, memo_stride bytes each, 64-byte aligned */
};

/* Memo geometry, fixed at the first thread's cache (the stack depth is known by then). */
static size_t memo_stride, memo_cap, memo_vals, cache_bytes;

static void memo_geometry(void)
{
    size_t want = (size_t)mw__leak_num_callers + 2, cap;

    if (want > 255)
        want = 255;
    memo_stride = (((MEMO_HDR + 2 * want + 7) & ~(size_t)7) + 8 * want + 63) & ~(size_t)63;
    for (cap = want; ((MEMO_HDR + 2 * (cap + 1) + 7) & ~(size_t)7) + 8 * (cap + 1) <= memo_stride;
         cap++)
        ;
    memo_cap = cap < 255 ? cap : 255;
    memo_vals = (MEMO_HDR + 2 * memo_cap + 7) & ~(size_t)7;
    /* Last: a thread that sees it sees the rest (two threads may compute the same values). */
    __atomic_store_n(&cache_bytes,
                     ((sizeof(struct mw__unwind_cache) + 63) & ~(size_t)63) +
                         (size_t)MEMO_SETS * MEMO_WAYS * memo_stride,
                     __ATOMIC_RELEASE);
}

static inline struct memo *memo_at(struct mw__unwind_cache *c, size_t i)
{
    return (struct memo *)((char *)c + ((sizeof *c + 63) & ~(size_t)63) + i * memo_stride);
}

static inline uintptr_t *memo_val(struct memo *m)
{
    return (uintptr_t *)((char *)m + memo_vals);
}

/* Independent multiplies, so the hash of a stack is not one long dependency chain. */
static uint64_t hash_ips(const uintptr_t *ips, unsigned depth)
{
    static const uint64_t k[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
                                  0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull};
    uint64_t a = depth, b = 0, c = 0, d = 0;
    unsigned i = 0;

    for (; i + 4 <= depth; i += 4) {
        a += (ips[i] ^ (ips[i] >> 29)) * k[0];
        b += (ips[i + 1] ^ (ips[i + 1] >> 29)) * k[1];
        c += (ips[i + 2] ^ (ips[i + 2] >> 29)) * k[2];
        d += (ips[i + 3] ^ (ips[i + 3] >> 29)) * k[3];
        a = (a << 23) | (a >> 41);
        b = (b << 29) | (b >> 35);
        c = (c << 31) | (c >> 33);
        d = (d << 37) | (d >> 27);
    }
    for (; i < depth; i++)
        a = (a ^ ips[i]) * k[i & 3] + 1;
    a ^= b * k[1] ^ c * k[2] ^ d * k[3];
    return a ^ (a >> 31);
}

/* Interns through the thread's recent traces first. The tracer's own frames past the entry
 * point are left out (a wrapper such as fopen's that called the real function is no frame of
 * the program's, and memcheck shows none). */
static uint32_t intern(struct mw__unwind_cache *c, const uintptr_t *ips, unsigned depth)
{
    uintptr_t kept[MW__LEAK_MAX_CALLERS];
    uint64_t h;
    struct recent *r;
    unsigned i, k;

    for (i = 1; i < depth && !mw__leak_own_code(ips[i] - 1); i++)
        ;
    if (i < depth && depth <= MW__LEAK_MAX_CALLERS) {
        for (i = 0, k = 0; i < depth; i++)
            if (i == 0 || !mw__leak_own_code(ips[i] - 1))
                kept[k++] = ips[i];
        ips = kept;
        depth = k;
    }
    if (!c || depth > RECENT_IPS)
        return mw__traces_intern(ips, depth);
    h = hash_ips(ips, depth);
    r = &c->recent[h & ((1u << RECENT_BITS) - 1)];
    if (r->hash == h && r->depth == depth && r->id) {
        for (i = 0; i < depth && r->ips[i] == ips[i]; i++)
            ;
        if (i == depth)
            return r->id;
    }
    r->id = mw__traces_intern(ips, depth);
    r->hash = h;
    r->depth = depth;
    for (i = 0; i < depth; i++)
        r->ips[i] = ips[i];
    return r->id;
}

static inline uint64_t pack(unsigned cfa_kind, int32_t cfa_off, int32_t ra_off, unsigned bp_kind,
                            int32_t bp_off)
{
    return (uint64_t)cfa_kind | (uint64_t)bp_kind << 2 | 1u << 4 |
           (uint64_t)((uint32_t)cfa_off & 0xffffffu) << 8 |
           (uint64_t)((uint32_t)ra_off & 0xffffu) << 32 |
           (uint64_t)((uint32_t)bp_off & 0xffffu) << 48;
}
#define RULE_STOP pack(CFA_STOP, 0, 0, 0, 0)

static inline unsigned r_cfa_kind(uint64_t r)
{
    return r & 3;
}
static inline unsigned r_bp_kind(uint64_t r)
{
    return (r >> 2) & 3;
}
static inline intptr_t r_cfa_off(uint64_t r)
{
    return (intptr_t)((int32_t)((uint32_t)(r >> 8) << 8) >> 8);
}
static inline intptr_t r_ra_off(uint64_t r)
{
    return (int16_t)(r >> 32);
}
static inline intptr_t r_bp_off(uint64_t r)
{
    return (int16_t)(r >> 48);
}

/* ---- modules ------------------------------------------------------------------------------ */
#define MAX_MODULES 1024
struct module {
    uintptr_t lo, hi;
    const uint8_t *hdr; /* .eh_frame_hdr, NULL when absent */
};
static struct module modules[MAX_MODULES];
static size_t nmodules;
static mw__lock_t lock;
static unsigned gen = 1;

/* The shared rule table (open addressing, keyed by pc). */
static struct slot *l2;
static size_t l2_cap, l2_used;

struct collect {
    struct module *m;
    size_t n, max;
};

static int collect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct collect *c = arg;
    uintptr_t lo, hi;
    const uint8_t *hdr = NULL;
    int i;

    (void)size;
    if (c->n >= c->max) {
        mw__leak_limit(MW__LEAK_LIMIT_MODULES, "too many loaded objects for the unwinder");
        return 1;
    }
    for (i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            hdr = (const uint8_t *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (mw__modules_extent(info, &lo, &hi)) {
        c->m[c->n].lo = lo;
        c->m[c->n].hi = hi;
        c->m[c->n].hdr = hdr;
        c->n++;
    }
    return 0;
}

/* Refreshes the module list. Called without our lock: dl_iterate_phdr takes the loader's. */
static void refresh_modules(void)
{
    static struct module tmp[MAX_MODULES];
    static mw__lock_t refresh_lock;
    struct collect c = {tmp, 0, MAX_MODULES};

    mw__lock(&refresh_lock);
    dl_iterate_phdr(collect_cb, &c);
    mw__lock(&lock);
    memcpy(modules, tmp, c.n * sizeof(tmp[0]));
    nmodules = c.n;
    mw__unlock(&lock);
    mw__unlock(&refresh_lock);
}

static const struct module *find_module(uintptr_t pc)
{
    size_t i;

    for (i = 0; i < nmodules; i++)
        if (pc >= modules[i].lo && pc < modules[i].hi)
            return &modules[i];
    return NULL;
}

/* ---- DWARF decoding ----------------------------------------------------------------------- */
struct reader {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t uleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;

    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(struct reader *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;

    while (r->p < r->end) {
        b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (r->p > r->end || (b & 0x80)) {
        r->bad = 1;
        return 0;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift; /* sign extension */
    return (int64_t)v;
}

static uint64_t fixed(struct reader *r, unsigned n)
{
    uint64_t v = 0;

    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, n);
    r->p += n;
    return v;
}

/* Reads a DW_EH_PE-encoded value; datarel is relative to base. */
static uintptr_t encoded(struct reader *r, uint8_t enc, uintptr_t datarel)
{
    uintptr_t at = (uintptr_t)r->p, v;

    if (enc == 0xff)
        return 0;
    switch (enc & 0x0f) {
    case 0x00:
        v = (uintptr_t)fixed(r, 8);
        break;
    case 0x01:
        v = (uintptr_t)uleb(r);
        break;
    case 0x02:
        v = (uintptr_t)fixed(r, 2);
        break;
    case 0x03:
        v = (uintptr_t)fixed(r, 4);
        break;
    case 0x04:
        v = (uintptr_t)fixed(r, 8);
        break;
    case 0x09:
        v = (uintptr_t)sleb(r);
        break;
    case 0x0a:
        v = (uintptr_t)(intptr_t)(int16_t)fixed(r, 2);
        break;
    case 0x0b:
        v = (uintptr_t)(intptr_t)(int32_t)fixed(r, 4);
        break;
    case 0x0c:
        v = (uintptr_t)fixed(r, 8);
        break;
    default:
        r->bad = 1;
        return 0;
    }
    switch (enc & 0x70) {
    case 0x00:
        break;
    case 0x10:
        v += at;
        break;
    case 0x30:
        v += datarel;
        break;
    default:
        r->bad = 1;
        return 0;
    }
    if (enc & 0x80) /* indirect: the value is the address of the pointer */
        v = v ? *(const uintptr_t *)v : 0;
    return v;
}

/* Finds the FDE covering pc through the .eh_frame_hdr search table. */
static const uint8_t *find_fde(const uint8_t *hdr, uintptr_t pc)
{
    struct reader r = {hdr + 4, hdr + 64, 0};
    uint8_t fde_count_enc = hdr[2], table_enc = hdr[3];
    uintptr_t count;
    const int32_t *table;
    size_t lo, hi;

    if (hdr[0] != 1 || table_enc != 0x3b)
        return NULL;
    encoded(&r, hdr[1], (uintptr_t)hdr); /* eh_frame_ptr */
    count = encoded(&r, fde_count_enc, (uintptr_t)hdr);
    if (r.bad || count == 0)
        return NULL;
    table = (const int32_t *)r.p;
    if ((uintptr_t)hdr + table[0] > pc)
        return NULL;
    lo = 0;
    hi = count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)hdr + table[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return hdr + table[2 * lo + 1];
}

struct regrule {
    uint8_t kind; /* 0 undefined/unknown, 1 same, 2 offset(N) from CFA, 3 at *(rbp+N) */
    int32_t off;
};

struct cfa_state {
    uint8_t cfa_reg; /* DWARF register, or 0xff for the rbp-deref expression */
    int64_t cfa_off;
    int bad_cfa;
    struct regrule ra, bp;
    struct regrule saved[16]; /* offset rules of the general registers (rbx, r12-r15...) */
};

/* Runs CFA instructions from [p, end) while loc <= pc. */
static int run_cfa(struct reader *r, uintptr_t *loc, uintptr_t pc, uint64_t code_align,
                   int64_t data_align, unsigned ra_reg, struct cfa_state *st,
                   const struct cfa_state *init)
{
    struct cfa_state stack[8];
    unsigned depth = 0;

    while (r->p < r->end && !r->bad) {
        uint8_t op = *r->p++, low = op & 0x3f;
        uint64_t reg = 0;
        int64_t off = 0;

        switch (op >> 6) {
        case 1: /* advance_loc */
            *loc += low * code_align;
            if (*loc > pc)
                return 0;
            continue;
        case 2: /* offset */
            reg = low;
            off = (int64_t)uleb(r) * data_align;
            goto set_offset;
        case 3: /* restore */
            reg = low;
            goto restore;
        default:
            break;
        }
        switch (op) {
        case 0x00: /* nop */
            break;
        case 0x01: /* set_loc */
            *loc = (uintptr_t)fixed(r, 8);
            if (*loc > pc)
                return 0;
            break;
        case 0x02:
            *loc += fixed(r, 1) * code_align;
            if (*loc > pc)
                return 0;
            break;
        case 0x03:
            *loc += fixed(r, 2) * code_align;
            if (*loc > pc)
                return 0;
            break;
        case 0x04:
            *loc += fixed(r, 4) * code_align;
            if (*loc > pc)
                return 0;
            break;
        case 0x05: /* offset_extended */
            reg = uleb(r);
            off = (int64_t)uleb(r) * data_align;
            goto set_offset;
        case 0x06: /* restore_extended */
            reg = uleb(r);
            goto restore;
        case 0x07: /* undefined */
        case 0x08: /* same_value */
            reg = uleb(r);
            if (reg == ra_reg)
                st->ra.kind = op == 0x07 ? 0 : 1;
            else if (reg == 6)
                st->bp.kind = op == 0x07 ? 0 : 1;
            break;
        case 0x09: /* register */
            reg = uleb(r);
            uleb(r);
            if (reg == ra_reg || reg == 6) {
                if (reg == ra_reg)
                    st->ra.kind = 0;
                else
                    st->bp.kind = 0;
            }
            break;
        case 0x0a: /* remember_state */
            if (depth == 8)
                return -1;
            stack[depth++] = *st;
            break;
        case 0x0b: /* restore_state */
            if (depth == 0)
                return -1;
            *st = stack[--depth];
            break;
        case 0x0c: /* def_cfa */
            st->cfa_reg = (uint8_t)uleb(r);
            st->cfa_off = (int64_t)uleb(r);
            st->bad_cfa = 0;
            break;
        case 0x0d: /* def_cfa_register */
            st->cfa_reg = (uint8_t)uleb(r);
            if (st->cfa_reg == 0xff)
                st->bad_cfa = 1;
            break;
        case 0x0e: /* def_cfa_offset */
            st->cfa_off = (int64_t)uleb(r);
            break;
        case 0x0f: { /* def_cfa_expression */
            uint64_t len = uleb(r);
            const uint8_t *e = r->p;
            st->bad_cfa = 1;
            if (len > (uint64_t)(r->end - r->p))
                return -1;
            r->p += len;
            /* DW_OP_breg6 N; DW_OP_deref: the CFA saved below rbp by a realigning prologue. */
            if (len >= 3 && e[0] == 0x76 && e[len - 1] == 0x06) {
                struct reader er = {e + 1, e + len - 1, 0};
                int64_t n = sleb(&er);
                if (!er.bad && er.p == e + len - 1) {
                    st->cfa_reg = 0xff;
                    st->cfa_off = n;
                    st->bad_cfa = 0;
                }
            }
            break;
        }
        case 0x10:   /* expression */
        case 0x16: { /* val_expression */
            uint64_t len;
            const uint8_t *e;
            reg = uleb(r);
            len = uleb(r);
            e = r->p;
            if (len > (uint64_t)(r->end - r->p))
                return -1;
            r->p += len;
            if (reg == ra_reg) {
                st->ra.kind = 0;
            } else if (reg == 6) {
                struct reader er = {e + 1, e + len, 0};
                int64_t n = 0;
                st->bp.kind = 0;
                if (op == 0x10 && len >= 2 && e[0] == 0x76) {
                    n = sleb(&er);
                    if (!er.bad && er.p == e + len) {
                        st->bp.kind = 3;
                        st->bp.off = (int32_t)n;
                    }
                }
            }
            break;
        }
        case 0x11: /* offset_extended_sf */
            reg = uleb(r);
            off = sleb(r) * data_align;
            goto set_offset;
        case 0x12: /* def_cfa_sf */
            st->cfa_reg = (uint8_t)uleb(r);
            st->cfa_off = sleb(r) * data_align;
            st->bad_cfa = 0;
            break;
        case 0x13: /* def_cfa_offset_sf */
            st->cfa_off = sleb(r) * data_align;
            break;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
            reg = uleb(r);
            if (op == 0x14)
                uleb(r);
            else
                sleb(r);
            if (reg == ra_reg)
                st->ra.kind = 0;
            else if (reg == 6)
                st->bp.kind = 0;
            break;
        case 0x2e: /* GNU_args_size */
            uleb(r);
            break;
        case 0x2f: /* GNU_negative_offset_extended */
            reg = uleb(r);
            off = -(int64_t)uleb(r) * data_align;
            goto set_offset;
        default:
            return -1;
        }
        continue;
    set_offset:
        if (reg < 16) {
            st->saved[reg].kind = 2;
            st->saved[reg].off = (int32_t)off;
        }
        if (reg == ra_reg) {
            st->ra.kind = 2;
            st->ra.off = (int32_t)off;
        } else if (reg == 6) {
            st->bp.kind = 2;
            st->bp.off = (int32_t)off;
        }
        continue;
    restore:
        if (!init)
            return -1;
        if (reg < 16)
            st->saved[reg] = init->saved[reg];
        if (reg == ra_reg)
            st->ra = init->ra;
        else if (reg == 6)
            st->bp = init->bp;
    }
    return r->bad ? -1 : 0;
}

/* Computes the unwind rule at pc, or RULE_STOP. */
static uint64_t pack_state(const struct cfa_state *st);

/* The CFA state at pc (run from its FDE), or -1 when unknown. */
static int state_at(uintptr_t pc, const struct module *m, struct cfa_state *out)
{
    const uint8_t *fde, *cie;
    struct reader r, cr;
    uint64_t len, code_align;
    int64_t data_align;
    unsigned ra_reg;
    uint8_t fde_enc = 0, version;
    const char *aug;
    int has_z = 0;
    uintptr_t pc_begin, pc_range, loc;
    struct cfa_state st, init;
    uint32_t cie_off;
    const uint8_t *fde_end, *cie_end;

    if (!m->hdr)
        return -1;
    fde = find_fde(m->hdr, pc);
    if (!fde)
        return -1;
    memcpy(&cie_off, fde, 4);
    len = cie_off;
    if (len == 0xffffffffu || len == 0)
        return -1; /* 64-bit DWARF is not produced for .eh_frame in practice */
    fde_end = fde + 4 + len;
    memcpy(&cie_off, fde + 4, 4);
    if (cie_off == 0)
        return -1; /* a CIE, not an FDE */
    cie = fde + 4 - cie_off;

    /* The CIE. */
    memcpy(&cie_off, cie, 4);
    if (cie_off == 0xffffffffu || cie_off == 0)
        return -1;
    cie_end = cie + 4 + cie_off;
    cr.p = cie + 8;
    cr.end = cie_end;
    cr.bad = 0;
    version = (uint8_t)fixed(&cr, 1);
    aug = (const char *)cr.p;
    while (cr.p < cr.end && *cr.p)
        cr.p++;
    cr.p++;
    if (aug[0] == 'e' && aug[1] == 'h')
        return -1;
    code_align = uleb(&cr);
    data_align = sleb(&cr);
    ra_reg = version == 1 ? (unsigned)fixed(&cr, 1) : (unsigned)uleb(&cr);
    if (aug[0] == 'z') {
        uint64_t alen = uleb(&cr);
        const uint8_t *aend = cr.p + alen;
        const char *a;
        has_z = 1;
        for (a = aug + 1; *a && !cr.bad; a++) {
            if (*a == 'R') {
                fde_enc = (uint8_t)fixed(&cr, 1);
            } else if (*a == 'P') {
                uint8_t penc = (uint8_t)fixed(&cr, 1);
                encoded(&cr, (uint8_t)(penc & 0x7f), 0); /* skip, never dereference */
            } else if (*a == 'L') {
                fixed(&cr, 1);
            } else if (*a == 'S' || *a == 'B' || *a == 'G') {
                /* signal frame: its CFA uses expressions we do not follow */
            } else {
                break;
            }
        }
        if (aend > cr.end)
            return -1;
        cr.p = aend;
    }
    if (cr.bad)
        return -1;

    /* The FDE's range. */
    r.p = fde + 8;
    r.end = fde_end;
    r.bad = 0;
    pc_begin = encoded(&r, (uint8_t)(fde_enc & 0x7f), 0);
    pc_range = encoded(&r, (uint8_t)(fde_enc & 0x0f), 0);
    if (r.bad || pc < pc_begin || pc >= pc_begin + pc_range)
        return -1;
    if (has_z) {
        uint64_t alen = uleb(&r);
        r.p += alen;
        if (r.p > r.end)
            return -1;
    }

    memset(&st, 0, sizeof st);
    st.cfa_reg = 7;
    st.bp.kind = 1;
    loc = pc_begin;
    if (run_cfa(&cr, &loc, UINTPTR_MAX, code_align, data_align, ra_reg, &st, NULL) < 0)
        return -1;
    init = st;
    loc = pc_begin;
    if (run_cfa(&r, &loc, pc, code_align, data_align, ra_reg, &st, &init) < 0)
        return -1;
    *out = st;
    return 0;
}

static uint64_t pack_state(const struct cfa_state *st)
{
    unsigned ck, bk;

    if (st->bad_cfa || st->ra.kind != 2)
        return RULE_STOP; /* includes an undefined return address: the outermost frame */
    if (st->cfa_off < -(1 << 23) || st->cfa_off >= (1 << 23) || st->ra.off < -32768 ||
        st->ra.off > 32767 || st->bp.off < -32768 || st->bp.off > 32767)
        return RULE_STOP;
    if (st->cfa_reg == 7)
        ck = CFA_RSP;
    else if (st->cfa_reg == 6)
        ck = CFA_RBP;
    else if (st->cfa_reg == 0xff)
        ck = CFA_DEREF_RBP;
    else
        return RULE_STOP;
    if (st->bp.kind == 2)
        bk = BP_AT_CFA;
    else if (st->bp.kind == 3)
        bk = BP_AT_BP;
    else
        bk = BP_SAME;
    return pack(ck, (int32_t)st->cfa_off, st->ra.off, bk, st->bp.kind >= 2 ? st->bp.off : 0);
}

/* Computes the unwind rule at pc, or RULE_STOP. */
static uint64_t compute_rule(uintptr_t pc, const struct module *m)
{
    struct cfa_state st;

    if (state_at(pc, m, &st) < 0)
        return RULE_STOP;
    return pack_state(&st);
}

static int l2_grow(void)
{
    size_t ncap = l2_cap ? l2_cap * 2 : 1u << 14, i;
    struct slot *n = mw__leak_map(ncap * sizeof(struct slot));

    if (!n)
        return -1;
    for (i = 0; i < l2_cap; i++) {
        size_t j;
        if (!l2[i].pc)
            continue;
        j = (l2[i].pc * 0x9E3779B97F4A7C15ull >> 20) & (ncap - 1);
        while (n[j].pc)
            j = (j + 1) & (ncap - 1);
        n[j] = l2[i];
    }
    if (l2)
        mw__leak_unmap(l2, l2_cap * sizeof(struct slot));
    l2 = n;
    l2_cap = ncap;
    return 0;
}

/* The rule for pc through the shared table; computes and stores it on a miss. */
static uint64_t shared_rule(uintptr_t pc)
{
    const struct module *m;
    uint64_t rule;
    size_t j;
    int refreshed = 0;

    mw__lock(&lock);
    if (l2) {
        for (j = (pc * 0x9E3779B97F4A7C15ull >> 20) & (l2_cap - 1); l2[j].pc;
             j = (j + 1) & (l2_cap - 1))
            if (l2[j].pc == pc) {
                rule = l2[j].rule;
                mw__unlock(&lock);
                return rule;
            }
    }
    for (;;) {
        m = find_module(pc);
        if (m || refreshed)
            break;
        mw__unlock(&lock);
        refresh_modules();
        refreshed = 1;
        mw__lock(&lock);
    }
    rule = m ? compute_rule(pc, m) : RULE_STOP;
    if ((l2_used + 1) * 2 > l2_cap && l2_grow() < 0) {
        mw__unlock(&lock);
        return rule;
    }
    for (j = (pc * 0x9E3779B97F4A7C15ull >> 20) & (l2_cap - 1); l2[j].pc && l2[j].pc != pc;
         j = (j + 1) & (l2_cap - 1))
        ;
    if (!l2[j].pc)
        l2_used++;
    l2[j].pc = pc;
    l2[j].rule = rule;
    mw__unlock(&lock);
    return rule;
}

static inline uint64_t rule_for(struct mw__unwind_cache *c, uintptr_t pc)
{
    struct slot *s;
    uint64_t rule;

    if (!c)
        return shared_rule(pc);
    /* Nearby return addresses share cache lines: hot code paths stay in a few lines. */
    s = &c->s[(pc ^ (pc >> L1_BITS)) & (L1_SIZE - 1)];
    if (s->pc == pc)
        return s->rule;
    rule = shared_rule(pc);
    s->pc = pc;
    s->rule = rule;
    return rule;
}

/* The thread's cache, made on first use and emptied when the rules changed (dlclose). */
static __attribute__((noinline)) struct mw__unwind_cache *
thread_cache_slow(struct mw__leak_thread *t, unsigned g)
{
    struct mw__unwind_cache *c = t->cache;

    if (!c) {
        if (!__atomic_load_n(&cache_bytes, __ATOMIC_ACQUIRE))
            memo_geometry();
        c = mw__leak_map(cache_bytes);
        if (!c)
            return NULL;
        c->gen = g;
        t->cache = c;
    } else if (c->gen != g) {
        memset(c->s, 0, sizeof c->s);
        memset(c->set, 0, sizeof c->set);
        c->nmemo = 0;
        memset(c->layout, 0, sizeof c->layout);
        memset(c->recent, 0, sizeof c->recent);
        c->gen = g;
    }
    return c;
}

static inline struct mw__unwind_cache *thread_cache(struct mw__leak_thread *t)
{
    struct mw__unwind_cache *c = t->cache;
    unsigned g = __atomic_load_n(&gen, __ATOMIC_ACQUIRE);

    if (__builtin_expect(c != NULL && c->gen == g, 1))
        return c;
    return thread_cache_slow(t, g);
}

static unsigned walk(struct mw__unwind_cache *c, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                     uintptr_t *out, unsigned max, uintptr_t hi, int first_is_return,
                     struct readlog *log)
{
    const uintptr_t lo = sp;
    unsigned n = 0;
    int adjust = first_is_return;

    while (n < max) {
        uint64_t rule;
        uintptr_t cfa, at;

        out[n++] = ip;
        if (n == max || !hi)
            break;
        rule = rule_for(c, ip - (uintptr_t)adjust);
        adjust = 1;
        switch (r_cfa_kind(rule)) {
        case CFA_RSP:
            cfa = sp + (uintptr_t)r_cfa_off(rule);
            break;
        case CFA_RBP:
            if (log)
                log->bp_used = 1;
            cfa = bp + (uintptr_t)r_cfa_off(rule);
            break;
        case CFA_DEREF_RBP:
            if (log)
                log->bp_used = 1;
            at = bp + (uintptr_t)r_cfa_off(rule);
            if (at < lo || at > hi - 8 || (at & 7))
                return n;
            cfa = rd((const uintptr_t *)at, log, 0);
            break;
        default:
            return n;
        }
        if (cfa <= sp || cfa > hi)
            break;
        at = cfa + (uintptr_t)r_ra_off(rule);
        if (at < lo || at > hi - 8)
            break;
        ip = rd((const uintptr_t *)at, log, 0);
        if (r_bp_kind(rule) == BP_AT_CFA) {
            at = cfa + (uintptr_t)r_bp_off(rule);
            if (at < lo || at > hi - 8)
                break;
            bp = rd((const uintptr_t *)at, log, BPREAD);
        } else if (r_bp_kind(rule) == BP_AT_BP) {
            if (log)
                log->bp_used = 1;
            at = bp + (uintptr_t)r_bp_off(rule);
            if (at < lo || at > hi - 8)
                break;
            bp = rd((const uintptr_t *)at, log, 0);
        }
        sp = cfa;
        if (ip < 4096)
            break;
    }
    return n;
}

unsigned mw__unwind(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                    uintptr_t *out, unsigned max)
{
    uintptr_t hi = t->stack_hi;

    if (sp >= hi) /* an alternate signal stack: we do not know its bounds */
        hi = 0;
    return walk(thread_cache(t), ip, sp, bp, out, max, hi, 1, NULL);
}

unsigned mw__unwind_from(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                         uintptr_t *out, unsigned max, uintptr_t stack_hi)
{
    if (sp >= stack_hi)
        stack_hi = 0;
    return walk(thread_cache(t), ip, sp, bp, out, max, stack_hi, 0, NULL);
}

/* 1 when memo m gives the trace of a hook at pc returning to ra with this stack: the words it
 * read hold the same values. */
static inline int memo_holds(struct memo *m, uintptr_t pc, uintptr_t ra, uintptr_t sp, uintptr_t bp,
                             uintptr_t hi)
{
    const uintptr_t *val = memo_val(m);
    unsigned i;

    if (m->ra != ra || m->pc != pc ||
        (m->absolute ? m->sp != sp || m->bp != bp : sp + m->maxoff > hi - 8))
        return 0;
    for (i = 0; i < m->n; i++)
        if (*(const uintptr_t *)(sp + m->off[i]) != val[i])
            return 0;
    return 1;
}

/* The key a stack is filed under: the hook and its return address, and the values at the
 * offsets where this pair's first return addresses were (its layout), so that one call site
 * reached along many paths keeps many memos. Independent multiplies: no long dependency chain. */
static inline uint64_t memo_key(const struct layout *L, uintptr_t pc, uintptr_t ra, uintptr_t sp,
                                uintptr_t hi)
{
    static const uint64_t k[LAYOUT_N] = {0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                                         0xD6E8FEB86659FD93ull, 0x9E3779B97F4A7C15ull};
    uint64_t key = (ra ^ (pc << 3)) * 0x9E3779B97F4A7C15ull;
    unsigned i;

    if (L->pc == pc && L->ra == ra)
        for (i = 0; i < L->n && sp + L->off[i] <= hi - 8; i++)
            key += (*(const uintptr_t *)(sp + L->off[i]) ^ i) * k[i];
    key ^= key >> 29;
    return key * 0xBF58476D1CE4E5B9ull;
}

static inline struct layout *layout_of(struct mw__unwind_cache *c, uintptr_t pc, uintptr_t ra)
{
    return &c->layout[((ra ^ (pc << 3)) * 0x9E3779B97F4A7C15ull) >> (64 - LAYOUT_BITS)];
}

/* The set a key files its memo in, and the memo's tag there (odd: see GHOST). */
static inline struct memo_set *set_of(struct mw__unwind_cache *c, uint64_t key, uint32_t *tag)
{
    *tag = (uint32_t)(key >> 8) | 3;
    return &c->set[key >> (64 - MEMO_SETS_LOG)];
}

/* The way a new tag takes in S: an empty one, else the next one not used since the last
 * choice (the hand moves on). */
static unsigned set_victim(struct memo_set *S)
{
    unsigned hand = S->ref >> 4, w, j;

    for (w = 0; w < MEMO_WAYS; w++)
        if (!S->tag[w])
            return w;
    for (j = 0; j < MEMO_WAYS; j++) {
        w = (hand + j) % MEMO_WAYS;
        if (!(S->ref & (1u << w)))
            break;
    }
    if (j == MEMO_WAYS)
        w = hand;
    S->ref = (uint8_t)(((w + 1) % MEMO_WAYS) << 4);
    return w;
}

uint32_t mw__unwind_trace(struct mw__leak_thread *t, uintptr_t pc, uintptr_t ra, uintptr_t sp,
                          uintptr_t bp)
{
    uint32_t toff[LOG_READS];
    uintptr_t tval[LOG_READS];
    struct mw__unwind_cache *c;
    uintptr_t ips[MW__LEAK_MAX_CALLERS], hi = t->stack_hi, *val;
    struct readlog log;
    struct layout *L;
    struct memo_set *S;
    struct memo *m;
    uint32_t tag, trace;
    unsigned depth = 1, i, k, w;

    ips[0] = pc;
    if (mw__leak_num_callers <= 1)
        return mw__traces_intern(ips, 1);
    c = thread_cache(t);
    if (sp >= hi)
        hi = 0;
    if (!c || !hi) {
        depth += walk(c, ra, sp, bp, ips + 1, (unsigned)mw__leak_num_callers - 1, hi, 1, NULL);
        return intern(c, ips, depth);
    }
    L = layout_of(c, pc, ra);
    S = set_of(c, memo_key(L, pc, ra, sp, hi), &tag);
    for (w = 0; w < MEMO_WAYS; w++)
        if (S->tag[w] == tag && memo_holds(m = memo_at(c, S->idx[w] - 1u), pc, ra, sp, bp, hi)) {
            S->ref |= (uint8_t)(1u << w);
            return m->trace;
        }

    log.base = sp;
    log.n = 0;
    log.overflow = 0;
    log.bp_used = 0;
    log.off = toff;
    log.val = tval;
    depth += walk(c, ra, sp, bp, ips + 1, (unsigned)mw__leak_num_callers - 1, hi, 1, &log);
    trace = intern(c, ips, depth);
    /* Saved rbp values nobody used do not decide anything: drop them. */
    for (i = 0, k = 0; i < log.n; i++) {
        if ((toff[i] & BPREAD) && !log.bp_used)
            continue;
        toff[k] = toff[i] & ~BPREAD;
        tval[k] = tval[i];
        if (k == memo_cap || toff[k] > 0xffff - 8)
            log.overflow = 1;
        k++;
    }
    if (log.overflow || !k)
        return trace;
    if (!log.bp_used && !(L->pc == pc && L->ra == ra)) {
        /* This pair's first return addresses: its next lookups key on their values. */
        for (i = 0; i < k && i < LAYOUT_N; i++)
            L->off[i] = toff[i];
        L->n = i;
        L->pc = pc;
        L->ra = ra;
        S = set_of(c, memo_key(L, pc, ra, sp, hi), &tag);
    }
    /* Walked before (its ghost, or a memo of the same key that another path took): remembered,
     * in the ghost's way or the victim's. Else only its ghost is left, in the victim's way. */
    for (w = 0; w < MEMO_WAYS && S->tag[w] != GHOST(tag); w++)
        ;
    if (w == MEMO_WAYS) {
        for (i = 0; i < MEMO_WAYS && S->tag[i] != tag; i++)
            ;
        w = set_victim(S);
        if (i == MEMO_WAYS) {
            S->tag[w] = GHOST(tag);
            return trace;
        }
    }
    if (!S->idx[w]) {
        mw__assert(c->nmemo < MEMO_SETS * MEMO_WAYS); /* one memo per way at most */
        S->idx[w] = (uint16_t)++c->nmemo;
    }
    m = memo_at(c, S->idx[w] - 1u);
    val = memo_val(m);
    m->pc = pc;
    m->ra = ra;
    m->sp = sp;
    m->bp = bp;
    m->trace = trace;
    m->absolute = (uint8_t)log.bp_used;
    m->maxoff = 0;
    for (i = 0; i < k; i++) {
        m->off[i] = (uint16_t)toff[i];
        val[i] = tval[i];
        if (toff[i] + 8 > m->maxoff)
            m->maxoff = toff[i] + 8;
    }
    m->n = (uint8_t)k;
    S->tag[w] = tag;
    return trace;
}

int mw__unwind_step_saves(uintptr_t *ip, uintptr_t *sp, uintptr_t *bp, int is_return,
                          uintptr_t *slots, unsigned max, unsigned *nslots)
{
    static const unsigned callee_saved[] = {3, 6, 12, 13, 14, 15};
    const struct module *m;
    struct cfa_state st;
    uintptr_t pc = *ip - (uintptr_t)is_return, cfa, at;
    unsigned i;

    *nslots = 0;
    mw__lock(&lock);
    m = find_module(pc);
    mw__unlock(&lock);
    if (!m) {
        refresh_modules();
        mw__lock(&lock);
        m = find_module(pc);
        mw__unlock(&lock);
    }
    if (!m || state_at(pc, m, &st) < 0 || pack_state(&st) == RULE_STOP)
        return -1;
    if (st.cfa_reg == 7)
        cfa = *sp + (uintptr_t)st.cfa_off;
    else if (st.cfa_reg == 6)
        cfa = *bp + (uintptr_t)st.cfa_off;
    else
        cfa = *(const uintptr_t *)(*bp + (uintptr_t)st.cfa_off);
    for (i = 0; i < sizeof callee_saved / sizeof callee_saved[0] && *nslots < max; i++)
        if (st.saved[callee_saved[i]].kind == 2)
            slots[(*nslots)++] = cfa + (uintptr_t)(intptr_t)st.saved[callee_saved[i]].off;
    at = cfa + (uintptr_t)(intptr_t)st.ra.off;
    if (st.bp.kind == 2)
        *bp = *(const uintptr_t *)(cfa + (uintptr_t)(intptr_t)st.bp.off);
    *ip = *(const uintptr_t *)at;
    *sp = cfa;
    return 0;
}

void mw__unwind_flush(void)
{
    mw__lock(&lock);
    if (l2)
        memset(l2, 0, l2_cap * sizeof(struct slot));
    l2_used = 0;
    nmodules = 0;
    __atomic_add_fetch(&gen, 1, __ATOMIC_RELEASE);
    mw__unlock(&lock);
}

void mw__unwind_thread_done(struct mw__leak_thread *t)
{
    struct mw__unwind_cache *c = t->cache;

    t->cache = NULL;
    if (c)
        mw__leak_unmap(c, cache_bytes);
}

void mw__unwind_lock(void)
{
    mw__lock_always(&lock);
}

void mw__unwind_unlock(void)
{
    mw__unlock_always(&lock);
}

#else /* not x86-64: frame pointers only */

struct mw__unwind_cache {
    int unused;
};

unsigned mw__unwind_from(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                         uintptr_t *out, unsigned max, uintptr_t hi)
{
    unsigned n = 0;

    (void)t;
    while (n < max) {
        out[n++] = ip;
        if (bp < sp || bp > hi - 16 || (bp & 7))
            break;
        ip = ((const uintptr_t *)bp)[1];
        sp = bp + 16;
        bp = ((const uintptr_t *)bp)[0];
        if (ip < 4096)
            break;
    }
    return n;
}

unsigned mw__unwind(struct mw__leak_thread *t, uintptr_t ip, uintptr_t sp, uintptr_t bp,
                    uintptr_t *out, unsigned max)
{
    return mw__unwind_from(t, ip, sp, bp, out, max, t->stack_hi);
}

uint32_t mw__unwind_trace(struct mw__leak_thread *t, uintptr_t pc, uintptr_t ra, uintptr_t sp,
                          uintptr_t bp)
{
    uintptr_t ips[MW__LEAK_MAX_CALLERS];
    unsigned depth = 1;

    ips[0] = pc;
    if (mw__leak_num_callers > 1)
        depth += mw__unwind(t, ra, sp, bp, ips + 1, (unsigned)mw__leak_num_callers - 1);
    return mw__traces_intern(ips, depth);
}

int mw__unwind_step_saves(uintptr_t *ip, uintptr_t *sp, uintptr_t *bp, int is_return,
                          uintptr_t *slots, unsigned max, unsigned *nslots)
{
    (void)ip;
    (void)sp;
    (void)bp;
    (void)is_return;
    (void)slots;
    (void)max;
    *nslots = 0;
    return -1;
}

void mw__unwind_flush(void)
{
}
void mw__unwind_thread_done(struct mw__leak_thread *t)
{
    (void)t;
}
void mw__unwind_lock(void)
{
}
void mw__unwind_unlock(void)
{
}
#endif
