/* test_txn: insert, lookup by (branch, method), retransmission, expiry after 64*T1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../txn/txn.h"

static uint64_t txn_test_now;

static uint64_t txn_test_clock(void)
{
	return txn_test_now;
}

static void test_txn_insert_lookup(void)
{
	struct txn_table *t = NULL;
	struct txn *x = NULL, *y = NULL;
	void *srv = mem_zalloc(8, NULL); /* stands for the server-side conn: only refcounted */
	size_t live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	txn_table_set_clock(t, txn_test_clock);
	CU_ASSERT_EQUAL(txn_insert(t, &x, "z9hG4bKaaa", "INVITE", srv, CONF_EXTERNAL, NULL,
				   "z9hG4bKtheirs", "sip.aol.test"), 0);
	CU_ASSERT_EQUAL(mem_nrefs(srv), 2);
	/* CANCEL shares the INVITE's branch but is its own transaction (RFC 3261 9.1) */
	CU_ASSERT_EQUAL(txn_insert(t, &y, "z9hG4bKaaa", "CANCEL", srv, CONF_EXTERNAL, NULL,
				   "z9hG4bKtheirs", "sip.aol.test"), 0);
	CU_ASSERT_PTR_NOT_EQUAL(x, y);
	CU_ASSERT_EQUAL(txn_count(t), 2);
	CU_ASSERT_PTR_EQUAL(txn_lookup(t, "z9hG4bKaaa", "INVITE"), x);
	CU_ASSERT_PTR_EQUAL(txn_lookup(t, "z9hG4bKaaa", "CANCEL"), y);
	CU_ASSERT_PTR_NULL(txn_lookup(t, "z9hG4bKaaa", "BYE"));
	CU_ASSERT_PTR_NULL(txn_lookup(t, "z9hG4bKbbb", "INVITE"));
	CU_ASSERT_PTR_EQUAL(txn_conn(x), srv);
	CU_ASSERT_EQUAL(txn_edge(x), CONF_EXTERNAL);
	CU_ASSERT_STRING_EQUAL(txn_branch(x), "z9hG4bKaaa");
	CU_ASSERT_STRING_EQUAL(txn_method(y), "CANCEL");
	CU_ASSERT_STRING_EQUAL(txn_via_branch(x), "z9hG4bKtheirs");
	CU_ASSERT_STRING_EQUAL(txn_via_host(x), "sip.aol.test");
	/* a retransmission finds the entry it already has */
	CU_ASSERT_EQUAL(txn_insert(t, &y, "z9hG4bKaaa", "INVITE", srv, CONF_INTERNAL, NULL, "",
				   ""), EEXIST);
	CU_ASSERT_PTR_EQUAL(y, x);
	CU_ASSERT_EQUAL(txn_count(t), 2);
	txn_remove(t, x);
	CU_ASSERT_PTR_NULL(txn_lookup(t, "z9hG4bKaaa", "INVITE"));
	CU_ASSERT_EQUAL(txn_count(t), 1);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_nrefs(srv), 1);
	CU_ASSERT_EQUAL(mem_live(), live);
	mem_deref(srv);
}

static void test_txn_expire(void)
{
	struct txn_table *t = NULL;
	struct txn *x = NULL;
	char branch[32];
	size_t live = mem_live(), i;

	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	txn_table_set_clock(t, txn_test_clock);
	txn_test_now = 1000;
	for (i = 0; i < 3000; i++) {
		snprintf(branch, sizeof(branch), "z9hG4bK%zu", i);
		if (i == 1500)
			txn_test_now += 10000; /* the second half is 10 s younger */
		CU_ASSERT_EQUAL(txn_insert(t, &x, branch, "MESSAGE", NULL, CONF_INTERNAL, NULL,
					   "b", "h"), 0);
	}
	CU_ASSERT_EQUAL(txn_count(t), 3000);
	txn_test_now = 1000 + TXN_LIFETIME_MS - 1;
	CU_ASSERT_EQUAL(txn_expire(t), 0);
	txn_test_now = 1000 + TXN_LIFETIME_MS;
	CU_ASSERT_EQUAL(txn_expire(t), 1500);       /* exactly 32 s: gone */
	CU_ASSERT_PTR_NULL(txn_lookup(t, "z9hG4bK0", "MESSAGE"));
	CU_ASSERT_PTR_NOT_NULL(txn_lookup(t, "z9hG4bK1500", "MESSAGE"));
	txn_test_now += 10000;
	CU_ASSERT_EQUAL(txn_expire(t), 1500);
	CU_ASSERT_EQUAL(txn_count(t), 0);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* An entry someone still holds survives removal from the table, then goes. */
static void test_txn_ref_outlives_table(void)
{
	struct txn_table *t = NULL;
	struct txn *x = NULL;
	size_t live = mem_live();

	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &x, "z9hG4bKk", "OPTIONS", NULL, CONF_INTERNAL, NULL,
				   NULL, NULL), 0);
	mem_ref(x);
	CU_ASSERT_TRUE(txn_is_live(x));
	mem_deref(t);
	CU_ASSERT_FALSE(txn_is_live(x));
	CU_ASSERT_STRING_EQUAL(txn_method(x), "OPTIONS");
	mem_deref(x);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static size_t txn_test_timeouts;
static char txn_test_last[64];

static void txn_test_timeout(struct txn *x, void *arg)
{
	txn_test_timeouts++;
	snprintf(txn_test_last, sizeof(txn_test_last), "%s %s", txn_branch(x), txn_method(x));
	CU_ASSERT_PTR_EQUAL(arg, &txn_test_timeouts);
	CU_ASSERT_TRUE(txn_is_live(x)); /* still there while the proxy answers 408 */
}

/* Timer F for non-INVITE, Timer C for INVITE; only unanswered entries time out (SIP-005). */
static void test_txn_timeouts(void)
{
	struct txn_table *t = NULL;
	struct txn *m = NULL, *answered = NULL, *inv = NULL, *cancel = NULL;
	size_t live = mem_live();

	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	txn_table_set_clock(t, txn_test_clock);
	txn_table_set_timers(t, 200, 1000);
	txn_table_set_timeout_handler(t, txn_test_timeout, &txn_test_timeouts);
	txn_test_now = 5000;
	txn_test_timeouts = 0;
	CU_ASSERT_EQUAL(txn_insert(t, &m, "z9hG4bKm", "MESSAGE", NULL, CONF_INTERNAL, NULL,
				   NULL, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &answered, "z9hG4bKa", "MESSAGE", NULL, CONF_INTERNAL,
				   NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &inv, "z9hG4bKi", "INVITE", NULL, CONF_EXTERNAL, NULL,
				   NULL, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &cancel, "z9hG4bKi", "CANCEL", NULL, CONF_EXTERNAL, NULL,
				   NULL, NULL), 0);
	txn_set_absorb(cancel);
	CU_ASSERT_TRUE(txn_absorbs(cancel));
	CU_ASSERT_FALSE(txn_absorbs(inv));
	/* CANCEL matching: same branch, INVITE method (RFC 3261 9.2) */
	CU_ASSERT_PTR_EQUAL(txn_lookup(t, "z9hG4bKi", "INVITE"), inv);
	txn_set_final(answered);
	txn_set_final(cancel);
	CU_ASSERT_TRUE(txn_has_final(answered));
	CU_ASSERT_FALSE(txn_has_final(m));
	CU_ASSERT_EQUAL(txn_set_hidden(m, "Via: SIP/2.0/TLS in;branch=z9hG4bKx\r\n", NULL), 0);
	CU_ASSERT_STRING_EQUAL(txn_hidden_vias(m), "Via: SIP/2.0/TLS in;branch=z9hG4bKx\r\n");
	CU_ASSERT_PTR_NULL(txn_hidden_rrs(m));
	CU_ASSERT_EQUAL(txn_set_dest(m, "sip.aol.test"), 0);
	CU_ASSERT_STRING_EQUAL(txn_dest(m), "sip.aol.test");
	txn_test_now = 5199;
	CU_ASSERT_EQUAL(txn_expire(t), 0);
	txn_test_now = 5200;
	CU_ASSERT_EQUAL(txn_expire(t), 3);  /* both MESSAGEs and the CANCEL */
	CU_ASSERT_EQUAL(txn_test_timeouts, 1);
	CU_ASSERT_STRING_EQUAL(txn_test_last, "z9hG4bKm MESSAGE");
	CU_ASSERT_PTR_NOT_NULL(txn_lookup(t, "z9hG4bKi", "INVITE"));
	txn_test_now = 6000;
	CU_ASSERT_EQUAL(txn_expire(t), 1);
	CU_ASSERT_EQUAL(txn_test_timeouts, 2);
	CU_ASSERT_STRING_EQUAL(txn_test_last, "z9hG4bKi INVITE");
	CU_ASSERT_EQUAL(txn_count(t), 0);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* RFC 3261 17.2.2: a retransmission on a new connection moves the answers there; once the
 * final response is sent the entry is compact (request and connection released, the response
 * kept) and lives only the absorption window, on its own FIFO queue. */
static void test_txn_retransmission_conn(void)
{
	struct txn_table *t = NULL;
	struct txn *x = NULL, *y = NULL;
	void *a = mem_zalloc(8, NULL), *b = mem_zalloc(8, NULL), *req = mem_zalloc(64, NULL);
	size_t len = 0;
	const char *rsp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	txn_table_set_clock(t, txn_test_clock);
	txn_table_set_done_timers(t, 300, 700);
	txn_test_now = 10000;
	CU_ASSERT_EQUAL_FATAL(txn_insert(t, &x, "z9hG4bKrtx", "MESSAGE", a, CONF_INTERNAL,
					 (struct sipmsg *)req, "z9hG4bKp", "pool.contoso.test"), 0);
	CU_ASSERT_EQUAL(txn_set_hidden(x, "Via: SIP/2.0/TLS pool\r\n", NULL), 0);
	CU_ASSERT_PTR_NULL(txn_response(x, &len));
	CU_ASSERT_FALSE(txn_is_complete(x));
	txn_set_conn(x, b);
	CU_ASSERT_PTR_EQUAL(txn_conn(x), b);
	CU_ASSERT_EQUAL(mem_nrefs(a), 1);
	CU_ASSERT_EQUAL(mem_nrefs(b), 2);
	CU_ASSERT_EQUAL(mem_nrefs(req), 2);
	/* an INVITE sent later, answered with a 2xx: nothing to repeat, kept 64*T1 (here 700) */
	CU_ASSERT_EQUAL_FATAL(txn_insert(t, &y, "z9hG4bKinv", "INVITE", a, CONF_INTERNAL, NULL,
					 NULL, NULL), 0);
	CU_ASSERT_EQUAL(txn_pending(t), 2);
	txn_test_now = 20000; /* answered 10 s later: the window starts at the answer */
	txn_complete(x, 200, "SIP/2.0 200 OK\r\n\r\n", 19);
	txn_complete(x, 202, "SIP/2.0 202 Accepted\r\n\r\n", 25); /* only the first counts */
	txn_complete(y, 200, "SIP/2.0 200 OK\r\n\r\n", 19);
	CU_ASSERT_TRUE(txn_is_complete(x));
	CU_ASSERT_TRUE(txn_has_final(x));
	CU_ASSERT_EQUAL(txn_pending(t), 0);
	CU_ASSERT_EQUAL(txn_count(t), 2);
	rsp = txn_response(x, &len);
	CU_ASSERT_EQUAL(len, 19);
	CU_ASSERT(rsp && !strncmp(rsp, "SIP/2.0 200", 11));
	CU_ASSERT_PTR_NULL(txn_response(y, NULL));
	CU_ASSERT_PTR_NULL(txn_request(x));
	CU_ASSERT_PTR_NULL(txn_conn(x));
	CU_ASSERT_PTR_NULL(txn_hidden_vias(x));
	CU_ASSERT_PTR_EQUAL(txn_conn(y), a); /* 2xx retransmissions still go upstream */
	CU_ASSERT_EQUAL(mem_nrefs(b), 1);
	CU_ASSERT_EQUAL(mem_nrefs(req), 1);
	txn_set_conn(x, b); /* a retransmission after the answer takes no connection */
	CU_ASSERT_EQUAL(mem_nrefs(b), 1);
	txn_test_now = 20299;
	CU_ASSERT_EQUAL(txn_expire(t), 0);
	txn_test_now = 20300;
	CU_ASSERT_EQUAL(txn_expire(t), 1);
	CU_ASSERT_PTR_NULL(txn_lookup(t, "z9hG4bKrtx", "MESSAGE"));
	CU_ASSERT_PTR_EQUAL(txn_lookup(t, "z9hG4bKinv", "INVITE"), y);
	txn_test_now = 20700;
	CU_ASSERT_EQUAL(txn_expire(t), 1);
	CU_ASSERT_EQUAL(txn_count(t), 0);
	CU_ASSERT_EQUAL(mem_nrefs(a), 1);
	mem_deref(t);
	mem_deref(a);
	mem_deref(b);
	mem_deref(req);
}

/* A final response over TXN_RSP_MAX is not kept; a non-2xx to an INVITE is. */
static void test_txn_complete_bounds(void)
{
	struct txn_table *t = NULL;
	struct txn *x = NULL, *y = NULL;
	static char big[TXN_RSP_MAX + 2];
	size_t live = mem_live(), len = 0;

	memset(big, 'x', sizeof(big) - 1);
	CU_ASSERT_EQUAL_FATAL(txn_table_alloc(&t, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &x, "z9hG4bKbig", "MESSAGE", NULL, CONF_EXTERNAL, NULL,
				   NULL, NULL), 0);
	CU_ASSERT_EQUAL(txn_insert(t, &y, "z9hG4bKrej", "INVITE", NULL, CONF_EXTERNAL, NULL,
				   NULL, NULL), 0);
	txn_complete(x, 200, big, sizeof(big) - 1);
	txn_complete(y, 486, "SIP/2.0 486 Busy Here\r\n\r\n", 25);
	CU_ASSERT_TRUE(txn_is_complete(x));
	CU_ASSERT_PTR_NULL(txn_response(x, &len));
	CU_ASSERT_PTR_NOT_NULL(txn_response(y, &len));
	CU_ASSERT_EQUAL(len, 25);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo txn_tests[] = {
	{ "retransmission on a new connection, compact after the answer",
	  test_txn_retransmission_conn },
	{ "kept final response bounded; INVITE keeps a non-2xx", test_txn_complete_bounds },
	{ "timers F and C, CANCEL matching, 408 hook", test_txn_timeouts },
	{ "insert and lookup", test_txn_insert_lookup },
	{ "expiry after 64*T1", test_txn_expire },
	{ "entry outlives its table", test_txn_ref_outlives_table },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("txn", txn_tests)
