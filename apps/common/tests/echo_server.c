/*
 * apps/common/tests/echo_server.c: the smallest server on apps/common, for
 * its tests. Echoes what it reads; a connection is authenticated once it
 * sends a chunk starting "AUTH"; "QUIT" closes after the echo.
 *   app-echo LISTEN PER_ADDR AUTH_MS [CERT KEY]
 */
#include "addr.h"
#include "guard.h"
#include "log.h"
#include "stream.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void written(app_conn *c, int status, void *arg)
{
    (void)c;
    (void)status;
    free(arg);
}

static size_t on_data(app_conn *c, const void *data, size_t len)
{
    char *copy = malloc(len);
    uv_buf_t b;
    if (!copy) {
        app_conn_close(c);
        return len;
    }
    memcpy(copy, data, len);
    if (len >= 4 && !memcmp(data, "AUTH", 4))
        app_conn_authenticated(c);
    b = uv_buf_init(copy, (unsigned)len);
    if (app_conn_write(c, &b, 1, written, copy) < 0)
        free(copy);
    if (len >= 4 && !memcmp(data, "QUIT", 4))
        app_conn_close_after_write(c, 1000);
    return len;
}

int main(int argc, char **argv)
{
    static const char busy[] = "BUSY\n";
    app_guard_limits lim = {0, 100, 1000, 64};
    app_server_config cfg;
    char err[512];
    app_server *s;
    SSL_CTX *tls = NULL;

    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: app-echo LISTEN PER_ADDR AUTH_MS [CERT KEY]\n");
        return 2;
    }
    app_log_init("app-echo", 2);
    if (argc == 6 && !(tls = app_tls_server_ctx(argv[4], argv[5], err, sizeof err))) {
        fprintf(stderr, "app-echo: %s\n", err);
        return 1;
    }
    if (app_check_exposure("--listen", argv[1], tls != NULL, 0) < 0)
        return 2;
    lim.max_conns_per_key = (unsigned)atoi(argv[2]);
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "--listen";
    cfg.listen = argv[1];
    cfg.tls = tls;
    cfg.max_conns = 64;
    cfg.guard = app_guard_new(&lim);
    cfg.auth_timeout_ms = (uint64_t)atoi(argv[3]);
    cfg.refuse_msg = busy;
    cfg.refuse_len = sizeof busy - 1;
    cfg.on_data = on_data;
    if (!(s = app_server_new(uv_default_loop(), &cfg, err, sizeof err))) {
        fprintf(stderr, "app-echo: %s\n", err);
        return 1;
    }
    printf("listening on %s\n", app_server_name(s));
    fflush(stdout);
    return uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}
