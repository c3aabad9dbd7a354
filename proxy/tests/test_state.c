/* test_state: the snapshot: duplicates refused, case-insensitive lookups, the enabled count. */
#include <errno.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../state/state.h"

static void test_state_rules(void)
{
	static const char *const d1[] = { "aol.test" };
	static const char *const d2[] = { "AOL.test" };
	struct state_provider p = { .name = "aol", .fqdn = "sip.aol.test", .port = 5061,
				    .domains = d1, .ndomains = 1 };
	struct state_provider q = p;
	size_t live = mem_live();
	struct state *st = NULL;

	CU_ASSERT_EQUAL_FATAL(state_alloc(&st), 0);
	CU_ASSERT_EQUAL(state_add_provider(st, &p), 0);
	q.name = "AOL2";
	q.fqdn = "SIP.AOL.TEST";
	CU_ASSERT_EQUAL(state_add_provider(st, &q), EEXIST);       /* same FQDN */
	q.fqdn = "sip.other.test";
	q.domains = d2;
	CU_ASSERT_EQUAL(state_add_provider(st, &q), EEXIST);       /* same domain */
	q.name = "Aol";
	q.domains = NULL;
	q.ndomains = 0;
	CU_ASSERT_EQUAL(state_add_provider(st, &q), EEXIST);       /* same name */
	q.fqdn = "";
	q.name = "x";
	CU_ASSERT_EQUAL(state_add_provider(st, &q), EINVAL);
	CU_ASSERT_EQUAL(state_add_domain(st, "contoso.test"), 0);
	CU_ASSERT_EQUAL(state_add_domain(st, "CONTOSO.test"), EEXIST);
	CU_ASSERT_TRUE(state_is_our_domain(st, "Contoso.Test"));
	CU_ASSERT_PTR_NOT_NULL(state_provider_by_fqdn(st, "Sip.Aol.Test"));
	CU_ASSERT_PTR_NOT_NULL(state_provider_by_domain(st, "AOL.TEST"));
	CU_ASSERT_PTR_NOT_NULL(state_provider_by_name(st, "AoL"));
	CU_ASSERT_EQUAL(state_set_user(st, "alice@contoso.test", true), 0);
	CU_ASSERT_EQUAL(state_set_user(st, "bob@contoso.test", true), 0);
	CU_ASSERT_EQUAL(state_set_user(st, "BOB@contoso.test", false), 0);
	CU_ASSERT_EQUAL(state_set_user(st, "noat", true), EINVAL);
	CU_ASSERT_EQUAL(state_users_enabled(st), 1);
	CU_ASSERT_EQUAL(state_user_count(st), 2);
	CU_ASSERT_TRUE(state_user_enabled(st, "ALICE@contoso.test"));
	CU_ASSERT_FALSE(state_user_enabled(st, "carol@contoso.test"));
	CU_ASSERT_EQUAL(state_set_user_archive(st, "carol@contoso.test", true), 0);
	CU_ASSERT_TRUE(state_user_archive(st, "Carol@contoso.test"));
	CU_ASSERT_FALSE(state_user_enabled(st, "carol@contoso.test"));
	CU_ASSERT_EQUAL(state_users_enabled(st), 1);
	mem_deref(st);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo state_tests[] = {
	{ "duplicates refused, case-insensitive lookups, enabled count", test_state_rules },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("state", state_tests);
