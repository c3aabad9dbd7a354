/* test_ldlat: nearest-rank percentiles, the sample cap, an empty recorder, a reset. */
#include "tests/testreg.h"
#include "base/mem.h"
#include "../load/ldlat.h"

static void test_ldlat_quantiles(void)
{
	struct ldlat *l = NULL;
	size_t live = mem_live();
	uint64_t i;

	CU_ASSERT_EQUAL_FATAL(ldlat_alloc(&l, 1000000), 0);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.5), 0);
	/* 1..100 in a scrambled order: the p-th percentile is p */
	for (i = 0; i < 100; i++)
		ldlat_add(l, (i * 37) % 100 + 1);
	CU_ASSERT_EQUAL(ldlat_count(l), 100);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.50), 50);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.90), 90);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.99), 99);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 1.0), 100);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.0), 1);
	CU_ASSERT_EQUAL(ldlat_max(l), 100);
	/* adding after a sort sorts again */
	ldlat_add(l, 1000);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 1.0), 1000);
	mem_deref(l);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_ldlat_cap(void)
{
	struct ldlat *l = NULL;
	uint64_t i;

	CU_ASSERT_EQUAL(ldlat_alloc(&l, 0), EINVAL);
	CU_ASSERT_EQUAL_FATAL(ldlat_alloc(&l, 10), 0);
	for (i = 1; i <= 20; i++)
		ldlat_add(l, i);
	/* all counted, the first ten kept, the max seen over all */
	CU_ASSERT_EQUAL(ldlat_count(l), 20);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 1.0), 10);
	CU_ASSERT_EQUAL(ldlat_max(l), 20);
	mem_deref(l);
}

/* An interval starts empty: nothing of the last one in its count, percentiles or max. */
static void test_ldlat_reset(void)
{
	struct ldlat *l = NULL;
	uint64_t i;

	CU_ASSERT_EQUAL_FATAL(ldlat_alloc(&l, 1000), 0);
	for (i = 1; i <= 100; i++)
		ldlat_add(l, 1000 + i);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.5), 1050);
	ldlat_reset(l);
	CU_ASSERT_EQUAL(ldlat_count(l), 0);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.5), 0);
	CU_ASSERT_EQUAL(ldlat_max(l), 0);
	for (i = 1; i <= 10; i++)
		ldlat_add(l, i);
	CU_ASSERT_EQUAL(ldlat_count(l), 10);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 0.5), 5);
	CU_ASSERT_EQUAL(ldlat_quantile(l, 1.0), 10);
	CU_ASSERT_EQUAL(ldlat_max(l), 10);
	mem_deref(l);
}

static CU_TestInfo ldlat_tests[] = {
	{ "quantiles", test_ldlat_quantiles },
	{ "cap", test_ldlat_cap },
	{ "reset between intervals", test_ldlat_reset },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("ldlat", ldlat_tests);
