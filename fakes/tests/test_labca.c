/* test_labca: the lab PKI is made right, chains to the right root only, and is reused. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "tests/testreg.h"
#include "../ca/labca.h"

static const struct labca_leaf test_leaves[] = {
	{ "srv.public.test", LABCA_PUBLIC, true, false },
	{ "cli.enterprise.test", LABCA_ENTERPRISE, false, true },
	{ "both.enterprise.test", LABCA_ENTERPRISE, true, true },
	{ "both.public.test", LABCA_PUBLIC, true, true },
	{ NULL, 0, false, false },
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void dir_remove(const char *dir)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static X509 *crt_load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *key_load(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* Verifies leaf against root alone, as a TLS peer trusting only that root would. */
static int chain_ok(X509 *leaf, X509 *root)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = -1;

	if (store && ctx && X509_STORE_add_cert(store, root) &&
	    X509_STORE_CTX_init(ctx, store, leaf, NULL))
		ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* The only dNSName in the SAN equals cn. */
static int san_is(X509 *x, const char *cn)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int ok = 0;

	if (gens && sk_GENERAL_NAME_num(gens) == 1) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);

		ok = g->type == GEN_DNS &&
		     strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), cn) == 0;
	}
	GENERAL_NAMES_free(gens);
	return ok;
}

static char *file_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*lenp = (size_t)n;
	else if (buf)
		buf = (free(buf), NULL);
	fclose(f);
	return buf;
}

static void test_labca_leaves(void)
{
	char tmpl[] = "/tmp/test_labca.XXXXXX", path[512];
	X509 *roots[2];
	const char *dir;
	double t0;
	int i, r;

	log_set_level(LOGL_WARN);
	dir = mkdtemp(tmpl);
	CU_ASSERT_FATAL(dir != NULL);
	t0 = now_ms();
	CU_ASSERT_EQUAL_FATAL(labca_make(dir, test_leaves), 0);
	printf("\n    labca: fresh make of 2 roots + 4 leaves: %.2f ms ", now_ms() - t0);

	for (r = 0; r < 2; r++) {
		roots[r] = crt_load(labca_root_path(dir, r, path, sizeof(path)));
		CU_ASSERT_FATAL(roots[r] != NULL);
		CU_ASSERT(X509_check_ca(roots[r]) >= 1);
		CU_ASSERT_EQUAL(chain_ok(roots[r], roots[r]), 1);
	}
	CU_ASSERT(X509_NAME_cmp(X509_get_subject_name(roots[0]),
				X509_get_subject_name(roots[1])) != 0);

	for (i = 0; test_leaves[i].cn; i++) {
		const struct labca_leaf *l = &test_leaves[i];
		X509 *x = crt_load(labca_cert_path(dir, l->cn, path, sizeof(path)));
		EVP_PKEY *k = key_load(labca_key_path(dir, l->cn, path, sizeof(path)));
		uint32_t xku;
		struct stat st;
		char cn[256];

		CU_ASSERT_FATAL(x != NULL && k != NULL);
		CU_ASSERT(X509_check_private_key(x, k) == 1);
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
		/* Right root verifies, the other one does not. */
		CU_ASSERT_EQUAL(chain_ok(x, roots[l->root]), 1);
		CU_ASSERT_EQUAL(chain_ok(x, roots[!l->root]), 0);
		CU_ASSERT(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
						    sizeof(cn)) > 0);
		CU_ASSERT_STRING_EQUAL(cn, l->cn);
		CU_ASSERT(san_is(x, l->cn));
		CU_ASSERT_EQUAL(X509_check_host(x, l->cn, 0, 0, NULL), 1);
		CU_ASSERT_EQUAL(X509_check_ca(x), 0);
		xku = X509_get_extended_key_usage(x);
		CU_ASSERT_EQUAL(!!(xku & XKU_SSL_SERVER), l->eku_server);
		CU_ASSERT_EQUAL(!!(xku & XKU_SSL_CLIENT), l->eku_client);
		CU_ASSERT(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
		/* now-1h .. +2y */
		CU_ASSERT(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
		CU_ASSERT(X509_cmp_time(X509_get0_notAfter(x),
					&(time_t){ time(NULL) + 700 * 86400L }) > 0);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	X509_free(roots[0]);
	X509_free(roots[1]);
	dir_remove(dir);
}

/* The second call is the per-run cache: it must not touch a single file. */
static void test_labca_reuse(void)
{
	char tmpl[] = "/tmp/test_labca.XXXXXX", path[512];
	const char *files[16];
	char *before[16];
	size_t lens[16];
	struct timespec mtimes[16];
	const struct labca_leaf *l;
	const char *dir;
	struct stat st;
	double t0;
	int n = 0, i;

	log_set_level(LOGL_WARN);
	dir = mkdtemp(tmpl);
	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_EQUAL_FATAL(labca_make(dir, NULL), 0);
	files[n++] = "public-root";
	files[n++] = "enterprise-root";
	for (l = labca_default_leaves; l->cn; l++)
		files[n++] = l->cn;
	for (i = 0; i < n; i++) {
		labca_cert_path(dir, files[i], path, sizeof(path));
		CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
		mtimes[i] = st.st_mtim;
		before[i] = file_slurp(path, &lens[i]);
		CU_ASSERT_FATAL(before[i] != NULL);
	}
	t0 = now_ms();
	CU_ASSERT_EQUAL(labca_make(dir, NULL), 0);
	printf("\n    labca: cached call (2 roots + 6 leaves checked): %.2f ms ", now_ms() - t0);
	for (i = 0; i < n; i++) {
		char *after;
		size_t len = 0;

		labca_cert_path(dir, files[i], path, sizeof(path));
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT(st.st_mtim.tv_sec == mtimes[i].tv_sec &&
			  st.st_mtim.tv_nsec == mtimes[i].tv_nsec);
		after = file_slurp(path, &len);
		CU_ASSERT(after && len == lens[i] && memcmp(after, before[i], len) == 0);
		free(after);
	}

	/* A leaf signed by the wrong root (here: swapped in by hand) is remade. */
	{
		char a[512], b[512];
		X509 *x, *root;

		labca_cert_path(dir, "pool.contoso.test", a, sizeof(a));
		labca_cert_path(dir, "sip.aol.test", b, sizeof(b));
		CU_ASSERT_EQUAL(rename(b, a), 0);
		CU_ASSERT_EQUAL(labca_make(dir, NULL), 0);
		x = crt_load(a);
		root = crt_load(labca_root_path(dir, LABCA_ENTERPRISE, path, sizeof(path)));
		CU_ASSERT(x && root && chain_ok(x, root) == 1);
		X509_free(x);
		X509_free(root);
		/* sip.aol.test was missing: made again. */
		CU_ASSERT_EQUAL(access(b, R_OK), 0);
	}
	for (i = 0; i < n; i++)
		free(before[i]);
	dir_remove(dir);
}

static void test_labca_refuses(void)
{
	static const struct labca_leaf bad1[] = { { "../evil", LABCA_PUBLIC, true, true },
						  { NULL, 0, false, false } };
	static const struct labca_leaf bad2[] = { { "", LABCA_PUBLIC, true, true },
						  { NULL, 0, false, false } };
	char path[64];

	log_set_level(LOGL_NONE);
	CU_ASSERT_EQUAL(labca_make("/tmp", bad1), EINVAL);
	CU_ASSERT_EQUAL(labca_make("/tmp", bad2), EINVAL);
	CU_ASSERT_EQUAL(labca_make(NULL, NULL), EINVAL);
	CU_ASSERT_NOT_EQUAL(labca_make("/proc/no/such/dir", NULL), 0);
	CU_ASSERT_STRING_EQUAL(labca_root_path("d", LABCA_ENTERPRISE, path, sizeof(path)),
			       "d/enterprise-root.crt");
	CU_ASSERT_STRING_EQUAL(labca_key_path("d", "x.test", path, sizeof(path)), "d/x.test.key");
	log_set_level(LOGL_WARN);
}

/* The verify error of leaf against root alone with a TLS purpose (X509_V_OK when it passes). */
static int chain_err(X509 *leaf, X509 *root, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int err = -1;

	if (store && ctx && X509_STORE_add_cert(store, root) &&
	    X509_STORE_CTX_init(ctx, store, leaf, NULL) &&
	    X509_STORE_CTX_set_purpose(ctx, purpose)) {
		X509_verify_cert(ctx);
		err = X509_STORE_CTX_get_error(ctx);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return err;
}

/* Per kind, what a TLS peer of sip.aol.test (home: public root) sees when verifying it as a
 * client certificate against the public root, then against the enterprise root. */
static const struct {
	enum labca_bad kind;
	const char *name;
	int err_public, err_enterprise;
} bad_cases[] = {
	{ LABCA_BAD_NO_CLIENT_AUTH, "no-client-auth", X509_V_ERR_INVALID_PURPOSE,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ LABCA_BAD_CN_WRONG_SAN_RIGHT, "cn-wrong-san-right", X509_V_OK,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ LABCA_BAD_EXPIRED, "expired", X509_V_ERR_CERT_HAS_EXPIRED,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ LABCA_BAD_NOT_YET_VALID, "not-yet-valid", X509_V_ERR_CERT_NOT_YET_VALID,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ LABCA_BAD_ENTERPRISE_SIGNED, "enterprise-signed",
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_OK },
	{ LABCA_BAD_PUBLIC_SIGNED, "public-signed", X509_V_OK,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ LABCA_BAD_SELF_SIGNED, "self-signed", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT },
	{ LABCA_BAD_WRONG_KEY_USAGE, "wrong-key-usage", X509_V_ERR_INVALID_PURPOSE,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
};

static void test_labca_bad(void)
{
	char tmpl[] = "/tmp/test_labca.XXXXXX", path[512], cn[256];
	const char *cname = "sip.aol.test";
	X509 *roots[2], *x;
	EVP_PKEY *k;
	const char *dir;
	size_t i;

	log_set_level(LOGL_WARN);
	dir = mkdtemp(tmpl);
	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_EQUAL_FATAL(labca_make(dir, NULL), 0);
	roots[0] = crt_load(labca_root_path(dir, LABCA_PUBLIC, path, sizeof(path)));
	roots[1] = crt_load(labca_root_path(dir, LABCA_ENTERPRISE, path, sizeof(path)));
	CU_ASSERT_FATAL(roots[0] && roots[1]);
	CU_ASSERT_EQUAL(sizeof(bad_cases) / sizeof(bad_cases[0]), LABCA_BAD_NKINDS);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		enum labca_bad kind = bad_cases[i].kind, parsed = LABCA_BAD_NKINDS;
		char want[512];

		CU_ASSERT_STRING_EQUAL(labca_bad_name(kind), bad_cases[i].name);
		CU_ASSERT_EQUAL(labca_bad_parse(bad_cases[i].name, &parsed), 0);
		CU_ASSERT_EQUAL(parsed, kind);
		CU_ASSERT_EQUAL_FATAL(labca_make_bad(dir, kind, cname), 0);
		snprintf(want, sizeof(want), "%s/bad-%s-%s.crt", dir, bad_cases[i].name, cname);
		CU_ASSERT_STRING_EQUAL(labca_bad_cert_path(dir, kind, cname, path, sizeof(path)),
				       want);
		x = crt_load(path);
		k = key_load(labca_bad_key_path(dir, kind, cname, path, sizeof(path)));
		CU_ASSERT_FATAL(x != NULL && k != NULL);
		CU_ASSERT(X509_check_private_key(x, k) == 1);
		CU_ASSERT_EQUAL(chain_err(x, roots[0], X509_PURPOSE_SSL_CLIENT),
				bad_cases[i].err_public);
		CU_ASSERT_EQUAL(chain_err(x, roots[1], X509_PURPOSE_SSL_CLIENT),
				bad_cases[i].err_enterprise);
		/* The SAN always names the host; only one kind lies in its CN. */
		CU_ASSERT(san_is(x, cname));
		CU_ASSERT(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
						    sizeof(cn)) > 0);
		CU_ASSERT_STRING_EQUAL(cn, kind == LABCA_BAD_CN_WRONG_SAN_RIGHT ?
				       "wrong.sip.aol.test" : cname);
		CU_ASSERT_EQUAL(X509_check_ca(x), 0);
		X509_free(x);
		EVP_PKEY_free(k);
	}

	/* A name whose good leaf is the enterprise's: signed by the enterprise root, and the
	 * public-signed kind is the wrong one for it. */
	CU_ASSERT_EQUAL(labca_make_bad(dir, LABCA_BAD_EXPIRED, "pool.contoso.test"), 0);
	x = crt_load(labca_bad_cert_path(dir, LABCA_BAD_EXPIRED, "pool.contoso.test", path,
					 sizeof(path)));
	CU_ASSERT(x && chain_err(x, roots[1], X509_PURPOSE_SSL_CLIENT) ==
		  X509_V_ERR_CERT_HAS_EXPIRED);
	X509_free(x);
	CU_ASSERT_EQUAL(labca_make_bad(dir, LABCA_BAD_PUBLIC_SIGNED, "pool.contoso.test"), 0);
	x = crt_load(labca_bad_cert_path(dir, LABCA_BAD_PUBLIC_SIGNED, "pool.contoso.test", path,
					 sizeof(path)));
	CU_ASSERT(x && chain_err(x, roots[1], X509_PURPOSE_SSL_CLIENT) ==
		  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	CU_ASSERT(x && chain_err(x, roots[0], X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
	X509_free(x);
	X509_free(roots[0]);
	X509_free(roots[1]);
	dir_remove(dir);
}

/* Bad leaves are cached like the good ones: a second call keeps the file, a missing key or a
 * remade root makes it again. */
static void test_labca_bad_reuse(void)
{
	char tmpl[] = "/tmp/test_labca.XXXXXX", path[512], *before, *after;
	const char *dir;
	size_t len0 = 0, len1 = 0;
	int kind;

	log_set_level(LOGL_WARN);
	dir = mkdtemp(tmpl);
	CU_ASSERT_FATAL(dir != NULL);
	for (kind = 0; kind < LABCA_BAD_NKINDS; kind++) {
		CU_ASSERT_EQUAL_FATAL(labca_make_bad(dir, kind, "ap.contoso.test"), 0);
		labca_bad_cert_path(dir, kind, "ap.contoso.test", path, sizeof(path));
		before = file_slurp(path, &len0);
		CU_ASSERT_EQUAL(labca_make_bad(dir, kind, "ap.contoso.test"), 0);
		after = file_slurp(path, &len1);
		CU_ASSERT(before && after && len0 == len1 && memcmp(before, after, len0) == 0);
		free(after);
		/* Without its key the certificate is useless: both are made again. */
		CU_ASSERT_EQUAL(unlink(labca_bad_key_path(dir, kind, "ap.contoso.test", path,
							  sizeof(path))), 0);
		CU_ASSERT_EQUAL(labca_make_bad(dir, kind, "ap.contoso.test"), 0);
		CU_ASSERT_EQUAL(access(path, R_OK), 0);
		after = file_slurp(labca_bad_cert_path(dir, kind, "ap.contoso.test", path,
						       sizeof(path)), &len1);
		CU_ASSERT(before && after && (len0 != len1 || memcmp(before, after, len0) != 0));
		free(before);
		free(after);
	}
	/* A root remade under it: the signed kinds follow. */
	CU_ASSERT_EQUAL(unlink(labca_root_path(dir, LABCA_PUBLIC, path, sizeof(path))), 0);
	labca_bad_cert_path(dir, LABCA_BAD_EXPIRED, "ap.contoso.test", path, sizeof(path));
	before = file_slurp(path, &len0);
	CU_ASSERT_EQUAL(labca_make_bad(dir, LABCA_BAD_EXPIRED, "ap.contoso.test"), 0);
	after = file_slurp(path, &len1);
	CU_ASSERT(before && after && (len0 != len1 || memcmp(before, after, len0) != 0));
	free(before);
	free(after);

	log_set_level(LOGL_NONE);
	CU_ASSERT_EQUAL(labca_make_bad(dir, LABCA_BAD_NKINDS, "ap.contoso.test"), EINVAL);
	CU_ASSERT_EQUAL(labca_make_bad(dir, LABCA_BAD_EXPIRED, "../evil"), EINVAL);
	CU_ASSERT_EQUAL(labca_make_bad(NULL, LABCA_BAD_EXPIRED, "x.test"), EINVAL);
	CU_ASSERT_EQUAL(labca_bad_parse("almost-expired", &(enum labca_bad){ 0 }), EINVAL);
	CU_ASSERT_PTR_NULL(labca_bad_name(LABCA_BAD_NKINDS));
	log_set_level(LOGL_WARN);
	dir_remove(dir);
}

static CU_TestInfo labca_tests[] = {
	{ "leaves chain to their root only, names and usages", test_labca_leaves },
	{ "second call reuses every file", test_labca_reuse },
	{ "bad names refused", test_labca_refuses },
	{ "bad leaves of every kind fail as named", test_labca_bad },
	{ "bad leaves are cached and remade when stale", test_labca_bad_reuse },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("labca", labca_tests)
