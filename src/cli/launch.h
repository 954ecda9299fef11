/* Running a program with the preloaded tracer (libmemwalk-leak.so) and receiving what each traced
 * process sends: shared by `memwalk leaks` and `memwalk heap`. */
#ifndef MEMWALK_CLI_LAUNCH_H
#define MEMWALK_CLI_LAUNCH_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "leak/record.h"

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

/* The header of the message at m (len bytes, a whole datagram or the rest of a file) into *h.
 * Returns 0, or -1 when it is not one of the tracer's messages or its payload runs past len. */
int mw_launch_header(const unsigned char *m, size_t len, mw__leak_msg_t *h);

/* pattern with each %p replaced by pid, cut to len bytes: the per-process file names of
 * --log-file, --massif-out-file and --svg. */
void mw_launch_path(const char *pattern, int pid, char *out, size_t len);

/* Says on f why process pid (PROGRAM, reaped with status) sent no what ("leak report",
 * "heap profile"): killed by a signal first, or it left the tracer behind. */
void mw_launch_unreported(FILE *f, int pid, int status, const char *prog, const char *what);

/* The record of process pid in a command's table of per-process records, each size bytes and
 * starting with its int pid: found, or appended zeroed. table is the address of the caller's
 * pointer to the records (realloc'd here), n their count. NULL when memory is short. */
void *mw_launch_proc(void *table, size_t *n, size_t size, int pid);

/* The exit status of memwalk for PROGRAM's wait status: its own, or 128+N when signal N killed
 * it. */
int mw_launch_status(int status);

#endif
