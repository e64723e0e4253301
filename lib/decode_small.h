/*
 * lib/decode_small.h: the size builds' (FRAME_SMALL) side of the decoder's
 * straight path (lib/decode_fast.h says what each side gives
 * lib/decode.c); included by it with decode_fast.h, in one place, and
 * empty in speed builds. Private. None here: every frame goes round
 * frame_feed's state machine, which takes any split of the stream, a whole
 * frame too.
 */
#ifndef FRAME_DECODE_SMALL_H
#define FRAME_DECODE_SMALL_H
#if FRAME__SMALL

#define frame__whole_frames(d, pp, end) 0
#define FRAME__PART_OUT

#endif /* FRAME__SMALL */
#endif /* FRAME_DECODE_SMALL_H */
