/*
 * Lesson 2: the classic program, done right. The tutorials' remote command
 * runner (the client sends a command; the server runs it and answers with the
 * exit status, stdout and stderr) on blocking sockets, one connection at a
 * time, with libframe's POSIX helpers doing all the framing.
 *
 *   classic_exec server [PORT]            PORT 0 (the default): any free port
 *   classic_exec client PORT COMMAND...   one frame per command, one connection
 *
 * What the tutorials' version got wrong, and what stands here instead:
 *  - `data = conn.recv(1024)` taken as one message. TCP carries bytes, not
 *    messages: a recv() may return half a command (split), the end of one and
 *    the start of the next (glued), and output longer than 1024 bytes is cut.
 *    Here each message is a frame, and frame_fd_read() returns exactly one
 *    whole frame, never a byte of the next one.
 *  - "send the length, wait for 'recv_ready', send the data": a whole round
 *    trip per message, spent only on saying where the message ends. The
 *    prefix already says it, so nobody waits for anybody.
 *  - send(length) then send(data), then wait for the answer: the
 *    write-write-read that Nagle's algorithm and delayed ACKs stall for 40 ms
 *    or more. frame_fd_write() sends head and body in one sendmsg(), so there
 *    is no stall and no TCP_NODELAY to set.
 *  - one reply string for stdout and stderr mixed, and no exit status. Here
 *    the header carries the status and where stdout ends in the body.
 *
 * A lesson, not a product: the server runs ANY command it is sent, so it
 * listens on 127.0.0.1 only, and a command that never ends stops it. The
 * product, with time limits and many clients at once, is apps/frame-exec.
 */
#define _POSIX_C_SOURCE 200809L
#include "lesson_net.h"
#include <fcntl.h>
#include <frame_posix.h>
#include <sys/wait.h>

#define MAX_OUT 65536 /* bytes kept of each of stdout and stderr */

/* Runs `cmd` with sh -c, its stdout and stderr going to two temporary files
 * (not pipes: however much it writes, nothing waits for a reader), and returns
 * its exit status (128 + the signal if killed). Their first MAX_OUT bytes go
 * into out, one after the other; *out_len and *err_len say how many. */
static int run(const char *cmd, char *out, size_t *out_len, size_t *err_len) {
    FILE *o = tmpfile(), *e = tmpfile();
    int status = 0;
    pid_t pid;
    if (!o || !e) lesson_die("tmpfile");
    fflush(stdout); /* or the child would write our buffered lines again */
    if ((pid = fork()) == 0) {
        dup2(fileno(o), 1);
        dup2(fileno(e), 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0) lesson_die("fork");
    rewind(o);
    rewind(e);
    *out_len = fread(out, 1, MAX_OUT, o);
    *err_len = fread(out + *out_len, 1, MAX_OUT, e);
    fclose(o);
    fclose(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int serve(const char *port) {
    static char header_buf[4096], cmd[4096], out[2 * MAX_OUT];
    frame_config cfg = FRAME_CONFIG_INIT;
    int lfd = lesson_listen(port, SOCK_STREAM);
    cfg.max_header = sizeof header_buf; /* a command's header is small: say so */
    fcntl(lfd, F_SETFD, FD_CLOEXEC);    /* the commands must not inherit sockets */
    for (;;) {
        int conn = accept(lfd, NULL, NULL);
        frame_header h;
        frame_errno e;
        if (conn < 0) break;
        fcntl(conn, F_SETFD, FD_CLOEXEC);
        /* One whole frame per call: the command is the body, any length up
         * to sizeof cmd - 1 (a longer one is refused with BODY_TOO_LARGE). */
        while ((e = frame_fd_read(conn, &cfg, header_buf, sizeof header_buf, &h, cmd,
                                  sizeof cmd - 1, NULL, NULL)) == FRAME_OK) {
            unsigned char head[128];
            size_t out_len, err_len;
            frame_builder b;
            int status;
            cmd[h.body_size] = '\0';
            status = run(cmd, out, &out_len, &err_len);
            printf("ran \"%s\": exit %d, %zu + %zu bytes of output\n", cmd, status, out_len, err_len);
            /* {"size":N,"status":S,"stdout_size":K}, then stdout and stderr:
             * head and body leave in one sendmsg(). */
            frame_builder_init(&b, NULL, head, sizeof head, out_len + err_len);
            frame_builder_add_int64(&b, "status", status);
            frame_builder_add_uint64(&b, "stdout_size", out_len);
            if (frame_fd_write(conn, &b, out, out_len + err_len) != FRAME_OK) break;
        }
        /* CLOSED is the good end: the client left between two frames. */
        printf("connection closed: %s\n", frame_errname(e));
        close(conn);
    }
    return lesson_die("accept");
}

static int client(const char *port, int n, char **cmds) {
    static char header_buf[FRAME_DEFAULT_MAX_HEADER], body[2 * MAX_OUT];
    int fd = lesson_connect(port, SOCK_STREAM), i, status = 0;
    for (i = 0; i < n; i++) {
        unsigned char head[64];
        size_t len = strlen(cmds[i]);
        uint64_t out_len;
        int64_t st;
        frame_header h;
        frame_builder b;
        frame_errno e;
        frame_builder_init(&b, NULL, head, sizeof head, len); /* {"size":len} */
        if (frame_fd_write(fd, &b, cmds[i], len) != FRAME_OK) lesson_die("send");
        e = frame_fd_read(fd, NULL, header_buf, sizeof header_buf, &h, body, sizeof body, NULL, NULL);
        /* Check what the server says before using it: a number may be
         * missing, of another type, or larger than the body. */
        if (e == FRAME_OK && (frame_header_get_int64(&h, "status", &st) != FRAME_OK ||
                              frame_header_get_uint64(&h, "stdout_size", &out_len) != FRAME_OK ||
                              out_len > h.body_size))
            e = FRAME_E_TYPE;
        if (e != FRAME_OK) {
            fprintf(stderr, "classic_exec: bad reply: %s\n", frame_strerror(e));
            return 2;
        }
        printf("$ %s\n", cmds[i]);
        fwrite(body, 1, (size_t)out_len, stdout);
        fflush(stdout);
        fwrite(body + out_len, 1, (size_t)(h.body_size - out_len), stderr);
        printf("[exit %d]\n", (int)st);
        status = (int)st;
    }
    close(fd); /* the server sees CLOSED */
    return status;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, even into a pipe */
    if (argc >= 2 && strcmp(argv[1], "server") == 0) return serve(argc > 2 ? argv[2] : "0");
    if (argc >= 4 && strcmp(argv[1], "client") == 0) return client(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: classic_exec server [PORT] | classic_exec client PORT COMMAND...\n");
    return 2;
}
