/* test_sipmsg: the libosip2 adapter — decode, edit, encode, responses, refusals. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/mem.h"
#include "sip/sipframe.h"
#include "sip/sipmsg.h"
#include "tests/testreg.h"

static const char msg_message[] =
	"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
	"Via: SIP/2.0/TLS ap.contoso.test:5061;branch=z9hG4bK776asdhds\r\n"
	"Via: SIP/2.0/TLS pool.contoso.test:5061;branch=z9hG4bKnashds8;received=127.77.1.2\r\n"
	"Max-Forwards: 69\r\n"
	"From: \"Alice\" <sip:alice@contoso.test>;tag=1928301774\r\n"
	"To: <sip:bob@aol.test>\r\n"
	"Call-ID: a84b4c76e66710@pc33.contoso.test\r\n"
	"CSeq: 314159 MESSAGE\r\n"
	"Record-Route: <sip:ap.contoso.test;lr>\r\n"
	"Contact: <sip:alice@pool.contoso.test;transport=tls>\r\n"
	"ms-edge-proxy-message-trust: ms-source-type=InternalUser\r\n"
	"X-Note: one\r\n"
	"X-Note: two\r\n"
	"Content-Type: text/plain; charset=UTF-8\r\n"
	"Content-Length: 12\r\n"
	"\r\n"
	"Hello, Bob!\n";

static void test_sipmsg_decode_fields(void)
{
	size_t live = mem_live(), blen;
	struct sipmsg *m = NULL;
	const char *user, *host, *body;
	char buf[256];

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, msg_message, sizeof(msg_message) - 1), 0);
	CU_ASSERT_TRUE(sipmsg_is_request(m));
	CU_ASSERT_STRING_EQUAL(sipmsg_method(m), "MESSAGE");
	CU_ASSERT_EQUAL(sipmsg_status(m), 0);
	CU_ASSERT_STRING_EQUAL(sipmsg_reason(m), "");
	CU_ASSERT_STRING_EQUAL(sipmsg_callid(m), "a84b4c76e66710@pc33.contoso.test");
	CU_ASSERT_EQUAL(sipmsg_cseq(m), 314159);
	CU_ASSERT_STRING_EQUAL(sipmsg_from_tag(m), "1928301774");
	CU_ASSERT_STRING_EQUAL(sipmsg_to_tag(m), "");
	CU_ASSERT_EQUAL(sipmsg_uri(m, SIPMSG_RURI, &user, &host), 0);
	CU_ASSERT_STRING_EQUAL(user, "bob");
	CU_ASSERT_STRING_EQUAL(host, "aol.test");
	CU_ASSERT_EQUAL(sipmsg_uri(m, SIPMSG_FROM, &user, &host), 0);
	CU_ASSERT_STRING_EQUAL(user, "alice");
	CU_ASSERT_STRING_EQUAL(host, "contoso.test");
	CU_ASSERT_EQUAL(sipmsg_uri(m, SIPMSG_CONTACT, &user, &host), 0);
	CU_ASSERT_STRING_EQUAL(host, "pool.contoso.test");
	CU_ASSERT_EQUAL(sipmsg_uri_str(m, SIPMSG_TO, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "sip:bob@aol.test");
	CU_ASSERT_EQUAL(sipmsg_via_count(m), 2);
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(m, 0), "z9hG4bK776asdhds");
	CU_ASSERT_STRING_EQUAL(sipmsg_via_host(m, 1), "pool.contoso.test");
	CU_ASSERT_PTR_NULL(sipmsg_via_branch(m, 2));
	CU_ASSERT_EQUAL(sipmsg_max_forwards(m), 69);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 1);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, false), 0);
	CU_ASSERT_EQUAL(sipmsg_route_str(m, true, 0, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "<sip:ap.contoso.test;lr>");
	CU_ASSERT_EQUAL(sipmsg_contact_count(m), 1);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, "x-note"), 2);
	CU_ASSERT_STRING_EQUAL(sipmsg_header(m, "X-NOTE", 1), "two");
	CU_ASSERT_PTR_NULL(sipmsg_header(m, "X-Note", 2));
	CU_ASSERT_STRING_EQUAL(sipmsg_header(m, "MS-Edge-Proxy-Message-Trust", 0),
			       "ms-source-type=InternalUser");
	body = sipmsg_body(m, &blen);
	CU_ASSERT_EQUAL(blen, 12);
	CU_ASSERT_NSTRING_EQUAL(body, "Hello, Bob!\n", 12);
	sipmsg_content_type(m, buf, sizeof(buf));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "text/plain"));
	mem_deref(m);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Encoding what was decoded gives a message that frames and decodes to the same facts. */
static void test_sipmsg_round_trip(void)
{
	size_t live = mem_live(), len, skip, mlen, blen;
	struct sipmsg *m = NULL, *m2 = NULL;
	char *buf = NULL;
	const char *body;

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, msg_message, sizeof(msg_message) - 1), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_encode(m, &buf, &len), 0);
	CU_ASSERT_EQUAL(strlen(buf), len);
	CU_ASSERT_EQUAL(mem_nrefs(buf), 1);
	CU_ASSERT_EQUAL(sipframe_next(NULL, buf, len, &skip, &mlen), 0);
	CU_ASSERT_EQUAL(mlen, len);
	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m2, buf, len), 0);
	CU_ASSERT_STRING_EQUAL(sipmsg_callid(m2), sipmsg_callid(m));
	CU_ASSERT_EQUAL(sipmsg_cseq(m2), 314159);
	CU_ASSERT_EQUAL(sipmsg_via_count(m2), 2);
	CU_ASSERT_EQUAL(sipmsg_header_count(m2, "X-Note"), 2);
	body = sipmsg_body(m2, &blen);
	CU_ASSERT_EQUAL(blen, 12);
	CU_ASSERT_NSTRING_EQUAL(body, "Hello, Bob!\n", 12);
	mem_deref(buf);
	mem_deref(m2);

	/* a new body: Content-Length follows it */
	CU_ASSERT_EQUAL(sipmsg_set_body(m, "text/plain", "Bye now", 7), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_encode(m, &buf, &len), 0);
	if (!strstr(buf, "Content-Length: 7\r\n"))
		fprintf(stderr, "\n%s\n", buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Content-Length: 7\r\n"));
	CU_ASSERT_EQUAL(sipframe_next(NULL, buf, len, &skip, &mlen), 0);
	CU_ASSERT_EQUAL(mlen, len);
	CU_ASSERT_EQUAL(memcmp(buf + len - 7, "Bye now", 7), 0);
	mem_deref(buf);
	/* and no body at all */
	CU_ASSERT_EQUAL(sipmsg_set_body(m, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_encode(m, &buf, &len), 0);
	CU_ASSERT_EQUAL(sipframe_next(NULL, buf, len, &skip, &mlen), 0);
	CU_ASSERT_EQUAL(mlen, len);
	CU_ASSERT_EQUAL(memcmp(buf + len - 4, "\r\n\r\n", 4), 0);
	mem_deref(buf);
	mem_deref(m);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_sipmsg_edit(void)
{
	size_t live = mem_live(), len;
	struct sipmsg *m = NULL, *m2 = NULL;
	char *buf = NULL, rr[128];
	int n = -1;

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, msg_message, sizeof(msg_message) - 1), 0);
	/* RFC 3261 16.6 step 8 / 16.7 step 3: Via push and pop */
	CU_ASSERT_EQUAL(sipmsg_via_push(m, "TLS", "ap.contoso.test", 5061, "z9hG4bKnew1"), 0);
	CU_ASSERT_EQUAL(sipmsg_via_count(m), 3);
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(m, 0), "z9hG4bKnew1");
	CU_ASSERT_STRING_EQUAL(sipmsg_via_host(m, 0), "ap.contoso.test");
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(m, 1), "z9hG4bK776asdhds");
	/* headers */
	CU_ASSERT_EQUAL(sipmsg_header_remove(m, "x-note", &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, "X-Note"), 0);
	CU_ASSERT_EQUAL(sipmsg_header_add(m, "ms-edge-proxy-message-trust",
					  "ms-source-type=AuthorizedServer"), 0);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, "ms-edge-proxy-message-trust"), 2);
	CU_ASSERT_EQUAL(sipmsg_header_add(m, "Via", "SIP/2.0/TCP x"), EINVAL);
	CU_ASSERT_EQUAL(sipmsg_header_add(m, "X-Evil", "a\r\nVia: b"), EINVAL);
	/* Max-Forwards, routes, contacts, Request-URI */
	CU_ASSERT_EQUAL(sipmsg_set_max_forwards(m, 68), 0);
	CU_ASSERT_EQUAL(sipmsg_max_forwards(m), 68);
	CU_ASSERT_EQUAL(sipmsg_route_push(m, true, "<sip:ap.aol.test;lr>"), 0);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 2);
	CU_ASSERT_EQUAL(sipmsg_route_push(m, false, "<sip:sip.aol.test;lr>"), 0);
	CU_ASSERT_EQUAL(sipmsg_contact_remove_all(m), 0);
	CU_ASSERT_EQUAL(sipmsg_contact_count(m), 0);
	CU_ASSERT_EQUAL(sipmsg_contact_add(m, "<sip:ap.contoso.test;transport=tls>"), 0);
	CU_ASSERT_EQUAL(sipmsg_set_ruri(m, "sip:robert@aol.test"), 0);

	CU_ASSERT_EQUAL_FATAL(sipmsg_encode(m, &buf, &len), 0);
	CU_ASSERT_PTR_NULL(strstr(buf, "X-Note"));
	CU_ASSERT_PTR_NULL(strstr(buf, "pool.contoso.test;transport"));
	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m2, buf, len), 0);
	CU_ASSERT_EQUAL(sipmsg_via_count(m2), 3);
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(m2, 0), "z9hG4bKnew1");
	CU_ASSERT_EQUAL(sipmsg_max_forwards(m2), 68);
	CU_ASSERT_EQUAL(sipmsg_header_count(m2, "ms-edge-proxy-message-trust"), 2);
	CU_ASSERT_EQUAL(sipmsg_route_str(m2, true, 0, rr, sizeof(rr)), 0);
	CU_ASSERT_STRING_EQUAL(rr, "<sip:ap.aol.test;lr>");
	CU_ASSERT_EQUAL(sipmsg_route_count(m2, false), 1);
	CU_ASSERT_EQUAL(sipmsg_uri_str(m2, SIPMSG_RURI, rr, sizeof(rr)), 0);
	CU_ASSERT_STRING_EQUAL(rr, "sip:robert@aol.test");
	CU_ASSERT_EQUAL(sipmsg_uri_str(m2, SIPMSG_CONTACT, rr, sizeof(rr)), 0);
	CU_ASSERT_STRING_EQUAL(rr, "sip:ap.contoso.test;transport=tls");
	mem_deref(m2);
	mem_deref(buf);

	/* pops */
	CU_ASSERT_EQUAL(sipmsg_via_pop(m), 0);
	CU_ASSERT_EQUAL(sipmsg_via_count(m), 2);
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(m, 0), "z9hG4bK776asdhds");
	CU_ASSERT_EQUAL(sipmsg_route_pop(m, false), 0);
	CU_ASSERT_EQUAL(sipmsg_route_pop(m, false), ENOENT);
	CU_ASSERT_EQUAL(sipmsg_via_pop(m), 0);
	CU_ASSERT_EQUAL(sipmsg_via_pop(m), 0);
	CU_ASSERT_EQUAL(sipmsg_via_pop(m), ENOENT);
	mem_deref(m);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* RFC 3261 8.2.6.2 */
static void test_sipmsg_response(void)
{
	size_t live = mem_live(), len;
	struct sipmsg *req = NULL, *rsp = NULL, *r2 = NULL;
	char *buf = NULL;

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&req, msg_message, sizeof(msg_message) - 1), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_response_alloc(&rsp, req, 403, NULL, "srv42"), 0);
	CU_ASSERT_FALSE(sipmsg_is_request(rsp));
	CU_ASSERT_EQUAL(sipmsg_status(rsp), 403);
	CU_ASSERT_STRING_EQUAL(sipmsg_reason(rsp), "Forbidden");
	CU_ASSERT_STRING_EQUAL(sipmsg_method(rsp), "MESSAGE");
	CU_ASSERT_EQUAL_FATAL(sipmsg_encode(rsp, &buf, &len), 0);
	CU_ASSERT_EQUAL(strncmp(buf, "SIP/2.0 403 Forbidden\r\n", 23), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&r2, buf, len), 0);
	CU_ASSERT_EQUAL(sipmsg_via_count(r2), 2);
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(r2, 0), "z9hG4bK776asdhds");
	CU_ASSERT_STRING_EQUAL(sipmsg_via_branch(r2, 1), "z9hG4bKnashds8");
	CU_ASSERT_STRING_EQUAL(sipmsg_from_tag(r2), "1928301774");
	CU_ASSERT_STRING_EQUAL(sipmsg_to_tag(r2), "srv42");
	CU_ASSERT_STRING_EQUAL(sipmsg_callid(r2), "a84b4c76e66710@pc33.contoso.test");
	CU_ASSERT_EQUAL(sipmsg_cseq(r2), 314159);
	CU_ASSERT_EQUAL(sipmsg_header_count(r2, "X-Note"), 0);
	CU_ASSERT_EQUAL(sipmsg_contact_count(r2), 0);
	mem_deref(r2);
	mem_deref(buf);
	mem_deref(rsp);

	/* a To tag already there is kept; a given reason is used */
	CU_ASSERT_EQUAL_FATAL(sipmsg_response_alloc(&rsp, req, 200, "Fine", "x"), 0);
	CU_ASSERT_EQUAL_FATAL(sipmsg_response_alloc(&r2, req, 200, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(sipmsg_reason(rsp), "Fine");
	CU_ASSERT_STRING_EQUAL(sipmsg_to_tag(r2), "");
	CU_ASSERT_EQUAL(sipmsg_response_alloc(&r2, rsp, 200, NULL, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(sipmsg_response_alloc(&r2, req, 99, NULL, NULL), EINVAL);
	mem_deref(r2);
	mem_deref(rsp);
	mem_deref(req);
	CU_ASSERT_STRING_EQUAL(sipmsg_reason_phrase(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(sipmsg_reason_phrase(799), "Unknown");
	CU_ASSERT_EQUAL(mem_live(), live);
}

static const char *const bad_msgs[] = {
	/* no Via */
	"OPTIONS sip:bob@aol.test SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
	"Call-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	/* no Call-ID */
	"OPTIONS sip:bob@aol.test SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	/* no CSeq */
	"OPTIONS sip:bob@aol.test SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n",
	/* no From */
	"OPTIONS sip:bob@aol.test SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n"
	"To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
	/* garbage */
	"this is not SIP at all\r\n\r\n",
	/* broken start line */
	"OPTIONS\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n\r\n",
	NULL,
};

static void test_sipmsg_refused(void)
{
	size_t live = mem_live();
	struct sipmsg *m = NULL;
	int i;

	for (i = 0; bad_msgs[i]; i++) {
		int err = sipmsg_decode(&m, bad_msgs[i], strlen(bad_msgs[i]));

		if (err != EBADMSG)
			fprintf(stderr, "\n  bad message %d: err %d\n", i, err);
		CU_ASSERT_EQUAL(err, EBADMSG);
		CU_ASSERT_PTR_NULL(m);
	}
	CU_ASSERT_EQUAL(sipmsg_decode(&m, "", 0), EINVAL);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_sipmsg_token(void)
{
	char a[17], b[17], odd[6];
	size_t i;

	sipmsg_random_token(a, sizeof(a));
	sipmsg_random_token(b, sizeof(b));
	sipmsg_random_token(odd, sizeof(odd));
	CU_ASSERT_EQUAL(strlen(a), 16);
	CU_ASSERT_EQUAL(strlen(odd), 5);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	for (i = 0; i < 16; i++)
		CU_ASSERT_PTR_NOT_NULL(strchr("0123456789abcdef", a[i]));
}

static CU_TestInfo sipmsg_tests[] = {
	{ "decode fields", test_sipmsg_decode_fields },
	{ "round trip", test_sipmsg_round_trip },
	{ "edit", test_sipmsg_edit },
	{ "response", test_sipmsg_response },
	{ "malformed refused", test_sipmsg_refused },
	{ "random token", test_sipmsg_token },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sipmsg", sipmsg_tests)
