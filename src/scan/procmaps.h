/* An allocation-free reader of /proc/PID/maps, for code that runs inside another program (the
 * leak tracer's exit check) and cannot use the library's maps module, which allocates. The
 * caller gives the buffer; lines are returned one at a time. */
#ifndef MEMWALK_SCAN_PROCMAPS_H
#define MEMWALK_SCAN_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>

/* One mapping. path points into the reader's buffer (valid until the next call), "" for
 * anonymous memory; it is not NUL-terminated: use path_len. */
typedef struct mw__maps_line {
    uintptr_t lo, hi;
    char perms[5]; /* "rw-p" */
    uint64_t offset;
    uint64_t inode;
    const char *path;
    size_t path_len;
} mw__maps_line_t;

typedef struct mw__maps_reader {
    int fd;
    char *buf;
    size_t cap, len, pos;
    int eof;
} mw__maps_reader_t;

/* Opens path (for instance "/proc/thread-self/maps") with buf (cap >= 8192 bytes) as the
 * reader's buffer. Returns 0 or -errno. */
int mw__maps_open(mw__maps_reader_t *r, const char *path, char *buf, size_t cap);
/* The next mapping: 1 and *out filled, 0 at the end, -EINVAL for a line that does not parse
 * (it is skipped: the next call goes on), -errno on a read error. */
int mw__maps_next(mw__maps_reader_t *r, mw__maps_line_t *out);
void mw__maps_close(mw__maps_reader_t *r);
/* Parses one line (without its newline) of len bytes. Returns 0 or -EINVAL. */
int mw__maps_parse_line(const char *line, size_t len, mw__maps_line_t *out);

#endif
