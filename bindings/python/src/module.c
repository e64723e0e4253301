/* libframe._native: the module, errors, configs, result tuples (see native.h). */
#include "native.h"

/* Objects of the pure-Python package that the extension shares. */
PyObject *g_error;        /* _errors.error(name, message=None, **where) */
PyObject *g_frame;        /* _types.Frame */
PyObject *g_header_event; /* _types.HeaderEvent */
PyObject *g_body_chunk;   /* _types.BodyChunk */
PyObject *g_frame_end;    /* _types.FrameEnd */
PyObject *g_rawjson;      /* _types.RawJSON */
PyObject *g_big_int;      /* _types._big_int(text) */
PyObject *g_int_text;     /* _types.int_text(int) */
PyObject *g_make_config;  /* _config.make_config(config, params) */
PyObject *g_config_type;  /* _config.Config */
PyObject *g_raise_after;  /* _decode._raise_after(items, err) */
PyObject *g_value_json;   /* _encode.value_json(value) */
PyObject *g_pure_head;    /* _encode.build_head */
PyObject *g_empty_bytes;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Raises (and returns a new reference to) the FrameError for `err`, with the
 * given attributes (those < 0 are left out). */
PyObject *frame_exc(frame_errno err, const char *message, long long offset, long long frame,
                           PyObject *declared, PyObject *limit, PyObject *missing) {
    PyObject *args = NULL, *kw = NULL, *exc = NULL, *v;
    kw = PyDict_New();
    if (!kw) goto out;
#define SETKW(key, obj)                                                    \
    do {                                                                   \
        if ((obj) && PyDict_SetItemString(kw, key, (obj)) < 0) goto out; \
    } while (0)
    if (offset >= 0) {
        v = PyLong_FromLongLong(offset);
        if (!v || PyDict_SetItemString(kw, "offset", v) < 0) { Py_XDECREF(v); goto out; }
        Py_DECREF(v);
    }
    if (frame >= 0) {
        v = PyLong_FromLongLong(frame);
        if (!v || PyDict_SetItemString(kw, "frame", v) < 0) { Py_XDECREF(v); goto out; }
        Py_DECREF(v);
    }
    SETKW("declared", declared);
    SETKW("limit", limit);
    SETKW("missing", missing);
#undef SETKW
    if (message) args = Py_BuildValue("(ss)", frame_errname(err), message);
    else args = Py_BuildValue("(s)", frame_errname(err));
    if (!args) goto out;
    exc = PyObject_Call(g_error, args, kw);
out:
    Py_XDECREF(args);
    Py_XDECREF(kw);
    return exc;
}

PyObject *raise_frame_error(frame_errno err, const char *message) {
    PyObject *exc = frame_exc(err, message, -1, -1, NULL, NULL, NULL);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

void raise_obj(PyObject *exc) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
}

int in_use(int busy) {
    if (busy) PyErr_SetString(PyExc_RuntimeError, "this libframe object is in use by another thread");
    return busy;
}

/* ------------------------------------------------------------------------ */
/* Config                                                                   */
/* ------------------------------------------------------------------------ */


static int attr_u64(PyObject *o, const char *name, uint64_t *out) {
    PyObject *v = PyObject_GetAttrString(o, name);
    if (!v) return -1;
    *out = (uint64_t)PyLong_AsUnsignedLongLong(v);
    Py_DECREF(v);
    return PyErr_Occurred() ? -1 : 0;
}

static int attr_is(PyObject *o, const char *name, const char *want, int *out) {
    PyObject *v = PyObject_GetAttrString(o, name);
    const char *s;
    if (!v) return -1;
    s = PyUnicode_AsUTF8(v);
    if (s) *out = strcmp(s, want) == 0;
    Py_DECREF(v);
    return s ? 0 : -1;
}

/* The frame_config of a (checked) libframe.Config. */
int cconfig_from(PyObject *cfg, cconfig *out) {
    uint64_t width, max_header, max_body, wmax;
    int big, raw;
    PyObject *name;
    const char *s;
    Py_ssize_t n;
    memset(out, 0, sizeof *out);
    if (attr_u64(cfg, "prefix_width", &width) || attr_u64(cfg, "max_header", &max_header) ||
        attr_u64(cfg, "max_body", &max_body) || attr_is(cfg, "byte_order", "big", &big) ||
        attr_is(cfg, "profile", "raw", &raw))
        return -1;
    name = PyObject_GetAttrString(cfg, "size_name");
    if (!name) return -1;
    s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s || n < 1 || n > FRAME_MAX_SIZE_NAME) {
        Py_DECREF(name);
        if (s) raise_frame_error(FRAME_E_CONFIG, "bad size_name");
        return -1;
    }
    memcpy(out->size_name, s, (size_t)n + 1);
    Py_DECREF(name);
    wmax = width == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * width)) - 1;
    /* A header is never longer than its prefix can say; the C library takes
     * max_header up to 2^32-1, which is also the most a header buffer is. */
    if (max_header > wmax) max_header = wmax;
    if (max_header > 0xFFFFFFFFu) max_header = 0xFFFFFFFFu;
    out->c.prefix_width = (unsigned)width;
    out->c.big_endian = big;
    out->c.raw = raw;
    out->c.size_name = out->size_name;
    out->c.max_header = max_header;
    out->c.max_body = max_body;
    out->width = (unsigned)width;
    out->raw = raw;
    out->header_limit = max_header;
    out->body_limit = raw && wmax < max_body ? wmax : max_body;
    if (frame_config_check(&out->c) != FRAME_OK) {
        raise_frame_error(FRAME_E_CONFIG, "the C library refused the config");
        return -1;
    }
    return 0;
}

/* make_config(config, kwargs) -> a new reference to a Config. */
PyObject *make_config(PyObject *config, PyObject *kwargs) {
    return PyObject_CallFunctionObjArgs(g_make_config, config ? config : Py_None,
                                        kwargs ? kwargs : Py_None, NULL);
}

/* The cconfig for a call's config= and keyword arguments; the defaults and
 * the last Config seen are kept. */
static cconfig g_last_cc;
static PyObject *g_last_config; /* owned */
cconfig g_default_cc;

int call_config(PyObject *config, PyObject *kwargs, cconfig *out) {
    PyObject *cfg;
    if ((!config || config == Py_None) && (!kwargs || !PyDict_GET_SIZE(kwargs))) {
        *out = g_default_cc;
        out->c.size_name = out->size_name;
        return 0;
    }
    if (config && config == g_last_config && (!kwargs || !PyDict_GET_SIZE(kwargs))) {
        *out = g_last_cc;
        out->c.size_name = out->size_name;
        return 0;
    }
    cfg = make_config(config, kwargs);
    if (!cfg) return -1;
    if (cconfig_from(cfg, out)) {
        Py_DECREF(cfg);
        return -1;
    }
    if (config && Py_TYPE(config) == (PyTypeObject *)g_config_type && cfg == config) {
        Py_XSETREF(g_last_config, cfg);
        g_last_cc = *out;
    } else {
        Py_DECREF(cfg);
    }
    out->c.size_name = out->size_name;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Result tuples (Frame, HeaderEvent...: tuple subclasses)                  */
/* ------------------------------------------------------------------------ */

/* A tuple of type t holding the n items given (references stolen, also on
 * failure). */
PyObject *make_tuple(PyObject *t, Py_ssize_t n, PyObject **items) {
    PyTypeObject *tp = (PyTypeObject *)t;
    PyObject *r;
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        if (!items[i]) goto fail;
    r = tp->tp_alloc(tp, n);
    if (!r) goto fail;
    for (i = 0; i < n; i++) PyTuple_SET_ITEM(r, i, items[i]);
    return r;
fail:
    for (i = 0; i < n; i++) Py_XDECREF(items[i]);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static PyObject *mod_errname(PyObject *mod, PyObject *code) {
    long c = PyLong_AsLong(code);
    (void)mod;
    if (c == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(frame_errname((frame_errno)c));
}

static PyObject *mod_strerror(PyObject *mod, PyObject *code) {
    long c = PyLong_AsLong(code);
    (void)mod;
    if (c == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(frame_strerror((frame_errno)c));
}

static PyMethodDef module_methods[] = {
    {"errname", (PyCFunction)mod_errname, METH_O, "errname(code): frame_errname() of the C library."},
    {"strerror", (PyCFunction)mod_strerror, METH_O, "strerror(code): frame_strerror() of the C library."},
    {"encode", (PyCFunction)(void (*)(void))mod_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(header, body=b'', config=None, **params) -> bytes: one canonical frame."},
    {"build_head", (PyCFunction)(void (*)(void))mod_build_head, METH_VARARGS | METH_KEYWORDS,
     "build_head(header, body_size, config=None, **params) -> bytes: prefix + canonical header."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "libframe._native",
    "libframe's C library compiled into a CPython extension (see libframe.native).", -1,
    module_methods, NULL, NULL, NULL, NULL};

static PyObject *import_attr(const char *module, const char *name) {
    PyObject *m = PyImport_ImportModule(module), *r;
    if (!m) return NULL;
    r = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return r;
}

/* A result type must be a tuple subclass without instance dict, so that
 * make_tuple can fill it like a tuple. */
static int check_tuple_type(PyObject *t) {
    PyTypeObject *tp = (PyTypeObject *)t;
    if (!PyType_Check(t) || !PyType_IsSubtype(tp, &PyTuple_Type) ||
        tp->tp_basicsize != PyTuple_Type.tp_basicsize || tp->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_Format(PyExc_ImportError, "libframe._native: %R is not a plain tuple type", t);
        return -1;
    }
    return 0;
}

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__native(void);

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m, *cfg;
    if (!(g_error = import_attr("libframe._errors", "error")) ||
        !(g_frame = import_attr("libframe._types", "Frame")) ||
        !(g_header_event = import_attr("libframe._types", "HeaderEvent")) ||
        !(g_body_chunk = import_attr("libframe._types", "BodyChunk")) ||
        !(g_frame_end = import_attr("libframe._types", "FrameEnd")) ||
        !(g_rawjson = import_attr("libframe._types", "RawJSON")) ||
        !(g_big_int = import_attr("libframe._types", "_big_int")) ||
        !(g_int_text = import_attr("libframe._types", "int_text")) ||
        !(g_make_config = import_attr("libframe._config", "make_config")) ||
        !(g_config_type = import_attr("libframe._config", "Config")) ||
        !(g_raise_after = import_attr("libframe._decode", "_raise_after")) ||
        !(g_value_json = import_attr("libframe._encode", "value_json")) ||
        !(g_pure_head = import_attr("libframe._encode", "build_head")) ||
        !(g_empty_bytes = PyBytes_FromStringAndSize(NULL, 0)))
        return NULL;
    if (check_tuple_type(g_frame) || check_tuple_type(g_header_event) ||
        check_tuple_type(g_body_chunk) || check_tuple_type(g_frame_end))
        return NULL;
    cfg = make_config(Py_None, Py_None);
    if (!cfg || cconfig_from(cfg, &g_default_cc)) {
        Py_XDECREF(cfg);
        return NULL;
    }
    Py_DECREF(cfg);

    if (PyType_Ready(&DecoderType) < 0 || PyType_Ready(&BuilderType) < 0) return NULL;

    m = PyModule_Create(&module_def);
    if (!m) return NULL;
    Py_INCREF(&DecoderType);
    Py_INCREF(&BuilderType);
    if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0 ||
        PyModule_AddObject(m, "Builder", (PyObject *)&BuilderType) < 0 ||
        PyModule_AddStringConstant(m, "version", frame_version()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

