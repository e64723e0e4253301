/*
 * apps/common/tls.h: TLS contexts with OpenSSL (libssl). Not part of
 * libframe. The servers run TLS over libuv streams through memory BIOs
 * (see stream.h); the clients over a blocking socket (see client.h).
 * TLS 1.2 is the oldest version either side accepts.
 */
#ifndef APP_TLS_H
#define APP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* A server context from a PEM certificate chain and its PEM private key.
 * NULL with a message in err (the file and OpenSSL's reason). */
SSL_CTX *app_tls_server_ctx(const char *cert_file, const char *key_file, char *err, size_t errcap);

/* A client context that verifies the server's certificate against the PEM
 * CA file `ca_file` (NULL = the system's trust store). NULL with a message. */
SSL_CTX *app_tls_client_ctx(const char *ca_file, char *err, size_t errcap);

/* Appends OpenSSL's queued error reasons ("; "-separated) to err after
 * `prefix`, and clears the queue. */
void app_tls_error(char *err, size_t errcap, const char *prefix);

#endif /* APP_TLS_H */
