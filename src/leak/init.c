/* How the tracer starts: the real allocator functions (dlsym, answered from the bootstrap pool
 * while it allocates), the tables, the options from the environment, and the handlers of the
 * other concerns (exit, signals, fork), installed from the constructor. */
#include "leak/leak.h"
#include "leak/profile.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

struct mw__leak_real mw__real;
volatile int mw__leak_state;
int mw__leak_num_callers = 12;
int mw__leak_trace_children;
pid_t mw__leak_pid;

static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void mw__leak_start(void)
{
    struct mw__leak_thread *self = mw__leak_me();
    int expected = MW__OFF;

    if (!__atomic_compare_exchange_n(&mw__leak_state, &expected, MW__STARTING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    self->busy++; /* dlsym's own allocations come from the pool */
    mw__real.malloc = next("malloc");
    mw__real.free = next("free");
    mw__real.calloc = next("calloc");
    mw__real.realloc = next("realloc");
    mw__real.memalign = next("memalign");
    mw__real.posix_memalign = next("posix_memalign");
    mw__real.aligned_alloc = next("aligned_alloc");
    mw__real.valloc = next("valloc");
    mw__real.pvalloc = next("pvalloc");
    mw__real.malloc_usable_size = next("malloc_usable_size");
    mw__real.dlclose = next("dlclose");
    mw__real.exit_now = next("_exit");
    mw__real.cxx_new = next("_Znwm");
    mw__real.cxx_new_aligned = next("_ZnwmSt11align_val_t");
    self->busy--;
    if (!mw__real.malloc || !mw__real.free || !mw__real.calloc || !mw__real.realloc ||
        !mw__real.memalign || !mw__real.exit_now) {
        mw__leak_log("cannot find the real allocator functions: not tracing");
        __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
        return;
    }
    if (mw__blocks_init() < 0 || mw__traces_init() < 0) {
        mw__leak_log("cannot map the tracer's tables: not tracing");
        __atomic_store_n(&mw__leak_state, MW__DONE, __ATOMIC_RELEASE);
        return;
    }
    mw__prof_init(mw__blocks_next_seq());
    __atomic_store_n(&mw__leak_state, MW__ON, __ATOMIC_RELEASE);
}

void mw__leak_disable(const char *why)
{
    if (__atomic_exchange_n(&mw__leak_state, MW__DONE, __ATOMIC_ACQ_REL) == MW__ON)
        mw__leak_log2("tracing switched off: ", why);
}

/* ---- options ------------------------------------------------------------------------------ */
static int parse_int(const char *s, int lo, int hi, int def)
{
    uint64_t v;

    if (!s || mw__parse_u64(s, &v) < 0)
        return def;
    return v < (uint64_t)lo ? lo : v > (uint64_t)hi ? hi : (int)v;
}

/* memwalk passes everything in one variable, so the program's environment grows by two
 * entries (LD_PRELOAD and this), as under valgrind: "E,FD,CALLERS,CHILDREN" where E is 0 for
 * the program memwalk started and 1 once a traced program has seen it. */
static char *launch;
static int launch_fd = -1;

static void parse_launch(void)
{
    const char *end;
    uint64_t v;

    launch = (char *)mw__leak_env("MEMWALK_LAUNCH");
    if (!launch || (launch[0] != '0' && launch[0] != '1'))
        return;
    /* "M,FD,CALLERS,CHILDREN..." */
    if (launch[1] != ',' || mw__parse_dec(launch + 2, &end, &v) < 0 || v > INT_MAX)
        return;
    launch_fd = (int)v;
    if (*end != ',' || mw__parse_dec(end + 1, &end, &v) < 0)
        return;
    mw__leak_num_callers = v < 1 ? 1 : v > MW__LEAK_MAX_CALLERS ? MW__LEAK_MAX_CALLERS : (int)v;
    if (*end == ',')
        mw__leak_trace_children = end[1] == 'y';
}

/* Our own path inside LD_PRELOAD: overwritten with blanks so that programs this one executes do
 * not load the tracer (memcheck's --trace-children=no). No allocation: the string is edited in
 * place. */
static char self_path[4096];

static void find_self_path(void)
{
    Dl_info info;

    if (dladdr((void *)&find_self_path, &info) && info.dli_fname &&
        strlen(info.dli_fname) < sizeof self_path)
        strcpy(self_path, info.dli_fname);
}

static void drop_from_ld_preload(void)
{
    extern char **environ;
    size_t n = strlen(self_path);
    char **e;

    if (!n)
        return;
    for (e = environ; e && *e; e++) {
        char *v, *hit;
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            continue;
        v = *e + 11;
        while ((hit = strstr(v, self_path)) != NULL) {
            char end = hit[n];
            if ((hit == v || hit[-1] == ' ' || hit[-1] == ':') &&
                (end == '\0' || end == ' ' || end == ':'))
                memset(hit, ' ', n);
            v = hit + n;
        }
    }
}

/* ---- the tracer's variables across execve ------------------------------------------------- */
/* Copies of "NAME=value" taken at start: a program that clears its environment and executes
 * another keeps the tracer (--trace-children=yes), as valgrind carries its own variables. */
static const char *const carried[] = {"MEMWALK_LAUNCH",       "MEMWALK_OUT",
                                      "MEMWALK_NUM_CALLERS",  "MEMWALK_TRACE_CHILDREN",
                                      "MEMWALK_FREELIST_VOL", "MEMWALK_FREELIST_HOLD",
                                      "MEMWALK_TRACK_FDS"};
#define NCARRY (sizeof carried / sizeof carried[0])
static char carry_buf[8192];
static char *carry[NCARRY + 1]; /* + LD_PRELOAD=self */
static size_t ncarry;

static void save_carried(void)
{
    size_t used = 0, i;

    for (i = 0; i <= NCARRY; i++) {
        const char *name = i < NCARRY ? carried[i] : "LD_PRELOAD";
        const char *v = i < NCARRY ? mw__leak_env(name) : self_path;
        size_t nl = strlen(name), vl;
        if (!v || (i == NCARRY && !*v))
            continue;
        vl = strlen(v);
        if (used + nl + vl + 2 > sizeof carry_buf)
            break;
        carry[ncarry++] = carry_buf + used;
        memcpy(carry_buf + used, name, nl);
        carry_buf[used + nl] = '=';
        memcpy(carry_buf + used + nl + 1, v, vl + 1);
        used += nl + vl + 2;
    }
}

static int env_has(char *const *envp, const char *entry)
{
    size_t nl = (size_t)(strchr(entry, '=') - entry) + 1;

    for (; envp && *envp; envp++)
        if (strncmp(*envp, entry, nl) == 0) {
            if (strncmp(entry, "LD_PRELOAD=", 11) == 0)
                return strstr(*envp, self_path) != NULL;
            return 1;
        }
    return 0;
}

char *const *mw__leak_exec_env(char *const *envp, char **buf, size_t cap)
{
    size_t i, n = 0, missing = 0;

    if (!mw__leak_trace_children || mw__leak_state == MW__OFF || mw__leak_state == MW__PASSIVE)
        return envp;
    for (i = 0; i < ncarry; i++)
        missing += !env_has(envp, carry[i]);
    if (!missing)
        return envp;
    for (i = 0; i < ncarry && n + 1 < cap; i++)
        if (!env_has(envp, carry[i]))
            buf[n++] = carry[i];
    /* A program's own LD_PRELOAD without us is replaced: ours first, as valgrind does. */
    for (; envp && *envp && n + 1 < cap; envp++)
        if (strncmp(*envp, "LD_PRELOAD=", 11) != 0 || strstr(*envp, self_path))
            buf[n++] = *envp;
    buf[n] = NULL;
    return buf;
}

/* ---- the main program's path -------------------------------------------------------------- */
static char exe[4096];

const char *mw__leak_exe(void)
{
    return exe;
}

/* ---- the freed-block queue ---------------------------------------------------------------- */
/* memcheck's --freelist-vol: given by memwalk in MEMWALK_LAUNCH (",vol:N"), else by hand in
 * MEMWALK_FREELIST_VOL, else memcheck's default. */
#define FREELIST_DEFAULT 20000000u

static uint64_t freelist_vol(void)
{
    const char *l = mw__leak_env("MEMWALK_LAUNCH"), *v = l ? strstr(l, ",vol:") : NULL;
    uint64_t vol = FREELIST_DEFAULT;
    char num[32];
    size_t n = 0;

    if (v) {
        for (v += 5; *v >= '0' && *v <= '9' && n < sizeof num - 1; v++)
            num[n++] = *v;
        num[n] = '\0';
        if (mw__parse_size(num, &vol) < 0)
            vol = FREELIST_DEFAULT;
        return vol;
    }
    v = mw__leak_env("MEMWALK_FREELIST_VOL");
    if (v && mw__parse_size(v, &vol) < 0) {
        mw__leak_log2("MEMWALK_FREELIST_VOL is not a size, ignored: ", v);
        vol = FREELIST_DEFAULT;
    }
    return vol;
}

/* Whether freed blocks are held back from the allocator, as memcheck does (no by default: it
 * costs time, see freelist.c): memwalk's ",hold:yes", else MEMWALK_FREELIST_HOLD=yes by hand. */
static int freelist_hold(void)
{
    const char *l = mw__leak_env("MEMWALK_LAUNCH"), *v = l ? strstr(l, ",hold:") : NULL;

    if (v)
        return v[6] == 'y';
    v = mw__leak_env("MEMWALK_FREELIST_HOLD");
    return v && (v[0] == 'y' || v[0] == '1');
}

/* ---- start -------------------------------------------------------------------------------- */
void mw__leak_install(void)
{
    const char *v;
    ssize_t k;

    mw__leak_pid = getpid();
    k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = '\0';
    mw__leak_num_callers =
        parse_int(mw__leak_env("MEMWALK_NUM_CALLERS"), 1, MW__LEAK_MAX_CALLERS, 12);
    mw__freelist_init(freelist_vol(), freelist_hold());
    v = mw__leak_env("MEMWALK_TRACE_CHILDREN");
    mw__leak_trace_children = v && (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0);
    parse_launch();
    if (launch && launch[0] == '1' && !mw__leak_trace_children) {
        /* A program executed by the traced one, LD_PRELOAD kept by its environment. */
        __atomic_store_n(&mw__leak_state, MW__PASSIVE, __ATOMIC_RELEASE);
        return;
    }
    mw__prof_init(mw__blocks_next_seq()); /* if the environment was not readable at start */
    if (launch)
        launch[0] = '1'; /* in place: programs this one executes see they were exec'd */
    find_self_path();
    mw__sys_log_init();
    mw__wire_open(launch_fd);
    mw__fds_init();
    if (!mw__leak_trace_children)
        drop_from_ld_preload();
    else
        save_carried();
    mw__exit_install();
    mw__fork_install();
    mw__signals_install();
    mw__wire_hello(0);
}

/* The constructor: the tables, then options that need the environment, exit handling. */
__attribute__((constructor)) static void leak_init(void)
{
    struct mw__leak_thread *self = mw__leak_me();

    self->busy++;
    if (mw__leak_state == MW__OFF)
        mw__leak_start();
    mw__threads_init();
    mw__leak_own_init();
    mw__errors_init_name();
    mw__gate_fence = mw__sys_barrier_init() < 0;
    self->busy--;
    if (mw__leak_state == MW__ON)
        mw__leak_install();
}
