/*
 * frame-files: the client of frame-files-server.
 *
 *   frame-files [options] register
 *   frame-files [options] put LOCAL [NAME]     LOCAL "-" reads stdin (needs --size)
 *   frame-files [options] get NAME [LOCAL]     LOCAL "-" writes stdout
 *   frame-files [options] ls
 *   frame-files [options] rm NAME
 *   frame-files --classic [--classic-key KEY] put LOCAL [NAME]
 *                                               the classic tutorial upload
 *
 * Files stream in chunks of --buffer bytes; neither side ever holds a whole
 * file. Each transfer carries a checksum (CRC-32C by default, SHA-256 with
 * --checksum sha256) computed while the bytes stream and checked by the
 * receiver. A download goes to a temporary file next to LOCAL that is
 * verified, fsync'd and renamed into place, so an interrupted or corrupt
 * download never leaves a partial LOCAL. A progress bar (bytes, rate, ETA)
 * appears when stderr is a terminal; otherwise the client is silent unless
 * something fails.
 */
#define _GNU_SOURCE
#include "ff.h"
#include "addr.h"
#include "client.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static struct {
    const char *host, *port, *user, *password_file;
    ff_algo algo;
    size_t buffer;
    int sockbuf, quiet;
    uint64_t size;
    int have_size;
    int classic;
    const char *classic_key;
    const char *tls_ca;
} opt = {"127.0.0.1", NULL, NULL, NULL, FF_CRC32C, FF_DEFAULT_BUFFER, 4 << 20, 0, 0, 0, 0, "file_size", NULL};

static int progress_on; /* stderr is a terminal and not --quiet */

/* A download's temporary file, removed by the signal handler too. */
static char tmp_path[PATH_MAX];
static volatile sig_atomic_t bar_drawn;

static void fail(const char *fmt, ...) FF_PRINTF(1, 2) FF_NORETURN;

static void fail(const char *fmt, ...)
{
    va_list ap;
    if (bar_drawn)
        fputc('\n', stderr);
    if (tmp_path[0])
        unlink(tmp_path);
    va_start(ap, fmt);
    fputs("frame-files: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void on_signal(int sig)
{
    if (tmp_path[0])
        unlink(tmp_path);
    if (bar_drawn) {
        if (write(2, "\n", 1) < 0) {
        }
    }
    _exit(128 + sig);
}

/* ------------------------------------------------------------------------ */
/* Progress bar                                                             */
/* ------------------------------------------------------------------------ */

typedef struct progress {
    const char *label;
    uint64_t total, done;
    double t0, last;
} progress;

static void fmt_time(double s, char *out, size_t cap)
{
    unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

static void progress_draw(progress *p, int final)
{
    char done[24], total[24], rate[24], eta[24], line[512], bar[64];
    double now = ff_now(), el = now - p->t0, r;
    int width = 80, barw, pct, i, fill;
    struct winsize ws;
    if (!progress_on || (!final && now - p->last < 0.1))
        return;
    p->last = now;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        width = ws.ws_col < 200 ? ws.ws_col : 200;
    r = el > 0 ? (double)p->done / el : 0;
    pct = p->total ? (int)((double)p->done * 100 / (double)p->total) : 100;
    ff_human_bytes((double)p->done, done, sizeof done);
    ff_human_bytes((double)p->total, total, sizeof total);
    ff_human_bytes(r, rate, sizeof rate);
    if (final)
        fmt_time(el, eta, sizeof eta);
    else if (r > 0)
        fmt_time((double)(p->total - p->done) / r, eta, sizeof eta);
    else
        snprintf(eta, sizeof eta, "--:--");
    {
        /* label, percentage, [bar], figures: the bar gets what the line leaves */
        char right[128];
        int used = snprintf(right, sizeof right, "%s / %s  %s/s  %s %s", done, total, rate, final ? "in" : "ETA", eta);
        barw = width - 1 - 16 - 6 - 3 - used;
        if (barw > 40)
            barw = 40;
        if (barw < 5)
            barw = 0;
        fill = barw * pct / 100;
        for (i = 0; i < barw; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[barw] = 0;
        snprintf(line, sizeof line, "%-16.16s %3d%% %s%s%s%s", p->label, pct, barw ? "[" : "", bar, barw ? "] " : "",
                 right);
    }
    if ((int)strlen(line) > width - 1)
        line[width - 1] = 0;
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    fflush(stderr);
    bar_drawn = !final;
}

/* ------------------------------------------------------------------------ */
/* The connection                                                           */
/* ------------------------------------------------------------------------ */

/* What the last reply frame said. */
typedef struct reply {
    char error[64], message[600], token[2 * FF_TOKEN_BYTES + 1], sum[65], entry[FF_NAME_MAX + 1];
    size_t entry_len;
    int ok, is_entry;
    uint64_t size, bytes, count;
    int64_t mtime;
} reply;

typedef struct client {
    int fd;    /* io.fd */
    app_io io; /* plain TCP, or TLS with --tls-ca */
    frame_decoder dec;
    frame_encoder enc;
    unsigned char hdr[FF_MAX_HEADER];
    unsigned char *rbuf;
    size_t rlen, roff;
    reply r;
    /* where a reply's body goes (downloads) */
    int sink;
    ff_sum *sink_sum;
    progress *pg;
} client;

static client cl;

static void get_str(const frame_header *h, const char *name, char *buf, size_t cap)
{
    size_t len;
    buf[0] = 0;
    if (frame_header_get_string(h, name, buf, cap, &len) != FRAME_OK)
        buf[0] = 0;
}

static int on_header(frame_decoder *d, const frame_header *h)
{
    reply *r = &cl.r;
    frame_value v;
    (void)d;
    memset(r, 0, sizeof *r);
    r->size = h->body_size;
    get_str(h, "error", r->error, sizeof r->error);
    get_str(h, "message", r->message, sizeof r->message);
    get_str(h, "token", r->token, sizeof r->token);
    get_str(h, ff_algo_name(opt.algo), r->sum, sizeof r->sum);
    if (frame_header_get_bool(h, "ok", &r->ok) != FRAME_OK)
        r->ok = 0;
    if (frame_header_find(h, "entry", &v) == FRAME_OK) {
        r->is_entry = 1;
        if (frame_value_string(&v, r->entry, sizeof r->entry, &r->entry_len) != FRAME_OK)
            snprintf(r->entry, sizeof r->entry, "?");
    }
    frame_header_get_uint64(h, "bytes", &r->bytes);
    frame_header_get_uint64(h, "count", &r->count);
    frame_header_get_int64(h, "mtime", &r->mtime);
    if (h->body_size && (r->error[0] || cl.sink < 0))
        return -1; /* a body nobody asked for */
    if (cl.pg)
        cl.pg->total = h->body_size;
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len)
{
    const unsigned char *p = at;
    (void)d;
    ff_sum_update(cl.sink_sum, p, len);
    while (len) {
        ssize_t n = write(cl.sink, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("cannot write the download: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    if (cl.pg) {
        cl.pg->done += (uint64_t)(p - (const unsigned char *)at);
        progress_draw(cl.pg, 0);
    }
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d)
{
    (void)d;
    return FRAME_PAUSE; /* one reply at a time */
}

static const frame_callbacks callbacks = {on_header, on_body, on_frame_end};

static void check_write(frame_errno e)
{
    if (e != FRAME_OK)
        fail("cannot send to the server: %s",
             e == FRAME_E_WRITE ? strerror(errno) : frame_strerror(e));
}

/* Reads the next reply frame into cl.r (and its body into the sink). */
static void read_reply(void)
{
    for (;;) {
        frame_errno e;
        if (cl.roff < cl.rlen) {
            cl.roff += frame_feed(&cl.dec, cl.rbuf + cl.roff, cl.rlen - cl.roff);
            e = frame_decoder_errno(&cl.dec);
            if (e == FRAME_E_PAUSED) {
                frame_decoder_resume(&cl.dec);
                return;
            }
            if (e == FRAME_E_CALLBACK)
                fail("the server sent a body that was not asked for");
            if (e != FRAME_OK)
                fail("the server sent a malformed frame: %s (%s)", frame_errname(e), frame_strerror(e));
        }
        {
            long n = app_io_recv(&cl.io, cl.rbuf, opt.buffer);
            if (n < 0)
                fail("connection to the server lost: %s", cl.io.ssl ? "TLS error" : strerror(errno));
            if (n == 0) {
                uint64_t missing = 0;
                if (frame_finish(&cl.dec, &missing) != FRAME_OK)
                    fail("the server closed the connection in the middle of a reply (%llu bytes missing)",
                         (unsigned long long)missing);
                fail("the server closed the connection");
            }
            cl.rlen = (size_t)n;
            cl.roff = 0;
        }
    }
}

/* Fails with the server's words if the reply is an error. */
static void expect_ok(const char *what)
{
    if (cl.r.error[0])
        fail("%s: %s: %s", what, cl.r.error, cl.r.message);
    if (!cl.r.ok)
        fail("%s: unexpected reply from the server", what);
}

static frame_builder *request(frame_builder *b, unsigned char *buf, size_t cap, uint64_t body, const char *op)
{
    if (frame_builder_init(b, &ff_frame_config, buf, cap, body) != FRAME_OK)
        fail("cannot build a request");
    frame_builder_add_string(b, "op", op);
    return b;
}

static void send_small(frame_builder *b)
{
    check_write(frame_write(&cl.enc, b, NULL, 0));
}

static void connect_server(void)
{
    char err[256];
    SSL_CTX *tls = NULL;
    if (opt.tls_ca) {
        tls = app_tls_client_ctx(opt.tls_ca, err, sizeof err);
        if (!tls)
            fail("%s", err);
    }
    /* with TLS the certificate must be valid for --host (a name or an address) */
    if (app_io_connect(&cl.io, opt.host, opt.port, tls, err, sizeof err) != 0)
        fail("%s", err);
    if (tls)
        SSL_CTX_free(tls); /* the connection holds its own reference */
    cl.fd = cl.io.fd;
    if (opt.sockbuf > 0) {
        setsockopt(cl.fd, SOL_SOCKET, SO_SNDBUF, &opt.sockbuf, sizeof opt.sockbuf);
        setsockopt(cl.fd, SOL_SOCKET, SO_RCVBUF, &opt.sockbuf, sizeof opt.sockbuf);
    }
    cl.rbuf = malloc(opt.buffer);
    if (!cl.rbuf)
        fail("out of memory");
    cl.sink = -1;
    frame_decoder_init(&cl.dec, &ff_frame_config, &callbacks, cl.hdr, sizeof cl.hdr, NULL);
    /* gathering: a frame's head leaves with its body (or first chunk) in one write */
    frame_encoder_init_gather(&cl.enc, app_io_gather, &cl.io);
}

/* ------------------------------------------------------------------------ */
/* Passwords and login                                                      */
/* ------------------------------------------------------------------------ */

static size_t read_tty_line(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    FILE *tty = fopen("/dev/tty", "r+");
    size_t n;
    int ok;
    if (!tty)
        fail("no password: use --password-file FILE, FRAME_FILES_PASSWORD, or run on a terminal");
    fputs(prompt, tty);
    fflush(tty);
    ok = tcgetattr(fileno(tty), &old) == 0;
    if (ok) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    if (!fgets(buf, (int)cap, tty))
        buf[0] = 0;
    if (ok)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    n = strcspn(buf, "\r\n");
    buf[n] = 0;
    return n;
}

static size_t get_password(char *buf, size_t cap, int twice)
{
    const char *env = getenv("FRAME_FILES_PASSWORD");
    size_t n;
    if (opt.password_file) {
        FILE *f = strcmp(opt.password_file, "-") == 0 ? stdin : fopen(opt.password_file, "r");
        if (!f)
            fail("cannot read %s: %s", opt.password_file, strerror(errno));
        if (!fgets(buf, (int)cap, f))
            buf[0] = 0;
        if (f != stdin)
            fclose(f);
        n = strcspn(buf, "\r\n");
        buf[n] = 0;
        return n;
    }
    if (env) {
        n = strlen(env);
        if (n >= cap)
            fail("FRAME_FILES_PASSWORD is too long");
        memcpy(buf, env, n + 1);
        return n;
    }
    n = read_tty_line("Password: ", buf, cap);
    if (twice) {
        char again[FF_PASSWORD_MAX + 2];
        size_t m = read_tty_line("Repeat password: ", again, sizeof again);
        int same = m == n && memcmp(again, buf, n) == 0;
        ff_wipe(again, sizeof again);
        if (!same)
            fail("the passwords differ");
    }
    return n;
}

static void auth_request(const char *op, char token[2 * FF_TOKEN_BYTES + 1])
{
    unsigned char buf[4096];
    char pw[FF_PASSWORD_MAX + 2];
    frame_builder b;
    size_t n = get_password(pw, sizeof pw, strcmp(op, "register") == 0);
    if (n > FF_PASSWORD_MAX)
        fail("the password is longer than %d bytes", FF_PASSWORD_MAX);
    int attempt;
    connect_server(); /* after every local check, so a refused command costs nothing */
    for (attempt = 0;; attempt++) {
        const char *in;
        double wait;
        request(&b, buf, sizeof buf, 0, op);
        frame_builder_add_string(&b, "user", opt.user);
        frame_builder_add_stringn(&b, "password", pw, n);
        send_small(&b);
        ff_wipe(buf, sizeof buf);
        read_reply();
        /* SLOW_DOWN: another check of this user or address is running, or
           failures asked for a pause; a short one is waited out */
        if (strcmp(cl.r.error, "SLOW_DOWN") != 0 || attempt >= 20 || !(in = strstr(cl.r.message, "again in ")) ||
            sscanf(in + 9, "%lf", &wait) != 1 || wait > 5)
            break;
        {
            struct timespec ts;
            unsigned char r = 0;
            ff_random(&r, 1); /* a random extra, so that clients in step fall out of step */
            wait += wait * (double)r / 255.0;
            ts.tv_sec = (time_t)wait;
            ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9) + 50000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            nanosleep(&ts, NULL);
        }
    }
    ff_wipe(pw, sizeof pw);
    expect_ok(op);
    if (token) {
        if (strlen(cl.r.token) != 2 * FF_TOKEN_BYTES)
            fail("login: the server sent no session token");
        memcpy(token, cl.r.token, sizeof cl.r.token);
    }
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Opens the regular file `local` to upload: its descriptor; *size gets its
 * length, and *name its base name when none was given. Fails otherwise. */
static int open_upload(const char *local, const char **name, uint64_t *size)
{
    struct stat st;
    int in = open(local, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        fail("cannot open %s: %s", local, strerror(errno));
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode))
        fail("%s is not a regular file", local);
    *size = (uint64_t)st.st_size;
    if (!*name)
        *name = base_name(local);
    return in;
}

static void check_name(const char *name)
{
    const char *why = ff_name_problem(name, strlen(name));
    if (why)
        fail("cannot use \"%s\" as a file name on the server: %s", name, why);
}

static int cmd_put(const char *local, const char *name)
{
    char token[2 * FF_TOKEN_BYTES + 1], hex[65];
    unsigned char head[2048], *buf;
    frame_builder b;
    ff_sum sum;
    progress pg;
    uint64_t size, sent = 0;
    int in;
    struct pollfd pfd;

    if (strcmp(local, "-") == 0) {
        if (!name)
            fail("put -: give the NAME to store stdin under");
        if (!opt.have_size)
            fail("put -: give --size BYTES (a frame declares its length before its body)");
        in = 0;
        size = opt.size;
    } else {
        in = open_upload(local, &name, &size);
    }
    check_name(name);
    buf = malloc(opt.buffer);
    if (!buf)
        fail("out of memory");

    auth_request("login", token);
    request(&b, head, sizeof head, size, "upload");
    frame_builder_add_string(&b, "token", token);
    frame_builder_add_string(&b, "name", name);
    frame_builder_add_string(&b, "checksum", ff_algo_name(opt.algo));
    check_write(frame_write_begin(&cl.enc, &b));

    ff_sum_init(&sum, opt.algo);
    memset(&pg, 0, sizeof pg);
    pg.label = name;
    pg.total = size;
    pg.t0 = ff_now();
    pfd.fd = cl.fd;
    pfd.events = POLLIN;
    while (sent < size) {
        uint64_t left = size - sent;
        ssize_t n = read(in, buf, left < opt.buffer ? (size_t)left : opt.buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail("cannot read %s: %s", local, strerror(errno));
        if (n == 0)
            fail("%s ended after %llu of %llu bytes; the upload was abandoned and nothing was stored", local,
                 (unsigned long long)sent, (unsigned long long)size);
        ff_sum_update(&sum, buf, (size_t)n);
        check_write(frame_write_body(&cl.enc, buf, (size_t)n));
        sent += (uint64_t)n;
        pg.done = sent;
        progress_draw(&pg, 0);
        /* the server answers early when it refuses the upload */
        if (poll(&pfd, 1, 0) > 0) {
            read_reply();
            if (cl.r.error[0])
                fail("upload of %s refused: %s: %s", name, cl.r.error, cl.r.message);
            fail("upload of %s: unexpected reply from the server", name);
        }
    }
    check_write(frame_write_end(&cl.enc));
    ff_sum_final(&sum, hex);
    request(&b, head, sizeof head, 0, "commit");
    frame_builder_add_string(&b, ff_algo_name(opt.algo), hex);
    send_small(&b);
    read_reply();
    if (cl.r.error[0])
        fail("upload of %s failed: %s: %s", name, cl.r.error, cl.r.message);
    expect_ok("upload");
    progress_draw(&pg, 1);
    free(buf);
    if (in > 0)
        close(in);
    return 0;
}

static int cmd_get(const char *name, const char *local)
{
    char token[2 * FF_TOKEN_BYTES + 1], hex[65], final_path[PATH_MAX];
    unsigned char head[2048];
    frame_builder b;
    ff_sum sum;
    progress pg;
    int out = 1, to_stdout;
    struct stat st;

    check_name(name);
    if (!local)
        local = name;
    to_stdout = strcmp(local, "-") == 0;
    if (!to_stdout) {
        /* LOCAL may be a directory to put NAME in */
        if (stat(local, &st) == 0 && S_ISDIR(st.st_mode))
            snprintf(final_path, sizeof final_path, "%s/%s", local, name);
        else
            snprintf(final_path, sizeof final_path, "%s", local);
        if (stat(final_path, &st) == 0) {
            if (S_ISREG(st.st_mode)) {
                /* replace the file a symbolic link points to, not the link */
                char real[PATH_MAX];
                if (realpath(final_path, real))
                    snprintf(final_path, sizeof final_path, "%s", real);
            } else {
                /* a device or a FIFO (/dev/null, a pipe): write into it as
                   it is; never rename a file over it */
                out = open(final_path, O_WRONLY | O_CLOEXEC);
                if (out < 0)
                    fail("cannot open %s: %s", final_path, strerror(errno));
                to_stdout = 1;
            }
        }
    }
    auth_request("login", token);
    if (!to_stdout) {
        /* a temporary file beside the target, renamed once verified */
        size_t dirlen = (size_t)(base_name(final_path) - final_path);
        int i;
        for (i = 0, out = -1; i < 10 && out < 0; i++) {
            unsigned char r[6];
            char rh[13];
            if (ff_random(r, sizeof r) != 0)
                fail("no random numbers");
            ff_hex(r, sizeof r, rh);
            if ((size_t)snprintf(tmp_path, sizeof tmp_path, "%.*s.%s.part-%s", (int)dirlen, final_path,
                                 base_name(final_path), rh) >= sizeof tmp_path)
                fail("the path %s is too long", final_path);
            out = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (out < 0 && errno != EEXIST) {
                int err = errno;
                tmp_path[0] = 0;
                fail("cannot create a file beside %s: %s", final_path, strerror(err));
            }
        }
        if (out < 0) {
            tmp_path[0] = 0;
            fail("cannot create a temporary file beside %s", final_path);
        }
    }
    request(&b, head, sizeof head, 0, "download");
    frame_builder_add_string(&b, "token", token);
    frame_builder_add_string(&b, "name", name);
    frame_builder_add_string(&b, "checksum", ff_algo_name(opt.algo));
    send_small(&b);

    ff_sum_init(&sum, opt.algo);
    memset(&pg, 0, sizeof pg);
    pg.label = name;
    pg.t0 = ff_now();
    cl.sink = out;
    cl.sink_sum = &sum;
    cl.pg = &pg; /* on_header sets its total; on_body streams into `out` */
    read_reply();
    if (cl.r.error[0])
        fail("download of %s failed: %s: %s", name, cl.r.error, cl.r.message);
    if (!cl.r.ok)
        fail("download of %s: unexpected reply from the server", name);
    pg.total = cl.r.size;
    cl.sink = -1;
    cl.pg = NULL;
    read_reply(); /* the trailer with the checksum */
    if (cl.r.error[0])
        fail("download of %s failed: %s: %s", name, cl.r.error, cl.r.message);
    ff_sum_final(&sum, hex);
    if (strlen(cl.r.sum) != ff_algo_hexlen(opt.algo))
        fail("download of %s: the server sent no %s", name, ff_algo_name(opt.algo));
    if (strcmp(hex, cl.r.sum) != 0)
        fail("download of %s is corrupt: %s %s received, the server sent %s%s", name, ff_algo_name(opt.algo), hex,
             cl.r.sum, to_stdout ? " (the data already written out is bad)" : "; nothing was saved");
    if (!to_stdout) {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(out, 0666 & ~mask) != 0 || fsync(out) != 0 || close(out) != 0)
            fail("cannot save %s: %s", final_path, strerror(errno));
        if (rename(tmp_path, final_path) != 0)
            fail("cannot rename %s to %s: %s", tmp_path, final_path, strerror(errno));
        tmp_path[0] = 0;
        {
            char dir[PATH_MAX];
            size_t dirlen = (size_t)(base_name(final_path) - final_path);
            int dfd;
            snprintf(dir, sizeof dir, "%.*s", (int)(dirlen ? dirlen : 1), dirlen ? final_path : ".");
            dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
    } else if (out != 1)
        close(out);
    pg.done = pg.total;
    progress_draw(&pg, 1);
    return 0;
}

typedef struct entry {
    char *name;
    uint64_t bytes;
    int64_t mtime;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int cmd_ls(void)
{
    char token[2 * FF_TOKEN_BYTES + 1];
    unsigned char head[512];
    frame_builder b;
    entry *v = NULL;
    size_t n = 0, cap = 0, i;
    auth_request("login", token);
    request(&b, head, sizeof head, 0, "list");
    frame_builder_add_string(&b, "token", token);
    send_small(&b);
    for (;;) {
        read_reply();
        if (cl.r.error[0])
            fail("list: %s: %s", cl.r.error, cl.r.message);
        if (!cl.r.is_entry)
            break;
        if (n == cap) {
            entry *nv;
            cap = cap ? 2 * cap : 64;
            nv = realloc(v, cap * sizeof *v);
            if (!nv)
                fail("out of memory");
            v = nv;
        }
        /* show names as text even if a server sent control characters */
        for (i = 0; i < cl.r.entry_len; i++)
            if ((unsigned char)cl.r.entry[i] < 0x20 || cl.r.entry[i] == 0x7f)
                cl.r.entry[i] = '?';
        v[n].name = strdup(cl.r.entry);
        v[n].bytes = cl.r.bytes;
        v[n].mtime = cl.r.mtime;
        if (!v[n].name)
            fail("out of memory");
        n++;
    }
    expect_ok("list");
    qsort(v, n, sizeof *v, entry_cmp);
    for (i = 0; i < n; i++) {
        char when[32];
        time_t t = (time_t)v[i].mtime;
        struct tm tm;
        if (localtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        else
            snprintf(when, sizeof when, "?");
        printf("%14llu  %s  %s\n", (unsigned long long)v[i].bytes, when, v[i].name);
        free(v[i].name);
    }
    free(v);
    return 0;
}

static int cmd_rm(const char *name)
{
    char token[2 * FF_TOKEN_BYTES + 1];
    unsigned char head[1024];
    frame_builder b;
    check_name(name);
    auth_request("login", token);
    request(&b, head, sizeof head, 0, "delete");
    frame_builder_add_string(&b, "token", token);
    frame_builder_add_string(&b, "name", name);
    send_small(&b);
    read_reply();
    if (cl.r.error[0])
        fail("rm %s: %s: %s", name, cl.r.error, cl.r.message);
    expect_ok("rm");
    return 0;
}

/*
 * put --classic: the upload of the classic tutorials, for their servers and
 * for frame-files-server --classic-listen: struct.pack('i', len(head)) (a
 * 4-octet little-endian length), the JSON head {"file_name": NAME,
 * "file_size": N} and the N bytes; no login, no checksum, no reply. Success
 * means the server took every byte and then closed the connection.
 */
static int cmd_put_classic(const char *local, const char *name)
{
    frame_config cfg = FRAME_CONFIG_INIT;
    unsigned char head[2048], *buf;
    frame_builder b;
    uint64_t size, sent = 0;
    char err[256], tail[256];
    struct pollfd pfd;
    int in;
    cfg.size_name = opt.classic_key;
    cfg.max_header = FF_MAX_HEADER;
    if (frame_config_check(&cfg) != FRAME_OK)
        fail("--classic-key %s cannot be a size member name", opt.classic_key);
    in = open_upload(local, &name, &size);
    check_name(name);
    buf = malloc(opt.buffer);
    if (!buf)
        fail("out of memory");
    if (app_io_connect(&cl.io, opt.host, opt.port, NULL, err, sizeof err) != 0)
        fail("%s", err);
    cl.fd = cl.io.fd;
    frame_encoder_init_gather(&cl.enc, app_io_gather, &cl.io);
    if (frame_builder_init(&b, &cfg, head, sizeof head, size) != FRAME_OK ||
        frame_builder_add_string(&b, "file_name", name) != FRAME_OK)
        fail("cannot build the classic head");
    check_write(frame_write_begin(&cl.enc, &b));
    while (sent < size) {
        uint64_t left = size - sent;
        ssize_t n = read(in, buf, left < opt.buffer ? (size_t)left : opt.buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail("cannot read %s: %s", local, n < 0 ? strerror(errno) : "it became shorter");
        check_write(frame_write_body(&cl.enc, buf, (size_t)n));
        sent += (uint64_t)n;
    }
    check_write(frame_write_end(&cl.enc));
    /* a classic server answers nothing: the upload is done when it closes */
    shutdown(cl.fd, SHUT_WR);
    pfd.fd = cl.fd;
    pfd.events = POLLIN;
    for (;;) {
        ssize_t n;
        if (poll(&pfd, 1, 60000) <= 0)
            fail("classic upload of %s: the server did not close the connection within 60 s", name);
        n = recv(cl.fd, tail, sizeof tail, 0);
        if (n == 0)
            break;
        if (n < 0 && errno != EINTR)
            fail("classic upload of %s: %s", name, strerror(errno));
    }
    app_io_close(&cl.io);
    cl.fd = -1;
    close(in);
    free(buf);
    if (!opt.quiet)
        fprintf(stderr, "frame-files: sent %s (%llu bytes) the classic way; classic servers confirm nothing\n",
                name, (unsigned long long)size);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: frame-files [options] COMMAND\n"
            "commands:\n"
            "  register               create the user (asks for a password)\n"
            "  put LOCAL [NAME]       upload LOCAL as NAME (\"-\" = stdin, with --size)\n"
            "  get NAME [LOCAL]       download NAME to LOCAL or into a directory (\"-\" = stdout)\n"
            "  ls                     list your files\n"
            "  rm NAME                delete NAME\n"
            "options:\n"
            "  -H, --host HOST        server address (default 127.0.0.1)\n"
            "  -p, --port PORT        server port (default %d)\n"
            "  -u, --user NAME        user name (default $FRAME_FILES_USER, then $USER)\n"
            "  --password-file FILE   read the password from the first line of FILE (\"-\" = stdin);\n"
            "                         else $FRAME_FILES_PASSWORD, else the terminal\n"
            "  --checksum ALGO        crc32c (default) or sha256\n"
            "  --size BYTES           length of stdin for put -\n"
            "  --buffer BYTES         chunk size (default 1048576)\n"
            "  --sockbuf BYTES        SO_SNDBUF/SO_RCVBUF, 0 = kernel autotuning (default 4194304)\n"
            "  -q, --quiet            no progress bar\n"
            "  --classic              put only: upload the way the classic tutorials do (4-byte\n"
            "                         length, JSON {\"file_name\", \"file_size\"}, the file; no login,\n"
            "                         no checksum) to a tutorial server or to\n"
            "                         frame-files-server --classic-listen\n"
            "  --classic-key NAME     the head's size member for --classic (default file_size)\n"
            "  --tls-ca FILE          connect with TLS, trusting the PEM CA certificate(s) in FILE;\n"
            "                         the server's certificate must be valid for --host\n",
            FF_DEFAULT_PORT);
}

int main(int argc, char **argv)
{
    static char portbuf[16];
    const char *cmd;
    char **args;
    int nargs, i, rc;
    struct sigaction sa;

    /* options may come before or after the command (GNU style); "--" ends them */
    args = calloc((size_t)argc, sizeof *args);
    if (!args)
        fail("out of memory");
    for (i = 1, nargs = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                args[nargs++] = argv[i];
            break;
        }
        if (a[0] != '-' || !a[1]) {
            args[nargs++] = argv[i];
            continue;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            opt.quiet = 1;
            continue;
        }
        if (strcmp(a, "--classic") == 0) {
            opt.classic = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0)
            opt.host = v;
        else if (strcmp(a, "-p") == 0 || strcmp(a, "--port") == 0)
            opt.port = v;
        else if (strcmp(a, "-u") == 0 || strcmp(a, "--user") == 0)
            opt.user = v;
        else if (strcmp(a, "--password-file") == 0)
            opt.password_file = v;
        else if (strcmp(a, "--classic-key") == 0)
            opt.classic_key = v;
        else if (strcmp(a, "--tls-ca") == 0)
            opt.tls_ca = v;
        else if (strcmp(a, "--checksum") == 0) {
            opt.algo = ff_algo_parse(v);
            if (!opt.algo)
                fail("--checksum is crc32c or sha256");
        } else if (strcmp(a, "--size") == 0 || strcmp(a, "--buffer") == 0 || strcmp(a, "--sockbuf") == 0) {
            char *end;
            unsigned long long n;
            errno = 0;
            n = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-')
                fail("%s wants a number of bytes", a);
            if (strcmp(a, "--size") == 0) {
                opt.size = n;
                opt.have_size = 1;
            } else if (strcmp(a, "--buffer") == 0) {
                if (n < 4096 || n > (64u << 20))
                    fail("--buffer is 4096 to 67108864 bytes");
                opt.buffer = (size_t)n;
            } else {
                if (n > (1u << 30))
                    fail("--sockbuf is at most 1073741824");
                opt.sockbuf = (int)n;
            }
        } else {
            fprintf(stderr, "frame-files: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (nargs < 1) {
        usage(stderr);
        return 2;
    }
    cmd = args[0];
    args++;
    nargs--;
    if (!opt.port) {
        snprintf(portbuf, sizeof portbuf, "%d", FF_DEFAULT_PORT);
        opt.port = portbuf;
    }
    if (opt.classic) {
        if (strcmp(cmd, "put") != 0 || nargs < 1 || nargs > 2)
            fail("--classic goes with put LOCAL [NAME] only");
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        rc = cmd_put_classic(args[0], nargs == 2 ? args[1] : NULL);
        free(args - 1);
        return rc;
    }
    if (!opt.user)
        opt.user = getenv("FRAME_FILES_USER");
    if (!opt.user)
        opt.user = getenv("USER");
    if (!opt.user || ff_user_problem(opt.user, strlen(opt.user)))
        fail("give a user name with --user (letters, digits, '_' and '-', at most 32)");
    progress_on = !opt.quiet && isatty(2);
    crc32c_init();

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (strcmp(cmd, "register") == 0 && nargs == 0) {
        auth_request("register", NULL);
        if (progress_on)
            fprintf(stderr, "registered %s\n", opt.user);
        rc = 0;
    } else if (strcmp(cmd, "put") == 0 && (nargs == 1 || nargs == 2)) {
        rc = cmd_put(args[0], nargs == 2 ? args[1] : NULL);
    } else if (strcmp(cmd, "get") == 0 && (nargs == 1 || nargs == 2)) {
        rc = cmd_get(args[0], nargs == 2 ? args[1] : NULL);
    } else if (strcmp(cmd, "ls") == 0 && nargs == 0) {
        rc = cmd_ls();
    } else if (strcmp(cmd, "rm") == 0 && nargs == 1) {
        rc = cmd_rm(args[0]);
    } else {
        usage(stderr);
        return 2;
    }
    if (cl.rbuf) {
        app_io_close(&cl.io);
        free(cl.rbuf);
    }
    free(args - 1);
    return rc;
}
