/* libframe._native: encode(), build_head() and the Builder type (see native.h). */
#include "native.h"

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

enum { ADD_ANY, ADD_STRING, ADD_INT, ADD_BOOL, ADD_NULL, ADD_RAW };
#define NEEDS_PURE (-2) /* a name holding U+0000: the C API cannot take it */

/* A growing buffer for a frame_builder. */
typedef struct {
    frame_builder b;
    unsigned char *buf;
    size_t cap, bound;
    unsigned char small[512];
} hbuf;

static void hbuf_init(hbuf *h, const cconfig *cc) {
    h->buf = h->small;
    h->cap = sizeof h->small;
    /* Room for the largest header the config allows (and the brace the
     * builder keeps free): there, BUFFER_TOO_SMALL cannot happen. */
    h->bound = (size_t)cc->width + (cc->raw ? 1 : (size_t)cc->header_limit) + 16;
}

static void hbuf_free(hbuf *h) {
    if (h->buf != h->small) PyMem_Free(h->buf);
    h->buf = h->small;
}

/* Grows the buffer; 0, or -1 with MemoryError/HEADER_TOO_LARGE set. */
static int hbuf_grow(hbuf *h, const cconfig *cc) {
    size_t cap = h->cap * 4;
    unsigned char *p;
    if (h->cap >= h->bound) {
        PyObject *limit = PyLong_FromUnsignedLongLong(cc->header_limit);
        PyObject *exc = limit ? frame_exc(FRAME_E_HEADER_TOO_LARGE, NULL, -1, -1, NULL, limit, NULL) : NULL;
        Py_XDECREF(limit);
        if (exc) {
            raise_obj(exc);
            Py_DECREF(exc);
        }
        return -1;
    }
    if (cap > h->bound) cap = h->bound;
    p = (unsigned char *)PyMem_Malloc(cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    hbuf_free(h);
    h->buf = p;
    h->cap = cap;
    return 0;
}

/* UTF-8 of a str (lone surrogates passed through for the C library to
 * refuse as BAD_UTF8) or bytes of a bytes-like object, as a new bytes
 * reference (NUL-terminated by bytes' own guarantee), or NULL. */
static PyObject *text_bytes(PyObject *o, const char *what) {
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (s) return PyBytes_FromStringAndSize(s, n);
        PyErr_Clear();
        return PyUnicode_AsEncodedString(o, "utf-8", "surrogatepass");
    }
    if (PyBytes_Check(o)) {
        Py_INCREF(o);
        return o;
    }
    if (PyObject_CheckBuffer(o)) return PyBytes_FromObject(o);
    PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %s", what, Py_TYPE(o)->tp_name);
    return NULL;
}

/* The UTF-8 of a str without a copy when it has no lone surrogate: *keep is
 * then NULL; otherwise *keep owns the bytes. */
static const char *utf8_of(PyObject *o, Py_ssize_t *n, PyObject **keep, const char *what) {
    *keep = NULL;
    if (PyUnicode_Check(o)) {
        const char *s = PyUnicode_AsUTF8AndSize(o, n);
        if (s) return s;
        PyErr_Clear();
    }
    *keep = text_bytes(o, what);
    if (!*keep) return NULL;
    *n = PyBytes_GET_SIZE(*keep);
    return PyBytes_AS_STRING(*keep);
}

static int is_rawjson(PyObject *v) {
    return Py_TYPE(v) == (PyTypeObject *)g_rawjson || PyObject_TypeCheck(v, (PyTypeObject *)g_rawjson);
}

/* Adds one member. Returns a frame_errno (>= 0), -1 with a Python
 * exception set, or NEEDS_PURE. */
static int add_member(frame_builder *b, PyObject *name, PyObject *value, int kind) {
    PyObject *nkeep = NULL, *vkeep = NULL;
    const char *ns, *vs;
    Py_ssize_t nn, vn;
    int rc;
    if (!PyUnicode_Check(name) && !PyBytes_Check(name) && !PyByteArray_Check(name) &&
        !PyMemoryView_Check(name)) {
        PyErr_Format(PyExc_TypeError, "a member name must be str or bytes, not %s",
                     Py_TYPE(name)->tp_name);
        return -1;
    }
    ns = utf8_of(name, &nn, &nkeep, "a member name");
    if (!ns) return -1;
    if (memchr(ns, 0, (size_t)nn)) {
        Py_XDECREF(nkeep);
        return NEEDS_PURE;
    }
    if (kind == ADD_ANY) {
        if (value == Py_None) kind = ADD_NULL;
        else if (value == Py_True || value == Py_False) kind = ADD_BOOL;
        else if (PyUnicode_Check(value)) kind = ADD_STRING;
        else if (PyLong_Check(value)) kind = ADD_INT;
    }
    switch (kind) {
    case ADD_NULL:
        rc = frame_builder_add_null(b, ns);
        break;
    case ADD_BOOL: {
        int t = PyObject_IsTrue(value);
        rc = t < 0 ? -1 : (int)frame_builder_add_bool(b, ns, t);
        break;
    }
    case ADD_STRING:
        vs = utf8_of(value, &vn, &vkeep, "the value");
        rc = vs ? (int)frame_builder_add_stringn(b, ns, vs, (size_t)vn) : -1;
        break;
    case ADD_INT: {
        int overflow = 0;
        long long x;
        if (!PyLong_Check(value)) {
            PyErr_Format(PyExc_TypeError, "add_int() takes an int, not %s", Py_TYPE(value)->tp_name);
            rc = -1;
            break;
        }
        x = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            rc = -1;
        } else if (!overflow) {
            rc = frame_builder_add_int64(b, ns, (int64_t)x);
        } else {
            unsigned long long u = overflow > 0 ? PyLong_AsUnsignedLongLong(value) : 0;
            if (overflow > 0 && !PyErr_Occurred()) {
                rc = frame_builder_add_uint64(b, ns, (uint64_t)u);
            } else {
                PyErr_Clear();
                vkeep = PyObject_CallFunctionObjArgs(g_int_text, value, NULL);
                vs = vkeep ? PyUnicode_AsUTF8AndSize(vkeep, &vn) : NULL;
                rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
            }
        }
        break;
    }
    case ADD_RAW:
        vs = utf8_of(value, &vn, &vkeep, "raw JSON");
        rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
        break;
    default: /* ADD_ANY: float, RawJSON, containers */
        if (PyFloat_Check(value)) {
            double d = PyFloat_AS_DOUBLE(value);
            char *text;
            if (!isfinite(d)) {
                PyErr_Format(PyExc_ValueError, "JSON has no %R", value);
                rc = -1;
                break;
            }
            text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
            if (!text) {
                rc = -1;
                break;
            }
            rc = frame_builder_add_raw(b, ns, text, strlen(text));
            PyMem_Free(text);
        } else if (is_rawjson(value)) {
            PyObject *t = PyObject_GetAttrString(value, "text");
            vs = t ? utf8_of(t, &vn, &vkeep, "raw JSON") : NULL;
            rc = vs ? (int)frame_builder_add_raw(b, ns, vs, (size_t)vn) : -1;
            Py_XDECREF(t);
        } else if (PyDict_Check(value) || PyList_Check(value) || PyTuple_Check(value) ||
                   PyMapping_Check(value)) {
            /* Serialised by the pure encoder (its limits, its TypeErrors),
             * then checked and copied canonically by the C builder. */
            vkeep = PyObject_CallFunctionObjArgs(g_value_json, value, NULL);
            if (vkeep && !PyBytes_Check(vkeep)) {
                PyErr_SetString(PyExc_TypeError, "value_json did not return bytes");
                rc = -1;
                break;
            }
            rc = vkeep ? (int)frame_builder_add_raw(b, ns, PyBytes_AS_STRING(vkeep),
                                               (size_t)PyBytes_GET_SIZE(vkeep))
                       : -1;
        } else {
            PyErr_Format(PyExc_TypeError, "cannot encode %s as JSON", Py_TYPE(value)->tp_name);
            rc = -1;
        }
        break;
    }
    Py_XDECREF(nkeep);
    Py_XDECREF(vkeep);
    return rc;
}

/* Raises the exception for a builder error rc. */
static void builder_raise(frame_errno rc, const cconfig *cc, uint64_t body_size) {
    PyObject *exc = NULL, *declared, *limit;
    if (rc == FRAME_E_BODY_TOO_LARGE) {
        declared = PyLong_FromUnsignedLongLong(body_size);
        limit = PyLong_FromUnsignedLongLong(cc->body_limit);
        exc = declared && limit ? frame_exc(rc, NULL, -1, -1, declared, limit, NULL) : NULL;
        Py_XDECREF(declared);
        Py_XDECREF(limit);
    } else if (rc == FRAME_E_HEADER_TOO_LARGE || rc == FRAME_E_BUFFER_TOO_SMALL) {
        limit = PyLong_FromUnsignedLongLong(cc->header_limit);
        exc = limit ? frame_exc(FRAME_E_HEADER_TOO_LARGE, NULL, -1, -1, NULL, limit, NULL) : NULL;
        Py_XDECREF(limit);
    } else {
        exc = frame_exc(rc, NULL, -1, -1, NULL, NULL, NULL);
    }
    if (exc) {
        raise_obj(exc);
        Py_DECREF(exc);
    }
}

/* A body size from a Python int: -1 with ArgumentError unless it is a
 * non-negative int; sizes beyond 64 bits read as UINT64_MAX. */
static int body_size_of(PyObject *o, uint64_t *out) {
    int overflow = 0;
    long long x = -1;
    if (PyLong_Check(o) && !PyBool_Check(o)) {
        x = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (x == -1 && PyErr_Occurred()) return -1;
        if (overflow > 0) {
            *out = UINT64_MAX;
            return 0;
        }
        if (!overflow && x >= 0) {
            *out = (uint64_t)x;
            return 0;
        }
    }
    raise_frame_error(FRAME_E_ARGUMENT, "body_size must be a non-negative int");
    return -1;
}

/* prefix + header for `header` (a mapping or None) and body_size, then
 * `body_len` bytes of `body` after it. Returns a new bytes object, NULL with
 * an exception, or Py_None (borrowed) when a name needs the pure encoder. */
static PyObject *build_frame(PyObject *header, uint64_t body_size, const cconfig *cc,
                             const char *body, size_t body_len) {
    hbuf h;
    PyObject *items = NULL, *r = NULL;
    Py_ssize_t i, n = 0, pos;
    const void *head;
    size_t head_len;
    int rc;
    hbuf_init(&h, cc);
    if (header != Py_None && !PyDict_CheckExact(header)) { /* a subclass: its own items() */
        int truth = PyObject_IsTrue(header);
        if (truth < 0) return NULL;
        if (truth) {
            if (!PyMapping_Check(header) || PyList_Check(header) || PyTuple_Check(header) ||
                PyUnicode_Check(header) || PyBytes_Check(header)) {
                PyErr_Format(PyExc_TypeError, "header must be a dict, not %s", Py_TYPE(header)->tp_name);
                return NULL;
            }
            items = PyMapping_Items(header);
            if (!items) return NULL;
            n = PyList_GET_SIZE(items);
        }
    }
    for (;;) {
        rc = frame_builder_init(&h.b, &cc->c, h.buf, h.cap, body_size);
        if (rc == FRAME_OK) {
            if (items) {
                for (i = 0; i < n && rc == FRAME_OK; i++) {
                    PyObject *kv = PyList_GET_ITEM(items, i);
                    rc = add_member(&h.b, PyTuple_GET_ITEM(kv, 0), PyTuple_GET_ITEM(kv, 1), ADD_ANY);
                }
            } else if (header != Py_None && PyDict_CheckExact(header)) {
                PyObject *k, *v;
                pos = 0;
                while (rc == FRAME_OK && PyDict_Next(header, &pos, &k, &v)) {
                    Py_INCREF(k);
                    Py_INCREF(v);
                    rc = add_member(&h.b, k, v, ADD_ANY);
                    Py_DECREF(k);
                    Py_DECREF(v);
                }
            }
        }
        if (rc == FRAME_OK) rc = frame_builder_finish(&h.b, &head, &head_len);
        if (rc != FRAME_E_BUFFER_TOO_SMALL) break;
        if (hbuf_grow(&h, cc)) goto out;
    }
    if (rc == NEEDS_PURE) {
        r = Py_None;
        goto out;
    }
    if (rc == -1) goto out;
    if (rc) {
        builder_raise((frame_errno)rc, cc, body_size);
        goto out;
    }
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(head_len + body_len));
    if (!r) goto out;
    memcpy(PyBytes_AS_STRING(r), head, head_len);
    if (body_len >= GIL_FREE_COPY) {
        char *dst = PyBytes_AS_STRING(r) + head_len;
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, body, body_len);
        Py_END_ALLOW_THREADS
    } else if (body_len) {
        memcpy(PyBytes_AS_STRING(r) + head_len, body, body_len);
    }
out:
    Py_XDECREF(items);
    hbuf_free(&h);
    return r;
}

/* Splits (header, size-or-body, config=None, **params) arguments. */
static int parse_call(PyObject *args, PyObject *kwargs, const char *fname, PyObject **header,
                      PyObject **second, PyObject **config, PyObject **params) {
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    *header = *second = *config = NULL;
    *params = NULL;
    if (n > 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 3 positional arguments", fname);
        return -1;
    }
    if (n > 0) *header = PyTuple_GET_ITEM(args, 0);
    if (n > 1) *second = PyTuple_GET_ITEM(args, 1);
    if (n > 2) *config = PyTuple_GET_ITEM(args, 2);
    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        static const char *names[] = {"header", NULL, "config"};
        const char *second_name = strcmp(fname, "encode") == 0 ? "body" : "body_size";
        int k;
        *params = PyDict_Copy(kwargs);
        if (!*params) return -1;
        for (k = 0; k < 3; k++) {
            const char *key = k == 1 ? second_name : names[k];
            PyObject *v = PyDict_GetItemString(*params, key);
            PyObject **slot = k == 0 ? header : k == 1 ? second : config;
            if (!v) continue;
            if (*slot) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for '%s'", fname, key);
                Py_CLEAR(*params);
                return -1;
            }
            *slot = v; /* borrowed: kwargs outlives the call */
            if (PyDict_DelItemString(*params, key) < 0) {
                Py_CLEAR(*params);
                return -1;
            }
        }
    }
    if (!*header) {
        PyErr_Format(PyExc_TypeError, "%s() missing the header argument", fname);
        Py_CLEAR(*params);
        return -1;
    }
    return 0;
}

static PyObject *pure_head(PyObject *header, PyObject *size, PyObject *config, PyObject *params) {
    PyObject *args = PyTuple_Pack(3, header, size, config ? config : Py_None), *r;
    if (!args) return NULL;
    r = PyObject_Call(g_pure_head, args, params);
    Py_DECREF(args);
    return r;
}

PyObject *mod_build_head(PyObject *mod, PyObject *args, PyObject *kwargs) {
    PyObject *header, *size, *config, *params, *r = NULL;
    cconfig cc;
    uint64_t body_size;
    (void)mod;
    if (parse_call(args, kwargs, "build_head", &header, &size, &config, &params)) return NULL;
    if (!size) {
        PyErr_SetString(PyExc_TypeError, "build_head() missing body_size");
        goto out;
    }
    if (call_config(config, params, &cc) || body_size_of(size, &body_size)) goto out;
    r = build_frame(header, body_size, &cc, NULL, 0);
    if (r == Py_None) r = pure_head(header, size, config, params);
out:
    Py_XDECREF(params);
    return r;
}

PyObject *mod_encode(PyObject *mod, PyObject *args, PyObject *kwargs) {
    PyObject *header, *body, *config, *params, *r = NULL;
    Py_buffer view;
    cconfig cc;
    (void)mod;
    if (parse_call(args, kwargs, "encode", &header, &body, &config, &params)) return NULL;
    if (call_config(config, params, &cc)) goto out;
    if (!body) body = g_empty_bytes;
    if (PyUnicode_Check(body) || PyObject_GetBuffer(body, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "body must be bytes-like, not %s", Py_TYPE(body)->tp_name);
        goto out;
    }
    r = build_frame(header, (uint64_t)view.len, &cc, (const char *)view.buf, (size_t)view.len);
    if (r == Py_None) {
        PyObject *size = PyLong_FromSsize_t(view.len), *head;
        head = size ? pure_head(header, size, config, params) : NULL;
        Py_XDECREF(size);
        r = head ? PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(head) + view.len) : NULL;
        if (r) {
            memcpy(PyBytes_AS_STRING(r), PyBytes_AS_STRING(head), (size_t)PyBytes_GET_SIZE(head));
            memcpy(PyBytes_AS_STRING(r) + PyBytes_GET_SIZE(head), view.buf, (size_t)view.len);
        }
        Py_XDECREF(head);
    }
    PyBuffer_Release(&view);
out:
    Py_XDECREF(params);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    hbuf h;
    cconfig cc;
    PyObject *config, *body_size, *ops, *error, *head;
    uint64_t size;
    int busy;
} BuilderObject;

static int Builder_start(BuilderObject *self) {
    int rc = frame_builder_init(&self->h.b, &self->cc.c, self->h.buf, self->h.cap, self->size);
    Py_ssize_t i;
    for (i = 0; rc == FRAME_OK && self->ops && i < PyList_GET_SIZE(self->ops); i++) {
        PyObject *op = PyList_GET_ITEM(self->ops, i);
        rc = add_member(&self->h.b, PyTuple_GET_ITEM(op, 1), PyTuple_GET_ITEM(op, 2),
                        (int)PyLong_AsLong(PyTuple_GET_ITEM(op, 0)));
    }
    return rc;
}

static int Builder_init(BuilderObject *self, PyObject *args, PyObject *kwargs) {
    static const char *kwlist[] = {"body_size", "config", NULL};
    PyObject *size = NULL, *config = Py_None, *params = NULL, *cfg;
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    int rc;
    if (self->config) {
        PyErr_SetString(PyExc_TypeError, "Builder.__init__ may run once");
        return -1;
    }
    if (n > 2) {
        PyErr_SetString(PyExc_TypeError, "Builder() takes at most 2 positional arguments");
        return -1;
    }
    if (n > 0) size = PyTuple_GET_ITEM(args, 0);
    if (n > 1) config = PyTuple_GET_ITEM(args, 1);
    if (kwargs) {
        int k;
        params = PyDict_Copy(kwargs);
        if (!params) return -1;
        for (k = 0; k < 2; k++) {
            PyObject *v = PyDict_GetItemString(params, kwlist[k]);
            if (!v) continue;
            if ((k == 0 && size) || (k == 1 && n > 1)) {
                PyErr_Format(PyExc_TypeError, "Builder() got multiple values for '%s'", kwlist[k]);
                Py_DECREF(params);
                return -1;
            }
            if (k == 0) size = v;
            else config = v;
        }
        /* size and config stay alive in kwargs */
        PyDict_DelItemString(params, "body_size");
        PyErr_Clear();
        PyDict_DelItemString(params, "config");
        PyErr_Clear();
    }
    if (!size) {
        Py_XDECREF(params);
        PyErr_SetString(PyExc_TypeError, "Builder() missing body_size");
        return -1;
    }
    cfg = make_config(config, params);
    Py_XDECREF(params);
    if (!cfg) return -1;
    self->config = cfg;
    if (cconfig_from(cfg, &self->cc)) return -1;
    self->cc.c.size_name = self->cc.size_name;
    if (body_size_of(size, &self->size)) return -1;
    Py_INCREF(size);
    self->body_size = size;
    self->ops = PyList_New(0);
    if (!self->ops) return -1;
    hbuf_init(&self->h, &self->cc);
    while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL)
        if (hbuf_grow(&self->h, &self->cc)) return -1;
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        return -1;
    }
    return 0;
}

static PyObject *Builder_do(BuilderObject *self, PyObject *name, PyObject *value, int kind) {
    int rc;
    PyObject *op;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (self->head) return raise_frame_error(FRAME_E_ARGUMENT, "finish() was called: the header is closed");
    if (self->cc.raw) return raise_frame_error(FRAME_E_ARGUMENT, "the raw profile has no header members");
    if (kind == ADD_INT && (!PyLong_Check(value))) {
        PyErr_Format(PyExc_TypeError, "add_int() takes an int, not %s", Py_TYPE(value)->tp_name);
        return NULL;
    }
    self->busy = 1;
    for (;;) {
        rc = add_member(&self->h.b, name, value, kind);
        if (rc != FRAME_E_BUFFER_TOO_SMALL) break;
        /* Start again in a larger buffer, replaying the members so far. */
        do {
            if (hbuf_grow(&self->h, &self->cc)) {
                rc = -1;
                break;
            }
        } while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL);
        if (rc) break;
    }
    self->busy = 0;
    if (rc == NEEDS_PURE)
        return raise_frame_error(FRAME_E_ARGUMENT, "the C builder cannot take a name holding U+0000");
    if (rc == -1) {
        /* Python errors (TypeError...) are not sticky, as in the pure Builder;
         * the C builder is rebuilt from the members that went in. */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        while ((rc = Builder_start(self)) == FRAME_E_BUFFER_TOO_SMALL)
            if (hbuf_grow(&self->h, &self->cc)) break;
        PyErr_Clear();
        PyErr_Restore(t, v, tb);
        return NULL;
    }
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        if (rc != FRAME_E_ARGUMENT) {
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            Py_XINCREF(v);
            Py_XSETREF(self->error, v);
            PyErr_Restore(t, v, tb);
        }
        return NULL;
    }
    op = Py_BuildValue("(iOO)", kind, name, value ? value : Py_None);
    if (!op || PyList_Append(self->ops, op) < 0) {
        Py_XDECREF(op);
        return NULL;
    }
    Py_DECREF(op);
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *Builder_add(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_ANY);
}
static PyObject *Builder_add_string(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_string", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_STRING);
}
static PyObject *Builder_add_int(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_int", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_INT);
}
static PyObject *Builder_add_bool(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_bool", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_BOOL);
}
static PyObject *Builder_add_null(BuilderObject *self, PyObject *args) {
    PyObject *name;
    if (!PyArg_ParseTuple(args, "O:add_null", &name)) return NULL;
    return Builder_do(self, name, Py_None, ADD_NULL);
}
static PyObject *Builder_add_raw(BuilderObject *self, PyObject *args) {
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO:add_raw", &name, &value)) return NULL;
    return Builder_do(self, name, value, ADD_RAW);
}

static PyObject *Builder_finish(BuilderObject *self, PyObject *unused) {
    const void *head;
    size_t len;
    int rc;
    (void)unused;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (self->head) {
        Py_INCREF(self->head);
        return self->head;
    }
    rc = frame_builder_finish(&self->h.b, &head, &len);
    if (rc) {
        builder_raise((frame_errno)rc, &self->cc, self->size);
        return NULL;
    }
    self->head = PyBytes_FromStringAndSize((const char *)head, (Py_ssize_t)len);
    Py_XINCREF(self->head);
    return self->head;
}

static int Builder_traverse(BuilderObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->config);
    Py_VISIT(self->ops);
    Py_VISIT(self->error);
    return 0;
}

static int Builder_clear(BuilderObject *self) {
    Py_CLEAR(self->config);
    Py_CLEAR(self->ops);
    Py_CLEAR(self->error);
    Py_CLEAR(self->head);
    Py_CLEAR(self->body_size);
    return 0;
}

static void Builder_dealloc(BuilderObject *self) {
    PyObject_GC_UnTrack(self);
    Builder_clear(self);
    if (self->h.buf && self->h.buf != self->h.small) PyMem_Free(self->h.buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Builder_get_config(BuilderObject *self, void *c) {
    (void)c;
    if (!self->config) Py_RETURN_NONE;
    Py_INCREF(self->config);
    return self->config;
}
static PyObject *Builder_get_body_size(BuilderObject *self, void *c) {
    (void)c;
    if (!self->body_size) Py_RETURN_NONE;
    Py_INCREF(self->body_size);
    return self->body_size;
}

static PyGetSetDef Builder_getset[] = {
    {"config", (getter)Builder_get_config, NULL, "The builder's Config.", NULL},
    {"body_size", (getter)Builder_get_body_size, NULL, "The body length the frame declares.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Builder_methods[] = {
    {"add", (PyCFunction)Builder_add, METH_VARARGS,
     "add(name, value): a member with any JSON-able value (None, bool, int, float, str, dict, "
     "list, tuple, RawJSON)."},
    {"add_string", (PyCFunction)Builder_add_string, METH_VARARGS,
     "add_string(name, value): a string member (str, or bytes holding UTF-8)."},
    {"add_int", (PyCFunction)Builder_add_int, METH_VARARGS, "add_int(name, value): an integer member (any magnitude)."},
    {"add_bool", (PyCFunction)Builder_add_bool, METH_VARARGS, "add_bool(name, value): true or false."},
    {"add_null", (PyCFunction)Builder_add_null, METH_VARARGS, "add_null(name): null."},
    {"add_raw", (PyCFunction)Builder_add_raw, METH_VARARGS,
     "add_raw(name, json_text): any JSON value given as text, validated and made canonical."},
    {"finish", (PyCFunction)Builder_finish, METH_NOARGS,
     "finish() -> bytes: prefix + header (the same bytes on every call)."},
    {NULL, NULL, 0, NULL}};

PyTypeObject BuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libframe.native.Builder",
    .tp_basicsize = sizeof(BuilderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Builder_init,
    .tp_dealloc = (destructor)Builder_dealloc,
    .tp_traverse = (traverseproc)Builder_traverse,
    .tp_clear = (inquiry)Builder_clear,
    .tp_methods = Builder_methods,
    .tp_getset = Builder_getset,
    .tp_doc = "Builder(body_size, config=None, **params): builds prefix + canonical "
               "header member by member with libframe's frame_builder (same interface as "
               "libframe.pure.Builder).",
};

