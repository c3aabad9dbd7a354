/* test_conf: the config table, parser and validator, driven by a table of broken configs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../conf/conf.h"
#include "testconf.h"

/* The valid configuration every case starts from; @ stands for the certificate folder. */
static const char conf_base[] =
	"# test config\n"
	"[global]\n"
	"log_level = warn\n"
	"control_socket = @/ctl.sock\n"
	"dns_server = 127.77.204.1:53\n"
	"domain = contoso.test\n"
	"allow_tcp = no\n"
	"\n"
	"[internal]\n"
	"listen = 127.77.204.3:5061\n"
	"fqdn = ap-int.contoso.test\n"
	"cert = @/int.crt\n"
	"key = @/int.key\n"
	"ca = @/ca.crt\n"
	"next_hop = pool.contoso.test\n"
	"next_hop_port = 5061\n"
	"\n"
	"[external]\n"
	"listen = 127.77.204.4:5061\n"
	"fqdn = ap.contoso.test\n"
	"cert = @/ext.crt\n"
	"key = @/ext.key\n"
	"ca = @/ca.crt\n"
	"\n"
	"[provider aol]\n"
	"fqdn = sip.aol.test\n"
	"port = 5061\n"
	"domains = aol.test, aim.test\n"
	"allow = yes\n"
	"\n"
	"[provider yahoo]\n"
	"fqdn = sip.yahoo.test\n"
	"domains = yahoo.test\n";

struct conf_case {
	const char *name;
	const char *find[3];     /* lines of conf_base replaced ... */
	const char *repl[3];     /* ... by these */
	const char *append;      /* added at the end */
	int want_err;            /* conf_load result */
	const char *want[3];     /* substrings the problems must contain */
	unsigned min_errors;
	unsigned min_warnings;
};

static const struct conf_case conf_cases[] = {
	{ "valid", { NULL }, { NULL }, NULL, 0, { NULL }, 0, 0 },
	/* issue 11: the limits are keys with bounds, checked by accessproxy -t */
	{ "limits set", { "allow_tcp = no\n" }, { "allow_tcp = no\nmax_header_bytes = 8192\n"
	  "max_body_bytes = 4096\nmax_discard_bytes = 8192\nmessage_timeout_ms = 2000\n"
	  "peer_partial_max = 65536\n" }, NULL, 0, { NULL }, 0, 0 },
	{ "header limit too small", { "allow_tcp = no\n" },
	  { "allow_tcp = no\nmax_header_bytes = 100\n" }, NULL, EINVAL,
	  { "max_header_bytes" }, 1, 0 },
	{ "message deadline too long", { "allow_tcp = no\n" },
	  { "allow_tcp = no\nmessage_timeout_ms = 3600000\n" }, NULL, EINVAL,
	  { "message_timeout_ms" }, 1, 0 },
	{ "discard below body limit", { "allow_tcp = no\n" },
	  { "allow_tcp = no\nmax_body_bytes = 9000\nmax_discard_bytes = 8000\n" }, NULL, EINVAL,
	  { "max_discard_bytes 8000 is below max_body_bytes 9000" }, 1, 0 },
	{ "partial cap below header limit", { "allow_tcp = no\n" },
	  { "allow_tcp = no\npeer_partial_max = 2048\n" }, NULL, EINVAL,
	  { "peer_partial_max 2048 is below max_header_bytes 16384" }, 1, 0 },
	{ "ip next hop", { "next_hop = pool.contoso.test\n" }, { "next_hop = 127.77.204.9\n" },
	  NULL, EINVAL,
	  { "internal next_hop must be an FQDN, not an IP address (TLS-006)", ":15:" }, 1, 0 },
	{ "missing cert file", { "cert = @/int.crt\n" }, { "cert = @/nope.crt\n" }, NULL, EINVAL,
	  { "[internal] cert file", "nope.crt", "cannot be read" }, 1, 0 },
	{ "duplicate provider fqdn", { NULL }, { NULL },
	  "[provider msn]\nfqdn = SIP.aol.test\ndomains = msn.test\n", EINVAL,
	  { "duplicate provider fqdn 'SIP.aol.test'", "provider 'aol'" }, 1, 0 },
	{ "wildcard provider fqdn", { "fqdn = sip.yahoo.test\n" }, { "fqdn = *.yahoo.test\n" },
	  NULL, EINVAL, { "[provider yahoo] fqdn '*.yahoo.test' is a wildcard" }, 1, 0 },
	{ "empty provider fqdn", { "fqdn = sip.yahoo.test\n" }, { "fqdn =\n" }, NULL, EINVAL,
	  { "fqdn is empty" }, 1, 0 },
	{ "audit not yes or no", { "allow_tcp = no\n" }, { "allow_tcp = no\naudit = maybe\n" },
	  NULL, EINVAL, { "audit", "maybe" }, 1, 0 },
	{ "unknown key", { NULL }, { NULL }, "bogus = 1\n", EINVAL,
	  { "unknown key 'bogus' in [provider yahoo]" }, 1, 0 },
	{ "unknown section", { NULL }, { NULL }, "[frobnicate]\nx = 1\n", EINVAL,
	  { "unknown section [frobnicate]" }, 1, 0 },
	{ "missing domain", { "domain = contoso.test\n" }, { "" }, NULL, EINVAL,
	  { "[global] domain missing" }, 1, 0 },
	{ "listen not ip:port", { "listen = 127.77.204.4:5061\n" },
	  { "listen = ap.contoso.test:5061\n" }, NULL, EINVAL,
	  { "[external] listen: 'ap.contoso.test:5061' is not an IP:port address" }, 1, 0 },
	{ "key does not match cert", { "key = @/ext.key\n" }, { "key = @/int.key\n" }, NULL,
	  EINVAL, { "does not match cert", "ext.crt" }, 1, 0 },
	{ "duplicate provider name", { NULL }, { NULL },
	  "[provider aol]\nfqdn = sip2.aol.test\ndomains = aol2.test\n", EINVAL,
	  { "duplicate provider name 'aol'" }, 1, 0 },
	{ "domain served twice", { "domains = yahoo.test\n" }, { "domains = aol.test\n" }, NULL,
	  EINVAL, { "domain 'aol.test' is already served by provider 'aol'" }, 1, 0 },
	{ "no clientAuth: warning only", { "cert = @/ext.crt\n", "key = @/ext.key\n" },
	  { "cert = @/srv.crt\n", "key = @/srv.key\n" }, NULL, 0,
	  { "lacks the clientAuth extended key usage" }, 0, 1 },
	{ "CN differs: warning only", { "fqdn = ap.contoso.test\n" },
	  { "fqdn = edge.contoso.test\n" }, NULL, 0,
	  { "cert CN 'ap.contoso.test' differs from fqdn 'edge.contoso.test'" }, 0, 1 },
	{ "every problem named",
	  { "next_hop = pool.contoso.test\n", "ca = @/ca.crt\n", "allow = yes\n" },
	  { "next_hop = 10.1.1.1\n", "ca = @/missing-ca.crt\n", "allow = perhaps\n" },
	  "[provider yahoo2]\nfqdn = sip.yahoo.test\ndomains = y2.test\n", EINVAL,
	  { "TLS-006", "missing-ca.crt", "'perhaps' is not yes or no" }, 4, 0 },
	{ "tcp needs allow_tcp", { NULL }, { NULL }, "transport = tcp\n", EINVAL,
	  { "transport = tcp needs allow_tcp = yes" }, 1, 0 },
	{ "repeated key", { NULL }, { NULL }, "port = 5062\nport = 5063\n", EINVAL,
	  { "key 'port' repeated" }, 1, 0 },
	{ "port out of bounds", { "port = 5061\n" }, { "port = 70000\n" }, NULL, EINVAL,
	  { "port: '70000' is not a number in 1..65535" }, 1, 0 },
};

struct conf_seen {
	char text[8192];
	unsigned errors, warnings;
};

static void conf_collect(bool error, const char *msg, void *arg)
{
	struct conf_seen *seen = arg;
	size_t n = strlen(seen->text);

	snprintf(seen->text + n, sizeof(seen->text) - n, "%s\n", msg);
	if (error)
		seen->errors++;
	else
		seen->warnings++;
}

static void conf_subst(char *out, size_t size, const char *in, const char *find,
		       const char *repl)
{
	const char *at = strstr(in, find);

	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	snprintf(out, size, "%.*s%s%s", (int)(at - in), in, repl, at + strlen(find));
}

/* Writes text with @ expanded to the certificate folder; the path goes to path. */
static void conf_write(char *path, size_t size, const char *name, const char *text)
{
	const char *p = testconf_write(name, text);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(path, size, "%s", p);
}

static void test_conf_table(void)
{
	size_t i, j, live = mem_live();

	for (i = 0; i < sizeof(conf_cases) / sizeof(conf_cases[0]); i++) {
		const struct conf_case *tc = &conf_cases[i];
		static char text[8192], tmp[8192];
		struct conf_seen seen = { .errors = 0 };
		struct conf *cfg = NULL;
		char path[256];
		int err;

		snprintf(text, sizeof(text), "%s", conf_base);
		for (j = 0; j < 3 && tc->find[j]; j++) {
			conf_subst(tmp, sizeof(tmp), text, tc->find[j], tc->repl[j]);
			memcpy(text, tmp, sizeof(text));
		}
		if (tc->append)
			strncat(text, tc->append, sizeof(text) - strlen(text) - 1);
		snprintf(tmp, sizeof(tmp), "case%zu.conf", i);
		conf_write(path, sizeof(path), tmp, text);
		err = conf_load(&cfg, path, conf_collect, &seen);
		if (err != tc->want_err || seen.errors < tc->min_errors ||
		    seen.warnings < tc->min_warnings || (!tc->min_errors && seen.errors) ||
		    (!tc->min_warnings && seen.warnings))
			fprintf(stderr, "\ncase '%s': err %d, problems:\n%s", tc->name, err,
				seen.text);
		CU_ASSERT_EQUAL(err, tc->want_err);
		CU_ASSERT(seen.errors >= tc->min_errors);
		CU_ASSERT(seen.warnings >= tc->min_warnings);
		if (!tc->min_errors)
			CU_ASSERT_EQUAL(seen.errors, 0);
		if (!tc->min_warnings)
			CU_ASSERT_EQUAL(seen.warnings, 0);
		for (j = 0; j < 3 && tc->want[j]; j++) {
			if (!strstr(seen.text, tc->want[j]))
				fprintf(stderr, "\ncase '%s': no '%s' in:\n%s", tc->name,
					tc->want[j], seen.text);
			CU_ASSERT_PTR_NOT_NULL(strstr(seen.text, tc->want[j]));
		}
		CU_ASSERT_EQUAL(cfg != NULL, err == 0);
		mem_deref(cfg);
	}
	CU_ASSERT_EQUAL(mem_live(), live);
}

/* The accessors and hashed lookups see what the file says, defaults included. */
static void test_conf_values(void)
{
	struct conf_seen seen = { .errors = 0 };
	const struct conf_provider *aol, *yahoo;
	struct conf *cfg = NULL;
	char path[256];
	size_t live = mem_live();

	conf_write(path, sizeof(path), "values.conf", conf_base);
	CU_ASSERT_EQUAL_FATAL(conf_load(&cfg, path, conf_collect, &seen), 0);
	CU_ASSERT_EQUAL(conf_log_level(cfg), LOGL_WARN);
	CU_ASSERT_STRING_EQUAL(conf_dns_server_str(cfg), "127.77.204.1:53");
	CU_ASSERT_FALSE(conf_allow_tcp(cfg));
	CU_ASSERT_TRUE(conf_is_our_domain(cfg, "CONTOSO.test"));
	CU_ASSERT_FALSE(conf_is_our_domain(cfg, "aol.test"));
	CU_ASSERT_STRING_EQUAL(conf_edge(cfg, CONF_INTERNAL)->next_hop, "pool.contoso.test");
	CU_ASSERT_EQUAL(conf_edge(cfg, CONF_INTERNAL)->next_hop_port, 5061);
	CU_ASSERT_STRING_EQUAL(conf_edge(cfg, CONF_EXTERNAL)->fqdn, "ap.contoso.test");
	CU_ASSERT_EQUAL(conf_provider_count(cfg), 2);
	aol = conf_provider_by_domain(cfg, "aim.test");
	CU_ASSERT_PTR_NOT_NULL_FATAL(aol);
	CU_ASSERT_STRING_EQUAL(aol->name, "aol");
	CU_ASSERT_TRUE(aol->allow);
	CU_ASSERT_PTR_EQUAL(conf_provider_by_fqdn(cfg, "Sip.Aol.Test"), aol);
	yahoo = conf_provider_by_name(cfg, "yahoo");
	CU_ASSERT_PTR_NOT_NULL_FATAL(yahoo);
	CU_ASSERT_FALSE(yahoo->allow);            /* CONF-001: off unless said */
	CU_ASSERT_EQUAL(yahoo->port, 5061);
	CU_ASSERT_EQUAL(yahoo->filter, CONF_FILTER_VERIFIED_ONLY);
	CU_ASSERT_PTR_NULL(conf_provider_by_domain(cfg, "msn.test"));
	/* issue 11: today's limits are the defaults (the body limit is SPINE_BODY_MAX) */
	CU_ASSERT_EQUAL(conf_limits(cfg)->max_header, 16384);
	CU_ASSERT_EQUAL(conf_limits(cfg)->max_body, 32768);
	CU_ASSERT_EQUAL(conf_limits(cfg)->max_discard, 65536);
	CU_ASSERT(conf_limits(cfg)->msg_timeout_ms <= 10000 && conf_limits(cfg)->msg_timeout_ms);
	CU_ASSERT_EQUAL(conf_limits(cfg)->peer_partial_max, 262144);
	CU_ASSERT_EQUAL(conf_limits(NULL)->max_body, 32768);
	CU_ASSERT_TRUE(conf_audit(cfg));          /* AUD-001: on unless said */
	cfg = mem_deref(cfg);
	{
		char text[sizeof(conf_base) + 32], *at;

		snprintf(text, sizeof(text), "%s", conf_base);
		at = strstr(text, "allow_tcp = no\n");
		CU_ASSERT_PTR_NOT_NULL_FATAL(at);
		memcpy(at, "audit = no    \n", 15);
		conf_write(path, sizeof(path), "noaudit.conf", text);
		CU_ASSERT_EQUAL_FATAL(conf_load(&cfg, path, conf_collect, &seen), 0);
		CU_ASSERT_FALSE(conf_audit(cfg));
		cfg = mem_deref(cfg);
	}
	CU_ASSERT_EQUAL(mem_live(), live);
}

static void test_conf_fqdn(void)
{
	static const struct { const char *s; bool ok; } tab[] = {
		{ "sip.aol.test", true }, { "a-b.c", true }, { "", false }, { "aol", false },
		{ "*.aol.test", false }, { "127.0.0.1", false }, { "::1", false },
		{ "a..b", false }, { ".a.b", false }, { "a.b.", false }, { "a_b.c", false },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		CU_ASSERT_EQUAL(conf_is_fqdn(tab[i].s), tab[i].ok);
}

static void test_conf_missing_file(void)
{
	struct conf_seen seen = { .errors = 0 };
	struct conf *cfg = NULL;

	CU_ASSERT_EQUAL(conf_load(&cfg, "/nonexistent/ap.conf", conf_collect, &seen), ENOENT);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(seen.text, "/nonexistent/ap.conf: cannot open"));
}

static int conf_init(void)
{
	return testconf_dir() ? 0 : 1;
}

static CU_TestInfo conf_tests[] = {
	{ "table of configs", test_conf_table },
	{ "values and lookups", test_conf_values },
	{ "fqdn syntax", test_conf_fqdn },
	{ "missing file", test_conf_missing_file },
	CU_TEST_INFO_NULL,
};

TEST_SUITE_FIX("conf", conf_tests, conf_init, NULL)
