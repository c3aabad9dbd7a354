/* state: an immutable snapshot of providers, domains, users and settings, with hashed lookups. */
#define LOG_MODULE "state"

#include <errno.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "../conf/conf.h"
#include "../hmap/hmap.h"
#include "state.h"

/* A provider as stored: owns its strings; the public struct points into them. */
struct state_prov {
	struct state_provider pub;
	char *name, *fqdn;
	char **domains;
	struct hmap_le le_name, le_fqdn;
	struct hmap_le *le_dom;       /* one per domain */
};

struct state_user {
	char *aor;
	bool enabled;
	bool archive;
	struct hmap_le le;
};

struct state_dom {
	char *name;
	struct hmap_le le;
};

struct state {
	struct state_prov **prov;
	size_t nprov;
	struct state_dom **dom;
	size_t ndom;
	struct state_user **users;
	size_t nusers, nenabled;
	struct hmap *by_name, *by_fqdn, *by_domain, *our_domains, *user_map;
	struct state_settings set;
	char *default_route;
	bool all_users_enabled;
	uint64_t version;
	unsigned char secret[STATE_SECRET_LEN];
	bool has_secret;
};

static void state_prov_destroy(void *data)
{
	struct state_prov *p = data;
	size_t i;

	for (i = 0; i < p->pub.ndomains; i++)
		mem_deref(p->domains[i]);
	mem_deref(p->domains);
	mem_deref(p->le_dom);
	mem_deref(p->name);
	mem_deref(p->fqdn);
}

static void state_user_destroy(void *data)
{
	mem_deref(((struct state_user *)data)->aor);
}

static void state_dom_destroy(void *data)
{
	mem_deref(((struct state_dom *)data)->name);
}

static void state_destroy(void *data)
{
	struct state *st = data;
	size_t i;

	/* tables first: their links live inside the entries */
	mem_deref(st->by_name);
	mem_deref(st->by_fqdn);
	mem_deref(st->by_domain);
	mem_deref(st->our_domains);
	mem_deref(st->user_map);
	for (i = 0; i < st->nprov; i++)
		mem_deref(st->prov[i]);
	for (i = 0; i < st->ndom; i++)
		mem_deref(st->dom[i]);
	for (i = 0; i < st->nusers; i++)
		mem_deref(st->users[i]);
	free(st->prov);
	free(st->dom);
	free(st->users);
	mem_deref(st->default_route);
	OPENSSL_cleanse(st->secret, sizeof(st->secret));
}

int state_alloc(struct state **sp)
{
	struct state *st;
	int err = 0;

	if (!sp)
		return EINVAL;
	st = mem_zalloc(sizeof(*st), state_destroy);
	if (!st)
		return ENOMEM;
	err = hmap_alloc(&st->by_name, 16);
	err = err ? err : hmap_alloc(&st->by_fqdn, 16);
	err = err ? err : hmap_alloc(&st->by_domain, 32);
	err = err ? err : hmap_alloc(&st->our_domains, 8);
	err = err ? err : hmap_alloc(&st->user_map, 256);
	if (err) {
		mem_deref(st);
		return err;
	}
	hmap_set_nocase(st->by_name);
	hmap_set_nocase(st->by_fqdn);
	hmap_set_nocase(st->by_domain);
	hmap_set_nocase(st->our_domains);
	hmap_set_nocase(st->user_map);
	st->set.pic_enabled = true;
	*sp = st;
	return 0;
}

/* Grows a pointer array by one slot. */
static int state_grow(void *arrp, size_t n)
{
	void **a = *(void ***)arrp;
	void **na = realloc(a, (n + 1) * sizeof(*a));

	if (!na)
		return ENOMEM;
	*(void ***)arrp = na;
	return 0;
}

int state_add_provider(struct state *st, const struct state_provider *in)
{
	struct state_prov *p;
	size_t i;
	int err = 0;

	if (!st || !in || !in->name || !*in->name || !in->fqdn || !*in->fqdn)
		return EINVAL;
	if (hmap_find(st->by_name, in->name) || hmap_find(st->by_fqdn, in->fqdn))
		return EEXIST;
	for (i = 0; i < in->ndomains; i++)
		if (!in->domains[i] || !*in->domains[i])
			return EINVAL;
		else if (hmap_find(st->by_domain, in->domains[i]))
			return EEXIST;
	if (state_grow(&st->prov, st->nprov))
		return ENOMEM;
	p = mem_zalloc(sizeof(*p), state_prov_destroy);
	if (!p)
		return ENOMEM;
	p->pub = *in;
	p->name = mem_strdup(in->name);
	p->fqdn = mem_strdup(in->fqdn);
	p->domains = mem_zalloc((in->ndomains + 1) * sizeof(char *), NULL);
	p->le_dom = mem_zalloc((in->ndomains + 1) * sizeof(struct hmap_le), NULL);
	if (!p->name || !p->fqdn || !p->domains || !p->le_dom) {
		p->pub.ndomains = 0;
		mem_deref(p);
		return ENOMEM;
	}
	p->pub.ndomains = 0;
	for (i = 0; i < in->ndomains; i++) {
		p->domains[i] = mem_strdup(in->domains[i]);
		if (!p->domains[i]) {
			mem_deref(p);
			return ENOMEM;
		}
		p->pub.ndomains++;
	}
	p->pub.name = p->name;
	p->pub.fqdn = p->fqdn;
	p->pub.domains = (const char *const *)p->domains;
	err = hmap_insert(st->by_name, &p->le_name, p->name, p);
	err = err ? err : hmap_insert(st->by_fqdn, &p->le_fqdn, p->fqdn, p);
	for (i = 0; !err && i < p->pub.ndomains; i++)
		err = hmap_insert(st->by_domain, &p->le_dom[i], p->domains[i], p);
	if (err) {
		hmap_unlink(st->by_name, &p->le_name);
		hmap_unlink(st->by_fqdn, &p->le_fqdn);
		for (i = 0; i < p->pub.ndomains; i++)
			hmap_unlink(st->by_domain, &p->le_dom[i]);
		mem_deref(p);
		return err;
	}
	st->prov[st->nprov++] = p;
	return 0;
}

int state_add_domain(struct state *st, const char *domain)
{
	struct state_dom *d;
	int err;

	if (!st || !domain || !*domain)
		return EINVAL;
	if (hmap_find(st->our_domains, domain))
		return EEXIST;
	if (state_grow(&st->dom, st->ndom))
		return ENOMEM;
	d = mem_zalloc(sizeof(*d), state_dom_destroy);
	if (!d || !(d->name = mem_strdup(domain))) {
		mem_deref(d);
		return ENOMEM;
	}
	err = hmap_insert(st->our_domains, &d->le, d->name, d);
	if (err) {
		mem_deref(d);
		return err;
	}
	st->dom[st->ndom++] = d;
	return 0;
}

int state_set_user(struct state *st, const char *aor, bool enabled)
{
	struct state_user *u;
	int err;

	if (!st || !aor || !strchr(aor, '@'))
		return EINVAL;
	u = hmap_find(st->user_map, aor);
	if (u) {
		st->nenabled += (size_t)enabled - (size_t)u->enabled;
		u->enabled = enabled;
		return 0;
	}
	if (state_grow(&st->users, st->nusers))
		return ENOMEM;
	u = mem_zalloc(sizeof(*u), state_user_destroy);
	if (!u || !(u->aor = mem_strdup(aor))) {
		mem_deref(u);
		return ENOMEM;
	}
	u->enabled = enabled;
	err = hmap_insert(st->user_map, &u->le, u->aor, u);
	if (err) {
		mem_deref(u);
		return err;
	}
	st->users[st->nusers++] = u;
	st->nenabled += enabled;
	return 0;
}

int state_set_user_archive(struct state *st, const char *aor, bool archive)
{
	struct state_user *u;
	int err;

	if (!st || !aor)
		return EINVAL;
	u = hmap_find(st->user_map, aor);
	if (!u) {
		/* a user unknown so far is created not enabled, as the store would */
		err = state_set_user(st, aor, st->all_users_enabled);
		if (err)
			return err;
		u = hmap_find(st->user_map, aor);
	}
	u->archive = archive;
	return 0;
}

bool state_user_archive(const struct state *st, const char *aor)
{
	struct state_user *u = st && aor ? hmap_find(st->user_map, aor) : NULL;

	return u && u->archive;
}

size_t state_user_count(const struct state *st)
{
	return st ? st->nusers : 0;
}

int state_set_settings(struct state *st, const struct state_settings *set)
{
	char *dr = NULL;

	if (!st || !set)
		return EINVAL;
	if (set->default_route && *set->default_route &&
	    !(dr = mem_strdup(set->default_route)))
		return ENOMEM;
	mem_deref(st->default_route);
	st->default_route = dr;
	st->set = *set;
	st->set.default_route = dr;
	return 0;
}

void state_provider_from_conf(struct state_provider *p, const struct conf_provider *cp)
{
	*p = (struct state_provider){
		.name = cp->name, .fqdn = cp->fqdn, .port = (uint16_t)cp->port,
		.domains = (const char *const *)cp->domains, .ndomains = cp->ndomains,
		.allowed = cp->allow, .blocked = cp->blocked,
		.public_provider = cp->public_provider, .tcp = cp->tcp,
		.filter = cp->filter == CONF_FILTER_CONTACTS_ONLY ? STATE_FILTER_CONTACTS_ONLY :
			  cp->filter == CONF_FILTER_ALLOW_ALL ? STATE_FILTER_ALLOW_ALL :
			  STATE_FILTER_VERIFIED_ONLY,
	};
}

int state_from_conf(struct state **sp, const struct conf *cfg)
{
	struct state *st;
	size_t i;
	int err;

	if (!sp || !cfg)
		return EINVAL;
	err = state_alloc(&st);
	if (err)
		return err;
	st->all_users_enabled = true;
	for (i = 0; !err && i < conf_domain_count(cfg); i++)
		err = state_add_domain(st, conf_domain(cfg, i));
	for (i = 0; !err && i < conf_provider_count(cfg); i++) {
		struct state_provider p;

		state_provider_from_conf(&p, conf_provider_at(cfg, i));
		err = state_add_provider(st, &p);
	}
	if (err) {
		log_error("state from %s: %s", conf_path(cfg), strerror(err));
		mem_deref(st);
		return err;
	}
	*sp = st;
	return 0;
}

const struct state_provider *state_provider_by_name(const struct state *st, const char *name)
{
	struct state_prov *p = st && name ? hmap_find(st->by_name, name) : NULL;

	return p ? &p->pub : NULL;
}

const struct state_provider *state_provider_by_fqdn(const struct state *st, const char *fqdn)
{
	struct state_prov *p = st && fqdn ? hmap_find(st->by_fqdn, fqdn) : NULL;

	return p ? &p->pub : NULL;
}

const struct state_provider *state_provider_by_domain(const struct state *st, const char *dom)
{
	struct state_prov *p = st && dom ? hmap_find(st->by_domain, dom) : NULL;

	return p ? &p->pub : NULL;
}

size_t state_provider_count(const struct state *st)
{
	return st ? st->nprov : 0;
}

const struct state_provider *state_provider_at(const struct state *st, size_t i)
{
	return st && i < st->nprov ? &st->prov[i]->pub : NULL;
}

bool state_is_our_domain(const struct state *st, const char *host)
{
	return st && host && hmap_find(st->our_domains, host) != NULL;
}

size_t state_domain_count(const struct state *st)
{
	return st ? st->ndom : 0;
}

const char *state_domain_at(const struct state *st, size_t i)
{
	return st && i < st->ndom ? st->dom[i]->name : NULL;
}

bool state_user_enabled(const struct state *st, const char *aor)
{
	struct state_user *u;

	if (!st || !aor)
		return false;
	u = hmap_find(st->user_map, aor);
	if (u)
		return u->enabled;
	return st->all_users_enabled;
}

size_t state_users_enabled(const struct state *st)
{
	return st ? st->nenabled : 0;
}

const struct state_settings *state_settings(const struct state *st)
{
	return st ? &st->set : NULL;
}

uint64_t state_version(const struct state *st)
{
	return st ? st->version : 0;
}

void state_set_version(struct state *st, uint64_t v)
{
	if (st)
		st->version = v;
}

int state_set_secret(struct state *st, const unsigned char *key, size_t len)
{
	if (!st || !key || len != STATE_SECRET_LEN)
		return EINVAL;
	memcpy(st->secret, key, len);
	st->has_secret = true;
	return 0;
}

const unsigned char *state_secret(const struct state *st)
{
	return st && st->has_secret ? st->secret : NULL;
}

const char *state_archive_name(enum state_archive a)
{
	switch (a) {
	case STATE_ARCHIVE_OFF: return "off";
	case STATE_ARCHIVE_ON: return "on";
	case STATE_ARCHIVE_NO_BODIES: return "no-bodies";
	}
	return "?";
}

int state_archive_parse(const char *s, enum state_archive *ap)
{
	if (!s || !ap)
		return EINVAL;
	if (!strcasecmp(s, "off"))
		*ap = STATE_ARCHIVE_OFF;
	else if (!strcasecmp(s, "on"))
		*ap = STATE_ARCHIVE_ON;
	else if (!strcasecmp(s, "no-bodies"))
		*ap = STATE_ARCHIVE_NO_BODIES;
	else
		return EINVAL;
	return 0;
}

const char *state_filter_name(enum state_filter f)
{
	switch (f) {
	case STATE_FILTER_VERIFIED_ONLY: return "verified-only";
	case STATE_FILTER_CONTACTS_ONLY: return "contacts-only";
	case STATE_FILTER_ALLOW_ALL: return "allow-all";
	}
	return "?";
}

int state_filter_parse(const char *s, enum state_filter *fp)
{
	if (!s || !fp)
		return EINVAL;
	if (!strcasecmp(s, "verified-only"))
		*fp = STATE_FILTER_VERIFIED_ONLY;
	else if (!strcasecmp(s, "contacts-only"))
		*fp = STATE_FILTER_CONTACTS_ONLY;
	else if (!strcasecmp(s, "allow-all"))
		*fp = STATE_FILTER_ALLOW_ALL;
	else
		return EINVAL;
	return 0;
}
