/* test_imsrv: a home server and a provider relaying MESSAGE over mutual TLS on loopback. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "tests/testreg.h"
#include "../dns/fakedns.h"

#include "../im/imsrv.h"
#include "../ua/ua.h"

#define LOG_MODULE "test_imsrv"

/* Every host of this test has its own address in 127.77.209.0/24, all on port 5061. */
#define HOME_IP     "127.77.209.1"
#define AOL_IP      "127.77.209.2"
#define FAB_IP      "127.77.209.3"
#define SILENT_IP   "127.77.209.4"
#define SLAM_IP     "127.77.209.5"
#define DNS_IP      "127.77.209.6"
#define DNS_PORT    15353
#define SIP_PORT    5061
#define WAIT_MS     5000

static char pki_dir[64];

enum host { H_HOME = 0, H_AOL, H_FAB, H_COUNT };
static const char *const host_fqdn[H_COUNT] = {
	"pool.contoso.test", "sip.aol.test", "pool.fabrikam.test",
};

/* ---- the PKI: one root and a leaf per host, made with the openssl command line ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : EIO;
}

static int pki_make(void)
{
	int i, err;

	snprintf(pki_dir, sizeof(pki_dir), "/tmp/test_imsrv.XXXXXX");
	if (!mkdtemp(pki_dir))
		return errno;
	err = sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=PIClab Test Root' "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null", pki_dir);
	for (i = 0; !err && i < H_COUNT; i++) {
		const char *n = host_fqdn[i];

		err = sh("cd %s && printf 'basicConstraints=CA:FALSE\\n"
			 "keyUsage=digitalSignature\\n"
			 "extendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=DNS:%s\\n' > %s.ext"
			 " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
			 "-keyout %s.key -out %s.csr -subj '/CN=%s' 2>/dev/null"
			 " && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
			 "-out %s.pem -days 2 -extfile %s.ext 2>/dev/null",
			 pki_dir, n, n, n, n, n, n, n, n);
	}
	return err;
}

static int suite_init(void)
{
	log_set_level(getenv("TEST_DEBUG") ? LOGL_DEBUG : LOGL_WARN);
	return pki_make() ? 1 : 0;
}

static int suite_clean(void)
{
	if (pki_dir[0])
		sh("rm -rf %s", pki_dir);
	return 0;
}

/* ---- the world of one test ---- */

struct world {
	struct event_base *base;
	struct tlsctx *stls[H_COUNT], *ctls[H_COUNT];
	struct imsrv *srv[H_COUNT];
	struct event *deadline;
	size_t mem_start;
};

/* Outcome of one ua_send_message. */
struct outcome {
	struct world *w;
	bool done;
	int status, err;
	char reason[64];
};

static int tls_make(struct world *w, enum host h)
{
	char cert[128], key[128], ca[128];
	struct tlsctx_conf tc = { 0 };
	int err;

	snprintf(cert, sizeof(cert), "%s/%s.pem", pki_dir, host_fqdn[h]);
	snprintf(key, sizeof(key), "%s/%s.key", pki_dir, host_fqdn[h]);
	snprintf(ca, sizeof(ca), "%s/ca.pem", pki_dir);
	tc.cert_file = cert;
	tc.key_file = key;
	tc.ca_file = ca;
	tc.require_peer_cert = true;
	err = tlsctx_alloc(&w->stls[h], true, &tc);
	if (!err)
		err = tlsctx_alloc(&w->ctls[h], false, &tc);
	return err;
}

static void deadline_h(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the loop until *flag is set (handlers break the loop) or ms pass. */
static void run_until(struct world *w, const bool *flag, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(w->deadline, &tv);
	while (!*flag && evtimer_pending(w->deadline, NULL))
		event_base_loop(w->base, EVLOOP_ONCE);
	evtimer_del(w->deadline);
}

static void resp_h(int status, const char *reason, int err, void *arg)
{
	struct outcome *o = arg;

	o->done = true;
	o->status = status;
	o->err = err;
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
	event_base_loopbreak(o->w->base);
}

static int server_make(struct world *w, enum host h, enum imsrv_role role, const char *domain,
		       const char *proxy_ip, const char *proxy_fqdn)
{
	static const char *const ips[H_COUNT] = { HOME_IP, AOL_IP, FAB_IP };
	struct imsrv_conf c = { 0 };

	c.role = role;
	c.name = domain;
	c.fqdn = host_fqdn[h];
	c.domain = domain;
	sa_set(&c.listen, ips[h], SIP_PORT);
	c.server_tls = w->stls[h];
	c.client_tls = w->ctls[h];
	if (proxy_ip) {
		c.proxy_fqdn = proxy_fqdn;
		sa_set(&c.proxy, proxy_ip, SIP_PORT);
	}
	if (role == IMSRV_PROVIDER)
		sa_set(&c.dns, DNS_IP, DNS_PORT);
	return imsrv_alloc(&w->srv[h], w->base, &c);
}

/* contoso.test (home, its "proxy" being the AOL provider itself), aol.test (provider routing
 * contoso.test to the home server) and fabrikam.test (home, never provisioned at AOL). */
static void world_make(struct world *w)
{
	struct sockaddr_storage home;
	int i;

	memset(w, 0, sizeof(*w));
	w->mem_start = mem_live();
	w->base = event_base_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->base);
	w->deadline = evtimer_new(w->base, deadline_h, w->base);
	for (i = 0; i < H_COUNT; i++)
		CU_ASSERT_EQUAL_FATAL(tls_make(w, i), 0);
	CU_ASSERT_EQUAL_FATAL(server_make(w, H_AOL, IMSRV_PROVIDER, "aol.test", NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(server_make(w, H_HOME, IMSRV_HOME, "contoso.test", AOL_IP,
					  "sip.aol.test"), 0);
	CU_ASSERT_EQUAL_FATAL(server_make(w, H_FAB, IMSRV_HOME, "fabrikam.test", AOL_IP,
					  "sip.aol.test"), 0);
	sa_set(&home, HOME_IP, SIP_PORT);
	CU_ASSERT_EQUAL(imsrv_route_add(w->srv[H_AOL], "contoso.test", "pool.contoso.test",
					(struct sockaddr *)&home), 0);
}

static void world_free(struct world *w)
{
	int i;

	for (i = 0; i < H_COUNT; i++) {
		w->srv[i] = mem_deref(w->srv[i]);
		w->stls[i] = mem_deref(w->stls[i]);
		w->ctls[i] = mem_deref(w->ctls[i]);
	}
	/* let closed connections finish their business before the loop goes */
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	event_free(w->deadline);
	event_base_free(w->base);
	CU_ASSERT_EQUAL(mem_live(), w->mem_start);
}

static void send_wait(struct world *w, struct ua *u, const char *to, const char *text,
		      struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->w = w;
	CU_ASSERT_EQUAL_FATAL(ua_send_message(u, to, text, resp_h, o), 0);
	run_until(w, &o->done, WAIT_MS);
	CU_ASSERT_TRUE(o->done);
}

/* ---- tests ---- */

static void test_message_both_ways(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct ua_msg m;
	struct outcome o;

	world_make(&w);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.srv[H_AOL], "bob@aol.test"), 0);
	CU_ASSERT_STRING_EQUAL(ua_aor(alice), "alice@contoso.test");

	send_wait(&w, alice, "bob@aol.test", "hello bob", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(o.err, 0);
	CU_ASSERT_EQUAL(ua_inbox_count(bob), 1);
	CU_ASSERT_EQUAL(ua_inbox_take(bob, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.from, "alice@contoso.test");
	CU_ASSERT_STRING_EQUAL(m.to, "bob@aol.test");
	CU_ASSERT_STRING_EQUAL(m.body, "hello bob");
	CU_ASSERT_STRING_EQUAL(m.trust, "");
	CU_ASSERT(m.call_id[0] != '\0');
	CU_ASSERT_EQUAL(ua_inbox_take(bob, &m), ENOENT);
	CU_ASSERT_EQUAL(imsrv_requests_out(w.srv[H_HOME]), 1);
	CU_ASSERT_EQUAL(imsrv_requests_in(w.srv[H_AOL]), 1);

	/* a second message reuses the persistent connection */
	send_wait(&w, alice, "bob@aol.test", "still there?", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_count(bob), 1);

	send_wait(&w, bob, "alice@contoso.test", "hi alice", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_take(alice, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.from, "bob@aol.test");
	CU_ASSERT_STRING_EQUAL(m.body, "hi alice");
	CU_ASSERT_EQUAL(imsrv_requests_in(w.srv[H_HOME]), 1);

	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static void test_refusals(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL, *carol = NULL, *mallory = NULL, *dup = NULL;
	struct outcome o;

	world_make(&w);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.srv[H_AOL], "bob@aol.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&carol, w.srv[H_FAB], "carol@fabrikam.test"), 0);
	/* a user of fabrikam's server claiming a contoso From */
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&mallory, w.srv[H_FAB], "mallory@contoso.test"), 0);
	CU_ASSERT_EQUAL(ua_alloc(&dup, w.srv[H_HOME], "alice@contoso.test"), EEXIST);
	CU_ASSERT_EQUAL(ua_alloc(&dup, w.srv[H_HOME], "no-domain"), EINVAL);

	send_wait(&w, carol, "bob@aol.test", "let me in", &o);
	CU_ASSERT_EQUAL(o.status, 403);
	CU_ASSERT_STRING_EQUAL(o.reason, "Forbidden (not provisioned)");

	send_wait(&w, mallory, "bob@aol.test", "I am contoso", &o);
	CU_ASSERT_EQUAL(o.status, 403);
	CU_ASSERT_EQUAL(ua_inbox_count(bob), 0);

	send_wait(&w, alice, "nobody@aol.test", "anyone?", &o);
	CU_ASSERT_EQUAL(o.status, 404);

	send_wait(&w, bob, "carol@fabrikam.test", "unrouted", &o);
	CU_ASSERT_EQUAL(o.status, 404);
	CU_ASSERT_STRING_EQUAL(o.reason, "No route");
	CU_ASSERT_EQUAL(ua_inbox_count(carol), 0);

	send_wait(&w, alice, "ghost@contoso.test", "local miss", &o);
	CU_ASSERT_EQUAL(o.status, 404);

	CU_ASSERT_EQUAL(ua_send_message(alice, "not-an-aor", "x", resp_h, &o), EINVAL);
	CU_ASSERT_EQUAL(ua_send_message(alice, "bob@aol.test>\r\nX: y", "x", resp_h, &o),
			EINVAL);

	mem_deref(alice);
	mem_deref(bob);
	mem_deref(carol);
	mem_deref(mallory);
	world_free(&w);
}

static void test_local_delivery(void)
{
	struct world w;
	struct ua *alice = NULL, *dave = NULL;
	struct ua_msg m;
	struct outcome o;

	world_make(&w);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&dave, w.srv[H_HOME], "dave@contoso.test"), 0);
	memset(&o, 0, sizeof(o));
	o.w = &w;
	CU_ASSERT_EQUAL(ua_send_message(alice, "dave@contoso.test", "next door", resp_h, &o), 0);
	CU_ASSERT_FALSE(o.done); /* never reported from inside the call */
	run_until(&w, &o.done, WAIT_MS);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_take(dave, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.body, "next door");
	CU_ASSERT_EQUAL(imsrv_requests_out(w.srv[H_HOME]), 0);
	mem_deref(alice);
	mem_deref(dave);
	world_free(&w);
}

/* A raw client standing in for the proxy's internal edge: what it receives, in order. */
struct raw {
	struct world *w;
	int statuses[4];
	int n;
};

static void raw_msg_h(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct raw *r = arg;

	if (r->n < 4 && len > 12 && !strncmp(buf, "SIP/2.0 ", 8))
		r->statuses[r->n++] = atoi(buf + 8);
	event_base_loopbreak(r->w->base);
}

static void raw_send(struct conn *c, const char *method, const char *ruri, const char *extra,
		     const char *body)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "%s %s SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS ap-int.contoso.test:5061;branch=z9hG4bK%s%s\r\n"
		     "Max-Forwards: 69\r\n"
		     "From: <sip:bob@aol.test>;tag=1928\r\n"
		     "To: <%s>\r\n"
		     "Call-ID: raw-%s@ap\r\n"
		     "CSeq: 1 %s\r\n"
		     "%s"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, ruri, method, ruri + 4, ruri, method, method, extra, strlen(body),
		     body);
	CU_ASSERT_EQUAL(conn_send(c, buf, (size_t)n), 0);
}

/* Requests from the network are answered on their own connection; the trust mark reaches the
 * user unchanged. */
static void test_inbound_from_edge(void)
{
	struct world w;
	struct raw r = { 0 };
	struct conn_handlers h = { NULL, raw_msg_h, NULL, &r };
	struct sockaddr_storage home;
	struct conn *c = NULL;
	struct ua *alice = NULL;
	struct ua_msg m;
	int want;

	world_make(&w);
	r.w = &w;
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	sa_set(&home, HOME_IP, SIP_PORT);
	CU_ASSERT_EQUAL_FATAL(conn_connect(&c, w.base, w.ctls[H_FAB], NULL,
					   (struct sockaddr *)&home, "pool.contoso.test", &h), 0);
	raw_send(c, "MESSAGE", "sip:alice@contoso.test",
		 "ms-edge-proxy-message-trust: ms-source-network=\"federation\";"
		 "ms-source-verified-user=verified\r\n", "from outside");
	raw_send(c, "MESSAGE", "sip:zed@contoso.test", "", "nobody");
	raw_send(c, "OPTIONS", "sip:contoso.test", "", "");
	raw_send(c, "INFO", "sip:alice@contoso.test", "", "");
	for (want = 1; want <= 4; want++) {
		struct timeval tv = { WAIT_MS / 1000, 0 };

		evtimer_add(w.deadline, &tv);
		while (r.n < want && evtimer_pending(w.deadline, NULL))
			event_base_loop(w.base, EVLOOP_ONCE);
		evtimer_del(w.deadline);
	}
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	CU_ASSERT_EQUAL(r.statuses[0], 200);
	CU_ASSERT_EQUAL(r.statuses[1], 404);
	CU_ASSERT_EQUAL(r.statuses[2], 200);
	CU_ASSERT_EQUAL(r.statuses[3], 405);
	CU_ASSERT_EQUAL(ua_inbox_take(alice, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.from, "bob@aol.test");
	CU_ASSERT_STRING_EQUAL(m.body, "from outside");
	CU_ASSERT_STRING_EQUAL(m.trust,
			       "ms-source-network=\"federation\";ms-source-verified-user=verified");
	CU_ASSERT_EQUAL(imsrv_requests_in(w.srv[H_HOME]), 4);
	conn_close(c);
	mem_deref(c);
	mem_deref(alice);
	world_free(&w);
}

/* A peer that accepts TLS and then either ignores everything or hangs up on the first byte. */
struct badpeer {
	bool slam;
	struct conn *conns[4];
	int n;
};

static void badpeer_msg_h(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct badpeer *b = arg;
	int i;

	if (!b->slam)
		return;
	for (i = 0; i < b->n; i++) {
		if (b->conns[i] == c) {
			conn_close(c);
			b->conns[i] = mem_deref(c);
		}
	}
}

static void badpeer_close_h(struct conn *c, int err, void *arg)
{
	struct badpeer *b = arg;
	int i;

	for (i = 0; i < b->n; i++)
		if (b->conns[i] == c)
			b->conns[i] = mem_deref(c);
}

static void badpeer_accept_h(struct conn *c, void *arg)
{
	struct badpeer *b = arg;
	struct conn_handlers h = { NULL, badpeer_msg_h, badpeer_close_h, b };

	if (b->n == 4) {
		conn_close(c);
		mem_deref(c);
		return;
	}
	b->conns[b->n++] = c;
	conn_set_handlers(c, &h);
}

static void badpeer_case(bool slam, int want_err)
{
	struct world w;
	struct badpeer b = { .slam = slam };
	struct listener *l = NULL;
	struct sockaddr_storage sa;
	struct imsrv_conf c = { 0 };
	struct imsrv *home = NULL;
	struct ua *alice = NULL;
	struct outcome o;
	int i;

	world_make(&w);
	sa_set(&sa, slam ? SLAM_IP : SILENT_IP, SIP_PORT);
	CU_ASSERT_EQUAL_FATAL(listener_alloc(&l, w.base, w.stls[H_AOL], (struct sockaddr *)&sa,
					     false, badpeer_accept_h, &b), 0);
	/* a second contoso home whose proxy is the bad peer */
	c.role = IMSRV_HOME;
	c.fqdn = "pool.contoso.test";
	c.domain = "contoso.test";
	sa_set(&c.listen, HOME_IP, SIP_PORT + 1);
	c.server_tls = w.stls[H_HOME];
	c.client_tls = w.ctls[H_HOME];
	c.proxy_fqdn = "sip.aol.test";
	c.proxy = sa;
	CU_ASSERT_EQUAL_FATAL(imsrv_alloc(&home, w.base, &c), 0);
	imsrv_set_timer_f(home, 300);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, home, "alice@contoso.test"), 0);

	send_wait(&w, alice, "bob@aol.test", "anyone?", &o);
	CU_ASSERT_EQUAL(o.status, 0);
	CU_ASSERT_EQUAL(o.err, want_err);

	mem_deref(alice);
	mem_deref(home);
	for (i = 0; i < b.n; i++) {
		if (b.conns[i])
			conn_close(b.conns[i]);
		mem_deref(b.conns[i]);
	}
	mem_deref(l);
	world_free(&w);
}

static void test_timer_f(void)
{
	badpeer_case(false, ETIMEDOUT);
}

static void test_connection_lost(void)
{
	badpeer_case(true, ECONNRESET);
}

/* DNS-002: a route given by FQDN alone reaches the edge by its A record; a withdrawn route
 * refuses traffic again; a server without DNS refuses a route without an address. */
static void test_route_by_dns(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct fakedns *dns = NULL;
	struct sockaddr_storage ns;
	struct outcome o;

	world_make(&w);
	sa_set(&ns, DNS_IP, DNS_PORT);
	CU_ASSERT_EQUAL_FATAL(fakedns_alloc(&dns, w.base, (struct sockaddr *)&ns,
					    "pool.contoso.test. 300 IN A " HOME_IP "\n"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.srv[H_AOL], "bob@aol.test"), 0);

	CU_ASSERT_EQUAL(imsrv_route_del(w.srv[H_AOL], "contoso.test"), 0);
	CU_ASSERT_EQUAL(imsrv_route_del(w.srv[H_AOL], "contoso.test"), ENOENT);
	send_wait(&w, bob, "alice@contoso.test", "no route", &o);
	CU_ASSERT_EQUAL(o.status, 404);
	CU_ASSERT_EQUAL(fakedns_queries(dns), 0);

	CU_ASSERT_EQUAL(imsrv_route_add(w.srv[H_AOL], "contoso.test", "pool.contoso.test", NULL),
			0);
	send_wait(&w, bob, "alice@contoso.test", "by its A record", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_count(alice), 1);
	CU_ASSERT(fakedns_queries(dns) >= 1);

	/* a name the DNS does not know: the request fails, it is not sent anywhere */
	CU_ASSERT_EQUAL(imsrv_route_add(w.srv[H_AOL], "fabrikam.test", "nowhere.fabrikam.test",
					NULL), 0);
	send_wait(&w, bob, "carl@fabrikam.test", "nobody there", &o);
	CU_ASSERT_NOT_EQUAL(o.status, 200);

	CU_ASSERT_EQUAL(imsrv_route_add(w.srv[H_HOME], "aol.test", "sip.aol.test", NULL), EINVAL);
	CU_ASSERT_EQUAL(imsrv_route_add(w.srv[H_AOL], NULL, "x.test", NULL), EINVAL);
	CU_ASSERT_EQUAL(imsrv_route_del(w.srv[H_AOL], NULL), EINVAL);

	mem_deref(alice);
	mem_deref(bob);
	mem_deref(dns);
	world_free(&w);
}

/* DNS-001: a route found by the domain's federation SRV record, then the target's A record. */
static void test_route_by_srv(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct fakedns *dns = NULL;
	struct sockaddr_storage ns;
	struct outcome o;

	world_make(&w);
	sa_set(&ns, DNS_IP, DNS_PORT);
	CU_ASSERT_EQUAL_FATAL(fakedns_alloc(&dns, w.base, (struct sockaddr *)&ns,
		"_sipfederationtls._tcp.contoso.test. 300 IN SRV 0 0 5061 pool.contoso.test.\n"
		"pool.contoso.test. 300 IN A " HOME_IP "\n"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.srv[H_AOL], "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(imsrv_route_add_srv(w.srv[H_AOL], "contoso.test"), 0);
	send_wait(&w, bob, "alice@contoso.test", "by SRV", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_count(alice), 1);
	CU_ASSERT(fakedns_queries(dns) >= 2); /* SRV, then A */
	/* no SRV record for fabrikam.test: nothing is sent */
	CU_ASSERT_EQUAL(imsrv_route_add_srv(w.srv[H_AOL], "fabrikam.test"), 0);
	send_wait(&w, bob, "carl@fabrikam.test", "nobody there", &o);
	CU_ASSERT_NOT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(imsrv_route_add_srv(w.srv[H_HOME], "aol.test"), EINVAL); /* no DNS */
	CU_ASSERT_EQUAL(imsrv_route_add_srv(w.srv[H_AOL], ""), EINVAL);
	mem_deref(alice);
	mem_deref(bob);
	mem_deref(dns);
	world_free(&w);
}

/* A scenario's knobs: the wording and the offline answer (refused when malformed), and a stop
 * and start that keep the users. */
static void test_knobs(void)
{
	static const char *const bad_notes[] = { "", "a <b>", "x & y", "quote\"", "tab\there",
		"0123456789012345678901234567890123456789012345678901234567890123" };
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct outcome o;
	size_t i;

	world_make(&w);
	for (i = 0; i < sizeof(bad_notes) / sizeof(bad_notes[0]); i++)
		CU_ASSERT_EQUAL(imsrv_set_note(w.srv[H_AOL], PROFILE_AWAY, bad_notes[i]), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_note(w.srv[H_AOL], PROFILE_NPRES, "x"), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_note(w.srv[H_AOL], PROFILE_AWAY, "Gone Fishing"), 0);
	CU_ASSERT_EQUAL(imsrv_set_offline_answer(w.srv[H_AOL], 199, "x"), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_offline_answer(w.srv[H_AOL], 700, "x"), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_offline_answer(w.srv[H_AOL], 404, ""), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_offline_answer(w.srv[H_AOL], 404, "a\r\nb"), EINVAL);
	CU_ASSERT_EQUAL(imsrv_set_offline_answer(w.srv[H_AOL], 410, "Gone (test)"), 0);

	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.srv[H_HOME], "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.srv[H_AOL], "bob@aol.test"), 0);
	ua_set_presence(bob, UA_OFFLINE);
	send_wait(&w, alice, "bob@aol.test", "offline?", &o);
	CU_ASSERT_EQUAL(o.status, 410);
	CU_ASSERT_STRING_EQUAL(o.reason, "Gone (test)");

	ua_set_presence(bob, UA_ONLINE);
	CU_ASSERT_EQUAL(imsrv_stop(w.srv[H_AOL]), 0);
	CU_ASSERT_EQUAL(imsrv_stop(w.srv[H_AOL]), EALREADY);
	send_wait(&w, alice, "bob@aol.test", "while stopped", &o);
	CU_ASSERT_NOT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(imsrv_start(w.srv[H_AOL]), 0);
	CU_ASSERT_EQUAL(imsrv_start(w.srv[H_AOL]), EALREADY);
	send_wait(&w, alice, "bob@aol.test", "back", &o);
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(ua_inbox_count(bob), 1);
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static CU_TestInfo imsrv_tests[] = {
	{ "MESSAGE home -> provider and back", test_message_both_ways },
	{ "403 unprovisioned, 404 unknown user and no route", test_refusals },
	{ "delivery between users of one server", test_local_delivery },
	{ "inbound requests answered on their connection", test_inbound_from_edge },
	{ "Timer F reports ETIMEDOUT", test_timer_f },
	{ "lost connection reports ECONNRESET", test_connection_lost },
	{ "routes by DNS, withdrawn routes", test_route_by_dns },
	{ "routes by SRV", test_route_by_srv },
	{ "note, offline answer, stop and start", test_knobs },
	CU_TEST_INFO_NULL,
};

TEST_SUITE_FIX("imsrv", imsrv_tests, suite_init, suite_clean)
