/* libFuzzer target for the parsers of `memwalk leaks`: the tracer's result stream, the symbol
 * cache file (given a good checksum, so that the parser behind it is reached) and suppression
 * files. Any input must parse or be rejected; what parses must hold the parsers' promises. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/leaks_int.h"

#include <sys/stat.h>

/* Where the files the parsers read are written (in the build tree). */
static const char dir[] = MW_BUILD_DIR "/fuzz/leaks-work";

static void check_result(const struct lk_result *r)
{
    uint32_t i;

    for (i = 0; i < r->h.nmodules; i++)
        if (!r->mods[i].path)
            abort();
    for (i = 0; i < r->h.nrecords; i++)
        if (r->recs[i].kind > 3 ||
            (r->recs[i].trace >= r->h.ntraces && r->recs[i].trace != UINT32_MAX))
            abort();
}

static void write_file(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    FILE *f = fopen(path, "w");

    if (!f)
        abort();
    if ((na && fwrite(a, 1, na, f) != na) || (nb && fwrite(b, 1, nb, f) != nb))
        abort();
    fclose(f);
}

/* The cache file: its header for signature "fuzz", the input, the checksum of both. */
static void cache_file(const uint8_t *data, size_t size)
{
    unsigned char head[16] = "MWSYMC01";
    uint32_t siglen = 4;
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned char *all = malloc(16 + size + 8);
    const struct lk_frame *f;
    char path[256];
    lk_symcache_t *c;
    size_t i, n;

    if (!all)
        return;
    memcpy(head + 8, &siglen, 4);
    memcpy(head + 12, "fuzz", 4);
    memcpy(all, head, 16);
    memcpy(all + 16, data, size);
    for (i = 0; i < 16 + size; i++)
        h = (h ^ all[i]) * 0x100000001b3ull;
    memcpy(all + 16 + size, &h, 8);
    snprintf(path, sizeof path, "%s/00", dir);
    write_file(path, all, 16 + size + 8, NULL, 0);
    free(all);
    c = lk_symcache_open(dir, "00", "fuzz", 0);
    if (!c)
        return;
    for (i = 0; i < 64; i++) {
        n = lk_symcache_get(c, i, &f);
        while (n--)
            if (f[n].kind > 2 || (f[n].fn && strlen(f[n].fn) > 0xfffe))
                abort();
    }
    lk_symcache_close(c); /* nothing added: nothing written */
}

static void supp_file(const uint8_t *data, size_t size)
{
    struct lk_frame st[3];
    lk_supp_t *s = NULL;
    char path[256], err[256];

    err[0] = '\0';
    snprintf(path, sizeof path, "%s/s.supp", dir);
    write_file(path, data, size, NULL, 0);
    memset(st, 0, sizeof st);
    st[0].fn = st[0].fn_raw = "malloc";
    st[1].fn = st[1].fn_raw = "main";
    st[1].file = "a.c";
    st[1].line = 3;
    st[2].module = "/bin/p";
    if (lk_supp_load(&s, path, err, sizeof err) == 0) {
        unsigned k;
        for (k = 0; k < 4; k++)
            (void)lk_supp_match_frames(s, st, 3, k);
    } else if (!err[0]) {
        abort(); /* every refusal says why */
    }
    lk_supp_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lk_result r;

    static int made;

    if (!made && (mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0))
        made = 1;
    if (lk_result_parse(data, size, &r) == 0) {
        check_result(&r);
        lk_result_free(&r);
    }
    cache_file(data, size);
    supp_file(data, size);
    return 0;
}
