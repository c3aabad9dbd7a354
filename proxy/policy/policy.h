/* policy: may this request pass, and where does it go? (direction, provider, domain checks) */
#ifndef AP_POLICY_H
#define AP_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "../conf/conf.h"

struct policy;
struct sipmsg;
struct state;
struct state_provider;

struct policy_verdict {
	int status;                 /* 0: forward; else the response the proxy sends itself */
	char why[256];              /* for refusals: the Warning text naming the reason */
	const struct state_provider *provider; /* the provider on the far side, if any */
	/* where it goes when forwarded */
	const char *dest_fqdn;
	uint16_t dest_port;
	bool dest_tcp;
	enum conf_edge_id out_edge;
};

int policy_alloc(struct policy **pp, const struct conf *cfg);

/* Decides for a request that arrived on edge in from a peer whose certificate CN is peer_cn
 * ("" for TCP). Outbound (in = internal): the Request-URI domain must be served by an allowed,
 * unblocked provider (else 403). Inbound (in = external): the peer CN must equal a provider's
 * edge FQDN (TLS-003) of an allowed, unblocked provider and the From domain must be one it
 * serves (POL-005), else 403; the Request-URI domain must be ours (POL-006), else 404.
 * Returns 0 to forward, EPERM when refused (v->status, v->why set), EBADMSG when the request
 * has no Request-URI host (v->status 400). */
int policy_check(const struct policy *pol, const struct state *st, const struct sipmsg *req,
		 enum conf_edge_id in, const char *peer_cn, struct policy_verdict *v);

#endif
