/* test_imdns: the IM services' A and SRV lookups against a real stub DNS over UDP: answer, the
 * SRV record RFC 2782 prefers, NXDOMAIN, timeout, cancel, bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/mem.h"
#include "net/sa.h"
#include "tests/testreg.h"
#include "../dns/fakedns.h"
#include "../im/imdns.h"

#define TEST_DNS_IP "127.77.150.201"
#define TEST_DNS_PORT 15353
#define TEST_MUTE_PORT 15354

static const char zone[] =
	"ap.contoso.test. 300 IN A 127.77.150.4\n"
	"_sipfederationtls._tcp.contoso.test. 300 IN SRV 0 0 5061 ap.contoso.test.\n"
	"_sipfederationtls._tcp.fabrikam.test. 300 IN SRV 20 90 5062 b.fabrikam.test.\n"
	"_sipfederationtls._tcp.fabrikam.test. 300 IN SRV 10 5 5063 a.fabrikam.test.\n"
	"_sipfederationtls._tcp.fabrikam.test. 300 IN SRV 10 50 5064 c.fabrikam.test.\n"
	"_sipfederationtls._tcp.none.test. 300 IN SRV 0 0 0 .\n";

struct result {
	int calls, err;
	char ip[64];
};

static void result_h(int err, const struct sockaddr *addr, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	if (addr)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, r->ip,
			  sizeof(r->ip));
}

/* Runs the loop until r has an answer or 3 s went by (bounded). */
static void run_until(struct event_base *base, const struct result *r)
{
	for (int i = 0; i < 300 && !r->calls; i++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

struct fixture {
	struct event_base *base;
	struct fakedns *dns;
	struct sockaddr_storage ns;
};

static int fixture_up(struct fixture *f)
{
	f->base = event_base_new();
	sa_set(&f->ns, TEST_DNS_IP, TEST_DNS_PORT);
	return f->base ? fakedns_alloc(&f->dns, f->base, (struct sockaddr *)&f->ns, zone) : ENOMEM;
}

static void fixture_down(struct fixture *f)
{
	f->dns = mem_deref(f->dns);
	if (f->base)
		event_base_free(f->base);
}

static void test_answer(void)
{
	struct fixture f = { 0 };
	struct result r = { 0 };
	struct imdns *q = NULL;

	CU_ASSERT_EQUAL_FATAL(fixture_up(&f), 0);
	CU_ASSERT_EQUAL(imdns_lookup(&q, f.base, (struct sockaddr *)&f.ns, "ap.contoso.test", 1000,
				     result_h, &r), 0);
	run_until(f.base, &r);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_STRING_EQUAL(r.ip, "127.77.150.4");
	CU_ASSERT(fakedns_queries(f.dns) >= 1);
	mem_deref(q);
	fixture_down(&f);
}

static void test_nxdomain_and_no_a(void)
{
	static const char *const names[] = { "edge.contoso.test",
					     "_sipfederationtls._tcp.contoso.test" };
	struct fixture f = { 0 };

	CU_ASSERT_EQUAL_FATAL(fixture_up(&f), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct result r = { 0 };
		struct imdns *q = NULL;

		CU_ASSERT_EQUAL(imdns_lookup(&q, f.base, (struct sockaddr *)&f.ns, names[i], 1000,
					     result_h, &r), 0);
		run_until(f.base, &r);
		CU_ASSERT_EQUAL(r.calls, 1);
		CU_ASSERT_EQUAL(r.err, ENOENT);
		mem_deref(q);
	}
	fixture_down(&f);
}

/* A server that never answers: the lookup gives up at its own bound. */
static void test_timeout(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage mute;
	struct result r = { 0 };
	struct imdns *q = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sa_set(&mute, TEST_DNS_IP, TEST_MUTE_PORT);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&mute, sa_len((struct sockaddr *)&mute)), 0);
	CU_ASSERT_EQUAL(imdns_lookup(&q, base, (struct sockaddr *)&mute, "ap.contoso.test", 100,
				     result_h, &r), 0);
	run_until(base, &r);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.err, ETIMEDOUT);
	mem_deref(q);
	close(fd);
	event_base_free(base);
}

/* Dropping the lookup before the answer: the handler is never called. */
static void test_cancel(void)
{
	struct fixture f = { 0 };
	struct result r = { 0 };
	struct imdns *q = NULL;

	CU_ASSERT_EQUAL_FATAL(fixture_up(&f), 0);
	CU_ASSERT_EQUAL(imdns_lookup(&q, f.base, (struct sockaddr *)&f.ns, "ap.contoso.test", 1000,
				     result_h, &r), 0);
	q = mem_deref(q);
	{
		struct timeval tv = { 0, 100000 };

		event_base_loopexit(f.base, &tv);
		event_base_dispatch(f.base);
	}
	CU_ASSERT_EQUAL(r.calls, 0);
	fixture_down(&f);
}

struct srv_result {
	int calls, err;
	char target[256];
	unsigned port;
};

static void srv_h(int err, const char *target, uint16_t port, void *arg)
{
	struct srv_result *r = arg;

	r->calls++;
	r->err = err;
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->port = port;
}

/* DNS-001: the record chosen (lowest priority, then highest weight), or why none. */
static void test_srv(void)
{
	static const struct {
		const char *name;
		int err;
		const char *target;
		unsigned port;
	} cases[] = {
		{ "_sipfederationtls._tcp.contoso.test", 0, "ap.contoso.test", 5061 },
		{ "_sipfederationtls._tcp.fabrikam.test", 0, "c.fabrikam.test", 5064 },
		{ "_sipfederationtls._tcp.none.test", ENOENT, "", 0 },  /* "." target */
		{ "ap.contoso.test", ENOENT, "", 0 },                   /* an A, no SRV */
		{ "_sipfederationtls._tcp.nowhere.test", ENOENT, "", 0 }, /* NXDOMAIN */
	};
	struct fixture f = { 0 };

	CU_ASSERT_EQUAL_FATAL(fixture_up(&f), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct srv_result r = { 0 };
		struct imdns *q = NULL;

		CU_ASSERT_EQUAL(imdns_lookup_srv(&q, f.base, (struct sockaddr *)&f.ns,
						 cases[i].name, 1000, srv_h, &r), 0);
		for (int k = 0; k < 300 && !r.calls; k++) {
			struct timeval tv = { 0, 10000 };

			event_base_loopexit(f.base, &tv);
			event_base_dispatch(f.base);
		}
		CU_ASSERT_EQUAL(r.calls, 1);
		CU_ASSERT_EQUAL(r.err, cases[i].err);
		CU_ASSERT_STRING_EQUAL(r.target, cases[i].target);
		CU_ASSERT_EQUAL(r.port, cases[i].port);
		mem_deref(q);
	}
	CU_ASSERT_EQUAL(imdns_lookup_srv(&(struct imdns *){ NULL }, f.base,
					 (struct sockaddr *)&f.ns, "x.test", 0, NULL, NULL), EINVAL);
	fixture_down(&f);
}

static void test_bad_args(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage ns, none;
	struct result r = { 0 };
	struct imdns *q = NULL;

	sa_set(&ns, TEST_DNS_IP, TEST_DNS_PORT);
	memset(&none, 0, sizeof(none));
	CU_ASSERT_EQUAL(imdns_lookup(&q, base, (struct sockaddr *)&ns, "", 0, result_h, &r), EINVAL);
	CU_ASSERT_EQUAL(imdns_lookup(&q, base, (struct sockaddr *)&ns, NULL, 0, result_h, &r),
			EINVAL);
	CU_ASSERT_EQUAL(imdns_lookup(&q, base, (struct sockaddr *)&none, "a.test", 0, result_h, &r),
			EINVAL);
	CU_ASSERT_EQUAL(imdns_lookup(&q, base, (struct sockaddr *)&ns, "a.test", 0, NULL, &r),
			EINVAL);
	CU_ASSERT_PTR_NULL(q);
	CU_ASSERT_EQUAL(r.calls, 0);
	event_base_free(base);
}

static CU_TestInfo imdns_tests[] = {
	{ "A record answered", test_answer },
	{ "NXDOMAIN and no A record give ENOENT", test_nxdomain_and_no_a },
	{ "a mute server times out at the bound", test_timeout },
	{ "a dropped lookup never calls back", test_cancel },
	{ "SRV: the preferred record, none, NXDOMAIN", test_srv },
	{ "bad arguments are refused", test_bad_args },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("imdns", imdns_tests)
