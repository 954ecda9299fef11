/* The benchmark environment: what about this machine and process skews timings. */
#include "bench/bench_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
#endif

/* Copies the first line of a small file, trimmed, into buf; "" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len)
{
    char *text = NULL;
    size_t n = 0, start = 0;

    buf[0] = '\0';
    if (mw__read_file(path, &text, &n) < 0)
        return;
    while (start < n && isspace((unsigned char)text[start]))
        start++;
    n = start + strcspn(text + start, "\n");
    while (n > start && isspace((unsigned char)text[n - 1]))
        n--;
    snprintf(buf, len, "%.*s", (int)(n - start), text + start);
    free(text);
}

/* The value of the first "key : value" line of /proc/cpuinfo whose key is one of keys. */
static void cpu_model(char *buf, size_t len)
{
    static const char *const keys[] = {"model name", "Hardware", "cpu model", "Processor", "cpu"};
    char *text = NULL;
    size_t n = 0;

    buf[0] = '\0';
    if (mw__read_file("/proc/cpuinfo", &text, &n) == 0) {
        for (size_t k = 0; k < MW__ARRAY_LEN(keys) && !buf[0]; k++) {
            size_t klen = strlen(keys[k]);
            for (char *line = text; line && *line && !buf[0]; line = strchr(line, '\n')) {
                if (*line == '\n')
                    line++;
                if (strncmp(line, keys[k], klen) != 0)
                    continue;
                char *p = line + klen;
                while (*p == ' ' || *p == '\t')
                    p++;
                if (*p != ':')
                    continue;
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
            }
        }
        free(text);
    }
    if (!buf[0]) {
        struct utsname u;
        if (uname(&u) == 0)
            snprintf(buf, len, "%s", u.machine);
    }
}

int mw_bench_under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");

#ifdef HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    /* valgrind preloads its vgpreload_*.so into every program it runs. */
    return preload && strstr(preload, "vgpreload") != NULL;
}

int mw_bench_env_read(mw_bench_env_t *env)
{
    mw_bench_env_t e;
    char line[128];
    struct utsname u;

    memset(&e, 0, sizeof e);
    cpu_model(e.cpu_model, sizeof e.cpu_model);
    e.cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", e.governor,
              sizeof e.governor);
    read_line("/proc/sys/kernel/randomize_va_space", line, sizeof line);
    e.aslr = line[0] >= '0' && line[0] <= '9' ? atoi(line) : -1;
    /* "always [madvise] never": the bracketed word is the mode. */
    read_line("/sys/kernel/mm/transparent_hugepage/enabled", line, sizeof line);
    char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
    if (open && close)
        snprintf(e.thp, sizeof e.thp, "%.*s", (int)(close - open - 1), open + 1);
    e.under_valgrind = mw_bench_under_valgrind();
    read_line("/proc/loadavg", line, sizeof line);
    e.loadavg = line[0] ? strtod(line, NULL) : -1;
    if (uname(&u) == 0)
        snprintf(e.kernel, sizeof e.kernel, "%s", u.release);
#if defined(__clang__)
    snprintf(e.compiler, sizeof e.compiler, "clang %d.%d.%d", __clang_major__, __clang_minor__,
             __clang_patchlevel__);
#elif defined(__GNUC__)
    snprintf(e.compiler, sizeof e.compiler, "gcc %d.%d.%d", __GNUC__, __GNUC_MINOR__,
             __GNUC_PATCHLEVEL__);
#endif
    *env = e;
    return 0;
}

size_t mw__bench_env_warnings(const mw_bench_env_t *env, char (*lines)[MW__BENCH_LINE], size_t max)
{
    size_t n = 0;

#define WARN(...)                                            \
    do {                                                     \
        if (n < max)                                         \
            snprintf(lines[n], MW__BENCH_LINE, __VA_ARGS__); \
        n++;                                                 \
    } while (0)
    if (env->under_valgrind)
        WARN("running under valgrind: times are those of a simulated CPU, tens of times slower, "
             "and malloc is valgrind's, not the C library's");
    if (env->governor[0] && strcmp(env->governor, "performance") != 0)
        WARN("CPU frequency scaling: governor '%s', the clock changes with load; pin it with "
             "'cpupower frequency-set -g performance'",
             env->governor);
    if (env->cpus > 0 && env->loadavg >= 0.5 * env->cpus)
        WARN("load average %.2f on %d CPUs: other processes compete for the CPU, expect noise",
             env->loadavg, env->cpus);
#undef WARN
    return n;
}

static const char *aslr_word(int aslr)
{
    switch (aslr) {
    case 0:
        return "off";
    case 1:
        return "on (partial)";
    case 2:
        return "on";
    default:
        return "unknown";
    }
}

int mw_bench_env_write(FILE *out, const mw_bench_env_t *env)
{
    char warn[8][MW__BENCH_LINE];
    size_t n = mw__bench_env_warnings(env, warn, MW__ARRAY_LEN(warn));

    fprintf(out, "# cpu: %s, %d online; load average %.2f\n",
            env->cpu_model[0] ? env->cpu_model : "unknown", env->cpus, env->loadavg);
    fprintf(out, "# frequency governor: %s; valgrind: %s\n",
            env->governor[0] ? env->governor : "none (no cpufreq: a VM or a fixed clock)",
            env->under_valgrind ? "yes" : "no");
    fprintf(out, "# kernel %s; ASLR %s; transparent huge pages: %s; built with %s\n",
            env->kernel[0] ? env->kernel : "unknown", aslr_word(env->aslr),
            env->thp[0] ? env->thp : "unknown", env->compiler[0] ? env->compiler : "unknown");
    /* Each warning wrapped at 100 columns, "#   " before each continued line. */
    mw__sb_t sb = {0};
    for (size_t i = 0; i < n && i < MW__ARRAY_LEN(warn); i++)
        mw__sb_wrap(&sb, warn[i], 100, "# warning: ", "#   ");
    if (sb.len)
        fputs(sb.buf, out);
    mw__sb_free(&sb);
    return ferror(out) ? -EIO : 0;
}

void mw__bench_env_json(mw__json_t *j, const char *key, const mw_bench_env_t *env)
{
    char warn[8][MW__BENCH_LINE];
    size_t n = mw__bench_env_warnings(env, warn, MW__ARRAY_LEN(warn));

    mw__json_object(j, key);
    mw__json_str(j, "cpu_model", env->cpu_model);
    mw__json_int(j, "cpus", env->cpus);
    mw__json_str(j, "governor", env->governor);
    mw__json_int(j, "aslr", env->aslr);
    mw__json_str(j, "thp", env->thp);
    mw__json_bool(j, "under_valgrind", env->under_valgrind);
    mw__json_num(j, "loadavg", env->loadavg);
    mw__json_str(j, "kernel", env->kernel);
    mw__json_str(j, "compiler", env->compiler);
    mw__json_array(j, "warnings");
    for (size_t i = 0; i < n && i < MW__ARRAY_LEN(warn); i++)
        mw__json_str(j, NULL, warn[i]);
    mw__json_end(j);
    mw__json_end(j);
}
