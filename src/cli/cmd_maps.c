/* `memwalk maps`: a process's regions as a pmap-like table with kinds, as JSON, or as an SVG. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memwalk/maps.h"

static void maps_usage(FILE *out)
{
    fprintf(out,
            "usage: memwalk maps [-x] [--json] [--svg FILE] [PID]\n"
            "\n"
            "Shows the memory regions of process PID (default: memwalk itself; 'self' works too)\n"
            "as a pmap-like table: address, size, permissions, the kind of memory (text, rodata,\n"
            "data, bss, heap, stack, thread-stack, anon, file, vdso, vvar, vsyscall, named-anon,\n"
            "shm, guard, reserved), the main ELF section and the full path, then a totals\n"
            "footer. Reserved is inaccessible address space with no memory behind it (such as\n"
            "the unused part of glibc's 64 MiB malloc arenas): the footer counts it apart.\n"
            "\n"
            "  -x, --extended  add smaps columns: RSS, PSS, Dirty and Swap in kB (the RSS total\n"
            "                  is the one `pmap -x` prints)\n"
            "      --json      print the regions as JSON (with -x, every smaps key too)\n"
            "      --svg FILE  draw the address space to FILE as SVG ('-' for stdout); nothing\n"
            "                  else is printed, unless --json is given too\n"
            "  -h, --help      show this help\n"
            "\n"
            "Exit status: 0 ok, 2 bad usage, 3 no such process, permission denied or FILE not\n"
            "writable, 4 internal failure.\n");
}

void mw__cli_region_path(mw__sb_t *sb, const mw_region_t *r)
{
    if (!r->path[0]) {
        mw__sb_puts(sb, "[anon]");
        return;
    }
    mw__sb_path(sb, r->path);
    if (r->deleted)
        mw__sb_puts(sb, " (deleted)");
}

static void process_name(pid_t pid, char *buf, size_t len)
{
    char path[64], *text = NULL;
    size_t n = 0, i;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    buf[0] = '\0';
    if (mw__read_file(path, &text, &n) == 0) {
        for (i = 0; i + 1 < n; i++)
            if (text[i] == '\0')
                text[i] = ' ';
        snprintf(buf, len, "%s", text);
    }
    free(text);
    if (!buf[0]) {
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        if (mw__read_file(path, &text, &n) == 0) {
            text[strcspn(text, "\n")] = '\0';
            snprintf(buf, len, "[%s]", text);
            free(text);
        }
    }
}

/* Row formatting by hand: a 10,000-region table must not cost more than reading it. */
static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* v right-aligned in width columns (wider when it needs more). */
static char *fmt_num(char *o, uint64_t v, int width)
{
    char tmp[24], *t = tmp + sizeof(tmp);
    int n;

    while (v >= 100) {
        t -= 2;
        memcpy(t, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        t -= 2;
        memcpy(t, digit_pairs + 2 * v, 2);
    } else {
        *--t = (char)('0' + v);
    }
    n = (int)(tmp + sizeof(tmp) - t);
    if (width > n) {
        memset(o, ' ', (size_t)(width - n));
        o += width - n;
    }
    memcpy(o, t, (size_t)n);
    return o + n;
}

static char *fmt_hex16(char *o, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 15; i >= 0; i--, v >>= 4)
        o[i] = digits[v & 15];
    return o + 16;
}

/* s left-aligned in width columns, then one space; s is short (a kind or section name). */
static char *fmt_col(char *o, const char *s, size_t width)
{
    size_t n = strnlen(s, 64);

    memcpy(o, s, n);
    o += n;
    n = n < width ? width - n + 1 : 1;
    memset(o, ' ', n);
    return o + n;
}

/* The table goes out in pieces of this size: one buffer, reused, whatever the number of rows. */
#define SPILL (32 * 1024)

static void spill(mw__sb_t *sb)
{
    if (sb->len >= SPILL && !sb->err) {
        fwrite(sb->buf, 1, sb->len, stdout);
        sb->len = 0;
    }
}

static void print_table(const mw_maps_t *m, int extended, mw__sb_t *sb)
{
    uint64_t tot_kb = 0, rss = 0, pss = 0, dirty = 0, swap = 0;
    uint64_t by_kind[MW_REGION_KIND_COUNT] = {0};
    char name[256], size[32];
    size_t i;
    int k, first = 1;

    process_name(m->pid, name, sizeof(name));
    mw__sb_printf(sb, "%d:   %s\n", (int)m->pid, name);
    if (extended)
        mw__sb_puts(sb, "Address           Kbytes     RSS     PSS   Dirty    Swap Mode Kind"
                        "         Section        Mapping\n");
    else
        mw__sb_puts(sb, "Address           Kbytes Mode Kind         Section        Mapping\n");
    for (i = 0; i < m->count; i++) {
        const mw_region_t *r = &m->regions[i];
        uint64_t kb = (r->end - r->start) / 1024;
        tot_kb += kb;
        by_kind[r->kind] += kb;
        char row[256], *o = row;
        o = fmt_hex16(o, r->start);
        o = fmt_num(o, kb, 8);
        *o++ = ' ';
        if (extended) {
            uint64_t d = r->shared_dirty_kb + r->private_dirty_kb;
            o = fmt_num(o, r->rss_kb, 7);
            o = fmt_num(o, r->pss_kb, 8);
            o = fmt_num(o, d, 8);
            o = fmt_num(o, r->swap_kb, 8);
            *o++ = ' ';
            rss += r->rss_kb;
            pss += r->pss_kb;
            dirty += d;
            swap += r->swap_kb;
        }
        memcpy(o, r->perms, 4);
        o[4] = ' ';
        o += 5;
        o = fmt_col(o, mw_region_kind_name(r->kind), 12);
        o = fmt_col(o, r->section ? r->section : "-", 14);
        mw__sb_putn(sb, row, (size_t)(o - row));
        mw__cli_region_path(sb, r);
        mw__sb_putc(sb, '\n');
        spill(sb);
    }
    if (extended) {
        mw__sb_puts(sb, "---------------- ------- ------- ------- ------- -------\n");
        mw__sb_printf(sb, "total kB         %7llu %7llu %7llu %7llu %7llu\n",
                      (unsigned long long)tot_kb, (unsigned long long)rss, (unsigned long long)pss,
                      (unsigned long long)dirty, (unsigned long long)swap);
    } else {
        mw__sb_puts(sb, "---------------- -------\n");
        mw__sb_printf(sb, "total kB         %7llu\n", (unsigned long long)tot_kb);
    }
    mw__sb_printf(sb, "%zu regions;", m->count);
    for (k = 0; k < MW_REGION_KIND_COUNT; k++) {
        if (!by_kind[k])
            continue;
        mw__sb_printf(sb, "%s %s %s", first ? "" : ",", mw_region_kind_name((enum mw_region_kind)k),
                      mw__format_bytes(by_kind[k] * 1024, size, sizeof(size)));
        first = 0;
    }
    mw__sb_putc(sb, '\n');
}

static void print_json(const mw_maps_t *m, mw__sb_t *sb)
{
    char name[256], dev[16];
    mw__json_t j;

    process_name(m->pid, name, sizeof(name));
    mw__json_init(&j, sb);
    mw__json_object(&j, NULL);
    mw__json_int(&j, "pid", m->pid);
    mw__json_str(&j, "command", name);
    mw__json_rows(&j, "regions");
    for (size_t i = 0; i < m->count; i++) {
        const mw_region_t *r = &m->regions[i];
        mw__json_object(&j, NULL);
        mw__json_hex(&j, "start", r->start);
        mw__json_hex(&j, "end", r->end);
        mw__json_uint(&j, "size", r->end - r->start);
        mw__json_str(&j, "perms", r->perms);
        mw__json_uint(&j, "offset", r->offset);
        snprintf(dev, sizeof(dev), "%02x:%02x", r->dev_major, r->dev_minor);
        mw__json_str(&j, "dev", dev);
        mw__json_uint(&j, "inode", r->inode);
        mw__json_str(&j, "path", r->path);
        mw__json_bool(&j, "deleted", r->deleted);
        mw__json_str(&j, "kind", mw_region_kind_name(r->kind));
        mw__json_str(&j, "section", r->section);
        if (r->kind == MW_REGION_THREAD_STACK && r->tid)
            mw__json_int(&j, "tid", r->tid);
        if (r->has_smaps) {
            mw__json_object(&j, "smaps");
            for (size_t f = 0; f < r->nfields; f++)
                mw__json_uint(&j, r->fields[f].key, r->fields[f].value);
            mw__json_end(&j);
            mw__json_str(&j, "vm_flags", r->vm_flags);
        }
        mw__json_end(&j);
    }
    mw__json_end(&j);
    mw__json_end(&j);
    if (mw__json_finish(&j) == 0)
        mw__sb_putc(sb, '\n');
}

static int write_svg(const mw_maps_t *m, const char *file)
{
    char *svg;
    int fd, r;

    r = mw_maps_svg(m, &svg);
    if (r) {
        mw_cli_error("maps", "svg", "%s", strerror(-r));
        return MW_EXIT_FAILURE;
    }
    if (strcmp(file, "-") == 0) {
        fputs(svg, stdout);
        free(svg);
        return MW_EXIT_OK;
    }
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = -errno;
        free(svg);
        mw_cli_error("maps", file, "%s", strerror(-r));
        return MW_EXIT_ACCESS;
    }
    r = mw__write_full(fd, svg, strlen(svg));
    if (close(fd) < 0 && r == 0)
        r = -errno;
    free(svg);
    if (r) {
        mw_cli_error("maps", file, "%s", strerror(-r));
        return MW_EXIT_FAILURE;
    }
    return MW_EXIT_OK;
}

int mw__cli_is_negative_number(const char *arg)
{
    return arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
}

/* Why the kernel refused to show a process's map, as far as memwalk can tell. */
static const char *denied_reason(const char *pid_text)
{
    char path[64];
    struct stat st;

    if (geteuid() == 0)
        return "even for root: it is outside memwalk's user namespace, or holds capabilities "
               "that memwalk lacks";
    snprintf(path, sizeof(path), "/proc/%s", pid_text);
    if (stat(path, &st) == 0 && st.st_uid != geteuid())
        return "another user's process: run memwalk as that user or as root";
    return "it changed its privileges (a setuid program) or made itself not dumpable";
}

int mw__cli_maps_error(const char *cmd, const char *pid_text, int err)
{
    switch (-err) {
    case ESRCH:
    case ENOENT: {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%s", pid_text);
        if (strcmp(pid_text, "self") != 0 && access(path, F_OK) == 0)
            mw_cli_error(cmd, pid_text, "no memory map (a zombie or a kernel thread)");
        else
            mw_cli_error(cmd, pid_text, "no such process (or it has exited)");
        return MW_EXIT_ACCESS;
    }
    case EACCES:
    case EPERM:
        mw_cli_error(cmd, pid_text, "permission denied (%s)", denied_reason(pid_text));
        return MW_EXIT_ACCESS;
    default:
        mw_cli_error(cmd, pid_text, "cannot read its memory map: %s", strerror(-err));
        return err == -EINVAL ? MW_EXIT_FAILURE : mw_cli_errno_status(err);
    }
}

/* "--svg" or an abbreviation getopt accepts ("--s", "--sv"): its FILE is the next argument. */
static int takes_svg_file(const char *arg)
{
    size_t n = strlen(arg);

    return n >= 3 && strncmp(arg, "--svg", n) == 0;
}

static int maps_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"extended", no_argument, NULL, 'x'},
        {"json", no_argument, NULL, 'j'},
        {"svg", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *svg = NULL, *pid_text = "self";
    int extended = 0, json = 0, opt, r, status, i;
    unsigned flags;
    pid_t pid = 0;
    mw_maps_t m;
    mw__sb_t sb = {0};

    /* "-1" is a bad PID, not an unknown option. */
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (takes_svg_file(argv[i])) {
            i++;
        } else if (mw__cli_is_negative_number(argv[i])) {
            mw_cli_error("maps", argv[i], "not a process id (a number, or 'self')");
            return MW_EXIT_USAGE;
        }
    }
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":xh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'x':
            extended = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            svg = optarg;
            if (!svg[0]) {
                mw_cli_error("maps", "--svg", "empty file name");
                return MW_EXIT_USAGE;
            }
            break;
        case 'h':
            maps_usage(stdout);
            return MW_EXIT_OK;
        default:
            return mw_cli_bad_option("maps", argv, opt);
        }
    }
    if (argc - optind > 1) {
        mw_cli_error("maps", argv[optind + 1], "unexpected argument (one PID at most)");
        return MW_EXIT_USAGE;
    }
    if (optind < argc) {
        pid_text = argv[optind];
        r = mw__parse_pid(pid_text, &pid);
        if (r) {
            mw_cli_error("maps", pid_text, "not a process id (a number, or 'self')");
            return MW_EXIT_USAGE;
        }
    }
    if (json && svg && strcmp(svg, "-") == 0) {
        mw_cli_error("maps", "--svg -", "the SVG and --json would share standard output");
        return MW_EXIT_USAGE;
    }
    /* smaps for the -x table (its named figures only) or the -x JSON (every key). */
    flags = MW_MAPS_READ_AHEAD;
    if (extended && json)
        flags |= MW_MAPS_SMAPS;
    else if (extended && !svg)
        flags |= MW_MAPS_SMAPS | MW_MAPS_NO_FIELDS;
    r = mw_maps_read(pid, flags, &m);
    if (r)
        return mw__cli_maps_error("maps", pid_text, r);
    if (svg) {
        status = write_svg(&m, svg);
        if (status != MW_EXIT_OK || !json) {
            mw_maps_free(&m);
            return status;
        }
    }
    if (json)
        print_json(&m, &sb);
    else
        print_table(&m, extended, &sb);
    mw_maps_free(&m);
    return mw_cli_emit("maps", &sb, MW_EXIT_OK);
}

MW_CLI_COMMAND(maps_cmd, "maps", "show a process's memory regions, their kinds and sizes", maps_run,
               maps_usage, 10)
