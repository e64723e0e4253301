/* The single header's implementation compiled as C++. */
#define FRAME_IMPLEMENTATION
#include "frame.h"
