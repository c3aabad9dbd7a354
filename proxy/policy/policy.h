/* policy: may this request pass, and where does it go? (direction, provider, user, method) */
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
	const char *hdr_name;       /* a header the refusal carries (Allow, Unsupported, ...) */
	char hdr_value[160];
	const struct state_provider *provider; /* the provider on the far side, if any */
	bool in_dialog;             /* a To tag: the request belongs to a dialog */
	/* where it goes when forwarded (pointers into the snapshot or the config) */
	const char *dest_fqdn;
	uint16_t dest_port;
	bool dest_tcp;
	enum conf_edge_id out_edge;
};

/* cfg gives the edges (our FQDNs, the internal next hop); a reference is taken. */
int policy_alloc(struct policy **pp, const struct conf *cfg);

/* Decides for a request that arrived on edge in from a peer whose certificate CN is peer_cn
 * ("" for TCP), against the snapshot st. Checks, in order (the first failing one answers):
 *  - every request: a Request-URI host (else 400); no Proxy-Require (else 420 with
 *    Unsupported, RFC 3261 16.3 step 5: this proxy supports no extension);
 *  - outbound (in = internal): global PIC switch on (403, POL-003); From is one of our users
 *    and enabled for PIC (403 "user X is not enabled for public IM connectivity (POL-001)");
 *    the target domain (Request-URI host; for in-dialog requests the To host when the
 *    Request-URI names no provider) is not ours (403) and is served by a provider, else the
 *    settings' default route (a clearing house) when set, else 404; that provider allowed
 *    and not blocked (403 naming it, CONF-002);
 *  - inbound (in = external): the peer CN is the edge FQDN of a provider (403, TLS-003), that
 *    provider allowed and not blocked (403, CONF-002), PIC on (403); the From domain is served
 *    by it (403, POL-005); the Request-URI host is ours (or our external FQDN: a Contact we
 *    rewrote) and the To domain is ours (404, POL-006); the To user is enabled for PIC (403,
 *    POL-002: unknown and disabled users alike, so nobody can probe which users exist);
 *  - both: methods_check() (POL-007, POL-008).
 * Returns 0 to forward (v->dest_*, v->out_edge set), EPERM when refused (v->status, v->why
 * and perhaps v->hdr_* set), EBADMSG for a 400. */
int policy_check(const struct policy *pol, const struct state *st, const struct sipmsg *req,
		 enum conf_edge_id in, const char *peer_cn, struct policy_verdict *v);

#endif
