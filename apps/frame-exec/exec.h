/*
 * apps/frame-exec/exec.h: what the frame-exec client and server agree on.
 * The protocol is described in docs/APPS-exec.md ("Protocol").
 *
 * Request:  {"size":N,"cmd":["prog","arg",...],"token":"...","timeout_ms":T,"max_output":M}
 *           body = N bytes given to the command as its standard input.
 *           "cmd" is an argv array run with execvp semantics (PATH search, no
 *           shell); send ["/bin/sh","-c","line"] for a shell line. "token" is
 *           always required; "timeout_ms" and "max_output" may only lower the
 *           server's limits.
 * Reply:    {"size":N,"exit":E,"stdout":A,"stderr":B}, body = A bytes of
 *           standard output then B bytes of standard error (A + B = N).
 *           E is the exit status, or 128+S when signal S killed the command,
 *           which then adds "signal":S; "timed_out":true / "truncated":true
 *           say that the server killed it for its time limit / output cap.
 * Error:    {"size":0,"error":"NAME","message":"text"} (+ "offset" for frame
 *           errors); NAME is frame_errname() of a frame error or one of
 *           BAD_REQUEST, UNAUTHORIZED, TIMEOUT, BUSY.
 *
 * Classic mode (--classic-listen): the tutorial protocol. The client sends
 * a raw shell command (what one recv(1024) returns); the reply is a frame
 * {"KEY":N} + N bytes of stdout then stderr, KEY "size" or "data_size". On
 * any error the connection is closed without a reply.
 */
#ifndef EXEC_PROTO_H
#define EXEC_PROTO_H

/* Both ends use the default frame format (4-byte little-endian prefix,
 * "size") with this header limit, which keeps an idle connection small. */
#define EXEC_MAX_HEADER 4096u
#define EXEC_DEFAULT_ADDR "127.0.0.1:9000"
#define EXEC_TOKEN_ENV "FRAME_EXEC_TOKEN"
/* Where a generated token is written when --token-file is not given:
 * $XDG_RUNTIME_DIR/EXEC_TOKEN_FILE, else $HOME/.EXEC_TOKEN_FILE. */
#define EXEC_TOKEN_FILE "frame-exec-token"
/* Most arguments in one "cmd". */
#define EXEC_MAX_ARGS 1024
/* A classic command is what one recv(1024) returns. */
#define EXEC_CLASSIC_MAX 1024

#endif /* EXEC_PROTO_H */
