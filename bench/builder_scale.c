/*
 * How the builder's cost grows with the member count: builds the same kind
 * of header with N members (default 20 and 512) many times, inside one
 * function, scale_build(), that callgrind counts alone:
 *
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=scale_build \
 *       build/bench/builder_scale --members 512 --reps 20
 *
 * Instructions per member = the total / (members * reps). `make bench-scale`
 * runs both sizes and prints that. A header whose cost per member stays
 * flat has a duplicate check that does not rescan what it wrote.
 * Members: "m<k>_<word>": a uint64, a string, a bool or an int64 in turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define MAX_MEMBERS FRAME_MAX_MEMBERS

static char names[MAX_MEMBERS][24];
/* 64 KiB: the longest header here (~20 KB), the name table (8 KiB) and room over. */
static unsigned char buf[65536];

static void make_names(unsigned n) {
    static const char *const words[] = {"id", "status", "content_type", "seq", "owner", "tag"};
    unsigned k;
    for (k = 0; k < n; k++) snprintf(names[k], sizeof names[k], "m%u_%s", k, words[k % 6]);
}

/* The measured part: reps headers of n members, each finished. */
size_t scale_build(unsigned n, unsigned reps);
#if defined(__GNUC__)
__attribute__((noinline))
#endif
size_t scale_build(unsigned n, unsigned reps) {
    size_t total = 0;
    unsigned r, k;
    for (r = 0; r < reps; r++) {
        frame_builder b;
        size_t len = 0;
        frame_errno e = frame_builder_init(&b, NULL, buf, sizeof buf, 1024);
        for (k = 0; k < n && !e; k++) {
            switch (k & 3) {
            case 0: e = frame_builder_add_uint64(&b, names[k], 1000003u * k); break;
            case 1: e = frame_builder_add_string(&b, names[k], "text/plain; charset=utf-8"); break;
            case 2: e = frame_builder_add_bool(&b, names[k], (int)(k & 4)); break;
            default: e = frame_builder_add_int64(&b, names[k], -(long long)k * 7919); break;
            }
        }
        if (!e) e = frame_builder_finish(&b, NULL, &len);
        if (e) {
            fprintf(stderr, "builder_scale: %s at member %u\n", frame_errname(e), k);
            exit(1);
        }
        total += len;
    }
    return total;
}

int main(int argc, char **argv) {
    unsigned n = 20, reps = 100;
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--members") == 0 && i + 1 < argc) n = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: builder_scale [--members N (1..%u)] [--reps N]\n", MAX_MEMBERS - 1);
            return 2;
        }
    }
    /* The size member is one of the FRAME_MAX_MEMBERS. */
    if (n < 1 || n > MAX_MEMBERS - 1 || reps < 1) return 2;
    make_names(n);
    printf("{\"members\":%u,\"reps\":%u,\"bytes\":%zu}\n", n, reps, scale_build(n, reps));
    return 0;
}
