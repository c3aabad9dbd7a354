/* tlsctx: OpenSSL 3 contexts for mutual TLS: certificates, trust store, versions, key log. */
#ifndef PIC_TLSCTX_H
#define PIC_TLSCTX_H

#include <stdbool.h>
#include <openssl/ssl.h>

struct tlsctx;

struct tlsctx_conf {
	const char *cert_file;    /* PEM leaf (may be followed by its chain) */
	const char *key_file;     /* PEM private key */
	const char *ca_file;      /* PEM trust store: peers must chain to one of these */
	int min_version;          /* TLS1_2_VERSION (default when 0) or TLS1_3_VERSION */
	int max_version;          /* 0: highest the library has */
	const char *cipher_list;  /* TLS 1.2 cipher order (NULL: library default) */
	const char *ciphersuites; /* TLS 1.3 suites (NULL: library default) */
	const char *keylog_file;  /* NULL: none; else NSS key log lines are appended here */
	bool require_peer_cert;   /* server side: demand a client certificate (mutual TLS) */
};

/* Builds a context for one role. Refuses (EINVAL) a missing file or a key that does not match
 * the certificate, logging which. Peer verification is always on for clients. */
int tlsctx_alloc(struct tlsctx **ctxp, bool server, const struct tlsctx_conf *conf);
SSL_CTX *tlsctx_ssl_ctx(const struct tlsctx *ctx);
bool tlsctx_is_server(const struct tlsctx *ctx);
/* Peer certificates whose parses the context's connections share now (see certcache.h). */
unsigned tlsctx_shared_certs(const struct tlsctx *ctx);
/* Creates an SSL for one connection on this context (caller owns it). */
SSL *tlsctx_ssl_new(struct tlsctx *ctx);

/* Subject CN of cert into buf; ENOENT if it has none. */
int tls_cert_cn(X509 *cert, char *buf, size_t size);
/* 0 if the certificate's subject CN equals fqdn (ASCII case-insensitive, no wildcards, SANs
 * ignored, as a federation edge checks), EPERM otherwise, EINVAL on bad arguments. */
int tls_cert_check_cn(X509 *cert, const char *fqdn);
/* True if cert carries extendedKeyUsage clientAuth (or no EKU at all: then any use is allowed). */
bool tls_cert_has_client_auth(X509 *cert);
/* Loads the first certificate from a PEM file (caller frees with X509_free); NULL on failure. */
X509 *tls_cert_load(const char *file);
/* Text of the last OpenSSL error queue entry (and clears the queue) for log lines. */
const char *tls_errstr(char *buf, size_t size);

#endif
