/* srv: RFC 2782 target selection order for SRV records (priority, then weighted random). */
#ifndef AP_SRV_H
#define AP_SRV_H

#include <stddef.h>
#include <stdint.h>

#define SRV_TARGET_MAX 256

struct srv_rec {
	uint16_t priority;
	uint16_t weight;
	uint16_t port;
	unsigned id;                 /* the caller's own index, carried along */
	char target[SRV_TARGET_MAX];
};

/* A random number in [0, bound] (bound inclusive); tests pass their own. */
typedef uint32_t (srv_rand_h)(uint32_t bound, void *arg);

/* Puts recs in the order a client tries them (RFC 2782, "Usage rules"): lowest priority first;
 * within one priority, repeatedly pick a record with probability weight / sum of the weights
 * left, weight 0 records first in the running sum so that they are picked rarely but not
 * never. rnd NULL: OpenSSL's RAND_bytes. A target "." means the service is not offered at
 * that domain: such records are moved last and srv_order returns how many usable ones lead. */
size_t srv_order(struct srv_rec *recs, size_t n, srv_rand_h *rnd, void *arg);

#endif
