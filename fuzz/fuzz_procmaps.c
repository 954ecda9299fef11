/* libFuzzer target for the allocation-free /proc/PID/maps reader of src/scan (the leak tracer's
 * exit check reads the process's mappings with it): every line must parse or be refused, what
 * parses must lie inside the input, and the reader must return each line once whatever the
 * buffer boundaries. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scan/procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[8192];
    const char *text = (const char *)data;
    mw__maps_reader_t r;
    mw__maps_line_t l;
    size_t start = 0, i, lines = 0, seen = 0;
    char path[64];
    int fd, got;

    for (i = 0; i <= size; i++) {
        if (i < size && text[i] != '\n')
            continue;
        if (i > start || i < size)
            lines++;
        if (mw__maps_parse_line(text + start, i - start, &l) == 0) {
            if (l.lo > l.hi || l.path < text + start || l.path + l.path_len > text + i)
                abort();
        }
        start = i + 1;
    }
    fd = memfd_create("maps", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (mw__maps_open(&r, path, buf, sizeof buf) == 0) {
        while ((got = mw__maps_next(&r, &l)) != 0) {
            if (got == 1 && l.lo > l.hi)
                abort();
            seen++;
        }
        mw__maps_close(&r);
        /* lines longer than the buffer are cut into pieces: never fewer lines than the input */
        if (seen < lines - (size && text[size - 1] == '\n'))
            abort();
    }
    close(fd);
    return 0;
}
