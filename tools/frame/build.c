/*
 * tools/frame/build.c: headers from the command line (-H, -m, -s, -j) through
 * libframe's builder, and `frame encode`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

typedef struct member_opt {
    int kind;         /* 'H', 'm', 's', 'j' */
    const char *text; /* the option's argument (argv memory) */
} member_opt;

struct members {
    member_opt *v;
    size_t n, cap;
};

members *members_new(void) {
    return calloc(1, sizeof(members));
}

void members_free(members *m) {
    if (m) free(m->v);
    free(m);
}

size_t members_count(const members *m) {
    return m->n;
}

int members_option(members *m, int opt, const char *arg) {
    if (opt != 'H' && !strchr(arg, '=')) {
        fail("-%c wants NAME=VALUE, not \"%s\"", opt, arg);
        return EXIT_USAGE;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        member_opt *v = realloc(m->v, cap * sizeof *v);
        if (!v) {
            fail("out of memory");
            return EXIT_USAGE;
        }
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n].kind = opt;
    m->v[m->n].text = arg;
    m->n++;
    return 0;
}

/* A scratch builder to validate `len` bytes as one JSON value (-m): FRAME_OK
 * or the builder's error. */
static frame_errno check_json(const char *json, size_t len) {
    static const frame_config wide = {8, 0, 0, NULL, 0xFFFFFFFFu, 0};
    frame_builder b;
    const void *out;
    size_t cap = len + 64;
    unsigned char *buf = malloc(cap);
    frame_errno err;
    if (!buf) return FRAME_E_BUFFER_TOO_SMALL;
    frame_builder_init(&b, &wide, buf, cap, 0);
    frame_builder_add_raw(&b, "v", json, len);
    err = frame_builder_finish(&b, &out, &len);
    free(buf);
    return err;
}

static void member_error(frame_errno err, const char *name) {
    if (err == FRAME_E_ARGUMENT)
        fail("cannot encode: ARGUMENT: the raw profile has no header, so member \"%s\" cannot be added", name);
    else
        fail("cannot encode: %s: %s (member \"%s\")", frame_errname(err), frame_strerror(err), name);
}

/* The size name used to read -H: the object is read as a header with this
 * member spliced in first, so its members are counted as in the frame. */
#define SPLICED_NAME "~frame tool: -H~"

/* Adds the members of the JSON object `json` (option -H). */
static frame_errno add_object(frame_builder *b, const char *json) {
    static const frame_config cfg = {8, 0, 0, SPLICED_NAME, 0xFFFFFFFFu, 0};
    static const char splice[] = "{\"" SPLICED_NAME "\":0";
    size_t len = strlen(json), lead = strspn(json, " \t\r\n"), cursor = 0, pos = 0, add;
    const char *rest = json + lead + 1;
    char *text;
    frame_header h;
    frame_member mem;
    frame_errno err;
    if (json[lead] != '{') {
        fail("-H wants a JSON object, not \"%s\"", json);
        return FRAME_E_NOT_OBJECT;
    }
    /* {"<spliced>":0 then "," unless the object is empty, then the rest */
    add = sizeof splice - 1 + 1;
    text = malloc(len + add + 1);
    if (!text) return FRAME_E_BUFFER_TOO_SMALL;
    memcpy(text, splice, sizeof splice - 1);
    text[sizeof splice - 1] = rest[strspn(rest, " \t\r\n")] == '}' ? ' ' : ',';
    memcpy(text + add, rest, strlen(rest) + 1);
    err = frame_header_parse(&h, &cfg, text, strlen(text), &pos);
    if (err) {
        /* offsets within the -H text: the splice sits where its '{' was */
        size_t at = pos >= add ? pos - add + lead + 1 : lead;
        fail("-H: %s at offset %zu: %s", frame_errname(err), at, frame_strerror(err));
        free(text);
        return err;
    }
    while (!err && frame_value_next(&h.root, &cursor, &mem)) {
        size_t nlen = 0;
        char *name;
        if (frame_value_string_equals(&mem.name, SPLICED_NAME, sizeof SPLICED_NAME - 1)) continue;
        frame_value_string(&mem.name, NULL, 0, &nlen);
        name = malloc(nlen + 1);
        if (!name) {
            err = FRAME_E_BUFFER_TOO_SMALL;
            break;
        }
        frame_value_string(&mem.name, name, nlen + 1, &nlen);
        if (strlen(name) != nlen) {
            fail("-H: member names containing U+0000 cannot be passed to the builder");
            free(name);
            free(text);
            return FRAME_E_ARGUMENT;
        }
        err = frame_builder_add_raw(b, name, mem.value.json, mem.value.len);
        if (err && err != FRAME_E_BUFFER_TOO_SMALL) member_error(err, name);
        free(name);
    }
    free(text);
    return err;
}

/* Adds one -m/-s/-j member. */
static frame_errno add_member(frame_builder *b, int kind, const char *text) {
    const char *eq = strchr(text, '=');
    size_t nlen = (size_t)(eq - text);
    const char *value = eq + 1;
    size_t vlen = strlen(value);
    char *name = malloc(nlen + 1);
    frame_errno err;
    if (!name) return FRAME_E_BUFFER_TOO_SMALL;
    memcpy(name, text, nlen);
    name[nlen] = 0;
    if (kind == 'm') {
        /* JSON when it is valid JSON, else a string. */
        frame_errno json = check_json(value, vlen);
        kind = json == FRAME_E_JSON_SYNTAX ? 's' : 'j';
    }
    if (kind == 's') err = frame_builder_add_stringn(b, name, value, vlen);
    else err = frame_builder_add_raw(b, name, value, vlen);
    if (err && err != FRAME_E_BUFFER_TOO_SMALL) member_error(err, name);
    free(name);
    return err;
}

int build_head(const members *m, const frame_config *cfg, uint64_t body_size, unsigned char **head,
               size_t *head_len) {
    size_t cap = 128, i;
    for (i = 0; i < m->n; i++) cap += 6 * strlen(m->v[i].text) + 8;
    for (;;) {
        frame_builder b;
        const void *out;
        frame_errno err;
        unsigned char *buf = malloc(cap);
        if (!buf) {
            fail("out of memory");
            return EXIT_BAD;
        }
        err = frame_builder_init(&b, cfg, buf, cap, body_size);
        if (err && err != FRAME_E_BUFFER_TOO_SMALL) {
            fail("cannot encode: %s: %s (body of %llu octets)", frame_errname(err), frame_strerror(err),
                 (unsigned long long)body_size);
            free(buf);
            return EXIT_BAD;
        }
        for (i = 0; !err && i < m->n; i++)
            err = m->v[i].kind == 'H' ? add_object(&b, m->v[i].text) : add_member(&b, m->v[i].kind, m->v[i].text);
        if (!err) {
            err = frame_builder_finish(&b, &out, head_len);
            if (err && err != FRAME_E_BUFFER_TOO_SMALL)
                fail("cannot encode: %s: %s", frame_errname(err), frame_strerror(err));
        }
        if (err == FRAME_E_BUFFER_TOO_SMALL && cap < ((size_t)1 << 40)) {
            free(buf);
            cap *= 2;
            continue;
        }
        if (err) {
            free(buf);
            return EXIT_BAD;
        }
        memmove(buf, out, *head_len);
        *head = buf;
        return 0;
    }
}

static const char encode_help[] =
    "usage: frame encode [-H JSON] [-m NAME=VALUE]... [-n COUNT] [PARAMETERS] [FILE]\n"
    "\n"
    "Writes one canonical frame (SPEC.md section 8) to stdout: the header holds the\n"
    "members given, in order, after the size member; the body is FILE or stdin.\n"
    "\n" MEMBER_OPTIONS_HELP
    "  -n, --count COUNT     write the frame COUNT times (default 1)\n"
    "  -o, --output FILE     write to FILE instead of stdout\n"
    "  --empty               an empty body; stdin is not read\n"
    "\n" COMMON_HELP
    "\nExample: printf hello | frame encode -m name=greeting.txt -m n=3 | frame decode\n";

int cmd_encode(int argc, char **argv) {
    static const struct option longopts[] = {
        {"header", 1, NULL, 'H'}, {"member", 1, NULL, 'm'}, {"string", 1, NULL, 's'},
        {"json", 1, NULL, 'j'},   {"count", 1, NULL, 'n'},  {"output", 1, NULL, 'o'},
        {"empty", 0, NULL, 'e'},  COMMON_LONG_OPTIONS,      {NULL, 0, NULL, 0}};
    params p;
    members *m = members_new();
    uint64_t count = 1, i;
    const char *output = NULL;
    unsigned char *body = NULL, *head = NULL;
    size_t body_len = 0, head_len = 0;
    int c, rc = 0, fd = 1, empty = 0;
    params_init(&p);
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "H:m:s:j:n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': case 'm': case 's': case 'j': rc = members_option(m, c, optarg); break;
        case 'n':
            if (parse_u64(optarg, &count)) {
                fail("-n wants a count, not \"%s\"", optarg);
                rc = EXIT_USAGE;
            }
            break;
        case 'o': output = optarg; break;
        case 'e': empty = 1; break;
        case 'h': fputs(encode_help, stdout); members_free(m); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc && argc - optind > 1) {
        fail("encode takes at most one FILE (the body)");
        rc = EXIT_USAGE;
    }
    if (!rc) rc = params_check(&p);
    if (!rc && !empty) rc = read_all(optind < argc ? argv[optind] : NULL, &body, &body_len);
    if (!rc) rc = build_head(m, &p.cfg, body_len, &head, &head_len);
    if (!rc && output) {
        fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fail("cannot create %s: %s", output, strerror(errno));
            rc = EXIT_IO;
        }
    }
    for (i = 0; !rc && i < count; i++) {
        struct iovec iov[2];
        iov[0].iov_base = head;
        iov[0].iov_len = head_len;
        iov[1].iov_base = body;
        iov[1].iov_len = body_len;
        if (write_iov(fd, iov, 2) < 0) {
            fail("cannot write %s: %s", output ? output : "stdout", strerror(errno));
            rc = EXIT_IO;
        }
    }
    if (fd > 1 && close(fd) < 0 && !rc) {
        fail("cannot write %s: %s", output, strerror(errno));
        rc = EXIT_IO;
    }
    free(head);
    free(body);
    members_free(m);
    return rc;
}
