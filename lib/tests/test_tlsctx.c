/* test_tlsctx: certificate name checks, EKU, context building from files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include <openssl/x509.h>

#include "base/mem.h"
#include "net/tlsctx.h"
#include "tests/testpki.h"
#include "tests/testreg.h"

struct cn_case {
	const char *cert_cn;  /* NULL: no CN */
	const char *san;
	const char *fqdn;
	int err;
};

static const struct cn_case cn_cases[] = {
	{ "sip.aol.test", NULL, "sip.aol.test", 0 },
	{ "sip.aol.test", NULL, "SIP.AOL.Test", 0 },
	{ "SIP.aol.TEST", NULL, "sip.aol.test", 0 },
	{ "sip.aol.test", NULL, "sip.yahoo.test", EPERM },
	{ "sip.aol.test", NULL, "sip.aol.test.evil", EPERM },
	{ "sip.aol.test", NULL, "aol.test", EPERM },
	{ "*.aol.test", NULL, "sip.aol.test", EPERM },          /* no wildcards */
	{ "other.test", "sip.aol.test", "sip.aol.test", EPERM }, /* SANs ignored */
	{ NULL, "sip.aol.test", "sip.aol.test", EPERM },         /* SAN only */
	{ "sip.aol.test", NULL, "", EINVAL },
};

static void test_tls_check_cn(void)
{
	EVP_PKEY *key = testpki_key();
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	for (i = 0; i < sizeof(cn_cases) / sizeof(cn_cases[0]); i++) {
		const struct cn_case *cc = &cn_cases[i];
		X509 *c = testpki_cert(key, cc->cert_cn, cc->san, TESTPKI_EKU_SERVER, NULL, NULL,
				       false);
		char cn[64];

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(tls_cert_check_cn(c, cc->fqdn), cc->err);
		if (cc->cert_cn) {
			CU_ASSERT_EQUAL(tls_cert_cn(c, cn, sizeof(cn)), 0);
			CU_ASSERT_STRING_EQUAL(cn, cc->cert_cn);
		} else {
			CU_ASSERT_EQUAL(tls_cert_cn(c, cn, sizeof(cn)), ENOENT);
		}
		X509_free(c);
	}
	CU_ASSERT_EQUAL(tls_cert_check_cn(NULL, "x"), EINVAL);
	EVP_PKEY_free(key);
}

static void test_tls_client_auth(void)
{
	static const struct { enum testpki_eku eku; bool client; } eku_cases[] = {
		{ TESTPKI_EKU_NONE, true }, { TESTPKI_EKU_SERVER, false },
		{ TESTPKI_EKU_CLIENT, true }, { TESTPKI_EKU_BOTH, true },
	};
	EVP_PKEY *key = testpki_key();
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	for (i = 0; i < sizeof(eku_cases) / sizeof(eku_cases[0]); i++) {
		X509 *c = testpki_cert(key, "edge.test", NULL, eku_cases[i].eku, NULL, NULL, false);

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		CU_ASSERT_EQUAL(tls_cert_has_client_auth(c), eku_cases[i].client);
		X509_free(c);
	}
	CU_ASSERT_FALSE(tls_cert_has_client_auth(NULL));
	EVP_PKEY_free(key);
}

/* Files: a CA-signed leaf loads; a key of another certificate is refused; missing files too. */
static void test_tlsctx_files(void)
{
	size_t live = mem_live();
	char dir[64], ca[96], crt[96], key[96], key2[96], klog[96], eb[128];
	EVP_PKEY *cak = testpki_key(), *lk = testpki_key(), *ok = testpki_key();
	X509 *cac = NULL, *leaf = NULL, *loaded;
	struct tlsctx *ctx = NULL;
	struct tlsctx_conf conf;

	CU_ASSERT_EQUAL_FATAL(testpki_tmpdir(dir, sizeof(dir)), 0);
	cac = testpki_cert(cak, "Test Root", NULL, TESTPKI_EKU_NONE, NULL, NULL, true);
	leaf = testpki_cert(lk, "ap.contoso.test", NULL, TESTPKI_EKU_BOTH, cac, cak, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(crt, sizeof(crt), "%s/leaf.pem", dir);
	snprintf(key, sizeof(key), "%s/leaf.key", dir);
	snprintf(key2, sizeof(key2), "%s/other.key", dir);
	snprintf(klog, sizeof(klog), "%s/keys.log", dir);
	CU_ASSERT_EQUAL(testpki_write_cert(ca, cac), 0);
	CU_ASSERT_EQUAL(testpki_write_cert(crt, leaf), 0);
	CU_ASSERT_EQUAL(testpki_write_key(key, lk), 0);
	CU_ASSERT_EQUAL(testpki_write_key(key2, ok), 0);

	memset(&conf, 0, sizeof(conf));
	conf.cert_file = crt;
	conf.key_file = key;
	conf.ca_file = ca;
	conf.keylog_file = klog;
	conf.require_peer_cert = true;
	CU_ASSERT_EQUAL(tlsctx_alloc(&ctx, true, &conf), 0);
	CU_ASSERT_TRUE(tlsctx_is_server(ctx));
	CU_ASSERT_PTR_NOT_NULL(tlsctx_ssl_ctx(ctx));
	CU_ASSERT_EQUAL(SSL_CTX_get_verify_mode(tlsctx_ssl_ctx(ctx)),
			SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	CU_ASSERT_EQUAL(SSL_CTX_get_min_proto_version(tlsctx_ssl_ctx(ctx)), TLS1_2_VERSION);
	ctx = mem_deref(ctx);

	conf.keylog_file = NULL;
	conf.min_version = TLS1_3_VERSION;
	CU_ASSERT_EQUAL(tlsctx_alloc(&ctx, false, &conf), 0);
	CU_ASSERT_FALSE(tlsctx_is_server(ctx));
	CU_ASSERT_EQUAL(SSL_CTX_get_verify_mode(tlsctx_ssl_ctx(ctx)), SSL_VERIFY_PEER);
	CU_ASSERT_EQUAL(SSL_CTX_get_min_proto_version(tlsctx_ssl_ctx(ctx)), TLS1_3_VERSION);
	ctx = mem_deref(ctx);

	conf.key_file = key2;
	CU_ASSERT_EQUAL(tlsctx_alloc(&ctx, true, &conf), EINVAL);
	CU_ASSERT_PTR_NULL(ctx);
	conf.key_file = key;
	conf.ca_file = "/nonexistent/ca.pem";
	CU_ASSERT_EQUAL(tlsctx_alloc(&ctx, true, &conf), EINVAL);
	conf.ca_file = ca;
	conf.cert_file = NULL;
	CU_ASSERT_EQUAL(tlsctx_alloc(&ctx, true, &conf), EINVAL);
	tls_errstr(eb, sizeof(eb));

	loaded = tls_cert_load(crt);
	CU_ASSERT_PTR_NOT_NULL_FATAL(loaded);
	CU_ASSERT_EQUAL(tls_cert_check_cn(loaded, "AP.contoso.test"), 0);
	X509_free(loaded);
	CU_ASSERT_PTR_NULL(tls_cert_load("/nonexistent.pem"));

	X509_free(cac);
	X509_free(leaf);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(ok);
	testpki_rmdir(dir);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo tlsctx_tests[] = {
	{ "check cn", test_tls_check_cn },
	{ "client auth eku", test_tls_client_auth },
	{ "context from files", test_tlsctx_files },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("tlsctx", tlsctx_tests)
