/* The list of benchmarks registered with MW_BENCH, and the name filter. */
#include "bench/bench_internal.h"

#include <errno.h>
#include <regex.h>

/* Filled by constructors before main, read afterwards: no locking needed. */
static mw_bench_reg_t *reg_head, *reg_tail;
static size_t reg_count;

void mw_bench_register(mw_bench_reg_t *reg)
{
    if (!reg || reg == reg_tail || reg->next)
        return; /* registered already */
    reg->next = NULL;
    if (reg_tail)
        reg_tail->next = reg;
    else
        reg_head = reg;
    reg_tail = reg;
    reg_count++;
}

size_t mw_bench_registered_count(void)
{
    return reg_count;
}

const mw_bench_spec_t *mw_bench_registered(size_t i)
{
    mw_bench_reg_t *r = reg_head;

    while (r && i--)
        r = r->next;
    return r ? &r->spec : NULL;
}

int mw_bench_filter_match(const char *filter, const char *name)
{
    regex_t re;
    int hit;

    if (!filter || !*filter)
        return 1;
    if (regcomp(&re, filter, REG_EXTENDED | REG_NOSUB) != 0)
        return -EINVAL;
    hit = regexec(&re, name ? name : "", 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}
