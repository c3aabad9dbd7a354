/* labca: the lab PKI (two roots and their leaves) made once per directory and then reused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/log.h"
#include "../ca/labca.h"

#define LOG_MODULE "labca"

/* Certificates live two years; a file expiring within a day is remade rather than reused, so a
 * run never starts with a certificate that dies half way through it. */
#define LABCA_VALID_DAYS 730
#define LABCA_RENEW_SECS (24 * 3600)
#define LABCA_BACKDATE_SECS 3600
#define LABCA_ORG "PIClab lab"

const struct labca_leaf labca_default_leaves[] = {
	{ "ap.contoso.test", LABCA_PUBLIC, true, true },
	{ "ap-int.contoso.test", LABCA_ENTERPRISE, true, true },
	{ "pool.contoso.test", LABCA_ENTERPRISE, true, true },
	{ "sip.aol.test", LABCA_PUBLIC, true, true },
	{ "sip.yahoo.test", LABCA_PUBLIC, true, true },
	{ "sip.msn.test", LABCA_PUBLIC, true, true },
	{ NULL, 0, false, false },
};

static const char *const labca_root_file[] = { "public-root", "enterprise-root" };
static const char *const labca_root_cn[] = { "PIClab Public Root CA",
					     "PIClab Enterprise Root CA" };

struct labca_root_pair {
	X509 *crt;
	EVP_PKEY *key;
	bool fresh; /* made in this call: every leaf it signs must be remade too */
};

char *labca_cert_path(const char *dir, const char *cn, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.crt", dir, cn);
	return buf;
}

char *labca_key_path(const char *dir, const char *cn, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.key", dir, cn);
	return buf;
}

char *labca_root_path(const char *dir, enum labca_root root, char *buf, size_t size)
{
	return labca_cert_path(dir, labca_root_file[root == LABCA_ENTERPRISE], buf, size);
}

/* Logs the OpenSSL error queue under what we were doing, and empties it; OpenSSL failures all
 * become EPROTO here, the one place they are translated. */
static int ossl_fail(const char *what)
{
	unsigned long e;
	char msg[256];

	e = ERR_get_error();
	if (e) {
		ERR_error_string_n(e, msg, sizeof(msg));
		log_error("%s: %s", what, msg);
	} else {
		log_error("%s failed", what);
	}
	ERR_clear_error();
	return EPROTO;
}

/* A CN becomes a file name: refuse anything that could leave the directory or hide a file. */
static bool cn_ok(const char *cn)
{
	return cn && *cn && cn[0] != '.' && !strchr(cn, '/') && strlen(cn) < 200;
}

static X509 *crt_read(const char *path)
{
	X509 *x = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	return x;
}

/* The decoder is told exactly what the file holds (PEM, PKCS#8, EC): asking OpenSSL 3 to guess
 * costs four times as long, and key reading is most of what a cached call does. */
static EVP_PKEY *key_read(const char *path)
{
	OSSL_DECODER_CTX *dc;
	EVP_PKEY *k = NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	dc = OSSL_DECODER_CTX_new_for_pkey(&k, "PEM", "PrivateKeyInfo", "EC",
					   OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
	if (!dc || !OSSL_DECODER_from_fp(dc, f)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	OSSL_DECODER_CTX_free(dc);
	fclose(f);
	ERR_clear_error();
	return k;
}

/* Writes through a temporary file in the same directory and renames it into place, so a reader
 * (another lab starting at the same moment) sees the old file or the new one, never half. */
static int file_write(const char *path, X509 *crt, EVP_PKEY *key)
{
	char tmp[4096];
	FILE *f = NULL;
	int fd, err = 0, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >= sizeof(tmp))
		return ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		log_error("%s: %s", tmp, strerror(err));
		return err;
	}
	/* Keys are secrets even in a lab: 0600. Certificates are public: 0644. */
	if (fchmod(fd, key ? 0600 : 0644) < 0 || !(f = fdopen(fd, "w"))) {
		err = errno;
		close(fd);
		goto out;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, crt);
	if (fclose(f) != 0 && !err)
		err = errno;
	if (!ok)
		err = ossl_fail(path);
	if (!err && rename(tmp, path) < 0)
		err = errno;
out:
	if (err) {
		log_error("cannot write %s: %s", path, strerror(err));
		unlink(tmp);
	}
	return err;
}

static int name_add(X509_NAME *n, const char *field, const char *val)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)val, -1,
					  -1, 0) ? 0 : EINVAL;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return ossl_fail(value);
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ossl_fail("X509_add_ext");
}

/* A random positive 159-bit serial (RFC 5280 4.1.2.2: at most 20 octets, positive). */
static int serial_set(X509 *x)
{
	BIGNUM *bn = BN_new();
	int err = 0;

	if (!bn || !BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		err = ossl_fail("serial");
	BN_free(bn);
	return err;
}

/* What one certificate says: its names, validity window and usages. */
struct crt_spec {
	const char *cn;
	const char *san;  /* the only dNSName SAN; NULL: none (roots) */
	bool ca;
	const char *ku;   /* keyUsage */
	char eku[64];     /* extendedKeyUsage; "": none */
	long not_before;  /* seconds from now */
	long not_after;
};

#define LABCA_LEAF_KU "critical,digitalSignature,keyEncipherment"

/* The spec of a good leaf. RFC 6125 6.4.4: names are checked against the SAN, so the CN is
 * repeated there. */
static void spec_leaf(struct crt_spec *sp, const char *cn, bool server, bool client)
{
	memset(sp, 0, sizeof(*sp));
	sp->cn = cn;
	sp->san = cn;
	sp->ku = LABCA_LEAF_KU;
	snprintf(sp->eku, sizeof(sp->eku), "%s%s%s", server ? "serverAuth" : "",
		 server && client ? "," : "", client ? "clientAuth" : "");
	sp->not_before = -LABCA_BACKDATE_SECS;
	sp->not_after = (long)LABCA_VALID_DAYS * 24 * 3600;
}

static void spec_root(struct crt_spec *sp, const char *cn)
{
	memset(sp, 0, sizeof(*sp));
	sp->cn = cn;
	sp->ca = true;
	sp->ku = "critical,keyCertSign,cRLSign";
	sp->not_before = -LABCA_BACKDATE_SECS;
	sp->not_after = (long)LABCA_VALID_DAYS * 24 * 3600;
}

/* Builds and signs one certificate. issuer NULL means self-signed (a root, or a bad leaf). */
static int crt_make(X509 **xp, EVP_PKEY *key, const struct crt_spec *sp, X509 *issuer,
		    EVP_PKEY *issuer_key)
{
	X509V3_CTX ctx;
	X509_NAME *name;
	X509 *x = X509_new();
	char buf[512];
	int err = 0;

	if (!x)
		return ENOMEM;
	if (!X509_set_version(x, X509_VERSION_3) || (err = serial_set(x)) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, sp->not_before, NULL) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), 0, sp->not_after, NULL) ||
	    !X509_set_pubkey(x, key)) {
		err = err ? err : ossl_fail("certificate fields");
		goto out;
	}
	name = X509_get_subject_name(x);
	if ((err = name_add(name, "CN", sp->cn)) || (err = name_add(name, "O", LABCA_ORG)))
		goto out;
	if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name)) {
		err = ossl_fail("issuer name");
		goto out;
	}
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	/* RFC 5280 4.2.1.9 and 4.2.1.3: roots sign certificates, leaves only do TLS. */
	if ((err = ext_add(x, &ctx, NID_basic_constraints, sp->ca ? "critical,CA:TRUE" :
			   "critical,CA:FALSE")) ||
	    (err = ext_add(x, &ctx, NID_key_usage, sp->ku)) ||
	    (err = ext_add(x, &ctx, NID_subject_key_identifier, "hash")) ||
	    (issuer && (err = ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always"))) ||
	    (sp->eku[0] && (err = ext_add(x, &ctx, NID_ext_key_usage, sp->eku))))
		goto out;
	if (sp->san) {
		snprintf(buf, sizeof(buf), "DNS:%s", sp->san);
		if ((err = ext_add(x, &ctx, NID_subject_alt_name, buf)))
			goto out;
	}
	if (!X509_sign(x, issuer ? issuer_key : key, EVP_sha256()))
		err = ossl_fail("X509_sign");
out:
	if (err)
		X509_free(x);
	else
		*xp = x;
	return err;
}

/* Makes a key and its certificate and writes both (key first, so a certificate on disk always
 * has its key beside it). root NULL: self-signed. */
static int pair_make(const char *dir, const char *file, const struct crt_spec *sp,
		     const struct labca_root_pair *root, X509 **crtp, EVP_PKEY **keyp)
{
	char path[4096];
	EVP_PKEY *key;
	X509 *x = NULL;
	int err;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!key)
		return ossl_fail("EC P-256 key generation");
	err = crt_make(&x, key, sp, root ? root->crt : NULL, root ? root->key : NULL);
	if (err)
		goto out;
	if ((err = file_write(labca_key_path(dir, file, path, sizeof(path)), NULL, key)) ||
	    (err = file_write(labca_cert_path(dir, file, path, sizeof(path)), x, NULL)))
		goto out;
	log_debug("made %s/%s.crt", dir, file);
out:
	if (err || !crtp)
		X509_free(x);
	else
		*crtp = x;
	if (err || !keyp)
		EVP_PKEY_free(key);
	else
		*keyp = key;
	return err;
}

/* True if x is still valid a day from now. */
static bool crt_lasts(X509 *x)
{
	time_t later = time(NULL) + LABCA_RENEW_SECS;

	return X509_cmp_time(X509_get0_notAfter(x), &later) > 0;
}

/* Loads a root, or makes it when a file is missing, broken, expiring or does not match its key. */
static int root_get(const char *dir, enum labca_root r, struct labca_root_pair *rp)
{
	const char *file = labca_root_file[r];
	struct crt_spec sp;
	char path[4096];

	rp->crt = crt_read(labca_cert_path(dir, file, path, sizeof(path)));
	rp->key = key_read(labca_key_path(dir, file, path, sizeof(path)));
	if (rp->crt && rp->key && crt_lasts(rp->crt) && X509_check_private_key(rp->crt, rp->key) &&
	    X509_check_ca(rp->crt) && X509_verify(rp->crt, rp->key) == 1)
		return 0;
	ERR_clear_error();
	X509_free(rp->crt);
	EVP_PKEY_free(rp->key);
	rp->crt = NULL;
	rp->key = NULL;
	rp->fresh = true;
	log_info("making %s root in %s", r == LABCA_PUBLIC ? "public" : "enterprise", dir);
	spec_root(&sp, labca_root_cn[r]);
	return pair_make(dir, file, &sp, NULL, &rp->crt, &rp->key);
}

/* A leaf on disk is kept when it is signed by its root, lasts, matches its key and carries the
 * extended key usages asked for. */
static bool leaf_reusable(const char *dir, const struct labca_leaf *l,
			  const struct labca_root_pair *root)
{
	char path[4096];
	EVP_PKEY *pub, *key = NULL;
	X509 *x = NULL;
	uint32_t xku;
	bool ok = false;

	if (root->fresh)
		return false;
	x = crt_read(labca_cert_path(dir, l->cn, path, sizeof(path)));
	if (!x || !crt_lasts(x))
		goto out;
	pub = X509_get0_pubkey(root->crt);
	if (!pub || X509_verify(x, pub) != 1 ||
	    X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(root->crt)) != 0)
		goto out;
	xku = X509_get_extended_key_usage(x);
	if (!!(xku & XKU_SSL_SERVER) != l->eku_server || !!(xku & XKU_SSL_CLIENT) != l->eku_client)
		goto out;
	key = key_read(labca_key_path(dir, l->cn, path, sizeof(path)));
	ok = key && X509_check_private_key(x, key);
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(x);
	return ok;
}

/* Serialises makers of one directory across processes: two labs booting together must not end
 * up with leaves signed by a root the other one overwrote. */
static int dir_lock(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.labca.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/* Creates dir if needed, takes its lock (*lockfdp, -1 if not taken) and loads or makes both
 * roots; an error after the lock leaves it held for the caller to release. */
static int pki_open(const char *dir, struct labca_root_pair roots[2], int *lockfdp)
{
	int err;

	*lockfdp = -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err = errno;
		log_error("%s: %s", dir, strerror(err));
		return err;
	}
	*lockfdp = dir_lock(dir);
	if (*lockfdp < 0) {
		log_error("%s: cannot lock: %s", dir, strerror(-*lockfdp));
		return -*lockfdp;
	}
	err = root_get(dir, LABCA_PUBLIC, &roots[0]);
	return err ? err : root_get(dir, LABCA_ENTERPRISE, &roots[1]);
}

int labca_make(const char *dir, const struct labca_leaf *leaves)
{
	struct labca_root_pair roots[2] = { { 0 } };
	const struct labca_leaf *l;
	int err = 0, lockfd, made = 0;

	if (!dir || !*dir)
		return EINVAL;
	if (!leaves)
		leaves = labca_default_leaves;
	for (l = leaves; l->cn; l++) {
		if (!cn_ok(l->cn) || (l->root != LABCA_PUBLIC && l->root != LABCA_ENTERPRISE)) {
			log_error("bad leaf name \"%s\"", l->cn);
			return EINVAL;
		}
	}
	err = pki_open(dir, roots, &lockfd);
	if (lockfd < 0)
		return err;
	if (err)
		goto out;
	for (l = leaves; l->cn; l++) {
		const struct labca_root_pair *rp = &roots[l->root == LABCA_ENTERPRISE];
		struct crt_spec sp;

		if (leaf_reusable(dir, l, rp))
			continue;
		spec_leaf(&sp, l->cn, l->eku_server, l->eku_client);
		err = pair_make(dir, l->cn, &sp, rp, NULL, NULL);
		if (err)
			goto out;
		made++;
	}
	if (made || roots[0].fresh || roots[1].fresh)
		log_info("%s: %d leaves made", dir, made);
out:
	close(lockfd);
	for (int i = 0; i < 2; i++) {
		X509_free(roots[i].crt);
		EVP_PKEY_free(roots[i].key);
	}
	return err;
}

/* ---- bad leaves on demand ---- */

static const char *const labca_bad_names[LABCA_BAD_NKINDS] = {
	[LABCA_BAD_NO_CLIENT_AUTH] = "no-client-auth",
	[LABCA_BAD_CN_WRONG_SAN_RIGHT] = "cn-wrong-san-right",
	[LABCA_BAD_EXPIRED] = "expired",
	[LABCA_BAD_NOT_YET_VALID] = "not-yet-valid",
	[LABCA_BAD_ENTERPRISE_SIGNED] = "enterprise-signed",
	[LABCA_BAD_PUBLIC_SIGNED] = "public-signed",
	[LABCA_BAD_SELF_SIGNED] = "self-signed",
	[LABCA_BAD_WRONG_KEY_USAGE] = "wrong-key-usage",
};

#define LABCA_DAY (24L * 3600)

const char *labca_bad_name(enum labca_bad kind)
{
	return (unsigned)kind < LABCA_BAD_NKINDS ? labca_bad_names[kind] : NULL;
}

int labca_bad_parse(const char *name, enum labca_bad *kindp)
{
	unsigned k;

	if (!name || !kindp)
		return EINVAL;
	for (k = 0; k < LABCA_BAD_NKINDS; k++) {
		if (strcmp(name, labca_bad_names[k]) == 0) {
			*kindp = (enum labca_bad)k;
			return 0;
		}
	}
	return EINVAL;
}

static char *bad_file(enum labca_bad kind, const char *cn, char *buf, size_t size)
{
	snprintf(buf, size, "bad-%s-%s", labca_bad_name(kind), cn);
	return buf;
}

char *labca_bad_cert_path(const char *dir, enum labca_bad kind, const char *cn, char *buf,
			  size_t size)
{
	char file[300];

	return labca_cert_path(dir, bad_file(kind, cn, file, sizeof(file)), buf, size);
}

char *labca_bad_key_path(const char *dir, enum labca_bad kind, const char *cn, char *buf,
			 size_t size)
{
	char file[300];

	return labca_key_path(dir, bad_file(kind, cn, file, sizeof(file)), buf, size);
}

/* The root the good leaf of that name has; the public one for a name the lab does not know. */
static enum labca_root bad_home_root(const char *cn)
{
	const struct labca_leaf *l;

	for (l = labca_default_leaves; l->cn; l++)
		if (strcasecmp(l->cn, cn) == 0)
			return l->root;
	return LABCA_PUBLIC;
}

/* The certificate a kind stands for, and who signs it: 0 public root, 1 enterprise root, -1
 * itself. wrong holds the CN of LABCA_BAD_CN_WRONG_SAN_RIGHT. */
static int bad_spec(enum labca_bad kind, const char *cn, struct crt_spec *sp, char *wrong,
		    size_t wsz)
{
	int signer = bad_home_root(cn) == LABCA_ENTERPRISE;

	spec_leaf(sp, cn, true, true);
	switch (kind) {
	case LABCA_BAD_NO_CLIENT_AUTH:
		snprintf(sp->eku, sizeof(sp->eku), "serverAuth");
		break;
	case LABCA_BAD_CN_WRONG_SAN_RIGHT:
		snprintf(wrong, wsz, "wrong.%s", cn);
		sp->cn = wrong;
		break;
	case LABCA_BAD_EXPIRED: /* RFC 5280 4.1.2.5: outside notBefore..notAfter */
		sp->not_before = -30 * LABCA_DAY;
		sp->not_after = -LABCA_DAY;
		break;
	case LABCA_BAD_NOT_YET_VALID:
		sp->not_before = 30 * LABCA_DAY;
		sp->not_after = 60 * LABCA_DAY;
		break;
	case LABCA_BAD_ENTERPRISE_SIGNED:
		signer = 1;
		break;
	case LABCA_BAD_PUBLIC_SIGNED:
		signer = 0;
		break;
	case LABCA_BAD_SELF_SIGNED:
		signer = -1;
		break;
	case LABCA_BAD_WRONG_KEY_USAGE:
		/* RFC 5280 4.2.1.3: a TLS peer signs the handshake; this key may not. */
		sp->ku = "critical,dataEncipherment";
		break;
	default:
		break;
	}
	return signer;
}

/* A bad leaf on disk is kept while its signer still stands behind it, it matches its key and
 * its dates still make it the kind it is named for. */
static bool bad_reusable(const char *dir, enum labca_bad kind, const char *cn,
			 const struct labca_root_pair *signer)
{
	time_t now = time(NULL), later = now + LABCA_RENEW_SECS;
	char path[4096];
	EVP_PKEY *key = NULL, *pub;
	X509 *x;
	bool ok = false;

	if (signer && signer->fresh)
		return false;
	x = crt_read(labca_bad_cert_path(dir, kind, cn, path, sizeof(path)));
	if (!x)
		goto out;
	pub = X509_get0_pubkey(signer ? signer->crt : x);
	if (!pub || X509_verify(x, pub) != 1)
		goto out;
	if (kind == LABCA_BAD_EXPIRED ? X509_cmp_time(X509_get0_notAfter(x), &now) >= 0 :
	    kind == LABCA_BAD_NOT_YET_VALID ? X509_cmp_time(X509_get0_notBefore(x), &later) <= 0 :
	    !crt_lasts(x))
		goto out;
	key = key_read(labca_bad_key_path(dir, kind, cn, path, sizeof(path)));
	ok = key && X509_check_private_key(x, key);
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(x);
	return ok;
}

int labca_make_bad(const char *dir, enum labca_bad kind, const char *cn)
{
	struct labca_root_pair roots[2] = { { 0 } }, *signer;
	struct crt_spec sp;
	char wrong[300], file[300];
	int err, lockfd, who;

	if (!dir || !*dir || (unsigned)kind >= LABCA_BAD_NKINDS || !cn_ok(cn))
		return EINVAL;
	err = pki_open(dir, roots, &lockfd);
	if (lockfd < 0)
		return err;
	if (err)
		goto out;
	who = bad_spec(kind, cn, &sp, wrong, sizeof(wrong));
	signer = who < 0 ? NULL : &roots[who];
	if (bad_reusable(dir, kind, cn, signer))
		goto out;
	err = pair_make(dir, bad_file(kind, cn, file, sizeof(file)), &sp, signer, NULL, NULL);
	if (!err)
		log_info("%s: made the %s leaf for %s", dir, labca_bad_name(kind), cn);
out:
	close(lockfd);
	for (int i = 0; i < 2; i++) {
		X509_free(roots[i].crt);
		EVP_PKEY_free(roots[i].key);
	}
	return err;
}
