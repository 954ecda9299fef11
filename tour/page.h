/* The tour as one self-contained HTML page: no script, no external file, light and dark. */
#ifndef MEMWALK_TOUR_PAGE_H
#define MEMWALK_TOUR_PAGE_H

#include <stdio.h>

#include "common/common.h"

/* Ends a section of the page: its raw JSON record (one section object), folded away. */
void mw_tour_page_section_end(mw__sb_t *body, const char *section_json);

/* A line of the table of contents: a section that ran. */
struct tour_page_entry {
    int index;
    const char *name, *title;
};

/* Writes the page to f (and flushes it): head and style, a table of contents (the n sections of
 * toc), the sections' HTML, the next steps. figures: maps and charts drawn, for the header.
 * Returns 0 or -errno. */
int mw_tour_page_write(FILE *f, const char *sections_html, const struct tour_page_entry *toc,
                       size_t n, const int figures[2]);

#endif
