/*
 * The benchmark's workloads, generated in memory from BENCH_SEED, so nothing
 * large is stored and every run sees the same bytes.
 *
 *   small            3-member headers of ~50 bytes, canonical; bodies 0..64 bytes
 *   medium           20-member headers of ~500 bytes, escapes (\n \" \u00e9,
 *                    surrogate pairs...) and raw non-ASCII; 1 KiB bodies
 *   large            small headers, 4 MiB bodies
 *   hostile-max      the largest header SPEC.md allows: 512 members (the size
 *                    member included) filling exactly 65536 bytes
 *   hostile-members  512 tiny members ("a":1,...), names in random order
 *   hostile-deep     a 64 KiB header nested to depth 32 (FRAME_MAX_DEPTH) over
 *                    and over: an object/array chain and ~1000 30-deep arrays
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t bench_next(bench_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

unsigned bench_range(bench_rng *r, unsigned lo, unsigned hi) {
    return lo + (unsigned)(bench_next(r) % ((uint64_t)hi - lo + 1));
}

/* ---- a growing byte buffer ---- */

typedef struct gbuf {
    unsigned char *p;
    size_t len, cap;
} gbuf;

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
        exit(2);
    }
    return p;
}

static void gb_reserve(gbuf *b, size_t more) {
    if (b->len + more <= b->cap) return;
    while (b->len + more > b->cap) b->cap = b->cap ? b->cap * 2 : 1 << 16;
    b->p = realloc(b->p, b->cap);
    if (!b->p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", b->cap);
        exit(2);
    }
}

static void gb_put(gbuf *b, const void *s, size_t n) {
    gb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void gb_str(gbuf *b, const char *s) { gb_put(b, s, strlen(s)); }

static void gb_u64(gbuf *b, uint64_t v) {
    char d[24];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
    gb_put(b, d, (size_t)n);
}

static void gb_i64(gbuf *b, int64_t v) {
    char d[24];
    int n = snprintf(d, sizeof d, "%lld", (long long)v);
    gb_put(b, d, (size_t)n);
}

/* ---- random content ---- */

/* 64 KiB of random bytes that bodies are cut from. */
static unsigned char pool[1 << 16];
static int pool_ready;

static void fill_random(unsigned char *p, size_t n, bench_rng *r) {
    size_t i;
    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t v = bench_next(r);
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++) p[i] = (unsigned char)bench_next(r);
}

static const unsigned char *pool_bytes(bench_rng *r, size_t n) {
    if (!pool_ready) {
        bench_rng pr = {BENCH_SEED ^ 0x706f6f6cu};
        fill_random(pool, sizeof pool, &pr);
        pool_ready = 1;
    }
    return pool + bench_range(r, 0, (unsigned)(sizeof pool - n));
}

static void random_word(char *out, unsigned n, bench_rng *r) {
    unsigned i;
    for (i = 0; i < n; i++) out[i] = (char)('a' + bench_range(r, 0, 25));
    out[n] = '\0';
}

/* Characters of medium string values: mostly letters, some non-ASCII, some
 * that JSON must escape. */
static const char *const medium_special[] = {
    "\xc3\xa9",         /* é */
    "\xc3\xbc",         /* ü */
    "\xc3\x9f",         /* ß */
    "\xc3\xb1",         /* ñ */
    "\xe6\x97\xa5",     /* 日 */
    "\xe6\x9c\xac",     /* 本 */
    "\xe8\xaa\x9e",     /* 語 */
    "\xe2\x82\xac",     /* € */
    "\xe2\x80\xa8",     /* U+2028 */
    "\xf0\x9f\x98\x80", /* 😀 */
    "\xf0\x9f\x9a\x80", /* 🚀 */
    "\n", "\t", "\"", "\\", "/", "\x01", "\x1f",
};

static const char *const medium_names[] = {
    "file_name", "content_type", "encoding", "gr\xc3\xb6\xc3\x9f\x65", "\xe5\x90\x8d\xe5\x89\x8d",
    "cr\xc3\xa9\xc3\xa9_le", "owner", "group", "mode", "mtime", "atime", "checksum", "algorithm",
    "tags", "note", "path", "user_agent", "na\xc3\xafve", "emoji_\xf0\x9f\x98\x80", "tab\tname",
    "quote\"d", "slash/name", "sequence", "retries", "compressed", "deleted", "parent", "origin",
    "reply_to", "trace_id", "priority", "expires",
};
#define MEDIUM_NAMES (sizeof medium_names / sizeof medium_names[0])
#define MEDIUM_MEMBERS 19 /* plus the size member: 20 */

/* ---- JSON strings ---- */

static const char hexd[] = "0123456789abcdef";

size_t bench_json_string(char *out, const char *s, size_t len) {
    size_t i, o = 0;
    out[o++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            out[o++] = '\\';
            switch (c) {
            case '\b': out[o++] = 'b'; break;
            case '\f': out[o++] = 'f'; break;
            case '\n': out[o++] = 'n'; break;
            case '\r': out[o++] = 'r'; break;
            case '\t': out[o++] = 't'; break;
            default:
                out[o++] = 'u';
                out[o++] = '0';
                out[o++] = '0';
                out[o++] = hexd[c >> 4];
                out[o++] = hexd[c & 15];
            }
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    return o;
}

static void put_u4(gbuf *b, unsigned v, int upper) {
    static const char hexu[] = "0123456789ABCDEF";
    const char *h = upper ? hexu : hexd;
    char e[6] = {'\\', 'u', h[(v >> 12) & 15], h[(v >> 8) & 15], h[(v >> 4) & 15], h[v & 15]};
    gb_put(b, e, 6);
}

/* The JSON string for s, spelled the many ways a sender may: \uXXXX for
 * non-ASCII (surrogate pairs above U+FFFF), \/ for '/', \u000a for '\n'... */
static void put_varied_string(gbuf *b, const char *str, size_t len, bench_rng *r) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    gb_put(b, "\"", 1);
    while (i < len) {
        unsigned c = s[i], n = 1, cp;
        if (c >= 0x80) {
            n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (bench_range(r, 0, 9) >= 4) {
                gb_put(b, s + i, n);
            } else {
                int upper = (int)bench_range(r, 0, 1);
                cp = n == 2 ? (c & 0x1fu) << 6 | (s[i + 1] & 0x3fu)
                   : n == 3 ? (c & 0x0fu) << 12 | (s[i + 1] & 0x3fu) << 6 | (s[i + 2] & 0x3fu)
                            : (c & 0x07u) << 18 | (s[i + 1] & 0x3fu) << 12 | (s[i + 2] & 0x3fu) << 6 |
                                  (s[i + 3] & 0x3fu);
                if (cp >= 0x10000) {
                    put_u4(b, 0xd800 + ((cp - 0x10000) >> 10), upper);
                    put_u4(b, 0xdc00 + ((cp - 0x10000) & 0x3ff), upper);
                } else {
                    put_u4(b, cp, upper);
                }
            }
        } else if (c == '/' && bench_range(r, 0, 9) < 3) {
            gb_put(b, "\\/", 2);
        } else if (c < 0x20 && bench_range(r, 0, 1)) {
            put_u4(b, c, (int)bench_range(r, 0, 1));
        } else {
            char e[8];
            size_t k = bench_json_string(e, (const char *)s + i, 1);
            gb_put(b, e + 1, k - 2);
        }
        i += n;
    }
    gb_put(b, "\"", 1);
}

static void put_canonical_string(gbuf *b, const char *s, size_t len) {
    gb_reserve(b, 6 * len + 2);
    b->len += bench_json_string((char *)b->p + b->len, s, len);
}

/* ---- records ---- */

/* Strings of the records live in one arena per record set, reserved up front
 * so that it never moves. */
static const char *arena_copy(gbuf *arena, const char *s, size_t n) {
    const char *at = (const char *)arena->p + arena->len;
    if (arena->len + n + 1 > arena->cap) {
        fprintf(stderr, "bench: record arena too small\n");
        exit(2);
    }
    memcpy(arena->p + arena->len, s, n);
    arena->p[arena->len + n] = 0;
    arena->len += n + 1;
    return at;
}

static void arena_init(gbuf *arena, size_t cap) {
    arena->p = xmalloc(cap);
    arena->len = 0;
    arena->cap = cap;
}

/* Small: {"size":N,"name":"<8..16 letters>.bin","seq":K}. */
static void small_record(bench_rng *r, bench_member *m, gbuf *arena) {
    char word[24];
    unsigned n = bench_range(r, 8, 16);
    random_word(word, n, r);
    memcpy(word + n, ".bin", 5);
    m[0].name = "name";
    m[0].type = BT_STRING;
    m[0].str = arena_copy(arena, word, n + 4);
    m[0].str_len = n + 4;
    m[1].name = "seq";
    m[1].type = BT_INT;
    m[1].str = NULL;
    m[1].num = (int64_t)(bench_next(r) % 10000000u);
}

static void medium_record(bench_rng *r, bench_member *m, gbuf *arena) {
    unsigned order[MEDIUM_NAMES], i, j;
    for (i = 0; i < MEDIUM_NAMES; i++) order[i] = i;
    for (i = 0; i < MEDIUM_MEMBERS; i++) { /* partial Fisher-Yates: 19 distinct names */
        unsigned k = bench_range(r, i, (unsigned)MEDIUM_NAMES - 1), t = order[i];
        order[i] = order[k];
        order[k] = t;
    }
    for (i = 0; i < MEDIUM_MEMBERS; i++) {
        unsigned kind = bench_range(r, 0, 19);
        m[i].name = medium_names[order[i]];
        m[i].str = NULL;
        m[i].str_len = 0;
        m[i].num = 0;
        if (kind < 11) {
            char s[256];
            size_t len = 0;
            unsigned chars = bench_range(r, 5, 17);
            for (j = 0; j < chars; j++) {
                unsigned c = bench_range(r, 0, 99);
                if (c < 80) {
                    s[len++] = c < 8 ? ' ' : (char)('a' + c % 26);
                } else {
                    const char *sp = medium_special[bench_range(
                        r, 0, (unsigned)(sizeof medium_special / sizeof medium_special[0]) - 1)];
                    size_t k = strlen(sp);
                    memcpy(s + len, sp, k);
                    len += k;
                }
            }
            m[i].type = BT_STRING;
            m[i].str = arena_copy(arena, s, len);
            m[i].str_len = len;
        } else if (kind < 16) {
            m[i].type = BT_INT;
            m[i].num = (int64_t)(bench_next(r) % 10000000000ull) * (bench_range(r, 0, 3) ? 1 : -1);
        } else if (kind < 18) {
            m[i].type = BT_BOOL;
            m[i].num = bench_range(r, 0, 1);
        } else {
            m[i].type = BT_NULL;
        }
    }
}

int bench_make_records(const char *workload, size_t n, bench_records *out) {
    int medium = strcmp(workload, "medium") == 0;
    unsigned per = medium ? MEDIUM_MEMBERS : 2;
    bench_member *m;
    gbuf arena;
    bench_rng r = {BENCH_SEED ^ (medium ? 2u : 1u)};
    size_t i;
    if (!medium && strcmp(workload, "small") != 0) return -1;
    arena_init(&arena, n * per * 96); /* strings: at most 22 characters of 4 bytes */
    m = xmalloc(n * per * sizeof *m);
    out->rec = xmalloc(n * sizeof *out->rec);
    out->n = n;
    for (i = 0; i < n; i++) {
        bench_record *rec = &out->rec[i];
        rec->m = m + i * per;
        rec->n = per;
        if (medium) {
            medium_record(&r, m + i * per, &arena);
            rec->body_len = 1024;
        } else {
            small_record(&r, m + i * per, &arena);
            rec->body_len = bench_range(&r, 0, 64);
        }
        rec->body = pool_bytes(&r, rec->body_len);
    }
    out->mem[0] = m;
    out->mem[1] = arena.p;
    return 0;
}

void bench_free_records(bench_records *r) {
    free(r->rec);
    free(r->mem[0]);
    free(r->mem[1]);
    memset(r, 0, sizeof *r);
}

/* ---- streams ---- */

/* Writes a record's header (size first); canonical, or varied escaping. */
static void put_header(gbuf *b, const bench_record *rec, int varied, bench_rng *r) {
    unsigned i;
    gb_str(b, "{\"size\":");
    gb_u64(b, rec->body_len);
    for (i = 0; i < rec->n; i++) {
        const bench_member *m = &rec->m[i];
        gb_put(b, ",", 1);
        if (varied) put_varied_string(b, m->name, strlen(m->name), r);
        else put_canonical_string(b, m->name, strlen(m->name));
        gb_put(b, ":", 1);
        switch (m->type) {
        case BT_STRING:
            if (varied) put_varied_string(b, m->str, m->str_len, r);
            else put_canonical_string(b, m->str, m->str_len);
            break;
        case BT_INT: gb_i64(b, m->num); break;
        case BT_BOOL: gb_str(b, m->num ? "true" : "false"); break;
        case BT_NULL: gb_str(b, "null"); break;
        }
    }
    gb_put(b, "}", 1);
}

/* Starts a frame: reserves the prefix; returns where the header starts. */
static size_t frame_open(gbuf *b) {
    gb_reserve(b, 4);
    b->len += 4;
    return b->len;
}

/* Fills in the prefix and appends the body. */
static void frame_close(gbuf *b, size_t hstart, const unsigned char *body, size_t body_len,
                        bench_stream *s) {
    uint32_t h = (uint32_t)(b->len - hstart);
    b->p[hstart - 4] = (unsigned char)h;
    b->p[hstart - 3] = (unsigned char)(h >> 8);
    b->p[hstart - 2] = (unsigned char)(h >> 16);
    b->p[hstart - 1] = (unsigned char)(h >> 24);
    if (h > BENCH_MAX_HEADER) {
        fprintf(stderr, "bench: generated a %u-byte header\n", (unsigned)h);
        exit(2);
    }
    s->header_bytes += h;
    s->body_bytes += body_len;
    s->frames++;
    gb_put(b, body, body_len);
}

/* 512 members (the size member included) filling exactly 65536 bytes. */
static void hostile_max(gbuf *b, bench_rng *r, unsigned body_len) {
    static const char prefix[] = "member_name_with_a_common_prefix_";
    size_t start = b->len, fixed, left, per, extra;
    unsigned i;
    char num[24];
    gb_str(b, "{\"size\":");
    gb_u64(b, body_len);
    /* each member: ,"<prefix><3 digits>":"<value>" */
    fixed = (b->len - start) + 1 + 511 * (2 + (sizeof prefix - 1) + 3 + 3 + 1);
    left = BENCH_MAX_HEADER - fixed;
    per = left / 511;
    extra = left % 511;
    for (i = 0; i < 511; i++) {
        size_t want = per + (i < extra), got = 0;
        snprintf(num, sizeof num, "%03u", i);
        gb_str(b, ",\"");
        gb_str(b, prefix);
        gb_str(b, num);
        gb_str(b, "\":\"");
        while (got < want) {
            /* one value character in ten is a 2-byte UTF-8 letter (é) */
            if (want - got >= 2 && bench_range(r, 0, 9) == 0) {
                gb_put(b, "\xc3\xa9", 2);
                got += 2;
            } else {
                char c = (char)('a' + bench_range(r, 0, 25));
                gb_put(b, &c, 1);
                got++;
            }
        }
        gb_put(b, "\"", 1);
    }
    gb_put(b, "}", 1);
}

/* 511 tiny members after the size member, names of 1-2 letters, shuffled. */
static void hostile_members(gbuf *b, bench_rng *r, unsigned body_len) {
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    unsigned idx[511], i;
    for (i = 0; i < 511; i++) idx[i] = i;
    for (i = 510; i > 0; i--) {
        unsigned k = bench_range(r, 0, i), t = idx[i];
        idx[i] = idx[k];
        idx[k] = t;
    }
    gb_str(b, "{\"size\":");
    gb_u64(b, body_len);
    for (i = 0; i < 511; i++) {
        char m[16];
        unsigned k = idx[i], n = 0;
        m[n++] = ',';
        m[n++] = '"';
        if (k < 52) {
            m[n++] = letters[k];
        } else {
            m[n++] = letters[(k - 52) / 52];
            m[n++] = letters[(k - 52) % 52];
        }
        m[n++] = '"';
        m[n++] = ':';
        m[n++] = (char)('0' + bench_range(r, 0, 9));
        gb_put(b, m, n);
    }
    gb_put(b, "}", 1);
}

/* Depth 32 (FRAME_MAX_DEPTH) reached ~1000 times in a 64 KiB header. */
static void hostile_deep(gbuf *b, bench_rng *r, unsigned body_len) {
    size_t start = b->len;
    unsigned level, i;
    gb_str(b, "{\"size\":");
    gb_u64(b, body_len);
    /* "o": {"k":[{"k":[ ... down to level 32 (objects at even levels) */
    gb_str(b, ",\"o\":");
    for (level = 2; level <= 32; level++) gb_str(b, level % 2 ? "[" : level < 32 ? "{\"k\":" : "{\"k\":0");
    for (level = 32; level >= 2; level--) gb_str(b, level % 2 ? "]" : "}");
    /* "d": [ e, e, ... ] with e = 30 '[' (levels 3..32), a digit, 30 ']' */
    gb_str(b, ",\"d\":[");
    for (i = 0;; i++) {
        char e[64];
        memset(e, '[', 30);
        e[30] = (char)('0' + bench_range(r, 0, 9));
        memset(e + 31, ']', 30);
        if ((b->len - start) + (i ? 1 : 0) + 61 + 2 > BENCH_MAX_HEADER) break;
        if (i) gb_put(b, ",", 1);
        gb_put(b, e, 61);
    }
    gb_str(b, "]}");
}

int bench_make_stream(const char *workload, uint64_t frames, bench_stream *s) {
    gbuf b = {0, 0, 0};
    bench_rng r = {BENCH_SEED};
    uint64_t i, distinct = frames;
    memset(s, 0, sizeof *s);
    s->repeat = 1;
    if (strcmp(workload, "small") == 0 || strcmp(workload, "medium") == 0) {
        bench_records rec;
        bench_make_records(workload, (size_t)frames, &rec);
        r.s ^= 7;
        for (i = 0; i < frames; i++) {
            size_t h = frame_open(&b);
            put_header(&b, &rec.rec[i], workload[0] == 'm', &r);
            frame_close(&b, h, rec.rec[i].body, rec.rec[i].body_len, s);
        }
        bench_free_records(&rec);
    } else if (strcmp(workload, "large") == 0) {
        unsigned char *body = xmalloc(BENCH_LARGE_BODY);
        if (distinct > BENCH_LARGE_DISTINCT) distinct = BENCH_LARGE_DISTINCT;
        if (distinct == 0) distinct = 1;
        s->repeat = (unsigned)((frames + distinct - 1) / distinct);
        for (i = 0; i < distinct; i++) {
            bench_member m[2];
            bench_record rec;
            gbuf arena;
            size_t h;
            arena_init(&arena, 64);
            small_record(&r, m, &arena);
            rec.m = m;
            rec.n = 2;
            rec.body_len = BENCH_LARGE_BODY;
            fill_random(body, BENCH_LARGE_BODY, &r);
            rec.body = body;
            h = frame_open(&b);
            put_header(&b, &rec, 0, &r);
            frame_close(&b, h, body, BENCH_LARGE_BODY, s);
            free(arena.p);
        }
        free(body);
    } else if (strncmp(workload, "hostile-", 8) == 0) {
        void (*gen)(gbuf *, bench_rng *, unsigned) =
            strcmp(workload + 8, "max") == 0       ? hostile_max
            : strcmp(workload + 8, "members") == 0 ? hostile_members
            : strcmp(workload + 8, "deep") == 0    ? hostile_deep
                                                   : NULL;
        if (!gen) return -1;
        for (i = 0; i < frames; i++) {
            unsigned body_len = bench_range(&r, 0, 64);
            size_t h = frame_open(&b);
            gen(&b, &r, body_len);
            frame_close(&b, h, pool_bytes(&r, body_len), body_len, s);
        }
    } else {
        return -1;
    }
    s->buf = b.p;
    s->len = b.len;
    return 0;
}

void bench_free_stream(bench_stream *s) {
    free(s->buf);
    memset(s, 0, sizeof *s);
}
