/*
 * libframe POSIX helpers (since 1.1): one whole frame read from or written to
 * a blocking file descriptor (a socket, a pipe, a file), for programs that
 * want the classic "read the length, read the header, read the body" loop
 * without writing it. They live outside the freestanding core (which knows
 * nothing of file descriptors) but in the same installed library: link
 * -lframe as usual. In the single-header distribution define FRAME_POSIX (as
 * well as FRAME_IMPLEMENTATION in one file) and compile with POSIX visible
 * (-std=gnu99, or _POSIX_C_SOURCE 200809L defined before every #include).
 *
 * Both are built on the public API: frame_fd_read() on a frame_decoder fed
 * with exactly the bytes of one frame, frame_fd_write() on a gathering
 * frame_encoder. Neither allocates.
 */
#ifndef FRAME_POSIX_H
#define FRAME_POSIX_H

#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives the body of a frame read by frame_fd_read() in consecutive chunks
 * (valid until it returns); 0 to go on, any other number to stop with
 * FRAME_E_CALLBACK. */
typedef int (*frame_body_fn)(void *ctx, const void *chunk, size_t len);

/*
 * Reads exactly one frame from the blocking descriptor fd: never a byte of
 * the next frame, so calls may follow each other and other reads of fd. The
 * header goes into header_buf (header_cap bytes, as for frame_decoder_init)
 * and *h views it. The body goes:
 *   - with on_body NULL: whole into body_buf (body_cap bytes); a frame that
 *     declares more than body_cap is FRAME_E_BODY_TOO_LARGE;
 *   - else: through on_body(ctx, ...) in chunks of at most body_cap bytes
 *     read into body_buf (body_cap > 0), any length up to max_body.
 * cfg NULL = the defaults. Read errors EINTR are retried.
 *
 * Returns FRAME_OK (a whole frame was read), FRAME_E_CLOSED (the stream ended
 * before the first byte of a frame: the peer is done, not an error),
 * FRAME_E_TRUNCATED (it ended inside a frame), FRAME_E_READ (read() failed:
 * errno says why), FRAME_E_CALLBACK (on_body stopped), FRAME_E_ARGUMENT (h
 * NULL, body_buf NULL with a capacity, on_body with no body_cap),
 * FRAME_E_CONFIG, or the decoder's error for a bad frame (FRAME_E_JSON_SYNTAX,
 * FRAME_E_LOOKS_LIKE_TEXT, FRAME_E_BODY_TOO_LARGE...). After an error other
 * than FRAME_E_CLOSED the stream is out of step: close it.
 * Example: while ((e = frame_fd_read(fd, NULL, hb, sizeof hb, &h, body, sizeof body,
 *                                    NULL, NULL)) == FRAME_OK) handle(&h, body);
 */
FRAME_API frame_errno frame_fd_read(int fd, const frame_config *cfg, void *header_buf,
                                    size_t header_cap, frame_header *h, void *body_buf,
                                    size_t body_cap, frame_body_fn on_body, void *ctx);

/*
 * Writes one whole frame to the blocking descriptor fd: the finished head of
 * b and `len` body bytes (len must be the builder's body_size), in one
 * sendmsg() on a socket (with MSG_NOSIGNAL: a closed peer is an error, not a
 * SIGPIPE) or one writev() on anything else, then as many more as a short
 * write needs; EINTR is retried, and EAGAIN (a non-blocking descriptor) waits
 * in poll() until it is writable. Returns FRAME_OK, the builder's error,
 * FRAME_E_SIZE_MISMATCH, or FRAME_E_WRITE (errno says why; the frame may be
 * half-sent: close fd). On a pipe whose reader has gone, ignore SIGPIPE to get
 * FRAME_E_WRITE with EPIPE instead of the signal.
 */
FRAME_API frame_errno frame_fd_write(int fd, frame_builder *b, const void *body, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* FRAME_POSIX_H */
