/* fakedns: the lab's stub DNS server on UDP and TCP; records and answers live in dnszone. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "../dns/dnszone.h"
#include "../dns/fakedns.h"

#define LOG_MODULE "fakedns"

/* Datagrams handled per wakeup before returning to the loop, so one chatty peer cannot starve
 * the rest of the lab sharing the loop. */
#define FAKEDNS_UDP_BURST 32
/* TCP bounds (RFC 7766): connections, idle time (6.2.3), and output queued per connection
 * before we stop reading its queries. Input never holds more than one full message. */
#define FAKEDNS_TCP_MAX 64
#define FAKEDNS_TCP_IDLE_SECS 30
#define FAKEDNS_TCP_OUTBUF (256 * 1024)
#define FAKEDNS_TCP_INBUF (2 + 65535)

struct fakedns_tcp {
	LIST_ENTRY(fakedns_tcp) le;
	struct fakedns *d;
	struct bufferevent *bev;
	bool closing; /* peer sent EOF: close once the answers are written */
	char peer[64];
};

struct fakedns {
	struct event_base *base;
	struct dnszone *zone;
	int udp_fd;
	struct event *udp_ev;
	struct evconnlistener *lsn;
	LIST_HEAD(, fakedns_tcp) conns;
	unsigned nconns;
	uint64_t queries;
	uint8_t udpbuf[65536];
};

/* Every answer goes through here, so the query counter counts UDP, TCP and direct alike. */
static int answer(struct fakedns *d, const uint8_t *q, size_t qlen, bool udp, const char *from,
		  uint8_t **outp, size_t *outlen)
{
	int err;

	if (!d)
		return EINVAL;
	err = dnszone_answer(d->zone, q, qlen, udp, from, outp, outlen);
	if (!err)
		d->queries++;
	return err;
}

int fakedns_answer(struct fakedns *d, const uint8_t *query, size_t qlen, uint8_t **outp,
		   size_t *outlen)
{
	return answer(d, query, qlen, false, "direct", outp, outlen);
}

/* --- UDP --- */

static void udp_recv(evutil_socket_t fd, short what, void *arg)
{
	struct fakedns *d = arg;
	struct sockaddr_storage from;
	char peer[64];
	unsigned i;

	for (i = 0; i < FAKEDNS_UDP_BURST; i++) {
		socklen_t flen = sizeof(from);
		uint8_t *out = NULL;
		size_t outlen;
		ssize_t n;

		n = recvfrom(fd, d->udpbuf, sizeof(d->udpbuf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("udp recv: %s", strerror(errno));
			return;
		}
		sa_fmt((struct sockaddr *)&from, peer, sizeof(peer));
		if (answer(d, d->udpbuf, (size_t)n, true, peer, &out, &outlen)) {
			log_debug("%s: dropped %zd bytes that are no query", peer, n);
			continue;
		}
		if (sendto(fd, out, outlen, 0, (struct sockaddr *)&from, flen) < 0)
			log_warn("%s: udp send: %s", peer, strerror(errno));
		free(out);
	}
}

/* --- TCP (RFC 7766, RFC 1035 4.2.2: two-byte length, several queries per connection) --- */

static void tcp_destroy(void *data)
{
	struct fakedns_tcp *c = data;

	LIST_REMOVE(c, le);
	c->d->nconns--;
	if (c->bev)
		bufferevent_free(c->bev);
}

static void tcp_read(struct bufferevent *bev, void *arg)
{
	struct fakedns_tcp *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	while (evbuffer_get_length(out) < FAKEDNS_TCP_OUTBUF) {
		uint8_t hdr[2], *msg, *ans = NULL;
		size_t mlen, alen;

		if (evbuffer_copyout(in, hdr, 2) < 2)
			return;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < 2 + mlen)
			return;
		msg = evbuffer_pullup(in, (ev_ssize_t)(2 + mlen));
		if (!msg || answer(c->d, msg + 2, mlen, false, c->peer, &ans, &alen)) {
			log_debug("%s: not a query, closing", c->peer);
			mem_deref(c);
			return;
		}
		evbuffer_drain(in, 2 + mlen);
		hdr[0] = (uint8_t)(alen >> 8);
		hdr[1] = (uint8_t)alen;
		evbuffer_add(out, hdr, 2);
		evbuffer_add(out, ans, alen);
		free(ans);
	}
	/* The peer reads slower than it asks: stop reading until it caught up. */
	bufferevent_disable(bev, EV_READ);
}

static void tcp_write(struct bufferevent *bev, void *arg)
{
	struct fakedns_tcp *c = arg;

	if (c->closing) {
		mem_deref(c);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		tcp_read(bev, c);
	}
}

static void tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct fakedns_tcp *c = arg;

	if ((what & BEV_EVENT_EOF) && evbuffer_get_length(bufferevent_get_output(bev))) {
		c->closing = true;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		log_debug("%s: closed (%s)", c->peer, what & BEV_EVENT_TIMEOUT ? "idle" :
			  what & BEV_EVENT_EOF ? "eof" : "error");
		mem_deref(c);
	}
}

static void tcp_accept(struct evconnlistener *lsn, evutil_socket_t fd, struct sockaddr *sa,
		       int salen, void *arg)
{
	const struct timeval idle = { FAKEDNS_TCP_IDLE_SECS, 0 };
	struct fakedns *d = arg;
	struct fakedns_tcp *c;

	if (d->nconns >= FAKEDNS_TCP_MAX) {
		log_warn("more than %d TCP connections, refusing one", FAKEDNS_TCP_MAX);
		evutil_closesocket(fd);
		return;
	}
	c = mem_zalloc(sizeof(*c), tcp_destroy);
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->d = d;
	LIST_INSERT_HEAD(&d->conns, c, le);
	d->nconns++;
	sa_fmt(sa, c->peer, sizeof(c->peer));
	c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		log_warn("%s: tcp accept: out of memory", c->peer);
		evutil_closesocket(fd);
		mem_deref(c);
		return;
	}
	bufferevent_setcb(c->bev, tcp_read, tcp_write, tcp_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, FAKEDNS_TCP_INBUF);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_debug("%s: tcp connection", c->peer);
}

/* --- the server --- */

static void fakedns_destroy(void *data)
{
	struct fakedns *d = data;

	while (!LIST_EMPTY(&d->conns))
		mem_deref(LIST_FIRST(&d->conns));
	if (d->lsn)
		evconnlistener_free(d->lsn);
	if (d->udp_ev)
		event_free(d->udp_ev);
	if (d->udp_fd >= 0)
		close(d->udp_fd);
	mem_deref(d->zone);
}

/* Binds UDP first so that port 0 picks one port that TCP then shares. */
static int sockets_open(struct fakedns *d, const struct sockaddr *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sa_len(addr);
	char where[64];
	int one = 1, err;

	memcpy(&ss, addr, len);
	sa_fmt(addr, where, sizeof(where));
	d->udp_fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->udp_fd < 0)
		goto fail;
	setsockopt(d->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(d->udp_fd, addr, len) < 0 ||
	    getsockname(d->udp_fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	d->udp_ev = event_new(d->base, d->udp_fd, EV_READ | EV_PERSIST, udp_recv, d);
	if (!d->udp_ev || event_add(d->udp_ev, NULL) < 0)
		return ENOMEM;
	d->lsn = evconnlistener_new_bind(d->base, tcp_accept, d,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
					 LEV_OPT_CLOSE_ON_EXEC, 64, (struct sockaddr *)&ss,
					 (int)len);
	if (!d->lsn)
		goto fail;
	sa_fmt((struct sockaddr *)&ss, where, sizeof(where));
	log_info("serving on %s (udp+tcp)", where);
	return 0;
fail:
	err = errno ? errno : EINVAL;
	log_error("cannot serve on %s: %s", where, strerror(err));
	return err;
}

int fakedns_alloc(struct fakedns **dp, struct event_base *base, const struct sockaddr *addr,
		  const char *zone_text)
{
	struct fakedns *d;
	int err;

	if (!dp || !base || !addr ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return EINVAL;
	d = mem_zalloc(sizeof(*d), fakedns_destroy);
	if (!d)
		return ENOMEM;
	d->base = base;
	d->udp_fd = -1;
	LIST_INIT(&d->conns);
	err = dnszone_parse(&d->zone, zone_text ? zone_text : "");
	if (err)
		goto out;
	err = sockets_open(d, addr);
out:
	if (err)
		mem_deref(d);
	else
		*dp = d;
	return err;
}

int fakedns_set_zone(struct fakedns *d, const char *zone_text)
{
	struct dnszone *z = NULL;
	int err;

	if (!d)
		return EINVAL;
	err = dnszone_parse(&z, zone_text);
	if (err)
		return err;
	mem_deref(d->zone);
	d->zone = z;
	return 0;
}

int fakedns_add(struct fakedns *d, const char *zone_text)
{
	struct dnszone *z = NULL;
	int err;

	if (!d)
		return EINVAL;
	/* Parse everything first, so a bad line adds nothing. */
	err = dnszone_parse(&z, zone_text);
	if (err)
		return err;
	err = dnszone_merge(d->zone, z);
	mem_deref(z);
	return err;
}

uint64_t fakedns_queries(const struct fakedns *d)
{
	return d ? d->queries : 0;
}
