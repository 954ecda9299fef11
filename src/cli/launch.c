/* Starting a program under the tracer (the preload and PROGRAM found by program.c, static
 * binaries refused there), the variables the tracer reads, and the loop that receives the traced
 * processes' messages until they have all exited. */
#include "cli/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *const tries[] = {"/libmemwalk-leak.so", "/../lib/memwalk/libmemwalk-leak.so"};
static const struct mw_cli_preload leak_lib = {
    "libmemwalk-leak.so",
    "MEMWALK_PRELOAD",
    tries,
    2,
    "next to memwalk or in ../lib/memwalk",
    "cannot trace a static binary (the tracer is preloaded into dynamically linked programs only)",
};

static pid_t child_pid;

static void forward_signal(int sig)
{
    if (child_pid > 0)
        kill(child_pid, sig);
}

/* In the child: the tracer's variables, then PROGRAM; exits 126/127 through errpipe when the
 * exec fails. */
__attribute__((noreturn)) static void exec_child(const struct mw_launch *l, const char *preload,
                                                 const char *prog, char **argv, int sock, int errfd)
{
    const char *old = getenv("LD_PRELOAD");
    /* Without close-on-exec, and high: the program's own descriptors keep the numbers they have
     * natively (the tracer moves it higher still, or closes it; --track-fds lists them). */
    struct rlimit rl;
    int fd = fcntl(sock, F_DUPFD,
                   getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256 &&
                           rl.rlim_cur < (1u << 20)
                       ? (int)rl.rlim_cur - 128
                       : 3),
        exec_err;
    char *lp, *launch = malloc(strlen(l->options) + 32);

    if (launch) {
        sprintf(launch, "0,%d,%s", fd, l->options);
        setenv("MEMWALK_LAUNCH", launch, 1);
    }
    unsetenv("MEMWALK_OUT");
    /* As valgrind does: libstdc++'s pool allocators use plain new, so their blocks show. */
    setenv("GLIBCXX_FORCE_NEW", "1", 1);
    setenv("GLIBCPP_FORCE_NEW", "1", 1);
    lp = malloc(strlen(preload) + (old ? strlen(old) : 0) + 2);
    if (lp) {
        sprintf(lp, "%s%s%s", preload, old && *old ? " " : "", old && *old ? old : "");
        setenv("LD_PRELOAD", lp, 1);
    }
    signal(SIGPIPE, SIG_DFL);
    execv(prog, argv);
    exec_err = errno;
    if (write(errfd, &exec_err, sizeof exec_err) < 0)
        _exit(127);
    _exit(exec_err == ENOENT ? 127 : 126);
}

int mw_launch_start(struct mw_launch *l, char **argv)
{
    char preload[PATH_MAX], prog[PATH_MAX];
    int sv[2], errpipe[2], r, status = 0, exec_err = 0;

    r = mw_cli_prepare_preload(l->cmd, &leak_lib, argv[0], preload, prog, sizeof prog);
    if (r)
        return r;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
        pipe2(errpipe, O_CLOEXEC) < 0) {
        mw_cli_error(l->cmd, "socketpair", "%s", strerror(errno));
        return MW_EXIT_FAILURE;
    }
    fflush(NULL);
    child_pid = fork();
    if (child_pid < 0) {
        mw_cli_error(l->cmd, "fork", "%s", strerror(errno));
        return MW_EXIT_FAILURE;
    }
    if (child_pid == 0) {
        close(sv[0]);
        exec_child(l, preload, prog, argv, sv[1], errpipe[1]);
    }
    close(sv[1]);
    close(errpipe[1]);
    if (read(errpipe[0], &exec_err, sizeof exec_err) == (ssize_t)sizeof exec_err) {
        close(errpipe[0]);
        close(sv[0]);
        waitpid(child_pid, &status, 0);
        mw_cli_error(l->cmd, argv[0], "cannot execute: %s", strerror(exec_err));
        return exec_err == ENOENT ? 127 : 126;
    }
    close(errpipe[0]);
    l->pid = child_pid;
    l->sock = sv[0];
    return 0;
}

int mw_launch_collect(struct mw_launch *l,
                      int (*handle)(void *ctx, const unsigned char *msg, size_t len),
                      void (*bad)(void *ctx), void *ctx, int *status)
{
    struct sigaction sa, old_int, old_quit;
    const size_t bufsz = sizeof(mw__leak_msg_t) + MW__LEAK_CHUNK + 64;
    unsigned char *buf = malloc(bufsz);

    if (!buf)
        return -ENOMEM;
    /* Like a shell waiting for a job: ^C and ^\ are the program's to handle. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGQUIT, &sa, &old_quit);
    sa.sa_handler = forward_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    for (;;) {
        ssize_t n = recv(l->sock, buf, bufsz, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* every traced process has exited (or closed the socket) */
        if (handle(ctx, buf, (size_t)n) < 0 && bad)
            bad(ctx);
    }
    free(buf);
    close(l->sock);
    while (waitpid(l->pid, status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return 0;
}

int mw_launch_header(const unsigned char *m, size_t len, mw__leak_msg_t *h)
{
    if (len < sizeof *h)
        return -1;
    memcpy(h, m, sizeof *h);
    if (h->magic != MW__LEAK_MAGIC || h->len > len - sizeof *h)
        return -1;
    return 0;
}

void mw_launch_path(const char *pattern, int pid, char *out, size_t len)
{
    size_t n = 0;

    for (; *pattern && n + 24 < len; pattern++) {
        if (pattern[0] == '%' && pattern[1] == 'p') {
            n += (size_t)snprintf(out + n, len - n, "%d", pid);
            pattern++;
        } else {
            out[n++] = *pattern;
        }
    }
    out[n] = '\0';
}

void mw_launch_unreported(FILE *f, int pid, int status, const char *prog, const char *what)
{
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        fprintf(f,
                "==%d== \n==%d== Process terminated by signal %d (SIG%s) before the tracer could "
                "send its %s\n",
                pid, pid, WTERMSIG(status), abbrev ? abbrev : "?", what);
    } else {
        fprintf(f,
                "==%d== memwalk: no %s from %s (it executed another program, closed the "
                "tracer's socket, or cleared LD_PRELOAD)\n",
                pid, what, prog);
    }
    fflush(f);
}

int mw_launch_status(int status)
{
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

void *mw_launch_proc(void *table, size_t *n, size_t size, int pid)
{
    char *t, *grown;
    int id;
    size_t i;

    memcpy(&t, table, sizeof t);
    for (i = 0; i < *n; i++) {
        memcpy(&id, t + i * size, sizeof id);
        if (id == pid)
            return t + i * size;
    }
    grown = realloc(t, (*n + 1) * size);
    if (!grown)
        return NULL;
    memcpy(table, &grown, sizeof grown);
    t = grown + *n * size;
    memset(t, 0, size);
    memcpy(t, &pid, sizeof pid);
    (*n)++;
    return t;
}
