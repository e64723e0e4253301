/*
 * frame-files-server: a file server speaking libframe frames.
 *
 * One epoll event loop serves every connection; a small fixed pool of worker
 * threads runs what would stall the loop: the password KDF (PBKDF2, ~0.1 s)
 * and the fsync/rename/fsync at the end of an upload. Uploads stream through
 * frame_feed()'s zero-copy on_body chunks straight into a temporary file;
 * downloads stream through frame_write_begin/body/end. See
 * docs/APPS-files.md for the protocol and the design.
 *
 * Linux only (epoll, openat2, accept4, fallocate).
 */
#define _GNU_SOURCE
#include "ff.h"

#include "addr.h"
#include "guard.h"
#include "log.h"

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
#include <sys/epoll.h>
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
} opt = {"frame-files-data", "127.0.0.1", FF_DEFAULT_PORT, 600000, 2, 1000, 300, 30, 3600,
         FF_DEFAULT_BUFFER, 4 << 20, 0, FRAME_MAX_BODY_LIMIT,
         64, 2, 32, 4096, 8,
         10, 0.25, 30, 1024,
         (uint64_t)1 << 30,
         1,
         NULL,
         NULL, NULL, "file_size"};

static frame_config server_cfg;         /* ff_frame_config with max_body = --max-file */
static int root_fd = -1, files_fd = -1, inbox_fd = -1, lock_fd = -1;
static int ep = -1, listen_fd = -1, classic_fd = -1, spare_fd = -1;
static int sig_pipe[2] = {-1, -1}, done_pipe[2] = {-1, -1};
static unsigned char *rbuf;             /* one receive buffer for the whole loop */
static unsigned long next_conn_id = 1;
static unsigned nconns;
static char tag_listen, tag_classic, tag_sig, tag_done; /* epoll data for the non-connection fds */
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
        if (write(done_pipe[1], "", 1) < 0) {
            /* full pipe: the loop is already awake and will drain the list */
        }
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

typedef struct conn {
    struct conn *prev, *next;
    int fd;
    unsigned long id;
    char peer[72], ip[INET6_ADDRSTRLEN];
    int classic;     /* a tutorial uploader on --classic-listen: never answered, closed on any error */
    int authed;      /* logged in, or used a valid token, on this connection */
    int counted;     /* counted by the guard against --max-conns-per-addr */
    double born;
    frame_decoder dec;
    frame_encoder enc;
    int op;          /* the op of the frame being decoded */
    int pause_after; /* on_frame_end pauses the decoder */
    int paused;      /* decoder paused; not reading */
    int job_pending; /* c->job is in the worker pool */
    int dead;        /* closed while its job ran: free it when the job is done */
    int closing;     /* send what is queued, then close */
    int lingering;   /* write side shut; discarding input until EOF or the deadline */
    int in_body;
    int wipe_input; /* the input just fed held a password */
    unsigned events;
    double last_rx, last_tx, frame_start, linger_until;
    unsigned char *stash; /* input received while paused */
    size_t stash_len, stash_off;
    unsigned char *out; /* small frames waiting to be sent */
    size_t out_len, out_off, out_cap;
    struct {
        int state, fd, dirfd;
        char tmp[40], name[FF_NAME_MAX + 1], user[FF_USER_MAX + 1], hex[65];
        uint64_t size, got, reserved; /* reserved: counted against the quota until the upload ends */
        ff_sum sum;
        double t0;
    } up;
    struct {
        int active, fd, phase;
        uint64_t size, off;
        ff_sum sum;
        unsigned char *buf;
        size_t cap;
        frame_builder b;
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
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_cap - c->out_len >= n)
        return 0;
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
        if (c->out_cap - c->out_len >= n)
            return 0;
    }
    {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        unsigned char *p;
        while (cap - c->out_len < n)
            cap *= 2;
        p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->out_cap = cap;
    }
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
    if (c->dead || c->closing)
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

static void update_events(conn *c)
{
    struct epoll_event ev;
    unsigned want = 0;
    if (c->dead)
        return;
    if (c->lingering || (!c->paused && !c->closing))
        want |= EPOLLIN;
    if (c->out_len > c->out_off || frame_encoder_pending(&c->enc) || (c->dl.active && c->out_len == c->out_off))
        want |= EPOLLOUT;
    if (c->lingering)
        want &= ~(unsigned)EPOLLOUT;
    if (want == c->events)
        return;
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = want;
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
    free(c->stash);
    free(c->out);
    ff_wipe(&c->job, sizeof c->job);
    free(c);
}

static void conn_close(conn *c)
{
    if (c->dead)
        return;
    if (c->up.state != UP_NONE && c->up.state != UP_COMMITTING) {
        if (c->up.fd >= 0)
            conn_log(c, "upload of %s by %s interrupted after %llu of %llu bytes; temporary file removed",
                     c->up.name, c->up.user, (unsigned long long)c->up.got, (unsigned long long)c->up.size);
        upload_discard(c);
        c->up.state = UP_NONE;
    }
    download_end(c);
    if (c->counted)
        app_guard_conn_close(guard, c->ip);
    c->counted = 0;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
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
    else
        c->authed = 1;
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
        reply_error(c, "NO_SPACE", "the server's disk is full");
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
        c->wipe_input = 1; /* and from the receive buffer, once fed */
    }
    if (c->pause_after || c->out_len - c->out_off > OUT_HIGH || c->closing) {
        c->pause_after = 0;
        return FRAME_PAUSE;
    }
    return FRAME_CONTINUE;
}

static const frame_callbacks callbacks = {on_header, on_body, on_frame_end};

/* ------------------------------------------------------------------------ */
/* Moving bytes                                                             */
/* ------------------------------------------------------------------------ */

static long sock_write(void *ctx, const void *data, size_t len)
{
    conn *c = ctx;
    ssize_t n;
    do
        n = send(c->fd, data, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    if (n > 0)
        c->last_tx = ff_now();
    return (long)n;
}

/* Returns -1 when the connection broke. */
static int flush_out(conn *c)
{
    while (c->out_len > c->out_off) {
        long n = sock_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Sends the download in progress as far as the socket takes it. */
static int pump_download(conn *c)
{
    frame_errno e;
    if (frame_encoder_pending(&c->enc)) {
        e = frame_encoder_resume(&c->enc);
        if (e == FRAME_E_WOULD_BLOCK)
            return 0;
        if (e != FRAME_OK)
            return -1;
    }
    for (;;) {
        if (c->dl.phase == DL_HEAD) {
            frame_builder_init(&c->dl.b, &ff_frame_config, c->dl.head, sizeof c->dl.head, c->dl.size);
            frame_builder_add_bool(&c->dl.b, "ok", 1);
            frame_builder_add_string(&c->dl.b, "name", c->dl.name);
            frame_builder_add_string(&c->dl.b, "checksum", ff_algo_name(c->dl.sum.algo));
            c->dl.phase = DL_BODY;
            e = frame_write_begin(&c->enc, &c->dl.b);
        } else if (c->dl.phase == DL_BODY && c->dl.off < c->dl.size) {
            uint64_t left = c->dl.size - c->dl.off;
            size_t want = left < c->dl.cap ? (size_t)left : c->dl.cap;
            ssize_t n = pread(c->dl.fd, c->dl.buf, want, (off_t)c->dl.off);
            if (n <= 0) {
                /* the file shrank under us or the disk failed: the frame
                   cannot be completed, so the connection must end */
                conn_log(c, "cannot read %s at %llu: %s", c->dl.name, (unsigned long long)c->dl.off,
                         n < 0 ? strerror(errno) : "the file became shorter");
                return -1;
            }
            ff_sum_update(&c->dl.sum, c->dl.buf, (size_t)n);
            c->dl.off += (uint64_t)n;
            e = frame_write_body(&c->enc, c->dl.buf, (size_t)n);
        } else if (c->dl.phase == DL_BODY) {
            c->dl.phase = DL_END;
            e = frame_write_end(&c->enc);
        } else {
            char hex[65];
            frame_builder b;
            ff_sum_final(&c->dl.sum, hex);
            stat_downloads++;
            conn_log(c, "%s downloaded %s: %llu bytes, %s %s, %.2f s", c->dl.user, c->dl.name,
                     (unsigned long long)c->dl.size, ff_algo_name(c->dl.sum.algo), hex, ff_now() - c->dl.t0);
            download_end(c);
            if (reply_start(c, &b, 0) == 0) {
                frame_builder_add_bool(&b, "ok", 1);
                frame_builder_add_string(&b, ff_algo_name(c->dl.sum.algo), hex);
                reply_end(c, &b);
            }
            return flush_out(c);
        }
        if (e == FRAME_E_WOULD_BLOCK)
            return 0;
        if (e != FRAME_OK)
            return -1;
    }
}

static void stash_rest(conn *c, const unsigned char *p, size_t n)
{
    size_t keep = c->stash ? c->stash_len - c->stash_off : 0;
    unsigned char *s;
    if (!n)
        return;
    s = malloc(keep + n);
    if (!s) {
        c->closing = 1;
        return;
    }
    if (keep)
        memcpy(s, c->stash + c->stash_off, keep);
    memcpy(s + keep, p, n);
    free(c->stash);
    c->stash = s;
    c->stash_len = keep + n;
    c->stash_off = 0;
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

/* Feeds input to the decoder; returns what it did not take (paused). */
static size_t feed(conn *c, const unsigned char *p, size_t n)
{
    size_t used;
    frame_errno e;
    if (frame_decoder_needed(&c->dec) == 0)
        c->frame_start = ff_now();
    used = frame_feed(&c->dec, p, n);
    e = frame_decoder_errno(&c->dec);
    if (e == FRAME_E_PAUSED) {
        c->paused = 1;
        return n - used;
    }
    if (e == FRAME_E_CALLBACK)
        c->closing = 1; /* a callback refused the stream and said why */
    else if (e != FRAME_OK)
        reply_frame_error(c, e);
    return 0;
}

static void feed_stash(conn *c)
{
    while (c->stash && !c->paused && !c->closing) {
        size_t rest = feed(c, c->stash + c->stash_off, c->stash_len - c->stash_off);
        c->stash_off = c->stash_len - rest;
        if (!rest || c->closing) {
            free(c->stash);
            c->stash = NULL;
            c->stash_len = c->stash_off = 0;
        }
    }
}

/* A connection on its way out no longer counts against its address. */
static void uncount(conn *c)
{
    if (c->counted)
        app_guard_conn_close(guard, c->ip);
    c->counted = 0;
}

static void start_linger(conn *c)
{
    uncount(c);
    shutdown(c->fd, SHUT_WR);
    c->lingering = 1;
    c->linger_until = ff_now() + LINGER_SECONDS;
    update_events(c);
}

/* Brings a connection forward after any event: send, unpause, close. */
static void service(conn *c)
{
    int rounds;
    for (rounds = 0; rounds < 64 && !c->dead; rounds++) {
        if (flush_out(c) != 0) {
            conn_close(c);
            return;
        }
        if (c->out_len == c->out_off && c->dl.active && pump_download(c) != 0) {
            conn_close(c);
            return;
        }
        if (c->closing) {
            if (c->out_len == c->out_off && !c->lingering && !c->job_pending) {
                if (c->up.state != UP_NONE && c->up.state != UP_COMMITTING) {
                    upload_discard(c);
                    c->up.state = UP_NONE;
                }
                download_end(c);
                start_linger(c);
            }
            break;
        }
        if (c->paused && !c->job_pending && !c->dl.active && c->out_len - c->out_off <= OUT_HIGH) {
            c->paused = 0;
            frame_decoder_resume(&c->dec);
            feed_stash(c);
            continue; /* the stash may have queued more replies */
        }
        break;
    }
    if (!c->dead)
        update_events(c);
}

static void handle_read(conn *c, unsigned events)
{
    int i;
    if (c->paused || (c->closing && !c->lingering)) {
        /* not reading now; a hangup or error still ends the connection */
        if (events & (EPOLLERR | EPOLLHUP))
            conn_close(c);
        else
            service(c);
        return;
    }
    for (i = 0; i < READS_PER_WAKE && !c->dead; i++) {
        ssize_t n = recv(c->fd, rbuf, opt.buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            if (!c->lingering && frame_decoder_needed(&c->dec) > 0)
                conn_log(c, "connection closed inside a frame (%llu bytes missing)",
                         (unsigned long long)frame_decoder_needed(&c->dec));
            conn_close(c);
            return;
        }
        c->last_rx = ff_now();
        if (c->lingering)
            continue; /* discard: the error reply is on its way */
        {
            size_t rest = feed(c, rbuf, (size_t)n);
            stash_rest(c, rbuf + (size_t)n - rest, rest);
            if (c->wipe_input) {
                ff_wipe(rbuf, (size_t)n);
                c->wipe_input = 0;
            }
        }
        if (c->paused || c->closing)
            break;
    }
    if (!c->dead)
        service(c);
}

static frame_config classic_cfg; /* 4-octet little-endian prefix, --classic-key */

static void conn_new(int fd, const struct sockaddr_in *a, int classic)
{
    conn *c = calloc(1, sizeof *c);
    struct epoll_event ev;
    int one = 1;
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->id = next_conn_id++;
    c->classic = classic;
    inet_ntop(AF_INET, &a->sin_addr, c->ip, sizeof c->ip);
    snprintf(c->peer, sizeof c->peer, "%s:%u%s", c->ip, (unsigned)ntohs(a->sin_port), classic ? " classic" : "");
    c->up.fd = c->up.dirfd = c->dl.fd = -1;
    c->last_rx = c->last_tx = c->born = ff_now();
    frame_decoder_init(&c->dec, classic ? &classic_cfg : &server_cfg, &callbacks, c->hdr, sizeof c->hdr, c);
    frame_encoder_init(&c->enc, sock_write, c);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.sockbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt.sockbuf, sizeof opt.sockbuf);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &opt.sockbuf, sizeof opt.sockbuf);
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        free(c);
        return;
    }
    c->events = EPOLLIN;
    c->next = conns;
    if (conns)
        conns->prev = c;
    conns = c;
    nconns++;
    if (nconns <= opt.max_conns)
        c->counted = app_guard_conn_open(guard, c->ip, now_ms()) == 0;
    if (nconns > opt.max_conns) {
        reply_error(c, "BUSY", "too many connections; try again later");
        c->closing = 1;
        service(c);
    } else if (!c->counted) {
        reply_error(c, "BUSY", "too many connections from %s (at most %u per address); try again later", c->ip,
                    opt.max_conns_per_addr);
        c->closing = 1;
        service(c);
    }
}

static void handle_accept(int lfd)
{
    for (;;) {
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        int fd = accept4(lfd, (struct sockaddr *)&a, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if ((errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
                /* out of descriptors: free the spare one to refuse this client
                   cleanly instead of spinning on the readable listener */
                close(spare_fd);
                fd = accept(lfd, NULL, NULL);
                if (fd >= 0)
                    close(fd);
                spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                logmsg("out of file descriptors: refused a connection");
                continue;
            }
            return;
        }
        conn_new(fd, &a, lfd == classic_fd);
    }
}

static void handle_done(void)
{
    char buf[256];
    job *list;
    while (read(done_pipe[0], buf, sizeof buf) > 0) {
    }
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

static void check_timeouts(void)
{
    double now = ff_now();
    conn *c = conns, *next;
    for (; c; c = next) {
        const char *why = NULL;
        next = c->next;
        if (c->job_pending)
            continue;
        if (c->lingering) {
            if (now > c->linger_until)
                conn_close(c);
            continue;
        }
        if (c->out_len > c->out_off || c->dl.active) {
            if (now - c->last_tx > opt.frame_timeout)
                why = "the client stopped reading";
        } else if (c->up.state == UP_BODY && opt.min_rate > 0 && now - c->up.t0 > opt.frame_timeout &&
                   (double)c->up.got < opt.min_rate * (now - c->up.t0)) {
            why = "the upload is slower than --min-rate"; /* a trickle holds nothing for long */
        } else if (!c->authed && !c->classic && now - c->born > opt.auth_timeout) {
            why = "no login within --auth-timeout";
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
            if (c->out_len > c->out_off || c->dl.active) {
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

/* ------------------------------------------------------------------------ */
/* Start, loop, stop                                                        */
/* ------------------------------------------------------------------------ */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(sig_pipe[1], &b, 1) < 0) {
    }
    errno = saved;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: frame-files-server [options]\n"
            "  --root DIR            where users and files live (default ./frame-files-data)\n"
            "  --bind ADDR           IPv4 address to listen on (default 127.0.0.1)\n"
            "  --port N              TCP port; 0 picks a free one (default %d)\n"
            "  --kdf-iterations N    PBKDF2 iterations for new passwords (default 600000)\n"
            "  --workers N           threads for password hashing and fsync (default 2)\n"
            "  --max-conns N         connections served at once (default 1000)\n"
            "  --idle-timeout S      close connections idle this long (default 300)\n"
            "  --frame-timeout S     a frame header must arrive within S seconds and a body\n"
            "                        or a reader must not stall longer (default 30)\n"
            "  --session-ttl S       sessions unused this long expire (default 3600)\n"
            "  --max-file BYTES      largest upload (default 2^53-1)\n"
            "  --buffer BYTES        receive buffer (default 1048576)\n"
            "  --sockbuf BYTES       SO_RCVBUF/SO_SNDBUF, 0 = kernel autotuning (default 4194304)\n"
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
            "  --insecure-no-tls     allow --bind on a non-loopback address without TLS (passwords\n"
            "                        and tokens then cross the network in clear text); TLS comes\n"
            "                        with the port to apps/common\n",
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

static int is_loopback(const struct in_addr *ip) { return (ntohl(ip->s_addr) >> 24) == 127; }

/* Listens on ip:port; prints "WHAT on ADDR:PORT" (the tests read the port). */
static int listen_on(const char *ip, int port, const char *what)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1, fd;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        die("%s wants an IPv4 address such as 127.0.0.1, not %s", what, ip);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno == EADDRINUSE)
            die("%s:%d is already in use (another server running?); choose another port", ip, port);
        die("cannot bind %s:%d: %s", ip, port, strerror(errno));
    }
    if (listen(fd, 1024) != 0 || getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        die("listen: %s", strerror(errno));
    printf("%s on %s:%u\n", what, ip, (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static void open_listener(void)
{
    struct in_addr ip;
    if (inet_pton(AF_INET, opt.bind, &ip) != 1)
        die("--bind wants an IPv4 address such as 127.0.0.1, not %s", opt.bind);
    {
        char hp[96];
        snprintf(hp, sizeof hp, "%s:%d", opt.bind, opt.port);
        if (app_check_exposure("--bind", hp, 0, insecure_no_tls) != 0)
            exit(1);
    }
    listen_fd = listen_on(opt.bind, opt.port, "listening");
}

/* --classic-listen HOST:PORT, loopback only. */
static void open_classic(void)
{
    char host[64];
    const char *colon = strrchr(opt.classic_listen, ':');
    struct in_addr ip;
    int port;
    size_t hl;
    int fd;
    if (!colon || colon == opt.classic_listen || (hl = (size_t)(colon - opt.classic_listen)) >= sizeof host)
        die("--classic-listen wants HOST:PORT, such as 127.0.0.1:9000");
    memcpy(host, opt.classic_listen, hl);
    host[hl] = 0;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    port = (int)num_arg("--classic-listen's port", colon + 1, 0, 65535);
    if (inet_pton(AF_INET, host, &ip) != 1 || !is_loopback(&ip))
        die("--classic-listen takes a loopback address (127.x.x.x) only: classic clients carry no credentials");
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
    fd = listen_on(host, port, "classic uploads");
    fprintf(stderr,
            "frame-files-server: warning: classic clients carry no credentials: anyone who can connect to %s:%d "
            "may write files into %s (within --quota)\n",
            host, port, opt.classic_inbox);
    classic_fd = fd;
}

static void add_fd(int fd, void *tag)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
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

int main(int argc, char **argv)
{
    struct sigaction sa;
    struct epoll_event evs[256];
    double last_check = 0;
    int stop_sig = 0;
    unsigned closed = 0, discarded = 0;

    parse_args(argc, argv);
    server_cfg = ff_frame_config;
    server_cfg.max_body = opt.max_file;
    crc32c_init();
    if (ff_random(dummy_salt, sizeof dummy_salt) != 0)
        die("no random numbers: %s", strerror(errno));
    app_log_init("frame-files-server", opt.quiet ? 0 : 1);
    if (opt.add_user)
        return add_user_main();
    rbuf = malloc(opt.buffer);
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
    if (!rbuf || !sessions || !guard)
        die("out of memory");
    open_root();

    if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0 || pipe2(done_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    open_listener();
    add_fd(listen_fd, &tag_listen);
    if (opt.classic_listen) {
        open_classic();
        add_fd(classic_fd, &tag_classic);
    }
    add_fd(sig_pipe[0], &tag_sig);
    add_fd(done_pipe[0], &tag_done);
    workers_start();
    logmsg("serving %s (sha256: %s, crc32c: %s)", opt.root, OpenSSL_version(OPENSSL_VERSION), crc32c_impl());

    while (!stop_sig) {
        int i, n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), 250);
        double now;
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &tag_listen)
                handle_accept(listen_fd);
            else if (tag == &tag_classic)
                handle_accept(classic_fd);
            else if (tag == &tag_sig) {
                unsigned char b;
                if (read(sig_pipe[0], &b, 1) == 1)
                    stop_sig = b;
            } else if (tag == &tag_done)
                handle_done();
        }
        for (i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            void *tag = c;
            if (tag == &tag_listen || tag == &tag_classic || tag == &tag_sig || tag == &tag_done)
                continue;
            if (c->dead) /* closed earlier in this turn; freed below */
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                handle_read(c, evs[i].events);
            else if (evs[i].events & EPOLLOUT)
                service(c);
        }
        now = ff_now();
        if (now - last_check >= 0.25) {
            last_check = now;
            check_timeouts();
        }
        bury_dead();
    }

    fprintf(stderr, "frame-files-server: %s: shutting down\n", stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
    close(listen_fd);
    if (classic_fd >= 0)
        close(classic_fd);
    workers_stop(); /* running jobs finish: a verified upload may still be renamed */
    handle_done();
    while (conns) {
        conn *c = conns;
        if (c->up.state != UP_NONE)
            discarded++;
        closed++;
        conn_close(c);
    }
    bury_dead();
    fprintf(stderr,
            "frame-files-server: closed %u connection(s), discarded %u unfinished upload(s); "
            "%llu uploads, %llu downloads, %llu errors served\n",
            closed, discarded, (unsigned long long)stat_uploads, (unsigned long long)stat_downloads,
            (unsigned long long)stat_errors);
    close(ep);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    close(done_pipe[0]);
    close(done_pipe[1]);
    if (spare_fd >= 0)
        close(spare_fd);
    if (inbox_fd >= 0)
        close(inbox_fd);
    close(files_fd);
    close(lock_fd);
    close(root_fd);
    free(users);
    free(rbuf);
    ff_wipe(sessions, opt.max_sessions * sizeof *sessions);
    free(sessions);
    app_guard_free(guard);
    return 0;
}
