/*
 * Vendoring the single header: the one file that compiles the library. It
 * sees the header twice, first for the declarations only (as when an
 * application header includes frame.h), then with FRAME_IMPLEMENTATION.
 */
#include "frame.h"

#define FRAME_IMPLEMENTATION
#include "frame.h"
#include "frame.h" /* a third time: still one implementation */
