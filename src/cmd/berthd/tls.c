/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS for TCP listeners (dockerd's -H tcp://... --tlsverify). The API code works on plain
 * fds (hijacked attach/exec streams included), so TLS is terminated here: each TCP
 * connection gets a socketpair, one end served by the API as a local connection, the other
 * pumped to and from the TLS session by one thread.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include "tls.h"

SSL_CTX *tls_server_ctx(const struct daemon_config *cfg, struct error **err)
{
	SSL_CTX *ctx;
	if (!cfg->tls_cert || !cfg->tls_key)
		return error_setx(err, -EINVAL, "TLS needs --tlscert and --tlskey"), NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return error_setx(err, -ENOMEM, "TLS context"), NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		char buf[256];
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		SSL_CTX_free(ctx);
		return error_setx(err, -EINVAL, "load TLS certificate '%s': %s", cfg->tls_cert,
				  buf),
		       NULL;
	}
	if (cfg->tls_verify) {
		if (!cfg->tls_ca || SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1) {
			SSL_CTX_free(ctx);
			return error_setx(err, -EINVAL, "--tlsverify needs a readable --tlscacert"),
			       NULL;
		}
		/* Clients must present a certificate signed by the CA (dockerd's --tlsverify). */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
}

int tls_listen_tcp(const char *hostport, struct error **err)
{
	_cleanup_free_ char *copy = xstrdup(hostport);
	char *host = copy, *port = strrchr(copy, ':');
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int fd = -1, one = 1, k;

	if (!port)
		return error_setx(err, -EINVAL, "invalid TCP address '%s'", hostport);
	*port++ = 0;
	if (host[0] == '[') {
		host++;
		host[strlen(host) - 1] = 0;
	}
	k = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (k != 0)
		return error_setx(err, -EINVAL, "resolve '%s': %s", hostport, gai_strerror(k));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return error_set(err, -errno, "socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		k = -errno;
		close(fd);
		freeaddrinfo(res);
		return error_set(err, k, "listen on '%s'", hostport);
	}
	freeaddrinfo(res);
	return fd;
}

struct tls_conn {
	SSL_CTX *ctx;
	int tcp;
	int local; /* our end of the socketpair */
};

static void *tls_pump(void *arg)
{
	struct tls_conn *t = arg;
	SSL *ssl = SSL_new(t->ctx);
	char buf[16384];
	bool local_eof = false;

	if (!ssl)
		goto out;
	SSL_set_fd(ssl, t->tcp);
	if (SSL_accept(ssl) != 1)
		goto out;
	for (;;) {
		struct pollfd p[2] = {{.fd = t->tcp, .events = POLLIN},
				      {.fd = t->local, .events = local_eof ? 0 : POLLIN}};
		/* Bytes SSL has decrypted already are not visible to poll. */
		if (SSL_pending(ssl) == 0 && poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (SSL_pending(ssl) > 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			int n = SSL_read(ssl, buf, sizeof(buf));
			if (n <= 0) {
				/* client closed: tell the API side (half-close) */
				shutdown(t->local, SHUT_WR);
				if (local_eof)
					break;
				/* keep sending the API's answer until it closes */
				for (;;) {
					ssize_t k = read(t->local, buf, sizeof(buf));
					if (k <= 0 || SSL_write(ssl, buf, (int)k) <= 0)
						break;
				}
				break;
			}
			if (loop_write(t->local, buf, (size_t)n) < 0)
				break;
		}
		if (!local_eof && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(t->local, buf, sizeof(buf));
			if (n <= 0) {
				local_eof = true;
				SSL_shutdown(ssl);
				break;
			}
			if (SSL_write(ssl, buf, (int)n) <= 0)
				break;
		}
	}
out:
	if (ssl)
		SSL_free(ssl);
	close(t->tcp);
	close(t->local);
	free(t);
	return NULL;
}

int tls_accept(SSL_CTX *ctx, int tcp)
{
	int sp[2], one = 1;
	struct tls_conn *t;
	pthread_t th;
	pthread_attr_t at;

	setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		close(tcp);
		return -errno;
	}
	t = xnew0(struct tls_conn, 1);
	t->ctx = ctx;
	t->tcp = tcp;
	t->local = sp[0];
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	if (pthread_create(&th, &at, tls_pump, t) != 0) {
		pthread_attr_destroy(&at);
		close(tcp);
		close(sp[0]);
		close(sp[1]);
		free(t);
		return -EAGAIN;
	}
	pthread_attr_destroy(&at);
	return sp[1];
}
