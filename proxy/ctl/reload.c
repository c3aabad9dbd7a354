/* reload: builds everything a reload swaps (config, snapshot from the store, TLS contexts)
 * off to the side, and publishes it only when all of it is good. */
#define LOG_MODULE "reload"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/tlsctx.h"
#include "../audit/audit.h"
#include "../conf/conf.h"
#include "../spine.h"
#include "../state/state.h"
#include "../store/store.h"
#include "ctl.h"
#include "reload.h"


struct reload {
	struct event_base *base;
	struct spine *spine;
	char *conf_path;
	char *db_path;             /* NULL: running without a database */
	struct conf *cfg;          /* the config last applied */
	struct audit *audit;
	uint64_t version;
	uint64_t failures;
};

/* Collects problems into one line. */
struct reload_msg {
	char *buf;
	size_t size, len;
	unsigned n;
};

static void reload_note(struct reload_msg *m, const char *text)
{
	int w;

	if (m->len + 1 >= m->size)
		return;
	w = snprintf(m->buf + m->len, m->size - m->len, "%s%s", m->n++ ? "; " : "", text);
	if (w > 0)
		m->len += (size_t)w < m->size - m->len ? (size_t)w : m->size - m->len - 1;
}

static void reload_conf_problem(bool error, const char *msg, void *arg)
{
	if (error)
		reload_note(arg, msg);
	else
		log_warn("%s", msg);
}

static void reload_destroy(void *data)
{
	struct reload *r = data;

	mem_deref(r->audit);
	mem_deref(r->cfg);
	mem_deref(r->conf_path);
	mem_deref(r->db_path);
}

/* The snapshot: from the store when there is one, else from the config alone. */
static int reload_state(struct reload *r, const struct conf *cfg, struct state **stp,
			struct reload_msg *m)
{
	struct store *s = NULL;
	char why[512], line[600];
	int err;

	if (!r->db_path)
		return state_from_conf(stp, cfg);
	err = store_open(&s, r->db_path, false, cfg, why, sizeof(why));
	if (!err && store_created(s))
		log_info("%s created, seeded from %s", r->db_path, conf_path(cfg));
	if (!err)
		err = store_load_state(s, cfg, stp);
	else {
		snprintf(line, sizeof(line), "database: %s", why);
		reload_note(m, line);
	}
	if (err && !*why) {
		snprintf(line, sizeof(line), "database %s: %s", r->db_path, strerror(err));
		reload_note(m, line);
	}
	mem_deref(s);
	return err;
}

/* Both contexts of both edges, built the way tp builds them. */
static int reload_tls(const struct conf *cfg, struct tlsctx *ctx[CONF_NEDGES][2],
		      struct reload_msg *m)
{
	char line[600];
	int i, err = 0;

	for (i = 0; !err && i < CONF_NEDGES; i++) {
		const struct conf_edge *ce = conf_edge(cfg, (enum conf_edge_id)i);
		struct tlsctx_conf tc = {
			.cert_file = ce->cert, .key_file = ce->key, .ca_file = ce->ca,
			.keylog_file = conf_keylog_file(cfg),
			.require_peer_cert = true, /* TLS-001, TLS-006 */
			.min_version = ce->tls_min_version, /* TLS-008 */
			.cipher_list = ce->ciphers,
			.ciphersuites = ce->ciphersuites,
		};

		err = tlsctx_alloc(&ctx[i][0], true, &tc);
		if (!err)
			err = tlsctx_alloc(&ctx[i][1], false, &tc);
		if (err) {
			snprintf(line, sizeof(line), "%s edge: certificate %s / key %s: %s",
				 conf_edge_name((enum conf_edge_id)i), ce->cert, ce->key,
				 strerror(err));
			reload_note(m, line);
		}
	}
	return err;
}

/* What a reload cannot change, said plainly instead of silently ignored. */
static void reload_restart_notes(const struct conf *old, const struct conf *cfg)
{
	int i;

	if (strcmp(conf_database(old), conf_database(cfg)))
		log_warn("database changed to %s: applies at the next start", conf_database(cfg));
	if (strcmp(conf_control_socket(old), conf_control_socket(cfg)))
		log_warn("control_socket changed: applies at the next start");
	for (i = 0; i < CONF_NEDGES; i++)
		if (strcmp(conf_edge(old, i)->listen, conf_edge(cfg, i)->listen))
			log_warn("%s edge: listen changed: applies at the next start",
				 conf_edge_name((enum conf_edge_id)i));
}

int reload_run(struct reload *r, char *out, size_t size)
{
	struct tlsctx *ctx[CONF_NEDGES][2] = { { NULL } };
	struct reload_msg m = { .buf = out, .size = size };
	struct conf *cfg = NULL;
	struct state *st = NULL;
	int err, i;

	if (!r || !out || !size)
		return EINVAL;
	*out = '\0';
	err = conf_load(&cfg, r->conf_path, reload_conf_problem, &m);
	if (!err)
		err = reload_state(r, cfg, &st, &m);
	if (!err)
		err = reload_tls(cfg, ctx, &m);
	if (err) {
		r->failures++;
		log_error("reload refused, keeping version %llu: %s",
			  (unsigned long long)r->version, out);
		goto out;
	}
	/* everything is built: publish; nothing below can fail half way */
	state_set_version(st, ++r->version);
	spine_set_state(r->spine, st);
	audit_set_state(r->audit, st);
	for (i = 0; i < CONF_NEDGES; i++)
#ifdef AP_MUTANT_TLS_RELOAD_KEEPS_OLD_CERT
		if (0 && spine_set_tls(r->spine, (enum conf_edge_id)i, ctx[i][0], ctx[i][1]))
#else
		if (spine_set_tls(r->spine, (enum conf_edge_id)i, ctx[i][0], ctx[i][1]))
#endif
			log_warn("%s edge: certificates not swapped",
				 conf_edge_name((enum conf_edge_id)i));
	reload_restart_notes(r->cfg, cfg);
	mem_deref(r->cfg);
	r->cfg = mem_ref(cfg);
	snprintf(out, size, "ok version %llu: %zu providers, %zu domains, %zu users enabled%s",
		 (unsigned long long)r->version, state_provider_count(st),
		 state_domain_count(st), state_users_enabled(st), ", certificates reloaded");
	log_info("reloaded: %s", out);
out:
	for (i = 0; i < CONF_NEDGES; i++) {
		mem_deref(ctx[i][0]);
		mem_deref(ctx[i][1]);
	}
	mem_deref(st);
	mem_deref(cfg);
	return err;
}

int reload_alloc(struct reload **rp, struct event_base *base, const struct conf *cfg,
		 struct spine *spine)
{
	struct state *st = NULL;
	struct reload_msg m;
	struct reload *r;
	char msg[1024] = "";
	int err;

	if (!rp || !base || !cfg || !spine)
		return EINVAL;
	r = mem_zalloc(sizeof(*r), reload_destroy);
	if (!r)
		return ENOMEM;
	m = (struct reload_msg){ .buf = msg, .size = sizeof(msg) };
	r->base = base;
	r->spine = spine;
	r->cfg = mem_ref((struct conf *)cfg);
	r->conf_path = mem_strdup(conf_path(cfg));
	r->db_path = mem_strdup(conf_database(cfg));
	if (!r->conf_path || !r->db_path) {
		err = ENOMEM;
		goto out;
	}
	err = reload_state(r, cfg, &st, &m);
	if (err && conf_database_is_default(cfg)) {
		/* no database configured and the default one is unusable: keep the proxy
		 * useful (the lab's configs predate the store) but say what is missing */
		log_warn("%s; running from the config file alone, without audit (set [global] "
			 "database)", msg);
		r->db_path = mem_deref(r->db_path);
		err = state_from_conf(&st, cfg);
	}
	if (err) {
		log_error("%s", *msg ? msg : strerror(err));
		goto out;
	}
	if (r->db_path && (err = audit_alloc(&r->audit, base, r->db_path)))
		goto out;
	state_set_version(st, ++r->version);
	spine_set_state(spine, st);
	audit_set_state(r->audit, st);
	log_info("state version 1: %zu providers, %zu domains, %zu users enabled (%s)",
		 state_provider_count(st), state_domain_count(st), state_users_enabled(st),
		 r->db_path ? r->db_path : "config only");
out:
	mem_deref(st);
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}

static int reload_cmd(const char *args, char *out, size_t size, void *arg)
{
	char msg[3000];
	int err = reload_run(arg, msg, sizeof(msg));

	if (err)
		snprintf(out, size, "error reload refused, old state kept: %s", msg);
	else
		snprintf(out, size, "%s", msg);
	return err;
}

static int reload_audit_cmd(const char *args, char *out, size_t size, void *arg)
{
	struct reload *r = arg;

	if (!r->audit) {
		snprintf(out, size, "{\"enabled\":false}");
		return 0;
	}
	audit_debug(r->audit, out, size);
	return 0;
}

int reload_ctl_add(struct reload *r, struct ctl *c)
{
	int err = ctl_add(c, "reload", reload_cmd, r);

	return err ? err : ctl_add(c, "audit", reload_audit_cmd, r);
}

uint64_t reload_version(const struct reload *r)
{
	return r ? r->version : 0;
}

struct audit *reload_audit(const struct reload *r)
{
	return r ? r->audit : NULL;
}
