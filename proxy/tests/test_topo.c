/* test_topo: wire edits, sealing, Call-ID bijection, Contact/Request-URI round trip, routes,
 * and the whole outbound pass leaving no internal name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "sip/sipmsg.h"
#include "../topo/seal.h"
#include "../topo/wire.h"
#include "../topo/topo.h"

static const char topo_msg[] =
	"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
	"Via: SIP/2.0/TLS ap.contoso.test:5061;branch=z9hG4bKours\r\n"
	"Via: SIP/2.0/TLS pool.contoso.test:5061;branch=z9hG4bKpool\r\n"
	"v: SIP/2.0/TLS 10.1.2.3:5061;branch=z9hG4bKua;received=10.1.2.3\r\n"
	"From: <sip:alice@contoso.test>;tag=a1\r\n"
	"To: <sip:bob@aol.test>\r\n"
	"Call-ID: c0ffee@pool.contoso.test\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"Warning: 399 pool.contoso.test \"inside\"\r\n"
	"User-Agent: lab\r\n"
	"Content-Length: 5\r\n\r\nhello";

static char *topo_dup(const char *s, size_t *lenp)
{
	char *b = mem_strdup(s);

	*lenp = strlen(s);
	return b;
}

struct wire_case {
	const char *op;      /* "cut", "insert", "replace" */
	const char *name, *compact, *arg;
	unsigned keep;
	const char *must, *must_not; /* substrings of the result */
	int want_err;
};

static const struct wire_case wire_cases[] = {
	{ "cut", "Via", "v", NULL, 1, "Via: SIP/2.0/TLS ap.contoso.test", "pool.contoso.test:5061",
	  0 },
	{ "cut", "Via", "v", NULL, 0, "MESSAGE sip:bob", "z9hG4bKours", 0 },
	{ "cut", "Via", "v", NULL, 3, "z9hG4bKua", NULL, 0 },
	{ "replace", "Call-ID", "i", "ap1234", 0, "Call-ID: ap1234\r\n", "c0ffee", 0 },
	{ "replace", "Route", NULL, "x", 0, NULL, NULL, ENOENT },
	{ "insert", NULL, NULL, "Via: SIP/2.0/TLS x;branch=z9hG4bKx\r\n", 0,
	  "SIP/2.0\r\nVia: SIP/2.0/TLS x;branch=z9hG4bKx\r\nVia: SIP/2.0/TLS ap", NULL, 0 },
	{ "insert", "CSeq", NULL, "X-A: 1\r\n", 0, "CSeq: 1 MESSAGE\r\nX-A: 1\r\nWarning", NULL,
	  0 },
};

static void test_wire_table(void)
{
	size_t i, live = mem_live();

	for (i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++) {
		const struct wire_case *tc = &wire_cases[i];
		size_t len;
		char *buf = topo_dup(topo_msg, &len), *cut = NULL;
		int err;

		if (!strcmp(tc->op, "cut"))
			err = wire_cut(&buf, &len, tc->name, tc->compact, tc->keep, &cut, NULL);
		else if (!strcmp(tc->op, "replace"))
			err = wire_replace(&buf, &len, tc->name, tc->compact, tc->arg);
		else
			err = wire_insert(&buf, &len, tc->name, tc->compact, tc->arg);
		if (err != tc->want_err)
			fprintf(stderr, "\nwire case %zu: err %d\n", i, err);
		CU_ASSERT_EQUAL(err, tc->want_err);
		CU_ASSERT_EQUAL(strlen(buf), len);
		/* the body is never touched */
		CU_ASSERT_STRING_EQUAL(buf + len - 5, "hello");
		if (tc->must && !strstr(buf, tc->must))
			fprintf(stderr, "\nwire case %zu: no '%s' in\n%s\n", i, tc->must, buf);
		if (tc->must)
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, tc->must));
		if (tc->must_not)
			CU_ASSERT_PTR_NULL(strstr(buf, tc->must_not));
		mem_deref(buf);
		mem_deref(cut);
	}
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The Vias cut off and put back give the message it was. */
static void test_wire_cut_restore(void)
{
	size_t len, live = mem_live();
	char *buf = topo_dup(topo_msg, &len), *cut = NULL;
	unsigned n = 0;
	char v[128];

	CU_ASSERT_EQUAL(wire_cut(&buf, &len, "Via", "v", 1, &cut, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(cut, "Via: SIP/2.0/TLS pool.contoso.test:5061;branch=z9hG4bKpool\r\n"
			       "v: SIP/2.0/TLS 10.1.2.3:5061;branch=z9hG4bKua;received=10.1.2.3\r\n");
	CU_ASSERT_EQUAL(wire_insert(&buf, &len, "Via", "v", cut), 0);
	CU_ASSERT_STRING_EQUAL(buf, topo_msg);
	CU_ASSERT_EQUAL(wire_value(buf, len, "Call-ID", "i", v, sizeof(v)), 0);
	CU_ASSERT_STRING_EQUAL(v, "c0ffee@pool.contoso.test");
	CU_ASSERT_EQUAL(wire_value(buf, len, "Route", NULL, v, sizeof(v)), ENOENT);
	mem_deref(buf);
	mem_deref(cut);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Scrub: a needle matches at a line's first and last byte and in any case, never across a
 * line end or in the body; kept headers and the start line stay and are reported. */
static void test_wire_scrub(void)
{
	static const char msg[] =
		"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
		"Via: SIP/2.0/TLS Pool.Contoso.TEST:5061;branch=z9hG4bK1\r\n"
		"pool.contoso.test: starts the line\r\n"
		"X-End: ends the line POOL.contoso.test\r\n"
		"X-Split: pool.contoso.\r\n"
		"test: not one needle across two lines\r\n"
		"X-Addr: at 10.1.2.3\r\n"
		"X-Near: 10.1.2.30 and pool-contoso.test\r\n"
		"Content-Length: 17\r\n\r\npool.contoso.test";
	static const char *const needles[] = { "", "pool.contoso.test", "10.1.2.3", "p", NULL };
	static const char *const needles2[] = { "pool.contoso.test", "10.1.2.3", NULL };
	static const char *const keep[] = { "Via", NULL };
	size_t len, live = mem_live();
	char *buf = topo_dup(msg, &len);
	unsigned n = 0;
	int kept_hit = 0;

	CU_ASSERT_EQUAL(wire_scrub(&buf, &len, needles2, keep, &n, &kept_hit), 0);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(kept_hit, 1);
	CU_ASSERT_EQUAL(strlen(buf), len);
	CU_ASSERT_STRING_EQUAL(buf,
		"MESSAGE sip:bob@aol.test SIP/2.0\r\n"
		"Via: SIP/2.0/TLS Pool.Contoso.TEST:5061;branch=z9hG4bK1\r\n"
		"X-Split: pool.contoso.\r\n"
		"test: not one needle across two lines\r\n"
		"Content-Length: 17\r\n\r\npool.contoso.test");
	mem_deref(buf);
	/* a one-byte needle sharing a first byte with a longer one hits every line holding it */
	buf = topo_dup(msg, &len);
	CU_ASSERT_EQUAL(wire_scrub(&buf, &len, needles, NULL, &n, &kept_hit), 0);
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_EQUAL(kept_hit, 1); /* the start line ("sip:") stays whatever it holds */
	CU_ASSERT_STRING_EQUAL(buf, "MESSAGE sip:bob@aol.test SIP/2.0\r\n"
			       "test: not one needle across two lines\r\n"
			       "Content-Length: 17\r\n\r\npool.contoso.test");
	mem_deref(buf);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_seal(void)
{
	static const unsigned char k1[32] = { 1 }, k2[32] = { 2 };
	struct seal *a = NULL, *b = NULL;
	char t1[600], t2[600], out[300];
	size_t live = mem_live();

	CU_ASSERT_EQUAL_FATAL(seal_alloc_key(&a, k1), 0);
	CU_ASSERT_EQUAL_FATAL(seal_alloc_key(&b, k2), 0);
	CU_ASSERT_EQUAL(seal_encode(a, "c0ffee@pool.contoso.test", t1, sizeof(t1)), 0);
	CU_ASSERT_EQUAL(seal_encode(a, "c0ffee@pool.contoso.test", t2, sizeof(t2)), 0);
	CU_ASSERT_STRING_EQUAL(t1, t2); /* deterministic: one dialog, one token */
	CU_ASSERT_PTR_NULL(strstr(t1, "pool"));
	CU_ASSERT_EQUAL(seal_decode(a, t1, strlen(t1), out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "c0ffee@pool.contoso.test");
	CU_ASSERT_EQUAL(seal_decode(b, t1, strlen(t1), out, sizeof(out)), EBADMSG);
	t1[40] = t1[40] == '0' ? '1' : '0';
	CU_ASSERT_EQUAL(seal_decode(a, t1, strlen(t1), out, sizeof(out)), EBADMSG);
	CU_ASSERT_EQUAL(seal_decode(a, "zz", 2, out, sizeof(out)), EBADMSG);
	CU_ASSERT_EQUAL(seal_encode(a, "x", t2, 10), ENOSPC);
	mem_deref(a);
	mem_deref(b);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static struct topo *topo_make(void)
{
	const char *fqdn[CONF_NEDGES] = { "ap-int.contoso.test", "ap.contoso.test" };
	const uint16_t port[CONF_NEDGES] = { 5061, 5061 };
	const char *names[] = { "ap-int.contoso.test", "pool.contoso.test", "127.77.208.3", "",
				NULL };
	struct topo *t = NULL;

	CU_ASSERT_EQUAL(topo_alloc(&t, fqdn, port, names), 0);
	return t;
}

/* The Call-ID bijection, table-driven: out(in(x)) == x and in(out(y)) == y. */
static void test_topo_callid(void)
{
	static const char *const inside[] = { "c0ffee@pool.contoso.test", "plain", "ap12",
					      "x@AP-INT.contoso.test", "127.77.208.3-1" };
	static const char *const outside[] = { "abc@sip.aol.test", "apdeadbeef", "ap", "xc-x" };
	size_t live = mem_live(), i;
	struct topo *t = topo_make();
	char a[TOPO_CALLID_MAX], b[TOPO_CALLID_MAX];

	for (i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		CU_ASSERT_EQUAL(topo_callid_out(t, inside[i], a, sizeof(a)), 0);
		CU_ASSERT_PTR_NULL(strstr(a, "contoso.test"));
		CU_ASSERT_PTR_NULL(strstr(a, "127.77.208.3"));
		CU_ASSERT_EQUAL(topo_callid_in(t, a, b, sizeof(b)), 0);
		CU_ASSERT_STRING_EQUAL(b, inside[i]);
	}
	CU_ASSERT_EQUAL(topo_callid_out(t, "plain", a, sizeof(a)), 0);
	CU_ASSERT_STRING_EQUAL(a, "plain"); /* nothing internal: unchanged */
	for (i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		CU_ASSERT_EQUAL(topo_callid_in(t, outside[i], a, sizeof(a)), 0);
		CU_ASSERT_STRING_EQUAL(a, outside[i]); /* a provider's Call-ID enters as it is */
		CU_ASSERT_EQUAL(topo_callid_out(t, a, b, sizeof(b)), 0);
		CU_ASSERT_STRING_EQUAL(b, outside[i]);
	}
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static struct sipmsg *topo_req(const char *ruri, const char *extra)
{
	char buf[2048];
	struct sipmsg *m = NULL;
	int n = snprintf(buf, sizeof(buf),
			 "INVITE %s SIP/2.0\r\n"
			 "Via: SIP/2.0/TLS pool.contoso.test:5061;branch=z9hG4bKp\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:alice@contoso.test>;tag=a1\r\n"
			 "To: <sip:bob@aol.test>\r\n"
			 "Call-ID: c0ffee@pool.contoso.test\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "%s"
			 "Content-Length: 0\r\n\r\n", ruri, extra);

	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, buf, (size_t)n), 0);
	return m;
}

/* Contact out -> Request-URI back in gives the original target. */
static void test_topo_contact(void)
{
	size_t live = mem_live();
	struct topo *t = topo_make();
	struct sipmsg *m = topo_req("sip:bob@aol.test",
				    "Contact: <sip:alice@10.1.2.3:5061;transport=tls>\r\n");
	struct sipmsg *back;
	char c[1024], uri[1024], *buf = NULL;
	const char *user, *host;
	bool changed = true;
	size_t len;

	CU_ASSERT_EQUAL(topo_contact_hide(t, m), 0);
	CU_ASSERT_EQUAL(sipmsg_contact_count(m), 1);
	CU_ASSERT_EQUAL(sipmsg_uri(m, SIPMSG_CONTACT, &user, &host), 0);
	CU_ASSERT_STRING_EQUAL(user, "alice");
	CU_ASSERT_STRING_EQUAL(host, "ap.contoso.test");
	CU_ASSERT_EQUAL(sipmsg_uri_str(m, SIPMSG_CONTACT, c, sizeof(c)), 0);
	CU_ASSERT_PTR_NULL(strstr(c, "10.1.2.3"));
	CU_ASSERT_EQUAL(sipmsg_encode(m, &buf, &len), 0);
	CU_ASSERT_PTR_NULL(strstr(buf, "10.1.2.3"));
	/* the provider sends an in-dialog request to that Contact */
	back = topo_req(c, "");
	CU_ASSERT_EQUAL(topo_ruri_unhide(t, back, &changed), 0);
	CU_ASSERT_TRUE(changed);
	CU_ASSERT_EQUAL(sipmsg_uri_str(back, SIPMSG_RURI, uri, sizeof(uri)), 0);
	CU_ASSERT_STRING_EQUAL(uri, "sip:alice@10.1.2.3:5061;transport=tls");
	mem_deref(back);
	/* a Request-URI without apc stays; a forged apc is refused */
	back = topo_req("sip:alice@contoso.test", "");
	CU_ASSERT_EQUAL(topo_ruri_unhide(t, back, &changed), 0);
	CU_ASSERT_FALSE(changed);
	mem_deref(back);
	back = topo_req("sip:alice@ap.contoso.test;apc=00ff", "");
	CU_ASSERT_EQUAL(topo_ruri_unhide(t, back, &changed), EBADMSG);
	mem_deref(back);
	mem_deref(buf);
	mem_deref(m);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* Record-Route: internal entries taken, ours added twice; Route: ours consumed (16.4). */
static void test_topo_routes(void)
{
	size_t live = mem_live();
	struct topo *t = topo_make();
	struct sipmsg *m = topo_req("sip:bob@aol.test",
				    "Record-Route: <sip:pool.contoso.test;lr>\r\n"
				    "Record-Route: <sip:fe.contoso.test;lr>\r\n");
	char *saved = NULL, r[256];
	int n = -1;

	CU_ASSERT_EQUAL(topo_rr_take(m, &saved), 0);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(saved);
	CU_ASSERT_PTR_NOT_NULL(strstr(saved, "Record-Route: <sip:pool.contoso.test;lr>\r\n"
				      "Record-Route: <sip:fe.contoso.test;lr>\r\n"));
	CU_ASSERT_EQUAL(topo_rr_add(t, m, CONF_INTERNAL, CONF_EXTERNAL), 0);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 2);
	CU_ASSERT_EQUAL(sipmsg_route_str(m, true, 0, r, sizeof(r)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "sip:ap.contoso.test:5061"));
	CU_ASSERT_EQUAL(sipmsg_route_str(m, true, 1, r, sizeof(r)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "sip:ap-int.contoso.test:5061"));
	mem_deref(m);
	/* a response leaving: entries placed inside above ours go */
	m = topo_req("sip:bob@aol.test",
		     "Record-Route: <sip:pool.contoso.test;lr>\r\n"
		     "Record-Route: <sip:ap-int.contoso.test:5061;transport=tls;lr>\r\n"
		     "Record-Route: <sip:ap.contoso.test:5061;transport=tls;lr>\r\n"
		     "Record-Route: <sip:sip.aol.test;lr>\r\n");
	CU_ASSERT_EQUAL(topo_rr_hide_response(t, m), 0);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 2);
	CU_ASSERT_EQUAL(sipmsg_route_str(m, true, 0, r, sizeof(r)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "sip:ap.contoso.test:5061"));
	mem_deref(m);
	/* leaving through the external edge: only our external entry on the wire, the internal
	 * one kept above the inside entries for the responses (RFC 5658, TOPO-001) */
	m = topo_req("sip:bob@aol.test", "Record-Route: <sip:pool.contoso.test;lr>\r\n");
	mem_deref(saved);
	saved = NULL;
	CU_ASSERT_EQUAL(topo_rr_take(m, &saved), 0);
	CU_ASSERT_EQUAL(topo_rr_add_external(t, m, &saved), 0);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, true), 1);
	CU_ASSERT_EQUAL(sipmsg_route_str(m, true, 0, r, sizeof(r)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "sip:ap.contoso.test:5061"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(saved);
	CU_ASSERT_STRING_EQUAL(saved,
			       "Record-Route: <sip:ap-int.contoso.test:5061;transport=tls;lr>\r\n"
			       "Record-Route: <sip:pool.contoso.test;lr>\r\n");
	mem_deref(m);
	/* in-dialog: both our Route entries consumed, the next one kept */
	m = topo_req("sip:bob@aol.test",
		     "Route: <sip:ap-int.contoso.test:5061;transport=tls;lr>\r\n"
		     "Route: <sip:AP.contoso.test:5061;lr>\r\n"
		     "Route: <sip:sip.aol.test;lr>\r\n");
	CU_ASSERT_EQUAL(topo_route_consume(t, m, &n), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(sipmsg_route_count(m, false), 1);
	CU_ASSERT_TRUE(topo_uri_is_ours(t, "<sip:x@ap.contoso.test;lr>"));
	CU_ASSERT_FALSE(topo_uri_is_ours(t, "<sip:ap.contoso.test.evil;lr>"));
	mem_deref(m);
	mem_deref(saved);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The last pass: nothing internal leaves; the way back restores Vias and Call-ID. */
static void test_topo_wire_out_in(void)
{
	size_t live = mem_live(), len;
	struct topo *t = topo_make();
	char *buf = topo_dup(topo_msg, &len), *vias = NULL;
	char cid[TOPO_CALLID_MAX];

	CU_ASSERT_EQUAL(topo_wire_out(t, &buf, &len, true, &vias), 0);
	CU_ASSERT_PTR_NULL(strstr(buf, "pool.contoso.test"));
	CU_ASSERT_PTR_NULL(strstr(buf, "10.1.2.3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "User-Agent: lab\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Via: SIP/2.0/TLS ap.contoso.test"));
	CU_ASSERT_STRING_EQUAL(buf + len - 5, "hello");
	/* ... and back as a response would come */
	CU_ASSERT_EQUAL(topo_wire_in(t, &buf, &len, vias, NULL), 0);
	CU_ASSERT_EQUAL(wire_value(buf, len, "Call-ID", "i", cid, sizeof(cid)), 0);
	CU_ASSERT_STRING_EQUAL(cid, "c0ffee@pool.contoso.test");
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "z9hG4bKpool"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "z9hG4bKua"));
	mem_deref(buf);
	mem_deref(vias);
	mem_deref(t);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo topo_tests[] = {
	{ "wire edits", test_wire_table },
	{ "wire cut and restore", test_wire_cut_restore },
	{ "wire scrub", test_wire_scrub },
	{ "seal", test_seal },
	{ "Call-ID mapping", test_topo_callid },
	{ "Contact hidden, target restored", test_topo_contact },
	{ "record-route and route", test_topo_routes },
	{ "outbound pass and back", test_topo_wire_out_in },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("topo", topo_tests)
