/* rpsend: the replay's send stage — a lab booted as `piclab run` boots one, with the cast's
 * users provisioned; the lab's parties send what the recorded outside parties sent, over
 * fresh mutual TLS to the proxy edge each faces, in recorded order (recorded timing, scaled,
 * or as fast as answers allow); the far sides answer the proxy as the recording's far sides
 * did. A step waits until what the recording shows before it (a request reaching its far
 * side, a final answer reaching its sender) has happened live, or the wait ran out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "../fakes/ca/labca.h"
#include "../fakes/im/imsrv.h"
#include "../lab.h"
#include "../pcapng.h"
#include "replay_int.h"

#define LOG_MODULE "replay"

struct rp_party {
	struct replay *r;
	enum rp_role role;
	struct imsrv *srv;
	struct conn *conn;
	const char *fqdn;
};

static struct rp_party rp_parties[RP_NROLES];
static struct event *rp_timer;
static int rp_next_step, rp_exp_head;
static bool rp_done;

static void rp_pump(struct replay *r);

static int rp_cmp_step(const void *a, const void *b)
{
	const struct rp_step *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->rec - y->rec;
}

static int rp_cmp_exp(const void *a, const void *b)
{
	const struct rp_exp *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->txn - y->txn;
}

/* Steps (what the lab plays) and expectations (what must happen live), in recorded order. */
static int rp_plan(struct replay *r)
{
	size_t i;
	int k;

	r->steps = calloc(r->nrecs + 1, sizeof(*r->steps));
	r->exps = calloc((size_t)r->ntxns * 2 + 1, sizeof(*r->exps));
	if (!r->steps || !r->exps)
		return ENOMEM;
	for (i = 0; i < r->nrecs; i++) {
		const struct rp_rec *m = &r->recs[i];
		const struct rp_txn *t;

		if (m->dup || m->txn < 0)
			continue;
		t = &r->txns[m->txn];
		if (t->proxy_origin || r->eps[m->src].role == RP_ROLE_PROXY)
			continue;
		if (m->sip.req && m->hop == 0)
			r->steps[r->nsteps++] = (struct rp_step){ RP_STEP_SEND, m->idx, m->txn, m->ts };
		else if (!m->sip.req && m->src == t->server)
			r->steps[r->nsteps++] = (struct rp_step){ RP_STEP_RESPOND, m->idx, m->txn,
								  m->ts };
	}
	for (k = 0; k < r->ntxns; k++) {
		const struct rp_txn *t = &r->txns[k];

		if (t->proxy_origin)
			continue;
		if (t->rec_reached)
			r->exps[r->nexps++] = (struct rp_exp){ .kind = RP_EXP_ARRIVE, .txn = k, .ts = t->rec_far_ts };
		if (t->rec_final)
			r->exps[r->nexps++] = (struct rp_exp){ .kind = RP_EXP_FINAL, .txn = k, .ts = t->rec_final_ts };
	}
	qsort(r->steps, (size_t)r->nsteps, sizeof(*r->steps), rp_cmp_step);
	qsort(r->exps, (size_t)r->nexps, sizeof(*r->exps), rp_cmp_exp);
	if (r->nsteps)
		r->t0_rec = r->steps[0].ts;
	return 0;
}

static void rp_exp_settle(struct replay *r, int txn, enum rp_exp_kind kind)
{
	int i;

	for (i = rp_exp_head; i < r->nexps; i++)
		if (r->exps[i].txn == txn && r->exps[i].kind == kind)
			r->exps[i].done = true;
}

static int rp_live_txn(struct replay *r, const struct rp_sip *q)
{
	char key[400];
	int n;

	if (q->ftag[0])
		n = snprintf(key, sizeof(key), "t:%s|%u|%s", q->ftag, q->cseq, q->method);
	else
		n = snprintf(key, sizeof(key), "c:%s|%u|%s", q->callid, q->cseq, q->method);
	return (int)rpmap_get_int(r->live, key, (size_t)n, -1);
}

/* A request of ours reached a party (through a site's listener or our own connection). */
static bool rp_arrival(struct replay *r, enum rp_role at, struct conn *c, const char *buf,
		       size_t len)
{
	struct rp_sip q;
	struct rp_txn *t;
	int ti;

	if (rp_sip_parse(&q, buf, len) || !q.req)
		return false;
	ti = rp_live_txn(r, &q);
	if (ti < 0)
		return false;
	t = &r->txns[ti];
	t->arrivals++;
	if (t->arrived)
		return true;    /* a retransmission or a second target: answered once */
	t->arrived = true;
	t->arrived_at = at;
	t->arrived_text = malloc(len + 1);
	if (t->arrived_text) {
		memcpy(t->arrived_text, buf, len);
		t->arrived_text[len] = '\0';
		t->arrived_len = len;
	}
	t->arrived_conn = mem_ref(c);
	if (t->arrived_text) {
		struct rp_sip lq;

		rp_sip_parse(&lq, t->arrived_text, len);
		rprewrite_learn(r, t->server, &r->recs[t->hops[t->far_hop]].sip, &lq);
	}
	rp_exp_settle(r, ti, RP_EXP_ARRIVE);
	rp_pump(r);
	return true;
}

static void rp_response(struct replay *r, const char *buf, size_t len)
{
	char key[300];
	struct rp_sip p;
	struct rp_txn *t;
	int ti, n, i;

	if (rp_sip_parse(&p, buf, len))
		return;
	n = snprintf(key, sizeof(key), "b:%s|%s", p.branch, p.method);
	ti = (int)rpmap_get_int(r->live, key, (size_t)n, -1);
	if (ti < 0)
		return;
	t = &r->txns[ti];
	if (t->nlive < (int)(sizeof(t->live_statuses) / sizeof(t->live_statuses[0])))
		t->live_statuses[t->nlive++] = p.status;
	if (p.status < 200 || t->live_final)
		return;
	t->live_final = p.status;
	t->live_final_text = malloc(len + 1);
	if (t->live_final_text) {
		memcpy(t->live_final_text, buf, len);
		t->live_final_text[len] = '\0';
		t->live_final_len = len;
	}
	/* what the client saw in the recording, to learn the To tag, Contact and route set */
	for (i = 0; i < t->nresps; i++) {
		const struct rp_rec *rr = &r->recs[t->resps[i]];

		if (rr->dst == t->client && rr->sip.status == p.status) {
			struct rp_sip lp;

			if (t->live_final_text && !rp_sip_parse(&lp, t->live_final_text, len))
				rprewrite_learn(r, t->client, &rr->sip, &lp);
			break;
		}
	}
	rp_exp_settle(r, ti, RP_EXP_FINAL);
	rp_pump(r);
}

static void rp_conn_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct rp_party *p = arg;

	if (len > 8 && !memcmp(buf, "SIP/2.0 ", 8))
		rp_response(p->r, buf, len);
	else if (!rp_arrival(p->r, p->role, c, buf, len))
		log_debug("%s: a request the replay did not send, ignored", p->fqdn);
}

static void rp_conn_close(struct conn *c, int err, void *arg)
{
	struct rp_party *p = arg;

	log_debug("%s: connection to the proxy ended (%s)", p->fqdn, err ? strerror(err) : "closed");
	if (p->conn == c)
		p->conn = mem_deref(p->conn);
}

static bool rp_intercept(struct imsrv *s, struct conn *c, const char *buf, size_t len, void *arg)
{
	struct rp_party *p = arg;

	if (len > 8 && !memcmp(buf, "SIP/2.0 ", 8))
		return false;
	return rp_arrival(p->r, p->role, c, buf, len);
}

static int rp_party_conn(struct replay *r, struct rp_party *p)
{
	struct conn_handlers h = { NULL, rp_conn_msg, rp_conn_close, p };
	struct sockaddr_storage local, peer;
	const char *ip, *pip, *pfqdn;
	struct tlsctx *cli;
	int err;

	if (p->conn)
		return 0;
	err = lab_site_peer(r->lab, p->srv, &cli, &ip, &pip, &pfqdn);
	if (err)
		return err;
	sa_set(&local, ip, 0);
	sa_set(&peer, pip, 5061);
	return conn_connect(&p->conn, r->base, cli, (struct sockaddr *)&local,
			    (struct sockaddr *)&peer, pfqdn, &h);
}

/* The INVITE that established t's dialog in the recording (2xx), if the proxy refused it
 * live: then the dialog does not exist and t (its 2xx ACK, a BYE) is not sent. */
static const struct rp_txn *rp_dialog_refused(const struct replay *r, const struct rp_txn *t)
{
	const struct rp_sip *s = &r->recs[t->hops[0]].sip;
	const struct rp_group *g;
	int i;

	if (!s->ttag[0] || t->group < 0 || t->group >= r->ngroups)
		return NULL;
	g = &r->groups[t->group];
	for (i = 0; i < g->ntxns && g->txns[i] != t->id; i++) {
		const struct rp_txn *inv = &r->txns[g->txns[i]];
		const struct rp_sip *is = &r->recs[inv->hops[0]].sip;

		if (strcmp(is->method, "INVITE") || is->ttag[0] || inv->rec_final < 200 ||
		    inv->rec_final > 299 || (strcmp(s->ftag, is->ftag) && strcmp(s->ttag, is->ftag)))
			continue;
		if (inv->live_final >= 300)
			return inv;
	}
	return NULL;
}

static void rp_send(struct replay *r, const struct rp_step *st)
{
	const struct rp_rec *m = &r->recs[st->rec];
	struct rp_txn *t = &r->txns[st->txn];
	struct rp_party *p = &rp_parties[r->eps[m->src].role];
	char *out = NULL, key[400];
	struct rp_sip q;
	size_t len;
	const struct rp_txn *inv;
	int n, err;

	if (!p->srv) {
		rp_log(r, "frame %u: no lab party plays %s", m->frame, rp_role_name(p->role));
		return;
	}
	if ((inv = rp_dialog_refused(r, t))) {
		snprintf(t->unsent, sizeof(t->unsent), "its dialog's INVITE (CSeq %u) was answered "
			 "%d, recorded %d: no dialog", r->recs[inv->hops[0]].sip.cseq,
			 inv->live_final, inv->rec_final);
		rp_log(r, "frame %u: %s not sent: %s", m->frame, t->name, t->unsent);
		return;
	}
	err = rp_party_conn(r, p);
	if (!err)
		err = rprewrite_request(r, m, &out, &len, p->fqdn, t->live_branch,
					sizeof(t->live_branch));
	if (!err && rp_sip_parse(&q, out, len))
		err = EBADMSG;
	if (err) {
		rp_log(r, "frame %u: %s not sent: %s", m->frame, t->name, strerror(err));
		free(out);
		return;
	}
	if (q.ftag[0])
		n = snprintf(key, sizeof(key), "t:%s|%u|%s", q.ftag, q.cseq, q.method);
	else
		n = snprintf(key, sizeof(key), "c:%s|%u|%s", q.callid, q.cseq, q.method);
	rpmap_set_int(r->live, key, (size_t)n, st->txn);
	n = snprintf(key, sizeof(key), "b:%s|%s", q.branch, q.method);
	rpmap_set_int(r->live, key, (size_t)n, st->txn);
	snprintf(t->live_key, sizeof(t->live_key), "%s", key);
	t->sent = true;
	t->sent_at = rp_now();
	if (r->o->verbose)
		rp_log(r, "send (frame %u) from %s:\n%.*s", m->frame, p->fqdn, (int)len, out);
	if (conn_send(p->conn, out, len))
		rp_log(r, "frame %u: %s: the connection is gone", m->frame, t->name);
	free(out);
}

static void rp_respond(struct replay *r, const struct rp_step *st)
{
	const struct rp_rec *m = &r->recs[st->rec];
	struct rp_txn *t = &r->txns[st->txn];
	struct rp_sip q;
	char *out = NULL;
	size_t len;

	if (!t->arrived || !t->arrived_text || !t->arrived_conn) {
		rp_log(r, "frame %u: %d answer to %s not played: the request did not reach %s",
		       m->frame, m->sip.status, t->name, rp_role_name(t->far_role));
		return;
	}
	if (!strcmp(m->sip.method, "ACK"))
		return;
	if (rp_sip_parse(&q, t->arrived_text, t->arrived_len) ||
	    rprewrite_response(r, m, &q, &out, &len)) {
		rp_log(r, "frame %u: answer to %s cannot be built", m->frame, t->name);
		return;
	}
	if (r->o->verbose)
		rp_log(r, "answer (frame %u) from %s:\n%.*s", m->frame,
		       rp_role_name(t->arrived_at), (int)len, out);
	if (conn_send(t->arrived_conn, out, len))
		rp_log(r, "frame %u: answer to %s: the connection is gone", m->frame, t->name);
	free(out);
}

static bool rp_exp_resolved(struct replay *r, const struct rp_exp *e)
{
	return e->done || e->expired ||
	       (e->kind == RP_EXP_ARRIVE && r->txns[e->txn].live_final) ||
	       !r->txns[e->txn].sent;
}

static void rp_arm(struct replay *r, double at)
{
	double d = at - rp_now();
	struct timeval tv;

	if (d < 0)
		d = 0;
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	evtimer_add(rp_timer, &tv);
}

/* Resolves expectations older than ts; false when the replay has to wait. */
static bool rp_ready_for(struct replay *r, double ts)
{
	static double blocked_since;
	static int blocked_on = -1;

	while (rp_exp_head < r->nexps && r->exps[rp_exp_head].ts < ts) {
		struct rp_exp *e = &r->exps[rp_exp_head];

		if (!rp_exp_resolved(r, e)) {
			double now = rp_now();

			if (blocked_on != rp_exp_head) {
				blocked_on = rp_exp_head;
				blocked_since = now;
			}
			if (now - blocked_since < r->o->wait && !r->lab_broken) {
				rp_arm(r, blocked_since + r->o->wait);
				return false;
			}
			e->expired = true;
			rp_log(r, "%s: %s did not happen within %.0f s", r->txns[e->txn].name,
			       e->kind == RP_EXP_ARRIVE ? "reaching the far side" :
			       "a final answer to the sender", r->o->wait);
		}
		rp_exp_head++;
	}
	return true;
}

static void rp_pump(struct replay *r)
{
	static bool busy;

	if (busy || rp_done)
		return;
	busy = true;
	while (rp_next_step < r->nsteps && !r->lab_broken) {
		const struct rp_step *st = &r->steps[rp_next_step];

		if (!rp_ready_for(r, st->ts))
			goto out;
		if (r->o->speed > 0) {
			double due = r->t0_live + (st->ts - r->t0_rec) / r->o->speed;

			if (rp_now() < due) {
				rp_arm(r, due);
				goto out;
			}
		}
		rp_next_step++;
		if (st->kind == RP_STEP_SEND)
			rp_send(r, st);
		else
			rp_respond(r, st);
	}
	if (r->lab_broken || rp_ready_for(r, 1e300)) {
		rp_done = true;
		event_base_loopbreak(r->base);
	}
out:
	busy = false;
}

static void rp_timer_h(evutil_socket_t fd, short what, void *arg)
{
	rp_pump(arg);
}

static void rp_broken(struct lab *lab, const char *why, void *arg)
{
	struct replay *r = arg;

	r->lab_broken = true;
	snprintf(r->lab_why, sizeof(r->lab_why), "%s", why);
	event_base_loopbreak(r->base);
}

static void rp_lab_opts(struct replay *r, struct lab_opts *lo, char *pki, size_t psize)
{
	int i, j;

	snprintf(pki, psize, "%s/pki", r->dir);
	lo->index = r->o->lab_index;
	lo->dir = r->dir;
	lo->pki_dir = pki;
	lo->sut_binary = r->o->sut_binary;
	lo->root = r->o->root;
	lo->capture = true;
	for (i = 0; i < LAB_NPROVIDERS; i++) {
		lo->provider_allow[i] = r->provider_allow[i];
		lo->provider_blocked[i] = r->provider_blocked[i];
		snprintf(lo->provider_filter[i], sizeof(lo->provider_filter[i]), "%s",
			 r->provider_filter[i]);
		lo->provider_partner[i] = r->provider_partner[i];
	}
	lab_default_users(lo);
	for (i = 0; i < r->nusers; i++) {
		for (j = 0; j < lo->npic_users; j++)
			if (!strcmp(lo->pic_users[j].aor, r->users[i].aor))
				break;
		if (j < lo->npic_users) {
			if (!r->users[i].enabled)
				lo->pic_users[j].enabled = false;
			continue;
		}
		if (lo->npic_users == LAB_MAX_USERS)
			break;
		snprintf(lo->pic_users[lo->npic_users].aor, sizeof(lo->pic_users[0].aor), "%s",
			 r->users[i].aor);
		lo->pic_users[lo->npic_users++].enabled = r->users[i].enabled;
	}
}

static void rp_parties_init(struct replay *r)
{
	static const char *const fqdn[RP_NROLES] = {
		[RP_ROLE_ENTERPRISE] = "pool.contoso.test", [RP_ROLE_AOL] = "sip.aol.test",
		[RP_ROLE_YAHOO] = "sip.yahoo.test", [RP_ROLE_MSN] = "sip.msn.test",
	};
	int i;

	memset(rp_parties, 0, sizeof(rp_parties));
	for (i = RP_ROLE_ENTERPRISE; i < RP_NROLES; i++) {
		struct rp_party *p = &rp_parties[i];

		p->r = r;
		p->role = (enum rp_role)i;
		p->fqdn = fqdn[i];
		p->srv = i == RP_ROLE_ENTERPRISE ? lab_enterprise(r->lab) :
			 lab_provider(r->lab, (unsigned)(i - RP_ROLE_AOL));
		imsrv_set_intercept(p->srv, rp_intercept, p);
	}
}

int rpsend_run(struct replay *r)
{
	struct lab_opts lo = { 0 };
	char pki[1100], why[1024] = "";
	int err, i;

	err = rp_plan(r);
	if (!err)
		err = rpmap_alloc(&r->live);
	if (err)
		return err;
	rp_lab_opts(r, &lo, pki, sizeof(pki));
	err = labca_make(pki, lab_pki_leaves());
	if (err) {
		fprintf(stderr, "piclab replay: lab PKI in %s: %s\n", pki, strerror(err));
		return err;
	}
	r->base = event_base_new();
	if (!r->base)
		return ENOMEM;
	err = lab_boot(&r->lab, r->base, &lo, rp_broken, r, why, sizeof(why));
	if (err) {
		fprintf(stderr, "piclab replay: the lab did not boot: %s\n", why);
		return err;
	}
	rp_parties_init(r);
	rp_timer = evtimer_new(r->base, rp_timer_h, r);
	rp_next_step = rp_exp_head = 0;
	rp_done = false;
	r->t0_live = rp_now();
	rp_pump(r);
	while (!rp_done && !r->lab_broken)
		event_base_loop(r->base, EVLOOP_ONCE);
	{
		/* answers still in flight land before the judge looks */
		struct timeval settle = { 0, 300000 };

		event_base_loopexit(r->base, &settle);
		event_base_dispatch(r->base);
	}
	r->sut_alive = !r->lab_broken;
	if (r->lab_broken)
		fprintf(stderr, "piclab replay: the lab broke: %s\n", r->lab_why);
	for (i = RP_ROLE_ENTERPRISE; i < RP_NROLES; i++) {
		imsrv_set_intercept(rp_parties[i].srv, NULL, NULL);
		if (rp_parties[i].conn)
			conn_close(rp_parties[i].conn);
		rp_parties[i].conn = mem_deref(rp_parties[i].conn);
	}
	for (i = 0; i < r->ntxns; i++)
		r->txns[i].arrived_conn = mem_deref(r->txns[i].arrived_conn);
	evtimer_del(rp_timer);
	event_free(rp_timer);
	rp_timer = NULL;
	return 0;
}

/* After the judge: the proxy stops, the capture is closed and written with its secrets. */
void rpsend_teardown(struct replay *r)
{
	if (r->lab) {
		char pcap[1100], keys[1100], ng[1100];

		snprintf(pcap, sizeof(pcap), "%s", lab_pcap_path(r->lab));
		snprintf(keys, sizeof(keys), "%s", lab_keylog_path(r->lab));
		snprintf(ng, sizeof(ng), "%s/capture.pcapng", r->dir);
		lab_teardown(r->lab);
		pcapng_write_with_secrets(pcap, keys, ng);
		r->lab = mem_deref(r->lab);
		event_base_loop(r->base, EVLOOP_NONBLOCK);
	}
	if (r->base)
		event_base_free(r->base);
	r->base = NULL;
}
