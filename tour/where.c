/* Tour section "where": where globals, statics, literals, code, locals, heap blocks and
 * thread-local variables really live, each shown with its MW_SHOW line. */
#include "tour/tour.h"

#include <memwalk/show.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
static void show_line(struct tour *t, const char *label, uintptr_t addr, mw_show_info_t *info)
{
    char line[512];
    int n = mw_show_format(label, (const void *)addr, line, sizeof line);

    if (n > 96 && info->path[0]) {
        char *p = strstr(line, info->path);
        const char *base = strrchr(info->path, '/');
        if (p && base)
            snprintf(p, sizeof line - (size_t)(p - line), ".../%s", base + 1);
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

static int run(struct tour *t)
{
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

    tour_line(t, "Each line is MW_SHOW's: label, address in hex and decimal, region kind, ELF "
                 "section, mapping.");
    tour_json_array(t, "items");
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
            tour_line(t, "  %s: 0x%lx %lu %s%s%s   (seen while the thread ran)", it->label,
                      (unsigned long)it->addr, (unsigned long)it->addr, kinds[i],
                      info.section[0] ? " " : "", info.section);
        } else {
            show_line(t, it->label, it->addr, &info);
        }
        total++;
        matched += kind_in(kinds[i], it->expect);
        tour_json_open(t, NULL);
        tour_json_str(t, "label", it->label);
        tour_json_str(t, "what", it->what);
        tour_json_uint(t, "address", it->addr);
        tour_json_str(t, "kind", kinds[i]);
        tour_json_str(t, "section", r == 0 ? info.section : "");
        tour_json_str(t, "path", r == 0 ? info.path : "");
        tour_json_str(t, "expected_kind", it->expect[0]);
        tour_json_close(t);
    }
    tour_json_close(t);
    tour_json_int(t, "matched", matched);
    tour_json_int(t, "total", total);

    /* Conclusions from the kinds just observed (indices follow items[]). */
    if (strcmp(kinds[0], "data") == 0 && strcmp(kinds[1], "bss") == 0)
        tour_conclude(t, true,
                      "A global with a value is stored in the executable's .data; a zeroed one "
                      "goes to .bss, which the file does not store: the loader maps zero pages.");
    else
        tour_conclude(t, false, "The globals were found in %s (with a value) and %s (zeroed).",
                      kinds[0], kinds[1]);
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
                      "malloc(16) came from the [heap] that brk grows; malloc(1 MiB) is past "
                      "glibc's mmap threshold and got its own anonymous mapping, returned to the "
                      "system by free.");
    else
        tour_conclude(t, false,
                      "malloc(16) came from %s and malloc(1 MiB) from %s: this allocator does "
                      "not split small and large blocks between brk and mmap the way glibc does.",
                      kinds[8], kinds[9]);
    if (strcmp(kinds[11], "thread-stack") == 0)
        tour_conclude(t, true,
                      "A second thread runs on its own stack (thread-stack), a mapping made by "
                      "pthread_create; its copy of a __thread variable lies in %s, at the top of "
                      "that mapping, while the main thread's copy is in %s memory the loader set "
                      "up.",
                      kinds[12], kinds[10]);
    else
        tour_conclude(t, false, "The second thread's local was found in %s.", kinds[11]);
    tour_conclude(t, matched == total, "%d of %d things live where the textbook says.", matched,
                  total);
    free(small);
    free(large);
    return 0;
}

const struct tour_section mw_tour_where = {"where", "Where things live", run};
