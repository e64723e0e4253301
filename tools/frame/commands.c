/*
 * tools/frame/commands.c: `frame decode`, `frame inspect` and `frame check`,
 * three views of the same decoding (reader.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tool.h"

typedef struct view {
    int body_mode; /* decode */
    int colour;    /* inspect */
} view;

static int emit_line(reader *r, void *ctx) {
    const view *v = ctx;
    show_json_line(stdout, r, v->body_mode);
    if (ferror(stdout)) {
        fail("cannot write stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int emit_human(reader *r, void *ctx) {
    const view *v = ctx;
    show_human(stdout, r, v->colour);
    if (ferror(stdout)) {
        fail("cannot write stdout: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs the reader over every FILE (stdin if none). Stream files are separate
 * streams (offsets and frame numbers restart); --datagram files are the
 * datagrams of one sequence. Returns 0, EXIT_BAD or EXIT_IO; *failed gets
 * the file that failed. */
static int run_files(reader *r, int n, char **files, const char **failed) {
    int i, rc = 0;
    if (n == 0) {
        *failed = NULL;
        return reader_run_file(r, NULL);
    }
    for (i = 0; i < n && !rc; i++) {
        if (!r->p->datagram && i > 0) reader_reset(r);
        *failed = files[i];
        rc = reader_run_file(r, files[i]);
    }
    return rc;
}

static int finish_stdout(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fail("cannot write stdout: %s", strerror(errno));
        return EXIT_IO;
    }
    return rc;
}

static const char decode_help[] =
    "usage: frame decode [--body none|hex|base64|text] [--bodies DIR] [PARAMETERS] [FILE...]\n"
    "\n"
    "Prints one JSON line per frame of the stream in FILE (or stdin):\n"
    "  {\"frame\":K,\"offset\":F,\"header\":{...},\"body_length\":N}\n"
    "The header is the object as sent (line breaks between its tokens become spaces).\n"
    "At bad input the frames before it are printed, then\n"
    "  frame: ERROR_NAME at offset N (frame K): description\n"
    "on stderr, and the exit status is 1 (2: usage, 3: I/O).\n"
    "\n" DECODE_OUTPUT_HELP
    "  (text: the body as a JSON string, each ill-formed UTF-8 octet as U+FFFD)\n"
    "\n" COMMON_HELP CAPTURE_HELP;

int cmd_decode(int argc, char **argv) {
    static const struct option longopts[] = {
        {"body", 1, NULL, 'b'}, {"bodies", 1, NULL, 'B'}, CAPTURE_LONG_OPTION, COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    params p;
    view v = {BODY_NONE, 0};
    reader r;
    const char *dir = NULL, *failed;
    int c, rc = 0;
    params_init(&p);
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': rc = decode_options(&v.body_mode, optarg); break;
        case 'B': dir = optarg; break;
        case 'h': fputs(decode_help, stdout); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc) rc = params_check(&p);
    if (rc) return rc;
    if (dir && mkdir(dir, 0777) < 0 && errno != EEXIST) {
        fail("cannot create %s: %s", dir, strerror(errno));
        return EXIT_IO;
    }
    rc = reader_init(&r, &p, emit_line, &v);
    if (rc) return rc;
    r.keep_body = v.body_mode != BODY_NONE;
    r.bodies_dir = dir;
    rc = run_files(&r, argc - optind, argv + optind, &failed);
    reader_free(&r);
    return finish_stdout(rc);
}

static const char inspect_help[] =
    "usage: frame inspect [--color auto|always|never] [PARAMETERS] [FILE...]\n"
    "\n"
    "A human view of the stream in FILE (or stdin): each frame's offset, prefix,\n"
    "header length, the header pretty printed, the body length and its first 64\n"
    "octets as hex and text. Colours on a terminal only (auto; NO_COLOR is honoured).\n"
    "Exit status as for decode.\n"
    "\n" COMMON_HELP CAPTURE_HELP;

int cmd_inspect(int argc, char **argv) {
    static const struct option longopts[] = {
        {"color", 1, NULL, 'c'}, {"colour", 1, NULL, 'c'}, CAPTURE_LONG_OPTION, COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    params p;
    view v = {BODY_NONE, 0};
    reader r;
    const char *colour = "auto", *failed;
    int c, rc = 0;
    params_init(&p);
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': colour = optarg; break;
        case 'h': fputs(inspect_help, stdout); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc) rc = params_check(&p);
    if (rc) return rc;
    v.colour = colour_wanted(colour, 1);
    if (v.colour < 0) {
        fail("--color must be auto, always or never");
        return EXIT_USAGE;
    }
    rc = reader_init(&r, &p, emit_human, &v);
    if (rc) return rc;
    rc = run_files(&r, argc - optind, argv + optind, &failed);
    if (rc != EXIT_IO)
        printf("%s%llu frame%s, %llu octets%s%s\n", v.colour ? "\033[1m" : "", (unsigned long long)r.frames,
               r.frames == 1 ? "" : "s", (unsigned long long)r.bytes, rc ? ", then an error (on stderr)" : "",
               v.colour ? "\033[0m" : "");
    reader_free(&r);
    return finish_stdout(rc);
}

static const char check_help[] =
    "usage: frame check [PARAMETERS] [FILE...]\n"
    "\n"
    "Validates the stream in FILE (or stdin), or with --datagram each FILE as one\n"
    "datagram (or a capture of them), and prints a one-line summary. Exit status\n"
    "0: valid; 1: not valid (the error is also on stderr, as decode prints it);\n"
    "2: usage; 3: I/O.\n"
    "\n" COMMON_HELP CAPTURE_HELP;

int cmd_check(int argc, char **argv) {
    static const struct option longopts[] = {CAPTURE_LONG_OPTION, COMMON_LONG_OPTIONS, {NULL, 0, NULL, 0}};
    params p;
    reader r;
    const char *failed = NULL;
    int c, rc = 0;
    params_init(&p);
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(check_help, stdout); return EXIT_OKAY;
        case '?': rc = EXIT_USAGE; break;
        default: rc = params_option(&p, c, optarg); break;
        }
    }
    if (!rc) rc = params_check(&p);
    if (rc) return rc;
    rc = reader_init(&r, &p, NULL, NULL);
    if (rc) return rc;
    rc = run_files(&r, argc - optind, argv + optind, &failed);
    if (!rc) {
        printf("valid: %llu frame%s, %llu octets\n", (unsigned long long)r.frames, r.frames == 1 ? "" : "s",
               (unsigned long long)r.bytes);
    } else if (rc == EXIT_BAD) {
        char text[512];
        reader_error_text(&r, frame_decoder_errno(&r.dec), text, sizeof text);
        printf("invalid: %s%s%s (after %llu valid frame%s)\n", failed ? failed : "", failed ? ": " : "", text,
               (unsigned long long)r.frames, r.frames == 1 ? "" : "s");
    }
    reader_free(&r);
    return finish_stdout(rc);
}
