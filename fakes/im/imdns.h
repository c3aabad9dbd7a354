/* imdns: a tiny asynchronous A- or SRV-record lookup for the lab's IM services (DNS-001,
 * DNS-002): one query over UDP to the lab's stub DNS, on the event loop, with a bounded timeout. */
#ifndef PIC_IMDNS_H
#define PIC_IMDNS_H

#include <event2/event.h>
#include <stdint.h>
#include <sys/socket.h>

struct imdns;

/* Called once, from the event loop: err 0 and addr (AF_INET, port 0) on an answer; ENOENT for
 * NXDOMAIN or no A record, ETIMEDOUT, EPROTO for a bad or failed answer. */
typedef void (imdns_h)(int err, const struct sockaddr *addr, void *arg);

/* Sends one A query for name to server (RFC 1035 4.2.1: UDP) and waits up to timeout_ms
 * (0: 2000) for the answer. Dropping *qp with mem_deref before the answer cancels the lookup
 * and h is not called. EINVAL for a missing name, server or handler. */
int imdns_lookup(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		 const char *name, unsigned timeout_ms, imdns_h *h, void *arg);

/* Called once for an SRV lookup: err 0 with the chosen record's target (no trailing dot) and
 * port; ENOENT for NXDOMAIN, no SRV record or a "." target; ETIMEDOUT, EPROTO as above. */
typedef void (imdns_srv_h)(int err, const char *target, uint16_t port, void *arg);

/* Sends one SRV query for name ("_sipfederationtls._tcp.contoso.test") and picks the record
 * RFC 2782 prefers (lowest priority, then highest weight). Same rules as imdns_lookup. */
int imdns_lookup_srv(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		     const char *name, unsigned timeout_ms, imdns_srv_h *h, void *arg);

#endif
