/*
 * frame-exec-server: runs commands for frame-exec clients (see exec.h and
 * docs/EXAMPLES-exec-udp.md).
 *
 * One thread, one event loop (examples/common/evloop.h: epoll or poll). Each
 * connection owns a libframe decoder; its header buffer (max_header bytes) is
 * allocated when a request starts and freed once the request is complete, so
 * an idle connection costs about 250 bytes. A complete request pauses the
 * decoder (on_frame_end returns FRAME_PAUSE): nothing more is read from that
 * client until it is answered. The command runs as a child process
 * (posix_spawnp, its own process group) whose stdin, stdout and stderr are
 * non-blocking pipes watched by the same loop, and the reply goes out through
 * a frame_encoder that stops on FRAME_E_WOULD_BLOCK and resumes when the
 * socket is writable. Then the next request is read.
 *
 * Object lifetimes: a `conn` lives from accept to close; a `job` (the command
 * and its reply) from a complete request to the end of its reply. Closed
 * connections go to a graveyard freed after each batch of events, because
 * later events of the same batch may still point at them.
 */
#define _POSIX_C_SOURCE 200809L

#include "exec.h"
#include "evloop.h"
#include "frame.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define READ_CHUNK 65536u
#define LINGER_MS 2000u /* how long a closing connection's input is drained */

enum { W_LISTEN, W_SIGNAL, W_SOCK, W_IN, W_OUT, W_ERR };
enum { ST_READ, ST_QUEUED, ST_RUN, ST_SEND, ST_LINGER, ST_DEAD };
enum { P_IN, P_OUT, P_ERR }; /* job->fd[] */

struct conn;

typedef struct watch {
    unsigned char kind;
    struct conn *c;
} watch;

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

typedef struct job {
    char **argv;                /* NULL-terminated, strings in `args` */
    char *args;
    unsigned char *in;          /* the request body: the command's stdin */
    size_t in_len, in_off;
    buf out, err;               /* captured output; at reply time out = stdout+stderr */
    size_t out_len, err_len;    /* their sizes in the reply */
    pid_t pid;
    int code, sig;              /* exit status (128+sig if killed), and the signal */
    int reaped, running_slot;
    int fd[3];                  /* parent ends of the pipes, -1 once closed */
    uint64_t limit_ms, max_output, started;
    int timed_out, truncated;
    const char *err_name;       /* set: reply with an error frame instead */
    char err_msg[200];
    uint64_t err_offset;
    int has_offset, close_after;
    frame_builder b;
    frame_encoder enc;          /* sends the reply */
    const unsigned char *head_end; /* for MSG_MORE: the reply head ends here */
    int more;
    unsigned char head[512];
} job;

typedef struct conn {
    int fd;
    unsigned char state, in_frame;
    watch w_sock, w_pipe[3];
    frame_decoder dec;
    unsigned char *hdr;         /* its header buffer: only while a request arrives */
    job *job;
    unsigned char *rest;        /* input read past a complete request */
    size_t rest_len, rest_off;
    uint64_t deadline;          /* 0 = none */
    struct conn *prev, *next;   /* all live connections */
    struct conn *qnext;         /* wait queue, or graveyard */
    struct conn *rnext;         /* list of connections with pipelined input to feed */
    int ready;                  /* on that list */
} conn;

typedef struct server {
    /* options */
    const char *listen_addr;
    char token[EXEC_TOKEN_MAX + 1]; /* zero-padded: compared in constant time */
    size_t token_len;
    uint64_t time_limit_ms, max_output, max_stdin, idle_ms, request_ms;
    size_t max_header;
    long max_conns;
    int max_procs, verbose, quiet;
    /* state */
    ev_loop *loop;
    int lfd, sig_r, sig_w, devnull, stop, accept_paused;
    watch w_listen, w_signal;
    frame_config cfg;
    frame_callbacks cb;
    conn *conns, *qhead, *qtail, *graveyard, *ready;
    conn **running;
    int nrunning;
    long nconns;
    uint64_t now, next_sweep, accept_resume;
    unsigned long long requests, frame_errors, timeouts;
    unsigned char rbuf[READ_CHUNK];
} server;

static server S; /* the one server: the signal handler needs its pipe */

static void logf_(int always, const char *fmt, ...)
{
    va_list ap;
    if (S.quiet || (!always && !S.verbose))
        return;
    va_start(ap, fmt);
    fputs("frame-exec-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *peer(const conn *c)
{
    static char name[NET_NAME_MAX];
    if (net_peer_name(c->fd, name, sizeof name) < 0)
        strcpy(name, "?");
    return name;
}

static void set_deadline(conn *c, uint64_t when)
{
    c->deadline = when;
    if (when && when < S.next_sweep)
        S.next_sweep = when;
}

/* ------------------------------------------------------------------------ */
/* Buffers and jobs                                                         */
/* ------------------------------------------------------------------------ */

static int buf_append(buf *b, const void *data, size_t len)
{
    if (len > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 4096;
        unsigned char *p;
        while (cap - b->len < len)
            cap *= 2;
        if (!(p = realloc(b->p, cap)))
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static job *job_new(void)
{
    job *j = calloc(1, sizeof *j);
    if (j) {
        j->fd[0] = j->fd[1] = j->fd[2] = -1;
        j->running_slot = -1;
        j->limit_ms = S.time_limit_ms;
        j->max_output = S.max_output;
    }
    return j;
}

static void job_close_pipe(conn *c, int which)
{
    job *j = c->job;
    if (j->fd[which] >= 0) {
        ev_del(S.loop, j->fd[which]);
        close(j->fd[which]);
        j->fd[which] = -1;
    }
}

static void running_remove(job *j)
{
    if (j->running_slot >= 0) {
        conn *last = S.running[--S.nrunning];
        S.running[j->running_slot] = last;
        last->job->running_slot = j->running_slot;
        j->running_slot = -1;
    }
}

/* Kills the command's whole process group (the shell and what it started)
 * while any of it may still run: the command itself is not reaped yet, or
 * something it started still holds an output pipe. A pid is not reused while
 * its process is unreaped or its group has members. */
static void job_kill(job *j)
{
    if (j->pid > 0 && (!j->reaped || j->fd[P_OUT] >= 0 || j->fd[P_ERR] >= 0))
        kill(-j->pid, SIGKILL);
}

static void job_free(conn *c)
{
    job *j = c->job;
    if (!j)
        return;
    job_kill(j); /* a command still running is reaped later by waitpid(-1) */
    running_remove(j);
    for (int i = 0; i < 3; i++)
        job_close_pipe(c, i);
    free(j->argv);
    free(j->args);
    free(j->in);
    free(j->out.p);
    free(j->err.p);
    free(j);
    c->job = NULL;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static void queue_remove(conn *c)
{
    conn **pp = &S.qhead, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp) {
        *pp = c->qnext;
        if (S.qtail == c)
            S.qtail = prev;
        c->qnext = NULL;
    }
}

static void conn_close(conn *c)
{
    if (c->state == ST_DEAD)
        return;
    if (c->state == ST_QUEUED)
        queue_remove(c);
    job_free(c);
    free(c->rest);
    c->rest = NULL;
    free(c->hdr);
    c->hdr = NULL;
    ev_del(S.loop, c->fd);
    close(c->fd);
    c->fd = -1;
    if (c->prev)
        c->prev->next = c->next;
    else
        S.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    S.nconns--;
    c->state = ST_DEAD;
    c->qnext = S.graveyard;
    S.graveyard = c;
}

/* The encoder's transport: a non-blocking send. The reply head goes with
 * MSG_MORE when a body follows, so head and body leave in one segment. */
static long conn_write(void *ctx, const void *data, size_t len)
{
    conn *c = ctx;
    int flags = 0;
#ifdef MSG_MORE
    if (c->job->more && (const unsigned char *)data + len == c->job->head_end)
        flags = MSG_MORE;
#endif
    return net_send(c->fd, data, len, flags);
}

static void feed_input(conn *c, const unsigned char *data, size_t len, int from_rest);
static void feed_rest(conn *c);

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static void reply_done(conn *c)
{
    int close_after = c->job->close_after;

    job_free(c);
    if (close_after) {
        /* Lingering close: stop sending, then drain what the client still
         * sends, so closing with unread input cannot reset the connection
         * (RST) and destroy the error reply before the client reads it. */
        shutdown(c->fd, SHUT_WR);
        c->state = ST_LINGER;
        ev_mod(S.loop, c->fd, EV_READ, &c->w_sock);
        set_deadline(c, S.now + LINGER_MS);
        return;
    }
    c->state = ST_READ; /* the next request gets a fresh decoder (start_decoder) */
    set_deadline(c, S.now + S.idle_ms);
    if (!c->rest) {
        ev_mod(S.loop, c->fd, EV_READ, &c->w_sock);
    } else if (!c->ready) {
        /* Input read past the last request (pipelining) is fed from the main
         * loop, not from here: replies made at once (errors) would otherwise
         * recurse once per pipelined request. */
        c->ready = 1;
        c->rnext = S.ready;
        S.ready = c;
    }
}

/* Feeds the input kept after a request; reads the socket again once it is
 * used up, so bytes are always decoded in the order they came. */
static void feed_rest(conn *c)
{
    feed_input(c, c->rest + c->rest_off, c->rest_len - c->rest_off, 1);
    if (c->state == ST_READ && !c->rest)
        ev_mod(S.loop, c->fd, EV_READ, &c->w_sock);
}

static void after_write(conn *c, frame_errno e)
{
    if (e == FRAME_OK) {
        reply_done(c);
    } else if (e == FRAME_E_WOULD_BLOCK) {
        ev_mod(S.loop, c->fd, EV_WRITE, &c->w_sock);
    } else {
        logf_(0, "%s: cannot send the reply (%s); closing", peer(c), frame_errname(e));
        conn_close(c);
    }
}

static void start_reply(conn *c)
{
    job *j = c->job;
    const void *head;
    size_t head_len, body_len = 0;
    const unsigned char *body = NULL;
    frame_errno e;

    if (j->err_name) {
        e = frame_builder_init(&j->b, NULL, j->head, sizeof j->head, 0);
        if (!e)
            e = frame_builder_add_string(&j->b, "error", j->err_name);
        if (!e)
            e = frame_builder_add_string(&j->b, "message", j->err_msg);
        if (!e && j->has_offset)
            e = frame_builder_add_uint64(&j->b, "offset", j->err_offset);
    } else {
        j->out_len = j->out.len;
        j->err_len = j->err.len;
        /* The body is stdout then stderr: one buffer, one frame_write. */
        if (j->err.len && buf_append(&j->out, j->err.p, j->err.len) < 0) {
            logf_(1, "out of memory");
            conn_close(c);
            return;
        }
        body = j->out.p;
        body_len = j->out.len;
        e = frame_builder_init(&j->b, NULL, j->head, sizeof j->head, body_len);
        if (!e)
            e = frame_builder_add_int64(&j->b, "exit", j->code);
        if (!e)
            e = frame_builder_add_uint64(&j->b, "stdout", j->out_len);
        if (!e)
            e = frame_builder_add_uint64(&j->b, "stderr", j->err_len);
        if (!e && j->sig)
            e = frame_builder_add_int64(&j->b, "signal", j->sig);
        if (!e && j->timed_out)
            e = frame_builder_add_bool(&j->b, "timed_out", 1);
        if (!e && j->truncated)
            e = frame_builder_add_bool(&j->b, "truncated", 1);
        if (S.verbose)
            logf_(0, "%s: ran %s: exit %d, %zu+%zu bytes, %llu ms%s%s", peer(c), j->argv[0], j->code,
                  j->out_len, j->err_len, (unsigned long long)(S.now - j->started),
                  j->timed_out ? ", timed out" : "", j->truncated ? ", truncated" : "");
    }
    if (!e)
        e = frame_builder_finish(&j->b, &head, &head_len);
    if (e) {
        logf_(1, "cannot build a reply: %s", frame_errname(e));
        conn_close(c);
        return;
    }
    j->head_end = (const unsigned char *)head + head_len;
    j->more = body_len > 0;
    c->state = ST_SEND;
    set_deadline(c, S.now + S.idle_ms);
    frame_encoder_init(&j->enc, conn_write, c);
    after_write(c, frame_write(&j->enc, &j->b, body, body_len));
}

static void set_error(job *j, const char *name, const char *fmt, va_list ap)
{
    j->err_name = name;
    vsnprintf(j->err_msg, sizeof j->err_msg, fmt, ap);
}

/* Replies with an error frame and closes: for frame errors and stalls. */
static void fail_conn(conn *c, const char *name, uint64_t offset, const char *fmt, ...)
{
    va_list ap;
    job_free(c); /* a request cut short */
    free(c->rest);
    c->rest = NULL;
    if (!(c->job = job_new())) {
        conn_close(c);
        return;
    }
    va_start(ap, fmt);
    set_error(c->job, name, fmt, ap);
    va_end(ap);
    c->job->err_offset = offset;
    c->job->has_offset = 1;
    c->job->close_after = 1;
    ev_mod(S.loop, c->fd, 0, &c->w_sock);
    start_reply(c);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

static int bad(job *j, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(j, name, fmt, ap);
    va_end(ap);
    return -1;
}

/* Compares with the server's token in time independent of the contents. */
static int token_equal(const char got[EXEC_TOKEN_MAX + 1], size_t len)
{
    unsigned diff = len != S.token_len;
    for (size_t i = 0; i < sizeof S.token; i++)
        diff |= (unsigned)((unsigned char)got[i] ^ (unsigned char)S.token[i]);
    return diff == 0;
}

static int parse_limit(const frame_header *h, const char *name, uint64_t *limit, int zero_ok)
{
    uint64_t v;
    frame_errno e = frame_header_get_uint64(h, name, &v);
    if (e == FRAME_E_NOT_FOUND)
        return 0;
    if (e != FRAME_OK || (v == 0 && !zero_ok))
        return -1;
    if (v < *limit)
        *limit = v; /* a request may lower the server's limits, never raise them */
    return 0;
}

static int check_request(job *j, const frame_header *h)
{
    frame_value cmd;
    frame_member m;
    size_t cur = 0, n = 0, total = 0, len, used = 0;

    if (S.token_len) {
        char got[EXEC_TOKEN_MAX + 1];
        frame_errno e;
        memset(got, 0, sizeof got);
        len = 0;
        e = frame_header_get_string(h, "token", got, sizeof got, &len);
        if (e != FRAME_OK || !token_equal(got, len)) {
            j->close_after = 1;
            return bad(j, "UNAUTHORIZED",
                       e == FRAME_E_NOT_FOUND ? "this server requires an access token (\"token\")"
                                              : "wrong access token");
        }
    }
    if (frame_header_find(h, "cmd", &cmd) != FRAME_OK)
        return bad(j, "BAD_REQUEST", "the request has no \"cmd\" (an array: program, arguments...)");
    if (cmd.type != FRAME_TYPE_ARRAY)
        return bad(j, "BAD_REQUEST", "\"cmd\" must be an array of strings");
    while (frame_value_next(&cmd, &cur, &m)) {
        if (m.value.type != FRAME_TYPE_STRING)
            return bad(j, "BAD_REQUEST", "\"cmd\"[%zu] is not a string", n);
        frame_value_string(&m.value, NULL, 0, &len);
        total += len + 1;
        if (++n > EXEC_MAX_ARGS)
            return bad(j, "BAD_REQUEST", "\"cmd\" has more than %d elements", EXEC_MAX_ARGS);
    }
    if (n == 0)
        return bad(j, "BAD_REQUEST", "\"cmd\" is empty");
    if (parse_limit(h, "timeout_ms", &j->limit_ms, 0) < 0)
        return bad(j, "BAD_REQUEST", "\"timeout_ms\" must be a positive integer (milliseconds)");
    if (parse_limit(h, "max_output", &j->max_output, 1) < 0)
        return bad(j, "BAD_REQUEST", "\"max_output\" must be a non-negative integer (bytes)");
    j->argv = malloc((n + 1) * sizeof *j->argv);
    j->args = malloc(total);
    if (!j->argv || !j->args)
        return bad(j, "BUSY", "out of memory");
    cur = 0;
    n = 0;
    while (frame_value_next(&cmd, &cur, &m)) {
        char *p = j->args + used;
        frame_value_string(&m.value, p, total - used, &len);
        if (memchr(p, '\0', len))
            return bad(j, "BAD_REQUEST", "\"cmd\"[%zu] contains a NUL character", n);
        j->argv[n++] = p;
        used += len + 1;
    }
    j->argv[n] = NULL;
    return 0;
}

static int on_header(frame_decoder *d, const frame_header *h)
{
    conn *c = d->data;
    job *j = job_new();

    if (!j)
        return -1;
    c->job = j;
    if (check_request(j, h) < 0)
        return FRAME_SKIP; /* the body is dropped; the reply is the error */
    if (h->body_size && !(j->in = malloc((size_t)h->body_size)))
        return -1;
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len)
{
    job *j = ((conn *)d->data)->job;
    memcpy(j->in + j->in_len, at, len);
    j->in_len += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d)
{
    ((conn *)d->data)->in_frame = 0;
    return FRAME_PAUSE; /* one request at a time: stop until it is answered */
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

static void check_done(conn *c)
{
    job *j = c->job;
    if (j->reaped && j->fd[P_OUT] < 0 && j->fd[P_ERR] < 0) {
        job_close_pipe(c, P_IN);
        start_reply(c);
    }
}

static int make_pipe(int p[2], int parent_end)
{
    if (pipe(p) < 0)
        return -1;
    if (net_set_cloexec(p[0]) < 0 || net_set_cloexec(p[1]) < 0 ||
        net_set_nonblocking(p[parent_end], 1) < 0) {
        close(p[0]);
        close(p[1]);
        p[0] = p[1] = -1;
        return -1;
    }
    return 0;
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
}

static void spawn(conn *c)
{
    job *j = c->job;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rc;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dfl;

    c->state = ST_RUN;
    j->started = S.now;
    if (make_pipe(out, 0) < 0 || make_pipe(err, 0) < 0 || (j->in_len && make_pipe(in, 1) < 0)) {
        rc = errno;
        close_pair(in);
        close_pair(out);
        close_pair(err);
        logf_(1, "cannot create pipes: %s", strerror(rc));
        j->err_name = "BUSY";
        snprintf(j->err_msg, sizeof j->err_msg, "the server cannot create pipes: %s", strerror(rc));
        start_reply(c);
        return;
    }
    posix_spawn_file_actions_init(&fa);
    if (j->in_len)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_adddup2(&fa, S.devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE); /* ignored here; the command gets the default */
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setpgroup(&at, 0); /* its own group: killed as a whole */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&j->pid, j->argv[0], &fa, &at, j->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(out[1]);
    close(err[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (rc != 0) { /* e.g. ENOENT: answer like a shell would */
        char msg[300];
        int n = snprintf(msg, sizeof msg, "frame-exec-server: cannot run %s: %s\n", j->argv[0],
                         strerror(rc));
        close(out[0]);
        close(err[0]);
        if (in[1] >= 0)
            close(in[1]);
        j->pid = 0;
        j->reaped = 1;
        j->code = 127; /* what a shell answers */
        if (n > 0)
            buf_append(&j->err, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        start_reply(c);
        return;
    }
    j->fd[P_IN] = in[1];
    j->fd[P_OUT] = out[0];
    j->fd[P_ERR] = err[0];
    ev_add(S.loop, out[0], EV_READ, &c->w_pipe[P_OUT]);
    ev_add(S.loop, err[0], EV_READ, &c->w_pipe[P_ERR]);
    if (in[1] >= 0)
        ev_add(S.loop, in[1], EV_WRITE, &c->w_pipe[P_IN]);
    j->running_slot = S.nrunning;
    S.running[S.nrunning++] = c;
    set_deadline(c, S.now + j->limit_ms);
}

static void start_queued(void)
{
    while (S.qhead && S.nrunning < S.max_procs) {
        conn *c = S.qhead;
        S.qhead = c->qnext;
        if (!S.qhead)
            S.qtail = NULL;
        c->qnext = NULL;
        spawn(c);
    }
}

/* A complete request: answer an invalid one, run or queue a valid one. */
static void dispatch(conn *c)
{
    job *j = c->job;

    ev_mod(S.loop, c->fd, 0, &c->w_sock); /* read nothing more until answered */
    set_deadline(c, 0);
    free(c->hdr); /* the header is parsed: its buffer is not needed until the next one */
    c->hdr = NULL;
    if (j->err_name) {
        logf_(0, "%s: %s: %s", peer(c), j->err_name, j->err_msg);
        start_reply(c);
    } else if (S.nrunning < S.max_procs) {
        spawn(c);
    } else {
        c->state = ST_QUEUED;
        if (S.qtail)
            S.qtail->qnext = c;
        else
            S.qhead = c;
        S.qtail = c;
    }
}

/* Stops a command that broke its time limit or output cap. */
static void job_stop(conn *c, int timed_out)
{
    job *j = c->job;
    if (timed_out)
        j->timed_out = 1;
    else
        j->truncated = 1;
    job_kill(j);
    for (int i = 0; i < 3; i++)
        job_close_pipe(c, i);
    c->deadline = 0;
    check_done(c); /* else the reply goes out when waitpid reaps it */
}

static void pipe_read(conn *c, int which)
{
    job *j = c->job;
    buf *b = which == P_OUT ? &j->out : &j->err;
    uint64_t have, room;
    ssize_t n;
    size_t keep;

    if (j->fd[which] < 0)
        return;
    n = read(j->fd[which], S.rbuf, sizeof S.rbuf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) { /* end of file (or an error: treated alike) */
        job_close_pipe(c, which);
        check_done(c);
        return;
    }
    have = j->out.len + j->err.len;
    room = have < j->max_output ? j->max_output - have : 0;
    keep = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if (keep && buf_append(b, S.rbuf, keep) < 0) {
        logf_(1, "out of memory for command output");
        keep = 0;
        room = 0;
    }
    if ((uint64_t)n > room)
        job_stop(c, 0);
}

static void pipe_write(conn *c)
{
    job *j = c->job;
    ssize_t n;

    if (j->fd[P_IN] < 0)
        return;
    n = write(j->fd[P_IN], j->in + j->in_off, j->in_len - j->in_off);
    if (n > 0) {
        j->in_off += (size_t)n;
        if (j->in_off == j->in_len)
            job_close_pipe(c, P_IN); /* end of input for the command */
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    } else { /* EPIPE: the command does not read its input */
        job_close_pipe(c, P_IN);
    }
}

static void reap(void)
{
    int st;
    pid_t pid;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (int i = 0; i < S.nrunning; i++) {
            conn *c = S.running[i];
            job *j = c->job;
            if (j->pid == pid) {
                j->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
                j->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + j->sig;
                j->reaped = 1;
                running_remove(j);
                check_done(c);
                break;
            }
        }
    }
    start_queued();
}

/* ------------------------------------------------------------------------ */
/* Socket input                                                             */
/* ------------------------------------------------------------------------ */

static void frame_error(conn *c, frame_errno e)
{
    uint64_t off = frame_decoder_offset(&c->dec);

    if (e == FRAME_E_CALLBACK) { /* our callbacks fail only for lack of memory */
        logf_(1, "%s: out of memory; closing", peer(c));
        conn_close(c);
        return;
    }
    S.frame_errors++;
    logf_(1, "%s: %s at byte %llu; closing", peer(c), frame_errname(e), (unsigned long long)off);
    if (e == FRAME_E_HEADER_TOO_LARGE || e == FRAME_E_BODY_TOO_LARGE)
        fail_conn(c, frame_errname(e), off, "%s (%llu > %llu)", frame_strerror(e),
                  (unsigned long long)frame_decoder_declared_size(&c->dec),
                  (unsigned long long)frame_decoder_limit(&c->dec));
    else
        fail_conn(c, frame_errname(e), off, "%s", frame_strerror(e));
}

/*
 * Each request is decoded by a decoder started at its first byte, with a
 * header buffer that lives until the request is complete. An idle connection
 * thus holds no header buffer at all, whatever max_header is (the price:
 * error offsets count from the start of the request, not of the connection).
 */
static int start_decoder(conn *c)
{
    if (!(c->hdr = malloc(S.max_header)))
        return -1;
    return frame_decoder_init(&c->dec, &S.cfg, &S.cb, c->hdr, S.max_header, c) == FRAME_OK ? 0 : -1;
}

static void feed_input(conn *c, const unsigned char *data, size_t len, int from_rest)
{
    size_t used;
    frame_errno e;

    if (!c->hdr && start_decoder(c) < 0) {
        logf_(1, "%s: out of memory; closing", peer(c));
        conn_close(c);
        return;
    }
    used = frame_feed(&c->dec, data, len);
    e = frame_decoder_errno(&c->dec);

    if (from_rest) {
        c->rest_off += used;
        if (e != FRAME_E_PAUSED || c->rest_off == c->rest_len) {
            free(c->rest);
            c->rest = NULL;
        }
    } else if (e == FRAME_E_PAUSED && used < len) { /* keep what follows the request */
        if (!(c->rest = malloc(len - used))) {
            conn_close(c);
            return;
        }
        memcpy(c->rest, data + used, len - used);
        c->rest_len = len - used;
        c->rest_off = 0;
    }
    if (e == FRAME_E_PAUSED) {
        S.requests++;
        dispatch(c);
    } else if (e != FRAME_OK) {
        frame_error(c, e);
    } else if (frame_decoder_needed(&c->dec) == 0) {
        set_deadline(c, S.now + S.idle_ms);
    } else if (!c->in_frame) { /* a frame began: it has request_ms to complete */
        c->in_frame = 1;
        set_deadline(c, S.now + S.request_ms);
    }
}

static void sock_read(conn *c)
{
    ssize_t n = recv(c->fd, S.rbuf, sizeof S.rbuf, 0);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (c->state == ST_LINGER) { /* draining before close */
        if (n <= 0)
            conn_close(c);
        return;
    }
    if (n > 0) {
        feed_input(c, S.rbuf, (size_t)n, 0);
    } else if (n == 0) { /* end of stream: fine between requests (no decoder) */
        uint64_t missing = 0;
        frame_errno e = c->hdr ? frame_finish(&c->dec, &missing) : FRAME_OK;
        if (e == FRAME_E_TRUNCATED) {
            logf_(1, "%s: TRUNCATED: the client ended its stream %llu bytes short of a frame",
                  peer(c), (unsigned long long)missing);
            fail_conn(c, frame_errname(e), frame_decoder_offset(&c->dec),
                      "%s (%llu more bytes were needed)", frame_strerror(e),
                      (unsigned long long)missing);
        } else {
            conn_close(c);
        }
    } else {
        logf_(0, "%s: %s; closing", peer(c), strerror(errno));
        conn_close(c);
    }
}

static void sock_event(conn *c, unsigned ev)
{
    switch (c->state) {
    case ST_READ:
        if (c->rest) /* an event from before the reply: kept input comes first */
            feed_rest(c);
        else
            sock_read(c);
        break;
    case ST_LINGER:
        sock_read(c);
        break;
    case ST_SEND:
        after_write(c, frame_encoder_resume(&c->job->enc));
        if (c->state == ST_SEND)
            set_deadline(c, S.now + S.idle_ms); /* progress: the client reads */
        break;
    default: /* queued or running: not reading, so only a reset can arrive */
        if (ev & EV_ERROR) {
            logf_(0, "%s: connection lost while its command ran; killing it", peer(c));
            conn_close(c);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Accepting, timeouts, signals                                             */
/* ------------------------------------------------------------------------ */

/* Tells a client the server is full, without waiting for it. */
static void refuse_busy(int fd)
{
    unsigned char head[160];
    const void *p;
    size_t len;
    frame_builder b;

    if (frame_builder_init(&b, NULL, head, sizeof head, 0) == FRAME_OK &&
        frame_builder_add_string(&b, "error", "BUSY") == FRAME_OK &&
        frame_builder_add_string(&b, "message", "too many connections") == FRAME_OK &&
        frame_builder_finish(&b, &p, &len) == FRAME_OK) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
    }
    close(fd);
}

static void do_accept(void)
{
    for (int k = 0; k < 64; k++) {
        conn *c;
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting for a moment rather
                 * than spin on a listener that stays readable. */
                logf_(1, "accept: %s (%ld connections); pausing accept", strerror(errno),
                      S.nconns);
                ev_mod(S.loop, S.lfd, 0, &S.w_listen);
                S.accept_paused = 1;
                S.accept_resume = S.now + 100;
                if (S.accept_resume < S.next_sweep)
                    S.next_sweep = S.accept_resume;
            }
            return;
        }
        if (S.nconns >= S.max_conns || net_set_cloexec(fd) < 0 || net_set_nonblocking(fd, 1) < 0 ||
            !(c = malloc(sizeof *c))) {
            refuse_busy(fd);
            continue;
        }
        net_set_nodelay(fd);
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->state = ST_READ;
        c->w_sock.kind = W_SOCK;
        c->w_pipe[P_IN].kind = W_IN;
        c->w_pipe[P_OUT].kind = W_OUT;
        c->w_pipe[P_ERR].kind = W_ERR;
        c->w_sock.c = c->w_pipe[0].c = c->w_pipe[1].c = c->w_pipe[2].c = c;
        if (ev_add(S.loop, fd, EV_READ, &c->w_sock) < 0) {
            free(c);
            refuse_busy(fd);
            continue;
        }
        c->next = S.conns;
        if (S.conns)
            S.conns->prev = c;
        S.conns = c;
        S.nconns++;
        set_deadline(c, S.now + S.idle_ms);
        if (S.verbose)
            logf_(0, "%s: connected (%ld connections)", peer(c), S.nconns);
    }
}

static void expire(conn *c)
{
    switch (c->state) {
    case ST_READ:
        if (c->in_frame) {
            S.timeouts++;
            logf_(1, "%s: request incomplete after %llu ms (stalled or slow client); closing",
                  peer(c), (unsigned long long)S.request_ms);
            fail_conn(c, "TIMEOUT", frame_decoder_offset(&c->dec),
                      "the request was not complete within %llu ms",
                      (unsigned long long)S.request_ms);
        } else {
            logf_(0, "%s: idle for %llu ms; closing", peer(c), (unsigned long long)S.idle_ms);
            conn_close(c);
        }
        break;
    case ST_RUN:
        logf_(0, "%s: %s exceeded its time limit (%llu ms); killing it", peer(c),
              c->job->argv[0], (unsigned long long)c->job->limit_ms);
        job_stop(c, 1);
        break;
    case ST_SEND:
        logf_(1, "%s: the client does not read its reply; closing", peer(c));
        conn_close(c);
        break;
    default:
        conn_close(c);
    }
}

static void sweep(void)
{
    uint64_t next = S.now + 60000;

    if (S.accept_paused) {
        if (S.now >= S.accept_resume) {
            S.accept_paused = 0;
            ev_mod(S.loop, S.lfd, EV_READ, &S.w_listen);
        } else {
            next = S.accept_resume;
        }
    }
    for (conn *c = S.conns, *nx; c; c = nx) {
        nx = c->next;
        if (c->deadline && S.now >= c->deadline)
            expire(c);
        if (c->state != ST_DEAD && c->deadline && c->deadline < next)
            next = c->deadline;
    }
    S.next_sweep = next;
}

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t n = write(S.sig_w, &b, 1);
    (void)n;
    errno = saved;
}

static void signal_event(void)
{
    unsigned char b[64];
    ssize_t n;
    int child = 0;

    while ((n = read(S.sig_r, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGCHLD)
                child = 1;
            else
                S.stop = b[i];
        }
    if (child)
        reap();
}

static void free_graveyard(void)
{
    while (S.graveyard) {
        conn *c = S.graveyard;
        S.graveyard = c->qnext;
        free(c);
    }
}

static void run(void)
{
    ev_event evs[256];

    while (!S.stop) {
        int n, timeout;
        S.now = ev_now_ms();
        timeout = S.next_sweep <= S.now ? 0
                  : S.next_sweep - S.now > 60000 ? 60000
                                                  : (int)(S.next_sweep - S.now);
        n = ev_wait(S.loop, evs, 256, timeout);
        if (n < 0) {
            logf_(1, "event loop: %s", strerror(errno));
            break;
        }
        S.now = ev_now_ms();
        for (int i = 0; i < n; i++) {
            watch *w = evs[i].ptr;
            conn *c = w->c;
            if (w->kind == W_LISTEN) {
                do_accept();
            } else if (w->kind == W_SIGNAL) {
                signal_event();
            } else if (c->state == ST_DEAD) {
                continue; /* closed earlier in this batch */
            } else if (w->kind == W_SOCK) {
                sock_event(c, evs[i].events);
            } else if (c->job && c->state == ST_RUN) {
                if (w->kind == W_IN)
                    pipe_write(c);
                else
                    pipe_read(c, w->kind == W_OUT ? P_OUT : P_ERR);
            }
        }
        while (S.ready) {
            conn *c = S.ready;
            S.ready = c->rnext;
            c->ready = 0;
            if (c->state == ST_READ && c->rest)
                feed_rest(c);
        }
        free_graveyard();
        if (S.now >= S.next_sweep)
            sweep();
    }
}

static void shut_down(void)
{
    long conns = S.nconns;
    int killed = S.nrunning;

    while (S.conns)
        conn_close(S.conns); /* kills the process group of every running command */
    free_graveyard();
    for (;;) { /* reap every child, killed ones included */
        pid_t pid = waitpid(-1, NULL, 0);
        if (pid < 0 && errno != EINTR)
            break;
    }
    ev_del(S.loop, S.lfd);
    close(S.lfd);
    ev_del(S.loop, S.sig_r);
    close(S.sig_r);
    close(S.sig_w);
    close(S.devnull);
    ev_loop_free(S.loop);
    free(S.running);
    logf_(1, "stopped by signal %d: closed %ld connections, killed %d commands; "
             "%llu requests, %llu frame errors, %llu timeouts",
          S.stop, conns, killed, S.requests, S.frame_errors, S.timeouts);
}

/* ------------------------------------------------------------------------ */
/* Options and main                                                         */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("usage: frame-exec-server [options]\n"
          "Runs the commands that frame-exec clients send, replying with their exit status,\n"
          "standard output and standard error (libframe example).\n"
          "  --listen ADDR          where to listen (default " EXEC_DEFAULT_ADDR "; port 0 = any)\n"
          "  --token TOKEN          access token every request must carry (or set " EXEC_TOKEN_ENV
          ");\n"
          "                         required to listen on a non-loopback address\n"
          "  --time-limit SEC       longest a command may run (default 60)\n"
          "  --max-output BYTES     most stdout+stderr kept per command (default 32M)\n"
          "  --max-stdin BYTES      largest request body, the command's input (default 1M)\n"
          "  --max-procs N          commands running at once; more wait (default 32)\n"
          "  --max-conns N          connections held at once (default 10000)\n"
          "  --idle-timeout SEC     close a connection idle this long (default 60)\n"
          "  --request-timeout SEC  a started request must be complete within (default 10)\n"
          "  --max-header BYTES     longest request header (default 4096; a buffer this\n"
          "                         size is held only while a request is arriving)\n"
          "  -v, --verbose          log every connection and command\n"
          "  -q, --quiet            log nothing\n"
          "Prints \"listening on HOST:PORT\" on standard output once ready. SIGINT or SIGTERM\n"
          "stops it, killing running commands.\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out, int suffixes)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (suffixes && *end) {
        mul = *end == 'k' || *end == 'K' ? 1024u
              : *end == 'M'              ? 1024u * 1024u
              : *end == 'G'              ? 1024u * 1024u * 1024u
                                         : 0;
        end++;
    }
    if (*end || mul == 0 || v > UINT64_MAX / mul)
        return -1;
    *out = (uint64_t)v * mul;
    return 0;
}

static int parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || end == s || !(v > 0) || v > 1e9)
        return -1;
    *ms = (uint64_t)(v * 1000.0 + 0.5);
    return *ms ? 0 : -1;
}

static int options(int argc, char **argv)
{
    const char *token = getenv(EXEC_TOKEN_ENV);
    uint64_t v;

    S.listen_addr = EXEC_DEFAULT_ADDR;
    S.time_limit_ms = 60000;
    S.max_output = 32u << 20;
    S.max_stdin = 1u << 20;
    S.max_procs = 32;
    S.max_conns = 10000;
    S.idle_ms = 60000;
    S.request_ms = 10000;
    S.max_header = EXEC_MAX_HEADER;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        char name[32];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            S.verbose = 1;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            S.quiet = 1;
            continue;
        }
        if (nl >= sizeof name || strncmp(a, "--", 2) != 0)
            goto bad;
        memcpy(name, a, nl);
        name[nl] = '\0';
        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            goto bad;
        if (!strcmp(name, "--listen")) {
            S.listen_addr = val;
        } else if (!strcmp(name, "--token")) {
            token = val;
        } else if (!strcmp(name, "--time-limit")) {
            if (parse_seconds(val, &S.time_limit_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--idle-timeout")) {
            if (parse_seconds(val, &S.idle_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--request-timeout")) {
            if (parse_seconds(val, &S.request_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--max-output")) {
            if (parse_u64(val, &S.max_output, 1) < 0)
                goto bad;
        } else if (!strcmp(name, "--max-stdin")) {
            if (parse_u64(val, &S.max_stdin, 1) < 0 || S.max_stdin > (1u << 30))
                goto bad;
        } else if (!strcmp(name, "--max-procs")) {
            if (parse_u64(val, &v, 0) < 0 || v < 1 || v > 4096)
                goto bad;
            S.max_procs = (int)v;
        } else if (!strcmp(name, "--max-conns")) {
            if (parse_u64(val, &v, 0) < 0 || v < 1 || v > 1000000)
                goto bad;
            S.max_conns = (long)v;
        } else if (!strcmp(name, "--max-header")) {
            if (parse_u64(val, &v, 1) < 0 || v < 64 || v > 65536)
                goto bad;
            S.max_header = (size_t)v;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(stderr, "frame-exec-server: bad option or value: %s%s%s\n", a,
                val && !eq ? " " : "", val && !eq ? val : "");
        usage(stderr);
        return -1;
    }
    if (token && *token) {
        size_t n = strlen(token);
        if (n > EXEC_TOKEN_MAX) {
            fprintf(stderr, "frame-exec-server: the token is longer than %d bytes\n",
                    EXEC_TOKEN_MAX);
            return -1;
        }
        memcpy(S.token, token, n);
        S.token_len = n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char host[256], port[16], err[300], name[NET_NAME_MAX];
    int sp[2], loopback;
    long limit;
    struct sigaction sa;

    if (options(argc, argv) < 0)
        return 2;
    /* Keep 0, 1 and 2 taken, so no socket or pipe can land on them. */
    for (;;) {
        int fd = open("/dev/null", O_RDWR);
        if (fd > 2)
            close(fd);
        if (fd < 0 || fd > 2)
            break;
    }
    if (net_split_hostport(S.listen_addr, host, sizeof host, port, sizeof port) < 0) {
        fprintf(stderr, "frame-exec-server: bad address %s (want HOST:PORT)\n", S.listen_addr);
        return 2;
    }
    loopback = net_host_is_loopback(host);
    if (loopback < 0) {
        fprintf(stderr, "frame-exec-server: cannot resolve %s\n", host);
        return 2;
    }
    if (!loopback && !S.token_len) {
        fprintf(stderr,
                "frame-exec-server: refusing to listen on %s without an access token: it is not\n"
                "a loopback address, so anyone who can reach it could run commands as this user.\n"
                "Set a token with --token or %s (clients send the same), or listen on 127.0.0.1.\n",
                S.listen_addr, EXEC_TOKEN_ENV);
        return 2;
    }

    /* Each connection takes one descriptor, each running command three. */
    limit = net_raise_nofile(S.max_conns + 3L * S.max_procs + 64);
    if (limit > 0 && S.max_conns > limit - 3L * S.max_procs - 32)
        S.max_conns = limit - 3L * S.max_procs - 32 > 1 ? limit - 3L * S.max_procs - 32 : 1;

    S.cfg.max_header = S.max_header;
    S.cfg.max_body = S.max_stdin;
    S.cb.on_header = on_header;
    S.cb.on_body = on_body;
    S.cb.on_frame_end = on_frame_end;
    S.w_listen.kind = W_LISTEN;
    S.w_signal.kind = W_SIGNAL;
    S.running = calloc((size_t)S.max_procs, sizeof *S.running);
    S.loop = ev_loop_new();
    if (!S.running || !S.loop || pipe(sp) < 0) {
        fprintf(stderr, "frame-exec-server: out of resources: %s\n", strerror(errno));
        return 1;
    }
    /* Opened once: the stdin of commands without input (no path lookup per
     * command, and nothing breaks if /dev/null is briefly replaced). */
    if ((S.devnull = open("/dev/null", O_RDONLY)) < 0 || net_set_cloexec(S.devnull) < 0) {
        fprintf(stderr, "frame-exec-server: /dev/null: %s\n", strerror(errno));
        return 1;
    }
    S.sig_r = sp[0];
    S.sig_w = sp[1];
    net_set_cloexec(sp[0]);
    net_set_cloexec(sp[1]);
    net_set_nonblocking(sp[0], 1);
    net_set_nonblocking(sp[1], 1);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    S.lfd = net_listen(host, port, SOCK_STREAM, 4096, 1, err, sizeof err);
    if (S.lfd < 0) {
        fprintf(stderr, "frame-exec-server: cannot listen on %s\n", err);
        return 1;
    }
    ev_add(S.loop, S.lfd, EV_READ, &S.w_listen);
    ev_add(S.loop, S.sig_r, EV_READ, &S.w_signal);
    S.next_sweep = ev_now_ms() + 60000;
    if (net_local_name(S.lfd, name, sizeof name) < 0)
        strcpy(name, S.listen_addr);
    printf("listening on %s\n", name);
    fflush(stdout);
    logf_(0, "%s backend, up to %ld connections, %d commands at a time, header limit %zu, "
             "time limit %llu ms, output cap %llu bytes%s",
          ev_backend(), S.max_conns, S.max_procs, S.max_header,
          (unsigned long long)S.time_limit_ms, (unsigned long long)S.max_output,
          S.token_len ? ", token required" : "");
    run();
    shut_down();
    return 0;
}
