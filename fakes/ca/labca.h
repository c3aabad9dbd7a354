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

/* Deliberately bad leaves, for the refusals a federation edge must make (TLS-002..005). Each is
 * made for a given name and is otherwise like the good leaf of that name (signed by the root
 * labca_default_leaves gives it, the public root for a name not listed there, both EKUs). */
enum labca_bad {
	LABCA_BAD_NO_CLIENT_AUTH = 0, /* EKU serverAuth only (TLS-004) */
	LABCA_BAD_CN_WRONG_SAN_RIGHT, /* CN "wrong.<cn>", SAN DNS:<cn> (TLS-003) */
	LABCA_BAD_EXPIRED,            /* notAfter a day ago (TLS-005) */
	LABCA_BAD_NOT_YET_VALID,      /* notBefore in thirty days (TLS-005) */
	LABCA_BAD_ENTERPRISE_SIGNED,  /* signed by the enterprise root (TLS-002) */
	LABCA_BAD_PUBLIC_SIGNED,      /* signed by the public root (TLS-002, inside) */
	LABCA_BAD_SELF_SIGNED,        /* its own issuer, no CA behind it */
	LABCA_BAD_WRONG_KEY_USAGE,    /* keyUsage dataEncipherment only: no TLS signature */
	LABCA_BAD_NKINDS
};

/* "no-client-auth", "cn-wrong-san-right", "expired", "not-yet-valid", "enterprise-signed",
 * "public-signed", "self-signed", "wrong-key-usage"; NULL for a kind out of range. */
const char *labca_bad_name(enum labca_bad kind);
/* The kind of a name above (EINVAL if none). */
int labca_bad_parse(const char *name, enum labca_bad *kindp);
/* Makes (or reuses while still right for its kind) <dir>/bad-<kind>-<cn>.crt and .key, and the
 * roots if they are missing. Returns 0 or an errno (EINVAL: bad kind or name). */
int labca_make_bad(const char *dir, enum labca_bad kind, const char *cn);
/* "<dir>/bad-<kind>-<cn>.crt" / ".key" into buf; return buf. */
char *labca_bad_cert_path(const char *dir, enum labca_bad kind, const char *cn, char *buf,
			  size_t size);
char *labca_bad_key_path(const char *dir, enum labca_bad kind, const char *cn, char *buf,
			 size_t size);

#endif
