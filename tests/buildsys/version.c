/* Prints the version of the libframe it runs against, as frame_version()
 * and frame_version_number() give it; fails when they disagree with the
 * header it was compiled with. Used by tests/buildsys/compare.sh. */
#include <frame.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    printf("%s %u\n", frame_version(), frame_version_number());
    return strcmp(frame_version(), FRAME_VERSION_STRING) == 0 &&
                   frame_version_number() == FRAME_VERSION_NUMBER
               ? 0
               : 1;
}
