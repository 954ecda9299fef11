/* `memwalk gc-run`: runs an unmodified program built for Boehm GC (linked with libgc.so.1) on
 * memwalk's collector, by preloading libmemwalk-boehm.so in front of it. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "gc-run"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: memwalk gc-run [options] [--] PROGRAM [ARGS...]\n"
            "\n"
            "Runs PROGRAM (unmodified, dynamically linked, built for Boehm GC) on memwalk's\n"
            "collector: libmemwalk-boehm.so is preloaded and takes over Boehm's GC_* calls.\n"
            "\n"
            "options:\n"
            "  --stats              print the collector's statistics on stderr when PROGRAM\n"
            "                       (and each program it runs that uses the collector) exits\n"
            "  --verbose            print one line per collection on stderr\n"
            "  --collect-every=N    also collect at every N-th allocation (a stress setting:\n"
            "                       pointers the program hides from the collector fail fast)\n"
            "\n"
            "The settings pass to PROGRAM as MEMWALK_GC_* environment variables (libmemwalk(3)).\n"
            "Exit status: PROGRAM's own (it replaces memwalk); 126 when it cannot be executed or\n"
            "is statically linked; 127 when it is not found; 2 bad usage; 4 libmemwalk-boehm.so\n"
            "not found.\n"
            "The library is found next to memwalk, in ../lib, or at $MEMWALK_BOEHM_LIB.\n"
            "See memwalk-gc-run(1).\n");
}

/* Puts lib in front of LD_PRELOAD. Returns 0 or -ENOMEM. */
static int preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *lp = malloc(n);
    int r;

    if (!lp)
        return -ENOMEM;
    snprintf(lp, n, "%s%s%s", lib, old && *old ? " " : "", old && *old ? old : "");
    r = setenv("LD_PRELOAD", lp, 1);
    free(lp);
    return r < 0 ? -errno : 0;
}

static const char *const tries[] = {"/libmemwalk-boehm.so", "/../lib/libmemwalk-boehm.so"};
static const struct mw_cli_preload boehm_lib = {
    "libmemwalk-boehm.so",
    "MEMWALK_BOEHM_LIB",
    tries,
    2,
    "next to memwalk or in ../lib",
    "statically linked: a preloaded library cannot replace its collector",
};

static int gc_run(int argc, char **argv)
{
    enum { O_STATS = 256, O_VERBOSE, O_EVERY };
    static const struct option longopts[] = {
        {"stats", no_argument, NULL, O_STATS},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"collect-every", required_argument, NULL, O_EVERY},
        {NULL, 0, NULL, 0},
    };
    char lib[PATH_MAX], prog[PATH_MAX];
    uint64_t every;
    int c, r;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
        switch (c) {
        case O_STATS:
            setenv("MEMWALK_GC_STATS", "1", 1);
            break;
        case O_VERBOSE:
            setenv("MEMWALK_GC_VERBOSE", "1", 1);
            break;
        case O_EVERY:
            if (mw__parse_u64(optarg, &every) < 0 || every < 1 || every > (UINT64_C(1) << 40)) {
                mw_cli_error(CMD, "--collect-every", "'%s': expected a count from 1 to 2^40",
                             optarg);
                return MW_EXIT_USAGE;
            }
            setenv("MEMWALK_GC_COLLECT_EVERY", optarg, 1);
            break;
        default:
            return mw_cli_bad_option(CMD, argv, c);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        mw_cli_error(CMD, NULL, "no program to run (try 'memwalk help gc-run')");
        return MW_EXIT_USAGE;
    }
    r = mw_cli_prepare_preload(CMD, &boehm_lib, argv[0], lib, prog, sizeof prog);
    if (r)
        return r;
    if (preload(lib) < 0) {
        mw_cli_error(CMD, "LD_PRELOAD", "%s", strerror(ENOMEM));
        return MW_EXIT_FAILURE;
    }
    fflush(NULL);
    execv(prog, argv);
    r = errno;
    mw_cli_error(CMD, argv[0], "cannot execute: %s", strerror(r));
    return r == ENOENT ? 127 : 126;
}

MW_CLI_COMMAND(gc_run_command, "gc-run", "run a program built for Boehm GC on memwalk's collector",
               gc_run, usage, 35)
