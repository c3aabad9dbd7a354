/* test_sipscan: the tolerant scanner against hand-made defects and the RFC 4475 corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>

#include "base/mem.h"
#include "sip/sipframe.h"
#include "sip/sipmsg.h"
#include "sip/sipscan.h"
#include "tests/testreg.h"

#define HDR "Via: SIP/2.0/TLS a.example.com;branch=z9hG4bKabc\r\n" \
	    "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n" \
	    "Call-ID: x1\r\nMax-Forwards: 70\r\n"

struct scan_case {
	const char *name;
	const char *msg;
	int defect;
};

static const struct scan_case scan_cases[] = {
	{ "valid", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", 0 },
	{ "no LWS before <", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Contact: caller<sip:a@h>\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n", 0 },
	{ "bad version", "OPTIONS sip:b@example.com SIP/7.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n",
	  505 },
	{ "tel scheme", "OPTIONS tel:+1234 SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n", 416 },
	{ "no scheme name", "OPTIONS s\x01p:b@example.com SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n",
	  400 },
	{ "scheme digit first", "OPTIONS 1ip:b SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "scheme x-y.z+1", "OPTIONS x-y.z+1:b SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n", 416 },
	{ "double space", "OPTIONS  sip:b@example.com SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n",
	  400 },
	{ "trailing space", "OPTIONS sip:b@example.com SIP/2.0 \r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n",
	  400 },
	{ "<> R-URI", "OPTIONS <sip:b@example.com> SIP/2.0\r\n" HDR "CSeq: 1 OPTIONS\r\n\r\n",
	  400 },
	{ "CSeq 2^31", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR "CSeq: 2147483648 OPTIONS\r\n\r\n",
	  400 },
	{ "CSeq 2^31-1", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "CSeq: 2147483647 OPTIONS\r\n\r\n", 0 },
	{ "CSeq method", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR "CSeq: 1 INVITE\r\n\r\n", 400 },
	{ "two Call-IDs", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Call-ID: x2\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "equal Content-Lengths", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "CSeq: 1 OPTIONS\r\nl: 0\r\nContent-Length: 0\r\n\r\n", 0 },
	{ "short body", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "CSeq: 1 OPTIONS\r\nl: 9\r\n\r\nabc", 400 },
	{ "negative length", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "CSeq: 1 OPTIONS\r\nl: -1\r\n\r\n", 400 },
	{ "Max-Forwards 256", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Max-Forwards: 256\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "open quote", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Contact: \"x <sip:a@h>\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "escaped quote ok", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Contact: \"x\\\" y\" <sip:a@h>\r\nCSeq: 1 OPTIONS\r\n\r\n", 0 },
	{ "missing To", "OPTIONS sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/TLS h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: c\r\n"
	  "CSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "bare cookie", "OPTIONS sip:b@example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/TLS h;branch=z9hG4bK\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
	  "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "Date EST", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Date: Fri, 01 Jan 2010 16:00:00 EST\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
	{ "no colon", "OPTIONS sip:b@example.com SIP/2.0\r\n" HDR
	  "Foobar roobar\r\nCSeq: 1 OPTIONS\r\n\r\n", 400 },
};

static void test_sipscan_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++) {
		const struct scan_case *c = &scan_cases[i];
		struct sipscan sc;
		int err = sipscan_parse(&sc, c->msg, strlen(c->msg));

		CU_ASSERT_EQUAL(err, 0);
		if (sc.defect != c->defect)
			fprintf(stderr, "\n%s: defect %d (%s), expected %d\n", c->name, sc.defect,
				sc.why, c->defect);
		CU_ASSERT_EQUAL(sc.defect, c->defect);
	}
}

static void test_sipscan_response(void)
{
	static const char msg[] = "INVITE sip:b@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS a.example.com;branch=z9hG4bK1\r\n"
		"v: SIP/2.0/TLS b.example.com\r\n ;branch=z9hG4bK2\r\n"
		"CSeq: 7 INVITE\r\nl: 0\r\n\r\n";
	struct sipscan sc;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL(sipscan_parse(&sc, msg, sizeof(msg) - 1), 0);
	CU_ASSERT_EQUAL(sc.defect, 400); /* no From, To, Call-ID */
	CU_ASSERT(sipscan_answerable(&sc));
	CU_ASSERT_EQUAL(sc.nvia, 2);
	CU_ASSERT_EQUAL(sipscan_response(&sc, 400, NULL, "ap.example", sc.why, "t1", &buf, &len),
			0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(strlen(buf), len);
	CU_ASSERT(!strncmp(buf, "SIP/2.0 400 Bad Request\r\n", 25));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/TLS b.example.com;branch=z9hG4bK2\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "CSeq: 7 INVITE\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Warning: 399 ap.example \"missing Call-ID From To\""));
	CU_ASSERT(len > 4 && !strcmp(buf + len - 4, "\r\n\r\n"));
	mem_deref(buf);
	/* no Via: nothing can be answered */
	CU_ASSERT_EQUAL(sipscan_parse(&sc, "OPTIONS sip:x SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", 42),
			0);
	CU_ASSERT(!sipscan_answerable(&sc));
	CU_ASSERT_EQUAL(sipscan_parse(&sc, "garbage", 7), EBADMSG);
}

/* Every corpus message: the scanner never reads past the buffer and judges the invalid ones
 * as RFC 4475 says (valid ones carry no defect). A missing fixture fails, naming it. */
static void test_sipscan_rfc4475(void)
{
	static const struct { const char *name; int defect; } want[] = {
		{ "wsinv", 0 }, { "intmeth", 0 }, { "esc01", 0 }, { "escnull", 0 }, { "esc02", 0 },
		{ "lwsdisp", 0 }, { "longreq", 0 }, { "semiuri", 0 }, { "transports", 0 },
		{ "mpart01", 0 }, { "unksm2", 0 }, { "bext01", 0 }, { "invut", 0 },
		{ "regaut01", 0 }, { "zeromf", 0 }, { "cparam01", 0 }, { "cparam02", 0 },
		{ "regescrt", 0 }, { "sdp01", 0 },
		{ "badinv01", 400 }, { "scalar02", 400 }, { "quotbal", 400 }, { "ltgtruri", 400 },
		{ "lwsruri", 400 }, { "lwsstart", 400 }, { "trws", 400 }, { "escruri", 400 },
		{ "baddate", 400 }, { "regbadct", 400 }, { "badaspec", 400 }, { "badvers", 505 },
		{ "mismatch01", 400 }, { "mismatch02", 400 }, { "badbranch", 400 },
		{ "insuf", 400 }, { "unkscm", 416 }, { "novelsc", 416 }, { "multi01", 400 },
		{ "mcl01", 400 }, { "ncl", 400 }, { "clerr", 400 },
	};
	const char *root = getenv("PICLAB_ROOT");
	char path[1024], *buf;
	size_t i, n;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct sipscan sc;
		FILE *f;

		snprintf(path, sizeof(path), "%s/scenarios/fixtures/rfc4475/%s.dat",
			 root ? root : ".", want[i].name);
		f = fopen(path, "rb");
		if (!f) {
			fprintf(stderr, "\nfixture %s is missing (set PICLAB_ROOT to the project root)\n",
				path);
			CU_FAIL_FATAL("an RFC 4475 fixture is missing");
		}
		buf = malloc(8192);
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		n = fread(buf, 1, 8192, f);
		fclose(f);
		CU_ASSERT_EQUAL(sipscan_parse(&sc, buf, n), 0);
		if (sc.defect != want[i].defect)
			fprintf(stderr, "\n%s: defect %d (%s), expected %d\n", want[i].name,
				sc.defect, sc.why, want[i].defect);
		CU_ASSERT_EQUAL(sc.defect, want[i].defect);
		free(buf);
	}
}

/* What we answer is well-formed even when what we answer is not (RFC 4475 3.1.2.1, 3.1.2.6,
 * 3.3.1). */
static void test_sipscan_clean_response(void)
{
	static const char msg[] = "INVITE sip:b@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
		"To: \"Mr. J. User <sip:j.user@example.com>\r\n"
		"From: Bell, Alexander < sip:a.g.bell@example.com >;tag=43\r\n"
		"CSeq: 8 INVITE\r\nl: 0\r\n\r\n";
	struct sipscan sc;
	char *buf = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL(sipscan_parse(&sc, msg, sizeof(msg) - 1), 0);
	CU_ASSERT_EQUAL(sc.defect, 400);
	CU_ASSERT(sc.to_bad && sc.from_bad);
	CU_ASSERT_EQUAL(sipscan_response(&sc, 400, NULL, "ap", sc.why, "t9", &buf, &len), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/UDP 192.0.2.15\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "To: <sip:j.user@example.com>;tag=t9\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "From: <sip:a.g.bell@example.com>;tag=43\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".invalid\r\n")); /* a Call-ID of ours */
	mem_deref(buf);
}

/* Issue 11 item 3: our answer to a request full of control and 8-bit bytes carries none of
 * them, in the echoed fields nor in the Warning text that quotes the request. */
static void test_sipscan_no_raw_bytes(void)
{
	static const char msg[] = "MESSAGE sip:b@example.com SIP/2.0\r\n"
		"Via: SIP/2.0/TLS h\x1b[2J;branch=z9hG4bKx\x08y\r\n"
		"From: \"\xc0\xff\" <sip:a@example.com>;tag=1\r\n"
		"To: <sip:b@example.com>\r\nCall-ID: c\x7f\x01@h\r\n"
		"CSeq: 1 MESSAGE\r\nl: 0\r\n\r\n";
	struct sipscan sc;
	char *buf = NULL;
	size_t len = 0, i;

	CU_ASSERT_EQUAL(sipscan_parse(&sc, msg, sizeof(msg) - 1), 0);
	CU_ASSERT_EQUAL(sipscan_response(&sc, 400, NULL, "ap", "bad \"\x1b[31m\xc3\" here", NULL,
					 &buf, &len), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		CU_ASSERT((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t');
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Warning: 399 ap \"bad '%1B[31m%C3' here\"\r\n"));
	mem_deref(buf);
}

/* Issue 11 items 1, 3: our answer parses (libosip2 stands in for a peer's parser) whatever the
 * From, To or a Via held: a field that would not parse is reduced, or replaced by a neutral
 * one keeping what matching needs (the top Via's branch, the tags). */
static void test_sipscan_answers_parse(void)
{
	static const struct { const char *hdr, *want; } cases[] = {
		{ "To: <sip:alice@\x03>", "To: <sip:anonymous@anonymous.invalid>;tag=t9\r\n" },
		{ "To: <sip:alice@?>", "To: <sip:anonymous@anonymous.invalid>;tag=t9\r\n" },
		{ "To: <sip:alice@>;tag=x1", "To: <sip:anonymous@anonymous.invalid>;tag=x1\r\n" },
		{ "To: <sip:@<sip:alice@example.com>", "To: <sip:anonymous@anonymous.invalid>;tag=t9\r\n" },
		{ "To: \"\"\"\"\" <sip:alice@example.com>", "To: <sip:alice@example.com>;tag=t9\r\n" },
		{ "From: \"Bob\" <sip::@example.com>;tag=77", "From: " },
		{ "From: <sip:bob@:>;tag=77", "From: <sip:anonymous@anonymous.invalid>;tag=77\r\n" },
		{ "From: <sip:bob@\x80>;tag=77", "From: <sip:anonymous@anonymous.invalid>;tag=77\r\n" },
		{ "Via: SIP/2.0/TLS [::1:5061;branch=z9hG4bKrelay1",
		  "Via: SIP/2.0/TLS invalid.invalid;branch=z9hG4bKrelay1\r\n" },
		{ "Via: SIP/2.0/TLS ;:5061;branch=z9hG4bKrelay1", "Via: " },
		{ "Via: SIP/2.0/TLS [;branch=z9hG4bKrelay1", "Via: " },
	};
	char msg[512], *buf;
	struct sipscan sc;
	struct sipmsg *m;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *h = cases[i].hdr;
		int n = snprintf(msg, sizeof(msg), "MESSAGE sip:a@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bKtop\r\n%s%s%s\r\n"
				 "%s\r\nCall-ID: c@h\r\nCSeq: 1 MESSAGE\r\nl: 0\r\n\r\n",
				 h[0] == 'V' ? h : "", h[0] == 'V' ? "\r\n" : "",
				 h[0] == 'F' ? h : "From: <sip:b@example.com>;tag=f1",
				 h[0] == 'T' ? h : "To: <sip:a@example.com>");

		buf = NULL;
		m = NULL;
		CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, msg, (size_t)n), 0);
		CU_ASSERT_EQUAL_FATAL(sipscan_response(&sc, 400, NULL, "ap", "bad", "t9", &buf, &len), 0);
		CU_ASSERT_EQUAL(sipmsg_decode(&m, buf, len), 0);
		if (!m || !strstr(buf, cases[i].want))
			fprintf(stderr, "\ncase %zu (%s): answer %s\n", i, h, buf);
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, cases[i].want));
		/* what the sender matches our answer by stays */
		CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bKtop\r\n"));
		mem_deref(m);
		mem_deref(buf);
	}
}

/* Issue 11: our answer stays small whatever the request's fields hold (a peer with a 16 KB
 * header limit must read it): long fields are answered in their neutral form. */
static void test_sipscan_answer_bounded(void)
{
	static char msg[65536], a[8193];
	struct sipscan sc;
	char *buf = NULL;
	size_t len = 0;
	int n;

	memset(a, 'A', sizeof(a) - 1);
	n = snprintf(msg, sizeof(msg), "MESSAGE sip:a@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bKtop;x=%s\r\n"
		     "Via: SIP/2.0/TLS r.example.com;branch=z9hG4bK2;x=%s\r\n"
		     "From: <sip:b@example.com>;tag=f1;x=%s\r\nTo: <sip:a@example.com>;tag=%s\r\n"
		     "Call-ID: %s@h\r\nCSeq: 1 MESSAGE\r\nl: 0\r\n\r\n", a, a, a, a, a);
	CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, msg, (size_t)n), 0);
	CU_ASSERT_EQUAL_FATAL(sipscan_response(&sc, 400, NULL, "ap", "long", "t9", &buf, &len), 0);
	CU_ASSERT(len < 1024);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/TLS invalid.invalid;branch=z9hG4bKtop\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/TLS invalid.invalid;branch=z9hG4bK2\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "From: <sip:b@example.com>;tag=f1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "To: <sip:anonymous@anonymous.invalid>;tag=t9\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, ".invalid\r\nCSeq: 1 MESSAGE\r\n"));
	mem_deref(buf);
	/* a CSeq of 300 bytes: no answer could be matched by a sane peer */
	n = snprintf(msg, sizeof(msg), "MESSAGE sip:a@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS h.example.com;branch=z9hG4bKtop\r\nCSeq: 1 %.300s\r\n"
		     "l: 0\r\n\r\n", a);
	CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, msg, (size_t)n), 0);
	CU_ASSERT(!sipscan_answerable(&sc));
}

/* Issue 11: a request is answered only when its Via and CSeq can be echoed usefully. */
static void test_sipscan_answerable(void)
{
	static const struct { const char *via, *cseq; bool ok; } cases[] = {
		{ "SIP/2.0/TLS h:5061;branch=z9hG4bKx", "1 MESSAGE", true },
		{ "SIP / 2.0 / UDP h", "007 OPTIONS", true },
		{ "SIP/7.0/UDP h;branch=z9hG4bKx", "36893488147419103232 REGISTER", true },
		{ "-1", "1 MESSAGE", false },
		{ "SIP/2.0/TLS", "1 MESSAGE", false },
		{ "%s%x%n", "1 MESSAGE", false },
		{ "SIP/2.0/TLS h", "-1", false },
		{ "SIP/2.0/TLS h", "1 M<ESSAGE", false },
		{ "SIP/2.0/TLS h", "MESSAGE", false },
	};
	char buf[512];
	struct sipscan sc;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "MESSAGE sip:a@b SIP/2.0\r\nVia: %s\r\n"
				 "CSeq: %s\r\nl: 0\r\n\r\n", cases[i].via, cases[i].cseq);

		CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, buf, (size_t)n), 0);
		if (sipscan_answerable(&sc) != cases[i].ok)
			fprintf(stderr, "\nVia '%s' CSeq '%s': answerable %d\n", cases[i].via,
				cases[i].cseq, !cases[i].ok);
		CU_ASSERT_EQUAL(sipscan_answerable(&sc), cases[i].ok);
	}
}

/* Lenient framing (the proxy's listeners) hands over what the scanner then refuses. */
static void test_sipscan_lenient_framing(void)
{
	static const struct {
		const char *msg;
		int err;
		size_t msglen; /* 0: the whole input */
	} cases[] = {
		{ "OPTIONS sip:x SIP/7.0\r\nl: 0\r\n\r\n", 0, 0 },
		{ "OPTIONS  sip:x SIP/2.0 \r\nl: 0\r\n\r\n", 0, 0 },
		{ "OPTIONS sip:x SIP/2.0\r\nl: -5\r\n\r\nabcde", 0, 0 },
		{ "OPTIONS sip:x SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", 0, 0 },
		{ "C\r\n\r\nOPTIONS", 0, 5 },
		{ "OPTIONS sip:x SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n", EBADMSG, 0 },
		{ "\x16\x03\x01\x02\x00\x01", EBADMSG, 0 },
	};
	struct sipframe_limits lim = { .max_head = 16384, .max_body = 65536, .lenient = true };
	size_t i, skip, msglen;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].msg);
		int err = sipframe_next(&lim, cases[i].msg, len ? len : 6, &skip, &msglen);

		CU_ASSERT_EQUAL(err, cases[i].err);
		if (!err && !cases[i].err)
			CU_ASSERT_EQUAL(msglen, cases[i].msglen ? cases[i].msglen : len);
	}
}

static CU_TestInfo sipscan_tests[] = {
	{ "answers parse whatever From, To or a Via held", test_sipscan_answers_parse },
	{ "answers stay small whatever the fields' length", test_sipscan_answer_bounded },
	{ "lenient framing", test_sipscan_lenient_framing },
	{ "no raw control or 8-bit bytes in answers", test_sipscan_no_raw_bytes },
	{ "answerable only with a usable Via and CSeq", test_sipscan_answerable },
	{ "malformed fields answered well-formed", test_sipscan_clean_response },
	{ "defects table", test_sipscan_table },
	{ "response built without osip", test_sipscan_response },
	{ "RFC 4475 corpus", test_sipscan_rfc4475 },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sipscan", sipscan_tests);
