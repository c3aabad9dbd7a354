/* impres: the lab IM server's presence agent and its users' contact lists: SUBSCRIBE, NOTIFY
 * and PUBLISH for the presence event package (RFC 3856, RFC 6665, RFC 3903) with PIDF bodies
 * (RFC 3863), authorization requests, allow and block lists, and the enterprise trust rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "sip/sipmsg.h"

#include "im_int.h"
#include "imsrv_int.h"
#include "pidf.h"

#define LOG_MODULE "impres"

#define IMPRES_MAX_EXPIRES 3600

/* A contact in a user's list: what the user sees of it. */
struct imcontact {
	struct imtab_node hn;     /* in imsrv_user.contacts by aor */
	char aor[IM_AOR_MAX];
	struct imsub *sub;        /* weak: the live subscription, if any */
	enum profile_pres pres;
	char note[64];
	char pidf_note[64];       /* the <note> of the last PIDF received, as it came */
	char substate[16];
	char reason[32];
	unsigned notifies, refreshes;
};

enum imsub_side { IMSUB_WATCHER = 0, IMSUB_NOTIFIER };
enum imsub_state { IMSUB_INIT = 0, IMSUB_PENDING, IMSUB_ACTIVE, IMSUB_TERMINATED };

/* One presence subscription, seen from either end of its dialog. */
struct imsub {
	struct imdialog d;        /* first: in imsrv.dialogs, which holds one reference */
	struct imtab_node un;     /* notifier: in the user's watchers */
	struct imsrv *s;
	struct imsrv_user *u;     /* weak; NULL: a user the service does not have */
	struct imcontact *contact; /* watcher side, weak */
	enum imsub_side side;
	enum imsub_state state;
	unsigned expires;
	struct event *timer;      /* notifier: expiry; watcher: refresh */
	struct event *resend;     /* notifier: the NOTIFY again after a lost connection */
	unsigned resends;         /* in a row, without an answer */
	bool unsubscribing;
};

/* A NOTIFY whose connection went before its answer (the edge restarted) is sent again on a
 * new connection, after 250 ms, doubling, this many times; then the subscription ends. */
#define IMSUB_RESENDS 5
#define IMSUB_RESEND_MS 250u

static const char *substate_str(enum imsub_state st)
{
	switch (st) {
	case IMSUB_INIT: return "none";
	case IMSUB_PENDING: return "pending";
	case IMSUB_ACTIVE: return "active";
	default: return "terminated";
	}
}

static void contact_destroy(void *data);

static void sub_destroy(void *data)
{
	struct imsub *x = data;

	imtab_del(&x->d.dn);
	imtab_del(&x->un);
	if (x->timer)
		event_free(x->timer);
	if (x->resend)
		event_free(x->resend);
	if (x->contact && x->contact->sub == x)
		x->contact->sub = NULL;
}

/* Drops the dialog table's reference: the subscription is over. */
static void sub_end(struct imsub *x)
{
	if (x->contact && x->contact->sub == x)
		x->contact->sub = NULL;
	x->contact = NULL;
	imtab_del(&x->un);
	if (x->d.dn.pprev) {
		imtab_del(&x->d.dn);
		mem_deref(x);
	}
}

static void sub_timer_h(evutil_socket_t fd, short what, void *arg);
static void sub_resend_h(evutil_socket_t fd, short what, void *arg);

static int sub_alloc(struct imsub **xp, struct imsrv *s, enum imsub_side side)
{
	struct imsub *x = mem_zalloc(sizeof(*x), sub_destroy);

	if (!x)
		return ENOMEM;
	x->d.kind = IMDIALOG_SUB;
	x->s = s;
	x->side = side;
	x->timer = evtimer_new(s->base, sub_timer_h, x);
	x->resend = evtimer_new(s->base, sub_resend_h, x);
	if (!x->timer || !x->resend) {
		mem_deref(x);
		return ENOMEM;
	}
	sipmsg_random_token(x->d.dlg.local_tag, sizeof(x->d.dlg.local_tag));
	*xp = x;
	return 0;
}

static void sub_arm(struct imsub *x, unsigned secs)
{
	struct timeval tv = { secs, 0 };

	evtimer_add(x->timer, &tv);
}

/* The request fields of an in-dialog request, with a Contact (RFC 3261 12.2.1.1, 6665 4.1.2). */
static void dlg_req(struct imdlg *g, struct imreq *r, const char *method)
{
	imdlg_request(g, r, method);
	r->contact = true;
}

/* Route set from Record-Route: reversed at the UAC, as is at the UAS (RFC 3261 12.1). */
static void dlg_routes(struct imdlg *g, const struct sipmsg *m, bool reverse)
{
	int n = sipmsg_route_count(m, true), i;

	g->nroute = 0;
	for (i = 0; i < n && g->nroute < IM_ROUTES; i++) {
		int idx = reverse ? n - 1 - i : i;

		if (!sipmsg_route_str(m, true, idx, g->route[g->nroute], IM_URI_MAX))
			g->nroute++;
	}
}

static void dlg_target(struct imdlg *g, const struct sipmsg *m)
{
	if (sipmsg_uri_str(m, SIPMSG_CONTACT, g->remote_target, sizeof(g->remote_target)))
		snprintf(g->remote_target, sizeof(g->remote_target), "sip:%s", g->remote_aor);
}

static unsigned hdr_uint(const struct sipmsg *m, const char *name, unsigned dflt)
{
	const char *v = sipmsg_header(m, name, 0);

	return v && *v >= '0' && *v <= '9' ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static bool is_presence(const struct sipmsg *m)
{
	const char *ev = sipmsg_header(m, "Event", 0);

	return ev && !strncasecmp(ev, "presence", 8) && (!ev[8] || ev[8] == ';' || ev[8] == ' ');
}

/* ---- notifier side ---- */

static void notify_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			void *arg)
{
	struct imsub *x = arg;

	/* the connection went before the answer (not a timeout), or a 503 with Retry-After
	 * (RFC 6665 4.2.2: not a failure): the NOTIFY again later, on a new connection if
	 * needed, while the subscription is still on */
	const char *ra = status == 503 && rsp ? sipmsg_header(rsp, "Retry-After", 0) : NULL;

	if (((!status && err == ECONNRESET) || ra) && x->state != IMSUB_TERMINATED &&
	    x->d.dn.pprev && x->resends < IMSUB_RESENDS) {
		unsigned ms = ra ? (unsigned)strtoul(ra, NULL, 10) * 1000u :
			      IMSUB_RESEND_MS << x->resends;
		struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

		x->resends++;
		log_info("%s: NOTIFY to %s %s: again in %u ms", x->s->name, x->d.dlg.remote_aor,
			 ra ? "answered 503 with Retry-After" : "lost with its connection", ms);
		evtimer_add(x->resend, &tv);
		mem_deref(x);
		return;
	}
	if (status)
		x->resends = 0;
	/* RFC 6665 4.2.2: a 481 or no answer at all ends the subscription */
	if (status == 481 || (!status && err) || (status >= 300 && x->state != IMSUB_TERMINATED))
		sub_end(x);
	mem_deref(x);
}

static void sub_notify(struct imsub *x, const char *reason);

static void sub_resend_h(evutil_socket_t fd, short what, void *arg)
{
	struct imsub *x = arg;

	if (x->state == IMSUB_TERMINATED || !x->d.dn.pprev)
		return;
	mem_ref(x);
	sub_notify(x, NULL);
	mem_deref(x);
}

/* What this watcher may see of the user: blocked watchers and unknown users see offline. */
static enum profile_pres sub_view(const struct imsub *x)
{
	if (!x->u || imname_has(&x->u->block, x->d.dlg.remote_aor))
		return PROFILE_OFFLINE;
	return x->u->pres;
}

/* Sends the NOTIFY for the subscription's state; terminated (reason set) ends it. */
static void sub_notify(struct imsub *x, const char *reason)
{
	char state[64], hdrs[160], doc[2048], entity[IM_URI_MAX];
	struct imsrv *s = x->s;
	struct imreq r;
	unsigned left = x->expires;
	enum profile_pres p = sub_view(x);
	int err;

	if (reason) {
		x->state = IMSUB_TERMINATED;
		snprintf(state, sizeof(state), "terminated;reason=%s", reason);
	} else {
		snprintf(state, sizeof(state), "%s;expires=%u", substate_str(x->state), left);
	}
	/* RFC 6665 8.2.3, RFC 3856 6.6: pending and terminated carry no document */
	snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nSubscription-State: %s\r\n", state);
	dlg_req(&x->d.dlg, &r, "NOTIFY");
	r.hdrs = hdrs;
	if (x->state == IMSUB_ACTIVE) {
		snprintf(entity, sizeof(entity), "sip:%s", x->d.dlg.local_aor);
		if (!pidf_build(doc, sizeof(doc), entity, p, s->note[p])) {
			r.ctype = PIDF_TYPE;
			r.body = doc;
			r.blen = strlen(doc);
		}
	}
	err = imuac_send(s, &r, notify_done, mem_ref(x));
	if (err) {
		log_warn("%s: cannot NOTIFY %s: %s", s->name, x->d.dlg.remote_aor, strerror(err));
		mem_deref(x);
	}
	if (reason)
		sub_end(x);
}

/* The verdict on a new watcher of u (NULL: unknown user). Returns the response status. */
static int sub_decide(struct imsrv *s, struct imsrv_user *u, const char *watcher, bool verified,
		      enum imsub_state *st)
{
	if (!u) {
		switch (s->pf->unknown) {
		case PROFILE_UNKNOWN_PENDING: *st = IMSUB_PENDING; return 202;
		case PROFILE_UNKNOWN_OFFLINE: *st = IMSUB_ACTIVE; return 200;
		default: return 404;
		}
	}
	/* TRUST-006: an unverified subscription is answered only for the allow list */
	if (!verified && !imname_has(&u->allow, watcher))
		return 403;
	if (imname_has(&u->block, watcher)) {
		if (!s->pf->polite_block)
			return 403;
		*st = IMSUB_ACTIVE; /* PRES-006: it sees the user offline */
		return 200;
	}
	if (imname_has(&u->allow, watcher)) {
		*st = IMSUB_ACTIVE;
		return 200;
	}
	*st = IMSUB_PENDING;
	return 202;
}

static void sub_reply(struct imsrv *s, struct conn *c, const struct sipmsg *m, struct imsub *x,
		      int status)
{
	char hdrs[IM_AOR_MAX + 64];

	snprintf(hdrs, sizeof(hdrs), "Expires: %u\r\nContact: <sip:%s>\r\n", x->expires,
		 x->d.dlg.local_aor);
	imsrv_reply(s, c, m, status, NULL, x->d.dlg.local_tag, hdrs, NULL, NULL);
}

/* RFC 6665 4.2.1.2: a refresh or an unsubscription inside an existing dialog. */
static void sub_refresh(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsub *x = imsrv_dialog_find(s, sipmsg_callid(m), sipmsg_to_tag(m));
	unsigned exp;

	if (!x || x->d.kind != IMDIALOG_SUB || x->side != IMSUB_NOTIFIER) {
		imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	exp = hdr_uint(m, "Expires", IMPRES_MAX_EXPIRES);
	x->expires = exp > IMPRES_MAX_EXPIRES ? IMPRES_MAX_EXPIRES : exp;
	x->d.dlg.remote_cseq = sipmsg_cseq(m);
	mem_ref(x);
	sub_reply(s, c, m, x, 200);
	if (!x->expires) {
		/* RFC 6665 4.2.1.4: the last NOTIFY says terminated */
		sub_notify(x, "timeout");
	} else {
		sub_arm(x, x->expires);
		sub_notify(x, NULL);
	}
	mem_deref(x);
}

void impres_subscribe(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsrv_user *u;
	struct imsub *x = NULL;
	enum imsub_state st = IMSUB_INIT;
	char watcher[IM_AOR_MAX], target[IM_AOR_MAX];
	unsigned exp;
	int status;

	if (!is_presence(m)) {
		imsrv_reply(s, c, m, 489, NULL, NULL, "Allow-Events: presence\r\n", NULL, NULL);
		return;
	}
	if (*sipmsg_to_tag(m)) {
		sub_refresh(s, c, m);
		return;
	}
	if (imsrv_aor(m, SIPMSG_FROM, watcher, sizeof(watcher)) ||
	    imsrv_aor(m, SIPMSG_TO, target, sizeof(target))) {
		imsrv_reply(s, c, m, 400, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	u = imsrv_user_of(s, m);
	status = sub_decide(s, u, watcher, imsrv_verified(s, m), &st);
	if (status >= 300) {
		imsrv_reply(s, c, m, status, status == 403 ?
			    "Forbidden (not authorized to see this user)" : NULL,
			    NULL, NULL, NULL, NULL);
		log_info("%s: SUBSCRIBE %s -> %s refused %d", s->name, watcher, target, status);
		return;
	}
	if (sub_alloc(&x, s, IMSUB_NOTIFIER)) {
		imsrv_reply(s, c, m, 500, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	exp = hdr_uint(m, "Expires", IMPRES_MAX_EXPIRES);
	x->expires = exp > IMPRES_MAX_EXPIRES ? IMPRES_MAX_EXPIRES : exp;
	x->u = u;
	x->state = st;
	snprintf(x->d.dlg.call_id, sizeof(x->d.dlg.call_id), "%s", sipmsg_callid(m));
	snprintf(x->d.dlg.remote_tag, sizeof(x->d.dlg.remote_tag), "%s", sipmsg_from_tag(m));
	snprintf(x->d.dlg.local_aor, sizeof(x->d.dlg.local_aor), "%s", u ? u->aor : target);
	snprintf(x->d.dlg.remote_aor, sizeof(x->d.dlg.remote_aor), "%s", watcher);
	x->d.dlg.remote_cseq = sipmsg_cseq(m);
	dlg_target(&x->d.dlg, m);
	dlg_routes(&x->d.dlg, m, false);
	imsrv_dialog_add(s, &x->d, x);
	if (u)
		imtab_add(&u->watchers, &x->un, NULL, x);
	if (!x->expires) {
		/* a fetch (RFC 6665 4.4.3): one NOTIFY with the state, then over */
		sub_reply(s, c, m, x, status);
		sub_notify(x, "timeout");
		return;
	}
	sub_arm(x, x->expires);
	if (s->notify_before_200) {
		/* PRES-005: the NOTIFY leaves first and the 200 is held back a little */
		struct imsrv_fault hold = { .delay_ms = 300 };
		const struct imsrv_fault *prev = s->cur_fault;

		sub_notify(x, NULL);
		s->cur_fault = &hold;
		sub_reply(s, c, m, x, status);
		s->cur_fault = prev;
	} else {
		sub_reply(s, c, m, x, status);
		sub_notify(x, NULL);
	}
	if (u && st == IMSUB_PENDING && !impres_authreq_pending(u, watcher)) {
		imname_set(&u->authreq, watcher, true);
		ua_event(u->ua, UA_EV_AUTHREQ, watcher);
	}
}

/* ---- watcher side ---- */

static void contact_seen(struct imcontact *ct, struct imsrv_user *u, enum profile_pres p,
			 const char *substate, const char *reason)
{
	ct->pres = profile_seen_as(u->s->pf, p);
	snprintf(ct->note, sizeof(ct->note), "%s", u->s->note[ct->pres]);
	snprintf(ct->substate, sizeof(ct->substate), "%s", substate);
	snprintf(ct->reason, sizeof(ct->reason), "%s", reason ? reason : "");
	ua_event(u->ua, UA_EV_PRESENCE, ct->aor);
}

static void subscribe_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			   void *arg);

static int sub_send(struct imsub *x, unsigned expires)
{
	char hdrs[128];
	struct imreq r;
	int err;

	snprintf(hdrs, sizeof(hdrs), "Event: presence\r\nAccept: %s\r\nExpires: %u\r\n",
		 PIDF_TYPE, expires);
	dlg_req(&x->d.dlg, &r, "SUBSCRIBE");
	if (!*x->d.dlg.remote_tag)
		r.to_tag = NULL;
	r.hdrs = hdrs;
	err = imuac_send(x->s, &r, subscribe_done, mem_ref(x));
	if (err)
		mem_deref(x);
	return err;
}

static void subscribe_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			   void *arg)
{
	struct imsub *x = arg;
	struct imcontact *ct = x->contact;
	struct imsrv_user *u = x->u;
	char why[32];

	if (status >= 200 && status < 300) {
		if (!*x->d.dlg.remote_tag && rsp) {
			snprintf(x->d.dlg.remote_tag, sizeof(x->d.dlg.remote_tag), "%s",
				 sipmsg_to_tag(rsp));
			dlg_target(&x->d.dlg, rsp);
			dlg_routes(&x->d.dlg, rsp, true);
		}
		if (x->state == IMSUB_INIT)
			x->state = status == 202 ? IMSUB_PENDING : IMSUB_ACTIVE;
		else if (ct)
			ct->refreshes++;
		if (rsp)
			x->expires = hdr_uint(rsp, "Expires", x->expires);
		if (!x->unsubscribing && u && !u->no_refresh && x->expires)
			sub_arm(x, x->expires / 2 ? x->expires / 2 : 1);
		if (ct && u)
			ua_event(u->ua, UA_EV_PRESENCE, ct->aor);
	} else if (!x->unsubscribing && x->state != IMSUB_TERMINATED) {
		/* CONT-004: whatever went wrong, the contact just shows offline */
		snprintf(why, sizeof(why), "%d", status);
		x->state = IMSUB_TERMINATED;
		if (ct && u)
			contact_seen(ct, u, PROFILE_OFFLINE, "terminated",
				     status ? why : strerror(err));
		sub_end(x);
	} else if (x->unsubscribing) {
		sub_end(x);
	}
	mem_deref(x);
}

static void sub_timer_h(evutil_socket_t fd, short what, void *arg)
{
	struct imsub *x = arg;

	if (x->side == IMSUB_NOTIFIER) {
		/* RFC 6665 4.2.2: not refreshed in time */
		mem_ref(x);
		sub_notify(x, "timeout");
		mem_deref(x);
		return;
	}
	if (x->state != IMSUB_TERMINATED && !x->unsubscribing && *x->d.dlg.remote_tag)
		sub_send(x, x->s->sub_expires);
}

/* "active;expires=30", "terminated;reason=timeout" */
static enum imsub_state substate_parse(const char *v, char *reason, size_t size)
{
	const char *r;

	reason[0] = '\0';
	if (!v)
		return IMSUB_ACTIVE;
	r = strstr(v, "reason=");
	if (r)
		snprintf(reason, size, "%.*s", (int)strcspn(r + 7, ";, "), r + 7);
	if (!strncasecmp(v, "terminated", 10))
		return IMSUB_TERMINATED;
	if (!strncasecmp(v, "pending", 7))
		return IMSUB_PENDING;
	return IMSUB_ACTIVE;
}

void impres_notify(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsub *x = imsrv_dialog_find(s, sipmsg_callid(m), sipmsg_to_tag(m));
	enum profile_pres p = PROFILE_OFFLINE;
	enum imsub_state st;
	char reason[32], ctype[64], note[64];
	const char *body;
	size_t blen;

	if (!is_presence(m)) {
		imsrv_reply(s, c, m, 489, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	if (!x || x->d.kind != IMDIALOG_SUB || x->side != IMSUB_WATCHER) {
		imsrv_reply(s, c, m, 481, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	if (!*x->d.dlg.remote_tag) {
		/* RFC 6665 4.1.2.4: the NOTIFY came before the 200; it sets up the dialog */
		snprintf(x->d.dlg.remote_tag, sizeof(x->d.dlg.remote_tag), "%s",
			 sipmsg_from_tag(m));
		dlg_target(&x->d.dlg, m);
		dlg_routes(&x->d.dlg, m, false);
		log_info("%s: NOTIFY before the 200 for %s", s->name, x->d.dlg.remote_aor);
	}
	x->d.dlg.remote_cseq = sipmsg_cseq(m);
	st = substate_parse(sipmsg_header(m, "Subscription-State", 0), reason, sizeof(reason));
	body = sipmsg_body(m, &blen);
	note[0] = '\0';
	if (blen && strstr(sipmsg_content_type(m, ctype, sizeof(ctype)), "pidf") &&
	    pidf_parse(body, blen, &p, note, sizeof(note))) {
		imsrv_reply(s, c, m, 400, "Bad PIDF", NULL, NULL, NULL, NULL);
		return;
	}
	imsrv_reply(s, c, m, 200, NULL, NULL, NULL, NULL, NULL);
	x->state = st;
	if (x->contact) {
		x->contact->notifies++;
		if (blen)
			snprintf(x->contact->pidf_note, sizeof(x->contact->pidf_note), "%s", note);
		if (x->u)
			contact_seen(x->contact, x->u, st == IMSUB_ACTIVE ? p : PROFILE_OFFLINE,
				     substate_str(st), st == IMSUB_TERMINATED ? reason : NULL);
	}
	if (st == IMSUB_TERMINATED)
		sub_end(x);
}

/* ---- PUBLISH (RFC 3903) for a user's own state ---- */

void impres_publish(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsrv_user *u = imsrv_user_of(s, m);
	char from[IM_AOR_MAX], etag[24], hdrs[64], note[64];
	enum profile_pres p;
	const char *body;
	size_t blen;

	if (!is_presence(m)) {
		imsrv_reply(s, c, m, 489, NULL, NULL, NULL, NULL, NULL);
		return;
	}
	/* only the user itself publishes its state */
	if (!u || imsrv_aor(m, SIPMSG_FROM, from, sizeof(from)) || strcasecmp(from, u->aor)) {
		imsrv_reply(s, c, m, 403, "Forbidden (only the user publishes its presence)",
			    NULL, NULL, NULL, NULL);
		return;
	}
	body = sipmsg_body(m, &blen);
	if (pidf_parse(body, blen, &p, note, sizeof(note))) {
		imsrv_reply(s, c, m, 400, "Bad PIDF", NULL, NULL, NULL, NULL);
		return;
	}
	sipmsg_random_token(etag, sizeof(etag));
	snprintf(hdrs, sizeof(hdrs), "SIP-ETag: %s\r\nExpires: %u\r\n", etag,
		 hdr_uint(m, "Expires", IMPRES_MAX_EXPIRES));
	imsrv_reply(s, c, m, 200, NULL, NULL, hdrs, NULL, NULL);
	impres_set(u, p);
}

/* ---- what ua.c asks for ---- */

static void contact_destroy(void *data)
{
	struct imcontact *ct = data;

	imtab_del(&ct->hn);
	if (ct->sub && ct->sub->contact == ct)
		ct->sub->contact = NULL;
}

/* Every watcher of u gets the NOTIFY its view of u calls for. */
static void watchers_update(struct imsrv_user *u, const char *only)
{
	struct imtab_node *n, *next;

	for (n = u->watchers.b[0]; n; n = next) {
		struct imsub *x = n->obj;

		next = n->next;
		if (only && strcasecmp(only, x->d.dlg.remote_aor))
			continue;
		mem_ref(x);
		if (imname_has(&u->block, x->d.dlg.remote_aor) && !u->s->pf->polite_block) {
			sub_notify(x, "rejected");
		} else {
			if (x->state == IMSUB_PENDING &&
			    (imname_has(&u->allow, x->d.dlg.remote_aor) ||
			     imname_has(&u->block, x->d.dlg.remote_aor)))
				x->state = IMSUB_ACTIVE;
			if (x->state == IMSUB_ACTIVE)
				sub_notify(x, NULL);
		}
		mem_deref(x);
	}
}

int impres_set(struct imsrv_user *u, enum profile_pres p)
{
	if (!u || p >= PROFILE_NPRES)
		return EINVAL;
	u->pres = p;
	watchers_update(u, NULL);
	if (p != PROFILE_OFFLINE)
		imsess_flush_offline(u);
	return 0;
}

enum profile_pres impres_state(const struct imsrv_user *u)
{
	return u ? u->pres : PROFILE_OFFLINE;
}

int impres_contact_add(struct imsrv_user *u, const char *aor)
{
	struct imsrv *s = u->s;
	struct imcontact *ct;
	struct imsub *x = NULL;
	int err;

	if (!aor || !strchr(aor, '@') || strlen(aor) >= IM_AOR_MAX - 8)
		return EINVAL;
	if (imtab_find(&u->contacts, aor))
		return EEXIST;
	ct = mem_zalloc(sizeof(*ct), contact_destroy);
	if (!ct)
		return ENOMEM;
	snprintf(ct->aor, sizeof(ct->aor), "%s", aor);
	snprintf(ct->note, sizeof(ct->note), "%s", s->note[PROFILE_OFFLINE]);
	snprintf(ct->substate, sizeof(ct->substate), "none");
	imtab_add(&u->contacts, &ct->hn, ct->aor, ct);
	err = sub_alloc(&x, s, IMSUB_WATCHER);
	if (err)
		return err; /* the contact stays, offline */
	x->u = u;
	x->contact = ct;
	ct->sub = x;
	x->expires = s->sub_expires;
	sipmsg_random_token(x->d.dlg.call_id, sizeof(x->d.dlg.call_id));
	snprintf(x->d.dlg.local_aor, sizeof(x->d.dlg.local_aor), "%s", u->aor);
	snprintf(x->d.dlg.remote_aor, sizeof(x->d.dlg.remote_aor), "%s", aor);
	snprintf(x->d.dlg.remote_target, sizeof(x->d.dlg.remote_target), "sip:%s", aor);
	imsrv_dialog_add(s, &x->d, x);
	err = sub_send(x, x->expires);
	if (err) {
		sub_end(x);
		return err;
	}
	return 0;
}

int impres_contact_remove(struct imsrv_user *u, const char *aor)
{
	struct imcontact *ct = aor ? imtab_find(&u->contacts, aor) : NULL;
	struct imsub *x;

	if (!ct)
		return ENOENT;
	x = ct->sub;
	mem_deref(ct);
	if (!x)
		return 0;
	x->contact = NULL;
	if (!*x->d.dlg.remote_tag || x->state == IMSUB_TERMINATED) {
		sub_end(x);
		return 0;
	}
	/* CONT-002, RFC 6665 4.1.2.3: Expires: 0 ends it; the last NOTIFY finishes the job */
	x->unsubscribing = true;
	evtimer_del(x->timer);
	return sub_send(x, 0);
}

int impres_contact_refresh(struct imsrv_user *u, const char *aor)
{
	struct imcontact *ct = aor ? imtab_find(&u->contacts, aor) : NULL;

	if (!ct)
		return ENOENT;
	if (!ct->sub || !*ct->sub->d.dlg.remote_tag)
		return ENOTCONN;
	return sub_send(ct->sub, u->s->sub_expires);
}

int impres_contact_info(const struct imsrv_user *u, const char *aor, struct ua_contact *out)
{
	const struct imcontact *ct = aor ? imtab_find(&u->contacts, aor) : NULL;

	if (!ct || !out)
		return ENOENT;
	memset(out, 0, sizeof(*out));
	out->pres = (enum ua_pres)ct->pres;
	snprintf(out->note, sizeof(out->note), "%s", ct->note);
	snprintf(out->pidf_note, sizeof(out->pidf_note), "%s", ct->pidf_note);
	snprintf(out->substate, sizeof(out->substate), "%s",
		 ct->sub ? substate_str(ct->sub->state) : ct->substate);
	snprintf(out->reason, sizeof(out->reason), "%s", ct->reason);
	out->notifies = ct->notifies;
	out->refreshes = ct->refreshes;
	return 0;
}

bool impres_authreq_pending(const struct imsrv_user *u, const char *aor)
{
	return imname_has(&u->authreq, aor);
}

int impres_authorize(struct imsrv_user *u, const char *aor, bool grant)
{
	if (!impres_authreq_pending(u, aor))
		return ENOENT;
	imname_set(&u->authreq, aor, false);
	return impres_list_set(u, !grant, aor, true);
}

int impres_list_set(struct imsrv_user *u, bool block, const char *aor, bool on)
{
	int err = imname_set(block ? &u->block : &u->allow, aor, on);

	if (err && !(err == ENOENT && !on))
		return err;
	if (on) {
		imname_set(block ? &u->allow : &u->block, aor, false);
		if (imname_has(&u->authreq, aor))
			imname_set(&u->authreq, aor, false);
	}
	watchers_update(u, aor);
	return 0;
}

bool impres_listed(const struct imsrv_user *u, bool block, const char *aor)
{
	return imname_has(block ? &u->block : &u->allow, aor);
}

void impres_set_auto_refresh(struct imsrv_user *u, bool on)
{
	struct imtab_node *n;
	int i;

	u->no_refresh = !on;
	if (on)
		return;
	for (i = 0; i < IMTAB_BUCKETS; i++)
		for (n = u->contacts.b[i]; n; n = n->next) {
			struct imcontact *ct = n->obj;

			if (ct->sub)
				evtimer_del(ct->sub->timer);
		}
}

void impres_user_init(struct imsrv_user *u)
{
	u->pres = PROFILE_ONLINE; /* a registered user is online until it says otherwise */
}

void impres_user_close(struct imsrv_user *u)
{
	struct imtab_node *n;

	while ((n = u->watchers.b[0]) != NULL) {
		struct imsub *x = n->obj;

		x->u = NULL;
		sub_end(x);
	}
	/* contacts take their subscriptions with them */
	{
		int i;

		for (i = 0; i < IMTAB_BUCKETS; i++) {
			while ((n = u->contacts.b[i]) != NULL) {
				struct imcontact *ct = n->obj;
				struct imsub *x = ct->sub;

				mem_deref(ct);
				if (x) {
					x->u = NULL;
					sub_end(x);
				}
			}
		}
	}
	imtab_flush(&u->allow);
	imtab_flush(&u->block);
	imtab_flush(&u->authreq);
}
