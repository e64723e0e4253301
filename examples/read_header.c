/*
 * Lesson 7: reading a header, and answering with a modified copy. A header
 * is JSON from a stranger: find each member you need, check its type and
 * range, and never assume one is there.
 *   read_header ['{"size":0,...}']    (no argument: the header below)
 * The views (frame_value) point into the header's bytes: no copy is made
 * until you ask for one, and none outlives those bytes (in a decoder, the
 * on_header callback). A string is still escaped in the view: unescape it
 * into your buffer with frame_value_string() or frame_header_get_string().
 */
#include <frame.h>
#include <stdio.h>
#include <string.h>

static const char example[] =
    "{\"size\":0,\"id\":42,\"name\":\"caf\\u00e9 \\ud83d\\ude00\",\"port\":8080,"
    "\"retries\":1e3,\"big\":18446744073709551616,"
    "\"user\":{\"login\":\"ann\",\"roles\":[\"admin\",\"dev\"]},\"password\":\"hunter2\"}";

/* A number in [min, max], or `fallback` with the reason: the library checks
 * the type (an integer written without fraction or exponent) and that it
 * fits in 64 bits; the range that makes sense is for you to check. */
static int64_t number(const frame_header *h, const char *name, int64_t min, int64_t max,
                      int64_t fallback) {
    int64_t v;
    frame_errno e = frame_header_get_int64(h, name, &v);
    if (e == FRAME_OK && v >= min && v <= max) {
        printf("%s: %lld\n", name, (long long)v);
        return v;
    }
    printf("%s: %s, using %lld\n", name, e == FRAME_OK ? "out of range" : frame_errname(e),
           (long long)fallback);
    return fallback;
}

static const char *type_name(frame_type t) {
    static const char *const names[] = {"?", "object", "array", "string", "number", "bool", "null"};
    return names[t <= FRAME_TYPE_NULL ? t : 0];
}

int main(int argc, char **argv) {
    /* Left out of the answer: the password, and the names we add ourselves
     * (the builder refuses a name twice: DUPLICATE_NAME). */
    static const char *const omit[] = {"password", "retries", "login", NULL};
    const char *json = argc > 1 ? argv[1] : example;
    char name[64], text[32];
    unsigned char out[1024];
    frame_value user, roles, v;
    frame_member m;
    frame_header h;
    frame_builder b;
    size_t pos, len, cursor = 0;
    const void *reply;
    int64_t retries;
    frame_errno e = frame_header_parse(&h, NULL, json, strlen(json), &pos);
    if (e != FRAME_OK) { /* a decoder does this before on_header: it never sees bad JSON */
        printf("not a valid header: %s at byte %zu\n", frame_errname(e), pos);
        return 1;
    }
    printf("header: %s\nmembers:", json);
    while (frame_value_next(&h.root, &cursor, &m)) /* names are escaped views too */
        printf(" %.*s (%s)", (int)m.name.len - 2, m.name.json + 1, type_name(m.value.type));
    putchar('\n');

    number(&h, "id", 1, INT64_MAX, 0);
    number(&h, "port", 1, 65535, 9000);
    retries = number(&h, "retries", 0, 10, 3);
    number(&h, "big", 0, INT64_MAX, 0);

    /* A string of unknown length: ask for the length first (buffer NULL:
     * BUFFER_TOO_SMALL, and len says how much), then decide; here, refuse
     * what does not fit in a fixed buffer. \u escapes become UTF-8. */
    e = frame_header_get_string(&h, "name", NULL, 0, &len);
    if (e == FRAME_E_BUFFER_TOO_SMALL && len < sizeof name)
        e = frame_header_get_string(&h, "name", name, sizeof name, &len);
    if (e == FRAME_OK) printf("name: %zu bytes: %s\n", len, name); /* may hold U+0000: use len */
    else if (e == FRAME_E_BUFFER_TOO_SMALL) printf("name: too long (%zu bytes)\n", len);
    else printf("name: %s\n", frame_errname(e));

    /* Nested values: find the object, then look inside it. */
    if (frame_header_find(&h, "user", &user) == FRAME_OK && user.type == FRAME_TYPE_OBJECT) {
        if (frame_value_find(&user, "login", &v) == FRAME_OK &&
            frame_value_string(&v, text, sizeof text, NULL) == FRAME_OK)
            printf("user.login: %s\n", text);
        if (frame_value_find(&user, "roles", &roles) == FRAME_OK) /* an array: iterate it */
            for (cursor = 0; frame_value_next(&roles, &cursor, &m);)
                if (frame_value_string(&m.value, text, sizeof text, NULL) == FRAME_OK)
                    printf("user.roles: %s%s\n", text,
                           frame_value_string_equals(&m.value, "admin", 5) ? " (an administrator)" : "");
    }

    /* The answer: the same header without the password, with retries set to
     * what we use, and the user's login copied up. add_members copies the
     * members as they are (already checked: no second validation); size is
     * never copied: the builder writes its own. */
    frame_builder_init(&b, NULL, out, sizeof out, 0);
    frame_builder_add_members(&b, &h.root, omit);
    frame_builder_add_int64(&b, "retries", retries);
    if (frame_header_find(&h, "user", &user) == FRAME_OK && frame_value_find(&user, "login", &v) == FRAME_OK)
        frame_builder_add_value(&b, "login", 5, &v); /* the value as it is, any type */
    if ((e = frame_builder_finish(&b, &reply, &len)) != FRAME_OK) {
        printf("cannot answer: %s\n", frame_strerror(e));
        return 1;
    }
    printf("reply: %.*s\n", (int)len - 4, (const char *)reply + 4); /* after the 4-byte prefix */
    return 0;
}
