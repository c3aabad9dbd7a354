/* imtab: intrusive hash chains keyed by case-insensitive strings, for the lab IM server's
 * users, routes, peers and transactions. Nodes are embedded in their owners. */
#ifndef PIC_IMTAB_H
#define PIC_IMTAB_H

#include <stddef.h>

#define IMTAB_BUCKETS 64

struct imtab_node {
	struct imtab_node *next, **pprev;
	const char *key;          /* borrowed from the owner; NULL: kept in bucket 0 as a list */
	void *obj;                /* the owner: a mem object */
};

struct imtab {
	struct imtab_node *b[IMTAB_BUCKETS];
};

void imtab_add(struct imtab *t, struct imtab_node *n, const char *key, void *obj);
/* Unlinks n in O(1); a node not in a table is left alone. */
void imtab_del(struct imtab_node *n);
/* The owner whose key equals key (ASCII case-insensitive), or NULL. */
void *imtab_find(const struct imtab *t, const char *key);
/* mem_derefs every owner; each destructor must imtab_del its node. */
void imtab_flush(struct imtab *t);
size_t imtab_count(const struct imtab *t);

#endif
