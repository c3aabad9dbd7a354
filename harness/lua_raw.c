/* lua_raw: raw SIP bytes from a lab site straight to the proxy edge it faces, over the site's own
 * mutual TLS (or a deliberately wrong one: plain TCP, no certificate, a bad certificate, one TLS
 * version) — for torture tests and protocol probes the user agents would never send. */
#define LOG_MODULE "raw"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "sip/sipmsg.h"
#include "sip/sipscan.h"
#include "../fakes/ca/labca.h"
#include "lab.h"
#include "scen.h"

#define RAW_MAX_RESP 64

/* How the probe connects (the options of send_raw). */
struct raw_opts {
	double timeout;
	bool plain;              /* tls = false: TCP to the TLS port */
	bool no_cert;
	bool bad;                /* cert = <kind> */
	enum labca_bad kind;
	int version;             /* 0, TLS1_2_VERSION or TLS1_3_VERSION */
	int finals;              /* final responses to wait for (default 1) */
};

struct raw {
	struct conn *c;
	struct tlsctx *tls;      /* this probe's own client context */
	char alert[96];          /* first fatal alert, received or sent */
	bool alert_sent;
	int version;             /* negotiated protocol version */
	char cipher[64];         /* negotiated suite (OpenSSL name) */
	X509 *peer;              /* the certificate the proxy showed (TLS-007: after a reload) */
	int hs_done;             /* handshake messages done: a second is a TLS 1.3 ticket */
	bool got_msg;            /* a SIP message came back */
	struct scen_waiter *w;
	struct event *timer;
	struct {
		int status;
		char reason[128];
		char *text;
		bool unparsable;     /* libosip2 refuses it: status from the tolerant scanner */
	} resp[RAW_MAX_RESP];
	int nresp;
	int finals, nfinal;      /* final responses to wait for, and seen */
	int close_err;
	bool closed;
	bool established;
	bool done;
};

/* The probe is found from its SSL_CTX through this ex_data slot (alerts, version). */
static int raw_exidx = -1;

static void raw_destroy(void *data)
{
	struct raw *r = data;
	int i;

	if (r->timer)
		event_free(r->timer);
	if (r->c)
		conn_close(r->c);
	mem_deref(r->c);
	if (r->tls)
		SSL_CTX_set_ex_data(tlsctx_ssl_ctx(r->tls), raw_exidx, NULL);
	mem_deref(r->tls);
	X509_free(r->peer);
	for (i = 0; i < r->nresp; i++)
		mem_deref(r->resp[i].text);
}

/* True when the server accepted us. TLS 1.3 (RFC 8446 4.4.2) lets the client finish before the
 * server has judged the client certificate, so "established" alone proves nothing there: the
 * server's acceptance shows as a session ticket (RFC 8446 4.6.1), an answer, or a connection
 * still open when the wait ended; a close before any of them is a refusal (a peer may close
 * without the alert reaching us). */
static bool raw_handshake_ok(const struct raw *r)
{
	if (!r->established || r->alert[0])
		return false;
	if (r->version != TLS1_3_VERSION)
		return true;
	return r->hs_done > 1 || r->got_msg || !r->closed;
}

/* handshake: "none" for plain TCP; "ok" or "failed" (raw_handshake_ok) with the alert. */
static void raw_push_tls(lua_State *co, const struct raw *r)
{
	char reason[200];
	bool ok = raw_handshake_ok(r);

	lua_pushstring(co, !r->tls ? "none" : ok ? "ok" : "failed");
	lua_setfield(co, -2, "handshake");
	if (!r->tls)
		return;
	if (r->version) {
		lua_pushstring(co, r->version == TLS1_3_VERSION ? "1.3" :
			       r->version == TLS1_2_VERSION ? "1.2" : "other");
		lua_setfield(co, -2, "tls_version");
		lua_pushstring(co, r->cipher);
		lua_setfield(co, -2, "cipher");
	}
	if (r->peer) {
		lua_tls_push_cert(co, r->peer);
		lua_setfield(co, -2, "peer_cert");
	}
	if (r->alert[0]) {
		lua_pushstring(co, r->alert);
		lua_setfield(co, -2, "alert");
		lua_pushboolean(co, r->alert_sent);
		lua_setfield(co, -2, "alert_sent");
	}
	if (ok)
		return;
	if (r->alert[0])
		snprintf(reason, sizeof(reason), "%s alert: %s", r->alert_sent ? "sent" :
			 "received", r->alert);
	else if (r->closed)
		snprintf(reason, sizeof(reason), "connection closed %s the handshake: %s",
			 r->established ? "by the server right after" : "during",
			 r->close_err ? strerror(r->close_err) : "by peer");
	else
		snprintf(reason, sizeof(reason), "no handshake before the timeout");
	lua_pushstring(co, reason);
	lua_setfield(co, -2, "reason");
}

/* Pushes { responses = {...}, final = <first final or nil>, closed = bool, error = str } on co
 * and resumes the scenario. */
static void raw_finish(struct raw *r)
{
	lua_State *co;
	int i, final = -1;

	if (r->done)
		return;
	r->done = true;
	if (r->timer)
		event_del(r->timer);
	co = scen_waiter_thread(r->w);
	if (!co)
		return;
	lua_createtable(co, 0, 5);
	lua_createtable(co, r->nresp, 0);
	for (i = 0; i < r->nresp; i++) {
		lua_createtable(co, 0, 3);
		lua_pushinteger(co, r->resp[i].status);
		lua_setfield(co, -2, "status");
		lua_pushstring(co, r->resp[i].reason);
		lua_setfield(co, -2, "reason");
		lua_pushstring(co, r->resp[i].text ? r->resp[i].text : "");
		lua_setfield(co, -2, "text");
		lua_pushboolean(co, r->resp[i].unparsable);
		lua_setfield(co, -2, "unparsable");
		if (final < 0 && r->resp[i].status >= 200) {
			final = i;
			lua_pushvalue(co, -1);
			lua_setfield(co, -4, "final");
		}
		lua_rawseti(co, -2, i + 1);
	}
	lua_setfield(co, -2, "responses");
	lua_pushboolean(co, r->closed);
	lua_setfield(co, -2, "closed");
	lua_pushboolean(co, r->established);
	lua_setfield(co, -2, "established");
	if (r->closed && r->close_err) {
		lua_pushstring(co, strerror(r->close_err));
		lua_setfield(co, -2, "error");
	}
	raw_push_tls(co, r);
	scen_wake(r->w, 1);
}

/* An answer libosip2 refuses is still an answer (a malformed one the scenario must see, not a
 * silence): its status line is read by the tolerant scanner. */
static void raw_unparsable(struct raw *r, const char *buf, size_t len)
{
	struct sipscan sc;

	if (sipscan_parse(&sc, buf, len) || sc.request || r->nresp >= RAW_MAX_RESP)
		return;
	r->resp[r->nresp].status = sc.status;
	snprintf(r->resp[r->nresp].reason, sizeof(r->resp[0].reason), "(unparsable)");
	r->resp[r->nresp].text = mem_strndup(buf, len);
	r->resp[r->nresp].unparsable = true;
	r->nresp++;
	if (sc.status >= 200)
		raw_finish(r);
}

static void raw_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct raw *r = arg;
	struct sipmsg *m = NULL;

	r->got_msg = true;
	if (r->done)
		return;
	if (sipmsg_decode(&m, buf, len) != 0) {
		raw_unparsable(r, buf, len);
		return;
	}
	if (!sipmsg_is_request(m) && r->nresp < RAW_MAX_RESP) {
		r->resp[r->nresp].status = sipmsg_status(m);
		snprintf(r->resp[r->nresp].reason, sizeof(r->resp[0].reason), "%s",
			 sipmsg_reason(m));
		r->resp[r->nresp].text = mem_strndup(buf, len);
		r->nresp++;
		if (sipmsg_status(m) >= 200 && ++r->nfinal >= r->finals) {
			mem_deref(m);
			raw_finish(r);
			return;
		}
	}
	mem_deref(m);
}

static void raw_estab(struct conn *c, void *arg)
{
	((struct raw *)arg)->established = true;
}

static void raw_close(struct conn *c, int err, void *arg)
{
	struct raw *r = arg;

	r->closed = true;
	r->close_err = err;
	raw_finish(r);
}

/* OpenSSL's info callback: the first fatal alert either way, and the version once the
 * handshake is done. */
static void raw_info(const SSL *ssl, int where, int ret)
{
	struct raw *r = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), raw_exidx);

	if (!r)
		return;
	/* OpenSSL signals each TLS 1.3 post-handshake message (a ticket) as a handshake too */
	if ((where & SSL_CB_HANDSHAKE_DONE) && r->hs_done++ == 0) {
		r->version = SSL_version(ssl);
		snprintf(r->cipher, sizeof(r->cipher), "%s",
			 SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
		if (!r->peer)
			r->peer = SSL_get1_peer_certificate(ssl);
	}
	/* RFC 8446 6: close_notify is a warning, not a refusal */
	if ((where & SSL_CB_ALERT) && (ret >> 8) == SSL3_AL_FATAL && !r->alert[0]) {
		/* RFC 8446 6.2: certificate_required is newer than OpenSSL's names for alerts */
		snprintf(r->alert, sizeof(r->alert), "%s", (ret & 0xff) == 116 ?
			 "certificate required" : SSL_alert_desc_string_long(ret));
		r->alert_sent = (where & SSL_CB_WRITE) != 0;
	}
}

/* The probe's own client context: the site's certificate (or a bad one for its name, or
 * none), trusting the site's root, optionally one TLS version only. */
static int raw_tls(struct raw *r, struct lab *lab, const char *site_ip,
		   const struct raw_opts *o, char *why, size_t wsz)
{
	char cert[600], key[600], ca[600];
	struct sockaddr_storage sa;
	enum lab_host h;
	const char *pki = lab_pki_dir(lab), *cn;
	struct tlsctx_conf tc = { .keylog_file = lab_keylog_path(lab),
				  .min_version = o->version, .max_version = o->version };
	int err;

	sa_set(&sa, site_ip, 0);
	h = lab_host_of_addr((struct sockaddr *)&sa);
	cn = lab_host_name(h);
	tc.ca_file = labca_root_path(pki, h == LAB_POOL ? LABCA_ENTERPRISE : LABCA_PUBLIC, ca,
				     sizeof(ca));
	if (o->bad) {
		err = labca_make_bad(pki, o->kind, cn);
		if (err) {
			snprintf(why, wsz, "cannot make the %s certificate for %s: %s",
				 labca_bad_name(o->kind), cn, strerror(err));
			return err;
		}
		tc.cert_file = labca_bad_cert_path(pki, o->kind, cn, cert, sizeof(cert));
		tc.key_file = labca_bad_key_path(pki, o->kind, cn, key, sizeof(key));
	} else if (!o->no_cert) {
		tc.cert_file = labca_cert_path(pki, cn, cert, sizeof(cert));
		tc.key_file = labca_key_path(pki, cn, key, sizeof(key));
	}
	if (raw_exidx < 0)
		raw_exidx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	err = raw_exidx < 0 ? ENOMEM : tlsctx_alloc(&r->tls, false, &tc);
	if (err) {
		snprintf(why, wsz, "client TLS context for %s: %s", cn, strerror(err));
		return err;
	}
	SSL_CTX_set_ex_data(tlsctx_ssl_ctx(r->tls), raw_exidx, r);
	SSL_CTX_set_info_callback(tlsctx_ssl_ctx(r->tls), raw_info);
	return 0;
}

/* Reads send_raw's option table at idx (absent: the defaults). */
static void raw_opts_read(lua_State *L, int idx, struct raw_opts *o)
{
	const char *v;

	memset(o, 0, sizeof(*o));
	o->timeout = 2;
	o->finals = 1;
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "timeout") != LUA_TNIL)
		o->timeout = luaL_checknumber(L, -1);
	luaL_argcheck(L, o->timeout > 0 && o->timeout <= 60, idx, "timeout between 0 and 60 s");
	if (lua_getfield(L, idx, "tls") != LUA_TNIL)
		o->plain = !lua_toboolean(L, -1);
	o->no_cert = lua_getfield(L, idx, "no_cert") != LUA_TNIL && lua_toboolean(L, -1);
	if (lua_getfield(L, idx, "cert") != LUA_TNIL) {
		v = luaL_checkstring(L, -1);
		if (labca_bad_parse(v, &o->kind))
			luaL_error(L, "send_raw: cert '%s' is not one of no-client-auth, "
				   "cn-wrong-san-right, expired, not-yet-valid, enterprise-signed, "
				   "public-signed, self-signed, wrong-key-usage", v);
		o->bad = true;
	}
	if (lua_getfield(L, idx, "tls_version") != LUA_TNIL) {
		v = luaL_checkstring(L, -1);
		if (strcmp(v, "1.2") == 0)
			o->version = TLS1_2_VERSION;
		else if (strcmp(v, "1.3") == 0)
			o->version = TLS1_3_VERSION;
		else
			luaL_error(L, "send_raw: tls_version '%s' is not \"1.2\" or \"1.3\"", v);
	}
	if (lua_getfield(L, idx, "finals") != LUA_TNIL)
		o->finals = (int)luaL_checkinteger(L, -1);
	luaL_argcheck(L, o->finals >= 1 && o->finals <= RAW_MAX_RESP, idx,
		      "finals between 1 and 64");
	if (o->plain && (o->no_cert || o->bad || o->version))
		luaL_error(L, "send_raw: tls = false leaves no certificate or version to choose");
	if (o->no_cert && o->bad)
		luaL_error(L, "send_raw: no_cert and cert exclude each other");
	lua_pop(L, 6);
}

static void raw_timeout(evutil_socket_t fd, short what, void *arg)
{
	raw_finish(arg);
}

static int raw_k(lua_State *L, int status, lua_KContext ctx)
{
	return 1;
}

/* site:send_raw(bytes, { timeout = 2, tls = true, cert = <bad kind>, no_cert = false,
 *   tls_version = "1.2" | "1.3", finals = 1 }) -> { responses = {{status, reason, text}...},
 *   final = first final response or nil, closed = did the proxy close the connection,
 *   established = did TLS come up, error = why it closed, handshake = "ok" | "failed" | "none",
 *   tls_version, cipher, alert, alert_sent, reason }
 * Opens a fresh connection from the site's address to the proxy edge it faces — mutual TLS with
 * the site's certificate unless told otherwise — sends the bytes exactly as given, and waits for
 * `finals` final responses (several requests on one connection), the connection's end or the
 * timeout. */
static int raw_l_send_raw(lua_State *L)
{
	struct imsrv *srv = lua_site_srv(L, 1);
	size_t len;
	const char *bytes = luaL_checklstring(L, 2, &len);
	struct scen *s = scen_of(L);
	struct conn_handlers h = { raw_estab, raw_msg, raw_close, NULL };
	struct sockaddr_storage local, peer;
	const char *ip, *pip, *pfqdn;
	struct raw_opts o;
	struct tlsctx *cli;
	struct raw *r;
	char why[700];
	int err;

	raw_opts_read(L, 3, &o);
	if (lab_site_peer(scen_lab(s), srv, &cli, &ip, &pip, &pfqdn))
		return luaL_error(L, "send_raw: not a site of this lab");
	lua_settop(L, 2);
	r = mem_zalloc(sizeof(*r), raw_destroy);
	if (!r)
		return luaL_error(L, "out of memory");
	r->finals = o.finals;
	if (!o.plain && raw_tls(r, scen_lab(s), ip, &o, why, sizeof(why))) {
		mem_deref(r);
		return luaL_error(L, "send_raw: %s", why);
	}
	sa_set(&local, ip, 0);
	sa_set(&peer, pip, 5061);
	h.arg = r;
	err = conn_connect(&r->c, scen_base(s), r->tls, (struct sockaddr *)&local,
			   (struct sockaddr *)&peer, o.plain ? NULL : pfqdn, &h);
	if (!err)
		err = conn_send(r->c, bytes, len);
	if (err) {
		mem_deref(r);
		return luaL_error(L, "send_raw: cannot connect to %s: %s", pip, strerror(err));
	}
	/* the waiter owns the raw exchange: when the wait ends, the connection goes with it */
	r->w = scen_wait_begin(L, "responses to a raw message", 0);
	scen_waiter_set_data(r->w, r);
	o.timeout = scen_time(s, o.timeout);
	{
		struct timeval tv = { (time_t)o.timeout,
				      (suseconds_t)((o.timeout - (time_t)o.timeout) * 1e6) };

		r->timer = evtimer_new(scen_base(s), raw_timeout, r);
		evtimer_add(r->timer, &tv);
	}
	return scen_yield(L, r->w, raw_k);
}

void lua_raw_open(lua_State *L)
{
	static const luaL_Reg site_methods[] = { { "send_raw", raw_l_send_raw }, { NULL, NULL } };

	lua_class_extend(L, "piclab.Site", site_methods);
}
