/* test_site: the provisioning site over real HTTPS on loopback: form, refusals, workflow,
 * mails in the Maildir, routes pushed to the chosen providers only, and changes. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "tests/testreg.h"

#include "../provisioning/esc.h"
#include "../provisioning/site.h"

#define LOG_MODULE "test_site"

#define SITE_IP   "127.77.206.1"
#define SITE_PORT 8443
#define WAIT_MS   5000
#define DELAY_MS  30
#define ROUTE_MAX 64
#define MAIL_MAX  16

static char tmp_dir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : EIO;
}

static int suite_init(void)
{
	log_set_level(getenv("TEST_DEBUG") ? LOGL_DEBUG : LOGL_WARN);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_site.XXXXXX");
	if (!mkdtemp(tmp_dir))
		return 1;
	return sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		  "-nodes -keyout site.key -out site.pem -days 2 -subj /CN=provisioning.test "
		  "-addext subjectAltName=DNS:provisioning.test 2>/dev/null", tmp_dir) ? 1 : 0;
}

static int suite_clean(void)
{
	if (tmp_dir[0])
		sh("rm -rf %s", tmp_dir);
	return 0;
}

/* ---- the world: a site, a client TLS context, recorded routes ---- */

struct world {
	struct event_base *base;
	struct event *deadline;
	struct site *site;
	SSL_CTX *cctx;
	char maildir[128];
	unsigned nroute;
	char route[ROUTE_MAX][128];
	unsigned mails_at_route[ROUTE_MAX];   /* mails of request 1 when the route came */
	size_t mem_start;
};

static void route_h(const char *provider, const char *domain, const char *fqdn, bool add,
		    void *arg)
{
	struct world *w = arg;

	if (w->nroute == ROUTE_MAX)
		return;
	snprintf(w->route[w->nroute], sizeof(w->route[0]), "%s %s %s %s", add ? "add" : "del",
		 provider, domain, fqdn);
	w->mails_at_route[w->nroute] = site_request_mails(w->site, 1);
	w->nroute++;
}

static bool route_seen(const struct world *w, unsigned from, const char *line)
{
	for (unsigned i = from; i < w->nroute; i++)
		if (!strcmp(w->route[i], line))
			return true;
	return false;
}

static unsigned route_count(const struct world *w, unsigned from, const char *prefix)
{
	unsigned n = 0;

	for (unsigned i = from; i < w->nroute; i++)
		n += !strncmp(w->route[i], prefix, strlen(prefix));
	return n;
}

static void deadline_h(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void world_make(struct world *w)
{
	static unsigned n;
	char cert[128], key[128];
	struct site_conf c;

	memset(w, 0, sizeof(*w));
	w->mem_start = mem_live();
	w->base = event_base_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->base);
	w->deadline = evtimer_new(w->base, deadline_h, w->base);
	snprintf(w->maildir, sizeof(w->maildir), "%s/mail%u", tmp_dir, ++n);
	site_conf_defaults(&c);
	CU_ASSERT_EQUAL_FATAL(sa_set(&c.listen, SITE_IP, SITE_PORT), 0);
	snprintf(cert, sizeof(cert), "%s/site.pem", tmp_dir);
	snprintf(key, sizeof(key), "%s/site.key", tmp_dir);
	c.cert_file = cert;
	c.key_file = key;
	c.maildir = w->maildir;
	c.validate_ms = c.send_ms = DELAY_MS;
	c.configure_ms[SITE_AOL] = DELAY_MS;
	c.configure_ms[SITE_YAHOO] = 2 * DELAY_MS;
	c.configure_ms[SITE_MSN] = 3 * DELAY_MS;
	c.routeh = route_h;
	c.arg = w;
	CU_ASSERT_EQUAL_FATAL(site_alloc(&w->site, w->base, &c), 0);
	w->cctx = SSL_CTX_new(TLS_client_method());
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->cctx);
	/* The site's self-signed certificate is the client's only trust anchor. */
	CU_ASSERT_EQUAL(SSL_CTX_load_verify_locations(w->cctx, cert, NULL), 1);
	SSL_CTX_set_verify(w->cctx, SSL_VERIFY_PEER, NULL);
}

static void world_free(struct world *w)
{
	w->site = mem_deref(w->site);
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	SSL_CTX_free(w->cctx);
	event_free(w->deadline);
	event_base_free(w->base);
	CU_ASSERT_EQUAL(mem_live(), w->mem_start);
}

/* Runs the loop until pred(w) holds or ms pass; returns pred(w). */
static bool run_until(struct world *w, bool (*pred)(struct world *, const void *),
		      const void *arg, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct timeval tick = { 0, 5000 };

	evtimer_add(w->deadline, &tv);
	while (!pred(w, arg) && evtimer_pending(w->deadline, NULL))
		event_base_loopexit(w->base, &tick), event_base_dispatch(w->base);
	evtimer_del(w->deadline);
	return pred(w, arg);
}

static bool is_state(struct world *w, const void *arg)
{
	const char *s = site_request_state(w->site, 1);

	return s && !strcmp(s, arg);
}

/* ---- an HTTPS client: libevent's evhttp over bufferevent_openssl ---- */

struct reply {
	bool done;
	int code;
	char location[64];
	char *body;
};

static bool is_done(struct world *w, const void *arg)
{
	return ((const struct reply *)arg)->done;
}

static void reply_h(struct evhttp_request *req, void *arg)
{
	struct reply *r = arg;
	const char *loc;

	r->done = true;
	if (!req)
		return;
	r->code = evhttp_request_get_response_code(req);
	loc = evhttp_find_header(evhttp_request_get_input_headers(req), "Location");
	snprintf(r->location, sizeof(r->location), "%s", loc ? loc : "");
	r->body = esc_take(evhttp_request_get_input_buffer(req));
}

static void http_do(struct world *w, bool post, const char *path, const char *body,
		    struct reply *r)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct bufferevent *bev;
	struct evkeyvalq *h;
	SSL *ssl = SSL_new(w->cctx);

	memset(r, 0, sizeof(*r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ssl);
	SSL_set_tlsext_host_name(ssl, "provisioning.test");
	bev = bufferevent_openssl_socket_new(w->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bev);
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conn = evhttp_connection_base_bufferevent_new(w->base, NULL, bev, SITE_IP, SITE_PORT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(conn);
	req = evhttp_request_new(reply_h, r);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "provisioning.test");
	evhttp_add_header(h, "Connection", "close");
	if (post) {
		evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	CU_ASSERT_EQUAL(evhttp_make_request(conn, req, post ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
					    path), 0);
	CU_ASSERT_TRUE(run_until(w, is_done, r, WAIT_MS));
	evhttp_connection_free(conn);
}

static void reply_clear(struct reply *r)
{
	r->body = mem_deref(r->body);
}

/* ---- forms ---- */

static const char *const valid_pairs[] = {
	"language=en", "ack_vl=on", "ack_pic=on", "org_name=Contoso+Ltd",
	"master_agreement=MA-1234", "enrollment=EN-5678", "agreement_type=enterprise",
	"primary_domain=contoso.test", "admin_email=admin%40contoso.test",
	"ap_fqdn=ap.contoso.test", "extra_domain_1=fabrikam.test",
	"extra_email_1=it%40fabrikam.test", "contact_last=Smith", "contact_first=Ann",
	"contact_email=ann%40contoso.test", "contact_phone=%2B1+425+555+0100",
	"provider_aol=on", "provider_msn=on", NULL,
};

/* The valid form without the pairs starting with drop, plus add. */
static void form_make(char *buf, size_t size, const char *drop, const char *add)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; valid_pairs[i]; i++) {
		if (drop && !strncmp(valid_pairs[i], drop, strlen(drop)))
			continue;
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "&" : "",
					valid_pairs[i]);
	}
	if (add)
		snprintf(buf + off, size - off, "%s%s", off ? "&" : "", add);
}

/* ---- the Maildir ---- */

struct mail {
	unsigned q;
	char text[4096];
};

static int mail_cmp(const void *a, const void *b)
{
	const struct mail *x = a, *y = b;

	return (x->q > y->q) - (x->q < y->q);
}

/* Reads Maildir/new in delivery order (the Q<n> part of the names); returns how many. */
static unsigned mails_read(const struct world *w, struct mail *m, unsigned max)
{
	char dir[192], file[512];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/new", w->maildir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		const char *q = strstr(de->d_name, "Q");
		FILE *f;
		size_t len;

		if (de->d_name[0] == '.' || !q)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, de->d_name);
		f = fopen(file, "r");
		if (!f)
			continue;
		len = fread(m[n].text, 1, sizeof(m[n].text) - 1, f);
		m[n].text[len] = '\0';
		m[n].q = (unsigned)strtoul(q + 1, NULL, 10);
		fclose(f);
		n++;
	}
	closedir(d);
	qsort(m, n, sizeof(*m), mail_cmp);
	return n;
}

static void mail_assert_headers(const char *t)
{
	static const char *const need[] = {
		"From: PIC Provisioning <provisioning@provisioning.test>\r\n",
		"To: ann@contoso.test\r\n", "Cc: admin@contoso.test\r\n", "\r\nSubject: ",
		"\r\nDate: ", "\r\nMessage-ID: <", "\r\nMIME-Version: 1.0\r\n",
		"\r\nContent-Type: text/plain; charset=utf-8\r\n", "\r\n\r\n", NULL,
	};

	for (int i = 0; need[i]; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(t, need[i]));
	CU_ASSERT_EQUAL(strncmp(t, "From: ", 6), 0);
}

/* ---- tests ---- */

static void test_escape(void)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	esc_json(b, "a\"b\\c\n\x01 中");
	evbuffer_add(b, "|", 1);
	esc_json(b, NULL);
	evbuffer_add(b, "|", 1);
	esc_html(b, "<a href=\"x\">&'</a>");
	s = esc_take(b);
	CU_ASSERT_STRING_EQUAL(s, "\"a\\\"b\\\\c\\n\\u0001 中\"|null|"
			       "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	mem_deref(s);
	evbuffer_free(b);
}

static void test_form_page(void)
{
	static const char *const names[] = {
		"language", "ack_vl", "ack_pic", "org_name", "master_agreement", "enrollment",
		"agreement_type", "primary_domain", "admin_email", "ap_fqdn", "extra_domain_1",
		"extra_email_1", "extra_domain_5", "extra_email_5", "contact_last",
		"contact_first", "contact_email", "contact_phone", "provider_aol",
		"provider_yahoo", "provider_msn", NULL,
	};
	static const char *const texts[] = {
		"Organization name / 组织名称", "Primary SIP domain / 主要 SIP 域名",
		"Access proxy FQDN", "Enterprise Agreement", "Open Value", "Other", "AOL",
		"Yahoo!", "MSN", "action=\"/submit\"", NULL,
	};
	struct world w;
	struct reply r;
	char pat[64];

	world_make(&w);
	http_do(&w, false, "/", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	for (int i = 0; names[i]; i++) {
		snprintf(pat, sizeof(pat), "name=\"%s\"", names[i]);
		if (!strstr(r.body, pat))
			fprintf(stderr, "\nform lacks %s\n", pat);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, pat));
	}
	for (int i = 0; texts[i]; i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, texts[i]));
	reply_clear(&r);
	http_do(&w, false, "/nowhere", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 404);
	reply_clear(&r);
	http_do(&w, false, "/request/1", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 404);
	reply_clear(&r);
	world_free(&w);
}

/* PROV-002 over HTTP: an empty submission names every problem, and provisions nothing. */
static void test_submit_empty(void)
{
	static const char *const fields[] = {
		"ack_vl", "ack_pic", "language", "org_name", "master_agreement", "enrollment",
		"agreement_type", "primary_domain", "admin_email", "ap_fqdn", "contact_last",
		"contact_first", "contact_email", "contact_phone", "providers", NULL,
	};
	struct world w;
	struct reply r;
	char pat[64];
	struct mail m[1];

	world_make(&w);
	http_do(&w, true, "/submit", "", &r);
	CU_ASSERT_EQUAL(r.code, 400);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	for (int i = 0; fields[i]; i++) {
		snprintf(pat, sizeof(pat), "<li data-field=\"%s\">", fields[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, pat));
	}
	/* The form is shown again so the user can correct it. */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"org_name\""));
	reply_clear(&r);
	/* Values given are kept (escaped) while the missing ones are named. */
	http_do(&w, true, "/submit", "org_name=%3Cb%3EAcme&ack_vl=on", &r);
	CU_ASSERT_EQUAL(r.code, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "value=\"&lt;b&gt;Acme\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "data-field=\"org_name\""));
	CU_ASSERT_PTR_NULL(strstr(r.body, "data-field=\"ack_vl\""));
	reply_clear(&r);
	event_base_loop(w.base, EVLOOP_NONBLOCK);
	CU_ASSERT_EQUAL(site_request_count(w.site), 0);
	CU_ASSERT_EQUAL(mails_read(&w, m, 1), 0);
	CU_ASSERT_EQUAL(w.nroute, 0);
	world_free(&w);
}

/* PROV-002, one problem at a time, without HTTP. */
static void test_submit_problems(void)
{
	static const struct {
		const char *drop, *add, *want;
	} cases[] = {
		{ "ack_vl", NULL, "Volume licensing agreement / 批量许可协议: not acknowledged" },
		{ "ack_pic", NULL, "PIC service licenses / PIC 服务许可证: not acknowledged" },
		{ "org_name", "org_name=+++", "Organization name / 组织名称: required" },
		{ "enrollment", NULL, "Enrollment number / 协议注册编号: required" },
		{ "agreement_type", "agreement_type=", "License agreement type / 许可证协议类型: "
		  "required" },
		{ "agreement_type", "agreement_type=volume", "License agreement type / 许可证协议"
		  "类型: not one of the offered choices" },
		{ "language", "language=xx", "Preferred language / 首选语言: not one of" },
		{ "primary_domain", "primary_domain=contoso", "Primary SIP domain / 主要 SIP 域名: "
		  "not a valid domain name" },
		{ "primary_domain", "primary_domain=-x.test", "not a valid domain name" },
		{ "primary_domain", "primary_domain=a_b.test", "not a valid domain name" },
		{ "ap_fqdn", "ap_fqdn=ap..contoso.test", "Access proxy FQDN / 访问代理的完全限定域名"
		  " (FQDN): not a valid FQDN" },
		{ "ap_fqdn", "ap_fqdn=127.77.1.1", "not a valid FQDN" },
		{ "admin_email", "admin_email=admin", "Administrator e-mail / 管理员电子邮件地址: "
		  "not a valid e-mail address" },
		{ "contact_email", "contact_email=a%40b%40contoso.test", "E-mail / 电子邮件地址: "
		  "not a valid e-mail address" },
		{ "contact_email", "contact_email=.a%40contoso.test", "not a valid e-mail" },
		{ "contact_phone", "contact_phone=call+me", "Phone / 电话号码: not a valid phone" },
		{ "extra_email_1", NULL, "required when the domain is given" },
		{ "extra_domain_1", "extra_domain_1=contoso.test", "same as the primary SIP domain" },
		{ NULL, "extra_email_2=x%40y.test", "given without a domain" },
		{ NULL, "extra_domain_2=fabrikam.test&extra_email_2=x%40y.test", "listed twice" },
		{ "provider_", NULL, "Public IM service providers / 公共即时通讯服务提供商: choose "
		  "at least one" },
	};
	char form[2048], problems[1024];
	struct world w;
	unsigned id = 0;

	world_make(&w);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		form_make(form, sizeof(form), cases[i].drop, cases[i].add);
		CU_ASSERT_EQUAL(site_submit(w.site, form, &id, problems, sizeof(problems)),
				EINVAL);
		if (!strstr(problems, cases[i].want) || strchr(problems, '\n'))
			fprintf(stderr, "\ncase %zu: want one problem '%s', got '%s'\n", i,
				cases[i].want, problems);
		CU_ASSERT_PTR_NOT_NULL(strstr(problems, cases[i].want));
		CU_ASSERT_PTR_NULL(strchr(problems, '\n'));
	}
	CU_ASSERT_EQUAL(site_request_count(w.site), 0);
	form_make(form, sizeof(form), NULL, NULL);
	CU_ASSERT_EQUAL(site_submit(w.site, form, &id, problems, sizeof(problems)), 0);
	CU_ASSERT_EQUAL(id, 1);
	CU_ASSERT_STRING_EQUAL(problems, "");
	CU_ASSERT_EQUAL(site_request_count(w.site), 1);
	CU_ASSERT_STRING_EQUAL(site_request_state(w.site, 1), "received");
	CU_ASSERT_PTR_NULL(site_request_state(w.site, 2));
	world_free(&w);
}

static void submit_valid(struct world *w)
{
	char form[2048];
	struct reply r;

	form_make(form, sizeof(form), NULL, NULL);
	http_do(w, true, "/submit", form, &r);
	CU_ASSERT_EQUAL(r.code, 303);
	CU_ASSERT_STRING_EQUAL(r.location, "/request/1");
	reply_clear(&r);
	CU_ASSERT_EQUAL(site_request_count(w->site), 1);
}

/* PROV-003..006 and PROV-008: the workflow, its mails in order, routes for AOL and MSN. */
static void test_submit_valid(void)
{
	static struct mail m[MAIL_MAX];
	struct world w;
	struct reply r;
	unsigned n;

	world_make(&w);
	submit_valid(&w);
	/* The first mail is there as soon as the request is accepted. */
	n = mails_read(&w, m, MAIL_MAX);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(w.nroute, 0);
	CU_ASSERT_TRUE(run_until(&w, is_state, "sent", WAIT_MS));
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "aol"), "pending");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "yahoo"), "none");
	CU_ASSERT_TRUE(run_until(&w, is_state, "provisioned", WAIT_MS));
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "aol"), "configured");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "msn"), "configured");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "yahoo"), "none");
	CU_ASSERT_PTR_NULL(site_provider_state(w.site, 1, "icq"));

	n = mails_read(&w, m, MAIL_MAX);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(site_request_mails(w.site, 1), 3);
	for (unsigned i = 0; i < n; i++)
		mail_assert_headers(m[i].text);
	CU_ASSERT_PTR_NOT_NULL(strstr(m[0].text, "received - being validated"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m[1].text, "sent to providers"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m[1].text, "Approximate processing time: 90 ms"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m[1].text, "  AOL\r\n  MSN\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m[2].text, "communication can start"));

	/* Routes: every domain, at the FQDN given, for the chosen providers, after mail 2. */
	CU_ASSERT_EQUAL(w.nroute, 4);
	CU_ASSERT_TRUE(route_seen(&w, 0, "add aol contoso.test ap.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, 0, "add aol fabrikam.test ap.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, 0, "add msn contoso.test ap.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, 0, "add msn fabrikam.test ap.contoso.test"));
	CU_ASSERT_EQUAL(route_count(&w, 0, "add yahoo"), 0);
	for (unsigned i = 0; i < w.nroute; i++)
		CU_ASSERT(w.mails_at_route[i] >= 2);

	http_do(&w, false, "/request/1.json", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.body);
	CU_ASSERT_EQUAL(strncmp(r.body, "{\"id\":1,\"state\":\"provisioned\"", 29), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"providers\":{\"aol\":\"configured\","
				      "\"yahoo\":\"none\",\"msn\":\"configured\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"domains\":[\"contoso.test\","
				      "\"fabrikam.test\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"fqdn\":\"ap.contoso.test\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"mail_count\":3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"organization\":\"Contoso Ltd\""));
	reply_clear(&r);
	http_do(&w, false, "/requests.json", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_EQUAL(strncmp(r.body ? r.body : "", "[{\"id\":1,", 9), 0);
	reply_clear(&r);
	http_do(&w, false, "/request/1", NULL, &r);
	CU_ASSERT_EQUAL(r.code, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body ? r.body : "", "<td id=\"state\">provisioned</td>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body ? r.body : "", "action=\"/request/1/change\""));
	reply_clear(&r);
	world_free(&w);
}

/* PROV-007: a new FQDN withdraws the routes at once and configures them again later; a new
 * provider set touches only the providers added or dropped. */
static void test_change(void)
{
	static struct mail m[MAIL_MAX];
	struct world w;
	struct reply r;
	unsigned mark;

	world_make(&w);
	submit_valid(&w);
	CU_ASSERT_TRUE_FATAL(run_until(&w, is_state, "provisioned", WAIT_MS));
	CU_ASSERT_EQUAL(w.nroute, 4);

	http_do(&w, true, "/request/1/change", "ap_fqdn=ap..bad", &r);
	CU_ASSERT_EQUAL(r.code, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body ? r.body : "", "not a valid FQDN"));
	reply_clear(&r);
	CU_ASSERT_EQUAL(w.nroute, 4);

	mark = w.nroute;
	http_do(&w, true, "/request/1/change", "ap_fqdn=ap2.contoso.test&provider_aol=on"
		"&provider_msn=on", &r);
	CU_ASSERT_EQUAL(r.code, 303);
	CU_ASSERT_STRING_EQUAL(r.location, "/request/1");
	reply_clear(&r);
	CU_ASSERT_EQUAL(w.nroute - mark, 4);
	CU_ASSERT_TRUE(route_seen(&w, mark, "del aol contoso.test ap.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, mark, "del msn fabrikam.test ap.contoso.test"));
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "aol"), "pending");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "msn"), "pending");
	CU_ASSERT_TRUE(run_until(&w, is_state, "provisioned", WAIT_MS));
	CU_ASSERT_EQUAL(w.nroute - mark, 8);
	CU_ASSERT_TRUE(route_seen(&w, mark, "add aol contoso.test ap2.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, mark, "add aol fabrikam.test ap2.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, mark, "add msn contoso.test ap2.contoso.test"));
	CU_ASSERT_TRUE(route_seen(&w, mark, "add msn fabrikam.test ap2.contoso.test"));
	CU_ASSERT_EQUAL(mails_read(&w, m, MAIL_MAX), 6);
	CU_ASSERT_PTR_NOT_NULL(strstr(m[3].text, "change for request 1 received"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m[5].text, "can start through ap2.contoso.test"));

	/* Swap MSN for Yahoo!: AOL keeps its routes untouched. */
	mark = w.nroute;
	CU_ASSERT_EQUAL(site_change(w.site, 1, "provider_aol=on&provider_yahoo=on", NULL, 0), 0);
	CU_ASSERT_EQUAL(w.nroute - mark, 2);
	CU_ASSERT_EQUAL(route_count(&w, mark, "del msn"), 2);
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "aol"), "configured");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "msn"), "none");
	CU_ASSERT_STRING_EQUAL(site_provider_state(w.site, 1, "yahoo"), "pending");
	CU_ASSERT_TRUE(run_until(&w, is_state, "provisioned", WAIT_MS));
	CU_ASSERT_EQUAL(w.nroute - mark, 4);
	CU_ASSERT_EQUAL(route_count(&w, mark, "add yahoo"), 2);
	CU_ASSERT_EQUAL(route_count(&w, mark, "add aol"), 0);
	CU_ASSERT_EQUAL(route_count(&w, mark, "add msn"), 0);
	CU_ASSERT_EQUAL(site_request_mails(w.site, 1), 9);

	/* Nothing to change, no provider left, unknown request. */
	CU_ASSERT_EQUAL(site_change(w.site, 1, "provider_aol=on&provider_yahoo=on", NULL, 0),
			EALREADY);
	CU_ASSERT_EQUAL(site_change(w.site, 1, "language=en", NULL, 0), EINVAL);
	CU_ASSERT_EQUAL(site_change(w.site, 2, "ap_fqdn=x.test", NULL, 0), ENOENT);
	world_free(&w);
}

static CU_TestInfo site_tests[] = {
	{ "escape", test_escape },
	{ "form_page", test_form_page },
	{ "submit_empty", test_submit_empty },
	{ "submit_problems", test_submit_problems },
	{ "submit_valid", test_submit_valid },
	{ "change", test_change },
	CU_TEST_INFO_NULL,
};

TEST_SUITE_FIX("site", site_tests, suite_init, suite_clean)
