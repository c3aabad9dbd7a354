/* mem: reference-counted allocations; a small header sits in front of every block. */
#include <stdatomic.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

#define LOG_MODULE "mem"

/* The header is padded to max_align_t so the data that follows is aligned for any type. */
struct mem_hdr {
	alignas(max_align_t) unsigned nrefs;
	mem_destroy_h *dh;
};

/* Atomic so that helper threads (e.g. a logger or SQLite worker) may allocate too. */
static atomic_size_t mem_nlive;

static inline struct mem_hdr *mem_hdr_of(const void *data)
{
	return (struct mem_hdr *)((char *)(uintptr_t)data - sizeof(struct mem_hdr));
}

void *mem_zalloc(size_t size, mem_destroy_h *dh)
{
	struct mem_hdr *h;

	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->nrefs = 1;
	h->dh = dh;
	atomic_fetch_add_explicit(&mem_nlive, 1, memory_order_relaxed);
	return h + 1;
}

void *mem_ref(void *data)
{
	if (data)
		mem_hdr_of(data)->nrefs++;
	return data;
}

void *mem_deref(void *data)
{
	struct mem_hdr *h;

	if (!data)
		return NULL;
	h = mem_hdr_of(data);
	if (h->nrefs == 0) {
		/* A double free: say so loudly rather than corrupt the heap. */
		log_error("mem_deref on a dead block %p", data);
		abort();
	}
	if (--h->nrefs > 0)
		return NULL;
	/* The destructor may take and drop references of its own (e.g. to unlink from a list that
	 * refs its members); hold one so that does not recurse into a second destruction. */
	if (h->dh) {
		h->nrefs = 1;
		h->dh(data);
		if (--h->nrefs > 0)
			return NULL; /* resurrected by the destructor: its business */
	}
	atomic_fetch_sub_explicit(&mem_nlive, 1, memory_order_relaxed);
	free(h);
	return NULL;
}

unsigned mem_nrefs(const void *data)
{
	return data ? mem_hdr_of(data)->nrefs : 0;
}

char *mem_strndup(const char *s, size_t n)
{
	char *d;
	size_t len;

	if (!s)
		return NULL;
	len = strnlen(s, n);
	d = mem_zalloc(len + 1, NULL);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	return d;
}

char *mem_strdup(const char *s)
{
	return s ? mem_strndup(s, SIZE_MAX) : NULL;
}

size_t mem_live(void)
{
	return atomic_load_explicit(&mem_nlive, memory_order_relaxed);
}
