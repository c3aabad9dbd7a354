/* dbuf: growing byte buffers for reassembled and decrypted streams. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

/* Doubling keeps appends amortised O(1); callers hold offsets, never pointers, meanwhile. */
int dbuf_reserve(struct dbuf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->len >= more)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2)
			return ENOMEM;
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (!p) {
		log_error("out of memory growing a stream buffer to %zu bytes", cap);
		return ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int dbuf_append(struct dbuf *b, const void *data, size_t n)
{
	int err;

	if (!n)
		return 0;
	err = dbuf_reserve(b, n);
	if (err)
		return err;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

void dbuf_reset(struct dbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Streaming: a buffer whose bytes were mostly cut gives its memory back (an idle connection
 * keeps at most 16 kB per buffer). */
void dbuf_shrink(struct dbuf *b)
{
	size_t cap = 16384;
	uint8_t *p;

	if (b->cap <= cap || b->len > b->cap / 8)
		return;
	if (!b->len) {
		dbuf_reset(b);
		return;
	}
	while (cap < b->len * 2)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p) {
		b->p = p;
		b->cap = cap;
	}
}
