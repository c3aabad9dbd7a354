/* test_rate: token buckets per peer (ROB-004): burst, refill, isolation, Retry-After. */
#include <stdio.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../tp/rate.h"

static uint64_t rate_test_now;

static uint64_t rate_test_clock(void)
{
	return rate_test_now;
}

static void test_rate_buckets(void)
{
	struct rate *r = NULL;
	unsigned i, ok = 0, retry = 0;
	size_t live = mem_live();

	CU_ASSERT_EQUAL_FATAL(rate_alloc(&r, 10, 20), 0);
	rate_set_clock(r, rate_test_clock);
	rate_test_now = 1000;
	for (i = 0; i < 50; i++)
		ok += rate_take(r, "sip.aol.test", NULL);
	CU_ASSERT_EQUAL(ok, 20);                      /* the burst, then nothing */
	CU_ASSERT_FALSE(rate_take(r, "sip.aol.test", &retry));
	CU_ASSERT_EQUAL(retry, 1);
	CU_ASSERT_TRUE(rate_take(r, "sip.yahoo.test", NULL)); /* others unaffected */
	rate_test_now += 500;                         /* half a second: 5 tokens back */
	for (i = 0, ok = 0; i < 50; i++)
		ok += rate_take(r, "sip.aol.test", NULL);
	CU_ASSERT_EQUAL(ok, 5);
	rate_test_now += 100000;                      /* refill caps at the burst */
	for (i = 0, ok = 0; i < 50; i++)
		ok += rate_take(r, "sip.aol.test", NULL);
	CU_ASSERT_EQUAL(ok, 20);
	mem_deref(r);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Memory stays bounded however many keys a flood invents. */
static void test_rate_bounded(void)
{
	struct rate *r = NULL;
	char key[32];
	unsigned i;
	size_t live = mem_live();

	CU_ASSERT_EQUAL_FATAL(rate_alloc(&r, 1, 1), 0);
	rate_set_clock(r, rate_test_clock);
	for (i = 0; i < RATE_MAX_KEYS + 500; i++) {
		snprintf(key, sizeof(key), "10.0.%u.%u", i / 256, i % 256);
		CU_ASSERT_TRUE(rate_take(r, key, NULL));
	}
	CU_ASSERT_TRUE(mem_live() <= live + RATE_MAX_KEYS + 8);
	mem_deref(r);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo rate_tests[] = {
	{ "burst, refill, isolation", test_rate_buckets },
	{ "bounded keys", test_rate_bounded },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("rate", rate_tests)
