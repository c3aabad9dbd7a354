/* peer: one persistent outgoing connection per destination FQDN, reused for every request. */
#ifndef AP_PEER_H
#define AP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <sys/socket.h>

#include "../conf/conf.h"

struct peer_pool;
struct conn;
struct tp;
struct tlsctx;

/* A message arriving on an outgoing connection (mostly responses). */
typedef void (peer_recv_h)(struct conn *c, enum conf_edge_id edge, const char *buf, size_t len,
			   void *arg);
/* A request sent on a connection that failed or dropped (err) before its final response. */
typedef void (peer_fail_h)(const char *branch, const char *method, int err, const char *why,
			   void *arg);

/* Connections leave through the edge they serve: bound to that edge's listen IP, with that
 * edge's client certificate and trust store (from tp). */
int peer_pool_alloc(struct peer_pool **pp, struct event_base *base, const struct conf *cfg,
		    const struct tp *tp, peer_recv_h *rh, peer_fail_h *fh, void *arg);

/* Certificate reload (TLS-007): connections opened from now on through edge use client_tls
 * (a reference is taken); open connections keep theirs. EINVAL on a bad edge or a server-side
 * context. */
int peer_pool_set_tls(struct peer_pool *pp, enum conf_edge_id edge, struct tlsctx *client_tls);

/* Destination of one request. */
struct peer_dest {
	const char *fqdn;            /* key of the connection and the expected certificate CN */
	uint16_t port;
	bool tcp;                    /* plain TCP (allow_tcp only) */
	enum conf_edge_id edge;      /* the edge it leaves through */
};

/* True when a connection to fqdn exists and is usable (no DNS needed to send). */
bool peer_is_up(const struct peer_pool *pp, const char *fqdn);
/* Sends buf to dest. Without a connection, one is opened to addrs[0] (addrs ignored
 * otherwise; a port of 0 in an address means dest->port); while it connects the message is
 * queued and a copy kept. If that connection fails before it is up (refused, timed out, TLS
 * failure), the next address is tried with the same messages (DNS-003: SRV failover), and only
 * when none is left do the requests fail. (branch, method) is remembered (hashed) until
 * peer_settle, so that a connection failure reaches peer_fail_h for it (not for ACK). With
 * branch and method NULL (a response, RFC 3261 18.2.2) nothing is remembered. */
int peer_send(struct peer_pool *pp, const struct peer_dest *dest,
	      const struct sockaddr_storage *addrs, size_t naddrs, const char *buf, size_t len,
	      const char *branch, const char *method);
/* With more than one address, a target that neither refuses nor answers is given up after
 * this long (connect + TLS handshake), so the next one is still tried in time. */
#define PEER_FAILOVER_SETUP_MS 3000
#define PEER_MAX_TARGETS 8
/* The request (branch, method) sent to fqdn got its final response (or timed out). */
void peer_settle(struct peer_pool *pp, const char *fqdn, const char *branch,
		 const char *method);
/* Requests sent to fqdn and not settled (tests, status). */
size_t peer_pending_count(const struct peer_pool *pp, const char *fqdn);
/* Outgoing connections currently open (or opening) through edge. */
size_t peer_count(const struct peer_pool *pp, enum conf_edge_id edge);

#endif
