/* spine: the proxy's data flow, wired: tp -> decode -> txn -> policy -> route -> peer, and back. */
#ifndef AP_SPINE_H
#define AP_SPINE_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "conf/conf.h"

struct spine;
struct state;

struct spine_stats {
	uint64_t requests_in;     /* requests decoded */
	uint64_t responses_out;   /* responses sent upstream (forwarded or our own) */
	uint64_t forwarded;       /* requests handed to a peer */
	uint64_t dropped;         /* undecodable or unroutable messages dropped */
	size_t transactions;
	size_t connections[CONF_NEDGES];
};

/* Builds every stage for cfg (a reference is taken) and starts listening. */
int spine_alloc(struct spine **sp, struct event_base *base, const struct conf *cfg);
/* Publishes a new policy snapshot (reload, CONF-007): a reference to st is taken and the old
 * one dropped; requests already in flight keep the snapshot they started with. */
void spine_set_state(struct spine *s, struct state *st);
/* The snapshot new requests see (borrowed). */
const struct state *spine_state(const struct spine *s);
void spine_stats(const struct spine *s, struct spine_stats *st);

#endif
