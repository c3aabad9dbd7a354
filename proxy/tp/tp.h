/* tp: the proxy's transport: the internal and external MTLS listeners and their connections. */
#ifndef AP_TP_H
#define AP_TP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

#include "../conf/conf.h"

struct tp;
struct conn;
struct tlsctx;

/* ROB-003 limits on accepted connections, per listener. */
#define TP_MAX_CONNS_PER_IP 32u    /* a source address opening more is refused at accept */
#define TP_IDLE_MS (120u * 1000u)  /* no complete message for this long: closed (a stalled
				    * partial message included; an idle peer reconnects) */
#define TP_MAX_HEAD 16384u         /* framing of outgoing connections (peer): header bytes */
#define TP_MAX_BODY 65536u         /* framing of outgoing connections: Content-Length */
/* A body from a peer over TP_MAX_BODY but within this is read and dropped on an outgoing
 * connection (logged), which carries other transactions and stays (issue 11 item 2); a larger
 * one closes it. */
#define TP_MAX_DISCARD (4u * TP_MAX_BODY)
/* Accepted connections take theirs from the configuration (conf_limits, issue 11): a header
 * block over max_header_bytes is still read whole up to this many times that, so that it can
 * be answered 513 and the connection kept; beyond, the connection closes. */
#define TP_HEAD_SLACK 4u

/* One complete SIP message received on an accepted connection of edge; buf lives during the
 * call only. The conn may be mem_ref'd to answer later. */
typedef void (tp_recv_h)(struct conn *c, enum conf_edge_id edge, const char *buf, size_t len,
			 void *arg);

/* Input refused on an accepted connection of edge (conn_bad_h): the receiver may answer on c
 * (413, 513, 400) before it closes, or, keep true, before the body is dropped and reading
 * goes on. */
typedef void (tp_bad_h)(struct conn *c, enum conf_edge_id edge, int err, const char *buf,
			size_t len, bool keep, void *arg);

/* Counters of the transport's own guards (apctl status). */
struct tp_stats {
	uint64_t msg_timeouts;     /* connections closed: a message not complete in time */
	uint64_t partial_closes;   /* connections closed: their address held too many partial
				    * bytes (peer_partial_max) */
	uint64_t refused_input;    /* oversized or unframeable input reported to the receiver */
	uint64_t idle_closes;      /* connections closed: nothing complete for idle_timeout_ms */
};

/* Listeners made by later tp_alloc calls set SO_REUSEPORT (several worker processes listening
 * on the same addresses, the kernel spreading connections among them). Default off. */
void tp_set_reuseport(bool on);
/* Builds the TLS contexts of both edges (server: client certificate required, trust = the
 * edge's CA; client: same certificate, same CA) and listens on each edge's address, plus a
 * plain TCP listener where tcp_listen is set. Fails (EINVAL, EADDRINUSE, ...) if any part does. */
int tp_alloc(struct tp **tpp, struct event_base *base, const struct conf *cfg, tp_recv_h *rh,
	     void *arg);
/* The client context for connections leaving through edge (peers). */
struct tlsctx *tp_client_tls(const struct tp *tp, enum conf_edge_id edge);
/* Certificate reload (TLS-007): future accepts on edge's MTLS listener use server_tls (a
 * reference is taken); live connections keep the context they were accepted with. EINVAL on a
 * bad edge or a client-side context. */
int tp_set_tls(struct tp *tp, enum conf_edge_id edge, struct tlsctx *server_tls);
/* The receiver of refused input (NULL: none, the connection closes as the framer says). */
void tp_set_bad_handler(struct tp *tp, tp_bad_h *bh);
void tp_stats(const struct tp *tp, struct tp_stats *st);
/* Replaces the idle timeout (every connection's deadline moves with it); 0: the
 * configuration's idle_timeout_ms, else TP_IDLE_MS. */
void tp_set_idle_timeout(struct tp *tp, unsigned ms);
/* Accepted connections currently open on edge. */
size_t tp_conn_count(const struct tp *tp, enum conf_edge_id edge);

#endif
