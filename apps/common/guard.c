/* apps/common/guard.c: see guard.h. A linear table: max_keys is small (a few
 * thousand) and every operation is one pass, far cheaper than the work a
 * connection causes. */
#include "guard.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX 96

typedef struct entry {
    char key[KEY_MAX];
    unsigned conns, fails;
    uint64_t not_before, last_fail;
    int used;
} entry;

struct app_guard {
    app_guard_limits lim;
    entry *e;
};

app_guard *app_guard_new(const app_guard_limits *lim)
{
    app_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->lim = *lim;
    if (!g->lim.max_keys)
        g->lim.max_keys = 4096;
    if (!(g->e = calloc(g->lim.max_keys, sizeof *g->e))) {
        free(g);
        return NULL;
    }
    return g;
}

void app_guard_free(app_guard *g)
{
    if (g) {
        free(g->e);
        free(g);
    }
}

static entry *find(const app_guard *g, const char *key)
{
    for (size_t i = 0; i < g->lim.max_keys; i++)
        if (g->e[i].used && !strcmp(g->e[i].key, key))
            return &g->e[i];
    return NULL;
}

static int idle(const app_guard *g, const entry *e, uint64_t now)
{
    return e->conns == 0 && (e->fails == 0 || now >= e->last_fail + 4 * g->lim.cap_ms);
}

/* The key's entry, made if needed; NULL when the table is full. */
static entry *get(app_guard *g, const char *key, uint64_t now)
{
    entry *e = find(g, key), *spare = NULL;
    if (e)
        return e;
    if (strlen(key) >= KEY_MAX)
        return NULL;
    for (size_t i = 0; i < g->lim.max_keys && !spare; i++)
        if (!g->e[i].used || idle(g, &g->e[i], now))
            spare = &g->e[i];
    /* Full of keys in backoff: the one that failed longest ago goes (many
     * addresses failing once must not lock every new address out). */
    for (size_t i = 0; i < g->lim.max_keys && !spare; i++)
        if (g->e[i].conns == 0)
            spare = &g->e[i];
    if (spare && spare->used && !idle(g, spare, now))
        for (size_t i = 0; i < g->lim.max_keys; i++)
            if (g->e[i].conns == 0 && g->e[i].last_fail < spare->last_fail)
                spare = &g->e[i];
    if (!spare)
        return NULL;
    memset(spare, 0, sizeof *spare);
    strcpy(spare->key, key);
    spare->used = 1;
    return spare;
}

int app_guard_conn_open(app_guard *g, const char *key, uint64_t now)
{
    entry *e = get(g, key, now);
    if (!e || (g->lim.max_conns_per_key && e->conns >= g->lim.max_conns_per_key))
        return -1;
    e->conns++;
    return 0;
}

void app_guard_conn_close(app_guard *g, const char *key)
{
    entry *e = find(g, key);
    if (e && e->conns)
        e->conns--;
}

unsigned app_guard_conns(const app_guard *g, const char *key)
{
    const entry *e = find(g, key);
    return e ? e->conns : 0;
}

uint64_t app_guard_wait(app_guard *g, const char *key, uint64_t now)
{
    entry *e = find(g, key);
    return e && e->not_before > now ? e->not_before - now : 0;
}

uint64_t app_guard_fail(app_guard *g, const char *key, uint64_t now, unsigned *fails)
{
    entry *e = get(g, key, now);
    uint64_t delay = g->lim.base_ms;
    if (!e) { /* table full: every such key waits the longest */
        if (fails)
            *fails = 0;
        return g->lim.cap_ms;
    }
    if (e->fails && now >= e->last_fail + 4 * g->lim.cap_ms)
        e->fails = 0; /* long ago: start again */
    e->fails++;
    for (unsigned i = 1; i < e->fails && delay < g->lim.cap_ms; i++)
        delay *= 2;
    if (delay > g->lim.cap_ms)
        delay = g->lim.cap_ms;
    e->last_fail = now;
    /* Attempts queue behind each other: parallel connections of one key
     * cannot check more than one guess per delay. */
    e->not_before = (e->not_before > now ? e->not_before : now) + delay;
    if (fails)
        *fails = e->fails;
    return delay;
}

void app_guard_success(app_guard *g, const char *key)
{
    entry *e = find(g, key);
    if (e) {
        e->fails = 0;
        e->not_before = 0;
    }
}
