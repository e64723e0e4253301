/* The second private copy of the library (see static_a.c). */
#define FRAME_STATIC
#include "frame.h"

const char *static_b_name(void);

const char *static_b_name(void) { return frame_errname(FRAME_E_TRUNCATED); }
