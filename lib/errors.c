/* Error names and descriptions, generated from FRAME_ERRNO_MAP; the version. */
#include "internal.h"

FRAME_API const char *frame_errname(frame_errno err) {
    switch (err) {
#define FRAME__NAME(n, name, desc) \
    case FRAME_E_##name:           \
        return #name;
        FRAME_ERRNO_MAP(FRAME__NAME)
#undef FRAME__NAME
    }
    return "UNKNOWN";
}

FRAME_API const char *frame_strerror(frame_errno err) {
    switch (err) {
#define FRAME__DESC(n, name, desc) \
    case FRAME_E_##name:           \
        return desc;
        FRAME_ERRNO_MAP(FRAME__DESC)
#undef FRAME__DESC
    }
    return "unknown error";
}

FRAME_API const char *frame_version(void) { return FRAME_VERSION_STRING; }

FRAME_API unsigned frame_version_number(void) { return FRAME_VERSION_NUMBER; }
