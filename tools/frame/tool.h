/*
 * tools/frame/tool.h: the `frame` command-line tool's shared declarations.
 *
 * Not part of libframe: the tool uses the library's public API only, and its
 * own names never take the library's frame_/FRAME_ prefix.
 *
 * Files: main.c (subcommands, options, exit codes, file I/O), build.c (headers
 * from -H/-m/-s/-j, encode), reader.c (the decoder driver shared by decode,
 * inspect, check, send and listen), commands.c (decode, inspect, check),
 * show.c (JSON lines, the human view, hex/base64, colours, progress bar),
 * net.c and net.h (addresses, sockets, answering frames), send.c, listen.c,
 * pcap.c or nopcap.c (captures as files of datagrams, with or without libpcap).
 */
#ifndef TOOL_H
#define TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "frame.h"

/* Bodies over this many octets get a progress bar on a terminal (stderr). */
#define PROGRESS_MIN (1u << 20)

/* Exit statuses, one per class of failure (README.md "Tools"). */
enum {
    EXIT_OKAY = 0,  /* done; `check`: the input is valid */
    EXIT_BAD = 1,   /* bad stream or frame (decode, check, replies), or encode refused the members */
    EXIT_USAGE = 2, /* bad command line or parameters */
    EXIT_IO = 3     /* file, pipe or network failure (refused, unreachable, in use, timeout) */
};

/* The SPEC parameters every subcommand takes, and --datagram. */
typedef struct params {
    frame_config cfg;
    int datagram;
    char size_name[FRAME_MAX_SIZE_NAME + 1];
    int capture_port; /* captures: only UDP datagrams to or from this port; -1 = all */
} params;

/* Long options shared by every subcommand; codes from OPT_COMMON up. */
enum { OPT_WIDTH = 1000, OPT_BIG, OPT_SIZE_NAME, OPT_RAW, OPT_MAX_HEADER, OPT_MAX_BODY, OPT_DATAGRAM, OPT_PORT };
#define COMMON_LONG_OPTIONS                                                                     \
    {"width", 1, NULL, OPT_WIDTH}, {"big-endian", 0, NULL, OPT_BIG},                            \
        {"size-name", 1, NULL, OPT_SIZE_NAME}, {"raw", 0, NULL, OPT_RAW},                       \
        {"max-header", 1, NULL, OPT_MAX_HEADER}, {"max-body", 1, NULL, OPT_MAX_BODY},           \
        {"datagram", 0, NULL, OPT_DATAGRAM}, {"help", 0, NULL, 'h'}
#define COMMON_HELP                                                                             \
    "Parameters (SPEC.md section 4; both ends must agree):\n"                                   \
    "  --width 1|2|4|8       prefix width in octets (default 4)\n"                              \
    "  --big-endian          big-endian prefix (default little-endian)\n"                       \
    "  --size-name NAME      name of the size member (default \"size\")\n"                      \
    "  --raw                 raw profile: no header, the prefix is the body length\n"           \
    "  --max-header N        longest header accepted, octets (default 65536)\n"                 \
    "  --max-body N          longest body accepted, octets (default 2^53-1)\n"                  \
    "  --datagram            one frame per datagram (UDP; for files: each FILE is a datagram)\n"
/* Files of datagrams: decode, inspect and check read captures too. */
#define CAPTURE_LONG_OPTION {"port", 1, NULL, OPT_PORT}
#define CAPTURE_HELP                                                                            \
    "With --datagram, a FILE that is a capture (pcap or pcapng, by its magic number)\n"          \
    "is a file of datagrams: the payload of each UDP packet in it, in order.\n"                  \
    "  --port N              in a capture, only UDP packets to or from port N\n"

/* pcap.c (with libpcap) or nopcap.c: calls `each` with the payload of every
 * UDP packet of a capture file (to or from `port`, or all when port < 0) and
 * `where` ("FILE: packet N (UDP a -> b)"); stops when it returns non-zero and
 * returns that, or EXIT_IO / EXIT_USAGE after a message. */
int capture_datagrams(const char *path, int port,
                      int (*each)(void *ctx, const unsigned char *d, size_t len, const char *where), void *ctx);
int capture_supported(void);

/* main.c */
extern const char *prog_name;
void params_init(params *p);
/* Handles one of the common options; returns 0, or EXIT_USAGE after a message. */
int params_option(params *p, int code, const char *arg);
/* Checks the finished config; returns 0 or EXIT_USAGE after a message. */
int params_check(params *p);
void fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
int parse_u64(const char *s, uint64_t *out);
/* Reads a whole file ("-" or NULL = stdin). Returns 0, or EXIT_IO after a message. */
int read_all(const char *path, unsigned char **data, size_t *len);
/* Writes all the iovecs to fd (looping over short writes): one frame, one write
 * call when the descriptor takes it. Returns 0 or -1 (errno set). */
int write_iov(int fd, struct iovec *iov, int n);

/* build.c: the members of a header, from -H, -m, -s, -j. */
typedef struct members members;
members *members_new(void);
void members_free(members *m);
/* Options -H JSON, -m NAME=VALUE, -s NAME=STRING, -j NAME=JSON: returns 0 or EXIT_USAGE. */
int members_option(members *m, int opt, const char *arg);
size_t members_count(const members *m);
/* Builds the head (prefix + header) for a body of body_size bytes into a new
 * buffer. Returns 0, or EXIT_BAD/EXIT_USAGE after a message. */
int build_head(const members *m, const frame_config *cfg, uint64_t body_size, unsigned char **head,
               size_t *head_len);
#define MEMBER_OPTIONS_HELP                                                                     \
    "  -H, --header JSON     add the members of this JSON object (repeatable)\n"                \
    "  -m, --member N=V      add member N; V is JSON when it is valid JSON, else a string\n"    \
    "  -s, --string N=V      add member N with the string V (never parsed)\n"                   \
    "  -j, --json N=V        add member N with the JSON value V (must be valid JSON)\n"

int cmd_encode(int argc, char **argv);

/* reader.c: runs a decoder and hands each complete frame to a callback. */
typedef struct reader reader;
typedef int (*done_fn)(reader *r, void *ctx); /* < 0 stops the decoder (I/O error) */
struct reader {
    frame_decoder dec;
    frame_callbacks cbs;
    const params *p;
    unsigned char *hbuf;
    /* the frame being decoded */
    uint64_t index;       /* its frame index (the decoder's) */
    uint64_t start;       /* stream offset of its prefix */
    uint64_t hlen;        /* header length H (0 in the raw profile) */
    char *header;         /* the header object's text, verbatim (NULL in the raw profile) */
    size_t header_len, header_cap;
    uint64_t body_size;
    uint64_t body_seen;
    unsigned char *body;  /* the whole body, when keep_body */
    size_t body_len, body_cap;
    unsigned char peek[64]; /* its first bytes, always */
    size_t peek_len;
    /* settings */
    int keep_body;
    const char *bodies_dir; /* each body to DIR/<frame index> */
    FILE *body_file;
    char body_path[4096];
    int progress;           /* progress bar on stderr for bodies over 1 MiB */
    done_fn done;
    void *ctx;
    uint64_t frames;        /* frames completed, over every stream and datagram */
    uint64_t bytes;         /* octets of completed frames */
    int io_failed;          /* a callback failed on I/O; message already printed */
    uint64_t missing;       /* for TRUNCATED: octets still needed */
};
/* Returns 0, or EXIT_USAGE/EXIT_IO after a message. */
int reader_init(reader *r, const params *p, done_fn done, void *ctx);
void reader_free(reader *r);
/* Start a new stream (new connection). */
void reader_reset(reader *r);
/* Feeds stream bytes: 0 while all is well, else the decoder error (or
 * FRAME_E_CALLBACK with r->io_failed). */
frame_errno reader_feed(reader *r, const void *data, size_t len);
frame_errno reader_finish(reader *r);
frame_errno reader_datagram(reader *r, const void *data, size_t len);
/* Prints "frame: NAME at offset N (frame K): description" on stderr, with
 * `where` (a file name, a peer; may be NULL) in front of the offset. */
void reader_report(const reader *r, frame_errno err, const char *where);
/* Runs the reader over a file, or each file as a datagram. Returns 0,
 * EXIT_BAD (reported) or EXIT_IO. */
int reader_run_file(reader *r, const char *path);
/* The error's one-line text without the "frame: " (into buf). */
void reader_error_text(const reader *r, frame_errno err, char *buf, size_t cap);

/* show.c */
enum { BODY_NONE, BODY_HEX, BODY_BASE64, BODY_TEXT };
/* The decode line of the frame in r, to `out`. */
void show_json_line(FILE *out, const reader *r, int body_mode);
/* The human view of the frame in r. */
void show_human(FILE *out, const reader *r, int colour);
void show_hex(FILE *out, const unsigned char *p, size_t n);
void show_base64(FILE *out, const unsigned char *p, size_t n);
void show_json_string(FILE *out, const unsigned char *p, size_t n);
int colour_wanted(const char *mode, int fd); /* mode: auto, always, never; -1 if bad */
void progress_show(const char *what, uint64_t done, uint64_t total);
void progress_clear(void);
int decode_options(int *body_mode, const char *arg); /* --body=...; 0 or EXIT_USAGE */
#define DECODE_OUTPUT_HELP                                                                      \
    "  --body none|hex|base64|text   include each body in its line (default none)\n"           \
    "  --bodies DIR          write each body to DIR/<frame index>\n"

int cmd_decode(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* send.c, listen.c */
int cmd_send(int argc, char **argv);
int cmd_listen(int argc, char **argv);

#endif /* TOOL_H */
