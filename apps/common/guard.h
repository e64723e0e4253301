/*
 * apps/common/guard.h: what one unauthenticated peer may cost a server.
 * Not part of libframe.
 *
 * A small table of keys (an address key from app_addr_key(), or any string
 * such as "user:alice") that counts, per key:
 *   - open connections, against a cap (app_guard_conn_open/close);
 *   - failed authentications, with exponential backoff: after the n-th
 *     failure in a row the key waits min(cap_ms, base_ms * 2^(n-1)) before
 *     its next attempt is checked (app_guard_fail/wait/success).
 * The table holds at most `max_keys` entries. To make room, an entry with
 * no connection and no backoff in force is dropped, else the connection-less
 * entry whose last failure is oldest (so many addresses failing once cannot
 * lock new addresses out; the price: such a key starts its backoff again).
 * Only when every entry has open connections is a new key refused
 * (app_guard_conn_open fails); with max_keys above the connection limit
 * that cannot happen.
 * A key's failures are forgotten `cap_ms` * 4 after its last failure.
 * Single-threaded (the event loop's thread). Times are milliseconds of any
 * monotonic clock (uv_now()).
 */
#ifndef APP_GUARD_H
#define APP_GUARD_H

#include <stddef.h>
#include <stdint.h>

typedef struct app_guard app_guard;

typedef struct app_guard_limits {
    unsigned max_conns_per_key; /* 0 = no cap */
    uint64_t base_ms;           /* first backoff delay, e.g. 250 */
    uint64_t cap_ms;            /* longest delay, e.g. 30000 */
    size_t max_keys;            /* table size, e.g. 4096 */
} app_guard_limits;

/* NULL when out of memory. */
app_guard *app_guard_new(const app_guard_limits *lim);
void app_guard_free(app_guard *g);

/* Counts a new connection of `key`: 0, or -1 if the key is at its cap (or
 * the table is full): refuse the connection. */
int app_guard_conn_open(app_guard *g, const char *key, uint64_t now);
/* The connection counted by a successful app_guard_conn_open() ended. */
void app_guard_conn_close(app_guard *g, const char *key);
/* Connections open for key. */
unsigned app_guard_conns(const app_guard *g, const char *key);

/* Milliseconds before an attempt of `key` may be checked (0 = now). */
uint64_t app_guard_wait(app_guard *g, const char *key, uint64_t now);
/* Records a failed attempt; returns the delay now in force for key, and the
 * number of failures in a row in *fails (may be NULL). */
uint64_t app_guard_fail(app_guard *g, const char *key, uint64_t now, unsigned *fails);
/* A successful attempt: the key's failures are forgotten. */
void app_guard_success(app_guard *g, const char *key);

#endif /* APP_GUARD_H */
