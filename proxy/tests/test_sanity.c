/* test_sanity: what may cross inward (proxy/sanity/sanity.c, grammar.c): each rule refuses
 * its kind of fault with 400 and a reason naming the header, and lets valid input through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testreg.h"
#include "sip/sipscan.h"
#include "../sanity/grammar.h"
#include "../sanity/sanity.h"

struct sanity_case {
	const char *what;      /* header line replaced, "RURI" for the Request-URI, "BODY" */
	const char *value;     /* its new text (header: the whole line, no CRLF) */
	size_t vlen;           /* 0: strlen(value) (set for values holding a NUL) */
	const char *want;      /* NULL: passes; else a substring of the reason */
};

/* A valid MESSAGE from a provider; each case replaces one line. */
static const char *const sanity_base[] = {
	"MESSAGE sip:alice@contoso.test SIP/2.0",
	"Via: SIP/2.0/TLS sip.aol.test:5061;branch=z9hG4bKabc;received=192.0.2.1;rport=5061",
	"Via: SIP/2.0/TLS 10.1.2.3:5061;branch=z9hG4bKdef",
	"Max-Forwards: 70",
	"From: \"Bob \xc3\xa9\" <sip:bob@aol.test>;tag=1928301774",
	"To: <sip:alice@contoso.test>",
	"Call-ID: a84b4c76e66710@pc33.aol.test",
	"CSeq: 314159 MESSAGE",
	"Contact: <sip:bob@192.0.2.4:5061;transport=tls>;expires=3600",
	"Expires: 3600",
	"Subject: caf\xc3\xa9 au lait",
	"Content-Type: text/plain;charset=\"utf-8\"",
	NULL,
};

static const struct sanity_case sanity_cases[] = {
	/* valid variants */
	{ "Via", "Via: SIP / 2.0 / TLS [2001:db8::1]:5061;branch=z9hG4bKx;maddr=239.1.1.1", 0,
	  NULL },
	{ "To", "To: sip:alice@contoso.test;tag=xyz", 0, NULL },
	{ "To", "To: Alice <sip:alice@contoso.test>", 0, NULL },
	{ "Contact", "Contact: <sip:bob@aol.test?Route=%3Csip:x%3E>, \"B\" <sips:b@h.aol.test>", 0,
	  NULL },
	{ "Expires", "Expires: 4294967295", 0, NULL },
	{ "RURI", "sip:user;par=u%40example.net@contoso.test;lr", 0, NULL },
	{ "Call-ID", "i: 0ha0isndaksdj", 0, NULL },
	{ "BODY", "hello\r\n\tworld", 0, NULL },
	/* issue 11 item 1 */
	{ "Subject", "Subject: a\0b", 11, "control byte 0x00 in the Subject header" },
	{ "Content-Type", "Content-Type: textplain", 0, "Content-Type header" },
	{ "Content-Type", "Content-Type: text/pl\xe4in", 0, "8-bit byte outside a quoted" },
	{ "Call-ID", "Call-ID: @host", 0, "Call-ID header: a Call-ID with an empty word" },
	{ "Via", "Via: SIP/2.0/TLS sip.aol.test:-1;branch=z9hG4bKabc", 0, "Via header" },
	{ "From", "From: ;;;;;=token", 0, "From header" },
	{ "To", "To: \"Alice\" sip:alice@contoso.test", 0, "To header: a display name without" },
	{ "Contact", "Contact: <%s%s%s:bob@aol.test>", 0, "Contact header: a URI scheme" },
	/* issue 11 item 4 */
	{ "Call-ID", "Call-ID: abc\x1b[2J@h", 0, "control byte 0x1b in the Call-ID header" },
	{ "Call-ID", "Call-ID: abc\xc3\xa9@h", 0, "8-bit byte outside a quoted string" },
	{ "Expires", "Expires: -1", 0, "Expires header" },
	{ "Expires", "Expires: -1073741823", 0, "Expires header" },
	{ "Expires", "Expires: 4294967296", 0, "Expires header" },
	{ "Expires", "Expires: 123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678", 0, "Expires header" },
	{ "Contact", "Contact: <sip:bob@aol.test>;expires=99999999999", 0, "expires parameter" },
	{ "Via: SIP/2.0/TLS 10", "Via: SIP/2.0/TLS -1;branch=z9hG4bKdef", 0, "Via header" },
	{ "Via: SIP/2.0/TLS 10", "Via: SIP/2.0/TLS %s%x%n;branch=z9hG4bKdef", 0, "Via header" },
	{ "Via: SIP/2.0/TLS 10", "Via: SIP/2.0/TLS 300.1.2.3;branch=z9hG4bKdef", 0, "Via header" },
	{ "Via", "Via: SIP/2.0/TLS h.aol.test;received=evil.test", 0, "received parameter" },
	{ "Contact", "Contact: <sip:@aol.test>", 0, "an empty user part before '@'" },
	/* an escaped NUL: libosip2 unescapes and cuts the user there (sip:%00@h goes in as
	 * sip:@h), so the edge cannot forward it faithfully (RFC 4475 3.1.1.4 asks no cut) */
	{ "RURI", "sip:%00@contoso.test", 0, "Request-URI: an escaped NUL (%00) in the URI" },
	{ "From", "From: <sip:null-%00-null@aol.test>;tag=1", 0, "From header: an escaped NUL" },
	{ "Contact", "Contact: <sip:bob@aol.test;x=%00>", 0, "Contact header: an escaped NUL" },
	{ "RURI", "sip:%0a%7f@contoso.test", 0, NULL },
	{ "BODY", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\0\r\n", 33, "NUL byte 0x00 at offset 29" },
	{ "RURI", "sip:alice@conto$o.test", 0, "Request-URI: a host" },
	{ "RURI", "sip:alice@contoso.test:0", 0, "Request-URI: port 0" },
	{ "RURI", "sip:al ice@contoso.test", 0, "Request-URI" },
	{ "RURI", "sip:alice%zz@contoso.test", 0, "bad %-escape" },
	{ "Max-Forwards", "Proxy-Require: foo, , bar", 0, "Proxy-Require header: an empty" },
	{ "Max-Forwards", "Proxy-Require: f\"o", 0, "Proxy-Require header" },
	{ "Subject", "Subject: bad \xc0\xaf utf8", 0, "invalid UTF-8 in the Subject header" },
	{ "Subject", "Subject: bare\rCR", 0, "control byte 0x0d in the Subject header" },
	{ "Subject", "Route: sip:proxy.aol.test", 0, "Route header: a URI that is not in <>" },
	{ "Subject", "Event: presence;id=\"x", 0, "Event header" },
	{ "CSeq", "CSeq: 314159 MESS@GE", 0, "CSeq header" },
	{ "Content-Type", "Subject: no type", 0, "a body without a Content-Type" },
	/* the other URI and list headers a request may carry inward */
	{ "Contact", "Contact: *", 0, "Contact header: * outside a REGISTER" },
	{ "Subject", "Reply-To: <sip:@x.aol.test>", 0, "Reply-To header: an empty user part" },
	{ "Subject", "Reply-To: Bob <sip:bob@aol.test>", 0, NULL },
	{ "Subject", "Refer-To: <%s>", 0, "Refer-To header" },
	{ "Subject", "r: <sip:carol@aol.test?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>", 0,
	  NULL },
	{ "Subject", "Referred-By: <sip:%00@aol.test>", 0, "Referred-By header: an escaped NUL" },
	{ "Subject", "P-Asserted-Identity: <sip:bob@aol.test>, <tel:+15551234>", 0, NULL },
	{ "Subject", "P-Asserted-Identity: <sip:bob@aol.test>, <sip:@x>", 0,
	  "P-Asserted-Identity header" },
	{ "Subject", "Path: <sip:edge.aol.test;lr>", 0, NULL },
	{ "Subject", "Path: sip:edge.aol.test", 0, "Path header: a URI that is not in <>" },
	{ "Subject", "Replaces: abc@h;to-tag=1;from-tag=2", 0, NULL },
	{ "Subject", "Replaces: ;;;", 0, "Replaces header" },
	{ "Subject", "Replaces: abc@h;to-tag=1", 0, "without to-tag and from-tag" },
	{ "Subject", "Replaces: abc@h;to-tag=1;from-tag=2;=x", 0, "Replaces parameter" },
	{ "Subject", "Timestamp: 54.3 0.25", 0, NULL },
	{ "Subject", "Timestamp: abc", 0, "Timestamp header" },
	{ "Subject", "Timestamp: 1 2 3", 0, "Timestamp header" },
	{ "Subject", "Accept: application/pidf+xml, text/*;q=0.5, */*", 0, NULL },
	{ "Subject", "Accept: ", 0, NULL },
	{ "Subject", "Accept: text", 0, "Accept header" },
};

/* The base request with the line starting with c->what replaced (or the R-URI / body). */
static char *sanity_build(const struct sanity_case *c, size_t *lenp)
{
	size_t vlen = c->vlen ? c->vlen : strlen(c->value), n = 0, i, blen;
	const char *body = "hello";
	char *buf = malloc(8192), *head = malloc(4096);

	blen = strlen(body);
	if (!strcmp(c->what, "BODY")) {
		body = c->value;
		blen = vlen;
	}
	for (i = 0; sanity_base[i]; i++) {
		const char *line = sanity_base[i];

		if (i == 0 && !strcmp(c->what, "RURI")) {
			n += (size_t)sprintf(head + n, "MESSAGE %s SIP/2.0\r\n", c->value);
			continue;
		}
		if (i > 0 && !strncmp(line, c->what, strlen(c->what)) &&
		    (line[strlen(c->what)] == ':' || strlen(c->what) > 12)) {
			memcpy(head + n, c->value, vlen);
			n += vlen;
			memcpy(head + n, "\r\n", 2);
			n += 2;
			continue;
		}
		n += (size_t)sprintf(head + n, "%s\r\n", line);
	}
	n += (size_t)sprintf(head + n, "Content-Length: %zu\r\n\r\n", blen);
	memcpy(buf, head, n);
	memcpy(buf + n, body, blen);
	free(head);
	*lenp = n + blen;
	return buf;
}

static void test_sanity_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(sanity_cases) / sizeof(sanity_cases[0]); i++) {
		const struct sanity_case *c = &sanity_cases[i];
		struct sipscan sc;
		char why[200] = "", *buf;
		size_t len;
		int st;

		buf = sanity_build(c, &len);
		CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, buf, len), 0);
		if (sc.defect) /* the scanner refuses it first: fine, but say so */
			fprintf(stderr, "\ncase %zu (%s): scanner defect %d %s\n", i, c->what,
				sc.defect, sc.why);
		st = sanity_check(buf, len, &sc, why, sizeof(why));
		if (c->want ? (st != 400 || !strstr(why, c->want)) : st != 0)
			fprintf(stderr, "\ncase %zu (%s = %s): got %d '%s', want %s\n", i, c->what,
				c->value, st, why, c->want ? c->want : "pass");
		if (c->want) {
			CU_ASSERT_EQUAL(st, 400);
			CU_ASSERT_PTR_NOT_NULL(strstr(why, c->want));
		} else {
			CU_ASSERT_EQUAL(st, 0);
		}
		free(buf);
	}
}

/* The valid RFC 4475 messages a provider could send (no deliberate control bytes) pass. */
static void test_sanity_rfc4475_valid(void)
{
	/* not escnull (3.1.1.4): its %00 user parts are refused, see sanity_cases */
	static const char *const valid[] = { "wsinv", "esc01", "lwsdisp", "longreq",
					      "semiuri", "transports", "cparam01", "cparam02",
					      "regescrt", "sdp01", "invut", "regaut01", "zeromf",
					      "bext01", NULL };
	const char *root = getenv("PICLAB_ROOT");
	char path[1024], buf[8192], why[200];
	struct sipscan sc;
	size_t i, n;

	for (i = 0; valid[i]; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/scenarios/fixtures/rfc4475/%s.dat",
			 root ? root : ".", valid[i]);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		CU_ASSERT_EQUAL_FATAL(sipscan_parse(&sc, buf, n), 0);
		if (sanity_check(buf, n, &sc, why, sizeof(why)))
			fprintf(stderr, "\n%s refused: %s\n", valid[i], why);
		CU_ASSERT_EQUAL(sanity_check(buf, n, &sc, why, sizeof(why)), 0);
	}
}

static void test_grammar_host(void)
{
	static const struct { const char *h; bool ok; } cases[] = {
		{ "sip.aol.test", true }, { "a", true }, { "a.b.c.", true }, { "192.0.2.1", true },
		{ "[::1]", true }, { "x-1.test", true }, { "-1", false }, { "1.2.3", false },
		{ "256.1.1.1", false }, { "%s%x%n", false }, { "a..b", false }, { "a-.b", false },
		{ "[::g]", false }, { "", false }, { "h_o.test", false }, { "test.123", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *err = grammar_host((struct grammar_pl){ cases[i].h,
								   strlen(cases[i].h) });

		if ((err == NULL) != cases[i].ok)
			fprintf(stderr, "\nhost '%s': %s\n", cases[i].h, err ? err : "accepted");
		CU_ASSERT_EQUAL(err == NULL, cases[i].ok);
	}
}

static CU_TestInfo sanity_tests[] = {
	{ "every rule refuses its fault, valid input passes", test_sanity_table },
	{ "valid RFC 4475 messages pass", test_sanity_rfc4475_valid },
	{ "host syntax", test_grammar_host },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("sanity", sanity_tests)
