/* test_sa: address parsing, printing and comparison. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <CUnit/CUnit.h>

#include "net/sa.h"
#include "tests/testreg.h"

static void test_sa_parse(void)
{
	static const struct { const char *in; int err; const char *out; } cases[] = {
		{ "127.77.201.1:5061", 0, "127.77.201.1:5061" },
		{ "[::1]:5061", 0, "[::1]:5061" },
		{ "[fe80::1:2]:0", 0, "[fe80::1:2]:0" },
		{ "127.77.201.1", EINVAL, NULL },
		{ "::1:5061", EINVAL, NULL },
		{ "ap.contoso.test:5061", EINVAL, NULL },
		{ "127.0.0.1:65536", EINVAL, NULL },
		{ "127.0.0.1:-1", EINVAL, NULL },
		{ "127.0.0.1:", EINVAL, NULL },
		{ "[127.0.0.1]:5", EINVAL, NULL },
		{ "[::1]5061", EINVAL, NULL },
	};
	struct sockaddr_storage sa;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(sa_parse(&sa, cases[i].in), cases[i].err);
		if (!cases[i].err)
			CU_ASSERT_STRING_EQUAL(sa_fmt((struct sockaddr *)&sa, buf, sizeof(buf)),
					       cases[i].out);
	}
}

static void test_sa_misc(void)
{
	struct sockaddr_storage a, b;
	char buf[64];

	CU_ASSERT_TRUE(sa_is_ip("127.77.0.4"));
	CU_ASSERT_TRUE(sa_is_ip("::1"));
	CU_ASSERT_FALSE(sa_is_ip("sip.aol.test"));
	CU_ASSERT_FALSE(sa_is_ip(NULL));
	CU_ASSERT_EQUAL(sa_set(&a, "127.77.201.9", 5061), 0);
	CU_ASSERT_EQUAL(sa_set(&b, "nope", 5061), EINVAL);
	CU_ASSERT_EQUAL(sa_port((struct sockaddr *)&a), 5061);
	CU_ASSERT_EQUAL(sa_len((struct sockaddr *)&a), sizeof(struct sockaddr_in));
	CU_ASSERT_STRING_EQUAL(sa_ip((struct sockaddr *)&a, buf, sizeof(buf)), "127.77.201.9");
	sa_set(&b, "127.77.201.9", 5060);
	CU_ASSERT_FALSE(sa_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	sa_set_port(&b, 5061);
	CU_ASSERT_TRUE(sa_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	sa_set(&b, "::ffff:127.77.201.9", 5061);
	CU_ASSERT_FALSE(sa_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	CU_ASSERT_EQUAL(sa_len((struct sockaddr *)&b), sizeof(struct sockaddr_in6));
}

static CU_TestInfo sa_tests[] = {
	{ "parse and print", test_sa_parse },
	{ "helpers", test_sa_misc },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sa", sa_tests)
