/*
 * fuzz_kernels: every string kernel the target has (lib/scan.h: sse2 or neon,
 * word, small), each in its own copy of the library (fuzz/fuzz_kernels.h),
 * on the same input. They must agree on everything a caller can see:
 *  - frame_header_parse() of the data: verdict, error name and offset, body
 *    size, and every value view (type, offset, length), string read out,
 *    number and boolean;
 *  - frame_feed() of the data as a stream, split as the controls say: every
 *    callback (header views, body chunk offsets and lengths, frame ends) and
 *    the final error, offset, frame index, declared size, limit and missing;
 * and each kernel's primitives must give what their definition says, byte by
 * byte, checked here without the library:
 *  - frame__kernel_special(p, end) from every start position, to the end
 *    of the data and to ends up to 80 bytes on (the first '"', '\\', control
 *    or byte >= 0x80, or end), never reading past end (the input is
 *    libFuzzer's exact-size copy: ASan reports an over-read);
 *  - frame__kernel_special16(), frame__kernel_quotes16(),
 *    frame__kernel_marks16() and frame__kernel_utf8_16() of every 16-byte
 *    window (of the first 1 KiB; then 16 bytes apart): the bits of the
 *    special bytes, the quotes, the backslashes, controls and bytes >= 0x80,
 *    and of continuation bytes, bytes >= 0xe0, >= 0xf0, and 0xc0 or 0xc1.
 * Controls (fuzz_common.h bytes 4-7): ctl[2] split (0 whole, 1 byte by byte,
 * else random chunks of up to ctl[2] bytes), ctl[3] the seed of the splits;
 * ctl[0..1] unused. The rest of the input is the data.
 */
#include "fuzz_common.h"
#include "fuzz_kernels.h"

typedef struct kentry {
    const char *name;
    const fzk_kernel *k;
} kentry;

/* The copies the build made (fuzz/fuzz.mk passes FZK_HAVE_<NAME>). */
static const kentry kernels[] = {
#ifdef FZK_HAVE_SSE2
    {"sse2", &fzk_sse2},
#endif
#ifdef FZK_HAVE_NEON
    {"neon", &fzk_neon},
#endif
    {"word", &fzk_word},
    {"small", &fzk_small},
};
#define NK (sizeof kernels / sizeof kernels[0])

#define LOG_CAP (1u << 20)
static char logtext[NK][LOG_CAP];

static void log_reset(fzk_log *l, unsigned i) {
    l->text = logtext[i];
    l->cap = LOG_CAP;
    l->len = 0;
    l->hash = 0xcbf29ce484222325ull;
}

/* Prints the first line where two logs part, and the lines around it. */
static void report(const char *what, const fzk_log *a, const char *an, const fzk_log *b, const char *bn) {
    size_t na = a->len < a->cap ? a->len : a->cap, nb = b->len < b->cap ? b->len : b->cap, i = 0, ls;
    while (i < na && i < nb && a->text[i] == b->text[i]) i++;
    ls = i;
    while (ls > 0 && a->text[ls - 1] != '\n') ls--;
    ls = ls > 400 ? ls - 400 : 0;
    fprintf(stderr, "fuzz_kernels: %s differs between kernels %s and %s at log byte %zu "
                    "(lengths %zu, %zu)\n--- %s:\n%.*s\n--- %s:\n%.*s\n",
            what, an, bn, i, a->len, b->len, an, (int)((na - ls) < 1200 ? na - ls : 1200), a->text + ls,
            bn, (int)((nb - ls) < 1200 ? nb - ls : 1200), b->text + ls);
    abort();
}

static void compare(const char *what, const fzk_log *logs) {
    unsigned i;
    for (i = 1; i < NK; i++) {
        if (logs[i].len != logs[0].len || logs[i].hash != logs[0].hash ||
            memcmp(logs[i].text, logs[0].text, logs[0].len < LOG_CAP ? logs[0].len : LOG_CAP) != 0)
            report(what, &logs[0], kernels[0].name, &logs[i], kernels[i].name);
    }
}

static int is_special(uint8_t c) { return c < 0x20 || c >= 0x80 || c == '"' || c == '\\'; }

/* Every start position, each with an end at most SPECIAL_SPAN bytes on (a
 * few 16-byte steps and the byte-wise tail; from one start to the real end
 * would be quadratic), and from the start to the real end. */
#define SPECIAL_SPAN 80
static void check_special(const fzk_kernel *k, const char *name, const uint8_t *d, size_t n) {
    size_t i, next = n;
    /* from the end backwards, so that the next special byte is known */
    for (i = n; i-- > 0;) {
        size_t end = n - i > SPECIAL_SPAN ? i + SPECIAL_SPAN : n, want = next;
        const uint8_t *got;
        if (is_special(d[i])) next = want = i;
        if (want > end) want = end;
        got = k->special(d + i, d + end);
        if (got != d + want) {
            fprintf(stderr, "fuzz_kernels: %s special(p+%zu, p+%zu) gave p+%lld, want p+%zu\n", name, i, end,
                    (long long)(got - d), want);
            abort();
        }
    }
    FZ_CHECK(k->special(d, d + n) == d + next);
    FZ_CHECK(k->special(d + n, d + n) == d + n);
}

/* Bit b of each of want[0..3] for the classes of byte c: the marks16 ones
 * (m = 0) or the utf8_16 ones (m = 1). */
static void classes_of(unsigned c, unsigned b, int m, unsigned want[4]) {
    int is[4];
    unsigned k;
    if (!m) {
        is[0] = c == '"';
        is[1] = c == '\\';
        is[2] = c < 0x20;
        is[3] = c >= 0x80;
    } else {
        is[0] = c >= 0x80 && c <= 0xbf;
        is[1] = c >= 0xe0;
        is[2] = c >= 0xf0;
        is[3] = c == 0xc0 || c == 0xc1;
    }
    for (k = 0; k < 4; k++)
        if (is[k]) want[k] |= 1u << b;
}

/* The four classes of a window, from marks16 (m = 0) or utf8_16. */
static void check_classes(const fzk_kernel *k, const char *name, const uint8_t *p, size_t at, int m) {
    unsigned got[4], want[4] = {0, 0, 0, 0}, b;
    if (!m) k->marks16(p, got);
    else k->utf8_16(p, got);
    for (b = 0; b < 16; b++) classes_of(p[b], b, m, want);
    for (b = 0; b < 4; b++)
        if (got[b] != want[b]) {
            fprintf(stderr, "fuzz_kernels: %s %s(p+%zu)[%u]: %04x, want %04x\n", name, m ? "utf8_16" : "marks16", at,
                    b, got[b], want[b]);
            abort();
        }
}

/* special16, quotes16, marks16 and utf8_16 of every 16-byte window (of the
 * first 1 KiB; then 16 bytes apart) against their definitions. */
static void check_windows(const fzk_kernel *k, const char *name, const uint8_t *d, size_t n) {
    size_t at, step;
    for (at = 0; at + 16 <= n; at += step) {
        unsigned special = k->special16(d + at), quotes = k->quotes16(d + at), want_s = 0, want_q = 0, b;
        for (b = 0; b < 16; b++) {
            if (is_special(d[at + b])) want_s |= 1u << b;
            if (d[at + b] == '"') want_q |= 1u << b;
        }
        if (special != want_s || quotes != want_q) {
            fprintf(stderr, "fuzz_kernels: %s special16(p+%zu): %04x, want %04x; quotes16: %04x, want %04x\n",
                    name, at, special, want_s, quotes, want_q);
            abort();
        }
        check_classes(k, name, d + at, at, 0);
        check_classes(k, name, d + at, at, 1);
        step = at < 1024 ? 1 : 16;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static fzk_log logs[NK];
    fz_params par;
    size_t used = fz_params_read(&par, data, size), n;
    unsigned i;
    if (!used) return 0;
    data += used;
    n = size - used;

    for (i = 0; i < NK; i++) {
        FZ_CHECK(strcmp(kernels[i].k->name, kernels[i].name) == 0); /* built with its kernel */
        check_special(kernels[i].k, kernels[i].name, data, n);
        check_windows(kernels[i].k, kernels[i].name, data, n);
    }

    for (i = 0; i < NK; i++) {
        log_reset(&logs[i], i);
        kernels[i].k->parse(&par.cfg, data, n, &logs[i]);
    }
    compare("frame_header_parse", logs);

    for (i = 0; i < NK; i++) {
        log_reset(&logs[i], i);
        kernels[i].k->decode(&par.cfg, data, n, par.ctl[2], par.ctl[3], &logs[i]);
    }
    compare("frame_feed", logs);
    return 0;
}
