/* apps/common/tls.c: see tls.h. */
#include "tls.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

void app_tls_error(char *err, size_t errcap, const char *prefix)
{
    unsigned long e;
    size_t n;
    snprintf(err, errcap, "%s", prefix);
    while ((e = ERR_get_error()) != 0) {
        n = strlen(err);
        if (n + 3 < errcap) {
            snprintf(err + n, errcap - n, "%s", n ? ": " : "");
            n = strlen(err);
            ERR_error_string_n(e, err + n, errcap - n);
        }
    }
}

SSL_CTX *app_tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errcap)
{
    char what[600];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        app_tls_error(err, errcap, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Fewer buffers held per idle connection. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* A peer must not make the server redo handshakes (TLS 1.2
     * renegotiation: CPU spent at the peer's will). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        snprintf(what, sizeof what, "--tls-cert %s", cert_file);
        app_tls_error(err, errcap, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(what, sizeof what, "--tls-key %s", key_file);
        app_tls_error(err, errcap, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *app_tls_client_ctx(const char *ca_file, char *err, size_t errcap)
{
    char what[600];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        app_tls_error(err, errcap, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1
                : SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(what, sizeof what, "--tls-ca %s", ca_file ? ca_file : "(system store)");
        app_tls_error(err, errcap, what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
