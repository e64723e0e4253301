/*
 * Request/reply rows of the benchmark (issue "every frame leaves in one
 * write"): one frame each way per exchange over TCP on 127.0.0.1, the client
 * waiting for the reply before it sends the next request, with Nagle's
 * algorithm ON at both ends (the default) and, for comparison, with
 * TCP_NODELAY at both ends.
 *
 *   reqrep [--exchanges N] [--warmup N] [--max-seconds S] [--bodies 100,10240]
 *          [--only API] [--nagle-only | --nodelay-only] [--json]
 *
 * APIs (the echo server, a forked child, reads and writes with the same API
 * as the client, so both directions go through the path being measured):
 *   one-fits   frame_encoder_init + a send() callback; the builder's buffer
 *              has room for the body behind the head: one send() per frame
 *   one-small  the same with a builder buffer too small for the body: the
 *              head and the body leave in two send() calls (the two-write
 *              stall Nagle + delayed ACKs make; exempt from the target)
 *   gather     frame_encoder_init_gather + a sendmsg() callback
 *   fd         frame_fd_write / frame_fd_read (include/frame_posix.h)
 * one-fits, one-small and gather read with a frame_decoder fed from recv().
 *
 * Every exchange is timed with clock_gettime(CLOCK_MONOTONIC), from before
 * the request is written to after the whole reply has been decoded. A row
 * is --warmup exchanges (at most 0.5 s), then --exchanges measured ones, or
 * as many as fit in --max-seconds / --trials (a row that stalls 40 ms per
 * exchange stops early and says how many it measured). Every row is measured
 * --trials times (3), the rows taking turns, on a new connection each time;
 * the trial whose p99 is the median of the trials is reported (its median,
 * p99 and sends/frame), so that one trial disturbed by another process on a
 * shared machine does not decide a row. "sends/frame" is the number of
 * send()/sendmsg() calls the client made per request frame in the measured
 * exchanges: counted inside the transport callbacks for one-* and gather,
 * and for fd by a wrapper around sendmsg() (the program is linked with
 * -Wl,--wrap=sendmsg; bench/bench.mk does it).
 *
 * Cleanup: the parent kills and reaps the server child whenever a row fails;
 * the child exits at the end of its connection and also has an alarm(); the
 * sockets time out after 10 s; a whole-run alarm() in the parent kills the
 * current child and exits. Output: a Markdown table, or one JSON object per
 * row with --json (what bench/reqrep_py.py reads).
 */
#define _POSIX_C_SOURCE 200809L
#include "frame.h"
#include "frame_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum api { API_ONE_FITS, API_ONE_SMALL, API_GATHER, API_FD, API_COUNT };
static const char *const api_name[API_COUNT] = {"one-fits", "one-small", "gather", "fd"};
static const char *const api_label[API_COUNT] = {
    "(a) frame_write, one-buffer send() callback, body fits behind the head",
    "(a') frame_write, one-buffer send() callback, builder buffer too small (two writes; exempt)",
    "(b) frame_write, gathering sendmsg() callback",
    "(c) frame_fd_write / frame_fd_read",
};

#define HEAD_ROOM 128u  /* room for prefix + {"size":N,"seq":N} in the builder's buffer */
#define SMALL_CAP 64u   /* one-small: the head fits, a 100-byte body does not */
#define MAX_BODY (1u << 20)
#define SOCK_TIMEOUT_S 10
#define CHILD_ALARM_S 60
#define RUN_ALARM_S 110
#define WARMUP_MAX_S 0.5
#define MAX_ROWS 64
#define MAX_TRIALS 9

/* Options. */
static long opt_exchanges = 1000;
static long opt_warmup = 100;
static double opt_max_seconds = 4.0; /* per row, shared by its trials */
static long opt_trials = 3;
static int opt_json;
static const char *opt_only;
static int opt_nagle = 1, opt_nodelay = 1;
static size_t opt_bodies[8] = {100, 10240};
static int opt_nbodies = 2;

/* The server child of the row being measured (for the alarm handler). */
static volatile pid_t current_child;

/* sendmsg() calls seen by the wrapper (frame_fd_write's and the gather callback's). */
ssize_t __real_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags);
static unsigned long wrapped_sendmsg_calls;

ssize_t __wrap_sendmsg(int fd, const struct msghdr *m, int flags) {
    wrapped_sendmsg_calls++;
    return __real_sendmsg(fd, m, flags);
}

typedef struct conn {
    int fd;
    unsigned long cb_calls; /* send()/sendmsg() calls made by the callbacks */
    frame_encoder enc;
    enum api api;
    unsigned char *wbuf; /* the builder's buffer */
    unsigned char *body; /* the last body received */
    size_t body_len;
    uint64_t seq;
    int done;
    frame_decoder dec;
    unsigned char *rbuf; /* recv() buffer */
} conn;

static unsigned char header_buf[FRAME_DEFAULT_MAX_HEADER];

static void fail(const char *what) {
    fprintf(stderr, "reqrep: %s: %s\n", what, errno ? strerror(errno) : "failed");
}

static void on_run_alarm(int sig) {
    static const char msg[] = "reqrep: time limit reached, stopping\n";
    pid_t c = current_child;
    (void)sig;
    if (c > 0) {
        kill(c, SIGKILL);
        waitpid(c, NULL, 0);
    }
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- transports ---- */

static long tx_send(void *ctx, const void *data, size_t len) {
    conn *c = ctx;
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n;
        c->cb_calls++;
        n = send(c->fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        left -= (size_t)n;
    }
    return (long)len;
}

static long tx_gather(void *ctx, const frame_span *spans, int count) {
    conn *c = ctx;
    struct iovec iov[2];
    struct msghdr m;
    size_t total = 0, done = 0;
    int i, first = 0;
    for (i = 0; i < count && i < 2; i++) {
        iov[i].iov_base = (void *)(uintptr_t)spans[i].data; /* sendmsg does not write it */
        iov[i].iov_len = spans[i].len;
        total += spans[i].len;
    }
    while (done < total) {
        ssize_t n;
        size_t k;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov + first;
        m.msg_iovlen = (size_t)(count - first);
        c->cb_calls++;
        n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        done += (size_t)n;
        k = (size_t)n;
        while (first < count && k >= iov[first].iov_len) k -= iov[first++].iov_len;
        if (first < count) {
            iov[first].iov_base = (unsigned char *)iov[first].iov_base + k;
            iov[first].iov_len -= k;
        }
    }
    return (long)total;
}

/* ---- one frame out, one frame in ---- */

static int send_msg(conn *c, uint64_t seq, const unsigned char *body, size_t len) {
    frame_builder b;
    size_t cap = c->api == API_ONE_SMALL ? SMALL_CAP : HEAD_ROOM + len;
    frame_errno e = frame_builder_init(&b, NULL, c->wbuf, cap, len);
    if (e == FRAME_OK) e = frame_builder_add_uint64(&b, "seq", seq);
    if (e == FRAME_OK) {
        if (c->api == API_FD) e = frame_fd_write(c->fd, &b, body, len);
        else e = frame_write(&c->enc, &b, body, len);
    }
    if (e != FRAME_OK) {
        fprintf(stderr, "reqrep: writing a frame: %s\n", frame_errname(e));
        return -1;
    }
    return 0;
}

static int on_header(frame_decoder *d, const frame_header *h) {
    conn *c = d->data;
    if (h->body_size > MAX_BODY) return -1;
    if (frame_header_get_uint64(h, "seq", &c->seq) != FRAME_OK) return -2;
    c->body_len = 0;
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    conn *c = d->data;
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d) {
    conn *c = d->data;
    c->done = 1;
    return FRAME_PAUSE;
}

static int copy_body(void *ctx, const void *chunk, size_t len) {
    conn *c = ctx;
    if (c->body_len + len > MAX_BODY) return 1;
    memcpy(c->body + c->body_len, chunk, len);
    c->body_len += len;
    return 0;
}

/* 1: a frame arrived; 0: the peer closed between frames; -1: an error. */
static int recv_msg(conn *c) {
    if (c->api == API_FD) {
        frame_header h;
        frame_errno e;
        c->body_len = 0;
        e = frame_fd_read(c->fd, NULL, header_buf, sizeof header_buf, &h, c->rbuf, 65536, copy_body, c);
        if (e == FRAME_E_CLOSED) return 0;
        if (e == FRAME_OK && frame_header_get_uint64(&h, "seq", &c->seq) == FRAME_OK) return 1;
        fprintf(stderr, "reqrep: frame_fd_read: %s\n", frame_errname(e));
        return -1;
    }
    c->done = 0;
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf, 65536, 0);
        size_t used;
        frame_errno e;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            fail("recv");
            return -1;
        }
        if (n == 0) {
            if (frame_finish(&c->dec, NULL) == FRAME_OK) return 0;
            fprintf(stderr, "reqrep: the stream ended inside a frame\n");
            return -1;
        }
        used = frame_feed(&c->dec, c->rbuf, (size_t)n);
        e = frame_decoder_errno(&c->dec);
        if (e == FRAME_E_PAUSED) {
            frame_decoder_resume(&c->dec);
            if (used != (size_t)n) {
                fprintf(stderr, "reqrep: bytes after the reply (one frame in flight expected)\n");
                return -1;
            }
            return 1;
        }
        if (e != FRAME_OK) {
            fprintf(stderr, "reqrep: decoding: %s\n", frame_errname(e));
            return -1;
        }
    }
}

/* ---- connections ---- */

static int set_nodelay(int fd, int on) {
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int set_timeouts(int fd) {
    struct timeval tv;
    tv.tv_sec = SOCK_TIMEOUT_S;
    tv.tv_usec = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) return -1;
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int conn_init(conn *c, int fd, enum api api, size_t max_body) {
    static const frame_callbacks cb = {on_header, on_body, on_frame_end};
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->api = api;
    c->wbuf = malloc(HEAD_ROOM + max_body);
    c->body = malloc(MAX_BODY);
    c->rbuf = malloc(65536);
    if (!c->wbuf || !c->body || !c->rbuf) return -1;
    if (api == API_GATHER) {
        if (frame_encoder_init_gather(&c->enc, tx_gather, c) != FRAME_OK) return -1;
    } else if (frame_encoder_init(&c->enc, tx_send, c) != FRAME_OK) {
        return -1;
    }
    if (frame_decoder_init(&c->dec, NULL, &cb, header_buf, sizeof header_buf, c) != FRAME_OK) return -1;
    return 0;
}

static void conn_free(conn *c) {
    free(c->wbuf);
    free(c->body);
    free(c->rbuf);
}

/* The echo server: the same API as the client, until the client closes. */
static void serve(int lfd, enum api api, int nodelay, size_t body_len) {
    conn c;
    int fd, r;
    alarm(CHILD_ALARM_S);
    fd = accept(lfd, NULL, NULL);
    close(lfd);
    if (fd < 0 || set_nodelay(fd, nodelay) < 0 || set_timeouts(fd) < 0) {
        fail("server: accept");
        _exit(1);
    }
    if (conn_init(&c, fd, api, body_len) < 0) _exit(1);
    while ((r = recv_msg(&c)) == 1)
        if (send_msg(&c, c.seq, c.body, c.body_len) < 0) _exit(1);
    _exit(r == 0 ? 0 : 1);
}

typedef struct row {
    enum api api;
    size_t body;
    int nodelay;
    long exchanges, trials;
    double median_us, p99_us, mean_us, max_us, sends_per_frame, seconds;
} row;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void reap(pid_t pid, int ok) {
    int i, status;
    /* The child exits when the client closes; give it 2 s, then kill it. */
    for (i = 0; ok && i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            current_child = 0;
            return;
        }
        {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    current_child = 0;
}

static int exchange(conn *c, uint64_t seq, const unsigned char *body, size_t len) {
    int r;
    if (send_msg(c, seq, body, len) < 0) return -1;
    r = recv_msg(c);
    if (r != 1) {
        if (r == 0) fprintf(stderr, "reqrep: the server closed the connection\n");
        return -1;
    }
    if (c->seq != seq || c->body_len != len || memcmp(c->body, body, len) != 0) {
        fprintf(stderr, "reqrep: the reply does not echo the request\n");
        return -1;
    }
    return 0;
}

static int run_row(row *out) {
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int lfd, fd = -1, ok = 0;
    pid_t pid;
    conn c;
    unsigned char *body = malloc(out->body ? out->body : 1);
    uint64_t *ns = malloc((size_t)opt_exchanges * sizeof *ns);
    uint64_t t0, t_end, seq = 0, sum = 0;
    unsigned long calls0, wrapped0;
    long i, n = 0;

    memset(&c, 0, sizeof c);
    if (!body || !ns) return -1;
    for (i = 0; i < (long)out->body; i++) body[i] = (unsigned char)(i * 7 + 1);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        fail("listen on 127.0.0.1");
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fail("fork");
        close(lfd);
        return -1;
    }
    if (pid == 0) serve(lfd, out->api, out->nodelay, out->body);
    current_child = pid;
    close(lfd);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || set_nodelay(fd, out->nodelay) < 0 || set_timeouts(fd) < 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        fail("connect to 127.0.0.1");
        goto done;
    }
    if (conn_init(&c, fd, out->api, out->body) < 0) {
        fail("setup");
        goto done;
    }
    /* Warm-up: the first exchanges of a connection are ACKed at once (quick
     * ACK mode); the steady state, delayed ACKs included, comes after. */
    t0 = now_ns();
    for (i = 0; i < opt_warmup && (double)(now_ns() - t0) < WARMUP_MAX_S * 1e9; i++)
        if (exchange(&c, seq++, body, out->body) < 0) goto done;
    calls0 = c.cb_calls;
    wrapped0 = wrapped_sendmsg_calls;
    t0 = now_ns();
    t_end = t0 + (uint64_t)(opt_max_seconds / (double)opt_trials * 1e9);
    for (n = 0; n < opt_exchanges; n++) {
        uint64_t s = now_ns(), e;
        if (n > 0 && s > t_end) break;
        if (exchange(&c, seq++, body, out->body) < 0) goto done;
        e = now_ns();
        ns[n] = e - s;
        sum += e - s;
    }
    out->seconds = (double)(now_ns() - t0) / 1e9;
    out->exchanges = n;
    out->sends_per_frame = (double)(out->api == API_FD ? wrapped_sendmsg_calls - wrapped0
                                                       : c.cb_calls - calls0) / (double)n;
    qsort(ns, (size_t)n, sizeof *ns, cmp_u64);
    out->median_us = (n % 2 ? (double)ns[n / 2] : ((double)ns[n / 2 - 1] + (double)ns[n / 2]) / 2) / 1e3;
    /* p99: the smallest sample with at least 99% of the samples at or below it. */
    out->p99_us = (double)ns[(99 * n + 99) / 100 - 1] / 1e3;
    out->mean_us = (double)sum / (double)n / 1e3;
    out->max_us = (double)ns[n - 1] / 1e3;
    ok = 1;
done:
    if (fd >= 0) close(fd); /* the server sees the end of the stream and exits */
    reap(pid, ok);
    conn_free(&c);
    free(body);
    free(ns);
    return ok ? 0 : -1;
}

/* ---- output ---- */

static int exempt(const row *r) {
    return r->api == API_ONE_SMALL || r->nodelay;
}

static const char *verdict(const row *r) {
    if (r->nodelay) return "(comparison)";
    if (r->api == API_ONE_SMALL) return "exempt";
    return r->median_us < 500 && r->p99_us < 2000 ? "MET" : "**MISSED**";
}

static void print_json(const row *r) {
    printf("{\"impl\":\"c\",\"api\":\"%s\",\"label\":\"%s\",\"body\":%lu,\"nodelay\":%d,"
           "\"exchanges\":%ld,\"median_us\":%.3f,\"p99_us\":%.3f,\"mean_us\":%.3f,\"max_us\":%.3f,"
           "\"sends_per_frame\":%.3f,\"seconds\":%.3f,\"trials\":%ld,\"exempt\":%s,"
           "\"server\":\"C, same API (forked child)\"}\n",
           api_name[r->api], api_label[r->api], (unsigned long)r->body, r->nodelay, r->exchanges,
           r->median_us, r->p99_us, r->mean_us, r->max_us, r->sends_per_frame, r->seconds,
           r->trials, exempt(r) ? "true" : "false");
    fflush(stdout);
}

static void print_md_head(void) {
    printf("| API | body | TCP_NODELAY | exchanges | median µs | p99 µs | sends/frame (client) "
           "| target (median < 500 µs, p99 < 2 ms) |\n");
    printf("|---|--:|---|--:|--:|--:|--:|---|\n");
}

static void print_md(const row *r) {
    printf("| %s | %lu B | %s | %ld | %.1f | %.1f | %.2f | %s |\n", api_label[r->api],
           (unsigned long)r->body, r->nodelay ? "on (both ends)" : "off (Nagle on)", r->exchanges,
           r->median_us, r->p99_us, r->sends_per_frame, verdict(r));
    fflush(stdout);
}

static int usage(void) {
    fprintf(stderr, "usage: reqrep [--exchanges N] [--warmup N] [--max-seconds S] [--bodies N,N...]\n"
                    "              [--trials N] [--only one-fits|one-small|gather|fd]\n"
                    "              [--nagle-only|--nodelay-only] [--json]\n");
    return 2;
}

int main(int argc, char **argv) {
    struct sigaction sa;
    static row plan[MAX_ROWS], result[MAX_TRIALS][MAX_ROWS];
    static int good[MAX_TRIALS][MAX_ROWS];
    int i, failed = 0, nd, api, b, t, k, nrows = 0;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--json") == 0) opt_json = 1;
        else if (strcmp(o, "--nagle-only") == 0) opt_nodelay = 0;
        else if (strcmp(o, "--nodelay-only") == 0) opt_nagle = 0;
        else if (i + 1 >= argc) return usage();
        else if (strcmp(o, "--exchanges") == 0) opt_exchanges = atol(argv[++i]);
        else if (strcmp(o, "--warmup") == 0) opt_warmup = atol(argv[++i]);
        else if (strcmp(o, "--max-seconds") == 0) opt_max_seconds = atof(argv[++i]);
        else if (strcmp(o, "--trials") == 0) opt_trials = atol(argv[++i]);
        else if (strcmp(o, "--only") == 0) opt_only = argv[++i];
        else if (strcmp(o, "--bodies") == 0) {
            char *p = argv[++i], *end;
            opt_nbodies = 0;
            while (*p && opt_nbodies < 8) {
                unsigned long v = strtoul(p, &end, 10);
                if (end == p || v > MAX_BODY) return usage();
                opt_bodies[opt_nbodies++] = v;
                p = *end == ',' ? end + 1 : end;
            }
            if (!opt_nbodies) return usage();
        } else return usage();
    }
    if (opt_exchanges < 1 || opt_warmup < 0 || opt_max_seconds <= 0 || opt_trials < 1 ||
        opt_trials > MAX_TRIALS)
        return usage();

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_run_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(RUN_ALARM_S);

    for (nd = 0; nd < 2; nd++) {
        if ((nd == 0 && !opt_nagle) || (nd == 1 && !opt_nodelay)) continue;
        for (api = 0; api < API_COUNT; api++) {
            if (opt_only && strcmp(opt_only, api_name[api]) != 0) continue;
            for (b = 0; b < opt_nbodies && nrows < MAX_ROWS; b++) {
                memset(&plan[nrows], 0, sizeof plan[nrows]);
                plan[nrows].api = (enum api)api;
                plan[nrows].body = opt_bodies[b];
                plan[nrows].nodelay = nd;
                nrows++;
            }
        }
    }
    for (t = 0; t < opt_trials; t++) {
        for (k = 0; k < nrows; k++) {
            result[t][k] = plan[k];
            good[t][k] = run_row(&result[t][k]) == 0;
            if (!good[t][k]) {
                fprintf(stderr, "reqrep: row %s, %lu B, nodelay %d, trial %d failed\n",
                        api_name[plan[k].api], (unsigned long)plan[k].body, plan[k].nodelay, t + 1);
                failed = 1;
            }
        }
    }
    if (!opt_json) print_md_head();
    for (k = 0; k < nrows; k++) {
        /* The trials that worked, sorted by p99; the middle one is reported. */
        row *by[MAX_TRIALS], *tmp;
        int n = 0, x, y;
        for (t = 0; t < opt_trials; t++)
            if (good[t][k]) by[n++] = &result[t][k];
        if (!n) continue;
        for (x = 1; x < n; x++)
            for (y = x; y > 0 && by[y - 1]->p99_us > by[y]->p99_us; y--) {
                tmp = by[y];
                by[y] = by[y - 1];
                by[y - 1] = tmp;
            }
        by[(n - 1) / 2]->trials = n;
        if (opt_json) print_json(by[(n - 1) / 2]);
        else print_md(by[(n - 1) / 2]);
    }
    return failed;
}
