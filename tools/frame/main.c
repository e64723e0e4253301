/*
 * tools/frame/main.c: `frame`, a command-line tool for libframe streams.
 * Subcommands, the options every one of them takes, exit codes, file I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char *prog_name = "frame";

static const char usage_text[] =
    "usage: frame COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "A command-line tool for libframe streams (length prefix | JSON header | body).\n"
    "\n"
    "Commands:\n"
    "  encode [-H JSON] [-m NAME=VALUE]... [-n COUNT] [FILE]   make a frame, body from FILE or stdin\n"
    "  decode [--body none|hex|base64|text] [--bodies DIR] [FILE...]   one JSON line per frame\n"
    "  inspect [FILE...]           a human view of a stream\n"
    "  check [FILE...]             validate; one-line summary; exit 0 if valid, 1 if not\n"
    "  send HOST:PORT [...]        send frames, print the replies like decode\n"
    "  listen [HOST:]PORT [...]    print what arrives like decode; --echo or a fixed reply\n"
    "\n"
    "`frame COMMAND --help` for each. Every command takes the SPEC parameters:\n"
    "--width, --big-endian, --size-name, --raw, --max-header, --max-body, --datagram.\n"
    "\n"
    "Exit status: 0 success (check: valid), 1 bad stream or frame, 2 usage, 3 I/O or network.\n";

void fail(const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int parse_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9') return -1;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

void params_init(params *p) {
    memset(p, 0, sizeof *p);
    p->capture_port = -1;
}

int params_option(params *p, int code, const char *arg) {
    uint64_t v;
    switch (code) {
    case OPT_WIDTH:
        if (parse_u64(arg, &v) || (v != 1 && v != 2 && v != 4 && v != 8)) {
            fail("--width must be 1, 2, 4 or 8, not \"%s\"", arg);
            return EXIT_USAGE;
        }
        p->cfg.prefix_width = (unsigned)v;
        return 0;
    case OPT_BIG:
        p->cfg.big_endian = 1;
        return 0;
    case OPT_RAW:
        p->cfg.raw = 1;
        return 0;
    case OPT_DATAGRAM:
        p->datagram = 1;
        return 0;
    case OPT_PORT:
        if (parse_u64(arg, &v) || v > 65535) {
            fail("--port wants a port number, not \"%s\"", arg);
            return EXIT_USAGE;
        }
        p->capture_port = (int)v;
        return 0;
    case OPT_SIZE_NAME:
        if (strlen(arg) > FRAME_MAX_SIZE_NAME) {
            fail("--size-name: at most %d octets", FRAME_MAX_SIZE_NAME);
            return EXIT_USAGE;
        }
        strcpy(p->size_name, arg);
        p->cfg.size_name = p->size_name;
        return 0;
    case OPT_MAX_HEADER:
    case OPT_MAX_BODY:
        if (parse_u64(arg, &v) || v == 0) {
            fail("%s must be a positive integer, not \"%s\"",
                 code == OPT_MAX_HEADER ? "--max-header" : "--max-body", arg);
            return EXIT_USAGE;
        }
        if (code == OPT_MAX_HEADER) p->cfg.max_header = v;
        else p->cfg.max_body = v;
        return 0;
    default:
        return EXIT_USAGE;
    }
}

int params_check(params *p) {
    if (frame_config_check(&p->cfg) != FRAME_OK) {
        if (p->cfg.max_header > 0xFFFFFFFFu) fail("--max-header: at most 4294967295 (SPEC.md 4.1)");
        else if (p->cfg.max_body > FRAME_MAX_BODY_LIMIT) fail("--max-body: at most 9007199254740991 (2^53-1, SPEC.md 4.1)");
        else fail("--size-name: 1 to %d printable ASCII octets, no '\"' or '\\' (SPEC.md 4.1)",
                  FRAME_MAX_SIZE_NAME);
        return EXIT_USAGE;
    }
    return 0;
}

int read_all(const char *path, unsigned char **data, size_t *len) {
    int fd = 0;
    size_t cap = 65536, n = 0;
    unsigned char *buf;
    if (path && strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fail("cannot open %s: %s", path, strerror(errno));
            return EXIT_IO;
        }
    }
    buf = malloc(cap);
    for (;;) {
        ssize_t got;
        if (!buf) {
            fail("out of memory reading %s", path ? path : "stdin");
            if (fd) close(fd);
            return EXIT_IO;
        }
        if (n == cap) {
            unsigned char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = more;
            cap *= 2;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            fail("cannot read %s: %s", path ? path : "stdin", strerror(errno));
            free(buf);
            if (fd) close(fd);
            return EXIT_IO;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    if (fd) close(fd);
    *data = buf;
    *len = n;
    return 0;
}

int write_iov(int fd, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        size_t left;
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"encode", cmd_encode}, {"decode", cmd_decode}, {"inspect", cmd_inspect},
    {"check", cmd_check},   {"send", cmd_send},     {"listen", cmd_listen},
};

int main(int argc, char **argv) {
    size_t i;
    /* SIGPIPE keeps its default (a closed stdout pipe ends `frame decode | head`
     * quietly); sockets are written with MSG_NOSIGNAL and report the error. */
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OKAY;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("frame (libframe %s)\n", frame_version());
        return EXIT_OKAY;
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            static char name[] = "frame";
            argv[1] = name; /* getopt's messages then begin "frame: " */
            return commands[i].run(argc - 1, argv + 1);
        }
    fail("unknown command \"%s\" (encode, decode, inspect, check, send, listen; see frame --help)", argv[1]);
    return EXIT_USAGE;
}
