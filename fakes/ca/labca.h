/* labca: the lab PKI — a public root, an enterprise root and leaves, made with the OpenSSL API. */
#ifndef PIC_LABCA_H
#define PIC_LABCA_H

#include <stdbool.h>
#include <stddef.h>

/* Which root signs a leaf. */
enum labca_root { LABCA_PUBLIC = 0, LABCA_ENTERPRISE };

/* One leaf to make. eku_server/eku_client select extendedKeyUsage serverAuth/clientAuth. */
struct labca_leaf {
	const char *cn;        /* subject CN, also the only dNSName SAN */
	enum labca_root root;
	bool eku_server;
	bool eku_client;
};

/* The default leaves of the lab: ap.contoso.test (public root, serverAuth+clientAuth),
 * ap-int.contoso.test and pool.contoso.test (enterprise root, both EKUs), sip.aol.test,
 * sip.yahoo.test, sip.msn.test (public root, both EKUs). Terminated by a zero entry. */
extern const struct labca_leaf labca_default_leaves[];

/* Makes (or reuses, if every file is already there and valid) the PKI in dir:
 *   public-root.crt/.key, enterprise-root.crt/.key,
 *   <cn>.crt (leaf followed by nothing else) and <cn>.key for each leaf.
 * leaves NULL means labca_default_leaves. Keys are EC P-256. Returns 0 or an errno and logs
 * what failed. Safe to call again with more leaves: existing files are kept. */
int labca_make(const char *dir, const struct labca_leaf *leaves);

/* Path helpers: "<dir>/<cn>.crt" etc. into buf; return buf. */
char *labca_cert_path(const char *dir, const char *cn, char *buf, size_t size);
char *labca_key_path(const char *dir, const char *cn, char *buf, size_t size);
char *labca_root_path(const char *dir, enum labca_root root, char *buf, size_t size);

#endif
