/* Victim: leaves every kind of descriptor open at exit (issue 12, 2), compared with memcheck's
 * --track-fds=yes: files (open, openat, creat, fopen), an AF_INET listening socket and one
 * accepted from it, an AF_UNIX socket pair, pipes (pipe, pipe2), copies (dup, dup2, dup3), an
 * eventfd and a memfd; one closed descriptor is not listed. Argument: a scratch directory. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    char path[512];
    int p[2], q[2], sv[2], f, lsn, cli, acc, closed;
    FILE *fp;

    if (argc < 2)
        return 2;
    f = open("/etc/hostname", O_RDONLY);
    openat(AT_FDCWD, "/etc/passwd", O_RDONLY);
    snprintf(path, sizeof path, "%s/created", argv[1]);
    creat(path, 0600);
    fp = fopen("/etc/os-release", "r");
    lsn = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(lsn, (struct sockaddr *)&a, sizeof a) < 0 || listen(lsn, 1) < 0 ||
        getsockname(lsn, (struct sockaddr *)&a, &alen) < 0)
        return 3;
    cli = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(cli, (struct sockaddr *)&a, sizeof a) < 0)
        return 4;
    acc = accept(lsn, NULL, NULL);
    if (pipe(p) < 0 || pipe2(q, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 5;
    dup(f);
    dup2(f, 40);
    dup3(f, 41, O_CLOEXEC);
    eventfd(0, 0);
    memfd_create("victim", 0);
    closed = open("/etc/hostname", O_RDONLY);
    close(closed);
    (void)fp;
    (void)acc;
    return 0;
}
