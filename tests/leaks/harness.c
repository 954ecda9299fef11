/* Helpers shared by the leak checker's test programs (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int lk_run(char *const argv[], int stdout_mode, const char *err_path, int timeout_s)
{
    int master = -1, status = 0;
    pid_t pid;
    struct timespec start, now;
    char *slave = NULL;

    if (stdout_mode == LK_STDOUT_PTY) {
        master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
            return -1;
        slave = ptsname(master);
        if (!slave)
            return -1;
        fcntl(master, F_SETFL, O_NONBLOCK);
    }
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = slave ? open(slave, O_WRONLY | O_NOCTTY) : open("/dev/null", O_WRONLY);
        int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                           : open("/dev/null", O_WRONLY);
        setpgid(0, 0);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (master >= 0) {
            char buf[4096];
            while (read(master, buf, sizeof buf) > 0)
                ;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > timeout_s) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1; /* a hang is a failure, whatever the program did */
            break;
        }
        usleep(2000);
    }
    /* Children left behind in the process group (a daemonized grandchild) must not linger. */
    kill(-pid, SIGKILL);
    if (master >= 0)
        close(master);
    return status;
}

char *lk_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NULL;
    do {
        if (len + 4096 + 1 > cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static uint64_t num(const char *s)
{
    uint64_t v = 0;

    for (; *s == ',' || (*s >= '0' && *s <= '9'); s++)
        if (*s != ',')
            v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

/* "B bytes in N blocks" after the label: */
static void bytes_blocks(const char *s, uint64_t *b, uint64_t *n)
{
    while (*s == ' ')
        s++;
    *b = num(s);
    s = strstr(s, " in ");
    *n = s ? num(s + 4) : 0;
}

static struct lk_summary *find(struct lk_summary *out, size_t *n, size_t max, int pid)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (out[i].pid == pid)
            return &out[i];
    if (*n == max)
        return NULL;
    memset(&out[*n], 0, sizeof out[0]);
    out[*n].pid = pid;
    return &out[(*n)++];
}

size_t lk_parse_report(const char *path, struct lk_summary *out, size_t max)
{
    static const char *const labels[5] = {"definitely lost:", "indirectly lost:", "possibly lost:",
                                          "still reachable:", "suppressed:"};
    char *text = lk_slurp(path), *line, *save = NULL;
    size_t n = 0;

    if (!text)
        return 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int pid, k;
        char *body, *p;
        struct lk_summary *s;
        if (sscanf(line, "==%d==", &pid) != 1)
            continue;
        body = strstr(line + 2, "==");
        if (!body)
            continue;
        body += 2;
        while (*body == ' ')
            body++;
        s = find(out, &n, max, pid);
        if (!s)
            break;
        if ((p = strstr(body, "in use at exit:")) == body) {
            bytes_blocks(body + 15, &s->in_use_bytes, &s->in_use_blocks);
            s->have_heap = 1;
        } else if ((p = strstr(body, "total heap usage:")) == body) {
            p = body + 17;
            s->allocs = num(p + strspn(p, " "));
            p = strstr(p, "allocs,");
            s->frees = p ? num(p + 8) : 0;
            p = p ? strstr(p, "frees,") : NULL;
            s->allocated = p ? num(p + 7) : 0;
        } else if (strstr(body, "All heap blocks were freed") == body) {
            s->all_freed = 1;
        } else if (strstr(body, "stdstring ") == body || strstr(body, "length64 ") == body ||
                   strstr(body, "newarray ") == body ||
                   strstr(body, "multipleinheritance:") == body) {
            static const char *const h[4] = {"stdstring", "length64", "newarray",
                                             "multipleinheritance"};
            for (k = 0; k < 4; k++)
                if (strncmp(body, h[k], strlen(h[k])) == 0)
                    bytes_blocks(strchr(body, ':') + 1, &s->heur_bytes[k], &s->heur_blocks[k]);
        } else {
            for (k = 0; k < 5; k++)
                if (strstr(body, labels[k]) == body) {
                    bytes_blocks(body + strlen(labels[k]), &s->bytes[k], &s->blocks[k]);
                    s->have_leak = 1;
                }
        }
    }
    free(text);
    /* Drop pids that printed no summary (preamble-only lines). */
    {
        size_t i, j = 0;
        for (i = 0; i < n; i++)
            if (out[i].have_heap)
                out[j++] = out[i];
        n = j;
    }
    return n;
}

/* One frame line's function and location: "fn (file:line)", "fn", or "???". */
static void frame_text(const char *body, char *out, size_t len)
{
    const char *colon = strstr(body, ": "), *paren = NULL, *p;
    size_t n;

    body = colon ? colon + 2 : body;
    /* The last " (...)" is where: "(file:line)" is compared, "(in module)" and
     * "(module+0xoff)" are not (C++ names hold parentheses and colons of their own). */
    for (p = strstr(body, " ("); p; p = strstr(p + 1, " ("))
        paren = p;
    n = strlen(body);
    if (paren && (strncmp(paren, " (in ", 5) == 0 || paren[2] == '/'))
        n = (size_t)(paren - body);
    /* Threads start in clone under valgrind (it refuses clone3), in clone3 natively. */
    if (strncmp(body, "clone (clone.S:", 15) == 0 || strncmp(body, "clone3 (", 8) == 0 ||
        strncmp(body, "__clone3 (", 10) == 0 || strcmp(body, "clone3") == 0)
        n = (size_t)snprintf(out, len, "clone");
    else
        snprintf(out, len, "%.*s", (int)n, body);
}

char *lk_loss_records(const char *text, int pid, int frames)
{
    char prefix[32], *out = calloc(1, 1);
    size_t olen = 0;
    int in_rec = 0;
    const char *line = text;

    snprintf(prefix, sizeof prefix, "==%d== ", pid);
    while (out && line && *line) {
        const char *end = strchr(line, '\n'), *body;
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char add[1024];
        add[0] = '\0';
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            body = line + strlen(prefix);
            if (memmem(body, len - strlen(prefix), " in loss record ", 16)) {
                snprintf(add, sizeof add, "%s%.*s", olen ? "\n" : "", (int)(len - strlen(prefix)),
                         body);
                in_rec = 1;
            } else if (in_rec && frames &&
                       (strncmp(body, "   at 0x", 8) == 0 || strncmp(body, "   by 0x", 8) == 0)) {
                char fr[900], one[1000];
                snprintf(one, sizeof one, "%.*s", (int)(len - strlen(prefix)), body);
                frame_text(one, fr, sizeof fr);
                snprintf(add, sizeof add, " | %s", fr);
            } else {
                in_rec = 0;
            }
        }
        if (add[0]) {
            size_t k = strlen(add);
            char *n = realloc(out, olen + k + 1);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
            memcpy(out + olen, add, k + 1);
            olen += k;
        }
        line = end ? end + 1 : NULL;
    }
    return out;
}

char *lk_tmpdir(void)
{
    char *d = strdup("/tmp/memwalk-leaks-test.XXXXXX");

    if (d && !mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

void lk_cleanup(char *dir)
{
    char cmd[512];

    if (!dir)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        /* leftovers in /tmp are harmless */
    }
    free(dir);
}
