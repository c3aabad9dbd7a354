/* rate: token buckets in a hash, recycled least recently used first (bounded memory). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/log.h"
#include "../hmap/hmap.h"
#include "rate.h"

#define LOG_MODULE "rate"

struct rate_bucket {
	struct hmap_le le;
	struct rate_bucket *prev, *next; /* use order: head most recent */
	uint64_t last_ms;
	uint64_t milli_tokens;           /* tokens * 1000 */
	char key[64];
};

struct rate {
	struct hmap *map;
	struct rate_bucket *head, *tail;
	size_t n;
	unsigned per_sec, burst;
	uint64_t (*now_ms)(void);
};

static void rate_unlist(struct rate *r, struct rate_bucket *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		r->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		r->tail = b->prev;
	b->prev = b->next = NULL;
}

static void rate_front(struct rate *r, struct rate_bucket *b)
{
	b->next = r->head;
	if (r->head)
		r->head->prev = b;
	else
		r->tail = b;
	r->head = b;
}

static void rate_destroy(void *data)
{
	struct rate *r = data;

	while (r->head) {
		struct rate_bucket *b = r->head;

		rate_unlist(r, b);
		hmap_unlink(r->map, &b->le);
		mem_deref(b);
	}
	mem_deref(r->map);
}

int rate_alloc(struct rate **rp, unsigned per_sec, unsigned burst)
{
	struct rate *r;
	int err;

	if (!rp || !per_sec || !burst)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), rate_destroy);
	if (!r)
		return ENOMEM;
	r->per_sec = per_sec;
	r->burst = burst;
	r->now_ms = clock_mono_ms;
	err = hmap_alloc(&r->map, 64);
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}

void rate_set_clock(struct rate *r, uint64_t (*now_ms)(void))
{
	if (r)
		r->now_ms = now_ms ? now_ms : clock_mono_ms;
}

static struct rate_bucket *rate_get(struct rate *r, const char *key, uint64_t now)
{
	struct rate_bucket *b = hmap_find(r->map, key);

	if (b) {
		rate_unlist(r, b);
		rate_front(r, b);
		return b;
	}
	if (r->n >= RATE_MAX_KEYS && r->tail) {
		b = r->tail; /* recycle the least recently used */
		rate_unlist(r, b);
		hmap_unlink(r->map, &b->le);
	} else {
		b = mem_zalloc(sizeof(*b), NULL);
		if (!b)
			return NULL;
		r->n++;
	}
	memset(b, 0, sizeof(*b));
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->last_ms = now;
	b->milli_tokens = (uint64_t)r->burst * 1000u;
	if (hmap_insert(r->map, &b->le, b->key, b)) {
		mem_deref(b);
		r->n--;
		return NULL;
	}
	rate_front(r, b);
	return b;
}

bool rate_take(struct rate *r, const char *key, unsigned *retry_s)
{
	uint64_t now, cap;
	struct rate_bucket *b;
	char k[64];

	if (!r || !key)
		return true;
	snprintf(k, sizeof(k), "%s", key); /* the bucket keeps this much of it */
	now = r->now_ms();
	b = rate_get(r, k, now);
	if (!b)
		return true; /* no memory for a bucket: do not punish the peer for it */
	cap = (uint64_t)r->burst * 1000u;
	b->milli_tokens += (now - b->last_ms) * r->per_sec;
	if (b->milli_tokens > cap)
		b->milli_tokens = cap;
	b->last_ms = now;
	if (b->milli_tokens >= 1000u) {
		b->milli_tokens -= 1000u;
		return true;
	}
	if (retry_s)
		*retry_s = 1 + (unsigned)((1000u - b->milli_tokens) / (r->per_sec * 1000u));
	return false;
}
