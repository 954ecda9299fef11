/* Tests for the /proc/PID/task reader shared by the preload and `memwalk maps`. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/task.h"

static int count_tid(void *ctx, pid_t tid)
{
    pid_t *want = ctx;

    if (tid == want[0])
        want[1] = 1;
    return 0;
}

static int stop_at_first(void *ctx, pid_t tid)
{
    (void)tid;
    ++*(int *)ctx;
    return 1;
}

static int blocker[2];
static volatile uintptr_t blocked_local;
static volatile pid_t blocked_tid;

static void *block_in_read(void *arg)
{
    char c;
    volatile int here = 0;

    (void)arg;
    blocked_local = (uintptr_t)&here;
    blocked_tid = (pid_t)syscall(SYS_gettid);
    (void)read(blocker[0], &c, 1);
    return NULL;
}

Test(common_task, lists_every_thread_and_reads_a_blocked_ones_stack_pointer)
{
    pthread_t t;
    pid_t want[2] = {0, 0};
    uintptr_t sp = 0;
    int calls = 0, kind = MW__TASK_RUNNING, i;

    cr_assert_eq(pipe(blocker), 0);
    cr_assert_eq(pthread_create(&t, NULL, block_in_read, NULL), 0);
    while (!blocked_tid)
        usleep(1000);
    want[0] = blocked_tid;
    cr_assert_geq(mw__task_each(0, count_tid, want), 2);
    cr_assert_eq(want[1], 1, "the second thread is listed");
    cr_assert_eq(mw__task_each(getpid(), stop_at_first, &calls), 1, "fn stops the walk");
    cr_assert_eq(calls, 1);
    for (i = 0; i < 200 && kind != MW__TASK_SYSCALL; i++) {
        kind = mw__task_sp(0, blocked_tid, &sp);
        usleep(1000);
    }
    cr_assert_eq(kind, MW__TASK_SYSCALL);
    /* Its stack pointer is below its local variable, within a few pages. */
    cr_assert(sp < blocked_local && blocked_local - sp < 64 * 1024, "sp %#lx, local %#lx",
              (unsigned long)sp, (unsigned long)blocked_local);
    cr_assert_eq(write(blocker[1], "x", 1), 1);
    pthread_join(t, NULL);
}

Test(common_task, reads_a_threads_files_and_refuses_what_is_not_there)
{
    char buf[256];
    uintptr_t sp = 1;

    cr_assert_gt(mw__task_read(0, getpid(), "stat", buf, sizeof buf), 0);
    cr_assert(strchr(buf, ')'), "%s", buf);
    cr_assert_eq(mw__task_read(0, getpid(), "no-such-file", buf, sizeof buf), -1);
    cr_assert_eq(mw__task_sp(0, 0x7ffffff0, &sp), MW__TASK_RUNNING);
    cr_assert_eq(sp, 0);
    cr_assert_lt(mw__task_each(0x7ffffff0, stop_at_first, &(int){0}), 0);
}
