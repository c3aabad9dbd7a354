/* test_methods: IM and presence only (POL-007), no multiparty IM (POL-008). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "sip/sipmsg.h"
#include "../policy/methods.h"

struct methods_case {
	const char *method;
	const char *headers;      /* extra header lines */
	const char *ctype;        /* NULL: no body */
	const char *body;
	int want_status;          /* 0: passes */
	const char *want_hdr;     /* header name of the refusal */
	const char *want_why;
};

#define SDP(m) "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" m

static const struct methods_case methods_cases[] = {
	{ "MESSAGE", "", "text/plain", "hi", 0, NULL, NULL },
	{ "OPTIONS", "", NULL, NULL, 0, NULL, NULL },
	{ "ACK", "", NULL, NULL, 0, NULL, NULL },
	{ "BYE", "", NULL, NULL, 0, NULL, NULL },
	{ "CANCEL", "", NULL, NULL, 0, NULL, NULL },
	{ "SUBSCRIBE", "Event: presence\r\n", NULL, NULL, 0, NULL, NULL },
	{ "SUBSCRIBE", "Event: Presence;id=7\r\n", NULL, NULL, 0, NULL, NULL },
	{ "NOTIFY", "Event: presence\r\nSubscription-State: active\r\n", NULL, NULL, 0, NULL,
	  NULL },
	{ "SUBSCRIBE", "Event: presence.winfo\r\n", NULL, NULL, 489, "Allow-Events",
	  "'presence.winfo'" },
	{ "SUBSCRIBE", "Event: dialog\r\n", NULL, NULL, 489, "Allow-Events", "'dialog'" },
	{ "NOTIFY", "Event: refer\r\n", NULL, NULL, 489, "Allow-Events", "'refer'" },
	{ "SUBSCRIBE", "", NULL, NULL, 489, "Allow-Events", "without an Event" },
	{ "INFO", "", NULL, NULL, 405, "Allow", "INFO does not cross" },
	{ "REGISTER", "", NULL, NULL, 405, "Allow", NULL },
	{ "PUBLISH", "Event: presence\r\n", NULL, NULL, 405, "Allow", NULL },
	{ "REFER", "Refer-To: <sip:carol@aol.test>\r\n", NULL, NULL, 403, NULL, "POL-008" },
	{ "INVITE", "", "application/sdp", SDP("m=message 5060 SIP null\r\n"), 0, NULL, NULL },
	{ "INVITE", "", "application/sdp", SDP("m=message 5060 TCP/MSRP *\r\n"
					       "m=message 5062 TCP/MSRP *\r\n"), 0, NULL, NULL },
	{ "INVITE", "", "application/sdp", SDP("m=audio 49170 RTP/AVP 0\r\n"), 488, NULL,
	  "offers audio media" },
	{ "INVITE", "", "application/sdp", SDP("m=message 5060 SIP null\r\n"
					       "m=video 51372 RTP/AVP 31\r\n"), 488, NULL,
	  "offers video media" },
	{ "INVITE", "", "application/sdp", SDP("m=application 9 TCP/MSRP *\r\n"), 488, NULL,
	  "application" },
	{ "INVITE", "", "application/sdp", SDP(""), 488, NULL, "no media" },
	{ "INVITE", "", NULL, NULL, 488, NULL, "without an SDP offer" },
	{ "INVITE", "", "multipart/mixed;boundary=\"xx\"",
	  "--xx\r\nContent-Type: text/plain\r\n\r\nhi\r\n--xx--\r\n", 403, NULL,
	  "POL-008" },
	{ "INVITE", "", "application/resource-lists+xml", "<resource-lists/>", 403, NULL,
	  "POL-008" },
	{ "INVITE", "Referred-By: <sip:carol@contoso.test>\r\n", "application/sdp",
	  SDP("m=message 5060 SIP null\r\n"), 403, NULL, "Referred-By" },
	{ "MESSAGE", "", "application/resource-lists+xml", "<resource-lists/>", 403, NULL,
	  "several recipients" },
};

static struct sipmsg *methods_req(const struct methods_case *tc)
{
	char buf[2048], ct[128] = "";
	struct sipmsg *m = NULL;
	size_t blen = tc->body ? strlen(tc->body) : 0;
	int n;

	if (tc->ctype)
		snprintf(ct, sizeof(ct), "Content-Type: %s\r\n", tc->ctype);
	n = snprintf(buf, sizeof(buf),
		     "%s sip:bob@aol.test SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 127.77.208.9:5061;branch=z9hG4bKm\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@contoso.test>;tag=1\r\n"
		     "To: <sip:bob@aol.test>\r\n"
		     "Call-ID: m@test\r\n"
		     "CSeq: 1 %s\r\n"
		     "Contact: <sip:alice@127.77.208.9:5061;transport=tls>\r\n"
		     "%s%s"
		     "Content-Length: %zu\r\n\r\n%s", tc->method, tc->method, tc->headers, ct,
		     blen, tc->body ? tc->body : "");
	if (sipmsg_decode(&m, buf, (size_t)n))
		fprintf(stderr, "\ncannot decode:\n%s\n", buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	return m;
}

static void test_methods_table(void)
{
	size_t i, live = mem_live();

	for (i = 0; i < sizeof(methods_cases) / sizeof(methods_cases[0]); i++) {
		const struct methods_case *tc = &methods_cases[i];
		struct sipmsg *m = methods_req(tc);
		struct policy_verdict v;
		int err;

		memset(&v, 0, sizeof(v));
		err = methods_check(m, &v);
		if (v.status != tc->want_status)
			fprintf(stderr, "\nmethods case %zu (%s): status %d why '%s'\n", i,
				tc->method, v.status, v.why);
		CU_ASSERT_EQUAL(err, tc->want_status ? EPERM : 0);
		CU_ASSERT_EQUAL(v.status, tc->want_status);
		if (tc->want_hdr) {
			CU_ASSERT_PTR_NOT_NULL(v.hdr_name);
			if (v.hdr_name)
				CU_ASSERT_STRING_EQUAL(v.hdr_name, tc->want_hdr);
		}
		if (tc->want_why && !strstr(v.why, tc->want_why))
			fprintf(stderr, "\nmethods case %zu: why '%s'\n", i, v.why);
		if (tc->want_why)
			CU_ASSERT_PTR_NOT_NULL(strstr(v.why, tc->want_why));
		mem_deref(m);
	}
	CU_ASSERT_TRUE(methods_creates_dialog("INVITE"));
	CU_ASSERT_TRUE(methods_creates_dialog("SUBSCRIBE"));
	CU_ASSERT_FALSE(methods_creates_dialog("MESSAGE"));
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo methods_tests[] = {
	{ "IM and presence only", test_methods_table },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("methods", methods_tests)
