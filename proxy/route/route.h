/* route: asynchronous resolution of next hops through c-ares: a provider's edge FQDN by
 * A/AAAA, a federated partner by _sipfederationtls._tcp SRV; answers cached for their TTL. */
#ifndef AP_ROUTE_H
#define AP_ROUTE_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <sys/socket.h>

struct route;

/* Targets to try, in order (RFC 2782 order for SRV: priority, then weighted random). A port of
 * 0 means "the configured port" (A/AAAA lookups); SRV targets carry theirs. */
#define ROUTE_MAX_TARGETS 8
struct route_addrs {
	size_t n;
	struct sockaddr_storage a[ROUTE_MAX_TARGETS];
};

/* err 0: ra lists at least one address. Else a positive errno (ENOENT: name does not exist or
 * has no address, ETIMEDOUT, EHOSTUNREACH: other DNS failure, ECANCELED: the route is being
 * destroyed), ra is NULL and why names the failure ("DNS lookup of sip.aol.test failed:
 * Domain name not found"). */
typedef void (route_h)(int err, const char *why, const struct route_addrs *ra, void *arg);

/* A resolver asking only dns_server (ip:port), driven by base. */
int route_alloc(struct route **rp, struct event_base *base, const struct sockaddr *dns_server);
/* Resolves a next hop; h runs once: at once (synchronously) from the cache, else from the loop.
 * srv_domain NULL: fqdn by A/AAAA (DNS-003, provider edges). srv_domain set (a federated
 * partner): _sipfederationtls._tcp.<srv_domain> SRV, each target by A/AAAA; with no SRV
 * records (NXDOMAIN or no data, RFC 3263 4.2 fallback) fqdn by A/AAAA.
 * Answers are kept for their TTL (the smallest of the records used, DNS-005); failures for
 * ROUTE_NEG_TTL_S. Lookups of a name already in flight wait on that one: one failing name
 * costs one lookup per ROUTE_NEG_TTL_S, however many requests want it (DNS-004). arg must stay
 * valid until h runs or the route goes. */
int route_resolve(struct route *r, const char *fqdn, const char *srv_domain, route_h *h,
		  void *arg);
/* Forgets every cached answer (tests, reload). Lookups in flight are not affected. */
void route_flush(struct route *r);
/* Lookups started since alloc (tests, status). */
uint64_t route_lookups(const struct route *r);

/* RFC 2308 5 asks for a negative TTL; ours is short and fixed: a name fixed in DNS works again
 * soon, and a broken one is asked at most once per period. */
#define ROUTE_NEG_TTL_S 5

#endif
