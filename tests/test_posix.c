/*
 * The POSIX helpers (include/frame_posix.h) on socketpairs, pipes and
 * loopback TCP: whole frames, exact reads, EOF, errors, 1-byte reads, EINTR,
 * short and non-blocking writes, and one system call per frame.
 */
#define _GNU_SOURCE 1
#define FRAME_POSIX 1 /* the single header then declares the helpers */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#ifndef FRAME_POSIX_H
#include "frame_posix.h"
#endif

static unsigned char hbuf[FRAME_DEFAULT_MAX_HEADER];

/* Every test here reads descriptors: were the library to misread a size,
 * a read would wait for bytes that never come. So each test's process has
 * a watchdog that ends it (a crash in the report) after two minutes:
 * Criterion's .timeout is not enough, as it does not fire with --jobs 2. */
static void *watchdog(void *arg)
{
    unsigned left = 120;
    (void)arg;
    while ((left = sleep(left)) != 0) continue;
    fprintf(stderr, "test_posix: a test still runs after 120 s (a read waiting for bytes that never come?)\n");
    abort();
}

/* The thread starts with every signal blocked, so that the signals the
 * tests send (SIGALRM, SIGPIPE) go to the threads they are meant for. */
static void start_watchdog(void)
{
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &all, &old), 0);
    cr_assert_eq(pthread_create(&t, NULL, watchdog, NULL), 0);
    cr_assert_eq(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
    pthread_detach(t);
}

TestSuite(posix, .init = start_watchdog);

/* These two return a status instead of asserting: they also run in forked
 * children, where Criterion's asserts must not be used. */

/* Writes a frame with an "n" member and `len` bytes of pattern k. */
static frame_errno put_frame(int fd, int k, size_t len)
{
    static unsigned char head[256];
    unsigned char *body = malloc(len + 1);
    frame_builder b;
    frame_errno e;
    size_t i;
    for (i = 0; i < len; i++) body[i] = (unsigned char)(i * 13 + (size_t)k);
    e = frame_builder_init(&b, NULL, head, sizeof head, len);
    if (!e) e = frame_builder_add_int64(&b, "n", k);
    if (!e) e = frame_fd_write(fd, &b, body, len);
    free(body);
    return e;
}

/* Reads a frame and checks it is what put_frame(k, len) wrote: 0, a
 * frame_errno, or 100 + what differs. */
static int get_frame(int fd, int k, size_t len)
{
    unsigned char *body = malloc(len + 1);
    frame_header h;
    int64_t n = -1;
    size_t i;
    int r = (int)frame_fd_read(fd, NULL, hbuf, sizeof hbuf, &h, body, len + 1, NULL, NULL);
    if (!r && (frame_header_get_int64(&h, "n", &n) || n != k)) r = 101;
    if (!r && h.body_size != len) r = 102;
    for (i = 0; !r && i < len; i++)
        if (body[i] != (unsigned char)(i * 13 + (size_t)k)) r = 103;
    free(body);
    return r;
}

#define put(fd, k, len) cr_assert_eq(put_frame(fd, k, len), FRAME_OK, "put %d: errno %d", k, errno)
#define get(fd, k, len) cr_assert_eq(get_frame(fd, k, len), 0, "get %d: errno %d", k, errno)

/* Appends the bytes put(k, len) writes. */
static void stream_of(sbuf *out, int k, size_t len)
{
    int q[2];
    unsigned char tmp[4096];
    ssize_t n;
    cr_assert_eq(pipe(q), 0);
    put(q[1], k, len);
    close(q[1]);
    while ((n = read(q[0], tmp, sizeof tmp)) > 0) sb_add(out, tmp, (size_t)n);
    close(q[0]);
}

static frame_errno read_one(int fd)
{
    unsigned char body[64];
    frame_header h;
    return frame_fd_read(fd, NULL, hbuf, sizeof hbuf, &h, body, sizeof body, NULL, NULL);
}

Test(posix, frames_over_a_socketpair_then_closed)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put(sv[0], 1, 0);
    put(sv[0], 2, 100);
    put(sv[0], 3, 5000);
    close(sv[0]);
    get(sv[1], 1, 0);
    get(sv[1], 2, 100);
    get(sv[1], 3, 5000);
    cr_expect_eq(read_one(sv[1]), FRAME_E_CLOSED, "EOF between frames");
    close(sv[1]);
}

/* frame_fd_read takes exactly one frame: the next frame's bytes stay. */
Test(posix, read_takes_exactly_one_frame)
{
    int p[2];
    unsigned char rest[512];
    sbuf want = {0};
    ssize_t n;
    cr_assert_eq(pipe(p), 0);
    put(p[1], 1, 10);
    sb_simple_frame(&want, ",\"x\":1", "hello", 5);
    cr_assert_eq(write(p[1], want.p, want.len), (ssize_t)want.len);
    close(p[1]);
    get(p[0], 1, 10);
    n = read(p[0], rest, sizeof rest);
    cr_assert_eq(n, (ssize_t)want.len);
    cr_expect_arr_eq(rest, want.p, want.len);
    close(p[0]);
    sb_free(&want);
}

/* One record per frame on a SOCK_SEQPACKET socket: one sendmsg() each. */
Test(posix, write_is_one_system_call_per_frame)
{
    int sv[2], k;
    unsigned char rec[20000];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    for (k = 0; k < 3; k++) put(sv[0], k, k == 2 ? 10240 : (size_t)k * 100);
    for (k = 0; k < 3; k++) {
        ssize_t n = recv(sv[1], rec, sizeof rec, 0);
        size_t body = k == 2 ? 10240 : (size_t)k * 100;
        cr_assert_gt(n, (ssize_t)body, "frame %d came in pieces: %zd bytes", k, n);
        cr_expect_eq(rec[0] + 4 + body, (size_t)n, "record %d holds exactly one frame", k);
    }
    close(sv[0]);
    close(sv[1]);
}

Test(posix, write_to_a_pipe_uses_writev)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    put(p[1], 7, 300);
    close(p[1]);
    get(p[0], 7, 300);
    cr_expect_eq(read_one(p[0]), FRAME_E_CLOSED);
    close(p[0]);
}

typedef struct slow {
    int fd;
    sbuf data;
    unsigned wait_us;  /* before the first byte */
    unsigned delay_us; /* between writes */
    size_t step;
} slow;

/* Writes data `step` bytes at a time with a pause between. */
static void *slow_writer(void *arg)
{
    slow *s = arg;
    size_t at;
    sigset_t alrm;
    /* SIGALRM goes to the reading thread, whose read() it interrupts. */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    if (s->wait_us) usleep(s->wait_us);
    for (at = 0; at < s->data.len; at += s->step) {
        size_t n = s->data.len - at < s->step ? s->data.len - at : s->step;
        if (write(s->fd, s->data.p + at, n) != (ssize_t)n) break;
        if (s->delay_us) usleep(s->delay_us);
    }
    close(s->fd);
    return NULL;
}

Test(posix, one_byte_reads_give_whole_frames, .timeout = 30)
{
    int p[2];
    pthread_t t;
    slow s = {0};
    cr_assert_eq(pipe(p), 0);
    sb_simple_frame(&s.data, ",\"n\":4", "", 0);
    stream_of(&s.data, 5, 3);
    s.fd = p[1];
    s.step = 1;
    s.delay_us = 200;
    cr_assert_eq(pthread_create(&t, NULL, slow_writer, &s), 0);
    get(p[0], 4, 0);
    get(p[0], 5, 3);
    cr_expect_eq(read_one(p[0]), FRAME_E_CLOSED);
    pthread_join(t, NULL);
    close(p[0]);
    sb_free(&s.data);
}

Test(posix, end_inside_a_frame_is_truncated_and_bad_frames_are_named)
{
    static const struct {
        const char *bytes;
        size_t len;
        frame_errno want;
    } cases[] = {
        {"\x0a\x00\x00\x00{\"size\":3}ab", 16, FRAME_E_TRUNCATED},
        {"\x0b\x00", 2, FRAME_E_TRUNCATED},
        {"\x0a\x00\x00\x00{\"size\":3", 13, FRAME_E_TRUNCATED},
        {"GET / HTTP/1.1\r\n\r\n", 18, FRAME_E_LOOKS_LIKE_TEXT},
        {"\x0b\x00\x00\x00{\"size\":3]abc", 18, FRAME_E_JSON_SYNTAX},
        {"\x08\x00\x00\x00{\"sz\":3}abc", 15, FRAME_E_SIZE_MISSING},
        {"\x0c\x00\x00\x00{\"size\":100}", 16, FRAME_E_BODY_TOO_LARGE}, /* body buffer of 64 */
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int p[2];
        frame_errno e;
        cr_assert_eq(pipe(p), 0);
        cr_assert_eq(write(p[1], cases[i].bytes, cases[i].len), (ssize_t)cases[i].len);
        close(p[1]);
        e = read_one(p[0]);
        cr_expect_eq(e, cases[i].want, "case %zu: %s", i, frame_errname(e));
        close(p[0]);
    }
}

typedef struct chunks {
    sbuf got;
    unsigned long calls;
    size_t largest;
    unsigned long stop_at;
} chunks;

static int on_chunk(void *ctx, const void *chunk, size_t len)
{
    chunks *c = ctx;
    c->calls++;
    if (len > c->largest) c->largest = len;
    sb_add(&c->got, chunk, len);
    return c->stop_at && c->calls >= c->stop_at;
}

Test(posix, body_through_a_callback_in_chunks_of_the_buffer)
{
    int sv[2];
    unsigned char scratch[100];
    frame_header h;
    chunks c = {0};
    size_t i;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    put(sv[0], 9, 1000);
    put(sv[0], 9, 1000);
    cr_assert_eq(frame_fd_read(sv[1], NULL, hbuf, sizeof hbuf, &h, scratch, sizeof scratch, on_chunk, &c),
                 FRAME_OK);
    cr_assert_eq(c.got.len, 1000u);
    cr_expect_leq(c.largest, sizeof scratch);
    cr_expect_geq(c.calls, 10u);
    for (i = 0; i < 1000; i++) cr_assert_eq((unsigned char)c.got.p[i], (unsigned char)(i * 13 + 9));
    c.stop_at = 2;
    c.calls = 0;
    cr_expect_eq(frame_fd_read(sv[1], NULL, hbuf, sizeof hbuf, &h, scratch, sizeof scratch, on_chunk, &c),
                 FRAME_E_CALLBACK);
    cr_expect_eq(c.calls, 2u);
    /* Arguments. */
    cr_expect_eq(frame_fd_read(sv[1], NULL, hbuf, sizeof hbuf, NULL, scratch, 1, NULL, NULL), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_fd_read(sv[1], NULL, hbuf, sizeof hbuf, &h, NULL, 0, on_chunk, &c), FRAME_E_ARGUMENT);
    cr_expect_eq(frame_fd_read(sv[1], NULL, hbuf, sizeof hbuf, &h, scratch, 0, on_chunk, &c), FRAME_E_ARGUMENT,
                 "no room for a chunk");
    cr_expect_eq(frame_fd_read(sv[1], NULL, hbuf, 10, &h, NULL, 0, NULL, NULL), FRAME_E_ARGUMENT,
                 "header buffer too small");
    close(sv[0]);
    close(sv[1]);
    sb_free(&c.got);
}

Test(posix, system_errors_keep_errno)
{
    frame_builder b;
    unsigned char head[64];
    int p[2];
    errno = 0;
    cr_expect_eq(read_one(-1), FRAME_E_READ);
    cr_expect_eq(errno, EBADF);
    cr_assert_eq(frame_builder_init(&b, NULL, head, sizeof head, 1), FRAME_OK);
    errno = 0;
    cr_expect_eq(frame_fd_write(-1, &b, "x", 1), FRAME_E_WRITE);
    cr_expect_eq(errno, EBADF);
    cr_expect_eq(frame_fd_write(0, &b, "xy", 2), FRAME_E_SIZE_MISMATCH);
    /* A socket whose peer has gone: EPIPE, not SIGPIPE. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
    close(p[1]);
    errno = 0;
    cr_expect_eq(frame_fd_write(p[0], &b, "x", 1), FRAME_E_WRITE);
    cr_expect_eq(errno, EPIPE);
    close(p[0]);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* Interrupts every millisecond while a blocking read waits and while a big
 * frame is written through a small socket buffer: EINTR retried and short
 * writes resumed, the frames intact. */
Test(posix, eintr_and_short_writes_are_retried, .timeout = 30)
{
    struct sigaction sa;
    struct itimerval it;
    int sv[2], small = 4096;
    pthread_t t;
    slow s = {0};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: system calls fail with EINTR */
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    memset(&it, 0, sizeof it);
    it.it_interval.tv_usec = 1000;
    it.it_value.tv_usec = 1000;
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    /* A read that waits 50 ms for its frame, interrupted every 1 ms. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_of(&s.data, 3, 20);
    s.fd = sv[0];
    s.step = s.data.len;
    s.wait_us = 50000;
    alarms = 0;
    cr_assert_eq(pthread_create(&t, NULL, slow_writer, &s), 0);
    get(sv[1], 3, 20);
    cr_expect_gt(alarms, 10, "the read was not interrupted while it waited: %d", (int)alarms);
    pthread_join(t, NULL);
    close(sv[1]);
    /* A 1 MiB body through a 4 KiB socket buffer, read slowly. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            /* Timers are not inherited: the writer's sendmsg() calls are
             * interrupted by its own. */
            close(sv[1]);
            setitimer(ITIMER_REAL, &it, NULL);
            _exit(put_frame(sv[0], 6, 1 << 20) ? 1 : 0);
        }
        close(sv[0]);
        usleep(20000);
        get(sv[1], 6, 1 << 20);
        close(sv[1]);
        {
            int status;
            pid_t w;
            do w = waitpid(pid, &status, 0); /* interrupted too */
            while (w < 0 && errno == EINTR);
            cr_assert_eq(w, pid);
            cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
        }
    }
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    cr_expect_gt(alarms, 0, "no interrupt came");
    sb_free(&s.data);
}

Test(posix, nonblocking_descriptor_waits_for_room, .timeout = 30)
{
    int sv[2], small = 4096;
    pid_t pid;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        usleep(20000);
        _exit(get_frame(sv[1], 8, 300000));
    }
    close(sv[1]);
    put(sv[0], 8, 300000);
    close(sv[0]);
    {
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader failed: %d", WEXITSTATUS(status));
    }
}

/* ---- request/reply over loopback TCP with Nagle on ---------------------- */

typedef struct counted {
    int fd;
    unsigned long calls;
} counted;

/* One sendmsg() per call, counted. */
static long counted_gather(void *ctx, const frame_span *s, int count)
{
    counted *c = ctx;
    struct iovec iov[2];
    struct msghdr m;
    int i;
    ssize_t r;
    for (i = 0; i < count; i++) {
        iov[i].iov_base = (void *)(uintptr_t)s[i].data;
        iov[i].iov_len = s[i].len;
    }
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)count;
    c->calls++;
    do r = sendmsg(c->fd, &m, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return (long)r;
}

enum { EXCHANGES = 50 };

/* Client (server 0) or server side of EXCHANGES request/reply pairs; returns
 * 0 or what failed (no asserts: the server side runs in a child). */
static int exchange_loop(int fd, int server, unsigned long *calls)
{
    static unsigned char body[10240], in[10240], head[256];
    counted c;
    frame_encoder e;
    int i;
    c.fd = fd;
    c.calls = 0;
    if (frame_encoder_init_gather(&e, counted_gather, &c)) return 1;
    for (i = 0; i < EXCHANGES * 2; i++) {
        frame_builder b;
        frame_header h;
        size_t len = (size_t)(i % 2 ? 100 : 10240);
        if ((i % 2 == 0) != server) {
            if (frame_builder_init(&b, NULL, head, sizeof head, len) ||
                frame_builder_add_int64(&b, "i", i) || frame_write(&e, &b, body, len))
                return 2;
        } else {
            if (frame_fd_read(fd, NULL, hbuf, sizeof hbuf, &h, in, sizeof in, NULL, NULL)) return 3;
            if (h.body_size != len) return 4;
        }
    }
    *calls = c.calls;
    return 0;
}

/* Nagle and delayed ACKs would hold every exchange for 40 ms or more if a
 * frame left in two writes. Counted, not timed: one send per frame. */
Test(posix, loopback_exchange_with_nagle_on_sends_once_per_frame, .timeout = 60)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int ls, cs, ss, one = 1, nodelay = -1;
    socklen_t olen = sizeof nodelay;
    unsigned long ccalls, scalls;
    pid_t pid;
    ls = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(ls, 0);
    cr_assert_eq(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(ls, 1), 0);
    cr_assert_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        alarm(50);
        ss = accept(ls, NULL, NULL);
        scalls = 0;
        if (exchange_loop(ss, 1, &scalls)) _exit(1);
        _exit(scalls == EXCHANGES ? 0 : 2);
    }
    close(ls);
    cs = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(cs, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockopt(cs, IPPROTO_TCP, TCP_NODELAY, &nodelay, &olen), 0);
    cr_assert_eq(nodelay, 0, "Nagle must be on");
    cr_assert_eq(exchange_loop(cs, 0, &ccalls), 0);
    cr_expect_eq(ccalls, (unsigned long)EXCHANGES, "client sends: %lu", ccalls);
    close(cs);
    {
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "server: status %d", status);
    }
}
