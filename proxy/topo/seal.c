/* seal: SIV-style sealing: IV = HMAC-SHA256(k_mac, plaintext)[0..16], AES-256-CTR(k_enc, IV).
 * Deterministic on purpose: the same Call-ID must map to the same token for a whole dialog. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/mem.h"
#include "base/log.h"
#include "seal.h"

#define LOG_MODULE "seal"

#define SEAL_IV 16
#define SEAL_MAX_IN 256

struct seal {
	unsigned char k_mac[32];
	unsigned char k_enc[32];
};

static void seal_destroy(void *data)
{
	OPENSSL_cleanse(data, sizeof(struct seal));
}

/* Two independent keys from one: HMAC(key, "mac") and HMAC(key, "enc"). */
static int seal_derive(struct seal *s, const unsigned char key[32])
{
	unsigned len = 32;

	if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)"mac", 3, s->k_mac, &len))
		return EIO;
	len = 32;
	if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)"enc", 3, s->k_enc, &len))
		return EIO;
	return 0;
}

int seal_alloc_key(struct seal **sp, const unsigned char key[32])
{
	struct seal *s;
	int err;

	if (!sp || !key)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), seal_destroy);
	if (!s)
		return ENOMEM;
	err = seal_derive(s, key);
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

int seal_alloc(struct seal **sp)
{
	unsigned char key[32];
	int err;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return EIO;
	err = seal_alloc_key(sp, key);
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}

static int seal_ctr(const struct seal *s, const unsigned char iv[SEAL_IV],
		    const unsigned char *in, size_t n, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ol = 0, ok;

	ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, s->k_enc, iv) &&
	     EVP_EncryptUpdate(c, out, &ol, in, (int)n) && (size_t)ol == n;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : EIO;
}

static int seal_siv(const struct seal *s, const unsigned char *in, size_t n,
		    unsigned char iv[SEAL_IV])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = sizeof(md);

	if (!HMAC(EVP_sha256(), s->k_mac, sizeof(s->k_mac), in, n, md, &mdlen) || mdlen < SEAL_IV)
		return EIO;
	memcpy(iv, md, SEAL_IV);
	return 0;
}

static void seal_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
}

static int seal_nib(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int seal_encode(const struct seal *s, const char *in, char *out, size_t size)
{
	unsigned char iv[SEAL_IV], ct[SEAL_MAX_IN];
	size_t n;
	int err;

	if (!s || !in || !out)
		return EINVAL;
	n = strlen(in);
	if (n > SEAL_MAX_IN)
		return EINVAL;
	if (size < 2 * (SEAL_IV + n) + 1)
		return ENOSPC;
	err = seal_siv(s, (const unsigned char *)in, n, iv);
	if (!err)
		err = seal_ctr(s, iv, (const unsigned char *)in, n, ct);
	if (err)
		return err;
	seal_hex(iv, SEAL_IV, out);
	seal_hex(ct, n, out + 2 * SEAL_IV);
	out[2 * (SEAL_IV + n)] = '\0';
	return 0;
}

int seal_decode(const struct seal *s, const char *token, size_t toklen, char *out, size_t size)
{
	unsigned char raw[SEAL_IV + SEAL_MAX_IN], pt[SEAL_MAX_IN], iv[SEAL_IV];
	size_t i, n;

	if (!s || !token || !out)
		return EINVAL;
	if (toklen % 2 || toklen < 2 * SEAL_IV || toklen > 2 * (SEAL_IV + SEAL_MAX_IN))
		return EBADMSG;
	for (i = 0; i < toklen / 2; i++) {
		int hi = seal_nib(token[2 * i]), lo = seal_nib(token[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return EBADMSG;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	n = toklen / 2 - SEAL_IV;
	if (size < n + 1)
		return ENOSPC;
	if (seal_ctr(s, raw, raw + SEAL_IV, n, pt) || seal_siv(s, pt, n, iv))
		return EIO;
	if (CRYPTO_memcmp(iv, raw, SEAL_IV) != 0 || memchr(pt, '\0', n))
		return EBADMSG;
	memcpy(out, pt, n);
	out[n] = '\0';
	return 0;
}
