/* policy: the direction rules of a federation edge: outbound only towards allowed providers,
 * inbound only from an authenticated provider towards our own domains. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "../state/state.h"
#include "policy.h"

#define LOG_MODULE "policy"

struct policy {
	const struct conf *cfg;
};

static void policy_destroy(void *data)
{
	struct policy *pol = data;

	mem_deref((void *)pol->cfg);
}

int policy_alloc(struct policy **pp, const struct conf *cfg)
{
	struct policy *pol;

	if (!pp || !cfg)
		return EINVAL;
	pol = mem_zalloc(sizeof(*pol), policy_destroy);
	if (!pol)
		return ENOMEM;
	pol->cfg = mem_ref((void *)cfg);
	*pp = pol;
	return 0;
}

static int policy_refuse(struct policy_verdict *v, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int policy_refuse(struct policy_verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	v->status = status;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return status == 400 ? EBADMSG : EPERM;
}

/* CONF-002: only an allowed provider passes, and not while it is blocked. */
static int policy_provider_ok(const struct state_provider *p, struct policy_verdict *v)
{
	if (!p->allowed)
		return policy_refuse(v, 403, "provider %s is not allowed (CONF-002)", p->name);
	if (p->blocked)
		return policy_refuse(v, 403, "provider %s is temporarily blocked", p->name);
	return 0;
}

static int policy_outbound(const struct policy *pol, const struct state *st, const char *host, struct policy_verdict *v)
{
	const struct state_provider *p = state_provider_by_domain(st, host);
	int err;

	if (!p) {
		if (state_is_our_domain(st, host))
			return policy_refuse(v, 403, "domain %s is ours: not routed outward",
					     host);
		return policy_refuse(v, 403, "no provider serves domain %s", host);
	}
	v->provider = p;
	err = policy_provider_ok(p, v);
	if (err)
		return err;
	v->dest_fqdn = p->fqdn;
	v->dest_port = (uint16_t)p->port;
	v->dest_tcp = p->tcp;
	v->out_edge = CONF_EXTERNAL;
	return 0;
}

static int policy_inbound(const struct policy *pol, const struct state *st,
			  const struct sipmsg *req, const char *host,
			  const char *peer_cn, struct policy_verdict *v)
{
	const struct state_provider *p = NULL;
	const struct conf_edge *in = conf_edge(pol->cfg, CONF_INTERNAL);
	const char *fuser, *fhost;
	int err;

	/* TLS-003: the certificate CN is the provider's identity, nothing in the message is */
	if (peer_cn && *peer_cn)
		p = state_provider_by_fqdn(st, peer_cn);
	if (!p)
		return policy_refuse(v, 403, "peer certificate CN '%s' is not a configured "
				     "provider edge (TLS-003)", peer_cn ? peer_cn : "");
	v->provider = p;
	err = policy_provider_ok(p, v);
	if (err)
		return err;
	if (sipmsg_uri(req, SIPMSG_FROM, &fuser, &fhost) != 0 ||
	    state_provider_by_domain(st, fhost) != p)
		return policy_refuse(v, 403, "From domain %s is not served by provider %s "
				     "(POL-005)", fhost ? fhost : "(none)", p->name);
	if (!state_is_our_domain(st, host))
		return policy_refuse(v, 404, "domain %s is not ours (POL-006)", host);
	v->dest_fqdn = in->next_hop;
	v->dest_port = (uint16_t)in->next_hop_port;
	v->dest_tcp = in->next_hop_tcp;
	v->out_edge = CONF_INTERNAL;
	return 0;
}

int policy_check(const struct policy *pol, const struct state *st, const struct sipmsg *req,
		 enum conf_edge_id in, const char *peer_cn, struct policy_verdict *v)
{
	const char *user, *host = NULL;

	if (!pol || !st || !req || !v)
		return EINVAL;
	memset(v, 0, sizeof(*v));
	if (sipmsg_uri(req, SIPMSG_RURI, &user, &host) != 0 || !host || !*host)
		return policy_refuse(v, 400, "Request-URI has no host");
	if (in == CONF_INTERNAL)
		return policy_outbound(pol, st, host, v);
	return policy_inbound(pol, st, req, host, peer_cn, v);
}
