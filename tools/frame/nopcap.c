/*
 * tools/frame/nopcap.c: the tool built without libpcap (its header was not
 * found): capture files are refused with a message saying how to get them.
 */
#include "tool.h"

int capture_datagrams(const char *path, int port, int (*each)(void *ctx, const unsigned char *d, size_t len,
                                                               const char *where),
                      void *ctx) {
    (void)port;
    (void)each;
    (void)ctx;
    fail("%s is a capture file, and this frame was built without libpcap "
         "(install libpcap-dev and rebuild to read captures)", path);
    return EXIT_USAGE;
}

int capture_supported(void) {
    return 0;
}
