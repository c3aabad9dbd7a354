/* imsess: INVITE-based text IM sessions (IM-002) and the MESSAGE requests a lab IM server
 * receives, page-mode or inside a session, with the offline answers, size limits and the
 * enterprise's trust rule for IM (TRUST-007). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "sip/sipmsg.h"

#include "im_int.h"
#include "imsess.h"
#include "imsrv_int.h"

#define LOG_MODULE "imsess"

/* RFC 4975-style text session offer as LCS clients made it: no media port, text only. */
#define SESS_SDP "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=session\r\nc=IN IP4 0.0.0.0\r\n" \
		 "t=0 0\r\nm=message 5060 sip null\r\na=accept-types:text/plain\r\n"

struct sess_entry {
	struct sess_entry *next;
	struct ua_msg msg;
};

struct imsess {
	struct imdialog d;        /* first: in imsrv.dialogs while the dialog lives */
	struct imsrv *s;          /* weak; NULL once the server is gone */
	struct imsrv_user *u;     /* weak */
	enum imsess_state state;
	bool taken;
	char branch[48];          /* our INVITE's, for the ACK of a non-2xx */
	char end_reason[32];
	struct conn *conn;        /* UAS: where the INVITE came from, until answered */
	struct sipmsg *invite;
	struct sess_entry *head, **tailp;
	size_t count;
	ua_resp_h *rh;
	void *arg;
};

/* ---- the session object ---- */

static void sess_destroy(void *data)
{
	struct imsess *x = data;

	imtab_del(&x->d.dn);
	while (x->head) {
		struct sess_entry *e = x->head;

		x->head = e->next;
		mem_deref(e);
	}
	mem_deref(x->conn);
	mem_deref(x->invite);
}

static int sess_alloc(struct imsess **xp, struct imsrv_user *u)
{
	struct imsess *x = mem_zalloc(sizeof(*x), sess_destroy);

	if (!x)
		return ENOMEM;
	x->d.kind = IMDIALOG_SESS;
	x->s = u->s;
	x->u = u;
	x->tailp = &x->head;
	sipmsg_random_token(x->d.dlg.local_tag, sizeof(x->d.dlg.local_tag));
	snprintf(x->d.dlg.local_aor, sizeof(x->d.dlg.local_aor), "%s", u->aor);
	*xp = x;
	return 0;
}

/* The dialog is over: the table's reference goes, the user hears of it. */
static void sess_end(struct imsess *x, const char *why)
{
	x->state = IMSESS_ENDED;
	snprintf(x->end_reason, sizeof(x->end_reason), "%s", why);
	x->conn = mem_deref(x->conn);
	x->invite = mem_deref(x->invite);
	if (x->u)
		ua_event(x->u->ua, UA_EV_SESSION, x->d.dlg.remote_aor);
	if (x->d.dn.pprev) {
		imtab_del(&x->d.dn);
		mem_deref(x);
	}
}

static void dlg_from_msg(struct imdlg *g, const struct sipmsg *m, bool uac)
{
	int n = sipmsg_route_count(m, true), i;

	if (sipmsg_uri_str(m, SIPMSG_CONTACT, g->remote_target, sizeof(g->remote_target)))
		snprintf(g->remote_target, sizeof(g->remote_target), "sip:%s", g->remote_aor);
	g->nroute = 0;
	for (i = 0; i < n && g->nroute < IM_ROUTES; i++)
		if (!sipmsg_route_str(m, true, uac ? n - 1 - i : i, g->route[g->nroute],
				      IM_URI_MAX))
			g->nroute++;
}

/* A response handler adapter: the user's ua_resp_h with a reference on the session. */
struct sess_cb {
	struct imsess *x;
	ua_resp_h *rh;
	void *arg;
};

static void sess_cb_destroy(void *data)
{
	struct sess_cb *cb = data;

	mem_deref(cb->x);
}

static struct sess_cb *sess_cb_new(struct imsess *x, ua_resp_h *rh, void *arg)
{
	struct sess_cb *cb = mem_zalloc(sizeof(*cb), sess_cb_destroy);

	if (cb) {
		cb->x = mem_ref(x);
		cb->rh = rh;
		cb->arg = arg;
	}
	return cb;
}

static void sess_cb_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			 void *arg)
{
	struct sess_cb *cb = arg;

	if (cb->rh)
		cb->rh(status, reason, err, cb->arg);
	mem_deref(cb);
}

/* ---- UAC: our INVITE ---- */

static void invite_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			void *arg)
{
	struct imsess *x = arg;
	ua_resp_h *rh = x->rh;
	void *rarg = x->arg;
	struct imreq r;
	char why[16];

	x->rh = NULL;
	if (status >= 200 && status < 300 && rsp && x->state == IMSESS_CALLING) {
		snprintf(x->d.dlg.remote_tag, sizeof(x->d.dlg.remote_tag), "%s", sipmsg_to_tag(rsp));
		dlg_from_msg(&x->d.dlg, rsp, true);
		/* RFC 3261 13.2.2.4: the ACK of a 2xx is its own transaction, same CSeq number */
		imdlg_request(&x->d.dlg, &r, "ACK");
		r.cseq = --x->d.dlg.local_cseq;
		imuac_send(x->s, &r, NULL, NULL);
		x->state = IMSESS_ESTABLISHED;
		if (x->u)
			ua_event(x->u->ua, UA_EV_SESSION, x->d.dlg.remote_aor);
	} else if (x->state == IMSESS_CALLING) {
		if (rsp) {
			/* RFC 3261 17.1.1.3: the ACK of a failure reuses the INVITE's branch */
			imdlg_request(&x->d.dlg, &r, "ACK");
			r.cseq = --x->d.dlg.local_cseq;
			r.to_tag = sipmsg_to_tag(rsp);
			r.branch = x->branch;
			imuac_send(x->s, &r, NULL, NULL);
		}
		snprintf(why, sizeof(why), "%d", status);
		sess_end(x, status ? why : strerror(err));
	}
	if (rh)
		rh(status, reason, err, rarg);
	mem_deref(x);
}

int imsess_start(struct imsess **xp, struct imsrv_user *u, const char *to_aor, ua_resp_h *rh,
		 void *arg)
{
	char token[24];
	struct imsess *x = NULL;
	struct imreq r;
	int err;

	if (!xp || !u || !to_aor || !strchr(to_aor, '@') || strlen(to_aor) >= IM_AOR_MAX - 8)
		return EINVAL;
	err = sess_alloc(&x, u);
	if (err)
		return err;
	sipmsg_random_token(x->d.dlg.call_id, sizeof(x->d.dlg.call_id));
	snprintf(x->d.dlg.remote_aor, sizeof(x->d.dlg.remote_aor), "%s", to_aor);
	snprintf(x->d.dlg.remote_target, sizeof(x->d.dlg.remote_target), "sip:%s", to_aor);
	sipmsg_random_token(token, sizeof(token));
	snprintf(x->branch, sizeof(x->branch), "z9hG4bK%s", token);
	x->state = IMSESS_CALLING;
	x->rh = rh;
	x->arg = arg;
	imdlg_request(&x->d.dlg, &r, "INVITE");
	r.to_tag = NULL;
	r.contact = true;
	r.branch = x->branch;
	r.ctype = "application/sdp";
	r.body = SESS_SDP;
	r.blen = strlen(SESS_SDP);
	imsrv_dialog_add(u->s, &x->d, mem_ref(x)); /* the table's reference */
	err = imuac_send(u->s, &r, invite_done, mem_ref(x));
	if (err) {
		mem_deref(x); /* the handler's */
		sess_end(x, "cannot send");
		mem_deref(x);
		return err;
	}
	*xp = x;
	return 0;
}

/* ---- UAS ---- */

/* A refusal that makes the user look offline, or the enterprise's trust rules (TRUST-007).
 * Returns 0 to go on, or the status to answer with and its reason. */
static int im_gate(struct imsrv *s, struct imsrv_user *u, const struct sipmsg *m,
		   const char **reason)
{
	char from[IM_AOR_MAX];

	if (imsrv_aor(m, SIPMSG_FROM, from, sizeof(from)))
		return 400;
	if (imname_has(&u->block, from)) {
		*reason = s->pf->polite_block ? "Temporarily Unavailable" : "Forbidden (blocked)";
		return s->pf->polite_block ? 480 : 403;
	}
	if (!imsrv_verified(s, m) && !imname_has(&u->allow, from)) {
		*reason = "Forbidden (unverified sender not on the allow list)";
		return 403;
	}
	return 0;
}

static bool sdp_is_text(const struct sipmsg *m)
{
	size_t len;
	const char *b = sipmsg_body(m, &len);
	char buf[2048];

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, b, len);
	buf[len] = '\0';
	return strstr(buf, "m=message") && !strstr(buf, "m=audio") && !strstr(buf, "m=video");
}

static void *sess_of(struct imsrv *s, const struct sipmsg *m)
{
	struct imsess *x = imsrv_dialog_find(s, sipmsg_callid(m), sipmsg_to_tag(m));

	return x && x->d.kind == IMDIALOG_SESS ? x : NULL;
}

void imsess_recv_invite(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsrv_user *u;
	struct imsess *x;
	const char *reason = NULL;
	int st;

	if (*sipmsg_to_tag(m)) {
		/* a re-INVITE keeps the session as it is */
		x = sess_of(s, m);
		if (!x)
			imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
		else
			imsrv_reply(s, c, m, 200, NULL, x->d.dlg.local_tag, NULL,
				    "application/sdp", SESS_SDP);
		return;
	}
	u = imsrv_user_of(s, m);
	if (!u) {
		imsrv_reply(s, c, m, 404, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	st = im_gate(s, u, m, &reason);
	if (!st && !sdp_is_text(m)) {
		st = 488; /* RFC 3261 13.3.1.3: no text session offered */
		reason = "Not Acceptable Here (text sessions only)";
	}
	if (!st && u->pres == PROFILE_OFFLINE) {
		st = s->offline_status < 300 ? 480 : s->offline_status;
		reason = st == s->offline_status ? s->offline_reason : NULL;
	}
	if (st) {
		imsrv_reply(s, c, m, st, reason, NULL, NULL, NULL, NULL);
		return;
	}
	if (sess_alloc(&x, u)) {
		imsrv_reply(s, c, m, 500, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	x->state = IMSESS_OFFERED;
	snprintf(x->d.dlg.call_id, sizeof(x->d.dlg.call_id), "%s", sipmsg_callid(m));
	snprintf(x->d.dlg.remote_tag, sizeof(x->d.dlg.remote_tag), "%s", sipmsg_from_tag(m));
	imsrv_aor(m, SIPMSG_FROM, x->d.dlg.remote_aor, sizeof(x->d.dlg.remote_aor));
	x->d.dlg.remote_cseq = sipmsg_cseq(m);
	dlg_from_msg(&x->d.dlg, m, false);
	x->conn = mem_ref(c);
	x->invite = mem_ref((struct sipmsg *)m);
	imsrv_dialog_add(s, &x->d, x);
	imsrv_reply(s, c, m, 180, NULL, x->d.dlg.local_tag, NULL, NULL, NULL);
	ua_event(u->ua, UA_EV_SESSION, x->d.dlg.remote_aor);
}

int imsess_answer(struct imsess *x, int status)
{
	char hdrs[IM_AOR_MAX + 20];

	if (!x || !x->s || x->state != IMSESS_OFFERED || !x->invite || (status && status < 300))
		return EINVAL;
	if (status) {
		imsrv_reply(x->s, x->conn, x->invite, status, NULL, x->d.dlg.local_tag, NULL,
			    NULL, NULL);
		sess_end(x, "refused");
		return 0;
	}
	snprintf(hdrs, sizeof(hdrs), "Contact: <sip:%s>\r\n", x->d.dlg.local_aor);
	imsrv_reply(x->s, x->conn, x->invite, 200, NULL, x->d.dlg.local_tag, hdrs,
		    "application/sdp", SESS_SDP);
	x->conn = mem_deref(x->conn);
	x->invite = mem_deref(x->invite);
	x->state = IMSESS_ESTABLISHED;
	return 0;
}

void imsess_recv_ack(struct imsrv *s, const struct sipmsg *m)
{
	struct imsess *x = sess_of(s, m);

	if (x)
		log_debug("%s: ACK for the session with %s", s->name, x->d.dlg.remote_aor);
}

void imsess_recv_bye(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsess *x = sess_of(s, m);

	if (!x) {
		imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	imsrv_reply(s, c, m, 200, NULL, NULL, NULL, NULL, NULL);
	sess_end(x, "BYE");
}

/* RFC 3261 9.2: CANCEL matches the INVITE still waiting for the user's answer. */
void imsess_recv_cancel(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imtab_node *n;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = s->dialogs.b[i]; n; n = n->next) {
			struct imsess *x = n->obj;

			if (x->d.kind != IMDIALOG_SESS || x->state != IMSESS_OFFERED ||
			    strcmp(x->d.dlg.call_id, sipmsg_callid(m)) ||
			    strcmp(x->d.dlg.remote_tag, sipmsg_from_tag(m)))
				continue;
			imsrv_reply(s, c, m, 200, NULL, NULL, NULL, NULL, NULL);
			imsrv_reply(s, x->conn, x->invite, 487, NULL, x->d.dlg.local_tag, NULL,
				    NULL, NULL);
			sess_end(x, "CANCEL");
			return;
		}
	}
	imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
}

/* ---- MESSAGE ---- */

static void sess_queue(struct imsess *x, const struct sipmsg *m)
{
	struct sess_entry *e = mem_zalloc(sizeof(*e), NULL);
	const char *body, *trust;
	size_t len;

	if (!e)
		return;
	body = sipmsg_body(m, &len);
	if (len >= sizeof(e->msg.body))
		len = sizeof(e->msg.body) - 1;
	memcpy(e->msg.body, body, len);
	snprintf(e->msg.from, sizeof(e->msg.from), "%s", x->d.dlg.remote_aor);
	snprintf(e->msg.to, sizeof(e->msg.to), "%s", x->d.dlg.local_aor);
	snprintf(e->msg.call_id, sizeof(e->msg.call_id), "%s", sipmsg_callid(m));
	trust = sipmsg_header(m, "ms-edge-proxy-message-trust", 0);
	snprintf(e->msg.trust, sizeof(e->msg.trust), "%s", trust ? trust : "");
	*x->tailp = e;
	x->tailp = &e->next;
	x->count++;
}

static void store_offline(struct imsrv_user *u, const char *from, const char *to,
			  const struct sipmsg *m, const char *body, size_t len)
{
	struct imstore *st = mem_zalloc(sizeof(*st), NULL);
	const char *trust = sipmsg_header(m, "ms-edge-proxy-message-trust", 0);

	if (!st)
		return;
	st->body = mem_strndup(body, len);
	st->len = len;
	snprintf(st->from, sizeof(st->from), "%s", from);
	snprintf(st->to, sizeof(st->to), "%s", to);
	snprintf(st->call_id, sizeof(st->call_id), "%s", sipmsg_callid(m));
	snprintf(st->trust, sizeof(st->trust), "%s", trust ? trust : "");
	if (!u->offline_tail)
		u->offline_tail = &u->offline;
	*u->offline_tail = st;
	u->offline_tail = &st->next;
}

void imsess_flush_offline(struct imsrv_user *u)
{
	while (u->offline) {
		struct imstore *st = u->offline;

		u->offline = st->next;
		if (!u->offline)
			u->offline_tail = &u->offline;
		ua_deliver(u->ua, st->from, st->to, st->call_id, st->body ? st->body : "",
			   st->body ? st->len : 0, st->trust[0] ? st->trust : NULL);
		mem_deref(st->body);
		mem_deref(st);
	}
}

void imsess_recv_message(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	const char *user, *host, *body, *reason = NULL;
	char from[IM_AOR_MAX], to[IM_AOR_MAX];
	struct imsrv_user *u;
	struct imsess *x;
	size_t blen;
	int st;

	if (*sipmsg_to_tag(m)) {
		x = sess_of(s, m);
		if (!x || x->state != IMSESS_ESTABLISHED) {
			imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
			return;
		}
		imsrv_reply(s, c, m, 200, NULL, NULL, NULL, NULL, NULL);
		sess_queue(x, m);
		if (x->u)
			ua_event(x->u->ua, UA_EV_SESSION, x->d.dlg.remote_aor);
		return;
	}
	if (sipmsg_uri(m, SIPMSG_RURI, &user, &host) ||
	    (strcasecmp(host, s->domain) && strcasecmp(host, s->fqdn))) {
		imsrv_reply(s, c, m, 404, "No route", NULL, NULL, NULL, NULL);
		return;
	}
	u = imsrv_user_of(s, m);
	if (!u) {
		imsrv_reply(s, c, m, 404, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	if (imsrv_aor(m, SIPMSG_FROM, from, sizeof(from)) ||
	    imsrv_aor(m, SIPMSG_TO, to, sizeof(to))) {
		imsrv_reply(s, c, m, 400, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	body = sipmsg_body(m, &blen);
	if (blen > s->pf->max_message) { /* IM-004 */
		imsrv_reply(s, c, m, 413, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	st = im_gate(s, u, m, &reason);
	if (st) {
		imsrv_reply(s, c, m, st, reason, NULL, NULL, NULL, NULL);
		return;
	}
	if (u->pres == PROFILE_OFFLINE) { /* IM-005: the profile's documented answer */
		imsrv_reply(s, c, m, s->offline_status, s->offline_reason, NULL, NULL,
			    NULL, NULL);
		if (s->pf->store_offline && s->offline_status < 300)
			store_offline(u, from, to, m, body, blen);
		return;
	}
	/* RFC 3428 7: the UAS answers a MESSAGE it accepts with 200. */
	imsrv_reply(s, c, m, 200, NULL, NULL, NULL, NULL, NULL);
	ua_deliver(u->ua, from, to, sipmsg_callid(m), body, blen,
		   sipmsg_header(m, "ms-edge-proxy-message-trust", 0));
}

void imsess_user_close(struct imsrv_user *u)
{
	struct imtab_node *n, *next;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = u->s->dialogs.b[i]; n; n = next) {
			struct imsess *x = n->obj;

			next = n->next;
			if (x->d.kind == IMDIALOG_SESS && x->u == u) {
				x->u = NULL;
				if (x->state == IMSESS_OFFERED)
					imsrv_reply(x->s, x->conn, x->invite, 480, NULL,
						    x->d.dlg.local_tag, NULL, NULL, NULL);
				if (x->state != IMSESS_ENDED)
					sess_end(x, "user gone");
			}
		}
	}
	while (u->offline) {
		struct imstore *st = u->offline;

		u->offline = st->next;
		mem_deref(st->body);
		mem_deref(st);
	}
}

/* The server goes: sessions still held by their users end here. */
void imsess_server_close(struct imsrv *s)
{
	struct imtab_node *n, *next;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = s->dialogs.b[i]; n; n = next) {
			struct imsess *x = n->obj;

			next = n->next;
			if (x->d.kind != IMDIALOG_SESS)
				continue;
			x->u = NULL;
			sess_end(x, "server gone");
			x->s = NULL;
		}
	}
}

/* ---- what ua.c and the harness ask for ---- */

int imsess_take_offer(struct imsrv_user *u, const char *from_aor, struct imsess **xp)
{
	struct imtab_node *n;
	struct imsess *best = NULL;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = u->s->dialogs.b[i]; n; n = n->next) {
			struct imsess *x = n->obj;

			if (x->d.kind != IMDIALOG_SESS || x->u != u || x->state != IMSESS_OFFERED ||
			    x->taken || (from_aor && strcasecmp(from_aor, x->d.dlg.remote_aor)))
				continue;
			best = x;
		}
	}
	if (!best)
		return ENOENT;
	best->taken = true;
	*xp = mem_ref(best);
	return 0;
}

int imsess_send(struct imsess *x, const char *text, ua_resp_h *rh, void *arg)
{
	struct sess_cb *cb;
	struct imreq r;
	int err;

	if (!x || !text || x->state != IMSESS_ESTABLISHED || !x->s)
		return EINVAL;
	cb = sess_cb_new(x, rh, arg);
	if (!cb)
		return ENOMEM;
	imdlg_request(&x->d.dlg, &r, "MESSAGE");
	r.ctype = "text/plain";
	r.body = text;
	r.blen = strlen(text);
	err = imuac_send(x->s, &r, sess_cb_done, cb);
	if (err)
		mem_deref(cb);
	return err;
}

int imsess_bye(struct imsess *x, ua_resp_h *rh, void *arg)
{
	struct sess_cb *cb;
	struct imreq r;
	int err;

	if (!x || x->state != IMSESS_ESTABLISHED || !x->s)
		return EINVAL;
	cb = sess_cb_new(x, rh, arg);
	if (!cb)
		return ENOMEM;
	imdlg_request(&x->d.dlg, &r, "BYE");
	err = imuac_send(x->s, &r, sess_cb_done, cb);
	if (err) {
		mem_deref(cb);
		return err;
	}
	mem_ref(x);
	sess_end(x, "BYE (ours)");
	mem_deref(x);
	return 0;
}

enum imsess_state imsess_state(const struct imsess *x)
{
	return x ? x->state : IMSESS_ENDED;
}

const char *imsess_state_str(enum imsess_state st)
{
	switch (st) {
	case IMSESS_CALLING: return "calling";
	case IMSESS_OFFERED: return "offered";
	case IMSESS_ESTABLISHED: return "established";
	default: return "ended";
	}
}

const char *imsess_peer(const struct imsess *x)
{
	return x ? x->d.dlg.remote_aor : "";
}

const char *imsess_end_reason(const struct imsess *x)
{
	return x ? x->end_reason : "";
}

size_t imsess_inbox_count(const struct imsess *x)
{
	return x ? x->count : 0;
}

int imsess_take(struct imsess *x, struct ua_msg *out)
{
	struct sess_entry *e;

	if (!x || !out)
		return EINVAL;
	e = x->head;
	if (!e)
		return ENOENT;
	x->head = e->next;
	if (!x->head)
		x->tailp = &x->head;
	x->count--;
	*out = e->msg;
	mem_deref(e);
	return 0;
}
