/* spine: the proxy's data flow, wired: tp -> decode -> txn -> policy -> route -> peer, and back. */
#ifndef AP_SPINE_H
#define AP_SPINE_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "conf/conf.h"

struct spine;
struct state;
struct audit;
struct tlsctx;
struct conn;

/* Limits on what a peer may send (ROB-003, IM-004); framing limits are the connection's. */
#define SPINE_BODY_MAX (32u * 1024u)   /* larger bodies get 413: the default of
					* max_body_bytes (conf_limits) */
#define SPINE_HEADERS_MAX 100u         /* header lines; more get 400 */
#define SPINE_LINE_MAX 4096u           /* bytes per header line; longer gets 400 */

struct spine_stats {
	uint64_t requests_in;     /* requests decoded */
	uint64_t responses_out;   /* responses sent upstream (forwarded or our own) */
	uint64_t forwarded;       /* requests handed to a peer */
	uint64_t dropped;         /* undecodable or unroutable messages dropped */
	uint64_t throttled;       /* requests refused by the per-peer rate limit (ROB-004) */
	uint64_t refused_malformed; /* requests from outside refused by the sanity checks */
	uint64_t oversize;        /* requests answered 413/513 by the framing limits */
	uint64_t msg_timeouts;    /* connections closed: a message incomplete at its deadline */
	uint64_t idle_closes;     /* connections closed: nothing complete for idle_timeout_ms */
	uint64_t partial_closes;  /* connections closed: their peer's partial bytes over the cap */
	uint64_t timeouts;        /* transactions answered 408 (SIP-005) */
	size_t transactions;
	size_t connections[CONF_NEDGES];
};

/* Builds every stage for cfg (a reference is taken) and starts listening. */
int spine_alloc(struct spine **sp, struct event_base *base, const struct conf *cfg);
/* What the request path would hand to a peer: the request as encoded to leave through edge
 * out towards dest (an FQDN). */
typedef void (spine_sink_h)(enum conf_edge_id out, const char *dest, const char *buf,
			    size_t len, void *arg);
/* A spine with every stage of the request and response paths but no listeners, resolver or
 * peers (in-process drivers: proxy/fuzz): messages come in through spine_input, and what would
 * be forwarded goes to sink instead. */
int spine_alloc_detached(struct spine **sp, struct event_base *base, const struct conf *cfg,
			 spine_sink_h *sink, void *arg);
/* One framed message as if it had arrived on c, a connection of edge (the receive handler of
 * the transport and of the peers). */
void spine_input(struct spine *s, struct conn *c, enum conf_edge_id edge, const char *buf,
		 size_t len);
/* Publishes a new policy snapshot (reload, CONF-007): a reference to st is taken and the old
 * one dropped; requests already in flight keep the snapshot they started with. */
void spine_set_state(struct spine *s, struct state *st);
/* The snapshot new requests see (borrowed). */
const struct state *spine_state(const struct spine *s);
/* The audit log federated requests are recorded in (AUD-001); a reference is taken; NULL
 * records nothing. */
void spine_set_audit(struct spine *s, struct audit *a);
/* Certificate reload (TLS-007) for edge: new accepts use server_tls, new outgoing connections
 * client_tls (either may be NULL to keep the current one). */
int spine_set_tls(struct spine *s, enum conf_edge_id edge, struct tlsctx *server_tls,
		  struct tlsctx *client_tls);
/* Shorter Timer F / Timer C (tests); 0 keeps a value. */
void spine_set_timers(struct spine *s, unsigned f_ms, unsigned c_ms);
void spine_stats(const struct spine *s, struct spine_stats *st);
/* Forwarded requests still waiting for their final response (a graceful stop waits for
 * them, bounded). */
size_t spine_pending(const struct spine *s);
/* Stopping: every request still waiting is answered 503 with Retry-After (RFC 3261 21.5.4),
 * so that its sender tries again once the proxy is back instead of giving up. */
void spine_stop(struct spine *s);

#endif
