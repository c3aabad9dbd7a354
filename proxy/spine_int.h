/* spine_int: what the spine's files share: its state and the two paths a message takes. */
#ifndef AP_SPINE_INT_H
#define AP_SPINE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf.h"
#include "state/state.h"
#include "spine.h"

struct conn;
struct sipmsg;

struct spine {
	struct event_base *base;
	const struct conf *cfg;
	struct tp *tp;
	struct txn_table *txns;
	struct policy *pol;
	struct state *snap;        /* the snapshot new requests see */
	struct topo *topo;
	struct rate *rate;
	struct audit *audit;
	struct route *route;
	struct peer_pool *peers;
	unsigned char secret[32];
	unsigned char keyed_from[STATE_SECRET_LEN]; /* the persistent secret in use, if keyed */
	bool keyed;
	struct spine_stats st;
	bool closing;              /* in its destructor: late audit callbacks only let go */
	spine_sink_h *sink;        /* detached: where forwarded requests go instead of peers */
	void *sink_arg;
};

/* The request path (spine.c): a decoded request that passed the receive checks. */
void spine_request(struct spine *s, struct conn *c, enum conf_edge_id in, struct sipmsg *req);
/* The response path (spine.c). */
void spine_response(struct spine *s, struct sipmsg *rsp);
/* tp / peer receive (spine_recv.c): one framed message from edge. */
void spine_recv(struct conn *c, enum conf_edge_id edge, const char *buf, size_t len, void *arg);
/* RFC 3261 18.2.2 (spine_resend.c): sends a response for a connection c that has gone over
 * a new or pooled one to the same peer (its certificate name); ENOTCONN when there is none. */
int spine_resend(struct spine *s, struct conn *c, enum conf_edge_id edge, const char *buf,
		 size_t len);
/* tp's refused input (spine_recv.c): answered 413, 513 or 400 where it can be. */
void spine_refused(struct conn *c, enum conf_edge_id edge, int err, const char *buf, size_t len,
		   bool keep, void *arg);

#endif
