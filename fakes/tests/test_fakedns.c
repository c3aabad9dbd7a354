/* test_fakedns: answers from zone text (table-driven), zone errors, and real UDP and TCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <ldns/ldns.h>

#include "base/log.h"
#include "base/mem.h"
#include "tests/testreg.h"
#include "../dns/fakedns.h"

#define TEST_IP "127.77.213.1"
#define TEST_PORT 5353
#define TEST_WAIT_MS 2000

static const char test_zone[] =
	"; the lab's names\n"
	"sip.aol.test. 300 IN A 127.77.202.10\n"
	"sip.aol.test.\t300\tIN\tAAAA\t::1\n"
	"\n"
	"   ; indented comment\n"
	"_sips._tcp.aol.test. 300 IN SRV 0 0 5061 sip.aol.test.\n"
	"_sips._tcp.aol.test. 300 IN SRV 10 0 5061 sip2.aol.test.\n"
	"sip2.aol.test. 300 IN A 127.77.202.11\n"
	"aol.test. 300 IN NAPTR 10 0 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.aol.test.\r\n"
	"www.aol.test. 300 IN CNAME alias.aol.test.\n"
	"alias.aol.test. 300 IN CNAME sip.aol.test.\n"
	"dangling.aol.test. 300 IN CNAME gone.aol.test.\n"
	"_sipfederationtls._tcp.contoso.test. 300 IN SRV 0 0 5061 nowhere.contoso.test.\n";

struct dns_case {
	const char *name;
	ldns_rr_type type;
	ldns_pkt_rcode rcode;
	size_t nanswer;
	size_t nadditional;
	const char *answer[4];     /* records that must be in the answer section */
	const char *additional[4]; /* records that must be in the additional section */
};

static const struct dns_case dns_cases[] = {
	{ "sip.aol.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 1, 0,
	  { "sip.aol.test. 300 IN A 127.77.202.10" }, { NULL } },
	{ "SIP.Aol.TEST.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 1, 0,
	  { "sip.aol.test. 300 IN A 127.77.202.10" }, { NULL } },
	{ "sip.aol.test.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, 1, 0,
	  { "sip.aol.test. 300 IN AAAA ::1" }, { NULL } },
	{ "_sips._tcp.aol.test.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NOERROR, 2, 3,
	  { "_sips._tcp.aol.test. 300 IN SRV 0 0 5061 sip.aol.test.",
	    "_sips._tcp.aol.test. 300 IN SRV 10 0 5061 sip2.aol.test." },
	  { "sip.aol.test. 300 IN A 127.77.202.10", "sip.aol.test. 300 IN AAAA ::1",
	    "sip2.aol.test. 300 IN A 127.77.202.11" } },
	{ "aol.test.", LDNS_RR_TYPE_NAPTR, LDNS_RCODE_NOERROR, 1, 5,
	  { "aol.test. 300 IN NAPTR 10 0 \"s\" \"SIPS+D2T\" \"\" _sips._tcp.aol.test." },
	  { "_sips._tcp.aol.test. 300 IN SRV 0 0 5061 sip.aol.test.",
	    "sip2.aol.test. 300 IN A 127.77.202.11" } },
	{ "www.aol.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, 3, 0,
	  { "www.aol.test. 300 IN CNAME alias.aol.test.",
	    "alias.aol.test. 300 IN CNAME sip.aol.test.",
	    "sip.aol.test. 300 IN A 127.77.202.10" }, { NULL } },
	{ "www.aol.test.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, 1, 0,
	  { "www.aol.test. 300 IN CNAME alias.aol.test." }, { NULL } },
	/* RFC 6604: the rcode is about the end of the chain */
	{ "dangling.aol.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, 1, 0,
	  { "dangling.aol.test. 300 IN CNAME gone.aol.test." }, { NULL } },
	{ "nope.aol.test.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, 0, 0, { NULL }, { NULL } },
	/* NODATA: the name exists, the type does not */
	{ "sip.aol.test.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR, 0, 0, { NULL }, { NULL } },
	{ "sip2.aol.test.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, 0, 0, { NULL }, { NULL } },
	/* an SRV target we have no address for adds nothing */
	{ "_sipfederationtls._tcp.contoso.test.", LDNS_RR_TYPE_SRV, LDNS_RCODE_NOERROR, 1, 0,
	  { NULL }, { NULL } },
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct sockaddr_in test_addr(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(TEST_PORT) };

	inet_pton(AF_INET, TEST_IP, &sin.sin_addr);
	return sin;
}

static int server_new(struct fakedns **dp, struct event_base **basep, const char *zone)
{
	struct sockaddr_in sin = test_addr();

	*basep = event_base_new();
	if (!*basep)
		return ENOMEM;
	return fakedns_alloc(dp, *basep, (struct sockaddr *)&sin, zone);
}

/* A wire query for name/type with the given id, RD set. */
static uint8_t *query_wire(const char *name, ldns_rr_type type, uint16_t id, size_t *lenp)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;

	if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD) !=
	    LDNS_STATUS_OK)
		return NULL;
	ldns_pkt_set_id(q, id);
	if (ldns_pkt2wire(&wire, q, lenp) != LDNS_STATUS_OK)
		wire = NULL;
	ldns_pkt_free(q);
	return wire;
}

static bool pkt_has(const ldns_pkt *p, ldns_pkt_section sec, const char *text)
{
	ldns_rr *rr = NULL;
	bool has;

	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK)
		return false;
	has = ldns_pkt_rr(p, sec, rr);
	ldns_rr_free(rr);
	return has;
}

static ldns_pkt *ask(struct fakedns *d, const char *name, ldns_rr_type type, uint16_t id)
{
	uint8_t *q, *a = NULL;
	size_t qlen = 0, alen = 0;
	ldns_pkt *p = NULL;

	q = query_wire(name, type, id, &qlen);
	if (q && fakedns_answer(d, q, qlen, &a, &alen) == 0 &&
	    ldns_wire2pkt(&p, a, alen) != LDNS_STATUS_OK)
		p = NULL;
	free(q);
	free(a);
	return p;
}

static void test_fakedns_table(void)
{
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	size_t live = mem_live(), i, j;
	enum log_level lvl = log_get_level();
	FILE *devnull = fopen("/dev/null", "w");

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	/* The per-query debug line is built too (into /dev/null), so sanitizers see it. */
	log_set_file(devnull);
	log_set_level(LOGL_DEBUG);
	for (i = 0; i < sizeof(dns_cases) / sizeof(dns_cases[0]); i++) {
		const struct dns_case *c = &dns_cases[i];
		ldns_pkt *p = ask(d, c->name, c->type, (uint16_t)(0x1000 + i));

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		if (ldns_pkt_get_rcode(p) != c->rcode ||
		    ldns_rr_list_rr_count(ldns_pkt_answer(p)) != c->nanswer ||
		    ldns_rr_list_rr_count(ldns_pkt_additional(p)) != c->nadditional)
			ldns_pkt_print(stdout, p);
		CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x1000 + i);
		CU_ASSERT(ldns_pkt_qr(p));
		CU_ASSERT(ldns_pkt_aa(p));
		CU_ASSERT(ldns_pkt_rd(p));
		CU_ASSERT_FALSE(ldns_pkt_tc(p));
		CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), c->rcode);
		CU_ASSERT_EQUAL(ldns_pkt_qdcount(p), 1);
		CU_ASSERT_EQUAL(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p), 0)), c->type);
		CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), c->nanswer);
		CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_additional(p)), c->nadditional);
		for (j = 0; j < 4 && c->answer[j]; j++)
			CU_ASSERT(pkt_has(p, LDNS_SECTION_ANSWER, c->answer[j]));
		for (j = 0; j < 4 && c->additional[j]; j++)
			CU_ASSERT(pkt_has(p, LDNS_SECTION_ADDITIONAL, c->additional[j]));
		ldns_pkt_free(p);
	}
	log_set_level(lvl);
	log_set_file(NULL);
	if (devnull)
		fclose(devnull);
	CU_ASSERT_EQUAL(fakedns_queries(d), sizeof(dns_cases) / sizeof(dns_cases[0]));
	d = mem_deref(d);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_fakedns_malformed(void)
{
	/* A header (id 0xbeef, RD, one question) followed by a question cut short. */
	static const uint8_t cut[] = { 0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x03, 'a', 'o' };
	static const uint8_t shorty[] = { 0xbe, 0xef, 0x01, 0x00 };
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	uint8_t *a = NULL, resp[64];
	size_t alen = 0;
	ldns_pkt *p = NULL;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	CU_ASSERT_EQUAL(fakedns_answer(d, cut, sizeof(cut), &a, &alen), 0);
	CU_ASSERT_FATAL(a != NULL && ldns_wire2pkt(&p, a, alen) == LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0xbeef);
	CU_ASSERT(ldns_pkt_qr(p));
	CU_ASSERT(ldns_pkt_rd(p));
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
	free(a);
	a = NULL;
	CU_ASSERT_EQUAL(fakedns_answer(d, shorty, sizeof(shorty), &a, &alen), EBADMSG);
	CU_ASSERT_PTR_NULL(a);
	/* A response is never answered. */
	memcpy(resp, cut, sizeof(cut));
	resp[2] |= 0x80;
	CU_ASSERT_EQUAL(fakedns_answer(d, resp, sizeof(cut), &a, &alen), EBADMSG);
	CU_ASSERT_PTR_NULL(a);
	d = mem_deref(d);
	event_base_free(base);
}

static void test_fakedns_zone_edits(void)
{
	static const char *const bad[] = {
		"ok.test. 300 IN A 127.77.202.2\nbroken.test. 300 IN A 1.2.3\n",
		"relative 300 IN A 127.77.202.2\n",
		"x.test. 300 IN SRV 0 0 5061 relative.target\n",
		"x.test. 300 CH TXT \"chaos\"\n",
		"x.test. 300 IN BOGUS 1\n",
	};
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	enum log_level lvl = log_get_level();
	ldns_pkt *p;
	size_t i;

	log_set_level(LOGL_NONE);
	base = event_base_new();
	{
		struct sockaddr_in sin = test_addr();

		CU_ASSERT_EQUAL(fakedns_alloc(&d, base, (struct sockaddr *)&sin, bad[0]), EINVAL);
		CU_ASSERT_PTR_NULL(d);
		CU_ASSERT_EQUAL_FATAL(fakedns_alloc(&d, base, (struct sockaddr *)&sin, test_zone),
				      0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(fakedns_set_zone(d, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(fakedns_add(d, bad[i]), EINVAL);
	}
	log_set_level(lvl);
	/* The old zone is intact, and nothing of the bad texts slipped in. */
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 1);
	CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR &&
		  ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	p = ask(d, "ok.test.", LDNS_RR_TYPE_A, 2);
	CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* add keeps what is there; the same record twice is kept once */
	CU_ASSERT_EQUAL(fakedns_add(d, "new.test. 60 IN A 127.77.202.3\n"
				       "sip.aol.test. 300 IN A 127.77.202.10\n"), 0);
	p = ask(d, "new.test.", LDNS_RR_TYPE_A, 3);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 4);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);

	/* set_zone replaces everything */
	CU_ASSERT_EQUAL(fakedns_set_zone(d, "only.test. 60 IN A 127.77.202.4\n"), 0);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 5);
	CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = ask(d, "only.test.", LDNS_RR_TYPE_A, 6);
	CU_ASSERT(p && pkt_has(p, LDNS_SECTION_ANSWER, "only.test. 60 IN A 127.77.202.4"));
	ldns_pkt_free(p);
	d = mem_deref(d);
	event_base_free(base);
}

/* Runs the loop in small non-blocking steps until fd is readable, bounded in time. */
static bool pump_until_readable(struct event_base *base, int fd)
{
	double end = now_ms() + TEST_WAIT_MS;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (now_ms() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 5) == 1)
			return true;
	}
	return false;
}

/* Many A records for one name: more than 512 bytes, so UDP must truncate. */
static char *big_zone(void)
{
	size_t n = sizeof(test_zone) + 64 * 48;
	char *z = malloc(n);
	int i, off;

	if (!z)
		return NULL;
	off = snprintf(z, n, "%s", test_zone);
	for (i = 0; i < 60; i++)
		off += snprintf(z + off, n - (size_t)off, "big.test. 300 IN A 127.77.202.%d\n",
				i + 20);
	return z;
}

static void test_fakedns_udp(void)
{
	struct sockaddr_in sin = test_addr();
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	uint8_t *q, buf[2048];
	size_t qlen = 0;
	ssize_t n;
	ldns_pkt *p = NULL;
	char *zone = big_zone();
	int fd;

	CU_ASSERT_FATAL(zone != NULL);
	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, zone), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);

	q = query_wire("_sips._tcp.aol.test.", LDNS_RR_TYPE_SRV, 0x4242, &qlen);
	CU_ASSERT_FATAL(q != NULL);
	CU_ASSERT_EQUAL((size_t)send(fd, q, qlen, 0), qlen);
	free(q);
	CU_ASSERT_FATAL(pump_until_readable(base, fd));
	n = recv(fd, buf, sizeof(buf), 0);
	CU_ASSERT_FATAL(n > 0 && ldns_wire2pkt(&p, buf, (size_t)n) == LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x4242);
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 2);
	CU_ASSERT(pkt_has(p, LDNS_SECTION_ADDITIONAL, "sip.aol.test. 300 IN A 127.77.202.10"));
	ldns_pkt_free(p);
	p = NULL;

	/* RFC 1035 4.2.1: over 512 bytes -> TC and an empty answer */
	q = query_wire("big.test.", LDNS_RR_TYPE_A, 0x4343, &qlen);
	CU_ASSERT_FATAL(q != NULL);
	CU_ASSERT_EQUAL((size_t)send(fd, q, qlen, 0), qlen);
	free(q);
	CU_ASSERT_FATAL(pump_until_readable(base, fd));
	n = recv(fd, buf, sizeof(buf), 0);
	CU_ASSERT(n > 0 && n <= 512);
	CU_ASSERT_FATAL(ldns_wire2pkt(&p, buf, (size_t)n) == LDNS_STATUS_OK);
	CU_ASSERT(ldns_pkt_tc(p));
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x4343);
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 0);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(fakedns_queries(d), 2);
	close(fd);
	free(zone);
	d = mem_deref(d);
	event_base_free(base);
}

/* Reads one length-prefixed message, pumping the loop, bounded in time. */
static ldns_pkt *tcp_read_msg(struct event_base *base, int fd)
{
	static uint8_t buf[2 + 65535];
	size_t have = 0, want = 2;
	ldns_pkt *p = NULL;
	ssize_t n;

	while (have < want) {
		if (!pump_until_readable(base, fd))
			return NULL;
		n = recv(fd, buf + have, want - have, MSG_DONTWAIT);
		if (n <= 0)
			return NULL;
		have += (size_t)n;
		if (have == 2 && want == 2)
			want = 2 + ((size_t)buf[0] << 8 | buf[1]);
	}
	if (ldns_wire2pkt(&p, buf + 2, want - 2) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

static void test_fakedns_tcp(void)
{
	struct sockaddr_in sin = test_addr();
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	uint8_t *q1, *q2, msg[1024];
	size_t l1 = 0, l2 = 0, off = 0;
	ldns_pkt *p;
	char *zone = big_zone();
	size_t live = mem_live();
	int fd;

	CU_ASSERT_FATAL(zone != NULL);
	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, zone), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	/* loopback connect completes in the kernel's backlog before the loop accepts */
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);

	/* Two pipelined queries in one segment (RFC 7766 6.2.1.1). */
	q1 = query_wire("big.test.", LDNS_RR_TYPE_A, 0x5151, &l1);
	q2 = query_wire("www.aol.test.", LDNS_RR_TYPE_A, 0x5252, &l2);
	CU_ASSERT_FATAL(q1 && q2 && 4 + l1 + l2 <= sizeof(msg));
	msg[off++] = (uint8_t)(l1 >> 8);
	msg[off++] = (uint8_t)l1;
	memcpy(msg + off, q1, l1);
	off += l1;
	msg[off++] = (uint8_t)(l2 >> 8);
	msg[off++] = (uint8_t)l2;
	memcpy(msg + off, q2, l2);
	off += l2;
	free(q1);
	free(q2);
	CU_ASSERT_EQUAL((size_t)send(fd, msg, off, 0), off);

	p = tcp_read_msg(base, fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x5151);
	CU_ASSERT_FALSE(ldns_pkt_tc(p));
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 60);
	ldns_pkt_free(p);
	p = tcp_read_msg(base, fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x5252);
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 3);
	CU_ASSERT(pkt_has(p, LDNS_SECTION_ANSWER, "sip.aol.test. 300 IN A 127.77.202.10"));
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(fakedns_queries(d), 2);
	/* The server freed with a connection still open releases it too. */
	close(fd);
	free(zone);
	d = mem_deref(d);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* A client that sends its query and shuts its side down still gets the answer (RFC 7766 6.2.4
 * leaves closing to the client; the server must not drop what it owes). */
static void test_fakedns_tcp_halfclose(void)
{
	struct sockaddr_in sin = test_addr();
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	uint8_t *q, msg[512];
	size_t qlen = 0;
	ldns_pkt *p;
	int fd;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	q = query_wire("aol.test.", LDNS_RR_TYPE_NAPTR, 0x6161, &qlen);
	CU_ASSERT_FATAL(q != NULL && qlen + 2 <= sizeof(msg));
	msg[0] = (uint8_t)(qlen >> 8);
	msg[1] = (uint8_t)qlen;
	memcpy(msg + 2, q, qlen);
	free(q);
	CU_ASSERT_EQUAL((size_t)send(fd, msg, qlen + 2, 0), qlen + 2);
	CU_ASSERT_EQUAL(shutdown(fd, SHUT_WR), 0);
	p = tcp_read_msg(base, fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x6161);
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
	ldns_pkt_free(p);
	/* then the server closes: EOF within the time bound */
	CU_ASSERT(pump_until_readable(base, fd));
	CU_ASSERT_EQUAL(recv(fd, msg, sizeof(msg), MSG_DONTWAIT), 0);
	close(fd);
	d = mem_deref(d);
	event_base_free(base);
}

/* Sends one UDP query on fd and reads its answer (NULL when none came within ms). */
static ldns_pkt *udp_ask(struct event_base *base, int fd, const char *name, ldns_rr_type type,
			 uint16_t id, int ms)
{
	uint8_t *q, buf[2048];
	size_t qlen = 0;
	ldns_pkt *p = NULL;
	double end;
	ssize_t n;

	q = query_wire(name, type, id, &qlen);
	if (!q || send(fd, q, qlen, 0) != (ssize_t)qlen) {
		free(q);
		return NULL;
	}
	free(q);
	end = now_ms() + ms;
	while (now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 2) != 1)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0 && ldns_wire2pkt(&p, buf, (size_t)n) == LDNS_STATUS_OK)
			return p;
		return NULL;
	}
	return NULL;
}

static int udp_client(void)
{
	struct sockaddr_in sin = test_addr();
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct fault_case {
	const char *fault;
	ldns_pkt_rcode rcode;     /* expected over UDP */
	size_t nanswer;
	bool tc;
	bool answered;
};

static const struct fault_case fault_cases[] = {
	{ "servfail", LDNS_RCODE_SERVFAIL, 0, false, true },
	{ "NXDOMAIN", LDNS_RCODE_NXDOMAIN, 0, false, true },
	{ "truncate", LDNS_RCODE_NOERROR, 0, true, true },
	{ "drop", 0, 0, false, false },
	{ "timeout", 0, 0, false, false },
	{ "none", LDNS_RCODE_NOERROR, 1, false, true },
};

/* Each fault over real UDP for the faulted name only; the log records all of it. */
static void test_fakedns_faults(void)
{
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	enum fakedns_fault kind;
	const struct fakedns_query *lq;
	size_t live = mem_live(), i;
	ldns_pkt *p;
	int fd;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	fd = udp_client();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fakedns_fault_parse("bogus", &kind), EINVAL);
	CU_ASSERT_EQUAL(fakedns_fault(d, "sip.aol.test", FAKEDNS_FAULT_DELAY, 0), EINVAL);
	CU_ASSERT_EQUAL(fakedns_fault(d, "", FAKEDNS_FAULT_DROP, 0), EINVAL);
	for (i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++) {
		const struct fault_case *c = &fault_cases[i];

		fakedns_log_clear(d);
		CU_ASSERT_EQUAL_FATAL(fakedns_fault_parse(c->fault, &kind), 0);
		/* trailing dot and case do not matter */
		CU_ASSERT_EQUAL(fakedns_fault(d, "SIP.aol.test.", kind, 0), 0);
		p = udp_ask(base, fd, "sip.aol.test.", LDNS_RR_TYPE_A, (uint16_t)(0x7000 + i),
			    c->answered ? TEST_WAIT_MS : 150);
		CU_ASSERT_EQUAL(p != NULL, c->answered);
		if (p) {
			CU_ASSERT_EQUAL(ldns_pkt_id(p), 0x7000 + i);
			CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), c->rcode);
			CU_ASSERT_EQUAL(ldns_pkt_tc(p), c->tc);
			CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), c->nanswer);
			ldns_pkt_free(p);
		}
		/* another name is untouched */
		p = udp_ask(base, fd, "sip2.aol.test.", LDNS_RR_TYPE_A, 0x7100, TEST_WAIT_MS);
		CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR &&
			  ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
		ldns_pkt_free(p);
		CU_ASSERT_EQUAL_FATAL(fakedns_log_count(d), 2);
		lq = fakedns_log_get(d, 0);
		CU_ASSERT_STRING_EQUAL(lq->name, "sip.aol.test");
		CU_ASSERT_EQUAL(lq->type, LDNS_RR_TYPE_A);
		CU_ASSERT_EQUAL(lq->transport, FAKEDNS_UDP);
		CU_ASSERT_EQUAL(lq->rcode, c->answered ? (int)c->rcode : -1);
		CU_ASSERT_EQUAL(lq->truncated, c->tc);
		CU_ASSERT_EQUAL(lq->fault, kind);
		lq = fakedns_log_get(d, 1);
		CU_ASSERT_STRING_EQUAL(lq->name, "sip2.aol.test");
		CU_ASSERT_EQUAL(lq->fault, FAKEDNS_FAULT_NONE);
		CU_ASSERT_PTR_NULL(fakedns_log_get(d, 2));
	}
	/* clear_faults brings the name back */
	CU_ASSERT_EQUAL(fakedns_fault(d, "sip.aol.test", FAKEDNS_FAULT_SERVFAIL, 0), 0);
	fakedns_fault_clear(d);
	p = udp_ask(base, fd, "sip.aol.test.", LDNS_RR_TYPE_A, 0x7200, TEST_WAIT_MS);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	close(fd);
	d = mem_deref(d);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* DELAY holds the answer back about ms, and a server freed with one held releases it. */
static void test_fakedns_delay(void)
{
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	size_t live = mem_live();
	double t0, dt;
	ldns_pkt *p;
	int fd;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	fd = udp_client();
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fakedns_fault(d, "sip.aol.test", FAKEDNS_FAULT_DELAY, 300), 0);
	t0 = now_ms();
	p = udp_ask(base, fd, "sip.aol.test.", LDNS_RR_TYPE_A, 0x7300, TEST_WAIT_MS);
	dt = now_ms() - t0;
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT(dt >= 290 && dt < 1500);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	/* a short wait sees nothing; the held answer goes with the server */
	p = udp_ask(base, fd, "sip.aol.test.", LDNS_RR_TYPE_A, 0x7301, 50);
	CU_ASSERT_PTR_NULL(p);
	ldns_pkt_free(p);
	close(fd);
	d = mem_deref(d);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* TRUNCATE: UDP gets TC, TCP the full answer; the log tells the transports apart. */
static void test_fakedns_truncate_tcp(void)
{
	struct sockaddr_in sin = test_addr();
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	uint8_t *q, msg[512];
	size_t qlen = 0;
	ldns_pkt *p;
	int fd, tfd;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	CU_ASSERT_EQUAL(fakedns_fault(d, "_sips._tcp.aol.test", FAKEDNS_FAULT_TRUNCATE, 0), 0);
	fd = udp_client();
	CU_ASSERT_FATAL(fd >= 0);
	p = udp_ask(base, fd, "_sips._tcp.aol.test.", LDNS_RR_TYPE_SRV, 0x7400, TEST_WAIT_MS);
	CU_ASSERT(p && ldns_pkt_tc(p) && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 0);
	ldns_pkt_free(p);
	close(fd);
	tfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(tfd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(tfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	q = query_wire("_sips._tcp.aol.test.", LDNS_RR_TYPE_SRV, 0x7401, &qlen);
	CU_ASSERT_FATAL(q != NULL && qlen + 2 <= sizeof(msg));
	msg[0] = (uint8_t)(qlen >> 8);
	msg[1] = (uint8_t)qlen;
	memcpy(msg + 2, q, qlen);
	free(q);
	CU_ASSERT_EQUAL((size_t)send(tfd, msg, qlen + 2, 0), qlen + 2);
	p = tcp_read_msg(base, tfd);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_FALSE(ldns_pkt_tc(p));
	CU_ASSERT_EQUAL(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 2);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL_FATAL(fakedns_log_count(d), 2);
	CU_ASSERT_EQUAL(fakedns_log_get(d, 0)->transport, FAKEDNS_UDP);
	CU_ASSERT(fakedns_log_get(d, 0)->truncated);
	CU_ASSERT_EQUAL(fakedns_log_get(d, 1)->transport, FAKEDNS_TCP);
	CU_ASSERT_FALSE(fakedns_log_get(d, 1)->truncated);
	CU_ASSERT_STRING_EQUAL(fakedns_transport_name(FAKEDNS_TCP), "tcp");
	close(tfd);
	d = mem_deref(d);
	event_base_free(base);
}

/* remove by type and by name; TTLs are served as written. */
static void test_fakedns_remove(void)
{
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	ldns_pkt *p;

	CU_ASSERT_EQUAL_FATAL(server_new(&d, &base, test_zone), 0);
	CU_ASSERT_EQUAL(fakedns_add(d, "ttl.test. 2 IN A 127.77.213.9\n"), 0);
	p = ask(d, "ttl.test.", LDNS_RR_TYPE_A, 1);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1 &&
		  ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)) == 2);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(fakedns_remove(d, "sip.aol.test", "AAAA"), 0);
	CU_ASSERT_EQUAL(fakedns_remove(d, "sip.aol.test.", "AAAA"), ENOENT);
	CU_ASSERT_EQUAL(fakedns_remove(d, "sip.aol.test.", "NOSUCHTYPE"), EINVAL);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_AAAA, 2);
	CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR &&
		  ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 0);
	ldns_pkt_free(p);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 3);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	/* the last type gone: the name is gone (NXDOMAIN) */
	CU_ASSERT_EQUAL(fakedns_remove(d, "sip.aol.test.", NULL), 0);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 4);
	CU_ASSERT(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(fakedns_remove(d, "nope.test.", "ANY"), ENOENT);
	/* and it can come back */
	CU_ASSERT_EQUAL(fakedns_add(d, "sip.aol.test. 300 IN A 127.77.213.10\n"), 0);
	p = ask(d, "sip.aol.test.", LDNS_RR_TYPE_A, 5);
	CU_ASSERT(p && ldns_rr_list_rr_count(ldns_pkt_answer(p)) == 1);
	ldns_pkt_free(p);
	d = mem_deref(d);
	event_base_free(base);
}

static CU_TestInfo fakedns_tests[] = {
	{ "answers from the zone (table)", test_fakedns_table },
	{ "FORMERR, short and response packets", test_fakedns_malformed },
	{ "bad zone refused, old kept; add and replace", test_fakedns_zone_edits },
	{ "real UDP query, TC over 512 bytes", test_fakedns_udp },
	{ "real TCP, two pipelined queries", test_fakedns_tcp },
	{ "TCP half-close still answered", test_fakedns_tcp_halfclose },
	{ "faults per name over UDP, query log", test_fakedns_faults },
	{ "delay fault holds the answer", test_fakedns_delay },
	{ "truncate fault: TC on UDP, full on TCP", test_fakedns_truncate_tcp },
	{ "remove records; TTLs as written", test_fakedns_remove },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("fakedns", fakedns_tests)
