/*
 * tools/frame/reader.c: the decoder driver shared by decode, inspect, check,
 * send and listen. It keeps what the subcommands show of each frame (the
 * header text, the body or its first bytes, offsets) and hands the frame over
 * when its last octet has arrived.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"


static unsigned width_of(const frame_config *cfg) {
    return cfg->prefix_width ? cfg->prefix_width : 4;
}

static int grow(unsigned char **buf, size_t *cap, size_t need) {
    size_t c = *cap ? *cap : 256;
    unsigned char *b;
    if (need <= *cap) return 0;
    while (c < need) c *= 2;
    b = realloc(*buf, c);
    if (!b) return -1;
    *buf = b;
    *cap = c;
    return 0;
}

static int on_header(frame_decoder *d, const frame_header *h) {
    reader *r = d->data;
    uint64_t offset = frame_decoder_offset(d);
    r->index = frame_decoder_frame_index(d);
    r->hlen = r->p->cfg.raw ? 0 : offset - r->start - width_of(&r->p->cfg);
    r->header_len = 0;
    if (!r->p->cfg.raw) {
        if (grow((unsigned char **)&r->header, &r->header_cap, h->root.len + 1)) {
            fail("out of memory");
            r->io_failed = 1;
            return -1;
        }
        memcpy(r->header, h->root.json, h->root.len);
        r->header[h->root.len] = 0;
        r->header_len = h->root.len;
    }
    r->body_size = h->body_size;
    r->body_seen = r->body_len = r->peek_len = 0;
    if (r->keep_body && h->body_size < ((uint64_t)1 << 30) &&
        grow(&r->body, &r->body_cap, (size_t)h->body_size)) {
        fail("out of memory for a body of %llu octets", (unsigned long long)h->body_size);
        r->io_failed = 1;
        return -1;
    }
    if (r->bodies_dir) {
        snprintf(r->body_path, sizeof r->body_path, "%s/%llu", r->bodies_dir,
                 (unsigned long long)r->index);
        r->body_file = fopen(r->body_path, "wb");
        if (!r->body_file) {
            fail("cannot create %s: %s", r->body_path, strerror(errno));
            r->io_failed = 1;
            return -1;
        }
    }
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    reader *r = d->data;
    if (r->peek_len < sizeof r->peek) {
        size_t n = sizeof r->peek - r->peek_len;
        if (n > len) n = len;
        memcpy(r->peek + r->peek_len, at, n);
        r->peek_len += n;
    }
    if (r->keep_body) {
        if (grow(&r->body, &r->body_cap, r->body_len + len)) {
            fail("out of memory for a body of %llu octets", (unsigned long long)r->body_size);
            r->io_failed = 1;
            return -1;
        }
        memcpy(r->body + r->body_len, at, len);
        r->body_len += len;
    }
    if (r->body_file && fwrite(at, 1, len, r->body_file) != len) {
        fail("cannot write %s: %s", r->body_path, strerror(errno));
        r->io_failed = 1;
        return -1;
    }
    r->body_seen += len;
    if (r->progress && r->body_size > PROGRESS_MIN) progress_show("receiving", r->body_seen, r->body_size);
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d) {
    reader *r = d->data;
    uint64_t offset = frame_decoder_offset(d);
    int rc = 0;
    if (r->progress && r->body_size > PROGRESS_MIN) progress_clear();
    if (r->body_file) {
        FILE *f = r->body_file;
        r->body_file = NULL;
        if (fclose(f) != 0) {
            fail("cannot write %s: %s", r->body_path, strerror(errno));
            r->io_failed = 1;
            return -1;
        }
    }
    r->bytes += offset - r->start;
    if (r->done) rc = r->done(r, r->ctx);
    r->frames++;
    r->start = offset;
    if (rc < 0) {
        r->io_failed = 1;
        return -1;
    }
    return FRAME_CONTINUE;
}

int reader_init(reader *r, const params *p, done_fn done, void *ctx) {
    uint64_t cap = p->cfg.max_header ? p->cfg.max_header : FRAME_DEFAULT_MAX_HEADER;
    unsigned w = width_of(&p->cfg);
    frame_errno err;
    memset(r, 0, sizeof *r);
    r->p = p;
    r->done = done;
    r->ctx = ctx;
    r->cbs.on_header = on_header;
    r->cbs.on_body = on_body;
    r->cbs.on_frame_end = on_frame_end;
    if (w < 8 && cap > (((uint64_t)1 << (8 * w)) - 1)) cap = ((uint64_t)1 << (8 * w)) - 1;
    if (!p->cfg.raw) {
        r->hbuf = malloc((size_t)cap);
        if (!r->hbuf) {
            fail("out of memory for a header buffer of %llu octets (--max-header)", (unsigned long long)cap);
            return EXIT_IO;
        }
    }
    err = frame_decoder_init(&r->dec, &p->cfg, &r->cbs, r->hbuf, (size_t)cap, r);
    if (err) {
        fail("cannot start a decoder: %s: %s", frame_errname(err), frame_strerror(err));
        return EXIT_USAGE;
    }
    return 0;
}

static void drop_partial_body(reader *r) {
    if (r->body_file) {
        fclose(r->body_file);
        r->body_file = NULL;
        unlink(r->body_path); /* the frame did not complete */
    }
    if (r->progress) progress_clear();
}

void reader_free(reader *r) {
    drop_partial_body(r);
    free(r->hbuf);
    free(r->header);
    free(r->body);
}

void reader_reset(reader *r) {
    drop_partial_body(r);
    frame_decoder_reset(&r->dec);
    r->start = 0;
}

frame_errno reader_feed(reader *r, const void *data, size_t len) {
    frame_errno err;
    frame_feed(&r->dec, data, len);
    err = frame_decoder_errno(&r->dec);
    if (err) drop_partial_body(r);
    return err;
}

frame_errno reader_finish(reader *r) {
    frame_errno err = frame_finish(&r->dec, &r->missing);
    if (err) drop_partial_body(r);
    return err;
}

frame_errno reader_datagram(reader *r, const void *data, size_t len) {
    frame_errno err;
    r->start = 0; /* offsets count from the datagram's start */
    err = frame_feed_datagram(&r->dec, data, len);
    if (err) drop_partial_body(r);
    return err;
}

void reader_error_text(const reader *r, frame_errno err, char *buf, size_t cap) {
    char extra[128] = "";
    if (err == FRAME_E_TRUNCATED)
        snprintf(extra, sizeof extra, " (%llu more octet%s needed)", (unsigned long long)r->missing,
                 r->missing == 1 ? " was" : "s were");
    else if (err == FRAME_E_HEADER_TOO_LARGE || err == FRAME_E_BODY_TOO_LARGE)
        snprintf(extra, sizeof extra, " (declared %llu, limit %llu)",
                 (unsigned long long)frame_decoder_declared_size(&r->dec),
                 (unsigned long long)frame_decoder_limit(&r->dec));
    snprintf(buf, cap, "%s at offset %llu (frame %llu): %s%s", frame_errname(err),
             (unsigned long long)frame_decoder_offset(&r->dec),
             (unsigned long long)frame_decoder_frame_index(&r->dec), frame_strerror(err), extra);
}

void reader_report(const reader *r, frame_errno err, const char *where) {
    char text[512];
    if (err == FRAME_E_CALLBACK && r->io_failed) return; /* said already */
    reader_error_text(r, err, text, sizeof text);
    if (where) fail("%s: %s", where, text);
    else fail("%s", text);
}

/* pcap (either byte order, micro- or nanoseconds) and pcapng magic numbers */
static int is_capture(const unsigned char *d, size_t len) {
    static const unsigned char magic[][4] = {{0xD4, 0xC3, 0xB2, 0xA1}, {0xA1, 0xB2, 0xC3, 0xD4},
                                             {0x4D, 0x3C, 0xB2, 0xA1}, {0xA1, 0xB2, 0x3C, 0x4D},
                                             {0x0A, 0x0D, 0x0D, 0x0A}};
    size_t i;
    for (i = 0; len >= 24 && i < sizeof magic / sizeof magic[0]; i++)
        if (!memcmp(d, magic[i], 4)) return 1;
    return 0;
}

static int each_datagram(void *ctx, const unsigned char *d, size_t len, const char *where) {
    reader *r = ctx;
    frame_errno err = reader_datagram(r, d, len);
    if (!err) return 0;
    reader_report(r, err, where);
    return r->io_failed ? EXIT_IO : EXIT_BAD;
}

int reader_run_file(reader *r, const char *path) {
    const char *name = path && strcmp(path, "-") ? path : NULL;
    frame_errno err;
    if (r->p->datagram) {
        unsigned char *data;
        size_t len;
        int rc = read_all(path, &data, &len);
        if (rc) return rc;
        if (name && is_capture(data, len)) {
            free(data);
            return capture_datagrams(name, r->p->capture_port, each_datagram, r);
        }
        err = reader_datagram(r, data, len);
        free(data);
    } else {
        static unsigned char buf[1 << 16];
        int fd = 0;
        if (name) {
            fd = open(name, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                fail("cannot open %s: %s", name, strerror(errno));
                return EXIT_IO;
            }
        }
        for (err = FRAME_OK; !err;) {
            ssize_t got = read(fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                fail("cannot read %s: %s", name ? name : "stdin", strerror(errno));
                if (fd) close(fd);
                return EXIT_IO;
            }
            if (got == 0) {
                err = reader_finish(r);
                break;
            }
            err = reader_feed(r, buf, (size_t)got);
        }
        if (fd) close(fd);
    }
    if (err) {
        reader_report(r, err, name);
        return r->io_failed ? EXIT_IO : EXIT_BAD;
    }
    return 0;
}
