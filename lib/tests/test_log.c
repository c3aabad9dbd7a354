/* test_log: level parsing, filtering and the line format. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/log.h"
#include "tests/testreg.h"

#define LOG_MODULE "testlog"

static void test_log_lines(void)
{
	enum log_level old = log_get_level(), l;
	char line[256] = "";
	unsigned long long ms;
	char level[16], prefix[32], module[32], rest[64];
	FILE *f = tmpfile();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(log_level_parse("warn", &l), 0);
	CU_ASSERT_EQUAL(l, LOGL_WARN);
	CU_ASSERT_EQUAL(log_level_parse("DEBUG", &l), 0);
	CU_ASSERT_EQUAL(l, LOGL_DEBUG);
	CU_ASSERT_EQUAL(log_level_parse("loud", &l), EINVAL);

	log_set_file(f);
	log_set_prefix("accessproxy[7]");
	log_set_level(LOGL_WARN);
	log_info("dropped %d", 1);
	log_warn("kept %s", "this");
	log_warn("peer said %s", "\x1b[2Jgone\r\nFAKE line\xc0");
	log_set_file(NULL);
	log_set_prefix(NULL);
	log_set_level(old);

	rewind(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
	CU_ASSERT_EQUAL(sscanf(line, "%llu %15s %31s %31s %63[^\n]", &ms, level, prefix, module,
			       rest), 5);
	CU_ASSERT_STRING_EQUAL(level, "WARN");
	CU_ASSERT_STRING_EQUAL(prefix, "accessproxy[7]");
	CU_ASSERT_STRING_EQUAL(module, "testlog:");
	CU_ASSERT_STRING_EQUAL(rest, "kept this");
	CU_ASSERT(ms > 1600000000000ULL);
	/* a peer's bytes cannot forge a line or reach the terminal raw */
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "peer said \\x1b[2Jgone\\x0d\\x0aFAKE line\\xc0\n"));
	CU_ASSERT_PTR_NULL(fgets(line, sizeof(line), f));
	fclose(f);
}

static CU_TestInfo log_tests[] = {
	{ "lines", test_log_lines },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("log", log_tests)
