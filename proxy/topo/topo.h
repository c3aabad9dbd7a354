/* topo: topology hiding at the external edge (TOPO-001) and record-routing (TOPO-002).
 *
 * What leaves through the external edge names no internal host:
 * - requests: our Via is the only one (the others are cut from the encoded message and kept
 *   in the transaction, put back on the response, RFC 3261 16.7 step 3 unchanged for the
 *   inside); Record-Route entries placed inside are removed (kept likewise) and ours added;
 *   Contact becomes sip:<user>@<external FQDN>:<port>;transport=tls;apc=<sealed original>,
 *   so in-dialog requests towards it come back to us and the original target is restored
 *   without per-dialog state;
 * - Call-IDs (stateless, consistent for the whole dialog and every retransmission): one that
 *   names an internal host or address leaves as "ap" + seal(Call-ID) and comes back as its
 *   original; any other passes unchanged both ways (a provider's own Call-IDs included, so
 *   both sides see the same Call-ID wherever nothing internal is in it);
 * - responses: internal Record-Route entries above ours and the Contact are rewritten alike;
 * - last, any other header line naming an internal host or address is dropped (Warning,
 *   Error-Info, Reply-To, ...): a safety net for what the rules above do not know. */
#ifndef AP_TOPO_H
#define AP_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../conf/conf.h"

struct topo;
struct sipmsg;

#define TOPO_CALLID_MAX 600

/* fqdn/port of each edge as peers see them; internal_names: NULL-ended list of names and
 * addresses that must never leave (copied). */
int topo_alloc(struct topo **tp, const char *const fqdn[CONF_NEDGES],
	       const uint16_t port[CONF_NEDGES], const char *const *internal_names);

/* Keys the seal from the installation's persistent secret (CONT-005) instead of the random
 * per-process key topo_alloc starts with: tokens written before a restart, or by another
 * worker, are read back. */
int topo_set_secret(struct topo *t, const unsigned char key[32]);

/* Call-ID mapping (see above): in(out(x)) == x for any x. ENOSPC if out is too small. */
int topo_callid_out(const struct topo *t, const char *callid, char *out, size_t size);
int topo_callid_in(const struct topo *t, const char *callid, char *out, size_t size);

/* Rewrites the first Contact (the others are dropped) to our external FQDN, keeping its user
 * part and sealing the original URI into the apc parameter. No Contact: nothing to do. */
int topo_contact_hide(const struct topo *t, struct sipmsg *m);
/* An inbound Request-URI carrying apc (a Contact we rewrote): restores the original URI.
 * *changed tells whether it did; EBADMSG for an apc that is not ours. */
int topo_ruri_unhide(const struct topo *t, struct sipmsg *m, bool *changed);

/* True if the URI (a Route entry or Request-URI, with or without <>) names one of our edges. */
bool topo_uri_is_ours(const struct topo *t, const char *uri);
/* RFC 3261 16.4: pops the Route entries on top that name us (both edges: double record-route
 * gives two); *np (may be NULL) counts them. */
int topo_route_consume(const struct topo *t, struct sipmsg *req, int *np);
/* Removes every Record-Route entry; appends them as "Record-Route: ...\r\n" lines, top first,
 * to *savedp (a mem string, allocated if NULL) when savedp is set. */
int topo_rr_take(struct sipmsg *m, char **savedp);
/* TOPO-002 double record-routing: one entry per edge, the one facing the next hop on top. */
int topo_rr_add(const struct topo *t, struct sipmsg *req, enum conf_edge_id in,
		enum conf_edge_id out);
/* TOPO-002 double record-routing of a request leaving through the external edge: only our
 * external entry goes on top; our internal entry is put in front of *savedp (the inside
 * entries topo_rr_take kept), so topo_wire_in restores it below ours on the responses. */
int topo_rr_add_external(const struct topo *t, struct sipmsg *req, char **savedp);
/* A response on its way out of the external edge: drops the Record-Route entries above ours
 * (placed inside after we record-routed) and our internal-edge entry. */
int topo_rr_hide_response(const struct topo *t, struct sipmsg *rsp);

/* Last pass over an encoded message leaving through the external edge: cuts every Via but
 * ours from a request (appended to *viasp when set), maps the Call-ID outward, drops lines
 * naming internal hosts. */
int topo_wire_out(const struct topo *t, char **bufp, size_t *lenp, bool request, char **viasp);
/* An encoded message entering from the external edge: maps the Call-ID inward; puts back
 * the Vias (after the start line) and the Record-Route entries (after the last one) a
 * response's request lost on its way out (either may be NULL). */
int topo_wire_in(const struct topo *t, char **bufp, size_t *lenp, const char *vias,
		 const char *rrs);

#endif
