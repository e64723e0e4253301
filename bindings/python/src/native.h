/*
 * libframe._native: the CPython extension of libframe's Python package.
 *
 * libframe's C sources (the .c files of lib/) are compiled into this module,
 * so nothing else has to be found at run time. It decodes with frame_feed()
 * and builds each header dict straight from the validated header, in one walk
 * (dict.c): no JSON text is parsed twice and no json.loads runs. It encodes
 * with frame_builder (encoder.c). The Python side (libframe/native.py) adds
 * FrameWriter.
 *
 *   native.h    what the files share
 *   module.c    the module, errors, configs, result tuples
 *   dict.c      a validated header -> Python objects
 *   decoder.c   the Decoder type (frame_feed and its callbacks)
 *   encoder.c   encode(), build_head() and the Builder type
 *
 * Values come out as json.loads gives them: integers of any size (int),
 * numbers with a fraction or exponent as float (1e400 is inf, -0.0 stays
 * -0.0; or parse_float(text) when given), strings with escapes and surrogate
 * pairs decoded, U+0000 included.
 *
 * The GIL: everything here touches Python objects except copying bodies;
 * copies of at least GIL_FREE_COPY bytes run with the GIL released (the
 * source is a buffer held for the call, the target a bytes object nobody
 * else sees yet). A Decoder or Builder refuses a second thread that enters
 * it meanwhile (RuntimeError).
 */
#ifndef LIBFRAME_NATIVE_H
#define LIBFRAME_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"

#define GIL_FREE_COPY (256 * 1024)

/* Objects of the pure-Python package that the extension shares. */
extern PyObject *g_error;        /* _errors.error(name, message=None, **where) */
extern PyObject *g_frame;        /* _types.Frame */
extern PyObject *g_header_event; /* _types.HeaderEvent */
extern PyObject *g_body_chunk;   /* _types.BodyChunk */
extern PyObject *g_frame_end;    /* _types.FrameEnd */
extern PyObject *g_rawjson;      /* _types.RawJSON */
extern PyObject *g_big_int;      /* _types._big_int(text) */
extern PyObject *g_int_text;     /* _types.int_text(int) */
extern PyObject *g_make_config;  /* _config.make_config(config, params) */
extern PyObject *g_config_type;  /* _config.Config */
extern PyObject *g_raise_after;  /* _decode._raise_after(items, err) */
extern PyObject *g_value_json;   /* _encode.value_json(value) */
extern PyObject *g_pure_head;    /* _encode.build_head */
extern PyObject *g_empty_bytes;


/* The wire parameters of a libframe.Config, as the C library takes them. */
typedef struct {
    frame_config c;
    char size_name[FRAME_MAX_SIZE_NAME + 1];
    unsigned width;
    int raw;
    uint64_t header_limit; /* what a header may take: min(max_header, prefix) */
    uint64_t body_limit;
} cconfig;
extern cconfig g_default_cc;

/* module.c */
PyObject *frame_exc(frame_errno err, const char *message, long long offset, long long frame,
                    PyObject *declared, PyObject *limit, PyObject *missing);
PyObject *raise_frame_error(frame_errno err, const char *message);
void raise_obj(PyObject *exc);
int in_use(int busy);
int cconfig_from(PyObject *cfg, cconfig *out);
PyObject *make_config(PyObject *config, PyObject *kwargs);
int call_config(PyObject *config, PyObject *kwargs, cconfig *out);
PyObject *make_tuple(PyObject *t, Py_ssize_t n, PyObject **items);

/* dict.c: the member-name cache a Decoder keeps, and the walk. */
#define KEY_SLOTS 128
#define KEY_MAX 48
#define KEY_WAYS 4

typedef struct {
    PyObject *key;
    uint32_t hash;
    unsigned char len;
    unsigned char raw[KEY_MAX];
} key_slot;
PyObject *header_dict(const frame_value *root, PyObject *parse_float, key_slot *keys);

/* decoder.c, encoder.c */
extern PyTypeObject DecoderType, BuilderType;
PyObject *mod_encode(PyObject *mod, PyObject *args, PyObject *kwargs);
PyObject *mod_build_head(PyObject *mod, PyObject *args, PyObject *kwargs);

#endif
