/* rpgroup: the replay's group stage — recorded messages into transactions (RFC 3261 17: From
 * tag, CSeq number and method; the same request on several legs is one transaction with one
 * hop per leg), transactions into dialogs and out-of-dialog groups by the first leg's
 * Call-ID, and the recorded proxy found where it forwarded. Works across connections, legs
 * and interleaved dialogs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "replay_int.h"

/* The key a transaction keeps on every leg: proxies change branches (and may change Call-IDs
 * for topology hiding), not the From tag or the CSeq. */
static size_t rpgroup_key(const struct rp_sip *s, char *buf, size_t size)
{
	int n;

	if (s->ftag[0])
		n = snprintf(buf, size, "t:%s|%u|%s", s->ftag, s->cseq, s->method);
	else
		n = snprintf(buf, size, "c:%s|%u|%s", s->callid, s->cseq, s->method);
	return n > 0 && (size_t)n < size ? (size_t)n : size - 1;
}

static int rpgroup_new_txn(struct replay *r, struct rp_rec *rec)
{
	struct rp_txn *t = realloc(r->txns, (size_t)(r->ntxns + 1) * sizeof(*t));

	if (!t)
		return -1;
	r->txns = t;
	t = &r->txns[r->ntxns];
	memset(t, 0, sizeof(*t));
	t->id = r->ntxns;
	t->group = -1;
	t->hops[0] = rec->idx;
	t->nhops = 1;
	t->client = rec->src;
	t->server = rec->dst;
	return r->ntxns++;
}

static int rpgroup_request(struct replay *r, struct rp_rec *rec)
{
	char key[400];
	size_t kl = rpgroup_key(&rec->sip, key, sizeof(key));
	long ti = rpmap_get_int(r->txn_index, key, kl, -1);
	struct rp_txn *t;
	int i;

	if (ti < 0) {
		ti = rpgroup_new_txn(r, rec);
		if (ti < 0)
			return ENOMEM;
		rec->txn = (int)ti;
		rec->hop = 0;
		return rpmap_set_int(r->txn_index, key, kl, ti);
	}
	t = &r->txns[ti];
	rec->txn = (int)ti;
	for (i = 0; i < t->nhops; i++) {
		const struct rp_rec *h = &r->recs[t->hops[i]];

		if (h->src == rec->src && h->dst == rec->dst) {
			rec->dup = true;        /* a retransmission on the same leg */
			rec->hop = i;
			return 0;
		}
	}
	if (t->nhops == RP_MAX_HOPS) {
		rec->dup = true;
		return 0;
	}
	rec->hop = t->nhops;
	t->hops[t->nhops++] = rec->idx;
	t->server = rec->dst;
	return 0;
}

static int rpgroup_response(struct replay *r, struct rp_rec *rec)
{
	char key[400];
	size_t kl = rpgroup_key(&rec->sip, key, sizeof(key));
	long ti = rpmap_get_int(r->txn_index, key, kl, -1);
	struct rp_txn *t;
	int i, *nr;

	if (ti < 0)
		return 0;               /* its request is not in the capture */
	t = &r->txns[ti];
	rec->txn = (int)ti;
	for (i = 0; i < t->nhops; i++) {
		const struct rp_rec *h = &r->recs[t->hops[i]];

		if (h->src == rec->dst && h->dst == rec->src)
			rec->hop = i;
	}
	for (i = 0; i < t->nresps; i++) {
		const struct rp_rec *o = &r->recs[t->resps[i]];

		if (o->src == rec->src && o->dst == rec->dst && o->sip.status == rec->sip.status &&
		    !strcmp(o->sip.ttag, rec->sip.ttag)) {
			rec->dup = true;
			return 0;
		}
	}
	nr = realloc(t->resps, (size_t)(t->nresps + 1) * sizeof(*nr));
	if (!nr)
		return ENOMEM;
	t->resps = nr;
	t->resps[t->nresps++] = rec->idx;
	return 0;
}

/* Where a transaction went, what its client heard, and who forwarded it. */
static void rpgroup_settle(struct replay *r, struct rp_txn *t)
{
	const struct rp_rec *first = &r->recs[t->hops[0]];
	int i;

	for (i = 0; i < t->nhops; i++) {
		const struct rp_rec *h = &r->recs[t->hops[i]];

		if (i < t->nhops - 1)
			r->eps[h->dst].role = RP_ROLE_PROXY;
		if (i > 0)
			r->eps[h->src].role = RP_ROLE_PROXY;
	}
	t->rec_far_ts = r->recs[t->hops[t->nhops - 1]].ts;
	for (i = 0; i < t->nresps; i++) {
		const struct rp_rec *p = &r->recs[t->resps[i]];

		if (p->dst == t->client && p->sip.status >= 200 && !t->rec_final) {
			t->rec_final = p->sip.status;
			t->rec_final_ts = p->ts;
		}
	}
	snprintf(t->name, sizeof(t->name), "%s %s (CSeq %u)", first->sip.method,
		 first->sip.ruri_aor[0] ? first->sip.ruri_aor : "?", first->sip.cseq);
}

static int rpgroup_dialogs(struct replay *r)
{
	struct rpmap *by_callid = NULL;
	int i, err = rpmap_alloc(&by_callid);

	for (i = 0; !err && i < r->ntxns; i++) {
		struct rp_txn *t = &r->txns[i];
		const struct rp_rec *first = &r->recs[t->hops[0]];
		const char *cid = first->sip.callid;
		long g = rpmap_get_int(by_callid, cid, strlen(cid), -1);
		struct rp_group *gp;
		int *nt;

		if (g < 0) {
			gp = realloc(r->groups, (size_t)(r->ngroups + 1) * sizeof(*gp));
			if (!gp) {
				err = ENOMEM;
				break;
			}
			r->groups = gp;
			gp = &r->groups[r->ngroups];
			memset(gp, 0, sizeof(*gp));
			gp->id = r->ngroups;
			snprintf(gp->callid, sizeof(gp->callid), "%s", cid);
			snprintf(gp->name, sizeof(gp->name), "%03d %s %s -> %s", gp->id + 1,
				 first->sip.method, first->sip.from_aor, first->sip.to_aor);
			g = r->ngroups++;
			err = rpmap_set_int(by_callid, cid, strlen(cid), g);
		}
		gp = &r->groups[g];
		nt = realloc(gp->txns, (size_t)(gp->ntxns + 1) * sizeof(*nt));
		if (!nt) {
			err = ENOMEM;
			break;
		}
		gp->txns = nt;
		gp->txns[gp->ntxns++] = i;
		t->group = (int)g;
	}
	mem_deref(by_callid);
	return err;
}

int rpgroup_run(struct replay *r)
{
	size_t i;
	int err = rpmap_alloc(&r->txn_index), k;

	/* requests first, so that a response captured before its request (another connection
	 * seen earlier) still finds its transaction */
	for (i = 0; !err && i < r->nrecs; i++)
		if (r->recs[i].sip.req)
			err = rpgroup_request(r, &r->recs[i]);
	for (i = 0; !err && i < r->nrecs; i++)
		if (!r->recs[i].sip.req)
			err = rpgroup_response(r, &r->recs[i]);
	if (err)
		return err;
	for (k = 0; k < r->ntxns; k++)
		rpgroup_settle(r, &r->txns[k]);
	for (k = 0; k < r->ntxns; k++) {
		struct rp_txn *t = &r->txns[k];

		t->proxy_origin = r->eps[t->client].role == RP_ROLE_PROXY;
		t->rec_reached = r->eps[t->server].role != RP_ROLE_PROXY;
	}
	return rpgroup_dialogs(r);
}
