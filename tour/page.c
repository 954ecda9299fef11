/* The tour's HTML page: one file with its style inline and no script, readable on a phone and a
 * laptop, in light and dark colour schemes; the figures are inline SVG. */
#include "tour/page.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char style[] =
    ":root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--card:#f6f8fa;"
    "--line:#d1d9e0;--ok:#1a7f37;--bad:#9a6700;--link:#0969da}\n"
    "@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;"
    "--card:#161b22;--line:#30363d;--ok:#3fb950;--bad:#d29922;--link:#4493f8}}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0 auto;max-width:64rem;padding:1rem;background:var(--bg);color:var(--fg);"
    "font:16px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
    "h1{font-size:1.6rem;margin:.4rem 0}h2{font-size:1.3rem;border-bottom:1px solid var(--line);"
    "padding-bottom:.3rem;margin-top:2.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}\n"
    "a{color:var(--link)}.lead{color:var(--muted)}\n"
    "nav ol{columns:2 14rem;padding-left:1.4rem}\n"
    "pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem;"
    "overflow-x:auto;font:12.5px/1.45 ui-monospace,'DejaVu Sans Mono',monospace}\n"
    "pre.json{white-space:pre-wrap;word-break:break-all;max-height:30rem;overflow:auto}\n"
    "p.concl{border-left:4px solid var(--ok);padding:.2rem .7rem;margin:.6rem 0}\n"
    "p.concl b{color:var(--ok)}p.unexpected{border-color:var(--bad)}p.unexpected "
    "b{color:var(--bad)}"
    "\n"
    "p.note{color:var(--muted);margin:.3rem 0 .3rem 1rem}\n"
    "p.bg{color:var(--muted);font-style:italic;border-left:4px dotted var(--line);"
    "padding:.2rem .7rem}\np.bg b{font-style:normal}\n"
    "p.skip{color:var(--bad)}\n"
    "figure{margin:1rem 0;overflow-x:auto}figure svg{display:block;max-width:100%;height:auto;"
    "background:#fff;border-radius:6px;border:1px solid var(--line)}\n"
    "figcaption{color:var(--muted);font-size:.9rem;margin-top:.3rem}\n"
    "details{margin:.8rem 0}summary{cursor:pointer;color:var(--muted)}\n"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.92em}\n"
    "@media (max-width:600px){body{padding:.6rem;font-size:15px}pre{font-size:11px}}\n";

void mw_tour_page_section_end(mw__sb_t *body, const char *section_json)
{
    mw__sb_t pretty = {0};

    mw__json_pretty(&pretty, section_json);
    mw__sb_puts(body, "<details><summary>Raw values (JSON)</summary><pre class=\"json\">");
    mw__sb_xml_str(body, pretty.buf ? pretty.buf : "");
    mw__sb_puts(body, "</pre></details>\n</section>\n");
    mw__sb_free(&pretty);
}

/* The table of contents: a link to each section that ran. */
static void contents(mw__sb_t *sb, const struct tour_page_entry *toc, size_t n)
{
    mw__sb_puts(sb, "<nav><ol>\n");
    for (size_t i = 0; i < n; i++) {
        mw__sb_printf(sb, "<li value=\"%d\"><a href=\"#", toc[i].index);
        mw__sb_xml_str(sb, toc[i].name);
        mw__sb_puts(sb, "\">");
        mw__sb_xml_str(sb, toc[i].title);
        mw__sb_puts(sb, "</a></li>\n");
    }
    mw__sb_puts(sb, "</ol></nav>\n");
}

int mw_tour_page_write(FILE *f, const char *sections_html, const struct tour_page_entry *toc,
                       size_t n, const int figures[2])
{
    mw__sb_t sb = {0};
    char date[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    int err = 0;

    if (localtime_r(&now, &tm))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
    mw__sb_printf(&sb,
                  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"color-scheme\" content=\"light dark\">\n"
                  "<title>memwalk tour</title>\n<style>\n%s</style>\n</head>\n<body>\n"
                  "<header><h1>A walk on memory, measured live</h1>\n"
                  "<p class=\"lead\">memwalk %s, %s: every value on this page was measured by "
                  "this run of <code>memwalk tour</code>; lines marked =&gt; are conclusions "
                  "computed from them, and background lines say what the books say, not "
                  "measured here. %d map%s and %d chart%s; each section ends with its raw "
                  "values.</p></header>\n",
                  style, MW_VERSION_STRING, date, figures[0], figures[0] == 1 ? "" : "s",
                  figures[1], figures[1] == 1 ? "" : "s");
    contents(&sb, toc, n);
    mw__sb_puts(&sb, sections_html);
    mw__sb_puts(&sb, "<footer><h2>Next steps</h2><pre>"
                     "memwalk maps --svg map.svg PID   draw any process's address space\n"
                     "memwalk leaks -- ./yourprog      find your program's leaks, valgrind-style\n"
                     "#include &lt;memwalk/gc.h&gt;          mw_gc_malloc(), and never call free\n"
                     "   (build: cc prog.c $(pkg-config --cflags --libs memwalk))\n"
                     "memwalk bench                    the allocation experiments in full"
                     "</pre></footer>\n</body>\n</html>\n");
    if (sb.err) {
        mw__sb_free(&sb);
        return -ENOMEM;
    }
    errno = 0;
    if (fwrite(sb.buf, 1, sb.len, f) != sb.len || fflush(f) != 0)
        err = errno ? -errno : -EIO;
    mw__sb_free(&sb);
    return err;
}
