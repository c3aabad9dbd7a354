/* test_route: RFC 2782 ordering (table-driven, fixed randomness), and route against a tiny
 * in-test DNS responder: TTL cache and expiry, SRV order and ports, fallback, failures. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "tests/testreg.h"
#include "../route/route.h"
#include "../route/srv.h"

#define TEST_DNS_IP "127.77.213.2"
#define TEST_DNS_PORT 5355
#define TEST_WAIT_MS 6000

/* --- srv_order --- */

/* Plays back a list of random values. */
struct seq {
	const uint32_t *v;
	size_t n, i;
};

static uint32_t seq_rand(uint32_t bound, void *arg)
{
	struct seq *q = arg;
	uint32_t r = q->i < q->n ? q->v[q->i++] : 0;

	return r > bound ? bound : r;
}

struct order_case {
	const char *what;
	struct { uint16_t prio, weight; const char *target; } in[5];
	size_t n;
	uint32_t rnd[5];
	size_t nrnd;
	const char *want[5];
	size_t usable;
};

static const struct order_case order_cases[] = {
	{ "priority first", { { 20, 0, "c." }, { 10, 0, "a." }, { 15, 0, "b." } }, 3,
	  { 0 }, 0, { "a.", "b.", "c." }, 3 },
	/* weights 60, 40: running sums 60, 100; pick 0..60 -> first, 61..100 -> second */
	{ "weight: low draw picks the first", { { 10, 60, "x." }, { 10, 40, "y." } }, 2,
	  { 10 }, 1, { "x.", "y." }, 2 },
	{ "weight: high draw picks the second", { { 10, 60, "x." }, { 10, 40, "y." } }, 2,
	  { 61 }, 1, { "y.", "x." }, 2 },
	/* RFC 2782: weight 0 goes first in the running sum; a draw of 0 picks it */
	{ "weight 0 only on a draw of 0", { { 10, 50, "w." }, { 10, 0, "z." } }, 2,
	  { 0 }, 1, { "z.", "w." }, 2 },
	{ "weight 0 usually last", { { 10, 0, "z." }, { 10, 50, "w." } }, 2,
	  { 30 }, 1, { "w.", "z." }, 2 },
	{ "priority groups weighed apart", { { 20, 1, "p." }, { 10, 1, "m." }, { 10, 3, "n." },
					     { 20, 1, "q." } }, 4,
	  { 2, 2 }, 2, { "n.", "m.", "q.", "p." }, 4 },
	{ "'.' means no service: last, not usable", { { 10, 0, "." }, { 20, 0, "a." } }, 2,
	  { 0 }, 0, { "a.", "." }, 1 },
};

static void test_srv_order(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		const struct order_case *c = &order_cases[i];
		struct srv_rec recs[5];
		struct seq q = { c->rnd, c->nrnd, 0 };
		size_t usable;

		memset(recs, 0, sizeof(recs));
		for (j = 0; j < c->n; j++) {
			recs[j].priority = c->in[j].prio;
			recs[j].weight = c->in[j].weight;
			recs[j].id = (unsigned)j;
			snprintf(recs[j].target, sizeof(recs[j].target), "%s", c->in[j].target);
		}
		usable = srv_order(recs, c->n, seq_rand, &q);
		if (usable != c->usable)
			printf("\n%s: usable %zu\n", c->what, usable);
		CU_ASSERT_EQUAL(usable, c->usable);
		for (j = 0; j < c->n; j++) {
			if (strcmp(recs[j].target, c->want[j]))
				printf("\n%s: position %zu is %s, want %s\n", c->what, j,
				       recs[j].target, c->want[j]);
			CU_ASSERT_STRING_EQUAL(recs[j].target, c->want[j]);
		}
	}
}

/* With real randomness the weights show in the long run (60:40 within a wide margin). */
static void test_srv_order_weights(void)
{
	unsigned first_x = 0, i;

	for (i = 0; i < 2000; i++) {
		struct srv_rec recs[2] = { { 10, 60, 5061, 0, "x." }, { 10, 40, 5061, 1, "y." } };

		srv_order(recs, 2, NULL, NULL);
		first_x += !strcmp(recs[0].target, "x.");
	}
	CU_ASSERT(first_x > 1000 && first_x < 1400);
}

/* --- a tiny DNS responder for route (answers from zone lines, or fails on demand) --- */

struct tdns {
	int fd;
	struct event *ev;
	ldns_rr_list *rrs;
	ldns_pkt_rcode fail_rcode;  /* nonzero: answer every query with it */
	bool drop;                  /* answer nothing */
	unsigned queries;
	char last[256];
};

static void tdns_recv(evutil_socket_t fd, short what, void *arg)
{
	struct tdns *t = arg;
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	uint8_t buf[2048], *out = NULL;
	ldns_pkt *q = NULL, *p;
	size_t olen, i;
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	const ldns_rr *qr;

	if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
		return;
	t->queries++;
	qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	{
		char *s = ldns_rdf2str(ldns_rr_owner(qr));

		snprintf(t->last, sizeof(t->last), "%s", s ? s : "");
		free(s);
	}
	if (t->drop) {
		ldns_pkt_free(q);
		return;
	}
	p = ldns_pkt_new();
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, ldns_rr_clone(qr));
	if (t->fail_rcode) {
		ldns_pkt_set_rcode(p, t->fail_rcode);
	} else {
		bool name = false;

		for (i = 0; i < ldns_rr_list_rr_count(t->rrs); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(t->rrs, i);

			if (ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(qr)))
				continue;
			name = true;
			if (ldns_rr_get_type(rr) == ldns_rr_get_type(qr))
				ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, ldns_rr_clone(rr));
		}
		if (!name)
			ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
	}
	if (ldns_pkt2wire(&out, p, &olen) == LDNS_STATUS_OK)
		sendto(fd, out, olen, 0, (struct sockaddr *)&from, flen);
	free(out);
	ldns_pkt_free(p);
	ldns_pkt_free(q);
}

static int tdns_start(struct tdns *t, struct event_base *base, const char *const *lines)
{
	struct sockaddr_storage ss;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->rrs = ldns_rr_list_new();
	for (i = 0; lines[i]; i++) {
		ldns_rr *rr = NULL;

		if (ldns_rr_new_frm_str(&rr, lines[i], 0, NULL, NULL) != LDNS_STATUS_OK)
			return EINVAL;
		ldns_rr_list_push_rr(t->rrs, rr);
	}
	sa_set(&ss, TEST_DNS_IP, TEST_DNS_PORT);
	t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || bind(t->fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)) < 0)
		return errno;
	t->ev = event_new(base, t->fd, EV_READ | EV_PERSIST, tdns_recv, t);
	return t->ev && event_add(t->ev, NULL) == 0 ? 0 : ENOMEM;
}

static void tdns_stop(struct tdns *t)
{
	if (t->ev)
		event_free(t->ev);
	if (t->fd >= 0)
		close(t->fd);
	ldns_rr_list_deep_free(t->rrs);
}

/* --- route --- */

struct res {
	bool done;
	int err;
	char why[300];
	struct route_addrs ra;
};

static void res_h(int err, const char *why, const struct route_addrs *ra, void *arg)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
	if (ra)
		r->ra = *ra;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool pump(struct event_base *base, struct res *r, int ms)
{
	double end = now_ms() + ms;

	while (!r->done && now_ms() < end) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	return r->done;
}

static void pause_ms(struct event_base *base, int ms)
{
	struct res never = { 0 };

	pump(base, &never, ms);
}

static const char *addr_ip(const struct route_addrs *ra, size_t i, char *buf, size_t size)
{
	return sa_ip((const struct sockaddr *)&ra->a[i], buf, size);
}

static const char *const zone[] = {
	"sip.aol.test. 2 IN A 127.77.213.10",
	"_sipfederationtls._tcp.partner.test. 300 IN SRV 10 60 5061 a.partner.test.",
	"_sipfederationtls._tcp.partner.test. 300 IN SRV 10 40 5062 b.partner.test.",
	"_sipfederationtls._tcp.partner.test. 300 IN SRV 20 0 5063 c.partner.test.",
	"_sipfederationtls._tcp.partner.test. 300 IN SRV 5 0 5064 noaddr.partner.test.",
	"a.partner.test. 300 IN A 127.77.213.21",
	"b.partner.test. 300 IN A 127.77.213.22",
	"c.partner.test. 60 IN A 127.77.213.23",
	"edge.nosrv.test. 300 IN A 127.77.213.30",
	NULL,
};

struct fixture {
	struct event_base *base;
	struct tdns dns;
	struct route *r;
	enum log_level lvl;
};

static bool fixture_up(struct fixture *f)
{
	struct sockaddr_storage ss;

	f->lvl = log_get_level();
	log_set_level(LOGL_NONE);
	f->base = event_base_new();
	if (!f->base || tdns_start(&f->dns, f->base, zone))
		return false;
	sa_set(&ss, TEST_DNS_IP, TEST_DNS_PORT);
	return route_alloc(&f->r, f->base, (struct sockaddr *)&ss) == 0;
}

static void fixture_down(struct fixture *f)
{
	f->r = mem_deref(f->r);
	tdns_stop(&f->dns);
	if (f->base)
		event_base_free(f->base);
	log_set_level(f->lvl);
}

/* DNS-005: cached for the TTL (2 s), asked again after it. */
static void test_route_ttl(void)
{
	struct fixture f;
	struct res r = { 0 };
	char ip[64];
	size_t live = mem_live();

	CU_ASSERT_FATAL(fixture_up(&f));
	CU_ASSERT_EQUAL(route_resolve(f.r, "sip.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.ra.n, 1);
	CU_ASSERT_STRING_EQUAL(addr_ip(&r.ra, 0, ip, sizeof(ip)), "127.77.213.10");
	CU_ASSERT_EQUAL(sa_port((struct sockaddr *)&r.ra.a[0]), 0);
	CU_ASSERT_EQUAL(f.dns.queries, 2); /* A and AAAA */
	/* within the TTL: from the cache, synchronously, no query */
	pause_ms(f.base, 1000);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(route_resolve(f.r, "SIP.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT(r.done && r.err == 0 && r.ra.n == 1);
	CU_ASSERT_EQUAL(f.dns.queries, 2);
	/* after it: asked again */
	pause_ms(f.base, 1200);
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(route_resolve(f.r, "sip.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT_FALSE(r.done);
	CU_ASSERT(pump(f.base, &r, TEST_WAIT_MS) && r.err == 0);
	CU_ASSERT_EQUAL(f.dns.queries, 4);
	CU_ASSERT_EQUAL(route_lookups(f.r), 2);
	fixture_down(&f);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* DNS-003: SRV targets by priority then weight, each with its port; a target without an
 * address is left out. */
static void test_route_srv(void)
{
	struct fixture f;
	struct res r = { 0 };
	char ip[64];
	unsigned a_first = 0, i;

	CU_ASSERT_FATAL(fixture_up(&f));
	CU_ASSERT_EQUAL(route_resolve(f.r, "edge.partner.test", "partner.test", res_h, &r), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.ra.n, 3);
	for (i = 0; i < 2; i++) {
		const char *a = addr_ip(&r.ra, i, ip, sizeof(ip));
		uint16_t port = sa_port((struct sockaddr *)&r.ra.a[i]);

		CU_ASSERT((!strcmp(a, "127.77.213.21") && port == 5061) ||
			  (!strcmp(a, "127.77.213.22") && port == 5062));
	}
	CU_ASSERT_STRING_EQUAL(addr_ip(&r.ra, 2, ip, sizeof(ip)), "127.77.213.23");
	CU_ASSERT_EQUAL(sa_port((struct sockaddr *)&r.ra.a[2]), 5063);
	/* the order is drawn per request from the cache: both priority-10 targets lead, 60:40 */
	for (i = 0; i < 400; i++) {
		memset(&r, 0, sizeof(r));
		route_resolve(f.r, "edge.partner.test", "partner.test", res_h, &r);
		CU_ASSERT_FATAL(r.done && r.ra.n == 3);
		a_first += !strcmp(addr_ip(&r.ra, 0, ip, sizeof(ip)), "127.77.213.21");
	}
	CU_ASSERT(a_first > 170 && a_first < 310);
	CU_ASSERT_EQUAL(route_lookups(f.r), 1);
	fixture_down(&f);
}

/* RFC 3263 4.2: no SRV records -> the FQDN by A, configured port. */
static void test_route_srv_fallback(void)
{
	struct fixture f;
	struct res r = { 0 };
	char ip[64];

	CU_ASSERT_FATAL(fixture_up(&f));
	CU_ASSERT_EQUAL(route_resolve(f.r, "edge.nosrv.test", "nosrv.test", res_h, &r), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.ra.n, 1);
	CU_ASSERT_STRING_EQUAL(addr_ip(&r.ra, 0, ip, sizeof(ip)), "127.77.213.30");
	CU_ASSERT_EQUAL(sa_port((struct sockaddr *)&r.ra.a[0]), 0);
	fixture_down(&f);
}

/* DNS-004: NXDOMAIN and SERVFAIL fail with a reason, are cached briefly (no second query),
 * and lookups in flight for one name share one query. */
static void test_route_failures(void)
{
	struct fixture f;
	struct res r = { 0 }, r2 = { 0 };
	unsigned q;

	CU_ASSERT_FATAL(fixture_up(&f));
	CU_ASSERT_EQUAL(route_resolve(f.r, "gone.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT_EQUAL(route_resolve(f.r, "gone.aol.test", NULL, res_h, &r2), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS) && pump(f.base, &r2, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, ENOENT);
	CU_ASSERT_EQUAL(r2.err, ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.why, "DNS lookup of gone.aol.test failed"));
	CU_ASSERT_EQUAL(route_lookups(f.r), 1);
	q = f.dns.queries;
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(route_resolve(f.r, "gone.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT(r.done && r.err == ENOENT);
	CU_ASSERT_EQUAL(f.dns.queries, q);

	f.dns.fail_rcode = LDNS_RCODE_SERVFAIL;
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(route_resolve(f.r, "_x", "partner.test", res_h, &r), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, EHOSTUNREACH);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.why, "_sipfederationtls._tcp.partner.test"));
	fixture_down(&f);
}

/* DNS-004: a DNS server that never answers fails the lookup within about 3 s. */
static void test_route_timeout(void)
{
	struct fixture f;
	struct res r = { 0 };
	double t0;

	CU_ASSERT_FATAL(fixture_up(&f));
	f.dns.drop = true;
	t0 = now_ms();
	CU_ASSERT_EQUAL(route_resolve(f.r, "sip.aol.test", NULL, res_h, &r), 0);
	CU_ASSERT_FATAL(pump(f.base, &r, TEST_WAIT_MS));
	CU_ASSERT_EQUAL(r.err, ETIMEDOUT);
	CU_ASSERT(now_ms() - t0 < 4000);
	fixture_down(&f);
}

/* A route freed with a lookup in flight tells its waiter (ECANCELED) and leaks nothing. */
static void test_route_cancel(void)
{
	struct fixture f;
	struct res r = { 0 };
	size_t live = mem_live();

	CU_ASSERT_FATAL(fixture_up(&f));
	f.dns.drop = true;
	CU_ASSERT_EQUAL(route_resolve(f.r, "edge.partner.test", "partner.test", res_h, &r), 0);
	pause_ms(f.base, 20);
	fixture_down(&f);
	CU_ASSERT(r.done && r.err == ECANCELED);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo route_tests[] = {
	{ "RFC 2782 order (table)", test_srv_order },
	{ "weights show over many draws", test_srv_order_weights },
	{ "A answer cached for its TTL, then asked again", test_route_ttl },
	{ "partner SRV: priority, weight, ports", test_route_srv },
	{ "no SRV: fallback to the FQDN", test_route_srv_fallback },
	{ "NXDOMAIN, SERVFAIL: reason, negative cache, one query", test_route_failures },
	{ "silent DNS: ETIMEDOUT in time", test_route_timeout },
	{ "freed in flight: ECANCELED", test_route_cancel },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("route", route_tests)
