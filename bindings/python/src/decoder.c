/* libframe._native: the Decoder type (see native.h). */
#include "native.h"

/* ------------------------------------------------------------------------ */
/* Decoder                                                                  */
/* ------------------------------------------------------------------------ */

enum { MODE_NONE, MODE_FEED, MODE_EVENTS };

typedef struct {
    PyObject_HEAD
    frame_decoder d;
    cconfig cfg;
    unsigned char *hbuf;
    PyObject *config, *parse_float, *error;
    int mode, busy;
    /* The call being served: its data and where it starts in the stream. */
    const unsigned char *data;
    uint64_t base;
    PyObject *out;
    int whole;
    int pyerr; /* a callback raised */
    key_slot *keys; /* the name cache (KEY_SLOTS), or NULL */
    /* The frame whose header arrived and whose body is not complete. */
    PyObject *header, *json, *body;
    uint64_t size, got, cap;
    uint64_t fstart; /* stream offset of the current frame's first byte */
    uint64_t done;   /* frames completed */
} DecoderObject;

static int append_steal(PyObject *list, PyObject *item) {
    int r;
    if (!item) return -1;
    r = PyList_Append(list, item);
    Py_DECREF(item);
    return r;
}

/* A new bytes object with a copy of n bytes; big copies without the GIL. */
static PyObject *copy_bytes(const void *p, size_t n) {
    PyObject *r;
    if (n < GIL_FREE_COPY) return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
    r = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (r) {
        char *dst = PyBytes_AS_STRING(r);
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, p, n);
        Py_END_ALLOW_THREADS
    }
    return r;
}

static int on_header(frame_decoder *fd, const frame_header *h) {
    DecoderObject *self = (DecoderObject *)fd->data;
    PyObject *header, *json;
    if (self->cfg.raw) {
        header = PyDict_New();
        json = g_empty_bytes;
        Py_INCREF(json);
    } else {
        uint64_t end = frame_decoder_offset(fd), hs = self->fstart + self->cfg.width;
        size_t hlen = (size_t)(end - hs);
        if (hs >= self->base) /* the header is in the data of this call */
            json = PyBytes_FromStringAndSize((const char *)self->data + (hs - self->base),
                                             (Py_ssize_t)hlen);
        else /* it came in pieces, gathered in the header buffer */
            json = PyBytes_FromStringAndSize((const char *)self->hbuf, (Py_ssize_t)hlen);
        header = json ? header_dict(&h->root, self->parse_float, self->keys) : NULL;
    }
    if (!header || !json) {
        Py_XDECREF(header);
        Py_XDECREF(json);
        self->pyerr = 1;
        return -1;
    }
    if (self->whole) {
        self->header = header;
        self->json = json;
        self->size = h->body_size;
        self->got = self->cap = 0;
        return FRAME_CONTINUE;
    } else {
        PyObject *items[3];
        items[0] = header;
        items[1] = PyLong_FromUnsignedLongLong(h->body_size);
        items[2] = json;
        if (append_steal(self->out, make_tuple(g_header_event, 3, items))) {
            self->pyerr = 1;
            return -1;
        }
    }
    return FRAME_CONTINUE;
}

static int on_body(frame_decoder *fd, const void *at, size_t len) {
    DecoderObject *self = (DecoderObject *)fd->data;
    if (!self->whole) {
        PyObject *items[1];
        items[0] = copy_bytes(at, len);
        if (append_steal(self->out, make_tuple(g_body_chunk, 1, items))) goto fail;
        return FRAME_CONTINUE;
    }
    if (!self->body && len == self->size) { /* the whole body at once */
        self->body = copy_bytes(at, len);
        if (!self->body) goto fail;
        self->got = self->cap = len;
        return FRAME_CONTINUE;
    }
    /* Pieces: a bytes object that grows (never past the declared size, so
     * a lying prefix cannot make it allocate what has not arrived). */
    if (self->got + len > self->cap) {
        uint64_t cap = self->cap * 2;
        if (cap < self->got + len) cap = self->got + len;
        if (cap < 65536) cap = 65536;
        if (cap > self->size) cap = self->size;
        if (cap > (uint64_t)PY_SSIZE_T_MAX) {
            PyErr_NoMemory();
            goto fail;
        }
        if (!self->body) {
            self->body = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
            if (!self->body) goto fail;
        } else if (_PyBytes_Resize(&self->body, (Py_ssize_t)cap) < 0) {
            goto fail;
        }
        self->cap = cap;
    }
    if (len >= GIL_FREE_COPY) {
        char *dst = PyBytes_AS_STRING(self->body) + self->got;
        Py_BEGIN_ALLOW_THREADS
        memcpy(dst, at, len);
        Py_END_ALLOW_THREADS
    } else {
        memcpy(PyBytes_AS_STRING(self->body) + self->got, at, len);
    }
    self->got += len;
    return FRAME_CONTINUE;
fail:
    self->pyerr = 1;
    return -1;
}

static void drop_frame(DecoderObject *self) {
    Py_CLEAR(self->header);
    Py_CLEAR(self->json);
    Py_CLEAR(self->body);
    self->size = self->got = self->cap = 0;
}

static int on_frame_end(frame_decoder *fd) {
    DecoderObject *self = (DecoderObject *)fd->data;
    PyObject *items[3], *r;
    if (self->whole) {
        items[0] = self->header;
        items[1] = self->body ? self->body : (Py_INCREF(g_empty_bytes), g_empty_bytes);
        items[2] = self->json;
        self->header = self->body = self->json = NULL;
        r = make_tuple(g_frame, 3, items);
    } else {
        items[0] = PyLong_FromUnsignedLongLong(self->done);
        r = make_tuple(g_frame_end, 1, items);
    }
    self->size = self->got = self->cap = 0;
    self->done++;
    self->fstart = frame_decoder_offset(fd);
    if (append_steal(self->out, r)) {
        self->pyerr = 1;
        return -1;
    }
    return FRAME_CONTINUE;
}

static const frame_callbacks decoder_callbacks = {on_header, on_body, on_frame_end};


/* The FrameError for the decoder's errno (sticky: kept in self->error). */
static PyObject *decoder_error(DecoderObject *self, frame_errno err, PyObject *missing) {
    PyObject *declared = NULL, *limit = NULL, *exc;
    if (err == FRAME_E_HEADER_TOO_LARGE || err == FRAME_E_BODY_TOO_LARGE ||
        err == FRAME_E_LOOKS_LIKE_TEXT || err == FRAME_E_LOOKS_LIKE_TLS) {
        declared = PyLong_FromUnsignedLongLong(frame_decoder_declared_size(&self->d));
        limit = PyLong_FromUnsignedLongLong(frame_decoder_limit(&self->d));
        if (!declared || !limit) {
            Py_XDECREF(declared);
            Py_XDECREF(limit);
            return NULL;
        }
    }
    exc = frame_exc(err, NULL, (long long)frame_decoder_offset(&self->d),
                    (long long)frame_decoder_frame_index(&self->d), declared, limit, missing);
    Py_XDECREF(declared);
    Py_XDECREF(limit);
    if (exc) Py_XSETREF(self->error, (Py_INCREF(exc), exc));
    return exc;
}


static int Decoder_init(DecoderObject *self, PyObject *args, PyObject *kwargs) {
    PyObject *config = NULL, *parse_float = NULL, *params = NULL, *cfg;
    size_t cap;
    frame_errno err;
    if (self->config) {
        PyErr_SetString(PyExc_TypeError, "Decoder.__init__ may run once");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "|O:Decoder", &config)) return -1;
    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        /* Borrowed from kwargs, which outlives this call. */
        PyObject *c = PyDict_GetItemString(kwargs, "config");
        parse_float = PyDict_GetItemString(kwargs, "parse_float");
        if (c && config) {
            PyErr_SetString(PyExc_TypeError, "Decoder() got multiple values for 'config'");
            return -1;
        }
        if (c) config = c;
        params = PyDict_Copy(kwargs);
        if (!params) return -1;
        if ((c && PyDict_DelItemString(params, "config") < 0) ||
            (parse_float && PyDict_DelItemString(params, "parse_float") < 0)) {
            Py_DECREF(params);
            return -1;
        }
    }
    cfg = make_config(config, params);
    Py_XDECREF(params);
    if (!cfg) return -1;
    self->config = cfg;
    if (cconfig_from(cfg, &self->cfg)) return -1;
    if (parse_float && parse_float != Py_None) {
        Py_INCREF(parse_float);
        self->parse_float = parse_float;
    }
    cap = self->cfg.raw ? 0 : (size_t)self->cfg.header_limit;
    if (cap) {
        /* calloc: a large buffer is address space until headers fill it. */
        self->hbuf = (unsigned char *)(cap > (1u << 20) ? PyMem_RawCalloc(1, cap) : PyMem_RawMalloc(cap));
        if (!self->hbuf) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (!self->cfg.raw) {
        self->keys = (key_slot *)PyMem_Calloc(KEY_SLOTS, sizeof(key_slot));
        if (!self->keys) {
            PyErr_NoMemory();
            return -1;
        }
    }
    err = frame_decoder_init(&self->d, &self->cfg.c, &decoder_callbacks, self->hbuf, cap, self);
    if (err) {
        raise_frame_error(err, "frame_decoder_init failed");
        return -1;
    }
    return 0;
}

static void Decoder_reset_state(DecoderObject *self) {
    drop_frame(self);
    Py_CLEAR(self->error);
    self->mode = MODE_NONE;
    self->fstart = self->done = 0;
    self->pyerr = 0;
}

static int Decoder_traverse(DecoderObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->config);
    Py_VISIT(self->parse_float);
    Py_VISIT(self->error);
    Py_VISIT(self->header);
    return 0;
}

static int Decoder_clear(DecoderObject *self) {
    int i;
    if (self->keys)
        for (i = 0; i < KEY_SLOTS; i++) Py_CLEAR(self->keys[i].key);
    Py_CLEAR(self->config);
    Py_CLEAR(self->parse_float);
    Py_CLEAR(self->error);
    drop_frame(self);
    return 0;
}

static void Decoder_dealloc(DecoderObject *self) {
    PyObject_GC_UnTrack(self);
    Decoder_clear(self);
    PyMem_RawFree(self->hbuf);
    PyMem_Free(self->keys);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int at_boundary(DecoderObject *self) {
    return !self->error && !self->header && frame_decoder_errno(&self->d) == FRAME_OK &&
           frame_decoder_needed(&self->d) == 0;
}

static PyObject *raise_after(PyObject *out, PyObject *err) {
    return PyObject_CallFunctionObjArgs(g_raise_after, out, err, NULL);
}

/* Runs frame_feed over `data` in `whole` (feed) or events mode. */
static PyObject *Decoder_run(DecoderObject *self, PyObject *data, int whole) {
    Py_buffer view;
    PyObject *out, *exc, *r;
    frame_errno err;
    int want = whole ? MODE_FEED : MODE_EVENTS;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        out = PyList_New(0);
        r = out ? raise_after(out, self->error) : NULL;
        Py_XDECREF(out);
        return r;
    }
    if (PyUnicode_Check(data)) {
        PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyObject *b = PyObject_CallMethod(data, "tobytes", NULL);
        if (!b) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
            return NULL;
        }
        r = Decoder_run(self, b, whole);
        Py_DECREF(b);
        return r;
    }
    if (self->mode != want) {
        if (self->mode != MODE_NONE && !at_boundary(self)) {
            PyBuffer_Release(&view);
            return raise_frame_error(FRAME_E_ARGUMENT,
                                     whole ? "this decoder is in the middle of a frame read with "
                                             "feed_events(); finish it with the same method"
                                           : "this decoder is in the middle of a frame read with "
                                             "feed(); finish it with the same method");
        }
        self->mode = want;
    }
    out = PyList_New(0);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    self->busy = 1;
    self->data = (const unsigned char *)view.buf;
    self->base = frame_decoder_offset(&self->d);
    self->out = out;
    self->whole = whole;
    frame_feed(&self->d, view.buf, (size_t)view.len);
    self->data = NULL;
    self->out = NULL;
    self->busy = 0;
    PyBuffer_Release(&view);
    if (self->pyerr) { /* a Python error in a callback: it stays the decoder's error */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        if (v) Py_XSETREF(self->error, (Py_INCREF(v), v));
        PyErr_Restore(t, v, tb);
        drop_frame(self);
        Py_DECREF(out);
        return NULL;
    }
    err = frame_decoder_errno(&self->d);
    if (err != FRAME_OK && err != FRAME_E_PAUSED) {
        drop_frame(self);
        exc = decoder_error(self, err, NULL);
        if (!exc) {
            Py_DECREF(out);
            return NULL;
        }
        r = raise_after(out, exc);
        Py_DECREF(exc);
        Py_DECREF(out);
        return r;
    }
    r = PyObject_GetIter(out);
    Py_DECREF(out);
    return r;
}

static PyObject *Decoder_feed(DecoderObject *self, PyObject *data) {
    return Decoder_run(self, data, 1);
}

static PyObject *Decoder_feed_events(DecoderObject *self, PyObject *data) {
    return Decoder_run(self, data, 0);
}

static PyObject *Decoder_finish(DecoderObject *self, PyObject *unused) {
    uint64_t missing = 0;
    frame_errno err;
    PyObject *out, *m, *exc;
    (void)unused;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    out = PyList_New(0);
    if (!out) return NULL;
    self->out = out;
    self->data = NULL;
    self->base = frame_decoder_offset(&self->d);
    self->whole = self->mode != MODE_EVENTS;
    err = frame_finish(&self->d, &missing);
    self->out = NULL;
    Py_DECREF(out);
    if (err == FRAME_OK) Py_RETURN_NONE;
    drop_frame(self);
    m = err == FRAME_E_TRUNCATED ? PyLong_FromUnsignedLongLong(missing) : NULL;
    exc = decoder_error(self, err, m);
    Py_XDECREF(m);
    if (exc) {
        raise_obj(exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *Decoder_feed_datagram(DecoderObject *self, PyObject *data) {
    Py_buffer view;
    PyObject *out, *r = NULL, *exc;
    frame_errno err;
    if (in_use(self->busy)) return NULL;
    if (self->error) {
        raise_obj(self->error);
        return NULL;
    }
    if (!at_boundary(self))
        return raise_frame_error(FRAME_E_ARGUMENT, "feed_datagram() needs a decoder at a frame boundary");
    if (PyUnicode_Check(data) || PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "data must be bytes-like, not %s", Py_TYPE(data)->tp_name);
        return NULL;
    }
    out = PyList_New(0);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    self->busy = 1;
    self->data = (const unsigned char *)view.buf;
    self->base = self->fstart = 0; /* offsets count from the datagram's start */
    self->out = out;
    self->whole = 1;
    err = frame_feed_datagram(&self->d, view.buf, (size_t)view.len);
    self->data = NULL;
    self->out = NULL;
    self->busy = 0;
    PyBuffer_Release(&view);
    if (self->pyerr) {
        drop_frame(self);
        Py_DECREF(out);
        return NULL;
    }
    if (err != FRAME_OK && err != FRAME_E_PAUSED) {
        drop_frame(self);
        exc = decoder_error(self, err, NULL);
        if (exc) {
            raise_obj(exc);
            Py_DECREF(exc);
        }
    } else if (PyList_GET_SIZE(out) == 1) {
        r = PyList_GET_ITEM(out, 0);
        Py_INCREF(r);
    } else {
        raise_frame_error(FRAME_E_ARGUMENT, "the datagram gave no frame");
    }
    Py_DECREF(out);
    return r;
}

static PyObject *Decoder_reset(DecoderObject *self, PyObject *unused) {
    (void)unused;
    if (in_use(self->busy)) return NULL;
    frame_decoder_reset(&self->d);
    Decoder_reset_state(self);
    Py_RETURN_NONE;
}

static PyObject *Decoder_repr(DecoderObject *self) {
    char tail[64] = "";
    if (self->error) {
        PyObject *name = PyObject_GetAttrString(self->error, "name");
        const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : "?";
        PyErr_Clear();
        PyOS_snprintf(tail, sizeof tail, " error=%s", s ? s : "?");
        Py_XDECREF(name);
    }
    return PyUnicode_FromFormat("<libframe.native.Decoder offset=%llu frame=%llu%s>",
                                (unsigned long long)frame_decoder_offset(&self->d),
                                (unsigned long long)frame_decoder_frame_index(&self->d), tail);
}

static PyObject *Decoder_get_offset(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_offset(&self->d));
}
static PyObject *Decoder_get_frame_index(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_frame_index(&self->d));
}
static PyObject *Decoder_get_needed(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(self->error ? 0 : frame_decoder_needed(&self->d));
}
static PyObject *Decoder_get_declared(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_declared_size(&self->d));
}
static PyObject *Decoder_get_limit(DecoderObject *self, void *c) {
    (void)c;
    return PyLong_FromUnsignedLongLong(frame_decoder_limit(&self->d));
}
static PyObject *Decoder_get_error(DecoderObject *self, void *c) {
    (void)c;
    if (!self->error) Py_RETURN_NONE;
    Py_INCREF(self->error);
    return self->error;
}
static PyObject *Decoder_get_at_boundary(DecoderObject *self, void *c) {
    (void)c;
    return PyBool_FromLong(at_boundary(self));
}
static PyObject *Decoder_get_config(DecoderObject *self, void *c) {
    (void)c;
    if (!self->config) Py_RETURN_NONE;
    Py_INCREF(self->config);
    return self->config;
}

static PyGetSetDef Decoder_getset[] = {
    {"offset", (getter)Decoder_get_offset, NULL, "Bytes consumed so far; after an error, the error's offset.", NULL},
    {"frame_index", (getter)Decoder_get_frame_index, NULL, "Index (from 0) of the frame being decoded, or of the one that failed.", NULL},
    {"needed", (getter)Decoder_get_needed, NULL, "The least number of bytes still needed to complete the current frame; 0 at a frame boundary.", NULL},
    {"declared_size", (getter)Decoder_get_declared, NULL, "The prefix value until the header is parsed, then the body size.", NULL},
    {"limit", (getter)Decoder_get_limit, NULL, "The limit a HEADER_TOO_LARGE / BODY_TOO_LARGE broke, else 0.", NULL},
    {"error", (getter)Decoder_get_error, NULL, "The error that stopped the decoder, or None.", NULL},
    {"at_boundary", (getter)Decoder_get_at_boundary, NULL, "True between frames (nothing of a frame consumed yet).", NULL},
    {"config", (getter)Decoder_get_config, NULL, "The decoder's Config.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Decoder_methods[] = {
    {"feed", (PyCFunction)Decoder_feed, METH_O,
     "feed(data) -> iterator of Frame(header, body, header_json) completed by data; raises the "
     "data's error after the frames before it."},
    {"feed_events", (PyCFunction)Decoder_feed_events, METH_O,
     "feed_events(data) -> iterator of HeaderEvent, BodyChunk and FrameEnd events."},
    {"feed_datagram", (PyCFunction)Decoder_feed_datagram, METH_O,
     "feed_datagram(data) -> Frame: one datagram holding exactly one frame."},
    {"finish", (PyCFunction)Decoder_finish, METH_NOARGS,
     "finish(): the stream has ended; TruncatedError inside a frame."},
    {"reset", (PyCFunction)Decoder_reset, METH_NOARGS,
     "reset(): back to the start of a new stream (offset 0, frame 0, no error)."},
    {NULL, NULL, 0, NULL}};

PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libframe.native.Decoder",
    .tp_basicsize = sizeof(DecoderObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Decoder_init,
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_traverse = (traverseproc)Decoder_traverse,
    .tp_clear = (inquiry)Decoder_clear,
    .tp_methods = Decoder_methods,
    .tp_getset = Decoder_getset,
    .tp_repr = (reprfunc)Decoder_repr,
    .tp_doc = "Decoder(config=None, *, parse_float=None, **params): incremental frame "
               "decoder running libframe's frame_feed (same interface as "
               "libframe.pure.Decoder).",
};

