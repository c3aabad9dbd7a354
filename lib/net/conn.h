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

/* The stream holds something that is no acceptable message (issue 11): err EMSGSIZE with
 * the header (buf, len) of a message whose body is over the limit; EMSGSIZE with the first
 * max_head bytes of a header that never ends within the limit; EBADMSG with the bytes that do
 * not frame; ETIMEDOUT (buf NULL, len the bytes held) when a message did not complete within
 * the message deadline. keep: the connection survives: the body was read and dropped (the
 * handler is called only then, so an answer follows the whole request on the wire; a body that
 * never completes meets the message deadline instead) and the next message follows; else it
 * closes once what was queued for sending, an answer sent from this handler included, has
 * gone out (the close handler then gets err). */
typedef void (conn_bad_h)(struct conn *c, int err, const char *buf, size_t len, bool keep,
			  void *arg);
/* Input bytes held for a message not yet complete changed to held (0 once none). */
typedef void (conn_partial_h)(struct conn *c, size_t held, void *arg);

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
/* Optional handlers of refused input and partial bytes (either may be NULL), called with
 * the handlers' arg. */
void conn_set_guard(struct conn *c, conn_bad_h *bad, conn_partial_h *partial);
/* Per-message completion deadline (issue 11): a message begun must be complete within ms, or
 * the connection closes (bad handler with ETIMEDOUT). 0 (the default): none. */
void conn_set_msg_timeout(struct conn *c, unsigned ms);
/* Closes once the bytes queued for sending have gone out (bounded by CONN_LINGER_MS); reads
 * nothing more meanwhile; the close handler then gets err. Sends are still queued until the
 * close. No effect once closed or closing. */
void conn_shutdown(struct conn *c, int err);
#define CONN_LINGER_MS 5000
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
