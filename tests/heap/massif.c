/* Reading massif.out files back (see massif.h). */
#include "massif.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);

    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int num(const char *line, const char *key, uint64_t *out)
{
    size_t n = strlen(key);

    if (strncmp(line, key, n) != 0 || line[n] != '=')
        return -1;
    *out = strtoull(line + n + 1, NULL, 10);
    return 0;
}

static int add_node(struct ms_snap *s, const char *line)
{
    const char *p = line, *colon;
    struct ms_node nd;
    unsigned depth = 0;
    struct ms_node *grown;

    while (*p == ' ')
        p++, depth++;
    memset(&nd, 0, sizeof nd);
    if (sscanf(p, "n%u: %" SCNu64, &nd.nkids, &nd.bytes) != 2)
        return -1;
    nd.depth = depth;
    p = strchr(p, ' ');
    p = p ? strchr(p + 1, ' ') : NULL; /* past "nK: BYTES " */
    if (p && (colon = strstr(p, ": ")) && strncmp(p + 1, "0x", 2) == 0)
        copy(nd.what, sizeof nd.what, colon + 2);
    else if (p && strstr(p, " place"))
        copy(nd.what, sizeof nd.what, "places");
    else if (p)
        copy(nd.what, sizeof nd.what, p + 1);
    grown = realloc(s->nodes, (s->nnodes + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->nodes = grown;
    s->nodes[s->nnodes++] = nd;
    return 0;
}

int ms_read(const char *path, struct ms_file *f)
{
    FILE *in = fopen(path, "r");
    char line[4096];
    struct ms_snap *s = NULL;
    uint64_t v;

    memset(f, 0, sizeof *f);
    if (!in) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "desc: ", 6) == 0) {
            copy(f->desc, sizeof f->desc, line + 6);
        } else if (strncmp(line, "cmd: ", 5) == 0) {
            copy(f->cmd, sizeof f->cmd, line + 5);
        } else if (strncmp(line, "time_unit: ", 11) == 0) {
            copy(f->unit, sizeof f->unit, line + 11);
        } else if (line[0] == '#') {
            continue;
        } else if (strncmp(line, "snapshot=", 9) == 0) {
            struct ms_snap *grown = realloc(f->snaps, (f->nsnaps + 1) * sizeof *grown);
            if (!grown)
                break;
            f->snaps = grown;
            s = &f->snaps[f->nsnaps++];
            memset(s, 0, sizeof *s);
        } else if (s && num(line, "time", &v) == 0) {
            s->time = v;
        } else if (s && num(line, "mem_heap_B", &v) == 0) {
            s->heap = v;
        } else if (s && num(line, "mem_heap_extra_B", &v) == 0) {
            s->extra = v;
        } else if (s && strncmp(line, "heap_tree=", 10) == 0) {
            s->detailed = strcmp(line + 10, "empty") != 0;
            s->peak = strcmp(line + 10, "peak") == 0;
        } else if (s && s->detailed && strchr(line, ':')) {
            if (add_node(s, line) < 0) {
                fprintf(stderr, "%s: bad node line: %s\n", path, line);
                fclose(in);
                return -1;
            }
        }
    }
    fclose(in);
    if (!f->unit[0] || !f->nsnaps) {
        fprintf(stderr, "%s: not a massif file\n", path);
        ms_free(f);
        return -1;
    }
    return 0;
}

void ms_free(struct ms_file *f)
{
    size_t i;

    for (i = 0; i < f->nsnaps; i++)
        free(f->snaps[i].nodes);
    free(f->snaps);
    memset(f, 0, sizeof *f);
}

const struct ms_snap *ms_peak(const struct ms_file *f)
{
    size_t i;

    for (i = 0; i < f->nsnaps; i++)
        if (f->snaps[i].peak)
            return &f->snaps[i];
    return NULL;
}

uint64_t ms_max_heap(const struct ms_file *f)
{
    uint64_t m = 0;
    size_t i;

    for (i = 0; i < f->nsnaps; i++)
        if (f->snaps[i].heap > m)
            m = f->snaps[i].heap;
    return m;
}
