/* test_policy: the direction rules, table-driven over edge, peer CN and addresses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "sip/sipmsg.h"
#include "../conf/conf.h"
#include "../policy/policy.h"
#include "../state/state.h"
#include "testconf.h"

static const char policy_conf[] =
	"[global]\n"
	"dns_server = 127.77.204.1\n"
	"domain = contoso.test, fabrikam.test\n"
	"[internal]\n"
	"listen = 127.77.204.3:5061\n"
	"fqdn = ap-int.contoso.test\n"
	"cert = @/int.crt\nkey = @/int.key\nca = @/ca.crt\n"
	"next_hop = pool.contoso.test\n"
	"next_hop_port = 5071\n"
	"[external]\n"
	"listen = 127.77.204.4:5061\n"
	"fqdn = ap.contoso.test\n"
	"cert = @/ext.crt\nkey = @/ext.key\nca = @/ca.crt\n"
	"[provider aol]\nfqdn = sip.aol.test\ndomains = aol.test\nallow = yes\n"
	"[provider yahoo]\nfqdn = sip.yahoo.test\ndomains = yahoo.test\n"
	"[provider msn]\nfqdn = sip.msn.test\nport = 5062\ndomains = msn.test\nallow = yes\n"
	"blocked = yes\n";

struct policy_case {
	enum conf_edge_id in;
	const char *peer_cn;
	const char *from;     /* From URI */
	const char *ruri;     /* Request-URI */
	int want_err;
	int want_status;
	const char *want_why;  /* substring of the reason */
	const char *want_dest;
	unsigned want_port;
};

static const struct policy_case policy_cases[] = {
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@aol.test", 0, 0,
	  NULL, "sip.aol.test", 5061 },
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@AOL.test", 0, 0,
	  NULL, "sip.aol.test", 5061 },
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@yahoo.test",
	  EPERM, 403, "provider yahoo is not allowed", NULL, 0 },
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@msn.test", EPERM,
	  403, "provider msn is temporarily blocked", NULL, 0 },
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@nowhere.test",
	  EPERM, 404, "no provider serves domain nowhere.test", NULL, 0 },
	{ CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test", "sip:bob@fabrikam.test",
	  EPERM, 403, "is ours", NULL, 0 },
	{ CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test", "sip:alice@contoso.test", 0, 0, NULL,
	  "pool.contoso.test", 5071 },
	{ CONF_EXTERNAL, "SIP.AOL.TEST", "sip:bob@aol.test", "sip:alice@fabrikam.test", 0, 0,
	  NULL, "pool.contoso.test", 5071 },
	{ CONF_EXTERNAL, "evil.test", "sip:bob@aol.test", "sip:alice@contoso.test", EPERM, 403,
	  "peer certificate CN 'evil.test' is not a configured provider edge (TLS-003)", NULL,
	  0 },
	{ CONF_EXTERNAL, "", "sip:bob@aol.test", "sip:alice@contoso.test", EPERM, 403, "TLS-003",
	  NULL, 0 },
	{ CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test", "sip:alice@other.test", EPERM, 404,
	  "domain other.test is not ours", NULL, 0 },
	{ CONF_EXTERNAL, "sip.aol.test", "sip:eve@yahoo.test", "sip:alice@contoso.test", EPERM,
	  403, "From domain yahoo.test is not served by provider aol", NULL, 0 },
	{ CONF_EXTERNAL, "sip.yahoo.test", "sip:bob@yahoo.test", "sip:alice@contoso.test", EPERM,
	  403, "provider yahoo is not allowed", NULL, 0 },
};

static struct sipmsg *policy_req(const char *from, const char *ruri)
{
	char buf[1024];
	struct sipmsg *m = NULL;
	int n;

	n = snprintf(buf, sizeof(buf),
		     "MESSAGE %s SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS 127.77.204.9:5061;branch=z9hG4bKpol\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <%s>;tag=1\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: pol@test\r\n"
		     "CSeq: 1 MESSAGE\r\n"
		     "Content-Length: 0\r\n\r\n", ruri, from, ruri);
	CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&m, buf, (size_t)n), 0);
	return m;
}

static void test_policy_table(void)
{
	const char *path = testconf_write("policy.conf", policy_conf);
	struct conf *cfg = NULL;
	struct policy *pol = NULL;
	struct state *st = NULL;
	size_t i, live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(conf_load(&cfg, path, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(policy_alloc(&pol, cfg), 0);
	CU_ASSERT_EQUAL_FATAL(state_from_conf(&st, cfg), 0);
	for (i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		const struct policy_case *tc = &policy_cases[i];
		struct sipmsg *req = policy_req(tc->from, tc->ruri);
		struct policy_verdict v;
		int err = policy_check(pol, st, req, tc->in, tc->peer_cn, &v);

		if (err != tc->want_err || v.status != tc->want_status)
			fprintf(stderr, "\ncase %zu: err %d status %d why '%s'\n", i, err,
				v.status, v.why);
		CU_ASSERT_EQUAL(err, tc->want_err);
		CU_ASSERT_EQUAL(v.status, tc->want_status);
		if (tc->want_why)
			CU_ASSERT_PTR_NOT_NULL(strstr(v.why, tc->want_why));
		if (tc->want_dest) {
			CU_ASSERT_STRING_EQUAL(v.dest_fqdn, tc->want_dest);
			CU_ASSERT_EQUAL(v.dest_port, tc->want_port);
			CU_ASSERT_EQUAL(v.out_edge, tc->in == CONF_INTERNAL ? CONF_EXTERNAL :
						     CONF_INTERNAL);
		}
		mem_deref(req);
	}
	mem_deref(pol);
	mem_deref(st);
	mem_deref(cfg);
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The snapshot rules: users, the PIC switch, the default route, Proxy-Require, methods. */
struct policy_st_case {
	const char *name;
	enum conf_edge_id in;
	const char *peer_cn;
	const char *from, *to, *ruri;
	const char *extra;          /* extra header lines */
	bool pic_off;
	bool clearing_house;
	int want_status;
	const char *want_why;
	const char *want_dest;
};

static const struct policy_st_case policy_st_cases[] = {
	{ "enabled user out", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "", false, false, 0, NULL, "sip.aol.test" },
	{ "POL-001", CONF_INTERNAL, "pool.contoso.test", "sip:carol@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "", false, false, 403,
	  "user carol@contoso.test is not enabled for public IM connectivity (POL-001)", NULL },
	{ "unknown user out", CONF_INTERNAL, "pool.contoso.test", "sip:dave@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "", false, false, 403, "POL-001", NULL },
	{ "foreign From out", CONF_INTERNAL, "pool.contoso.test", "sip:eve@evil.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "", false, false, 403, "not one of our users",
	  NULL },
	{ "POL-003 out", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "", true, false, 403, "POL-003", NULL },
	{ "POL-003 in", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test",
	  "sip:alice@contoso.test", "sip:alice@contoso.test", "", true, false, 403, "POL-003",
	  NULL },
	{ "CONF-002 blocked", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:x@msn.test", "sip:x@msn.test", "", false, false, 403,
	  "provider msn is temporarily blocked", NULL },
	{ "no provider: 404", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:x@partner.test", "sip:x@partner.test", "", false, false, 404,
	  "no provider serves domain partner.test", NULL },
	{ "clearing house", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:x@partner.test", "sip:x@partner.test", "", false, true, 0, NULL,
	  "ch.clearing.test" },
	{ "in-dialog to a Contact", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:bob@aol.test;tag=9", "sip:bob@192.0.2.7:5061", "", false, false, 0, NULL,
	  "sip.aol.test" },
	{ "SIP-004", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "Proxy-Require: foo\r\n", false, false, 420,
	  "unsupported Proxy-Require: foo", NULL },
	{ "POL-007 out", CONF_INTERNAL, "pool.contoso.test", "sip:alice@contoso.test",
	  "sip:bob@aol.test", "sip:bob@aol.test", "X-Method: INFO\r\n", false, false, 0, NULL,
	  "sip.aol.test" },
	{ "POL-002", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test", "sip:carol@contoso.test",
	  "sip:carol@contoso.test", "", false, false, 403,
	  "user carol@contoso.test is not enabled for public IM connectivity (POL-002)", NULL },
	{ "POL-002 unknown", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test",
	  "sip:nobody@contoso.test", "sip:nobody@contoso.test", "", false, false, 403, "POL-002",
	  NULL },
	{ "in to our Contact", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test",
	  "sip:alice@contoso.test;tag=3", "sip:alice@ap.contoso.test", "", false, false, 0, NULL,
	  "pool.contoso.test" },
	{ "POL-006 To", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test",
	  "sip:alice@other.test", "sip:alice@contoso.test", "", false, false, 404,
	  "To domain other.test is not ours", NULL },
	{ "SIP-004 in", CONF_EXTERNAL, "sip.aol.test", "sip:bob@aol.test",
	  "sip:alice@contoso.test", "sip:alice@contoso.test", "Proxy-Require: a\r\n"
	  "Proxy-Require: b\r\n", false, false, 420, "a, b", NULL },
};

static struct state *policy_state(bool pic_off, bool clearing_house)
{
	static const char *const aol[] = { "aol.test" }, *const msn[] = { "msn.test" };
	struct state_provider pa = { .name = "aol", .fqdn = "sip.aol.test", .port = 5061,
				     .domains = aol, .ndomains = 1, .allowed = true };
	struct state_provider pm = { .name = "msn", .fqdn = "sip.msn.test", .port = 5061,
				     .domains = msn, .ndomains = 1, .allowed = true,
				     .blocked = true };
	struct state_settings set = { .pic_enabled = !pic_off,
				      .default_route = clearing_house ? "ch.clearing.test" : NULL };
	struct state *st = NULL;

	CU_ASSERT_EQUAL_FATAL(state_alloc(&st), 0);
	CU_ASSERT_EQUAL(state_add_provider(st, &pa), 0);
	CU_ASSERT_EQUAL(state_add_provider(st, &pm), 0);
	CU_ASSERT_EQUAL(state_add_domain(st, "contoso.test"), 0);
	CU_ASSERT_EQUAL(state_set_user(st, "alice@contoso.test", true), 0);
	CU_ASSERT_EQUAL(state_set_user(st, "carol@contoso.test", false), 0);
	CU_ASSERT_EQUAL(state_set_settings(st, &set), 0);
	return st;
}

static void test_policy_state_table(void)
{
	const char *path = testconf_write("policy.conf", policy_conf);
	struct conf *cfg = NULL;
	struct policy *pol = NULL;
	size_t i, live = mem_live();

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	CU_ASSERT_EQUAL_FATAL(conf_load(&cfg, path, NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(policy_alloc(&pol, cfg), 0);
	for (i = 0; i < sizeof(policy_st_cases) / sizeof(policy_st_cases[0]); i++) {
		const struct policy_st_case *tc = &policy_st_cases[i];
		struct state *st = policy_state(tc->pic_off, tc->clearing_house);
		struct sipmsg *req = NULL;
		struct policy_verdict v;
		char buf[1024], to[160];
		const char *tag = strstr(tc->to, ";tag=");
		int n, err;

		/* the To tag goes after the '>' */
		snprintf(to, sizeof(to), "<%.*s>%s",
			 tag ? (int)(tag - tc->to) : (int)strlen(tc->to), tc->to, tag ? tag : "");
		n = snprintf(buf, sizeof(buf),
			     "MESSAGE %s SIP/2.0\r\n"
			     "Via: SIP/2.0/TLS 127.77.208.9:5061;branch=z9hG4bKpol\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <%s>;tag=1\r\n"
			     "To: %s\r\n"
			     "Call-ID: pol@test\r\n"
			     "CSeq: 1 MESSAGE\r\n%s"
			     "Content-Length: 0\r\n\r\n", tc->ruri, tc->from, to, tc->extra);
		CU_ASSERT_EQUAL_FATAL(sipmsg_decode(&req, buf, (size_t)n), 0);
		err = policy_check(pol, st, req, tc->in, tc->peer_cn, &v);
		if (v.status != tc->want_status ||
		    (tc->want_why && !strstr(v.why, tc->want_why)))
			fprintf(stderr, "\ncase '%s': err %d status %d why '%s'\n", tc->name, err,
				v.status, v.why);
		CU_ASSERT_EQUAL(v.status, tc->want_status);
		CU_ASSERT_EQUAL(err, tc->want_status ? EPERM : 0);
		if (tc->want_why)
			CU_ASSERT_PTR_NOT_NULL(strstr(v.why, tc->want_why));
		if (tc->want_status == 420) {
			CU_ASSERT_PTR_NOT_NULL(v.hdr_name);
			if (v.hdr_name)
				CU_ASSERT_STRING_EQUAL(v.hdr_name, "Unsupported");
		}
		if (tc->want_dest) {
			CU_ASSERT_PTR_NOT_NULL(v.dest_fqdn);
			if (v.dest_fqdn)
				CU_ASSERT_STRING_EQUAL(v.dest_fqdn, tc->want_dest);
		}
		mem_deref(req);
		mem_deref(st);
	}
	mem_deref(pol);
	mem_deref(cfg);
	CU_ASSERT_EQUAL(mem_live(), live);
}

static CU_TestInfo policy_tests[] = {
	{ "direction rules", test_policy_table },
	{ "snapshot rules", test_policy_state_table },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("policy", policy_tests)
