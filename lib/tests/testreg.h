/* testreg: CUnit suites register themselves at load time; testmain.c runs them all. */
#ifndef PIC_TESTREG_H
#define PIC_TESTREG_H

#include <CUnit/CUnit.h>

void testreg_add(const char *name, CU_TestInfo *tests, CU_InitializeFunc init,
		 CU_CleanupFunc clean);

/* TEST_SUITE("sipframe", sipframe_tests) after a NULL-terminated CU_TestInfo array. */
#define TEST_SUITE(name, tests) \
	static void __attribute__((constructor)) testreg_ctor_##tests(void) \
	{ testreg_add(name, tests, NULL, NULL); }
#define TEST_SUITE_FIX(name, tests, init, clean) \
	static void __attribute__((constructor)) testreg_ctor_##tests(void) \
	{ testreg_add(name, tests, init, clean); }

#endif
