/* The memwalk command: command registration, exit statuses, error reporting shared by commands. */
#ifndef MEMWALK_CLI_H
#define MEMWALK_CLI_H

#include <stdio.h>

#include "common/common.h"

/* Exit statuses, the same for every command (documented in memwalk(1)). `leaks` adds its own:
 * the traced program's status, 126 (could not execute), 127 (not found), 128+N (killed by N). */
enum mw_cli_exit {
    MW_EXIT_OK = 0,       /* success */
    MW_EXIT_FINDINGS = 1, /* findings asked for: an unmapped address (`where`), ... */
    MW_EXIT_USAGE = 2,    /* bad usage: unknown option, bad number, missing argument */
    MW_EXIT_ACCESS = 3,   /* no such process, permission denied, unreadable input */
    MW_EXIT_FAILURE = 4,  /* internal failure: out of memory, write error */
};

struct mw_cli_cmd {
    const char *name;
    const char *summary;               /* one line for `memwalk --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name; returns an exit status */
    void (*usage)(FILE *out);          /* full usage text for --help and `memwalk help NAME` */
    int order;                         /* position in the command list */
};

void mw_cli_register(const struct mw_cli_cmd *cmd);

/* Declares and registers one command; each command file uses it once. */
#define MW_CLI_COMMAND(var, ...)                                  \
    static const struct mw_cli_cmd var = {__VA_ARGS__};           \
    __attribute__((constructor)) static void var##_register(void) \
    {                                                             \
        mw_cli_register(&var);                                    \
    }

/* Prints "memwalk: <cmd>: <what>: <reason>" (what may be NULL) on stderr. */
void mw_cli_error(const char *cmd, const char *what, const char *fmt, ...) MW__PRINTF(3, 4);

/* Reports a getopt failure (unknown option, missing argument) for argv[optind - 1] and returns
 * MW_EXIT_USAGE. Commands set opterr = 0 and call this on '?' or ':'. */
int mw_cli_bad_option(const char *cmd, char **argv, int opt);

/* Writes a command's finished output to stdout and frees sb. Returns status, or MW_EXIT_FAILURE
 * (after an error line) when building the output ran out of memory. */
int mw_cli_emit(const char *cmd, mw__sb_t *sb, int status);

/* `maps` and `where`: one line for a failed read of PID's map (pid_text as the user gave it);
 * returns the exit status. */
int mw__cli_maps_error(const char *cmd, const char *pid_text, int err);

struct mw_region;
/* `maps` and `where`: a region's path as a line of their text shows it: "[anon]" when it has
 * none, newlines as \012, " (deleted)" after an unlinked file. */
void mw__cli_region_path(mw__sb_t *sb, const struct mw_region *r);

/* Whether an argument is a negative number ("-5", "-0x10"), which getopt would take for an
 * option: commands that expect numbers report it as a bad value instead. */
int mw__cli_is_negative_number(const char *arg);

/* Maps a negative errno from the library to an exit status (ENOENT/ESRCH/EACCES/EPERM -> ACCESS).
 */
int mw_cli_errno_status(int neg_errno);

/* Finds a library memwalk preloads: $env_name when set (it must exist), else the first of tries
 * (paths relative to the folder of the memwalk executable, each starting with '/') that exists.
 * Writes its real path to out. Returns 0 or a negative errno (-ENOENT when none). */
int mw_cli_find_lib(const char *env_name, const char *const *tries, size_t ntries, char *out,
                    size_t len);

/* Resolves PROGRAM as execvp would, into out. Returns 0, or 127 (not found) / 126 (found but not
 * executable): the exit statuses of a shell. */
int mw_cli_resolve_program(const char *prog, char *out, size_t len);

/* 1 when path is an ELF executable without an interpreter (statically linked: LD_PRELOAD cannot
 * reach it), else 0. */
int mw_cli_is_static_elf(const char *path);

/* A library a command preloads in front of a program. */
struct mw_cli_preload {
    const char *name;         /* its file name, for messages */
    const char *env;          /* the variable that names it instead */
    const char *const *tries; /* where to look (see mw_cli_find_lib) */
    size_t ntries;
    const char *where;      /* those places in words: "next to memwalk or in ../lib" */
    const char *static_msg; /* the error for a statically linked program */
};

/* Finds the library (into lib) and the program argv0 (into prog), both len bytes. Returns 0, or
 * after a one-line error the exit status: 4 (no library), 127 (not found), 126 (not executable,
 * or statically linked). */
int mw_cli_prepare_preload(const char *cmd, const struct mw_cli_preload *pl, const char *argv0,
                           char *lib, char *prog, size_t len);

#endif
