/*
 * lib/encode_small.h: the size builds' (FRAME_SMALL) side of
 * lib/encode_fast.h: no quick path, frame__op() does every write. Private.
 */
#ifndef FRAME_ENCODE_SMALL_H
#define FRAME_ENCODE_SMALL_H

#define frame__write_quick(e, b, data, len, err) 0

#endif /* FRAME_ENCODE_SMALL_H */
