/*
 * lib/walk.h: the validator's parts for this build (see json.c), picked at
 * one place so that the validator itself has no #if:
 *   speed builds   string_fast.h (strings checked a window at a time) and
 *                  walk_states.h (a label per state, a table of names);
 *   size builds    string_small.h (a byte at a time) and walk_small.h (one
 *                  loop, names compared by tags); also any build with the
 *                  small kernel.
 */
#if FRAME__SMALL
#include "string_small.h"
#else
#include "string_fast.h"
#endif

#if FRAME__SMALL || FRAME__KERNEL == 4
#include "walk_small.h"
#else
#include "walk_states.h"
#endif
