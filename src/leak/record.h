/* The wire format between the preloaded tracer and `memwalk leaks`: framed messages, then the
 * binary result stream they carry.
 *
 * A traced process sends messages: over the SOCK_SEQPACKET socket named by MEMWALK_FD (one message
 * per datagram, so processes sharing the socket never interleave), or appended to the file named
 * by MEMWALK_OUT. Every message starts with mw__leak_msg_t. HELLO carries the process's command
 * line; DATA messages carry consecutive chunks of the result stream, the last one flagged END.
 *
 * The result stream, all integers in the host's byte order:
 *   mw__leak_result_t
 *   nmodules x { mw__leak_module_t, path bytes (path_len, no NUL) }
 *   ntraces  x { u32 depth, depth x u64 ip }            (trace id = index)
 *   nrecords x mw__leak_lossrec_t                         (one per trace and kind)
 *   fault_depth x u64 ip                                  (the faulting stack, signals only)
 * Header only: shared by src/leak (writer) and src/cli (reader). */
#ifndef MEMWALK_LEAK_RECORD_H
#define MEMWALK_LEAK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define MW__LEAK_MAGIC        0x4b4c574du /* "MWLK" */
#define MW__LEAK_VERSION      2u          /* 2 added limits and flags; readers accept 1 too */
#define MW__LEAK_CHUNK        16384u      /* payload bytes per DATA message */
#define MW__LEAK_MAX_CALLERS  64          /* deepest stack recorded */
#define MW__LEAK_HELLO_FORKED 1u /* HELLO flags: sent by a forked child, not a fresh program */

enum mw__leak_msg_type {
    MW__LEAK_MSG_HELLO = 1, /* payload: the command line, NUL-separated; argv[0] is the path
                                execve was given (AT_EXECFN) */
    MW__LEAK_MSG_DATA = 2,  /* payload: the next chunk of the result stream */
    MW__LEAK_MSG_NOTE = 3,  /* payload: one line of text the tracer wants shown */
    /* payload: the next chunk of the heap profile stream (below) */
    MW__LEAK_MSG_PROFILE = 4,
};

#define MW__LEAK_MSG_END 1u /* flags: last DATA chunk */

typedef struct mw__leak_msg {
    uint32_t magic;
    uint16_t type;
    uint16_t flags;
    int32_t pid;
    uint32_t len; /* payload bytes following this header */
} mw__leak_msg_t;

/* Block kinds, in memcheck's order (its loss records sort by it). */
enum mw__leak_kind {
    MW__LEAK_DEFINITE = 0,
    MW__LEAK_INDIRECT = 1,
    MW__LEAK_POSSIBLE = 2,
    MW__LEAK_REACHABLE = 3,
};

/* memcheck's interior-pointer heuristics, in its order. */
enum mw__leak_heur {
    MW__HEUR_STDSTRING = 1,
    MW__HEUR_LENGTH64 = 2,
    MW__HEUR_NEWARRAY = 3,
    MW__HEUR_MULTIPLE = 4,
};

enum mw__leak_end {
    MW__LEAK_END_EXIT = 0, /* exit() or return from main; code = status */
    MW__LEAK_END_EXIT_NOW, /* _exit()/_Exit() called by the program; code = status */
    MW__LEAK_END_SIGNAL,   /* killed by a fatal signal; code = signal number */
};

typedef struct mw__leak_result {
    uint32_t magic;
    uint32_t version;
    int32_t pid;
    int32_t ppid;
    uint32_t end;         /* enum mw__leak_end */
    int32_t code;         /* exit status or signal number */
    int32_t fault_code;   /* for signals: siginfo si_code */
    uint32_t fault_depth; /* ips of the faulting stack that follow the records */
    uint64_t fault_addr;  /* for signals: siginfo si_addr */
    uint64_t allocs;      /* total heap usage, counted as memcheck does */
    uint64_t frees;
    uint64_t bytes_allocated;
    uint32_t nmodules;
    uint32_t ntraces;
    uint32_t nrecords;
    uint32_t threads_unstopped; /* threads that could not be stopped for the scan */
    uint64_t scan_bytes;        /* root bytes scanned */
    uint64_t heur_bytes[4];     /* still reachable only through each heuristic (enum - 1) */
    uint64_t heur_blocks[4];
    /* version 2 */
    uint32_t limits; /* MW__LEAK_LIMIT_* bits: fixed tables of the tracer that filled up */
    uint32_t flags;  /* MW__LEAK_RES_* bits */
} mw__leak_result_t;

/* The size of a version 1 header: the fields before limits. */
#define MW__LEAK_RESULT_V1_SIZE 152u

_Static_assert(offsetof(mw__leak_result_t, limits) == MW__LEAK_RESULT_V1_SIZE,
               "version 1 header size");

/* Tables that can fill up; the report says which did (so nothing is misclassified quietly). */
enum mw__leak_limit {
    MW__LEAK_LIMIT_THREADS = 1u << 0, /* live threads: later ones were not traced */
    MW__LEAK_LIMIT_STOP = 1u << 1,    /* threads stopped for the scan: the rest not scanned */
    MW__LEAK_LIMIT_BLOCKS = 1u << 2,  /* the block table: tracing stopped */
    MW__LEAK_LIMIT_TRACES = 1u << 3,  /* distinct stacks: later ones recorded without a stack */
    MW__LEAK_LIMIT_OWN = 1u << 4,     /* the tracer's own mappings: some were scanned as roots */
    MW__LEAK_LIMIT_DEAD = 1u << 5,    /* stacks of exited threads: some were scanned as roots */
    MW__LEAK_LIMIT_MODULES = 1u << 6, /* loaded or unloaded objects: some frames lack a module */
    MW__LEAK_LIMIT_RANGES = 1u << 7,  /* ranges the scan skips: some allocator memory scanned */
};

enum mw__leak_res_flag {
    MW__LEAK_RES_MAIN_GONE = 1u << 0, /* the main thread had exited (pthread_exit from main) */
    MW__LEAK_RES_SELF_KILL = 1u << 1, /* the program sent itself SIGKILL: reported just before */
};

typedef struct mw__leak_module {
    uint64_t bias; /* load address: ip - bias is the address in the ELF file */
    uint64_t lo;   /* lowest and highest address of its PT_LOAD segments */
    uint64_t hi;
    uint32_t path_len;
    uint32_t pad;
} mw__leak_module_t;

typedef struct mw__leak_lossrec {
    uint32_t trace;
    uint32_t kind; /* enum mw__leak_kind */
    uint64_t blocks;
    uint64_t bytes;    /* direct bytes */
    uint64_t indirect; /* bytes of the blocks only reachable through these (definite only) */
} mw__leak_lossrec_t;

/* ---- issue 12, points 1 and 2: bad frees and open file descriptors ---------------------------
 * Additions that readers which do not know them skip:
 *  - LIVE messages: the chunks of one live stream (mw__leak_live_t, then its body), the last
 *    flagged MW__LEAK_MSG_END. A thread that finds a new error context sends one at once, so
 *    that memwalk prints the error while the program runs, as memcheck does; the loaded objects
 *    go first when they changed since the last. One process's live streams never interleave.
 *  - sections after the fault stack of the result stream: mw__leak_section_t, then its bytes.
 *    ERRS: every error context (count x mw__leak_error_t, each followed by its path bytes);
 *    FDS: the open descriptors at exit (mw__leak_fds_t, then count x mw__leak_fd_t, each
 *    followed by its name bytes). Trace fields index the result's traces. */
#define MW__LEAK_MSG_LIVE 8

enum mw__leak_live_kind {
    MW__LEAK_LIVE_MODULES = 1, /* count x { mw__leak_module_t, path } */
    MW__LEAK_LIVE_ERROR = 2,   /* mw__leak_error_t, its path, then count traces as in the
                                  result stream ({ u32 depth, depth x u64 }), which its trace
                                  fields index */
};

typedef struct mw__leak_live {
    uint32_t kind; /* enum mw__leak_live_kind */
    uint32_t count;
} mw__leak_live_t;

typedef struct mw__leak_section {
    uint32_t tag;   /* MW__LEAK_SECT_* */
    uint32_t count; /* records */
    uint64_t bytes; /* bytes that follow */
} mw__leak_section_t;

#define MW__LEAK_SECT_ERRORS 0x53525245u /* "ERRS" */
#define MW__LEAK_SECT_FDS    0x53534446u /* "FDSS" */
#define MW__LEAK_NO_TRACE    0xffffffffu /* a trace field with no stack */

/* memcheck's two kinds of bad release. */
enum mw__leak_err_kind {
    MW__LEAK_ERR_FREE = 1,     /* Invalid free() / delete / delete[] / realloc() */
    MW__LEAK_ERR_MISMATCH = 2, /* Mismatched free() / delete / delete [] */
};

/* What the tracer knows of the address: the heap's blocks, thread stacks, mappings. memwalk
 * looks for a data symbol or an object's section (the descriptions memcheck prefers) itself. */
enum mw__leak_addr_kind {
    MW__LEAK_ADDR_UNKNOWN = 0, /* in no mapping */
    MW__LEAK_ADDR_FREED = 1,   /* in or beside a recently freed block */
    MW__LEAK_ADDR_ALLOCD = 2,  /* in or beside a live block */
    MW__LEAK_ADDR_STACK = 3,   /* on a thread's stack (and in a mapping: perms, path) */
    MW__LEAK_ADDR_MAPPED = 4,  /* in a mapping of the process: perms, path */
};

enum mw__leak_map_flag {
    MW__LEAK_MAP_R = 4,
    MW__LEAK_MAP_W = 2,
    MW__LEAK_MAP_X = 1,
    MW__LEAK_MAP_FILE = 8,    /* a file mapping (path) */
    MW__LEAK_MAP_SHARED = 16, /* shared memory */
};

typedef struct mw__leak_error {
    uint32_t kind;      /* enum mw__leak_err_kind */
    uint32_t addr_kind; /* enum mw__leak_addr_kind */
    uint64_t count;     /* errors in this context (1 in a live message) */
    uint64_t addr;      /* the pointer the program passed */
    int64_t offset;     /* FREED, ALLOCD: addr - the block's start (negative: before it) */
    uint64_t size;      /* FREED, ALLOCD: the block's size */
    uint32_t where;     /* the stack of the bad call */
    uint32_t alloc;     /* FREED, ALLOCD: where the block was allocated */
    uint32_t freed;     /* FREED: where it was freed */
    uint32_t thread;    /* STACK: the thread's number as memcheck counts them (1: main) */
    int32_t frame;      /* STACK: the frame that holds addr (0: the release function), or -1 */
    uint32_t map;       /* STACK, MAPPED: MW__LEAK_MAP_* of the mapping */
    uint64_t frame_ip;  /* STACK: an address in that frame's function */
    uint64_t below_sp;  /* STACK: bytes below the thread's stack pointer (0: above it) */
    int32_t origin;     /* the process that found it (a forked child inherits the contexts) */
    uint32_t id;        /* the context's number there, in order of discovery */
    uint32_t path_len;  /* STACK, MAPPED: the mapped file's path follows (no NUL) */
    uint32_t flags;     /* MW__LEAK_ERRF_* */
    uint32_t by_thread; /* the thread that made the bad call, numbered as thread */
    uint32_t pad;
    char thread_name[16]; /* by_thread's name when it took one of its own (memcheck's "Thread N
                             name:"), else empty; NUL-terminated */
} mw__leak_error_t;

enum mw__leak_err_flag {
    MW__LEAK_ERRF_GUARD = 1u << 0, /* STACK: in the stack's guard page */
    MW__LEAK_ERRF_LIMIT = 1u << 1, /* (first context) more contexts than memcheck keeps: later
                                      errors were not counted */
};

/* --track-fds: the descriptors open at exit, in memcheck's order (most recently opened first,
 * those inherited from the parent last). */
typedef struct mw__leak_fds {
    uint32_t mode; /* 1: yes (standard descriptors counted, not listed), 2: all */
    uint32_t open; /* descriptors memcheck would count */
    uint32_t std;  /* of which 0, 1 and 2 */
    uint32_t pad;
} mw__leak_fds_t;

enum mw__leak_fd_flag {
    MW__LEAK_FD_INHERITED = 1u << 0, /* open at start: no stack */
    MW__LEAK_FD_SOCKET = 1u << 1,    /* a socket: family and addresses below */
    MW__LEAK_FD_PEER = 1u << 2,      /* the socket has a peer */
    MW__LEAK_FD_UNSEEN = 1u << 3,    /* opened by a call the tracer does not see (inside a
                                        library): no stack */
};

typedef struct mw__leak_fd {
    int32_t fd;
    uint32_t flags;    /* MW__LEAK_FD_* */
    uint32_t trace;    /* where it was opened, MW__LEAK_NO_TRACE when not known */
    uint32_t name_len; /* the name memcheck prints (the path given, or resolved) follows */
    uint32_t family;   /* SOCKET: the address family */
    uint32_t addr_len; /* SOCKET: bytes of addr and peer used */
    uint32_t peer_len;
    uint32_t pad;
    uint8_t addr[112]; /* SOCKET: getsockname */
    uint8_t peer[112]; /* SOCKET, PEER: getpeername */
} mw__leak_fd_t;

/* ---- the heap profile of `memwalk heap` -------------------------------------------------------
 * A process traced for `memwalk heap` sends PROFILE messages before its DATA messages: the chunks
 * of one more stream, the last one flagged END. Readers that do not know the type skip it. The
 * stream, integers in the host's byte order:
 *   mw__prof_head_t
 *   ntraces x { u32 depth, u32 0, depth x u64 ip }   (the stacks the snapshots name, index = id;
 *                                                     ip 0 is the allocation function's own frame)
 *   nsnaps  x { mw__prof_snap_t, ndetail x mw__prof_site_t }
 * Snapshots are massif's: the ones kept at the end, oldest first. */
#define MW__PROF_MAGIC   0x50484d57u /* "WMHP" */
#define MW__PROF_VERSION 1u

enum mw__prof_unit {
    MW__PROF_UNIT_B = 0,  /* bytes allocated and freed so far (massif's --time-unit=B) */
    MW__PROF_UNIT_MS = 1, /* milliseconds since the tracer started */
};

typedef struct mw__prof_head {
    uint32_t magic;
    uint32_t version;
    uint32_t unit; /* enum mw__prof_unit */
    uint32_t nsnaps;
    uint32_t ntraces;
    uint32_t detailed_freq;
    uint32_t max_snapshots;
    uint32_t peak_milli; /* --peak-inaccuracy in thousandths of a percent */
    uint64_t heap_admin;
    uint64_t peak_heap;  /* the largest heap (useful + extra bytes) seen: its useful bytes */
    uint64_t peak_extra; /* and its extra bytes, whatever the snapshots kept */
    uint64_t end_time;   /* the time when the profile was written */
    uint64_t end_heap;
    uint64_t end_extra;
} mw__prof_head_t;

enum mw__prof_snap_flag {
    MW__PROF_DETAILED = 1u << 0, /* a detailed snapshot: massif prints its tree */
    MW__PROF_PEAK = 1u << 1,     /* massif's peak snapshot (detailed) */
    MW__PROF_SITES = 1u << 2,    /* sites follow (always in a detailed one; in every one for the
                                    SVG timeline) */
};

typedef struct mw__prof_snap {
    uint32_t flags;
    uint32_t ndetail; /* mw__prof_site_t records that follow */
    uint64_t time;
    uint64_t heap;  /* useful bytes (massif's mem_heap_B) */
    uint64_t extra; /* admin and rounding bytes (mem_heap_extra_B) */
} mw__prof_snap_t;

typedef struct mw__prof_site {
    uint32_t trace; /* index into the stream's stacks */
    uint32_t pad;
    uint64_t bytes; /* live bytes allocated from this stack */
} mw__prof_site_t;

#endif
