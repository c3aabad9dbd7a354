/* route: asynchronous A/AAAA resolution of next-hop FQDNs through c-ares, cached for the TTL. */
#ifndef AP_ROUTE_H
#define AP_ROUTE_H

#include <stdint.h>
#include <event2/event.h>
#include <sys/socket.h>

struct route;

/* err 0: addr is the first answer (port 0; the caller sets it). Else a positive errno
 * (ENOENT: name does not exist or has no address, ETIMEDOUT, EHOSTUNREACH: other DNS
 * failure, ECANCELED: the route is being destroyed) and why names the failure
 * ("DNS lookup of sip.aol.test failed: Domain name not found"). */
typedef void (route_h)(int err, const char *why, const struct sockaddr *addr, void *arg);

/* A resolver asking only dns_server (ip:port), driven by base. */
int route_alloc(struct route **rp, struct event_base *base, const struct sockaddr *dns_server);
/* Resolves fqdn; h runs once: at once (synchronously) from the cache, else from the loop.
 * Lookups for a name already in flight wait on that one (no retry storm, DNS-004); failures
 * are cached briefly (ROUTE_NEG_TTL_S). arg must stay valid until h runs or the route goes. */
int route_resolve(struct route *r, const char *fqdn, route_h *h, void *arg);

#define ROUTE_NEG_TTL_S 5

#endif
