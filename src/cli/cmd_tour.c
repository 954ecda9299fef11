/* `memwalk tour`: runs the live experiments of tour/ and explains them. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "tour/tour.h"

#define DEFAULT_WIDTH 80
#define WIDE_WIDTH    120
#define MAX_WIDTH     200

static void usage(FILE *out)
{
    int i;

    fprintf(out,
            "usage: memwalk tour [-s SECTION]... [--json | --html FILE] [--wide] [--no-color]\n"
            "       memwalk tour --list\n\n"
            "Walks through where memory lives and what it costs, with experiments run live\n"
            "on this machine; each section ends with conclusions computed from its numbers.\n\n"
            "  -s, --section SECTION  run this section (a name or a number; repeat for more)\n"
            "  -l, --list             list the sections\n"
            "      --json             print every measured value as one JSON document\n"
            "      --html FILE        write the tour as one HTML page, with the map of the\n"
            "                         address space and the charts ('-': standard output)\n"
            "  -w, --wide             use 120 columns (default 80, or a wider terminal's)\n"
            "      --no-color         no colour even on a terminal (also: NO_COLOR set)\n\n"
            "sections:");
    for (i = 0; mw_tour_sections[i]; i++)
        fprintf(out, " %d %s%s", i + 1, mw_tour_sections[i]->name,
                mw_tour_sections[i + 1] ? "," : "");
    fprintf(out, "\n\nExit status: 0 ok, 2 bad usage, 3 FILE cannot be written, 4 a section "
                 "failed.\n");
}

static void tour_error(const char *what, const char *reason)
{
    mw_cli_error("tour", what, "%s", reason);
}

/* The section a -s argument names, by name or number; -1 if none. */
static int find_section(const char *arg)
{
    char *end;
    long n = strtol(arg, &end, 10);
    int count = 0;

    while (mw_tour_sections[count])
        count++;
    if (*arg && !*end)
        return n >= 1 && n <= count ? (int)n - 1 : -1;
    for (int i = 0; i < count; i++)
        if (strcmp(mw_tour_sections[i]->name, arg) == 0)
            return i;
    return -1;
}

/* 80 columns, or the terminal's width when it is wider, or 120 with --wide. */
static int text_width(bool wide)
{
    struct winsize ws;
    int w = wide ? WIDE_WIDTH : DEFAULT_WIDTH;

    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > w)
        w = ws.ws_col;
    return w > MAX_WIDTH ? MAX_WIDTH : w;
}

static int run(int argc, char **argv)
{
    enum { O_JSON = 256, O_NO_COLOR, O_HTML };
    static const struct option longopts[] = {
        {"section", required_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"json", no_argument, NULL, O_JSON},
        {"html", required_argument, NULL, O_HTML},
        {"wide", no_argument, NULL, 'w'},
        {"no-color", no_argument, NULL, O_NO_COLOR},
        {"no-colour", no_argument, NULL, O_NO_COLOR},
        {NULL, 0, NULL, 0},
    };
    struct tour_options opts = {0};
    static char exe[PATH_MAX];
    bool no_color = getenv("NO_COLOR") && *getenv("NO_COLOR"), wide = false;
    ssize_t n;
    int c, i;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:lw", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            i = find_section(optarg);
            if (i < 0) {
                mw_cli_error("tour", optarg, "no such section (try 'memwalk tour --list')");
                return MW_EXIT_USAGE;
            }
            opts.sections |= 1u << i;
            break;
        case 'l':
            for (i = 0; mw_tour_sections[i]; i++)
                printf("%d  %-12s %s\n", i + 1, mw_tour_sections[i]->name,
                       mw_tour_sections[i]->title);
            return MW_EXIT_OK;
        case O_JSON:
            opts.json = true;
            break;
        case O_HTML:
            if (!*optarg) {
                mw_cli_error("tour", "--html", "empty file name ('-' is standard output)");
                return MW_EXIT_USAGE;
            }
            opts.html = optarg;
            break;
        case 'w':
            wide = true;
            break;
        case O_NO_COLOR:
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
    if (opts.json && opts.html) {
        mw_cli_error("tour", "--json, --html", "choose one");
        return MW_EXIT_USAGE;
    }
    /* The page's file is opened first: a bad path should not cost a whole tour. */
    if (opts.html && strcmp(opts.html, "-") == 0) {
        opts.html_file = stdout;
    } else if (opts.html && !(opts.html_file = fopen(opts.html, "w"))) {
        int err = errno;
        mw_cli_error("tour", opts.html, "%s", strerror(err));
        return err == ENOMEM ? MW_EXIT_FAILURE : MW_EXIT_ACCESS;
    }
    opts.color = !opts.json && !opts.html && !no_color && isatty(STDOUT_FILENO);
    opts.width = text_width(wide);
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        opts.self_exe = exe;
    }
    opts.error = tour_error;
    int status = mw_tour_run(&opts) < 0 ? MW_EXIT_FAILURE : MW_EXIT_OK;
    if (opts.html_file && opts.html_file != stdout && fclose(opts.html_file) != 0) {
        mw_cli_error("tour", opts.html, "%s", strerror(errno));
        status = MW_EXIT_ACCESS;
    }
    return status;
}

MW_CLI_COMMAND(tour_cmd, "tour", "a guided walk through this machine's memory", run, usage, 50)
