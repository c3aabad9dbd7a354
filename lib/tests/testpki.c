/* testpki: throw-away CA and leaf certificates for the lib tests, written to a temp folder. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/testpki.h"

EVP_PKEY *testpki_key(void)
{
	return EVP_EC_gen("P-256");
}

static int testpki_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : EINVAL;
}

X509 *testpki_cert(EVP_PKEY *key, const char *cn, const char *san, enum testpki_eku eku,
		   X509 *issuer, EVP_PKEY *ikey, bool ca)
{
	static long serial = 1;
	static const char *const ekus[] = { NULL, "serverAuth", "clientAuth",
					    "serverAuth,clientAuth" };
	X509 *c = X509_new();
	X509_NAME *name;
	char sanbuf[300];

	if (!c)
		return NULL;
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400);
	X509_set_pubkey(c, key);
	name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"PIClab test",
				   -1, -1, 0);
	if (cn)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					   -1, -1, 0);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	if (testpki_ext(c, issuer ? issuer : c, NID_basic_constraints,
			ca ? "critical,CA:TRUE" : "CA:FALSE") ||
	    testpki_ext(c, issuer ? issuer : c, NID_key_usage, ca ?
			"critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
	    testpki_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash"))
		goto err;
	if (issuer && testpki_ext(c, issuer, NID_authority_key_identifier, "keyid"))
		goto err;
	if (eku != TESTPKI_EKU_NONE && testpki_ext(c, c, NID_ext_key_usage, ekus[eku]))
		goto err;
	if (san) {
		snprintf(sanbuf, sizeof(sanbuf), "DNS:%s", san);
		if (testpki_ext(c, c, NID_subject_alt_name, sanbuf))
			goto err;
	}
	if (!X509_sign(c, ikey ? ikey : key, EVP_sha256()))
		goto err;
	return c;
err:
	X509_free(c);
	return NULL;
}

int testpki_write_cert(const char *path, X509 *cert)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return errno;
	ok = PEM_write_X509(f, cert);
	fclose(f);
	return ok ? 0 : EIO;
}

int testpki_write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return errno;
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return ok ? 0 : EIO;
}

int testpki_tmpdir(char *buf, size_t size)
{
	if (snprintf(buf, size, "/tmp/piclab-libtest-XXXXXX") >= (int)size)
		return EINVAL;
	return mkdtemp(buf) ? 0 : errno;
}

void testpki_rmdir(const char *dir)
{
	struct dirent *e;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
