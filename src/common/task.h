/* The threads of a process from /proc/PID/task: allocation-free and without stdio, so that the
 * leak tracer's preload (which stops the world with them) and `memwalk maps` (which finds thread
 * stacks with them) read them the same way. */
#ifndef MEMWALK_COMMON_TASK_H
#define MEMWALK_COMMON_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads /proc/PID/task/TID/leaf (pid 0: this process) into buf, NUL-terminated; returns the
 * length, or -1 when it cannot be read. */
ssize_t mw__task_read(pid_t pid, pid_t tid, const char *leaf, char *buf, size_t len);

/* What a thread's syscall file says (see proc(5)). */
enum {
    MW__TASK_RUNNING = 0, /* on a CPU ("running"), or unreadable: no stack pointer */
    MW__TASK_SYSCALL = 1, /* in a system call: "nr args... sp pc" */
    MW__TASK_BLOCKED = 2, /* blocked outside one: "-1 sp pc" */
};
/* Returns MW__TASK_*; *sp gets the stack pointer (0 with MW__TASK_RUNNING). */
int mw__task_sp(pid_t pid, pid_t tid, uintptr_t *sp);

/* Calls fn(ctx, tid) for each thread of pid (0: this process) until fn returns nonzero; returns
 * how many were listed, or -errno when the directory cannot be read. */
long mw__task_each(pid_t pid, int (*fn)(void *ctx, pid_t tid), void *ctx);

#endif
