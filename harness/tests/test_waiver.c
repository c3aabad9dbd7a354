/* test_waiver: a waiver names a transaction or a flow, never a whole scenario. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "../decode/capdec.h"
#include "../invariant.h"
#include "tests/testreg.h"
#include "../waiver.h"

static void tw_addr(struct sockaddr_storage *ss, const char *ip, unsigned short port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	inet_pton(AF_INET, ip, &in->sin_addr);
}

static int tw_add(struct waivers *ws, const char *inv, const char *cid, const char *method,
		  long cseq, const char *flow, const char *why)
{
	char err[300];

	return waiver_add(ws, inv, cid, method, cseq, flow, why, err, sizeof(err));
}

static void test_refused(void)
{
	struct waivers ws = { .n = 0 };

	CU_ASSERT_EQUAL(tw_add(&ws, "transactions-end", NULL, NULL, -1, NULL, "all"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "no-such-rule", "x", NULL, -1, NULL, "why"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "transactions-end", "x", NULL, -1, NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "transactions-end", NULL, "MESSAGE", -1, NULL, "w"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "decrypted", "x", NULL, -1, NULL, "w"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "well-formed", NULL, NULL, -1, "sip.aol.test -> nowhere.test",
			       "w"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "well-formed", NULL, NULL, -1, "* -> *", "w"), EINVAL);
	CU_ASSERT_EQUAL(tw_add(&ws, "well-formed", NULL, NULL, -1, "sip.aol.test", "w"), EINVAL);
	CU_ASSERT_EQUAL(ws.n, 0);
}

static void test_transaction(void)
{
	struct waivers ws = { .n = 0 };
	struct capdec_sip m = { .flow = 0 };

	CU_ASSERT_EQUAL(tw_add(&ws, "transactions-end", "probe-*", NULL, -1, NULL, "w"), 0);
	CU_ASSERT_EQUAL(tw_add(&ws, "transactions-end", NULL, "MESSAGE", 7, NULL, "w"), 0);
	CU_ASSERT_TRUE(waiver_msg(&ws, INV_TXN_END, NULL, &m, "probe-1@x", "MESSAGE", 1));
	CU_ASSERT_FALSE(waiver_msg(&ws, INV_TXN_END, NULL, &m, "other@x", "MESSAGE", 1));
	CU_ASSERT_FALSE(waiver_msg(&ws, INV_WELL_FORMED, NULL, &m, "probe-1@x", "MESSAGE", 1));
	CU_ASSERT_TRUE(waiver_msg(&ws, INV_TXN_END, NULL, &m, "other@x", "message", 7));
	CU_ASSERT_FALSE(waiver_msg(&ws, INV_TXN_END, NULL, &m, "other@x", "MESSAGE", 8));
	CU_ASSERT_FALSE(waiver_msg(&ws, INV_TXN_END, NULL, &m, "other@x", "INVITE", 7));
	CU_ASSERT_FALSE(waiver_msg(&ws, INV_TXN_END, NULL, &m, NULL, NULL, -1));
	CU_ASSERT_EQUAL(ws.w[0].used, 1);
	CU_ASSERT_EQUAL(ws.w[1].used, 1);
}

static void test_flow(void)
{
	struct waivers ws = { .n = 0 };
	struct capdec_flow f = { .id = 0 }, back = { .id = 1 }, other = { .id = 2 };

	CU_ASSERT_EQUAL(tw_add(&ws, "external-tls-only", NULL, NULL, -1,
			       "sip.aol.test -> ap.contoso.test", "w"), 0);
	tw_addr(&f.client, "127.77.9.10", 40000);
	tw_addr(&f.server, "127.77.9.4", 5061);
	tw_addr(&back.client, "127.77.9.4", 40001);
	tw_addr(&back.server, "127.77.9.10", 5061);
	tw_addr(&other.client, "127.77.9.11", 40002);
	tw_addr(&other.server, "127.77.9.4", 5061);
	CU_ASSERT_TRUE(waiver_flow(&ws, INV_EXTERNAL_TLS, &f));
	CU_ASSERT_FALSE(waiver_flow(&ws, INV_EXTERNAL_TLS, &back));
	CU_ASSERT_FALSE(waiver_flow(&ws, INV_EXTERNAL_TLS, &other));
	CU_ASSERT_FALSE(waiver_flow(&ws, INV_DECRYPTED, &f));
}

static CU_TestInfo waiver_tests[] = {
	{ "waivers naming nothing or nonsense are refused", test_refused },
	{ "a transaction by Call-ID (prefix) or by method and CSeq", test_transaction },
	{ "a flow by client and server host", test_flow },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("waiver", waiver_tests)
