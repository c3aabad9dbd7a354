/* test_hmap: insert, find (exact and case-folded), unlink, growth past many entries. */
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../hmap/hmap.h"

struct hmap_item {
	struct hmap_le le;
	char key[16];
};

static void test_hmap_basic(void)
{
	static struct hmap_item items[5000];
	struct hmap *m = NULL;
	size_t i, live = mem_live();

	CU_ASSERT_EQUAL_FATAL(hmap_alloc(&m, 4), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(items[i].key, sizeof(items[i].key), "k%zu", i);
		CU_ASSERT_EQUAL(hmap_insert(m, &items[i].le, items[i].key, &items[i]), 0);
	}
	CU_ASSERT_EQUAL(hmap_count(m), 5000);
	CU_ASSERT_PTR_EQUAL(hmap_find(m, "k4999"), &items[4999]);
	CU_ASSERT_PTR_EQUAL(hmap_find(m, "k0"), &items[0]);
	CU_ASSERT_PTR_NULL(hmap_find(m, "K0")); /* case matters unless asked */
	CU_ASSERT_PTR_NULL(hmap_find(m, "k5000"));
	hmap_unlink(m, &items[17].le);
	hmap_unlink(m, &items[17].le); /* twice is harmless */
	CU_ASSERT_PTR_NULL(hmap_find(m, "k17"));
	CU_ASSERT_EQUAL(hmap_count(m), 4999);
	mem_deref(m);

	CU_ASSERT_EQUAL_FATAL(hmap_alloc(&m, 16), 0);
	hmap_set_nocase(m);
	CU_ASSERT_EQUAL(hmap_insert(m, &items[0].le, "Sip.AOL.test", &items[0]), 0);
	CU_ASSERT_PTR_EQUAL(hmap_find(m, "sip.aol.TEST"), &items[0]);
	mem_deref(m);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo hmap_tests[] = {
	{ "insert find unlink grow", test_hmap_basic },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("hmap", hmap_tests)
