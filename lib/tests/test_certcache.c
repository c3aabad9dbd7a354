/* test_certcache: the parses of the certificates peers send are shared between connections,
 * never between different certificates, and never in place of verification. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <CUnit/CUnit.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/mem.h"
#include "net/certcache.h"
#include "net/tlsctx.h"
#include "tests/testpki.h"
#include "tests/testreg.h"

/* A root, the server "srv.lab.test", two client leaves with the same name ("cli", "cli2", two
 * keys) under the root, and "rogue" with that name too, under a root the server does not
 * trust. */
struct pki {
	char dir[64];
	struct tlsctx *srv, *cli, *cli2, *rogue;
};

static int pki_leaf(struct pki *p, const char *name, const char *cn, enum testpki_eku eku,
		    X509 *ca, EVP_PKEY *cak)
{
	EVP_PKEY *k = testpki_key();
	X509 *c = k ? testpki_cert(k, cn, NULL, eku, ca, cak, false) : NULL;
	char path[128];
	int err = c ? 0 : ENOMEM;

	snprintf(path, sizeof(path), "%s/%s.pem", p->dir, name);
	err = err ? err : testpki_write_cert(path, c);
	snprintf(path, sizeof(path), "%s/%s.key", p->dir, name);
	err = err ? err : testpki_write_key(path, k);
	X509_free(c);
	EVP_PKEY_free(k);
	return err;
}

static int pki_ctx(struct pki *p, struct tlsctx **ctxp, bool server, const char *name)
{
	struct tlsctx_conf conf;
	char crt[128], key[128], ca[128];

	snprintf(crt, sizeof(crt), "%s/%s.pem", p->dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", p->dir, name);
	snprintf(ca, sizeof(ca), "%s/ca.pem", p->dir);
	memset(&conf, 0, sizeof(conf));
	conf.cert_file = crt;
	conf.key_file = key;
	conf.ca_file = ca;
	conf.require_peer_cert = true;
	return tlsctx_alloc(ctxp, server, &conf);
}

static int pki_init(struct pki *p)
{
	EVP_PKEY *cak = testpki_key(), *rk = testpki_key();
	X509 *ca = testpki_cert(cak, "Cache Test Root", NULL, TESTPKI_EKU_NONE, NULL, NULL, true);
	X509 *rca = testpki_cert(rk, "Cache Test Root", NULL, TESTPKI_EKU_NONE, NULL, NULL, true);
	char path[128];
	int err;

	memset(p, 0, sizeof(*p));
	err = ca && rca ? testpki_tmpdir(p->dir, sizeof(p->dir)) : ENOMEM;
	snprintf(path, sizeof(path), "%s/ca.pem", p->dir);
	err = err ? err : testpki_write_cert(path, ca);
	err = err ? err : pki_leaf(p, "srv", "srv.lab.test", TESTPKI_EKU_SERVER, ca, cak);
	err = err ? err : pki_leaf(p, "cli", "cli.lab.test", TESTPKI_EKU_CLIENT, ca, cak);
	err = err ? err : pki_leaf(p, "cli2", "cli.lab.test", TESTPKI_EKU_CLIENT, ca, cak);
	err = err ? err : pki_leaf(p, "rogue", "cli.lab.test", TESTPKI_EKU_CLIENT, rca, rk);
	err = err ? err : pki_ctx(p, &p->srv, true, "srv");
	err = err ? err : pki_ctx(p, &p->cli, false, "cli");
	err = err ? err : pki_ctx(p, &p->cli2, false, "cli2");
	err = err ? err : pki_ctx(p, &p->rogue, false, "rogue");
	X509_free(ca);
	X509_free(rca);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(rk);
	return err;
}

static void pki_close(struct pki *p)
{
	p->srv = mem_deref(p->srv);
	p->cli = mem_deref(p->cli);
	p->cli2 = mem_deref(p->cli2);
	p->rogue = mem_deref(p->rogue);
	testpki_rmdir(p->dir);
}

/* A handshake in memory, the client offering sess (NULL: none) to resume: 0 once both ends
 * are done, EPROTO when one refused. */
static int handshake_offer(struct tlsctx *s, struct tlsctx *c, SSL_SESSION *sess, SSL **sp,
			   SSL **cp)
{
	SSL *ss = tlsctx_ssl_new(s), *cs = tlsctx_ssl_new(c);
	BIO *a = NULL, *b = NULL;
	int i, rs = 0, rc = 0;

	*sp = ss;
	*cp = cs;
	if (!ss || !cs || !BIO_new_bio_pair(&a, 0, &b, 0))
		return ENOMEM;
	SSL_set_bio(ss, a, a);
	SSL_set_bio(cs, b, b);
	SSL_set_accept_state(ss);
	SSL_set_connect_state(cs);
	if (sess && SSL_set_session(cs, sess) != 1)
		return EINVAL;
	for (i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(cs);
		if (rs != 1)
			rs = SSL_do_handshake(ss);
		if (SSL_get_error(ss, rs) == SSL_ERROR_SSL || SSL_get_error(cs, rc) == SSL_ERROR_SSL)
			break;
	}
	ERR_clear_error();
	return rs == 1 && rc == 1 ? 0 : EPROTO;
}

static int handshake(struct tlsctx *s, struct tlsctx *c, SSL **sp, SSL **cp)
{
	return handshake_offer(s, c, NULL, sp, cp);
}

static void ssl_pair_free(SSL *s, SSL *c)
{
	SSL_free(s);
	SSL_free(c);
}

/* Two connections of one peer: the server holds one parse of the peer's certificate and of
 * the chain it sent, and the client one of the server's; both still check names. */
static void test_certcache_shared(void)
{
	size_t live = mem_live();
	SSL *s1, *c1, *s2, *c2;
	STACK_OF(X509) *ch1, *ch2;
	struct pki p;
	int i;

	CU_ASSERT_EQUAL_FATAL(pki_init(&p), 0);
	CU_ASSERT_EQUAL(tlsctx_shared_certs(p.srv), 0);
	CU_ASSERT_EQUAL(handshake(p.srv, p.cli, &s1, &c1), 0);
	/* the client sends its leaf and the root (it builds its chain from its trust store) */
	CU_ASSERT_EQUAL(tlsctx_shared_certs(p.srv), 2);
	CU_ASSERT_EQUAL(handshake(p.srv, p.cli, &s2, &c2), 0);
	CU_ASSERT_EQUAL(tlsctx_shared_certs(p.srv), 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(SSL_get0_peer_certificate(s1));
	CU_ASSERT_PTR_EQUAL(SSL_get0_peer_certificate(s2), SSL_get0_peer_certificate(s1));
	CU_ASSERT_PTR_EQUAL(sk_X509_value(SSL_get0_verified_chain(s2), 0),
			    SSL_get0_peer_certificate(s1));
	ch1 = SSL_get_peer_cert_chain(s1);
	ch2 = SSL_get_peer_cert_chain(s2);
	CU_ASSERT_EQUAL_FATAL(sk_X509_num(ch2), sk_X509_num(ch1));
	for (i = 0; i < sk_X509_num(ch2); i++)
		CU_ASSERT_PTR_EQUAL(sk_X509_value(ch2, i), sk_X509_value(ch1, i));
	CU_ASSERT_EQUAL(tls_cert_check_cn(SSL_get0_peer_certificate(s2), "cli.lab.test"), 0);
	CU_ASSERT_EQUAL(SSL_get_verify_result(s2), X509_V_OK);
	/* the client side shares the server's certificate the same way */
	CU_ASSERT_PTR_EQUAL(SSL_get0_peer_certificate(c2), SSL_get0_peer_certificate(c1));
	CU_ASSERT_EQUAL(tls_cert_check_cn(SSL_get0_peer_certificate(c2), "srv.lab.test"), 0);
	/* the first connection going away leaves the second one's certificate whole */
	ssl_pair_free(s1, c1);
	CU_ASSERT_EQUAL(tls_cert_check_cn(SSL_get0_peer_certificate(s2), "cli.lab.test"), 0);
	ssl_pair_free(s2, c2);
	pki_close(&p);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* A certificate with the same name but another key is its own parse; a refused one is never
 * learned; a cached certificate is verified again on every connection. */
static void test_certcache_not_shared(void)
{
	size_t live = mem_live();
	SSL *s1, *c1, *s2, *c2;
	X509_VERIFY_PARAM *vp;
	char cn[64];
	struct pki p;

	CU_ASSERT_EQUAL_FATAL(pki_init(&p), 0);
	CU_ASSERT_EQUAL(handshake(p.srv, p.cli, &s1, &c1), 0);
	CU_ASSERT_EQUAL(handshake(p.srv, p.cli2, &s2, &c2), 0);
	CU_ASSERT_PTR_NOT_EQUAL(SSL_get0_peer_certificate(s2), SSL_get0_peer_certificate(s1));
	CU_ASSERT_NOT_EQUAL(X509_cmp(SSL_get0_peer_certificate(s2),
				     SSL_get0_peer_certificate(s1)), 0);
	CU_ASSERT_EQUAL(tls_cert_cn(SSL_get0_peer_certificate(s2), cn, sizeof(cn)), 0);
	CU_ASSERT_STRING_EQUAL(cn, "cli.lab.test");
	CU_ASSERT_EQUAL(tlsctx_shared_certs(p.srv), 3); /* root, cli, cli2 */
	ssl_pair_free(s2, c2);

	/* same name, untrusted root: refused, and not remembered */
	CU_ASSERT_EQUAL(handshake(p.srv, p.rogue, &s2, &c2), EPROTO);
	CU_ASSERT_NOT_EQUAL(SSL_get_verify_result(s2), X509_V_OK);
	CU_ASSERT_EQUAL(tlsctx_shared_certs(p.srv), 3);
	ssl_pair_free(s2, c2);

	/* a day and more later the cached certificate has expired: refused all the same */
	vp = SSL_CTX_get0_param(tlsctx_ssl_ctx(p.srv));
	X509_VERIFY_PARAM_set_time(vp, time(NULL) + 3 * 86400);
	CU_ASSERT_EQUAL(handshake(p.srv, p.cli, &s2, &c2), EPROTO);
	CU_ASSERT_EQUAL(SSL_get_verify_result(s2), X509_V_ERR_CERT_HAS_EXPIRED);
	ssl_pair_free(s2, c2);
	ssl_pair_free(s1, c1);
	pki_close(&p);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The server side never resumes a session (mutual TLS with no session id context: every
 * connection is verified in full, tlsctx_verify_cb), so it hands out no session tickets: they
 * cost two encryptions, a record and the client's memory per handshake for nothing. A TLS 1.2
 * peer offering a session back gets a full handshake. */
static void test_tls_no_resumption(void)
{
	size_t live = mem_live();
	struct tlsctx *cli12 = NULL;
	struct tlsctx_conf conf;
	SSL_SESSION *sess;
	SSL *s, *c;
	char buf[16], crt[128], key[128], ca[128];
	struct pki p;

	CU_ASSERT_EQUAL_FATAL(pki_init(&p), 0);
	/* TLS 1.3: the tickets would follow the handshake; the client reads them, if any */
	CU_ASSERT_EQUAL_FATAL(handshake_offer(p.srv, p.cli, NULL, &s, &c), 0);
	CU_ASSERT_EQUAL(SSL_version(c), TLS1_3_VERSION);
	CU_ASSERT_TRUE(SSL_read(c, buf, sizeof(buf)) <= 0);
	CU_ASSERT_EQUAL(SSL_get_error(c, -1), SSL_ERROR_WANT_READ);
	ERR_clear_error();
	sess = SSL_get1_session(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
	CU_ASSERT_FALSE(SSL_SESSION_has_ticket(sess));
	CU_ASSERT_FALSE(SSL_SESSION_is_resumable(sess));
	SSL_SESSION_free(sess);
	ssl_pair_free(s, c);

	/* TLS 1.2: no ticket, and the session offered again is a full handshake, not an alert */
	snprintf(crt, sizeof(crt), "%s/cli.pem", p.dir);
	snprintf(key, sizeof(key), "%s/cli.key", p.dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", p.dir);
	memset(&conf, 0, sizeof(conf));
	conf.cert_file = crt;
	conf.key_file = key;
	conf.ca_file = ca;
	conf.max_version = TLS1_2_VERSION;
	CU_ASSERT_EQUAL_FATAL(tlsctx_alloc(&cli12, false, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(handshake_offer(p.srv, cli12, NULL, &s, &c), 0);
	CU_ASSERT_EQUAL(SSL_version(c), TLS1_2_VERSION);
	sess = SSL_get1_session(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sess);
	CU_ASSERT_FALSE(SSL_SESSION_has_ticket(sess));
	ssl_pair_free(s, c);
	CU_ASSERT_EQUAL(handshake_offer(p.srv, cli12, sess, &s, &c), 0);
	CU_ASSERT_FALSE(SSL_session_reused(c));
	CU_ASSERT_EQUAL(SSL_get_verify_result(s), X509_V_OK);
	CU_ASSERT_PTR_NOT_NULL(SSL_get0_peer_certificate(s));
	ssl_pair_free(s, c);
	SSL_SESSION_free(sess);
	cli12 = mem_deref(cli12);
	pki_close(&p);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The cache alone: bounded, exact matches only, the target replaced along with the stack. */
static void test_certcache_bounds(void)
{
	size_t live = mem_live();
	EVP_PKEY *k1 = testpki_key(), *k2 = testpki_key();
	X509 *a = testpki_cert(k1, "a.test", NULL, TESTPKI_EKU_NONE, NULL, NULL, false);
	X509 *b = testpki_cert(k2, "b.test", NULL, TESTPKI_EKU_NONE, NULL, NULL, false);
	X509 *a2 = X509_dup(a);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sx = X509_STORE_CTX_new();
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct certcache *cc = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a2);
	CU_ASSERT_EQUAL(certcache_alloc(&cc, 0), EINVAL);
	CU_ASSERT_PTR_NULL(cc);
	CU_ASSERT_EQUAL_FATAL(certcache_alloc(&cc, 1), 0);
	sk_X509_push(sk, a);
	sk_X509_push(sk, b);
	X509_STORE_CTX_init(sx, store, a, sk);
	certcache_learn(cc, sx);
	CU_ASSERT_EQUAL(certcache_count(cc), 1); /* b pushed a out */
	X509_STORE_CTX_cleanup(sx);

	sk_X509_zero(sk);
	X509_up_ref(a2);
	sk_X509_push(sk, a2);
	X509_STORE_CTX_init(sx, store, a2, sk);
	CU_ASSERT_EQUAL(certcache_share(cc, sx), 0); /* a is gone */
	CU_ASSERT_PTR_EQUAL(sk_X509_value(sk, 0), a2);
	certcache_learn(cc, sx);
	X509_STORE_CTX_cleanup(sx);
	sk_X509_pop_free(sk, X509_free);

	/* a fresh parse of a2 becomes the cached a2, in the stack and as the target */
	sk = sk_X509_new_null();
	sk_X509_push(sk, X509_dup(a2));
	X509_STORE_CTX_init(sx, store, sk_X509_value(sk, 0), sk);
	CU_ASSERT_EQUAL(certcache_share(cc, sx), 1);
	CU_ASSERT_PTR_EQUAL(sk_X509_value(sk, 0), a2);
	CU_ASSERT_PTR_EQUAL(X509_STORE_CTX_get0_cert(sx), a2);
	X509_STORE_CTX_cleanup(sx);
	sk_X509_pop_free(sk, X509_free);

	X509_STORE_CTX_free(sx);
	X509_STORE_free(store);
	X509_free(a);
	X509_free(b);
	X509_free(a2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	cc = mem_deref(cc);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo certcache_tests[] = {
	{ "one parse per peer certificate", test_certcache_shared },
	{ "never another certificate, never unverified", test_certcache_not_shared },
	{ "bounded, exact", test_certcache_bounds },
	{ "no session tickets, no resumption", test_tls_no_resumption },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("certcache", certcache_tests)
