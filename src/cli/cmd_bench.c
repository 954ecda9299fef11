/* `memwalk bench`: runs the allocation experiments and prints what they measured and what this
 * run's numbers conclude, as text, CSV or JSON, with an optional SVG chart. */
#include "cli/cli.h"
#include "lab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { FMT_TEXT, FMT_CSV, FMT_JSON };

#define DEFAULT_BUDGET_S 10.0
#define QUICK_BUDGET_S   3.0

static void bench_usage(FILE *out)
{
    fprintf(out,
            "usage: memwalk bench [EXPERIMENT...] [--csv|--json] [--svg FILE] [--quick]\n"
            "                     [--budget SECONDS]\n"
            "       memwalk bench --list\n\n"
            "Measures how memory allocation behaves on this machine and says what the numbers\n"
            "show. Without EXPERIMENT, runs them all. The work is sized to a time budget from the\n"
            "measured cost of a page fault, and the report says what the budget cut.\n\n"
            "experiments:\n");
    for (size_t i = 0; mw__lab_all[i]; i++)
        fprintf(out, "  %-14s %s\n", mw__lab_all[i]->name, mw__lab_all[i]->summary);
    fprintf(out,
            "\noptions:\n"
            "  --csv            one CSV table of every measured row instead of the text report\n"
            "  --json           one JSON document with every measured value and the conclusions\n"
            "  --svg FILE       also draw the results as charts into FILE ('-': standard output,\n"
            "                   the text report then goes to standard error)\n"
            "  --budget SECONDS the time the whole run may take (default %g, %g with --quick)\n"
            "  --quick          fewer and shorter samples: counts stay exact, times get noisier\n"
            "  --list           print the experiments and stop\n\n"
            "Exit status: 0 ok, 2 bad usage, 3 FILE cannot be written, 4 an experiment failed.\n"
            "See memwalk-bench(1).\n",
            DEFAULT_BUDGET_S, QUICK_BUDGET_S);
}

static const mw__lab_budget_t *budget_of(const mw__lab_exp_t *e, const void *result)
{
    return (const mw__lab_budget_t *)((const char *)result + e->budget_offset);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends the lines of text wrapped at width columns: a line starting with "- " continues
 * under its first word, any other keeps its leading spaces (up to 15) as its indent. */
static void wrap_lines(mw__sb_t *sb, const char *text, size_t width)
{
    char indent[16];

    while (*text) {
        size_t len = strcspn(text, "\n"), lead = strspn(text, " ");
        char *line = strndup(text, len);
        if (!line) {
            sb->err = -ENOMEM;
            return;
        }
        if (strncmp(line, "- ", 2) == 0) {
            mw__sb_wrap(sb, line + 2, width, "- ", "  ");
        } else {
            snprintf(indent, sizeof indent, "%.*s", (int)MW__MIN(lead, sizeof indent - 1), line);
            mw__sb_wrap(sb, line + lead, width, indent, indent);
        }
        free(line);
        text += len;
        if (*text == '\n')
            text++;
    }
}

static int write_svg(FILE *f, mw__lab_chart_t *charts, size_t n)
{
    mw_bench_chart_t *list = calloc(n ? n : 1, sizeof *list);
    int err;

    if (!list)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        list[i] = charts[i].chart;
    err = n ? mw_bench_chart_write_svg(f, list, n) : 0;
    free(list);
    return err;
}

/* The budget in seconds: a positive number up to an hour. */
static int parse_budget(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 3600)
        return -EINVAL;
    *out = v;
    return 0;
}

static int bench_run(int argc, char **argv)
{
    static const struct option opts[] = {{"csv", no_argument, NULL, 'c'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"svg", required_argument, NULL, 's'},
                                         {"quick", no_argument, NULL, 'q'},
                                         {"list", no_argument, NULL, 'l'},
                                         {"budget", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const mw__lab_exp_t *chosen[8];
    size_t nchosen = 0;
    const char *svg = NULL;
    int fmt = FMT_TEXT, list = 0, opt, status = MW_EXIT_OK;
    double budget_s = 0;
    mw__lab_opts_t eopts = {0};

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
        case 'j':
            if (fmt != FMT_TEXT && fmt != (opt == 'c' ? FMT_CSV : FMT_JSON)) {
                mw_cli_error("bench", "--csv, --json", "choose one output format");
                return MW_EXIT_USAGE;
            }
            fmt = opt == 'c' ? FMT_CSV : FMT_JSON;
            break;
        case 's':
            if (!*optarg) {
                mw_cli_error("bench", "--svg", "empty file name ('-' is standard output)");
                return MW_EXIT_USAGE;
            }
            svg = optarg;
            break;
        case 'b':
            if (parse_budget(optarg, &budget_s) < 0) {
                mw_cli_error("bench", "--budget", "'%s': expected seconds, above 0, up to 3600",
                             optarg);
                return MW_EXIT_USAGE;
            }
            break;
        case 'q':
            eopts.quick = 1;
            break;
        case 'l':
            list = 1;
            break;
        default:
            return mw_cli_bad_option("bench", argv, opt);
        }
    }
    for (int i = optind; i < argc; i++) {
        const mw__lab_exp_t *e = mw__lab_find(argv[i]);
        if (!e) {
            mw_cli_error("bench", argv[i], "no such experiment (try 'memwalk bench --list')");
            return MW_EXIT_USAGE;
        }
        size_t k = 0;
        while (k < nchosen && chosen[k] != e)
            k++;
        if (k == nchosen && nchosen < MW__ARRAY_LEN(chosen))
            chosen[nchosen++] = e;
    }
    if (list) {
        for (size_t i = 0; mw__lab_all[i]; i++)
            printf("%-14s %s\n", mw__lab_all[i]->name, mw__lab_all[i]->summary);
        return MW_EXIT_OK;
    }
    int svg_stdout = svg && strcmp(svg, "-") == 0;
    if (svg_stdout && fmt != FMT_TEXT) {
        mw_cli_error("bench", "--svg -", "%s also writes to standard output: give --svg a file",
                     fmt == FMT_CSV ? "--csv" : "--json");
        return MW_EXIT_USAGE;
    }
    if (nchosen == 0)
        for (size_t i = 0; mw__lab_all[i] && nchosen < MW__ARRAY_LEN(chosen); i++)
            chosen[nchosen++] = mw__lab_all[i];
    if (!budget_s)
        budget_s = eopts.quick ? QUICK_BUDGET_S : DEFAULT_BUDGET_S;

    /* The chart's file is opened first: a bad path should not cost a whole run. */
    FILE *svg_file = NULL, *out = svg_stdout ? stderr : stdout;
    if (svg_stdout)
        svg_file = stdout;
    else if (svg && !(svg_file = fopen(svg, "w"))) {
        int err = errno;
        mw_cli_error("bench", svg, "%s", strerror(err));
        return err == ENOMEM ? MW_EXIT_FAILURE : MW_EXIT_ACCESS;
    }
    mw__lab_chart_t *charts = calloc(nchosen * MW__LAB_MAX_CHARTS, sizeof *charts);
    if (!charts) {
        mw_cli_error("bench", NULL, "%s", strerror(ENOMEM));
        if (svg_file && !svg_stdout)
            fclose(svg_file);
        return MW_EXIT_FAILURE;
    }
    size_t ncharts = 0;

    double start = now_s();
    mw_bench_env_t env;
    mw_bench_env_read(&env);
    eopts.fault_ns = mw__lab_fault_ns(&eopts.free_ns);
    mw__sb_t sb = {0};
    mw__json_t j;
    char fb[32];
    int werr = 0;
    if (fmt == FMT_TEXT) {
        fprintf(out, "memwalk bench %s: allocation on this machine%s\n", MW_VERSION_STRING,
                eopts.quick ? " (quick run)" : "");
        mw_bench_env_write(out, &env);
        fprintf(out,
                "# budget: %g s; a fresh page costs %s to fault in here (measured): the work is "
                "sized to fit\n",
                budget_s, mw__bench_format_ns(eopts.fault_ns, fb, sizeof fb));
    } else if (fmt == FMT_CSV) {
        mw__sb_puts(&sb, MW__LAB_CSV_HEADER);
        werr = mw__bench_flush(out, &sb);
    } else {
        mw__json_init(&j, &sb);
        mw__json_object(&j, NULL);
        mw__json_str(&j, "memwalk", MW_VERSION_STRING);
        mw__json_bool(&j, "quick", eopts.quick);
        mw__json_num(&j, "budget_s", budget_s);
        mw__json_num(&j, "fault_ns", eopts.fault_ns);
        mw__json_num(&j, "free_ns", eopts.free_ns);
        mw__bench_env_json(&j, "env", &env);
        mw__json_rows(&j, "experiments");
    }

    for (size_t i = 0; i < nchosen && !werr; i++) {
        const mw__lab_exp_t *e = chosen[i];
        void *result = calloc(1, e->result_size);
        /* This experiment's share of what is left, by the weights of those still to run. */
        double left = budget_s - (now_s() - start), weights = 0;
        for (size_t k = i; k < nchosen; k++)
            weights += chosen[k]->weight;
        double share = left * e->weight / weights;
        eopts.budget_ns = (share > 0.05 ? share : 0.05) * 1e9;
        double t0 = now_s();
        int err = result ? e->run(&eopts, result) : -ENOMEM;
        double secs = now_s() - t0;

        if (err < 0) {
            mw_cli_error("bench", e->name, "%s",
                         err == -ECHILD ? "the measuring process died (out of memory?)"
                                        : strerror(-err));
            status = MW_EXIT_FAILURE;
            free(result);
            continue;
        }
        const mw__lab_budget_t *b = budget_of(e, result);
        if (fmt == FMT_TEXT) {
            mw__sb_printf(&sb, "\n%s: %s\n", e->name, e->summary);
            mw__sb_wrap(&sb, e->measures, 100, "  ", "  ");
            mw__sb_putc(&sb, '\n');
            e->table(&sb, result);
            mw__sb_puts(&sb, "\nWhat this run shows:\n");
            mw__sb_t text = {0};
            e->conclude(&text, result);
            wrap_lines(&sb, text.buf ? text.buf : "", 100);
            mw__sb_free(&text);
            mw__sb_t note = {0};
            mw__sb_printf(&note, "(%s measured in %.1f s of its %.1f s share%s%s)", e->name, secs,
                          b->budget_ns / 1e9, b->cut[0] ? "; cut to fit: " : "", b->cut);
            mw__sb_wrap(&sb, note.buf ? note.buf : "", 100, "", "");
            mw__sb_free(&note);
        } else if (fmt == FMT_CSV) {
            e->csv(&sb, result);
        } else {
            mw__sb_t text = {0};
            e->conclude(&text, result);
            mw__json_object(&j, NULL);
            mw__json_str(&j, "name", e->name);
            mw__json_str(&j, "summary", e->summary);
            mw__json_str(&j, "measures", e->measures);
            mw__json_num(&j, "seconds", secs);
            e->json(&j, "data", result);
            mw__json_str(&j, "conclusion", text.buf ? text.buf : "");
            mw__json_end(&j);
            if (text.err)
                sb.err = text.err;
            mw__sb_free(&text);
        }
        if (fmt != FMT_JSON)
            werr = mw__bench_flush(out, &sb);
        if (svg_file)
            ncharts += e->charts(result, &charts[ncharts]);
        free(result);
    }
    double total = now_s() - start;
    if (fmt == FMT_TEXT && !werr) {
        mw__sb_printf(&sb, "\nmemwalk bench: %.1f s in all, for a budget of %g s\n", total,
                      budget_s);
        werr = mw__bench_flush(out, &sb);
    } else if (fmt == FMT_JSON && !werr) {
        mw__json_end(&j);
        mw__json_num(&j, "seconds", total);
        mw__json_end(&j);
        if ((werr = mw__json_finish(&j)) == 0) {
            mw__sb_putc(&sb, '\n');
            werr = mw__bench_flush(out, &sb);
        }
    }
    mw__sb_free(&sb);
    if (werr < 0) {
        /* A closed pipe (memwalk bench | head) is not worth a message; main reports other write
         * errors. Out of memory is said here. */
        if (werr != -EIO)
            mw_cli_error("bench", NULL, "%s", strerror(-werr));
        status = status ? status : MW_EXIT_FAILURE;
    }
    if (svg_file) {
        errno = 0;
        int err = write_svg(svg_file, charts, ncharts);
        if (!svg_stdout && fclose(svg_file) != 0 && err == 0)
            err = -errno;
        if (err < 0) {
            mw_cli_error("bench", svg, "%s", strerror(-err));
            status = err == -ENOMEM ? MW_EXIT_FAILURE : MW_EXIT_ACCESS;
        }
    }
    free(charts);
    return status;
}

MW_CLI_COMMAND(bench_cmd, "bench", "measure allocation: stack vs heap, reuse, sizes, page faults",
               bench_run, bench_usage, 40)
