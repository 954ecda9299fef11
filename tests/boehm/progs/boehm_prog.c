/* A small program built against Boehm GC's own <gc.h> and linked with libgc.so.1, as Debian's
 * programs are: `memwalk gc-run` must take it over unmodified. It says which library serves its
 * GC_malloc, builds and checks a list across collections, and exits as asked.
 * usage: boehm_prog [list N] [exit STATUS] [kill] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    long value;
    char *text;
};

int main(int argc, char **argv)
{
    Dl_info info;
    int i;

    GC_INIT();
    if (dladdr((void *)GC_malloc, &info) && info.dli_fname)
        printf("collector: %s\n",
               strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname);
    for (i = 1; i + 1 < argc || (i < argc && !strcmp(argv[i], "kill")); i += 2) {
        if (!strcmp(argv[i], "list")) {
            long n = atol(argv[i + 1]), k = 0;
            struct node *head = NULL, *p;
            for (long j = 0; j < n; j++) {
                p = GC_NEW(struct node);
                p->value = j;
                p->text = GC_MALLOC_ATOMIC(32);
                snprintf(p->text, 32, "node %ld", j);
                p->next = head;
                head = p;
                GC_MALLOC(100); /* garbage */
            }
            GC_gcollect();
            for (p = head; p; p = p->next, k++) {
                char want[32];
                snprintf(want, sizeof want, "node %ld", n - 1 - k);
                if (p->value != n - 1 - k || strcmp(p->text, want)) {
                    printf("list broken at %ld\n", k);
                    return 3;
                }
            }
            printf("list ok: %ld nodes\n", k);
        } else if (!strcmp(argv[i], "exit")) {
            fflush(stdout);
            return atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "kill")) {
            fflush(stdout);
            raise(SIGTERM);
        }
    }
    return 0;
}
