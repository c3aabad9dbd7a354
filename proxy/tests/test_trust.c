/* test_trust: every filter mode x claim, header stripping both ways, exactly one mark. */
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "sip/sipmsg.h"
#include "../policy/trust.h"

static struct sipmsg *trust_req(const char *extra)
{
	char buf[1024];
	struct sipmsg *m = NULL;
	int n = snprintf(buf, sizeof(buf),
			 "MESSAGE sip:alice@contoso.test SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS sip.aol.test:5061;branch=z9hG4bKtr\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:bob@aol.test>;tag=1\r\n"
			 "To: <sip:alice@contoso.test>\r\n"
			 "Call-ID: tr@aol.test\r\n"
			 "CSeq: 1 MESSAGE\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n", extra);

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, buf, (size_t)n), 0);
	return m;
}

struct trust_case {
	enum state_filter mode;
	const char *extra;       /* headers the provider sent */
	bool want_verified;
};

static const struct trust_case trust_cases[] = {
	{ STATE_FILTER_CONTACTS_ONLY, "", false },
	{ STATE_FILTER_CONTACTS_ONLY, "ms-sender-verified: yes\r\n", false },
	{ STATE_FILTER_VERIFIED_ONLY, "", false },
	{ STATE_FILTER_VERIFIED_ONLY, "ms-sender-verified: yes\r\n", true },
	{ STATE_FILTER_VERIFIED_ONLY, "ms-sender-verified: YES \r\n", true },
	{ STATE_FILTER_VERIFIED_ONLY, "ms-sender-verified: no\r\n", false },
	{ STATE_FILTER_VERIFIED_ONLY, "ms-sender-verified: yes\r\nms-sender-verified: no\r\n",
	  false },
	{ STATE_FILTER_ALLOW_ALL, "", true },
	{ STATE_FILTER_ALLOW_ALL, "ms-sender-verified: no\r\n", true },
	/* forged marks from outside go, whatever they say (TRUST-001) */
	{ STATE_FILTER_VERIFIED_ONLY,
	  "ms-edge-proxy-message-trust: ms-source-type=InternetDomain;"
	  "ms-source-verified-user=verified\r\n"
	  "ms-edge-proxy-message-trust: forged\r\n", false },
	{ STATE_FILTER_CONTACTS_ONLY,
	  "ms-edge-proxy-message-trust: ms-source-verified-user=verified\r\n"
	  "ms-sender-verified: yes\r\n", false },
};

static void test_trust_modes(void)
{
	size_t i, live = mem_live();

	for (i = 0; i < sizeof(trust_cases) / sizeof(trust_cases[0]); i++) {
		const struct trust_case *tc = &trust_cases[i];
		struct sipmsg *m = trust_req(tc->extra);
		char want[512];
		const char *got;

		snprintf(want, sizeof(want),
			 "ms-source-type=InternetDomain;ms-ep-fqdn=ap.contoso.test;"
			 "ms-source-network=publiccloud;ms-source-verified-user=%s;"
			 "ms-remote-fqdn=sip.aol.test", tc->want_verified ? "verified" : "unverified");
		CU_ASSERT_EQUAL(trust_mark(m, tc->mode, "ap.contoso.test", "sip.aol.test"), 0);
		CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_HEADER), 1);
		CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_CLAIM_HEADER), 0);
		got = sipmsg_header(m, TRUST_HEADER, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(got);
		if (strcmp(got, want))
			fprintf(stderr, "\ncase %zu: got '%s'\n", i, got);
		CU_ASSERT_STRING_EQUAL(got, want);
		mem_deref(m);
	}
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_trust_verdict(void)
{
	CU_ASSERT_FALSE(trust_verdict(STATE_FILTER_CONTACTS_ONLY, false));
	CU_ASSERT_FALSE(trust_verdict(STATE_FILTER_CONTACTS_ONLY, true));
	CU_ASSERT_FALSE(trust_verdict(STATE_FILTER_VERIFIED_ONLY, false));
	CU_ASSERT_TRUE(trust_verdict(STATE_FILTER_VERIFIED_ONLY, true));
	CU_ASSERT_TRUE(trust_verdict(STATE_FILTER_ALLOW_ALL, false));
	CU_ASSERT_TRUE(trust_verdict(STATE_FILTER_ALLOW_ALL, true));
}

/* Outbound: no internal mark leaks; the claim is ours alone. */
static void test_trust_outbound(void)
{
	static const char inside[] =
		"ms-edge-proxy-message-trust: ms-source-network=federation\r\n"
		"ms-sender-verified: yes\r\n";
	size_t live = mem_live();
	struct sipmsg *m = trust_req(inside);

	CU_ASSERT_EQUAL(trust_outbound(m, false), 0);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_HEADER), 0);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_CLAIM_HEADER), 0);
	mem_deref(m);
	m = trust_req(inside);
	CU_ASSERT_EQUAL(trust_outbound(m, true), 0);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_HEADER), 0);
	CU_ASSERT_EQUAL(sipmsg_header_count(m, TRUST_CLAIM_HEADER), 1);
	CU_ASSERT_STRING_EQUAL(sipmsg_header(m, TRUST_CLAIM_HEADER, 0), "yes");
	CU_ASSERT_TRUE(trust_claimed(m));
	mem_deref(m);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo trust_tests[] = {
	{ "mode x claim marks exactly one header", test_trust_modes },
	{ "verdict table", test_trust_verdict },
	{ "outbound strips marks, adds our claim", test_trust_outbound },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("trust", trust_tests)
