/* policy: the direction rules of a federation edge: outbound only from enabled users towards
 * allowed providers, inbound only from an authenticated provider towards our enabled users. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "../state/state.h"
#include "methods.h"
#include "policy_int.h"

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

int policy_refuse(struct policy_verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	v->status = status;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return status == 400 ? EBADMSG : EPERM;
}

void policy_refuse_hdr(struct policy_verdict *v, const char *name, const char *value)
{
	v->hdr_name = name;
	snprintf(v->hdr_value, sizeof(v->hdr_value), "%s", value);
}

/* CONF-002: only an allowed provider passes, and not while it is blocked. */
static int policy_provider_ok(const struct state_provider *p, struct policy_verdict *v)
{
#ifdef AP_MUTANT_CONF_ALLOW_IGNORED
	/* allow flag ignored */
#else
	if (!p->allowed)
		return policy_refuse(v, 403, "provider %s is not allowed (CONF-002)", p->name);
#endif
#ifdef AP_MUTANT_CONF_BLOCK_IGNORED
	/* block flag ignored */
#else
	if (p->blocked)
		return policy_refuse(v, 403, "provider %s is temporarily blocked (CONF-002)",
				     p->name);
#endif
	return 0;
}

/* "user@host" of a From or To URI into buf; ENOENT when there is none. */
static int policy_aor(const struct sipmsg *req, enum sipmsg_uri_of which, char *buf,
		      size_t size, const char **hostp)
{
	const char *user = NULL, *host = NULL;

	if (sipmsg_uri(req, which, &user, &host) || !host || !*host)
		return ENOENT;
	snprintf(buf, size, "%s%s%s", user ? user : "", user && *user ? "@" : "", host);
	if (hostp)
		*hostp = host;
	return 0;
}

/* RFC 3261 16.3 step 5: we support no extension a proxy must understand. */
static int policy_proxy_require(const struct sipmsg *req, struct policy_verdict *v)
{
	char list[160] = "";
	const char *h;
	size_t off = 0;
	int i;

	for (i = 0; (h = sipmsg_header(req, "Proxy-Require", i)) != NULL && i < 16; i++) {
		int n = snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", h);

		if (n < 0 || (size_t)n >= sizeof(list) - off)
			break;
		off += (size_t)n;
	}
#ifdef AP_MUTANT_SIP_PROXY_REQUIRE_IGNORED
	if (i || !i)
		return 0; /* Proxy-Require ignored */
	policy_refuse_hdr(v, "Unsupported", list);
#else
	if (!i)
		return 0;
	policy_refuse_hdr(v, "Unsupported", list);
#endif
	return policy_refuse(v, 420, "unsupported Proxy-Require: %s (SIP-004)", list);
}

static int policy_outbound(const struct policy *pol, const struct state *st,
			   const struct sipmsg *req, const char *host, struct policy_verdict *v)
{
	const struct state_settings *set = state_settings(st);
	const struct state_provider *p;
	const char *fhost = NULL, *thost = NULL;
	char from[256], to[256];
	int err;

#ifdef AP_MUTANT_POL_PIC_SWITCH_IGNORED
	/* the PIC switch ignored outbound */
#else
	if (!set->pic_enabled)
		return policy_refuse(v, 403, "public IM connectivity is switched off (POL-003)");
#endif
	if (policy_aor(req, SIPMSG_FROM, from, sizeof(from), &fhost) ||
	    !state_is_our_domain(st, fhost))
		return policy_refuse(v, 403, "From %s is not one of our users",
				     fhost ? from : "(none)");
#ifdef AP_MUTANT_POL_USER_OUT_UNCHECKED
	/* outbound user not checked */
#else
	if (!state_user_enabled(st, from))
		return policy_refuse(v, 403, "user %s is not enabled for public IM connectivity "
				     "(POL-001)", from);
#endif
	p = state_provider_by_domain(st, host);
	if (!p && v->in_dialog && !policy_aor(req, SIPMSG_TO, to, sizeof(to), &thost)) {
		/* an in-dialog Request-URI is the remote target (a Contact), not a domain */
		p = state_provider_by_domain(st, thost);
		if (p)
			host = thost;
	}
	if (!p) {
		if (state_is_our_domain(st, host))
			return policy_refuse(v, 403, "domain %s is ours: not routed outward",
					     host);
		if (set->default_route && *set->default_route) {
			/* CONF-004: a clearing house takes what no provider serves */
			v->dest_fqdn = set->default_route;
			v->dest_port = 5061;
			v->out_edge = CONF_EXTERNAL;
			return methods_check(req, v);
		}
		return policy_refuse(v, 404, "no provider serves domain %s", host);
	}
	v->provider = p;
	err = policy_provider_ok(p, v);
	if (err)
		return err;
	v->dest_fqdn = p->fqdn;
	v->dest_port = p->port ? p->port : 5061;
	v->dest_tcp = p->tcp;
	v->out_edge = CONF_EXTERNAL;
	return methods_check(req, v);
}

static int policy_inbound(const struct policy *pol, const struct state *st,
			  const struct sipmsg *req, const char *host, const char *peer_cn,
			  struct policy_verdict *v)
{
	const struct state_provider *p = NULL;
	const struct conf_edge *in = conf_edge(pol->cfg, CONF_INTERNAL);
	const struct conf_edge *ext = conf_edge(pol->cfg, CONF_EXTERNAL);
	const char *fhost = NULL, *thost = NULL;
	char from[256], to[256];
	int err;

	/* TLS-003: the certificate CN is the provider's identity, nothing in the message is */
#ifdef AP_MUTANT_TRUST_PROVIDER_FROM_MESSAGE
	/* the provider taken from the message's From domain, not from the certificate */
	if (!policy_aor(req, SIPMSG_FROM, from, sizeof(from), &fhost))
		p = state_provider_by_domain(st, fhost);
#else
	if (peer_cn && *peer_cn)
		p = state_provider_by_fqdn(st, peer_cn);
#endif
	if (!p)
		return policy_refuse(v, 403, "peer certificate CN '%s' is not a configured "
				     "provider edge (TLS-003)", peer_cn ? peer_cn : "");
	v->provider = p;
	err = policy_provider_ok(p, v);
	if (err)
		return err;
	if (!state_settings(st)->pic_enabled)
		return policy_refuse(v, 403, "public IM connectivity is switched off (POL-003)");
#ifdef AP_MUTANT_POL_FROM_DOMAIN_UNCHECKED
	if (policy_aor(req, SIPMSG_FROM, from, sizeof(from), &fhost)) /* any From domain */
#else
	if (policy_aor(req, SIPMSG_FROM, from, sizeof(from), &fhost) ||
	    state_provider_by_domain(st, fhost) != p)
#endif
		return policy_refuse(v, 403, "From domain %s is not served by provider %s "
				     "(POL-005)", fhost ? fhost : "(none)", p->name);
	if (!state_is_our_domain(st, host) && strcasecmp(host, ext->fqdn))
		return policy_refuse(v, 404, "domain %s is not ours (POL-006)", host);
#ifdef AP_MUTANT_POL_TO_DOMAIN_UNCHECKED
	if (policy_aor(req, SIPMSG_TO, to, sizeof(to), &thost)) /* any To domain */
#else
	if (policy_aor(req, SIPMSG_TO, to, sizeof(to), &thost) || !state_is_our_domain(st, thost))
#endif
		return policy_refuse(v, 404, "To domain %s is not ours (POL-006)",
				     thost ? thost : "(none)");
#ifdef AP_MUTANT_POL_USER_IN_UNCHECKED
	/* inbound user not checked */
#else
	if (!state_user_enabled(st, to))
		return policy_refuse(v, 403, "user %s is not enabled for public IM connectivity "
				     "(POL-002)", to);
#endif
	v->dest_fqdn = in->next_hop;
	v->dest_port = (uint16_t)in->next_hop_port;
	v->dest_tcp = in->next_hop_tcp;
	v->out_edge = CONF_INTERNAL;
	return methods_check(req, v);
}

int policy_check(const struct policy *pol, const struct state *st, const struct sipmsg *req,
		 enum conf_edge_id in, const char *peer_cn, struct policy_verdict *v)
{
	const char *user, *host = NULL;
	int err;

	if (!pol || !st || !req || !v)
		return EINVAL;
	memset(v, 0, sizeof(*v));
	if (sipmsg_uri(req, SIPMSG_RURI, &user, &host) != 0 || !host || !*host)
		return policy_refuse(v, 400, "Request-URI has no host");
	v->in_dialog = *sipmsg_to_tag(req) != '\0';
	err = policy_proxy_require(req, v);
	if (err)
		return err;
	if (in == CONF_INTERNAL)
		return policy_outbound(pol, st, req, host, v);
	return policy_inbound(pol, st, req, host, peer_cn, v);
}
