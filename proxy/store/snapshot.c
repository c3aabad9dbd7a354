/* snapshot: a policy snapshot (proxy/state) built from the store, and the config check that
 * says where the config file and the authoritative database disagree. */
#define LOG_MODULE "store"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "../conf/conf.h"
#include "store_int.h"

struct store_load {
	struct state *st;
	const struct conf *cfg;
	int err;
};

static void store_load_provider(const struct state_provider *p, time_t c, time_t u, void *arg)
{
	struct store_load *l = arg;
	struct state_provider q = *p;

	if (l->err)
		return;
	if (q.tcp && l->cfg && !conf_allow_tcp(l->cfg)) {
		log_warn("provider %s: transport tcp ignored (allow_tcp = no)", q.name);
		q.tcp = false;
	}
	l->err = state_add_provider(l->st, &q);
	if (l->err)
		log_error("provider %s: %s", p->name, strerror(l->err));
}

static void store_load_user(const struct store_user *u, void *arg)
{
	struct store_load *l = arg;

	if (l->err)
		return;
	l->err = state_set_user(l->st, u->aor, u->enabled);
	if (!l->err && u->archive)
		l->err = state_set_user_archive(l->st, u->aor, true);
}

struct store_set_load {
	struct state_settings set;
	char route[256];
};

static void store_load_setting(const char *key, const char *value, void *arg)
{
	struct store_set_load *sl = arg;
	bool b = false;

	(void)store_bool_parse(value, &b);
	if (!strcmp(key, "pic_enabled"))
		sl->set.pic_enabled = b;
	else if (!strcmp(key, "mark_outbound_verifiable"))
		sl->set.mark_outbound_verifiable = b;
	else if (!strcmp(key, "archive_critical"))
		sl->set.archive_critical = b;
	else if (!strcmp(key, "archive"))
		(void)state_archive_parse(value, &sl->set.archive);
	else if (!strcmp(key, "default_route") && *value) {
		snprintf(sl->route, sizeof(sl->route), "%s", value);
		sl->set.default_route = sl->route;
	}
}

/* CONT-005: the installation's secret into the snapshot. */
static int store_load_secret(struct store *s, struct state *st)
{
	sqlite3_stmt *q = NULL;
	int err, rc;

	err = store_prepare(s, &q, "SELECT value FROM secrets WHERE name = 'topology'");
	if (err)
		return err;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(q, 0) == STATE_SECRET_LEN)
		err = state_set_secret(st, sqlite3_column_blob(q, 0), STATE_SECRET_LEN);
	else
		err = rc == SQLITE_ROW || rc == SQLITE_DONE ? EBADMSG : store_errno(rc);
	sqlite3_finalize(q);
	if (err)
		log_error("%s: no usable secret: %s", s->path, strerror(err));
	return err;
}

int store_load_state(struct store *s, const struct conf *cfg, struct state **stp)
{
	struct store_load l = { .cfg = cfg };
	struct store_set_load sl = { .set = { .pic_enabled = true } };
	sqlite3_stmt *q = NULL;
	int err, rc;

	if (!s || !stp)
		return EINVAL;
	err = state_alloc(&l.st);
	if (err)
		return err;
	/* one read transaction: the snapshot is one version of the database */
	err = store_exec(s, "BEGIN");
	if (!err)
		err = store_prepare(s, &q, "SELECT domain FROM domains ORDER BY domain");
	while (!err && (rc = sqlite3_step(q)) != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			err = store_errno(rc);
		else
			err = state_add_domain(l.st, (const char *)sqlite3_column_text(q, 0));
	}
	if (q)
		sqlite3_finalize(q);
	if (!err)
		err = store_provider_each(s, store_load_provider, &l);
	if (!err)
		err = l.err;
	if (!err)
		err = store_user_each(s, false, store_load_user, &l);
	if (!err)
		err = l.err;
	if (!err)
		err = store_setting_each(s, store_load_setting, &sl);
	if (!err)
		err = state_set_settings(l.st, &sl.set);
	if (!err)
		err = store_load_secret(s, l.st);
	store_rollback(s);
	if (err) {
		log_error("%s: cannot build a snapshot: %s", s->path, strerror(err));
		mem_deref(l.st);
		return err;
	}
	*stp = l.st;
	return 0;
}

static void store_differs(store_problem_h *ph, void *arg, const char *fmt, const char *a,
			  const char *b)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a, b);
	ph(false, msg, arg);
}

static bool store_same_domains(const struct conf_provider *cp, const struct state_provider *p)
{
	size_t i, j;

	if (cp->ndomains != p->ndomains)
		return false;
	for (i = 0; i < cp->ndomains; i++) {
		for (j = 0; j < p->ndomains && strcasecmp(cp->domains[i], p->domains[j]); j++)
			;
		if (j == p->ndomains)
			return false;
	}
	return true;
}

int store_compare_conf(struct store *s, const struct conf *cfg, store_problem_h *ph, void *arg)
{
	const char *note = "%s (the database is authoritative: change it with apctl)%s";
	struct state *st = NULL;
	char what[400];
	size_t i;
	int err;

	if (!s || !cfg || !ph)
		return EINVAL;
	err = store_load_state(s, NULL, &st);
	if (err)
		return err;
	for (i = 0; i < conf_domain_count(cfg); i++)
		if (!state_is_our_domain(st, conf_domain(cfg, i))) {
			snprintf(what, sizeof(what), "%s: domain %s is in the config, not in the "
				 "database %s", conf_path(cfg), conf_domain(cfg, i), s->path);
			store_differs(ph, arg, note, what, "");
		}
	for (i = 0; i < conf_provider_count(cfg); i++) {
		const struct conf_provider *cp = conf_provider_at(cfg, i);
		const struct state_provider *p = state_provider_by_name(st, cp->name);
		const char *diff = NULL;

		if (!p)
			diff = "is not in the database";
		else if (strcasecmp(cp->fqdn, p->fqdn))
			diff = "has another fqdn in the database";
		else if (cp->port != p->port)
			diff = "has another port in the database";
		else if (!store_same_domains(cp, p))
			diff = "serves other domains in the database";
		else if (cp->allow != p->allowed)
			diff = p->allowed ? "is allowed in the database" :
					    "is not allowed in the database";
		else if (cp->blocked != p->blocked)
			diff = "has another blocked flag in the database";
		else if (cp->public_provider != p->public_provider)
			diff = "has another public flag in the database";
		else if (strcmp(conf_filter_name(cp->filter), state_filter_name(p->filter)))
			diff = "has another filter mode in the database";
		if (!diff)
			continue;
		snprintf(what, sizeof(what), "%s:%u: provider %s %s %s", conf_path(cfg), cp->line,
			 cp->name, diff, s->path);
		store_differs(ph, arg, note, what, "");
	}
	mem_deref(st);
	return 0;
}
