/* test_presence: contacts, authorization, presence, trust rules, sessions, profiles and faults of
 * the lab IM service, a home server talking straight to a provider over mutual TLS. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "tests/testreg.h"

#include "../im/imsess.h"
#include "../im/imsrv.h"
#include "../ua/ua.h"

#define LOG_MODULE "test_presence"

/* 127.77.209.10.. for this file: home .10, provider .11 */
#define HOME_IP "127.77.209.10"
#define PROV_IP "127.77.209.11"
#define SIP_PORT 5061
#define WAIT_MS 5000

static char pki[64];

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

static const char *const fqdns[2] = { "pool.contoso.test", "sip.aol.test" };

static int suite_init(void)
{
	int i, err;

	log_set_level(getenv("TEST_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
	snprintf(pki, sizeof(pki), "/tmp/test_presence.XXXXXX");
	if (!mkdtemp(pki))
		return 1;
	err = sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Presence Test Root' "
		 "-addext basicConstraints=critical,CA:TRUE "
		 "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null", pki);
	for (i = 0; !err && i < 2; i++)
		err = sh("cd %s && printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature\\n"
			 "extendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=DNS:%s\\n' > %s.ext"
			 " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
			 "-keyout %s.key -out %s.csr -subj '/CN=%s' 2>/dev/null"
			 " && openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
			 "-out %s.pem -days 2 -extfile %s.ext 2>/dev/null", pki, fqdns[i], fqdns[i],
			 fqdns[i], fqdns[i], fqdns[i], fqdns[i], fqdns[i], fqdns[i]);
	return err ? 1 : 0;
}

static int suite_clean(void)
{
	if (pki[0])
		sh("rm -rf %s", pki);
	return 0;
}

struct world {
	struct event_base *base;
	struct tlsctx *stls[2], *ctls[2];
	struct imsrv *home, *prov;
	struct event *deadline;
	size_t mem_start;
};

static void deadline_h(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void tls_make(struct world *w, int h)
{
	char cert[128], key[128], ca[128];
	struct tlsctx_conf tc = { 0 };

	snprintf(cert, sizeof(cert), "%s/%s.pem", pki, fqdns[h]);
	snprintf(key, sizeof(key), "%s/%s.key", pki, fqdns[h]);
	snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
	tc.cert_file = cert;
	tc.key_file = key;
	tc.ca_file = ca;
	tc.require_peer_cert = true;
	CU_ASSERT_EQUAL_FATAL(tlsctx_alloc(&w->stls[h], true, &tc), 0);
	CU_ASSERT_EQUAL_FATAL(tlsctx_alloc(&w->ctls[h], false, &tc), 0);
}

/* contoso.test at home, whose next hop is the provider itself (profile: aol, yahoo or msn;
 * the provider serves aol.test whatever its profile). */
static void world_make(struct world *w, const char *profile)
{
	struct imsrv_conf hc = { 0 }, pc = { 0 };
	struct sockaddr_storage home;

	memset(w, 0, sizeof(*w));
	w->mem_start = mem_live();
	w->base = event_base_new();
	w->deadline = evtimer_new(w->base, deadline_h, w->base);
	tls_make(w, 0);
	tls_make(w, 1);
	pc.role = IMSRV_PROVIDER;
	pc.name = profile;
	pc.fqdn = fqdns[1];
	pc.domain = "aol.test";
	sa_set(&pc.listen, PROV_IP, SIP_PORT);
	pc.server_tls = w->stls[1];
	pc.client_tls = w->ctls[1];
	CU_ASSERT_EQUAL_FATAL(imsrv_alloc(&w->prov, w->base, &pc), 0);
	hc.role = IMSRV_HOME;
	hc.name = "contoso";
	hc.fqdn = fqdns[0];
	hc.domain = "contoso.test";
	sa_set(&hc.listen, HOME_IP, SIP_PORT);
	hc.server_tls = w->stls[0];
	hc.client_tls = w->ctls[0];
	hc.proxy_fqdn = fqdns[1];
	sa_set(&hc.proxy, PROV_IP, SIP_PORT);
	CU_ASSERT_EQUAL_FATAL(imsrv_alloc(&w->home, w->base, &hc), 0);
	sa_set(&home, HOME_IP, SIP_PORT);
	CU_ASSERT_EQUAL(imsrv_route_add(w->prov, "contoso.test", fqdns[0],
					(struct sockaddr *)&home), 0);
	CU_ASSERT_STRING_EQUAL(imsrv_profile(w->prov), profile);
	CU_ASSERT_STRING_EQUAL(imsrv_profile(w->home), "enterprise");
}

static void world_free(struct world *w)
{
	int i;

	w->home = mem_deref(w->home);
	w->prov = mem_deref(w->prov);
	for (i = 0; i < 2; i++) {
		w->stls[i] = mem_deref(w->stls[i]);
		w->ctls[i] = mem_deref(w->ctls[i]);
	}
	event_base_loop(w->base, EVLOOP_NONBLOCK);
	event_free(w->deadline);
	event_base_free(w->base);
	CU_ASSERT_EQUAL(mem_live(), w->mem_start);
}

/* Runs the loop until pred(arg) holds or ms pass; returns the predicate's last value. */
typedef bool (pred_h)(void *arg);

static bool run_while(struct world *w, pred_h *pred, void *arg, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 }, tick = { 0, 20000 };
	struct event *t = evtimer_new(w->base, deadline_h, w->base);
	bool ok;

	evtimer_add(w->deadline, &tv);
	while (!(ok = pred(arg)) && evtimer_pending(w->deadline, NULL)) {
		evtimer_add(t, &tick);
		event_base_loop(w->base, EVLOOP_ONCE);
	}
	evtimer_del(w->deadline);
	event_free(t);
	return ok;
}

static void run_for(struct world *w, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(w->deadline, &tv);
	while (evtimer_pending(w->deadline, NULL))
		event_base_loop(w->base, EVLOOP_ONCE);
}

/* What a user sees of a contact, for predicates. */
struct seen {
	struct ua *u;
	const char *aor;
	enum ua_pres pres;
	const char *substate;
};

static bool seen_pred(void *arg)
{
	struct seen *s = arg;
	struct ua_contact c;

	if (ua_contact_info(s->u, s->aor, &c))
		return false;
	return c.pres == s->pres && (!s->substate || !strcmp(c.substate, s->substate));
}

static bool expect_seen(struct world *w, struct ua *u, const char *aor, enum ua_pres p,
			const char *substate)
{
	struct seen s = { u, aor, p, substate };

	return run_while(w, seen_pred, &s, WAIT_MS);
}

struct authwait {
	struct ua *u;
	const char *aor;
};

static bool auth_pred(void *arg)
{
	struct authwait *a = arg;

	return ua_authreq_pending(a->u, a->aor);
}

static bool expect_authreq(struct world *w, struct ua *u, const char *aor)
{
	struct authwait a = { u, aor };

	return run_while(w, auth_pred, &a, WAIT_MS);
}

struct outcome {
	bool done;
	int status, err;
};

static void resp_h(int status, const char *reason, int err, void *arg)
{
	struct outcome *o = arg;

	o->done = true;
	o->status = status;
	o->err = err;
}

static bool done_pred(void *arg)
{
	return ((struct outcome *)arg)->done;
}

static int send_wait(struct world *w, struct ua *u, const char *to, const char *text,
		     struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	CU_ASSERT_EQUAL_FATAL(ua_send_message(u, to, text, resp_h, o), 0);
	run_while(w, done_pred, o, WAIT_MS);
	return o->status;
}

/* ---- tests ---- */

static void test_subscribe_authorize_notify(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct ua_contact c;

	world_make(&w, "aol");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), EEXIST);
	CU_ASSERT_TRUE(expect_authreq(&w, bob, "alice@contoso.test"));
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_OFFLINE, "pending"));
	CU_ASSERT_EQUAL(ua_authorize(bob, "alice@contoso.test", true), 0);
	CU_ASSERT_EQUAL(ua_authorize(bob, "alice@contoso.test", true), ENOENT);
	CU_ASSERT_TRUE(ua_is_allowed(bob, "alice@contoso.test"));
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_ONLINE, "active"));
	CU_ASSERT_EQUAL(ua_set_presence(bob, UA_AWAY), 0);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_AWAY, "active"));
	CU_ASSERT_EQUAL(ua_contact_info(alice, "bob@aol.test", &c), 0);
	CU_ASSERT_STRING_EQUAL(c.note, "Away");
	CU_ASSERT(c.notifies >= 3);
	/* PUBLISH-less offline: the basic status closes */
	CU_ASSERT_EQUAL(ua_set_presence(bob, UA_OFFLINE), 0);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_OFFLINE, "active"));
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static void test_several_watchers_and_mapping(void)
{
	struct world w;
	struct ua *alice = NULL, *dave = NULL, *bob = NULL;
	struct ua_contact c;

	world_make(&w, "yahoo");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&dave, w.home, "dave@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(ua_allow(bob, "alice@contoso.test", true), 0);
	CU_ASSERT_EQUAL(ua_allow(bob, "dave@contoso.test", true), 0);
	CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(ua_add_contact(dave, "bob@aol.test"), 0);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_ONLINE, "active"));
	CU_ASSERT_TRUE(expect_seen(&w, dave, "bob@aol.test", UA_ONLINE, "active"));
	ua_set_presence(bob, UA_BUSY);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_BUSY, NULL));
	CU_ASSERT_TRUE(expect_seen(&w, dave, "bob@aol.test", UA_BUSY, NULL));

	/* the other way: bob (Yahoo!-like) watches alice; "away" reads "Stepped Out" there and
	 * "in a meeting" reads online (PRES-003) */
	CU_ASSERT_EQUAL(ua_add_contact(bob, "alice@contoso.test"), 0);
	CU_ASSERT_TRUE(expect_authreq(&w, alice, "bob@aol.test"));
	CU_ASSERT_EQUAL(ua_authorize(alice, "bob@aol.test", true), 0);
	CU_ASSERT_TRUE(expect_seen(&w, bob, "alice@contoso.test", UA_ONLINE, "active"));
	ua_set_presence(alice, UA_AWAY);
	CU_ASSERT_TRUE(expect_seen(&w, bob, "alice@contoso.test", UA_AWAY, NULL));
	CU_ASSERT_EQUAL(ua_contact_info(bob, "alice@contoso.test", &c), 0);
	CU_ASSERT_STRING_EQUAL(c.note, "Stepped Out");
	ua_set_presence(alice, UA_MEETING);
	CU_ASSERT_TRUE(expect_seen(&w, bob, "alice@contoso.test", UA_ONLINE, NULL));
	/* an enterprise watcher of alice keeps "in a meeting" */
	CU_ASSERT_EQUAL(ua_allow(alice, "dave@contoso.test", true), 0);
	CU_ASSERT_EQUAL(ua_add_contact(dave, "alice@contoso.test"), 0);
	CU_ASSERT_TRUE(expect_seen(&w, dave, "alice@contoso.test", UA_MEETING, "active"));
	mem_deref(alice);
	mem_deref(dave);
	mem_deref(bob);
	world_free(&w);
}

static bool refreshed_pred(void *arg)
{
	struct seen *s = arg;
	struct ua_contact c;

	return !ua_contact_info(s->u, s->aor, &c) && c.refreshes >= 2;
}

static bool reason_pred(void *arg)
{
	struct seen *s = arg;
	struct ua_contact c;

	return !ua_contact_info(s->u, s->aor, &c) && !strcmp(c.substate, "terminated") &&
	       !strcmp(c.reason, s->substate);
}

static void test_refresh_expiry_unsubscribe(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct seen s;
	char dbg[512];

	world_make(&w, "aol");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	imsrv_set_sub_expires(w.home, 2);
	ua_allow(bob, "alice@contoso.test", true);
	CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), 0);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_ONLINE, "active"));
	s = (struct seen){ alice, "bob@aol.test", UA_ONLINE, NULL };
	CU_ASSERT_TRUE(run_while(&w, refreshed_pred, &s, 4000)); /* refreshed every second */
	CU_ASSERT_TRUE(seen_pred(&s));
	/* no more refreshes: the notifier ends it with reason timeout (RFC 6665 4.2.2) */
	ua_set_auto_refresh(alice, false);
	s.substate = "timeout";
	CU_ASSERT_TRUE(run_while(&w, reason_pred, &s, 4000));
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_OFFLINE, "terminated"));

	/* a new contact, then removed: Expires 0, NOTIFY terminated, no dialog left */
	ua_set_auto_refresh(alice, true);
	imsrv_set_sub_expires(w.home, 600);
	CU_ASSERT_EQUAL(ua_remove_contact(alice, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL(ua_remove_contact(alice, "bob@aol.test"), ENOENT);
	CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), 0);
	CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_ONLINE, "active"));
	imsrv_debug(w.prov, dbg, sizeof(dbg));
	CU_ASSERT_PTR_NOT_NULL(strstr(dbg, "dialogs 1"));
	CU_ASSERT_EQUAL(ua_remove_contact(alice, "bob@aol.test"), 0);
	run_for(&w, 300);
	imsrv_debug(w.prov, dbg, sizeof(dbg));
	CU_ASSERT_PTR_NOT_NULL(strstr(dbg, "dialogs 0"));
	imsrv_debug(w.home, dbg, sizeof(dbg));
	CU_ASSERT_PTR_NOT_NULL(strstr(dbg, "dialogs 0"));
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static void test_notify_before_200_and_unknown(void)
{
	static const struct { const char *profile; const char *substate; } cases[] = {
		{ "aol", "pending" }, { "yahoo", "active" }, { "msn", "terminated" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world w;
		struct ua *alice = NULL, *bob = NULL;

		world_make(&w, cases[i].profile);
		CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
		CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
		imsrv_set_notify_before_200(w.prov, true);
		ua_allow(bob, "alice@contoso.test", true);
		ua_set_presence(bob, UA_BUSY);
		CU_ASSERT_EQUAL(ua_add_contact(alice, "bob@aol.test"), 0);
		CU_ASSERT_TRUE(expect_seen(&w, alice, "bob@aol.test", UA_BUSY, "active"));
		/* CONT-004: no such user, no error, shown offline */
		CU_ASSERT_EQUAL(ua_add_contact(alice, "ghost@aol.test"), 0);
		CU_ASSERT_TRUE(expect_seen(&w, alice, "ghost@aol.test", UA_OFFLINE,
					   cases[i].substate));
		mem_deref(alice);
		mem_deref(bob);
		world_free(&w);
	}
}

/* ---- a raw client standing in for the proxy's internal edge ---- */

struct raw {
	int status[8];
	int n;
};

static void raw_msg_h(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct raw *r = arg;

	if (r->n < 8 && len > 12 && !strncmp(buf, "SIP/2.0 ", 8) && atoi(buf + 8) >= 200)
		r->status[r->n++] = atoi(buf + 8);
	/* NOTIFYs to the raw client stay unanswered: their transactions just time out */
}

static bool raw_pred(void *arg)
{
	struct raw *r = arg;

	return r->n > 0;
}

static int raw_req(struct world *w, struct conn *c, struct raw *r, const char *method,
		   const char *trust, const char *body)
{
	char buf[2048], branch[24];
	int n;

	snprintf(branch, sizeof(branch), "%d%d", rand(), r->n);
	n = snprintf(buf, sizeof(buf),
		     "%s sip:alice@contoso.test SIP/2.0\r\n"
		     "Via: SIP/2.0/TLS ap-int.contoso.test:5061;branch=z9hG4bK%s\r\n"
		     "Max-Forwards: 69\r\nFrom: <sip:bob@aol.test>;tag=b%s\r\n"
		     "To: <sip:alice@contoso.test>\r\nCall-ID: raw%s\r\nCSeq: 1 %s\r\n"
		     "Contact: <sip:bob@aol.test>\r\n%s%s%s"
		     "ms-edge-proxy-message-trust: ms-source-type=InternetDomain;"
		     "ms-ep-fqdn=ap.contoso.test;ms-source-verified-user=%s;"
		     "ms-source-network=publiccloud;ms-remote-fqdn=sip.aol.test\r\n"
		     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
		     method, branch, branch, branch, method,
		     !strcmp(method, "SUBSCRIBE") ? "Event: presence\r\nExpires: 60\r\n" : "",
		     "", "", trust, !strcmp(method, "INVITE") ? "application/sdp" : "text/plain",
		     strlen(body), body);
	r->n = 0;
	CU_ASSERT_EQUAL(conn_send(c, buf, (size_t)n), 0);
	run_while(w, raw_pred, r, WAIT_MS);
	return r->n ? r->status[0] : 0;
}

static void test_trust_rules_and_block(void)
{
	struct world w;
	struct raw r = { { 0 }, 0 };
	struct conn_handlers h = { NULL, raw_msg_h, NULL, &r };
	struct sockaddr_storage home;
	struct conn *c = NULL;
	struct ua *alice = NULL, *bob = NULL;
	struct ua_msg m;

	world_make(&w, "aol");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	sa_set(&home, HOME_IP, SIP_PORT);
	CU_ASSERT_EQUAL_FATAL(conn_connect(&c, w.base, w.ctls[1], NULL, (struct sockaddr *)&home,
					   fqdns[0], &h), 0);
	/* TRUST-006 / TRUST-007: unverified and not on the allow list: refused */
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "SUBSCRIBE", "unverified", ""), 403);
	CU_ASSERT_FALSE(ua_authreq_pending(alice, "bob@aol.test"));
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "MESSAGE", "unverified", "psst"), 403);
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "INVITE", "unverified", "v=0\r\nm=message 5060 sip null\r\n"), 403);
	CU_ASSERT_EQUAL(ua_inbox_count(alice), 0);
	/* verified: the subscription waits for alice's decision, the message passes */
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "SUBSCRIBE", "verified", ""), 202);
	CU_ASSERT_TRUE(ua_authreq_pending(alice, "bob@aol.test"));
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "MESSAGE", "verified", "hello"), 200);
	CU_ASSERT_EQUAL(ua_inbox_take(alice, &m), 0);
	/* on the allow list, unverified passes */
	CU_ASSERT_EQUAL(ua_allow(alice, "bob@aol.test", true), 0);
	CU_ASSERT_FALSE(ua_authreq_pending(alice, "bob@aol.test"));
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "SUBSCRIBE", "unverified", ""), 200);
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "MESSAGE", "unverified", "ok now"), 200);
	CU_ASSERT_EQUAL(raw_req(&w, c, &r, "INVITE", "verified", "v=0\r\nm=audio 4000 RTP/AVP 0\r\n"), 488);
	conn_close(c);
	c = mem_deref(c);

	/* PRES-006: bob, blocked, sees alice offline; his IM gets 480 */
	CU_ASSERT_EQUAL(ua_block(alice, "bob@aol.test", true), 0);
	CU_ASSERT_FALSE(ua_is_allowed(alice, "bob@aol.test"));
	CU_ASSERT_EQUAL(ua_add_contact(bob, "alice@contoso.test"), 0);
	CU_ASSERT_TRUE(expect_seen(&w, bob, "alice@contoso.test", UA_OFFLINE, "active"));
	run_for(&w, 200);
	CU_ASSERT_FALSE(ua_authreq_pending(alice, "bob@aol.test"));
	{
		struct outcome o;

		CU_ASSERT_EQUAL(send_wait(&w, bob, "alice@contoso.test", "hi?", &o), 480);
	}
	/* unblocked and allowed: bob sees alice as she is */
	CU_ASSERT_EQUAL(ua_allow(alice, "bob@aol.test", true), 0);
	CU_ASSERT_TRUE(expect_seen(&w, bob, "alice@contoso.test", UA_ONLINE, "active"));
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

struct sesswait {
	struct imsess *x;
	enum imsess_state st;
	size_t msgs;
};

static bool sess_pred(void *arg)
{
	struct sesswait *s = arg;

	return imsess_state(s->x) == s->st && imsess_inbox_count(s->x) >= s->msgs;
}

struct offerwait {
	struct ua *u;
	struct imsess *x;
};

static bool offer_pred(void *arg)
{
	struct offerwait *o = arg;

	return !o->x && !ua_session_take_offer(o->u, "alice@contoso.test", &o->x);
}

static void test_invite_session(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct imsess *xa = NULL;
	struct offerwait ow = { NULL, NULL };
	struct sesswait sw;
	struct outcome o = { 0 };
	struct ua_msg m;

	world_make(&w, "msn");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_session_start(&xa, alice, "bob@aol.test", resp_h, &o), 0);
	ow.u = bob;
	CU_ASSERT_TRUE_FATAL(run_while(&w, offer_pred, &ow, WAIT_MS));
	CU_ASSERT_EQUAL(imsess_state(ow.x), IMSESS_OFFERED);
	CU_ASSERT_STRING_EQUAL(imsess_peer(ow.x), "alice@contoso.test");
	CU_ASSERT_EQUAL(imsess_answer(ow.x, 0), 0);
	CU_ASSERT_TRUE(run_while(&w, done_pred, &o, WAIT_MS));
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(imsess_state(xa), IMSESS_ESTABLISHED);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(imsess_send(xa, "in the session", resp_h, &o), 0);
	sw = (struct sesswait){ ow.x, IMSESS_ESTABLISHED, 1 };
	CU_ASSERT_TRUE(run_while(&w, sess_pred, &sw, WAIT_MS));
	CU_ASSERT_EQUAL(imsess_take(ow.x, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.body, "in the session");
	CU_ASSERT_TRUE(run_while(&w, done_pred, &o, WAIT_MS));
	CU_ASSERT_EQUAL(o.status, 200);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(imsess_send(ow.x, "and back", resp_h, &o), 0);
	sw = (struct sesswait){ xa, IMSESS_ESTABLISHED, 1 };
	CU_ASSERT_TRUE(run_while(&w, sess_pred, &sw, WAIT_MS));
	CU_ASSERT_TRUE(run_while(&w, done_pred, &o, WAIT_MS));
	CU_ASSERT_EQUAL(imsess_take(xa, &m), 0);
	CU_ASSERT_STRING_EQUAL(m.from, "bob@aol.test");
	CU_ASSERT_EQUAL(ua_inbox_count(bob), 0); /* session messages stay in the session */
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(imsess_bye(ow.x, resp_h, &o), 0);
	sw = (struct sesswait){ xa, IMSESS_ENDED, 0 };
	CU_ASSERT_TRUE(run_while(&w, sess_pred, &sw, WAIT_MS));
	CU_ASSERT_STRING_EQUAL(imsess_end_reason(xa), "BYE");
	CU_ASSERT_TRUE(run_while(&w, done_pred, &o, WAIT_MS));
	CU_ASSERT_EQUAL(o.status, 200);
	CU_ASSERT_EQUAL(imsess_send(xa, "too late", resp_h, &o), EINVAL);

	/* refused: bob offline at the MSN-like provider */
	ua_set_presence(bob, UA_OFFLINE);
	mem_deref(xa);
	xa = NULL;
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(ua_session_start(&xa, alice, "bob@aol.test", resp_h, &o), 0);
	CU_ASSERT_TRUE(run_while(&w, done_pred, &o, WAIT_MS));
	CU_ASSERT_EQUAL(o.status, 408);
	CU_ASSERT_EQUAL(imsess_state(xa), IMSESS_ENDED);
	mem_deref(xa);
	mem_deref(ow.x);
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static void test_offline_answers_and_size(void)
{
	static const struct { const char *profile; int offline; size_t limit; } cases[] = {
		{ "aol", 480, 2048 }, { "yahoo", 202, 8192 }, { "msn", 408, 1664 },
	};
	static char big[9000];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world w;
		struct ua *alice = NULL, *bob = NULL;
		struct outcome o;
		struct ua_msg m;

		world_make(&w, cases[i].profile);
		CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
		CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
		memset(big, 'x', cases[i].limit + 1);
		big[cases[i].limit + 1] = '\0';
		CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", big, &o), 413);
		big[cases[i].limit] = '\0';
		CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", big, &o), 200);
		CU_ASSERT_EQUAL(ua_inbox_take(bob, &m), 0);
		ua_set_presence(bob, UA_OFFLINE);
		CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", "are you there", &o),
				cases[i].offline);
		CU_ASSERT_EQUAL(ua_inbox_count(bob), 0);
		ua_set_presence(bob, UA_ONLINE);
		/* the Yahoo!-like provider delivers what it stored */
		CU_ASSERT_EQUAL(ua_inbox_count(bob), cases[i].offline == 202 ? 1 : 0);
		mem_deref(alice);
		mem_deref(bob);
		world_free(&w);
	}
}

static void test_faults(void)
{
	struct world w;
	struct ua *alice = NULL, *bob = NULL;
	struct imsrv_fault f;
	struct outcome o;

	world_make(&w, "aol");
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&alice, w.home, "alice@contoso.test"), 0);
	CU_ASSERT_EQUAL_FATAL(ua_alloc(&bob, w.prov, "bob@aol.test"), 0);
	imsrv_set_timer_f(w.home, 400);
	f = (struct imsrv_fault){ .method = "MESSAGE", .respond = 503 };
	CU_ASSERT_EQUAL(imsrv_fault_add(w.prov, &f), 0);
	CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", "one", &o), 503);
	imsrv_fault_clear(w.prov);
	f = (struct imsrv_fault){ .method = "MESSAGE", .withhold_response = true };
	CU_ASSERT_EQUAL(imsrv_fault_add(w.prov, &f), 0);
	send_wait(&w, alice, "bob@aol.test", "two", &o);
	CU_ASSERT_EQUAL(o.status, 0);
	CU_ASSERT_EQUAL(o.err, ETIMEDOUT);
	imsrv_fault_clear(w.prov);
	f = (struct imsrv_fault){ .delay_ms = 200 };
	CU_ASSERT_EQUAL(imsrv_fault_add(w.prov, &f), 0);
	CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", "three", &o), 200);
	imsrv_fault_clear(w.prov);
	f = (struct imsrv_fault){ .method = "MESSAGE", .drop_next_connection = true };
	CU_ASSERT_EQUAL(imsrv_fault_add(w.prov, &f), 0);
	send_wait(&w, alice, "bob@aol.test", "four", &o);
	CU_ASSERT_EQUAL(o.status, 0);
	CU_ASSERT_EQUAL(o.err, ECONNRESET);
	/* one-shot: the next message gets through on a new connection */
	CU_ASSERT_EQUAL(send_wait(&w, alice, "bob@aol.test", "five", &o), 200);
	f = (struct imsrv_fault){ .respond = 99 };
	CU_ASSERT_EQUAL(imsrv_fault_add(w.prov, &f), EINVAL);
	mem_deref(alice);
	mem_deref(bob);
	world_free(&w);
}

static CU_TestInfo presence_tests[] = {
	{ "SUBSCRIBE, authorization, NOTIFY with PIDF", test_subscribe_authorize_notify },
	{ "several watchers, state mapping per profile", test_several_watchers_and_mapping },
	{ "refresh, expiry (timeout), unsubscribe", test_refresh_expiry_unsubscribe },
	{ "NOTIFY before 200, unknown contacts offline", test_notify_before_200_and_unknown },
	{ "trust rules, allow and block lists", test_trust_rules_and_block },
	{ "INVITE text session", test_invite_session },
	{ "offline answers and size limits per profile", test_offline_answers_and_size },
	{ "faults on demand", test_faults },
	CU_TEST_INFO_NULL,
};

TEST_SUITE_FIX("presence", presence_tests, suite_init, suite_clean)
