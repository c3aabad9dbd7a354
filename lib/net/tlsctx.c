/* tlsctx: OpenSSL 3 contexts for mutual TLS: certificates, trust store, versions, key log. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/certcache.h"
#include "net/tlsctx.h"

#define LOG_MODULE "tls"

/* Distinct peer certificates (leaves and the chain certificates they send) whose parses the
 * connections of one context share: a few per federation peer. */
#define TLSCTX_CERTCACHE_MAX 256

struct tlsctx {
	SSL_CTX *ssl;
	FILE *keylog;
	struct certcache *certs;
	bool server;
};

/* The key log file is found from the SSL_CTX through this ex_data slot. */
static int tlsctx_exidx = -1;

static void tlsctx_destroy(void *data)
{
	struct tlsctx *ctx = data;

	if (ctx->ssl) {
		SSL_CTX_set_ex_data(ctx->ssl, tlsctx_exidx, NULL);
		SSL_CTX_free(ctx->ssl);
	}
	if (ctx->keylog)
		fclose(ctx->keylog);
	mem_deref(ctx->certs);
}

/* Replaces X509_verify_cert for the context's connections: the peer's certificates become the
 * shared parses of byte-identical ones seen before, then the chain is verified in full, as
 * OpenSSL would (an internal error counts as a failure, as in ssl_verify_cert_chain). */
static int tlsctx_verify_cb(X509_STORE_CTX *sctx, void *arg)
{
	struct tlsctx *ctx = arg;
	int ok;

	certcache_share(ctx->certs, sctx);
	ok = X509_verify_cert(sctx);
	if (ok > 0)
		certcache_learn(ctx->certs, sctx);
	return ok > 0 ? ok : 0;
}

/* NSS key log format: one line per secret, written whole so concurrent readers (the capture
 * decoder tails this file) never see half a line. */
static void tlsctx_keylog_cb(const SSL *ssl, const char *line)
{
	struct tlsctx *ctx = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tlsctx_exidx);

	if (!ctx || !ctx->keylog)
		return;
	fprintf(ctx->keylog, "%s\n", line);
	fflush(ctx->keylog);
}

const char *tls_errstr(char *buf, size_t size)
{
	unsigned long e, last = 0;

	if (!buf || !size)
		return "";
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last)
		ERR_error_string_n(last, buf, size);
	else
		snprintf(buf, size, "no OpenSSL error");
	return buf;
}

static int tlsctx_load(struct tlsctx *ctx, const struct tlsctx_conf *conf)
{
	char eb[256];

	if (conf->cert_file &&
	    SSL_CTX_use_certificate_chain_file(ctx->ssl, conf->cert_file) != 1) {
		log_error("certificate %s: %s", conf->cert_file, tls_errstr(eb, sizeof(eb)));
		return EINVAL;
	}
	if (conf->key_file &&
	    SSL_CTX_use_PrivateKey_file(ctx->ssl, conf->key_file, SSL_FILETYPE_PEM) != 1) {
		log_error("private key %s: %s", conf->key_file, tls_errstr(eb, sizeof(eb)));
		return EINVAL;
	}
	if (conf->cert_file && conf->key_file && SSL_CTX_check_private_key(ctx->ssl) != 1) {
		log_error("key %s does not match certificate %s: %s", conf->key_file,
			  conf->cert_file, tls_errstr(eb, sizeof(eb)));
		return EINVAL;
	}
	if (conf->ca_file && SSL_CTX_load_verify_locations(ctx->ssl, conf->ca_file, NULL) != 1) {
		log_error("trust store %s: %s", conf->ca_file, tls_errstr(eb, sizeof(eb)));
		return EINVAL;
	}
	return 0;
}

int tlsctx_alloc(struct tlsctx **ctxp, bool server, const struct tlsctx_conf *conf)
{
	struct tlsctx *ctx;
	char eb[256];
	int err = EINVAL, mode;

	if (!ctxp || !conf)
		return EINVAL;
	if (server && (!conf->cert_file || !conf->key_file)) {
		log_error("a server context needs a certificate and a key");
		return EINVAL;
	}
	if (tlsctx_exidx < 0) {
		tlsctx_exidx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		if (tlsctx_exidx < 0)
			return ENOMEM;
	}
	ctx = mem_zalloc(sizeof(*ctx), tlsctx_destroy);
	if (!ctx)
		return ENOMEM;
	ctx->server = server;
	err = certcache_alloc(&ctx->certs, TLSCTX_CERTCACHE_MAX);
	if (err)
		goto out;
	err = EINVAL;
	ctx->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx->ssl) {
		log_error("SSL_CTX_new: %s", tls_errstr(eb, sizeof(eb)));
		err = ENOMEM;
		goto out;
	}
	SSL_CTX_set_ex_data(ctx->ssl, tlsctx_exidx, ctx);
	if (!SSL_CTX_set_min_proto_version(ctx->ssl, conf->min_version ? conf->min_version :
					   TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx->ssl, conf->max_version)) {
		log_error("bad TLS version bounds %#x..%#x", conf->min_version, conf->max_version);
		goto out;
	}
	if (conf->cipher_list && SSL_CTX_set_cipher_list(ctx->ssl, conf->cipher_list) != 1) {
		log_error("cipher list '%s': %s", conf->cipher_list, tls_errstr(eb, sizeof(eb)));
		goto out;
	}
	if (conf->ciphersuites && SSL_CTX_set_ciphersuites(ctx->ssl, conf->ciphersuites) != 1) {
		log_error("ciphersuites '%s': %s", conf->ciphersuites, tls_errstr(eb, sizeof(eb)));
		goto out;
	}
	err = tlsctx_load(ctx, conf);
	if (err)
		goto out;
	/* Renegotiation has no place on a federation link; compression is a CRIME risk. */
	SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	/* A server context never resumes (no session id context: every peer is verified in full
	 * on every connection), so it issues no tickets (two encryptions and a record each, for
	 * nothing) and caches no sessions. */
	if (server) {
		SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx->ssl, 0);
		SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_OFF);
	}
	/* Partial writes let bufferevent_openssl hand over what it has without copying. */
	SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (server)
		mode = conf->require_peer_cert ?
			SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE;
	else
		mode = SSL_VERIFY_PEER;
	SSL_CTX_set_verify(ctx->ssl, mode, NULL);
	SSL_CTX_set_cert_verify_callback(ctx->ssl, tlsctx_verify_cb, ctx);
	if (conf->keylog_file) {
		ctx->keylog = fopen(conf->keylog_file, "a");
		if (!ctx->keylog) {
			err = errno;
			log_error("key log %s: %s", conf->keylog_file, strerror(err));
			goto out;
		}
		setvbuf(ctx->keylog, NULL, _IOLBF, 0);
		SSL_CTX_set_keylog_callback(ctx->ssl, tlsctx_keylog_cb);
	}
	*ctxp = ctx;
	return 0;
out:
	mem_deref(ctx);
	return err;
}

SSL_CTX *tlsctx_ssl_ctx(const struct tlsctx *ctx)
{
	return ctx ? ctx->ssl : NULL;
}

bool tlsctx_is_server(const struct tlsctx *ctx)
{
	return ctx && ctx->server;
}

unsigned tlsctx_shared_certs(const struct tlsctx *ctx)
{
	return ctx ? certcache_count(ctx->certs) : 0;
}

SSL *tlsctx_ssl_new(struct tlsctx *ctx)
{
	return ctx ? SSL_new(ctx->ssl) : NULL;
}

int tls_cert_cn(X509 *cert, char *buf, size_t size)
{
	X509_NAME *name;
	X509_NAME_ENTRY *e;
	ASN1_STRING *d;
	unsigned char *utf8 = NULL;
	int idx, n;

	if (!cert || !buf || !size)
		return EINVAL;
	buf[0] = '\0';
	name = X509_get_subject_name(cert);
	idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	if (idx < 0)
		return ENOENT;
	e = X509_NAME_get_entry(name, idx);
	d = e ? X509_NAME_ENTRY_get_data(e) : NULL;
	if (!d)
		return ENOENT;
	n = ASN1_STRING_to_UTF8(&utf8, d);
	if (n < 0)
		return EBADMSG;
	/* An embedded NUL would let "good.test\0.evil" pass a string comparison. */
	if (memchr(utf8, '\0', (size_t)n) || (size_t)n >= size) {
		OPENSSL_free(utf8);
		return (size_t)n >= size ? ENOSPC : EBADMSG;
	}
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(utf8);
	return 0;
}

int tls_cert_check_cn(X509 *cert, const char *fqdn)
{
	char cn[256];
	X509_NAME *name;

	if (!cert || !fqdn || !*fqdn)
		return EINVAL;
	if (tls_cert_cn(cert, cn, sizeof(cn)) != 0)
		return EPERM;
	/* A second CN makes the identity ambiguous: refuse rather than pick one. */
	name = X509_get_subject_name(cert);
	if (X509_NAME_get_index_by_NID(name, NID_commonName,
				       X509_NAME_get_index_by_NID(name, NID_commonName, -1)) >= 0)
		return EPERM;
	return strcasecmp(cn, fqdn) == 0 ? 0 : EPERM;
}

bool tls_cert_has_client_auth(X509 *cert)
{
	uint32_t xku;

	if (!cert)
		return false;
	xku = X509_get_extended_key_usage(cert); /* UINT32_MAX when there is no EKU */
	return (xku & XKU_SSL_CLIENT) != 0;
}

X509 *tls_cert_load(const char *file)
{
	X509 *cert;
	FILE *f;

	if (!file)
		return NULL;
	f = fopen(file, "r");
	if (!f)
		return NULL;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return cert;
}
