/* spine_resend: RFC 3261 18.2.2: a response whose connection has gone goes over a new (or
 * pooled) connection to the peer it answers, its transaction state unchanged. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "route/route.h"
#include "peer/peer.h"
#include "state/state.h"
#include "spine_int.h"

#define LOG_MODULE "spine"

/* A response waiting for its peer's address. */
struct spine_resend {
	struct spine *s;
	struct peer_dest dest;
	char *fqdn;
	char *buf;
	size_t len;
};

static void spine_resend_destroy(void *data)
{
	struct spine_resend *r = data;

	mem_deref(r->fqdn);
	mem_deref(r->buf);
}

static void spine_resend_routed(int err, const char *why, const struct route_addrs *ra,
				void *arg)
{
	struct spine_resend *r = arg;

	if (!err)
		err = peer_send(r->s->peers, &r->dest, ra->a, ra->n, r->buf, r->len, NULL, NULL);
	if (err && err != ECANCELED)
		log_info("%s edge: response to %s not delivered over a new connection: %s",
			 conf_edge_name(r->dest.edge), r->fqdn, why ? why : strerror(err));
	mem_deref(r);
}

/* The peer a response goes back to is the one whose certificate the old connection showed
 * (a provider's edge FQDN, or the inside next hop): the new connection is name-checked the
 * same way, so the answer cannot be steered elsewhere by a Via (RFC 3261 18.2.2 would use
 * the Via's sent-by; the trusted name is the safer address here). */
int spine_resend(struct spine *s, struct conn *c, enum conf_edge_id edge, const char *buf,
		 size_t len)
{
	const struct conf_edge *ie = conf_edge(s->cfg, CONF_INTERNAL);
	const char *cn = conn_peer_cn(c);
	struct peer_dest d = { NULL, 0, false, edge };
	struct spine_resend *r;
	int err;

	if (!cn || !*cn)
		return ENOTCONN;
	if (edge == CONF_EXTERNAL) {
		const struct state_provider *p = state_provider_by_fqdn(s->snap, cn);

		if (!p)
			return ENOTCONN;
		d = (struct peer_dest){ p->fqdn, p->port, p->tcp, CONF_EXTERNAL };
	} else {
		if (!ie->next_hop || strcasecmp(cn, ie->next_hop))
			return ENOTCONN;
		d = (struct peer_dest){ ie->next_hop, (uint16_t)ie->next_hop_port,
					ie->next_hop_tcp, CONF_INTERNAL };
	}
	if (peer_is_up(s->peers, d.fqdn))
		return peer_send(s->peers, &d, NULL, 0, buf, len, NULL, NULL);
	r = mem_zalloc(sizeof(*r), spine_resend_destroy);
	if (!r)
		return ENOMEM;
	r->s = s;
	r->fqdn = mem_strdup(d.fqdn);
	r->buf = mem_zalloc(len + 1, NULL);
	if (!r->fqdn || !r->buf) {
		mem_deref(r);
		return ENOMEM;
	}
	memcpy(r->buf, buf, len);
	r->len = len;
	r->dest = d;
	r->dest.fqdn = r->fqdn;
	err = route_resolve(s->route, r->fqdn, NULL, spine_resend_routed, r);
	if (err)
		mem_deref(r);
	return err;
}
