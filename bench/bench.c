/*
 * libframe benchmark driver: decodes and encodes the workloads of workload.c
 * with libframe and its peers (peers.c, peer_jsonc.c, peer_simdjson.cpp) and
 * prints one JSON line per row.
 * bench/run.py runs it (wall clock, then under callgrind) and makes the table.
 *
 *   bench [--reps N] [--frames WORKLOAD=N]... [--only SUBSTRING]
 *   bench --dump-stream WORKLOAD N     the stream's bytes on stdout
 *   bench --dump-records WORKLOAD N    encoder records as JSON lines
 *
 * Every measured loop runs inside bench_measured(), so that
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect='bench_measured*' --dump-after='bench_measured*'
 * counts exactly the decoding (or encoding) work, one dump per row, in the
 * order the rows are printed ("seq").
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"
#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

#define CHUNK 4096
#define MAX_REPS 50

static const char *const workloads[] = {"small", "medium", "large", "hostile-max",
                                        "hostile-members", "hostile-deep"};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])
/* Frames per workload (wall clock defaults; run.py lowers them for callgrind). */
static uint64_t frames_of[NWORKLOADS] = {1000000, 50000, 256, 300, 3000, 300};

/* The peers behind the shared framing loop, and libframe. */
static const struct {
    const char *name;
    bench_parse_fn parse; /* NULL: libframe's own decoder */
} decoders[] = {
    {"floor", bench_parse_floor},
    {"simdjson-utf8", bench_parse_simdjson_utf8},
    {"libframe", NULL},
    {"cjson", bench_parse_cjson},
    {"jansson", bench_parse_jansson},
    {"jsonc", bench_parse_jsonc},
    {"simdjson-dom", bench_parse_simdjson_dom},
    {"simdjson-ondemand", bench_parse_simdjson_ondemand},
};
#define NDECODERS (sizeof decoders / sizeof decoders[0])
#define MAX_ROWS (2 * NDECODERS + 1) /* both feeds, and the memcpy row */
static const char *const encoders[] = {"libframe", "cjson", "jansson"};

static unsigned char header_buf[BENCH_MAX_HEADER];

/* What a run saw; compared with what the workload holds. */
typedef struct counts {
    uint64_t frames, body, bytes;
} counts;

/* One measured thing. */
typedef struct row {
    const char *kind, *workload, *impl;
    bench_parse_fn parse; /* a peer's decode: its header validator */
    size_t chunk;         /* decode: 0 = whole buffer, else CHUNK */
    const bench_stream *stream;
    const bench_records *records;
} row;

static void die(const char *msg, const row *r) {
    fprintf(stderr, "bench: %s (%s %s %s %s)\n", msg, r->kind, r->workload, r->impl,
            r->chunk ? "4k" : "whole");
    exit(1);
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ---- libframe decoding ---- */

static int lf_on_header(frame_decoder *d, const frame_header *h) {
    counts *c = d->data;
    (void)h;
    c->frames++;
    return FRAME_CONTINUE;
}

static int lf_on_body(frame_decoder *d, const void *at, size_t len) {
    counts *c = d->data;
    (void)at;
    c->body += len;
    return FRAME_CONTINUE;
}

static const frame_callbacks lf_callbacks = {lf_on_header, lf_on_body, NULL};

static void decode_libframe(const row *r, counts *c) {
    const bench_stream *s = r->stream;
    frame_decoder d;
    unsigned k;
    if (frame_decoder_init(&d, NULL, &lf_callbacks, header_buf, sizeof header_buf, c) != FRAME_OK)
        die("frame_decoder_init failed", r);
    for (k = 0; k < s->repeat; k++) {
        size_t off = 0, n;
        if (!r->chunk) {
            if (frame_feed(&d, s->buf, s->len) != s->len) die(frame_errname(frame_decoder_errno(&d)), r);
            continue;
        }
        for (; off < s->len; off += n) {
            n = s->len - off < r->chunk ? s->len - off : r->chunk;
            if (frame_feed(&d, s->buf + off, n) != n) die(frame_errname(frame_decoder_errno(&d)), r);
        }
    }
    if (frame_finish(&d, NULL) != FRAME_OK) die("stream did not end at a frame boundary", r);
}

/* ---- the peers, behind the shared framing loop ---- */

static void decode_peer(const row *r, counts *c) {
    const bench_stream *s = r->stream;
    bench_framer f;
    unsigned k;
    bench_framer_init(&f, r->parse, header_buf);
    for (k = 0; k < s->repeat; k++) {
        size_t off = 0, n;
        if (!r->chunk) {
            if (bench_framer_feed(&f, s->buf, s->len) != s->len) die("header refused", r);
            continue;
        }
        for (; off < s->len; off += n) {
            n = s->len - off < r->chunk ? s->len - off : r->chunk;
            if (bench_framer_feed(&f, s->buf + off, n) != n) die("header refused", r);
        }
    }
    if (!bench_framer_done(&f)) die("stream did not end at a frame boundary", r);
    c->frames = f.frames;
    c->body = f.body;
}

/* ---- memcpy of every body: the reference for the large workload ---- */

static unsigned char *memcpy_dst;

static void copy_bodies(const row *r, counts *c) {
    const bench_stream *s = r->stream;
    unsigned k;
    for (k = 0; k < s->repeat; k++) {
        size_t off = 0;
        while (off < s->len) {
            size_t h = (size_t)s->buf[off] | (size_t)s->buf[off + 1] << 8 |
                       (size_t)s->buf[off + 2] << 16 | (size_t)s->buf[off + 3] << 24;
            off += 4 + h;
            memcpy(memcpy_dst, s->buf + off, BENCH_LARGE_BODY);
            off += BENCH_LARGE_BODY;
            c->frames++;
            c->body += BENCH_LARGE_BODY;
        }
    }
}

/* ---- encoding: frames into a wrapping 8 MiB "socket buffer" ---- */

#define SINK_CAP (8u << 20)
static unsigned char *sink_buf;
static size_t sink_pos;

static long sink_write(void *ctx, const void *data, size_t len) {
    counts *c = ctx;
    if (sink_pos + len > SINK_CAP) sink_pos = 0;
    memcpy(sink_buf + sink_pos, data, len);
    sink_pos += len;
    c->bytes += len;
    return (long)len;
}

static void encode_libframe(const row *r, counts *c) {
    frame_encoder e;
    size_t i;
    frame_encoder_init(&e, sink_write, c);
    for (i = 0; i < r->records->n; i++) {
        const bench_record *rec = &r->records->rec[i];
        unsigned char head[4096];
        frame_builder b;
        unsigned j;
        frame_builder_init(&b, NULL, head, sizeof head, rec->body_len);
        for (j = 0; j < rec->n; j++) {
            const bench_member *m = &rec->m[j];
            switch (m->type) {
            case BT_STRING: frame_builder_add_stringn(&b, m->name, m->str, m->str_len); break;
            case BT_INT: frame_builder_add_int64(&b, m->name, m->num); break;
            case BT_BOOL: frame_builder_add_bool(&b, m->name, (int)m->num); break;
            case BT_NULL: frame_builder_add_null(&b, m->name); break;
            }
        }
        if (frame_write(&e, &b, rec->body, rec->body_len) != FRAME_OK) die("frame_write failed", r);
        c->frames++;
        c->body += rec->body_len;
    }
}

static void encode_peer(const row *r, counts *c) {
    size_t (*enc)(const bench_record *, unsigned char *, size_t) =
        strcmp(r->impl, "cjson") == 0 ? bench_encode_cjson : bench_encode_jansson;
    size_t i;
    for (i = 0; i < r->records->n; i++) {
        const bench_record *rec = &r->records->rec[i];
        unsigned char head[4096];
        size_t n = enc(rec, head, sizeof head);
        if (!n) die("encoder failed", r);
        sink_write(c, head, n);
        sink_write(c, rec->body, rec->body_len);
        c->frames++;
        c->body += rec->body_len;
    }
}

/* The measured part of every row: nothing else runs inside it. */
NOINLINE void bench_measured(const row *r, counts *c);
NOINLINE void bench_measured(const row *r, counts *c) {
    if (strcmp(r->kind, "encode") == 0) {
        if (strcmp(r->impl, "libframe") == 0) encode_libframe(r, c);
        else encode_peer(r, c);
    } else if (strcmp(r->impl, "memcpy") == 0) {
        copy_bodies(r, c);
    } else if (strcmp(r->impl, "libframe") == 0) {
        decode_libframe(r, c);
    } else {
        decode_peer(r, c);
    }
}
static void (*volatile measured)(const row *, counts *) = bench_measured;

/* ---- driver ---- */

static int seq;
static const char *only;

static int wanted(const row *r) {
    char id[128];
    if (!only) return 1;
    snprintf(id, sizeof id, "%s/%s/%s/%s", r->kind, r->workload, r->impl, r->chunk ? "4k" : "whole");
    return strstr(id, only) != NULL;
}

/* Runs the rows reps times, interleaved (so that noise spreads over all of
 * them), and prints each row's best time. */
static void run_rows(row *rows, size_t nrows, unsigned reps) {
    double best[MAX_ROWS];
    counts seen[MAX_ROWS];
    size_t i;
    unsigned k;
    volatile unsigned char sum = 0;
    for (i = 0; i < nrows; i++) best[i] = -1;
    if (rows[0].stream) { /* every page of the stream in memory before the first row */
        const bench_stream *s = rows[0].stream;
        for (i = 0; i < s->len; i += 4096) sum = (unsigned char)(sum + s->buf[i]);
    }
    for (k = 0; k < reps; k++) {
        for (i = 0; i < nrows; i++) {
            counts c = {0, 0, 0};
            double t0, t;
            if (!wanted(&rows[i])) continue;
            t0 = now_ns();
            measured(&rows[i], &c);
            t = now_ns() - t0;
            if (best[i] < 0 || t < best[i]) best[i] = t;
            seen[i] = c;
        }
    }
    for (i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        uint64_t frames, bytes, header_bytes = 0;
        if (!wanted(r)) continue;
        if (r->stream) {
            frames = r->stream->frames * r->stream->repeat;
            bytes = (uint64_t)r->stream->len * r->stream->repeat;
            header_bytes = r->stream->header_bytes * r->stream->repeat;
            if (seen[i].frames != frames || seen[i].body != r->stream->body_bytes * r->stream->repeat)
                die("wrong frame or body count", r);
        } else {
            frames = r->records->n;
            bytes = seen[i].bytes;
            if (seen[i].frames != frames) die("wrong frame count", r);
        }
        printf("{\"seq\":%d,\"kind\":\"%s\",\"workload\":\"%s\",\"impl\":\"%s\",\"feed\":\"%s\","
               "\"frames\":%llu,\"bytes\":%llu,\"header_bytes\":%llu,\"reps\":%u,\"ns\":%.0f",
               seq++, r->kind, r->workload, r->impl, r->chunk ? "4k" : "whole",
               (unsigned long long)frames, (unsigned long long)bytes,
               (unsigned long long)header_bytes, reps, best[i]);
        /* simdjson's kernel: valgrind's CPU may make it choose another one. */
        if (strncmp(r->impl, "simdjson", 8) == 0) printf(",\"simd\":\"%s\"", bench_simdjson_impl());
        printf("}\n");
        fflush(stdout);
    }
}

static int workload_index(const char *name) {
    size_t i;
    for (i = 0; i < NWORKLOADS; i++)
        if (strcmp(workloads[i], name) == 0) return (int)i;
    return -1;
}

static int dump_records(const char *workload, size_t n) {
    bench_records rs;
    size_t i;
    static char buf[1 << 16];
    if (bench_make_records(workload, n, &rs)) return 1;
    for (i = 0; i < rs.n; i++) {
        const bench_record *rec = &rs.rec[i];
        unsigned j;
        printf("{\"body\":%zu,\"m\":[", rec->body_len);
        for (j = 0; j < rec->n; j++) {
            const bench_member *m = &rec->m[j];
            size_t k = bench_json_string(buf, m->name, strlen(m->name));
            printf("%s[%.*s,", j ? "," : "", (int)k, buf);
            switch (m->type) {
            case BT_STRING:
                k = bench_json_string(buf, m->str, m->str_len);
                printf("\"string\",%.*s]", (int)k, buf);
                break;
            case BT_INT: printf("\"int\",%lld]", (long long)m->num); break;
            case BT_BOOL: printf("\"bool\",%s]", m->num ? "true" : "false"); break;
            case BT_NULL: printf("\"null\",null]"); break;
            }
        }
        printf("]}\n");
    }
    return 0;
}

int main(int argc, char **argv) {
    unsigned reps = 3;
    int i;
    size_t w;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = (unsigned)atoi(argv[++i]);
            if (reps < 1 || reps > MAX_REPS) reps = 3;
        } else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
            char name[64];
            const char *eq = strchr(argv[++i], '=');
            int k;
            if (!eq || (size_t)(eq - argv[i]) >= sizeof name) goto usage;
            memcpy(name, argv[i], (size_t)(eq - argv[i]));
            name[eq - argv[i]] = '\0';
            k = workload_index(name);
            if (k < 0) goto usage;
            frames_of[k] = strtoull(eq + 1, NULL, 10);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "--dump-stream") == 0 && i + 2 < argc) {
            bench_stream s;
            unsigned k;
            if (bench_make_stream(argv[i + 1], strtoull(argv[i + 2], NULL, 10), &s)) goto usage;
            for (k = 0; k < s.repeat; k++)
                if (fwrite(s.buf, 1, s.len, stdout) != s.len) return 1;
            return fflush(stdout) != 0;
        } else if (strcmp(argv[i], "--dump-records") == 0 && i + 2 < argc) {
            if (dump_records(argv[i + 1], (size_t)strtoull(argv[i + 2], NULL, 10))) goto usage;
            return fflush(stdout) != 0;
        } else {
            goto usage;
        }
    }
    sink_buf = malloc(SINK_CAP);
    if (!sink_buf) return 2;
    /* simdjson picks its kernel on first use: here, not inside a measured row. */
    if (!bench_simdjson_impl()[0]) return 2;

    for (w = 0; w < NWORKLOADS; w++) {
        bench_stream s;
        bench_records recs;
        row rows[MAX_ROWS], erows[3];
        size_t n = 0, d, f;
        int any;
        if (!frames_of[w]) continue;
        for (f = 0; f < 2; f++)
            for (d = 0; d < NDECODERS; d++) {
                row r = {"decode", workloads[w], decoders[d].name, decoders[d].parse, f ? CHUNK : 0, &s,
                         NULL};
                rows[n++] = r;
            }
        if (strcmp(workloads[w], "large") == 0) {
            row r = {"copy", workloads[w], "memcpy", NULL, 0, &s, NULL};
            rows[n++] = r;
        }
        for (d = 0; d < 3; d++) {
            row r = {"encode", workloads[w], encoders[d], NULL, 0, NULL, &recs};
            erows[d] = r;
        }
        any = 0;
        for (d = 0; d < n; d++) any |= wanted(&rows[d]);
        if (any) {
            if (bench_make_stream(workloads[w], frames_of[w], &s)) return 2;
            if (!memcpy_dst && strcmp(workloads[w], "large") == 0) {
                memcpy_dst = malloc(BENCH_LARGE_BODY);
                if (!memcpy_dst) return 2;
                memset(memcpy_dst, 1, BENCH_LARGE_BODY);
            }
            run_rows(rows, n, reps);
            bench_free_stream(&s);
        }
        any = 0;
        for (d = 0; d < 3; d++) any |= wanted(&erows[d]);
        if (any && bench_make_records(workloads[w], (size_t)frames_of[w], &recs) == 0) {
            run_rows(erows, 3, reps);
            bench_free_records(&recs);
        }
    }
    return 0;
usage:
    fprintf(stderr,
            "usage: bench [--reps N] [--frames WORKLOAD=N]... [--only SUBSTRING]\n"
            "       bench --dump-stream WORKLOAD N | --dump-records WORKLOAD N\n"
            "workloads: small medium large hostile-max hostile-members hostile-deep\n");
    return 2;
}
