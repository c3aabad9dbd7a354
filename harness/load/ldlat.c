/* ldlat: latency samples kept in a flat array, sorted once for percentiles (nearest rank). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "ldlat.h"

#define LOG_MODULE "ldlat"

struct ldlat {
	uint64_t *v;
	size_t n, cap, max, seen;
	uint64_t hi;
	bool sorted;
};

static void ldlat_destroy(void *data)
{
	struct ldlat *l = data;

	free(l->v);
}

int ldlat_alloc(struct ldlat **lp, size_t max)
{
	struct ldlat *l;

	if (!lp || !max)
		return EINVAL;
	l = mem_zalloc(sizeof(*l), ldlat_destroy);
	if (!l)
		return ENOMEM;
	l->max = max;
	*lp = l;
	return 0;
}

void ldlat_add(struct ldlat *l, uint64_t ns)
{
	if (!l)
		return;
	l->seen++;
	if (ns > l->hi)
		l->hi = ns;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint64_t *v;

		if (l->n >= l->max)
			return;
		if (cap > l->max)
			cap = l->max;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			log_warn("out of memory: latency sample dropped");
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ns;
	l->sorted = false;
}

size_t ldlat_count(const struct ldlat *l)
{
	return l ? l->seen : 0;
}

static int ldlat_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t ldlat_quantile(struct ldlat *l, double q)
{
	size_t rank;

	if (!l || !l->n)
		return 0;
	if (!l->sorted) {
		qsort(l->v, l->n, sizeof(*l->v), ldlat_cmp);
		l->sorted = true;
	}
	if (q <= 0)
		return l->v[0];
	if (q >= 1)
		return l->v[l->n - 1];
	rank = (size_t)(q * (double)l->n + 0.999999);
	return l->v[rank ? rank - 1 : 0];
}

uint64_t ldlat_max(const struct ldlat *l)
{
	return l ? l->hi : 0;
}

void ldlat_reset(struct ldlat *l)
{
	if (!l)
		return;
	l->n = l->seen = 0;
	l->hi = 0;
	l->sorted = true;
}
