/* Draws an address space as an SVG: high addresses on top, one box per run of adjacent regions of
 * one object, coloured by kind, with gaps compressed to a labelled break. */
#include "maps/maps_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

#define WIDTH   980
#define TOP     74
#define ADDR_X  12
#define BOX_X   170
#define BOX_W   190
#define LABEL_X (BOX_X + BOX_W + 16)
#define GAP_H   26
#define ROW_MIN 20
#define ROW_MAX 96

static const char *const colours[MW_REGION_KIND_COUNT] = {
    [MW_REGION_TEXT] = "#4e79a7",         [MW_REGION_RODATA] = "#a0cbe8",
    [MW_REGION_DATA] = "#f28e2b",         [MW_REGION_BSS] = "#ffbe7d",
    [MW_REGION_HEAP] = "#59a14f",         [MW_REGION_STACK] = "#e15759",
    [MW_REGION_THREAD_STACK] = "#ff9d9a", [MW_REGION_ANON] = "#bab0ac",
    [MW_REGION_FILE] = "#9c755f",         [MW_REGION_VDSO] = "#b07aa1",
    [MW_REGION_VVAR] = "#d4a6c8",         [MW_REGION_VSYSCALL] = "#7b5c7b",
    [MW_REGION_NAMED_ANON] = "#8cd17d",   [MW_REGION_SHM] = "#f1ce63",
    [MW_REGION_GUARD] = "#3b3b3b",        [MW_REGION_RESERVED] = "#ececec",
};

/* A run of adjacent regions drawn as one box: regions [first, last]. */
struct row {
    size_t first, last;
    double h;
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s && s[1] ? s + 1 : path;
}

/* The name a row is known by: a file's base name, a pseudo-path, or the kind. */
static void row_name(const mw_region_t *r, char *buf, size_t len)
{
    if (r->path[0] && r->path[0] != '[')
        snprintf(buf, len, "%s%s", base_name(r->path), r->deleted ? " (deleted)" : "");
    else if (r->path[0])
        snprintf(buf, len, "%s", r->path);
    else if (r->kind == MW_REGION_THREAD_STACK && r->tid)
        snprintf(buf, len, "thread stack (tid %d)", (int)r->tid);
    else
        snprintf(buf, len, "%s", mw_region_kind_name(r->kind));
}

/* Two adjacent regions share a row when they belong to one object or are alike. */
static int same_row(const mw_region_t *a, const mw_region_t *b)
{
    if (a->end != b->start)
        return 0;
    if (a->path[0] && a->path[0] != '[')
        return (strcmp(a->path, b->path) == 0 && a->inode == b->inode) ||
               (b->path[0] == '\0' && b->kind == MW_REGION_BSS);
    if (a->kind == MW_REGION_BSS)
        return b->path[0] == '\0' && b->kind == MW_REGION_BSS;
    return a->path[0] == '\0' && b->path[0] == '\0' && a->kind == b->kind &&
           a->kind != MW_REGION_THREAD_STACK;
}

static double region_weight(const mw_region_t *r)
{
    double pages = (double)(r->end - r->start) / 4096.0;

    return 6.0 + 3.0 * log2(pages < 1 ? 1 : pages);
}

static void put_addr(mw__sb_t *sb, double y, uintptr_t a, const char *anchor)
{
    mw__sb_printf(sb,
                  "<text x=\"%d\" y=\"%.1f\" class=\"addr\" dominant-baseline=\"%s\">0x%012lx"
                  "</text>\n",
                  ADDR_X, y, anchor, (unsigned long)a);
}

static void draw_gap(mw__sb_t *sb, double y, uint64_t bytes, int kernel_half)
{
    char size[32];
    int x;

    /* A torn edge across the column: the gap is not to scale. */
    mw__sb_printf(sb, "<path class=\"tear\" d=\"M%d %.1f", BOX_X - 10, y + GAP_H / 2.0);
    for (x = BOX_X - 10; x < BOX_X + BOX_W + 10; x += 10)
        mw__sb_printf(sb, " L%d %.1f L%d %.1f", x + 5, y + GAP_H / 2.0 - 4, x + 10,
                      y + GAP_H / 2.0 + 4);
    mw__sb_puts(sb, "\"/>\n");
    mw__sb_printf(sb,
                  "<text x=\"%d\" y=\"%.1f\" class=\"gap\" dominant-baseline=\"middle\">gap "
                  "%s%s</text>\n",
                  LABEL_X, y + GAP_H / 2.0, mw__format_bytes(bytes, size, sizeof(size)),
                  kernel_half ? " (the non-canonical hole and the kernel's half)" : "");
}

static void draw_row(mw__sb_t *sb, const mw_maps_t *m, const struct row *row, double y,
                     int bottom_label)
{
    uint64_t by_kind[MW_REGION_KIND_COUNT] = {0}, total = 0;
    double wsum = 0, yy = y + row->h;
    char name[300], size[32];
    const mw_region_t *top = &m->regions[row->last], *bottom = &m->regions[row->first];
    size_t i;
    int k, shown = 0, nkinds = 0;

    for (i = row->first; i <= row->last; i++)
        wsum += region_weight(&m->regions[i]);
    /* Lowest address at the bottom of the box. */
    for (i = row->first; i <= row->last; i++) {
        const mw_region_t *r = &m->regions[i];
        double h = row->h * region_weight(r) / wsum;
        uint64_t n = r->end - r->start;
        yy -= h;
        by_kind[r->kind] += n;
        total += n;
        mw__sb_printf(sb,
                      "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\" "
                      "class=\"r\"><title>",
                      BOX_X, yy, BOX_W, h, colours[r->kind]);
        mw__sb_printf(sb, "0x%lx-0x%lx %s %s %s ", (unsigned long)r->start, (unsigned long)r->end,
                      r->perms, mw_region_kind_name(r->kind),
                      mw__format_bytes(n, size, sizeof(size)));
        mw__sb_xml_str(sb, r->path);
        if (r->section) {
            mw__sb_putc(sb, ' ');
            mw__sb_xml_str(sb, r->section);
        }
        mw__sb_puts(sb, "</title></rect>\n");
    }
    mw__sb_printf(sb, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"box\"/>\n",
                  BOX_X, y, BOX_W, row->h);
    put_addr(sb, y + 1, top->end, "hanging");
    if (bottom_label)
        put_addr(sb, y + row->h - 1, bottom->start, "text-after-edge");
    row_name(bottom, name, sizeof(name));
    for (k = 0; k < MW_REGION_KIND_COUNT; k++)
        nkinds += by_kind[k] != 0;
    mw__sb_printf(sb, "<text x=\"%d\" y=\"%.1f\" class=\"name\" dominant-baseline=\"middle\">",
                  LABEL_X, row->h >= 30 ? y + row->h / 2.0 - 7 : y + row->h / 2.0);
    mw__sb_xml_str(sb, name);
    mw__sb_printf(sb, "<tspan class=\"size\" dx=\"8\">%s",
                  mw__format_bytes(total, size, sizeof(size)));
    if (row->last > row->first)
        mw__sb_printf(sb, " in %zu regions", row->last - row->first + 1);
    mw__sb_puts(sb, "</tspan>");
    if (row->h < 30) {
        /* A thin row: the kind goes on the same line. */
        mw__sb_puts(sb, "<tspan class=\"kinds\" dx=\"10\">");
    } else {
        mw__sb_printf(sb,
                      "</text>\n<text x=\"%d\" y=\"%.1f\" class=\"kinds\" "
                      "dominant-baseline=\"middle\">",
                      LABEL_X, y + row->h / 2.0 + 8);
    }
    for (k = MW_REGION_KIND_COUNT - 1; k >= 0; k--) {
        if (!by_kind[k])
            continue;
        mw__sb_printf(sb, "%s%s", shown++ ? " \u00b7 " : "",
                      mw_region_kind_name((enum mw_region_kind)k));
        if (nkinds > 1)
            mw__sb_printf(sb, " %s", mw__format_bytes(by_kind[k], size, sizeof(size)));
    }
    if (row->h < 30)
        mw__sb_puts(sb, "</tspan>");
    mw__sb_puts(sb, "</text>\n");
}

int mw_maps_svg(const mw_maps_t *maps, char **ret_svg)
{
    mw__sb_t sb = {0};
    struct row *rows = NULL;
    size_t nrows = 0, cap = 0, i, ngaps = 0;
    int present[MW_REGION_KIND_COUNT] = {0};
    double height, y;
    int k, lx;

    if (!maps || !ret_svg)
        return -EINVAL;
    for (i = 0; i < maps->count; i++) {
        present[maps->regions[i].kind] = 1;
        if (i > 0 && same_row(&maps->regions[i - 1], &maps->regions[i])) {
            rows[nrows - 1].last = i;
            continue;
        }
        if (mw__grow((void **)&rows, &cap, nrows + 1, sizeof(*rows))) {
            free(rows);
            return -ENOMEM;
        }
        rows[nrows].first = rows[nrows].last = i;
        nrows++;
    }
    height = TOP + 40;
    for (i = 0; i < nrows; i++) {
        double w = 0;
        size_t j;
        for (j = rows[i].first; j <= rows[i].last; j++)
            w += region_weight(&maps->regions[j]);
        rows[i].h = w < ROW_MIN ? ROW_MIN : w > ROW_MAX ? ROW_MAX : w;
        height += rows[i].h;
        if (i > 0 && maps->regions[rows[i - 1].last].end != maps->regions[rows[i].first].start)
            ngaps++;
    }
    height += (double)ngaps * GAP_H;

    mw__sb_svg_open(&sb, WIDTH, height, 0,
                    "\n"
                    ".addr{font:11px 'DejaVu Sans Mono',monospace;fill:#444}\n"
                    ".name{font-size:13px;fill:#111}\n"
                    ".size{font-size:12px;fill:#555}\n"
                    ".kinds{font-size:11px;fill:#666}\n"
                    ".gap{font-size:11px;fill:#888;font-style:italic}\n"
                    ".box{fill:none;stroke:#222;stroke-width:1}\n"
                    ".r{stroke:#fff;stroke-width:0.5}\n"
                    ".tear{fill:none;stroke:#999;stroke-width:1.2}\n"
                    ".title{font-size:16px;font-weight:bold}\n"
                    ".legend{font-size:11px;fill:#333}\n");
    mw__sb_printf(&sb,
                  "<text x=\"%d\" y=\"24\" class=\"title\">Address space of process %d "
                  "(%zu regions)</text>\n"
                  "<text x=\"%d\" y=\"44\" class=\"legend\">high addresses at the top; box "
                  "heights grow with the log of the size; gaps are not to scale</text>\n",
                  ADDR_X, (int)maps->pid, maps->count, ADDR_X);
    /* Legend: one swatch per kind present. */
    lx = ADDR_X;
    for (k = 0; k < MW_REGION_KIND_COUNT; k++) {
        const char *n = mw_region_kind_name((enum mw_region_kind)k);
        if (!present[k])
            continue;
        mw__sb_printf(&sb,
                      "<rect x=\"%d\" y=\"54\" width=\"12\" height=\"12\" fill=\"%s\" "
                      "stroke=\"#222\" stroke-width=\"0.5\"/><text x=\"%d\" y=\"64\" "
                      "class=\"legend\">%s</text>\n",
                      lx, colours[k], lx + 16, n);
        lx += 16 + 7 * (int)strlen(n) + 14;
    }
    y = TOP + 10;
    for (i = nrows; i-- > 0;) {
        /* The bottom address only where no adjacent row below prints it as its top. */
        draw_row(&sb, maps, &rows[i], y,
                 i == 0 ||
                     maps->regions[rows[i - 1].last].end != maps->regions[rows[i].first].start);
        y += rows[i].h;
        if (i > 0) {
            uintptr_t lo_end = maps->regions[rows[i - 1].last].end;
            uintptr_t hi_start = maps->regions[rows[i].first].start;
            if (lo_end != hi_start) {
                draw_gap(&sb, y, hi_start - lo_end,
                         lo_end <= 0x800000000000ull && hi_start > 0x800000000000ull);
                y += GAP_H;
            }
        }
    }
    mw__sb_puts(&sb, "</svg>\n");
    free(rows);
    if (sb.err) {
        int err = sb.err;
        mw__sb_free(&sb);
        return err;
    }
    *ret_svg = mw__sb_take(&sb);
    return 0;
}
