/* hmap: an intrusive chained hash table with string keys (proxy tables: txn, peers, DNS cache). */
#ifndef AP_HMAP_H
#define AP_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap;

/* Embedded in the owner; the key is borrowed from the owner and must outlive the link. */
struct hmap_le {
	struct hmap_le *next;
	struct hmap_le **pprev;
	uint32_t hash;
	const char *key;
	void *data;
};

/* A table starting with at least nbuckets buckets; it grows when it gets crowded. */
int hmap_alloc(struct hmap **mp, size_t nbuckets);
/* Links le under key (duplicates are allowed; hmap_find returns the newest). */
int hmap_insert(struct hmap *m, struct hmap_le *le, const char *key, void *data);
/* Unlinks le if it is linked; safe to call twice. */
void hmap_unlink(struct hmap *m, struct hmap_le *le);
/* Data of the newest entry under key, or NULL. ASCII case-insensitive keys when the table
 * was made with hmap_set_nocase (host names). */
void *hmap_find(const struct hmap *m, const char *key);
void hmap_set_nocase(struct hmap *m);
size_t hmap_count(const struct hmap *m);
/* Calls fn for each entry (not on hot paths: shutdown and debug dumps). fn may unlink le. */
void hmap_apply(struct hmap *m, void (*fn)(struct hmap_le *le, void *arg), void *arg);

#endif
