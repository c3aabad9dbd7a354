/* anonmap: the anonymizer's keyed, consistent pseudonyms. Each identifier gets its pseudonym from
 * HMAC-SHA256(key, kind || token), so the same capture and key always give the same output and
 * nobody without the key can go back; a host name is rewritten label by label (its top label
 * kept), so sip.aol.example and aol.example stay related. Hashed: every token of every message
 * is looked up. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/mem.h"
#include "anon_int.h"

struct anon_ent {
	struct anon_ent *next;
	enum anon_kind kind;
	size_t klen;
	char *key;
	char *val;
};

struct anonmap {
	uint8_t key[64];
	size_t keylen;
	struct anon_ent **tab;
	size_t size;
	size_t n;
	size_t count[ANON_NKINDS];
	struct anon_ent **used;          /* pseudonymous addresses handed out (no collisions) */
	size_t usize;
};

static uint64_t anon_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h;
}

static void anonmap_destroy(void *data)
{
	struct anonmap *m = data;
	size_t i;

	for (i = 0; i < m->size; i++) {
		while (m->tab[i]) {
			struct anon_ent *e = m->tab[i];

			m->tab[i] = e->next;
			free(e->key);
			free(e->val);
			free(e);
		}
	}
	for (i = 0; i < m->usize; i++) {
		while (m->used[i]) {
			struct anon_ent *e = m->used[i];

			m->used[i] = e->next;
			free(e->key);
			free(e);
		}
	}
	free(m->tab);
	free(m->used);
	OPENSSL_cleanse(m->key, sizeof(m->key));
}

int anonmap_alloc(struct anonmap **mp, const char *key, size_t keylen)
{
	struct anonmap *m;

	if (!mp || !key || !keylen)
		return EINVAL;
	m = mem_zalloc(sizeof(*m), anonmap_destroy);
	if (!m)
		return ENOMEM;
	/* a longer key is hashed down to the block (as HMAC itself would) */
	if (keylen > sizeof(m->key)) {
		unsigned int dl = 0;

		EVP_Digest(key, keylen, m->key, &dl, EVP_sha256(), NULL);
		m->keylen = dl;
	} else {
		memcpy(m->key, key, keylen);
		m->keylen = keylen;
	}
	m->size = 4096;
	m->usize = 1024;
	m->tab = calloc(m->size, sizeof(*m->tab));
	m->used = calloc(m->usize, sizeof(*m->used));
	if (!m->tab || !m->used) {
		mem_deref(m);
		return ENOMEM;
	}
	*mp = m;
	return 0;
}

static void anon_mac(const struct anonmap *m, const char *what, const char *s, size_t n,
		     uint8_t out[32])
{
	uint8_t buf[1100];
	size_t wl = strlen(what) + 1;
	unsigned int ol = 32;

	if (n > sizeof(buf) - wl)
		n = sizeof(buf) - wl;
	memcpy(buf, what, wl);
	memcpy(buf + wl, s, n);
	HMAC(EVP_sha256(), m->key, (int)m->keylen, buf, wl + n, out, &ol);
}

static void anon_hex(const uint8_t *b, size_t nbytes, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

static struct anon_ent *anonmap_lookup(const struct anonmap *m, const char *k, size_t n)
{
	struct anon_ent *e;

	for (e = m->tab[anon_hash(k, n) % m->size]; e; e = e->next)
		if (e->klen == n && !memcmp(e->key, k, n))
			return e;
	return NULL;
}

static int anonmap_grow(struct anonmap *m)
{
	size_t ns = m->size * 4, i;
	struct anon_ent **nt = calloc(ns, sizeof(*nt));

	if (!nt)
		return ENOMEM;
	for (i = 0; i < m->size; i++) {
		while (m->tab[i]) {
			struct anon_ent *e = m->tab[i];
			size_t h = anon_hash(e->key, e->klen) % ns;

			m->tab[i] = e->next;
			e->next = nt[h];
			nt[h] = e;
		}
	}
	free(m->tab);
	m->tab = nt;
	m->size = ns;
	return 0;
}

/* An address pseudonym not handed out before (true), else false (try the next counter). */
static bool anonmap_claim(struct anonmap *m, const char *v)
{
	size_t n = strlen(v), h = anon_hash(v, n) % m->usize;
	struct anon_ent *e;

	for (e = m->used[h]; e; e = e->next)
		if (!strcmp(e->key, v))
			return false;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = strdup(v))) {
		free(e);
		return true;
	}
	e->next = m->used[h];
	m->used[h] = e;
	return true;
}

static void anon_host(struct anonmap *m, const char *t, size_t n, char *out, size_t size)
{
	size_t i = 0, o = 0, last = n;
	bool top_kept;

	while (last > 0 && t[last - 1] != '.')
		last--;
	/* the top label stays when it looks like one (letters only, short): example, test, com */
	top_kept = last > 0 && n - last <= 7 && n > last;
	for (i = last; top_kept && i < n; i++)
		top_kept = isalpha((unsigned char)t[i]);
	out[0] = '\0';
	for (i = 0; i < n;) {
		size_t j = i;
		char lab[128];
		uint8_t mac[32];

		while (j < n && t[j] != '.')
			j++;
		if (top_kept && i == last) {
			snprintf(out + o, size - o, "%.*s", (int)(j - i), t + i);
		} else {
			size_t k, ll = j - i < sizeof(lab) ? j - i : sizeof(lab) - 1;

			for (k = 0; k < ll; k++)
				lab[k] = (char)tolower((unsigned char)t[i + k]);
			anon_mac(m, "label", lab, ll, mac);
			out[o] = 'h';
			anon_hex(mac, 3, out + o + 1);
			if (j < n)
				strcat(out + o, ".");
		}
		o = strlen(out);
		if (o + 16 >= size)
			break;
		i = j + 1;
	}
}

static void anon_make(struct anonmap *m, enum anon_kind kind, const char *t, size_t n, char *out,
		      size_t size)
{
	static const char *const what[ANON_NKINDS] = {
		"user", "host", "ip4", "ip6", "id", "branch", "name", "text",
	};
	uint8_t mac[32];
	size_t i, d;
	unsigned ctr;

	anon_mac(m, what[kind], t, n, mac);
	switch (kind) {
	case ANON_USER:
		for (i = 0, d = 0; i < n; i++)
			d += isdigit((unsigned char)t[i]) != 0;
		if (n && n < 30 && d == n - (t[0] == '+')) {
			/* a telephone number stays one, of the same length */
			for (i = 0; i < n; i++)
				out[i] = i == 0 && t[0] == '+' ? '+' : (char)('0' + mac[i % 32] % 10);
			out[n] = '\0';
			return;
		}
		out[0] = 'u';
		anon_hex(mac, 4, out + 1);
		return;
	case ANON_HOST:
		anon_host(m, t, n, out, size);
		return;
	case ANON_IP4:
		for (ctr = 0;; ctr++) {
			if (ctr)
				anon_mac(m, "ip4+", (const char *)mac, 32, mac);
			snprintf(out, size, "10.%u.%u.%u", mac[0], mac[1], 1 + mac[2] % 254);
			if (anonmap_claim(m, out) || ctr > 64)
				return;
		}
	case ANON_IP6:
		for (ctr = 0;; ctr++) {
			if (ctr)
				anon_mac(m, "ip6+", (const char *)mac, 32, mac);
			struct in6_addr a6;

			snprintf(out, size, "fd00:%02x%02x:%02x%02x::%02x%02x", mac[0], mac[1], mac[2],
				 mac[3], mac[4], mac[5] | 1);
			/* the canonical text (no leading zeros), as inet_ntop prints it back */
			if (inet_pton(AF_INET6, out, &a6) == 1)
				inet_ntop(AF_INET6, &a6, out, (socklen_t)size);
			if (anonmap_claim(m, out) || ctr > 64)
				return;
		}
	case ANON_ID:
		d = n < 8 ? 4 : n > 32 ? 16 : (n + 1) / 2;
		out[0] = 'i';
		anon_hex(mac, d, out + 1);
		return;
	case ANON_BRANCH:
		memcpy(out, "z9hG4bK", 7);
		anon_hex(mac, 8, out + 7);
		return;
	case ANON_NAME:
		out[0] = 'n';
		anon_hex(mac, 3, out + 1);
		return;
	default:
		out[0] = 'x';
		anon_hex(mac, 8, out + 1);
		return;
	}
}

const char *anonmap_put(struct anonmap *m, enum anon_kind kind, const char *token, size_t len)
{
	char val[300], low[600];
	const char *key = token;
	struct anon_ent *e;
	size_t h, i;

	if (!m || !len)
		return NULL;
	if (kind == ANON_HOST || kind == ANON_IP6) {
		if (len >= sizeof(low))
			return NULL;
		for (i = 0; i < len; i++)
			low[i] = (char)tolower((unsigned char)token[i]);
		low[len] = '\0';
		key = low;
	}
	if (kind == ANON_IP6) {
		/* one address, one pseudonym, however it was written */
		struct in6_addr a6;

		if (inet_pton(AF_INET6, low, &a6) == 1 && inet_ntop(AF_INET6, &a6, low, sizeof(low)))
			len = strlen(low);
	}
	e = anonmap_lookup(m, key, len);
	if (e)
		return e->val;
	if (m->n > m->size * 2 && anonmap_grow(m))
		return NULL;
	anon_make(m, kind, key, len, val, sizeof(val));
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = malloc(len + 1);
	e->val = strdup(val);
	if (!e->key || !e->val) {
		free(e->key);
		free(e->val);
		free(e);
		return NULL;
	}
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->klen = len;
	e->kind = kind;
	h = anon_hash(key, len) % m->size;
	e->next = m->tab[h];
	m->tab[h] = e;
	m->n++;
	m->count[kind]++;
	return e->val;
}

const char *anonmap_find(struct anonmap *m, const char *token, size_t len)
{
	struct anon_ent *e;
	char low[600];
	size_t i;
	bool alpha = false;

	if (!m || !len || len >= sizeof(low))
		return NULL;
	e = anonmap_lookup(m, token, len);
	if (e)
		return e->val;
	for (i = 0; i < len; i++) {
		low[i] = (char)tolower((unsigned char)token[i]);
		alpha |= isalpha((unsigned char)token[i]) != 0;
	}
	e = anonmap_lookup(m, low, len);
	if (e)
		return e->val;
	/* a host under a known domain (ap.contoso.example when contoso.example is known) */
	for (i = 1; alpha && i < len; i++) {
		if (low[i - 1] != '.')
			continue;
		e = anonmap_lookup(m, low + i, len - i);
		if (e && e->kind == ANON_HOST && memchr(low + i, '.', len - i))
			return anonmap_put(m, ANON_HOST, low, len);
	}
	return NULL;
}

size_t anonmap_count(const struct anonmap *m, enum anon_kind kind)
{
	return m && kind < ANON_NKINDS ? m->count[kind] : 0;
}
