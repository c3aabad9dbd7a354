/* imtab: intrusive string-keyed hash chains for the lab IM server's tables. */
#include <stdint.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"

#include "imtab.h"

#define LOG_MODULE "imtab"

/* FNV-1a over the lower-cased key: domains and user parts compare case-insensitively. */
static unsigned imtab_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;

		h = (h ^ (uint32_t)(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
	}
	return h % IMTAB_BUCKETS;
}

void imtab_add(struct imtab *t, struct imtab_node *n, const char *key, void *obj)
{
	struct imtab_node **head = &t->b[key ? imtab_hash(key) : 0];

	n->key = key;
	n->obj = obj;
	n->next = *head;
	if (*head)
		(*head)->pprev = &n->next;
	n->pprev = head;
	*head = n;
}

void imtab_del(struct imtab_node *n)
{
	if (!n->pprev)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

void *imtab_find(const struct imtab *t, const char *key)
{
	struct imtab_node *n;

	if (!key)
		return NULL;
	for (n = t->b[imtab_hash(key)]; n; n = n->next)
		if (n->key && !strcasecmp(n->key, key))
			return n->obj;
	return NULL;
}

void imtab_flush(struct imtab *t)
{
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		while (t->b[i]) {
			struct imtab_node *n = t->b[i];

			mem_deref(n->obj);
			if (t->b[i] == n) { /* a destructor that forgot to unlink: do not spin */
				log_error("entry '%s' did not unlink itself", n->key ? n->key : "");
				imtab_del(n);
			}
		}
	}
}

size_t imtab_count(const struct imtab *t)
{
	const struct imtab_node *n;
	size_t count = 0;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++)
		for (n = t->b[i]; n; n = n->next)
			count++;
	return count;
}
