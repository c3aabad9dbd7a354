/* rpmap: the replay's one old->new map. Keys are recorded strings (an address, a domain, a
 * user, a Call-ID, a tag, a branch, a URI); an entry is global or belongs to one party's view
 * (what a party saw of a value the proxy rewrote on its way). Hashed: a 10,000-transaction
 * capture looks up every token of every message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "replay_int.h"

struct rpmap_ent {
	struct rpmap_ent *next;
	int scope;
	size_t klen;
	char *key;
	char *val;
	long ival;
	bool is_int;
};

struct rpmap {
	struct rpmap_ent **tab;
	size_t size;
	size_t n;
};

static void rpmap_destroy(void *data)
{
	struct rpmap *m = data;
	size_t i;

	for (i = 0; i < m->size; i++) {
		while (m->tab[i]) {
			struct rpmap_ent *e = m->tab[i];

			m->tab[i] = e->next;
			free(e->key);
			free(e->val);
			free(e);
		}
	}
	free(m->tab);
}

int rpmap_alloc(struct rpmap **mp)
{
	struct rpmap *m = mem_zalloc(sizeof(*m), rpmap_destroy);

	if (!m)
		return ENOMEM;
	m->size = 1024;
	m->tab = calloc(m->size, sizeof(*m->tab));
	if (!m->tab) {
		mem_deref(m);
		return ENOMEM;
	}
	*mp = m;
	return 0;
}

static size_t rpmap_hash(int scope, const char *k, size_t n)
{
	size_t h = 2166136261u ^ (size_t)(scope + 7);
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * 16777619u;
	return h;
}

static struct rpmap_ent *rpmap_find(const struct rpmap *m, int scope, const char *k, size_t n,
				    bool is_int)
{
	struct rpmap_ent *e;

	for (e = m->tab[rpmap_hash(scope, k, n) & (m->size - 1)]; e; e = e->next) {
		if (e->scope == scope && e->klen == n && e->is_int == is_int &&
		    !memcmp(e->key, k, n))
			return e;
	}
	return NULL;
}

static void rpmap_grow(struct rpmap *m)
{
	size_t nsize = m->size * 2, i;
	struct rpmap_ent **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return;         /* longer chains, still correct */
	for (i = 0; i < m->size; i++) {
		struct rpmap_ent *e = m->tab[i], *next;

		for (; e; e = next) {
			size_t b = rpmap_hash(e->scope, e->key, e->klen) & (nsize - 1);

			next = e->next;
			e->next = nt[b];
			nt[b] = e;
		}
	}
	free(m->tab);
	m->tab = nt;
	m->size = nsize;
}

static struct rpmap_ent *rpmap_add(struct rpmap *m, int scope, const char *key, size_t klen,
				   bool is_int)
{
	struct rpmap_ent *e;
	size_t b;

	if (m->n * 2 > m->size)
		rpmap_grow(m);
	e = calloc(1, sizeof(*e));
	if (!e || !(e->key = malloc(klen + 1))) {
		free(e);
		return NULL;
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	e->scope = scope;
	e->is_int = is_int;
	b = rpmap_hash(scope, key, klen) & (m->size - 1);
	e->next = m->tab[b];
	m->tab[b] = e;
	m->n++;
	return e;
}

int rpmap_set(struct rpmap *m, int scope, const char *key, size_t klen, const char *val,
	      bool replace)
{
	struct rpmap_ent *e = rpmap_find(m, scope, key, klen, false);
	char *v;

	if (e && !replace)
		return 0;
	v = strdup(val);
	if (!v)
		return ENOMEM;
	if (!e && !(e = rpmap_add(m, scope, key, klen, false))) {
		free(v);
		return ENOMEM;
	}
	free(e->val);
	e->val = v;
	return 0;
}

const char *rpmap_get(const struct rpmap *m, int scope, const char *key, size_t klen)
{
	const struct rpmap_ent *e = NULL;

	if (!m || !klen)
		return NULL;
	if (scope != RPMAP_GLOBAL)
		e = rpmap_find(m, scope, key, klen, false);
	if (!e)
		e = rpmap_find(m, RPMAP_GLOBAL, key, klen, false);
	return e ? e->val : NULL;
}

int rpmap_set_int(struct rpmap *m, const char *key, size_t klen, long v)
{
	struct rpmap_ent *e = rpmap_find(m, RPMAP_GLOBAL, key, klen, true);

	if (!e && !(e = rpmap_add(m, RPMAP_GLOBAL, key, klen, true)))
		return ENOMEM;
	e->ival = v;
	return 0;
}

long rpmap_get_int(const struct rpmap *m, const char *key, size_t klen, long dflt)
{
	const struct rpmap_ent *e = m ? rpmap_find(m, RPMAP_GLOBAL, key, klen, true) : NULL;

	return e ? e->ival : dflt;
}

size_t rpmap_count(const struct rpmap *m)
{
	return m ? m->n : 0;
}

void rpmap_each(const struct rpmap *m, rpmap_each_h *h, void *arg)
{
	size_t i;

	for (i = 0; m && i < m->size; i++) {
		const struct rpmap_ent *e;

		for (e = m->tab[i]; e; e = e->next)
			if (!e->is_int && e->scope == RPMAP_GLOBAL)
				h(e->key, e->val, arg);
	}
}
