/* Running a program with the preloaded tracer (libmemwalk-leak.so) and receiving what each traced
 * process sends: shared by `memwalk leaks` and `memwalk heap`. */
#ifndef MEMWALK_CLI_LAUNCH_H
#define MEMWALK_CLI_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

struct mw_launch {
    const char *cmd;     /* the command's name, for error lines */
    const char *options; /* MEMWALK_LAUNCH after "0,FD,": "CALLERS,CHILDREN[,...]" */
    pid_t pid;           /* PROGRAM's process, once started */
    int sock;            /* memwalk's end of the record socket */
};

/* Resolves PROGRAM (argv[0]) as execvp would, checks that it can be traced and starts it with
 * the tracer preloaded. Returns 0, or an exit status after an error line on stderr: 127 not
 * found, 126 not executable or statically linked, MW_EXIT_FAILURE no tracer or no resources. */
int mw_launch_start(struct mw_launch *l, char **argv);

/* Hands every message the traced processes send to handle (a negative return: malformed, said
 * through bad when not NULL) until they have all exited, then reaps PROGRAM into *status.
 * Meanwhile ^C and ^\ are the program's (ignored here) and TERM and HUP are passed on to it.
 * Returns 0, or -ENOMEM. */
int mw_launch_collect(struct mw_launch *l,
                      int (*handle)(void *ctx, const unsigned char *msg, size_t len),
                      void (*bad)(void *ctx), void *ctx, int *status);

#endif
