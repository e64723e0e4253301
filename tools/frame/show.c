/*
 * tools/frame/show.c: how frames are shown: the decode line (JSON), the human
 * view of inspect, hex/base64/text bodies, colours, the progress bar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void show_hex(FILE *out, const unsigned char *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        putc(digits[p[i] >> 4], out);
        putc(digits[p[i] & 15], out);
    }
}

void show_base64(FILE *out, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
        putc(b64[v >> 18], out);
        putc(b64[v >> 12 & 63], out);
        putc(b64[v >> 6 & 63], out);
        putc(b64[v & 63], out);
    }
    if (n - i == 1) {
        putc(b64[p[i] >> 2], out);
        putc(b64[(p[i] & 3) << 4], out);
        fputs("==", out);
    } else if (n - i == 2) {
        unsigned long v = (unsigned long)p[i] << 8 | p[i + 1];
        putc(b64[v >> 10], out);
        putc(b64[v >> 4 & 63], out);
        putc(b64[(v & 15) << 2], out);
        putc('=', out);
    }
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    size_t len, i;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c < 0xC2 || c > 0xF4) return 0;
    len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (len > n) return 0;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

/* A JSON string of the octets: UTF-8 as it is, each ill-formed octet as U+FFFD. */
void show_json_string(FILE *out, const unsigned char *p, size_t n) {
    size_t i = 0;
    putc('"', out);
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        switch (c) {
        case '"': fputs("\\\"", out); i++; continue;
        case '\\': fputs("\\\\", out); i++; continue;
        case '\b': fputs("\\b", out); i++; continue;
        case '\f': fputs("\\f", out); i++; continue;
        case '\n': fputs("\\n", out); i++; continue;
        case '\r': fputs("\\r", out); i++; continue;
        case '\t': fputs("\\t", out); i++; continue;
        default: break;
        }
        if (c < 0x20) {
            fprintf(out, "\\u%04x", c);
            i++;
            continue;
        }
        len = utf8_len(p + i, n - i);
        if (!len) {
            fputs("\xEF\xBF\xBD", out);
            i++;
            continue;
        }
        fwrite(p + i, 1, len, out);
        i += len;
    }
    putc('"', out);
}

void show_json_line(FILE *out, const reader *r, int body_mode) {
    size_t i;
    fprintf(out, "{\"frame\":%llu,\"offset\":%llu,\"header\":", (unsigned long long)r->index,
            (unsigned long long)r->start);
    if (r->header) {
        /* Verbatim, except that line breaks between tokens (the only place a
         * valid header can hold them) become spaces: one frame, one line. */
        for (i = 0; i < r->header_len; i++) {
            char c = r->header[i];
            putc(c == '\n' || c == '\r' ? ' ' : c, out);
        }
    } else {
        fputs("null", out);
    }
    fprintf(out, ",\"body_length\":%llu", (unsigned long long)r->body_size);
    if (body_mode != BODY_NONE) {
        fputs(",\"body\":", out);
        if (body_mode == BODY_TEXT) {
            show_json_string(out, r->body, r->body_len);
        } else {
            putc('"', out);
            if (body_mode == BODY_HEX) show_hex(out, r->body, r->body_len);
            else show_base64(out, r->body, r->body_len);
            putc('"', out);
        }
    }
    fputs("}\n", out);
}

/* ---- the human view ---------------------------------------------------- */

#define C_LABEL "\033[1m"
#define C_NAME "\033[34m"
#define C_STRING "\033[32m"
#define C_NUMBER "\033[36m"
#define C_LITERAL "\033[35m"
#define C_DIM "\033[2m"
#define C_OFF "\033[0m"

typedef struct pen {
    FILE *out;
    int colour;
} pen;

static void paint(const pen *p, const char *code, const char *text, size_t len) {
    if (p->colour) fputs(code, p->out);
    fwrite(text, 1, len, p->out);
    if (p->colour) fputs(C_OFF, p->out);
}

static void indent(const pen *p, int n) {
    while (n-- > 0) putc(' ', p->out);
}

/* Pretty prints a valid JSON value (depth <= FRAME_MAX_DEPTH, so recursion is bounded). */
static void pretty(const pen *p, const frame_value *v, int at) {
    size_t cursor = 0;
    frame_member m;
    int first = 1;
    const char *code;
    if (v->type == FRAME_TYPE_OBJECT || v->type == FRAME_TYPE_ARRAY) {
        int obj = v->type == FRAME_TYPE_OBJECT;
        while (frame_value_next(v, &cursor, &m)) {
            fputs(first ? (obj ? "{\n" : "[\n") : ",\n", p->out);
            first = 0;
            indent(p, at + 2);
            if (obj) {
                paint(p, C_NAME, m.name.json, m.name.len);
                fputs(": ", p->out);
            }
            pretty(p, &m.value, at + 2);
        }
        if (first) {
            fputs(obj ? "{}" : "[]", p->out);
        } else {
            putc('\n', p->out);
            indent(p, at);
            putc(obj ? '}' : ']', p->out);
        }
        return;
    }
    code = v->type == FRAME_TYPE_STRING ? C_STRING : v->type == FRAME_TYPE_NUMBER ? C_NUMBER : C_LITERAL;
    paint(p, code, v->json, v->len);
}

static void label(const pen *p, const char *text) {
    fputs("  ", p->out);
    if (p->colour) fputs(C_LABEL, p->out);
    fprintf(p->out, "%-8s", text);
    if (p->colour) fputs(C_OFF, p->out);
}

static void dump(const pen *p, const unsigned char *b, size_t n, uint64_t total) {
    size_t row, i;
    for (row = 0; row < n; row += 16) {
        fprintf(p->out, "          %04zx  ", row);
        for (i = row; i < row + 16; i++) {
            if (i < n) fprintf(p->out, "%02x ", b[i]);
            else fputs("   ", p->out);
            if (i == row + 7) putc(' ', p->out);
        }
        if (p->colour) fputs(C_DIM, p->out);
        putc('|', p->out);
        for (i = row; i < row + 16 && i < n; i++) putc(b[i] >= 0x20 && b[i] < 0x7F ? b[i] : '.', p->out);
        putc('|', p->out);
        if (p->colour) fputs(C_OFF, p->out);
        putc('\n', p->out);
    }
    if (total > n) fprintf(p->out, "          ... %llu more octets\n", (unsigned long long)(total - n));
}

void show_human(FILE *out, const reader *r, int colour) {
    pen p;
    const frame_config *cfg = &r->p->cfg;
    unsigned w = cfg->prefix_width ? cfg->prefix_width : 4, i;
    uint64_t value = cfg->raw ? r->body_size : r->hlen;
    uint64_t total = w + r->hlen + r->body_size;
    p.out = out;
    p.colour = colour;
    if (colour) fputs(C_LABEL, out);
    fprintf(out, "frame %llu", (unsigned long long)r->index);
    if (colour) fputs(C_OFF, out);
    fprintf(out, " at offset %llu, %llu octets\n", (unsigned long long)r->start, (unsigned long long)total);
    label(&p, "prefix");
    for (i = 0; i < w; i++) {
        unsigned shift = 8 * (cfg->big_endian ? w - 1 - i : i);
        fprintf(out, "%02x ", (unsigned)(value >> shift & 0xFF));
    }
    fprintf(out, " = %llu, %s (%u octets, %s-endian)\n", (unsigned long long)value,
            cfg->raw ? "body length" : "header length", w, cfg->big_endian ? "big" : "little");
    if (r->header) {
        frame_header h;
        label(&p, "header");
        fprintf(out, "%llu octets at offset %llu\n          ", (unsigned long long)r->hlen,
                (unsigned long long)(r->start + w));
        /* The header was valid when it arrived; parse the copy to walk it. */
        if (frame_header_parse(&h, cfg, r->header, r->header_len, NULL) == FRAME_OK) {
            /* indent the whole tree by 10 columns */
            pen q = p;
            char *text = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&text, &len);
            if (mem) {
                size_t k;
                q.out = mem;
                pretty(&q, &h.root, 0);
                fclose(mem);
                for (k = 0; k < len; k++) {
                    putc(text[k], out);
                    if (text[k] == '\n') fputs("          ", out);
                }
                free(text);
            }
        } else {
            fwrite(r->header, 1, r->header_len, out);
        }
        putc('\n', out);
    }
    label(&p, "body");
    fprintf(out, "%llu octets at offset %llu\n", (unsigned long long)r->body_size,
            (unsigned long long)(r->start + w + r->hlen));
    dump(&p, r->peek, r->peek_len, r->body_size);
}

int colour_wanted(const char *mode, int fd) {
    const char *term = getenv("TERM");
    if (!strcmp(mode, "always")) return 1;
    if (!strcmp(mode, "never")) return 0;
    if (strcmp(mode, "auto")) return -1;
    if (getenv("NO_COLOR") && *getenv("NO_COLOR")) return 0;
    return isatty(fd) && !(term && !strcmp(term, "dumb"));
}

/* ---- progress bar (stderr, on a terminal) ----------------------------------- */

static int progress_shown = -1;

void progress_show(const char *what, uint64_t done, uint64_t total) {
    int pct = total ? (int)(done * 100 / total) : 100, i;
    if (pct == progress_shown) return;
    progress_shown = pct;
    fprintf(stderr, "\r%s [", what);
    for (i = 0; i < 40; i++) putc(i < pct * 40 / 100 ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%%  %.1f / %.1f MiB", pct, (double)done / 1048576.0, (double)total / 1048576.0);
    fflush(stderr);
}

void progress_clear(void) {
    if (progress_shown < 0) return;
    progress_shown = -1;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

int decode_options(int *body_mode, const char *arg) {
    if (!strcmp(arg, "none")) *body_mode = BODY_NONE;
    else if (!strcmp(arg, "hex")) *body_mode = BODY_HEX;
    else if (!strcmp(arg, "base64")) *body_mode = BODY_BASE64;
    else if (!strcmp(arg, "text")) *body_mode = BODY_TEXT;
    else {
        fail("--body must be none, hex, base64 or text, not \"%s\"", arg);
        return EXIT_USAGE;
    }
    return 0;
}
