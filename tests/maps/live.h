/* Helpers for the live tests: start a program with pipes, read its first line, run a command. */
#ifndef MEMWALK_TESTS_MAPS_LIVE_H
#define MEMWALK_TESTS_MAPS_LIVE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER(name) MW_BUILD_DIR "/tests/maps-helpers/" name
#define MEMWALK_BIN  MW_BUILD_DIR "/memwalk"

struct child {
    pid_t pid;
    int in;    /* write end of its stdin: close it to let it exit */
    FILE *out; /* its stdout */
    char line[1024];
};

/* Starts argv[0] with stdin and stdout on pipes and reads its first output line. Returns 0, or -1
 * when it could not be started or printed nothing. */
static inline int child_start(struct child *c, char *const argv[])
{
    int in[2], out[2];

    memset(c, 0, sizeof(*c));
    if (pipe(in) || pipe(out))
        return -1;
    c->pid = fork();
    if (c->pid < 0)
        return -1;
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->in = in[1];
    c->out = fdopen(out[0], "r");
    if (!c->out || !fgets(c->line, sizeof(c->line), c->out))
        return -1;
    return 0;
}

/* Lets the child finish (EOF on stdin) and reaps it. */
static inline void child_stop(struct child *c)
{
    if (c->pid <= 0)
        return;
    close(c->in);
    if (c->out)
        fclose(c->out);
    waitpid(c->pid, NULL, 0);
    c->pid = 0;
}

/* Value of "key=0x..." in line, 0 when missing. */
static inline uintptr_t field(const char *line, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "%s=", key);
    p = strstr(line, pat);
    return p ? (uintptr_t)strtoull(p + strlen(pat), NULL, 16) : 0;
}

/* Runs a shell command, captures stdout+stderr (as chosen by cmd) into out; returns the exit
 * status, or -1. */
static inline int run(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0, r;
    int st;

    if (!p)
        return -1;
    char sink[4096];

    while (n + 1 < len && (r = fread(out + n, 1, len - 1 - n, p)) > 0)
        n += r;
    out[n] = '\0';
    /* Drain the rest so the command never blocks on a full pipe. */
    while (fread(sink, 1, sizeof(sink), p) > 0)
        ;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
