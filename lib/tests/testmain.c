/* testmain: the CUnit runner shared by every test binary; prints CUnit's summary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "tests/testreg.h"

#define TESTREG_MAX 128

struct testreg_entry {
	const char *name;
	CU_TestInfo *tests;
	CU_InitializeFunc init;
	CU_CleanupFunc clean;
};

static struct testreg_entry testreg_tab[TESTREG_MAX];
static int testreg_n;

void testreg_add(const char *name, CU_TestInfo *tests, CU_InitializeFunc init,
		 CU_CleanupFunc clean)
{
	if (testreg_n == TESTREG_MAX) {
		fprintf(stderr, "testreg: more than %d suites\n", TESTREG_MAX);
		abort();
	}
	testreg_tab[testreg_n++] = (struct testreg_entry){ name, tests, init, clean };
}

/* Runs every registered suite (or only those named on the command line); exit 1 on failure. */
int main(int argc, char **argv)
{
	unsigned failed;
	int i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (i = 0; i < testreg_n; i++) {
		CU_pSuite s;
		int j, want = argc < 2;
		CU_TestInfo *t;

		for (j = 1; j < argc; j++)
			want |= strcmp(argv[j], testreg_tab[i].name) == 0;
		if (!want)
			continue;
		s = CU_add_suite(testreg_tab[i].name, testreg_tab[i].init, testreg_tab[i].clean);
		if (!s)
			return 2;
		for (t = testreg_tab[i].tests; t->pName; t++)
			CU_add_test(s, t->pName, t->pTestFunc);
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
