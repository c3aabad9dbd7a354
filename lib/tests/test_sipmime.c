/* test_sipmime: multipart bodies libosip2 must not see (a body part with two Content-Types),
 * and the ones it may, through sipmsg_decode as the proxy calls it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/mem.h"
#include "sip/sipmime.h"
#include "sip/sipmsg.h"
#include "tests/testreg.h"

#define HEAD "MESSAGE sip:b@example.org SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n" \
	     "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.org>\r\nCall-ID: c1\r\n" \
	     "CSeq: 1 MESSAGE\r\n"

static const struct { const char *name, *msg; bool dup; } mime_cases[] = {
	{ "one type per part", HEAD "Content-Type: multipart/mixed;boundary=X\r\n\r\n"
	  "--X\r\nContent-Type: text/plain\r\n\r\nhi\r\n--X\r\nContent-Type: text/html\r\n\r\n"
	  "<b>hi</b>\r\n--X--\r\n", false },
	{ "two types in a part", HEAD "Content-Type: multipart/mixed;boundary=X\r\n\r\n"
	  "--X\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nhi\r\n--X--\r\n",
	  true },
	{ "any case, blank before colon", HEAD "c: Multipart/Related;boundary=X\r\n\r\n"
	  "--X\r\ncontent-type: a/b\r\nCONTENT-TYPE : c/d\r\n\r\nhi\r\n--X--\r\n", true },
	{ "libosip2 matches the name's first 12 bytes", HEAD "Content-Type: multipart/mixed;"
	  "boundary=X\r\n\r\n--X\r\nContent-Type: a/b\r\ncontent-typesfer-Encoding: binary\r\n"
	  "\r\nhi\r\n--X--\r\n", true },
	{ "LF only", HEAD "Content-Type: multipart/mixed;boundary=X\n\n"
	  "--X\nContent-Type: a/b\nContent-Type: c/d\n\nhi\n--X--\n", true },
	{ "two in a text body are text", HEAD "Content-Type: text/plain\r\n\r\n"
	  "--X\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\n", false },
	{ "a part's body may say it", HEAD "Content-Type: multipart/mixed;boundary=X\r\n\r\n"
	  "--X\r\nContent-Type: text/plain\r\n\r\nContent-Type: a\r\nContent-Type: b\r\n--X--\r\n",
	  false },
	{ "no body", HEAD "Content-Type: multipart/mixed;boundary=X\r\n\r\n", false },
};

static void test_sipmime_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(mime_cases) / sizeof(mime_cases[0]); i++) {
		bool got = sipmime_dup_part_type(mime_cases[i].msg, strlen(mime_cases[i].msg));

		if (got != mime_cases[i].dup)
			fprintf(stderr, "\n  case '%s': got %d\n", mime_cases[i].name, got);
		CU_ASSERT_EQUAL(got, mime_cases[i].dup);
	}
}

/* The refusal happens where the proxy decodes; a good multipart still decodes. */
static void test_sipmime_decode(void)
{
	struct sipmsg *m = NULL;
	const char *dup = mime_cases[1].msg, *good = mime_cases[0].msg;
	char buf[1024];

	snprintf(buf, sizeof(buf), "%.*sContent-Length: %zu\r\n%s", (int)(strstr(dup, "\r\n\r\n") -
		 dup + 2), dup, strlen(strstr(dup, "\r\n\r\n") + 4), strstr(dup, "\r\n\r\n") + 2);
	CU_ASSERT_EQUAL(sipmsg_decode(&m, buf, strlen(buf)), EBADMSG);
	snprintf(buf, sizeof(buf), "%.*sContent-Length: %zu\r\n%s", (int)(strstr(good,
		 "\r\n\r\n") - good + 2), good, strlen(strstr(good, "\r\n\r\n") + 4),
		 strstr(good, "\r\n\r\n") + 2);
	CU_ASSERT_EQUAL(sipmsg_decode(&m, buf, strlen(buf)), 0);
	mem_deref(m);
}

static CU_TestInfo sipmime_tests[] = {
	{ "duplicate part Content-Type table", test_sipmime_table },
	{ "refused where the proxy decodes", test_sipmime_decode },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sipmime", sipmime_tests);
