/*
 * frame-exec: runs commands on a frame-exec-server (see exec.h and
 * docs/APPS-exec.md).
 *
 *   frame-exec 127.0.0.1:9000 -- ls -l     one command; exits with its status
 *   frame-exec 127.0.0.1:9000              a prompt: each line runs in /bin/sh
 *   frame-exec --classic-key size 127.0.0.1:9001 -- ls -l
 *                                          a classic tutorial server
 *
 * A blocking client (plain TCP or TLS, apps/common/client.h): frame_builder
 * and a gathering frame_encoder send the request in one write, a
 * frame_decoder reads the reply and its on_body callback streams the body
 * straight to our stdout and stderr, so a 16 MiB reply needs no 16 MiB buffer.
 */
#define _GNU_SOURCE

#include "exec.h"

#include "addr.h"
#include "client.h"
#include "frame.h"
#include "secret.h"
#include "tls.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static frame_config CFG = {0, 0, 0, NULL, EXEC_MAX_HEADER, 0};

typedef struct reply {
    int is_error, timed_out, truncated;
    int64_t exit_code, sig;
    uint64_t out_left; /* stdout bytes of the body still to come */
    char error[64], message[256];
} reply;

typedef struct session {
    char host[256], port[16];
    const char *addr, *token;
    uint64_t timeout_ms, max_output;
    SSL_CTX *tls;
    int classic; /* talking to a classic tutorial server */
    app_io io;
    int fd; /* io.fd, or -1 */
    frame_decoder dec;
    unsigned char hbuf[EXEC_MAX_HEADER];
    reply r;
} session;

static void write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static int on_header(frame_decoder *d, const frame_header *h)
{
    reply *r = &((session *)d->data)->r;
    uint64_t out, err;
    size_t len;
    int flag;

    memset(r, 0, sizeof *r);
    if (((session *)d->data)->classic) { /* {"KEY":N} + output: all of it stdout */
        r->out_left = h->body_size;
        return FRAME_CONTINUE;
    }
    if (frame_header_get_string(h, "error", r->error, sizeof r->error, &len) == FRAME_OK) {
        r->is_error = 1;
        if (frame_header_get_string(h, "message", r->message, sizeof r->message, &len) != FRAME_OK)
            strcpy(r->message, "(no message)");
        return FRAME_CONTINUE;
    }
    if (frame_header_get_int64(h, "exit", &r->exit_code) != FRAME_OK ||
        frame_header_get_uint64(h, "stdout", &out) != FRAME_OK ||
        frame_header_get_uint64(h, "stderr", &err) != FRAME_OK || out > h->body_size ||
        err != h->body_size - out)
        return -1; /* not a frame-exec reply */
    r->out_left = out;
    if (frame_header_get_bool(h, "timed_out", &flag) == FRAME_OK)
        r->timed_out = flag;
    if (frame_header_get_bool(h, "truncated", &flag) == FRAME_OK)
        r->truncated = flag;
    frame_header_get_int64(h, "signal", &r->sig);
    return FRAME_CONTINUE;
}

/* Body = stdout bytes, then stderr bytes: route each chunk as it arrives. */
static int on_body(frame_decoder *d, const void *at, size_t len)
{
    reply *r = &((session *)d->data)->r;
    const char *p = at;

    if (r->out_left) {
        size_t n = r->out_left < len ? (size_t)r->out_left : len;
        write_all(1, p, n);
        r->out_left -= n;
        p += n;
        len -= n;
    }
    if (len)
        write_all(2, p, len);
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d)
{
    (void)d;
    return FRAME_PAUSE; /* one reply per request */
}

static const frame_callbacks CALLBACKS = {on_header, on_body, on_frame_end};

static int connect_session(session *s)
{
    char err[600];
    if (app_io_connect(&s->io, s->host, s->port, s->tls, err, sizeof err) < 0) {
        fprintf(stderr, "frame-exec: cannot connect to %s\n", err);
        s->fd = -1;
        return -1;
    }
    s->fd = s->io.fd;
    frame_decoder_init(&s->dec, &CFG, &CALLBACKS, s->hbuf, sizeof s->hbuf, s);
    return 0;
}

static void close_session(session *s)
{
    if (s->fd >= 0)
        app_io_close(&s->io);
    s->fd = -1;
}

/* Appends `s` as a JSON string: frame_builder_add_raw wants JSON text. */
static int json_string(char *out, size_t cap, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;
    if (p >= cap)
        return -1;
    out[p++] = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (cap - p < 7)
            return -1;
        if (ch == '"' || ch == '\\') {
            out[p++] = '\\';
            out[p++] = (char)ch;
        } else if (ch < 0x20) {
            memcpy(out + p, "\\u00", 4);
            out[p + 4] = hex[ch >> 4];
            out[p + 5] = hex[ch & 15];
            p += 6;
        } else {
            out[p++] = (char)ch;
        }
    }
    if (cap - p < 2)
        return -1;
    out[p++] = '"';
    *pos = p;
    return 0;
}

static int send_request(session *s, char *const *cmd, int ncmd, const void *in, size_t in_len)
{
    char raw[EXEC_MAX_HEADER];
    unsigned char head[EXEC_MAX_HEADER + 8];
    size_t pos = 0;
    frame_builder b;
    frame_encoder e;
    frame_errno rc;

    raw[pos++] = '[';
    for (int i = 0; i < ncmd; i++) {
        if (i && pos < sizeof raw)
            raw[pos++] = ',';
        if (json_string(raw, sizeof raw, &pos, cmd[i]) < 0)
            goto too_long;
    }
    if (pos >= sizeof raw)
        goto too_long;
    raw[pos++] = ']';
    rc = frame_builder_init(&b, &CFG, head, sizeof head, in_len);
    if (!rc)
        rc = frame_builder_add_raw(&b, "cmd", raw, pos);
    if (!rc && s->token)
        rc = frame_builder_add_string(&b, "token", s->token);
    if (!rc && s->timeout_ms)
        rc = frame_builder_add_uint64(&b, "timeout_ms", s->timeout_ms);
    if (!rc && s->max_output)
        rc = frame_builder_add_uint64(&b, "max_output", s->max_output);
    if (!rc)
        rc = frame_builder_finish(&b, NULL, NULL);
    if (rc == FRAME_E_HEADER_TOO_LARGE || rc == FRAME_E_BUFFER_TOO_SMALL)
        goto too_long;
    if (rc) {
        fprintf(stderr, "frame-exec: cannot encode the request: %s (%s)\n", frame_errname(rc),
                rc == FRAME_E_BAD_UTF8 ? "arguments must be UTF-8" : frame_strerror(rc));
        return -2;
    }
    frame_encoder_init_gather(&e, app_io_gather, &s->io);
    rc = frame_write(&e, &b, in, in_len);
    if (rc) {
        fprintf(stderr, "frame-exec: cannot send the request: %s\n", strerror(errno));
        return -1;
    }
    return 0;
too_long:
    fprintf(stderr, "frame-exec: the command is too long for one request (the header limit is %u bytes)\n",
            EXEC_MAX_HEADER);
    return -2;
}

/* Reads one reply, writing its output as it comes. 0, or -1 (reported). */
static int read_reply(session *s)
{
    static unsigned char buf[65536];

    frame_decoder_resume(&s->dec);
    for (;;) {
        long n = app_io_recv(&s->io, buf, sizeof buf);
        frame_errno e;
        if (n < 0) {
            fprintf(stderr, "frame-exec: %s: %s\n", s->addr,
                    s->io.ssl ? "TLS error" : strerror(errno));
            return -1;
        }
        if (n == 0) {
            e = frame_finish(&s->dec, NULL);
            fprintf(stderr, "frame-exec: the server closed the connection %s\n",
                    e == FRAME_E_TRUNCATED ? "in the middle of the reply"
                    : s->classic       ? "without replying (a classic server closes on an error)"
                                       : "without replying");
            return -1;
        }
        if (frame_feed(&s->dec, buf, (size_t)n) < (size_t)n &&
            frame_decoder_errno(&s->dec) == FRAME_E_PAUSED) {
            fprintf(stderr, "frame-exec: the server sent more than one reply\n");
            return -1;
        }
        e = frame_decoder_errno(&s->dec);
        if (e == FRAME_E_PAUSED)
            return 0;
        if (e != FRAME_OK) {
            fprintf(stderr, "frame-exec: bad reply from the server: %s\n",
                    e == FRAME_E_CALLBACK ? "not a frame-exec reply" : frame_errname(e));
            return -1;
        }
    }
}

/* Reports the reply and returns the exit code it stands for (255 = error). */
static int report(const session *s)
{
    const reply *r = &s->r;
    if (r->is_error) {
        fprintf(stderr, "frame-exec: the server refused the request: %s: %s\n", r->error,
                r->message);
        return 255;
    }
    if (r->timed_out)
        fprintf(stderr, "frame-exec: the server killed the command at its time limit\n");
    if (r->truncated)
        fprintf(stderr, "frame-exec: the output was cut at the server's output cap\n");
    return r->exit_code < 0 || r->exit_code > 255 ? 255 : (int)r->exit_code;
}

/* 1 if the server has closed this idle connection (e.g. its idle timeout). */
static int session_closed(const session *s)
{
    struct pollfd p;
    char c;
    p.fd = s->fd;
    p.events = POLLIN;
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (s->io.ssl) /* between replies, only the end (close_notify or FIN) arrives */
        return 1;
    return recv(s->fd, &c, 1, MSG_PEEK) <= 0;
}

static int interactive(session *s)
{
    char *line = NULL;
    size_t cap = 0;
    int last = 0, tty = isatty(0);

    for (;;) {
        ssize_t n;
        char *cmd[3];
        int rc;
        if (tty) {
            fprintf(stderr, "%s> ", s->addr);
            fflush(stderr);
        }
        if ((n = getline(&line, &cap, stdin)) < 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strspn(line, " \t") == (size_t)n)
            continue;
        if (!strcmp(line, "exit") || !strcmp(line, "quit"))
            break;
        if (s->fd >= 0 && session_closed(s))
            close_session(s); /* reconnect: nothing of this line was sent yet */
        if (s->fd < 0 && connect_session(s) < 0) {
            last = 255;
            continue;
        }
        cmd[0] = "/bin/sh";
        cmd[1] = "-c";
        cmd[2] = line;
        rc = send_request(s, cmd, 3, NULL, 0);
        if (rc == 0)
            rc = read_reply(s);
        if (rc == -1)
            close_session(s);
        if (rc < 0) {
            last = 255;
            continue;
        }
        last = report(s);
        if (last && !s->r.is_error)
            fprintf(stderr, "[exit %d]\n", last);
    }
    if (tty)
        fputc('\n', stderr);
    free(line);
    close_session(s);
    return last;
}

static unsigned char *read_all(int fd, size_t *len)
{
    size_t cap = 65536, n = 0;
    unsigned char *p = malloc(cap);
    for (;;) {
        ssize_t r;
        if (!p)
            return NULL;
        if (n == cap) {
            unsigned char *q = realloc(p, cap *= 2);
            if (!q)
                free(p);
            p = q;
            continue;
        }
        r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(p);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    return p;
}

static void usage(FILE *f)
{
    fputs("usage: frame-exec [options] HOST:PORT [--] COMMAND [ARG...]   run one command\n"
          "       frame-exec [options] HOST:PORT                         interactive prompt\n"
          "Runs commands on a frame-exec-server. One command runs as is (no shell: use\n"
          "sh -c '...' for one); its output appears here and frame-exec exits with its exit\n"
          "status (255 when the request fails). At the prompt each line runs with\n"
          "/bin/sh -c; \"exit\" or end of input leaves.\n"
          "  --token TOKEN        the server's access token (default: $" EXEC_TOKEN_ENV ",\n"
          "                       else --token-file, else the server's default token file)\n"
          "  --token-file FILE    read the token from FILE (mode 600)\n"
          "  --tls-ca FILE        use TLS, trusting the CA certificates in FILE (PEM); the\n"
          "                       server's certificate must name HOST\n"
          "  --tls                use TLS, trusting the system's CA store\n"
          "  -i, --stdin          send standard input to the command (one command only)\n"
          "  --time-limit SEC     ask for a time limit below the server's\n"
          "  --max-output BYTES   ask for an output cap below the server's\n"
          "  --classic-key KEY    talk to a classic tutorial server instead: the command\n"
          "                       (its words joined by spaces) is sent raw, the reply is\n"
          "                       {\"KEY\":N} + N bytes of output (KEY: size or data_size);\n"
          "                       no token, no exit status (0 once a reply arrived)\n",
          f);
}

static void default_token_file(char *buf, size_t cap)
{
    const char *run = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
    if (run && *run)
        snprintf(buf, cap, "%s/%s", run, EXEC_TOKEN_FILE);
    else
        snprintf(buf, cap, "%s/.%s", home && *home ? home : ".", EXEC_TOKEN_FILE);
}

/* A classic tutorial exchange: raw command out, one frame back. */
static int classic(session *s, char **argv, int argc)
{
    size_t len = 0;
    char *line;
    int rc;

    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    if (!(line = malloc(len + 1)))
        return 255;
    line[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(line, " ");
        strcat(line, argv[i]);
    }
    if (strlen(line) > EXEC_CLASSIC_MAX) {
        fprintf(stderr, "frame-exec: a classic command is at most %d bytes (one recv(1024))\n",
                EXEC_CLASSIC_MAX);
        free(line);
        return 255;
    }
    if (connect_session(s) < 0) {
        free(line);
        return 255;
    }
    rc = app_io_write_all(&s->io, line, strlen(line));
    free(line);
    if (rc == 0)
        rc = read_reply(s);
    close_session(s);
    return rc < 0 ? 255 : 0;
}

int main(int argc, char **argv)
{
    static session s;
    static char token_buf[APP_TOKEN_MAX + 2];
    const char *token_file = NULL, *ca = NULL, *classic_key = NULL;
    int i, send_stdin = 0, rc, use_tls = 0;
    unsigned char *in = NULL;
    size_t in_len = 0;
    char err[600];

    s.fd = -1;
    s.io.fd = -1;
    s.token = getenv(EXEC_TOKEN_ENV);
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--")) {
            break;
        } else if (!strcmp(a, "-i") || !strcmp(a, "--stdin")) {
            send_stdin = 1;
        } else if (!strcmp(a, "--tls")) {
            use_tls = 1;
        } else if (!strcmp(a, "--token") && i + 1 < argc) {
            s.token = argv[++i];
        } else if (!strcmp(a, "--token-file") && i + 1 < argc) {
            token_file = argv[++i];
        } else if (!strcmp(a, "--tls-ca") && i + 1 < argc) {
            ca = argv[++i];
            use_tls = 1;
        } else if (!strcmp(a, "--classic-key") && i + 1 < argc) {
            classic_key = argv[++i];
        } else if (!strcmp(a, "--time-limit") && i + 1 < argc) {
            double v = strtod(argv[++i], NULL);
            if (!(v > 0) || v > 1e9)
                goto bad;
            s.timeout_ms = (uint64_t)(v * 1000.0 + 0.5) ? (uint64_t)(v * 1000.0 + 0.5) : 1;
        } else if (!strcmp(a, "--max-output") && i + 1 < argc) {
            char *end;
            s.max_output = strtoull(argv[++i], &end, 10);
            if (*end || !s.max_output)
                goto bad;
        } else {
        bad:
            fprintf(stderr, "frame-exec: bad option: %s\n", a);
            usage(stderr);
            return 255;
        }
    }
    if (i < argc && !strcmp(argv[i], "--") && i + 1 < argc && argv[i + 1][0] != '-')
        i++; /* "--" before HOST:PORT */
    if (i >= argc) {
        usage(stderr);
        return 255;
    }
    s.addr = argv[i++];
    if (app_split_hostport(s.addr, s.host, sizeof s.host, s.port, sizeof s.port) < 0) {
        fprintf(stderr, "frame-exec: bad address %s (want HOST:PORT)\n", s.addr);
        return 255;
    }
    if (use_tls && !(s.tls = app_tls_client_ctx(ca, err, sizeof err))) {
        fprintf(stderr, "frame-exec: %s\n", err);
        return 255;
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (classic_key) {
        if (strcmp(classic_key, "size") && strcmp(classic_key, "data_size")) {
            fprintf(stderr, "frame-exec: --classic-key is size or data_size\n");
            return 255;
        }
        if (i == argc) {
            fprintf(stderr, "frame-exec: --classic-key needs a command\n");
            return 255;
        }
        CFG.size_name = classic_key;
        s.classic = 1;
        return classic(&s, argv + i, argc - i);
    }
    if (s.token && !*s.token)
        s.token = NULL;
    if (!s.token) {
        char path[4096];
        const char *file = token_file;
        if (!file) {
            default_token_file(path, sizeof path);
            file = access(path, F_OK) == 0 ? path : NULL;
        }
        if (file) {
            if (app_token_file_read(file, token_buf, sizeof token_buf, err, sizeof err) < 0) {
                fprintf(stderr, "frame-exec: %s\n", err);
                return 255;
            }
            s.token = token_buf;
        }
    }
    if (i == argc) {
        if (send_stdin) {
            fprintf(stderr, "frame-exec: --stdin needs a command\n");
            return 255;
        }
        return interactive(&s);
    }
    if (send_stdin && !(in = read_all(0, &in_len))) {
        fprintf(stderr, "frame-exec: cannot read standard input\n");
        return 255;
    }
    if (connect_session(&s) < 0) {
        free(in);
        return 255;
    }
    rc = send_request(&s, argv + i, argc - i, in, in_len);
    if (rc == 0)
        rc = read_reply(&s);
    free(in);
    close_session(&s);
    return rc < 0 ? 255 : report(&s);
}
