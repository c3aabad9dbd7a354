/* provider: the store's provider and domain rows, and the rules every change must keep
 * (CONF-003: unique name and edge FQDN, a real host name, domains nobody else has; CONF-004:
 * no default route next to an allowed public provider). */
#define LOG_MODULE "store"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "base/log.h"
#include "../conf/conf.h"
#include "store_int.h"

#define STORE_MAX_DOMAINS 64

/* Name of the provider owning a row matching sql's single parameter, other than oldname. */
static bool store_taken(struct store *s, const char *sql, const char *val, const char *oldname,
			char *owner, size_t osz)
{
	sqlite3_stmt *st;
	bool taken = false;

	if (store_prepare(s, &st, sql))
		return false;
	store_bind_text(st, 1, val);
	while (!taken && sqlite3_step(st) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);

		if (oldname && n && !strcasecmp(n, oldname))
			continue;
		snprintf(owner, osz, "%s", n ? n : "?");
		taken = true;
	}
	sqlite3_finalize(st);
	return taken;
}

static bool store_name_ok(const char *n)
{
	size_t i;

	for (i = 0; n[i]; i++)
		if (!isalnum((unsigned char)n[i]) && !strchr("-_.", n[i]))
			return false;
	return i > 0 && i <= 63;
}

/* Why s is not an edge FQDN, or NULL if it is one. */
static const char *store_fqdn_fault(const char *s)
{
	unsigned char buf[16];

	if (!s || !*s)
		return "is empty";
#ifdef AP_MUTANT_CONF_WILDCARD_FQDN_ACCEPTED
	if (0) /* wildcard edge FQDN accepted */
#else
	if (strchr(s, '*'))
#endif
		return "is a wildcard";
	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1 ||
	    (s[0] == '[' && strchr(s, ']')))
		return "is an IP address";
	if (!conf_is_fqdn(s))
		return "is not a host name";
	return NULL;
}

int store_check_conf004(struct store *s, const struct state_provider *p, const char *oldname,
			const char *default_route, char *why, size_t wsz)
{
	char route[256] = "", owner[128];
	sqlite3_stmt *st;

	if (default_route) {
		snprintf(route, sizeof(route), "%s", default_route);
	} else {
		if (store_prepare(s, &st, "SELECT value FROM settings WHERE key = 'default_route'"))
			return EIO;
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(route, sizeof(route), "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (!*route)
		return 0;
#ifdef AP_MUTANT_CONF_DEFAULT_ROUTE_WITH_PUBLIC
	if (0) /* an allowed public provider beside a default route */
#else
	if (p && p->allowed && p->public_provider)
#endif
		return store_why(why, wsz, EPERM, "CONF-004: a default route to a clearing house "
				 "(%s) is set, so public provider %s cannot be allowed", route,
				 p->name);
	/* the parameter is only the kind of row wanted: allowed (1) public providers */
	if (!p && store_taken(s, "SELECT name FROM providers WHERE allowed = ?1 AND public = ?1 "
			      "ORDER BY name", "1", NULL, owner, sizeof(owner)))
		return store_why(why, wsz, EPERM, "CONF-004: public provider %s is allowed, so a "
				 "default route to a clearing house (%s) cannot be set", owner, route);
	return 0;
}

int store_provider_check(struct store *s, const struct state_provider *p, const char *oldname,
			 char *why, size_t wsz)
{
	char owner[128];
	const char *fault;
	size_t i, j;

	if (!p->name || !store_name_ok(p->name))
		return store_why(why, wsz, EINVAL, "CONF-003: provider name '%s' must be 1 to 63 "
				 "letters, digits, '-', '_' or '.'", p->name ? p->name : "");
	if ((fault = store_fqdn_fault(p->fqdn)))
		return store_why(why, wsz, EINVAL, "CONF-003: provider %s: edge FQDN '%s' %s",
				 p->name, p->fqdn ? p->fqdn : "", fault);
	if (!p->port)
		return store_why(why, wsz, EINVAL, "CONF-003: provider %s: port 0", p->name);
	if (store_taken(s, "SELECT name FROM providers WHERE name = ?", p->name, oldname, owner,
			sizeof(owner)))
		return store_why(why, wsz, EEXIST, "CONF-003: provider name %s is taken", owner);
	if (store_taken(s, "SELECT name FROM providers WHERE fqdn = ?", p->fqdn, oldname, owner,
			sizeof(owner)))
		return store_why(why, wsz, EEXIST, "CONF-003: edge FQDN %s is already provider "
				 "%s's", p->fqdn, owner);
	if (!p->ndomains)
		return store_why(why, wsz, EINVAL, "CONF-003: provider %s serves no SIP domain",
				 p->name);
	if (p->ndomains > STORE_MAX_DOMAINS)
		return store_why(why, wsz, EINVAL, "CONF-003: provider %s: more than %d domains",
				 p->name, STORE_MAX_DOMAINS);
	for (i = 0; i < p->ndomains; i++) {
		const char *d = p->domains[i];

		if ((fault = store_fqdn_fault(d)))
			return store_why(why, wsz, EINVAL, "CONF-003: provider %s: domain '%s' %s",
					 p->name, d ? d : "", fault);
		for (j = 0; j < i; j++)
			if (!strcasecmp(d, p->domains[j]))
				return store_why(why, wsz, EINVAL, "CONF-003: provider %s: "
						 "domain %s listed twice", p->name, d);
		if (store_taken(s, "SELECT domain FROM domains WHERE domain = ?", d, NULL,
				owner, sizeof(owner)))
			return store_why(why, wsz, EEXIST, "CONF-003: domain %s is one of our "
					 "domains", d);
		if (store_taken(s, "SELECT p.name FROM provider_domains d JOIN providers p ON "
				"p.id = d.provider_id WHERE d.domain = ?", d, oldname, owner,
				sizeof(owner)))
			return store_why(why, wsz, EEXIST, "CONF-003: domain %s is already served "
					 "by provider %s", d, owner);
	}
	return 0;
}

static int store_provider_write(struct store *s, const struct state_provider *p,
				const char *oldname)
{
	sqlite3_stmt *st;
	sqlite3_int64 id = 0;
	size_t i;
	int err;

	err = store_prepare(s, &st, oldname ?
		"UPDATE providers SET name = ?1, fqdn = ?2, port = ?3, public = ?4, allowed = ?5,"
		" blocked = ?6, filter = ?7, transport = ?8, updated = strftime('%s', 'now')"
		" WHERE name = ?9 RETURNING id" :
		"INSERT INTO providers (name, fqdn, port, public, allowed, blocked, filter,"
		" transport) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id");
	if (err)
		return err;
	store_bind_text(st, 1, p->name);
	store_bind_text(st, 2, p->fqdn);
	sqlite3_bind_int(st, 3, p->port);
	sqlite3_bind_int(st, 4, p->public_provider);
	sqlite3_bind_int(st, 5, p->allowed);
	sqlite3_bind_int(st, 6, p->blocked);
	store_bind_text(st, 7, state_filter_name(p->filter));
	store_bind_text(st, 8, p->tcp ? "tcp" : "tls");
	if (oldname)
		store_bind_text(st, 9, oldname);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else
		err = store_errno(sqlite3_errcode(s->db));
	sqlite3_finalize(st);
	if (!err && !id)
		err = ENOENT;
	if (err)
		return err;
	err = store_prepare(s, &st, "DELETE FROM provider_domains WHERE provider_id = ?");
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = store_errno(sqlite3_errcode(s->db));
	sqlite3_finalize(st);
	if (err || (err = store_prepare(s, &st, "INSERT INTO provider_domains (provider_id, "
					"domain) VALUES (?, ?)")))
		return err;
	for (i = 0; !err && i < p->ndomains; i++) {
		sqlite3_bind_int64(st, 1, id);
		store_bind_text(st, 2, p->domains[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			err = store_errno(sqlite3_errcode(s->db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return err;
}

static bool store_provider_exists(struct store *s, const char *name)
{
	char owner[128];

	return store_taken(s, "SELECT name FROM providers WHERE name = ?", name, NULL, owner,
			   sizeof(owner));
}

int store_provider_put(struct store *s, const struct state_provider *p, char *why, size_t wsz)
{
	const char *old = store_provider_exists(s, p->name) ? p->name : NULL;
	int err;

	err = store_provider_check(s, p, old, why, wsz);
	if (!err)
		err = store_check_conf004(s, p, old, NULL, why, wsz);
	if (!err && (err = store_provider_write(s, p, old)))
		store_why(why, wsz, err, "%s", sqlite3_errmsg(s->db));
	return err;
}

/* One validated change in one IMMEDIATE transaction, so two apctl runs cannot both pass a
 * check that only one of them may. */
static int store_provider_change(struct store *s, const struct state_provider *p,
				 const char *oldname, char *why, size_t wsz)
{
	int err;

	if (!s || !p)
		return EINVAL;
	if (why && wsz)
		*why = '\0';
	err = store_begin(s);
	if (err)
		return store_why(why, wsz, err, "%s: %s", s->path, sqlite3_errmsg(s->db));
	if (oldname && !store_provider_exists(s, oldname))
		err = store_why(why, wsz, ENOENT, "no provider called %s", oldname);
	if (!err)
		err = store_provider_check(s, p, oldname, why, wsz);
	if (!err)
		err = store_check_conf004(s, p, oldname, NULL, why, wsz);
	if (!err && (err = store_provider_write(s, p, oldname)))
		store_why(why, wsz, err, "%s", sqlite3_errmsg(s->db));
	if (!err && (err = store_commit(s)))
		store_why(why, wsz, err, "commit: %s", sqlite3_errmsg(s->db));
	if (err)
		store_rollback(s);
	return err;
}

int store_provider_add(struct store *s, const struct state_provider *p, char *why, size_t wsz)
{
	return store_provider_change(s, p, NULL, why, wsz);
}

int store_provider_update(struct store *s, const char *name, const struct state_provider *p,
			  char *why, size_t wsz)
{
	if (!name)
		return EINVAL;
	return store_provider_change(s, p, name, why, wsz);
}

int store_provider_remove(struct store *s, const char *name, char *why, size_t wsz)
{
	sqlite3_stmt *st;
	int err;

	if (!s || !name)
		return EINVAL;
	err = store_prepare(s, &st, "DELETE FROM providers WHERE name = ?");
	if (err)
		return err;
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = store_why(why, wsz, store_errno(sqlite3_errcode(s->db)), "%s",
				sqlite3_errmsg(s->db));
	else if (sqlite3_changes(s->db) == 0)
		err = store_why(why, wsz, ENOENT, "no provider called %s", name);
	sqlite3_finalize(st);
	return err;
}

int store_provider_each(struct store *s, store_provider_h *h, void *arg)
{
	sqlite3_stmt *st;
	int err, rc;

	if (!s || !h)
		return EINVAL;
	err = store_prepare(s, &st,
		"SELECT p.name, p.fqdn, p.port, p.public, p.allowed, p.blocked, p.filter,"
		" p.transport, p.created, p.updated,"
		" (SELECT group_concat(domain, ',') FROM (SELECT domain FROM provider_domains"
		"  WHERE provider_id = p.id ORDER BY rowid))"
		" FROM providers p ORDER BY p.name");
	if (err)
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *doms = (const char *)sqlite3_column_text(st, 10);
		char *copy = strdup(doms ? doms : ""), *save = NULL, *d;
		const char *list[STORE_MAX_DOMAINS];
		struct state_provider p = {
			.name = (const char *)sqlite3_column_text(st, 0),
			.fqdn = (const char *)sqlite3_column_text(st, 1),
			.port = (uint16_t)sqlite3_column_int(st, 2),
			.public_provider = sqlite3_column_int(st, 3),
			.allowed = sqlite3_column_int(st, 4),
			.blocked = sqlite3_column_int(st, 5),
			.tcp = !strcmp((const char *)sqlite3_column_text(st, 7), "tcp"),
			.domains = list,
		};

		if (!copy) {
			err = ENOMEM;
			break;
		}
		(void)state_filter_parse((const char *)sqlite3_column_text(st, 6), &p.filter);
		for (d = strtok_r(copy, ",", &save); d && p.ndomains < STORE_MAX_DOMAINS;
		     d = strtok_r(NULL, ",", &save))
			list[p.ndomains++] = d;
		h(&p, (time_t)sqlite3_column_int64(st, 8), (time_t)sqlite3_column_int64(st, 9),
		  arg);
		free(copy);
	}
	if (!err && rc != SQLITE_DONE)
		err = store_errno(rc);
	sqlite3_finalize(st);
	return err;
}

int store_domain_add(struct store *s, const char *domain, char *why, size_t wsz)
{
	char owner[128];
	const char *fault;
	sqlite3_stmt *st;
	int err;

	if (!s || !domain)
		return EINVAL;
	if ((fault = store_fqdn_fault(domain)))
		return store_why(why, wsz, EINVAL, "CONF-003: domain '%s' %s", domain, fault);
	err = store_begin(s);
	if (err)
		return store_why(why, wsz, err, "%s", sqlite3_errmsg(s->db));
	if (store_taken(s, "SELECT domain FROM domains WHERE domain = ?", domain, NULL, owner,
			sizeof(owner)))
		err = store_why(why, wsz, EEXIST, "domain %s is already ours", domain);
	else if (store_taken(s, "SELECT p.name FROM provider_domains d JOIN providers p ON "
			     "p.id = d.provider_id WHERE d.domain = ?", domain, NULL, owner,
			     sizeof(owner)))
		err = store_why(why, wsz, EEXIST, "CONF-003: domain %s is served by provider %s",
				domain, owner);
	if (!err && !(err = store_prepare(s, &st, "INSERT INTO domains (domain) VALUES (?)"))) {
		store_bind_text(st, 1, domain);
		if (sqlite3_step(st) != SQLITE_DONE)
			err = store_why(why, wsz, store_errno(sqlite3_errcode(s->db)), "%s",
					sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
	}
	if (!err)
		err = store_commit(s);
	if (err)
		store_rollback(s);
	return err;
}

int store_domain_remove(struct store *s, const char *domain, char *why, size_t wsz)
{
	sqlite3_stmt *st;
	int err;

	if (!s || !domain)
		return EINVAL;
	err = store_prepare(s, &st, "DELETE FROM domains WHERE domain = ?");
	if (err)
		return err;
	store_bind_text(st, 1, domain);
	if (sqlite3_step(st) != SQLITE_DONE)
		err = store_why(why, wsz, store_errno(sqlite3_errcode(s->db)), "%s",
				sqlite3_errmsg(s->db));
	else if (sqlite3_changes(s->db) == 0)
		err = store_why(why, wsz, ENOENT, "%s is not one of our domains", domain);
	sqlite3_finalize(st);
	return err;
}
