-- libframe.lua: a Wireshark / tshark dissector for libframe streams (SPEC.md):
--
--     frame = prefix (W octets: header length H) | header (H octets of JSON, an
--             object with "size": N) | body (N octets)
--
-- Install: copy this one file into the personal Lua plugins folder
-- (~/.local/lib/wireshark/plugins/ on Linux; Help > About Wireshark > Folders
-- shows it), or load it for one run: tshark -X lua_script:libframe.lua ...
--
-- Protocol "libframe". Fields: libframe.prefix, libframe.header_length,
-- libframe.header (the JSON text; its members as a tree of libframe.member),
-- libframe.size, libframe.body. Frames are reassembled across TCP segments,
-- and a segment may hold several. A UDP datagram is one frame. After an
-- error, the rest of the TCP connection is shown as "framing lost".
-- Expert infos name the SPEC.md error: HEADER_EMPTY, HEADER_TOO_LARGE,
-- LOOKS_LIKE_TLS, LOOKS_LIKE_TEXT, BOM, NOT_OBJECT, JSON_SYNTAX, BAD_UTF8,
-- LONE_SURROGATE, DUPLICATE_NAME, TOO_DEEP, TOO_MANY_MEMBERS, SIZE_MISSING,
-- SIZE_INVALID, BODY_TOO_LARGE, DATAGRAM_TRUNCATED, DATAGRAM_TRAILING.
-- Preferences (Edit > Preferences > Protocols > libframe, or tshark -o):
--   libframe.tcp_port, libframe.udp_port   ports to decode (0: none; "Decode As" works too)
--   libframe.width (1, 2, 4, 8), libframe.big_endian, libframe.size_name,
--   libframe.max_header, libframe.raw (raw profile: the prefix is the body length)
--   libframe.heuristic   recognise a 4-octet little-endian prefix followed by "{"
--                        on any TCP port (off by default)
-- Not part of libframe's C library; Wireshark 3.x/4.x (Lua 5.2), no plugin build.

local proto = Proto("libframe", "libframe (length-prefixed frames with a JSON header)")

local f = proto.fields
f.prefix = ProtoField.uint64("libframe.prefix", "Prefix", base.DEC)
f.header_length = ProtoField.uint32("libframe.header_length", "Header length", base.DEC)
f.header = ProtoField.string("libframe.header", "Header")
f.member = ProtoField.string("libframe.member", "Member")
f.size = ProtoField.uint64("libframe.size", "Body size", base.DEC)
f.body = ProtoField.bytes("libframe.body", "Body")

-- One expert field per SPEC.md error the dissector can see.
local ERRORS = {
    HEADER_EMPTY = "the prefix declares an empty header",
    HEADER_TOO_LARGE = "the header is longer than the maximum header length",
    LOOKS_LIKE_TEXT = "the prefix is printable text: a text protocol (HTTP?) is talking to a frame port",
    LOOKS_LIKE_TLS = "the prefix is a TLS record: a TLS client is talking to a plain frame port",
    JSON_SYNTAX = "the header is not well-formed JSON",
    NOT_OBJECT = "the header's top-level value is not an object",
    BOM = "the header starts with a byte-order mark",
    BAD_UTF8 = "the header contains bytes that are not valid UTF-8",
    LONE_SURROGATE = "a \\u escape is an unpaired surrogate",
    DUPLICATE_NAME = "an object has two members with the same name",
    TOO_DEEP = "the header nests deeper than 32 levels",
    TOO_MANY_MEMBERS = "the header has more than 512 members",
    SIZE_MISSING = "the header has no size member",
    SIZE_INVALID = "the size member is not a plain non-negative integer",
    BODY_TOO_LARGE = "the declared body size is larger than the maximum body length",
    DATAGRAM_TRUNCATED = "the datagram ends before its frame does",
    DATAGRAM_TRAILING = "the datagram holds bytes after its frame",
}
local experts = {}
for name, text in pairs(ERRORS) do
    local group = (name == "LOOKS_LIKE_TLS" or name == "LOOKS_LIKE_TEXT") and expert.group.PROTOCOL
        or expert.group.MALFORMED
    experts[name] = ProtoExpert.new("libframe.error." .. name:lower(), name .. ": " .. text, group,
                                    expert.severity.ERROR)
end
local expert_list = {}
for _, e in pairs(experts) do expert_list[#expert_list + 1] = e end
proto.experts = expert_list

proto.prefs.tcp_port = Pref.uint("TCP port", 0, "TCP port to decode as libframe (0: none)")
proto.prefs.udp_port = Pref.uint("UDP port", 0, "UDP port to decode as libframe, one frame per datagram (0: none)")
proto.prefs.width = Pref.uint("Prefix width", 4, "Octets in the length prefix: 1, 2, 4 or 8 (other values: 4)")
proto.prefs.big_endian = Pref.bool("Big-endian prefix", false, "The prefix is big-endian (default little-endian)")
proto.prefs.size_name = Pref.string("Size member name", "size", "Name of the header member holding the body size")
proto.prefs.max_header = Pref.uint("Maximum header length", 65536, "Longer headers are HEADER_TOO_LARGE")
proto.prefs.raw = Pref.bool("Raw profile", false, "No header: the prefix is the body length")
proto.prefs.heuristic = Pref.bool("Heuristic on any TCP port", false,
    "Recognise a 4-octet little-endian prefix followed by '{' on any TCP port")

local MAX_BODY = "9007199254740991" -- 2^53 - 1, SPEC.md 4.1

-- ---- the header: a JSON reader that reports SPEC.md's errors and offsets --------------------

local function is_ws(c) return c == 0x20 or c == 0x09 or c == 0x0A or c == 0x0D end

local function digits_greater(a, b) -- decimal strings without leading zeros
    if #a ~= #b then return #a > #b end
    return a > b
end

-- Reads header text `s` (a Lua string). Returns a result table:
--   { root = node, size = "digits", size_node = node } or { err = NAME, pos = 0-based offset }
-- A node is { kind, s, e (1-based, inclusive), members = {{name, name_s, name_e, value}}, items }.
local function read_header(s, size_name)
    local n = #s
    local members = 0
    local function fail(name, i) error({ name = name, pos = i - 1 }, 0) end
    local function ws(i)
        while i <= n and is_ws(s:byte(i)) do i = i + 1 end
        return i
    end
    local function hex4(i) -- i at the first of 4 hex digits
        for k = i, i + 3 do
            local c = s:byte(k)
            if not c then fail("JSON_SYNTAX", n + 1) end
            if not ((c >= 48 and c <= 57) or (c >= 65 and c <= 70) or (c >= 97 and c <= 102)) then
                fail("JSON_SYNTAX", k)
            end
        end
        return tonumber(s:sub(i, i + 3), 16)
    end
    local function utf8_char(cp)
        if cp < 0x80 then return string.char(cp) end
        if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
        if cp < 0x10000 then
            return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
        end
        return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
                           0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    -- a string at i (the quote): returns its unescaped text and the index after it
    local function str(i)
        local out = {}
        local j = i + 1
        while true do
            local c = s:byte(j)
            if not c then fail("JSON_SYNTAX", n + 1) end
            if c == 0x22 then return table.concat(out), j + 1 end
            if c < 0x20 then fail("JSON_SYNTAX", j) end
            if c == 0x5C then
                local e = s:byte(j + 1)
                if not e then fail("JSON_SYNTAX", n + 1) end
                local simple = ({ [0x22] = '"', [0x5C] = "\\", [0x2F] = "/", [0x62] = "\b", [0x66] = "\f",
                                  [0x6E] = "\n", [0x72] = "\r", [0x74] = "\t" })[e]
                if simple then
                    out[#out + 1] = simple
                    j = j + 2
                elseif e == 0x75 then
                    local cp = hex4(j + 2)
                    if cp >= 0xD800 and cp <= 0xDBFF then
                        if s:sub(j + 6, j + 7) ~= "\\u" then fail("LONE_SURROGATE", j) end
                        local lo_ok, lo = pcall(hex4, j + 8)
                        if not lo_ok or lo < 0xDC00 or lo > 0xDFFF then fail("LONE_SURROGATE", j) end
                        cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
                        j = j + 12
                    elseif cp >= 0xDC00 and cp <= 0xDFFF then
                        fail("LONE_SURROGATE", j)
                    else
                        j = j + 6
                    end
                    out[#out + 1] = utf8_char(cp)
                else
                    fail("JSON_SYNTAX", j + 1)
                end
            elseif c < 0x80 then
                out[#out + 1] = string.char(c)
                j = j + 1
            else -- UTF-8, RFC 3629
                local len, lo, hi = 0, 0x80, 0xBF
                if c >= 0xC2 and c <= 0xDF then len = 2
                elseif c >= 0xE0 and c <= 0xEF then len = 3
                elseif c >= 0xF0 and c <= 0xF4 then len = 4
                else fail("BAD_UTF8", j) end
                if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F
                elseif c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
                for k = 1, len - 1 do
                    local d = s:byte(j + k)
                    local a, b = 0x80, 0xBF
                    if k == 1 then a, b = lo, hi end
                    if not d or d < a or d > b then fail("BAD_UTF8", j) end
                end
                out[#out + 1] = s:sub(j, j + len - 1)
                j = j + len
            end
        end
    end
    local function digits(i)
        local j = i
        while j <= n and s:byte(j) >= 48 and s:byte(j) <= 57 do j = j + 1 end
        return j
    end
    -- a number at i: returns the index after it and whether it is a plain integer
    local function number(i)
        local j = i
        if s:byte(j) == 0x2D then j = j + 1 end
        local c = s:byte(j)
        if not c then fail("JSON_SYNTAX", n + 1) end
        if c == 0x30 then
            j = j + 1
            local d = s:byte(j)
            if d and d >= 48 and d <= 57 then fail("JSON_SYNTAX", j) end
        elseif c >= 0x31 and c <= 0x39 then
            j = digits(j)
        else
            fail("JSON_SYNTAX", j)
        end
        local plain = s:byte(i) ~= 0x2D
        if s:byte(j) == 0x2E then
            plain = false
            local k = digits(j + 1)
            if k == j + 1 then fail("JSON_SYNTAX", k <= n and k or n + 1) end
            j = k
        end
        if s:byte(j) == 0x65 or s:byte(j) == 0x45 then
            plain = false
            j = j + 1
            if s:byte(j) == 0x2B or s:byte(j) == 0x2D then j = j + 1 end
            local k = digits(j)
            if k == j then fail("JSON_SYNTAX", k <= n and k or n + 1) end
            j = k
        end
        return j, plain
    end
    local value
    local function literal(i, word)
        for k = 1, #word do
            if s:byte(i + k - 1) ~= word:byte(k) then fail("JSON_SYNTAX", i + k - 1 <= n and i + k - 1 or n + 1) end
        end
        return i + #word
    end
    local result = {}
    -- a value at i (not white space), at nesting depth `depth` of its container
    value = function(i, depth, is_size)
        local c = s:byte(i)
        if not c then fail("JSON_SYNTAX", n + 1) end
        if is_size and (c == 0x2D or c == 0x22 or c == 0x74 or c == 0x66 or c == 0x6E or c == 0x5B or c == 0x7B) then
            fail("SIZE_INVALID", i)
        end
        if c == 0x7B or c == 0x5B then
            if depth + 1 > 32 then fail("TOO_DEEP", i) end
            local node = { kind = c == 0x7B and "object" or "array", s = i, members = {}, items = {} }
            local close = c == 0x7B and 0x7D or 0x5D
            local seen = {}
            local j = ws(i + 1)
            if s:byte(j) == close then
                node.e = j
                return node, j + 1
            end
            while true do
                if c == 0x7B then
                    if s:byte(j) ~= 0x22 then fail("JSON_SYNTAX", j <= n and j or n + 1) end
                    members = members + 1
                    if members > 512 then fail("TOO_MANY_MEMBERS", j) end
                    local name, k = str(j)
                    if seen[name] then fail("DUPLICATE_NAME", j) end
                    seen[name] = true
                    local name_s, name_e = j, k - 1
                    k = ws(k)
                    if s:byte(k) ~= 0x3A then fail("JSON_SYNTAX", k <= n and k or n + 1) end
                    k = ws(k + 1)
                    local size_here = depth == 0 and name == size_name
                    local v
                    v, j = value(k, depth + 1, size_here)
                    if size_here then
                        if not v.plain then fail("SIZE_INVALID", v.s) end
                        local d = s:sub(v.s, v.e)
                        if digits_greater(d, MAX_BODY) then fail("BODY_TOO_LARGE", v.s) end
                        result.size, result.size_node = d, v
                    end
                    node.members[#node.members + 1] = { name = name, name_s = name_s, name_e = name_e, value = v }
                else
                    local v
                    v, j = value(j, depth + 1, false)
                    node.items[#node.items + 1] = v
                end
                j = ws(j)
                local d = s:byte(j)
                if d == close then
                    node.e = j
                    return node, j + 1
                end
                if d ~= 0x2C then fail("JSON_SYNTAX", j <= n and j or n + 1) end
                j = ws(j + 1)
                if s:byte(j) == close then fail("JSON_SYNTAX", j) end -- trailing comma
            end
        end
        if c == 0x22 then
            local _, j = str(i)
            return { kind = "string", s = i, e = j - 1 }, j
        end
        if c == 0x2D or (c >= 0x30 and c <= 0x39) then
            local j, plain = number(i)
            return { kind = "number", s = i, e = j - 1, plain = plain }, j
        end
        if c == 0x74 then return { kind = "literal", s = i, e = i + 3 }, literal(i, "true") end
        if c == 0x66 then return { kind = "literal", s = i, e = i + 4 }, literal(i, "false") end
        if c == 0x6E then return { kind = "literal", s = i, e = i + 3 }, literal(i, "null") end
        fail("JSON_SYNTAX", i)
    end
    local ok, err = pcall(function()
        if s:sub(1, 3) == "\239\187\191" then fail("BOM", 1) end
        local i = ws(1)
        local c = s:byte(i)
        if not c then fail("JSON_SYNTAX", n + 1) end
        if c ~= 0x7B then
            if c == 0x5B or c == 0x22 or c == 0x2D or (c >= 0x30 and c <= 0x39) or c == 0x74 or c == 0x66 or c == 0x6E then
                fail("NOT_OBJECT", i)
            end
            fail("JSON_SYNTAX", i)
        end
        local root, j = value(i, 0, false)
        j = ws(j)
        if j <= n then fail("JSON_SYNTAX", j) end
        if not result.size then fail("SIZE_MISSING", n + 1) end
        result.root = root
    end)
    if not ok then
        if type(err) ~= "table" then error(err) end
        return { err = err.name, pos = err.pos }
    end
    return result
end

-- ---- the tree --------------------------------------------------------------------------------

local function short(text, max)
    if #text > max then return text:sub(1, max) .. "..." end
    return text
end

-- Adds node's members (object) or elements (array) under `tree`; hs = tvb offset of the header.
local function add_members(tree, tvb, hs, s, node)
    local entries = {}
    if node.kind == "object" then
        for _, m in ipairs(node.members) do
            entries[#entries + 1] = { label = s:sub(m.name_s, m.name_e), name = m.name, from = m.name_s, v = m.value }
        end
    else
        for k, v in ipairs(node.items) do
            entries[#entries + 1] = { label = "[" .. (k - 1) .. "]", name = "[" .. (k - 1) .. "]", from = v.s, v = v }
        end
    end
    for _, e in ipairs(entries) do
        local range = tvb(hs + e.from - 1, e.v.e - e.from + 1)
        local item = tree:add(f.member, range, e.name)
        if e.v.kind == "object" or e.v.kind == "array" then
            item:set_text(e.label .. ": " .. (e.v.kind == "object" and "{...}" or "[...]"))
            add_members(item, tvb, hs, s, e.v)
        else
            item:set_text(e.label .. ": " .. short(s:sub(e.v.s, e.v.e), 200))
        end
    end
end

local function prefs_width()
    local w = proto.prefs.width
    if w ~= 1 and w ~= 2 and w ~= 4 and w ~= 8 then w = 4 end
    return w
end

-- The prefix at tvb offset o as a number (exact up to 2^53) and as a UInt64.
local function read_prefix(tvb, o, w)
    local range = tvb(o, w)
    local v64
    if w == 8 then
        v64 = proto.prefs.big_endian and range:uint64() or range:le_uint64()
    else
        v64 = UInt64.new(proto.prefs.big_endian and range:uint() or range:le_uint())
    end
    return v64:tonumber(), v64, range
end

-- SPEC.md 7.3: what a prefix over the limit looks like.
local function foreign(tvb, o, w)
    if w >= 2 and tvb(o, 1):uint() == 0x16 and tvb(o + 1, 1):uint() == 0x03 then return "LOOKS_LIKE_TLS" end
    for k = 0, w - 1 do
        local c = tvb(o + k, 1):uint()
        if not ((c >= 0x20 and c <= 0x7E) or c == 0x09 or c == 0x0A or c == 0x0D) then return nil end
    end
    return "LOOKS_LIKE_TEXT"
end

local function report(item, name, range, detail)
    local text = name .. ": " .. ERRORS[name] .. (detail or "")
    if range then
        item:add_tvb_expert_info(experts[name], range, text)
    else
        item:add_proto_expert_info(experts[name], text)
    end
end

-- Dissects the frame at tvb offset o. Returns the octets it takes, or a negative
-- number: that many more octets are needed (streams only). An error takes
-- the rest of the data: after an error the framing is lost (SPEC.md 9.1).
local function dissect_frame(tvb, pinfo, tree, o, datagram, info)
    local avail = tvb:len() - o
    local w = prefs_width()
    local raw = proto.prefs.raw
    if avail < w then
        if not datagram then return -(w - avail) end
        local t = tree:add(proto, tvb(o, avail), "libframe frame (cut short)")
        report(t, "DATAGRAM_TRUNCATED", tvb(o, avail), " (" .. avail .. " of " .. w .. " prefix octets)")
        return avail
    end
    local v, v64, prange = read_prefix(tvb, o, w)
    local limit = raw and tonumber(MAX_BODY) or proto.prefs.max_header
    if not raw and v == 0 then
        local t = tree:add(proto, tvb(o, avail), "libframe frame, empty header")
        t:add(f.prefix, prange, v64)
        report(t, "HEADER_EMPTY", prange)
        info[#info + 1] = "HEADER_EMPTY"
        return avail
    end
    if v > limit then
        local name = foreign(tvb, o, w) or (raw and "BODY_TOO_LARGE" or "HEADER_TOO_LARGE")
        local t = tree:add(proto, tvb(o, avail), "libframe frame, " .. name)
        t:add(f.prefix, prange, v64)
        report(t, name, prange, string.format(" (prefix %s, limit %d)", tostring(v64), limit))
        info[#info + 1] = name
        return avail
    end
    local hlen = raw and 0 or v
    if avail < w + hlen then
        if not datagram then return -(w + hlen - avail) end
        local t = tree:add(proto, tvb(o, avail), "libframe frame (cut short)")
        t:add(f.prefix, prange, v64)
        report(t, "DATAGRAM_TRUNCATED", tvb(o, avail), " (" .. avail .. " of at least " .. (w + hlen) .. " octets)")
        info[#info + 1] = "DATAGRAM_TRUNCATED"
        return avail
    end
    local hs = o + w
    local size, hres, htext
    if raw then
        size = v
    else
        htext = tvb:raw(hs, hlen)
        hres = read_header(htext, proto.prefs.size_name)
        if hres.err then
            local t = tree:add(proto, tvb(o, avail), "libframe frame, " .. hres.err)
            t:add(f.prefix, prange, v64)
            t:add(f.header_length, prange, hlen)
            t:add(f.header, tvb(hs, hlen), htext)
            local at = hs + hres.pos
            local erange = at < tvb:len() and tvb(at, 1) or nil
            report(t, hres.err, erange, " (offset " .. (at - o) .. " in the frame)")
            info[#info + 1] = hres.err
            return avail
        end
        size = tonumber(hres.size)
    end
    local total = w + hlen + size
    if avail < total then
        if not datagram then return -(total - avail) end
    end
    local taken = datagram and avail or total
    local t = tree:add(proto, tvb(o, taken), string.format("libframe frame, header %d octets, body %d octets", hlen, size))
    if raw then
        t:add(f.prefix, prange, v64):append_text(" (body length)")
        t:add(f.size, prange, UInt64.new(size))
    else
        t:add(f.prefix, prange, v64)
        t:add(f.header_length, prange, hlen)
        local hitem = t:add(f.header, tvb(hs, hlen), htext)
        add_members(hitem, tvb, hs, htext, hres.root)
        local sn = hres.size_node
        t:add(f.size, tvb(hs + sn.s - 1, sn.e - sn.s + 1), UInt64.new(hres.size))
    end
    local bavail = math.min(size, avail - w - hlen)
    if bavail > 0 then t:add(f.body, tvb(hs + hlen, bavail)) end
    if datagram and avail < total then
        report(t, "DATAGRAM_TRUNCATED", nil, " (" .. avail .. " of " .. total .. " octets)")
        info[#info + 1] = "DATAGRAM_TRUNCATED"
    elseif datagram and avail > total then
        report(t, "DATAGRAM_TRAILING", tvb(o + total, avail - total), " (" .. (avail - total) .. " octets after the frame)")
        info[#info + 1] = "DATAGRAM_TRAILING"
    else
        info[#info + 1] = raw and ("body " .. size) or short(htext:gsub("^%s+", ""), 60)
    end
    return taken
end

local function set_columns(pinfo, info)
    if #info == 0 then return end
    pinfo.cols.protocol = "libframe"
    pinfo.cols.info = (#info > 1 and (#info .. " frames: ") or "") .. table.concat(info, " | ")
end

-- After an error a stream has no frame boundaries any more (SPEC.md 9.1):
-- the TCP stream's later packets are shown as such, not read as frames.
local tcp_stream = Field.new("tcp.stream")
local lost_at = {} -- tcp.stream -> number of the packet with the error

function proto.dissector(tvb, pinfo, tree)
    local datagram = pinfo.port_type == 3 -- UDP
    local info = {}
    if datagram then
        dissect_frame(tvb, pinfo, tree, 0, true, info)
        set_columns(pinfo, info)
        return tvb:len()
    end
    local stream = tcp_stream()
    stream = stream and stream.value
    if stream and lost_at[stream] and pinfo.number > lost_at[stream] then
        tree:add(proto, tvb(), "libframe: framing lost after the error in packet " .. lost_at[stream])
        pinfo.cols.protocol = "libframe"
        pinfo.cols.info = "data after an error (framing lost)"
        return tvb:len()
    end
    local o, len = 0, tvb:len()
    local errors = 0
    while o < len do
        local before = #info
        local took = dissect_frame(tvb, pinfo, tree, o, false, info)
        if took < 0 then
            pinfo.desegment_offset = o
            pinfo.desegment_len = -took
            set_columns(pinfo, info)
            return len
        end
        if #info > before and ERRORS[info[#info]] then errors = errors + 1 end
        o = o + took
    end
    if errors > 0 and stream and not lost_at[stream] then lost_at[stream] = pinfo.number end
    set_columns(pinfo, info)
    return len
end

function proto.init()
    lost_at = {}
end

-- ---- registration ------------------------------------------------------------------------------

local tcp_table = DissectorTable.get("tcp.port")
local udp_table = DissectorTable.get("udp.port")
tcp_table:add_for_decode_as(proto)
udp_table:add_for_decode_as(proto)
local registered = { tcp = 0, udp = 0 }

function proto.prefs_changed()
    if registered.tcp ~= proto.prefs.tcp_port then
        if registered.tcp ~= 0 then tcp_table:remove(registered.tcp, proto) end
        if proto.prefs.tcp_port ~= 0 then tcp_table:add(proto.prefs.tcp_port, proto) end
        registered.tcp = proto.prefs.tcp_port
    end
    if registered.udp ~= proto.prefs.udp_port then
        if registered.udp ~= 0 then udp_table:remove(registered.udp, proto) end
        if proto.prefs.udp_port ~= 0 then udp_table:add(proto.prefs.udp_port, proto) end
        registered.udp = proto.prefs.udp_port
    end
end

-- The heuristic: a 4-octet little-endian prefix within max_header, then "{".
local function heuristic(tvb, pinfo, tree)
    if not proto.prefs.heuristic or tvb:len() < 5 then return false end
    local h = tvb(0, 4):le_uint()
    if h == 0 or h > proto.prefs.max_header or tvb(4, 1):uint() ~= 0x7B then return false end
    pcall(function() pinfo.conversation = proto end) -- the rest of the connection too
    proto.dissector(tvb, pinfo, tree)
    return true
end
proto:register_heuristic("tcp", heuristic)
