/* mw_bench_main: a ready main() for programs made of MW_BENCH registrations. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { FMT_TEXT, FMT_CSV, FMT_JSON };

static void usage(FILE *out, const char *prog)
{
    fprintf(out,
            "usage: %s [--filter REGEX] [--list] [--csv|--json] [--svg FILE] [--baseline NAME]\n"
            "       %*s [--samples N] [--min-time MS] [--quick]\n\n"
            "Runs the benchmarks registered with MW_BENCH whose name matches REGEX (POSIX\n"
            "extended, searched anywhere) and prints min, median, mean, MAD and max per\n"
            "operation, CPU time and page faults, with the state of the machine.\n\n"
            "  --filter REGEX   run only the matching benchmarks\n"
            "  --list           print the names that would run, and stop\n"
            "  --csv, --json    machine-readable output instead of the table\n"
            "  --svg FILE       also draw the medians as a bar chart ('-': standard output,\n"
            "                   the table then goes to standard error)\n"
            "  --baseline NAME  add each median relative to NAME's\n"
            "  --samples N      timed samples per benchmark (default %d)\n"
            "  --min-time MS    minimum duration of one sample (default %g ms)\n"
            "  --quick          5 samples of at least 2 ms: a rough look\n\n"
            "Exit status: 0 ok, 1 a benchmark failed, 2 bad usage (a filter that matches no\n"
            "benchmark too), 3 the SVG file could not be written.\n",
            prog, (int)strlen(prog), "", MW_BENCH_DEFAULT_SAMPLES,
            MW_BENCH_DEFAULT_MIN_SAMPLE_NS / 1e6);
}

static int bad(const char *prog, const char *what, const char *why)
{
    fprintf(stderr, "%s: %s: %s (try '%s --help')\n", prog, what, why, prog);
    return 2;
}

int mw_bench_main(int argc, char **argv)
{
    static const struct option opts[] = {{"filter", required_argument, NULL, 'f'},
                                         {"list", no_argument, NULL, 'l'},
                                         {"csv", no_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"svg", required_argument, NULL, 's'},
                                         {"baseline", required_argument, NULL, 'b'},
                                         {"samples", required_argument, NULL, 'n'},
                                         {"min-time", required_argument, NULL, 't'},
                                         {"quick", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prog = argc > 0 && argv[0] ? basename(argv[0]) : "bench";
    const char *filter = NULL, *svg = NULL, *baseline = NULL;
    int fmt = FMT_TEXT, list = 0, opt, status = 0;
    unsigned samples = 0;
    double min_ns = 0;
    uint64_t num;
    char *end;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            filter = optarg;
            if (mw_bench_filter_match(filter, "") < 0)
                return bad(prog, filter, "not a valid regular expression");
            break;
        case 'l':
            list = 1;
            break;
        case 'c':
        case 'j':
            if (fmt != FMT_TEXT)
                return bad(prog, "--csv, --json", "choose one output format");
            fmt = opt == 'c' ? FMT_CSV : FMT_JSON;
            break;
        case 's':
            if (!*optarg)
                return bad(prog, "--svg", "empty file name ('-' is standard output)");
            svg = optarg;
            break;
        case 'b':
            baseline = optarg;
            break;
        case 'n':
            if (mw__parse_u64(optarg, &num) < 0 || num == 0 || num > MW_BENCH_MAX_SAMPLES)
                return bad(prog, optarg, "--samples wants a number from 1 to 100000");
            samples = (unsigned)num;
            break;
        case 't':
            errno = 0;
            min_ns = strtod(optarg, &end) * 1e6;
            if (errno || end == optarg || *end || !(min_ns > 0) || min_ns > 60e9)
                return bad(prog, optarg, "--min-time wants milliseconds, above 0 and up to 60000");
            break;
        case 'q':
            samples = samples ? samples : 5;
            min_ns = min_ns > 0 ? min_ns : 2e6;
            break;
        case 'h':
            usage(stdout, prog);
            return 0;
        case ':':
            return bad(prog, argv[optind - 1], "option requires an argument");
        default:
            return bad(prog, argv[optind - 1], "unknown option");
        }
    }
    if (optind < argc)
        return bad(prog, argv[optind], "unexpected argument");

    int svg_stdout = svg && strcmp(svg, "-") == 0;
    if (svg_stdout && fmt != FMT_TEXT && !list)
        return bad(prog, "--svg -", "--csv and --json also write to standard output");
    size_t total = mw_bench_registered_count(), n = 0, matched = 0;
    for (size_t i = 0; i < total; i++)
        matched += mw_bench_filter_match(filter, mw_bench_registered(i)->name) == 1;
    if (matched == 0 && !list)
        return bad(prog, filter ? filter : "--filter", "no benchmark matches");
    if (baseline && !list) {
        size_t i = 0;
        while (i < total && (strcmp(mw_bench_registered(i)->name, baseline) != 0 ||
                             mw_bench_filter_match(filter, baseline) != 1))
            i++;
        if (i == total)
            return bad(prog, baseline, "--baseline names no benchmark selected to run");
    }
    mw_bench_result_t *results = calloc(total ? total : 1, sizeof *results);
    if (!results) {
        fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
        return 1;
    }
    /* Open the chart's file first: a typo should not cost the whole run. */
    FILE *svg_file = NULL, *out = svg_stdout ? stderr : stdout;
    if (svg_stdout && !list)
        svg_file = stdout;
    else if (svg && !list && !(svg_file = fopen(svg, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, svg, strerror(errno));
        free(results);
        return 3;
    }
    for (size_t i = 0; i < total; i++) {
        mw_bench_spec_t spec = *mw_bench_registered(i);
        if (mw_bench_filter_match(filter, spec.name) != 1)
            continue;
        if (list) {
            printf("%s\n", spec.name);
            continue;
        }
        if (samples)
            spec.samples = samples;
        if (min_ns > 0)
            spec.min_sample_ns = min_ns;
        int err = mw_bench_run(&spec, &results[n]);
        if (err < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, spec.name, strerror(-err));
            status = 1;
            continue;
        }
        n++;
    }
    if (list) {
        free(results);
        return 0;
    }

    mw_bench_env_t env;
    mw_bench_env_read(&env);
    for (size_t i = 0; baseline && i <= n; i++)
        if (i == n) {
            fprintf(stderr, "%s: %s: the baseline failed: no relative figures\n", prog, baseline);
            baseline = NULL;
        } else if (strcmp(results[i].name, baseline) == 0) {
            break;
        }
    mw_bench_report_t rep = {
        .title = prog, .env = &env, .results = results, .count = n, .baseline = baseline};
    int err = fmt == FMT_CSV    ? mw_bench_write_csv(out, &rep)
              : fmt == FMT_JSON ? mw_bench_write_json(out, &rep)
                                : mw_bench_write_text(out, &rep);
    if (err < 0)
        status = 1;
    if (svg_file) {
        errno = 0;
        int werr = n > 0 ? mw_bench_write_svg(svg_file, &rep) : 0;
        if ((svg_stdout ? fflush(svg_file) : fclose(svg_file)) != 0 || werr < 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, svg, strerror(errno ? errno : EIO));
            status = 3;
        }
    }
    free(results);
    return status;
}
