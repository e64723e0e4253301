#!/usr/bin/env python3
"""Compiles tests/vectors/*.json into C data for the portable runner.

    python3 tests/portable/gen_vectors.py tests/vectors build/portable/vectors.c

The runner (tests/portable/runner.c) then needs no JSON parser, no file
system and no test framework, so the same checks run natively, under
qemu-user (s390x, big-endian), with gcc -m32, or on a board. The vector
format is the one of tests/vectors/README.md; unknown fields are ignored,
unknown values of known fields are an error (exit status 1).
"""
import json
import os
import sys

TYPES = {"string": "PV_STRING", "int": "PV_INT", "uint": "PV_UINT", "bool": "PV_BOOL",
         "null": "PV_NULL", "raw": "PV_RAW"}


class VectorError(Exception):
    pass


def c_bytes(name, data, out):
    """Emits a byte array (at least one element, so that C accepts it)."""
    if not data:
        out.append("static const unsigned char %s[1] = {0};" % name)
        return
    rows = []
    for i in range(0, len(data), 24):
        rows.append("    " + ",".join("0x%02x" % x for x in data[i:i + 24]))
    out.append("static const unsigned char %s[%d] = {\n%s};" % (name, len(data), ",\n".join(rows)))


def c_string(data):
    """A C string literal holding exactly these bytes (no NUL inside)."""
    parts = []
    for x in data:
        if x == 0:
            raise VectorError("NUL in a C string")
        if 0x20 <= x < 0x7F and x not in (0x22, 0x5C, 0x3F):
            parts.append(chr(x))
        else:
            parts.append("\\%03o" % x)
    return '"' + "".join(parts) + '"'


def u64(v):
    if not isinstance(v, int) or v < 0 or v >= 2**64:
        raise VectorError("not a uint64: %r" % (v,))
    return "UINT64_C(%d)" % v


def config_init(cfg):
    """C initializer of a frame_config for a vector's config object; fields
    the C API cannot express (a byte order or profile name that is not one of
    the two) become out-of-range values that frame_config_check refuses."""
    width = cfg.get("prefix_width", 0)
    order = cfg.get("byte_order", "little")
    profile = cfg.get("profile", "json")
    big = {"little": 0, "big": 1}.get(order, 2)
    raw = {"json": 0, "raw": 1}.get(profile, 2)
    name = cfg.get("size_name")
    if name is None:
        cname = "NULL"
    else:
        cname = c_string(name.encode("utf-8", "surrogatepass")) if name else '""'
    mh = cfg.get("max_header", 0)
    mb = cfg.get("max_body", 0)
    if not isinstance(width, int) or width < 0 or width >= 2**32:
        raise VectorError("prefix_width %r" % (width,))
    return "{%du, %d, %d, %s, %s, %s}" % (width, big, raw, cname, u64(mh), u64(mb))


def member_parts(m):
    if isinstance(m, dict):
        name = bytes.fromhex(m["name_hex"]) if "name_hex" in m else m["name"].encode("utf-8", "surrogatepass")
        typ = m["type"]
        if "value_hex" in m:
            value = bytes.fromhex(m["value_hex"])
        else:
            value = m.get("value")
    else:
        name, typ, value = m[0].encode("utf-8", "surrogatepass"), m[1], m[2]
    if typ not in TYPES:
        raise VectorError("member type %r" % (typ,))
    if typ in ("string", "raw") and isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return name, typ, value


def emit_vector(idx, v, out, table):
    name = v["name"]
    kind = v.get("kind")
    if kind not in ("decode", "encode"):
        raise VectorError("kind %r" % (kind,))
    p = "v%d" % idx
    cfg = v.get("config")
    error = v.get("error")
    fields = {
        "name": c_string(name.encode("ascii")),
        "encode": "1" if kind == "encode" else "0",
        "has_config": "1" if cfg is not None else "0",
        "config": config_init(cfg) if cfg is not None else "{0u, 0, 0, NULL, 0, 0}",
        "datagram": "1" if v.get("datagram") else "0",
        "stream": "{NULL, 0}", "frames": "NULL", "nframes": "0",
        "members": "NULL", "nmembers": "0", "body": "{NULL, 0}", "frame": "{NULL, 0}",
        "error": "NULL", "has_offset": "0", "offset": "0", "has_frame": "0",
        "frame_index": "0", "has_missing": "0", "missing": "0",
    }
    if error is not None:
        fields["error"] = c_string(error["name"].encode("ascii"))
        if "offset" in error:
            fields["has_offset"], fields["offset"] = "1", u64(error["offset"])
        if "frame" in error:
            fields["has_frame"], fields["frame_index"] = "1", u64(error["frame"])
        if "missing" in error:
            fields["has_missing"], fields["missing"] = "1", u64(error["missing"])
    if kind == "decode":
        stream = bytes.fromhex(v.get("stream", ""))
        c_bytes(p + "_stream", stream, out)
        fields["stream"] = "{%s_stream, %d}" % (p, len(stream))
        frames = v.get("frames", [])
        rows = []
        for j, f in enumerate(frames):
            body = bytes.fromhex(f.get("body", ""))
            c_bytes("%s_f%d_body" % (p, j), body, out)
            if "header_json" in f:
                # frame_header.root views the object without the white space around it
                hj = f["header_json"].encode("utf-8", "surrogatepass").strip(b" \t\n\r")
                c_bytes("%s_f%d_hdr" % (p, j), hj, out)
                hdr = "{%s_f%d_hdr, %d}, 1" % (p, j, len(hj))
            else:
                hdr = "{NULL, 0}, 0"
            rows.append("    {%s, {%s_f%d_body, %d}}" % (hdr, p, j, len(body)))
        if rows:
            out.append("static const pv_frame %s_frames[] = {\n%s};" % (p, ",\n".join(rows)))
            fields["frames"], fields["nframes"] = p + "_frames", str(len(rows))
    else:
        members = v.get("members", [])
        rows = []
        for j, m in enumerate(members):
            mname, typ, value = member_parts(m)
            c_bytes("%s_m%d_name" % (p, j), mname, out)
            sval, ival, uval, bval = "{NULL, 0}", "0", "0", "0"
            if typ in ("string", "raw"):
                c_bytes("%s_m%d_val" % (p, j), value, out)
                sval = "{%s_m%d_val, %d}" % (p, j, len(value))
            elif typ == "int":
                if not isinstance(value, int) or not -2**63 <= value < 2**63:
                    raise VectorError("int member %r" % (value,))
                ival = "INT64_MIN" if value == -2**63 else "INT64_C(%d)" % value
            elif typ == "uint":
                uval = u64(value)
            elif typ == "bool":
                bval = "1" if value else "0"
            rows.append("    {{%s_m%d_name, %d}, %s, %s, %s, %s, %s}"
                        % (p, j, len(mname), TYPES[typ], sval, ival, uval, bval))
        if rows:
            out.append("static const pv_member %s_members[] = {\n%s};" % (p, ",\n".join(rows)))
            fields["members"], fields["nmembers"] = p + "_members", str(len(rows))
        body = bytes.fromhex(v.get("body", ""))
        c_bytes(p + "_body", body, out)
        fields["body"] = "{%s_body, %d}" % (p, len(body))
        if v.get("frame") is not None:
            frame = bytes.fromhex(v["frame"])
            c_bytes(p + "_frame", frame, out)
            fields["frame"] = "{%s_frame, %d}" % (p, len(frame))
    order = ["name", "encode", "has_config", "config", "datagram", "stream", "frames", "nframes",
             "members", "nmembers", "body", "frame", "error", "has_offset", "offset",
             "has_frame", "frame_index", "has_missing", "missing"]
    table.append("    {" + ", ".join(fields[k] for k in order) + "}")


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen_vectors.py VECTOR_DIR OUT.c\n")
        return 2
    vdir, outpath = argv
    files = sorted(f for f in os.listdir(vdir) if f.endswith(".json"))
    out = ["/* GENERATED by tests/portable/gen_vectors.py from %s; do not edit. */" % vdir,
           '#include "portable.h"', ""]
    table = []
    try:
        for idx, f in enumerate(files):
            with open(os.path.join(vdir, f), encoding="utf-8") as fh:
                v = json.load(fh)
            if v.get("name") + ".json" != f:
                raise VectorError("%s: name %r does not match the file name" % (f, v.get("name")))
            try:
                emit_vector(idx, v, out, table)
            except (VectorError, KeyError, ValueError, TypeError) as e:
                raise VectorError("%s: %s" % (f, e))
    except VectorError as e:
        sys.stderr.write("gen_vectors: %s\n" % e)
        return 1
    if not table:
        sys.stderr.write("gen_vectors: no vectors in %s\n" % vdir)
        return 1
    out.append("const pv_vector pv_vectors[] = {\n%s};" % ",\n".join(table))
    out.append("const size_t pv_vector_count = %d;" % len(table))
    os.makedirs(os.path.dirname(os.path.abspath(outpath)), exist_ok=True)
    tmp = outpath + ".tmp"
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        fh.write("\n".join(out) + "\n")
    os.replace(tmp, outpath)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
