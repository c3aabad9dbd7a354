/* test_apidoc: scenarios/README.md is the API's reference — every name the bindings register
 * (harness/lua_*.c luaL_Reg tables, the globals) has its row there, which the console's :help
 * and completion read. */
#include <CUnit/CUnit.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "tests/testreg.h"
#include "../apidoc.h"
#include "../scen_int.h"

static char apidoc_missing_list[4096];

static void test_missing(const char *cls, const char *name, void *arg)
{
	size_t n = strlen(apidoc_missing_list);

	snprintf(apidoc_missing_list + n, sizeof(apidoc_missing_list) - n, " %s:%s", cls, name);
}

static void test_readme_documents_every_binding(void)
{
	const char *root = getenv("PICLAB_ROOT") ? getenv("PICLAB_ROOT") : ".";
	struct apidoc *d = NULL;
	struct scen s;
	char path[1024];
	size_t missing;

	snprintf(path, sizeof(path), "%s/scenarios/README.md", root);
	CU_ASSERT_EQUAL_FATAL(apidoc_load(&d, path), 0);
	memset(&s, 0, sizeof(s));
	s.root = root;
	s.L = luaL_newstate();
	CU_ASSERT_PTR_NOT_NULL_FATAL(s.L);
	scen_open_lua(&s);
	apidoc_missing_list[0] = '\0';
	missing = apidoc_undocumented(d, s.L, test_missing, NULL);
	if (missing)
		fprintf(stderr, "\nnot in scenarios/README.md:%s\n", apidoc_missing_list);
	CU_ASSERT_EQUAL(missing, 0);
	/* and the reader finds what it must: a method, a field, a global */
	CU_ASSERT_TRUE(apidoc_has(d, "send_message"));
	CU_ASSERT_TRUE(apidoc_has(d, "enterprise"));
	CU_ASSERT_TRUE(apidoc_has(d, "expect_eq"));
	CU_ASSERT_FALSE(apidoc_has(d, "no_such_call"));
	lua_close(s.L);
	mem_deref(d);
}

static CU_TestInfo apidoc_tests[] = {
	{ "scenarios/README.md documents every registered binding",
	  test_readme_documents_every_binding },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("apidoc", apidoc_tests)
