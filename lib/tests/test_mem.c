/* test_mem: refcounting, destructor order and the live-block counter. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/mem.h"
#include "tests/testreg.h"

static char mem_trail[16];
static size_t mem_ntrail;

struct mem_node {
	char tag;
	struct mem_node *child;
};

static void mem_node_destroy(void *data)
{
	struct mem_node *n = data;

	mem_trail[mem_ntrail++] = n->tag;
	n->child = mem_deref(n->child);
}

static struct mem_node *mem_node(char tag, struct mem_node *child)
{
	struct mem_node *n = mem_zalloc(sizeof(*n), mem_node_destroy);

	if (n) {
		n->tag = tag;
		n->child = child;
	}
	return n;
}

static void test_mem_refcount(void)
{
	size_t live = mem_live();
	struct mem_node *n = mem_node('a', NULL);
	unsigned char *z;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(mem_live(), live + 1);
	CU_ASSERT_EQUAL(mem_nrefs(n), 1);
	CU_ASSERT_PTR_EQUAL(mem_ref(n), n);
	CU_ASSERT_EQUAL(mem_nrefs(n), 2);
	mem_ntrail = 0;
	CU_ASSERT_PTR_NULL(mem_deref(n));
	CU_ASSERT_EQUAL(mem_ntrail, 0);
	CU_ASSERT_EQUAL(mem_live(), live + 1);
	mem_deref(n);
	CU_ASSERT_EQUAL(mem_ntrail, 1);
	CU_ASSERT_EQUAL(mem_live(), live);
	CU_ASSERT_PTR_NULL(mem_ref(NULL));
	CU_ASSERT_PTR_NULL(mem_deref(NULL));
	CU_ASSERT_EQUAL(mem_nrefs(NULL), 0);

	/* zeroed and aligned for any type */
	z = mem_zalloc(100, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	CU_ASSERT_EQUAL((uintptr_t)z % _Alignof(max_align_t), 0);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(z[i], 0);
	mem_deref(z);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* A parent's destructor runs before the children it releases, and a child shared by someone
 * else outlives the parent. */
static void test_mem_destructor_order(void)
{
	size_t live = mem_live();
	struct mem_node *c = mem_node('c', NULL);
	struct mem_node *b = mem_node('b', c);
	struct mem_node *a = mem_node('a', b);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	mem_ntrail = 0;
	memset(mem_trail, 0, sizeof(mem_trail));
	mem_deref(a);
	CU_ASSERT_STRING_EQUAL(mem_trail, "abc");
	CU_ASSERT_EQUAL(mem_live(), live);

	c = mem_node('c', NULL);
	b = mem_node('b', mem_ref(c));
	mem_ntrail = 0;
	memset(mem_trail, 0, sizeof(mem_trail));
	mem_deref(b);
	CU_ASSERT_STRING_EQUAL(mem_trail, "b");
	CU_ASSERT_EQUAL(mem_nrefs(c), 1);
	mem_deref(c);
	CU_ASSERT_STRING_EQUAL(mem_trail, "bc");
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_mem_strdup(void)
{
	size_t live = mem_live();
	char *s = mem_strdup("sip:alice@contoso.test");
	char *t = mem_strndup("alice@contoso", 5);
	char *u = mem_strndup("ab", 10);

	CU_ASSERT_STRING_EQUAL(s, "sip:alice@contoso.test");
	CU_ASSERT_STRING_EQUAL(t, "alice");
	CU_ASSERT_STRING_EQUAL(u, "ab");
	CU_ASSERT_PTR_NULL(mem_strdup(NULL));
	CU_ASSERT_EQUAL(mem_live(), live + 3);
	mem_deref(s);
	mem_deref(t);
	mem_deref(u);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo mem_tests[] = {
	{ "refcount", test_mem_refcount },
	{ "destructor order", test_mem_destructor_order },
	{ "strdup", test_mem_strdup },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("mem", mem_tests)
