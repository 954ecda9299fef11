/* Tour section "where": where globals, statics, literals, code, locals, heap blocks and
 * thread-local variables really live, each shown with its MW_SHOW line. */
#include "tour/tour.h"

#include <elf.h>
#include <fcntl.h>
#include <memwalk/maps.h>
#include <memwalk/show.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"

#define LARGE_BLOCK (1u << 20)

int mw_tour_global_value = 12;          /* a global with a value */
int mw_tour_global_zero;                /* a zeroed global */
static __thread int thread_counter = 3; /* one copy per thread */

struct item {
    const char *label;
    const char *what;
    uintptr_t addr;
    const char *expect[3]; /* acceptable kinds, the textbook's answer first */
};

/* The kind words an item may have, to compare with what was observed. */
static bool kind_in(const char *kind, const char *const expect[3])
{
    for (int i = 0; i < 3 && expect[i]; i++)
        if (strcmp(kind, expect[i]) == 0)
            return true;
    return false;
}

/* Prints the MW_SHOW line; a long path is shortened to its last component so the line fits. */
static void show_line(struct tour *t, const char *label, uintptr_t addr)
{
    char line[512];
    int n = mw_show_format(label, (const void *)addr, line, sizeof line);

    /* A long path (the mapping's, or the object whose .bss runs on past its file) keeps only its
     * last name: the line must fit the tour's width. */
    char *p = n > tour_width(t) - 2 ? strstr(line, " /") : NULL;
    if (p) {
        char base[256];
        snprintf(base, sizeof base, "%s", strrchr(p, '/') + 1);
        snprintf(p, sizeof line - (size_t)(p - line), " .../%s", base);
    }
    tour_line(t, "  %s", line);
}

__attribute__((noinline)) static void inner_call(uintptr_t *out)
{
    int inner_local = 2;
    *out = address_of(&inner_local);
    __asm__ volatile("" : : "r"(&inner_local) : "memory");
}

__attribute__((noinline)) static void outer_call(uintptr_t out[2])
{
    int outer_local = 1;
    out[0] = address_of(&outer_local);
    inner_call(&out[1]);
    __asm__ volatile("" : : "r"(&outer_local) : "memory");
}

struct thread_result {
    uintptr_t local;
    uintptr_t counter;
    mw_show_info_t local_info, counter_info;
    int r1, r2;
};

/* Runs in a second thread: describes one of its locals and its copy of thread_counter while the
 * thread (and so its stack) still exists. */
static void *second_thread(void *arg)
{
    struct thread_result *r = arg;
    int local = 7;

    thread_counter++;
    r->local = (uintptr_t)&local;
    r->counter = (uintptr_t)&thread_counter;
    r->r1 = mw_show_describe(&local, &r->local_info);
    r->r2 = mw_show_describe(&thread_counter, &r->counter_info);
    __asm__ volatile("" : : "r"(&local) : "memory");
    return NULL;
}

/* What the executable's section headers say of .data and .bss: their sizes, and whether .bss
 * takes room in the file (it is SHT_NOBITS when it does not). 0, or -1 when unreadable. */
struct sections {
    uint64_t data_size, bss_size;
    bool bss_nobits;
};

static int read_sections(struct sections *out)
{
    Elf64_Ehdr eh;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), r = -1;

    memset(out, 0, sizeof *out);
    if (fd < 0)
        return -1;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 && eh.e_shnum < 4096 &&
        eh.e_shstrndx < eh.e_shnum) {
        Elf64_Shdr *sh = calloc(eh.e_shnum, sizeof *sh);
        if (sh && pread(fd, sh, eh.e_shnum * sizeof *sh, (off_t)eh.e_shoff) ==
                      (ssize_t)(eh.e_shnum * sizeof *sh)) {
            const Elf64_Shdr *strs = &sh[eh.e_shstrndx];
            for (int i = 0; i < eh.e_shnum; i++) {
                char name[16] = "";
                if (pread(fd, name, sizeof name - 1, (off_t)(strs->sh_offset + sh[i].sh_name)) <= 0)
                    continue;
                if (strcmp(name, ".data") == 0)
                    out->data_size = sh[i].sh_size;
                else if (strcmp(name, ".bss") == 0) {
                    out->bss_size = sh[i].sh_size;
                    out->bss_nobits = sh[i].sh_type == SHT_NOBITS;
                    r = 0;
                }
            }
        }
        free(sh);
    }
    close(fd);
    return r;
}

static void skipped_line(struct tour *t, size_t regions, size_t files, uint64_t kb)
{
    char size[32], what[64] = "";

    if (files)
        snprintf(what, sizeof what, ", of %zu other file%s", files, files == 1 ? "" : "s");
    tour_line(t, "  %-25s %8s  (%zu more region%s%s)", "...",
              mw__format_bytes(kb << 10, size, sizeof size), regions, regions == 1 ? "" : "s",
              what);
}

/* Whether word is one of the comma-separated words of list. */
static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* A short `memwalk maps` of this process: the regions that hold what the section showed (the
 * program, heap, stacks, the big block), one line per object file or mapping, and the others
 * counted on one line where they are. */
static void short_map(struct tour *t, const uintptr_t *addrs, size_t naddrs)
{
    mw_maps_t m;
    size_t i = 0, skipped = 0, skipped_files = 0;
    uint64_t skipped_kb = 0;
    const char *last_file = NULL, *exe_path = NULL;
    char size[32];

    if (mw_maps_read(0, 0, &m) < 0)
        return;
    if (m.count)
        exe_path = m.regions[0].path; /* a PIE or not, the program is mapped first */
    tour_sub(t, "The map of this process (memwalk maps, shortened)");
    tour_line(t, "  %-25s %8s  %-20s %s", "address range", "size", "kinds", "mapping");
    while (i < m.count) {
        const mw_region_t *r = &m.regions[i];
        size_t j = i + 1;
        /* One object file's consecutive regions make one line. */
        while (r->path[0] == '/' && j < m.count && strcmp(m.regions[j].path, r->path) == 0)
            j++;
        bool keep = strcmp(r->path, "[heap]") == 0 || strcmp(r->path, "[stack]") == 0 ||
                    (exe_path && strcmp(r->path, exe_path) == 0);
        for (size_t a = 0; a < naddrs && !keep; a++)
            keep = addrs[a] >= r->start && addrs[a] < m.regions[j - 1].end;
        uint64_t kb = 0;
        for (size_t k = i; k < j; k++)
            kb += (m.regions[k].end - m.regions[k].start) >> 10;
        if (!keep) {
            skipped += j - i;
            skipped_kb += kb;
            if (r->path[0] == '/' && (!last_file || strcmp(last_file, r->path) != 0))
                skipped_files++;
            if (r->path[0] == '/')
                last_file = r->path;
            i = j;
            continue;
        }
        if (skipped) {
            skipped_line(t, skipped, skipped_files, skipped_kb);
            skipped = skipped_files = 0;
            skipped_kb = 0;
        }
        char kinds[64] = "", range[40];
        for (size_t k = i; k < j; k++) {
            const char *w = mw_region_kind_name(m.regions[k].kind);
            if (!has_word(kinds, w) && strlen(kinds) + strlen(w) + 2 < sizeof kinds)
                snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s",
                         kinds[0] ? "," : "", w);
        }
        const char *base = strrchr(r->path, '/');
        snprintf(range, sizeof range, "%lx-%lx", (unsigned long)r->start,
                 (unsigned long)m.regions[j - 1].end);
        tour_line(t, "  %-25s %8s  %-20.20s %.20s", range,
                  mw__format_bytes(kb << 10, size, sizeof size), kinds,
                  base         ? base + 1
                  : r->path[0] ? r->path
                               : "[anon]");
        i = j;
    }
    if (skipped)
        skipped_line(t, skipped, skipped_files, skipped_kb);
    mw__json_int(tour_json(t), "regions", (long long)m.count);
    if (tour_html(t)) {
        char *svg = NULL;
        if (mw_maps_svg(&m, &svg) == 0)
            tour_figure(t, "maps",
                        "The whole address space of the tour's process, drawn by memwalk maps "
                        "--svg: high addresses on top, huge gaps cut short.",
                        svg);
        free(svg);
    }
    mw_maps_free(&m);
}

static int run(struct tour *t)
{
    mw__json_t *json = tour_json(t);
    static int static_local = 5; /* a static local: lives as long as a global */
    static const char literal[] = "Hello";
    const char *string_literal = "World";
    uintptr_t frames[2];
    void *small = malloc(16), *large = malloc(LARGE_BLOCK);
    struct thread_result tr;
    pthread_t th;
    int matched = 0, total = 0, i;
    static mw_show_info_t info; /* large (a path buffer): keep it off the stack */

    outer_call(frames);
    memset(&tr, 0, sizeof tr);
    if (pthread_create(&th, NULL, second_thread, &tr) == 0)
        pthread_join(th, NULL);
    if (small)
        memset(small, 1, 16);

    struct item items[] = {
        {"global_value", "int global_value = 12;", (uintptr_t)&mw_tour_global_value, {"data"}},
        {"global_zero", "int global_zero;", (uintptr_t)&mw_tour_global_zero, {"bss"}},
        {"static_local", "static int static_local = 5;", (uintptr_t)&static_local, {"data"}},
        {"\"World\"", "a string literal", (uintptr_t)string_literal, {"rodata"}},
        {"literal[]", "static const char literal[]", (uintptr_t)literal, {"rodata"}},
        {"run", "this function's code", (uintptr_t)&run, {"text"}},
        {"outer_local", "a local of outer_call()", frames[0], {"stack"}},
        {"inner_local", "a local of inner_call()", frames[1], {"stack"}},
        {"malloc(16)", "a small heap block", (uintptr_t)small, {"heap", "anon"}},
        {"malloc(1 MiB)", "a large heap block", (uintptr_t)large, {"anon", "heap"}},
        {"thread_counter",
         "__thread int, main thread's copy",
         (uintptr_t)&thread_counter,
         {"anon", "data", "bss"}},
        {"thread's local", "a local in a second thread", tr.local, {"thread-stack"}},
        {"thread_counter'", "__thread int, second thread's copy", tr.counter, {"thread-stack"}},
    };
    const char *kinds[MW__ARRAY_LEN(items)] = {NULL};

    tour_text(t, "Each line is MW_SHOW's: label, address in hex and decimal, region kind, ELF "
                 "section, mapping.");
    mw__json_array(json, "items");
    for (i = 0; i < (int)MW__ARRAY_LEN(items); i++) {
        struct item *it = &items[i];
        bool from_thread = it->addr == tr.local || it->addr == tr.counter;
        int r;

        if (!it->addr) {
            kinds[i] = "unavailable";
            continue;
        }
        if (from_thread) {
            /* The thread has exited: use what it described while alive. */
            r = it->addr == tr.local ? tr.r1 : tr.r2;
            info = it->addr == tr.local ? tr.local_info : tr.counter_info;
        } else {
            r = mw_show_describe((const void *)it->addr, &info);
        }
        kinds[i] = r == 0 ? info.kind : "unmapped";
        if (from_thread) {
            tour_line(t, "  %s: 0x%lx %lu %s%s%s (while it ran)", it->label,
                      (unsigned long)it->addr, (unsigned long)it->addr, kinds[i],
                      info.section[0] ? " " : "", info.section);
        } else {
            show_line(t, it->label, it->addr);
        }
        total++;
        matched += kind_in(kinds[i], it->expect);
        mw__json_object(json, NULL);
        mw__json_str(json, "label", it->label);
        mw__json_str(json, "what", it->what);
        mw__json_uint(json, "address", it->addr);
        mw__json_str(json, "kind", kinds[i]);
        mw__json_str(json, "section", r == 0 ? info.section : "");
        mw__json_str(json, "path", r == 0 ? info.path : "");
        mw__json_str(json, "expected_kind", it->expect[0]);
        mw__json_end(json);
    }
    mw__json_end(json);
    mw__json_int(json, "matched", matched);
    mw__json_int(json, "total", total);

    /* The big block's fate: freed, is its mapping gone from the process? */
    size_t mapped_before = mw__lab_mmapped_blocks();
    free(large);
    bool unmapped = mw__lab_mmapped_blocks() < mapped_before;
    if (unmapped && mw_show_describe((const void *)items[9].addr, &info) == 0)
        unmapped = false;
    mw__json_bool(json, "large_unmapped_by_free", unmapped);
    {
        uintptr_t addrs[MW__ARRAY_LEN(items)];
        for (i = 0; i < (int)MW__ARRAY_LEN(items); i++)
            addrs[i] = items[i].addr;
        short_map(t, addrs, MW__ARRAY_LEN(items));
    }
    tour_gap(t);

    /* Conclusions from the kinds just observed (indices follow items[]). */
    struct sections sec;
    bool have_sec = read_sections(&sec) == 0;
    mw_show_describe(&mw_tour_global_zero, &info);
    bool zero_anon = info.path[0] == '\0';
    mw__json_bool(json, "bss_nobits", have_sec && sec.bss_nobits);
    mw__json_uint(json, "bss_bytes", have_sec ? sec.bss_size : 0);
    mw__json_bool(json, "bss_page_anonymous", zero_anon);
    if (strcmp(kinds[0], "data") == 0 && strcmp(kinds[1], "bss") == 0 && have_sec && sec.bss_nobits)
        tour_conclude(t, true,
                      "A global with a value is in .data, stored in the executable (%llu bytes "
                      "of .data); a zeroed one is in .bss, which takes no room in the file "
                      "(SHT_NOBITS, %llu bytes at run time). global_zero's page is %s.",
                      (unsigned long long)sec.data_size, (unsigned long long)sec.bss_size,
                      zero_anon ? "anonymous memory, which the kernel hands out zeroed"
                                : "the file's last data page, whose tail the loader zeroed");
    else
        tour_conclude(t, false, "The globals were found in %s (with a value) and %s (zeroed)%s.",
                      kinds[0], kinds[1],
                      have_sec && !sec.bss_nobits ? "; .bss is stored in the file" : "");
    if (strcmp(kinds[2], kinds[0]) == 0)
        tour_conclude(t, true,
                      "A static local lives beside the globals (%s), not on the stack: only its "
                      "name is local.",
                      kinds[2]);
    else
        tour_conclude(t, false, "The static local is in %s, the global in %s.", kinds[2], kinds[0]);
    if (strcmp(kinds[6], "stack") == 0 && strcmp(kinds[7], "stack") == 0)
        tour_conclude(t, true,
                      "Locals live on the stack, the inner call's %ld bytes below the outer "
                      "one's.",
                      (long)(frames[0] - frames[1]));
    else
        tour_conclude(t, false, "The locals were found in %s and %s.", kinds[6], kinds[7]);
    if (strcmp(kinds[8], "heap") == 0 && strcmp(kinds[9], "anon") == 0)
        tour_conclude(t, true,
                      "malloc(16) came from the [heap] that brk grows; malloc(1 MiB) got an "
                      "anonymous mapping of its own (glibc counted one more mapped block)%s.",
                      unmapped ? ", and free gave it back to the system: the address is unmapped "
                                 "now"
                               : ", which free did not unmap");
    else
        tour_conclude(t, false,
                      "malloc(16) came from %s and malloc(1 MiB) from %s: this allocator does "
                      "not split small and large blocks between brk and mmap the way glibc does.",
                      kinds[8], kinds[9]);
    if (strcmp(kinds[11], "thread-stack") == 0)
        tour_conclude(t, true,
                      "A second thread runs on a stack of its own (thread-stack), not the "
                      "main [stack]; its copy of a __thread variable lies in %s memory, the "
                      "main thread's copy in %s memory.",
                      kinds[12], kinds[10]);
    else
        tour_conclude(t, false, "The second thread's local was found in %s.", kinds[11]);
    tour_conclude(t, matched == total, "%d of %d things live where the textbook says.", matched,
                  total);
    tour_background(t, "The loader maps each object file's segments and zero-fills .bss; "
                       "pthread_create maps each thread's stack and puts its thread-local "
                       "storage at the top of that mapping.");
    free(small);
    return 0;
}

const struct tour_section mw_tour_where = {"where", "Where things live", run};
