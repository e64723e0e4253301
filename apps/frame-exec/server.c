/*
 * frame-exec-server: runs commands for frame-exec clients (see exec.h and
 * docs/APPS-exec.md).
 *
 * One thread on libuv, through apps/common/stream.h (plain TCP or TLS,
 * per-address connection caps, a deadline to authenticate). Each connection
 * owns a libframe decoder whose header buffer exists only while a request
 * arrives. A complete request pauses the decoder (on_frame_end returns
 * FRAME_PAUSE); the command runs under a keeper process (keeper.h), so that
 * it and everything it starts end together; its stdout and stderr are libuv
 * pipes read into the job's buffers (at most --max-output in all), and the
 * reply leaves in one write: head, stdout, stderr as one uv_write.
 *
 * The memory bound: a job holds one of the --max-procs slots from its start
 * until its reply is written (or its client has gone and its keeper is
 * reaped), so at most --max-procs jobs hold output: output memory <=
 * --max-output x --max-procs however many clients stop reading.
 *
 * Object lifetimes: a `client` lives from accept to on_close; a `job` from a
 * complete request until its reply is written or, once started, until its
 * keeper is reaped (and its cgroup removed, cgroup.h) and its pipes and
 * timer are closed, whichever is later.
 */
#define _GNU_SOURCE

#include "exec.h"
#include "cgroup.h"
#include "keeper.h"

#include "addr.h"
#include "frame.h"
#include "guard.h"
#include "log.h"
#include "secret.h"
#include "stream.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINGER_MS 2000u
#define PIPE_CHUNK 65536u
#define EHEAD 640u

enum { C_READ, C_WAIT, C_SEND };

typedef struct job job;

typedef struct client {
    app_conn *conn;
    int classic, state, authed, in_frame, close_after, no_token;
    size_t last_queue; /* bytes of the reply still queued at the last check */
    frame_decoder dec;
    unsigned char *hdr; /* the header buffer, only while a request arrives */
    job *job;
    unsigned char *ehead; /* an error reply (EHEAD bytes), made at the first error */
} client;

struct job {
    client *cl; /* NULL once the client has gone */
    char **argv, *args;
    unsigned char *in;
    size_t in_len;
    const char *err_name; /* refused at on_header: reply with this error */
    char err_msg[200];
    uint64_t limit_ms, max_output, started;
    pid_t pid; /* the keeper; 0 before the start */
    int status, reaped, running, queued, handles, out_open, err_open, in_open;
    int timed_out, truncated, failed;
    char cgroup[512]; /* the command's cgroup v2 ("" = none, or removed) */
    uv_pipe_t pin, pout, perr;
    uv_timer_t timer;
    uv_write_t in_req;
    unsigned char *out, *err;
    size_t out_len, err_len, out_cap, err_cap;
    unsigned char head[512];
    uv_buf_t bufs[3];
    job *qnext, *prev, *next;
};

static struct {
    /* options */
    const char *listen, *classic_listen, *classic_key, *token_file, *tls_cert, *tls_key, *user;
    const char *cgroup_want; /* --cgroup: "auto", "off" or a directory */
    char token[APP_TOKEN_MAX + 1];
    size_t token_len;
    uint64_t time_limit_ms, max_output, max_stdin, idle_ms, request_ms, auth_ms;
    uint64_t backoff_base_ms, backoff_cap_ms;
    size_t max_header;
    unsigned max_conns, max_per_addr;
    int max_procs, verbosity, insecure;
    keeper_user kuser;
    char keeper[4096]; /* frame-exec-keeper, next to this binary */
    /* state */
    char cgroup_base[4096]; /* "" = commands get no cgroup */
    unsigned long long cgroup_seq;
    uv_loop_t *loop;
    app_server *srv, *classic;
    app_guard *guard;
    SSL_CTX *tls;
    uv_signal_t sigchld, sigint, sigterm;
    frame_config cfg, reply_cfg, classic_cfg; /* requests (max_body = --max-stdin), replies */
    frame_callbacks cb;
    job *qhead, *qtail, *jobs;
    int nrunning, devnull, stop_sig;
    unsigned long long requests, frame_errors, timeouts, auth_failures, killed;
    unsigned char pipe_buf[PIPE_CHUNK];
} S;

static void start_queued(void);
static void send_reply(job *j);
static void client_read_next(client *cl);

/* ------------------------------------------------------------------------ */
/* Jobs                                                                     */
/* ------------------------------------------------------------------------ */

static job *job_new(client *cl)
{
    job *j = calloc(1, sizeof *j);
    if (j) {
        j->cl = cl;
        j->limit_ms = S.time_limit_ms;
        j->max_output = S.max_output;
    }
    return j;
}

static void job_free_memory(job *j)
{
    free(j->argv);
    free(j->args);
    free(j->in);
    free(j->out);
    free(j->err);
    free(j);
}

static void job_unlink(job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else if (S.jobs == j)
        S.jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

static void job_handle_closed(uv_handle_t *h)
{
    job *j = h->data;
    if (--j->handles == 0 && !j->running && j->reaped) {
        job_unlink(j);
        job_free_memory(j);
    }
}

static void job_close(job *j, uv_handle_t *h, int *open_flag)
{
    (void)j; /* h->data is the job */
    if (*open_flag) {
        *open_flag = 0;
        uv_close(h, job_handle_closed);
    }
}

/* Ends the command and all it started (the keeper does the killing). */
static void job_kill(job *j)
{
    if (j->pid > 0 && !j->reaped) {
        kill(j->pid, SIGTERM);
        S.killed++;
    }
}

static void queue_remove(job *j)
{
    job **pp = &S.qhead, *prev = NULL;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp) {
        *pp = j->qnext;
        if (S.qtail == j)
            S.qtail = prev;
    }
    j->queued = 0;
    j->qnext = NULL;
}

/* The job no longer needs its slot: its reply is out, or its client has
 * gone and its keeper is reaped (every descendant is dead). */
static void job_release(job *j)
{
    int timer_open = 1;
    if (j->cl) {
        j->cl->job = NULL;
        j->cl = NULL;
    }
    if (j->queued)
        queue_remove(j);
    if (!j->pid) { /* never started: nothing of libuv to close */
        job_free_memory(j);
        return;
    }
    if (j->running) {
        j->running = 0;
        S.nrunning--;
    }
    job_close(j, (uv_handle_t *)&j->timer, &timer_open);
    start_queued();
}

/* The command, its descendants and its output are all done. */
static void check_done(job *j)
{
    if (j->reaped && j->truncated) { /* nothing is read from them any more */
        job_close(j, (uv_handle_t *)&j->pout, &j->out_open);
        job_close(j, (uv_handle_t *)&j->perr, &j->err_open);
    }
    if (!j->reaped || j->out_open || j->err_open)
        return;
    uv_timer_stop(&j->timer);
    if (!j->cl) {
        job_release(j);
        return;
    }
    send_reply(j);
}

static int grow(unsigned char **p, size_t *cap, size_t need, uint64_t most)
{
    size_t c = *cap ? *cap : 65536;
    unsigned char *q;
    while (c < need)
        c *= 2;
    if (c > most && need <= most)
        c = (size_t)most;
    if (!(q = realloc(*p, c)))
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init((char *)S.pipe_buf, sizeof S.pipe_buf);
}

static void pipe_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    job *j = st->data;
    int is_out = st == (uv_stream_t *)&j->pout;
    uint64_t have = j->out_len + j->err_len, room = have < j->max_output ? j->max_output - have : 0;
    size_t keep;

    if (n == 0)
        return;
    if (n < 0) { /* end of file (or an error: alike) */
        job_close(j, (uv_handle_t *)st, is_out ? &j->out_open : &j->err_open);
        check_done(j);
        return;
    }
    keep = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if (keep) {
        unsigned char **p = is_out ? &j->out : &j->err;
        size_t *len = is_out ? &j->out_len : &j->err_len, *cap = is_out ? &j->out_cap : &j->err_cap;
        if (*len + keep > *cap && grow(p, cap, *len + keep, j->max_output) < 0) {
            app_log(APP_LOG_ERROR, "out of memory for command output");
            keep = 0;
            room = 0;
        } else {
            memcpy(*p + *len, buf->base, keep);
            *len += keep;
        }
    }
    if ((uint64_t)n > room) {
        /* The output cap: read no more and end the command. The pipes stay
         * open until the keeper is reaped, so the command dies of SIGKILL,
         * not of a SIGPIPE that would race with it. */
        j->truncated = 1;
        uv_read_stop((uv_stream_t *)&j->pout);
        uv_read_stop((uv_stream_t *)&j->perr);
        job_kill(j);
    }
}

static void stdin_written(uv_write_t *req, int status)
{
    job *j = req->data;
    (void)status; /* EPIPE: the command does not read its input; fine */
    job_close(j, (uv_handle_t *)&j->pin, &j->in_open);
}

static void time_limit(uv_timer_t *t)
{
    job *j = t->data;
    j->timed_out = 1;
    S.timeouts++;
    app_log(APP_LOG_INFO, "%s: %s exceeded its time limit (%llu ms); killing it and all it started",
            j->cl ? app_conn_peer(j->cl->conn) : "(gone)", j->argv[0],
            (unsigned long long)j->limit_ms);
    job_kill(j);
}

static int open_pipe(job *j, uv_pipe_t *p, int fd)
{
    uv_pipe_init(S.loop, p, 0);
    p->data = j;
    j->handles++;
    return uv_pipe_open(p, fd);
}

static void spawn(job *j)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, saved;
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
        (j->in_len && pipe2(in, O_CLOEXEC) < 0))
        goto fail;
    if (S.cgroup_base[0] &&
        cgroup_create(S.cgroup_base, ++S.cgroup_seq, j->cgroup, sizeof j->cgroup) < 0) {
        j->cgroup[0] = '\0';
        goto fail;
    }
    pid = keeper_spawn(S.keeper, j->argv, j->in_len ? in[0] : S.devnull, out[1], err[1], &S.kuser,
                       j->cgroup[0] ? j->cgroup : NULL);
    if (pid < 0) {
        if (j->cgroup[0])
            rmdir(j->cgroup);
        j->cgroup[0] = '\0';
        goto fail;
    }
    close(out[1]);
    close(err[1]);
    if (in[0] >= 0)
        close(in[0]);
    j->pid = pid;
    j->started = uv_now(S.loop);
    j->running = 1;
    S.nrunning++;
    j->next = S.jobs;
    if (S.jobs)
        S.jobs->prev = j;
    S.jobs = j;
    uv_timer_init(S.loop, &j->timer);
    j->timer.data = j;
    j->handles++;
    uv_timer_start(&j->timer, time_limit, j->limit_ms, 0);
    j->out_open = j->err_open = 1;
    open_pipe(j, &j->pout, out[0]);
    open_pipe(j, &j->perr, err[0]);
    uv_read_start((uv_stream_t *)&j->pout, pipe_alloc, pipe_read);
    uv_read_start((uv_stream_t *)&j->perr, pipe_alloc, pipe_read);
    if (in[1] >= 0) {
        uv_buf_t b = uv_buf_init((char *)j->in, (unsigned)j->in_len);
        j->in_open = 1;
        open_pipe(j, &j->pin, in[1]);
        j->in_req.data = j;
        if (uv_write(&j->in_req, (uv_stream_t *)&j->pin, &b, 1, stdin_written) < 0)
            job_close(j, (uv_handle_t *)&j->pin, &j->in_open);
    }
    return;
fail:
    saved = errno;
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
        if (err[i] >= 0)
            close(err[i]);
    }
    app_log(APP_LOG_ERROR, "cannot start a command: %s", strerror(saved));
    j->failed = 1;
    j->err_name = "BUSY";
    snprintf(j->err_msg, sizeof j->err_msg, "the server cannot start the command: %s",
             strerror(saved));
    send_reply(j);
}

static void start_queued(void)
{
    while (S.qhead && S.nrunning < S.max_procs && !S.stop_sig) {
        job *j = S.qhead;
        queue_remove(j);
        spawn(j);
    }
}

static void run_or_queue(job *j)
{
    if (S.nrunning < S.max_procs) {
        spawn(j);
        return;
    }
    j->queued = 1;
    if (S.qtail)
        S.qtail->qnext = j;
    else
        S.qhead = j;
    S.qtail = j;
}

static void job_reaped(job *j);

static void cgroup_retry(uv_timer_t *t)
{
    job_reaped(t->data);
}

/* The keeper has exited. Its cgroup goes too, killed first: a command that
 * killed its keeper left its processes there. Until the cgroup is empty
 * the job keeps its slot (the timer looks again every 10 ms). */
static void job_reaped(job *j)
{
    if (j->cgroup[0]) {
        int r = cgroup_remove(j->cgroup);
        if (r == 1) {
            uv_timer_start(&j->timer, cgroup_retry, 10, 0);
            return;
        }
        if (r < 0)
            app_log(APP_LOG_ERROR, "cannot remove the cgroup %s: %s", j->cgroup, strerror(errno));
        j->cgroup[0] = '\0';
    }
    j->reaped = 1;
    if (!j->cl && j->handles == 0 && !j->running) {
        job_unlink(j);
        job_free_memory(j);
    } else {
        check_done(j);
    }
}

static void on_sigchld(uv_signal_t *h, int sig)
{
    int st;
    pid_t pid;
    (void)h;
    (void)sig;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (job *j = S.jobs; j; j = j->next)
            if (j->pid == pid) {
                j->status = st;
                j->pid = -pid; /* reaped: never signalled again (the pid may be reused) */
                job_reaped(j);
                break;
            }
    }
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                  */
/* ------------------------------------------------------------------------ */

static void reply_written(app_conn *c, int status, void *arg)
{
    job *j = arg;
    client *cl = app_conn_data(c);
    (void)status;
    job_release(j);
    if (cl->close_after)
        app_conn_close_after_write(c, LINGER_MS);
    else
        client_read_next(cl);
}

/* A reply being sent: closed if the client read nothing for idle_ms. */
static void send_check(app_conn *c)
{
    client *cl = app_conn_data(c);
    size_t q = app_conn_write_queue(c);
    if (cl->state != C_SEND)
        return;
    if (q && q >= cl->last_queue) {
        app_log(APP_LOG_INFO, "%s: the client does not read its reply; closing", app_conn_peer(c));
        app_conn_close(c);
        return;
    }
    cl->last_queue = q;
    app_conn_timer(c, S.idle_ms, send_check);
}

static void send_reply(job *j)
{
    client *cl = j->cl;
    app_conn *c = cl->conn;
    frame_builder b;
    const void *head;
    size_t head_len, body = j->out_len + j->err_len;
    unsigned n = 0;
    frame_errno e;
    int code = 0, sig = 0;

    if (j->pid) {
        sig = WIFSIGNALED(j->status) ? WTERMSIG(j->status) : 0;
        code = WIFEXITED(j->status) ? WEXITSTATUS(j->status) : 128 + sig;
    }
    if (cl->classic) {
        /* A classic client reads any frame as a result: an error must not
         * look like an empty one. Close instead. */
        if (j->err_name || j->timed_out || j->truncated) {
            app_log(APP_LOG_INFO, "%s: classic command %s; closing without a reply", app_conn_peer(c),
                    j->err_name ? j->err_msg : j->timed_out ? "timed out" : "hit the output cap");
            app_conn_close(c);
            return;
        }
        e = frame_builder_init(&b, &S.classic_cfg, j->head, sizeof j->head, body);
    } else if (j->err_name) {
        e = frame_builder_init(&b, &S.reply_cfg, j->head, sizeof j->head, 0);
        if (!e)
            e = frame_builder_add_string(&b, "error", j->err_name);
        if (!e)
            e = frame_builder_add_string(&b, "message", j->err_msg);
        body = 0;
    } else {
        e = frame_builder_init(&b, &S.reply_cfg, j->head, sizeof j->head, body);
        if (!e)
            e = frame_builder_add_int64(&b, "exit", code);
        if (!e)
            e = frame_builder_add_uint64(&b, "stdout", j->out_len);
        if (!e)
            e = frame_builder_add_uint64(&b, "stderr", j->err_len);
        if (!e && sig)
            e = frame_builder_add_int64(&b, "signal", sig);
        if (!e && j->timed_out)
            e = frame_builder_add_bool(&b, "timed_out", 1);
        if (!e && j->truncated)
            e = frame_builder_add_bool(&b, "truncated", 1);
    }
    if (!e)
        e = frame_builder_finish(&b, &head, &head_len);
    if (e) {
        app_log(APP_LOG_ERROR, "cannot build a reply: %s", frame_errname(e));
        app_conn_close(c);
        return;
    }
    if (j->pid && app_log_on(APP_LOG_DEBUG))
        app_log(APP_LOG_DEBUG, "%s: ran %s: exit %d, %zu+%zu bytes, %llu ms%s%s", app_conn_peer(c),
                j->argv[0], code, j->out_len, j->err_len,
                (unsigned long long)(uv_now(S.loop) - j->started), j->timed_out ? ", timed out" : "",
                j->truncated ? ", truncated" : "");
    /* One write: head, stdout, stderr. */
    j->bufs[n++] = uv_buf_init((char *)(size_t)head, (unsigned)head_len);
    if (body && j->out_len)
        j->bufs[n++] = uv_buf_init((char *)j->out, (unsigned)j->out_len);
    if (body && j->err_len)
        j->bufs[n++] = uv_buf_init((char *)j->err, (unsigned)j->err_len);
    cl->state = C_SEND;
    if (app_conn_write(c, j->bufs, n, reply_written, j) < 0) {
        app_conn_close(c);
        return;
    }
    cl->last_queue = app_conn_write_queue(c);
    app_conn_timer(c, S.idle_ms, send_check);
}

static void error_written(app_conn *c, int status, void *arg)
{
    client *cl = app_conn_data(c);
    (void)status;
    (void)arg;
    if (!cl->close_after)
        client_read_next(cl);
}

/* An error frame; with close_after, the connection ends once it is out. */
static void send_error(client *cl, const char *name, int close_after, int has_offset,
                       uint64_t offset, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    frame_builder b;
    const void *head;
    size_t len;
    uv_buf_t buf;
    frame_errno e;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cl->classic) {
        app_conn_close(cl->conn);
        return;
    }
    if (!cl->ehead && !(cl->ehead = malloc(EHEAD))) {
        app_conn_close(cl->conn);
        return;
    }
    e = frame_builder_init(&b, &S.reply_cfg, cl->ehead, EHEAD, 0);
    if (!e)
        e = frame_builder_add_string(&b, "error", name);
    if (!e)
        e = frame_builder_add_string(&b, "message", msg);
    if (!e && has_offset)
        e = frame_builder_add_uint64(&b, "offset", offset);
    if (!e)
        e = frame_builder_finish(&b, &head, &len);
    if (e) {
        app_conn_close(cl->conn);
        return;
    }
    cl->state = C_SEND;
    cl->close_after |= close_after;
    app_conn_timer(cl->conn, 0, NULL);
    buf = uv_buf_init((char *)(size_t)head, (unsigned)len);
    if (app_conn_write(cl->conn, &buf, 1, error_written, NULL) < 0) {
        app_conn_close(cl->conn);
        return;
    }
    if (cl->close_after)
        app_conn_close_after_write(cl->conn, LINGER_MS);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

static int bad(job *j, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    j->err_name = name;
    vsnprintf(j->err_msg, sizeof j->err_msg, fmt, ap);
    va_end(ap);
    return -1;
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

enum { CB_NOMEM = -1, CB_UNAUTHORIZED = -2 };

/* Every request carries the token. A wrong or missing one is a failure
 * of the peer's address: logged, and its next attempt waits (guard.h). */
static int check_token(client *cl, const frame_header *h)
{
    char got[APP_TOKEN_MAX + 1];
    size_t len = 0;
    unsigned fails;
    uint64_t delay;
    frame_errno e = frame_header_get_string(h, "token", got, sizeof got, &len);
    int ok = e == FRAME_OK && app_token_equal(got, len, S.token, S.token_len);

    OPENSSL_cleanse(got, sizeof got);
    if (ok) {
        if (!cl->authed) {
            cl->authed = 1;
            app_guard_success(S.guard, app_conn_key(cl->conn));
            app_conn_authenticated(cl->conn);
        }
        return 0;
    }
    S.auth_failures++;
    cl->no_token = e == FRAME_E_NOT_FOUND;
    delay = app_guard_fail(S.guard, app_conn_key(cl->conn), uv_now(S.loop), &fails);
    app_log(APP_LOG_ERROR, "%s: %s (failure %u in a row from %s; its next attempt waits %llu ms)",
            app_conn_peer(cl->conn), cl->no_token ? "request without a token" : "wrong token",
            fails, app_conn_key(cl->conn), (unsigned long long)delay);
    return -1;
}

static int on_header(frame_decoder *d, const frame_header *h)
{
    client *cl = d->data;
    job *j;

    if (check_token(cl, h) < 0)
        return CB_UNAUTHORIZED; /* stop now: not a byte of the body is read */
    if (!(j = job_new(cl)))
        return CB_NOMEM;
    cl->job = j;
    if (check_request(j, h) < 0)
        return FRAME_SKIP; /* the body is dropped; the reply is the error */
    if (h->body_size && !(j->in = malloc((size_t)h->body_size)))
        return CB_NOMEM;
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len)
{
    job *j = ((client *)d->data)->job;
    memcpy(j->in + j->in_len, at, len);
    j->in_len += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d)
{
    ((client *)d->data)->in_frame = 0;
    return FRAME_PAUSE; /* one request at a time: stop until it is answered */
}

static void idle_expired(app_conn *c)
{
    app_log(APP_LOG_DEBUG, "%s: idle for %llu ms; closing", app_conn_peer(c),
            (unsigned long long)S.idle_ms);
    app_conn_close(c);
}

static void request_expired(app_conn *c)
{
    client *cl = app_conn_data(c);
    S.timeouts++;
    app_log(APP_LOG_INFO, "%s: request incomplete after %llu ms (stalled or slow client); closing",
            app_conn_peer(c), (unsigned long long)S.request_ms);
    send_error(cl, "TIMEOUT", 1, 1, frame_decoder_offset(&cl->dec),
               "the request was not complete within %llu ms", (unsigned long long)S.request_ms);
}

static void backoff_over(app_conn *c)
{
    app_conn_read_start(c);
}

/* After a reply: the next request (kept input first). */
static void client_read_next(client *cl)
{
    cl->state = C_READ;
    app_conn_timer(cl->conn, S.idle_ms, idle_expired);
    app_conn_read_start(cl->conn);
}

/* A complete request: answer an invalid one, run or queue a valid one. */
static void dispatch(client *cl)
{
    job *j = cl->job;

    free(cl->hdr);
    cl->hdr = NULL;
    cl->state = C_WAIT;
    /* Reading goes on while the command runs, to see the client leave;
     * what it sends meanwhile is kept (on_data returns 0). */
    app_conn_timer(cl->conn, 0, NULL);
    if (j->err_name) {
        app_log(APP_LOG_DEBUG, "%s: %s: %s", app_conn_peer(cl->conn), j->err_name, j->err_msg);
        cl->job = NULL;
        send_error(cl, j->err_name, 0, 0, 0, "%s", j->err_msg);
        job_free_memory(j);
        return;
    }
    run_or_queue(j);
}

static void request_failed(client *cl, frame_errno e)
{
    uint64_t off = frame_decoder_offset(&cl->dec);
    int code = frame_decoder_callback_code(&cl->dec);

    if (cl->job) { /* a request cut short */
        job_free_memory(cl->job);
        cl->job = NULL;
    }
    if (e == FRAME_E_CALLBACK && code == CB_UNAUTHORIZED) {
        send_error(cl, "UNAUTHORIZED", 1, 0, 0, "%s",
                   cl->no_token ? "this server requires an access token (\"token\")"
                                : "wrong access token");
        return;
    }
    if (e == FRAME_E_CALLBACK) {
        app_log(APP_LOG_ERROR, "%s: out of memory; closing", app_conn_peer(cl->conn));
        app_conn_close(cl->conn);
        return;
    }
    S.frame_errors++;
    app_log(APP_LOG_INFO, "%s: %s at byte %llu; closing", app_conn_peer(cl->conn), frame_errname(e),
            (unsigned long long)off);
    if (e == FRAME_E_HEADER_TOO_LARGE || e == FRAME_E_BODY_TOO_LARGE)
        send_error(cl, frame_errname(e), 1, 1, off, "%s (%llu > %llu)", frame_strerror(e),
                   (unsigned long long)frame_decoder_declared_size(&cl->dec),
                   (unsigned long long)frame_decoder_limit(&cl->dec));
    else
        send_error(cl, frame_errname(e), 1, 1, off, "%s", frame_strerror(e));
}

/*
 * Each request is decoded by a decoder started at its first byte, with a
 * header buffer that lives until the request is complete: an idle
 * connection holds no header buffer (error offsets count from the start of
 * the request).
 */
static int start_decoder(client *cl)
{
    if (!(cl->hdr = malloc(S.max_header)))
        return -1;
    return frame_decoder_init(&cl->dec, &S.cfg, &S.cb, cl->hdr, S.max_header, cl) == FRAME_OK ? 0
                                                                                            : -1;
}

static size_t classic_data(client *cl, const unsigned char *data, size_t len);

static size_t on_data(app_conn *c, const void *data, size_t len)
{
    client *cl = app_conn_data(c);
    size_t used;
    frame_errno e;

    if (cl->state != C_READ)
        return 0; /* kept until the reply is out */
    if (cl->classic)
        return classic_data(cl, data, len);
    if (!cl->authed) {
        /* An address in backoff: its bytes are not even parsed until then. */
        uint64_t wait = app_guard_wait(S.guard, app_conn_key(c), uv_now(S.loop));
        if (wait) {
            app_conn_timer(c, wait, backoff_over);
            return 0;
        }
    }
    if (!cl->hdr && start_decoder(cl) < 0) {
        app_log(APP_LOG_ERROR, "%s: out of memory; closing", app_conn_peer(c));
        app_conn_close(c);
        return len;
    }
    used = frame_feed(&cl->dec, data, len);
    e = frame_decoder_errno(&cl->dec);
    if (e == FRAME_E_PAUSED) {
        S.requests++;
        dispatch(cl);
        return used;
    }
    if (e != FRAME_OK) {
        request_failed(cl, e);
        return len;
    }
    if (frame_decoder_needed(&cl->dec) == 0) {
        app_conn_timer(c, S.idle_ms, idle_expired);
    } else if (!cl->in_frame) { /* a frame began: it has request_ms to complete */
        cl->in_frame = 1;
        app_conn_timer(c, S.request_ms, request_expired);
    }
    return len;
}

/* Classic mode: a raw command, as one recv(1024) would return it. */
static size_t classic_data(client *cl, const unsigned char *data, size_t len)
{
    size_t n = len < EXEC_CLASSIC_MAX ? len : EXEC_CLASSIC_MAX;
    job *j = NULL;

    app_conn_authenticated(cl->conn); /* no credentials to check: see --classic-listen */
    if (memchr(data, '\0', n) || !(j = job_new(cl)) || !(j->args = malloc(n + 1)) ||
        !(j->argv = malloc(4 * sizeof *j->argv))) {
        app_log(APP_LOG_INFO, "%s: classic command with a NUL byte (or out of memory); closing",
                app_conn_peer(cl->conn));
        if (j)
            job_free_memory(j);
        app_conn_close(cl->conn);
        return len;
    }
    memcpy(j->args, data, n);
    j->args[n] = '\0';
    j->argv[0] = "/bin/sh";
    j->argv[1] = "-c";
    j->argv[2] = j->args;
    j->argv[3] = NULL;
    cl->job = j;
    cl->state = C_WAIT;
    app_conn_timer(cl->conn, 0, NULL);
    S.requests++;
    run_or_queue(j);
    return n;
}

static void on_end(app_conn *c)
{
    client *cl = app_conn_data(c);
    uint64_t missing = 0;

    if (cl->state == C_READ) {
        frame_errno e = cl->hdr && !cl->classic ? frame_finish(&cl->dec, &missing) : FRAME_OK;
        if (e == FRAME_E_TRUNCATED) {
            app_log(APP_LOG_INFO, "%s: TRUNCATED: the client ended its stream %llu bytes short of "
                                  "a frame", app_conn_peer(c), (unsigned long long)missing);
            send_error(cl, frame_errname(e), 1, 1, frame_decoder_offset(&cl->dec),
                       "%s (%llu more bytes were needed)", frame_strerror(e),
                       (unsigned long long)missing);
        } else {
            app_conn_close(c);
        }
    } else if (cl->state == C_WAIT) {
        app_log(APP_LOG_INFO, "%s: the client left while its command ran; killing it",
                app_conn_peer(c));
        app_conn_close(c);
    } else {
        cl->close_after = 1; /* a reply is on its way: then close */
    }
}

static void on_open(app_conn *c)
{
    client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        app_conn_close(c);
        return;
    }
    cl->conn = c;
    cl->classic = app_conn_server(c) == S.classic;
    app_conn_set_data(c, cl);
}

static void on_close(app_conn *c)
{
    client *cl = app_conn_data(c);
    job *j;
    if (!cl)
        return;
    if ((j = cl->job) != NULL) {
        cl->job = NULL;
        j->cl = NULL;
        if (!j->pid || (j->reaped && !j->out_open && !j->err_open)) {
            job_release(j); /* not started, or done (its reply was on its way) */
        } else {
            job_kill(j); /* released once the keeper is reaped */
        }
    }
    free(cl->hdr);
    free(cl->ehead);
    free(cl);
}

/* ------------------------------------------------------------------------ */
/* Stopping                                                                 */
/* ------------------------------------------------------------------------ */

static void handle_closed_noop(uv_handle_t *h)
{
    (void)h;
}

static void on_stop(uv_signal_t *h, int sig)
{
    unsigned conns = app_server_conns(S.srv) + (S.classic ? app_server_conns(S.classic) : 0);
    int running = S.nrunning;
    (void)h;
    S.stop_sig = sig;
    app_server_close(S.srv);
    if (S.classic)
        app_server_close(S.classic);
    /* Every keeper was told to end its tree; wait for them (they are quick). */
    for (job *j = S.jobs; j; j = j->next)
        if (j->pid > 0 && !j->reaped) {
            kill(j->pid, SIGTERM);
            while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
                ;
            j->reaped = 1;
        }
    for (job *j = S.jobs; j; j = j->next)
        for (int tries = 0; j->cgroup[0] && tries < 200; tries++) {
            int r = cgroup_remove(j->cgroup);
            if (r != 1) {
                j->cgroup[0] = '\0';
                break;
            }
            usleep(5000);
        }
    if (S.cgroup_base[0])
        cgroup_base_close(S.cgroup_base);
    uv_close((uv_handle_t *)&S.sigchld, handle_closed_noop);
    uv_close((uv_handle_t *)&S.sigint, handle_closed_noop);
    uv_close((uv_handle_t *)&S.sigterm, handle_closed_noop);
    app_log(APP_LOG_ERROR, "stopped by signal %d: closed %u connections, killed %d commands; "
                           "%llu requests, %llu frame errors, %llu timeouts, %llu failed logins",
            sig, conns, running, S.requests, S.frame_errors, S.timeouts, S.auth_failures);
    uv_stop(S.loop);
}

/* ------------------------------------------------------------------------ */
/* Options and main                                                         */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("usage: frame-exec-server [options]\n"
          "Runs the commands that frame-exec clients send, replying with their exit status,\n"
          "standard output and standard error.\n"
          "  --listen ADDR          where to listen (default " EXEC_DEFAULT_ADDR "; port 0 = any).\n"
          "                         A non-loopback address needs TLS (or --insecure-no-tls)\n"
          "Access (a token is always required):\n"
          "  --token TOKEN          the token every request must carry, at least 16 bytes (or\n"
          "                         set " EXEC_TOKEN_ENV "; both are visible to local users\n"
          "                         only until start-up: prefer --token-file)\n"
          "  --token-file FILE      read the token from FILE (mode 600); if FILE does not\n"
          "                         exist, write a new random token there. Without --token\n"
          "                         and --token-file: $XDG_RUNTIME_DIR/" EXEC_TOKEN_FILE "\n"
          "                         (else ~/." EXEC_TOKEN_FILE "), the path is printed\n"
          "  --user NAME            run commands as user NAME (the server must run as root)\n"
          "  --cgroup auto|off|DIR  run each command in a cgroup v2 of its own, under the\n"
          "                         server's cgroup (auto: where it may create one, else\n"
          "                         without) or under DIR (a delegated cgroup v2 directory;\n"
          "                         the server refuses to start if it cannot) (default auto)\n"
          "  --tls-cert FILE        TLS: the server's PEM certificate chain\n"
          "  --tls-key FILE         TLS: its PEM private key\n"
          "  --insecure-no-tls      allow a non-loopback --listen without TLS (tokens and\n"
          "                         output then cross the network in clear text)\n"
          "Limits against unauthenticated peers:\n"
          "  --max-conns N          connections held at once (default 1000)\n"
          "  --max-conns-per-addr N connections from one address (IPv6: one /64) (default 16)\n"
          "  --auth-timeout SEC     a connection must send a request with the right token\n"
          "                         within SEC (TLS handshake included) (default 10)\n"
          "  --auth-backoff MS:MS   after each failed token from an address, its next attempt\n"
          "                         waits twice as long, from the first to the second value\n"
          "                         (default 250:30000)\n"
          "Limits on commands:\n"
          "  --time-limit SEC       longest a command may run (default 60); it and everything\n"
          "                         it started are killed then, or when its client leaves\n"
          "  --max-output BYTES     most stdout+stderr kept per command (default 32M); output\n"
          "                         memory stays below --max-output x --max-procs\n"
          "  --max-stdin BYTES      largest request body, the command's input (default 1M)\n"
          "  --max-procs N          commands at once, counted until their reply is written and\n"
          "                         every process they started is gone; more wait (default 32)\n"
          "  --idle-timeout SEC     close a connection idle this long (default 60)\n"
          "  --request-timeout SEC  a started request must be complete within (default 10)\n"
          "  --max-header BYTES     longest request header (default 4096)\n"
          "Classic mode (the tutorial protocol; off by default):\n"
          "  --classic-listen ADDR  also accept tutorial clients on ADDR (loopback only): a raw\n"
          "                         command in, {\"KEY\":N} + output back; run with /bin/sh -c,\n"
          "                         same limits. Classic clients carry NO credentials: any\n"
          "                         local user who can connect runs commands\n"
          "  --classic-key KEY      size or data_size (default size)\n"
          "Logging:\n"
          "  -v, --verbose          log every connection and command\n"
          "  -q, --quiet            log nothing\n"
          "Each command runs under frame-exec-keeper (installed next to this program), which\n"
          "ends it with every process it started (and its cgroup, see --cgroup). Prints\n"
          "\"listening on HOST:PORT\" on standard output once ready (then \"classic listening\n"
          "on HOST:PORT\"). SIGINT or SIGTERM stops it, killing running commands.\n",
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

static int options(int argc, char **argv, const char **token)
{
    uint64_t v;

    S.listen = EXEC_DEFAULT_ADDR;
    S.classic_key = "size";
    S.time_limit_ms = 60000;
    S.max_output = 32u << 20;
    S.max_stdin = 1u << 20;
    S.max_procs = 32;
    S.cgroup_want = "auto";
    S.max_conns = 1000;
    S.max_per_addr = 16;
    S.idle_ms = 60000;
    S.request_ms = 10000;
    S.auth_ms = 10000;
    S.backoff_base_ms = 250;
    S.backoff_cap_ms = 30000;
    S.max_header = EXEC_MAX_HEADER;
    S.verbosity = 1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        char name[32];
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            S.verbosity = 2;
            continue;
        }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            S.verbosity = -1;
            continue;
        }
        if (!strcmp(a, "--insecure-no-tls")) {
            S.insecure = 1;
            continue;
        }
        if (nl >= sizeof name || strncmp(a, "--", 2) != 0)
            goto bad;
        memcpy(name, a, nl);
        name[nl] = '\0';
        val = eq ? (char *)(size_t)(eq + 1) : (i + 1 < argc ? argv[++i] : NULL);
        if (!val)
            goto bad;
        if (!strcmp(name, "--listen")) {
            S.listen = val;
        } else if (!strcmp(name, "--token")) {
            *token = strdup(val);
            /* Out of `ps` from now on (other users could read it there). */
            memset(val, 'x', strlen(val));
        } else if (!strcmp(name, "--token-file")) {
            S.token_file = val;
        } else if (!strcmp(name, "--user")) {
            S.user = val;
        } else if (!strcmp(name, "--cgroup")) {
            if (!*val)
                goto bad;
            S.cgroup_want = val;
        } else if (!strcmp(name, "--tls-cert")) {
            S.tls_cert = val;
        } else if (!strcmp(name, "--tls-key")) {
            S.tls_key = val;
        } else if (!strcmp(name, "--classic-listen")) {
            S.classic_listen = val;
        } else if (!strcmp(name, "--classic-key")) {
            if (strcmp(val, "size") && strcmp(val, "data_size"))
                goto bad;
            S.classic_key = val;
        } else if (!strcmp(name, "--time-limit")) {
            if (parse_seconds(val, &S.time_limit_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--idle-timeout")) {
            if (parse_seconds(val, &S.idle_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--request-timeout")) {
            if (parse_seconds(val, &S.request_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--auth-timeout")) {
            if (parse_seconds(val, &S.auth_ms) < 0)
                goto bad;
        } else if (!strcmp(name, "--auth-backoff")) {
            char *colon = strchr(val, ':');
            if (!colon)
                goto bad;
            *colon = '\0';
            if (parse_u64(val, &S.backoff_base_ms, 0) < 0 ||
                parse_u64(colon + 1, &S.backoff_cap_ms, 0) < 0 || !S.backoff_base_ms ||
                S.backoff_cap_ms < S.backoff_base_ms) {
                *colon = ':';
                goto bad;
            }
            *colon = ':';
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
            S.max_conns = (unsigned)v;
        } else if (!strcmp(name, "--max-conns-per-addr")) {
            if (parse_u64(val, &v, 0) < 0 || v < 1 || v > 1000000)
                goto bad;
            S.max_per_addr = (unsigned)v;
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
    if (!S.tls_cert != !S.tls_key) {
        fprintf(stderr, "frame-exec-server: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}

static const char *default_token_file(char *buf, size_t cap)
{
    const char *run = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
    if (run && *run)
        snprintf(buf, cap, "%s/%s", run, EXEC_TOKEN_FILE);
    else
        snprintf(buf, cap, "%s/.%s", home && *home ? home : ".", EXEC_TOKEN_FILE);
    return buf;
}

/* The token: given, read from the token file, or made and written there. */
static int setup_token(const char *given)
{
    char path[4096], err[600], buf[APP_TOKEN_MAX + 2];
    const char *file = S.token_file;
    const char *t = given;

    if (!t) {
        if (!file)
            file = default_token_file(path, sizeof path);
        if (access(file, F_OK) == 0) {
            if (app_token_file_read(file, buf, sizeof buf, err, sizeof err) < 0) {
                fprintf(stderr, "frame-exec-server: %s\n", err);
                return -1;
            }
            fprintf(stderr, "frame-exec-server: token read from %s\n", file);
        } else {
            if (app_random_hex(buf, sizeof buf, 16) < 0) {
                fprintf(stderr, "frame-exec-server: no random numbers for a token\n");
                return -1;
            }
            if (app_token_file_write(file, buf, err, sizeof err) < 0) {
                fprintf(stderr, "frame-exec-server: %s\n", err);
                return -1;
            }
            fprintf(stderr, "frame-exec-server: no token given: generated one in %s (readable by "
                            "this user only; clients: --token-file %s)\n", file, file);
        }
        t = buf;
    }
    if (strlen(t) < APP_TOKEN_MIN || strlen(t) > APP_TOKEN_MAX) {
        fprintf(stderr,
                "frame-exec-server: the token is %zu bytes; %d to %d are needed (a short token\n"
                "is guessed quickly; generate one with: openssl rand -hex 16)\n",
                strlen(t), APP_TOKEN_MIN, APP_TOKEN_MAX);
        return -1;
    }
    S.token_len = strlen(t);
    memcpy(S.token, t, S.token_len);
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

static int setup_user(void)
{
    struct passwd *pw;
    if (!S.user)
        return 0;
    if (geteuid() != 0) {
        fprintf(stderr, "frame-exec-server: --user needs the server to run as root\n");
        return -1;
    }
    if (!(pw = getpwnam(S.user))) {
        fprintf(stderr, "frame-exec-server: --user %s: no such user\n", S.user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        fprintf(stderr, "frame-exec-server: --user %s: that is root; name an unprivileged user\n",
                S.user);
        return -1;
    }
    S.kuser.set = 1;
    S.kuser.uid = pw->pw_uid;
    S.kuser.gid = pw->pw_gid;
    S.kuser.name = strdup(pw->pw_name);
    S.kuser.home = strdup(pw->pw_dir);
    return S.kuser.name && S.kuser.home ? 0 : -1;
}

static int check_classic(void)
{
    char host[256], port[16];
    if (!S.classic_listen)
        return 0;
    if (app_split_hostport(S.classic_listen, host, sizeof host, port, sizeof port) < 0 ||
        app_host_is_loopback(host) != 1) {
        fprintf(stderr, "frame-exec-server: refusing --classic-listen %s: classic clients carry no\n"
                        "credentials, so classic mode listens on a loopback address only\n",
                S.classic_listen);
        return -1;
    }
    fprintf(stderr, "frame-exec-server: warning: classic mode on %s: its clients carry no "
                    "credentials; any local user who can connect there runs commands as %s\n",
            S.classic_listen, S.kuser.set ? S.kuser.name : "this server's user");
    return 0;
}

/* --cgroup: a cgroup v2 per command where one can be made (cgroup.h). */
static int setup_cgroup(void)
{
    char why[600];
    int automatic = !strcmp(S.cgroup_want, "auto");
    if (!strcmp(S.cgroup_want, "off"))
        return 0;
    if (cgroup_base_open(S.cgroup_want, S.cgroup_base, sizeof S.cgroup_base, why, sizeof why) < 0) {
        S.cgroup_base[0] = '\0';
        if (!automatic) {
            fprintf(stderr, "frame-exec-server: --cgroup %s: %s\n", S.cgroup_want, why);
            return -1;
        }
        app_log(APP_LOG_INFO, "no cgroup for commands (%s): each is contained by its keeper alone",
                why);
        return 0;
    }
    app_log(APP_LOG_INFO, "each command runs in a cgroup of its own under %s", S.cgroup_base);
    return 0;
}

int main(int argc, char **argv)
{
    static unsigned char busy[128];
    const void *busy_head;
    size_t busy_len;
    frame_builder bb;
    const char *given = getenv(EXEC_TOKEN_ENV);
    char err[600];
    app_guard_limits lim;
    app_server_config sc;
    struct rlimit rl;

    if (given)
        given = strdup(given);
    /* Commands must not inherit the token. */
    unsetenv(EXEC_TOKEN_ENV);
    if (options(argc, argv, &given) < 0)
        return 2;
    app_log_init("frame-exec-server", S.verbosity);
    if (given && !*given)
        given = NULL;
    if (app_check_exposure("--listen", S.listen, S.tls_cert != NULL, S.insecure) < 0)
        return 2;
    if (keeper_find(S.keeper, sizeof S.keeper) < 0) {
        fprintf(stderr, "frame-exec-server: cannot find frame-exec-keeper next to this program "
                        "(%s): install both together\n", S.keeper[0] ? S.keeper : "?");
        return 2;
    }
    if (setup_user() < 0 || check_classic() < 0 || setup_token(given) < 0 || setup_cgroup() < 0)
        return 2;
    if (given) { /* the copy goes: only S.token holds it now */
        char *g = (char *)(size_t)given;
        OPENSSL_cleanse(g, strlen(g));
        free(g);
        given = NULL;
    }
    if (S.tls_cert && !(S.tls = app_tls_server_ctx(S.tls_cert, S.tls_key, err, sizeof err))) {
        fprintf(stderr, "frame-exec-server: %s\n", err);
        return 2;
    }
    /* Keep 0, 1 and 2 taken, so no socket or pipe can land on them. */
    for (;;) {
        int fd = open("/dev/null", O_RDWR);
        if (fd > 2)
            close(fd);
        if (fd < 0 || fd > 2)
            break;
    }
    if ((S.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "frame-exec-server: /dev/null: %s\n", strerror(errno));
        return 1;
    }
    /* Each connection takes one descriptor, each running command three. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#ifdef M_MMAP_THRESHOLD
    /* Output buffers are mapped, so freeing one gives its memory back. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    signal(SIGPIPE, SIG_IGN);

    S.cfg.max_header = S.max_header;
    S.cfg.max_body = S.max_stdin;
    S.classic_cfg.size_name = S.classic_key;
    S.cb.on_header = on_header;
    S.cb.on_body = on_body;
    S.cb.on_frame_end = on_frame_end;
    S.loop = uv_default_loop();
    memset(&lim, 0, sizeof lim);
    lim.max_conns_per_key = S.max_per_addr;
    lim.base_ms = S.backoff_base_ms;
    lim.cap_ms = S.backoff_cap_ms;
    lim.max_keys = S.max_conns + 64;
    if (!(S.guard = app_guard_new(&lim))) {
        fprintf(stderr, "frame-exec-server: out of memory\n");
        return 1;
    }
    memset(&sc, 0, sizeof sc);
    sc.name = "--listen";
    sc.listen = S.listen;
    sc.tls = S.tls;
    sc.max_conns = S.max_conns;
    sc.guard = S.guard;
    sc.auth_timeout_ms = S.auth_ms;
    /* What a refused connection reads (plain TCP): an error frame. */
    if (frame_builder_init(&bb, NULL, busy, sizeof busy, 0) != FRAME_OK ||
        frame_builder_add_string(&bb, "error", "BUSY") != FRAME_OK ||
        frame_builder_add_string(&bb, "message", "too many connections") != FRAME_OK ||
        frame_builder_finish(&bb, &busy_head, &busy_len) != FRAME_OK)
        return 1;
    sc.refuse_msg = busy_head;
    sc.refuse_len = busy_len;
    sc.on_open = on_open;
    sc.on_data = on_data;
    sc.on_end = on_end;
    sc.on_close = on_close;
    if (!(S.srv = app_server_new(S.loop, &sc, err, sizeof err))) {
        fprintf(stderr, "frame-exec-server: %s\n", err);
        return 1;
    }
    if (S.classic_listen) {
        sc.name = "--classic-listen";
        sc.listen = S.classic_listen;
        sc.tls = NULL;
        sc.refuse_msg = NULL;
        sc.refuse_len = 0;
        if (!(S.classic = app_server_new(S.loop, &sc, err, sizeof err))) {
            fprintf(stderr, "frame-exec-server: %s\n", err);
            return 1;
        }
    }
    uv_signal_init(S.loop, &S.sigchld);
    uv_signal_init(S.loop, &S.sigint);
    uv_signal_init(S.loop, &S.sigterm);
    uv_signal_start(&S.sigchld, on_sigchld, SIGCHLD);
    uv_signal_start(&S.sigint, on_stop, SIGINT);
    uv_signal_start(&S.sigterm, on_stop, SIGTERM);
    printf("listening on %s\n", app_server_name(S.srv));
    if (S.classic)
        printf("classic listening on %s\n", app_server_name(S.classic));
    fflush(stdout);
    app_log(APP_LOG_DEBUG, "%s, up to %u connections (%u per address), %d commands at a time, "
                           "time limit %llu ms, output cap %llu bytes",
            S.tls ? "TLS" : "plain TCP", S.max_conns, S.max_per_addr, S.max_procs,
            (unsigned long long)S.time_limit_ms, (unsigned long long)S.max_output);
    uv_run(S.loop, UV_RUN_DEFAULT);
    return 0;
}
