/* memwalk's entry point: global options, `help`, and dispatch to the registered commands. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMMANDS 16

static const struct mw_cli_cmd *commands[MAX_COMMANDS];
static size_t ncommands;

void mw_cli_register(const struct mw_cli_cmd *cmd)
{
    size_t i;

    if (ncommands == MAX_COMMANDS)
        return;
    /* Insertion by order: constructors run in link order, the list should not depend on it. */
    for (i = ncommands; i > 0 && commands[i - 1]->order > cmd->order; i--)
        commands[i] = commands[i - 1];
    commands[i] = cmd;
    ncommands++;
}

void mw_cli_error(const char *cmd, const char *what, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "memwalk: ");
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    if (what)
        fprintf(stderr, "%s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int mw_cli_bad_option(const char *cmd, char **argv, int opt)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (opt == ':')
        mw_cli_error(cmd, arg, "option requires an argument");
    else if (optopt && !(arg[0] == '-' && arg[1] == '-'))
        mw_cli_error(cmd, NULL, "-%c: unknown option (try 'memwalk help %s')", optopt, cmd);
    else
        mw_cli_error(cmd, arg, "unknown option (try 'memwalk help %s')", cmd);
    return MW_EXIT_USAGE;
}

int mw_cli_emit(const char *cmd, mw__sb_t *sb, int status)
{
    if (sb->err) {
        mw_cli_error(cmd, NULL, "%s", strerror(-sb->err));
        mw__sb_free(sb);
        return MW_EXIT_FAILURE;
    }
    if (sb->len)
        fwrite(sb->buf, 1, sb->len, stdout);
    mw__sb_free(sb);
    return status;
}

int mw_cli_errno_status(int neg_errno)
{
    switch (-neg_errno) {
    case ENOENT:
    case ESRCH:
    case EACCES:
    case EPERM:
        return MW_EXIT_ACCESS;
    case EINVAL:
    case ERANGE:
        return MW_EXIT_USAGE;
    default:
        return MW_EXIT_FAILURE;
    }
}

static const struct mw_cli_cmd *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < ncommands; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "usage: memwalk <command> [options] [args]\n"
                 "       memwalk help <command> | --help | --version\n\n"
                 "See where memory lives, find leaks, measure allocation.\n\ncommands:\n");
    for (i = 0; i < ncommands; i++)
        fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nExit status: 0 ok, 1 findings, 2 bad usage, 3 process or file not accessible,\n"
                 "4 internal failure; `leaks`, `heap` and `gc-run` return the program's status\n"
                 "(see memwalk-leaks(1), memwalk-heap(1) and memwalk-gc-run(1)).\n");
}

static int help(int argc, char **argv)
{
    const struct mw_cli_cmd *cmd;

    if (argc < 2) {
        usage(stdout);
        return MW_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        mw_cli_error("help", argv[1], "no such command");
        return MW_EXIT_USAGE;
    }
    cmd->usage(stdout);
    return MW_EXIT_OK;
}

static int finish(int status)
{
    /* Output that could not be written is a failure, not a silent truncation. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            mw_cli_error(NULL, "stdout", "%s", strerror(errno));
        return status ? status : MW_EXIT_FAILURE;
    }
    return status;
}

int main(int argc, char **argv)
{
    const struct mw_cli_cmd *cmd;

    if (argc < 2) {
        usage(stderr);
        return MW_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return finish(MW_EXIT_OK);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("memwalk %s\n", MW_VERSION_STRING);
        return finish(MW_EXIT_OK);
    }
    if (strcmp(argv[1], "help") == 0)
        return finish(help(argc - 1, argv + 1));
    if (argv[1][0] == '-') {
        mw_cli_error(NULL, argv[1], "unknown option (try 'memwalk --help')");
        return MW_EXIT_USAGE;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        mw_cli_error(NULL, argv[1], "no such command (try 'memwalk --help')");
        return MW_EXIT_USAGE;
    }
    /* A command's own --help goes to stdout with status 0, before its option parsing. */
    if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
        cmd->usage(stdout);
        return finish(MW_EXIT_OK);
    }
    optind = 1;
    return finish(cmd->run(argc - 1, argv + 1));
}
