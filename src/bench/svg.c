/* SVG charts of benchmark results: x-y lines (log axes for sizes) and horizontal bars. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH      880
#define PAD        16
#define TITLE_H    30
#define LEGEND_H   22
#define LINES_H    290 /* plot height of a line chart */
#define BAR_H      15  /* one bar */
#define ROW_GAP    10  /* between categories */
#define TICK_H     20  /* room for the value axis' tick labels */
#define LABEL_H    20  /* room for an axis label */
#define NOTE_LINE  16
#define NOTE_CHARS 125
#define CHAR_W     6.6 /* average width of a 12px sans-serif character */

static const char *const palette[] = {"#4e79a7", "#e15759", "#59a14f", "#f28e2b",
                                      "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};

/* A value axis: a linear range, or a logarithmic one in units of log_base(value). */
struct axis {
    double lo, hi;
    double base; /* 0: linear */
    double step; /* tick spacing, in axis units */
};

static double axis_unit(const struct axis *a, double v)
{
    return a->base ? log(v) / log(a->base) : v;
}

static int axis_has(const struct axis *a, double v)
{
    return isfinite(v) && (!a->base || v > 0);
}

/* Maps v onto the pixel range [p0, p1]. */
static double axis_px(const struct axis *a, double v, double p0, double p1)
{
    double t = (axis_unit(a, v) - a->lo) / (a->hi - a->lo);
    return p0 + t * (p1 - p0);
}

/* The axis around [vmin, vmax]: round bounds and a tick step giving at most ~max_ticks ticks. */
static void axis_fit(struct axis *a, double vmin, double vmax, double base, int max_ticks)
{
    a->base = base;
    if (!(vmin <= vmax)) { /* no data */
        vmin = base ? 1 : 0;
        vmax = base ? base : 1;
    }
    if (base) {
        a->lo = floor(axis_unit(a, vmin) + 1e-9);
        a->hi = ceil(axis_unit(a, vmax) - 1e-9);
        if (a->hi <= a->lo)
            a->hi = a->lo + 1;
        static const double steps[] = {1, 2, 3, 4, 5, 10, 20};
        a->step = steps[0];
        for (size_t i = 0; i < MW__ARRAY_LEN(steps); i++) {
            a->step = steps[i];
            if ((a->hi - a->lo) / steps[i] <= max_ticks)
                break;
        }
        a->lo = floor(a->lo / a->step) * a->step;
        a->hi = ceil(a->hi / a->step) * a->step;
        return;
    }
    if (vmin > 0)
        vmin = 0; /* lengths and times read honestly from zero */
    if (vmax <= vmin)
        vmax = vmin + 1;
    double raw = (vmax - vmin) / max_ticks, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    a->step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    a->lo = floor(vmin / a->step) * a->step;
    a->hi = ceil(vmax / a->step - 1e-9) * a->step;
    if (a->hi <= a->lo)
        a->hi = a->lo + a->step;
}

/* Writes v for a tick label or a bar's value, in the units the flags ask for. */
static void format_value(char *buf, size_t len, double v, int bytes, int ns, int precise)
{
    if (ns) {
        if (precise) {
            mw__bench_format_ns(v, buf, len);
            return;
        }
        double scaled;
        const char *unit = mw__bench_ns_unit(v, &scaled);
        snprintf(buf, len, "%g %s", scaled, unit); /* a tick: "1.5 us", "20 ms" */
    } else if (bytes && v >= 0 && v == floor(v) && v < 0x1p63) {
        /* A power of two whole ("64 MiB", the ticks of a log axis), other sizes rounded. */
        uint64_t b = (uint64_t)v;
        mw__format_bytes_as(b, (b & (b - 1)) == 0 ? MW__BYTES_EXACT : MW__BYTES_ROUND, buf, len);
    } else if (bytes) {
        snprintf(buf, len, "%g B", v);
    } else if (v == floor(v) && fabs(v) < 1e9) {
        snprintf(buf, len, "%.0f", v);
    } else {
        snprintf(buf, len, precise ? "%.3g" : "%g", v);
    }
}

static void text(mw__sb_t *sb, double x, double y, const char *anchor, const char *extra,
                 const char *s)
{
    mw__sb_printf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor,
                  extra ? " " : "", extra ? extra : "");
    mw__sb_xml_str(sb, s);
    mw__sb_puts(sb, "</text>\n");
}

/* The note's lines, wrapped at NOTE_CHARS (and at its own newlines). Writes each as a <text>
 * element (when sb is not NULL) and returns the count. */
static int note_lines(mw__sb_t *sb, const char *note, double x, double y)
{
    mw__sb_t lines = {0};
    int n = 0;

    if (!note || !*note)
        return 0;
    mw__sb_wrap(&lines, note, NOTE_CHARS, "", "");
    for (char *p = lines.buf, *end; p && (end = strchr(p, '\n')); p = end + 1, n++) {
        *end = '\0';
        if (sb)
            text(sb, x, y + n * NOTE_LINE, "start", "class=\"note\"", p);
    }
    mw__sb_free(&lines);
    return n;
}

/* The legend, one entry per series, in rows from (x, y); returns the number of rows (sb NULL:
 * only counts them). */
static int legend(mw__sb_t *sb, const mw_bench_chart_t *c, double x, double y)
{
    double x0 = x;
    int rows = c->nseries ? 1 : 0;

    for (size_t s = 0; s < c->nseries; s++) {
        const char *name = c->series[s].name ? c->series[s].name : "";
        double w = 16 + strlen(name) * CHAR_W + 18;
        if (x > x0 && x + w > WIDTH - PAD) {
            x = x0;
            y += LEGEND_H;
            rows++;
        }
        if (sb) {
            mw__sb_printf(sb,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                          "fill=\"%s\"/>\n",
                          x, y - 10, palette[s % MW__ARRAY_LEN(palette)]);
            text(sb, x + 16, y, "start", NULL, name);
        }
        x += w;
    }
    return rows;
}

/* The value range over every point (and error bar) that the axis can show. */
static void value_range(const mw_bench_chart_t *c, const struct axis *probe, int use_x,
                        double *vmin, double *vmax)
{
    *vmin = INFINITY;
    *vmax = -INFINITY;
    for (size_t s = 0; s < c->nseries; s++)
        for (size_t i = 0; i < c->series[s].count; i++) {
            const mw_bench_point_t *p = &c->series[s].points[i];
            double vals[3] = {use_x ? p->x : p->y, use_x ? NAN : p->lo, use_x ? NAN : p->hi};
            for (int k = 0; k < 3; k++)
                if (axis_has(probe, vals[k])) {
                    *vmin = vals[k] < *vmin ? vals[k] : *vmin;
                    *vmax = vals[k] > *vmax ? vals[k] : *vmax;
                }
        }
}

static void error_bar_v(mw__sb_t *sb, double x, double y0, double y1, const char *color)
{
    mw__sb_printf(sb,
                  "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fh6M%.1f %.1fh6\" stroke=\"%s\" "
                  "fill=\"none\"/>\n",
                  x, y0, y1, x - 3, y0, x - 3, y1, color);
}

/* A line chart; returns its height. */
static double draw_lines(mw__sb_t *sb, const mw_bench_chart_t *c, double top)
{
    struct axis ax = {0}, ay = {0};
    double vmin, vmax;
    const int bytes = !!(c->flags & MW_BENCH_CHART_X_BYTES),
              ns = !!(c->flags & MW_BENCH_CHART_Y_NS);
    const double left = 84, right = WIDTH - 28;
    const double legend_h =
        LEGEND_H * (legend(NULL, c, left, 0) > 1 ? legend(NULL, c, left, 0) : 1);
    const double ptop = top + TITLE_H + legend_h, pbot = ptop + LINES_H;
    char buf[64];

    ax.base = (c->flags & MW_BENCH_CHART_LOG_X) ? (bytes ? 2 : 10) : 0;
    value_range(c, &ax, 1, &vmin, &vmax);
    axis_fit(&ax, vmin, vmax, ax.base, 12);
    ay.base = (c->flags & MW_BENCH_CHART_LOG_Y) ? 10 : 0;
    value_range(c, &ay, 0, &vmin, &vmax);
    axis_fit(&ay, vmin, vmax, ay.base, ay.base ? 9 : 6);

    /* Grid and tick labels. */
    for (double t = ay.lo; t <= ay.hi + 1e-9; t += ay.step) {
        double v = ay.base ? pow(ay.base, t) : t, y = axis_px(&ay, v, pbot, ptop);
        mw__sb_printf(sb, "<path d=\"M%.1f %.1fH%.1f\" class=\"grid\"/>\n", left, y, right);
        format_value(buf, sizeof buf, v, 0, ns, 0);
        text(sb, left - 6, y + 4, "end", NULL, buf);
    }
    for (double t = ax.lo; t <= ax.hi + 1e-9; t += ax.step) {
        double v = ax.base ? pow(ax.base, t) : t, x = axis_px(&ax, v, left, right);
        mw__sb_printf(sb, "<path d=\"M%.1f %.1fV%.1f\" class=\"grid\"/>\n", x, ptop, pbot);
        format_value(buf, sizeof buf, v, bytes, 0, 0);
        text(sb, x, pbot + 15, "middle", NULL, buf);
    }
    mw__sb_printf(sb, "<path d=\"M%.1f %.1fV%.1fH%.1f\" class=\"axis\"/>\n", left, ptop, pbot,
                  right);
    if (c->x_label)
        text(sb, (left + right) / 2, pbot + TICK_H + 14, "middle", "class=\"label\"", c->x_label);
    if (c->y_label) {
        mw__sb_printf(sb, "<g transform=\"translate(%d %.1f) rotate(-90)\">", PAD + 4,
                      (ptop + pbot) / 2);
        text(sb, 0, 0, "middle", "class=\"label\"", c->y_label);
        mw__sb_puts(sb, "</g>\n");
    }

    for (size_t s = 0; s < c->nseries; s++) {
        const mw_bench_series_t *se = &c->series[s];
        const char *color = palette[s % MW__ARRAY_LEN(palette)];
        int open = 0;
        for (size_t i = 0; i < se->count; i++) {
            const mw_bench_point_t *p = &se->points[i];
            if (!axis_has(&ax, p->x) || !axis_has(&ay, p->y)) {
                if (open)
                    mw__sb_printf(sb, "\" stroke=\"%s\"/>\n", color);
                open = 0;
                continue;
            }
            double x = axis_px(&ax, p->x, left, right), y = axis_px(&ay, p->y, pbot, ptop);
            if (!open)
                mw__sb_printf(sb, "<path class=\"line\" d=\"M%.1f %.1f", x, y);
            else
                mw__sb_printf(sb, "L%.1f %.1f", x, y);
            open = 1;
        }
        if (open)
            mw__sb_printf(sb, "\" stroke=\"%s\"/>\n", color);
        for (size_t i = 0; i < se->count; i++) {
            const mw_bench_point_t *p = &se->points[i];
            if (!axis_has(&ax, p->x) || !axis_has(&ay, p->y))
                continue;
            double x = axis_px(&ax, p->x, left, right), y = axis_px(&ay, p->y, pbot, ptop);
            if (axis_has(&ay, p->lo) && axis_has(&ay, p->hi))
                error_bar_v(sb, x, axis_px(&ay, p->lo, pbot, ptop), axis_px(&ay, p->hi, pbot, ptop),
                            color);
            mw__sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\" fill=\"%s\"/>\n", x, y,
                          color);
        }
    }
    legend(sb, c, left, top + TITLE_H + 12);
    double h = TITLE_H + legend_h + LINES_H + TICK_H + (c->x_label ? LABEL_H : 0);
    int notes = note_lines(sb, c->note, left, top + h + 8);
    return h + notes * NOTE_LINE + PAD;
}

/* A horizontal bar chart; returns its height. */
static double draw_bars(mw__sb_t *sb, const mw_bench_chart_t *c, double top)
{
    struct axis av = {0};
    double vmin, vmax, label_w = 60;
    const int ns = !!(c->flags & MW_BENCH_CHART_Y_NS);
    const double row_h = (double)c->nseries * BAR_H + ROW_GAP;
    char buf[64];

    for (size_t i = 0; i < c->ncategories; i++) {
        double w = strlen(c->categories[i] ? c->categories[i] : "") * CHAR_W + 12;
        label_w = w > label_w ? w : label_w;
    }
    label_w = label_w > 320 ? 320 : label_w;
    const double left = PAD + label_w, right = WIDTH - 96; /* room for value labels */
    const int lrows = legend(NULL, c, left, 0);
    const double ptop = top + TITLE_H + LEGEND_H * (lrows > 1 ? lrows : 1);
    const double pbot = ptop + row_h * c->ncategories;

    av.base = (c->flags & MW_BENCH_CHART_LOG_Y) ? 10 : 0;
    value_range(c, &av, 0, &vmin, &vmax);
    /* A bar starts at the axis' origin: on a log scale, keep the smallest value off it (a count
     * of 1 on an axis starting at 1 would be a bar of no length). */
    axis_fit(&av, av.base ? vmin / 2 : vmin, vmax, av.base, 8);

    for (double t = av.lo; t <= av.hi + 1e-9; t += av.step) {
        double v = av.base ? pow(av.base, t) : t, x = axis_px(&av, v, left, right);
        mw__sb_printf(sb, "<path d=\"M%.1f %.1fV%.1f\" class=\"grid\"/>\n", x, ptop, pbot);
        format_value(buf, sizeof buf, v, 0, ns, 0);
        text(sb, x, pbot + 15, "middle", NULL, buf);
    }
    for (size_t i = 0; i < c->ncategories; i++) {
        double y0 = ptop + i * row_h + ROW_GAP / 2.0;
        text(sb, left - 8, y0 + c->nseries * BAR_H / 2.0 + 4, "end", NULL,
             c->categories[i] ? c->categories[i] : "");
        for (size_t s = 0; s < c->nseries; s++) {
            const mw_bench_series_t *se = &c->series[s];
            const char *color = palette[s % MW__ARRAY_LEN(palette)];
            if (i >= se->count || !axis_has(&av, se->points[i].y))
                continue;
            const mw_bench_point_t *p = &se->points[i];
            double y = y0 + s * BAR_H, x = axis_px(&av, p->y, left, right);
            if (x < left)
                x = left;
            mw__sb_printf(sb,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                          "fill=\"%s\"/>\n",
                          left, y + 1, x - left, BAR_H - 2, color);
            double end = x;
            if (axis_has(&av, p->lo) && axis_has(&av, p->hi)) {
                double xl = axis_px(&av, p->lo, left, right), xh = axis_px(&av, p->hi, left, right);
                double ym = y + BAR_H / 2.0;
                mw__sb_printf(sb,
                              "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" "
                              "class=\"whisker\"/>\n",
                              xl, ym, xh, xl, ym - 4, ym + 4, xh, ym - 4, ym + 4);
                end = xh > end ? xh : end;
            }
            format_value(buf, sizeof buf, p->y, 0, ns, 1);
            text(sb, end + 5, y + BAR_H - 3, "start", "class=\"value\"", buf);
        }
    }
    mw__sb_printf(sb, "<path d=\"M%.1f %.1fV%.1fH%.1f\" class=\"axis\"/>\n", left, ptop, pbot,
                  right);
    if (c->y_label)
        text(sb, (left + right) / 2, pbot + TICK_H + 14, "middle", "class=\"label\"", c->y_label);
    legend(sb, c, left, top + TITLE_H + 12);
    double h = (pbot - top) + TICK_H + (c->y_label ? LABEL_H : 0);
    int notes = note_lines(sb, c->note, PAD, top + h + 8);
    return h + notes * NOTE_LINE + PAD;
}

int mw_bench_chart_write_svg(FILE *out, const mw_bench_chart_t *charts, size_t n)
{
    mw__sb_t body = {0}, sb = {0};
    double y = PAD;

    if (!out || !charts || n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const mw_bench_chart_t *c = &charts[i];
        if (c->kind == MW_BENCH_CHART_BARS && (!c->categories || c->ncategories == 0))
            return -EINVAL;
        if (c->nseries && !c->series)
            return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const mw_bench_chart_t *c = &charts[i];
        if (c->title)
            text(&body, PAD, y + 18, "start", "class=\"title\"", c->title);
        y += c->kind == MW_BENCH_CHART_BARS ? draw_bars(&body, c, y) : draw_lines(&body, c, y);
    }
    mw__sb_svg_open(&sb, WIDTH, y, 12,
                    ".title{font-size:15px;font-weight:bold}.label{fill:#333}"
                    ".note{fill:#444;font-size:12px}.value{fill:#222;font-size:11px}"
                    ".grid{stroke:#e3e3e3;fill:none}.axis{stroke:#555;fill:none}"
                    ".line{fill:none;stroke-width:2}.whisker{stroke:#222;fill:none}");
    mw__sb_putn(&sb, body.buf ? body.buf : "", body.len);
    mw__sb_puts(&sb, "</svg>\n");
    if (body.err)
        sb.err = body.err;
    mw__sb_free(&body);
    return mw__bench_flush(out, &sb);
}

int mw_bench_write_svg(FILE *out, const mw_bench_report_t *rep)
{
    mw_bench_point_t *pts;
    const char **names;
    double lo = INFINITY, hi = 0;
    int err;

    if (!rep || rep->count == 0 || !rep->results)
        return -EINVAL;
    pts = calloc(rep->count, sizeof *pts);
    names = calloc(rep->count, sizeof *names);
    if (!pts || !names) {
        free(pts);
        free(names);
        return -ENOMEM;
    }
    for (size_t i = 0; i < rep->count; i++) {
        const mw_bench_result_t *r = &rep->results[i];
        pts[i] = (mw_bench_point_t){(double)i, r->wall_ns.median, r->wall_ns.min, r->wall_ns.max};
        names[i] = r->name;
        if (r->wall_ns.min > 0 && r->wall_ns.min < lo)
            lo = r->wall_ns.min;
        hi = r->wall_ns.max > hi ? r->wall_ns.max : hi;
    }
    mw_bench_series_t series = {"median, min..max", pts, rep->count};
    mw_bench_chart_t chart = {
        .title = rep->title ? rep->title : "memwalk bench",
        .y_label = "time per operation",
        .kind = MW_BENCH_CHART_BARS,
        .flags = MW_BENCH_CHART_Y_NS | (hi / lo > 50 ? MW_BENCH_CHART_LOG_Y : 0),
        .series = &series,
        .nseries = 1,
        .categories = names,
        .ncategories = rep->count,
    };
    err = mw_bench_chart_write_svg(out, &chart, 1);
    free(pts);
    free(names);
    return err;
}
