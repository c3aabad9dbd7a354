/* peer: persistent MTLS client connections keyed by destination FQDN (CN checked = FQDN),
 * with the list of requests waiting for the handshake so a failure can answer them. */
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

struct peer_pending {
	struct peer_pending *next;
	char *method;        /* points into the same block, after the branch */
	char branch[];
};

struct peer {
	struct peer_pool *pool;
	struct hmap_le le;
	char *fqdn;
	enum conf_edge_id edge;
	struct conn *c;
	bool up;             /* handshake done */
	bool linked;
	struct peer_pending *pending, **tail;
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

static void peer_pending_clear(struct peer *p)
{
	while (p->pending) {
		struct peer_pending *q = p->pending;

		p->pending = q->next;
		free(q);
	}
	p->tail = &p->pending;
}

static void peer_destroy(void *data)
{
	struct peer *p = data;

	peer_pending_clear(p);
	if (p->c)
		conn_close(p->c);
	mem_deref(p->c);
	mem_deref(p->fqdn);
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
	peer_pending_clear(p); /* the queued requests are on the wire now */
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

static void peer_closed(struct conn *c, int err, void *arg)
{
	struct peer *p = arg;
	struct peer_pool *pp = p->pool;
	struct timeval now = { 0, 0 };
	char why[256];

	snprintf(why, sizeof(why), "connection to %s %s: %s", p->fqdn,
		 p->up ? "lost" : "failed", err ? strerror(err) : "closed by peer");
	log_warn("%s edge: %s", conf_edge_name(p->edge), why);
	peer_unlink(p);
	/* requests that never left: their senders get a prompt failure (ROB-005) */
	while (p->pending) {
		struct peer_pending *q = p->pending;

		p->pending = q->next;
		pp->fh(q->branch, q->method, err ? err : ECONNRESET, why, pp->arg);
		free(q);
	}
	p->tail = &p->pending;
	if (event_base_once(pp->base, -1, EV_TIMEOUT, peer_release, p, &now) != 0)
		log_warn("cannot defer release of the connection to %s", p->fqdn);
}

static struct tlsctx *peer_client_tls(const struct peer_pool *pp, enum conf_edge_id edge)
{
	return pp->client_tls[edge] ? pp->client_tls[edge] : tp_client_tls(pp->tp, edge);
}

static int peer_open(struct peer_pool *pp, struct peer **pp_out, const struct peer_dest *d,
		     const struct sockaddr *addr)
{
	struct conn_handlers h = { .estab = peer_estab, .msg = peer_msg, .close = peer_closed };
	struct sockaddr_storage to;
	struct peer *p;
	char txt[64];
	int err;

	if (!addr)
		return EDESTADDRREQ;
	p = mem_zalloc(sizeof(*p), peer_destroy);
	if (!p)
		return ENOMEM;
	p->pool = pp;
	p->edge = d->edge;
	p->tail = &p->pending;
	p->fqdn = mem_strdup(d->fqdn);
	if (!p->fqdn) {
		mem_deref(p);
		return ENOMEM;
	}
	memset(&to, 0, sizeof(to));
	memcpy(&to, addr, sa_len(addr));
	sa_set_port(&to, d->port);
	h.arg = p;
	err = conn_connect(&p->c, pp->base, d->tcp ? NULL : peer_client_tls(pp, d->edge),
			   (const struct sockaddr *)&pp->local[d->edge],
			   (const struct sockaddr *)&to, d->tcp ? NULL : d->fqdn, &h);
	if (err) {
		log_warn("%s edge: cannot connect to %s (%s): %s", conf_edge_name(d->edge),
			 d->fqdn, sa_fmt((struct sockaddr *)&to, txt, sizeof(txt)),
			 strerror(err));
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
	log_info("%s edge: connecting to %s at %s", conf_edge_name(d->edge), d->fqdn,
		 sa_fmt((struct sockaddr *)&to, txt, sizeof(txt)));
	*pp_out = p;
	return 0;
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

int peer_send(struct peer_pool *pp, const struct peer_dest *dest, const struct sockaddr *addr,
	      const char *buf, size_t len, const char *branch, const char *method)
{
	struct peer *p;
	int err;

	if (!pp || !dest || !dest->fqdn || !buf || !branch || !method)
		return EINVAL;
	p = hmap_find(pp->map, dest->fqdn);
	if (!p) {
		err = peer_open(pp, &p, dest, addr);
		if (err)
			return err;
	}
	err = conn_send(p->c, buf, len);
	if (err)
		return err;
	if (!p->up) {
		size_t bl = strlen(branch) + 1, ml = strlen(method) + 1;
		struct peer_pending *q = malloc(sizeof(*q) + bl + ml);

		if (!q) {
			log_warn("no memory to track %s %s: a failure will not be answered",
				 method, branch);
			return 0;
		}
		memcpy(q->branch, branch, bl);
		q->method = q->branch + bl;
		memcpy(q->method, method, ml);
		q->next = NULL;
		*p->tail = q;
		p->tail = &q->next;
	}
	return 0;
}

size_t peer_count(const struct peer_pool *pp, enum conf_edge_id edge)
{
	return pp && edge < CONF_NEDGES ? pp->count[edge] : 0;
}
