/* fakedns: the lab's stub DNS server on UDP and TCP; records and answers live in dnszone. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <ldns/ldns.h>

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
/* A delayed answer waits at most this long (a scenario's timeouts are shorter anyway). */
#define FAKEDNS_DELAY_MAX_MS 60000

struct fakedns_tcp {
	LIST_ENTRY(fakedns_tcp) le;
	struct fakedns *d;
	struct bufferevent *bev;
	bool closing; /* peer sent EOF: close once the answers are written */
	char peer[64];
};

/* The fault of one name (few per lab: a list is enough). */
struct fakedns_fault_rec {
	LIST_ENTRY(fakedns_fault_rec) le;
	enum fakedns_fault kind;
	unsigned ms;
	char name[256];
};

/* An answer held back by a DELAY fault; goes with its TCP connection or the server. */
struct fakedns_later {
	LIST_ENTRY(fakedns_later) le;
	struct fakedns *d;
	struct fakedns_tcp *c;     /* NULL: UDP, to 'to' */
	struct event *ev;
	struct sockaddr_storage to;
	socklen_t tolen;
	uint8_t *out;
	size_t len;
};

struct fakedns {
	struct event_base *base;
	LIST_HEAD(, fakedns_fault_rec) faults;
	LIST_HEAD(, fakedns_later) later;
	struct fakedns_query *log; /* ring of FAKEDNS_LOG_MAX, allocated on first query */
	size_t log_head, log_n;
	uint64_t start_ms;
	struct dnszone *zone;
	int udp_fd;
	struct event *udp_ev;
	struct evconnlistener *lsn;
	LIST_HEAD(, fakedns_tcp) conns;
	unsigned nconns;
	uint64_t queries;
	uint8_t udpbuf[65536];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Lower case, no trailing dot: the one form names are compared and logged in. */
static void name_norm(const char *in, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; in[i] && n + 1 < size; i++)
		out[n++] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	if (n > 1 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

static const struct fakedns_fault_rec *fault_find(const struct fakedns *d, const char *name)
{
	const struct fakedns_fault_rec *f;

	LIST_FOREACH(f, &d->faults, le)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static void log_push(struct fakedns *d, const struct fakedns_query *rec)
{
	if (!d->log) {
		d->log = calloc(FAKEDNS_LOG_MAX, sizeof(*d->log));
		if (!d->log)
			return;
	}
	if (d->log_n < FAKEDNS_LOG_MAX) {
		d->log[(d->log_head + d->log_n++) % FAKEDNS_LOG_MAX] = *rec;
	} else {
		d->log[d->log_head] = *rec;
		d->log_head = (d->log_head + 1) % FAKEDNS_LOG_MAX;
	}
}

/* The answer a fault dictates: the question echoed, no records, rcode, and TC if asked. */
static int fault_answer(ldns_pkt *qp, ldns_pkt_rcode rcode, bool tc, uint8_t **outp,
			size_t *outlen)
{
	ldns_pkt_set_qr(qp, true);
	ldns_pkt_set_aa(qp, true);
	ldns_pkt_set_tc(qp, tc);
	ldns_pkt_set_rcode(qp, rcode);
	return ldns_pkt2wire(outp, qp, outlen) == LDNS_STATUS_OK ? 0 : ENOMEM;
}

/* Every query goes through here, so the log and the counter see UDP, TCP and direct alike.
 * EAGAIN: say nothing (DROP). *delayp: hold the answer that long (DELAY; not for direct). */
static int answer(struct fakedns *d, const uint8_t *q, size_t qlen,
		  enum fakedns_transport tp, const char *from, uint8_t **outp, size_t *outlen,
		  unsigned *delayp)
{
	const struct fakedns_fault_rec *f = NULL;
	struct fakedns_query rec;
	ldns_pkt *qp = NULL;
	int err;

	if (!d)
		return EINVAL;
	if (!q || qlen < LDNS_HEADER_SIZE || LDNS_QR_WIRE(q))
		return EBADMSG;
	memset(&rec, 0, sizeof(rec));
	rec.transport = tp;
	rec.at_ms = now_ms() - d->start_ms;
	rec.rcode = -1;
	if (ldns_wire2pkt(&qp, q, qlen) == LDNS_STATUS_OK && ldns_pkt_qdcount(qp) == 1) {
		const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
		char *txt = ldns_rdf2str(ldns_rr_owner(qr));

		if (txt)
			name_norm(txt, rec.name, sizeof(rec.name));
		free(txt);
		rec.type = (uint16_t)ldns_rr_get_type(qr);
		f = fault_find(d, rec.name);
	}
	rec.fault = f ? f->kind : FAKEDNS_FAULT_NONE;
	switch (rec.fault) {
	case FAKEDNS_FAULT_DROP:
		log_debug("%s: %s dropped (fault)", from, rec.name);
		err = EAGAIN;
		break;
	case FAKEDNS_FAULT_SERVFAIL:
		err = fault_answer(qp, LDNS_RCODE_SERVFAIL, false, outp, outlen);
		break;
	case FAKEDNS_FAULT_NXDOMAIN:
		err = fault_answer(qp, LDNS_RCODE_NXDOMAIN, false, outp, outlen);
		break;
	case FAKEDNS_FAULT_TRUNCATE:
		/* RFC 1035 4.2.1 / RFC 7766: TC over UDP sends a good client to TCP */
		if (tp == FAKEDNS_UDP) {
			err = fault_answer(qp, LDNS_RCODE_NOERROR, true, outp, outlen);
			break;
		}
		/* fall through */
	default:
		if (rec.fault == FAKEDNS_FAULT_DELAY && tp != FAKEDNS_DIRECT && delayp)
			*delayp = f->ms;
		err = dnszone_answer(d->zone, q, qlen, tp == FAKEDNS_UDP, from, outp, outlen);
		break;
	}
	ldns_pkt_free(qp);
	if (!err) {
		d->queries++;
		rec.rcode = (int)LDNS_RCODE_WIRE(*outp);
		rec.truncated = LDNS_TC_WIRE(*outp);
	}
	if (!err || err == EAGAIN)
		log_push(d, &rec);
	return err;
}

int fakedns_answer(struct fakedns *d, const uint8_t *query, size_t qlen, uint8_t **outp,
		   size_t *outlen)
{
	return answer(d, query, qlen, FAKEDNS_DIRECT, "direct", outp, outlen, NULL);
}

/* --- delayed answers --- */

static void later_destroy(void *data)
{
	struct fakedns_later *l = data;

	LIST_REMOVE(l, le);
	if (l->ev)
		event_free(l->ev);
	free(l->out);
}

static void tcp_put(struct fakedns_tcp *c, const uint8_t *ans, size_t alen);

static void later_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fakedns_later *l = arg;

	if (l->c)
		tcp_put(l->c, l->out, l->len);
	else if (sendto(l->d->udp_fd, l->out, l->len, 0, (struct sockaddr *)&l->to, l->tolen) < 0)
		log_warn("delayed udp send: %s", strerror(errno));
	mem_deref(l);
}

/* Takes out (malloc'd) either way. */
static void later_add(struct fakedns *d, struct fakedns_tcp *c, const struct sockaddr *to,
		      socklen_t tolen, uint8_t *out, size_t len, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct fakedns_later *l = mem_zalloc(sizeof(*l), later_destroy);

	if (!l) {
		free(out);
		return;
	}
	LIST_INSERT_HEAD(&d->later, l, le);
	l->d = d;
	l->c = c;
	l->out = out;
	l->len = len;
	if (to && tolen <= sizeof(l->to)) {
		memcpy(&l->to, to, tolen);
		l->tolen = tolen;
	}
	l->ev = evtimer_new(d->base, later_fire, l);
	if (!l->ev || evtimer_add(l->ev, &tv) < 0) {
		log_warn("cannot hold an answer back: dropped");
		mem_deref(l);
	}
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
		unsigned delay = 0;
		ssize_t n;
		int err;

		n = recvfrom(fd, d->udpbuf, sizeof(d->udpbuf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("udp recv: %s", strerror(errno));
			return;
		}
		sa_fmt((struct sockaddr *)&from, peer, sizeof(peer));
		err = answer(d, d->udpbuf, (size_t)n, FAKEDNS_UDP, peer, &out, &outlen, &delay);
		if (err) {
			if (err != EAGAIN)
				log_debug("%s: dropped %zd bytes that are no query", peer, n);
			continue;
		}
		if (delay) {
			later_add(d, NULL, (struct sockaddr *)&from, flen, out, outlen, delay);
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
	struct fakedns_later *l, *next;

	for (l = LIST_FIRST(&c->d->later); l; l = next) {
		next = LIST_NEXT(l, le);
		if (l->c == c)
			mem_deref(l);
	}

	LIST_REMOVE(c, le);
	c->d->nconns--;
	if (c->bev)
		bufferevent_free(c->bev);
}

/* RFC 1035 4.2.2: two-byte length, then the message. */
static void tcp_put(struct fakedns_tcp *c, const uint8_t *ans, size_t alen)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t hdr[2] = { (uint8_t)(alen >> 8), (uint8_t)alen };

	evbuffer_add(out, hdr, 2);
	evbuffer_add(out, ans, alen);
}

static void tcp_read(struct bufferevent *bev, void *arg)
{
	struct fakedns_tcp *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);

	while (evbuffer_get_length(out) < FAKEDNS_TCP_OUTBUF) {
		uint8_t hdr[2], *msg, *ans = NULL;
		size_t mlen, alen;
		unsigned delay;
		int err;

		if (evbuffer_copyout(in, hdr, 2) < 2)
			return;
		mlen = (size_t)hdr[0] << 8 | hdr[1];
		if (evbuffer_get_length(in) < 2 + mlen)
			return;
		msg = evbuffer_pullup(in, (ev_ssize_t)(2 + mlen));
		delay = 0;
		err = msg ? answer(c->d, msg + 2, mlen, FAKEDNS_TCP, c->peer, &ans, &alen, &delay)
			  : ENOMEM;
		if (err && err != EAGAIN) {
			log_debug("%s: not a query, closing", c->peer);
			mem_deref(c);
			return;
		}
		evbuffer_drain(in, 2 + mlen);
		if (err == EAGAIN)
			continue;
		if (delay) {
			later_add(c->d, c, NULL, 0, ans, alen, delay);
			continue;
		}
		tcp_put(c, ans, alen);
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

	struct fakedns_fault_rec *f;

	while (!LIST_EMPTY(&d->conns))
		mem_deref(LIST_FIRST(&d->conns));
	while (!LIST_EMPTY(&d->later))
		mem_deref(LIST_FIRST(&d->later));
	while ((f = LIST_FIRST(&d->faults))) {
		LIST_REMOVE(f, le);
		free(f);
	}
	free(d->log);
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
	LIST_INIT(&d->faults);
	LIST_INIT(&d->later);
	d->start_ms = now_ms();
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

int fakedns_remove(struct fakedns *d, const char *name, const char *type)
{
	ldns_rr_type t = 0;

	if (!d || !name)
		return EINVAL;
	if (type && strcasecmp(type, "ANY")) {
		t = ldns_get_rr_type_by_name(type);
		if (!t)
			return EINVAL;
	}
	return dnszone_remove(d->zone, name, (uint16_t)t);
}

static const char *const fault_names[] = {
	[FAKEDNS_FAULT_NONE] = "none",
	[FAKEDNS_FAULT_SERVFAIL] = "servfail",
	[FAKEDNS_FAULT_NXDOMAIN] = "nxdomain",
	[FAKEDNS_FAULT_DROP] = "drop",
	[FAKEDNS_FAULT_DELAY] = "delay",
	[FAKEDNS_FAULT_TRUNCATE] = "truncate",
};

int fakedns_fault_parse(const char *text, enum fakedns_fault *kindp)
{
	size_t i;

	if (!text || !kindp)
		return EINVAL;
	if (!strcasecmp(text, "timeout")) {
		*kindp = FAKEDNS_FAULT_DROP;
		return 0;
	}
	for (i = 0; i < sizeof(fault_names) / sizeof(fault_names[0]); i++) {
		if (!strcasecmp(text, fault_names[i])) {
			*kindp = (enum fakedns_fault)i;
			return 0;
		}
	}
	return EINVAL;
}

const char *fakedns_fault_name(enum fakedns_fault kind)
{
	return (unsigned)kind < sizeof(fault_names) / sizeof(fault_names[0]) ?
		fault_names[kind] : "?";
}

int fakedns_fault(struct fakedns *d, const char *name, enum fakedns_fault kind, unsigned ms)
{
	struct fakedns_fault_rec *f;
	char norm[256];

	if (!d || !name || !*name || (unsigned)kind > FAKEDNS_FAULT_TRUNCATE ||
	    ms > FAKEDNS_DELAY_MAX_MS || (kind == FAKEDNS_FAULT_DELAY && !ms))
		return EINVAL;
	name_norm(name, norm, sizeof(norm));
	f = (struct fakedns_fault_rec *)fault_find(d, norm);
	if (kind == FAKEDNS_FAULT_NONE) {
		if (f) {
			LIST_REMOVE(f, le);
			free(f);
		}
		return 0;
	}
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return ENOMEM;
		snprintf(f->name, sizeof(f->name), "%s", norm);
		LIST_INSERT_HEAD(&d->faults, f, le);
	}
	f->kind = kind;
	f->ms = ms;
	log_info("fault for %s: %s (%u ms)", norm, fakedns_fault_name(kind), ms);
	return 0;
}

void fakedns_fault_clear(struct fakedns *d)
{
	struct fakedns_fault_rec *f;

	while (d && (f = LIST_FIRST(&d->faults))) {
		LIST_REMOVE(f, le);
		free(f);
	}
}

size_t fakedns_log_count(const struct fakedns *d)
{
	return d ? d->log_n : 0;
}

const struct fakedns_query *fakedns_log_get(const struct fakedns *d, size_t i)
{
	if (!d || !d->log || i >= d->log_n)
		return NULL;
	return &d->log[(d->log_head + i) % FAKEDNS_LOG_MAX];
}

void fakedns_log_clear(struct fakedns *d)
{
	if (d)
		d->log_head = d->log_n = 0;
}

const char *fakedns_transport_name(enum fakedns_transport t)
{
	return t == FAKEDNS_UDP ? "udp" : t == FAKEDNS_TCP ? "tcp" : "direct";
}
