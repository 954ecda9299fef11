/* Starting a program under the tracer (the preload and PROGRAM found by program.c, static
 * binaries refused there), the variables the tracer reads, and the loop that receives the traced
 * processes' messages until they have all exited. */
#include "cli/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
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

/* The program's environment: the tracer's two variables first (allocated, see free_env), then
 * the caller's, with libstdc++'s pools off. NULL when out of memory. */
static char **child_env(const struct mw_launch *l, const char *preload, int fd)
{
    static const char *const drop[] = {"MEMWALK_LAUNCH=", "MEMWALK_OUT=", "GLIBCXX_FORCE_NEW=",
                                       "GLIBCPP_FORCE_NEW=", "LD_PRELOAD="};
    extern char **environ;
    const char *old = getenv("LD_PRELOAD");
    size_t n = 0, k = 2, i, d;
    char **env;

    while (environ[n])
        n++;
    env = calloc(n + 5, sizeof *env);
    if (!env)
        return NULL;
    if (asprintf(&env[0], "MEMWALK_LAUNCH=0,%d,%s", fd, l->options) < 0) {
        free(env);
        return NULL;
    }
    if (asprintf(&env[1], "LD_PRELOAD=%s%s%s", preload, old && *old ? " " : "",
                 old && *old ? old : "") < 0) {
        free(env[0]);
        free(env);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        for (d = 0; d < sizeof drop / sizeof drop[0]; d++)
            if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
                break;
        if (d == sizeof drop / sizeof drop[0])
            env[k++] = environ[i];
    }
    /* As valgrind does: libstdc++'s pool allocators use plain new, so their blocks show. */
    env[k++] = "GLIBCXX_FORCE_NEW=1";
    env[k] = "GLIBCPP_FORCE_NEW=1";
    return env;
}

static void free_env(char **env)
{
    free(env[0]);
    free(env[1]);
    free(env);
}

int mw_launch_start(struct mw_launch *l, char **argv)
{
    char preload[PATH_MAX], prog[PATH_MAX], **env;
    posix_spawnattr_t attr;
    sigset_t dfl;
    struct rlimit rl;
    int sv[2], r, fd;

    r = mw_cli_prepare_preload(l->cmd, &leak_lib, argv[0], preload, prog, sizeof prog);
    if (r)
        return r;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        mw_cli_error(l->cmd, "socketpair", "%s", strerror(errno));
        return MW_EXIT_FAILURE;
    }
    /* The program's end, without close-on-exec, and high: its own descriptors keep the numbers
     * they have natively (the tracer moves it higher still, or closes it; --track-fds lists
     * them). */
    fd = fcntl(sv[1], F_DUPFD,
               getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 256 && rl.rlim_cur < (1u << 20)
                   ? (int)rl.rlim_cur - 128
                   : 3);
    env = fd < 0 ? NULL : child_env(l, preload, fd);
    if (!env) {
        mw_cli_error(l->cmd, "launch", "%s", strerror(fd < 0 ? errno : ENOMEM));
        return MW_EXIT_FAILURE;
    }
    /* posix_spawn, not fork: nothing of memwalk is copied for a moment (on a VM where each page
     * fault costs microseconds, fork and exec took a millisecond more). */
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    fflush(NULL);
    r = posix_spawn(&child_pid, prog, NULL, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    free_env(env);
    close(fd);
    close(sv[1]);
    if (r) {
        close(sv[0]);
        mw_cli_error(l->cmd, argv[0], "cannot execute: %s", strerror(r));
        return r == ENOENT ? 127 : 126;
    }
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
