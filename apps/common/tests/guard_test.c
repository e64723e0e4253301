/* apps/common/tests/guard_test.c: the guard table (guard.h), with a clock
 * we control. Exits 0 when every check holds. */
#include "guard.h"
#include "secret.h"

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "guard_test: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                     \
        }                                                                                   \
    } while (0)

static void per_key_connection_cap(void)
{
    app_guard_limits lim = {2, 100, 1000, 8};
    app_guard *g = app_guard_new(&lim);
    CHECK(app_guard_conn_open(g, "10.0.0.1", 0) == 0);
    CHECK(app_guard_conn_open(g, "10.0.0.1", 0) == 0);
    CHECK(app_guard_conn_open(g, "10.0.0.1", 0) < 0); /* the cap */
    CHECK(app_guard_conn_open(g, "10.0.0.2", 0) == 0); /* another key is not affected */
    app_guard_conn_close(g, "10.0.0.1");
    CHECK(app_guard_conns(g, "10.0.0.1") == 1);
    CHECK(app_guard_conn_open(g, "10.0.0.1", 0) == 0);
    app_guard_free(g);
}

static void backoff_doubles_to_its_cap_and_success_resets(void)
{
    app_guard_limits lim = {0, 100, 1000, 8};
    app_guard *g = app_guard_new(&lim);
    unsigned fails;
    CHECK(app_guard_wait(g, "user:alice", 0) == 0);
    CHECK(app_guard_fail(g, "user:alice", 0, &fails) == 100 && fails == 1);
    CHECK(app_guard_wait(g, "user:alice", 0) == 100);
    CHECK(app_guard_wait(g, "user:alice", 60) == 40);
    CHECK(app_guard_fail(g, "user:alice", 100, NULL) == 200);
    CHECK(app_guard_fail(g, "user:alice", 300, NULL) == 400);
    CHECK(app_guard_fail(g, "user:alice", 700, NULL) == 800);
    CHECK(app_guard_fail(g, "user:alice", 1500, NULL) == 1000); /* the cap */
    CHECK(app_guard_fail(g, "user:alice", 2500, &fails) == 1000 && fails == 6);
    /* Parallel attempts queue: two failures at once wait one after the other. */
    CHECK(app_guard_wait(g, "user:alice", 2500) == 1000);
    CHECK(app_guard_wait(g, "user:bob", 2500) == 0);
    app_guard_success(g, "user:alice");
    CHECK(app_guard_wait(g, "user:alice", 2500) == 0);
    CHECK(app_guard_fail(g, "user:alice", 2500, &fails) == 100 && fails == 1);
    /* Failures long ago (4 x cap) are forgotten. */
    CHECK(app_guard_fail(g, "user:alice", 2500 + 4000, &fails) == 100 && fails == 1);
    app_guard_free(g);
}

static void full_table_evicts_the_oldest_failure(void)
{
    app_guard_limits lim = {4, 100, 1000, 4};
    app_guard *g = app_guard_new(&lim);
    char key[32];
    for (int i = 0; i < 4; i++) { /* four addresses fail once: the table is full */
        snprintf(key, sizeof key, "10.0.1.%d", i);
        app_guard_fail(g, key, (uint64_t)i * 10, NULL);
    }
    CHECK(app_guard_conn_open(g, "10.9.9.9", 50) == 0); /* a new address still gets in */
    CHECK(app_guard_wait(g, "10.0.1.0", 50) == 0);      /* the oldest failure made room */
    CHECK(app_guard_wait(g, "10.0.1.3", 50) > 0);
    app_guard_free(g);
}

static void tokens_compare_by_content_and_length(void)
{
    char hex[65];
    CHECK(app_token_equal("abcdefghijklmnop", 16, "abcdefghijklmnop", 16));
    CHECK(!app_token_equal("abcdefghijklmnop", 16, "abcdefghijklmnoq", 16));
    CHECK(!app_token_equal("abcdefghijklmnop", 16, "abcdefghijklmnop\0", 17));
    CHECK(!app_token_equal("a", 1, "", 0));
    CHECK(app_random_hex(hex, sizeof hex, 32) == 0 && strlen(hex) == 64);
    CHECK(app_random_hex(hex, 10, 32) < 0);
}

int main(void)
{
    per_key_connection_cap();
    backoff_doubles_to_its_cap_and_success_resets();
    full_table_evicts_the_oldest_failure();
    tokens_compare_by_content_and_length();
    if (failures)
        return 1;
    puts("guard_test: all checks passed");
    return 0;
}
