/* imdns: one asynchronous A lookup over UDP against the lab's stub DNS, built and parsed with
 * ldns so the wire format is never hand-written. */
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
	imdns_h *h;
	void *arg;
	bool done;
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

static void imdns_finish(struct imdns *q, int err, const struct sockaddr *addr)
{
	if (q->done)
		return;
	q->done = true;
	event_del(q->rd);
	event_del(q->timer);
	if (err)
		log_info("A %s: %s", q->name, strerror(err));
	q->h(err, addr, q->arg);
}

/* The first A record of the answer section for our name; CNAME chains are not followed (the
 * lab zone has none). */
static int imdns_parse(struct imdns *q, const uint8_t *buf, size_t len, struct sockaddr_in *out)
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
	uint8_t buf[4096];
	ssize_t n;
	int err;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		imdns_finish(q, errno == ECONNREFUSED ? EPROTO : errno, NULL);
		return;
	}
	err = imdns_parse(q, buf, (size_t)n, &a);
	if (err == EPROTO && n >= 2 && ((buf[0] << 8) | buf[1]) != q->id)
		return; /* someone else's datagram: keep waiting */
	imdns_finish(q, err, err ? NULL : (struct sockaddr *)&a);
}

static void imdns_timeout(evutil_socket_t fd, short what, void *arg)
{
	imdns_finish(arg, ETIMEDOUT, NULL);
}

static int imdns_send(struct imdns *q)
{
	ldns_pkt *pkt = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	int err = 0;

	/* RFC 1035 4.1.1: one question, recursion desired (the stub answers authoritatively). */
	if (ldns_pkt_query_new_frm_str(&pkt, q->name, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN,
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

int imdns_lookup(struct imdns **qp, struct event_base *base, const struct sockaddr *server,
		 const char *name, unsigned timeout_ms, imdns_h *h, void *arg)
{
	struct timeval tv;
	struct imdns *q;
	int err;

	if (!qp || !base || !server || !name || !*name || !h ||
	    (server->sa_family != AF_INET && server->sa_family != AF_INET6))
		return EINVAL;
	q = mem_zalloc(sizeof(*q), imdns_destroy);
	if (!q)
		return ENOMEM;
	q->fd = -1;
	q->h = h;
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
	log_debug("A %s? (id %u)", name, q->id);
out:
	if (err)
		mem_deref(q);
	else
		*qp = q;
	return err;
}
