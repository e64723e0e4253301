/*
 * JSONTestSuite (github.com/nst/JSONTestSuite, test_parsing/) through the
 * header validator, read in place from ../shared/JSONTestSuite relative to
 * the repository root (never copied into the repository). When it is absent
 * the test says so and is skipped.
 *
 * Every case is checked as a header member value, {"size":0,"v":CASE}:
 *   y_ accepted, n_ rejected, except the cases that SPEC.md's section
 *   "JSONTestSuite deviations" names; every i_ case as that section says.
 * And as a whole header: a case that is an object is well-formed JSON
 * (OK or SIZE_MISSING) exactly when its member-value form is accepted.
 * Every verdict (error name and offset) must also equal the reference
 * checker's (fuzz/ref_json.c), the decoder must agree with
 * frame_header_parse(), and every input sits right before a guard page.
 *
 * The expectations come from SPEC.md's section "JSONTestSuite deviations"
 * (the one source of truth), from its table rows: the first cell names a
 * case in backticks (with or without .json; * matches any run), the
 * "Outcome" cell says "accepted" or gives the error name (or "rejected"),
 * and an "Offset" column, when there is one, the error offset within the
 * case. A y_ or n_ case not in a table has the suite's verdict; an i_ case
 * not in a table fails the test, as does a listed case that does not exist.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hardening.h"

#define MAX_RULES 256

typedef struct rule {
    char pattern[128]; /* without .json */
    int accept;
    frame_errno err; /* FRAME_OK = not stated */
    long offset;     /* error offset within the case, -1 = not stated */
    int used;
    int line;
} rule;

typedef struct rules {
    rule r[MAX_RULES];
    size_t n;
    char source[1024];
} rules;

static void strip_json(char *s) {
    size_t n = strlen(s);
    if (n > 5 && !strcmp(s + n - 5, ".json")) s[n - 5] = 0;
}

static int has_word_ci(const char *text, const char *word) {
    size_t n = strlen(word);
    const char *p;
    for (p = text; *p; p++)
        if (!strncasecmp(p, word, n)) return 1;
    return 0;
}

/* The leftmost error name of FRAME_ERRNO_MAP in text, else FRAME_OK. */
static frame_errno first_error_in(const char *text) {
    int e;
    const char *best = NULL;
    frame_errno found = FRAME_OK;
    for (e = 1; e < 64; e++) {
        const char *name = frame_errname((frame_errno)e), *p = text;
        size_t n = strlen(name);
        if (!strcmp(name, "UNKNOWN")) continue;
        while ((p = strstr(p, name)) != NULL) {
            int before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
            int after = isalnum((unsigned char)p[n]) || p[n] == '_';
            if (!before && !after) {
                if (!best || p < best) {
                    best = p;
                    found = (frame_errno)e;
                }
                break;
            }
            p += n;
        }
    }
    return found;
}

/* Splits a table row "| a | b |" into at most max cells (in place). */
static size_t split_row(char *line, char **cells, size_t max) {
    size_t n = 0;
    char *p = strchr(line, '|');
    while (p && n < max) {
        char *q = strchr(p + 1, '|');
        if (!q) break;
        *q = 0;
        cells[n++] = p + 1;
        p = q;
    }
    return n;
}

/*
 * Reads the rules from the markdown section "JSONTestSuite deviations":
 * its table rows. A row's first cell names the case(s) in backticks; the
 * row's outcome is "accepted", or else "rejected" and the leftmost error
 * name in the outcome cell (an error name alone means rejected); a column
 * whose heading holds "Offset" gives the error offset within the case.
 * Returns 0 when the file has no such section.
 */
static int load_section(rules *rs, const char *path) {
    size_t len = 0;
    char *text = read_file_all(path, &len), *line, *save = NULL;
    int in = 0, level = 0, lineno = 0, found = 0, off_col = -1, out_col = 1, in_table = 0;
    if (!text) return 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *cells[16];
        size_t nc, c;
        lineno++;
        if (line[0] == '#') {
            int lv = 0;
            while (line[lv] == '#') lv++;
            if (in && lv <= level) break;
            if (!in && strstr(line, "JSONTestSuite deviations")) {
                in = found = 1;
                level = lv;
            }
            continue;
        }
        if (!in) continue;
        if (line[0] != '|') {
            in_table = 0;
            continue;
        }
        nc = split_row(line, cells, 16);
        if (!in_table) { /* the heading row */
            in_table = 1;
            off_col = -1;
            out_col = 1;
            for (c = 0; c < nc; c++) {
                if (has_word_ci(cells[c], "offset")) off_col = (int)c;
                else if (has_word_ci(cells[c], "outcome")) out_col = (int)c;
            }
            continue;
        }
        if (nc < 2 || strspn(cells[0], " -:") == strlen(cells[0])) continue; /* |---| */
        {
            const char *p = cells[0];
            size_t first = rs->n, i;
            const char *outc = (size_t)out_col < nc ? cells[out_col] : "";
            int accepted = has_word_ci(outc, "accepted");
            frame_errno err = first_error_in(outc);
            long off = -1;
            if (off_col >= 0 && (size_t)off_col < nc) {
                char *end;
                long v = strtol(cells[off_col], &end, 10);
                if (end != cells[off_col] && v >= 0) off = v;
            }
            while ((p = strchr(p, '`')) != NULL) {
                const char *q = strchr(p + 1, '`');
                size_t n;
                if (!q) break;
                n = (size_t)(q - p - 1);
                if (n >= 3 && n < sizeof rs->r[0].pattern && strchr("yni", p[1]) && p[2] == '_') {
                    rule *r;
                    cr_assert(rs->n < MAX_RULES, "%s: too many cases listed", path);
                    r = &rs->r[rs->n++];
                    memset(r, 0, sizeof *r);
                    memcpy(r->pattern, p + 1, n);
                    r->pattern[n] = 0;
                    strip_json(r->pattern);
                    r->line = lineno;
                }
                p = q + 1;
            }
            if (rs->n == first) continue;
            cr_assert(accepted || err != FRAME_OK || has_word_ci(outc, "rejected"),
                      "%s:%d: the outcome cell says neither \"accepted\", \"rejected\" nor an error "
                      "name: %s",
                      path, lineno, outc);
            for (i = first; i < rs->n; i++) {
                rs->r[i].accept = accepted;
                rs->r[i].err = accepted ? FRAME_OK : err;
                rs->r[i].offset = accepted ? -1 : off;
            }
        }
    }
    free(text);
    if (found) snprintf(rs->source, sizeof rs->source, "%s", path);
    return found;
}

static const rule *find_rule(rules *rs, const char *base) {
    size_t i;
    for (i = 0; i < rs->n; i++)
        if (!fnmatch(rs->r[i].pattern, base, 0)) {
            rs->r[i].used = 1;
            return &rs->r[i];
        }
    return NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The verdicts of one input, cross-checked: library vs reference (name and
 * offset) and frame_header_parse vs the decoder. Returns the library's. */
static frame_errno verdict(const char *what, const char *base, const unsigned char *hdr, size_t len,
                           int *mismatches, size_t *err_pos) {
    static const frame_config cfg = {0, 0, 0, NULL, 1u << 20, 0}; /* headers up to 1 MiB */
    size_t pos = 0;
    ref_result ref;
    int ok = ref_header_check(hdr, len, (const unsigned char *)"size", 4, 0, &ref);
    frame_errno e = parse_guarded(&cfg, hdr, len, &pos, NULL);
    outcome dg;
    unsigned char *frame = xmalloc(len + 4);
    if ((e == FRAME_OK) != ok || (!ok && (strcmp(errname(e), ref.err) || pos != ref.pos))) {
        cr_log_error("%s %s: library %s at %zu, reference %s at %zu", what, base, errname(e), pos,
                     ok ? "OK" : ref.err, ok ? (size_t)0 : ref.pos);
        ++*mismatches;
    }
    /* the same header through the decoder, as one datagram */
    put_prefix(frame, 4, 0, len);
    memcpy(frame + 4, hdr, len);
    if (len) {
        decode_datagram(&cfg, frame, len + 4, &dg);
        if (dg.err != e || (e != FRAME_OK && dg.offset != 4 + pos)) {
            cr_log_error("%s %s: decoder %s at %llu, frame_header_parse %s at %zu", what, base,
                         errname(dg.err), (unsigned long long)dg.offset, errname(e), 4 + pos);
            ++*mismatches;
        }
    }
    free(frame);
    *err_pos = pos;
    return e;
}

Test(conformance, jsontestsuite, .timeout = 300) {
    const char *env = getenv("HARDENING_JSONTS");
    char dir[1024], spec[1024];
    DIR *dp;
    struct dirent *de;
    char **names = NULL;
    size_t nnames = 0, i;
    static rules rs;
    /* tallies: [y,n,i][member-value accepted, rejected] and whole-header */
    unsigned acc[3] = {0, 0, 0}, rej[3] = {0, 0, 0}, whole_obj[3] = {0, 0, 0},
             whole_json_ok[3] = {0, 0, 0};
    int failures = 0, mismatches = 0;
    sbuf devs;

    if (env && *env) snprintf(dir, sizeof dir, "%s", env);
    else snprintf(dir, sizeof dir, "%s/../shared/JSONTestSuite/test_parsing", hardening_root());
    dp = opendir(dir);
    if (!dp) {
        printf("conformance: JSONTestSuite not found at %s: the JSONTestSuite part is SKIPPED "
               "(it is not part of the repository; put a checkout at ../shared/JSONTestSuite "
               "or set HARDENING_JSONTS)\n",
               dir);
        cr_skip_test("JSONTestSuite not found at %s", dir);
    }
    while ((de = readdir(dp)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 5 && !strcmp(de->d_name + n - 5, ".json") && strchr("yni", de->d_name[0]) &&
            de->d_name[1] == '_') {
            names = xrealloc(names, (nnames + 1) * sizeof *names);
            names[nnames++] = strdup(de->d_name);
        }
    }
    closedir(dp);
    cr_assert(nnames > 0, "no y_/n_/i_ cases in %s", dir);
    qsort(names, nnames, sizeof *names, cmp_str);

    memset(&rs, 0, sizeof rs);
    snprintf(spec, sizeof spec, "%s/SPEC.md", hardening_root());
    cr_assert(load_section(&rs, spec), "%s has no section \"JSONTestSuite deviations\"", spec);
    memset(&devs, 0, sizeof devs);
    sb_adds(&devs, "");

    for (i = 0; i < nnames; i++) {
        char path[2048], base[256];
        size_t len = 0, wl;
        unsigned char *text, *wrapped;
        int kind = names[i][0] == 'y' ? 0 : names[i][0] == 'n' ? 1 : 2, want_accept, got_accept;
        const rule *r;
        frame_errno e, ew;
        size_t k, epos = 0, wpos = 0;

        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(base, sizeof base, "%s", names[i]);
        strip_json(base);
        text = (unsigned char *)read_file_all(path, &len);
        cr_assert(text != NULL, "cannot read %s", path);

        /* as a member value */
        wl = 14 + len + 1;
        wrapped = xmalloc(wl);
        memcpy(wrapped, "{\"size\":0,\"v\":", 14);
        memcpy(wrapped + 14, text, len);
        wrapped[wl - 1] = '}';
        e = verdict("member value", base, wrapped, wl, &mismatches, &epos);
        got_accept = e == FRAME_OK;
        if (got_accept) acc[kind]++;
        else rej[kind]++;

        r = find_rule(&rs, base);
        if (kind == 2 && !r) {
            cr_log_error("%s: %s does not state the outcome of this i_ case", base, rs.source);
            failures++;
            want_accept = got_accept;
        } else {
            want_accept = r ? r->accept : kind == 0;
        }
        if (r && kind != 2) sb_printf(&devs, "  %s: %s (%s)\n", base, r->accept ? "accepted" : "rejected",
                                      errname(e));
        if (got_accept != want_accept) {
            cr_log_error("%s: %s as a member value, expected %s", base, errname(e),
                         want_accept ? "accepted" : "rejected");
            failures++;
        } else if (r && !r->accept && r->err != FRAME_OK && r->err != e) {
            cr_log_error("%s: rejected with %s, %s says %s", base, errname(e), rs.source,
                         errname(r->err));
            failures++;
        } else if (r && !r->accept && r->offset >= 0 && epos != 14 + (size_t)r->offset) {
            cr_log_error("%s: %s at offset %zu of the case, %s says %ld", base, errname(e), epos - 14,
                         rs.source, r->offset);
            failures++;
        }

        /* as a whole header */
        ew = verdict("whole header", base, text, len, &mismatches, &wpos);
        for (k = 0; k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\n' || text[k] == '\r'); k++)
            ;
        if (k < len && text[k] == '{') {
            int json_ok = ew == FRAME_OK || ew == FRAME_E_SIZE_MISSING;
            whole_obj[kind]++;
            if (json_ok) whole_json_ok[kind]++;
            if (json_ok != got_accept) {
                cr_log_error("%s: as a whole header %s at %zu, but as a member value %s", base,
                             errname(ew), wpos, errname(e));
                failures++;
            }
        } else if (got_accept && k < len) {
            /* a valid non-object value is refused as a header for that only */
            if (ew != FRAME_E_NOT_OBJECT) {
                cr_log_error("%s: a valid non-object as a header gave %s, not NOT_OBJECT", base,
                             errname(ew));
                failures++;
            }
        }
        free(wrapped);
        free(text);
    }

    for (i = 0; i < rs.n; i++)
        if (!rs.r[i].used) {
            cr_log_error("%s line %d: `%s` matches no case in %s", rs.source, rs.r[i].line,
                         rs.r[i].pattern, dir);
            failures++;
        }

    printf("conformance: JSONTestSuite %s, %zu cases; %zu cases listed in %s\n", dir, nnames, rs.n,
           rs.source);
    printf("  as a member value {\"size\":0,\"v\":CASE}:\n");
    printf("    y_: %u accepted, %u rejected\n", acc[0], rej[0]);
    printf("    n_: %u accepted, %u rejected\n", acc[1], rej[1]);
    printf("    i_: %u accepted, %u rejected\n", acc[2], rej[2]);
    printf("  as a whole header (cases that are objects; well-formed = OK or SIZE_MISSING):\n");
    printf("    y_: %u objects, %u well-formed\n", whole_obj[0], whole_json_ok[0]);
    printf("    n_: %u objects, %u well-formed\n", whole_obj[1], whole_json_ok[1]);
    printf("    i_: %u objects, %u well-formed\n", whole_obj[2], whole_json_ok[2]);
    printf("  y_/n_ deviations (SPEC.md, I-JSON):\n%s", devs.len ? sb_str(&devs) : "  none\n");
    sb_free(&devs);
    for (i = 0; i < nnames; i++) free(names[i]);
    free(names);
    cr_expect_eq(mismatches, 0, "%d verdicts differ between library, reference and decoder", mismatches);
    cr_assert_eq(failures, 0, "%d JSONTestSuite expectations failed (see above)", failures);
}
