/* hmap: an intrusive chained hash table with string keys, growing by doubling. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "hmap.h"

#define LOG_MODULE "hmap"

struct hmap {
	struct hmap_le **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	bool nocase;
};

static void hmap_destroy(void *data)
{
	struct hmap *m = data;

	free(m->buckets);
}

/* FNV-1a: cheap and good enough for keys that carry their own randomness (branches). */
static uint32_t hmap_hash(const struct hmap *m, const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;

		if (m->nocase && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

int hmap_alloc(struct hmap **mp, size_t nbuckets)
{
	struct hmap *m;
	size_t n = 16;

	if (!mp)
		return EINVAL;
	while (n < nbuckets && n < ((size_t)1 << 30))
		n <<= 1;
	m = mem_zalloc(sizeof(*m), hmap_destroy);
	if (!m)
		return ENOMEM;
	m->buckets = calloc(n, sizeof(*m->buckets));
	if (!m->buckets) {
		mem_deref(m);
		return ENOMEM;
	}
	m->nbuckets = n;
	*mp = m;
	return 0;
}

void hmap_set_nocase(struct hmap *m)
{
	if (m)
		m->nocase = true;
}

static void hmap_link(struct hmap *m, struct hmap_le *le)
{
	struct hmap_le **head = &m->buckets[le->hash & (m->nbuckets - 1)];

	le->next = *head;
	if (*head)
		(*head)->pprev = &le->next;
	le->pprev = head;
	*head = le;
}

/* Doubling keeps chains short; a failed grow only costs speed, never correctness. */
static void hmap_grow(struct hmap *m)
{
	struct hmap_le **old = m->buckets;
	size_t oldn = m->nbuckets, i;
	struct hmap_le **nb = calloc(oldn * 2, sizeof(*nb));

	if (!nb)
		return;
	m->buckets = nb;
	m->nbuckets = oldn * 2;
	for (i = 0; i < oldn; i++) {
		struct hmap_le *le = old[i], *next;

		for (; le; le = next) {
			next = le->next;
			hmap_link(m, le);
		}
	}
	free(old);
}

int hmap_insert(struct hmap *m, struct hmap_le *le, const char *key, void *data)
{
	if (!m || !le || !key)
		return EINVAL;
	if (m->count >= m->nbuckets * 2)
		hmap_grow(m);
	le->hash = hmap_hash(m, key);
	le->key = key;
	le->data = data;
	hmap_link(m, le);
	m->count++;
	return 0;
}

void hmap_unlink(struct hmap *m, struct hmap_le *le)
{
	if (!m || !le || !le->pprev)
		return;
	*le->pprev = le->next;
	if (le->next)
		le->next->pprev = le->pprev;
	le->next = NULL;
	le->pprev = NULL;
	m->count--;
}

void *hmap_find(const struct hmap *m, const char *key)
{
	const struct hmap_le *le;
	uint32_t h;

	if (!m || !key)
		return NULL;
	h = hmap_hash(m, key);
	for (le = m->buckets[h & (m->nbuckets - 1)]; le; le = le->next) {
		if (le->hash != h)
			continue;
		if (m->nocase ? !strcasecmp(le->key, key) : !strcmp(le->key, key))
			return le->data;
	}
	return NULL;
}

size_t hmap_count(const struct hmap *m)
{
	return m ? m->count : 0;
}

void hmap_apply(struct hmap *m, void (*fn)(struct hmap_le *le, void *arg), void *arg)
{
	size_t i;

	if (!m || !fn)
		return;
	for (i = 0; i < m->nbuckets; i++) {
		struct hmap_le *le = m->buckets[i], *next;

		for (; le; le = next) {
			next = le->next;
			fn(le, arg);
		}
	}
}
