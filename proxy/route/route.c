/* route: c-ares on the libevent loop (socket state callback + per-fd events + timeout timer);
 * one cache entry per next hop (an FQDN, or a partner's federation SRV name) holding its
 * targets until the smallest TTL among the records used runs out (DNS-005). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/log.h"
#include "net/sa.h"
#include "../hmap/hmap.h"
#include "srv.h"
#include "route.h"

#define LOG_MODULE "route"

#define ROUTE_MAX_TTL_S 86400u
/* RFC 5922 / MS federation: the SRV name a federated partner publishes for its edge. */
#define ROUTE_FED_SRV "_sipfederationtls._tcp."

struct route_waiter {
	route_h *h;
	void *arg;
	struct route_waiter *next;
};

struct route_entry {
	struct route *r;
	struct hmap_le le;
	char *key;                 /* the FQDN, or the SRV name */
	char *fallback;            /* SRV entries: the FQDN asked by A when there is no SRV */
	bool srv;
	bool pending;
	int err;
	char why[300];
	uint64_t expires;          /* clock_mono_ms() ms */
	unsigned ttl;              /* smallest TTL seen while filling */
	int last_status;           /* of the last failed target lookup */
	size_t nrecs;
	struct srv_rec recs[ROUTE_MAX_TARGETS];
	struct sockaddr_storage addr[ROUTE_MAX_TARGETS];
	bool have[ROUTE_MAX_TARGETS];
	unsigned outstanding;      /* target lookups in flight */
	struct route_waiter *waiters, **tail;
};

/* One A/AAAA lookup of an entry's target i. */
struct route_tq {
	struct route_entry *e;
	size_t i;
};

struct route_sock {
	ares_socket_t fd;
	struct event *ev;
	struct route *r;
	struct route_sock *next;
};

struct route {
	struct event_base *base;
	ares_channel channel;
	bool have_channel;
	bool closing;
	struct event *tmr;
	struct route_sock *socks;
	struct hmap *cache;
	uint64_t lookups;
};

static void route_entry_free(struct hmap_le *le, void *arg)
{
	struct route_entry *e = le->data;

	while (e->waiters) {
		struct route_waiter *w = e->waiters;

		e->waiters = w->next;
		free(w);
	}
	hmap_unlink(arg, le);
	free(e->key);
	free(e->fallback);
	free(e);
}

static void route_destroy(void *data)
{
	struct route *r = data;

	r->closing = true;
	if (r->have_channel)
		ares_destroy(r->channel); /* runs pending callbacks with ARES_EDESTRUCTION */
	while (r->socks) {
		struct route_sock *s = r->socks;

		r->socks = s->next;
		event_free(s->ev);
		free(s);
	}
	if (r->tmr)
		event_free(r->tmr);
	hmap_apply(r->cache, route_entry_free, r->cache);
	mem_deref(r->cache);
}

/* After every c-ares call: its next deadline becomes our timer. */
static void route_arm_timer(struct route *r)
{
	struct timeval tv, *tvp;

	if (r->closing)
		return;
	tvp = ares_timeout(r->channel, NULL, &tv);
	if (tvp)
		evtimer_add(r->tmr, tvp);
	else
		evtimer_del(r->tmr);
}

static void route_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct route *r = arg;

	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	route_arm_timer(r);
}

static void route_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct route_sock *s = arg;
	struct route *r = s->r;

	ares_process_fd(r->channel, (what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	route_arm_timer(r);
}

/* ARES_OPT_SOCK_STATE_CB: c-ares says which of its sockets it waits on, and for what. */
static void route_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct route *r = data;
	struct route_sock **pp = &r->socks, *s;
	short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	s = *pp;
	if (!what) {
		if (s) {
			*pp = s->next;
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->fd = fd;
		s->r = r;
		s->next = r->socks;
		r->socks = s;
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(r->base, fd, what | EV_PERSIST, route_sock_event, s);
	if (s->ev)
		event_add(s->ev, NULL);
}

int route_alloc(struct route **rp, struct event_base *base, const struct sockaddr *dns_server)
{
	static bool lib_ready;
	struct ares_options opt;
	struct route *r;
	char csv[80];
	int err = 0, st;

	if (!rp || !base || !dns_server)
		return EINVAL;
	if (!lib_ready) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
			return ENOMEM;
		lib_ready = true;
	}
	r = mem_zalloc(sizeof(*r), route_destroy);
	if (!r)
		return ENOMEM;
	r->base = base;
	err = hmap_alloc(&r->cache, 64);
	if (err)
		goto out;
	hmap_set_nocase(r->cache);
	r->tmr = evtimer_new(base, route_timeout, r);
	if (!r->tmr) {
		err = ENOMEM;
		goto out;
	}
	memset(&opt, 0, sizeof(opt));
	opt.sock_state_cb = route_sock_state;
	opt.sock_state_cb_data = r;
	/* ms per try, two tries (the second twice as long): a dead resolver fails a lookup in
	 * about 3 s, well before the sender's transaction times out (DNS-004) */
	opt.timeout = 1000;
	opt.tries = 2;
	opt.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	opt.lookups = (char *)"b"; /* DNS only, never /etc/hosts: the lab's DNS is the truth */
	st = ares_init_options(&r->channel, &opt,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
			       ARES_OPT_FLAGS | ARES_OPT_LOOKUPS);
	if (st != ARES_SUCCESS) {
		log_error("c-ares init: %s", ares_strerror(st));
		err = ENOMEM;
		goto out;
	}
	r->have_channel = true;
	sa_fmt(dns_server, csv, sizeof(csv));
	st = ares_set_servers_ports_csv(r->channel, csv);
	if (st != ARES_SUCCESS) {
		log_error("DNS server %s: %s", csv, ares_strerror(st));
		err = EINVAL;
		goto out;
	}
	log_info("resolving through %s", csv);
out:
	if (err)
		mem_deref(r);
	else
		*rp = r;
	return err;
}

static int route_ares_errno(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
	case ARES_ENONAME:
		return ENOENT;
	case ARES_ETIMEOUT:
		return ETIMEDOUT;
	case ARES_ENOMEM:
		return ENOMEM;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED:
		return ECANCELED;
	default:
		return EHOSTUNREACH;
	}
}

/* The targets in the order this request tries them: SRV entries are ordered afresh for every
 * request, so weights spread the load (RFC 2782). */
static void route_addrs_build(const struct route_entry *e, struct route_addrs *ra)
{
	struct srv_rec recs[ROUTE_MAX_TARGETS];
	size_t i, n;

	memcpy(recs, e->recs, e->nrecs * sizeof(recs[0]));
	n = e->srv ? srv_order(recs, e->nrecs, NULL, NULL) : e->nrecs;
	ra->n = 0;
	for (i = 0; i < n; i++) {
		unsigned k = recs[i].id;

		if (k >= e->nrecs || !e->have[k])
			continue;
		ra->a[ra->n] = e->addr[k];
		sa_set_port(&ra->a[ra->n], recs[i].port);
		ra->n++;
	}
}

static void route_deliver(struct route_entry *e, route_h *h, void *arg)
{
	struct route_addrs ra;

	if (e->err) {
		h(e->err, e->why, NULL, arg);
		return;
	}
	route_addrs_build(e, &ra);
	h(0, NULL, &ra, arg);
}

static void route_notify(struct route_entry *e)
{
	struct route_waiter *w = e->waiters;

	e->waiters = NULL;
	e->tail = &e->waiters;
	while (w) {
		struct route_waiter *next = w->next;

		route_deliver(e, w->h, w->arg);
		free(w);
		w = next;
	}
}

static void route_fail(struct route_entry *e, int err, const char *what, int status)
{
	e->err = err;
	snprintf(e->why, sizeof(e->why), "DNS lookup of %s failed: %s", what,
		 status == ARES_SUCCESS ? "no address" : ares_strerror(status));
	e->expires = clock_mono_ms() + ROUTE_NEG_TTL_S * 1000u;
	if (err != ECANCELED)
		log_warn("%s", e->why);
}

/* Every target lookup has answered: the entry is complete. */
static void route_finish(struct route_entry *e)
{
	size_t i, n = 0;
	char ip[64];

	e->pending = false;
	for (i = 0; i < e->nrecs; i++)
		n += e->have[i];
	if (e->r->closing) {
		route_fail(e, ECANCELED, e->key, ARES_EDESTRUCTION);
	} else if (!n) {
		route_fail(e, e->last_status == ARES_SUCCESS ? ENOENT :
			   route_ares_errno(e->last_status),
			   e->nrecs == 1 ? e->recs[0].target : e->key, e->last_status);
	} else {
		e->err = 0;
#ifdef AP_MUTANT_DNS_TTL_IGNORED
		e->expires = clock_mono_ms() + (uint64_t)ROUTE_MAX_TTL_S * 1000u; /* TTL ignored */
#else
		e->expires = clock_mono_ms() + (uint64_t)e->ttl * 1000u;
#endif
		for (i = 0; i < e->nrecs; i++)
			if (e->have[i])
				log_debug("%s -> %s %s port %u (ttl %u s)", e->key,
					  e->recs[i].target,
					  sa_ip((struct sockaddr *)&e->addr[i], ip, sizeof(ip)),
					  e->recs[i].port, e->ttl);
	}
	route_notify(e);
}

static void route_ttl(struct route_entry *e, int ttl)
{
	unsigned t = ttl > 0 ? (unsigned)ttl : 1;

	if (t > ROUTE_MAX_TTL_S)
		t = ROUTE_MAX_TTL_S;
	if (t < e->ttl)
		e->ttl = t;
}

static void route_target_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct route_tq *q = arg;
	struct route_entry *e = q->e;
	struct ares_addrinfo_node *n = res ? res->nodes : NULL;

	if (status == ARES_SUCCESS && n && n->ai_addrlen <= sizeof(e->addr[0]) &&
	    !e->r->closing) {
		memset(&e->addr[q->i], 0, sizeof(e->addr[0]));
		memcpy(&e->addr[q->i], n->ai_addr, n->ai_addrlen);
		e->have[q->i] = true;
		route_ttl(e, n->ai_ttl);
	} else {
		e->last_status = status == ARES_SUCCESS ? ARES_ENODATA : status;
	}
	if (res)
		ares_freeaddrinfo(res);
	free(q);
	if (--e->outstanding == 0)
		route_finish(e);
}

/* Looks up every target's address; route_finish runs when the last one answers. */
static void route_targets_start(struct route_entry *e)
{
	struct ares_addrinfo_hints hints;
	size_t i, n = e->nrecs;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	e->outstanding = (unsigned)n;
	for (i = 0; i < n; i++) {
		struct route_tq *q = calloc(1, sizeof(*q));

		if (!q) {
			e->last_status = ARES_ENOMEM;
			if (--e->outstanding == 0)
				route_finish(e);
			continue;
		}
		q->e = e;
		q->i = i;
		ares_getaddrinfo(e->r->channel, e->recs[i].target, NULL, &hints,
				 route_target_answer, q);
	}
}

/* The smallest TTL of the answer section (ares_parse_srv_reply drops them). */
static int route_answer_ttl(const unsigned char *abuf, int alen)
{
	const unsigned char *p = abuf + HFIXEDSZ;
	int qd, an, i, min = -1;

	if (alen < HFIXEDSZ)
		return -1;
	qd = abuf[4] << 8 | abuf[5];
	an = abuf[6] << 8 | abuf[7];
	for (i = 0; i < qd + an; i++) {
		char *name = NULL;
		long len = 0;

		if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
			return min;
		ares_free_string(name);
		p += len;
		if (i < qd) {
			p += QFIXEDSZ;
			continue;
		}
		if (p + RRFIXEDSZ > abuf + alen)
			return min;
		{
			int ttl = (int)((uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
					(uint32_t)p[6] << 8 | p[7]);
			int rdlen = p[8] << 8 | p[9];

			if (ttl >= 0 && (min < 0 || ttl < min))
				min = ttl;
			p += RRFIXEDSZ + rdlen;
		}
	}
	return min;
}

/* RFC 3263 4.2 / RFC 2782: the partner's SRV records, or, with none, its FQDN by A/AAAA. */
static void route_srv_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct route_entry *e = arg;
	struct ares_srv_reply *srv = NULL, *s;

	if (status == ARES_EDESTRUCTION || e->r->closing) {
		e->pending = false;
		route_fail(e, ECANCELED, e->key, ARES_EDESTRUCTION);
		route_notify(e);
		return;
	}
	if (status == ARES_SUCCESS && ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS) {
		for (s = srv; s && e->nrecs < ROUTE_MAX_TARGETS; s = s->next) {
			struct srv_rec *rec = &e->recs[e->nrecs];

			rec->priority = s->priority;
			rec->weight = s->weight;
			rec->port = s->port;
			rec->id = (unsigned)e->nrecs;
			snprintf(rec->target, sizeof(rec->target), "%s", s->host);
			/* RFC 2782: a target of "." says the service is not offered here */
			if (!strcmp(rec->target, "") || !strcmp(rec->target, "."))
				continue;
			e->nrecs++;
		}
		ares_free_data(srv);
		route_ttl(e, route_answer_ttl(abuf, alen));
	} else if (status != ARES_SUCCESS && status != ARES_ENOTFOUND &&
		   status != ARES_ENODATA) {
		/* SERVFAIL, timeout: the partner's DNS is broken, not telling us to fall back */
		e->pending = false;
		route_fail(e, route_ares_errno(status), e->key, status);
		route_notify(e);
		return;
	}
	if (!e->nrecs) {
		log_info("%s: no SRV records, trying %s by A/AAAA (RFC 3263 4.2)", e->key,
			 e->fallback);
		e->recs[0] = (struct srv_rec){ 0, 0, 0, 0, "" };
		snprintf(e->recs[0].target, sizeof(e->recs[0].target), "%s", e->fallback);
		e->nrecs = 1;
	}
	route_targets_start(e);
	route_arm_timer(e->r);
}

/* Starts filling e afresh. */
static void route_start(struct route_entry *e)
{
	struct route *r = e->r;

	e->pending = true;
	e->err = 0;
	e->nrecs = 0;
	e->ttl = ROUTE_MAX_TTL_S;
	e->last_status = ARES_SUCCESS;
	memset(e->have, 0, sizeof(e->have));
	r->lookups++;
	if (e->srv) {
		ares_query(r->channel, e->key, ns_c_in, ns_t_srv, route_srv_answer, e);
	} else {
		e->recs[0] = (struct srv_rec){ 0, 0, 0, 0, "" };
		snprintf(e->recs[0].target, sizeof(e->recs[0].target), "%s", e->key);
		e->nrecs = 1;
		route_targets_start(e);
	}
	route_arm_timer(r);
}

static struct route_entry *route_entry_new(struct route *r, const char *key,
					   const char *fallback, bool srv)
{
	struct route_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->r = r;
	e->srv = srv;
	e->tail = &e->waiters;
	e->key = strdup(key);
	e->fallback = strdup(fallback);
	if (!e->key || !e->fallback || hmap_insert(r->cache, &e->le, e->key, e)) {
		free(e->key);
		free(e->fallback);
		free(e);
		return NULL;
	}
	return e;
}

int route_resolve(struct route *r, const char *fqdn, const char *srv_domain, route_h *h,
		  void *arg)
{
	struct route_entry *e;
	struct route_waiter *w;
	char key[300];

	if (!r || !fqdn || !*fqdn || !h || (srv_domain && !*srv_domain))
		return EINVAL;
	if (srv_domain)
		snprintf(key, sizeof(key), "%s%s", ROUTE_FED_SRV, srv_domain);
	else
		snprintf(key, sizeof(key), "%s", fqdn);
	e = hmap_find(r->cache, key);
	if (e && !e->pending && clock_mono_ms() < e->expires) {
		route_deliver(e, h, arg);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->h = h;
	w->arg = arg;
	if (!e && !(e = route_entry_new(r, key, fqdn, srv_domain != NULL))) {
		free(w);
		return ENOMEM;
	}
	*e->tail = w;
	e->tail = &w->next;
	if (!e->pending)
		route_start(e);
	return 0;
}

static void route_entry_expire(struct hmap_le *le, void *arg)
{
	struct route_entry *e = le->data;

	if (!e->pending)
		e->expires = 0;
}

void route_flush(struct route *r)
{
	if (r)
		hmap_apply(r->cache, route_entry_expire, NULL);
}

uint64_t route_lookups(const struct route *r)
{
	return r ? r->lookups : 0;
}
