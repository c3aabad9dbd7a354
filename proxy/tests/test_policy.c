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

static CU_TestInfo policy_tests[] = {
	{ "direction rules", test_policy_table },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("policy", policy_tests)
