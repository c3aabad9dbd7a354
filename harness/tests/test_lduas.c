/* test_lduas: the 200 OK the load responder builds, and a uac/uas run over TCP on loopback. */
#include <errno.h>
#include <string.h>
#include <event2/event.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "net/sa.h"
#include "../load/lduac.h"
#include "../load/lduas.h"

#define LDUAS_TEST_ADDR "127.77.211.10:15070"

static const char lduas_req[] =
	"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
	"Via: SIP/2.0/TLS 127.77.0.4:5061;branch=z9hG4bKproxy\r\n"
	"v: SIP/2.0/TLS 127.77.0.9:5061;branch=z9hG4bKorig\r\n"
	"Max-Forwards: 69\r\n"
	"f: <sip:alice@contoso.test>;tag=a1\r\n"
	"To: <sip:bob@aol.test>\r\n"
	"Call-ID: c1@x\r\n"
	"CSeq: 7 MESSAGE\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 2\r\n\r\nhi";

static void test_lduas_answer(void)
{
	char out[2048];
	size_t n = lduas_answer(lduas_req, sizeof(lduas_req) - 1, out, sizeof(out));
	const char *v1, *v2;

	CU_ASSERT_FATAL(n > 0);
	out[n] = '\0';
	CU_ASSERT(!strncmp(out, "SIP/2.0 200 OK\r\n", 16));
	/* RFC 3261 8.2.6.2: every Via, in order; From, Call-ID, CSeq as they were; To tagged */
	v1 = strstr(out, "Via: SIP/2.0/TLS 127.77.0.4:5061;branch=z9hG4bKproxy\r\n");
	v2 = strstr(out, "v: SIP/2.0/TLS 127.77.0.9:5061;branch=z9hG4bKorig\r\n");
	CU_ASSERT_PTR_NOT_NULL(v1);
	CU_ASSERT(v1 && v2 && v1 < v2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "f: <sip:alice@contoso.test>;tag=a1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "To: <sip:bob@aol.test>;tag=ld200\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Call-ID: c1@x\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "CSeq: 7 MESSAGE\r\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "Max-Forwards"));
	CU_ASSERT_PTR_NULL(strstr(out, "hi"));
	CU_ASSERT(!strcmp(out + n - 21, "Content-Length: 0\r\n\r\n"));
}

static void test_lduas_refuses(void)
{
	static const char ack[] = "ACK sip:bob@aol.test SIP/2.0\r\nVia: x\r\n\r\n";
	static const char rsp[] = "SIP/2.0 200 OK\r\nVia: x\r\n\r\n";
	static const char nocseq[] = "MESSAGE sip:b@a.test SIP/2.0\r\nVia: x\r\nFrom: a\r\n"
				     "To: b\r\nCall-ID: c\r\n\r\n";
	char out[2048];

	CU_ASSERT_EQUAL(lduas_answer(ack, sizeof(ack) - 1, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(lduas_answer(rsp, sizeof(rsp) - 1, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(lduas_answer(nocseq, sizeof(nocseq) - 1, out, sizeof(out)), 0);
	/* too small an output buffer: nothing rather than a truncated answer */
	CU_ASSERT_EQUAL(lduas_answer(lduas_req, sizeof(lduas_req) - 1, out, 40), 0);
}

static void lduas_test_done(void *arg)
{
	event_base_loopbreak(arg);
}

/* The generator against the responder over TCP: every transaction answered and timed. */
static void test_lduas_run_tcp(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_storage ss;
	struct lduas *s = NULL;
	struct lduac *c = NULL;
	struct lduac_result r;
	struct timeval guard = { 10, 0 };
	struct lduac_conf cf = {
		.conns = 3, .window = 4, .count = 300, .duration_ms = 5000, .timeout_ms = 1000,
		.ruri = "sip:bob@aol.test", .from = "sip:alice@contoso.test", .body = 10,
	};
	size_t live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(sa_parse(&ss, LDUAS_TEST_ADDR), 0);
	cf.target = (struct sockaddr *)&ss;
	CU_ASSERT_EQUAL_FATAL(lduas_alloc(&s, base, NULL, (struct sockaddr *)&ss, false), 0);
	CU_ASSERT_EQUAL_FATAL(lduac_alloc(&c, base, &cf, lduas_test_done, base), 0);
	event_base_loopexit(base, &guard);
	event_base_dispatch(base);
	lduac_result(c, &r);
	CU_ASSERT_EQUAL(r.up, 3);
	CU_ASSERT_EQUAL(r.sent, 300);
	CU_ASSERT_EQUAL(r.ok, 300);
	CU_ASSERT_EQUAL(r.errors, 0);
	CU_ASSERT_EQUAL(r.timeouts, 0);
	CU_ASSERT_EQUAL(r.samples, 300);
	CU_ASSERT(r.p50_ns > 0 && r.p50_ns <= r.p99_ns && r.p99_ns <= r.max_ns);
	CU_ASSERT_EQUAL(lduas_answered(s), 300);
	mem_deref(c);
	/* the responder sees the closes and frees its connections from the loop */
	guard.tv_sec = 0;
	guard.tv_usec = 200000;
	event_base_loopexit(base, &guard);
	event_base_dispatch(base);
	CU_ASSERT_EQUAL(lduas_conns(s), 0);
	mem_deref(s);
	event_base_free(base);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_lduac_refuses(void)
{
	struct sockaddr_storage ss;
	struct lduac *c = NULL;
	struct lduac_conf cf = {
		.conns = 1, .duration_ms = 1000, .ruri = "sip:b@a.test", .from = "sip:a@b.test",
	};
	struct event_base *base = event_base_new();

	sa_parse(&ss, LDUAS_TEST_ADDR);
	cf.target = (struct sockaddr *)&ss;
	/* neither a rate, nor a window, nor idle: nothing to do */
	CU_ASSERT_EQUAL(lduac_alloc(&c, base, &cf, NULL, NULL), EINVAL);
	cf.window = 1;
	cf.conns = 0;
	CU_ASSERT_EQUAL(lduac_alloc(&c, base, &cf, NULL, NULL), EINVAL);
	CU_ASSERT_PTR_NULL(c);
	event_base_free(base);
}

static CU_TestInfo lduas_tests[] = {
	{ "answer", test_lduas_answer },
	{ "refuses", test_lduas_refuses },
	{ "uac refuses", test_lduac_refuses },
	{ "run over TCP", test_lduas_run_tcp },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("lduas", lduas_tests);
