/* conn: one SIP stream connection (TLS or TCP) on libevent, delivering framed SIP messages. */
#ifndef PIC_CONN_H
#define PIC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <event2/event.h>
#include <event2/util.h>
#include <sys/socket.h>

#include "net/tlsctx.h"
#include "sip/sipframe.h"

struct conn;
struct listener;

/* Connected (and, for TLS, handshaken and name-checked). */
typedef void (conn_estab_h)(struct conn *c, void *arg);
/* One complete SIP message (header + Content-Length body); buf is valid during the call only. */
typedef void (conn_msg_h)(struct conn *c, const char *buf, size_t len, void *arg);
/* The connection ended: err 0 on orderly close by peer, else a positive errno
 * (ECONNREFUSED, ETIMEDOUT, EPROTO for TLS failures, EBADMSG/EMSGSIZE for framing refusals).
 * Called at most once; the conn is dead afterwards and only mem_deref may be applied to it. */
typedef void (conn_close_h)(struct conn *c, int err, void *arg);

struct conn_handlers {
	conn_estab_h *estab;
	conn_msg_h *msg;
	conn_close_h *close;
	void *arg;
};

/* Opens a connection to peer, bound to local (NULL: any). With tls, a handshake follows and, if
 * expect_cn is set, the server certificate's subject CN must equal it (else close with EPERM).
 * Messages handed to conn_send before establishment are queued. */
int conn_connect(struct conn **cp, struct event_base *base, struct tlsctx *tls,
		 const struct sockaddr *local, const struct sockaddr *peer, const char *expect_cn,
		 const struct conn_handlers *h);

/* A plain stream connection on fd, a connected socket handed over (one end of a socketpair
 * for in-process drivers: fuzzing, replay), established at once. peer_cn stands in for the
 * certificate name a TLS handshake would have given, peer for the peer's address (both may be
 * NULL). Owns fd from the call on, also when it fails. */
int conn_adopt(struct conn **cp, struct event_base *base, evutil_socket_t fd,
	       const char *peer_cn, const struct sockaddr *peer, const struct conn_handlers *h);

/* Sets or replaces the handlers (for accepted connections). */
void conn_set_handlers(struct conn *c, const struct conn_handlers *h);
/* Deadline for connect plus TLS handshake, counted from now (default 10 s); when it passes the
 * close handler gets ETIMEDOUT. No effect once established or closed. */
void conn_set_setup_timeout(struct conn *c, unsigned ms);
/* Framing limits (defaults: SIPFRAME_DEFAULT_*). */
void conn_set_limits(struct conn *c, const struct sipframe_limits *lim);
/* Queues bytes for sending; ENOTCONN once closed. */
int conn_send(struct conn *c, const char *buf, size_t len);
/* Closes now without calling the close handler. */
void conn_close(struct conn *c);
bool conn_is_established(const struct conn *c);
bool conn_is_tls(const struct conn *c);
/* Peer certificate's subject CN after the handshake; "" for TCP or no certificate. */
const char *conn_peer_cn(const struct conn *c);
/* Peer certificate (borrowed, valid while the conn lives); NULL for TCP. */
X509 *conn_peer_cert(const struct conn *c);
const struct sockaddr *conn_peer_addr(const struct conn *c);
const struct sockaddr *conn_local_addr(const struct conn *c);
/* Bytes waiting in the output buffer (for back-pressure decisions). */
size_t conn_pending_out(const struct conn *c);

/* A new accepted connection; the owner must set handlers (conn_set_handlers) and keep the
 * reference it is given (released with mem_deref). */
typedef void (listener_accept_h)(struct conn *c, void *arg);

/* Listens on addr (TLS if tls is set, else plain TCP); reuseport sets SO_REUSEPORT. */
int listener_alloc(struct listener **lp, struct event_base *base, struct tlsctx *tls,
		   const struct sockaddr *addr, bool reuseport, listener_accept_h *ah, void *arg);
/* Swaps the TLS context used for future accepts (certificate reload); live conns keep theirs. */
void listener_set_tls(struct listener *l, struct tlsctx *tls);
const struct sockaddr *listener_addr(const struct listener *l);

#endif
