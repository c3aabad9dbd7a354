/* rpjudge: the replay's judge stage — per transaction, what crossed each leg live against the
 * recording, volatile fields normalised through the replay's map: whether the request reached
 * its far side, which final status reached the sender, and on the forwarded request the Via
 * count and structure, Record-Route, the trust header, Max-Forwards, Content-Length and the
 * body. --expect policy judges only the invariants (sane answers, one trust header on what
 * enters, right Content-Length, a live proxy) and lists the differences as notes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay_int.h"

#define RP_TRUST "ms-edge-proxy-message-trust"

static void rp_diff(struct rp_txn *t, bool fail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rp_diff(struct rp_txn *t, bool fail, const char *fmt, ...)
{
	size_t n = strlen(t->diff);
	va_list ap;

	if (fail)
		t->pass = false;
	if (n + 8 >= sizeof(t->diff))
		return;
	if (n)
		n += (size_t)snprintf(t->diff + n, sizeof(t->diff) - n, "; ");
	if (!fail && n < sizeof(t->diff))
		n += (size_t)snprintf(t->diff + n, sizeof(t->diff) - n, "note: ");
	va_start(ap, fmt);
	if (n < sizeof(t->diff))
		vsnprintf(t->diff + n, sizeof(t->diff) - n, fmt, ap);
	va_end(ap);
}

/* "TLS pool.contoso.test, TLS ap-int.contoso.test": each Via's transport and host, the
 * recorded side first mapped into the lab. */
static void rp_via_shape(struct replay *r, int party, const struct rp_sip *s, bool map,
			 char *out, size_t size, int *count)
{
	const char *v[16];
	size_t vl[16], o = 0;
	int n = rp_sip_values(s, "Via", v, vl, 16), i;

	out[0] = '\0';
	*count = n;
	for (i = 0; i < n; i++) {
		char tr[16], host[160];
		const char *mh;
		size_t ml;
		char *mapped = NULL;

		rp_via_host(v[i], vl[i], tr, sizeof(tr), host, sizeof(host));
		if (map && (mapped = rprewrite_text(r, party, host, strlen(host), &ml)))
			mh = mapped;
		else
			mh = host;
		for (char *p = tr; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		if (o < size)
			o += (size_t)snprintf(out + o, size - o, "%s%s %s", i ? ", " : "", tr, mh);
		free(mapped);
	}
}

static int rp_int_hdr(const struct rp_sip *s, const char *name)
{
	const struct rp_hdr *h = rp_sip_hdr(s, name, 0);

	return h ? atoi(h->val) : -1;
}

static bool rp_cl_ok(const struct rp_sip *s)
{
	int cl = rp_int_hdr(s, "Content-Length");

	return cl < 0 ? s->blen == 0 : (size_t)cl == s->blen;
}

/* The forwarded request as it reached the far side, against the recorded one. */
static void rp_judge_forward(struct replay *r, struct rp_txn *t, const struct rp_sip *rec,
			     const struct rp_sip *q, bool strict)
{
	char rs[512], ls[512];
	int rn, ln, rt, lt;
	const struct rp_hdr *rh, *lh;
	char *body;
	size_t blen;

	rp_via_shape(r, t->server, rec, true, rs, sizeof(rs), &rn);
	rp_via_shape(r, t->server, q, false, ls, sizeof(ls), &ln);
	if (rn != ln || strcasecmp(rs, ls))
		rp_diff(t, strict, "Via at the far side: recorded %d (%s), replayed %d (%s)", rn,
			rs, ln, ls);
	rn = rp_sip_values(rec, "Record-Route", (const char *[16]){ 0 }, (size_t[16]){ 0 }, 16);
	ln = rp_sip_values(q, "Record-Route", (const char *[16]){ 0 }, (size_t[16]){ 0 }, 16);
	if (rn != ln)
		rp_diff(t, strict, "Record-Route entries: recorded %d, replayed %d", rn, ln);
	rt = rp_sip_hdr_count(rec, RP_TRUST);
	lt = rp_sip_hdr_count(q, RP_TRUST);
	rh = rp_sip_hdr(rec, RP_TRUST, 0);
	lh = rp_sip_hdr(q, RP_TRUST, 0);
	if (rt != lt) {
		rp_diff(t, strict, "trust header: recorded %d, replayed %d", rt, lt);
	} else if (rh && lh) {
		char *mv = rprewrite_text(r, t->server, rh->val, rh->vlen, &blen);

		if (mv && (blen != lh->vlen || strncasecmp(mv, lh->val, blen)))
			rp_diff(t, strict, "trust header: recorded '%s', replayed '%.*s'", mv,
				(int)lh->vlen, lh->val);
		free(mv);
	}
	if (rp_int_hdr(rec, "Max-Forwards") != rp_int_hdr(q, "Max-Forwards"))
		rp_diff(t, strict, "Max-Forwards: recorded %d, replayed %d",
			rp_int_hdr(rec, "Max-Forwards"), rp_int_hdr(q, "Max-Forwards"));
	body = rprewrite_text(r, t->server, rec->body, rec->blen, &blen);
	if (body && (blen != q->blen || memcmp(body, q->body, blen)))
		rp_diff(t, strict, "body: recorded %zu bytes, replayed %zu bytes differ", blen,
			q->blen);
	free(body);
}

static void rp_judge_txn(struct replay *r, struct rp_txn *t)
{
	bool strict = r->o->expect == REPLAY_EXPECT_RECORDED;
	const struct rp_rec *first = &r->recs[t->hops[0]];
	bool is_ack = !strcmp(first->sip.method, "ACK");
	struct rp_sip q, p;

	t->pass = true;
	if (!t->sent) {
		/* not sent because the replay's own answers took another path: a difference */
		if (t->unsent[0])
			rp_diff(t, strict, "not sent: %s", t->unsent);
		else
			rp_diff(t, true, "not sent");
		return;
	}
	if (t->rec_reached != t->arrived)
		rp_diff(t, strict, "%s the far side (%s) in the recording, %s in the replay",
			t->rec_reached ? "reached" : "did not reach", rp_role_name(t->far_role),
			t->arrived ? "reached it" : "did not");
	if (t->arrived && t->arrived_at != t->far_role && t->far_role != RP_ROLE_NONE)
		rp_diff(t, true, "reached %s, not %s", rp_role_name(t->arrived_at),
			rp_role_name(t->far_role));
	if (!is_ack && t->rec_final && t->live_final != t->rec_final)
		rp_diff(t, strict, "final status to the sender: recorded %d, replayed %d",
			t->rec_final, t->live_final);
	if (!is_ack && !t->live_final && (t->rec_final || !strict))
		rp_diff(t, true, "no final answer reached the sender");
	if (t->arrived_text && !rp_sip_parse(&q, t->arrived_text, t->arrived_len)) {
		if (!rp_cl_ok(&q))
			rp_diff(t, true, "Content-Length wrong on the request at the far side");
		/* what enters the enterprise from outside carries exactly one trust header */
		if (t->arrived_at == RP_ROLE_ENTERPRISE &&
		    r->eps[t->client].role != RP_ROLE_ENTERPRISE &&
		    rp_sip_hdr_count(&q, RP_TRUST) != 1)
			rp_diff(t, true, "%d trust headers on a request entering the enterprise",
				rp_sip_hdr_count(&q, RP_TRUST));
		if (t->rec_reached && t->far_hop > 0)
			rp_judge_forward(r, t, &r->recs[t->hops[t->far_hop]].sip, &q, strict);
		else if (t->rec_reached)
			rp_judge_forward(r, t, &first->sip, &q, false);
	}
	if (t->live_final_text && !rp_sip_parse(&p, t->live_final_text, t->live_final_len) &&
	    !rp_cl_ok(&p))
		rp_diff(t, true, "Content-Length wrong on the final answer");
}

int rpjudge_run(struct replay *r)
{
	int k, g;

	for (k = 0; k < r->ntxns; k++)
		if (!r->txns[k].proxy_origin)
			rp_judge_txn(r, &r->txns[k]);
	r->passed = r->failed = 0;
	for (g = 0; g < r->ngroups; g++) {
		struct rp_group *gp = &r->groups[g];
		int i, n = 0;

		gp->pass = true;
		for (i = 0; i < gp->ntxns; i++) {
			const struct rp_txn *t = &r->txns[gp->txns[i]];

			if (t->proxy_origin)
				continue;
			n++;
			gp->pass &= t->pass;
		}
		if (!n)
			continue;
		if (gp->pass && r->sut_alive)
			r->passed++;
		else
			r->failed++;
	}
	return 0;
}
