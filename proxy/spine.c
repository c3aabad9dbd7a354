/* spine: one function per direction names every hop a message takes through the proxy. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/esc.h"
#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "sip/sipscan.h"
#include "tp/tp.h"
#include "tp/rate.h"
#include "txn/txn.h"
#include "policy/policy.h"
#include "policy/methods.h"
#include "policy/trust.h"
#include "topo/topo.h"
#include "route/route.h"
#include "peer/peer.h"
#include "state/state.h"
#include "spine_audit.h"
#include "spine.h"
#include "spine_int.h"

#define LOG_MODULE "spine"

#define SPINE_BRANCH_MAX 64


/* A request on its way out, kept across the DNS lookup. */
struct spine_fwd {
	struct spine *s;
	struct conn *c;            /* where it came from (answers go back there) */
	enum conf_edge_id in;
	struct state *st;          /* the snapshot its decision came from (dest points into it) */
	struct sipmsg *req;        /* as forwarded: our Via on top */
	char *buf;                 /* its encoding */
	size_t len;
	char branch[SPINE_BRANCH_MAX];
	char method[32];
	struct peer_dest dest;
	const char *srv_domain;    /* a federated partner's domain, found by SRV (DNS-003) */
};

static void spine_destroy(void *data)
{
	struct spine *s = data;

	/* first: the audit writer reports what it still holds while everything else stands */
	s->closing = true;
	s->audit = mem_deref(s->audit);
	mem_deref(s->peers);
	mem_deref(s->tp);
	mem_deref(s->route);
	mem_deref(s->txns);
	mem_deref(s->pol);
	mem_deref(s->snap);
	mem_deref(s->topo);
	mem_deref(s->rate);
	mem_deref((void *)s->cfg);
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	OPENSSL_cleanse(s->keyed_from, sizeof(s->keyed_from));
}

static void spine_fwd_destroy(void *data)
{
	struct spine_fwd *f = data;

	mem_deref(f->c);
	mem_deref(f->st);
	mem_deref(f->req);
	mem_deref(f->buf);
}

/* RFC 3261 20.43: warn-agent is our external host name (the name the proxy is known by); the
 * text is a quoted-string, and a reason may quote the peer: printable ASCII only (esc_qtext). */
static void spine_add_warning(struct spine *s, struct sipmsg *rsp, const char *why)
{
	char val[700], text[400];

	esc_qtext(text, sizeof(text), why);
	snprintf(val, sizeof(val), "399 %s \"%s\"", conf_edge(s->cfg, CONF_EXTERNAL)->fqdn, text);
	if (sipmsg_header_add(rsp, "Warning", val))
		log_warn("cannot add Warning: %s", why);
}

/* True if text names one of our inside hosts or addresses: such a diagnostic must not leave
 * through the external edge (TOPO-001). */
static bool spine_names_inside(const struct spine *s, const char *text)
{
	const struct conf_edge *ie = conf_edge(s->cfg, CONF_INTERNAL);
	char ip[64];

	sa_ip((const struct sockaddr *)&ie->listen_sa, ip, sizeof(ip));
	return (ie->fqdn && strcasestr(text, ie->fqdn)) ||
	       (ie->next_hop && strcasestr(text, ie->next_hop)) || strstr(text, ip);
}

/* A response of our own to req (RFC 3261 16.2: the proxy acting as UAS), sent on c, with one
 * extra header (hname may be NULL). Its Call-ID is the one req arrived with, so it needs no
 * mapping; nothing internal is in it but what req brought from the same side. */
static void spine_reply_hdr(struct spine *s, struct conn *c, enum conf_edge_id in,
			    const struct sipmsg *req, int status, const char *why,
			    const char *hname, const char *hvalue)
{
	struct sipmsg *rsp = NULL;
	char tag[24], *buf = NULL;
	size_t len;
	int err;

	if (!strcmp(sipmsg_method(req), "ACK"))
		return; /* RFC 3261 17.1.1.3: never answered */
	sipmsg_random_token(tag, sizeof(tag));
	err = sipmsg_response_alloc(&rsp, req, status, NULL, status > 100 ? tag : NULL);
	if (why && in == CONF_EXTERNAL && spine_names_inside(s, why)) {
		log_info("external edge: %d to %s: %s", status, sipmsg_method(req), why);
		why = "the enterprise network cannot deliver the request now";
	}
	if (!err && why)
		spine_add_warning(s, rsp, why);
	if (!err && hname && hvalue && *hvalue && sipmsg_header_add(rsp, hname, hvalue))
		log_warn("cannot add %s to a %d", hname, status);
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (!err && (err = conn_send(c, buf, len)) == ENOTCONN)
		err = spine_resend(s, c, in, buf, len); /* RFC 3261 18.2.2 */
	if (err)
		log_warn("cannot answer %s %u with %d: %s", sipmsg_method(req), sipmsg_cseq(req),
			 status, strerror(err));
	else
		s->st.responses_out++;
	if (status >= 300)
		log_info("%s edge: %s %s answered %d%s%s", conf_edge_name(in), sipmsg_method(req),
			 sipmsg_callid(req), status, why ? ": " : "", why ? why : "");
	mem_deref(rsp);
	mem_deref(buf);
}

static void spine_reply(struct spine *s, struct conn *c, enum conf_edge_id in,
			const struct sipmsg *req, int status, const char *why)
{
	spine_reply_hdr(s, c, in, req, status, why, NULL, NULL);
}

/* Answers for a forwarded request the proxy gives up on (503, 408): our Via comes off first,
 * the transaction goes, and the peer no longer waits for it. */
static void spine_give_up(struct spine *s, struct txn *x, int status, const char *why)
{
	struct sipmsg *req = txn_request(x);

	if (txn_dest(x))
		peer_settle(s->peers, txn_dest(x), txn_branch(x), txn_method(x));
#ifdef AP_MUTANT_ROB_NO_ANSWER_ON_PEER_LOSS
	if (status != 503 && !txn_absorbs(x) && req && !sipmsg_via_pop(req) &&
	    sipmsg_via_count(req) > 0) /* a lost peer connection answers nothing */
		spine_reply(s, txn_conn(x), txn_edge(x), req, status, why);
	txn_set_final(x);
#else
	if (!txn_absorbs(x) && req && !sipmsg_via_pop(req) && sipmsg_via_count(req) > 0)
		spine_reply(s, txn_conn(x), txn_edge(x), req, status, why);
	txn_set_final(x);
#endif
}

static void spine_fail(struct spine *s, struct conn *c, enum conf_edge_id in,
		       struct sipmsg *req, const char *branch, const char *method,
		       const char *why)
{
	struct txn *x = txn_lookup(s->txns, branch, method);

	if (x) {
		spine_give_up(s, x, 503, why);
		txn_remove(s->txns, x);
		return;
	}
	if (!strcmp(method, "ACK"))
		return;
	sipmsg_via_pop(req);
	spine_reply(s, c, in, req, 503, why);
}

/* A keyed hash of text, as lower-case hex into out (2*nbytes digits). */
static void spine_hash(const struct spine *s, const char *data, size_t n, size_t nbytes,
		       char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, s->secret, sizeof(s->secret)) ||
	    !EVP_DigestUpdate(ctx, data, n) || !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		/* no digest: a random value still works, only matching and loops suffer */
		mdlen = 32;
		RAND_bytes(md, (int)mdlen);
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < nbytes && i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* RFC 3261 16.6 step 8, loop-detection part: what a request that comes back to us unchanged
 * still has in common: To tag, From tag, Call-ID (in the inside's form, so a request sent out
 * and routed back in matches), Request-URI, CSeq number, Proxy-Require. 8 hex digits. */
static void spine_loop_hash(const struct spine *s, const struct sipmsg *req,
			    enum conf_edge_id in, char out[9])
{
	char uri[512] = "", cid[TOPO_CALLID_MAX + 8], data[2048];
	const char *pr = sipmsg_header(req, "Proxy-Require", 0);
	int n;

	sipmsg_uri_str(req, SIPMSG_RURI, uri, sizeof(uri));
	if (in != CONF_EXTERNAL ||
	    topo_callid_in(s->topo, sipmsg_callid(req), cid, sizeof(cid)))
		snprintf(cid, sizeof(cid), "%s", sipmsg_callid(req));
	n = snprintf(data, sizeof(data), "%s|%s|%s|%s|%u|%s", sipmsg_to_tag(req),
		     sipmsg_from_tag(req), cid, uri, sipmsg_cseq(req), pr ? pr : "");
	if (n < 0)
		n = 0;
	spine_hash(s, data, (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1, 4, out);
}

/* RFC 3261 16.11: the branch is a keyed hash of what identifies the incoming transaction, so
 * a retransmission, the CANCEL of an INVITE and the ACK of a non-2xx map to the branch the
 * original got; the loop part follows (16.6 step 8). The secret keeps others from predicting
 * it. "z9hG4bK" + 32 hex + 8 hex. */
static void spine_branch(const struct spine *s, const struct sipmsg *req, enum conf_edge_id in,
			 const char *loop, char *out, size_t size)
{
	const char *vb = sipmsg_via_branch(req, 0), *vh = sipmsg_via_host(req, 0);
	char data[1024], h[33];
	int n;

	n = snprintf(data, sizeof(data), "%d|%s|%s|%s|%s|%u", (int)in, vb ? vb : "",
		     vh ? vh : "", sipmsg_callid(req), sipmsg_from_tag(req), sipmsg_cseq(req));
	if (n < 0)
		n = 0;
	spine_hash(s, data, (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1, 16, h);
	snprintf(out, size, "z9hG4bK%s%s", h, loop);
}

/* RFC 3261 16.3 step 4: a Via of ours whose loop part equals this request's is a loop (a
 * spiral changed the Request-URI or something else hashed, and passes). */
static bool spine_is_loop(const struct spine *s, const struct sipmsg *req, const char *loop)
{
	const struct conf_edge *ie = conf_edge(s->cfg, CONF_INTERNAL);
	const struct conf_edge *ee = conf_edge(s->cfg, CONF_EXTERNAL);
	int i, n = sipmsg_via_count(req);

	for (i = 0; i < n && i < 70; i++) {
		const char *h = sipmsg_via_host(req, i), *b = sipmsg_via_branch(req, i);
		size_t bl = b ? strlen(b) : 0;

		if (!h || bl != 7 + 32 + 8 || (strcasecmp(h, ie->fqdn) && strcasecmp(h, ee->fqdn)))
			continue;
		if (!strcmp(b + bl - 8, loop))
			return true;
	}
	return false;
}

/* route -> peer: the destination's addresses are known, in the order to try them (or its
 * connection is up: none needed). */
static void spine_send(struct spine_fwd *f, const struct route_addrs *ra)
{
	struct spine *s = f->s;
	char why[256];
	int err;

	err = peer_send(s->peers, &f->dest, ra ? ra->a : NULL, ra ? ra->n : 0, f->buf, f->len,
			f->branch, f->method);
	if (err) {
		snprintf(why, sizeof(why), "cannot reach %s: %s", f->dest.fqdn, strerror(err));
		spine_fail(s, f->c, f->in, f->req, f->branch, f->method, why);
		return;
	}
	s->st.forwarded++;
}

static void spine_routed(int err, const char *why, const struct route_addrs *ra, void *arg)
{
	struct spine_fwd *f = arg;

	if (err == ECANCELED)
		; /* shutting down: nobody to answer */
	else if (err)
		spine_fail(f->s, f->c, f->in, f->req, f->branch, f->method, why); /* DNS-004 */
	else
		spine_send(f, ra);
	mem_deref(f);
}

/* route: the destination's connection is up, or its address is looked up first. */
static void spine_go(struct spine_fwd *f)
{
	struct spine *s = f->s;

	if (s->sink) { /* detached (spine_alloc_detached): no DNS, no peer */
		s->sink(f->dest.edge, f->dest.fqdn, f->buf, f->len, s->sink_arg);
		s->st.forwarded++;
	} else if (peer_is_up(s->peers, f->dest.fqdn)) {
		spine_send(f, NULL);
	} else if (route_resolve(s->route, f->dest.fqdn, f->srv_domain, spine_routed,
				 mem_ref(f))) {
		mem_deref(f);
		spine_fail(s, f->c, f->in, f->req, f->branch, f->method,
			   "cannot start DNS lookup");
	}
}

/* AUD-003: the record of a request held back for critical archiving is durable (or not). */
static void spine_durable(int err, void *arg)
{
	struct spine_fwd *f = arg;

	if (f->s->closing)
		;
	else if (err)
		spine_fail(f->s, f->c, f->in, f->req, f->branch, f->method,
			   "audit record could not be made durable (AUD-003)");
	else
		spine_go(f);
	mem_deref(f);
}

/* AUD-003: with archive_critical, a federated request (but an ACK or CANCEL, which nobody
 * could refuse) waits for its audit record to be durable before it leaves. */
static bool spine_critical(const struct spine *s, const struct state *st, const char *method)
{
	(void)s;
#ifdef AP_MUTANT_AUD_CRITICAL_NOT_DURABLE
	return false; /* critical archiving ignored */
#else
	return state_settings(st)->archive_critical && strcmp(method, "ACK") &&
	       strcmp(method, "CANCEL");
#endif
}

/* AUD-001: the provider a refused request concerns, when policy stopped before naming one:
 * inbound, the peer's certificate name, else the From domain; outbound, the Request-URI's
 * domain, else the To domain. NULL when none matches. */
static const char *spine_audit_provider(const struct spine *s, struct conn *c,
					enum conf_edge_id in, const struct sipmsg *req)
{
	const struct state_provider *p = NULL;
	const char *user, *host;

	if (in == CONF_EXTERNAL && conn_peer_cn(c))
		p = state_provider_by_fqdn(s->snap, conn_peer_cn(c));
	if (!p && !sipmsg_uri(req, in == CONF_EXTERNAL ? SIPMSG_FROM : SIPMSG_RURI, &user,
			      &host) && host)
		p = state_provider_by_domain(s->snap, host);
	if (!p && in != CONF_EXTERNAL && !sipmsg_uri(req, SIPMSG_TO, &user, &host) && host)
		p = state_provider_by_domain(s->snap, host);
	return p ? p->name : NULL;
}

/* Checks a request must pass before anything else looks at it; 0 or the status answered. */
static int spine_sanity(struct spine *s, struct conn *c, enum conf_edge_id in,
			const struct sipmsg *req, const char *loop)
{
	const char *method = sipmsg_method(req);
	const char *cn = conn_peer_cn(c);
	char key[80], ra[16], ip[64];
	size_t blen = 0;
	unsigned retry = 1;

	if (in == CONF_EXTERNAL) { /* ROB-004: per peer (its CN, else its address) */
		snprintf(key, sizeof(key), "%s", cn && *cn ? cn :
			 sa_ip(conn_peer_addr(c), ip, sizeof(ip)));
#ifdef AP_MUTANT_ROB_NO_RATE_LIMIT
		if (!rate_take(s->rate, key, &retry) && 0) { /* limit not enforced */
#else
		if (!rate_take(s->rate, key, &retry)) {
#endif
			snprintf(ra, sizeof(ra), "%u", retry);
			s->st.throttled++;
			spine_reply_hdr(s, c, in, req, 503, "request rate limit exceeded (ROB-004)",
					"Retry-After", ra);
			return 503;
		}
	}
#ifdef AP_MUTANT_SIP_MF_ZERO_PASSES
	if (sipmsg_max_forwards(req) < 0) { /* 0 passes */
#else
	if (sipmsg_max_forwards(req) == 0) { /* RFC 3261 16.3 step 3 */
#endif
		spine_reply(s, c, in, req, 483, NULL);
		return 483;
	}
	sipmsg_body(req, &blen);
#ifdef AP_MUTANT_IM_NO_BODY_LIMIT
	if (blen > conf_limits(s->cfg)->max_body && 0) { /* limit not enforced */
#elif defined(AP_MUTANT_IM_BODY_LIMIT_OFF_BY_ONE)
	if (blen >= conf_limits(s->cfg)->max_body) { /* a body exactly at the limit refused */
#else
	if (blen > conf_limits(s->cfg)->max_body) { /* IM-004 */
#endif
		spine_reply(s, c, in, req, 413, "message body over the size limit (IM-004)");
		return 413;
	}
#ifdef AP_MUTANT_SIP_NO_LOOP_CHECK
	if (strcmp(method, "ACK") && 0 && spine_is_loop(s, req, loop)) { /* no loop detection */
#else
	if (strcmp(method, "ACK") && strcmp(method, "CANCEL") && spine_is_loop(s, req, loop)) {
#endif
		spine_reply(s, c, in, req, 482, "loop detected (SIP-002)");
		return 482;
	}
	return 0;
}

/* The side-specific rewrites of a request about to leave through out (TOPO, TRUST). */
static int spine_rewrite(struct spine *s, struct sipmsg *req, enum conf_edge_id in,
			 const struct policy_verdict *v, const struct state *st, char **rrs)
{
#ifdef AP_MUTANT_CONT_SUBSCRIBE_NOT_RECORD_ROUTED
	bool rr = !strcmp(sipmsg_method(req), "INVITE") && !v->in_dialog; /* SUBSCRIBE not */
#else
	bool rr = methods_creates_dialog(sipmsg_method(req)) && !v->in_dialog;
#endif
	int err;

	if (v->out_edge == CONF_EXTERNAL) {
		err = trust_outbound(req, state_settings(st)->mark_outbound_verifiable);
		if (!err)
			err = topo_rr_take(req, rrs);
		if (!err && rr)
			err = topo_rr_add_external(s->topo, req, rrs);
#ifdef AP_MUTANT_TOPO_CONTACT_NOT_HIDDEN
		return err; /* Contact not hidden */
#else
		if (!err)
			err = topo_contact_hide(s->topo, req);
		return err;
#endif
	}
	err = trust_mark(req, v->provider ? v->provider->filter : STATE_FILTER_CONTACTS_ONLY,
			 conf_edge(s->cfg, CONF_EXTERNAL)->fqdn,
			 v->provider ? v->provider->fqdn : "");
	if (!err && rr)
		err = topo_rr_add(s->topo, req, in, v->out_edge);
	return err;
}

/* RFC 3261 16.10: a CANCEL is answered here and follows its INVITE's branch; no INVITE: 481. */
static bool spine_cancel(struct spine *s, struct conn *c, enum conf_edge_id in,
			 const struct sipmsg *req, const char *branch)
{
	struct txn *inv = txn_lookup(s->txns, branch, "INVITE");

	if (!inv || txn_has_final(inv)) {
#ifdef AP_MUTANT_SIP_CANCEL_NO_481
		spine_reply(s, c, in, req, 200, NULL); /* no 481 */
#else
		spine_reply(s, c, in, req, inv ? 200 : 481, NULL);
#endif
		return false;
	}
	spine_reply(s, c, in, req, 200, NULL);
	return true;
}

/* RFC 3261 17.2.1, 17.2.2, 16.11: a retransmitted request is absorbed by its server
 * transaction (over TLS/TCP the sender does not retransmit, but a sender that lost its
 * connection may send again on a new one): answers go to where it came from now, and a
 * final answer already sent is repeated there. */
static void spine_retransmitted(struct spine *s, struct conn *c, struct txn *x)
{
	size_t len = 0;
	const char *rsp = txn_response(x, &len);

	txn_set_conn(x, c);
	log_debug("retransmitted %s %s absorbed%s", txn_method(x), txn_branch(x),
		  rsp ? ": final answer repeated" : "");
	if (rsp && !conn_send(c, rsp, len))
		s->st.responses_out++;
}

/* Encodes the request as it leaves: our Via on top; through the external edge, the Vias
 * below ours are cut into *vias and the Call-ID mapped; from it, the Call-ID mapped in. */
static int spine_encode(struct spine *s, struct spine_fwd *f, enum conf_edge_id out,
			char **vias)
{
	int err = sipmsg_encode(f->req, &f->buf, &f->len);

	if (!err && out == CONF_EXTERNAL)
		err = topo_wire_out(s->topo, &f->buf, &f->len, true, vias);
	else if (!err && f->in == CONF_EXTERNAL)
		err = topo_wire_in(s->topo, &f->buf, &f->len, NULL, NULL);
	return err;
}

/* The request path, every hop on one screen: sanity (rate, Max-Forwards, size, loop) ->
 * Route (16.4) -> CANCEL -> policy -> rewrites (trust, topology) -> Via/branch -> txn ->
 * encode -> route -> peer. */
void spine_request(struct spine *s, struct conn *c, enum conf_edge_id in, struct sipmsg *req)
{
	const char *method = sipmsg_method(req);
	const char *vb = sipmsg_via_branch(req, 0), *vh = sipmsg_via_host(req, 0);
	const struct conf_edge *out;
	struct policy_verdict v;
	struct spine_fwd *f = NULL;
	struct txn *x = NULL;
	char loop[9], branch[SPINE_BRANCH_MAX], *vias = NULL, *rrs = NULL;
	int mf = sipmsg_max_forwards(req), err;
	bool ack = !strcmp(method, "ACK"), cancel = !strcmp(method, "CANCEL"), unhid = false;

	s->st.requests_in++;
	spine_loop_hash(s, req, in, loop);
	spine_branch(s, req, in, loop, branch, sizeof(branch));
	if (spine_sanity(s, c, in, req, loop))
		return;
#ifdef AP_MUTANT_IM_RETRANSMISSION_FORWARDED
	if (0 && (x = txn_lookup(s->txns, branch, method))) { /* retransmissions forwarded */
#else
	if (!ack && !cancel && (x = txn_lookup(s->txns, branch, method))) {
#endif
		spine_retransmitted(s, c, x);
		return;
	}
	topo_route_consume(s->topo, req, NULL);
	if (in == CONF_EXTERNAL && topo_ruri_unhide(s->topo, req, &unhid)) {
		spine_reply(s, c, in, req, 404, "unknown target (a Contact we did not write)");
		return;
	}
	if (cancel && !spine_cancel(s, c, in, req, branch))
		return;
	if (policy_check(s->pol, s->snap, req, in, conn_peer_cn(c), &v)) {
		if (!cancel)
			spine_reply_hdr(s, c, in, req, v.status ? v.status : 500, v.why,
					v.hdr_name, v.hdr_value);
		spine_audit(s->audit, in, req, v.provider ? v.provider->name :
			    spine_audit_provider(s, c, in, req), false, v.status, v.why);
		return;
	}
	f = mem_zalloc(sizeof(*f), spine_fwd_destroy);
	if (!f) {
		spine_reply(s, c, in, req, 500, "out of memory");
		return;
	}
	f->s = s;
	f->c = mem_ref(c);
	f->st = mem_ref(s->snap);
	f->in = in;
	f->req = mem_ref(req);
	snprintf(f->method, sizeof(f->method), "%s", method);
	snprintf(f->branch, sizeof(f->branch), "%s", branch);
	f->dest = (struct peer_dest){ v.dest_fqdn, v.dest_port, v.dest_tcp, v.out_edge };
	if (v.provider && !v.provider->public_provider && v.provider->ndomains)
		f->srv_domain = v.provider->domains[0];
	out = conf_edge(s->cfg, v.out_edge);
	if (spine_rewrite(s, req, in, &v, f->st, &rrs)) {
		spine_reply(s, c, in, req, 500, "cannot rewrite the request");
		goto out;
	}
	/* RFC 3261 16.6 step 3: decrement, or add 70 when absent */
#ifdef AP_MUTANT_SIP_MF_NOT_DECREMENTED
	sipmsg_set_max_forwards(req, mf < 0 ? 70 : mf); /* not decremented */
#else
	sipmsg_set_max_forwards(req, mf < 0 ? 70 : mf - 1);
#endif
	if (!strcmp(method, "INVITE")) /* RFC 3261 16.2: a stateful proxy answers 100 itself */
		spine_reply(s, c, in, req, 100, NULL);
	/* RFC 3261 16.6 step 8: our Via names the edge the request leaves from */
	err = sipmsg_via_push(req, v.dest_tcp ? "TCP" : "TLS", out->fqdn,
			      sa_port((const struct sockaddr *)&out->listen_sa), f->branch);
	if (err) {
		spine_reply(s, c, in, req, 500, "cannot add our Via");
		goto out;
	}
	if (!ack) {
		err = txn_insert(s->txns, &x, f->branch, f->method, c, in, req, vb, vh);
		if (err == EEXIST) { /* a retransmission: forward it again (RFC 3261 16.11) */
			log_debug("retransmitted %s %s", method, f->branch);
			err = 0;
		}
	}
	if (!err)
		err = spine_encode(s, f, v.out_edge, &vias);
	if (!err && x) {
		err = txn_set_hidden(x, vias, rrs);
		if (!err)
			err = txn_set_dest(x, f->dest.fqdn);
		if (cancel)
			txn_set_absorb(x);
	}
	if (err) {
		spine_fail(s, c, in, req, f->branch, f->method, "cannot forward the request");
		goto out;
	}
	log_debug("%s edge: %s %s -> %s", conf_edge_name(in), method, f->branch, v.dest_fqdn);
	if (spine_critical(s, f->st, method)) {
		err = spine_audit_durable(s->audit, in, req, v.provider ? v.provider->name : NULL,
					  spine_durable, mem_ref(f));
		if (err) {
			mem_deref(f);
			spine_fail(s, c, in, req, f->branch, f->method, err == ENODEV ?
				   "no audit log for critical archiving (AUD-003)" :
				   "audit record cannot be queued (AUD-003)");
		}
		goto out;
	}
	spine_audit(s->audit, in, req, v.provider ? v.provider->name : NULL, true, 0, NULL);
	spine_go(f);
out:
	mem_deref(f);
	mem_deref(vias);
	mem_deref(rrs);
}

/* The response path: txn lookup by top Via branch -> pop our Via -> topology (restore inward,
 * hide outward) -> the connection the request came on. */
void spine_response(struct spine *s, struct sipmsg *rsp)
{
	const char *branch = sipmsg_via_branch(rsp, 0);
	struct txn *x = branch ? txn_lookup(s->txns, branch, sipmsg_method(rsp)) : NULL;
	const char *hvias;
	int status = sipmsg_status(rsp), err;
	char *buf = NULL;
	const char *kept = NULL;
	size_t len = 0;

	if (!x) { /* RFC 3261 16.7 step 1: no match -> forward statelessly; we have no path */
		log_debug("response %d %s matches no transaction: dropped", status,
			  branch ? branch : "(no branch)");
		s->st.dropped++;
		return;
	}
	/* RFC 3261 16.7 step 5: after a final response only an INVITE's 2xx still goes on */
	if (txn_is_complete(x) &&
	    (status < 200 || status >= 300 || strcmp(txn_method(x), "INVITE"))) {
		log_debug("response %d to answered %s %s absorbed", status, txn_method(x), branch);
		return;
	}
	if (status >= 200) {
		txn_set_final(x);
		if (txn_dest(x))
			peer_settle(s->peers, txn_dest(x), txn_branch(x), txn_method(x));
	}
	if (status == 100 || txn_absorbs(x)) { /* RFC 3261 16.7 step 5; 16.10 */
		if (status >= 200)
			txn_complete(x, status, NULL, 0);
		return;
	}
	hvias = txn_hidden_vias(x);
	err = sipmsg_via_pop(rsp);
	if (!err && sipmsg_via_count(rsp) == 0 && !hvias)
		err = ENOENT; /* it was for us alone */
	if (!err && txn_edge(x) == CONF_EXTERNAL) { /* TOPO-001: leaves through the external edge */
		err = topo_rr_hide_response(s->topo, rsp);
		if (!err)
			err = topo_contact_hide(s->topo, rsp);
	}
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (!err && txn_edge(x) == CONF_EXTERNAL)
		err = topo_wire_out(s->topo, &buf, &len, false, NULL);
	else if (!err)
		err = topo_wire_in(s->topo, &buf, &len, hvias, txn_hidden_rrs(x));
	if (!err) {
		kept = buf;
		err = conn_send(txn_conn(x), buf, len);
		if (err == ENOTCONN && !(err = spine_resend(s, txn_conn(x), txn_edge(x), buf, len)))
			log_info("%s edge: response %d to %s sent over a new connection (RFC 3261 "
				 "18.2.2)", conf_edge_name(txn_edge(x)), status, txn_method(x));
	}
	if (status >= 200) /* kept compact, to repeat it to a retransmission (17.2.2) */
		txn_complete(x, status, kept, kept ? len : 0);
	if (err) {
		log_info("%s edge: response %d to %s not delivered: %s",
			 conf_edge_name(txn_edge(x)), status, txn_method(x), strerror(err));
		s->st.dropped++;
	} else {
		s->st.responses_out++;
	}
	mem_deref(buf);
}

/* A request sent on a connection that failed or dropped before its answer (ROB-005). */
static void spine_peer_failed(const char *branch, const char *method, int err, const char *why,
			      void *arg)
{
	struct spine *s = arg;
	struct txn *x = txn_lookup(s->txns, branch, method);

	if (!x || txn_has_final(x))
		return;
	spine_give_up(s, x, 503, why);
	txn_remove(s->txns, x);
}

/* RFC 3261 16.8 / Timer F, Timer C: no final response in time -> 408 to the sender. */
static void spine_timeout(struct txn *x, void *arg)
{
	struct spine *s = arg;

	s->st.timeouts++;
	spine_give_up(s, x, 408, "no final response in time (SIP-005)");
}

static int spine_topo_alloc(struct spine *s, const struct conf *cfg)
{
	const struct conf_edge *ie = conf_edge(cfg, CONF_INTERNAL);
	const struct conf_edge *ee = conf_edge(cfg, CONF_EXTERNAL);
	const char *fqdn[CONF_NEDGES] = { ie->fqdn, ee->fqdn };
	uint16_t port[CONF_NEDGES] = { sa_port((const struct sockaddr *)&ie->listen_sa),
				       sa_port((const struct sockaddr *)&ee->listen_sa) };
	char ip[64], nip[64] = "";
	const char *names[5];

	/* what must never leave: our inside name and address, the inside next hop */
	sa_ip((const struct sockaddr *)&ie->listen_sa, ip, sizeof(ip));
	if (ie->tcp_listen)
		sa_ip((const struct sockaddr *)&ie->tcp_listen_sa, nip, sizeof(nip));
	names[0] = ie->fqdn;
	names[1] = ie->next_hop ? ie->next_hop : "";
	names[2] = ip;
	names[3] = nip;
	names[4] = NULL;
	return topo_alloc(&s->topo, fqdn, port, names);
}

static int spine_build(struct spine **sp, struct event_base *base, const struct conf *cfg,
		       spine_sink_h *sink, void *arg)
{
	struct spine *s;
	int err;

	if (!sp || !base || !cfg)
		return EINVAL;
	s = mem_zalloc(sizeof(*s), spine_destroy);
	if (!s)
		return ENOMEM;
	s->base = base;
	s->cfg = mem_ref((void *)cfg);
	s->sink = sink;
	s->sink_arg = arg;
	if (RAND_bytes(s->secret, sizeof(s->secret)) != 1) {
		err = EIO;
		goto out;
	}
	err = state_from_conf(&s->snap, cfg);
	if (!err)
		err = spine_topo_alloc(s, cfg);
	if (!err)
		err = rate_alloc(&s->rate,
				 conf_edge(cfg, CONF_EXTERNAL)->rate_per_sec ?: RATE_DEFAULT_PER_SEC,
				 conf_edge(cfg, CONF_EXTERNAL)->rate_burst ?: RATE_DEFAULT_BURST);
	if (!err)
		err = txn_table_alloc(&s->txns, base);
	if (!err)
		txn_table_set_timeout_handler(s->txns, spine_timeout, s);
	if (!err)
		err = policy_alloc(&s->pol, cfg);
	if (err || sink)
		goto out; /* detached: nothing on the network */
	err = route_alloc(&s->route, base, conf_dns_server(cfg));
	if (!err)
		err = tp_alloc(&s->tp, base, cfg, spine_recv, s);
	if (!err)
		tp_set_bad_handler(s->tp, spine_refused);
	if (!err)
		err = peer_pool_alloc(&s->peers, base, cfg, s->tp, spine_recv, spine_peer_failed,
				      s);
out:
	if (err)
		mem_deref(s);
	else
		*sp = s;
	return err;
}

int spine_alloc(struct spine **sp, struct event_base *base, const struct conf *cfg)
{
	return spine_build(sp, base, cfg, NULL, NULL);
}

int spine_alloc_detached(struct spine **sp, struct event_base *base, const struct conf *cfg,
			 spine_sink_h *sink, void *arg)
{
	return sink ? spine_build(sp, base, cfg, sink, arg) : EINVAL;
}

void spine_input(struct spine *s, struct conn *c, enum conf_edge_id edge, const char *buf,
		 size_t len)
{
	if (s && c && buf && edge < CONF_NEDGES)
		spine_recv(c, edge, buf, len, s);
}

/* CONT-005: the seal and the branch/loop secret keyed from the installation's persistent
 * secret, so that sealed Contacts and Call-IDs survive a restart and every worker computes
 * the same branches (RFC 3261 16.11) and loop hashes (16.6 step 8) as the others. A snapshot
 * without one (config only) keeps the per-process random keys. */
static void spine_key(struct spine *s, const struct state *st)
{
	const unsigned char *key = state_secret(st);
	unsigned char branch[32];
	unsigned len = sizeof(branch);

	if (!key || (s->keyed && !CRYPTO_memcmp(key, s->keyed_from, STATE_SECRET_LEN)))
		return;
	if (!HMAC(EVP_sha256(), key, STATE_SECRET_LEN, (const unsigned char *)"branch", 6,
		  branch, &len) || len != sizeof(s->secret) || topo_set_secret(s->topo, key)) {
		log_error("cannot key the topology seal from the stored secret: tokens from "
			  "before a restart will not be read");
		return;
	}
	memcpy(s->secret, branch, sizeof(s->secret));
	memcpy(s->keyed_from, key, STATE_SECRET_LEN);
	s->keyed = true;
	OPENSSL_cleanse(branch, sizeof(branch));
	log_info("topology seal and branches keyed from the stored secret");
}

void spine_set_state(struct spine *s, struct state *st)
{
	if (!s || !st || st == s->snap)
		return;
	spine_key(s, st);
	mem_deref(s->snap);
	s->snap = mem_ref(st);
	log_info("policy snapshot version %llu in use",
		 (unsigned long long)state_version(st));
}

const struct state *spine_state(const struct spine *s)
{
	return s ? s->snap : NULL;
}

void spine_set_audit(struct spine *s, struct audit *a)
{
	if (!s || a == s->audit)
		return;
	mem_deref(s->audit);
	s->audit = mem_ref(a);
}

int spine_set_tls(struct spine *s, enum conf_edge_id edge, struct tlsctx *server_tls,
		  struct tlsctx *client_tls)
{
	int err = 0;

	if (!s || edge >= CONF_NEDGES)
		return EINVAL;
	if (server_tls)
		err = tp_set_tls(s->tp, edge, server_tls);
	if (!err && client_tls)
		err = peer_pool_set_tls(s->peers, edge, client_tls);
	return err;
}

void spine_set_timers(struct spine *s, unsigned f_ms, unsigned c_ms)
{
	if (s)
		txn_table_set_timers(s->txns, f_ms, c_ms);
}

static void spine_stop_one(struct txn *x, void *arg)
{
	struct spine *s = arg;
	struct sipmsg *req = txn_request(x);

	if (txn_dest(x))
		peer_settle(s->peers, txn_dest(x), txn_branch(x), txn_method(x));
	if (!txn_absorbs(x) && req && !sipmsg_via_pop(req) && sipmsg_via_count(req) > 0)
		spine_reply_hdr(s, txn_conn(x), txn_edge(x), req, 503, "the proxy is restarting",
				"Retry-After", "1");
	txn_complete(x, 503, NULL, 0);
}

void spine_stop(struct spine *s)
{
	if (s)
		txn_pending_each(s->txns, spine_stop_one, s);
}

size_t spine_pending(const struct spine *s)
{
	return s ? txn_pending(s->txns) : 0;
}

void spine_stats(const struct spine *s, struct spine_stats *st)
{
	struct tp_stats ts;
	int i;

	if (!s || !st)
		return;
	*st = s->st;
	tp_stats(s->tp, &ts);
	st->msg_timeouts = ts.msg_timeouts;
	st->idle_closes = ts.idle_closes;
	st->partial_closes = ts.partial_closes;
	st->transactions = txn_count(s->txns);
	for (i = 0; i < CONF_NEDGES; i++)
		st->connections[i] = tp_conn_count(s->tp, (enum conf_edge_id)i) +
				     peer_count(s->peers, (enum conf_edge_id)i);
}
