/*
 * lib/names.h: the header validator's set of member names (json.c), for
 * the duplicate-name rule of SPEC.md. Private; included by json.c once its
 * string scanner is defined.
 *
 * Interface (each variant defines exactly this):
 *
 *   frame__names                  the set: lives on the validator's stack
 *   void frame__names_init(frame__names *s, const frame__u8 *start, const frame__u8 *end);
 *       An empty set for the text [start, end).
 *   frame_errno frame__names_add(frame__names *s, const frame__u8 **pp, unsigned first, unsigned count);
 *       Scans the name whose opening quote is at *pp and validates it
 *       (escapes, UTF-8). Then, unless it decodes to the same bytes as one
 *       of the names numbered first .. count-1 (the open object's), records
 *       it as name number `count`. Returns FRAME_OK with *pp past the
 *       closing quote; the string's error with *pp at the offending byte;
 *       or FRAME_E_DUPLICATE_NAME with *pp unchanged.
 *   frame_errno frame__value_string(const frame__u8 **pp, const frame__u8 *end);
 *       Scans and validates the string value at *pp, the same way.
 *
 * Variants, one file each:
 *   names_table.h  a hash table: names hashed word by word from the raw
 *                  bytes (plain names) or the decoded ones (escaped); O(1)
 *                  per name
 *   names_tags.h   FRAME_SMALL builds: 16 bits of a hash per name, compared
 *                  with each earlier name of the object; the least code
 */
#ifndef FRAME_NAMES_H
#define FRAME_NAMES_H

#if FRAME__SMALL
#include "names_tags.h"
#else
#include "names_table.h"
#endif

#endif /* FRAME_NAMES_H */
