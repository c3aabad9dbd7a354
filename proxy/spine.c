/* spine: one function per direction names every hop a message takes through the proxy. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/mem.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "tp/tp.h"
#include "txn/txn.h"
#include "policy/policy.h"
#include "route/route.h"
#include "peer/peer.h"
#include "state/state.h"
#include "spine.h"

#define LOG_MODULE "spine"

#define SPINE_BRANCH_MAX 48

struct spine {
	struct event_base *base;
	const struct conf *cfg;
	struct tp *tp;
	struct txn_table *txns;
	struct policy *pol;
	struct state *snap;        /* the snapshot new requests see */
	struct route *route;
	struct peer_pool *peers;
	unsigned char secret[32];
	struct spine_stats st;
};

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
};

static void spine_destroy(void *data)
{
	struct spine *s = data;

	mem_deref(s->peers);
	mem_deref(s->tp);
	mem_deref(s->route);
	mem_deref(s->txns);
	mem_deref(s->pol);
	mem_deref(s->snap);
	mem_deref((void *)s->cfg);
}

static void spine_fwd_destroy(void *data)
{
	struct spine_fwd *f = data;

	mem_deref(f->c);
	mem_deref(f->st);
	mem_deref(f->req);
	mem_deref(f->buf);
}

/* RFC 3261 20.43: warn-agent is our host name; the text may not contain a bare quote. */
static void spine_add_warning(struct spine *s, struct sipmsg *rsp, enum conf_edge_id edge,
			      const char *why)
{
	char val[400], text[300];
	size_t i;

	snprintf(text, sizeof(text), "%s", why);
	for (i = 0; text[i]; i++)
		if (text[i] == '"' || text[i] == '\\' || (unsigned char)text[i] < 0x20)
			text[i] = '\'';
	snprintf(val, sizeof(val), "399 %s \"%s\"", conf_edge(s->cfg, edge)->fqdn, text);
	if (sipmsg_header_add(rsp, "Warning", val))
		log_warn("cannot add Warning: %s", why);
}

/* A response of our own to req (RFC 3261 16.2: the proxy acting as UAS), sent on c. */
static void spine_reply(struct spine *s, struct conn *c, enum conf_edge_id in,
			const struct sipmsg *req, int status, const char *why)
{
	struct sipmsg *rsp = NULL;
	char tag[24], *buf = NULL;
	size_t len;
	int err;

	if (!strcmp(sipmsg_method(req), "ACK"))
		return; /* RFC 3261 17.1.1.3: never answered */
	sipmsg_random_token(tag, sizeof(tag));
	err = sipmsg_response_alloc(&rsp, req, status, NULL, status > 100 ? tag : NULL);
	if (!err && why)
		spine_add_warning(s, rsp, in, why);
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (!err)
		err = conn_send(c, buf, len);
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

/* Answers a forwarded request whose forwarding failed: our Via comes off first. */
static void spine_fail(struct spine *s, struct conn *c, enum conf_edge_id in,
		       struct sipmsg *req, const char *branch, const char *method,
		       const char *why)
{
	struct txn *x = txn_lookup(s->txns, branch, method);

	sipmsg_via_pop(req);
	spine_reply(s, c, in, req, 503, why);
	if (x)
		txn_remove(s->txns, x);
}

/* RFC 3261 16.11: the branch is a keyed hash of what identifies the incoming transaction, so
 * a retransmission, the CANCEL of an INVITE and the ACK of a non-2xx map to the branch the
 * original got. The secret keeps others from predicting it. */
static void spine_branch(const struct spine *s, const struct sipmsg *req, enum conf_edge_id in,
			 char *out, size_t size)
{
	const char *vb = sipmsg_via_branch(req, 0), *vh = sipmsg_via_host(req, 0);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char data[1024];
	int n;

	n = snprintf(data, sizeof(data), "%d|%s|%s|%s|%s|%u", (int)in, vb ? vb : "",
		     vh ? vh : "", sipmsg_callid(req), sipmsg_from_tag(req), sipmsg_cseq(req));
	if (n < 0)
		n = 0;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(ctx, s->secret, sizeof(s->secret)) ||
	    !EVP_DigestUpdate(ctx, data, (size_t)n < sizeof(data) ? (size_t)n : sizeof(data) - 1) ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen)) {
		/* no digest: a random branch still works, only retransmissions lose their match */
		mdlen = 16;
		RAND_bytes(md, (int)mdlen);
	}
	EVP_MD_CTX_free(ctx);
	n = snprintf(out, size, "z9hG4bK");
	for (i = 0; i < 16 && i < mdlen && (size_t)n + 2 < size; i++, n += 2)
		snprintf(out + n, size - (size_t)n, "%02x", md[i]);
}

/* route -> peer: the destination's address is known (or its connection is up). */
static void spine_send(struct spine_fwd *f, const struct sockaddr *addr)
{
	struct spine *s = f->s;
	char why[256];
	int err;

	err = peer_send(s->peers, &f->dest, addr, f->buf, f->len, f->branch, f->method);
	if (err) {
		snprintf(why, sizeof(why), "cannot reach %s: %s", f->dest.fqdn, strerror(err));
		spine_fail(s, f->c, f->in, f->req, f->branch, f->method, why);
		return;
	}
	s->st.forwarded++;
}

static void spine_routed(int err, const char *why, const struct sockaddr *addr, void *arg)
{
	struct spine_fwd *f = arg;

	if (err == ECANCELED)
		; /* shutting down: nobody to answer */
	else if (err)
		spine_fail(f->s, f->c, f->in, f->req, f->branch, f->method, why); /* DNS-004 */
	else
		spine_send(f, addr);
	mem_deref(f);
}

/* The request path, every hop on one screen:
 * Max-Forwards -> policy -> Via/branch -> txn -> encode -> route -> peer. */
static void spine_request(struct spine *s, struct conn *c, enum conf_edge_id in,
			  struct sipmsg *req)
{
	const char *method = sipmsg_method(req);
	const char *vb = sipmsg_via_branch(req, 0), *vh = sipmsg_via_host(req, 0);
	const struct conf_edge *out;
	struct policy_verdict v;
	struct spine_fwd *f;
	struct txn *x = NULL;
	int mf = sipmsg_max_forwards(req), err;
	bool ack = !strcmp(method, "ACK");

	s->st.requests_in++;
	if (mf == 0) { /* RFC 3261 16.3 step 3 */
		spine_reply(s, c, in, req, 483, NULL);
		return;
	}
	if (policy_check(s->pol, s->snap, req, in, conn_peer_cn(c), &v)) {
		spine_reply(s, c, in, req, v.status ? v.status : 500, v.why);
		return;
	}
	/* RFC 3261 16.6 step 3: decrement, or add 70 when absent */
	sipmsg_set_max_forwards(req, mf < 0 ? 70 : mf - 1);
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
	spine_branch(s, req, in, f->branch, sizeof(f->branch));
	f->dest = (struct peer_dest){ v.dest_fqdn, v.dest_port, v.dest_tcp, v.out_edge };
	out = conf_edge(s->cfg, v.out_edge);
	if (!strcmp(method, "INVITE")) /* RFC 3261 16.2: a stateful proxy answers 100 itself */
		spine_reply(s, c, in, req, 100, NULL);
	/* RFC 3261 16.6 step 8: our Via names the edge the request leaves from */
	err = sipmsg_via_push(req, v.dest_tcp ? "TCP" : "TLS", out->fqdn,
			      sa_port((const struct sockaddr *)&out->listen_sa), f->branch);
	if (err) {
		spine_reply(s, c, in, req, 500, "cannot add our Via");
		mem_deref(f);
		return;
	}
	if (!ack) {
		err = txn_insert(s->txns, &x, f->branch, f->method, c, in, req, vb, vh);
		if (err == EEXIST) { /* a retransmission: forward it again (RFC 3261 16.11) */
			log_debug("retransmitted %s %s", method, f->branch);
			err = 0;
		}
	}
	if (!err)
		err = sipmsg_encode(req, &f->buf, &f->len);
	if (err) {
		spine_fail(s, c, in, req, f->branch, f->method, "cannot forward the request");
		mem_deref(f);
		return;
	}
	log_debug("%s edge: %s %s -> %s", conf_edge_name(in), method, f->branch, v.dest_fqdn);
	if (peer_is_up(s->peers, f->dest.fqdn)) {
		spine_send(f, NULL);
		mem_deref(f);
	} else if ((err = route_resolve(s->route, f->dest.fqdn, spine_routed, f))) {
		spine_fail(s, c, in, req, f->branch, f->method, "cannot start DNS lookup");
		mem_deref(f);
	}
}

/* The response path: txn lookup by top Via branch -> pop our Via -> original connection. */
static void spine_response(struct spine *s, struct sipmsg *rsp)
{
	const char *branch = sipmsg_via_branch(rsp, 0);
	struct txn *x = branch ? txn_lookup(s->txns, branch, sipmsg_method(rsp)) : NULL;
	char *buf = NULL;
	size_t len;
	int err;

	if (!x) { /* RFC 3261 16.7 step 1: no match -> forward statelessly; we have no path */
		log_debug("response %d %s matches no transaction: dropped", sipmsg_status(rsp),
			  branch ? branch : "(no branch)");
		s->st.dropped++;
		return;
	}
	if (sipmsg_status(rsp) == 100) /* RFC 3261 16.7 step 5: 100 stops here */
		return;
	err = sipmsg_via_pop(rsp);
	if (!err && sipmsg_via_count(rsp) == 0)
		err = ENOENT; /* it was for us alone */
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (!err)
		err = conn_send(txn_conn(x), buf, len);
	if (err) {
		log_info("%s edge: response %d to %s not delivered: %s",
			 conf_edge_name(txn_edge(x)), sipmsg_status(rsp), txn_method(x),
			 strerror(err));
		s->st.dropped++;
	} else {
		s->st.responses_out++;
	}
	mem_deref(buf);
}

/* tp / peer receive: bytes -> sipmsg_decode -> request or response path. */
static void spine_recv(struct conn *c, enum conf_edge_id edge, const char *buf, size_t len,
		       void *arg)
{
	struct spine *s = arg;
	struct sipmsg *m = NULL;

	if (sipmsg_decode(&m, buf, len)) {
		/* without a parsed Via there is no way to address a 400: drop (RFC 4475) */
		log_info("%s edge: undecodable message of %zu bytes dropped", conf_edge_name(edge),
			 len);
		s->st.dropped++;
		return;
	}
	if (sipmsg_is_request(m))
		spine_request(s, c, edge, m);
	else
		spine_response(s, m);
	mem_deref(m);
}

/* A queued request whose connection never came up: answer it 503 (ROB-005). */
static void spine_peer_failed(const char *branch, const char *method, int err, const char *why,
			      void *arg)
{
	struct spine *s = arg;
	struct txn *x = txn_lookup(s->txns, branch, method);

	if (!x)
		return;
	spine_fail(s, txn_conn(x), txn_edge(x), txn_request(x), branch, method, why);
}

int spine_alloc(struct spine **sp, struct event_base *base, const struct conf *cfg)
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
	if (RAND_bytes(s->secret, sizeof(s->secret)) != 1) {
		err = EIO;
		goto out;
	}
	err = state_from_conf(&s->snap, cfg);
	if (!err)
		err = txn_table_alloc(&s->txns, base);
	if (!err)
		err = policy_alloc(&s->pol, cfg);
	if (!err)
		err = route_alloc(&s->route, base, conf_dns_server(cfg));
	if (!err)
		err = tp_alloc(&s->tp, base, cfg, spine_recv, s);
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

void spine_set_state(struct spine *s, struct state *st)
{
	if (!s || !st || st == s->snap)
		return;
	mem_deref(s->snap);
	s->snap = mem_ref(st);
	log_info("policy snapshot version %llu in use",
		 (unsigned long long)state_version(st));
}

const struct state *spine_state(const struct spine *s)
{
	return s ? s->snap : NULL;
}

void spine_stats(const struct spine *s, struct spine_stats *st)
{
	int i;

	if (!s || !st)
		return;
	*st = s->st;
	st->transactions = txn_count(s->txns);
	for (i = 0; i < CONF_NEDGES; i++)
		st->connections[i] = tp_conn_count(s->tp, (enum conf_edge_id)i) +
				     peer_count(s->peers, (enum conf_edge_id)i);
}
