/* `memwalk tour`: runs the live experiments of tour/ and explains them. */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tour/tour.h"

static void usage(FILE *out)
{
    int i;

    fprintf(out, "usage: memwalk tour [--section NAME] [--json] [--no-color]\n\n"
                 "Walks through where memory lives and what it costs, with experiments run live\n"
                 "on this machine; each section ends with conclusions drawn from its numbers.\n\n"
                 "  -s, --section NAME  run one section only\n"
                 "  -l, --list          list the sections\n"
                 "      --json          print every measured value as one JSON document\n"
                 "      --no-color      no colour even on a terminal (also: NO_COLOR set)\n\n"
                 "sections:");
    for (i = 0; mw_tour_sections[i]; i++)
        fprintf(out, " %s", mw_tour_sections[i]->name);
    fprintf(out, "\n");
}

static int run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"section", required_argument, NULL, 's'}, {"list", no_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},          {"no-color", no_argument, NULL, 'C'},
        {"no-colour", no_argument, NULL, 'C'},     {NULL, 0, NULL, 0},
    };
    struct tour_options opts = {0};
    static char exe[PATH_MAX];
    bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR");
    ssize_t n;
    int c, i;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:l", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opts.section = optarg;
            break;
        case 'l':
            for (i = 0; mw_tour_sections[i]; i++)
                printf("%-12s %s\n", mw_tour_sections[i]->name, mw_tour_sections[i]->title);
            return MW_EXIT_OK;
        case 'j':
            opts.json = true;
            break;
        case 'C':
            no_color = true;
            break;
        default:
            return mw_cli_bad_option("tour", argv, c);
        }
    }
    if (optind < argc) {
        mw_cli_error("tour", argv[optind], "unexpected argument");
        return MW_EXIT_USAGE;
    }
    if (opts.section) {
        for (i = 0; mw_tour_sections[i]; i++)
            if (strcmp(mw_tour_sections[i]->name, opts.section) == 0)
                break;
        if (!mw_tour_sections[i]) {
            mw_cli_error("tour", opts.section, "no such section (try 'memwalk tour --list')");
            return MW_EXIT_USAGE;
        }
    }
    opts.color = !opts.json && !no_color && isatty(STDOUT_FILENO);
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        opts.self_exe = exe;
    }
    return mw_tour_run(&opts);
}

MW_CLI_COMMAND(tour_cmd, "tour", "a guided walk through this machine's memory", run, usage, 50)
