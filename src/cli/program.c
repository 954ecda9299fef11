/* Running a program under a preloaded library (memwalk leaks, memwalk gc-run): finding the
 * library next to memwalk, resolving PROGRAM as execvp would, refusing static binaries. */
#include "cli/cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mw_cli_find_lib(const char *env_name, const char *const *tries, size_t ntries, char *out,
                    size_t len)
{
    const char *env = getenv(env_name);
    char exe[PATH_MAX], *slash;
    ssize_t n;
    size_t i;

    if (env && *env) {
        if (access(env, R_OK) != 0)
            return -errno;
        if (!realpath(env, out))
            return -errno;
        return 0;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -ENOENT;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    for (i = 0; i < ntries; i++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, "%s%s", exe, tries[i]);
        if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
            return 0;
    }
    return -ENOENT;
}

int mw_cli_resolve_program(const char *prog, char *out, size_t len)
{
    const char *path = getenv("PATH");
    int saw_noexec = 0;

    if (strchr(prog, '/')) {
        struct stat st;
        if (access(prog, F_OK) != 0)
            return 127;
        if (access(prog, X_OK) != 0 || (stat(prog, &st) == 0 && S_ISDIR(st.st_mode)))
            return 126;
        snprintf(out, len, "%s", prog);
        return 0;
    }
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        struct stat st;
        snprintf(out, len, "%.*s%s%s", (int)n, n ? path : ".", "/", prog);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            saw_noexec = 1;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return saw_noexec ? 126 : 127;
}

int mw_cli_is_static_elf(const char *path)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    int fd = open(path, O_RDONLY | O_CLOEXEC), i, interp = 0;

    if (fd < 0)
        return 0;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, 4) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof ph) {
        close(fd);
        return 0;
    }
    for (i = 0; i < eh.e_phnum; i++) {
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof ph)) !=
            (ssize_t)sizeof ph)
            break;
        if (ph.p_type == PT_INTERP)
            interp = 1;
    }
    close(fd);
    return !interp;
}

int mw_cli_prepare_preload(const char *cmd, const struct mw_cli_preload *pl, const char *argv0,
                           char *lib, char *prog, size_t len)
{
    int r = mw_cli_find_lib(pl->env, pl->tries, pl->ntries, lib, len);

    if (r < 0) {
        mw_cli_error(cmd, pl->name, "not found %s (set %s): %s", pl->where, pl->env, strerror(-r));
        return MW_EXIT_FAILURE;
    }
    r = mw_cli_resolve_program(argv0, prog, len);
    if (r == 127) {
        mw_cli_error(cmd, argv0, "command not found");
        return r;
    }
    if (r) {
        struct stat st;
        mw_cli_error(cmd, argv0, "%s",
                     strerror(stat(argv0, &st) == 0 && S_ISDIR(st.st_mode) ? EISDIR : EACCES));
        return r;
    }
    if (mw_cli_is_static_elf(prog)) {
        mw_cli_error(cmd, argv0, "%s", pl->static_msg);
        return 126;
    }
    return 0;
}
