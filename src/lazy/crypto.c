/* SPDX-License-Identifier: Apache-2.0 */
/* libcrypto and libssl, loaded on first use: see lazy.h. berthd itself needs them only for
 * the TLS of a tcp:// listener (src/cmd/berthd/tls.c): digests are nettle's and base64 is
 * berth's own (src/basic/digest.h, base64.h), so an import, a load or a container run does
 * not map libcrypto (1.4 MiB resident); a pull or push does, through libcurl's TLS. */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "lazy.h"

#define CRYPTO "libcrypto.so.3"
#define SSL_SO "libssl.so.3"

LAZY_STUB(CRYPTO, unsigned long, ERR_get_error, (void), ())
LAZY_STUB_VOID(CRYPTO, ERR_error_string_n, (unsigned long e, char *buf, size_t len), (e, buf, len))

LAZY_STUB(SSL_SO, const SSL_METHOD *, TLS_server_method, (void), ())
LAZY_STUB(SSL_SO, SSL_CTX *, SSL_CTX_new, (const SSL_METHOD *meth), (meth))
LAZY_STUB_VOID(SSL_SO, SSL_CTX_free, (SSL_CTX * ctx), (ctx))
LAZY_STUB(SSL_SO, long, SSL_CTX_ctrl, (SSL_CTX * ctx, int cmd, long larg, void *parg),
	  (ctx, cmd, larg, parg))
LAZY_STUB(SSL_SO, int, SSL_CTX_check_private_key, (const SSL_CTX *ctx), (ctx))
LAZY_STUB(SSL_SO, int, SSL_CTX_load_verify_locations,
	  (SSL_CTX * ctx, const char *file, const char *path), (ctx, file, path))
LAZY_STUB_VOID(SSL_SO, SSL_CTX_set_verify, (SSL_CTX * ctx, int mode, SSL_verify_cb cb),
	       (ctx, mode, cb))
LAZY_STUB(SSL_SO, int, SSL_CTX_use_PrivateKey_file, (SSL_CTX * ctx, const char *file, int type),
	  (ctx, file, type))
LAZY_STUB(SSL_SO, int, SSL_CTX_use_certificate_chain_file, (SSL_CTX * ctx, const char *file),
	  (ctx, file))
LAZY_STUB(SSL_SO, SSL *, SSL_new, (SSL_CTX * ctx), (ctx))
LAZY_STUB_VOID(SSL_SO, SSL_free, (SSL * s), (s))
LAZY_STUB(SSL_SO, int, SSL_set_fd, (SSL * s, int fd), (s, fd))
LAZY_STUB(SSL_SO, int, SSL_accept, (SSL * s), (s))
LAZY_STUB(SSL_SO, int, SSL_read, (SSL * s, void *buf, int num), (s, buf, num))
LAZY_STUB(SSL_SO, int, SSL_write, (SSL * s, const void *buf, int num), (s, buf, num))
LAZY_STUB(SSL_SO, int, SSL_pending, (const SSL *s), (s))
LAZY_STUB(SSL_SO, int, SSL_shutdown, (SSL * s), (s))
