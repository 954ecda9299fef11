/* memcheck's FILE DESCRIPTORS block (--track-fds=yes|all): the descriptors open when the
 * process ended, each with what it is and the stack where it was opened, in memcheck's words and
 * order; and the same as JSON. */
#include "cli/leaks_errors.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* memcheck's name of an IPv4 or IPv6 end of a socket. */
static const char *inet_name(const uint8_t *sa, uint32_t len, uint32_t family, char *buf,
                             size_t cap)
{
    if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        uint32_t a;
        memcpy(&in, sa, sizeof in);
        if (in.sin_port == 0)
            return "<unbound>";
        a = ntohl(in.sin_addr.s_addr);
        snprintf(buf, cap, "%u.%u.%u.%u:%u", a >> 24 & 0xff, a >> 16 & 0xff, a >> 8 & 0xff,
                 a & 0xff, ntohs(in.sin_port));
        return buf;
    }
    if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        char a[INET6_ADDRSTRLEN];
        memcpy(&in6, sa, sizeof in6);
        if (in6.sin6_port == 0)
            return "<unbound>";
        if (!inet_ntop(AF_INET6, &in6.sin6_addr, a, sizeof a))
            return "<unknown>";
        snprintf(buf, cap, "[%s]:%u", a, ntohs(in6.sin6_port));
        return buf;
    }
    return "<unknown>";
}

/* The line that says what descriptor f is. */
static void what(const mw__leak_fd_t *f, const char *name, char *out, size_t cap)
{
    char l[80], p[80];

    if (f->name_len) {
        snprintf(out, cap, "Open file descriptor %d: %s", f->fd, name);
    } else if (!(f->flags & MW__LEAK_FD_SOCKET)) {
        snprintf(out, cap, "Open file descriptor %d:", f->fd);
    } else if (f->family == UINT32_MAX) {
        snprintf(out, cap, "Open socket %d:", f->fd);
    } else if (f->family == AF_INET || f->family == AF_INET6) {
        snprintf(
            out, cap, "Open %s socket %d: %s <-> %s", f->family == AF_INET ? "AF_INET" : "AF_INET6",
            f->fd, inet_name(f->addr, f->addr_len, f->family, l, sizeof l),
            f->flags & MW__LEAK_FD_PEER ? inet_name(f->peer, f->peer_len, f->family, p, sizeof p)
                                        : "unbound");
    } else if (f->family == AF_UNIX) {
        const char *path = (const char *)f->addr + offsetof(struct sockaddr_un, sun_path);
        size_t max = f->addr_len > offsetof(struct sockaddr_un, sun_path)
                         ? f->addr_len - offsetof(struct sockaddr_un, sun_path)
                         : 0;
        if (!max || !path[0])
            snprintf(out, cap, "Open AF_UNIX socket %d: <unknown>", f->fd);
        else
            snprintf(out, cap, "Open AF_UNIX socket %d: %.*s", f->fd, (int)strnlen(path, max),
                     path);
    } else {
        snprintf(out, cap, "Open pf-%u socket %d:", f->family, f->fd);
    }
}

static int listed(const struct lk_sections *s, const mw__leak_fd_t *f)
{
    return s->fdh.mode == 2 || f->fd > 2;
}

void lk_fds_report(FILE *out, const struct lk_result *r, lk_sym_t *sym)
{
    const struct lk_sections *s = r->sect;
    int pid = r->h.pid;
    uint32_t i;
    char line[4400];

    if (!s || !s->have_fds)
        return;
    fprintf(out, "==%d== \n==%d== FILE DESCRIPTORS: %u open (%u std) at exit.\n", pid, pid,
            s->fdh.open, s->fdh.std);
    for (i = 0; i < s->nfds; i++) {
        const mw__leak_fd_t *f = &s->fds[i];
        if (!listed(s, f))
            continue;
        what(f, s->fd_names[i], line, sizeof line);
        fprintf(out, "==%d== %s\n", pid, line);
        if (f->trace != MW__LEAK_NO_TRACE)
            lk_report_stack(out, pid, sym, r->trace_ips[f->trace], r->trace_depth[f->trace], 1,
                            NULL, NULL);
        else if (f->flags & MW__LEAK_FD_UNSEEN)
            fprintf(out, "==%d==    <opened inside a library call memwalk does not wrap>\n", pid);
        else
            fprintf(out, "==%d==    <inherited from parent>\n", pid);
        fprintf(out, "==%d== \n", pid);
    }
}

void lk_fds_json(mw__json_t *j, const struct lk_result *r, lk_sym_t *sym)
{
    const struct lk_sections *s = r->sect;
    uint32_t i;
    char line[4400];

    if (!s || !s->have_fds)
        return;
    mw__json_object(j, "file_descriptors");
    mw__json_uint(j, "open", s->fdh.open);
    mw__json_uint(j, "std", s->fdh.std);
    mw__json_array(j, "list");
    for (i = 0; i < s->nfds; i++) {
        const mw__leak_fd_t *f = &s->fds[i];
        if (!listed(s, f))
            continue;
        what(f, s->fd_names[i], line, sizeof line);
        mw__json_object(j, NULL);
        mw__json_int(j, "fd", f->fd);
        mw__json_str(j, "what", line);
        mw__json_bool(j, "inherited", f->flags & MW__LEAK_FD_INHERITED);
        if (f->trace != MW__LEAK_NO_TRACE)
            lk_report_stack(NULL, 0, sym, r->trace_ips[f->trace], r->trace_depth[f->trace], 1, j,
                            "stack");
        else
            mw__json_null(j, "stack");
        mw__json_end(j);
    }
    mw__json_end(j);
    mw__json_end(j);
}
