/*
 * apps/common/stream.c: see stream.h.
 *
 * A connection owns four libuv handles: the TCP stream, the application's
 * timer, the auth deadline and "kick" (giving kept input back from the
 * loop). It is freed once all four are closed and no write is pending.
 *
 * TLS runs through two memory BIOs: ciphertext read from the socket goes
 * into `rbio`, SSL_read takes plaintext out for on_data; SSL_write puts
 * ciphertext into `wbio`, which is drained into one buffer per uv_write.
 */
#define _GNU_SOURCE

#include "stream.h"
#include "addr.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 65536u
#define TLS_CHUNK 65536u     /* plaintext encrypted per uv_write */
#define TLS_INFLIGHT 262144u /* most ciphertext waiting in libuv */
#define UNAUTH_CHUNK 4096u   /* read size before app_conn_authenticated() */

typedef struct wreq {
    uv_write_t req;
    app_conn *c;
    app_write_cb cb; /* the user's, when this write completes a user write */
    void *arg;
    char *cipher;    /* TLS: the ciphertext this write sends (owned) */
    size_t cipher_len;
} wreq;

typedef struct tls_out { /* a user write not yet encrypted whole */
    uv_buf_t bufs[4];
    unsigned n, i;
    size_t off;
    app_write_cb cb;
    void *arg;
    struct tls_out *next;
} tls_out;

enum { OPEN, LINGER, CLOSING };

struct app_conn {
    uv_tcp_t tcp;
    uv_timer_t timer, internal, kick; /* app's, auth deadline, kick */
    app_server *srv;
    void *data;
    char peer[APP_ADDR_MAX], key[APP_ADDR_MAX];
    int state, reading, want_read, authed, handles, counted, ended;
    void (*timer_cb)(app_conn *c);
    unsigned char *rest; /* input the application did not use yet */
    size_t rest_len, rest_off;
    uint64_t linger_ms;
    unsigned pending_writes;
    SSL *ssl;
    BIO *rbio, *wbio;
    int handshake_done;
    tls_out *out_head, *out_tail;
    size_t inflight;
    app_conn *prev, *next;
};

struct app_server {
    uv_tcp_t listener;
    app_server_config cfg;
    char name[APP_ADDR_MAX];
    app_conn *conns;
    unsigned nconns;
    int closing;
    uint64_t refuse_log_at;
    unsigned long refused_quiet;
};

static unsigned char read_buf[READ_CHUNK]; /* one loop thread: used and done inside read_cb */

static void conn_free_if_done(app_conn *c);
static void tls_pump(app_conn *c);
static void deliver(app_conn *c);

/* ------------------------------------------------------------------------ */

const char *app_server_name(const app_server *s) { return s->name; }
void *app_server_data(const app_server *s) { return s->cfg.data; }
uv_loop_t *app_server_loop(const app_server *s) { return s->listener.loop; }
unsigned app_server_conns(const app_server *s) { return s->nconns; }
void *app_conn_data(const app_conn *c) { return c->data; }
void app_conn_set_data(app_conn *c, void *data) { c->data = data; }
app_server *app_conn_server(const app_conn *c) { return c->srv; }
const char *app_conn_peer(const app_conn *c) { return c->peer; }
const char *app_conn_key(const app_conn *c) { return c->key; }
int app_conn_secure_ready(const app_conn *c) { return !c->ssl || c->handshake_done; }

static void handle_closed(uv_handle_t *h)
{
    app_conn *c = h->data;
    c->handles--;
    conn_free_if_done(c);
}

static void conn_free_if_done(app_conn *c)
{
    if (c->handles > 0 || c->pending_writes > 0)
        return;
    while (c->out_head) {
        tls_out *o = c->out_head;
        c->out_head = o->next;
        free(o);
    }
    if (c->ssl)
        SSL_free(c->ssl); /* frees both BIOs */
    free(c->rest);
    free(c);
}

void app_conn_close(app_conn *c)
{
    app_server *s = c->srv;
    if (c->state == CLOSING)
        return;
    c->state = CLOSING;
    if (s->cfg.on_close)
        s->cfg.on_close(c);
    if (c->counted)
        app_guard_conn_close(s->cfg.guard, c->key);
    if (c->ssl && !c->authed && !s->closing) {
        /* A TLS connection that ends unauthenticated cost a handshake: it
         * counts as a failed attempt of its address, so a handshake flood
         * from one address backs off like password guessing. */
        unsigned fails;
        uint64_t delay = app_guard_fail(s->cfg.guard, c->key, uv_now(s->listener.loop), &fails);
        if (fails >= 3)
            app_log(APP_LOG_INFO, "%s: TLS connection ended unauthenticated (%u in a row from %s; "
                                  "its next handshake waits %llu ms)",
                    c->peer, fails, c->key, (unsigned long long)delay);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    uv_close((uv_handle_t *)&c->internal, handle_closed);
    uv_close((uv_handle_t *)&c->kick, handle_closed);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

static void after_write(uv_write_t *req, int status);

static void write_done_check_linger(app_conn *c);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void after_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)(void *)req;
    app_conn *c = w->c;
    c->pending_writes--;
    if (w->cipher) {
        c->inflight -= w->cipher_len;
        free(w->cipher);
    }
    if (c->state != CLOSING && w->cb)
        w->cb(c, status, w->arg);
    free(w);
    if (c->state == CLOSING) {
        conn_free_if_done(c);
        return;
    }
    if (status < 0) {
        app_log(APP_LOG_DEBUG, "%s: write failed: %s; closing", c->peer, uv_strerror(status));
        app_conn_close(c);
        return;
    }
    if (c->ssl)
        tls_pump(c);
    write_done_check_linger(c);
}

/* Sends what OpenSSL wrote into wbio as one uv_write. 0 or -1 (closed). */
static int tls_flush(app_conn *c, app_write_cb cb, void *arg)
{
    size_t n = (size_t)BIO_ctrl_pending(c->wbio);
    wreq *w;
    uv_buf_t b;
    int rc;
    if (n == 0) {
        if (cb) /* nothing to send (cannot happen for a non-empty write) */
            cb(c, 0, arg);
        return 0;
    }
    w = calloc(1, sizeof *w);
    if (!w || !(w->cipher = malloc(n))) {
        free(w);
        app_log(APP_LOG_ERROR, "%s: out of memory; closing", c->peer);
        app_conn_close(c);
        return -1;
    }
    BIO_read(c->wbio, w->cipher, (int)n);
    w->cipher_len = n;
    w->c = c;
    w->cb = cb;
    w->arg = arg;
    b = uv_buf_init(w->cipher, (unsigned)n);
    rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, after_write);
    if (rc < 0) {
        free(w->cipher);
        free(w);
        app_conn_close(c);
        return -1;
    }
    c->pending_writes++;
    c->inflight += n;
    return 0;
}

/* Encrypts queued user writes, TLS_CHUNK at a time, while little waits. */
static void tls_pump(app_conn *c)
{
    while (c->state != CLOSING && c->handshake_done && c->out_head && c->inflight < TLS_INFLIGHT) {
        tls_out *o = c->out_head;
        size_t budget = TLS_CHUNK;
        while (o->i < o->n && budget) {
            uv_buf_t *b = &o->bufs[o->i];
            size_t take = b->len - o->off < budget ? b->len - o->off : budget, done = 0;
            if (take && SSL_write_ex(c->ssl, b->base + o->off, take, &done) != 1) {
                app_log(APP_LOG_ERROR, "%s: TLS write failed; closing", c->peer);
                app_conn_close(c);
                return;
            }
            o->off += take;
            budget -= take;
            if (o->off == b->len) {
                o->i++;
                o->off = 0;
            }
        }
        if (o->i == o->n) { /* this chunk finishes the user's write */
            app_write_cb cb = o->cb;
            void *arg = o->arg;
            c->out_head = o->next;
            if (!c->out_head)
                c->out_tail = NULL;
            free(o);
            if (tls_flush(c, cb, arg) < 0)
                return;
        } else if (tls_flush(c, NULL, NULL) < 0) {
            return;
        }
    }
}

int app_conn_write(app_conn *c, const uv_buf_t *bufs, unsigned n, app_write_cb cb, void *arg)
{
    size_t total = 0;
    for (unsigned i = 0; i < n && i < 4; i++)
        total += bufs[i].len;
    /* Nothing to send would complete at once, inside this call (TLS). */
    if (c->state == CLOSING || n == 0 || n > 4 || total == 0)
        return UV_EINVAL;
    if (c->ssl) {
        tls_out *o = calloc(1, sizeof *o);
        if (!o)
            return UV_ENOMEM;
        memcpy(o->bufs, bufs, n * sizeof *bufs);
        o->n = n;
        o->cb = cb;
        o->arg = arg;
        if (c->out_tail)
            c->out_tail->next = o;
        else
            c->out_head = o;
        c->out_tail = o;
        tls_pump(c);
        return 0;
    } else {
        wreq *w = calloc(1, sizeof *w);
        int rc;
        if (!w)
            return UV_ENOMEM;
        w->c = c;
        w->cb = cb;
        w->arg = arg;
        rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, after_write);
        if (rc < 0) {
            free(w);
            return rc;
        }
        c->pending_writes++;
        return 0;
    }
}

size_t app_conn_write_queue(const app_conn *c)
{
    size_t n = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
    for (const tls_out *o = c->out_head; o; o = o->next)
        for (unsigned i = o->i; i < o->n; i++)
            n += o->bufs[i].len - (i == o->i ? o->off : 0);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Timers and closing                                                       */
/* ------------------------------------------------------------------------ */

static void user_timer_fired(uv_timer_t *t)
{
    app_conn *c = t->data;
    if (c->state == OPEN && c->timer_cb)
        c->timer_cb(c);
    else if (c->state == LINGER)
        app_conn_close(c); /* the linger time is over */
}

void app_conn_timer(app_conn *c, uint64_t ms, void (*cb)(app_conn *c))
{
    if (c->state != OPEN)
        return;
    c->timer_cb = cb;
    if (ms && cb)
        uv_timer_start(&c->timer, user_timer_fired, ms, 0);
    else
        uv_timer_stop(&c->timer);
}

static void after_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    free(req);
}

static void write_done_check_linger(app_conn *c)
{
    uv_shutdown_t *req;
    uint64_t linger;
    if (c->state != LINGER || c->pending_writes || c->out_head || c->ended == 2)
        return;
    linger = c->ended ? 1 : c->linger_ms; /* the peer is done already: no wait */
    c->ended = 2; /* our end is closed */
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        if (tls_flush(c, NULL, NULL) < 0)
            return;
    }
    req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->tcp, after_shutdown) < 0) {
        free(req);
        app_conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, user_timer_fired, linger ? linger : 1, 0);
    if (!c->reading && !c->ended && uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
        c->reading = 1; /* read and discard until the peer closes */
}

void app_conn_close_after_write(app_conn *c, uint64_t linger_ms)
{
    if (c->state != OPEN)
        return;
    c->state = LINGER;
    c->linger_ms = linger_ms;
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->internal);
    write_done_check_linger(c);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* Until a peer is authenticated it is read UNAUTH_CHUNK at a time: what the
 * application does not take yet (kept in `rest`) stays that small. */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    const app_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)read_buf, c->authed ? sizeof read_buf : UNAUTH_CHUNK);
}

/* Gives plaintext to the application; keeps what it does not use. */
static void give(app_conn *c, const unsigned char *p, size_t len)
{
    size_t used;
    if (c->state != OPEN || len == 0)
        return;
    used = c->srv->cfg.on_data(c, p, len);
    if (c->state != OPEN || used >= len)
        return;
    /* Not all used: the application stopped. Keep the rest. */
    c->rest = malloc(len - used);
    if (!c->rest) {
        app_log(APP_LOG_ERROR, "%s: out of memory; closing", c->peer);
        app_conn_close(c);
        return;
    }
    memcpy(c->rest, p + used, len - used);
    c->rest_len = len - used;
    c->rest_off = 0;
    app_conn_read_stop(c);
}

static void peer_ended(app_conn *c)
{
    if (c->state != OPEN || c->ended)
        return;
    c->ended = 1;
    if (c->srv->cfg.on_end)
        c->srv->cfg.on_end(c);
    else
        app_conn_close(c);
}

/* TLS: runs the handshake, then SSL_read while the application reads. */
static void tls_read(app_conn *c)
{
    static unsigned char plain[READ_CHUNK];
    while (c->state == OPEN && !c->ended) {
        size_t got = 0;
        int rc, err;
        ERR_clear_error();
        if (!c->handshake_done) {
            rc = SSL_do_handshake(c->ssl);
            if (rc == 1) {
                c->handshake_done = 1;
                app_log(APP_LOG_DEBUG, "%s: TLS %s established", c->peer, SSL_get_version(c->ssl));
                if (tls_flush(c, NULL, NULL) < 0)
                    return;
                tls_pump(c);
                continue;
            }
        } else {
            if (!c->want_read || c->rest)
                return;
            rc = SSL_read_ex(c->ssl, plain, c->authed ? sizeof plain : UNAUTH_CHUNK, &got);
            if (rc == 1) {
                give(c, plain, got);
                continue;
            }
        }
        err = SSL_get_error(c->ssl, rc);
        if (tls_flush(c, NULL, NULL) < 0)
            return;
        if (err == SSL_ERROR_WANT_READ)
            return;
        if (err == SSL_ERROR_ZERO_RETURN) {
            peer_ended(c);
            return;
        }
        {
            char msg[300];
            app_tls_error(msg, sizeof msg, c->handshake_done ? "TLS error" : "TLS handshake failed");
            app_log(APP_LOG_INFO, "%s: %s; closing", c->peer, msg);
        }
        app_conn_close(c);
        return;
    }
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    app_conn *c = st->data;
    if (n == 0)
        return;
    if (c->state == LINGER) { /* discarding until the peer closes */
        if (n < 0)
            app_conn_close(c);
        return;
    }
    if (c->state != OPEN)
        return;
    if (n < 0) {
        if (n == UV_EOF) {
            uv_read_stop(st);
            c->reading = 0;
            peer_ended(c);
        } else {
            app_log(APP_LOG_DEBUG, "%s: %s; closing", c->peer, uv_strerror((int)n));
            app_conn_close(c);
        }
        return;
    }
    if (c->ssl) {
        BIO_write(c->rbio, buf->base, (int)n);
        tls_read(c);
    } else {
        give(c, (const unsigned char *)buf->base, (size_t)n);
    }
}

void app_conn_read_stop(app_conn *c)
{
    c->want_read = 0;
    if (c->reading && c->state == OPEN) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void kick_fired(uv_timer_t *t)
{
    deliver(t->data);
}

/* Kept input first, then TLS plaintext already decrypted, then the socket. */
static void deliver(app_conn *c)
{
    if (c->state != OPEN || !c->want_read)
        return;
    if (c->rest) {
        unsigned char *r = c->rest;
        size_t off = c->rest_off, len = c->rest_len;
        c->rest = NULL;
        give(c, r + off, len - off);
        free(r);
        if (c->state != OPEN || c->rest)
            return;
    }
    if (c->ssl && c->handshake_done)
        tls_read(c);
    if (c->state == OPEN && c->want_read && !c->rest && !c->reading && !c->ended) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
            c->reading = 1;
    }
}

void app_conn_read_start(app_conn *c)
{
    if (c->state != OPEN || c->want_read)
        return;
    c->want_read = 1;
    uv_timer_start(&c->kick, kick_fired, 0, 0); /* from the loop, never re-entrant */
}

/* ------------------------------------------------------------------------ */
/* Accepting                                                                */
/* ------------------------------------------------------------------------ */

static void auth_expired(uv_timer_t *t)
{
    app_conn *c = t->data;
    if (c->state != OPEN || c->authed)
        return;
    app_log(APP_LOG_INFO, "%s: not authenticated within %llu ms; closing", c->peer,
            (unsigned long long)c->srv->cfg.auth_timeout_ms);
    app_conn_close(c);
}

void app_conn_authenticated(app_conn *c)
{
    if (c->authed)
        return;
    c->authed = 1;
    uv_timer_stop(&c->internal);
}

static void refused_closed(uv_handle_t *h)
{
    free(h->data);
}

static void refuse(app_server *s, app_conn *c, const char *why)
{
    uint64_t now = uv_now(s->listener.loop);
    if (s->cfg.refuse_msg && !s->cfg.tls) {
        uv_buf_t b = uv_buf_init((char *)(size_t)s->cfg.refuse_msg, (unsigned)s->cfg.refuse_len);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    }
    uv_close((uv_handle_t *)&c->tcp, refused_closed);
    /* One line a second at most: a flood must not flood the log too. */
    if (now >= s->refuse_log_at) {
        app_log(APP_LOG_ERROR, "%s: refused: %s%s", c->peer, why,
                s->refused_quiet ? " (more refusals not logged)" : "");
        s->refused_quiet = 0;
        s->refuse_log_at = now + 1000;
    } else {
        s->refused_quiet++;
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    app_server *s = l->data;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char why[160];
    app_conn *c;

    if (status < 0) {
        app_log(APP_LOG_ERROR, "accept: %s", uv_strerror(status));
        return;
    }
    if (!(c = calloc(1, sizeof *c))) {
        app_log(APP_LOG_ERROR, "accept: out of memory");
        return;
    }
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) < 0 ||
        app_addr_name((struct sockaddr *)&ss, c->peer, sizeof c->peer) < 0 ||
        app_addr_key((struct sockaddr *)&ss, c->key, sizeof c->key) < 0) {
        uv_close((uv_handle_t *)&c->tcp, refused_closed);
        return;
    }
    if (s->closing) {
        uv_close((uv_handle_t *)&c->tcp, refused_closed);
        return;
    }
    if (s->nconns >= s->cfg.max_conns) {
        snprintf(why, sizeof why, "%u connections open (--max-conns)", s->nconns);
        refuse(s, c, why);
        return;
    }
    if (app_guard_conn_open(s->cfg.guard, c->key, uv_now(l->loop)) < 0) {
        snprintf(why, sizeof why, "%u connections from %s already (--max-conns-per-addr)",
                 app_guard_conns(s->cfg.guard, c->key), c->key);
        refuse(s, c, why);
        return;
    }
    c->counted = 1;
    if (s->cfg.tls) {
        if (!(c->ssl = SSL_new(s->cfg.tls)) || !(c->rbio = BIO_new(BIO_s_mem())) ||
            !(c->wbio = BIO_new(BIO_s_mem()))) {
            BIO_free(c->rbio);
            BIO_free(c->wbio);
            if (c->ssl)
                SSL_free(c->ssl);
            app_guard_conn_close(s->cfg.guard, c->key);
            uv_close((uv_handle_t *)&c->tcp, refused_closed);
            app_log(APP_LOG_ERROR, "%s: out of memory for TLS", c->peer);
            return;
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
    }
    c->srv = s;
    c->state = OPEN;
    c->handles = 4;
    uv_timer_init(l->loop, &c->timer);
    uv_timer_init(l->loop, &c->internal);
    uv_timer_init(l->loop, &c->kick);
    c->timer.data = c->internal.data = c->kick.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (s->cfg.auth_timeout_ms)
        uv_timer_start(&c->internal, auth_expired, s->cfg.auth_timeout_ms, 0);
    app_log(APP_LOG_DEBUG, "%s: connected (%u connections)", c->peer, s->nconns);
    if (s->cfg.on_open)
        s->cfg.on_open(c);
    if (c->state == OPEN) {
        /* An address in backoff: not a byte is read (no handshake, no
         * parsing) until its wait is over; the auth deadline still runs. */
        uint64_t wait = app_guard_wait(s->cfg.guard, c->key, uv_now(l->loop));
        if (wait) {
            c->want_read = 1;
            uv_timer_start(&c->kick, kick_fired, wait, 0);
        } else {
            c->want_read = 1;
            if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
                c->reading = 1;
            else
                app_conn_close(c);
        }
    }
}

static void listener_closed(uv_handle_t *h)
{
    free(h->data);
}

app_server *app_server_new(uv_loop_t *loop, const app_server_config *cfg, char *err, size_t errcap)
{
    char host[256], port[16];
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    int len = sizeof ss, rc;
    app_server *s;

    if (!cfg->guard || !cfg->on_data) {
        snprintf(err, errcap, "%s: no guard or on_data", cfg->name);
        return NULL;
    }
    if (app_split_hostport(cfg->listen, host, sizeof host, port, sizeof port) < 0) {
        snprintf(err, errcap, "%s %s: bad address (want HOST:PORT)", cfg->name, cfg->listen);
        return NULL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    /* Once, at start-up, before the loop runs: a blocking lookup is fine. */
    rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errcap, "%s %s: %s", cfg->name, cfg->listen, gai_strerror(rc));
        return NULL;
    }
    if (!(s = calloc(1, sizeof *s))) {
        freeaddrinfo(res);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.max_conns)
        s->cfg.max_conns = 1024;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    /* libuv sets SO_REUSEADDR on every TCP bind: a restart does not wait
     * for the old connections' TIME_WAIT. */
    rc = uv_tcp_bind(&s->listener, res->ai_addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
    freeaddrinfo(res);
    if (rc < 0) {
        if (rc == UV_EADDRINUSE)
            snprintf(err, errcap, "%s %s: the address is already in use (is another server "
                                  "running there?)", cfg->name, cfg->listen);
        else if (rc == UV_EACCES)
            snprintf(err, errcap, "%s %s: permission denied (ports below 1024 need privileges)",
                     cfg->name, cfg->listen);
        else
            snprintf(err, errcap, "%s %s: %s", cfg->name, cfg->listen, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, listener_closed);
        return NULL;
    }
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) < 0 ||
        app_addr_name((struct sockaddr *)&ss, s->name, sizeof s->name) < 0)
        snprintf(s->name, sizeof s->name, "%s", cfg->listen);
    return s;
}

void app_server_close(app_server *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    while (s->conns)
        app_conn_close(s->conns);
    uv_close((uv_handle_t *)&s->listener, listener_closed);
}
