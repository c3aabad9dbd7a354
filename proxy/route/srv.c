/* srv: orders SRV records the way RFC 2782 tells a client to try them. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "srv.h"

#define LOG_MODULE "srv"

static uint32_t srv_rand(uint32_t bound, void *arg)
{
	uint32_t r = 0;

	(void)arg;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)random();
	return bound == UINT32_MAX ? r : r % (bound + 1);
}

static int srv_cmp(const void *a, const void *b)
{
	const struct srv_rec *x = a, *y = b;
	bool xdot = !strcmp(x->target, "."), ydot = !strcmp(y->target, ".");

	if (xdot != ydot)
		return xdot ? 1 : -1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* RFC 2782: weight 0 records first within a priority, for the running sum below */
	return (x->weight != 0) - (y->weight != 0);
}

/* RFC 2782: within [from, to), choose by running sum of weights, move the chosen one to the
 * front, and repeat with the rest. */
static void srv_weigh(struct srv_rec *recs, size_t from, size_t to, srv_rand_h *rnd, void *arg)
{
	size_t i, j;

	for (i = from; i + 1 < to; i++) {
		uint32_t sum = 0, pick, run = 0;
		struct srv_rec tmp;

		for (j = i; j < to; j++)
			sum += recs[j].weight;
		pick = rnd(sum, arg);
		for (j = i; j < to; j++) {
			run += recs[j].weight;
			if (run >= pick)
				break;
		}
		if (j >= to)
			j = to - 1;
		if (j != i) {
			tmp = recs[j];
			memmove(&recs[i + 1], &recs[i], (j - i) * sizeof(*recs));
			recs[i] = tmp;
		}
	}
}

size_t srv_order(struct srv_rec *recs, size_t n, srv_rand_h *rnd, void *arg)
{
	size_t i, start, usable = 0;

	if (!recs || !n)
		return 0;
	if (!rnd)
		rnd = srv_rand;
	qsort(recs, n, sizeof(*recs), srv_cmp);
	for (i = 0; i < n && strcmp(recs[i].target, "."); i++)
		usable++;
	for (start = 0; start < usable; start = i) {
		for (i = start; i < usable && recs[i].priority == recs[start].priority; i++)
			;
		srv_weigh(recs, start, i, rnd, arg);
	}
	return usable;
}
