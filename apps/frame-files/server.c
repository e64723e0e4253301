/*
 * frame-files-server: a file server speaking libframe frames.
 *
 * apps/common's libuv stream layer serves every connection (plain TCP or
 * TLS, per-address caps, the login deadline); two small worker pools run
 * what would stall the loop: password hashing (PBKDF2 from libcrypto) and
 * the fsync/rename/fsync at the end of an upload or of a users-file save.
 * Uploads stream through frame_feed()'s zero-copy on_body chunks straight
 * into a temporary file; downloads leave as a head with the first chunk,
 * then one chunk per write. See docs/APPS-files.md.
 *
 * Linux only (openat2 where the kernel has it).
 */
#define _GNU_SOURCE
#include "ff.h"

#include "addr.h"
#include "guard.h"
#include "log.h"
#include "stream.h"
#include "tls.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define SALT_BYTES 16
#define OUT_HIGH (256u * 1024)  /* stop reading requests while this much output waits */
#define READS_PER_WAKE 8
#define LINGER_SECONDS 2.0
#define DL_CHUNK_MAX (1u << 20)

/* ------------------------------------------------------------------------ */
/* Options and process state                                                */
/* ------------------------------------------------------------------------ */

static struct {
    const char *root, *bind;
    int port;
    unsigned long kdf_iterations;
    unsigned kdf_threads, max_conns;
    double idle_timeout, frame_timeout, session_ttl;
    size_t buffer;
    int sockbuf, quiet;
    uint64_t max_file;
    /* hardening (issue 18) */
    unsigned kdf_queue, io_threads, max_conns_per_addr, max_sessions, max_sessions_per_user;
    double auth_timeout, login_backoff, login_backoff_cap, min_rate;
    uint64_t quota;
    int registration_open;
    const char *add_user;
    const char *classic_listen, *classic_inbox, *classic_key;
    const char *tls_cert, *tls_key;
} opt = {"frame-files-data", "127.0.0.1", FF_DEFAULT_PORT, 600000, 2, 1000, 300, 30, 3600,
         FF_DEFAULT_BUFFER, 4 << 20, 0, FRAME_MAX_BODY_LIMIT,
         64, 2, 32, 4096, 8,
         10, 0.25, 30, 1024,
         (uint64_t)1 << 30,
         1,
         NULL,
         NULL, NULL, "file_size",
         NULL, NULL};

static frame_config server_cfg;         /* ff_frame_config with max_body = --max-file */
static int root_fd = -1, files_fd = -1, inbox_fd = -1, lock_fd = -1;
static uv_loop_t *loop;
static app_server *srv, *classic_srv;
static uv_async_t done_async;  /* a worker finished a job */
static uv_timer_t tick;        /* timeouts, four times a second */
static uv_signal_t sig_int, sig_term;
static uv_check_t bury_check;  /* frees closed connections after each loop turn */
static SSL_CTX *tls_ctx;
static int stop_sig, shutting_down;
static unsigned long next_conn_id = 1;
static unsigned nconns;
static uint64_t stat_uploads, stat_downloads, stat_errors;

static void logmsg(const char *fmt, ...) FF_PRINTF(1, 2);
static void die(const char *fmt, ...) FF_PRINTF(1, 2) FF_NORETURN;

static void logmsg(const char *fmt, ...)
{
    va_list ap;
    if (opt.quiet)
        return;
    va_start(ap, fmt);
    fputs("frame-files-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("frame-files-server: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------------------ */
/* State files are replaced whole, never appended to: the new contents go    */
/* to a temporary file beside the old one, which is fsynced, renamed over   */
/* the old one, and the directory fsynced. A full disk or a crash leaves    */
/* either the old file or the new one, never a torn line.                   */
/* ------------------------------------------------------------------------ */

/* Returns 0, or the errno of the step that failed (the old file is intact). */
static int write_file_atomic(int dirfd, const char *name, const void *buf, size_t n)
{
    char tmp[64];
    const char *p = buf;
    int fd, err = 0;
    snprintf(tmp, sizeof tmp, ".%s.tmp", name);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            err = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && renameat(dirfd, tmp, dirfd, name) != 0)
        err = errno;
    if (err)
        unlinkat(dirfd, tmp, 0);
    else if (fsync(dirfd) != 0)
        err = errno;
    return err;
}

/* ------------------------------------------------------------------------ */
/* Users: ROOT/users holds one line per user:                               */
/*   NAME pbkdf2-sha256 ITERATIONS SALT_HEX HASH_HEX                        */
/* The loop thread owns the table and changes it under users_lock; a saver  */
/* (io pool) snapshots it under users_lock while holding save_lock, so the  */
/* snapshots reach the disk in the order they were taken.                   */
/* ------------------------------------------------------------------------ */

enum { U_KDF, U_SAVING, U_OK }; /* U_KDF: registration hashing, not in the file yet */

typedef struct user {
    char name[FF_USER_MAX + 1];
    uint32_t iters;
    unsigned char salt[SALT_BYTES], hash[FF_SHA256_DIGEST];
    int state;
    int save_failed;   /* set by the saver: left out of later snapshots */
    uint64_t reserved; /* bytes declared by this user's uploads in progress */
} user;

static user *users;
static size_t nusers, capusers;
static unsigned char dummy_salt[SALT_BYTES]; /* for logins of unknown users */
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

static user *user_find(const char *name)
{
    size_t i;
    for (i = 0; i < nusers; i++)
        if (strcmp(users[i].name, name) == 0)
            return &users[i];
    return NULL;
}

/* Loop thread (or single-threaded start-up). */
static user *user_add(const char *name)
{
    user *u;
    pthread_mutex_lock(&users_lock);
    if (nusers == capusers) {
        size_t cap = capusers ? capusers * 2 : 64;
        user *n = realloc(users, cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&users_lock);
            return NULL;
        }
        users = n;
        capusers = cap;
    }
    u = &users[nusers++];
    memset(u, 0, sizeof *u);
    strcpy(u->name, name);
    pthread_mutex_unlock(&users_lock);
    return u;
}

static void user_remove(const char *name)
{
    user *u;
    pthread_mutex_lock(&users_lock);
    u = user_find(name);
    if (u) {
        *u = users[nusers - 1];
        nusers--;
    }
    pthread_mutex_unlock(&users_lock);
}

/*
 * Writes every user whose hash is known to ROOT/users, atomically. When it
 * fails and `failing` names a user, that user is left out of every later
 * snapshot before the next save may start. Returns 0 or an errno.
 */
static int users_save(const char *failing)
{
    char *buf;
    size_t n = 0, cap, i;
    int err;
    pthread_mutex_lock(&save_lock);
    pthread_mutex_lock(&users_lock);
    cap = nusers * 200 + 1;
    buf = malloc(cap);
    for (i = 0; buf && i < nusers; i++) {
        char salt[2 * SALT_BYTES + 1], hash[2 * FF_SHA256_DIGEST + 1];
        const user *u = &users[i];
        if (u->state == U_KDF || u->save_failed)
            continue;
        ff_hex(u->salt, SALT_BYTES, salt);
        ff_hex(u->hash, FF_SHA256_DIGEST, hash);
        n += (size_t)snprintf(buf + n, cap - n, "%s pbkdf2-sha256 %lu %s %s\n", u->name, (unsigned long)u->iters, salt,
                              hash);
    }
    pthread_mutex_unlock(&users_lock);
    err = buf ? write_file_atomic(root_fd, "users", buf, n) : ENOMEM;
    if (buf) {
        ff_wipe(buf, cap);
        free(buf);
    }
    if (err && failing) {
        user *u;
        pthread_mutex_lock(&users_lock);
        if ((u = user_find(failing)) != NULL)
            u->save_failed = 1;
        pthread_mutex_unlock(&users_lock);
    }
    pthread_mutex_unlock(&save_lock);
    return err;
}

/* A damaged line is reported and skipped: it never keeps the server down. */
static void users_load(void)
{
    FILE *f;
    char line[512];
    unsigned lineno = 0, skipped = 0;
    int fd;
    unlinkat(root_fd, ".users.tmp", 0); /* a save that a crash interrupted */
    fd = openat(root_fd, "users", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return;
        die("cannot read %s/users: %s", opt.root, strerror(errno));
    }
    f = fdopen(fd, "r");
    if (!f)
        die("fdopen: %s", strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char name[64], kind[32], salt[64], hash[128];
        unsigned char sb[SALT_BYTES], hb[FF_SHA256_DIGEST];
        unsigned long iters;
        const char *why = NULL;
        user *u;
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
            why = "is too long";
        } else if (sscanf(line, "%63s %31s %lu %63s %127s", name, kind, &iters, salt, hash) != 5)
            why = "does not have five fields";
        else if (strcmp(kind, "pbkdf2-sha256") != 0)
            why = "names an unknown password scheme";
        else if (ff_user_problem(name, strlen(name)))
            why = "holds an invalid user name";
        else if (iters < 1 || iters > 0x7fffffffUL)
            why = "holds an invalid iteration count";
        else if (ff_unhex(salt, strlen(salt), sb, SALT_BYTES) || ff_unhex(hash, strlen(hash), hb, FF_SHA256_DIGEST))
            why = "holds an invalid salt or hash";
        else if (user_find(name))
            why = "repeats a user name (the first record is kept)";
        if (why) {
            fprintf(stderr, "frame-files-server: %s/users line %u %s: skipped\n", opt.root, lineno, why);
            skipped++;
            continue;
        }
        u = user_add(name);
        if (!u)
            die("out of memory");
        u->iters = (uint32_t)iters;
        memcpy(u->salt, sb, SALT_BYTES);
        memcpy(u->hash, hb, FF_SHA256_DIGEST);
        u->state = U_OK;
    }
    fclose(f);
    if (skipped)
        fprintf(stderr,
                "frame-files-server: %u damaged record(s) in %s/users skipped; those users cannot log in "
                "until an administrator re-creates them (--add-user)\n",
                skipped, opt.root);
}

/* ------------------------------------------------------------------------ */
/* Failed logins slow down, per address and per user name, through          */
/* apps/common's guard (which also counts connections per address): each    */
/* failure doubles the wait before the next attempt is heard               */
/* (--login-backoff seconds after the first, at most --login-backoff-cap).  */
/* A success clears the user's count, never the address's.                  */
/* ------------------------------------------------------------------------ */

#define LOGINS_IN_FLIGHT_PER_ADDR 4 /* password checks of one address running at once */
#define TKEY_MAX 56 /* "a:" + an address, or "u:" + a user name */

static app_guard *guard;

static uint64_t now_ms(void) { return (uint64_t)(ff_now() * 1000); }

/* Seconds until `key` may try again; 0 when it may now. */
static double throttle_wait(const char *key) { return (double)app_guard_wait(guard, key, now_ms()) / 1000; }

static void throttle_fail(const char *key) { app_guard_fail(guard, key, now_ms(), NULL); }

static void throttle_clear(const char *key) { app_guard_success(guard, key); }

/* ------------------------------------------------------------------------ */
/* Sessions: a token is 2 bytes of slot number and 30 random bytes. Only    */
/* the token identifies a session; it carries no password. Each user holds  */
/* at most --max-sessions-per-user; a user's new login ends that user's     */
/* least recently used session, never another user's. When every slot is   */
/* taken, a login is refused (BUSY) instead.                                */
/* ------------------------------------------------------------------------ */

typedef struct session {
    unsigned char token[FF_TOKEN_BYTES];
    char user[FF_USER_MAX + 1];
    double last;
    int used;
} session;

static session *sessions;

static session *session_new(const char *name, char hex[2 * FF_TOKEN_BYTES + 1])
{
    size_t i, mine = 0, lru = SIZE_MAX, free_slot = SIZE_MAX, pick;
    double now = ff_now();
    session *s;
    for (i = 0; i < opt.max_sessions; i++) {
        session *t = &sessions[i];
        if (t->used && now - t->last > opt.session_ttl) {
            t->used = 0;
            ff_wipe(t->token, sizeof t->token);
        }
        if (!t->used) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
            continue;
        }
        if (strcmp(t->user, name) == 0) {
            mine++;
            if (lru == SIZE_MAX || t->last < sessions[lru].last)
                lru = i;
        }
    }
    if (mine >= opt.max_sessions_per_user)
        pick = lru; /* this user's own oldest session makes room */
    else if (free_slot != SIZE_MAX)
        pick = free_slot;
    else
        return NULL;
    s = &sessions[pick];
    if (ff_random(s->token + 2, FF_TOKEN_BYTES - 2) != 0)
        return NULL;
    s->token[0] = (unsigned char)(pick & 0xff);
    s->token[1] = (unsigned char)(pick >> 8);
    strcpy(s->user, name);
    s->last = now;
    s->used = 1;
    ff_hex(s->token, FF_TOKEN_BYTES, hex);
    return s;
}

static session *session_find(const char *hex, size_t len)
{
    unsigned char t[FF_TOKEN_BYTES];
    size_t slot;
    session *s;
    double now = ff_now();
    if (ff_unhex(hex, len, t, sizeof t) != 0)
        return NULL;
    slot = (size_t)t[0] | (size_t)t[1] << 8;
    if (slot >= opt.max_sessions)
        return NULL;
    s = &sessions[slot];
    if (!s->used || !ff_ct_equal(s->token, t, sizeof t))
        return NULL;
    if (now - s->last > opt.session_ttl) {
        s->used = 0;
        return NULL;
    }
    s->last = now;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Files beneath a user's directory                                         */
/* ------------------------------------------------------------------------ */

#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif

/*
 * Opens `name` (one checked path component) beneath the directory dirfd:
 * openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has
 * it (5.6+), else openat() with O_NOFOLLOW. Either way a symbolic link is
 * refused (ELOOP or EXDEV), never followed out of the directory.
 * FRAME_FILES_NO_OPENAT2=1 forces the fallback (the tests run both).
 */
static int open_beneath(int dirfd, const char *name, int flags, mode_t mode)
{
#ifdef SYS_openat2
    static int have_openat2 = -1;
    if (have_openat2 < 0) {
        const char *e = getenv("FRAME_FILES_NO_OPENAT2");
        have_openat2 = !(e && *e && strcmp(e, "0") != 0);
    }
    if (have_openat2) {
        struct {
            uint64_t flags, mode, resolve;
        } how;
        long r;
        how.flags = (uint64_t)(unsigned)(flags | O_NOFOLLOW);
        how.mode = (flags & O_CREAT) ? (uint64_t)mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        r = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        if (r >= 0)
            return (int)r;
        if (errno != ENOSYS && errno != EPERM)
            return -1;
        have_openat2 = 0; /* old kernel, or a seccomp filter that refuses it */
    }
#endif
    return openat(dirfd, name, flags | O_NOFOLLOW, mode);
}

static int user_dir_open(const char *name)
{
    int fd = openat(files_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && mkdirat(files_fd, name, 0700) == 0)
        fd = openat(files_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

#define TMP_PREFIX ".upload-"

/* Removes temporary files that a killed server left behind. */
static unsigned sweep_temp_files(void)
{
    DIR *top;
    struct dirent *e;
    unsigned n = 0;
    int fd = openat(files_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(top = fdopendir(fd)))
        die("cannot read %s/files: %s", opt.root, strerror(errno));
    while ((e = readdir(top)) != NULL) {
        DIR *d;
        struct dirent *f;
        int ufd;
        if (e->d_name[0] == '.')
            continue;
        ufd = openat(files_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ufd < 0)
            continue;
        d = fdopendir(ufd);
        if (!d) {
            close(ufd);
            continue;
        }
        while ((f = readdir(d)) != NULL)
            if (strncmp(f->d_name, TMP_PREFIX, sizeof TMP_PREFIX - 1) == 0 && unlinkat(ufd, f->d_name, 0) == 0)
                n++;
        closedir(d);
    }
    closedir(top);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Two worker pools. The KDF pool (--workers threads, a queue of at most    */
/* --kdf-queue jobs, BUSY beyond) hashes passwords; the io pool             */
/* (--io-threads) commits uploads and saves the users file. An upload's     */
/* commit never waits behind password hashing.                              */
/* ------------------------------------------------------------------------ */

enum { JOB_REGISTER = 1, JOB_LOGIN, JOB_COMMIT, JOB_SAVE_USER, JOB_SAVE_BG };

struct conn;
typedef struct job {
    int type;
    struct conn *c; /* NULL for a background job (heap-allocated, freed when done) */
    struct job *next;
    /* KDF jobs: input */
    char user[FF_USER_MAX + 1];
    char pw[FF_PASSWORD_MAX + 1];
    size_t pwlen;
    uint32_t iters;
    unsigned char salt[SALT_BYTES], hash[FF_SHA256_DIGEST];
    int user_known;
    /* a login under an older scheme (fewer iterations) is rehashed */
    int rehashed;
    uint32_t new_iters;
    unsigned char new_salt[SALT_BYTES], new_hash[FF_SHA256_DIGEST];
    /* result */
    int ok, err;
} job;

typedef struct pool {
    pthread_t *threads;
    unsigned nthreads, len, max;
    job *head, *tail;
    pthread_cond_t cond;
} pool;

static pool kdf_pool, io_pool;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static job *done_head;
static int q_stopping;

static void run_job(job *j);

static void *worker_main(void *arg)
{
    pool *p = arg;
    for (;;) {
        job *j;
        int stopping;
        pthread_mutex_lock(&q_lock);
        while (!p->head && !q_stopping)
            pthread_cond_wait(&p->cond, &q_lock);
        j = p->head;
        stopping = q_stopping;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
            p->len--;
        }
        pthread_mutex_unlock(&q_lock);
        if (!j)
            break;
        if (stopping && (j->type == JOB_REGISTER || j->type == JOB_LOGIN)) {
            j->ok = 0; /* shutting down: drop logins, finish commits and saves */
            j->err = ECANCELED;
            ff_wipe(j->pw, sizeof j->pw);
        } else
            run_job(j);
        pthread_mutex_lock(&q_lock);
        j->next = done_head;
        done_head = j;
        pthread_mutex_unlock(&q_lock);
        uv_async_send(&done_async);
    }
    return NULL;
}

static int job_submit(job *j)
{
    pool *p = j->type == JOB_REGISTER || j->type == JOB_LOGIN ? &kdf_pool : &io_pool;
    pthread_mutex_lock(&q_lock);
    if (p->len >= p->max) {
        pthread_mutex_unlock(&q_lock);
        return -1;
    }
    j->next = NULL;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->len++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&q_lock);
    return 0;
}

static void pool_start(pool *p, unsigned nthreads, unsigned max)
{
    unsigned i;
    p->nthreads = nthreads;
    p->max = max;
    pthread_cond_init(&p->cond, NULL);
    p->threads = calloc(nthreads, sizeof *p->threads);
    if (!p->threads)
        die("out of memory");
    for (i = 0; i < nthreads; i++)
        if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
            die("pthread_create failed");
}

static void workers_start(void)
{
    pool_start(&kdf_pool, opt.kdf_threads, opt.kdf_queue);
    pool_start(&io_pool, opt.io_threads, 4 * opt.max_conns + 16);
}

static void pool_join(pool *p)
{
    unsigned i;
    if (!p->threads)
        return;
    for (i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
}

static void workers_stop(void)
{
    pthread_mutex_lock(&q_lock);
    q_stopping = 1;
    pthread_cond_broadcast(&kdf_pool.cond);
    pthread_cond_broadcast(&io_pool.cond);
    pthread_mutex_unlock(&q_lock);
    pool_join(&kdf_pool);
    pool_join(&io_pool);
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

enum {
    OP_NONE,
    OP_REGISTER,
    OP_LOGIN,
    OP_LOGOUT,
    OP_LIST,
    OP_UPLOAD,
    OP_COMMIT,
    OP_ABORT,
    OP_DOWNLOAD,
    OP_DELETE
};

enum { UP_NONE, UP_BODY, UP_DISCARD_BODY, UP_WAIT_COMMIT, UP_WAIT_COMMIT_DISCARD, UP_COMMITTING };
enum { DL_HEAD, DL_BODY, DL_END };

/* A reply queued for writing: freed by its write callback or at the close. */
typedef struct outbuf {
    struct outbuf *prev, *next;
    size_t len;
    unsigned char data[];
} outbuf;

typedef struct conn {
    struct conn *prev, *next;
    app_conn *ac; /* NULL once apps/common has closed it */
    unsigned long id;
    char peer[72], ip[INET6_ADDRSTRLEN];
    int classic;     /* a tutorial uploader on --classic-listen: never answered, closed on any error */
    int authed;      /* logged in, or used a valid token, on this connection */
    int counted;     /* counted by the guard against --max-conns-per-addr */
    double born;
    frame_decoder dec;
    int op;          /* the op of the frame being decoded */
    int pause_after; /* on_frame_end pauses the decoder */
    int paused;      /* decoder paused; not reading */
    int job_pending; /* c->job is in the worker pool */
    int dead;        /* closed while its job ran: free it when the job is done */
    int closing;     /* send what is queued, then close */
    int close_requested; /* app_conn_close_after_write() called */
    int in_body;
    double last_rx, last_tx, frame_start;
    unsigned char *out; /* replies built, not yet handed to apps/common */
    size_t out_len, out_cap;
    outbuf *inflight;   /* handed to apps/common, not yet written */
    struct {
        int state, fd, dirfd;
        char tmp[40], name[FF_NAME_MAX + 1], user[FF_USER_MAX + 1], hex[65];
        uint64_t size, got, reserved; /* reserved: counted against the quota until the upload ends */
        ff_sum sum;
        double t0;
    } up;
    struct {
        int active, fd, phase, writing;
        uint64_t size, off;
        ff_sum sum;
        unsigned char *buf;
        size_t cap;
        unsigned char head[1024];
        char name[FF_NAME_MAX + 1], user[FF_USER_MAX + 1];
        double t0;
    } dl;
    job job;
    unsigned char hdr[FF_MAX_HEADER];
} conn;

static conn *conns;     /* every open connection, newest first */
static conn *graveyard; /* closed connections, freed at the end of a loop turn */

static void conn_log(conn *c, const char *fmt, ...) FF_PRINTF(2, 3);
static void reply_error(conn *c, const char *name, const char *fmt, ...) FF_PRINTF(3, 4);

static void conn_log(conn *c, const char *fmt, ...)
{
    va_list ap;
    if (opt.quiet)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "frame-files-server: [%lu %s] ", c->id, c->peer);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Makes room for `n` more bytes at the end of the output queue. */
static int out_reserve(conn *c, size_t n)
{
    size_t cap = c->out_cap ? c->out_cap : 4096;
    unsigned char *p;
    if (c->out_cap - c->out_len >= n)
        return 0;
    while (cap - c->out_len < n)
        cap *= 2;
    p = realloc(c->out, cap);
    if (!p)
        return -1;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

/* A reply frame is built in place at the end of the output queue. */
#define REPLY_ROOM 4096

static int reply_start(conn *c, frame_builder *b, uint64_t body)
{
    if (c->classic) {
        /* a classic client would read any frame as a result: it gets none,
           and an error ends its connection */
        c->closing = 1;
        return -1;
    }
    if (c->dead || c->closing || !c->ac)
        return -1;
    if (out_reserve(c, REPLY_ROOM) != 0) {
        c->closing = 1;
        return -1;
    }
    return frame_builder_init(b, &ff_frame_config, c->out + c->out_len, REPLY_ROOM, body) == FRAME_OK ? 0 : -1;
}

static void reply_end(conn *c, frame_builder *b)
{
    const void *p;
    size_t n;
    frame_errno e = frame_builder_finish(b, &p, &n);
    if (e != FRAME_OK) {
        /* only a bug can get here: every member is bounded and checked */
        conn_log(c, "cannot build a reply: %s", frame_errname(e));
        c->closing = 1;
        return;
    }
    c->out_len += n;
}

static void reply_ok(conn *c)
{
    frame_builder b;
    if (reply_start(c, &b, 0) == 0) {
        frame_builder_add_bool(&b, "ok", 1);
        reply_end(c, &b);
    }
}

static void reply_error(conn *c, const char *name, const char *fmt, ...)
{
    frame_builder b;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    stat_errors++;
    conn_log(c, "error %s: %s", name, msg);
    if (reply_start(c, &b, 0) == 0) {
        frame_builder_add_string(&b, "error", name);
        frame_builder_add_string(&b, "message", msg);
        reply_end(c, &b);
    }
}

static uint64_t classic_reserved; /* the inbox's uploads in progress */

/* Gives back what an upload counted against its owner's quota. */
static void upload_release(conn *c)
{
    if (c->up.reserved) {
        uint64_t *r = &classic_reserved;
        if (!c->classic) {
            user *u = user_find(c->up.user);
            r = u ? &u->reserved : NULL;
        }
        if (r)
            *r = *r >= c->up.reserved ? *r - c->up.reserved : 0;
        c->up.reserved = 0;
    }
}

static void upload_discard(conn *c)
{
    ff_sum_free(&c->up.sum);
    upload_release(c);
    if (c->up.fd >= 0) {
        close(c->up.fd);
        c->up.fd = -1;
        if (unlinkat(c->up.dirfd, c->up.tmp, 0) != 0)
            conn_log(c, "cannot remove %s: %s", c->up.tmp, strerror(errno));
    }
    if (c->up.dirfd >= 0) {
        close(c->up.dirfd);
        c->up.dirfd = -1;
    }
}

static void download_end(conn *c)
{
    ff_sum_free(&c->dl.sum);
    if (c->dl.fd >= 0)
        close(c->dl.fd);
    c->dl.fd = -1;
    free(c->dl.buf);
    c->dl.buf = NULL;
    c->dl.active = 0;
}

static void conn_free(conn *c)
{
    free(c->out);
    ff_wipe(&c->job, sizeof c->job);
    free(c);
}

/* Ends the connection now (apps/common calls conn_gone). */
static void conn_close(conn *c)
{
    if (c->ac)
        app_conn_close(c->ac);
}

static unsigned discarded_at_exit;

/* apps/common's on_close: the connection is going away, whatever the cause. */
static void conn_gone(app_conn *ac)
{
    conn *c = app_conn_data(ac);
    if (!c)
        return;
    if (c->up.state != UP_NONE && c->up.state != UP_COMMITTING) {
        if (c->up.fd >= 0)
            conn_log(c, "upload of %s by %s interrupted after %llu of %llu bytes; temporary file removed",
                     c->up.name, c->up.user, (unsigned long long)c->up.got, (unsigned long long)c->up.size);
        upload_discard(c);
        c->up.state = UP_NONE;
        if (shutting_down)
            discarded_at_exit++;
    }
    download_end(c);
    while (c->inflight) {
        outbuf *o = c->inflight;
        c->inflight = o->next;
        free(o);
    }
    c->ac = NULL;
    app_conn_set_data(ac, NULL);
    if (c->prev)
        c->prev->next = c->next;
    else
        conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    nconns--;
    c->dead = 1;
    if (!c->job_pending) {
        c->next = graveyard;
        graveyard = c;
    }
}

static void bury_dead(void)
{
    while (graveyard) {
        conn *c = graveyard;
        graveyard = c->next;
        conn_free(c);
    }
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

static int op_parse(const frame_header *h)
{
    static const struct {
        const char *name;
        int op;
    } ops[] = {{"register", OP_REGISTER}, {"login", OP_LOGIN},   {"logout", OP_LOGOUT},
               {"list", OP_LIST},         {"upload", OP_UPLOAD}, {"commit", OP_COMMIT},
               {"abort", OP_ABORT},       {"download", OP_DOWNLOAD}, {"delete", OP_DELETE}};
    frame_value v;
    size_t i;
    if (frame_header_find(h, "op", &v) != FRAME_OK)
        return OP_NONE;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (frame_value_string_equals(&v, ops[i].name, strlen(ops[i].name)))
            return ops[i].op;
    return -1;
}

/* The session named by the request's "token", or NULL after replying. */
static session *need_session(conn *c, const frame_header *h)
{
    char tok[2 * FF_TOKEN_BYTES + 1];
    size_t len;
    session *s = NULL;
    if (frame_header_get_string(h, "token", tok, sizeof tok, &len) == FRAME_OK)
        s = session_find(tok, len);
    if (!s)
        reply_error(c, "NOT_LOGGED_IN", "a valid session token is needed: log in first");
    else if (!c->authed) {
        c->authed = 1;
        app_conn_authenticated(c->ac);
    }
    return s;
}

/* The request's "name", unescaped and checked, or -1 after replying. */
static int need_name(conn *c, const frame_header *h, char name[FF_NAME_MAX + 1])
{
    size_t len;
    const char *why;
    frame_errno e = frame_header_get_string(h, "name", name, FF_NAME_MAX + 1, &len);
    if (e == FRAME_E_BUFFER_TOO_SMALL) {
        reply_error(c, "BAD_NAME", "the name is longer than 255 bytes");
        return -1;
    }
    if (e != FRAME_OK) {
        reply_error(c, "BAD_REQUEST", "this request needs a string member \"name\"");
        return -1;
    }
    why = ff_name_problem(name, len);
    if (why) {
        reply_error(c, "BAD_NAME", "%s", why);
        return -1;
    }
    return 0;
}

static ff_algo need_algo(conn *c, const frame_header *h)
{
    char a[16];
    size_t len;
    ff_algo algo;
    frame_errno e = frame_header_get_string(h, "checksum", a, sizeof a, &len);
    if (e == FRAME_E_NOT_FOUND)
        return FF_SHA256;
    algo = e == FRAME_OK && len == strlen(a) ? ff_algo_parse(a) : (ff_algo)0;
    if (!algo)
        reply_error(c, "BAD_REQUEST", "\"checksum\" is \"sha256\" or \"crc32c\"");
    return algo;
}

static void reply_open_error(conn *c, int err, const char *name)
{
    if (err == ENOENT)
        reply_error(c, "NOT_FOUND", "no file named %s", name);
    else if (err == ELOOP || err == EXDEV || err == EMLINK)
        reply_error(c, "FORBIDDEN", "%s is a symbolic link; links are not followed", name);
    else if (err == EISDIR || err == ENOTDIR)
        reply_error(c, "FORBIDDEN", "%s is not a regular file", name);
    else if (err == ENOSPC || err == EDQUOT)
        reply_error(c, "NO_SPACE", "the server's disk is full: %s", strerror(err));
    else
        reply_error(c, "IO", "%s: %s", name, strerror(err));
}

static void start_kdf_job(conn *c, int type, const frame_header *h)
{
    job *j = &c->job;
    size_t ulen;
    const char *why;
    frame_errno e;
    memset(j, 0, sizeof *j);
    j->type = type;
    j->c = c;
    if (type == JOB_REGISTER && !opt.registration_open) {
        reply_error(c, "REGISTRATION_CLOSED",
                    "this server does not take registrations; its administrator adds accounts (--add-user)");
        return;
    }
    e = frame_header_get_string(h, "user", j->user, sizeof j->user, &ulen);
    if (e != FRAME_OK || (why = ff_user_problem(j->user, ulen)) != NULL || strlen(j->user) != ulen) {
        reply_error(c, type == JOB_LOGIN ? "AUTH_FAILED" : "BAD_USER", "%s",
                    type == JOB_LOGIN ? "wrong user name or password"
                                      : "a user name is 1 to 32 letters, digits, '_' or '-'");
        return;
    }
    if (type == JOB_LOGIN && opt.login_backoff > 0) {
        char ukey[TKEY_MAX], akey[TKEY_MAX];
        double wa, wu;
        snprintf(akey, sizeof akey, "a:%s", c->ip);
        snprintf(ukey, sizeof ukey, "u:%s", j->user);
        wa = throttle_wait(akey);
        wu = throttle_wait(ukey);
        if (wa <= 0 && wu <= 0) {
            /* One check at a time per user name and a few per address: a wave
               of parallel guesses would otherwise all be judged before the
               first failure is counted (and then lock the user out for the
               sum of their delays). */
            const conn *o;
            unsigned same_user = 0, same_addr = 0;
            for (o = conns; o; o = o->next)
                if (o != c && o->job_pending && o->job.type == JOB_LOGIN) {
                    same_user += strcmp(o->job.user, j->user) == 0;
                    same_addr += strcmp(o->ip, c->ip) == 0;
                }
            if (same_user >= 1 || same_addr >= LOGINS_IN_FLIGHT_PER_ADDR) {
                reply_error(c, "SLOW_DOWN", "another login %s is being checked; try again in %.1f s",
                            same_user ? "for this user" : "from this address", opt.login_backoff);
                return;
            }
        }
        if (wa > 0 || wu > 0) {
            reply_error(c, "SLOW_DOWN", "too many failed logins %s; try again in %.1f s",
                        wa >= wu ? "from this address" : "for this user", wa >= wu ? wa : wu);
            return;
        }
    }
    e = frame_header_get_string(h, "password", j->pw, sizeof j->pw, &j->pwlen);
    if (e != FRAME_OK || (type == JOB_REGISTER && j->pwlen < FF_PASSWORD_MIN)) {
        ff_wipe(j->pw, sizeof j->pw);
        if (type == JOB_LOGIN)
            reply_error(c, "AUTH_FAILED", "wrong user name or password");
        else
            reply_error(c, "BAD_PASSWORD", "a password has %d to %d bytes", FF_PASSWORD_MIN, FF_PASSWORD_MAX);
        return;
    }
    if (type == JOB_REGISTER) {
        user *u;
        if (user_find(j->user)) {
            ff_wipe(j->pw, sizeof j->pw);
            reply_error(c, "USER_EXISTS", "the user %s exists already", j->user);
            return;
        }
        j->iters = (uint32_t)opt.kdf_iterations;
        if (ff_random(j->salt, SALT_BYTES) != 0 || !(u = user_add(j->user))) {
            ff_wipe(j->pw, sizeof j->pw);
            reply_error(c, "IO", "out of resources");
            return;
        }
        /* U_KDF: holds the name against a second registration */
    } else {
        user *u = user_find(j->user);
        j->user_known = u && u->state == U_OK;
        if (j->user_known) {
            j->iters = u->iters;
            memcpy(j->salt, u->salt, SALT_BYTES);
            memcpy(j->hash, u->hash, FF_SHA256_DIGEST);
        } else {
            /* the same work for a user that does not exist: no timing oracle */
            j->iters = (uint32_t)opt.kdf_iterations;
            memcpy(j->salt, dummy_salt, SALT_BYTES);
        }
    }
    if (job_submit(j) != 0) {
        ff_wipe(j->pw, sizeof j->pw);
        if (type == JOB_REGISTER)
            user_remove(j->user);
        reply_error(c, "BUSY", "the server is busy hashing passwords; try again");
        return;
    }
    c->job_pending = 1;
    c->pause_after = 1;
}

static void run_job(job *j)
{
    if (j->type == JOB_REGISTER) {
        j->ok = ff_pbkdf2_sha256(j->pw, j->pwlen, j->salt, SALT_BYTES, j->iters, j->hash, FF_SHA256_DIGEST) == 0;
        j->err = j->ok ? 0 : ENOMEM;
        ff_wipe(j->pw, sizeof j->pw);
    } else if (j->type == JOB_LOGIN) {
        unsigned char h[FF_SHA256_DIGEST];
        j->ok = ff_pbkdf2_sha256(j->pw, j->pwlen, j->salt, SALT_BYTES, j->iters, h, FF_SHA256_DIGEST) == 0 &&
                ff_ct_equal(h, j->hash, FF_SHA256_DIGEST) && j->user_known;
        ff_wipe(h, sizeof h);
        if (j->ok && j->iters < opt.kdf_iterations) {
            /* stored under an older scheme: store it again under today's */
            j->new_iters = (uint32_t)opt.kdf_iterations;
            j->rehashed = ff_random(j->new_salt, SALT_BYTES) == 0 &&
                          ff_pbkdf2_sha256(j->pw, j->pwlen, j->new_salt, SALT_BYTES, j->new_iters, j->new_hash,
                                           FF_SHA256_DIGEST) == 0;
        }
        ff_wipe(j->pw, sizeof j->pw);
    } else if (j->type == JOB_SAVE_USER || j->type == JOB_SAVE_BG) {
        j->err = users_save(j->type == JOB_SAVE_USER ? j->user : NULL);
        if (!j->err && j->type == JOB_SAVE_USER && mkdirat(files_fd, j->user, 0700) != 0 && errno != EEXIST)
            j->err = errno;
        if (!j->err && j->type == JOB_SAVE_USER && fsync(files_fd) != 0)
            j->err = errno;
        j->ok = !j->err;
    } else {
        conn *c = j->c;
        /* the data first, then the name, then the directory entry */
        j->ok = 0;
        if (fsync(c->up.fd) != 0)
            j->err = errno;
        else if (renameat(c->up.dirfd, c->up.tmp, c->up.dirfd, c->up.name) != 0)
            j->err = errno;
        else if (fsync(c->up.dirfd) != 0)
            j->err = errno;
        else
            j->ok = 1;
    }
}

/* Saves the users file in the background (a rehash); logs the outcome. */
static void save_users_in_background(void)
{
    job *j = calloc(1, sizeof *j);
    if (!j || (j->type = JOB_SAVE_BG, job_submit(j) != 0)) {
        free(j);
        logmsg("cannot queue a save of %s/users; it is saved with the next change", opt.root);
    }
}

static void job_done(job *j)
{
    conn *c = j->c;
    if (!c) {
        if (j->err)
            logmsg("cannot save %s/users: %s", opt.root, strerror(j->err));
        free(j);
        return;
    }
    c->job_pending = 0;
    if (j->type == JOB_REGISTER) {
        user *u = user_find(j->user);
        if (j->ok && u) {
            pthread_mutex_lock(&users_lock);
            u->iters = j->iters;
            memcpy(u->salt, j->salt, SALT_BYTES);
            memcpy(u->hash, j->hash, FF_SHA256_DIGEST);
            u->state = U_SAVING;
            pthread_mutex_unlock(&users_lock);
            j->type = JOB_SAVE_USER;
            if (job_submit(j) == 0) {
                c->job_pending = 1; /* the reply waits for the users file */
                return;
            }
            user_remove(j->user);
            reply_error(c, "BUSY", "the server is busy; try again");
        } else {
            user_remove(j->user);
            if (j->err == ECANCELED)
                reply_error(c, "SHUTDOWN", "the server is shutting down");
            else
                reply_error(c, "IO", "cannot hash the password: %s", strerror(j->err));
        }
    } else if (j->type == JOB_SAVE_USER) {
        user *u = user_find(j->user);
        if (j->ok && u) {
            u->state = U_OK;
            conn_log(c, "registered user %s", j->user);
            reply_ok(c);
        } else {
            user_remove(j->user);
            if (j->err == ENOSPC || j->err == EDQUOT)
                reply_error(c, "NO_SPACE", "cannot save the user: %s", strerror(j->err));
            else
                reply_error(c, "IO", "cannot save the user: %s", strerror(j->err));
        }
    } else if (j->type == JOB_LOGIN) {
        char hex[2 * FF_TOKEN_BYTES + 1], key[TKEY_MAX];
        if (j->ok) {
            snprintf(key, sizeof key, "u:%s", j->user);
            throttle_clear(key);
            if (j->rehashed) {
                user *u = user_find(j->user);
                if (u && u->state == U_OK) {
                    pthread_mutex_lock(&users_lock);
                    u->iters = j->new_iters;
                    memcpy(u->salt, j->new_salt, SALT_BYTES);
                    memcpy(u->hash, j->new_hash, FF_SHA256_DIGEST);
                    pthread_mutex_unlock(&users_lock);
                    conn_log(c, "%s's password rehashed with %lu iterations", j->user, (unsigned long)j->new_iters);
                    save_users_in_background();
                }
            }
        }
        if (j->ok && session_new(j->user, hex)) {
            frame_builder b;
            if (!c->authed && c->ac)
                app_conn_authenticated(c->ac);
            c->authed = 1;
            conn_log(c, "%s logged in", j->user);
            if (reply_start(c, &b, 0) == 0) {
                frame_builder_add_bool(&b, "ok", 1);
                frame_builder_add_string(&b, "token", hex);
                reply_end(c, &b);
            }
            ff_wipe(hex, sizeof hex);
        } else if (j->ok)
            reply_error(c, "BUSY", "every session slot is in use; try again later");
        else if (j->err == ECANCELED)
            reply_error(c, "SHUTDOWN", "the server is shutting down");
        else {
            if (opt.login_backoff > 0) {
                snprintf(key, sizeof key, "a:%s", c->ip);
                throttle_fail(key);
                snprintf(key, sizeof key, "u:%s", j->user);
                throttle_fail(key);
            }
            conn_log(c, "failed login as %s", j->user);
            reply_error(c, "AUTH_FAILED", "wrong user name or password");
        }
    } else {
        close(c->up.fd);
        c->up.fd = -1;
        upload_release(c);
        if (j->ok) {
            frame_builder b;
            stat_uploads++;
            conn_log(c, "%s uploaded %s: %llu bytes, %s %s, %.2f s", c->classic ? "classic client" : c->up.user,
                     c->up.name, (unsigned long long)c->up.size, c->classic ? "no checksum" : ff_algo_name(c->up.sum.algo),
                     c->classic ? "-" : c->up.hex, ff_now() - c->up.t0);
            if (c->classic)
                c->closing = 1; /* one upload per connection, as the tutorials do */
            else if (reply_start(c, &b, 0) == 0) {
                frame_builder_add_bool(&b, "ok", 1);
                frame_builder_add_string(&b, "name", c->up.name);
                frame_builder_add_uint64(&b, "bytes", c->up.size);
                reply_end(c, &b);
            }
        } else {
            unlinkat(c->up.dirfd, c->up.tmp, 0);
            reply_open_error(c, j->err, c->up.name);
        }
        close(c->up.dirfd);
        c->up.dirfd = -1;
        c->up.state = UP_NONE;
    }
    ff_wipe(j->pw, sizeof j->pw);
    if (c->dead) {
        c->next = graveyard;
        graveyard = c;
    }
}

/* Bytes in the regular files of a directory, temporary files excluded. */
static uint64_t dir_usage(int dirfd)
{
    uint64_t sum = 0;
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] != '.' && fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            sum += (uint64_t)st.st_size;
    }
    closedir(d);
    return sum;
}

/*
 * Counts `size` declared bytes against the quota of the upload's owner (a
 * user, or the classic inbox). Nothing is claimed on the disk: the space is
 * taken only as the data arrives. Returns 0, or -1 after replying.
 */
static int upload_reserve(conn *c, uint64_t size)
{
    uint64_t *r = &classic_reserved, used;
    if (!c->classic) {
        user *u = user_find(c->up.user);
        if (!u) {
            reply_error(c, "NOT_LOGGED_IN", "the user %s does not exist any more", c->up.user);
            return -1;
        }
        r = &u->reserved;
    }
    used = dir_usage(c->up.dirfd);
    if (used + *r + size > opt.quota || size > opt.quota) {
        reply_error(c, "QUOTA_EXCEEDED",
                    "%llu more bytes would exceed the quota of %llu bytes (%llu stored, %llu in uploads in progress)",
                    (unsigned long long)size, (unsigned long long)opt.quota, (unsigned long long)used,
                    (unsigned long long)*r);
        return -1;
    }
    *r += size;
    c->up.reserved = size;
    return 0;
}

/* Creates the upload's temporary file in c->up.dirfd; returns 0 or -1 (errno). */
static int upload_open_temp(conn *c)
{
    int i;
    for (i = 0; i < 10 && c->up.fd < 0; i++) {
        unsigned char r[8];
        char hex[17];
        if (ff_random(r, sizeof r) != 0)
            break;
        ff_hex(r, sizeof r, hex);
        snprintf(c->up.tmp, sizeof c->up.tmp, TMP_PREFIX "%s", hex);
        c->up.fd = open_beneath(c->up.dirfd, c->up.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (c->up.fd < 0 && errno != EEXIST)
            break;
    }
    return c->up.fd < 0 ? -1 : 0;
}

static void start_upload(conn *c, const frame_header *h)
{
    session *s;
    ff_algo algo;
    c->up.state = UP_WAIT_COMMIT_DISCARD; /* until everything below succeeds */
    c->up.fd = c->up.dirfd = -1;
    c->up.reserved = 0;
    if (!(s = need_session(c, h)) || need_name(c, h, c->up.name) != 0 || !(algo = need_algo(c, h)))
        return;
    strcpy(c->up.user, s->user);
    c->up.dirfd = user_dir_open(s->user);
    if (c->up.dirfd < 0) {
        reply_open_error(c, errno, s->user);
        return;
    }
    if (upload_reserve(c, h->body_size) != 0) {
        close(c->up.dirfd);
        c->up.dirfd = -1;
        return;
    }
    if (upload_open_temp(c) != 0) {
        int err = errno;
        upload_discard(c);
        reply_open_error(c, err, c->up.name);
        return;
    }
    c->up.size = h->body_size;
    c->up.got = 0;
    c->up.t0 = ff_now();
    if (ff_sum_init(&c->up.sum, algo) != 0) {
        upload_discard(c);
        reply_error(c, "IO", "out of memory");
        return;
    }
    c->up.state = UP_BODY;
}

/*
 * A tutorial upload on --classic-listen: {"file_name": NAME, "file_size": N}
 * (the size member is --classic-key) and N bytes, into --classic-inbox, with
 * the same name rules, temporary file, fsync/rename/fsync and quota as a
 * user's upload. Any problem ends the connection without a reply.
 */
static int classic_header(conn *c, const frame_header *h)
{
    size_t len;
    const char *why;
    frame_errno e = frame_header_get_string(h, "file_name", c->up.name, sizeof c->up.name, &len);
    c->up.fd = c->up.dirfd = -1;
    c->up.reserved = 0;
    c->up.state = UP_NONE;
    strcpy(c->up.user, "(classic)");
    if (e != FRAME_OK) {
        conn_log(c, "classic upload refused: no string \"file_name\" (or longer than 255 bytes); closing");
        return -1;
    }
    if ((why = ff_name_problem(c->up.name, len)) != NULL) {
        conn_log(c, "classic upload refused: %s; closing", why);
        return -1;
    }
    c->up.dirfd = openat(inbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->up.dirfd < 0 || upload_reserve(c, h->body_size) != 0 || upload_open_temp(c) != 0) {
        conn_log(c, "classic upload of %s refused (%s); closing", c->up.name,
                 c->up.dirfd < 0 || c->up.reserved ? strerror(errno) : "quota");
        upload_discard(c);
        return -1;
    }
    c->up.size = h->body_size;
    c->up.got = 0;
    c->up.t0 = ff_now();
    c->up.sum.algo = FF_CRC32C; /* unused: the tutorials send no checksum */
    c->up.sum.md = NULL;
    c->up.state = UP_BODY;
    return 0;
}

static void finish_upload(conn *c, const frame_header *h)
{
    char got[65];
    size_t len, i;
    const char *key = ff_algo_name(c->up.sum.algo);
    if (frame_header_get_string(h, key, got, sizeof got, &len) != FRAME_OK || len != ff_algo_hexlen(c->up.sum.algo)) {
        upload_discard(c);
        c->up.state = UP_NONE;
        reply_error(c, "BAD_REQUEST", "the commit needs \"%s\" with %zu hex digits", key,
                    ff_algo_hexlen(c->up.sum.algo));
        return;
    }
    for (i = 0; i < len; i++) {
        if (got[i] >= 'A' && got[i] <= 'F')
            got[i] = (char)(got[i] | 0x20);
        if (!((got[i] >= '0' && got[i] <= '9') || (got[i] >= 'a' && got[i] <= 'f')))
            len = 0; /* not hex: refused below, never echoed into the log */
    }
    if (len == 0) {
        upload_discard(c);
        c->up.state = UP_NONE;
        reply_error(c, "BAD_REQUEST", "the commit's \"%s\" must be hex digits", key);
        return;
    }
    ff_sum_final(&c->up.sum, c->up.hex);
    if (strcmp(c->up.hex, got) != 0) {
        upload_discard(c);
        c->up.state = UP_NONE;
        reply_error(c, "CHECKSUM_MISMATCH", "the %s of the %llu bytes received is %s, not %s; nothing was stored",
                    key, (unsigned long long)c->up.size, c->up.hex, got);
        return;
    }
    c->job.type = JOB_COMMIT;
    c->job.c = c;
    c->up.state = UP_COMMITTING;
    if (job_submit(&c->job) != 0) {
        upload_discard(c);
        c->up.state = UP_NONE;
        reply_error(c, "BUSY", "the server is busy; try again");
        return;
    }
    c->job_pending = 1;
    c->pause_after = 1;
}

static void do_list(conn *c, const frame_header *h)
{
    session *s = need_session(c, h);
    DIR *d;
    struct dirent *e;
    int dfd, fd;
    uint64_t count = 0;
    frame_builder b;
    if (!s)
        return;
    dfd = user_dir_open(s->user);
    if (dfd < 0) {
        reply_open_error(c, errno, s->user);
        return;
    }
    fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(d = fdopendir(fd))) {
        if (fd >= 0)
            close(fd);
        reply_open_error(c, errno, s->user);
        close(dfd);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (ff_name_problem(e->d_name, strlen(e->d_name)) || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue; /* temporary files, links, directories, odd names */
        if (reply_start(c, &b, 0) != 0)
            break;
        frame_builder_add_string(&b, "entry", e->d_name);
        frame_builder_add_uint64(&b, "bytes", (uint64_t)st.st_size);
        frame_builder_add_int64(&b, "mtime", (int64_t)st.st_mtime);
        reply_end(c, &b);
        count++;
    }
    closedir(d);
    close(dfd);
    if (reply_start(c, &b, 0) == 0) {
        frame_builder_add_bool(&b, "ok", 1);
        frame_builder_add_uint64(&b, "count", count);
        reply_end(c, &b);
    }
}

static void start_download(conn *c, const frame_header *h)
{
    session *s = need_session(c, h);
    ff_algo algo;
    struct stat st;
    int dfd;
    if (!s || need_name(c, h, c->dl.name) != 0 || !(algo = need_algo(c, h)))
        return;
    dfd = user_dir_open(s->user);
    if (dfd < 0) {
        reply_open_error(c, errno, s->user);
        return;
    }
    /* O_NONBLOCK: a FIFO must not block the loop; it is refused below */
    c->dl.fd = open_beneath(dfd, c->dl.name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
    if (c->dl.fd < 0) {
        reply_open_error(c, errno, c->dl.name);
        close(dfd);
        return;
    }
    close(dfd);
    if (fstat(c->dl.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        download_end(c);
        reply_open_error(c, EISDIR, c->dl.name);
        return;
    }
    c->dl.size = (uint64_t)st.st_size;
    c->dl.off = 0;
    c->dl.cap = opt.buffer < DL_CHUNK_MAX ? opt.buffer : DL_CHUNK_MAX;
    c->dl.buf = malloc(c->dl.cap);
    if (!c->dl.buf) {
        download_end(c);
        reply_error(c, "IO", "out of memory");
        return;
    }
    strcpy(c->dl.user, s->user);
    if (ff_sum_init(&c->dl.sum, algo) != 0) {
        download_end(c);
        reply_error(c, "IO", "out of memory");
        return;
    }
    c->dl.phase = DL_HEAD;
    c->dl.active = 1;
    c->dl.t0 = ff_now();
    c->pause_after = 1; /* no other reply may start before this one ends */
}

static void do_delete(conn *c, const frame_header *h)
{
    session *s = need_session(c, h);
    char name[FF_NAME_MAX + 1];
    int dfd;
    if (!s || need_name(c, h, name) != 0)
        return;
    dfd = user_dir_open(s->user);
    if (dfd < 0) {
        reply_open_error(c, errno, s->user);
        return;
    }
    if (unlinkat(dfd, name, 0) != 0)
        reply_open_error(c, errno, name);
    else {
        fsync(dfd);
        conn_log(c, "%s deleted %s", s->user, name);
        reply_ok(c);
    }
    close(dfd);
}

/* Reply bytes not yet written to the socket. */
static size_t out_pending(const conn *c) { return c->out_len + (c->ac ? app_conn_write_queue(c->ac) : 0); }

static int on_header(frame_decoder *d, const frame_header *h)
{
    conn *c = d->data;
    int op;
    c->in_body = h->body_size > 0;
    if (c->classic) {
        c->op = OP_UPLOAD;
        return classic_header(c, h) == 0 ? FRAME_CONTINUE : -1;
    }
    op = op_parse(h);
    c->op = op;
    if (c->up.state == UP_WAIT_COMMIT || c->up.state == UP_WAIT_COMMIT_DISCARD) {
        if ((op != OP_COMMIT && op != OP_ABORT) || h->body_size) {
            reply_error(c, "BAD_REQUEST", "an upload's data frame must be followed by \"commit\" or \"abort\"");
            return -1;
        }
        if (c->up.state == UP_WAIT_COMMIT_DISCARD)
            c->up.state = UP_NONE; /* its error has been answered already */
        else if (op == OP_ABORT) {
            upload_discard(c);
            c->up.state = UP_NONE;
            conn_log(c, "%s aborted the upload of %s", c->up.user, c->up.name);
            reply_ok(c);
        } else
            finish_upload(c, h);
        return FRAME_CONTINUE;
    }
    if (op == OP_NONE || op < 0) {
        reply_error(c, "BAD_REQUEST", op == OP_NONE ? "the request has no \"op\"" : "unknown \"op\"");
        return h->body_size ? FRAME_SKIP : FRAME_CONTINUE;
    }
    if (op != OP_UPLOAD && h->body_size) {
        reply_error(c, "BAD_REQUEST", "this request carries no body");
        return FRAME_SKIP;
    }
    switch (op) {
    case OP_REGISTER:
        start_kdf_job(c, JOB_REGISTER, h);
        break;
    case OP_LOGIN:
        start_kdf_job(c, JOB_LOGIN, h);
        break;
    case OP_LOGOUT: {
        session *s = need_session(c, h);
        if (s) {
            s->used = 0;
            ff_wipe(s->token, sizeof s->token);
            reply_ok(c);
        }
        break;
    }
    case OP_LIST:
        do_list(c, h);
        break;
    case OP_UPLOAD:
        start_upload(c, h);
        if (c->up.state != UP_BODY)
            return FRAME_SKIP;
        break;
    case OP_COMMIT:
    case OP_ABORT:
        reply_error(c, "BAD_REQUEST", "there is no upload to %s", op == OP_COMMIT ? "commit" : "abort");
        break;
    case OP_DOWNLOAD:
        start_download(c, h);
        break;
    case OP_DELETE:
        do_delete(c, h);
        break;
    }
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len)
{
    conn *c = d->data;
    const unsigned char *p = at;
    if (c->up.state != UP_BODY)
        return FRAME_CONTINUE;
    ff_sum_update(&c->up.sum, p, len);
    c->up.got += len;
    while (len) {
        ssize_t n = write(c->up.fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            upload_discard(c);
            c->up.state = UP_DISCARD_BODY;
            reply_open_error(c, err, c->up.name);
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d)
{
    conn *c = d->data;
    c->in_body = 0;
    if (c->classic) {
        if (c->up.state != UP_BODY) {
            c->closing = 1;
            return FRAME_PAUSE;
        }
        c->job.type = JOB_COMMIT;
        c->job.c = c;
        c->up.state = UP_COMMITTING;
        if (job_submit(&c->job) != 0) {
            conn_log(c, "classic upload of %s dropped: the server is busy; closing", c->up.name);
            upload_discard(c);
            c->up.state = UP_NONE;
            c->closing = 1;
            return FRAME_PAUSE;
        }
        c->job_pending = 1;
        return FRAME_PAUSE; /* one upload per connection */
    }
    if (c->op == OP_UPLOAD) {
        if (c->up.state == UP_BODY)
            c->up.state = UP_WAIT_COMMIT;
        else if (c->up.state == UP_DISCARD_BODY)
            c->up.state = UP_WAIT_COMMIT_DISCARD;
    }
    /* wipe a password from the header buffer as soon as it is not needed */
    if (c->op == OP_LOGIN || c->op == OP_REGISTER) {
        ff_wipe(c->hdr, sizeof c->hdr);
    }
    if (c->pause_after || out_pending(c) > OUT_HIGH || c->closing) {
        c->pause_after = 0;
        return FRAME_PAUSE;
    }
    return FRAME_CONTINUE;
}

static const frame_callbacks callbacks = {on_header, on_body, on_frame_end};

/* ------------------------------------------------------------------------ */
/* Moving bytes                                                             */
/* ------------------------------------------------------------------------ */

static void service(conn *c);

static void out_written(app_conn *ac, int status, void *arg)
{
    conn *c = app_conn_data(ac);
    outbuf *o = arg;
    if (!c)
        return;
    if (o->prev)
        o->prev->next = o->next;
    else
        c->inflight = o->next;
    if (o->next)
        o->next->prev = o->prev;
    free(o);
    if (status == 0) {
        c->last_tx = ff_now();
        service(c);
    }
}

/* Hands the replies built so far to apps/common, as one write. */
static void flush_out(conn *c)
{
    outbuf *o;
    uv_buf_t b;
    if (!c->out_len || !c->ac)
        return;
    o = malloc(sizeof *o + c->out_len);
    if (!o) {
        conn_close(c);
        return;
    }
    memcpy(o->data, c->out, c->out_len);
    o->len = c->out_len;
    c->out_len = 0;
    o->prev = NULL;
    o->next = c->inflight;
    if (c->inflight)
        c->inflight->prev = o;
    c->inflight = o;
    b = uv_buf_init((char *)o->data, (unsigned)o->len);
    if (app_conn_write(c->ac, &b, 1, out_written, o) < 0)
        conn_close(c);
}

static void pump_download(conn *c);

static void dl_written(app_conn *ac, int status, void *arg)
{
    conn *c = app_conn_data(ac);
    (void)arg;
    if (!c)
        return;
    c->dl.writing = 0;
    if (status != 0) {
        conn_close(c);
        return;
    }
    c->last_tx = ff_now();
    service(c);
}

/*
 * Sends the next piece of the download in progress: the head frame with the
 * first chunk in one write, then a chunk per write (one in flight at a
 * time, so a client that does not read holds one chunk of server memory),
 * then the trailer with the checksum.
 */
static void pump_download(conn *c)
{
    uv_buf_t b[2];
    unsigned n = 0;
    if (c->dl.writing || !c->ac)
        return;
    if (c->dl.phase == DL_HEAD) {
        frame_builder fb;
        const void *hp;
        size_t hl;
        if (frame_builder_init(&fb, &ff_frame_config, c->dl.head, sizeof c->dl.head, c->dl.size) != FRAME_OK ||
            frame_builder_add_bool(&fb, "ok", 1) != FRAME_OK ||
            frame_builder_add_string(&fb, "name", c->dl.name) != FRAME_OK ||
            frame_builder_add_string(&fb, "checksum", ff_algo_name(c->dl.sum.algo)) != FRAME_OK ||
            frame_builder_finish(&fb, &hp, &hl) != FRAME_OK) {
            conn_log(c, "cannot build the download's head");
            conn_close(c);
            return;
        }
        b[n++] = uv_buf_init((char *)(size_t)hp, (unsigned)hl);
        c->dl.phase = DL_BODY;
    }
    if (c->dl.phase == DL_BODY && c->dl.off < c->dl.size) {
        uint64_t left = c->dl.size - c->dl.off;
        size_t want = left < c->dl.cap ? (size_t)left : c->dl.cap;
        ssize_t r = pread(c->dl.fd, c->dl.buf, want, (off_t)c->dl.off);
        if (r <= 0) {
            /* the file shrank under us or the disk failed: the frame
               cannot be completed, so the connection must end */
            conn_log(c, "cannot read %s at %llu: %s", c->dl.name, (unsigned long long)c->dl.off,
                     r < 0 ? strerror(errno) : "the file became shorter");
            conn_close(c);
            return;
        }
        ff_sum_update(&c->dl.sum, c->dl.buf, (size_t)r);
        c->dl.off += (uint64_t)r;
        b[n++] = uv_buf_init((char *)c->dl.buf, (unsigned)r);
    }
    if (n) {
        c->dl.writing = 1;
        if (app_conn_write(c->ac, b, n, dl_written, NULL) < 0)
            conn_close(c);
        return;
    }
    {
        char hex[65];
        frame_builder fb;
        ff_sum_final(&c->dl.sum, hex);
        stat_downloads++;
        conn_log(c, "%s downloaded %s: %llu bytes, %s %s, %.2f s", c->dl.user, c->dl.name,
                 (unsigned long long)c->dl.size, ff_algo_name(c->dl.sum.algo), hex, ff_now() - c->dl.t0);
        download_end(c);
        if (reply_start(c, &fb, 0) == 0) {
            frame_builder_add_bool(&fb, "ok", 1);
            frame_builder_add_string(&fb, ff_algo_name(c->dl.sum.algo), hex);
            reply_end(c, &fb);
        }
    }
}

static void reply_frame_error(conn *c, frame_errno e)
{
    frame_builder b;
    stat_errors++;
    conn_log(c, "malformed frame: %s at offset %llu; closing", frame_errname(e),
             (unsigned long long)frame_decoder_offset(&c->dec));
    if (reply_start(c, &b, 0) == 0) {
        frame_builder_add_string(&b, "error", frame_errname(e));
        frame_builder_add_string(&b, "message", frame_strerror(e));
        frame_builder_add_uint64(&b, "offset", frame_decoder_offset(&c->dec));
        reply_end(c, &b);
    }
    c->closing = 1;
}

/* Brings a connection forward after any event: send, unpause, close. */
static void service(conn *c)
{
    int rounds;
    for (rounds = 0; rounds < 64 && c->ac; rounds++) {
        flush_out(c);
        if (!c->ac)
            return;
        if (c->dl.active && !c->out_len) {
            pump_download(c);
            if (!c->ac)
                return;
            if (c->out_len) /* the trailer */
                continue;
        }
        if (c->closing) {
            if (!c->close_requested && !c->job_pending && !c->dl.writing) {
                if (c->up.state != UP_NONE && c->up.state != UP_COMMITTING) {
                    upload_discard(c);
                    c->up.state = UP_NONE;
                }
                download_end(c);
                c->close_requested = 1;
                /* after the queued replies; input discarded meanwhile */
                app_conn_close_after_write(c->ac, (uint64_t)(LINGER_SECONDS * 1000));
            }
            return;
        }
        if (c->paused && !c->job_pending && !c->dl.active && out_pending(c) <= OUT_HIGH) {
            c->paused = 0;
            frame_decoder_resume(&c->dec);
            app_conn_read_start(c->ac); /* what was kept comes again, from the loop */
        }
        return;
    }
}

/* apps/common's on_data: bytes as recv() or SSL_read() gave them. */
static size_t on_data(app_conn *ac, const void *data, size_t len)
{
    conn *c = app_conn_data(ac);
    size_t used;
    frame_errno e;
    if (!c || c->closing)
        return len; /* discarded: the error reply is on its way */
    if (c->paused) {
        app_conn_read_stop(ac);
        return 0;
    }
    c->last_rx = ff_now();
    if (frame_decoder_needed(&c->dec) == 0)
        c->frame_start = c->last_rx;
    used = frame_feed(&c->dec, data, len);
    e = frame_decoder_errno(&c->dec);
    if (e == FRAME_E_PAUSED) {
        c->paused = 1;
        if (c->ac)
            app_conn_read_stop(ac);
    } else if (e == FRAME_E_CALLBACK)
        c->closing = 1; /* a callback refused the stream and said why */
    else if (e != FRAME_OK)
        reply_frame_error(c, e);
    if (c->ac)
        service(c);
    return e == FRAME_E_PAUSED ? used : len;
}

/* The peer finished sending. */
static void on_end(app_conn *ac)
{
    conn *c = app_conn_data(ac);
    if (!c)
        return;
    if (frame_decoder_needed(&c->dec) > 0 && !c->closing)
        conn_log(c, "connection closed inside a frame (%llu bytes missing)",
                 (unsigned long long)frame_decoder_needed(&c->dec));
    if (c->job_pending || c->dl.active || c->inflight) {
        /* let the job or the download finish; then close */
        c->closing = 1;
        service(c);
        return;
    }
    conn_close(c);
}

static frame_config classic_cfg; /* 4-octet little-endian prefix, --classic-key */

/* apps/common's on_open. */
static void on_open(app_conn *ac)
{
    conn *c = calloc(1, sizeof *c);
    const char *key = app_conn_key(ac);
    if (!c) {
        app_conn_close(ac);
        return;
    }
    c->ac = ac;
    c->id = next_conn_id++;
    c->classic = app_conn_server(ac) == classic_srv && classic_srv;
    snprintf(c->ip, sizeof c->ip, "%s", key);
    snprintf(c->peer, sizeof c->peer, "%s%s", app_conn_peer(ac), c->classic ? " classic" : "");
    c->up.fd = c->up.dirfd = c->dl.fd = -1;
    c->last_rx = c->last_tx = c->born = ff_now();
    frame_decoder_init(&c->dec, c->classic ? &classic_cfg : &server_cfg, &callbacks, c->hdr, sizeof c->hdr, c);
    app_conn_set_data(ac, c);
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nconns++;
    if (c->classic)
        app_conn_authenticated(ac); /* classic clients carry no credentials at all */
}

static void handle_done(void)
{
    job *list;
    pthread_mutex_lock(&q_lock);
    list = done_head;
    done_head = NULL;
    pthread_mutex_unlock(&q_lock);
    while (list) {
        job *j = list;
        conn *c = j->c;
        list = j->next;
        job_done(j);
        if (c && !c->dead)
            service(c);
    }
}

static void on_done_async(uv_async_t *h)
{
    (void)h;
    handle_done();
}

static void check_timeouts(void)
{
    double now = ff_now();
    conn *c = conns, *next;
    for (; c; c = next) {
        const char *why = NULL;
        next = c->next;
        if (c->job_pending || c->close_requested || !c->ac)
            continue;
        if (c->inflight || c->dl.active) {
            if (now - c->last_tx > opt.frame_timeout)
                why = "the client stopped reading";
        } else if (c->up.state == UP_BODY && opt.min_rate > 0 && now - c->up.t0 > opt.frame_timeout &&
                   (double)c->up.got < opt.min_rate * (now - c->up.t0)) {
            why = "the upload is slower than --min-rate"; /* a trickle holds nothing for long */
        } else if (frame_decoder_needed(&c->dec) > 0) {
            if (c->in_body && now - c->last_rx > opt.frame_timeout)
                why = "the frame body stalled";
            else if (!c->in_body && now - c->frame_start > opt.frame_timeout)
                why = "the frame header did not arrive in time";
        } else if (c->up.state == UP_WAIT_COMMIT || c->up.state == UP_WAIT_COMMIT_DISCARD) {
            if (now - c->last_rx > opt.frame_timeout)
                why = "the upload's commit did not arrive";
        } else if (now - c->last_rx > opt.idle_timeout)
            why = "the connection was idle";
        if (why) {
            if (c->inflight || c->dl.active) {
                conn_log(c, "timeout: %s", why);
                conn_close(c); /* it does not read: an error reply could not get through */
                continue;
            }
            reply_error(c, "TIMEOUT", "%s; closing", why);
            c->closing = 1;
            service(c);
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    check_timeouts();
}

static void on_bury(uv_check_t *h)
{
    (void)h;
    bury_dead();
}

/* ------------------------------------------------------------------------ */
/* Start, loop, stop                                                        */
/* ------------------------------------------------------------------------ */

static void on_signal(uv_signal_t *h, int sig)
{
    (void)h;
    stop_sig = sig;
    uv_stop(loop);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: frame-files-server [options]\n"
            "  --root DIR            where users and files live (default ./frame-files-data)\n"
            "  --bind ADDR           address to listen on, IPv4 or IPv6 (default 127.0.0.1); a\n"
            "                        non-loopback address needs TLS or --insecure-no-tls\n"
            "  --port N              TCP port; 0 picks a free one (default %d)\n"
            "  --kdf-iterations N    PBKDF2 iterations for new passwords (default 600000)\n"
            "  --workers N           threads for password hashing (default 2)\n"
            "  --max-conns N         connections served at once (default 1000)\n"
            "  --idle-timeout S      close connections idle this long (default 300)\n"
            "  --frame-timeout S     a frame header must arrive within S seconds and a body\n"
            "                        or a reader must not stall longer (default 30)\n"
            "  --session-ttl S       sessions unused this long expire (default 3600)\n"
            "  --max-file BYTES      largest upload (default 2^53-1)\n"
            "  --buffer BYTES        download chunk (default 1048576, at most 1 MiB used)\n"
            "  --sockbuf BYTES       accepted for compatibility; apps/common leaves the socket\n"
            "                        buffers to the kernel's autotuning\n"
            "  -q, --quiet           log nothing but startup and errors of the server itself\n"
            "limits (each one closes a way to deny service to others):\n"
            "  --max-conns-per-addr N  connections from one IP address (default 32)\n"
            "  --auth-timeout S      a connection must log in (or use a valid token) within S\n"
            "                        seconds (default 10)\n"
            "  --login-backoff S     after a failed login, that address and that user name wait\n"
            "                        S seconds, doubled at each further failure (default 0.25;\n"
            "                        0 turns the slow-down off)\n"
            "  --login-backoff-cap S the longest such wait (default 30)\n"
            "  --kdf-queue N         password hashings queued at most; BUSY beyond (default 64)\n"
            "  --io-threads N        threads for upload commits and the users file (default 2)\n"
            "  --max-sessions N      sessions in all, at most 65536 (default 4096); when every slot\n"
            "                        is taken a login gets BUSY, no other session ends\n"
            "  --max-sessions-per-user N  a user's new login beyond N ends that user's least\n"
            "                        recently used session (default 8)\n"
            "  --quota BYTES         bytes each user may store, uploads in progress counted at\n"
            "                        their declared size (default 1073741824 = 1 GiB); also the\n"
            "                        size of the classic inbox\n"
            "  --min-rate BYTES/S    an upload slower than this on average, once --frame-timeout\n"
            "                        has passed, is ended and its data removed (default 1024; 0 = off)\n"
            "  --registration open|closed  whether anyone may register (default open); when closed\n"
            "                        accounts are made with --add-user\n"
            "administration (the server must not be running on ROOT):\n"
            "  --add-user NAME       create the account NAME in --root with the password read from\n"
            "                        the first line of standard input, then exit\n"
            "classic tutorial uploads (off by default):\n"
            "  --classic-listen HOST:PORT  also accept uploads from the classic tutorial programs:\n"
            "                        4-byte native int head length, JSON {\"file_name\", \"file_size\"},\n"
            "                        the file. Loopback addresses only: classic clients carry no\n"
            "                        credentials, so anyone who can connect may upload\n"
            "  --classic-inbox DIR   where classic uploads go (required with --classic-listen); the\n"
            "                        same name, atomicity and --quota rules as user uploads; any\n"
            "                        error closes the connection without a reply\n"
            "  --classic-key NAME    the head's size member (default file_size)\n"
            "network:\n"
            "  --tls-cert FILE       serve TLS (1.2 or later) with this PEM certificate chain...\n"
            "  --tls-key FILE        ...and this PEM private key (clients: frame-files --tls-ca)\n"
            "  --insecure-no-tls     allow --bind on a non-loopback address without TLS (passwords\n"
            "                        and tokens then cross the network in clear text)\n",
            FF_DEFAULT_PORT);
}

static double num_arg(const char *name, const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || v < lo || v > hi)
        die("%s must be a number from %.0f to %.0f", name, lo, hi);
    return v;
}

static int insecure_no_tls;

static void parse_args(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            opt.quiet = 1;
            continue;
        }
        if (strcmp(a, "--insecure-no-tls") == 0) {
            insecure_no_tls = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (!v) {
            usage(stderr);
            exit(2);
        }
        i++;
        if (strcmp(a, "--root") == 0)
            opt.root = v;
        else if (strcmp(a, "--bind") == 0)
            opt.bind = v;
        else if (strcmp(a, "--port") == 0)
            opt.port = (int)num_arg(a, v, 0, 65535);
        else if (strcmp(a, "--kdf-iterations") == 0)
            opt.kdf_iterations = (unsigned long)num_arg(a, v, 1000, 100000000);
        else if (strcmp(a, "--workers") == 0)
            opt.kdf_threads = (unsigned)num_arg(a, v, 1, 64);
        else if (strcmp(a, "--max-conns") == 0)
            opt.max_conns = (unsigned)num_arg(a, v, 1, 100000);
        else if (strcmp(a, "--idle-timeout") == 0)
            opt.idle_timeout = num_arg(a, v, 0.1, 1e7);
        else if (strcmp(a, "--frame-timeout") == 0)
            opt.frame_timeout = num_arg(a, v, 0.1, 1e7);
        else if (strcmp(a, "--session-ttl") == 0)
            opt.session_ttl = num_arg(a, v, 1, 1e9);
        else if (strcmp(a, "--max-file") == 0)
            opt.max_file = (uint64_t)num_arg(a, v, 0, (double)FRAME_MAX_BODY_LIMIT);
        else if (strcmp(a, "--buffer") == 0)
            opt.buffer = (size_t)num_arg(a, v, 4096, 64 << 20);
        else if (strcmp(a, "--sockbuf") == 0)
            opt.sockbuf = (int)num_arg(a, v, 0, 1 << 30);
        else if (strcmp(a, "--max-conns-per-addr") == 0)
            opt.max_conns_per_addr = (unsigned)num_arg(a, v, 1, 100000);
        else if (strcmp(a, "--auth-timeout") == 0)
            opt.auth_timeout = num_arg(a, v, 0.1, 1e7);
        else if (strcmp(a, "--login-backoff") == 0)
            opt.login_backoff = num_arg(a, v, 0, 3600);
        else if (strcmp(a, "--login-backoff-cap") == 0)
            opt.login_backoff_cap = num_arg(a, v, 0.01, 86400);
        else if (strcmp(a, "--kdf-queue") == 0)
            opt.kdf_queue = (unsigned)num_arg(a, v, 1, 100000);
        else if (strcmp(a, "--io-threads") == 0)
            opt.io_threads = (unsigned)num_arg(a, v, 1, 64);
        else if (strcmp(a, "--max-sessions") == 0)
            opt.max_sessions = (unsigned)num_arg(a, v, 1, 65536);
        else if (strcmp(a, "--max-sessions-per-user") == 0)
            opt.max_sessions_per_user = (unsigned)num_arg(a, v, 1, 65536);
        else if (strcmp(a, "--quota") == 0)
            opt.quota = (uint64_t)num_arg(a, v, 0, (double)FRAME_MAX_BODY_LIMIT);
        else if (strcmp(a, "--min-rate") == 0)
            opt.min_rate = num_arg(a, v, 0, 1e12);
        else if (strcmp(a, "--registration") == 0) {
            if (strcmp(v, "open") != 0 && strcmp(v, "closed") != 0)
                die("--registration is open or closed, not %s", v);
            opt.registration_open = strcmp(v, "open") == 0;
        } else if (strcmp(a, "--add-user") == 0)
            opt.add_user = v;
        else if (strcmp(a, "--tls-cert") == 0)
            opt.tls_cert = v;
        else if (strcmp(a, "--tls-key") == 0)
            opt.tls_key = v;
        else if (strcmp(a, "--classic-listen") == 0)
            opt.classic_listen = v;
        else if (strcmp(a, "--classic-inbox") == 0)
            opt.classic_inbox = v;
        else if (strcmp(a, "--classic-key") == 0) {
            frame_config t = FRAME_CONFIG_INIT;
            t.size_name = v;
            if (frame_config_check(&t) != FRAME_OK)
                die("--classic-key must be 1 to 64 printable ASCII characters without '\"' or '\\'");
            opt.classic_key = v;
        }
        else {
            fprintf(stderr, "frame-files-server: unknown option %s\n", a);
            usage(stderr);
            exit(2);
        }
    }
}

static void open_root(void)
{
    struct rlimit rl;
    if (mkdir(opt.root, 0700) != 0 && errno != EEXIST)
        die("cannot create %s: %s", opt.root, strerror(errno));
    root_fd = open(opt.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        die("cannot open %s: %s", opt.root, strerror(errno));
    lock_fd = openat(root_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0)
        die("%s is in use by another frame-files-server", opt.root);
    if (mkdirat(root_fd, "files", 0700) != 0 && errno != EEXIST)
        die("cannot create %s/files: %s", opt.root, strerror(errno));
    files_fd = openat(root_fd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (files_fd < 0)
        die("cannot open %s/files: %s", opt.root, strerror(errno));
    users_load();
    {
        unsigned n = sweep_temp_files();
        if (n)
            fprintf(stderr, "frame-files-server: removed %u temporary file(s) left by an interrupted run\n", n);
    }
    /* every connection may hold a socket, a temporary file and a directory */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static unsigned char busy_msg[256]; /* the refusal of a connection over a cap */
static size_t busy_len;

static app_server *listen_at(const char *hostport, const char *what, int classic)
{
    app_server_config cfg;
    char err[256];
    app_server *s;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = what;
    cfg.listen = hostport;
    cfg.tls = classic ? NULL : tls_ctx;
    cfg.max_conns = opt.max_conns;
    cfg.guard = guard;
    cfg.auth_timeout_ms = classic ? 0 : (uint64_t)(opt.auth_timeout * 1000);
    cfg.refuse_msg = classic ? NULL : busy_msg; /* a classic client would read a frame as a result */
    cfg.refuse_len = classic ? 0 : busy_len;
    cfg.on_open = on_open;
    cfg.on_data = on_data;
    cfg.on_end = on_end;
    cfg.on_close = conn_gone;
    s = app_server_new(loop, &cfg, err, sizeof err);
    if (!s)
        die("%s", err);
    return s;
}

static void open_listener(void)
{
    char hp[96];
    frame_builder b;
    const void *p;
    size_t n;
    snprintf(hp, sizeof hp, strchr(opt.bind, ':') ? "[%s]:%d" : "%s:%d", opt.bind, opt.port);
    if (app_check_exposure("--bind", hp, tls_ctx != NULL, insecure_no_tls) != 0)
        exit(1);
    if (frame_builder_init(&b, &ff_frame_config, busy_msg, sizeof busy_msg, 0) != FRAME_OK ||
        frame_builder_add_string(&b, "error", "BUSY") != FRAME_OK ||
        frame_builder_add_string(&b, "message",
                                 "too many connections in all or from this address (per address "
                                 "limit); try again later") != FRAME_OK ||
        frame_builder_finish(&b, &p, &n) != FRAME_OK)
        die("cannot build the BUSY reply");
    memmove(busy_msg, p, n);
    busy_len = n;
    srv = listen_at(hp, "--bind", 0);
    printf("listening on %s\n", app_server_name(srv));
    fflush(stdout);
}

/* --classic-listen HOST:PORT, loopback only. */
static void open_classic(void)
{
    char host[256], port[16];
    if (app_split_hostport(opt.classic_listen, host, sizeof host, port, sizeof port) != 0)
        die("--classic-listen wants HOST:PORT, such as 127.0.0.1:9000");
    if (app_host_is_loopback(host) != 1)
        die("--classic-listen takes a loopback address only: classic clients carry no credentials");
    if (!opt.classic_inbox)
        die("--classic-listen needs --classic-inbox DIR");
    if (mkdir(opt.classic_inbox, 0700) != 0 && errno != EEXIST)
        die("cannot create %s: %s", opt.classic_inbox, strerror(errno));
    inbox_fd = open(opt.classic_inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (inbox_fd < 0)
        die("cannot open %s: %s", opt.classic_inbox, strerror(errno));
    {
        DIR *d;
        struct dirent *e;
        int dfd = openat(inbox_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0 && (d = fdopendir(dfd)) != NULL) {
            while ((e = readdir(d)) != NULL)
                if (strncmp(e->d_name, TMP_PREFIX, sizeof TMP_PREFIX - 1) == 0)
                    unlinkat(inbox_fd, e->d_name, 0);
            closedir(d);
        } else if (dfd >= 0)
            close(dfd);
    }
    classic_cfg = ff_frame_config;
    classic_cfg.prefix_width = 4;
    classic_cfg.big_endian = 0; /* struct.pack('i') on the little-endian hosts the tutorials run on */
    classic_cfg.size_name = opt.classic_key;
    classic_cfg.max_body = opt.max_file;
    if (frame_config_check(&classic_cfg) != FRAME_OK)
        die("--classic-key %s cannot be a size member name", opt.classic_key);
    classic_srv = listen_at(opt.classic_listen, "--classic-listen", 1);
    printf("classic uploads on %s\n", app_server_name(classic_srv));
    fflush(stdout);
    fprintf(stderr,
            "frame-files-server: warning: classic clients carry no credentials: anyone who can connect to %s "
            "may write files into %s (within --quota)\n",
            app_server_name(classic_srv), opt.classic_inbox);
}

/* --add-user NAME: makes an account in ROOT/users (atomically) and exits. */
static int add_user_main(void)
{
    char pw[FF_PASSWORD_MAX + 3];
    size_t n;
    user *u;
    int err;
    const char *why = ff_user_problem(opt.add_user, strlen(opt.add_user));
    if (why)
        die("--add-user: %s", why);
    open_root();
    if (user_find(opt.add_user))
        die("the user %s exists already in %s", opt.add_user, opt.root);
    if (!fgets(pw, sizeof pw, stdin))
        die("--add-user reads the password from the first line of standard input");
    n = strcspn(pw, "\r\n");
    pw[n] = 0;
    if (n < FF_PASSWORD_MIN || n > FF_PASSWORD_MAX)
        die("a password has %d to %d bytes", FF_PASSWORD_MIN, FF_PASSWORD_MAX);
    u = user_add(opt.add_user);
    if (!u)
        die("out of memory");
    u->iters = (uint32_t)opt.kdf_iterations;
    if (ff_random(u->salt, SALT_BYTES) != 0 ||
        ff_pbkdf2_sha256(pw, n, u->salt, SALT_BYTES, u->iters, u->hash, FF_SHA256_DIGEST) != 0)
        die("cannot hash the password");
    ff_wipe(pw, sizeof pw);
    u->state = U_OK;
    err = users_save(NULL);
    if (err)
        die("cannot save %s/users: %s", opt.root, strerror(err));
    if ((mkdirat(files_fd, opt.add_user, 0700) != 0 && errno != EEXIST) || fsync(files_fd) != 0)
        die("cannot create %s/files/%s: %s", opt.root, opt.add_user, strerror(errno));
    printf("added user %s to %s\n", opt.add_user, opt.root);
    return 0;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    unsigned closed;

    parse_args(argc, argv);
    server_cfg = ff_frame_config;
    server_cfg.max_body = opt.max_file;
    crc32c_init();
    if (ff_random(dummy_salt, sizeof dummy_salt) != 0)
        die("no random numbers: %s", strerror(errno));
    app_log_init("frame-files-server", opt.quiet ? 0 : 1);
    if (opt.add_user)
        return add_user_main();
    if (!opt.tls_cert != !opt.tls_key)
        die("--tls-cert and --tls-key go together");
    if (opt.tls_cert) {
        char err[512];
        tls_ctx = app_tls_server_ctx(opt.tls_cert, opt.tls_key, err, sizeof err);
        if (!tls_ctx)
            die("%s", err);
    }
    sessions = calloc(opt.max_sessions, sizeof *sessions);
    {
        app_guard_limits lim;
        memset(&lim, 0, sizeof lim);
        lim.max_conns_per_key = opt.max_conns_per_addr;
        lim.base_ms = (uint64_t)(opt.login_backoff * 1000);
        lim.cap_ms = (uint64_t)(opt.login_backoff_cap * 1000);
        lim.max_keys = 2 * opt.max_conns + 8192;
        guard = app_guard_new(&lim);
    }
    if (!sessions || !guard)
        die("out of memory");
    open_root();

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);

    loop = uv_default_loop();
    /* signals first: a SIGTERM right after "listening on" must stop us cleanly */
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_async_init(loop, &done_async, on_done_async);
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 250, 250);
    uv_check_init(loop, &bury_check);
    uv_check_start(&bury_check, on_bury);
    open_listener(); /* before the threads: a port in use ends the process cleanly */
    if (opt.classic_listen)
        open_classic();
    workers_start();
    logmsg("serving %s (%s%s, crc32c: %s)", opt.root, OpenSSL_version(OPENSSL_VERSION), tls_ctx ? ", TLS" : "",
           crc32c_impl());

    while (!stop_sig)
        uv_run(loop, UV_RUN_DEFAULT);

    fprintf(stderr, "frame-files-server: %s: shutting down\n", stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
    shutting_down = 1;
    closed = nconns;
    app_server_close(srv); /* every connection: uploads in flight discarded */
    if (classic_srv)
        app_server_close(classic_srv);
    workers_stop(); /* running jobs finish: a verified upload may still be renamed */
    handle_done();
    bury_dead();
    close_handle((uv_handle_t *)&done_async);
    close_handle((uv_handle_t *)&tick);
    close_handle((uv_handle_t *)&bury_check);
    close_handle((uv_handle_t *)&sig_int);
    close_handle((uv_handle_t *)&sig_term);
    uv_run(loop, UV_RUN_DEFAULT); /* the close callbacks */
    uv_loop_close(loop);
    fprintf(stderr,
            "frame-files-server: closed %u connection(s), discarded %u unfinished upload(s); "
            "%llu uploads, %llu downloads, %llu errors served\n",
            closed, discarded_at_exit, (unsigned long long)stat_uploads, (unsigned long long)stat_downloads,
            (unsigned long long)stat_errors);
    if (tls_ctx)
        SSL_CTX_free(tls_ctx);
    if (inbox_fd >= 0)
        close(inbox_fd);
    close(files_fd);
    close(lock_fd);
    close(root_fd);
    free(users);
    ff_wipe(sessions, opt.max_sessions * sizeof *sessions);
    free(sessions);
    app_guard_free(guard);
    return 0;
}
