/*
 * fuzz_roundtrip: structured input -> header builder -> frame_write() ->
 * frame_feed() gives back the same members, in order, and the same body.
 *  - every builder verdict is justified: an error only when a rule applies
 *    (checked with the reference in fuzz/ref_json.c), OK otherwise;
 *  - the head is byte for byte the canonical encoding of SPEC.md;
 *  - frame_write() through a transport that takes random short amounts
 *    (WOULD_BLOCK, then frame_encoder_resume()) sends exactly head + body;
 *  - the streaming writer (begin, body in chunks, end) sends the same bytes,
 *    refuses a chunk past the declared size whole, and end() before the body
 *    is complete says SIZE_MISMATCH;
 *  - a transport that fails after N bytes gives FRAME_E_WRITE, its result
 *    kept, and what went out before is a prefix of the frame.
 *
 * Input after the parameter block: records, each
 *   [type] [name length] [name bytes] [value]        type % 8:
 *   0 string (add_stringn)  [len] [bytes]      1 int64  [8 bytes LE]
 *   2 uint64  [8 bytes LE]  3 bool [1 byte]    4 null
 *   5 raw JSON [len lo] [len hi] [bytes]       6 body bytes: [len] [bytes] (no name)
 *   7 string (add_string, up to its first NUL) [len] [bytes]
 * A name ends at its first NUL (it is passed as a C string).
 * Controls: ctl[0] builder buffer: 0 = ample, else ctl[0] * 4 bytes;
 *           ctl[1] the failing transport fails after ctl[1] * 3 bytes;
 *           ctl[2] short writes: 0 = none, else at most ctl[2] bytes a call;
 *           ctl[3] random seed (short writes, stream chunks).
 */
#include "fuzz_common.h"
#include "ref_json.h"

#define MAX_MEMBERS 600
#define HEAD_CAP (FZ_HEADER_CAP + 64)

typedef struct member {
    int type;
    const uint8_t *name; /* not NUL-terminated: see cname */
    size_t nlen;
    char cname[256];
    const uint8_t *val;
    size_t vlen;
    uint64_t u;
    int b;
} member;

static member mem[MAX_MEMBERS];
static uint8_t body[1 << 17];
static uint8_t headbuf[HEAD_CAP];
static uint8_t want[HEAD_CAP * 6 + 64];
static uint8_t canon[6 * 65536 + 64];
static unsigned char hdrbuf[FZ_HEADER_CAP];

static size_t fz_strnlen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) n++;
    return n;
}

/* ---- the transport ---------------------------------------------------- */

typedef struct sink {
    uint8_t *buf;
    size_t len, cap;
    size_t fail_after; /* 0 = never */
    unsigned short_max;
    fz_rng rng;
    unsigned zeros; /* consecutive "no room now" answers */
    long calls;
} sink;

static long sink_write(void *ctx, const void *data, size_t len) {
    sink *s = ctx;
    size_t take = len;
    s->calls++;
    FZ_CHECK(len > 0);
    if (s->fail_after && s->len >= s->fail_after) return -5;
    if (s->short_max) {
        uint32_t r = fz_rand(&s->rng);
        if ((r & 3) == 0 && s->zeros < 3) {
            s->zeros++;
            return 0;
        }
        take = 1 + (r >> 2) % s->short_max;
        if (take > len) take = len;
    }
    if (s->fail_after && take > s->fail_after - s->len) take = s->fail_after - s->len;
    s->zeros = 0;
    FZ_CHECK(s->len + take <= s->cap);
    memcpy(s->buf + s->len, data, take);
    s->len += take;
    return (long)take;
}

/* Drives WOULD_BLOCK to the end; returns the final result. */
static frame_errno drain(frame_encoder *e, frame_errno r) {
    unsigned rounds = 0;
    while (r == FRAME_E_WOULD_BLOCK) {
        FZ_CHECK(frame_encoder_pending(e) > 0);
        FZ_CHECK(++rounds < 1000000);
        r = frame_encoder_resume(e);
    }
    if (r == FRAME_OK) FZ_CHECK(frame_encoder_pending(e) == 0);
    return r;
}

/* ---- decoding it back --------------------------------------------------- */

typedef struct dstate {
    const fz_params *par;
    const member *m;
    size_t nm;
    uint64_t body_size;
    uint8_t *got;
    size_t got_len;
    int headers, ends;
} dstate;

static int on_header(frame_decoder *d, const frame_header *h) {
    dstate *st = d->data;
    size_t cur = 0, i;
    frame_member fm;
    uint64_t sz;
    st->headers++;
    FZ_CHECK(h->body_size == st->body_size);
    if (st->par->cfg.raw) return FRAME_CONTINUE;
    /* the size member comes first */
    FZ_CHECK(frame_value_next(&h->root, &cur, &fm));
    FZ_CHECK(frame_value_string_equals(&fm.name, st->par->name, st->par->name_len));
    FZ_CHECK(frame_value_uint64(&fm.value, &sz) == FRAME_OK && sz == st->body_size);
    for (i = 0; i < st->nm; i++) {
        const member *m = &st->m[i];
        FZ_CHECK(frame_value_next(&h->root, &cur, &fm));
        FZ_CHECK(frame_value_string_equals(&fm.name, m->cname, strlen(m->cname)));
        switch (m->type) {
        case 0:
        case 7: {
            size_t vl = m->type == 7 ? fz_strnlen((const char *)m->val, m->vlen) : m->vlen;
            FZ_CHECK(fm.value.type == FRAME_TYPE_STRING);
            FZ_CHECK(frame_value_string_equals(&fm.value, (const char *)m->val, vl));
            break;
        }
        case 1: {
            int64_t v;
            FZ_CHECK(frame_value_int64(&fm.value, &v) == FRAME_OK && v == (int64_t)m->u);
            break;
        }
        case 2: {
            uint64_t v;
            FZ_CHECK(frame_value_uint64(&fm.value, &v) == FRAME_OK && v == m->u);
            break;
        }
        case 3: {
            int v;
            FZ_CHECK(frame_value_bool(&fm.value, &v) == FRAME_OK && v == m->b);
            break;
        }
        case 4: FZ_CHECK(frame_value_is_null(&fm.value)); break;
        case 5: {
            size_t cl;
            ref_result r;
            FZ_CHECK(ref_value_check(m->val, m->vlen, 1, FRAME_MAX_MEMBERS, canon, &cl, &r));
            FZ_CHECK(fm.value.len == cl && !memcmp(fm.value.json, canon, cl));
            break;
        }
        }
    }
    FZ_CHECK(!frame_value_next(&h->root, &cur, &fm));
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *d, const void *at, size_t len) {
    dstate *st = d->data;
    FZ_CHECK(st->got_len + len <= st->body_size);
    memcpy(st->got + st->got_len, at, len);
    st->got_len += len;
    return FRAME_CONTINUE;
}

static int on_frame_end(frame_decoder *d) {
    dstate *st = d->data;
    st->ends++;
    return FRAME_CONTINUE;
}

static const frame_callbacks cbs = {on_header, on_body, on_frame_end};

/* ---- the model -------------------------------------------------------- */

static size_t put_u64(uint8_t *o, uint64_t v) {
    char t[24];
    int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    memcpy(o, t, (size_t)n);
    return (size_t)n;
}

static size_t put_i64(uint8_t *o, int64_t v) {
    char t[24];
    int n = snprintf(t, sizeof t, "%lld", (long long)v);
    memcpy(o, t, (size_t)n);
    return (size_t)n;
}

/* The canonical text of member m (",name:value"); 0 with *err set when the
 * value itself is refused. */
static size_t member_text(const member *m, uint8_t *o, unsigned members_left, ref_result *vr) {
    size_t n = 0, cl;
    o[n++] = ',';
    n += ref_escape((const uint8_t *)m->cname, strlen(m->cname), o + n);
    o[n++] = ':';
    vr->err = NULL;
    vr->members = 0;
    switch (m->type) {
    case 0:
    case 7: {
        size_t vl = m->type == 7 ? fz_strnlen((const char *)m->val, m->vlen) : m->vlen;
        if (!ref_utf8_valid(m->val, vl)) vr->err = "BAD_UTF8";
        n += ref_escape(m->val, vl, o + n);
        break;
    }
    case 1: n += put_i64(o + n, (int64_t)m->u); break;
    case 2: n += put_u64(o + n, m->u); break;
    case 3:
        memcpy(o + n, m->b ? "true" : "false", m->b ? 4 : 5);
        n += m->b ? 4 : 5;
        break;
    case 4:
        memcpy(o + n, "null", 4);
        n += 4;
        break;
    case 5:
        if (ref_value_check(m->val, m->vlen, 1, members_left, o + n, &cl, vr)) n += cl;
        break;
    }
    return n;
}

static frame_errno add(frame_builder *b, const member *m) {
    switch (m->type) {
    case 0: return frame_builder_add_stringn(b, m->cname, (const char *)m->val, m->vlen);
    case 1: return frame_builder_add_int64(b, m->cname, (int64_t)m->u);
    case 2: return frame_builder_add_uint64(b, m->cname, m->u);
    case 3: return frame_builder_add_bool(b, m->cname, m->b);
    case 4: return frame_builder_add_null(b, m->cname);
    case 5: return frame_builder_add_raw(b, m->cname, (const char *)m->val, m->vlen);
    default: {
        /* add_string reads up to the NUL: give it a terminated copy */
        static char tmp[300];
        size_t vl = fz_strnlen((const char *)m->val, m->vlen);
        memcpy(tmp, m->val, vl);
        tmp[vl] = 0;
        return frame_builder_add_string(b, m->cname, tmp);
    }
    }
}

static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Parses the records; returns the member count, fills body. */
static size_t parse_records(const uint8_t *d, size_t n, size_t *blen) {
    size_t i = 0, nm = 0;
    *blen = 0;
    while (i < n && nm < MAX_MEMBERS) {
        member *m = &mem[nm];
        unsigned t = d[i++] % 8;
        size_t l;
        if (t == 6) {
            if (i >= n) break;
            l = d[i++];
            if (l > n - i) l = n - i;
            if (l > sizeof body - *blen) l = sizeof body - *blen;
            memcpy(body + *blen, d + i, l);
            *blen += l;
            i += l;
            continue;
        }
        memset(m, 0, sizeof *m);
        m->type = (int)t;
        if (i >= n) break;
        l = d[i++];
        if (l > n - i) l = n - i;
        m->name = d + i;
        m->nlen = fz_strnlen((const char *)d + i, l);
        memcpy(m->cname, d + i, m->nlen);
        m->cname[m->nlen] = 0;
        i += l;
        switch (t) {
        case 0:
        case 7:
            l = i < n ? d[i++] : 0;
            if (l > n - i) l = n - i;
            m->val = d + i;
            m->vlen = l;
            i += l;
            break;
        case 1:
        case 2:
            if (n - i < 8) return nm;
            m->u = rd64(d + i);
            i += 8;
            break;
        case 3:
            if (i >= n) return nm;
            m->b = d[i++] & 1;
            break;
        case 4: break;
        case 5:
            if (n - i < 2) return nm;
            l = (size_t)d[i] | (size_t)d[i + 1] << 8;
            i += 2;
            if (l > n - i) l = n - i;
            m->val = d + i;
            m->vlen = l;
            i += l;
            break;
        }
        nm++;
    }
    return nm;
}

static int names_equal(const member *a, const member *b) {
    return a->nlen == b->nlen && !memcmp(a->cname, b->cname, a->nlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_params par;
    frame_builder b;
    frame_encoder enc;
    frame_errno r, err = FRAME_OK;
    size_t used = fz_params_read(&par, data, size), nm, blen, cap, wl = 0, i, added = 0;
    unsigned w, members = 1;
    const void *head;
    size_t head_len = 0;
    sink s;
    uint8_t *frame;
    size_t frame_len;
    if (!used || !fz_config_valid(&par)) return 0;
    nm = parse_records(data + used, size - used, &blen);
    w = par.cfg.prefix_width;
    cap = par.ctl[0] ? (size_t)par.ctl[0] * 4 : sizeof headbuf;

    /* ---- init: the prefix and {"size":N, or an error that applies */
    r = frame_builder_init(&b, &par.cfg, headbuf, cap, blen);
    if (blen > par.max_body || (par.cfg.raw && w < 8 && blen >> (8 * w))) {
        FZ_CHECK(r == FRAME_E_BODY_TOO_LARGE);
        return 0;
    }
    wl = w;
    if (!par.cfg.raw) {
        want[wl++] = '{';
        wl += ref_escape((const uint8_t *)par.name, par.name_len, want + wl);
        want[wl++] = ':';
        wl += put_u64(want + wl, blen);
    }
    /* the builder keeps one byte free for the closing brace (even in raw) */
    if (r == FRAME_E_BUFFER_TOO_SMALL) {
        FZ_CHECK(wl + 1 > cap);
        return 0;
    }
    if (r == FRAME_E_HEADER_TOO_LARGE) {
        FZ_CHECK(!par.cfg.raw && wl + 1 - w > fz_max_header(&par));
        return 0;
    }
    FZ_CHECK(r == FRAME_OK);
    FZ_CHECK(wl + !par.cfg.raw <= cap);

    /* ---- members: each verdict must be one a rule gives */
    for (i = 0; i < nm && !err; i++) {
        const member *m = &mem[i];
        ref_result vr;
        size_t k, tl;
        int bad_name, reserved, dup = 0, too_many;
        r = add(&b, m);
        if (par.cfg.raw) {
            FZ_CHECK(r == FRAME_E_ARGUMENT);
            err = r;
            break;
        }
        bad_name = !ref_utf8_valid((const uint8_t *)m->cname, m->nlen);
        reserved = m->nlen == par.name_len && !memcmp(m->cname, par.name, m->nlen);
        for (k = 0; k < added; k++)
            if (names_equal(&mem[k], m)) dup = 1;
        too_many = members >= FRAME_MAX_MEMBERS;
        tl = member_text(m, want + wl, FRAME_MAX_MEMBERS - members - 1, &vr);
        if (r == FRAME_OK) {
            /* a builder may or may not keep room for the closing brace */
            if (!(!bad_name && !reserved && !dup && !too_many && !vr.err && wl + tl <= cap)) {
                fprintf(stderr, "add #%zu (type %d, name \"%s\") OK, but: bad_name %d reserved %d dup %d "
                        "too_many %d value %s, %zu + %zu > cap %zu\n", i, m->type, m->cname, bad_name,
                        reserved, dup, too_many, vr.err ? vr.err : "OK", wl, tl, cap);
                abort();
            }
            wl += tl;
            members += 1 + vr.members;
            mem[added++] = *m; /* keep the members that went in, in order */
            continue;
        }
        err = r;
        switch (r) {
        case FRAME_E_BAD_UTF8:
            FZ_CHECK(bad_name || (vr.err && !strcmp(vr.err, "BAD_UTF8")));
            break;
        case FRAME_E_RESERVED_NAME: FZ_CHECK(reserved); break;
        case FRAME_E_DUPLICATE_NAME:
            FZ_CHECK(dup || (m->type == 5 && vr.err && !strcmp(vr.err, "DUPLICATE_NAME")));
            break;
        case FRAME_E_TOO_MANY_MEMBERS:
            FZ_CHECK(too_many || (m->type == 5 && vr.err && !strcmp(vr.err, "TOO_MANY_MEMBERS")));
            break;
        case FRAME_E_BUFFER_TOO_SMALL: FZ_CHECK(vr.err || wl + tl + 1 > cap); break;
        case FRAME_E_HEADER_TOO_LARGE:
            /* the adds check max_header as they go (frame.h only names finish) */
            FZ_CHECK(!vr.err && wl + tl + 1 - w > fz_max_header(&par));
            break;
        default:
            if (!(m->type == 5 && vr.err && !strcmp(vr.err, frame_errname(r)))) {
                fprintf(stderr, "add: %s, reference: %s\n", frame_errname(r), vr.err ? vr.err : "OK");
                abort();
            }
        }
        /* sticky: every later call returns the first error */
        FZ_CHECK(frame_builder_add_null(&b, "zz") == err);
        FZ_CHECK(frame_builder_finish(&b, NULL, NULL) == err);
    }
    if (err) return 0;

    /* ---- finish */
    r = frame_builder_finish(&b, &head, &head_len);
    if (!par.cfg.raw) want[wl++] = '}';
    if (!par.cfg.raw && wl - w > fz_max_header(&par)) {
        FZ_CHECK(r == FRAME_E_HEADER_TOO_LARGE);
        FZ_CHECK(frame_builder_finish(&b, NULL, NULL) == FRAME_E_HEADER_TOO_LARGE);
        return 0;
    }
    if (r == FRAME_E_BUFFER_TOO_SMALL) {
        FZ_CHECK(wl > cap);
        return 0;
    }
    FZ_CHECK(r == FRAME_OK);
    fz_put_prefix(&par, want, par.cfg.raw ? blen : wl - w);
    FZ_CHECK(head == (const void *)headbuf && head_len == wl && !memcmp(head, want, wl));
    FZ_CHECK(frame_builder_finish(&b, NULL, NULL) == FRAME_OK);
    nm = added;

    frame_len = head_len + blen;
    frame = malloc(frame_len + 1);
    FZ_CHECK(frame != NULL);
    memcpy(frame, head, head_len);
    memcpy(frame + head_len, body, blen);

    /* ---- frame_write through a transport that takes little at a time */
    memset(&s, 0, sizeof s);
    s.buf = malloc(frame_len + 1);
    s.cap = frame_len;
    s.short_max = par.ctl[2];
    fz_seed(&s.rng, par.ctl[3]);
    FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
    if (blen) FZ_CHECK(frame_write(&enc, &b, body, blen - 1) == FRAME_E_SIZE_MISMATCH && s.len == 0);
    FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
    FZ_CHECK(drain(&enc, frame_write(&enc, &b, body, blen)) == FRAME_OK);
    FZ_CHECK(s.len == frame_len && !memcmp(s.buf, frame, frame_len));

    /* ---- the streaming writer gives the same bytes */
    {
        fz_rng chunks;
        size_t off = 0;
        fz_seed(&chunks, par.ctl[3] + 1u);
        s.len = 0;
        FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
        FZ_CHECK(drain(&enc, frame_write_begin(&enc, &b)) == FRAME_OK);
        while (off < blen) {
            size_t c = 1 + fz_rand(&chunks) % 64;
            if (c > blen - off) c = blen - off;
            FZ_CHECK(drain(&enc, frame_write_body(&enc, body + off, c)) == FRAME_OK);
            off += c;
        }
        /* one byte more than declared is refused, and nothing of it sent
         * (an empty body's head is still held: it leaves with end) */
        FZ_CHECK(frame_write_body(&enc, "x", 1) == FRAME_E_SIZE_MISMATCH &&
                 s.len == (blen ? frame_len : 0));
        FZ_CHECK(drain(&enc, frame_write_end(&enc)) == FRAME_OK);
        FZ_CHECK(s.len == frame_len && !memcmp(s.buf, frame, frame_len));
        if (blen) {
            /* end() before the body is complete */
            s.len = 0;
            FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
            FZ_CHECK(drain(&enc, frame_write_begin(&enc, &b)) == FRAME_OK);
            FZ_CHECK(drain(&enc, frame_write_body(&enc, body, blen - 1)) == FRAME_OK);
            FZ_CHECK(frame_write_end(&enc) == FRAME_E_SIZE_MISMATCH);
        }
    }

    /* ---- a transport that fails after N bytes */
    if (par.ctl[1]) {
        size_t n = (size_t)par.ctl[1] * 3;
        frame_errno fr;
        s.len = 0;
        s.fail_after = n;
        FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
        fr = drain(&enc, frame_write(&enc, &b, body, blen));
        if (n < frame_len) {
            FZ_CHECK(fr == FRAME_E_WRITE && frame_encoder_write_result(&enc) == -5);
            FZ_CHECK(s.len == n && !memcmp(s.buf, frame, n));
        } else {
            FZ_CHECK(fr == FRAME_OK && s.len == frame_len);
        }
        /* streaming, the same */
        s.len = 0;
        FZ_CHECK(frame_encoder_init(&enc, sink_write, &s) == FRAME_OK);
        fr = drain(&enc, frame_write_begin(&enc, &b));
        if (fr == FRAME_OK && blen) fr = drain(&enc, frame_write_body(&enc, body, blen));
        /* end writes a head still held (an empty body) */
        if (fr == FRAME_OK) fr = drain(&enc, frame_write_end(&enc));
        if (n < frame_len) {
            FZ_CHECK(fr == FRAME_E_WRITE && frame_encoder_write_result(&enc) == -5);
            FZ_CHECK(s.len == n && !memcmp(s.buf, frame, n));
        } else {
            FZ_CHECK(fr == FRAME_OK && s.len == frame_len);
        }
    }

    /* ---- decode it back: the same members in order, the same body */
    {
        frame_decoder d;
        dstate st;
        uint64_t missing;
        memset(&st, 0, sizeof st);
        st.par = &par;
        st.m = mem;
        st.nm = nm;
        st.body_size = blen;
        st.got = malloc(blen + 1);
        FZ_CHECK(frame_decoder_init(&d, &par.cfg, &cbs, hdrbuf, sizeof hdrbuf, &st) == FRAME_OK);
        FZ_CHECK(frame_feed(&d, frame, frame_len) == frame_len);
        FZ_CHECK(frame_finish(&d, &missing) == FRAME_OK);
        FZ_CHECK(st.headers == 1 && st.ends == 1);
        FZ_CHECK(st.got_len == blen && !memcmp(st.got, body, blen));
        free(st.got);
    }
    free(s.buf);
    free(frame);
    return 0;
}
