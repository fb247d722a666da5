/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BERTHD_TLS_H
#define BERTHD_TLS_H

#include <openssl/ssl.h>
#include <pthread.h>

#include "daemon/daemon.h"

/* A server context from --tlscert/--tlskey (and --tlscacert with --tlsverify). */
SSL_CTX *tls_server_ctx(const struct daemon_config *cfg, struct error **err);
/* Listen on "host:port" (IPv4 or [IPv6]). */
int tls_listen_tcp(const char *hostport, struct error **err);
/* Take an accepted TCP connection; returns the fd the API serves as a plain connection. */
int tls_accept(SSL_CTX *ctx, int tcp);

#endif
