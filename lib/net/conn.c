/* conn: one SIP stream connection (TLS or TCP) on libevent bufferevents, with its listener. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"

#define LOG_MODULE "conn"

/* Connect plus handshake must finish within this; a half-open peer must not pin a slot. */
#define CONN_SETUP_TIMEOUT_MS 10000

/* What an idle connection costs counts (tens of thousands are held): the structure holds only
 * what every connection needs; the message deadline's timer is made when a message is first
 * incomplete, and the setup timer goes once the connection is up (made again to bound the
 * linger of a close). */
union conn_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct conn {
	struct event_base *base;
	struct bufferevent *bev;      /* owns the fd (and the SSL) once it exists */
	struct event *cev;            /* outgoing TCP connect in progress */
	struct event *tmo;            /* connect + handshake deadline; then the linger bound */
	struct event *mtmo;           /* message completion deadline */
	struct evbuffer *pending;     /* bytes sent before establishment; once up (TLS), the
	                               * bytes of this loop turn, written together by flush;
	                               * made on first need, freed once handed to the stream
	                               * (an idle connection holds none) */
	struct tlsctx *tls;           /* NULL for TCP */
	X509 *peer_cert;
	char *expect_cn;
	struct conn_handlers h;
	conn_bad_h *bad;
	conn_partial_h *partial;
	struct sipframe_limits lim;
	union conn_sa peer, local;    /* IPv4 or IPv6: 28 bytes, not a sockaddr_storage's 128 */
	size_t pull;                  /* contiguous bytes the framer needed last time */
	size_t need;                  /* input bytes the current message needs (0: unknown) */
	size_t discard;               /* body bytes of a refused message still to drop */
	char *refused;                /* its header, for the bad handler once the body is gone */
	size_t refused_len;
	size_t held;                  /* partial bytes last reported */
	unsigned msg_ms;              /* message deadline (0: none) */
	int drain_err;                /* closing once the output is flushed, with this */
	evutil_socket_t fd;
	int connect_err;              /* failure found synchronously by connect(2) */
	unsigned busy;                /* callbacks on the stack: defer freeing the bufferevent */
	bool estab, closed, server, draining;
	bool flush_due;               /* TLS: a one-shot flush of pending is scheduled */
	char *peer_cn;                /* its certificate's CN (mem_strdup), NULL until known */
};

struct listener {
	struct evconnlistener *lev;
	struct event_base *base;
	struct tlsctx *tls;
	listener_accept_h *ah;
	void *arg;
	struct sockaddr_storage addr;
};

/* Hands the bytes of this loop turn to the stream in one piece: one TLS record (up to 16 kB)
 * and one write(2) for what would otherwise be a record, a write and two epoll_ctl calls per
 * message. bufferevent_openssl writes each evbuffer chain as a record of its own, hence the
 * pullup (a copy of a few kB, cheap next to a record and a system call). */
static size_t conn_pending_len(const struct conn *c)
{
	return c->pending ? evbuffer_get_length(c->pending) : 0;
}

/* The pending buffer, made when a first byte waits in it. */
static struct evbuffer *conn_pending_buf(struct conn *c)
{
	if (!c->pending)
		c->pending = evbuffer_new();
	return c->pending;
}

/* What waited goes to out; the emptied buffer is released, so an idle connection holds none. */
static int conn_pending_hand(struct conn *c, struct evbuffer *out)
{
	if (!conn_pending_len(c))
		return 0;
	if (evbuffer_add_buffer(out, c->pending) != 0)
		return ENOMEM;
	evbuffer_free(c->pending);
	c->pending = NULL;
	return 0;
}

static int conn_write_pending(struct conn *c)
{
	size_t n = conn_pending_len(c);

	if (n > 1 && !evbuffer_pullup(c->pending, (ev_ssize_t)(n < 16384 ? n : 16384)))
		return ENOMEM;
	return conn_pending_hand(c, bufferevent_get_output(c->bev));
}

/* Before a close: what was sent and not yet written (libevent writes on the next writable
 * turn) goes out now, as far as the socket takes it without waiting, so that a last answer
 * sent just before closing reaches the peer. */
static void conn_drain_now(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (conn_pending_hand(c, out) != 0)
		return;
	while (evbuffer_get_length(out)) {
		size_t n = evbuffer_get_length(out);
		unsigned char *p;
		int w;

		if (!c->tls) {
			if (fd < 0 || evbuffer_write(out, fd) <= 0)
				break;
			continue;
		}
		n = n < 16384 ? n : 16384;
		p = evbuffer_pullup(out, (ev_ssize_t)n);
		w = p && ssl ? SSL_write(ssl, p, (int)n) : -1;
		if (w <= 0)
			break;
		evbuffer_drain(out, (size_t)w);
	}
}

/* Frees the stream now, unless a callback of ours is on the stack (then conn_release does). */
static void conn_teardown(struct conn *c)
{
	c->closed = true;
	c->draining = false;
	if (c->tmo)
		evtimer_del(c->tmo);
	if (c->mtmo)
		evtimer_del(c->mtmo);
	if (c->cev)
		event_del(c->cev);
	if (c->busy)
		return;
	if (c->bev) {
		SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;

		if (c->estab)
			conn_drain_now(c);

		/* RFC 8446 6.1 close_notify, best effort: the socket is non-blocking. */
		if (ssl && c->estab)
			SSL_shutdown(ssl);
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->fd = -1;
	} else if (c->fd >= 0) {
		evutil_closesocket(c->fd);
		c->fd = -1;
	}
}

/* A timer no longer needed: freed, NULL returned. */
static struct event *conn_timer_drop(struct event *ev)
{
	if (ev)
		event_free(ev);
	return NULL;
}

static void conn_destroy(void *data)
{
	struct conn *c = data;

	c->busy = 0;
	conn_teardown(c);
	if (c->tmo)
		event_free(c->tmo);
	if (c->mtmo)
		event_free(c->mtmo);
	if (c->cev)
		event_free(c->cev);
	if (c->pending)
		evbuffer_free(c->pending);
	if (c->peer_cert)
		X509_free(c->peer_cert);
	mem_deref(c->expect_cn);
	mem_deref(c->peer_cn);
	mem_deref(c->refused);
	mem_deref(c->tls);
}

/* Every libevent callback brackets its work with these, so a handler may close or release the
 * conn at any point without pulling buffers out from under the caller. */
static void conn_hold(struct conn *c)
{
	mem_ref(c);
	c->busy++;
}

static void conn_release(struct conn *c)
{
	if (--c->busy == 0 && c->closed)
		conn_teardown(c);
	mem_deref(c);
}

/* True when only our own callback holds remain: the owner has let go, so no handler of its
 * may be called again (its arg may be gone) and the conn closes quietly. */
static bool conn_orphaned(struct conn *c)
{
	if (mem_nrefs(c) > c->busy)
		return false;
	if (!c->closed)
		conn_teardown(c);
	return true;
}

/* The single exit for failures: tears down and tells the owner, exactly once. */
static void conn_fail(struct conn *c, int err)
{
	char pa[64];

	if (c->closed)
		return;
	conn_teardown(c);
	log_debug("%s %s: closed (%s)", c->server ? "from" : "to",
		  sa_fmt((struct sockaddr *)&c->peer, pa, sizeof(pa)), err ? strerror(err) : "eof");
	if (c->h.close)
		c->h.close(c, err, c->h.arg);
}

static void conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_hold(c);
	conn_fail(c, c->draining ? c->drain_err : ETIMEDOUT);
	conn_release(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

/* The output drained while closing: now the connection goes. */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	conn_hold(c);
	if (c->draining && !evbuffer_get_length(bufferevent_get_output(bev)))
		conn_fail(c, c->drain_err);
	conn_release(c);
}

void conn_shutdown(struct conn *c, int err)
{
	static const struct timeval tv = { CONN_LINGER_MS / 1000, (CONN_LINGER_MS % 1000) * 1000 };

	if (!c || c->closed || c->draining)
		return;
	if (c->mtmo)
		evtimer_del(c->mtmo);
	/* RFC 3261 18.2.2: the answers already given to other transactions on this connection
	 * still go out; only then does it close (a framing error must not drop them) */
	if (!c->bev || !c->estab || !evbuffer_get_length(bufferevent_get_output(c->bev))) {
		conn_fail(c, err);
		return;
	}
	if (!c->tmo && !(c->tmo = evtimer_new(c->base, conn_timeout_cb, c))) {
		conn_fail(c, err);
		return;
	}
	c->draining = true;
	c->drain_err = err;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	evtimer_add(c->tmo, &tv);
}

/* The message deadline passed with a message still incomplete. */
static void conn_msg_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_hold(c);
	if (!c->closed && !c->draining) {
		if (c->bad)
			c->bad(c, ETIMEDOUT, NULL, c->held, false, c->h.arg);
		if (!conn_orphaned(c))
			conn_shutdown(c, ETIMEDOUT);
	}
	conn_release(c);
}

static pthread_once_t conn_sigpipe_once = PTHREAD_ONCE_INIT;

/* Writes to a peer that has gone (libevent's writev, OpenSSL's socket BIO) raise SIGPIPE,
 * whose default action would kill the whole proxy for one lost peer. The error comes back as
 * EPIPE anyway, so unless the program chose a handler of its own, SIGPIPE is ignored. */
static void conn_sigpipe_ignore(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

static struct conn *conn_new(struct event_base *base, struct tlsctx *tls, bool server)
{
	static const struct timeval tv = { CONN_SETUP_TIMEOUT_MS / 1000,
					   (CONN_SETUP_TIMEOUT_MS % 1000) * 1000 };
	struct conn *c;

	pthread_once(&conn_sigpipe_once, conn_sigpipe_ignore);
	c = mem_zalloc(sizeof(*c), conn_destroy);
	if (!c)
		return NULL;
	c->base = base;
	c->fd = -1;
	c->server = server;
	c->tls = mem_ref(tls);
	c->lim.max_head = SIPFRAME_DEFAULT_MAX_HEAD;
	c->lim.max_body = SIPFRAME_DEFAULT_MAX_BODY;
	c->tmo = evtimer_new(base, conn_timeout_cb, c);
	if (!c->tmo || evtimer_add(c->tmo, &tv) != 0)
		return mem_deref(c);
	return c;
}

/* A body over the limit: whatever of it has arrived is dropped, the rest as it comes. */
static bool conn_discard(struct conn *c, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in);

	if (n > c->discard)
		n = c->discard;
	evbuffer_drain(in, n);
	c->discard -= n;
	return c->discard == 0;
}

/* The owner hears of a message whose body has now been dropped whole (issue 11): its answer
 * (413) follows the request on the wire, as every answer does. */
static bool conn_refused_done(struct conn *c)
{
	char *head = c->refused;

	c->refused = NULL;
	if (head && c->bad)
		c->bad(c, EMSGSIZE, head, c->refused_len, true, c->h.arg);
	mem_deref(head);
	return !conn_orphaned(c) && !c->closed;
}

/* The framer refused what the input holds (issue 11): a body within the discard cap is
 * skipped and reading goes on, the owner hearing of it (and answering) once the body is gone;
 * of anything else the owner hears at once, and the connection closes once the answers queued
 * so far are out. */
static bool conn_refuse(struct conn *c, struct evbuffer *in, int err, const char *p,
			size_t avail, size_t mlen, size_t body)
{
	bool keep = err == EMSGSIZE && mlen && body <= c->lim.max_discard;

	if (keep) {
		if (!c->bad)
			log_info("%s %s: a message with a body of %zu bytes (limit %zu) dropped",
				 c->server ? "from" : "to", c->peer_cn ? c->peer_cn : "peer",
				 body, c->lim.max_body);
		else if ((c->refused = mem_zalloc(mlen, NULL)) != NULL)
			memcpy(c->refused, p, mlen);
		c->refused_len = mlen;
		evbuffer_drain(in, mlen);
		c->discard = body;
		c->pull = 0;
		c->need = 0;
		return body ? true : conn_refused_done(c);
	}
	if (c->bad)
		c->bad(c, err, p, mlen ? mlen : avail < c->lim.max_head ? avail :
			 c->lim.max_head, keep, c->h.arg);
	if (conn_orphaned(c) || c->closed)
		return false;
	conn_shutdown(c, err);
	return false;
}

/* After a read: the partial bytes held are reported, and the message deadline runs while a
 * message is incomplete, restarting with each new message. */
static void conn_read_done(struct conn *c, struct evbuffer *in, bool delivered)
{
	size_t held;

	if (c->closed || c->draining)
		return;
	held = evbuffer_get_length(in); /* a body being dropped takes no memory */
	if (c->msg_ms && (held || c->discard) && !c->mtmo &&
	    !(c->mtmo = evtimer_new(c->base, conn_msg_timeout_cb, c))) {
		conn_fail(c, ENOMEM);
		return;
	}
	if (c->msg_ms && (held || c->discard) &&
	    (delivered || !evtimer_pending(c->mtmo, NULL))) {
		struct timeval tv = { (time_t)(c->msg_ms / 1000),
				      (suseconds_t)(c->msg_ms % 1000) * 1000 };

		evtimer_add(c->mtmo, &tv);
	} else if (!held && !c->discard && c->mtmo) {
		evtimer_del(c->mtmo);
	}
	if (held != c->held) {
		c->held = held;
		if (c->partial)
			c->partial(c, held, c->h.arg);
	}
}

/* Framing: find each complete message in the input without copying it, pulling up (making
 * contiguous) only as many bytes as the framer asks for, growing geometrically. */
static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	struct conn *c = arg;
	bool delivered = false;

	conn_hold(c);
	while (!c->closed && !c->draining) {
		size_t total, want, skip = 0, mlen = 0;
		const char *p;
		int err;

		if (c->discard && !conn_discard(c, in))
			break;
		if (c->refused && !conn_refused_done(c))
			break;
		total = evbuffer_get_length(in);
		/* A header already seen whose body is still arriving: no rescan until it is all in. */
		if (total == 0 || total < c->need)
			break;
		want = c->need ? c->need : evbuffer_get_contiguous_space(in);
		if (want < c->pull)
			want = c->pull < total ? c->pull : total;
		for (;;) {
			p = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
			if (!p) {
				err = ENOMEM;
				break;
			}
			err = sipframe_scan(&c->lim, p, want, &skip, &mlen, &c->need);
			if (err != EAGAIN || want == total)
				break;
			if (c->need && skip + c->need <= total)
				want = skip + c->need; /* exactly the message, now present */
			else
				want = want * 2 < total ? want * 2 : total;
		}
		if (err == EAGAIN) {
			/* Keep-alive CRLFs go now; what remains waits for more bytes. */
			if (skip)
				evbuffer_drain(in, skip);
			c->pull = want - skip;
			break;
		}
		if (err == EMSGSIZE || err == EBADMSG) {
			size_t body = err == EMSGSIZE && mlen ? c->need : 0;

			c->need = 0;
			evbuffer_drain(in, skip);
			p = p ? p + skip : NULL;
			if (!conn_refuse(c, in, err, p, want - skip, mlen, body))
				break;
			delivered = true;
			continue;
		}
		if (err) {
			conn_fail(c, err);
			break;
		}
		c->pull = 0;
		c->need = 0;
		if (c->h.msg)
			c->h.msg(c, p + skip, mlen, c->h.arg);
		delivered = true;
		if (!conn_orphaned(c) && !c->closed)
			evbuffer_drain(in, skip + mlen);
	}
	if (!conn_orphaned(c))
		conn_read_done(c, in, delivered);
	conn_release(c);
}

static int conn_sock_err(struct conn *c)
{
	unsigned long e;
	int err = 0;

	if (c->tls) {
		while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
			char eb[256];

			if (ERR_GET_LIB(e) == 0)
				continue; /* libevent's marker for a syscall error, not OpenSSL's */
			ERR_error_string_n(e, eb, sizeof(eb));
			log_info("TLS error: %s", eb);
			err = EPROTO;
		}
		if (err) {
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
			char peer[64];

			/* RFC 5280 6.1: say why the peer's certificate was refused (expired, not yet
			 * valid, unknown issuer...), not only that the handshake failed */
			if (vr != X509_V_OK)
				log_warn("TLS peer %s: certificate refused: %s",
					 sa_fmt((const struct sockaddr *)&c->peer, peer, sizeof(peer)),
					 X509_verify_cert_error_string(vr));
			return err;
		}
	}
	err = EVUTIL_SOCKET_ERROR();
	if (err == 0 || err == EAGAIN)
		err = (c->tls && !c->estab) ? EPROTO : ECONNRESET;
	if (c->tls && !c->estab && err != ECONNREFUSED && err != ETIMEDOUT)
		err = EPROTO;
	return err;
}

/* Handshake done (or TCP up): check the peer's name, flush what was queued, tell the owner. */
static void conn_established(struct conn *c)
{
	char cn[256] = "";
	SSL *ssl;

	if (c->tls) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		c->peer_cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
		if (c->peer_cert && tls_cert_cn(c->peer_cert, cn, sizeof(cn)) == 0 &&
		    !(c->peer_cn = mem_strdup(cn))) {
			conn_fail(c, ENOMEM);
			return;
		}
		if (c->expect_cn && (!c->peer_cert ||
				     tls_cert_check_cn(c->peer_cert, c->expect_cn) != 0)) {
			log_warn("peer certificate CN '%s' is not the expected '%s'", cn,
				 c->expect_cn);
			conn_fail(c, EPERM);
			return;
		}
	}
	c->estab = true;
	c->tmo = conn_timer_drop(c->tmo);
	if (conn_pending_hand(c, bufferevent_get_output(c->bev)) != 0) {
		conn_fail(c, ENOMEM);
		return;
	}
	if (c->h.estab)
		c->h.estab(c, c->h.arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	conn_hold(c);
	if (what & BEV_EVENT_CONNECTED) {
		if (!c->closed)
			conn_established(c);
	} else if (what & BEV_EVENT_ERROR) {
		conn_fail(c, conn_sock_err(c));
	} else if (what & BEV_EVENT_EOF) {
		/* The peer left: orderly once up, a refused handshake before. */
		conn_fail(c, c->estab ? 0 : EPROTO);
	}
	conn_release(c);
}

/* Wraps the connected (or accepted) fd into a bufferevent of the right kind. */
static int conn_start_stream(struct conn *c, struct tlsctx *tls)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls) {
		SSL *ssl = tlsctx_ssl_new(tls);

		if (!ssl)
			return ENOMEM;
		if (!c->server && c->expect_cn)
			SSL_set_tlsext_host_name(ssl, c->expect_cn);
		c->bev = bufferevent_openssl_socket_new(c->base, c->fd, ssl, c->server ?
							BUFFEREVENT_SSL_ACCEPTING :
							BUFFEREVENT_SSL_CONNECTING,
							BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev) {
			SSL_free(ssl);
			return ENOMEM;
		}
		/* Many SIP peers drop TCP without close_notify; that is an EOF, not an attack on
		 * message integrity, since SIP frames carry their own length. */
		bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	} else {
		c->bev = bufferevent_socket_new(c->base, c->fd, BEV_OPT_CLOSE_ON_FREE);
		if (!c->bev)
			return ENOMEM;
	}
	bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static void conn_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	socklen_t len = sizeof(int);
	int err = c->connect_err;

	conn_hold(c);
	if (!err && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (!err) {
		len = sizeof(c->local);
		getsockname(c->fd, (struct sockaddr *)&c->local, &len);
		err = conn_start_stream(c, c->tls);
	}
	if (err)
		conn_fail(c, err);
	else if (!c->tls)
		conn_established(c);
	conn_release(c);
}

int conn_connect(struct conn **cp, struct event_base *base, struct tlsctx *tls,
		 const struct sockaddr *local, const struct sockaddr *peer, const char *expect_cn,
		 const struct conn_handlers *h)
{
	struct conn *c;
	int err, one = 1;

	if (!cp || !base || !peer || !sa_len(peer) || sa_len(peer) > sizeof(union conn_sa) ||
	    (local && local->sa_family != peer->sa_family))
		return EINVAL;
	if (tls && tlsctx_is_server(tls))
		return EINVAL;
	c = conn_new(base, tls, false);
	if (!c)
		return ENOMEM;
	if (h)
		c->h = *h;
	memcpy(&c->peer, peer, sa_len(peer));
	if (expect_cn && !(c->expect_cn = mem_strdup(expect_cn))) {
		err = ENOMEM;
		goto out;
	}
	c->fd = socket(peer->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		err = errno;
		goto out;
	}
	if (local) {
		setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(c->fd, local, sa_len(local)) != 0) {
			err = errno;
			goto out;
		}
	}
	c->cev = event_new(base, c->fd, EV_WRITE, conn_connected_cb, c);
	if (!c->cev) {
		err = ENOMEM;
		goto out;
	}
	/* A connect that fails at once still reports through the close handler, from the loop,
	 * so the caller sees one behaviour whatever the timing. */
	if (connect(c->fd, peer, sa_len(peer)) != 0 && errno != EINPROGRESS) {
		c->connect_err = errno;
		event_active(c->cev, EV_WRITE, 0);
	} else if (event_add(c->cev, NULL) != 0) {
		err = ENOMEM;
		goto out;
	}
	*cp = c;
	return 0;
out:
	mem_deref(c);
	return err;
}

int conn_adopt(struct conn **cp, struct event_base *base, evutil_socket_t fd,
	       const char *peer_cn, const struct sockaddr *peer, const struct conn_handlers *h)
{
	struct conn *c;
	int err;

	if (!cp || !base || fd < 0) {
		if (fd >= 0)
			evutil_closesocket(fd);
		return EINVAL;
	}
	c = conn_new(base, NULL, true);
	if (!c) {
		evutil_closesocket(fd);
		return ENOMEM;
	}
	c->fd = fd;
	if (evutil_make_socket_nonblocking(fd) != 0) {
		err = errno ? errno : EIO;
		goto out;
	}
	if (peer && sa_len(peer) <= sizeof(c->peer))
		memcpy(&c->peer, peer, sa_len(peer));
	if (peer_cn && *peer_cn && !(c->peer_cn = mem_strdup(peer_cn))) {
		err = ENOMEM;
		goto out;
	}
	if (h)
		c->h = *h;
	err = conn_start_stream(c, NULL);
	if (err)
		goto out;
	c->estab = true;
	c->tmo = conn_timer_drop(c->tmo);
out:
	if (err)
		mem_deref(c);
	else
		*cp = c;
	return err;
}

void conn_set_handlers(struct conn *c, const struct conn_handlers *h)
{
	if (c && h)
		c->h = *h;
}

void conn_set_setup_timeout(struct conn *c, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (!c || c->estab || c->closed)
		return;
	evtimer_add(c->tmo, &tv);
}

void conn_set_guard(struct conn *c, conn_bad_h *bad, conn_partial_h *partial)
{
	if (c) {
		c->bad = bad;
		c->partial = partial;
	}
}

void conn_set_msg_timeout(struct conn *c, unsigned ms)
{
	if (c)
		c->msg_ms = ms;
}

void conn_set_limits(struct conn *c, const struct sipframe_limits *lim)
{
	if (c && lim)
		c->lim = *lim;
}

/* arg: the reference conn_send took when it scheduled this (one-shot) flush. */
static void conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->flush_due = false;
	conn_hold(c);
	if (!c->closed && c->estab && conn_pending_len(c) && conn_write_pending(c) != 0)
		conn_fail(c, ENOMEM);
	conn_release(c);
	mem_deref(c);
}

int conn_send(struct conn *c, const char *buf, size_t len)
{
	if (!c || (!buf && len))
		return EINVAL;
	if (c->closed)
		return ENOTCONN;
	if (!c->estab)
		return conn_pending_buf(c) && !evbuffer_add(c->pending, buf, len) ? 0 : ENOMEM;
	/* plain TCP: the socket bufferevent writes on the next writable turn, coalesced */
	if (!c->tls)
		return bufferevent_write(c->bev, buf, len) ? ENOMEM : 0;
	/* TLS: bufferevent_openssl would make a record and a write(2) of every message at once;
	 * the turn's messages are gathered and written together when its callbacks are done, by
	 * a one-shot event (a standing one would cost every idle connection ~150 B) */
	if (!conn_pending_buf(c) || evbuffer_add(c->pending, buf, len) != 0)
		return ENOMEM;
	if (!c->flush_due) {
		static const struct timeval now = { 0, 0 };

		if (event_base_once(c->base, -1, EV_TIMEOUT, conn_flush_cb, mem_ref(c), &now)) {
			mem_deref(c);
			return conn_write_pending(c);
		}
		c->flush_due = true;
	}
	return 0;
}

void conn_close(struct conn *c)
{
	if (c && !c->closed)
		conn_teardown(c);
}

bool conn_is_established(const struct conn *c)
{
	return c && c->estab && !c->closed;
}

bool conn_is_tls(const struct conn *c)
{
	return c && c->tls;
}

const char *conn_peer_cn(const struct conn *c)
{
	return c && c->peer_cn ? c->peer_cn : "";
}

X509 *conn_peer_cert(const struct conn *c)
{
	return c ? c->peer_cert : NULL;
}

const struct sockaddr *conn_peer_addr(const struct conn *c)
{
	return c ? (const struct sockaddr *)&c->peer : NULL;
}

const struct sockaddr *conn_local_addr(const struct conn *c)
{
	return c ? (const struct sockaddr *)&c->local : NULL;
}

size_t conn_pending_out(const struct conn *c)
{
	size_t n;

	if (!c)
		return 0;
	n = conn_pending_len(c);
	if (c->bev)
		n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

static void listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
			       struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	socklen_t len = sizeof(union conn_sa);
	struct conn *c;

	c = conn_new(l->base, l->tls, true);
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->fd = fd;
	if (salen > 0 && (size_t)salen <= sizeof(c->peer))
		memcpy(&c->peer, sa, (size_t)salen);
	getsockname(fd, (struct sockaddr *)&c->local, &len);
	if (conn_start_stream(c, l->tls) != 0) {
		mem_deref(c);
		return;
	}
	conn_hold(c);
	if (!c->tls)
		c->estab = true, c->tmo = conn_timer_drop(c->tmo);
	/* The owner takes the allocation reference; we keep ours until we are done. */
	l->ah(c, l->arg);
	if (!c->closed && !c->tls && c->h.estab)
		c->h.estab(c, c->h.arg);
	conn_release(c);
}

static void listener_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE and friends: the listener stays up and retries on the next readiness. */
	log_warn("accept: %s", strerror(err));
}

static void listener_destroy(void *data)
{
	struct listener *l = data;

	if (l->lev)
		evconnlistener_free(l->lev);
	mem_deref(l->tls);
}

int listener_alloc(struct listener **lp, struct event_base *base, struct tlsctx *tls,
		   const struct sockaddr *addr, bool reuseport, listener_accept_h *ah, void *arg)
{
	struct listener *l;
	socklen_t len = sizeof(struct sockaddr_storage);
	unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
	char as[64];
	int err;

	if (!lp || !base || !addr || !sa_len(addr) || !ah)
		return EINVAL;
	if (tls && !tlsctx_is_server(tls))
		return EINVAL;
	l = mem_zalloc(sizeof(*l), listener_destroy);
	if (!l)
		return ENOMEM;
	l->base = base;
	l->tls = mem_ref(tls);
	l->ah = ah;
	l->arg = arg;
	if (reuseport)
		flags |= LEV_OPT_REUSEABLE_PORT;
	l->lev = evconnlistener_new_bind(base, listener_accept_cb, l, flags, 1024, addr,
					 (int)sa_len(addr));
	if (!l->lev) {
		err = errno ? errno : EADDRNOTAVAIL;
		log_error("listen on %s: %s", sa_fmt(addr, as, sizeof(as)), strerror(err));
		mem_deref(l);
		return err;
	}
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&l->addr, &len) != 0)
		memcpy(&l->addr, addr, sa_len(addr));
	*lp = l;
	return 0;
}

void listener_set_tls(struct listener *l, struct tlsctx *tls)
{
	if (!l || !l->tls || !tls)
		return; /* a TCP listener stays TCP */
	mem_deref(l->tls);
	l->tls = mem_ref(tls);
}

const struct sockaddr *listener_addr(const struct listener *l)
{
	return l ? (const struct sockaddr *)&l->addr : NULL;
}
