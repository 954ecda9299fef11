/* Process calls the tracer must see: execution of another program (the tracer's variables go
 * along when children are traced, even when the program cleared its environment, as valgrind
 * carries its own) and a program killing itself with SIGKILL (memcheck intercepts the call and
 * reports first; a SIGKILL from outside cannot be caught by anyone).
 *
 * glibc's exec and spawn functions call the system call directly, not execve: each is wrapped.
 * system() and popen() start their shell with glibc's internal spawn and the current environ:
 * for the call, environ gets the tracer's variables back. */
#include "leak/leak.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

static void *real(const char *name)
{
    struct mw__leak_thread *self = mw__leak_me();
    void *f;

    self->busy++;
    f = dlsym(RTLD_NEXT, name);
    self->busy--;
    return f;
}

/* The environment for a program being executed: the tracer's variables added when missing. */
#define WITH_ENV(envp, out)      \
    size_t n_ = 0;               \
    while ((envp) && (envp)[n_]) \
        n_++;                    \
    char *buf_[n_ + 8];          \
    char *const *out = mw__leak_exec_env((envp), buf_, n_ + 8)

typedef int (*exec_fn)(const char *, char *const[], char *const[]);

/* execve and execvpe: the real one (looked up once into *cache) with the tracer's variables. */
static int exec_with(exec_fn *cache, const char *name, const char *file, char *const argv[],
                     char *const envp[])
{
    WITH_ENV(envp, env);

    if (!*cache)
        *(void **)cache = real(name);
    if (!*cache) {
        errno = ENOSYS;
        return -1;
    }
    return (*cache)(file, argv, env);
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    static exec_fn f;

    return exec_with(&f, "execve", path, argv, envp);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    static exec_fn f;

    return exec_with(&f, "execvpe", file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    static int (*f)(int, char *const[], char *const[]);
    WITH_ENV(envp, env);

    if (!f)
        *(void **)&f = real("fexecve");
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(fd, argv, env);
}

EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* The execl family: the arguments into a vector on the stack. */
#define ARGV_FROM_LIST(arg0, ap, argv, last) \
    size_t argc_ = 1;                        \
    va_start(ap, arg0);                      \
    while (va_arg(ap, const char *))         \
        argc_++;                             \
    va_end(ap);                              \
    char *argv[argc_ + 1];                   \
    va_start(ap, arg0);                      \
    argv[0] = (char *)(arg0);                \
    for (size_t i_ = 1; i_ <= argc_; i_++)   \
        argv[i_] = va_arg(ap, char *);       \
    last;                                    \
    va_end(ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    ARGV_FROM_LIST(arg, ap, argv, (void)0);
    return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    ARGV_FROM_LIST(arg, ap, argv, (void)0);
    return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char *const *envp;
    ARGV_FROM_LIST(arg, ap, argv, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

static int spawn_with(spawn_fn *cache, const char *name, pid_t *pid, const char *file,
                      const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                      char *const argv[], char *const envp[])
{
    WITH_ENV(envp, env);

    if (!*cache)
        *(void **)cache = real(name);
    return *cache ? (*cache)(pid, file, fa, attr, argv, env) : ENOSYS;
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    static spawn_fn f;

    return spawn_with(&f, "posix_spawn", pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    static spawn_fn f;

    return spawn_with(&f, "posix_spawnp", pid, file, fa, attr, argv, envp);
}

/* ---- system() and popen() -------------------------------------------------------------------
 * Their shell gets environ as it is at the call. When the program has dropped the tracer's
 * variables (clearenv, unsetenv), environ points for the call at a vector that has them again:
 * the shell then runs traced, and its own exec carries them on. The vector is mapped, not on the
 * stack: a thread cancelled inside system() never comes back to put environ back, and environ
 * must stay valid. Nothing changes when the variables are all there (the usual case). */
struct shell_env {
    char **saved, **env;
    size_t len;
};

static void shell_env_set(struct shell_env *s)
{
    size_t n = 0;

    s->saved = environ;
    s->env = NULL;
    while (environ && environ[n])
        n++;
    s->len = (n + 8) * sizeof(char *);
    s->env = mw__leak_map(s->len);
    if (!s->env)
        return;
    if (mw__leak_exec_env(environ, s->env, n + 8) != s->env) {
        mw__leak_unmap(s->env, s->len);
        s->env = NULL;
        return;
    }
    environ = s->env;
}

static void shell_env_restore(const struct shell_env *s)
{
    /* Another thread's setenv during the call made environ a copy: it stays (and so does the
     * vector, which that thread may still read). */
    if (!s->env || environ != s->env)
        return;
    environ = s->saved;
    mw__leak_unmap(s->env, s->len);
}

EXPORT int system(const char *command)
{
    static int (*f)(const char *);
    struct shell_env s;
    int r;

    if (!f)
        *(void **)&f = real("system");
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    shell_env_set(&s);
    r = f(command);
    shell_env_restore(&s);
    return r;
}

/* popen itself is fds.c's (it also records the descriptor for --track-fds): it calls this. */
FILE *mw__leak_popen(FILE *(*f)(const char *, const char *), const char *command, const char *mode)
{
    struct shell_env s;
    FILE *r;
    int saved_errno;

    shell_env_set(&s);
    r = f(command, mode);
    saved_errno = errno;
    shell_env_restore(&s);
    errno = saved_errno;
    return r;
}

/* ---- SIGKILL sent to itself ---------------------------------------------------------------- */
__attribute__((noinline)) static void self_kill(uintptr_t sp)
{
    uintptr_t regs[MW__SCAN_NREGS] = {0};

    __builtin_unwind_init();
    MW__SCAN_SPILL(regs);
    mw__exit_flags |= MW__LEAK_RES_SELF_KILL;
    mw__exit_report(MW__LEAK_END_EXIT_NOW, 128 + SIGKILL, sp, regs, MW__SCAN_NREGS, NULL, NULL, 0);
}

#define CALLER_SP() ((uintptr_t)((uintptr_t *)__builtin_frame_address(0) + 2))

EXPORT int kill(pid_t pid, int sig)
{
    if (sig == SIGKILL && (pid == getpid() || pid == 0 || pid == -getpgrp()))
        self_kill(CALLER_SP());
    return (int)syscall(SYS_kill, pid, sig);
}

EXPORT int killpg(pid_t pgrp, int sig)
{
    if (sig == SIGKILL && (pgrp == 0 || pgrp == getpgrp()))
        self_kill(CALLER_SP());
    return (int)syscall(SYS_kill, -pgrp, sig);
}

EXPORT int raise(int sig)
{
    static int (*f)(int);

    if (sig == SIGKILL)
        self_kill(CALLER_SP());
    if (!f)
        *(void **)&f = real("raise");
    return f ? f(sig) : (int)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

EXPORT int pthread_kill(pthread_t thread, int sig)
{
    static int (*f)(pthread_t, int);

    if (sig == SIGKILL)
        self_kill(CALLER_SP()); /* SIGKILL kills the process whichever thread it is sent to */
    if (!f)
        *(void **)&f = real("pthread_kill");
    return f ? f(thread, sig) : ENOSYS;
}
