/*
 * lib/string_escapes.h: JSON's two-character escapes (RFC 8259), once:
 * each letter after the backslash and the byte it stands for, passed to
 * X(c, letter, byte) with the caller's c. string.c makes its list of pairs
 * from it, string_fast.h its table. And how a \u surrogate pair makes one
 * code point. Private.
 */
#ifndef FRAME_STRING_ESCAPES_H
#define FRAME_STRING_ESCAPES_H

#define FRAME__ESCAPES(X, c)                                                                              \
    X(c, '"', '"') X(c, '\\', '\\') X(c, '/', '/') X(c, 'b', '\b') X(c, 'f', '\f') X(c, 'n', '\n')             \
    X(c, 'r', '\r') X(c, 't', '\t')

/* The code point of a surrogate pair: its high half hi (0xd800..0xdbff),
 * then its low half lo (0xdc00..0xdfff). */
#define FRAME__SURROGATE_PAIR(hi, lo) (((hi) << 10) + (lo) - ((0xd800u << 10) + 0xdc00 - 0x10000))

#endif /* FRAME_STRING_ESCAPES_H */
