/* The heap over time as an SVG: one stacked area per top allocation site of the peak, the other
 * sites and the extra bytes on top, the peak marked; drawn like memwalk's other charts (the
 * bench and maps charts' size, palette, fonts and grid). */
#include "cli/heap_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH     880
#define PAD       16
#define PLOT_TOP  92
#define PLOT_H    320
#define LEFT      84
#define RIGHT     (WIDTH - 28)
#define ROW       18
#define MAX_SITES 8

static const char *const palette[MAX_SITES] = {"#4e79a7", "#e15759", "#59a14f", "#f28e2b",
                                               "#b07aa1", "#76b7b2", "#edc948", "#9c755f"};
#define OTHER_COLOUR "#bab0ac"
#define EXTRA_COLOUR "#e3e3e3"

/* A round step for about n ticks over [0, max]; binary multiples for bytes. */
static double tick_step(double max, int n, int bytes)
{
    double raw = max / n, mag, f;

    if (raw <= 0)
        return 1;
    if (bytes && raw >= 1024) {
        mag = pow(1024, floor(log(raw) / log(1024)));
        f = raw / mag;
        /* 1, 2, 4, ... 512 of the unit */
        return mag * pow(2, ceil(log2(f)));
    }
    mag = pow(10, floor(log10(raw)));
    f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* A byte count for a tick or a legend: whole in its unit when it is ("6 MiB", "512 KiB"),
 * else rounded as the other charts round it ("1.5 MiB", "9.4 MiB"). */
static void bytes_label(char *buf, size_t len, double v)
{
    uint64_t b = v > 0 ? (uint64_t)llround(v) : 0;

    mw__format_bytes_as(b, MW__BYTES_EXACT, buf, len);
    if (strtoull(buf, NULL, 10) >= 1024)
        mw__format_bytes_as(b, MW__BYTES_ROUND, buf, len);
}

static void label(mw__sb_t *sb, double x, double y, const char *anchor, const char *cls,
                  const char *s)
{
    mw__sb_printf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"", x, y, anchor);
    if (cls)
        mw__sb_printf(sb, " class=\"%s\"", cls);
    mw__sb_putc(sb, '>');
    mw__sb_xml_str(sb, s);
    mw__sb_puts(sb, "</text>\n");
}

/* Sums entries of equal ip in a[0..n) (sorted by ip), keeping the sum (sum) or the largest
 * (!sum); returns the new count. */
static size_t merge_ips(struct hp_site *a, size_t n, int sum)
{
    size_t i, m = 0;

    for (i = 0; i < n; i++) {
        if (m && a[m - 1].ip == a[i].ip) {
            if (sum)
                a[m - 1].bytes += a[i].bytes;
            else if (a[i].bytes > a[m - 1].bytes)
                a[m - 1].bytes = a[i].bytes;
            continue;
        }
        a[m++] = a[i];
    }
    return m;
}

/* The sites drawn: those that held the most at any snapshot (a phase without the peak still
 * gets its colour), at most max. */
static size_t drawn_sites(const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                          struct hp_site *out, size_t max)
{
    size_t total = 0, n = 0, i, k;
    struct hp_site *all;

    for (i = 0; i < p->h.nsnaps; i++)
        total += p->snaps[i].h.ndetail;
    all = calloc(total + 1, sizeof *all);
    if (!all)
        return 0;
    for (i = 0; i < p->h.nsnaps; i++) {
        const struct hp_snap *s = &p->snaps[i];
        size_t first = n;
        for (k = 0; k < s->h.ndetail; k++, n++) {
            all[n].ip = st->ips[s->sites[k].trace][0];
            all[n].bytes = s->sites[k].bytes;
        }
        qsort(all + first, n - first, sizeof *all, hp_site_cmp_ip);
        n = first + merge_ips(all + first, n - first, 1);
    }
    qsort(all, n, sizeof *all, hp_site_cmp_ip);
    n = merge_ips(all, n, 0);
    return hp_sites_best(all, n, sym, out, max);
}

/* The bytes a snapshot holds in each layer: the top sites, the other sites, the extra bytes. */
static void layers(const struct hp_snap *s, const struct hp_stacks *st, const struct hp_site *top,
                   size_t ntop, double *out)
{
    double sum = 0;
    uint32_t i;
    size_t k;

    for (k = 0; k < ntop + 2; k++)
        out[k] = 0;
    for (i = 0; i < s->h.ndetail; i++) {
        uint64_t ip = st->ips[s->sites[i].trace][0];
        for (k = 0; k < ntop && top[k].ip != ip; k++)
            ;
        if (k < ntop) {
            out[k] += (double)s->sites[i].bytes;
            sum += (double)s->sites[i].bytes;
        }
    }
    out[ntop] = (double)s->h.heap > sum ? (double)s->h.heap - sum : 0;
    out[ntop + 1] = (double)s->h.extra;
}

int hp_svg_write(FILE *f, const struct hp_profile *p, const struct hp_stacks *st, lk_sym_t *sym,
                 const struct hp_svg_opts *o)
{
    struct hp_site top[MAX_SITES];
    size_t ntop = drawn_sites(p, st, sym, top, o->nsites < MAX_SITES ? o->nsites : MAX_SITES);
    size_t nl = ntop + 2, k;
    const struct hp_snap *peak = hp_peak(p);
    uint32_t n = p->h.nsnaps, i;
    double *cum = calloc((size_t)(n + 1) * (nl + 1), sizeof *cum), tmax = 1, ymax = 1, xs, ys, step;
    const int time_bytes = p->h.unit == MW__PROF_UNIT_B;
    const double pbot = PLOT_TOP + PLOT_H, legend_top = pbot + 58;
    double end_total;
    int has_end;
    double height = legend_top + ROW * (double)nl;
    mw__sb_t sb = {0};
    char buf[256], v[64];

    if (!cum)
        return -ENOMEM;
    /* cum[i * (nl + 1) + k]: the top of layer k - 1 at snapshot i (k = 0: the axis). */
    for (i = 0; i < n; i++) {
        double lay[MAX_SITES + 2], *c = &cum[(size_t)i * (nl + 1)];
        layers(&p->snaps[i], st, top, ntop, lay);
        for (k = 0; k < nl; k++)
            c[k + 1] = c[k] + lay[k];
        if (c[nl] > ymax)
            ymax = c[nl];
        if ((double)p->snaps[i].h.time > tmax)
            tmax = (double)p->snaps[i].h.time;
    }
    /* The program's end, after the last snapshot: drawn as a line of its own. */
    end_total = (double)(p->h.end_heap + p->h.end_extra);
    has_end = n > 0 && p->h.end_time > p->snaps[n - 1].h.time;
    if (has_end) {
        tmax = (double)p->h.end_time;
        if (end_total > ymax)
            ymax = end_total;
    }
    step = tick_step(ymax, 6, 1);
    ymax = ceil(ymax / step) * step;
    ys = PLOT_H / ymax;
    xs = (RIGHT - LEFT) / tmax;

    mw__sb_svg_open(&sb, WIDTH, height, 12,
                    ".title{font-size:15px;font-weight:bold}.label{fill:#333}"
                    ".note{fill:#444}.grid{stroke:#e3e3e3;fill:none}.axis{stroke:#555;fill:none}"
                    ".peak{stroke:#222;stroke-dasharray:4 3;fill:none}");
    label(&sb, PAD, PAD + 18, "start", "title", o->title ? o->title : "memwalk heap");
    if (peak) {
        char a[32], t[32];
        snprintf(buf, sizeof buf,
                 "heap (useful + extra bytes) by allocation site, %u snapshots; peak %s B at "
                 "time %s (%s)",
                 p->h.nsnaps, lk_commas(peak->h.heap + peak->h.extra, a, sizeof a),
                 lk_commas(peak->h.time, t, sizeof t),
                 time_bytes ? "bytes allocated and freed" : "ms");
        label(&sb, PAD, PAD + 40, "start", "note", buf);
    }

    /* Grid, ticks and axis labels. */
    for (double y = 0; y <= ymax + 1e-9; y += step) {
        double py = pbot - y * ys;
        mw__sb_printf(&sb, "<path d=\"M%d %.1fH%d\" class=\"grid\"/>\n", LEFT, py, RIGHT);
        bytes_label(v, sizeof v, y);
        label(&sb, LEFT - 6, py + 4, "end", NULL, v);
    }
    {
        double tstep = tick_step(tmax, 8, time_bytes);
        for (double t = 0; t <= tmax + 1e-9; t += tstep) {
            double px = LEFT + t * xs;
            mw__sb_printf(&sb, "<path d=\"M%.1f %dV%.1f\" class=\"grid\"/>\n", px, PLOT_TOP, pbot);
            if (time_bytes)
                bytes_label(v, sizeof v, t);
            else
                snprintf(v, sizeof v, "%g", t);
            label(&sb, px, pbot + 15, "middle", NULL, v);
        }
    }
    label(&sb, (LEFT + RIGHT) / 2.0, pbot + 34, "middle", "label",
          time_bytes ? "time (bytes allocated and freed)" : "time (ms)");
    mw__sb_printf(&sb, "<g transform=\"translate(%d %.1f) rotate(-90)\">", PAD + 4,
                  PLOT_TOP + PLOT_H / 2.0);
    label(&sb, 0, 0, "middle", "label", "heap");
    mw__sb_puts(&sb, "</g>\n");

    /* One area per layer: along its top, back along the top of the layer under it. */
    for (k = 0; k < nl && n > 0; k++) {
        const char *colour = k < ntop ? palette[k] : k == ntop ? OTHER_COLOUR : EXTRA_COLOUR;
        mw__sb_puts(&sb, "<path d=\"");
        for (i = 0; i < n; i++)
            mw__sb_printf(&sb, "%c%.1f %.1f", i ? 'L' : 'M', LEFT + (double)p->snaps[i].h.time * xs,
                          pbot - cum[(size_t)i * (nl + 1) + k + 1] * ys);
        for (i = n; i-- > 0;)
            mw__sb_printf(&sb, "L%.1f %.1f", LEFT + (double)p->snaps[i].h.time * xs,
                          pbot - cum[(size_t)i * (nl + 1) + k] * ys);
        mw__sb_printf(&sb, "Z\" fill=\"%s\" stroke=\"%s\" stroke-width=\"0.5\"/>\n", colour,
                      colour);
    }
    mw__sb_printf(&sb, "<path d=\"M%d %dV%.1fH%d\" class=\"axis\"/>\n", LEFT, PLOT_TOP, pbot,
                  RIGHT);
    if (has_end) {
        /* Between the last snapshot and the exit only the totals are known. */
        const struct hp_snap *last = &p->snaps[n - 1];
        double x0 = LEFT + (double)last->h.time * xs, x1 = LEFT + (double)p->h.end_time * xs,
               y1 = pbot - end_total * ys;
        bytes_label(v, sizeof v, end_total);
        mw__sb_printf(&sb, "<path d=\"M%.1f %.1fL%.1f %.1f\" class=\"peak\"/>\n", x0,
                      pbot - (double)(last->h.heap + last->h.extra) * ys, x1, y1);
        mw__sb_printf(&sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#555\"/>\n", x1, y1);
        snprintf(buf, sizeof buf, "exit: %s", v);
        label(&sb, x1 - 4, y1 - 8, "end", "note", buf);
    }

    /* The peak. */
    if (peak) {
        double px = LEFT + (double)peak->h.time * xs,
               py = pbot - (double)(peak->h.heap + peak->h.extra) * ys;
        char a[32], t[32];
        mw__sb_printf(&sb, "<path d=\"M%.1f %dV%.1f\" class=\"peak\"/>\n", px, PLOT_TOP - 6, pbot);
        mw__sb_printf(&sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#222\"/>\n", px, py);
        bytes_label(a, sizeof a, (double)(peak->h.heap + peak->h.extra));
        snprintf(buf, sizeof buf, "peak %s at %s %s", a, lk_commas(peak->h.time, t, sizeof t),
                 hp_unit_name(p));
        label(&sb, px > (LEFT + RIGHT) / 2.0 ? px - 6 : px + 6, PLOT_TOP - 8,
              px > (LEFT + RIGHT) / 2.0 ? "end" : "start", NULL, buf);
    }

    /* The legend: one row per layer, its bytes at the peak and its largest. */
    for (k = 0; k < nl; k++) {
        const char *colour = k < ntop ? palette[k] : k == ntop ? OTHER_COLOUR : EXTRA_COLOUR;
        double y = legend_top + ROW * (double)k;
        double lay[MAX_SITES + 2];
        if (peak)
            layers(peak, st, top, ntop, lay);
        else
            memset(lay, 0, sizeof lay);
        bytes_label(v, sizeof v, lay[k]);
        if (k < ntop) {
            char m[64];
            bytes_label(m, sizeof m, (double)top[k].bytes);
            snprintf(buf, sizeof buf, "%s: %s at the peak, at most %s", top[k].label, v, m);
        } else if (k == ntop)
            snprintf(buf, sizeof buf, "other allocation sites: %s", v);
        else
            snprintf(buf, sizeof buf,
                     "extra bytes (%llu B a block, sizes rounded up to 16 B, as massif counts): %s",
                     (unsigned long long)p->h.heap_admin, v);
        mw__sb_printf(&sb,
                      "<rect x=\"%d\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\" "
                      "stroke=\"#999\" stroke-width=\"0.5\"/>\n",
                      LEFT, y - 10, colour);
        label(&sb, LEFT + 18, y, "start", NULL, buf);
    }
    mw__sb_puts(&sb, "</svg>\n");
    free(cum);
    if (sb.err) {
        int err = sb.err;
        mw__sb_free(&sb);
        return err;
    }
    if (fwrite(sb.buf, 1, sb.len, f) != sb.len) {
        mw__sb_free(&sb);
        return -EIO;
    }
    mw__sb_free(&sb);
    return 0;
}
