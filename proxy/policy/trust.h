/* trust: the edge's trust marking of requests passed inward (TRUST-001..005) and the
 * verification claim on requests sent out.
 *
 * Header syntax (one header, parameters separated by ';', no spaces, in this order):
 *   ms-edge-proxy-message-trust: ms-source-type=InternetDomain;ms-ep-fqdn=<our external FQDN>;
 *     ms-source-network=publiccloud;ms-source-verified-user=verified|unverified;
 *     ms-remote-fqdn=<provider edge FQDN>
 * A provider claims that it authenticated its sender with the header
 *   ms-sender-verified: yes
 * (any other value, or none, is no claim). The claim is read from requests arriving from a
 * provider, then removed (the trust header carries our conclusion); on requests we send out
 * any claim from inside is removed and, when mark_outbound_verifiable is on, ours added. */
#ifndef AP_TRUST_H
#define AP_TRUST_H

#include <stdbool.h>

#include "../state/state.h"

struct sipmsg;

#define TRUST_HEADER "ms-edge-proxy-message-trust"
#define TRUST_CLAIM_HEADER "ms-sender-verified"

/* TRUST-003..005: verified or not, given the provider's filter mode and its claim. */
bool trust_verdict(enum state_filter mode, bool claimed);
/* True if the request carries a positive verification claim. */
bool trust_claimed(const struct sipmsg *req);
/* Inbound (towards our users): removes every trust header and claim that arrived
 * (TRUST-001), then adds exactly one trust header (TRUST-002). */
int trust_mark(struct sipmsg *req, enum state_filter mode, const char *our_fqdn,
	       const char *remote_fqdn);
/* Outbound (towards a provider): no trust header leaks out; the claim is ours to make. */
int trust_outbound(struct sipmsg *req, bool claim_verified);

#endif
