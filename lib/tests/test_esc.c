/* test_esc: untrusted bytes made printable for logs, quoted-strings and echoed headers. */
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/esc.h"
#include "tests/testreg.h"

static void test_esc_log(void)
{
	static const struct { const char *in; size_t n; const char *out; } cases[] = {
		{ "plain text", (size_t)-1, "plain text" },
		{ "\x1b[31mred", (size_t)-1, "\\x1b[31mred" },
		{ "a\bb\x7f", (size_t)-1, "a\\x08b\\x7f" },
		{ "line\r\nforged", (size_t)-1, "line\\x0d\\x0aforged" },
		{ "back\\slash", (size_t)-1, "back\\\\slash" },
		{ "\xc0\xff", (size_t)-1, "\\xc0\\xff" },
		{ "nul\0after", 9, "nul\\x00after" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		esc_log(out, sizeof(out), cases[i].in, cases[i].n);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
	/* truncation never cuts an escape in half */
	CU_ASSERT_EQUAL(esc_log(out, 6, "ab\x1b", (size_t)-1), 2);
	CU_ASSERT_STRING_EQUAL(out, "ab");
}

static void test_esc_qtext(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "bad Via host", "bad Via host" },
		{ "say \"hi\"", "say 'hi'" },
		{ "esc \x1b[2J", "esc %1B[2J" },
		{ "8bit \xc3\xa9 \\", "8bit %C3%A9 %5C" },
		{ "100%", "100%25" },
	};
	char out[64];
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		esc_qtext(out, sizeof(out), cases[i].in);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
		for (j = 0; out[j]; j++) /* RFC 3261 25.1 qdtext, no quoted-pair */
			CU_ASSERT(esc_is_print((unsigned char)out[j]) && out[j] != '"' &&
				  out[j] != '\\');
	}
}

static void test_esc_hdr(void)
{
	CU_ASSERT_EQUAL(esc_hdr_byte('a'), 'a');
	CU_ASSERT_EQUAL(esc_hdr_byte('\t'), '\t');
	CU_ASSERT_EQUAL(esc_hdr_byte('\r'), ' ');
	CU_ASSERT_EQUAL(esc_hdr_byte(0), '?');
	CU_ASSERT_EQUAL(esc_hdr_byte(0x1b), '?');
	CU_ASSERT_EQUAL(esc_hdr_byte(0x7f), '?');
	CU_ASSERT_EQUAL(esc_hdr_byte(0xc0), '?');
}

static CU_TestInfo esc_tests[] = {
	{ "log", test_esc_log },
	{ "qtext", test_esc_qtext },
	{ "hdr", test_esc_hdr },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("esc", esc_tests)
