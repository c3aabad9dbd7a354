/* testpki: throw-away CA and leaf certificates for the lib tests, written to a temp folder. */
#ifndef PIC_TESTPKI_H
#define PIC_TESTPKI_H

#include <stdbool.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

enum testpki_eku { TESTPKI_EKU_NONE = 0, TESTPKI_EKU_SERVER, TESTPKI_EKU_CLIENT, TESTPKI_EKU_BOTH };

/* A fresh P-256 key; NULL on failure. */
EVP_PKEY *testpki_key(void);
/* A certificate for key, signed by issuer/ikey (NULL, NULL: self-signed). cn NULL: no CN;
 * san NULL: no subjectAltName; ca marks basicConstraints CA:TRUE. */
X509 *testpki_cert(EVP_PKEY *key, const char *cn, const char *san, enum testpki_eku eku,
		   X509 *issuer, EVP_PKEY *ikey, bool ca);
int testpki_write_cert(const char *path, X509 *cert);
int testpki_write_key(const char *path, EVP_PKEY *key);
/* mkdtemp under /tmp into buf (size >= 32); 0 or errno. */
int testpki_tmpdir(char *buf, size_t size);
/* Removes the files of a flat folder and the folder. */
void testpki_rmdir(const char *dir);

#endif
