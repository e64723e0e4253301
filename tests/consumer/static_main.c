/* Links static_a.c and static_b.c, each with its own static libframe. */
#include <stdio.h>
#include <string.h>

int static_a_roundtrip(void);
const char *static_b_name(void);

int main(void) {
    if (static_a_roundtrip() != 7) return 1;
    if (strcmp(static_b_name(), "TRUNCATED") != 0) return 1;
    printf("ok\n");
    return 0;
}
