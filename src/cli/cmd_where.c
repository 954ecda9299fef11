/* `memwalk where PID ADDR...`: the region, kind and ELF section of each address. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "memwalk/maps.h"

static void where_usage(FILE *out)
{
    fprintf(out,
            "usage: memwalk where [--json] PID ADDR...\n"
            "\n"
            "Prints one line per address of process PID ('self' is memwalk itself):\n"
            "\n"
            "  ADDR KIND START-END PERMS PATH [SECTION]\n"
            "\n"
            "KIND is the kind of memory at that very address (text, rodata, data, bss, heap,\n"
            "stack, thread-stack, anon, file, vdso, vvar, vsyscall, named-anon, shm, guard,\n"
            "reserved), START-END and PERMS are its region's, PATH is the mapping (\"[anon]\"\n"
            "for anonymous memory) and SECTION the ELF section (.text, .data, .bss, ...) when\n"
            "there is one.\n"
            "An address in no region prints \"ADDR unmapped\". Addresses are hex (0x...) or\n"
            "decimal.\n"
            "\n"
            "      --json   print a JSON array instead\n"
            "  -h, --help   show this help\n"
            "\n"
            "Exit status: 0 all mapped, 1 some address unmapped, 2 bad usage (bad PID or address,\n"
            "unknown option), 3 no such process or permission denied, 4 internal failure.\n");
}

struct answer {
    uintptr_t addr;
    int kind; /* -1: unmapped */
    const mw_region_t *r;
    const char *section;
};

static void print_line(mw__sb_t *sb, const struct answer *a)
{
    if (a->kind < 0) {
        mw__sb_printf(sb, "0x%lx unmapped\n", (unsigned long)a->addr);
        return;
    }
    mw__sb_printf(sb, "0x%lx %s 0x%lx-0x%lx %s ", (unsigned long)a->addr,
                  mw_region_kind_name((enum mw_region_kind)a->kind), (unsigned long)a->r->start,
                  (unsigned long)a->r->end, a->r->perms);
    mw__cli_region_path(sb, a->r);
    if (a->section)
        mw__sb_printf(sb, " %s", a->section);
    mw__sb_putc(sb, '\n');
}

static void print_json(mw__json_t *j, const struct answer *a)
{
    mw__json_object(j, NULL);
    mw__json_hex(j, "addr", a->addr);
    if (a->kind < 0) {
        mw__json_str(j, "kind", "unmapped");
    } else {
        mw__json_str(j, "kind", mw_region_kind_name((enum mw_region_kind)a->kind));
        mw__json_hex(j, "start", a->r->start);
        mw__json_hex(j, "end", a->r->end);
        mw__json_str(j, "perms", a->r->perms);
        mw__json_str(j, "path", a->r->path);
        mw__json_bool(j, "deleted", a->r->deleted);
        mw__json_str(j, "section", a->section);
    }
    mw__json_end(j);
}

static void answer_from(const mw_maps_t *m, uintptr_t addr, struct answer *a)
{
    a->addr = addr;
    a->r = mw_maps_find(m, addr);
    a->kind = a->r ? mw_maps_kind_at(m, addr) : -1;
    a->section = a->r ? mw_maps_section_at(m, addr) : NULL;
}

static int where_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, opt, r, status = MW_EXIT_OK;
    const char *pid_text;
    uintptr_t *addrs;
    size_t naddr, i;
    mw_maps_t all = {0};
    mw__sb_t sb = {0};
    mw__json_t j;
    pid_t pid;

    /* "-5" is a bad PID or address, not an unknown option. */
    for (i = 1, naddr = 0; i < (size_t)argc && strcmp(argv[i], "--") != 0; i++) {
        if (mw__cli_is_negative_number(argv[i])) {
            mw_cli_error("where", argv[i],
                         naddr == 0 ? "not a process id (a number, or 'self')"
                                    : "not an address (hex 0x... or decimal)");
            return MW_EXIT_USAGE;
        }
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            naddr++; /* counts PID and addresses so far */
    }
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            json = 1;
            break;
        case 'h':
            where_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_cli_bad_option("where", argv, opt);
        }
    }
    if (argc - optind < 2) {
        mw_cli_error("where", NULL, "%s (usage: memwalk where [--json] PID ADDR...)",
                     argc - optind < 1 ? "missing PID and address" : "missing address");
        return MW_EXIT_USAGE;
    }
    pid_text = argv[optind];
    if (mw__parse_pid(pid_text, &pid)) {
        mw_cli_error("where", pid_text, "not a process id (a number, or 'self')");
        return MW_EXIT_USAGE;
    }
    naddr = (size_t)(argc - optind - 1);
    addrs = calloc(naddr, sizeof(*addrs));
    if (!addrs) {
        mw_cli_error("where", NULL, "%s", strerror(ENOMEM));
        return MW_EXIT_FAILURE;
    }
    /* Every address is checked before anything is printed. */
    for (i = 0; i < naddr; i++) {
        const char *s = argv[optind + 1 + i];
        uint64_t v;
        r = mw__parse_u64(s, &v);
        if (r == 0 && v > UINTPTR_MAX)
            r = -ERANGE;
        if (r) {
            mw_cli_error("where", s,
                         r == -ERANGE ? "address over 64 bits"
                                      : "not an address (hex 0x... or decimal)");
            free(addrs);
            return MW_EXIT_USAGE;
        }
        addrs[i] = (uintptr_t)v;
    }
    mw__json_init(&j, &sb);
    if (json)
        mw__json_rows(&j, NULL);
    if (naddr == 1) {
        /* One address: PROCMAP_QUERY answers without reading the whole map. */
        mw_maps_t one = {0};
        struct answer a;
        r = mw_maps_query(pid, addrs[0], &one);
        if (r && r != -ENOENT) {
            free(addrs);
            mw__sb_free(&sb);
            return mw__cli_maps_error("where", pid_text, r);
        }
        answer_from(&one, addrs[0], &a);
        if (json)
            print_json(&j, &a);
        else
            print_line(&sb, &a);
        status = a.kind < 0 ? MW_EXIT_FINDINGS : MW_EXIT_OK;
        mw_maps_free(&one);
    } else {
        r = mw_maps_read(pid, 0, &all);
        if (r) {
            free(addrs);
            mw__sb_free(&sb);
            return mw__cli_maps_error("where", pid_text, r);
        }
        for (i = 0; i < naddr; i++) {
            struct answer a;
            answer_from(&all, addrs[i], &a);
            if (json)
                print_json(&j, &a);
            else
                print_line(&sb, &a);
            if (a.kind < 0)
                status = MW_EXIT_FINDINGS;
        }
        mw_maps_free(&all);
    }
    if (json && mw__json_finish(&j) == 0)
        mw__sb_putc(&sb, '\n');
    free(addrs);
    return mw_cli_emit("where", &sb, status);
}

MW_CLI_COMMAND(where_cmd, "where", "tell which region, kind and section hold some addresses",
               where_run, where_usage, 20)
