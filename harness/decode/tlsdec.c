/* tlsdec: TLS record protection undone with logged secrets — TLS 1.3 (RFC 8446 5.2, 7) and
 * TLS 1.2 AEAD suites (RFC 5288, RFC 7905), with OpenSSL EVP. */
#include <errno.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

enum tlsdec_aead {
	TLSDEC_AES128GCM = 0,
	TLSDEC_AES256GCM,
	TLSDEC_CHACHA,
};

struct tlsdec_suite {
	uint16_t id;
	int version;
	enum tlsdec_aead aead;
	const char *md;         /* the HKDF / PRF hash */
};

static const struct tlsdec_suite tlsdec_suites[] = {
	{ 0x1301, 0x0304, TLSDEC_AES128GCM, "SHA256" },
	{ 0x1302, 0x0304, TLSDEC_AES256GCM, "SHA384" },
	{ 0x1303, 0x0304, TLSDEC_CHACHA, "SHA256" },
	{ 0x009c, 0x0303, TLSDEC_AES128GCM, "SHA256" },  /* RSA */
	{ 0x009e, 0x0303, TLSDEC_AES128GCM, "SHA256" },  /* DHE-RSA */
	{ 0xc02b, 0x0303, TLSDEC_AES128GCM, "SHA256" },  /* ECDHE-ECDSA */
	{ 0xc02f, 0x0303, TLSDEC_AES128GCM, "SHA256" },  /* ECDHE-RSA */
	{ 0x009d, 0x0303, TLSDEC_AES256GCM, "SHA384" },
	{ 0x009f, 0x0303, TLSDEC_AES256GCM, "SHA384" },
	{ 0xc02c, 0x0303, TLSDEC_AES256GCM, "SHA384" },
	{ 0xc030, 0x0303, TLSDEC_AES256GCM, "SHA384" },
	{ 0xcca8, 0x0303, TLSDEC_CHACHA, "SHA256" },     /* ECDHE-RSA */
	{ 0xcca9, 0x0303, TLSDEC_CHACHA, "SHA256" },     /* ECDHE-ECDSA */
	{ 0xccaa, 0x0303, TLSDEC_CHACHA, "SHA256" },     /* DHE-RSA */
};

#define TLSDEC_TAG 16

static const struct tlsdec_suite *tlsdec_suite(uint16_t id, int version)
{
	size_t i;

	for (i = 0; i < sizeof(tlsdec_suites) / sizeof(tlsdec_suites[0]); i++) {
		if (tlsdec_suites[i].id == id && tlsdec_suites[i].version == version)
			return &tlsdec_suites[i];
	}
	return NULL;
}

bool tlsdec_suite_known(uint16_t suite, int version)
{
	return tlsdec_suite(suite, version) != NULL;
}

static size_t tlsdec_keylen(enum tlsdec_aead a)
{
	return a == TLSDEC_AES128GCM ? 16 : 32;
}

static const EVP_CIPHER *tlsdec_cipher(enum tlsdec_aead a)
{
	switch (a) {
	case TLSDEC_AES128GCM:
		return EVP_aes_128_gcm();
	case TLSDEC_AES256GCM:
		return EVP_aes_256_gcm();
	default:
		return EVP_chacha20_poly1305();
	}
}

void tlsdec_clear(struct cd_dir *d)
{
	EVP_CIPHER_CTX_free(d->cctx);
	d->cctx = NULL;
}

/* A fresh cipher context keyed once; each record only sets its nonce. */
static int tlsdec_key(struct cd_dir *d, enum tlsdec_aead a, const uint8_t *key)
{
	tlsdec_clear(d);
	d->cctx = EVP_CIPHER_CTX_new();
	if (!d->cctx)
		return ENOMEM;
	if (EVP_DecryptInit_ex(d->cctx, tlsdec_cipher(a), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->cctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 ||
	    EVP_DecryptInit_ex(d->cctx, NULL, NULL, key, NULL) != 1) {
		tlsdec_clear(d);
		return EPROTO;
	}
	return 0;
}

/* RFC 8446 7.1: HKDF-Expand-Label(Secret, Label, "", Length). */
static int tlsdec_expand_label(const char *md, const uint8_t *secret, size_t slen,
			       const char *label, uint8_t *out, size_t outlen)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t llen = strlen(label), ilen = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, err = 0;
	OSSL_PARAM params[5];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;

	if (6 + llen > 255)
		return EINVAL;
	info[ilen++] = (uint8_t)(outlen >> 8);
	info[ilen++] = (uint8_t)outlen;
	info[ilen++] = (uint8_t)(6 + llen);
	memcpy(info + ilen, "tls13 ", 6);
	ilen += 6;
	memcpy(info + ilen, label, llen);
	ilen += llen;
	info[ilen++] = 0;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, ilen);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
		err = EPROTO;
	EVP_KDF_CTX_free(kctx);
	return err;
}

/* RFC 8446 7.3: [sender]_write_key and _iv from a traffic secret; the sequence restarts. */
int tlsdec_tls13_install(struct cd_dir *d, uint16_t suite, const uint8_t *secret, size_t len)
{
	const struct tlsdec_suite *s = tlsdec_suite(suite, 0x0304);
	uint8_t key[32];
	int err;

	if (!s || len > sizeof(d->secret))
		return EINVAL;
	err = tlsdec_expand_label(s->md, secret, len, "key", key, tlsdec_keylen(s->aead));
	if (!err)
		err = tlsdec_expand_label(s->md, secret, len, "iv", d->iv, 12);
	if (!err)
		err = tlsdec_key(d, s->aead, key);
	if (err)
		return err;
	memmove(d->secret, secret, len);
	d->secret_len = len;
	d->seq = 0;
	return 0;
}

/* RFC 8446 7.2: application_traffic_secret_N+1 =
 *     HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length). */
int tlsdec_tls13_keyupdate(struct cd_dir *d, uint16_t suite)
{
	const struct tlsdec_suite *s = tlsdec_suite(suite, 0x0304);
	uint8_t next[64];
	int err;

	if (!s)
		return EINVAL;
	err = tlsdec_expand_label(s->md, d->secret, d->secret_len, "traffic upd", next,
				  d->secret_len);
	if (!err)
		err = tlsdec_tls13_install(d, suite, next, d->secret_len);
	return err;
}

/* RFC 5246 6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random);
 * AEAD suites have no MAC keys: client key, server key, client IV, server IV. */
int tlsdec_tls12_install(struct cd_flow *f, const uint8_t *master, size_t len)
{
	const struct tlsdec_suite *s = tlsdec_suite(f->suite, 0x0303);
	uint8_t seed[13 + 64], block[2 * 32 + 2 * 12];
	size_t klen, ivlen;
	OSSL_PARAM params[4];
	EVP_KDF_CTX *kctx;
	EVP_KDF *kdf;
	int err = 0, i;

	if (!s)
		return EINVAL;
	klen = tlsdec_keylen(s->aead);
	ivlen = s->aead == TLSDEC_CHACHA ? 12 : 4;      /* RFC 7905 2 vs RFC 5288 3 */
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, f->server_random, 32);
	memcpy(seed + 45, f->client_random, 32);
	kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)s->md, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master, len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, block, 2 * klen + 2 * ivlen, params) != 1)
		err = EPROTO;
	EVP_KDF_CTX_free(kctx);
	for (i = 0; i < 2 && !err; i++) {
		struct cd_dir *d = &f->dir[i];

		memset(d->iv, 0, sizeof(d->iv));
		memcpy(d->iv, block + 2 * klen + (size_t)i * ivlen, ivlen);
		err = tlsdec_key(d, s->aead, block + (size_t)i * klen);
	}
	return err;
}

static void tlsdec_nonce_xor(uint8_t nonce[12], uint64_t seq)
{
	int i;

	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
}

static int tlsdec_aead(struct cd_dir *d, const uint8_t *nonce, const uint8_t *aad, int aadlen,
		       const uint8_t *ct, size_t ctlen, const uint8_t *tag, uint8_t *out)
{
	int ol = 0, fl = 0;

	if (EVP_DecryptInit_ex(d->cctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(d->cctx, NULL, &ol, aad, aadlen) != 1 ||
	    EVP_DecryptUpdate(d->cctx, out, &ol, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(d->cctx, EVP_CTRL_AEAD_SET_TAG, TLSDEC_TAG, (void *)tag) != 1 ||
	    EVP_DecryptFinal_ex(d->cctx, out + ol, &fl) != 1)
		return EBADMSG;
	return 0;
}

int tlsdec_open(struct cd_dir *d, int version, const uint8_t *hdr, const uint8_t *body,
		size_t len, uint8_t *out, size_t *outlen, uint8_t *type)
{
	uint8_t nonce[12], aad[13];
	size_t ctlen;
	int err;

	if (!d->cctx || len < TLSDEC_TAG)
		return EBADMSG;
	memcpy(nonce, d->iv, 12);
	if (version == 0x0304) {
		/* RFC 8446 5.2/5.3: AAD is the record header, nonce is iv XOR seq. */
		ctlen = len - TLSDEC_TAG;
		tlsdec_nonce_xor(nonce, d->seq);
		err = tlsdec_aead(d, nonce, hdr, 5, body, ctlen, body + ctlen, out);
		if (err)
			return err;
		while (ctlen && out[ctlen - 1] == 0)    /* padding */
			ctlen--;
		if (!ctlen)
			return EBADMSG;
		*type = out[--ctlen];
		*outlen = ctlen;
		d->seq++;
		return 0;
	}
	/* RFC 5246 6.2.3.3: AAD = seq_num + type + version + length of the plaintext. */
	if (EVP_CIPHER_CTX_get_nid(d->cctx) == NID_chacha20_poly1305) {
		/* RFC 7905 2: no explicit nonce; iv XOR seq as in TLS 1.3. */
		ctlen = len - TLSDEC_TAG;
		tlsdec_nonce_xor(nonce, d->seq);
	} else {
		/* RFC 5288 3: 4-byte implicit salt + 8-byte explicit nonce in the record. */
		if (len < 8 + TLSDEC_TAG)
			return EBADMSG;
		memcpy(nonce + 4, body, 8);
		body += 8;
		ctlen = len - 8 - TLSDEC_TAG;
	}
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
	aad[8] = hdr[0];
	aad[9] = hdr[1];
	aad[10] = hdr[2];
	aad[11] = (uint8_t)(ctlen >> 8);
	aad[12] = (uint8_t)ctlen;
	err = tlsdec_aead(d, nonce, aad, 13, body, ctlen, body + ctlen, out);
	if (err)
		return err;
	*type = hdr[0];
	*outlen = ctlen;
	d->seq++;
	return 0;
}
