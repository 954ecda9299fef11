/* Live tests: the maps of this process, a forked child, PIE / non-PIE / static programs, a thread,
 * a memfd, a deleted file, a path with spaces, CPython. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#include "live.h"
#include "memwalk/maps.h"

int live_bss_int;                  /* small: inside the last file-backed page */
int live_data_int = 42;            /* .data */
const char live_ro[] = "rodata";   /* .rodata */
static char live_big_bss[1 << 20]; /* goes on past the file, in anonymous pages */

static int kind_at(const mw_maps_t *m, const void *p)
{
    return mw_maps_kind_at(m, (uintptr_t)p);
}

static const char *section_at(const mw_maps_t *m, const void *p)
{
    const char *s = mw_maps_section_at(m, (uintptr_t)p);

    return s ? s : "(none)";
}

static mw_maps_t read_self(void)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_read(0, 0, &m), 0);
    return m;
}

Test(maps_self, small_global_is_bss_not_data)
{
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, &live_bss_int), MW_REGION_BSS);
    cr_assert_str_eq(section_at(&m, &live_bss_int), ".bss");
    mw_maps_free(&m);
}

Test(maps_self, initialised_global_is_data)
{
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, &live_data_int), MW_REGION_DATA);
    cr_assert_str_eq(section_at(&m, &live_data_int), ".data");
    mw_maps_free(&m);
}

Test(maps_self, const_array_is_rodata)
{
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, live_ro), MW_REGION_RODATA);
    cr_assert_str_eq(section_at(&m, live_ro), ".rodata");
    mw_maps_free(&m);
}

Test(maps_self, function_is_text)
{
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, (const void *)read_self), MW_REGION_TEXT);
    cr_assert_str_eq(section_at(&m, (const void *)read_self), ".text");
    cr_assert_eq(kind_at(&m, (const void *)strlen), MW_REGION_TEXT); /* in libc */
    mw_maps_free(&m);
}

Test(maps_self, local_is_stack)
{
    volatile int local = 1;
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, (const void *)&local), MW_REGION_STACK);
    mw_maps_free(&m);
}

Test(maps_self, small_malloc_is_heap_large_is_anon)
{
    char *small = malloc(32), *large = malloc(8 << 20);
    mw_maps_t m = read_self();

    cr_assert_eq(kind_at(&m, small), MW_REGION_HEAP);
    cr_assert_eq(kind_at(&m, large), MW_REGION_ANON);
    mw_maps_free(&m);
    free(small);
    free(large);
}

Test(maps_self, pid_of_self_reads_the_same)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_read(getpid(), 0, &m), 0);
    cr_assert_eq(m.pid, getpid());
    cr_assert_eq(kind_at(&m, &live_bss_int), MW_REGION_BSS);
    mw_maps_free(&m);
}

Test(maps_self, vdso_and_vvar_are_found)
{
    mw_maps_t m = read_self();
    size_t i;
    int vdso = 0, vvar = 0;

    for (i = 0; i < m.count; i++) {
        vdso += m.regions[i].kind == MW_REGION_VDSO;
        vvar += m.regions[i].kind == MW_REGION_VVAR;
        /* The vDSO is an ELF image in memory: its sections are known too. */
        if (m.regions[i].kind == MW_REGION_VDSO)
            cr_assert_str_eq(m.regions[i].section, ".text");
    }
    cr_assert_eq(vdso, 1);
    cr_assert_geq(vvar, 1);
    mw_maps_free(&m);
}

Test(maps_self, smaps_figures_are_read)
{
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_eq(mw_maps_read(0, MW_MAPS_SMAPS, &m), 0);
    r = mw_maps_find(&m, (uintptr_t)read_self);
    cr_assert_not_null(r);
    cr_assert(r->has_smaps);
    cr_assert_gt(r->rss_kb, 0);
    cr_assert_eq(r->size_kb, (r->end - r->start) / 1024);
    mw_maps_free(&m);
}

/* The object an address belongs to: its file mappings and the anonymous end of its .bss. */
Test(maps_self, object_at_names_the_owner_of_a_bss_tail)
{
    mw_maps_t m = read_self();
    const char *tail = mw_maps_object_at(&m, (uintptr_t)&live_big_bss[sizeof(live_big_bss) - 1]);
    const char *text = mw_maps_object_at(&m, (uintptr_t)read_self);
    char *heap = malloc(16);
    int local = 0;

    cr_assert_str_eq(mw_maps_find(&m, (uintptr_t)&live_big_bss[sizeof(live_big_bss) - 1])->path,
                     "");
    cr_assert_not_null(tail);
    cr_assert_not_null(text);
    cr_assert_str_eq(tail, text);
    cr_assert_not_null(strstr(text, "test_maps"), "%s", text);
    mw_maps_free(&m);
    m = read_self();
    cr_assert_null(mw_maps_object_at(&m, (uintptr_t)&local));
    cr_assert_null(mw_maps_object_at(&m, (uintptr_t)heap));
    cr_assert_null(mw_maps_object_at(&m, 0x10));
    mw_maps_free(&m);
    free(heap);
}

Test(maps_self, without_elf_headers_permissions_decide)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_read(0, MW_MAPS_NO_ELF, &m), 0);
    cr_assert_eq(kind_at(&m, (const void *)read_self), MW_REGION_TEXT);
    cr_assert_eq(kind_at(&m, live_ro), MW_REGION_RODATA);
    cr_assert_null(mw_maps_section_at(&m, (uintptr_t)live_ro));
    mw_maps_free(&m);
}

/* A thread and its guard page */

struct thread_box {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    volatile int *where;
    int done;
    pid_t tid;
};

static void *thread_main(void *arg)
{
    struct thread_box *b = arg;
    volatile int local = 5;

    pthread_mutex_lock(&b->lock);
    b->where = &local;
    b->tid = gettid();
    pthread_cond_broadcast(&b->cond);
    while (!b->done)
        pthread_cond_wait(&b->cond, &b->lock);
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

Test(maps_thread, thread_local_is_thread_stack_above_a_guard)
{
    struct thread_box b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};
    pthread_t t;
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_eq(pthread_create(&t, NULL, thread_main, &b), 0);
    pthread_mutex_lock(&b.lock);
    while (!b.where)
        pthread_cond_wait(&b.cond, &b.lock);
    pthread_mutex_unlock(&b.lock);
    cr_assert_eq(mw_maps_read(0, 0, &m), 0);
    r = mw_maps_find(&m, (uintptr_t)b.where);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_THREAD_STACK);
    /* 0 when the thread was on a CPU at each look and its guard page told its stack. */
    cr_assert(r->tid == b.tid || r->tid == 0, "tid %d, want %d", (int)r->tid, (int)b.tid);
    r = mw_maps_find(&m, r->start - 1);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_GUARD);
    mw_maps_free(&m);
    pthread_mutex_lock(&b.lock);
    b.done = 1;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.lock);
    pthread_join(t, NULL);
}

/* Special mappings */

Test(maps_special, memfd_is_shm_and_deleted)
{
    int fd = memfd_create("mw-test-memfd", 0);
    void *p;
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 4096), 0);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(p, MAP_FAILED);
    m = read_self();
    r = mw_maps_find(&m, (uintptr_t)p);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_SHM);
    cr_assert_str_eq(r->path, "/memfd:mw-test-memfd");
    cr_assert(r->deleted);
    mw_maps_free(&m);
    munmap(p, 4096);
    close(fd);
}

Test(maps_special, shared_anonymous_is_shm)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    mw_maps_t m;

    cr_assert_neq(p, MAP_FAILED);
    m = read_self();
    cr_assert_eq(kind_at(&m, p), MW_REGION_SHM);
    mw_maps_free(&m);
    munmap(p, 4096);
}

Test(maps_special, sysv_segment_is_shm)
{
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    void *p;
    mw_maps_t m;
    const mw_region_t *r;

    if (id < 0)
        cr_skip_test("no System V shared memory here");
    p = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    cr_assert_neq(p, (void *)-1);
    m = read_self();
    r = mw_maps_find(&m, (uintptr_t)p);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_SHM);
    cr_assert_eq(strncmp(r->path, "/SYSV", 5), 0, "%s", r->path);
    mw_maps_free(&m);
    shmdt(p);
}

static void *map_file(const char *path, int unlink_it)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    void *p;

    cr_assert_geq(fd, 0, "cannot create %s", path);
    cr_assert_eq(write(fd, "hello, file\n", 12), 12);
    p = mmap(NULL, 12, PROT_READ, MAP_PRIVATE, fd, 0);
    cr_assert_neq(p, MAP_FAILED);
    close(fd);
    if (unlink_it)
        unlink(path);
    return p;
}

Test(maps_special, deleted_file_keeps_path_and_flag)
{
    char path[] = "/tmp/mw-deleted-XXXXXX";
    int fd = mkstemp(path);
    void *p;
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_geq(fd, 0);
    close(fd);
    p = map_file(path, 1);
    m = read_self();
    r = mw_maps_find(&m, (uintptr_t)p);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_FILE);
    cr_assert_str_eq(r->path, path);
    cr_assert(r->deleted);
    mw_maps_free(&m);
    munmap(p, 12);
}

Test(maps_special, path_with_spaces_is_whole)
{
    char dir[] = "/tmp/mw dir XXXXXX", path[128];
    void *p;
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a file  with spaces", dir);
    p = map_file(path, 0);
    m = read_self();
    r = mw_maps_find(&m, (uintptr_t)p);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->path, path);
    cr_assert_eq(r->kind, MW_REGION_FILE);
    mw_maps_free(&m);
    munmap(p, 12);
    unlink(path);
    rmdir(dir);
}

Test(maps_special, named_anonymous_memory)
{
    void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_neq(p, MAP_FAILED);
    if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 8192, "mw-test") != 0) {
        munmap(p, 8192);
        cr_skip_test("kernel without CONFIG_ANON_VMA_NAME");
    }
    m = read_self();
    r = mw_maps_find(&m, (uintptr_t)p);
    cr_assert_not_null(r);
    cr_assert_eq(r->kind, MW_REGION_NAMED_ANON);
    cr_assert_str_eq(r->path, "[anon:mw-test]");
    mw_maps_free(&m);
    munmap(p, 8192);
}

/* Single lookups */

Test(maps_query, file_backed_address)
{
    mw_maps_t q;

    cr_assert_eq(mw_maps_query(0, (uintptr_t)&live_data_int, &q), 0);
    cr_assert_eq(q.count, 1);
    cr_assert_eq(mw_maps_kind_at(&q, (uintptr_t)&live_data_int), MW_REGION_DATA);
    cr_assert_str_eq(mw_maps_section_at(&q, (uintptr_t)&live_data_int), ".data");
    cr_assert_str_neq(q.regions[0].path, "");
    mw_maps_free(&q);
    /* In the last file-backed page or in the anonymous pages after it: bss either way. */
    cr_assert_eq(mw_maps_query(0, (uintptr_t)&live_bss_int, &q), 0);
    cr_assert_eq(mw_maps_kind_at(&q, (uintptr_t)&live_bss_int), MW_REGION_BSS);
    cr_assert_str_eq(mw_maps_section_at(&q, (uintptr_t)&live_bss_int), ".bss");
    mw_maps_free(&q);
}

Test(maps_query, agrees_with_the_full_read)
{
    mw_maps_t q, m = read_self();
    const void *addrs[] = {read_self, live_ro, &live_data_int, strlen};
    size_t i;

    for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        const mw_region_t *r = mw_maps_find(&m, (uintptr_t)addrs[i]);
        cr_assert_eq(mw_maps_query(0, (uintptr_t)addrs[i], &q), 0);
        cr_assert_eq(q.regions[0].start, r->start);
        cr_assert_eq(q.regions[0].end, r->end);
        cr_assert_eq(q.regions[0].kind, r->kind, "address %zu: %s vs %s", i,
                     mw_region_kind_name(q.regions[0].kind), mw_region_kind_name(r->kind));
        cr_assert_str_eq(q.regions[0].path, r->path);
        mw_maps_free(&q);
    }
    mw_maps_free(&m);
}

Test(maps_query, heap_and_stack_addresses)
{
    volatile int local = 0;
    char *small = malloc(16);
    mw_maps_t q;

    cr_assert_eq(mw_maps_query(0, (uintptr_t)small, &q), 0);
    cr_assert_eq(q.regions[0].kind, MW_REGION_HEAP);
    mw_maps_free(&q);
    cr_assert_eq(mw_maps_query(0, (uintptr_t)&local, &q), 0);
    cr_assert_eq(q.regions[0].kind, MW_REGION_STACK);
    mw_maps_free(&q);
    free(small);
}

Test(maps_query, unmapped_address_is_enoent)
{
    mw_maps_t q;

    cr_assert_eq(mw_maps_query(0, 0x1000, &q), -ENOENT);
}

Test(maps_query, vsyscall_page_comes_from_the_text)
{
    mw_maps_t m = read_self(), q;
    const mw_region_t *v = mw_maps_find(&m, 0xffffffffff600000ull);

    if (!v) {
        mw_maps_free(&m);
        cr_skip_test("no [vsyscall] page on this kernel");
    }
    cr_assert_eq(mw_maps_query(0, 0xffffffffff600000ull, &q), 0);
    cr_assert_eq(q.regions[0].kind, MW_REGION_VSYSCALL);
    mw_maps_free(&q);
    mw_maps_free(&m);
}

/* Other processes */

Test(maps_other, missing_process_is_esrch)
{
    mw_maps_t m;

    cr_assert_eq(mw_maps_read(0x3fffffff, 0, &m), -ESRCH);
    cr_assert_eq(mw_maps_query(0x3fffffff, 0x1000, &m), -ESRCH);
}

Test(maps_other, zombie_is_esrch)
{
    pid_t pid = fork();
    mw_maps_t m;
    char path[64];

    if (pid == 0)
        _exit(0);
    /* Wait until it is a zombie, without reaping it. */
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    for (int i = 0; i < 500; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
            break;
        usleep(2000);
    }
    cr_assert_eq(mw_maps_read(pid, 0, &m), -ESRCH);
    waitpid(pid, NULL, 0);
}

Test(maps_other, forked_child_has_our_layout)
{
    int fds[2];
    pid_t pid;
    mw_maps_t m;
    char c;

    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        close(fds[1]);
        while (read(fds[0], &c, 1) > 0)
            ;
        _exit(0);
    }
    close(fds[0]);
    cr_assert_eq(mw_maps_read(pid, 0, &m), 0);
    cr_assert_eq(m.pid, pid);
    cr_assert_eq(kind_at(&m, &live_bss_int), MW_REGION_BSS);
    cr_assert_eq(kind_at(&m, &live_data_int), MW_REGION_DATA);
    cr_assert_str_eq(section_at(&m, &live_bss_int), ".bss");
    mw_maps_free(&m);
    close(fds[1]);
    waitpid(pid, NULL, 0);
}

static void check_target(const char *helper, int pie)
{
    char *argv[] = {(char *)helper, NULL};
    struct child c;
    mw_maps_t m;
    const mw_region_t *r;

    cr_assert_eq(child_start(&c, argv), 0, "cannot run %s", helper);
    cr_assert_eq(mw_maps_read(c.pid, 0, &m), 0);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "bss")), MW_REGION_BSS, "%s: %s", helper,
                 c.line);
    cr_assert_str_eq(section_at(&m, (void *)field(c.line, "bss")), ".bss");
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "data")), MW_REGION_DATA);
    cr_assert_str_eq(section_at(&m, (void *)field(c.line, "data")), ".data");
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "ro")), MW_REGION_RODATA);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "text")), MW_REGION_TEXT);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "heap")), MW_REGION_HEAP);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "stack")), MW_REGION_STACK);
    r = mw_maps_find(&m, field(c.line, "text"));
    cr_assert_eq(pie, r->start >= 0x10000000, "%s mapped at %lx", helper, (unsigned long)r->start);
    mw_maps_free(&m);
    child_stop(&c);
}

/* The helper's small g_bss shares the last file-backed page with .data: that region's section
 * names the main section of each part, and its kind is the part with more bytes. */
static void check_shared_page(const char *helper)
{
    char *argv[] = {(char *)helper, NULL};
    const mw_region_t *r;
    struct child c;
    const char *plus;
    mw_maps_t m;

    cr_assert_eq(child_start(&c, argv), 0, "cannot run %s", helper);
    cr_assert_eq(mw_maps_read(c.pid, 0, &m), 0);
    r = mw_maps_find(&m, field(c.line, "data"));
    cr_assert_not_null(r);
    cr_assert_eq(mw_maps_find(&m, field(c.line, "bss")), r, "%s: not one page", helper);
    cr_assert_not_null(r->section);
    plus = strchr(r->section, '+');
    cr_assert_not_null(plus, "%s: section %s", helper, r->section);
    cr_assert_str_eq(plus, "+.bss");
    cr_assert(r->kind == MW_REGION_DATA || r->kind == MW_REGION_BSS);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "data")), MW_REGION_DATA);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "bss")), MW_REGION_BSS);
    mw_maps_free(&m);
    child_stop(&c);
}

Test(maps_other, page_shared_by_data_and_bss)
{
    check_shared_page(HELPER("target-nopie"));
    check_shared_page(HELPER("target-pie"));
}

Test(maps_other, pie_program)
{
    check_target(HELPER("target-pie"), 1);
}

Test(maps_other, non_pie_program)
{
    check_target(HELPER("target-nopie"), 0);
}

Test(maps_other, static_program)
{
    check_target(HELPER("target-static"), 0);
}

/* A thread's first malloc opens an arena of its own in a 64 MiB reservation: the block is in
 * anon memory, the rest of the reservation right above it is reserved. */
Test(maps_other, malloc_arena_of_a_thread_is_anon_then_reserved)
{
    char *argv[] = {HELPER("target-pie"), "threads", NULL};
    const mw_region_t *r, *next;
    struct child c;
    uint64_t reserved = 0;
    mw_maps_t m;
    size_t i;

    cr_assert_eq(child_start(&c, argv), 0);
    cr_assert_eq(mw_maps_read(c.pid, 0, &m), 0);
    r = mw_maps_find(&m, field(c.line, "arena"));
    cr_assert_not_null(r, "%s", c.line);
    cr_assert_eq(r->kind, MW_REGION_ANON);
    next = r + 1;
    cr_assert(next < m.regions + m.count && next->start == r->end);
    cr_assert_str_eq(next->perms, "---p");
    cr_assert_eq(next->kind, MW_REGION_RESERVED, "%s", mw_region_kind_name(next->kind));
    for (i = 0; i < m.count; i++)
        if (m.regions[i].kind == MW_REGION_RESERVED)
            reserved += m.regions[i].end - m.regions[i].start;
    /* Two arenas: most of 2 x 64 MiB. */
    cr_assert_gt(reserved, 100ull << 20);
    mw_maps_free(&m);
    child_stop(&c);
}

/* A helper thread reading the text while it is parsed must give the same map. */
Test(maps_other, read_ahead_gives_the_same_map)
{
    char *argv[] = {HELPER("target-pie"), NULL};
    struct child c;
    mw_maps_t a, b;
    size_t i;

    cr_assert_eq(child_start(&c, argv), 0);
    cr_assert_eq(mw_maps_read(c.pid, MW_MAPS_SMAPS, &a), 0);
    cr_assert_eq(mw_maps_read(c.pid, MW_MAPS_SMAPS | MW_MAPS_READ_AHEAD | MW_MAPS_NO_FIELDS, &b),
                 0);
    cr_assert_eq(b.count, a.count);
    for (i = 0; i < a.count; i++) {
        cr_assert_eq(b.regions[i].start, a.regions[i].start);
        cr_assert_eq(b.regions[i].end, a.regions[i].end);
        cr_assert_str_eq(b.regions[i].path, a.regions[i].path);
        cr_assert_eq(b.regions[i].kind, a.regions[i].kind);
        cr_assert_eq(b.regions[i].size_kb, a.regions[i].size_kb);
        cr_assert_null(b.regions[i].fields);
    }
    mw_maps_free(&a);
    mw_maps_free(&b);
    child_stop(&c);
}

/* Our own map is read without a helper thread, whose stack would show in it. */
Test(maps_self, read_ahead_of_self_adds_no_thread_stack)
{
    mw_maps_t a, b;
    size_t i;

    cr_assert_eq(mw_maps_read(0, MW_MAPS_SMAPS, &a), 0);
    cr_assert_eq(mw_maps_read(0, MW_MAPS_SMAPS | MW_MAPS_READ_AHEAD, &b), 0);
    cr_assert_eq(b.count, a.count);
    for (i = 0; i < a.count; i++)
        cr_assert(b.regions[i].start == a.regions[i].start &&
                      b.regions[i].kind == a.regions[i].kind,
                  "region %zu: %lx %s, was %lx %s", i, (unsigned long)b.regions[i].start,
                  mw_region_kind_name(b.regions[i].kind), (unsigned long)a.regions[i].start,
                  mw_region_kind_name(a.regions[i].kind));
    mw_maps_free(&a);
    mw_maps_free(&b);
}

Test(maps_other, other_users_process_is_eacces)
{
    pid_t pid;
    int st;

    if (geteuid() != 0)
        cr_skip_test("needs root to become another user");
    pid = fork();
    if (pid == 0) {
        mw_maps_t m;
        if (setgid(65534) || setuid(65534))
            _exit(10);
        _exit(mw_maps_read(1, 0, &m) == -EACCES ? 0 : 11);
    }
    waitpid(pid, &st, 0);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), 0);
}

/* CPython: a small int lives in the interpreter's static data, a big one in pymalloc's arenas. */

static void check_python(const char *python)
{
    char *argv[] = {(char *)python, "-c",
                    "import sys; print('small=%#x big=%#x' % (id(1), id(10**20)), flush=True); "
                    "sys.stdin.read()",
                    NULL};
    struct child c;
    mw_maps_t m;
    const mw_region_t *r;
    int k;

    if (child_start(&c, argv) != 0) {
        child_stop(&c);
        cr_skip_test("%s cannot run", python);
    }
    cr_assert_eq(mw_maps_read(c.pid, 0, &m), 0);
    r = mw_maps_find(&m, field(c.line, "small"));
    cr_assert_not_null(r, "%s", c.line);
    k = kind_at(&m, (void *)field(c.line, "small"));
    cr_assert(k == MW_REGION_DATA || k == MW_REGION_BSS, "id(1) is %s in %s",
              mw_region_kind_name((enum mw_region_kind)k), r->path);
    cr_assert_not_null(strstr(r->path, "python"), "id(1) in %s", r->path);
    cr_assert_eq(kind_at(&m, (void *)field(c.line, "big")), MW_REGION_ANON);
    mw_maps_free(&m);
    child_stop(&c);
}

Test(maps_python, python3_on_path)
{
    if (run("command -v python3 >/dev/null 2>&1", (char[8]){0}, 8) != 0)
        cr_skip_test("python3 is missing");
    check_python("python3");
}

Test(maps_python, debian_python3)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        cr_skip_test("/usr/bin/python3 is missing");
    check_python("/usr/bin/python3");
}
