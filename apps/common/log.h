/*
 * apps/common/log.h: one-line log messages on standard error, for the servers
 * in apps/. Not part of libframe.
 *
 * Every line reads "PROG: TEXT" (PROG from app_log_init). Three levels:
 *   APP_LOG_ERROR   always shown unless quiet (refusals, attacks, failures)
 *   APP_LOG_INFO    shown at verbosity >= 1 (the default)
 *   APP_LOG_DEBUG   shown at verbosity >= 2 (-v: every connection, command)
 * Single-threaded use (the event loop's thread).
 */
#ifndef APP_LOG_H
#define APP_LOG_H

enum { APP_LOG_ERROR = 0, APP_LOG_INFO = 1, APP_LOG_DEBUG = 2 };

/* prog: a static string; verbosity: -1 quiet (nothing), 0 errors, 1 info
 * (default), 2 debug. */
void app_log_init(const char *prog, int verbosity);

/* 1 if messages of `level` are shown (to skip building costly ones). */
int app_log_on(int level);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void app_log(int level, const char *fmt, ...);

/* The program name given to app_log_init ("app" before). */
const char *app_log_prog(void);

#endif /* APP_LOG_H */
