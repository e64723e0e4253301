/*
 * libframe: length-prefixed frames with a JSON header, for byte streams and
 * datagrams. The wire format is specified in SPEC.md.
 *
 *     frame = prefix (H, 4 octets little-endian) | header (H octets of JSON,
 *             an object with "size": N) | body (N octets)
 *
 * Zero allocation: the caller owns every struct and buffer declared here. The
 * library keeps no global mutable state and uses nothing from the C library
 * beyond mem* and str* functions, so two decoders in two threads never
 * interact and the code builds freestanding for microcontrollers.
 *
 * The structs below are allocated by the caller, so their size is part of the
 * ABI. Fields that start with an underscore are private: read them through the
 * functions, never write them.
 *
 * Compile-time options (define before including, same value in every file):
 *   FRAME_API         decoration of every public function (e.g. for export).
 *
 * Options for compiling the library itself (the files of lib/, or the single header's
 * implementation); results are the same with any of them:
 *   FRAME_SMALL       the least code (also implied by -Os): for small targets.
 *   FRAME_KERNEL_SSE2, FRAME_KERNEL_NEON, FRAME_KERNEL_WORD, FRAME_KERNEL_SMALL
 *                     force one string kernel (the code that reads a header
 *                     16, 8 or 1 bytes at a time); by default the target picks
 *                     SSE2 on x86-64, NEON on AArch64, WORD elsewhere, SMALL
 *                     with FRAME_SMALL. `make FRAME_KERNEL=word` does it for
 *                     every build of lib/.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION_MAJOR 1
#define FRAME_VERSION_MINOR 1
#define FRAME_VERSION_PATCH 0
#define FRAME_VERSION_STRING "1.1.0"
/* One number that grows with every release: 10000*major + 100*minor + patch. */
#define FRAME_VERSION_NUMBER \
    (FRAME_VERSION_MAJOR * 10000 + FRAME_VERSION_MINOR * 100 + FRAME_VERSION_PATCH)

#ifndef FRAME_API
#define FRAME_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * The error table: X(number, NAME, description). Numbers are stable and only
 * ever appended; SPEC.md names each error (without the FRAME_E_ prefix) and
 * says when it is detected. The Python codec uses the same names.
 */
#define FRAME_ERRNO_MAP(X)                                                                  \
    X(0, OK, "success")                                                                     \
    X(1, PAUSED, "a callback paused the decoder; call frame_decoder_resume()")              \
    X(2, CALLBACK, "a callback returned an error code")                                    \
    X(3, CONFIG, "invalid configuration")                                                  \
    X(4, ARGUMENT, "invalid argument or call out of order")                                \
    X(5, HEADER_EMPTY, "the prefix declares an empty header")                              \
    X(6, HEADER_TOO_LARGE, "the header is longer than the maximum header length")          \
    X(7, LOOKS_LIKE_TEXT, "the prefix is printable text: a text protocol (HTTP?) is talking to a frame port") \
    X(8, LOOKS_LIKE_TLS, "the prefix is a TLS record: a TLS client is talking to a plain frame port") \
    X(9, JSON_SYNTAX, "the header is not well-formed JSON")                                \
    X(10, NOT_OBJECT, "the header's top-level value is not an object")                     \
    X(11, BOM, "the header starts with a byte-order mark")                                 \
    X(12, BAD_UTF8, "the header contains bytes that are not valid UTF-8")                  \
    X(13, LONE_SURROGATE, "a \\u escape is an unpaired surrogate")                         \
    X(14, DUPLICATE_NAME, "an object has two members with the same name")                  \
    X(15, TOO_DEEP, "the header nests deeper than FRAME_MAX_DEPTH")                        \
    X(16, TOO_MANY_MEMBERS, "the header has more than FRAME_MAX_MEMBERS members")          \
    X(17, SIZE_MISSING, "the header has no size member")                                   \
    X(18, SIZE_INVALID, "the size member is not a plain non-negative integer")             \
    X(19, BODY_TOO_LARGE, "the declared body size is larger than the maximum body length") \
    X(20, TRUNCATED, "the stream ended inside a frame")                                    \
    X(21, DATAGRAM_TRUNCATED, "the datagram ends before its frame does")                   \
    X(22, DATAGRAM_TRAILING, "the datagram holds bytes after its frame")                   \
    X(23, NOT_FOUND, "no member has that name")                                            \
    X(24, TYPE, "the value has another JSON type")                                         \
    X(25, RANGE, "the number is out of range for the requested type")                      \
    X(26, BUFFER_TOO_SMALL, "the buffer is too small")                                     \
    X(27, RESERVED_NAME, "the size member is written by the builder itself")               \
    X(28, SIZE_MISMATCH, "the body does not match the declared size")                      \
    X(29, WRITE, "the write callback failed")                                              \
    X(30, WOULD_BLOCK, "the transport took fewer bytes; call frame_encoder_resume() later") \
    X(31, CLOSED, "the stream ended between frames: no more frames (not an error)")       \
    X(32, READ, "reading from the file descriptor failed (errno says why)")

typedef enum frame_errno {
#define FRAME__ENUM(n, name, desc) FRAME_E_##name = n,
    FRAME_ERRNO_MAP(FRAME__ENUM)
#undef FRAME__ENUM
    FRAME_OK = FRAME_E_OK
} frame_errno;

/* "BODY_TOO_LARGE" for FRAME_E_BODY_TOO_LARGE; "UNKNOWN" for other numbers. */
FRAME_API const char *frame_errname(frame_errno err);
/* A one-line English description; "unknown error" for other numbers. */
FRAME_API const char *frame_strerror(frame_errno err);

/* FRAME_VERSION_STRING of the built library (may differ from the header's
 * when a program runs against a newer shared library). */
FRAME_API const char *frame_version(void);
/* FRAME_VERSION_NUMBER of the built library. */
FRAME_API unsigned frame_version_number(void);

/* ------------------------------------------------------------------------ */
/* Configuration (SPEC.md "Parameters")                                     */
/* ------------------------------------------------------------------------ */

/* Limits that SPEC.md fixes for every header. */
#define FRAME_MAX_DEPTH 32            /* objects and arrays nested, the header included */
#define FRAME_MAX_MEMBERS 512         /* members in one header, nested objects included */
#define FRAME_MAX_SIZE_NAME 64        /* bytes in the name of the size member */
#define FRAME_DEFAULT_MAX_HEADER 65536u
#define FRAME_MAX_BODY_LIMIT 9007199254740991ull /* 2^53 - 1 */

/*
 * What two endpoints agree on. A zeroed struct (or a NULL pointer wherever a
 * config is taken) means the defaults of SPEC.md: 4-octet little-endian
 * prefix, JSON header with the member "size", 64 KiB header, 2^53-1 body.
 *
 * A config passed to an init function must stay valid and unchanged for as
 * long as the object initialised with it is used (it is referenced, not
 * copied, to keep the decoder small).
 */
typedef struct frame_config {
    unsigned prefix_width; /* 1, 2, 4 or 8 octets; 0 = 4 */
    int big_endian;        /* 0 = little-endian prefix (default), 1 = big-endian */
    int raw;               /* 1 = raw profile: no header, the prefix is the body length */
    const char *size_name; /* NUL-terminated name of the size member; NULL = "size".
                              1..FRAME_MAX_SIZE_NAME printable ASCII bytes, no '"' or '\\' */
    uint64_t max_header;   /* longest header accepted, in octets; 0 = 65536; at most 2^32-1 */
    uint64_t max_body;     /* longest body accepted, in octets; 0 = 2^53-1 (also the most allowed) */
} frame_config;

/*
 * The defaults of SPEC.md, spelt out: start from this and change what the
 * two endpoints agree on, so that a field added in a later version gets its
 * default too (since 1.1).
 * Example: frame_config cfg = FRAME_CONFIG_INIT; cfg.size_name = "data_size";
 */
#define FRAME_CONFIG_INIT {4u, 0, 0, "size", FRAME_DEFAULT_MAX_HEADER, FRAME_MAX_BODY_LIMIT}

/*
 * Checks a config: FRAME_OK, or FRAME_E_CONFIG when a field is out of range
 * (width not 1/2/4/8, max_header above 2^32-1, max_body above 2^53-1, a size name that is empty, too
 * long or needs escaping). Every init function calls it; call it yourself to
 * check a config read from a file. NULL is valid (the defaults).
 */
FRAME_API frame_errno frame_config_check(const frame_config *cfg);

/* ------------------------------------------------------------------------ */
/* Reading a header: values and members                                     */
/* ------------------------------------------------------------------------ */

typedef enum frame_type {
    FRAME_TYPE_INVALID = 0, /* not a JSON value (only from accessors given bad input) */
    FRAME_TYPE_OBJECT,
    FRAME_TYPE_ARRAY,
    FRAME_TYPE_STRING,
    FRAME_TYPE_NUMBER,
    FRAME_TYPE_BOOL,
    FRAME_TYPE_NULL
} frame_type;

/*
 * A view of one JSON value inside a header: `json` points at its first byte
 * (a string's opening quote) and `len` covers it to its last byte. It borrows
 * the header's memory and is valid as long as that memory is.
 */
typedef struct frame_value {
    const char *json;
    size_t len;
    frame_type type;
} frame_value;

/* One member of an object: its name (a FRAME_TYPE_STRING view, still escaped)
 * and its value. Array elements come back with an empty name (len 0). */
typedef struct frame_member {
    frame_value name;
    frame_value value;
} frame_member;

/*
 * A parsed header, as handed to the on_header callback: the whole header
 * object as a value, and the body size it declares. In the raw profile `root`
 * is empty (json NULL, len 0) and body_size is the prefix.
 */
typedef struct frame_header {
    frame_value root;
    uint64_t body_size;
} frame_header;

/*
 * Validates `len` bytes of header JSON against SPEC.md (I-JSON, limits, the
 * size member named in cfg, max_body) and fills *out, which then points into
 * `json`. Returns FRAME_OK or the header error; *err_pos (may be NULL) gets
 * the offset within `json` where the error was detected (SPEC.md "Errors").
 * Does not check the header length against max_header. Runs in time linear in
 * len (near-linear with FRAME_MAX_MEMBERS) and bounded stack, never recurses.
 */
FRAME_API frame_errno frame_header_parse(frame_header *out, const frame_config *cfg,
                                         const void *json, size_t len, size_t *err_pos);

/*
 * Finds the member `name` (NUL-terminated UTF-8, compared after unescaping)
 * of the object `obj` and stores its value in *out.
 * Returns FRAME_OK, FRAME_E_NOT_FOUND, or FRAME_E_TYPE if obj is not an object.
 * Example: frame_value_find(&h->root, "file_name", &v);
 */
FRAME_API frame_errno frame_value_find(const frame_value *obj, const char *name, frame_value *out);

/*
 * Iterates the members of an object, or the elements of an array, in order.
 * Set *cursor to 0 before the first call. Returns 1 and fills *m while there
 * is one more, 0 at the end (and on a value that is neither object nor array).
 * Example: size_t c = 0; frame_member m; while (frame_value_next(&h->root, &c, &m)) ...
 */
FRAME_API int frame_value_next(const frame_value *container, size_t *cursor, frame_member *m);

/* Reads an integer written without fraction or exponent. FRAME_OK,
 * FRAME_E_TYPE (not such a number) or FRAME_E_RANGE (does not fit). */
FRAME_API frame_errno frame_value_int64(const frame_value *v, int64_t *out);
FRAME_API frame_errno frame_value_uint64(const frame_value *v, uint64_t *out);
/* FRAME_OK with *out = 0 or 1, or FRAME_E_TYPE. */
FRAME_API frame_errno frame_value_bool(const frame_value *v, int *out);
/* 1 if the value is null, else 0. */
FRAME_API int frame_value_is_null(const frame_value *v);

/*
 * Unescapes a string value into buf as UTF-8 (\uXXXX and surrogate pairs
 * become UTF-8) and NUL-terminates it. *len gets the byte length without the
 * NUL (the string may itself contain U+0000, so use *len, not strlen).
 * Returns FRAME_OK; FRAME_E_TYPE if v is not a string; FRAME_E_BUFFER_TOO_SMALL
 * when cap < *len + 1, with *len set to the length needed (buf untouched).
 * Pass buf NULL and cap 0 to ask for the length; len may be NULL when the
 * length is not wanted. Malformed text (only possible in a view the caller
 * made up) gives its JSON_SYNTAX, BAD_UTF8 or LONE_SURROGATE.
 */
FRAME_API frame_errno frame_value_string(const frame_value *v, char *buf, size_t cap, size_t *len);

/* 1 if the string value `v` unescapes to exactly the `len` bytes at `s`. */
FRAME_API int frame_value_string_equals(const frame_value *v, const char *s, size_t len);

/* Shorthands on the header's top-level object: find `name`, then read it.
 * Each returns what frame_value_find or the reader returns. */
FRAME_API frame_errno frame_header_find(const frame_header *h, const char *name, frame_value *out);
FRAME_API frame_errno frame_header_get_int64(const frame_header *h, const char *name, int64_t *out);
FRAME_API frame_errno frame_header_get_uint64(const frame_header *h, const char *name, uint64_t *out);
FRAME_API frame_errno frame_header_get_bool(const frame_header *h, const char *name, int *out);
FRAME_API frame_errno frame_header_get_string(const frame_header *h, const char *name, char *buf,
                                              size_t cap, size_t *len);

/* ------------------------------------------------------------------------ */
/* Decoder                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct frame_decoder frame_decoder;

/* What a callback returns. Any negative number is an application error: the
 * decoder stops with FRAME_E_CALLBACK and keeps the number for
 * frame_decoder_callback_code(). */
enum {
    FRAME_CONTINUE = 0, /* go on */
    FRAME_SKIP = 1,     /* on_header only: discard this frame's body (exactly body_size
                           bytes, no on_body calls), then on_frame_end as usual */
    FRAME_PAUSE = 2     /* stop now: frame_feed returns what it consumed, errno PAUSED */
};

/*
 * The callbacks. Any may be NULL (treated as returning FRAME_CONTINUE). The
 * struct must outlive the decoder; several decoders may share one.
 */
typedef struct frame_callbacks {
    /* A header arrived and is valid. `h` and the memory it views (the header
     * buffer) are valid until this callback returns; copy what you keep. */
    int (*on_header)(frame_decoder *d, const frame_header *h);
    /* Body bytes, zero-copy: `at` points into the data given to frame_feed
     * and is valid until this callback returns. A body arrives in one or more
     * chunks that add up to body_size; an empty body has no chunks. */
    int (*on_body)(frame_decoder *d, const void *at, size_t len);
    /* The frame's last byte has been consumed. */
    int (*on_frame_end)(frame_decoder *d);
} frame_callbacks;

/* The decoder state. Allocate it anywhere (stack, static, struct member);
 * no field needs freeing. */
struct frame_decoder {
    void *data; /* public: yours, for the callbacks */
    const frame_callbacks *_cb;
    const frame_config *_cfg;
    unsigned char *_buf;
    uint32_t _have;      /* header bytes buffered */
    int _callback_code;
    unsigned char _state, _errno, _width, _flags; /* below offset 32: one Thumb instruction away */
    uint64_t _offset;    /* stream offset of the next byte, or of the error */
    uint64_t _remaining; /* bytes left in the current part */
    uint64_t _frame;     /* index of the current frame */
    uint64_t _declared;  /* prefix value, then body size (also reported on errors) */
};

/*
 * Prepares a decoder at the start of a stream. `cfg` (NULL = defaults) and
 * `cb` must outlive it. `header_buf` of `header_cap` bytes receives each
 * header while it arrives: header_cap must be at least the effective maximum
 * header length, max_header or the largest value the prefix can hold if that
 * is smaller (NULL/0 is fine in the raw profile). `data` is stored in
 * d->data. Returns FRAME_OK, FRAME_E_CONFIG, or FRAME_E_ARGUMENT (NULL d or
 * cb, header buffer too small). A decoder is never half-initialised: on an
 * error it is left failed with that error.
 */
FRAME_API frame_errno frame_decoder_init(frame_decoder *d, const frame_config *cfg,
                                         const frame_callbacks *cb, void *header_buf,
                                         size_t header_cap, void *data);

/*
 * Consumes bytes of the stream, any amount, split anywhere: feeding a stream
 * whole or one byte at a time gives the same callbacks in the same order.
 * Returns the number of bytes consumed: all `len` of them unless a pause or
 * an error stopped the decoder early. Check frame_decoder_errno() after every
 * call, since a pause or an error can also come with the last byte. After a
 * pause, call frame_decoder_resume() and feed the unconsumed rest again; after
 * an error the rest is not wanted. A failed decoder consumes nothing until
 * frame_decoder_reset().
 * Not thread-safe for one decoder; distinct decoders are independent.
 */
FRAME_API size_t frame_feed(frame_decoder *d, const void *data, size_t len);

/*
 * Tells the decoder the stream has ended. Returns FRAME_OK at a frame
 * boundary (after delivering an on_frame_end still due); otherwise fails the
 * decoder with FRAME_E_TRUNCATED (the error offset is the stream length) and
 * stores in *missing (may be NULL) the least number of bytes that were still
 * needed (frame_decoder_needed()). A failed decoder returns its error; a
 * paused one, or one whose on_frame_end pauses here, returns FRAME_E_PAUSED:
 * resume it and call frame_finish() again.
 */
FRAME_API frame_errno frame_finish(frame_decoder *d, uint64_t *missing);

/*
 * Decodes one datagram that must hold exactly one whole frame (SPEC.md
 * "Datagrams"). Everything is checked before any callback runs, so a bad
 * datagram never produces a partial frame: FRAME_E_DATAGRAM_TRUNCATED,
 * FRAME_E_DATAGRAM_TRAILING or a header error, with the offset counted from
 * the datagram's start. A whole header is read in place (the header buffer
 * holds at most the start of a truncated one). The decoder must be at a frame boundary; it counts frames across
 * datagrams and fails like frame_feed (reset it to go on after an error).
 * Returns FRAME_OK, FRAME_E_PAUSED (a callback paused: the frame is
 * complete, resume before the next datagram) or the error.
 */
FRAME_API frame_errno frame_feed_datagram(frame_decoder *d, const void *data, size_t len);

/* After a pause: clears it, so the next frame_feed goes on where it stopped.
 * Does nothing to a decoder that is not paused. */
FRAME_API void frame_decoder_resume(frame_decoder *d);

/* Back to the start of a new stream (offset 0, frame 0, no error), keeping
 * the config, callbacks, buffer and data. */
FRAME_API void frame_decoder_reset(frame_decoder *d);

/* FRAME_OK, FRAME_E_PAUSED, or the error that stopped the decoder. */
FRAME_API frame_errno frame_decoder_errno(const frame_decoder *d);
/* The stream offset of the error (SPEC.md says which byte for each error);
 * while running, the number of bytes consumed so far. */
FRAME_API uint64_t frame_decoder_offset(const frame_decoder *d);
/* Index (from 0) of the frame being decoded, or of the one that failed. */
FRAME_API uint64_t frame_decoder_frame_index(const frame_decoder *d);
/* The declared size of the current frame: the prefix value until the header
 * is parsed, then the body size; for HEADER_TOO_LARGE and BODY_TOO_LARGE the
 * size that was refused (UINT64_MAX if it does not fit in 64 bits). */
FRAME_API uint64_t frame_decoder_declared_size(const frame_decoder *d);
/* The limit that the declared size broke (max_header or max_body), else 0. */
FRAME_API uint64_t frame_decoder_limit(const frame_decoder *d);
/* The negative number a callback returned, for FRAME_E_CALLBACK; else 0. */
FRAME_API int frame_decoder_callback_code(const frame_decoder *d);
/* The least number of bytes that must still arrive to complete the current
 * frame: exact once the header is parsed (the rest of the body), a lower
 * bound before (the rest of the prefix or header). 0 at a frame boundary. */
FRAME_API uint64_t frame_decoder_needed(const frame_decoder *d);

/* ------------------------------------------------------------------------ */
/* Encoder: building a header                                               */
/* ------------------------------------------------------------------------ */

/*
 * Builds prefix + header in the canonical encoding of SPEC.md into a caller
 * buffer: the size member first, then the members in the order added, compact
 * JSON, minimal escaping. The result is what goes on the wire before the body:
 * queue it, hand it to writev() with the body, or give the builder to
 * frame_write(). Errors are sticky: after the first one every call returns it,
 * so a sequence of adds may be checked once, at frame_builder_finish().
 */
typedef struct frame_builder {
    unsigned char *_buf;
    size_t _cap, _len;
    const frame_config *_cfg;
    uint64_t _body_size;
    unsigned _members;
    unsigned char _errno, _finished, _dry, _nested;
} frame_builder;

/*
 * Starts a frame whose body will be `body_size` bytes, in buf[0..cap). The
 * builder writes the prefix and {"size":N at once. cfg NULL = defaults.
 * Returns FRAME_OK, FRAME_E_CONFIG, FRAME_E_BODY_TOO_LARGE (over max_body),
 * FRAME_E_BUFFER_TOO_SMALL or FRAME_E_ARGUMENT. In the raw profile only the
 * prefix is written and no member may be added. Until finish, the builder
 * owns all of buf: it keeps a table of the member names at its end (so
 * that finding a duplicate costs the same at any member count; where there
 * is no room for it, the names are searched instead, with the same results).
 */
FRAME_API frame_errno frame_builder_init(frame_builder *b, const frame_config *cfg, void *buf,
                                         size_t cap, uint64_t body_size);

/*
 * Adds a member. `name` is NUL-terminated UTF-8 (escaped as needed). Each
 * returns FRAME_OK or: FRAME_E_BUFFER_TOO_SMALL (buf is full; nothing of the
 * member is left in it), FRAME_E_HEADER_TOO_LARGE (the header would outgrow
 * max_header), FRAME_E_BAD_UTF8 (name or string not UTF-8),
 * FRAME_E_DUPLICATE_NAME, FRAME_E_RESERVED_NAME (the size member's name),
 * FRAME_E_TOO_MANY_MEMBERS, FRAME_E_ARGUMENT (raw profile, after finish).
 */
FRAME_API frame_errno frame_builder_add_string(frame_builder *b, const char *name, const char *value);
/* A string of `len` bytes, which may contain NUL. */
FRAME_API frame_errno frame_builder_add_stringn(frame_builder *b, const char *name, const char *value,
                                                size_t len);
FRAME_API frame_errno frame_builder_add_int64(frame_builder *b, const char *name, int64_t value);
FRAME_API frame_errno frame_builder_add_uint64(frame_builder *b, const char *name, uint64_t value);
FRAME_API frame_errno frame_builder_add_bool(frame_builder *b, const char *name, int value);
FRAME_API frame_errno frame_builder_add_null(frame_builder *b, const char *name);
/*
 * Adds any JSON value given as text (an object, an array, a number...). It is
 * validated like a header (plus FRAME_E_JSON_SYNTAX, FRAME_E_LONE_SURROGATE,
 * FRAME_E_TOO_DEEP...) and copied in canonical form: white space dropped,
 * strings re-escaped minimally; numbers are copied as written.
 */
FRAME_API frame_errno frame_builder_add_raw(frame_builder *b, const char *name, const char *json,
                                            size_t len);

/*
 * The same with the name given as `name_len` bytes of UTF-8, which may hold
 * U+0000 (since 1.1): any name a decoder accepts can be written back.
 */
FRAME_API frame_errno frame_builder_add_rawn(frame_builder *b, const char *name, size_t name_len,
                                             const char *json, size_t len);

/*
 * Copies one value out of a parsed header (a view from on_header,
 * frame_header_parse() or the readers above) as the member `name`
 * (`name_len` bytes of UTF-8, U+0000 allowed), canonically and without
 * validating it again (since 1.1). The view must come from the library:
 * one made up by the caller is not checked. Returns what the add_ calls
 * return; FRAME_E_ARGUMENT for a NULL or empty view.
 * Example: frame_header_find(h, "id", &v); frame_builder_add_value(&b, "id", 2, &v);
 */
FRAME_API frame_errno frame_builder_add_value(frame_builder *b, const char *name, size_t name_len,
                                              const frame_value *v);

/*
 * Copies the members of a parsed object (usually h->root, from the
 * library as for frame_builder_add_value()) in their order, canonically and
 * without validating them again, leaving out the member named like this
 * builder's size member and every member whose name is in `omit`, a
 * NULL-terminated array of NUL-terminated names (omit may be NULL). The way
 * to answer with a header that has one member changed: copy it with that
 * name left out, then add the new value (since 1.1). A copied name that an
 * earlier add_ call already wrote is FRAME_E_DUPLICATE_NAME (into a builder
 * that holds no member yet, speed builds skip that search: a valid header has
 * no duplicates). Returns FRAME_OK or what the add_
 * calls return (members copied before an error stay in the buffer, and the
 * error is sticky); FRAME_E_TYPE if obj is not an object, FRAME_E_ARGUMENT
 * for NULL.
 * Example: const char *const omit[] = {"status", NULL};
 *          frame_builder_add_members(&b, &h->root, omit);
 *          frame_builder_add_string(&b, "status", "done");
 */
FRAME_API frame_errno frame_builder_add_members(frame_builder *b, const frame_value *obj,
                                                const char *const *omit);

/*
 * Closes the header and fills in the prefix. *out (may be NULL) gets the
 * start of the frame head (prefix + header) in the caller's buffer, *len its
 * length. Returns FRAME_OK, the first error of the builder, or
 * FRAME_E_HEADER_TOO_LARGE (over max_header or what the prefix can hold).
 * Calling it again returns the same result.
 */
FRAME_API frame_errno frame_builder_finish(frame_builder *b, const void **out, size_t *len);

/* ------------------------------------------------------------------------ */
/* Encoder: writing frames to a transport                                   */
/* ------------------------------------------------------------------------ */

/*
 * One write per frame. A frame written in two calls (head, then body) over
 * TCP is the write-write-read pattern that Nagle's algorithm and delayed ACKs
 * stall for 40 ms or more on every request/reply exchange. So the encoder
 * hands a frame to the transport in one call: a gathering transport
 * (frame_gather_fn: one writev()/sendmsg()) always gets head and body
 * together; a one-buffer transport (frame_write_fn) gets them together when
 * the body fits in the builder's buffer behind the head (it is copied there).
 * With frames leaving whole, Nagle does no harm to request/reply traffic; set
 * TCP_NODELAY yourself only when you write a frame in pieces (a one-buffer
 * transport and a body larger than the room in the builder's buffer, or the
 * streaming form's later chunks) and wait for the reply to it.
 */

/*
 * The one-buffer transport: write up to `len` bytes and return how many were
 * taken (0..len), or a negative number on failure. Taking fewer than `len`
 * means "no room now" (a full non-blocking socket): the encoder stops with
 * FRAME_E_WOULD_BLOCK, remembers where, and frame_encoder_resume() goes on
 * later. A blocking transport simply loops until all is written.
 */
typedef long (*frame_write_fn)(void *ctx, const void *data, size_t len);

/* A piece of a frame handed to a gathering transport. */
typedef struct frame_span {
    const void *data;
    size_t len;
} frame_span;

/*
 * The gathering transport (since 1.1): write the `count` spans (1 or 2, none
 * empty) in order, as one writev() or sendmsg() would, and return how many
 * bytes were taken in all (0..the sum of the lengths, which is at most
 * LONG_MAX), or a negative number on failure. The spans are: the frame's head
 * (prefix + header) and its body; or the head and the first body chunk; or
 * one body chunk; or, after a short write, what is left of those (the first
 * span starts at the first byte not taken). Taking fewer than all is "no room
 * now", as for frame_write_fn; the encoder never asks for a byte twice.
 */
typedef long (*frame_gather_fn)(void *ctx, const frame_span *spans, int count);

/* The encoder state; its size and layout are those of 1.0. */
typedef struct frame_encoder {
    union {
        frame_write_fn one;
        frame_gather_fn gather;
    } _write;
    void *_ctx;
    /* What is not written yet: head (+ body), body. While the head is held,
     * _pending[1] is the end of the builder's buffer (_pending_len[1] 0). */
    const unsigned char *_pending[2];
    size_t _pending_len[2];
    long _write_result;               /* the failed write's result, else 0 */
    unsigned char _state, _errno, _gather, _held;
    uint64_t _declared, _written; /* body bytes declared and accepted */
} frame_encoder;

/* Prepares an encoder writing through the one-buffer transport `write` with
 * `ctx`. Returns FRAME_OK or FRAME_E_ARGUMENT (NULL write). */
FRAME_API frame_errno frame_encoder_init(frame_encoder *e, frame_write_fn write, void *ctx);

/* Prepares an encoder writing through the gathering transport `write` with
 * `ctx` (since 1.1). Returns FRAME_OK or FRAME_E_ARGUMENT (NULL write). */
FRAME_API frame_errno frame_encoder_init_gather(frame_encoder *e, frame_gather_fn write, void *ctx);

/*
 * Writes one whole frame: the finished head of `b`, then `len` body bytes.
 * len must equal the builder's body_size, or nothing is written and
 * FRAME_E_SIZE_MISMATCH is returned.
 *
 * Transport calls: a gathering transport gets one call with head and body.
 * A one-buffer transport gets one call too when len <= the room left in the
 * builder's buffer behind the head (cap given to frame_builder_init minus the
 * head's length): the body is copied there first (the builder owns all of its
 * buffer). Otherwise it gets two: the head, then the body. A transport that
 * takes part of what it is offered gets more calls through
 * frame_encoder_resume().
 *
 * Returns FRAME_OK, the builder's error, FRAME_E_WRITE (the callback failed;
 * the frame may be half-sent and the connection should be closed), or
 * FRAME_E_WOULD_BLOCK: the transport took part of it; keep `b`'s buffer and
 * `body` unchanged and call frame_encoder_resume() until it returns FRAME_OK.
 * frame_encoder_pending() says how many bytes are still waiting.
 */
FRAME_API frame_errno frame_write(frame_encoder *e, frame_builder *b, const void *body, size_t len);

/*
 * The streaming form, for a body that does not fit in memory:
 * frame_write_begin() takes the finished head of `b` and declares body_size;
 * frame_write_body() writes chunks; frame_write_end() checks that they added
 * up to body_size (FRAME_E_SIZE_MISMATCH if not). A chunk that would go past
 * body_size is refused whole, before any of it is written
 * (FRAME_E_SIZE_MISMATCH), so no frame ever carries more than it declares.
 *
 * Transport calls: frame_write_begin() calls nothing. The head is held (in
 * `b`'s buffer, which must stay unchanged until the head is written) and
 * leaves with the first non-empty chunk, in one call as frame_write() says
 * for a whole body; then each chunk is one call. frame_write_end() writes a
 * head still held (an empty body), and frame_encoder_resume() writes it at
 * once for a caller who wants the head out before the first chunk exists.
 *
 * Each returns FRAME_OK, FRAME_E_WOULD_BLOCK (resume, then go on with the
 * next chunk), FRAME_E_WRITE, or FRAME_E_ARGUMENT (out of order).
 */
FRAME_API frame_errno frame_write_begin(frame_encoder *e, frame_builder *b);
FRAME_API frame_errno frame_write_body(frame_encoder *e, const void *chunk, size_t len);
FRAME_API frame_errno frame_write_end(frame_encoder *e);

/* Writes what a short write left behind (and a head held by
 * frame_write_begin()). FRAME_OK when nothing is pending any more,
 * FRAME_E_WOULD_BLOCK again, or FRAME_E_WRITE. After FRAME_E_WOULD_BLOCK the
 * transport has taken exactly len - frame_encoder_pending() bytes of what it
 * was offered in all, and resume offers the rest, starting with the first
 * byte not taken. */
FRAME_API frame_errno frame_encoder_resume(frame_encoder *e);

/* Bytes still waiting after FRAME_E_WOULD_BLOCK (0 when none; a head held
 * by frame_write_begin() has not been offered yet and is not counted). */
FRAME_API size_t frame_encoder_pending(const frame_encoder *e);

/* The negative number the write callback returned, for FRAME_E_WRITE. */
FRAME_API long frame_encoder_write_result(const frame_encoder *e);

#ifdef __cplusplus
}
#endif

#endif /* FRAME_H */
