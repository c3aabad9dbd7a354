/* peer: persistent MTLS client connections keyed by destination FQDN (CN checked = FQDN),
 * with the requests sent on each that are not answered yet, so that a connection that fails
 * or drops gets each of their senders a prompt failure (ROB-005), and the further targets a
 * connection that never came up fails over to (DNS-003). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "../hmap/hmap.h"
#include "../tp/tp.h"
#include "peer.h"

#define LOG_MODULE "peer"

/* Bytes kept per connection that is not up yet, for failover (a few requests). */
#define PEER_EARLY_MAX (256 * 1024)

struct peer_pending {
	struct hmap_le le;
	char *method;        /* points into key, after the branch */
	char key[];          /* "branch method" */
};

struct peer {
	struct peer_pool *pool;
	struct hmap_le le;
	char *fqdn;
	enum conf_edge_id edge;
	struct conn *c;
	bool up;             /* handshake done */
	bool linked;
	/* until up: where else to try, and a copy of what was sent, to send again there */
	struct sockaddr_storage targets[PEER_MAX_TARGETS];
	size_t ntargets, next_target;
	uint16_t port;
	bool tcp;
	char *early;
	size_t early_len;
	bool early_lost;     /* more was sent than we keep: no failover */
	struct hmap *pending; /* unanswered requests by "branch method" */
};

struct peer_pool {
	struct event_base *base;
	const struct tp *tp;
	struct hmap *map;
	struct sockaddr_storage local[CONF_NEDGES];
	struct tlsctx *client_tls[CONF_NEDGES]; /* NULL: tp's */
	size_t count[CONF_NEDGES];
	peer_recv_h *rh;
	peer_fail_h *fh;
	void *arg;
};

static void peer_pending_free(struct hmap_le *le, void *arg)
{
	struct peer *p = arg;

	hmap_unlink(p->pending, le);
	free(le->data);
}

static void peer_pending_clear(struct peer *p)
{
	if (p->pending)
		hmap_apply(p->pending, peer_pending_free, p);
}

static void peer_destroy(void *data)
{
	struct peer *p = data;

	peer_pending_clear(p);
	mem_deref(p->pending);
	if (p->c)
		conn_close(p->c);
	mem_deref(p->c);
	mem_deref(p->fqdn);
	free(p->early);
}

static void peer_unlink(struct peer *p)
{
	if (!p->linked)
		return;
	hmap_unlink(p->pool->map, &p->le);
	p->pool->count[p->edge]--;
	p->linked = false;
}

static void peer_drop(struct hmap_le *le, void *arg)
{
	struct peer *p = le->data;

	peer_unlink(p);
	mem_deref(p);
}

static void peer_pool_destroy(void *data)
{
	struct peer_pool *pp = data;

	int i;

	hmap_apply(pp->map, peer_drop, NULL);
	mem_deref(pp->map);
	for (i = 0; i < CONF_NEDGES; i++)
		mem_deref(pp->client_tls[i]);
}

int peer_pool_alloc(struct peer_pool **ppp, struct event_base *base, const struct conf *cfg,
		    const struct tp *tp, peer_recv_h *rh, peer_fail_h *fh, void *arg)
{
	struct peer_pool *pp;
	int err, i;

	if (!ppp || !base || !cfg || !tp || !rh || !fh)
		return EINVAL;
	pp = mem_zalloc(sizeof(*pp), peer_pool_destroy);
	if (!pp)
		return ENOMEM;
	pp->base = base;
	pp->tp = tp;
	pp->rh = rh;
	pp->fh = fh;
	pp->arg = arg;
	for (i = 0; i < CONF_NEDGES; i++) {
		/* the edge's own IP, any port: the peer sees the address it expects */
		memcpy(&pp->local[i], &conf_edge(cfg, (enum conf_edge_id)i)->listen_sa,
		       sizeof(pp->local[i]));
		sa_set_port(&pp->local[i], 0);
	}
	err = hmap_alloc(&pp->map, 64);
	if (err)
		mem_deref(pp);
	else {
		hmap_set_nocase(pp->map);
		*ppp = pp;
	}
	return err;
}

static void peer_estab(struct conn *c, void *arg)
{
	struct peer *p = arg;

	p->up = true;
	free(p->early);
	p->early = NULL;
	p->early_len = 0;
	log_info("%s edge: connected to %s (CN %s)", conf_edge_name(p->edge), p->fqdn,
		 conn_peer_cn(c));
}

static void peer_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct peer *p = arg;

	p->pool->rh(c, p->edge, buf, len, p->pool->arg);
}

static void peer_release(evutil_socket_t fd, short what, void *arg)
{
	mem_deref(arg);
}

struct peer_closing {
	struct peer_pool *pp;
	struct peer *p;
	int err;
	const char *why;
};

static void peer_pending_fail(struct hmap_le *le, void *arg)
{
	struct peer_closing *pcl = arg;
	struct peer_pending *q = le->data;
	char branch[256];
	size_t bl = (size_t)(q->method - q->key - 1);

	snprintf(branch, sizeof(branch), "%.*s", (int)bl, q->key);
	hmap_unlink(pcl->p->pending, le);
	pcl->pp->fh(branch, q->method, pcl->err, pcl->why, pcl->pp->arg);
	free(q);
}

static int peer_connect(struct peer *p);

/* DNS-003: a connection that never came up (refused, timed out, TLS failed) moves on to the
 * next target with the same messages. True if one is trying. */
static bool peer_failover(struct peer *p, int err)
{
	struct timeval now = { 0, 0 };
	struct conn *old = p->c;
	char txt[64];

	if (p->up || p->early_lost)
		return false;
	while (p->next_target < p->ntargets) {
		size_t i = p->next_target++;

		log_warn("%s edge: %s target %zu failed (%s): trying %s", conf_edge_name(p->edge),
			 p->fqdn, i, err ? strerror(err) : "closed",
			 sa_fmt((struct sockaddr *)&p->targets[i], txt, sizeof(txt)));
		p->c = NULL;
		if (peer_connect(p) == 0 &&
		    (!p->early_len || conn_send(p->c, p->early, p->early_len) == 0)) {
			/* the old conn is inside its own close callback: release it later */
			if (event_base_once(p->pool->base, -1, EV_TIMEOUT, peer_release, old,
					    &now) != 0)
				log_warn("cannot defer release of a failed connection");
			return true;
		}
		if (p->c) {
			conn_close(p->c);
			p->c = mem_deref(p->c);
		}
	}
	p->c = old;
	return false;
}

static void peer_closed(struct conn *c, int err, void *arg)
{
	struct peer *p = arg;
	struct peer_pool *pp = p->pool;
	struct peer_closing pcl;
	struct timeval now = { 0, 0 };
	char why[256];

	if (peer_failover(p, err))
		return;

	snprintf(why, sizeof(why), "connection to %s %s: %s", p->fqdn,
		 p->up ? "lost" : "failed", err ? strerror(err) : "closed by peer");
	log_warn("%s edge: %s", conf_edge_name(p->edge), why);
	peer_unlink(p);
	/* requests not answered yet: their senders get a prompt failure (ROB-005); the next
	 * request opens a new connection, as this one is no longer in the pool */
	pcl.pp = pp;
	pcl.p = p;
	pcl.err = err ? err : ECONNRESET;
	pcl.why = why;
	hmap_apply(p->pending, peer_pending_fail, &pcl);
	if (event_base_once(pp->base, -1, EV_TIMEOUT, peer_release, p, &now) != 0)
		log_warn("cannot defer release of the connection to %s", p->fqdn);
}

static struct tlsctx *peer_client_tls(const struct peer_pool *pp, enum conf_edge_id edge)
{
	return pp->client_tls[edge] ? pp->client_tls[edge] : tp_client_tls(pp->tp, edge);
}

/* Connects p to targets[next_target - 1]; a port of 0 there means the configured one. */
static int peer_connect(struct peer *p)
{
	struct peer_pool *pp = p->pool;
	struct conn_handlers h = { .estab = peer_estab, .msg = peer_msg, .close = peer_closed };
	struct sipframe_limits lim = { .max_head = TP_MAX_HEAD, .max_body = TP_MAX_BODY,
				       .max_discard = TP_MAX_DISCARD };
	struct sockaddr_storage to = p->targets[p->next_target - 1];
	char txt[64];
	int err;

	if (!sa_port((struct sockaddr *)&to))
		sa_set_port(&to, p->port);
	h.arg = p;
	err = conn_connect(&p->c, pp->base, p->tcp ? NULL : peer_client_tls(pp, p->edge),
			   (const struct sockaddr *)&pp->local[p->edge],
#ifdef AP_MUTANT_TLS_SERVER_NAME_UNCHECKED
			   (const struct sockaddr *)&to, NULL, &h); /* server name not checked */
#else
			   (const struct sockaddr *)&to, p->tcp ? NULL : p->fqdn, &h);
#endif
	if (err) {
		log_warn("%s edge: cannot connect to %s (%s): %s", conf_edge_name(p->edge),
			 p->fqdn, sa_fmt((struct sockaddr *)&to, txt, sizeof(txt)),
			 strerror(err));
		return err;
	}
	conn_set_limits(p->c, &lim);
	if (p->next_target < p->ntargets)
		conn_set_setup_timeout(p->c, PEER_FAILOVER_SETUP_MS);
	log_info("%s edge: connecting to %s at %s", conf_edge_name(p->edge), p->fqdn,
		 sa_fmt((struct sockaddr *)&to, txt, sizeof(txt)));
	return 0;
}

static int peer_open(struct peer_pool *pp, struct peer **pp_out, const struct peer_dest *d,
		     const struct sockaddr_storage *addrs, size_t naddrs)
{
	struct peer *p;
	int err = EDESTADDRREQ;

	if (!addrs || !naddrs)
		return EDESTADDRREQ;
	p = mem_zalloc(sizeof(*p), peer_destroy);
	if (!p)
		return ENOMEM;
	p->pool = pp;
	p->edge = d->edge;
	p->port = d->port;
	p->tcp = d->tcp;
	p->ntargets = naddrs < PEER_MAX_TARGETS ? naddrs : PEER_MAX_TARGETS;
#ifdef AP_MUTANT_DNS_NO_FAILOVER
	memcpy(p->targets, addrs, p->ntargets * sizeof(*addrs));
	p->ntargets = 1; /* no failover: only the first target is tried */
#else
	memcpy(p->targets, addrs, p->ntargets * sizeof(*addrs));
#endif
	p->fqdn = mem_strdup(d->fqdn);
	if (!p->fqdn || hmap_alloc(&p->pending, 64)) {
		mem_deref(p);
		return ENOMEM;
	}
	/* a target that cannot even start connecting is skipped at once */
	while (p->next_target < p->ntargets) {
		p->next_target++;
		err = peer_connect(p);
		if (!err)
			break;
	}
	if (err) {
		mem_deref(p);
		return err;
	}
	err = hmap_insert(pp->map, &p->le, p->fqdn, p);
	if (err) {
		mem_deref(p);
		return err;
	}
	p->linked = true;
	pp->count[d->edge]++;
	*pp_out = p;
	return 0;
}

/* What was sent before the connection came up, for a failover to send again. */
static void peer_keep_early(struct peer *p, const char *buf, size_t len)
{
	char *n;

	if (p->up || p->early_lost || p->next_target >= p->ntargets)
		return;
	if (p->early_len + len > PEER_EARLY_MAX ||
	    !(n = realloc(p->early, p->early_len + len))) {
		p->early_lost = true;
		return;
	}
	memcpy(n + p->early_len, buf, len);
	p->early = n;
	p->early_len += len;
}

int peer_pool_set_tls(struct peer_pool *pp, enum conf_edge_id edge, struct tlsctx *client_tls)
{
	if (!pp || edge >= CONF_NEDGES || !client_tls || tlsctx_is_server(client_tls))
		return EINVAL;
	mem_deref(pp->client_tls[edge]);
	pp->client_tls[edge] = mem_ref(client_tls);
	log_info("%s edge: new client certificate for future connections", conf_edge_name(edge));
	return 0;
}

bool peer_is_up(const struct peer_pool *pp, const char *fqdn)
{
	const struct peer *p = pp ? hmap_find(pp->map, fqdn) : NULL;

	return p && p->up;
}

int peer_send(struct peer_pool *pp, const struct peer_dest *dest,
	      const struct sockaddr_storage *addrs, size_t naddrs, const char *buf, size_t len,
	      const char *branch, const char *method)
{
	struct peer *p;
	int err;

	if (!pp || !dest || !dest->fqdn || !buf || !branch != !method)
		return EINVAL;
	p = hmap_find(pp->map, dest->fqdn);
	if (!p) {
		err = peer_open(pp, &p, dest, addrs, naddrs);
		if (err)
			return err;
	}
	err = conn_send(p->c, buf, len);
	if (err)
		return err;
	peer_keep_early(p, buf, len);
	if (!branch || !strcmp(method, "ACK"))
		return 0; /* never answered */
	{
		size_t bl = strlen(branch), ml = strlen(method) + 1;
		struct peer_pending *q = malloc(sizeof(*q) + bl + 1 + ml);

		if (!q) {
			log_warn("no memory to track %s %s: a failure will not be answered",
				 method, branch);
			return 0;
		}
		memcpy(q->key, branch, bl);
		q->key[bl] = ' ';
		q->method = q->key + bl + 1;
		memcpy(q->method, method, ml);
		if (hmap_find(p->pending, q->key) || hmap_insert(p->pending, &q->le, q->key, q))
			free(q); /* a retransmission: tracked already */
	}
	return 0;
}

void peer_settle(struct peer_pool *pp, const char *fqdn, const char *branch,
		 const char *method)
{
	struct peer *p = pp && fqdn ? hmap_find(pp->map, fqdn) : NULL;
	struct peer_pending *q;
	char key[512];

	if (!p || !branch || !method)
		return;
	if ((size_t)snprintf(key, sizeof(key), "%s %s", branch, method) >= sizeof(key))
		return;
	q = hmap_find(p->pending, key);
	if (!q)
		return;
	hmap_unlink(p->pending, &q->le);
	free(q);
}

size_t peer_pending_count(const struct peer_pool *pp, const char *fqdn)
{
	const struct peer *p = pp && fqdn ? hmap_find(pp->map, fqdn) : NULL;

	return p ? hmap_count(p->pending) : 0;
}

size_t peer_count(const struct peer_pool *pp, enum conf_edge_id edge)
{
	return pp && edge < CONF_NEDGES ? pp->count[edge] : 0;
}
