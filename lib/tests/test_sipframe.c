/* test_sipframe: stream framing (RFC 3261 18.3) over whole, split and joined buffers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "sip/sipframe.h"
#include "tests/testreg.h"

#define MSG_MESSAGE \
	"MESSAGE sip:bob@aol.test SIP/2.0\r\n" \
	"Via: SIP/2.0/TLS ap.contoso.test:5061;branch=z9hG4bK776asdhds\r\n" \
	"Max-Forwards: 70\r\n" \
	"From: <sip:alice@contoso.test>;tag=1928301774\r\n" \
	"To: <sip:bob@aol.test>\r\n" \
	"Call-ID: a84b4c76e66710@pc33.contoso.test\r\n" \
	"CSeq: 1 MESSAGE\r\n" \
	"Content-Type: text/plain\r\n" \
	"Content-Length: 5\r\n" \
	"\r\n" \
	"hello"

#define MSG_RESPONSE \
	"SIP/2.0 200 OK\r\n" \
	"Via: SIP/2.0/TLS ap.contoso.test:5061;branch=z9hG4bK776asdhds\r\n" \
	"CSeq: 1 MESSAGE\r\n" \
	"l: 0\r\n" \
	"\r\n"

struct frame_case {
	const char *name;
	const char *data;
	size_t len;      /* 0: strlen(data) */
	int err;
	size_t skip;
	size_t msglen;   /* 0: the whole input */
};

static const struct frame_case frame_cases[] = {
	{ "whole message", MSG_MESSAGE, 0, 0, 0, sizeof(MSG_MESSAGE) - 1 },
	{ "response, compact l", MSG_RESPONSE, 0, 0, 0, sizeof(MSG_RESPONSE) - 1 },
	{ "two messages: first one", MSG_MESSAGE MSG_RESPONSE, 0, 0, 0,
	  sizeof(MSG_MESSAGE) - 1 },
	{ "keep-alive CRLFs before", "\r\n\r\n\r\n" MSG_RESPONSE, 0, 0, 6,
	  sizeof(MSG_RESPONSE) - 1 },
	{ "only keep-alives", "\r\n\r\n", 0, EAGAIN, 4, 0 },
	{ "empty", "", 0, EAGAIN, 0, 0 },
	{ "lower-case name, spaces", "OPTIONS sip:x SIP/2.0\r\ncontent-LENGTH :  2  \r\n\r\nab",
	  0, 0, 0, 0 },
	{ "compact l with tab", "OPTIONS sip:x SIP/2.0\r\nL:\t1\r\n\r\nz", 0, 0, 0, 0 },
	{ "folded value", "OPTIONS sip:x SIP/2.0\r\nContent-Length:\r\n  3\r\n\r\nabc", 0, 0, 0,
	  50 },
	{ "equal duplicates", "OPTIONS sip:x SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nq", 0,
	  0, 0, 0 },
	{ "body incomplete", "OPTIONS sip:x SIP/2.0\r\nl: 10\r\n\r\nabc", 0, EAGAIN, 0, 0 },
	{ "missing Content-Length", "OPTIONS sip:x SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n", 0,
	  EBADMSG, 0, 0 },
	{ "no headers at all", "OPTIONS sip:x SIP/2.0\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "non-numeric length", "OPTIONS sip:x SIP/2.0\r\nl: 1x\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "negative length", "OPTIONS sip:x SIP/2.0\r\nl: -1\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "empty length", "OPTIONS sip:x SIP/2.0\r\nl:\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "conflicting duplicates", "OPTIONS sip:x SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", 0,
	  EBADMSG, 0, 0 },
	{ "junk", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "binary junk", "\x16\x03\x01\x02\x00\x01", 6, EBADMSG, 0, 0 },
	{ "TLS hello on TCP", "\x16\x03\x01", 3, EBADMSG, 0, 0 },
	{ "bad status line", "SIP/2.0 2x0 OK\r\nl: 0\r\n\r\n", 0, EBADMSG, 0, 0 },
	{ "space-less header line", "OPTIONS sip:x SIP/2.0\r\nbogus\r\nl: 0\r\n\r\n", 0, EBADMSG,
	  0, 0 },
	{ "bare LF start line", "OPTIONS sip:x SIP/2.0\nl: 0\n\n", 0, EBADMSG, 0, 0 },
	{ "partial start line", "OPTIONS sip:x SI", 0, EAGAIN, 0, 0 },
	{ "huge length", "OPTIONS sip:x SIP/2.0\r\nl: 99999999999999999999999\r\n\r\n", 0,
	  EMSGSIZE, 0, 0 },
	{ "body over limit", "OPTIONS sip:x SIP/2.0\r\nl: 65537\r\n\r\n", 0, EMSGSIZE, 0, 0 },
	{ "body at limit waits", "OPTIONS sip:x SIP/2.0\r\nl: 65536\r\n\r\n", 0, EAGAIN, 0, 0 },
};

static void test_sipframe_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *fc = &frame_cases[i];
		size_t len = fc->len ? fc->len : strlen(fc->data), skip = 99, msglen = 0;
		int err = sipframe_next(NULL, fc->data, len, &skip, &msglen);

		if (err != fc->err || (err == 0 && (skip != fc->skip ||
					 msglen != (fc->msglen ? fc->msglen : len - fc->skip))) ||
		    (err == EAGAIN && skip != fc->skip))
			fprintf(stderr, "\n  case '%s': err %d skip %zu msglen %zu\n", fc->name,
				err, skip, msglen);
		CU_ASSERT_EQUAL(err, fc->err);
		if (fc->err == 0) {
			CU_ASSERT_EQUAL(skip, fc->skip);
			CU_ASSERT_EQUAL(msglen, fc->msglen ? fc->msglen : len - fc->skip);
		}
	}
}

/* Every prefix of a message is "need more" (never an error), and the whole is one message. */
static void test_sipframe_every_split(void)
{
	static const char *const msgs[] = { MSG_MESSAGE, MSG_RESPONSE };
	size_t m, cut, skip, msglen;

	for (m = 0; m < 2; m++) {
		size_t len = strlen(msgs[m]);
		char *copy = malloc(len);

		CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
		for (cut = 0; cut < len; cut++) {
			/* A heap copy of exactly cut bytes lets ASan catch any overread. */
			memcpy(copy, msgs[m], cut);
			CU_ASSERT_EQUAL(sipframe_next(NULL, copy, cut, &skip, &msglen), EAGAIN);
		}
		memcpy(copy, msgs[m], len);
		CU_ASSERT_EQUAL(sipframe_next(NULL, copy, len, &skip, &msglen), 0);
		CU_ASSERT_EQUAL(msglen, len);
		free(copy);
	}
}

/* Walks a buffer of several messages and keep-alives the way conn.c does. */
static void test_sipframe_stream(void)
{
	static const char stream[] = MSG_MESSAGE "\r\n\r\n" MSG_RESPONSE "\r\n" MSG_MESSAGE;
	size_t off = 0, skip, msglen, n = 0;
	int err;

	while ((err = sipframe_next(NULL, stream + off, sizeof(stream) - 1 - off, &skip,
				    &msglen)) == 0 && n < 10) {
		off += skip + msglen;
		n++;
	}
	CU_ASSERT_EQUAL(err, EAGAIN);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(off, sizeof(stream) - 1);
}

static void test_sipframe_limits(void)
{
	struct sipframe_limits lim = { .max_head = 64, .max_body = 4 };
	char big[200];
	size_t skip, msglen;

	/* header longer than max_head, even before its end arrives */
	memset(big, 'a', sizeof(big));
	memcpy(big, "OPTIONS sip:x SIP/2.0\r\nX: ", 26);
	CU_ASSERT_EQUAL(sipframe_next(&lim, big, sizeof(big), &skip, &msglen), EMSGSIZE);
	CU_ASSERT_EQUAL(sipframe_next(&lim, big, 63, &skip, &msglen), EAGAIN);
	/* a start line alone longer than max_head */
	memcpy(big, "OPTIONS sip:", 12);
	CU_ASSERT_EQUAL(sipframe_next(&lim, big, sizeof(big), &skip, &msglen), EMSGSIZE);
	/* body over the limit is refused as soon as the header is in */
	CU_ASSERT_EQUAL(sipframe_next(&lim, "OPTIONS sip:x SIP/2.0\r\nl: 5\r\n\r\n", 31, &skip,
				      &msglen), EMSGSIZE);
	CU_ASSERT_EQUAL(sipframe_next(&lim, "OPTIONS sip:x SIP/2.0\r\nl: 4\r\n\r\nabcd", 35, &skip,
				      &msglen), 0);
	CU_ASSERT_EQUAL(msglen, 35);
	CU_ASSERT_EQUAL(sipframe_next(&lim, NULL, 3, &skip, &msglen), EINVAL);
}

/* sipframe_scan tells how much a message with a known header needs. */
static void test_sipframe_need(void)
{
	static const char m[] = "\r\nOPTIONS sip:x SIP/2.0\r\nl: 4\r\n\r\nab";
	size_t skip, msglen, need = 99;

	CU_ASSERT_EQUAL(sipframe_scan(NULL, m, 20, &skip, &msglen, &need), EAGAIN);
	CU_ASSERT_EQUAL(need, 0);
	CU_ASSERT_EQUAL(sipframe_scan(NULL, m, sizeof(m) - 1, &skip, &msglen, &need), EAGAIN);
	CU_ASSERT_EQUAL(skip, 2);
	CU_ASSERT_EQUAL(need, sizeof(m) - 1 - 2 + 2);
}

/* Issue 11 item 2: lenient framing holds while a Content-Length gives the end, whatever the
 * start line's bytes (0xC0 as method) or a broken header line; a body over the limit reports
 * the header's length and the declared body, so the receiver can answer 413 and skip it. */
static void test_sipframe_keeps_framing(void)
{
	static const char bad_method[] = "\xc0 sip:a@b SIP/2.0\r\nVia: x\r\nl: 3\r\n\r\nabcNEXT";
	static const char bad_name[] = "MESSAGE sip:a@b SIP/2.0\r\nV\xc0" "a: x\r\nNo colon here\r\n"
				       "l: 2\r\n\r\nhiNEXT";
	static const char no_sip[] = "\xc0\xc1\r\n" "l: 2\r\n\r\nhiNEXT";
	static const char big[] = "MESSAGE sip:a@b SIP/2.0\r\nl: 5000\r\n\r\nab";
	/* control bytes inside the start line (a NUL, an ESC in the Request-URI) */
	static const char ctl_uri[] = "MESSAGE sip:\0@b\x1b[2J SIP/2.0\r\nl: 2\r\n\r\nhiNEXT";
	static const char ctl_method[] = "\0MESSAGE sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhiNEXT";
	struct sipframe_limits lim = { .max_head = 1024, .max_body = 100, .lenient = true,
				       .max_discard = 4096 };
	size_t skip, msglen, need;

	CU_ASSERT_EQUAL(sipframe_next(&lim, bad_method, sizeof(bad_method) - 1, &skip, &msglen), 0);
	CU_ASSERT_EQUAL(msglen, sizeof(bad_method) - 1 - 4);
	CU_ASSERT_EQUAL(sipframe_next(&lim, bad_name, sizeof(bad_name) - 1, &skip, &msglen), 0);
	CU_ASSERT_EQUAL(msglen, sizeof(bad_name) - 1 - 4);
	CU_ASSERT_EQUAL(sipframe_next(&lim, no_sip, sizeof(no_sip) - 1, &skip, &msglen), 0);
	CU_ASSERT_EQUAL(msglen, sizeof(no_sip) - 1 - 4);
	CU_ASSERT_EQUAL(sipframe_next(&lim, ctl_uri, sizeof(ctl_uri) - 1, &skip, &msglen), 0);
	CU_ASSERT_EQUAL(msglen, sizeof(ctl_uri) - 1 - 4);
	CU_ASSERT_EQUAL(sipframe_next(&lim, ctl_method, sizeof(ctl_method) - 1, &skip, &msglen), 0);
	CU_ASSERT_EQUAL(msglen, sizeof(ctl_method) - 1 - 4);
	CU_ASSERT_EQUAL(sipframe_next(&lim, ctl_method, 1, &skip, &msglen), EAGAIN);
	/* still arriving: a control byte inside the line is no reason to give up */
	CU_ASSERT_EQUAL(sipframe_next(&lim, ctl_uri, 16, &skip, &msglen), EAGAIN);
	/* strict framing still refuses them */
	lim.lenient = false;
	CU_ASSERT_EQUAL(sipframe_next(&lim, bad_method, sizeof(bad_method) - 1, &skip, &msglen),
			EBADMSG);
	CU_ASSERT_EQUAL(sipframe_next(&lim, bad_name, sizeof(bad_name) - 1, &skip, &msglen),
			EBADMSG);
	CU_ASSERT_EQUAL(sipframe_next(&lim, ctl_uri, sizeof(ctl_uri) - 1, &skip, &msglen),
			EBADMSG);
	lim.lenient = true;
	CU_ASSERT_EQUAL(sipframe_scan(&lim, big, sizeof(big) - 1, &skip, &msglen, &need), EMSGSIZE);
	CU_ASSERT_EQUAL(msglen, sizeof(big) - 1 - 2);
	CU_ASSERT_EQUAL(need, 4097); /* over the discard cap: saturated */
	lim.max_discard = 8192;
	CU_ASSERT_EQUAL(sipframe_scan(&lim, big, sizeof(big) - 1, &skip, &msglen, &need), EMSGSIZE);
	CU_ASSERT_EQUAL(need, 5000);
	/* binary (two control bytes first: a TLS record) is still no SIP */
	CU_ASSERT_EQUAL(sipframe_next(&lim, "\x16\x03\x01", 3, &skip, &msglen), EBADMSG);
	CU_ASSERT_EQUAL(sipframe_next(&lim, "\x16\x03", 2, &skip, &msglen), EBADMSG);
	CU_ASSERT_EQUAL(sipframe_next(&lim, "\0\0\r\nl: 0\r\n\r\n", 12, &skip, &msglen), EBADMSG);
}

static CU_TestInfo sipframe_tests[] = {
	{ "lenient framing holds while a Content-Length does", test_sipframe_keeps_framing },
	{ "table", test_sipframe_table },
	{ "split at every offset", test_sipframe_every_split },
	{ "stream of messages", test_sipframe_stream },
	{ "limits", test_sipframe_limits },
	{ "need", test_sipframe_need },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sipframe", sipframe_tests)
