/* certcache: the parsed certificates peers send, shared by the connections of one TLS context.
 *
 * A federation edge sees few peers, each opening many connections with the same certificate
 * (and often the same chain, even the root). OpenSSL 3 parses each of them again on every
 * handshake and keeps the parses for the life of the connection (the session's peer and
 * peer_chain, the verified chain): about 5 kB per certificate per connection. Certificates are
 * matched by their whole DER encoding, never by a digest alone, so a shared object is the very
 * certificate the peer sent; verification runs on it as on a fresh parse. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>

#include "base/mem.h"
#include "net/certcache.h"

struct certcache_entry {
	X509 *x;             /* one reference held by the cache */
	unsigned char *der;  /* its encoding (OPENSSL_malloc) */
	int len;
	uint64_t hash;       /* FNV-1a of der: a cheap first test, never the match itself */
	uint64_t used;       /* tick of the last hit or insertion */
};

struct certcache {
	pthread_mutex_t lock; /* contexts may be shared by threads (the harness runs some) */
	struct certcache_entry *e;
	unsigned n, max;
	uint64_t tick;
};

static void certcache_destroy(void *data)
{
	struct certcache *cc = data;
	unsigned i;

	for (i = 0; i < cc->n; i++) {
		X509_free(cc->e[i].x);
		OPENSSL_free(cc->e[i].der);
	}
	mem_deref(cc->e);
	pthread_mutex_destroy(&cc->lock);
}

int certcache_alloc(struct certcache **ccp, unsigned max)
{
	struct certcache *cc;

	if (!ccp || !max)
		return EINVAL;
	cc = mem_zalloc(sizeof(*cc), certcache_destroy);
	if (!cc)
		return ENOMEM;
	pthread_mutex_init(&cc->lock, NULL);
	cc->e = mem_zalloc(max * sizeof(*cc->e), NULL);
	if (!cc->e) {
		mem_deref(cc);
		return ENOMEM;
	}
	cc->max = max;
	*ccp = cc;
	return 0;
}

static uint64_t certcache_hash(const unsigned char *p, int len)
{
	uint64_t h = 14695981039346656037ULL;
	int i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* The cached certificate with exactly this encoding, or NULL. Called with the lock held. */
static struct certcache_entry *certcache_find(struct certcache *cc, const unsigned char *der,
					      int len, uint64_t hash)
{
	unsigned i;

	for (i = 0; i < cc->n; i++) {
		struct certcache_entry *e = &cc->e[i];

		if (e->hash == hash && e->len == len && memcmp(e->der, der, (size_t)len) == 0)
			return e;
	}
	return NULL;
}

unsigned certcache_share(struct certcache *cc, X509_STORE_CTX *sctx)
{
	STACK_OF(X509) *sk = sctx ? X509_STORE_CTX_get0_untrusted(sctx) : NULL;
	X509 *target = sctx ? X509_STORE_CTX_get0_cert(sctx) : NULL;
	unsigned shared = 0;
	int i;

	if (!cc || !sk)
		return 0;
	pthread_mutex_lock(&cc->lock);
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		unsigned char *der = NULL;
		struct certcache_entry *e;
		int len = i2d_X509(x, &der);

		if (len <= 0)
			continue;
		e = certcache_find(cc, der, len, certcache_hash(der, len));
		OPENSSL_free(der);
		if (!e || e->x == x || !X509_up_ref(e->x))
			continue;
		e->used = ++cc->tick;
		/* the stack owned our parse's reference; it now owns one of the shared object */
		sk_X509_set(sk, i, e->x);
		if (x == target)
			X509_STORE_CTX_set_cert(sctx, e->x);
		X509_free(x);
		shared++;
	}
	pthread_mutex_unlock(&cc->lock);
	return shared;
}

/* Room for one more: the least recently used entry goes (its holders keep their references). */
static struct certcache_entry *certcache_slot(struct certcache *cc)
{
	struct certcache_entry *old;
	unsigned i;

	if (cc->n < cc->max)
		return &cc->e[cc->n++];
	old = &cc->e[0];
	for (i = 1; i < cc->n; i++)
		if (cc->e[i].used < old->used)
			old = &cc->e[i];
	X509_free(old->x);
	OPENSSL_free(old->der);
	memset(old, 0, sizeof(*old));
	return old;
}

void certcache_learn(struct certcache *cc, X509_STORE_CTX *sctx)
{
	STACK_OF(X509) *sk = sctx ? X509_STORE_CTX_get0_untrusted(sctx) : NULL;
	int i;

	if (!cc || !sk)
		return;
	pthread_mutex_lock(&cc->lock);
	for (i = 0; i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);
		unsigned char *der = NULL;
		struct certcache_entry *e;
		uint64_t hash;
		int len = i2d_X509(x, &der);

		if (len <= 0)
			continue;
		hash = certcache_hash(der, len);
		if (certcache_find(cc, der, len, hash) || !X509_up_ref(x)) {
			OPENSSL_free(der);
			continue;
		}
		e = certcache_slot(cc);
		e->x = x;
		e->der = der;
		e->len = len;
		e->hash = hash;
		e->used = ++cc->tick;
	}
	pthread_mutex_unlock(&cc->lock);
}

unsigned certcache_count(const struct certcache *cc)
{
	return cc ? cc->n : 0;
}
