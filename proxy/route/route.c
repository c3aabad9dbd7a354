/* route: c-ares on the libevent loop (socket state callback + per-fd events + timeout timer),
 * one cache entry per FQDN holding the answer until its TTL runs out (DNS-005). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <ares.h>
#include <netdb.h>

#include "base/mem.h"
#include "base/log.h"
#include "net/sa.h"
#include "../hmap/hmap.h"
#include "route.h"

#define LOG_MODULE "route"

#define ROUTE_MAX_TTL_S 86400u

struct route_waiter {
	route_h *h;
	void *arg;
	struct route_waiter *next;
};

struct route_entry {
	struct route *r;
	struct hmap_le le;
	char *fqdn;
	bool pending;
	int err;
	char why[160];
	struct sockaddr_storage addr;
	time_t expires;
	struct route_waiter *waiters, **tail;
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
};

static time_t route_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void route_entry_free(struct hmap_le *le, void *arg)
{
	struct route_entry *e = le->data;

	while (e->waiters) {
		struct route_waiter *w = e->waiters;

		e->waiters = w->next;
		free(w);
	}
	hmap_unlink(arg, le);
	free(e->fqdn);
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
	opt.timeout = 1500; /* ms per try: a dead resolver must fail promptly (DNS-004) */
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
	default:
		return EHOSTUNREACH;
	}
}

static void route_notify(struct route_entry *e)
{
	struct route_waiter *w = e->waiters;

	e->waiters = NULL;
	e->tail = &e->waiters;
	while (w) {
		struct route_waiter *next = w->next;

		w->h(e->err, e->err ? e->why : NULL,
		     e->err ? NULL : (const struct sockaddr *)&e->addr, w->arg);
		free(w);
		w = next;
	}
}

static void route_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct route_entry *e = arg;
	struct route *r = e->r;
	struct ares_addrinfo_node *n = res ? res->nodes : NULL;

	if (status == ARES_EDESTRUCTION || r->closing) {
		/* the route is going: waiters learn it so they can release what they hold */
		if (res)
			ares_freeaddrinfo(res);
		e->pending = false;
		e->err = ECANCELED;
		snprintf(e->why, sizeof(e->why), "DNS lookup of %s cancelled", e->fqdn);
		route_notify(e);
		return;
	}
	e->pending = false;
	if (status == ARES_SUCCESS && n && n->ai_addrlen <= sizeof(e->addr)) {
		unsigned ttl = n->ai_ttl > 0 ? (unsigned)n->ai_ttl : 1;
		char ip[64];

		if (ttl > ROUTE_MAX_TTL_S)
			ttl = ROUTE_MAX_TTL_S;
		memset(&e->addr, 0, sizeof(e->addr));
		memcpy(&e->addr, n->ai_addr, n->ai_addrlen);
		e->err = 0;
		e->expires = route_now() + (time_t)ttl;
		log_debug("%s -> %s (ttl %u s)", e->fqdn,
			  sa_ip((struct sockaddr *)&e->addr, ip, sizeof(ip)), ttl);
	} else {
		e->err = status == ARES_SUCCESS ? ENOENT : route_ares_errno(status);
		snprintf(e->why, sizeof(e->why), "DNS lookup of %s failed: %s", e->fqdn,
			 status == ARES_SUCCESS ? "no address" : ares_strerror(status));
		e->expires = route_now() + ROUTE_NEG_TTL_S;
		log_warn("%s", e->why);
	}
	if (res)
		ares_freeaddrinfo(res);
	route_notify(e);
}

int route_resolve(struct route *r, const char *fqdn, route_h *h, void *arg)
{
	struct ares_addrinfo_hints hints;
	struct route_entry *e;
	struct route_waiter *w;
	int err;

	if (!r || !fqdn || !h)
		return EINVAL;
	e = hmap_find(r->cache, fqdn);
	if (e && !e->pending && route_now() < e->expires) {
		h(e->err, e->err ? e->why : NULL,
		  e->err ? NULL : (const struct sockaddr *)&e->addr, arg);
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return ENOMEM;
	w->h = h;
	w->arg = arg;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->fqdn = strdup(fqdn))) {
			free(e);
			free(w);
			return ENOMEM;
		}
		e->r = r;
		e->tail = &e->waiters;
		err = hmap_insert(r->cache, &e->le, e->fqdn, e);
		if (err) {
			free(e->fqdn);
			free(e);
			free(w);
			return err;
		}
	}
	*e->tail = w;
	e->tail = &w->next;
	if (e->pending)
		return 0;
	e->pending = true;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(r->channel, fqdn, NULL, &hints, route_answer, e);
	route_arm_timer(r);
	return 0;
}
