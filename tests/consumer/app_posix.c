/*
 * A program outside the tree using the POSIX helpers of an installed
 * libframe: `cc app_posix.c $(pkg-config --cflags --libs libframe)`. One
 * frame through a pipe with frame_fd_write / frame_fd_read, then the end of
 * the stream. Prints "ok" and exits 0.
 */
#define _POSIX_C_SOURCE 200809L
#include <frame_posix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    unsigned char head[128], hbuf[FRAME_DEFAULT_MAX_HEADER], body[16];
    char name[16];
    frame_config cfg = FRAME_CONFIG_INIT;
    frame_builder b;
    frame_header h;
    int p[2];
    if (pipe(p) != 0) return 1;
    frame_builder_init(&b, &cfg, head, sizeof head, 5);
    frame_builder_add_string(&b, "file_name", "a.txt");
    if (frame_fd_write(p[1], &b, "hello", 5) != FRAME_OK) return 2;
    close(p[1]);
    if (frame_fd_read(p[0], &cfg, hbuf, sizeof hbuf, &h, body, sizeof body, NULL, NULL) != FRAME_OK) return 3;
    if (frame_header_get_string(&h, "file_name", name, sizeof name, NULL) != FRAME_OK) return 4;
    if (strcmp(name, "a.txt") != 0 || h.body_size != 5 || memcmp(body, "hello", 5) != 0) return 5;
    if (frame_fd_read(p[0], &cfg, hbuf, sizeof hbuf, &h, body, sizeof body, NULL, NULL) != FRAME_E_CLOSED)
        return 6;
    puts("ok");
    return 0;
}
