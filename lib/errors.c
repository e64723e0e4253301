/* Error names and descriptions, generated from FRAME_ERRNO_MAP; the version. */
#include "internal.h"

/* The number of errors. FRAME_ERRNO_MAP lists them in order, numbered densely
 * from 0 (tests/test_errors.c checks it), so error n is the nth entry. */
#define FRAME__COUNT(n, name, desc) +1
enum { FRAME__ERRNOS = 0 FRAME_ERRNO_MAP(FRAME__COUNT) };
#undef FRAME__COUNT

/*
 * All names and descriptions in one string, each name followed by its
 * description, NUL-separated; the last pair is for numbers outside the map.
 * Walking to the wanted string costs less than the two tables of pointers a
 * switch becomes, and nobody looks errors up in a hot loop.
 */
#define FRAME__STRINGS(n, name, desc) #name "\0" desc "\0"
static const char frame__errstrings[] = FRAME_ERRNO_MAP(FRAME__STRINGS) "UNKNOWN\0unknown error";
#undef FRAME__STRINGS

FRAME_API const char *frame_errname(frame_errno err) {
    const char *s = frame__errstrings;
    unsigned i = (unsigned)err;
    if (i > FRAME__ERRNOS) i = FRAME__ERRNOS;
    i *= 2;
    while (i) i -= !*s++;
    return s;
}

FRAME_API const char *frame_strerror(frame_errno err) {
    const char *name = frame_errname(err);
    return name + strlen(name) + 1;
}

FRAME_API const char *frame_version(void) { return FRAME_VERSION_STRING; }

FRAME_API unsigned frame_version_number(void) { return FRAME_VERSION_NUMBER; }
