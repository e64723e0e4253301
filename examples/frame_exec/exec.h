/*
 * examples/frame_exec/exec.h: what the frame-exec client and server agree on.
 * The protocol is described in docs/EXAMPLES-exec-udp.md ("Protocol").
 *
 * Request:  {"size":N,"cmd":["prog","arg",...],"token":"...","timeout_ms":T,"max_output":M}
 *           body = N bytes given to the command as its standard input.
 *           "cmd" is an argv array run with execvp semantics (PATH search, no
 *           shell); send ["/bin/sh","-c","line"] for a shell line. "token" is
 *           required when the server has one; "timeout_ms" and "max_output"
 *           may only lower the server's limits.
 * Reply:    {"size":N,"exit":E,"stdout":A,"stderr":B}, body = A bytes of
 *           standard output then B bytes of standard error (A + B = N).
 *           E is the exit status, or 128+S when signal S killed the command,
 *           which then adds "signal":S; "timed_out":true / "truncated":true
 *           say that the server killed it for its time limit / output cap.
 * Error:    {"size":0,"error":"NAME","message":"text"} (+ "offset" for frame
 *           errors); NAME is frame_errname() of a frame error or one of
 *           BAD_REQUEST, UNAUTHORIZED, TIMEOUT, BUSY.
 */
#ifndef FRAME_EXEC_H
#define FRAME_EXEC_H

/* Both ends use the default frame format (4-byte little-endian prefix,
 * "size") with this header limit, which keeps an idle connection small. */
#define EXEC_MAX_HEADER 4096u
#define EXEC_DEFAULT_ADDR "127.0.0.1:9000"
#define EXEC_TOKEN_ENV "FRAME_EXEC_TOKEN"
#define EXEC_TOKEN_MAX 255
/* Most arguments in one "cmd". */
#define EXEC_MAX_ARGS 1024

#endif /* FRAME_EXEC_H */
