/* imdns: one asynchronous A or SRV lookup over UDP against the lab's stub DNS, built and parsed
 * with ldns so the wire format is never hand-written. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"

#include "imdns.h"

#define LOG_MODULE "imdns"

#define IMDNS_DEFAULT_MS 2000

struct imdns {
	int fd;
	struct event *rd, *timer;
	uint16_t id;
	char *name;
	ldns_rr_type type;        /* A or SRV */
	imdns_h *h;               /* A */
	imdns_srv_h *srv_h;       /* SRV */
	void *arg;
	bool done;
};

/* What an SRV answer chose (RFC 2782): the lowest priority, then the highest weight. */
struct imdns_srv {
	char target[256];
	uint16_t port;
};

static void imdns_destroy(void *data)
{
	struct imdns *q = data;

	if (q->rd)
		event_free(q->rd);
	if (q->timer)
		event_free(q->timer);
	if (q->fd >= 0)
		close(q->fd);
	mem_deref(q->name);
}

static void imdns_finish(struct imdns *q, int err, const struct sockaddr *addr,
			 const struct imdns_srv *srv)
{
	if (q->done)
		return;
	q->done = true;
	event_del(q->rd);
	event_del(q->timer);
	if (err)
		log_info("%s %s: %s", q->type == LDNS_RR_TYPE_SRV ? "SRV" : "A", q->name,
			 strerror(err));
	if (q->type == LDNS_RR_TYPE_SRV)
		q->srv_h(err, err ? NULL : srv->target, err ? 0 : srv->port, q->arg);
	else
		q->h(err, addr, q->arg);
}

/* RFC 2782: among the SRV records of the answer, the lowest priority wins, then the highest
 * weight (the lab needs no weighted random choice: its providers are single clients); a "."
 * target says the service is not offered (ENOENT). */
static int imdns_pick_srv(ldns_rr_list *an, struct imdns_srv *out)
{
	long best_prio = -1, best_weight = -1;
	size_t i;

	for (i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		long prio, weight;
		char *t;
		size_t n;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SRV || ldns_rr_rd_count(rr) != 4)
			continue;
		prio = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		weight = ldns_rdf2native_int16(ldns_rr_rdf(rr, 1));
		if (best_prio >= 0 && (prio > best_prio || (prio == best_prio && weight <= best_weight)))
			continue;
		t = ldns_rdf2str(ldns_rr_rdf(rr, 3));
		if (!t)
			return ENOMEM;
		n = strlen(t);
		if (n && t[n - 1] == '.')
			t[--n] = '\0';
		snprintf(out->target, sizeof(out->target), "%s", t);
		free(t);
		out->port = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
		best_prio = prio;
		best_weight = weight;
	}
	if (best_prio < 0 || !out->target[0])
		return ENOENT;
	return 0;
}

/* The first A record of the answer section for our name; CNAME chains are not followed (the
 * lab zone has none). */
static int imdns_parse(struct imdns *q, const uint8_t *buf, size_t len, struct sockaddr_in *out,
		       struct imdns_srv *srv)
{
	ldns_pkt *pkt = NULL;
	ldns_rr_list *an;
	int err = EPROTO;
	size_t i;

	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
		return EPROTO;
	if (ldns_pkt_id(pkt) != q->id || !ldns_pkt_qr(pkt))
		goto out;
	if (ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN) {
		err = ENOENT;
		goto out;
	}
	if (ldns_pkt_get_rcode(pkt) != LDNS_RCODE_NOERROR)
		goto out;
	err = ENOENT;
	an = ldns_pkt_answer(pkt);
	if (q->type == LDNS_RR_TYPE_SRV) {
		err = imdns_pick_srv(an, srv);
		goto out;
	}
	for (i = 0; an && i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rdf *rd = ldns_rr_rdf(rr, 0);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_A || !rd ||
		    ldns_rdf_get_type(rd) != LDNS_RDF_TYPE_A || ldns_rdf_size(rd) != 4)
			continue;
		memset(out, 0, sizeof(*out));
		out->sin_family = AF_INET;
		memcpy(&out->sin_addr, ldns_rdf_data(rd), 4);
		err = 0;
		break;
	}
out:
	ldns_pkt_free(pkt);
	return err;
}

static void imdns_read(evutil_socket_t fd, short what, void *arg)
{
	struct imdns *q = arg;
	struct sockaddr_in a;
	struct imdns_srv srv;
	uint8_t buf[4096];
	ssize_t n;
	int err;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		imdns_finish(q, errno == ECONNREFUSED ? EPROTO : errno, NULL, NULL);
		return;
	}
	memset(&srv, 0, sizeof(srv));
	err = imdns_parse(q, buf, (size_t)n, &a, &srv);
	if (err == EPROTO && n >= 2 && ((buf[0] << 8) | buf[1]) != q->id)
		return; /* someone else's datagram: keep waiting */
	imdns_finish(q, err, err ? NULL : (struct sockaddr *)&a, &srv);
}

static void imdns_timeout(evutil_socket_t fd, short what, void *arg)
{
	imdns_finish(arg, ETIMEDOUT, NULL, NULL);
}

static int imdns_send(struct imdns *q)
{
	ldns_pkt *pkt = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	int err = 0;

	/* RFC 1035 4.1.1: one question, recursion desired (the stub answers authoritatively). */
	if (ldns_pkt_query_new_frm_str(&pkt, q->name, q->type, LDNS_RR_CLASS_IN,
				       LDNS_RD) != LDNS_STATUS_OK)
		return EINVAL;
	ldns_pkt_set_id(pkt, q->id);
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK)
		err = ENOMEM;
	else if (send(q->fd, wire, len, 0) < 0)
		err = errno;
	free(wire);
	ldns_pkt_free(pkt);
	return err;
}

static int imdns_start(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		       const char *name, unsigned timeout_ms, ldns_rr_type type, imdns_h *h,
		       imdns_srv_h *srv_h, void *arg)
{
	struct timeval tv;
	struct imdns *q;
	int err;

	if (!qp || !base || !server || !name || !*name || (!h && !srv_h) ||
	    (server->sa_family != AF_INET && server->sa_family != AF_INET6))
		return EINVAL;
	q = mem_zalloc(sizeof(*q), imdns_destroy);
	if (!q)
		return ENOMEM;
	q->fd = -1;
	q->type = type;
	q->h = h;
	q->srv_h = srv_h;
	q->arg = arg;
	q->name = mem_strdup(name);
	q->id = (uint16_t)(ldns_get_random() & 0xffff);
	if (!q->name) {
		err = ENOMEM;
		goto out;
	}
	q->fd = socket(server->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0 || connect(q->fd, server, sa_len(server)) != 0) {
		err = errno;
		goto out;
	}
	q->rd = event_new(base, q->fd, EV_READ | EV_PERSIST, imdns_read, q);
	q->timer = evtimer_new(base, imdns_timeout, q);
	if (!q->rd || !q->timer) {
		err = ENOMEM;
		goto out;
	}
	err = imdns_send(q);
	if (err)
		goto out;
	timeout_ms = timeout_ms ? timeout_ms : IMDNS_DEFAULT_MS;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	event_add(q->rd, NULL);
	evtimer_add(q->timer, &tv);
	log_debug("%s %s? (id %u)", type == LDNS_RR_TYPE_SRV ? "SRV" : "A", name, q->id);
out:
	if (err)
		mem_deref(q);
	else
		*qp = q;
	return err;
}

int imdns_lookup(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		 const char *name, unsigned timeout_ms, imdns_h *h, void *arg)
{
	return h ? imdns_start(qp, base, server, name, timeout_ms, LDNS_RR_TYPE_A, h, NULL, arg)
		 : EINVAL;
}

int imdns_lookup_srv(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		     const char *name, unsigned timeout_ms, imdns_srv_h *h, void *arg)
{
	return h ? imdns_start(qp, base, server, name, timeout_ms, LDNS_RR_TYPE_SRV, NULL, h, arg)
		 : EINVAL;
}
