/* imuac: the lab IM server as UAC for its local users: client transactions (RFC 3261 17.1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "sip/sipmsg.h"

#include "im_int.h"
#include "imsrv_int.h"

#define LOG_MODULE "imuac"

#define IMUAC_MAX_TEXT 60000

/* A client transaction the server runs for a local user. */
struct imuac {
	struct imtab_node hn;     /* in imsrv.pending by branch, while waiting */
	struct imsrv *s;
	char branch[48];
	bool invite;
	struct imsrv_peer *peer;  /* where it went; NULL for local or refused at once */
	struct event *timer;      /* Timer F (B), or 0 s to report a local outcome */
	int status;
	int err;
	char reason[64];
	imuac_h *h;
	void *arg;
};

static void uac_destroy(void *data)
{
	struct imuac *x = data;

	imtab_del(&x->hn);
	if (x->timer)
		event_free(x->timer);
}

/* Ends a transaction: reports once, then frees it. */
static void uac_finish(struct imuac *x, int status, const char *reason,
		       const struct sipmsg *rsp, int err)
{
	imuac_h *h = x->h;
	void *arg = x->arg;
	char rbuf[64];

	snprintf(rbuf, sizeof(rbuf), "%s", reason ? reason : "");
	mem_deref(x);
	if (h)
		h(status, rbuf, rsp, err, arg);
}

static void uac_timer_h(evutil_socket_t fd, short what, void *arg)
{
	struct imuac *x = arg;

	if (x->status || x->err)
		uac_finish(x, x->status, x->reason, NULL, x->err);
	else
		uac_finish(x, 0, "", NULL, ETIMEDOUT);
}

static int uac_alloc(struct imuac **xp, struct imsrv *s, imuac_h *h, void *arg)
{
	struct imuac *x = mem_zalloc(sizeof(*x), uac_destroy);

	if (!x)
		return ENOMEM;
	x->s = s;
	x->h = h;
	x->arg = arg;
	x->timer = evtimer_new(s->base, uac_timer_h, x);
	if (!x->timer) {
		mem_deref(x);
		return ENOMEM;
	}
	*xp = x;
	return 0;
}

/* Reports a locally decided outcome from the loop, so the caller never re-enters itself. */
static void uac_complete_later(struct imuac *x, int status, const char *reason, int err)
{
	struct timeval tv = { 0, 0 };

	if (!x->hn.pprev)
		imtab_add(&x->s->pending, &x->hn, x->branch, x); /* freed with the server */
	x->status = status;
	x->err = err;
	snprintf(x->reason, sizeof(x->reason), "%s",
		 reason ? reason : sipmsg_reason_phrase(status));
	evtimer_add(x->timer, &tv);
}

/* Every transaction that went out over the lost connection gets ECONNRESET. They are detached
 * first, so what the users' handlers send meanwhile (over a new connection) is not failed. */
void imuac_fail_peer(struct imsrv *s, struct imsrv_peer *p)
{
	struct imtab_node *n, *next, *dead = NULL;
	int i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = s->pending.b[i]; n; n = next) {
			struct imuac *x = n->obj;

			next = n->next;
			if (p && x->peer != p)
				continue;
			imtab_del(n);
			n->next = dead;
			dead = n;
		}
	}
	while (dead) {
		n = dead;
		dead = n->next;
		n->next = NULL;
		uac_finish(n->obj, 0, "", NULL, p ? ECONNRESET : ECANCELED);
	}
}

/* Provisional responses only rearm an INVITE's timer: the users need the final one. */
void imuac_response(struct imsrv *s, const struct sipmsg *m)
{
	const char *branch = sipmsg_via_branch(m, 0);
	struct imuac *x;

	/* RFC 3261 17.1.3: the top Via branch names the client transaction. */
	x = branch ? imtab_find(&s->pending, branch) : NULL;
	if (!x) {
		log_debug("%s: stray %d response (branch %s)", s->name, sipmsg_status(m),
			  branch ? branch : "-");
		return;
	}
	if (sipmsg_status(m) < 200)
		return;
	uac_finish(x, sipmsg_status(m), sipmsg_reason(m), m, 0);
}

/* ---- requests from local users ---- */

/* "user@domain" with nothing that could break out of a header line or a name-addr. */
static int split_aor(const char *aor, char *user, size_t usize, const char **domain)
{
	const char *at = strchr(aor, '@'), *c;

	for (c = aor; *c; c++)
		if ((unsigned char)*c <= ' ' || (unsigned char)*c == 0x7f || strchr("<>\";,", *c))
			return EINVAL;
	if (!at || at == aor || !at[1] || (size_t)(at - aor) >= usize)
		return EINVAL;
	memcpy(user, aor, at - aor);
	user[at - aor] = '\0';
	*domain = at + 1;
	return 0;
}

/* Extra header lines must be whole lines: no bare CR or LF inside a line. */
static bool hdrs_ok(const char *h)
{
	size_t n;

	if (!h || !*h)
		return true;
	n = strlen(h);
	if (n < 2 || strcmp(h + n - 2, "\r\n"))
		return false;
	for (; *h; h++)
		if ((*h == '\r' && h[1] != '\n') || (*h == '\n' && h[-1] != '\r'))
			return false;
	return true;
}

/* The request as its UAC writes it (RFC 3261 8.1.1, 12.2.1.1). */
static char *build_request(const struct imsrv *s, const struct imreq *r, const char *branch,
			   const char *tag, const char *callid, size_t *lenp)
{
	unsigned port = sa_port((const struct sockaddr *)&s->conf.listen);
	char routes[IM_ROUTES * (IM_URI_MAX + 16)] = "", ctline[160] = "", contact[IM_AOR_MAX + 20] = "";
	const char *verified = s->pf->verified_header;
	char *buf;
	int i, n;

	for (i = 0; i < r->nroute; i++) {
		size_t used = strlen(routes);

		snprintf(routes + used, sizeof(routes) - used, "Route: %s\r\n", r->route[i]);
	}
	if (r->ctype)
		snprintf(ctline, sizeof(ctline), "Content-Type: %s\r\n", r->ctype);
	if (r->contact)
		snprintf(contact, sizeof(contact), "Contact: <sip:%s>\r\n", r->from_aor);
	if (!port)
		port = 5061;
#define REQ_FMT "%s %s SIP/2.0\r\n" \
		"Via: SIP/2.0/TLS %s:%u;branch=%s\r\n" \
		"Max-Forwards: 70\r\n" \
		"%s" \
		"From: <sip:%s>;tag=%s\r\n" \
		"To: <sip:%s>%s%s\r\n" \
		"Call-ID: %s\r\n" \
		"CSeq: %u %s\r\n" \
		"%s%s%s%s%s" \
		"Content-Length: %zu\r\n" \
		"\r\n"
#define REQ_ARGS r->method, r->ruri, s->fqdn, port, branch, routes, r->from_aor, tag, \
		r->to_aor, r->to_tag && *r->to_tag ? ";tag=" : "", r->to_tag ? r->to_tag : "", \
		callid, r->cseq ? r->cseq : 1, !strcmp(r->method, "ACK") ? "ACK" : r->method, \
		contact, verified ? verified : "", verified ? "\r\n" : "", r->hdrs ? r->hdrs : "", \
		ctline, r->blen
	n = snprintf(NULL, 0, REQ_FMT, REQ_ARGS);
	if (n < 0)
		return NULL;
	buf = mem_zalloc((size_t)n + r->blen + 1, NULL);
	if (!buf)
		return NULL;
	snprintf(buf, (size_t)n + 1, REQ_FMT, REQ_ARGS);
#undef REQ_FMT
#undef REQ_ARGS
	if (r->blen)
		memcpy(buf + n, r->body, r->blen);
	*lenp = (size_t)n + r->blen;
	return buf;
}

int imuac_send(struct imsrv *s, const struct imreq *r, imuac_h *h, void *arg)
{
	char user[128], token[24], tag[24], callid[48];
	const char *domain;
	struct imsrv_peer *p;
	struct imuac *x = NULL;
	struct timeval tv;
	unsigned ms;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!s || !r || !r->method || !r->ruri || !r->from_aor || !r->to_aor ||
	    (r->blen && (!r->body || !r->ctype)) || !hdrs_ok(r->hdrs) ||
	    strpbrk(r->ruri, " \r\n<>\"") || (r->ctype && strpbrk(r->ctype, "\r\n")))
		return EINVAL;
	err = split_aor(r->from_aor, user, sizeof(user), &domain);
	if (!err)
		err = split_aor(r->to_aor, user, sizeof(user), &domain);
	if (err)
		return err;
	if (h) {
		err = uac_alloc(&x, s, h, arg);
		if (err)
			return err;
	}
	sipmsg_random_token(token, sizeof(token));
	sipmsg_random_token(tag, sizeof(tag));
	sipmsg_random_token(callid, sizeof(callid));
	if (x)
		snprintf(x->branch, sizeof(x->branch), "%s",
			 r->branch ? r->branch : "");
	if (!r->branch && x)
		snprintf(x->branch, sizeof(x->branch), "z9hG4bK%s", token);
	p = imsrv_next_hop(s, r->ruri, r->nroute ? r->route[0] : NULL);
	if (!p) {
		if (x)
			uac_complete_later(x, 404, "No route", 0);
		return 0;
	}
	buf = build_request(s, r, x ? x->branch : (r->branch ? r->branch : token),
			    r->from_tag ? r->from_tag : tag, r->call_id ? r->call_id : callid, &len);
	if (!buf) {
		mem_deref(x);
		return ENOMEM;
	}
	if (x) {
		x->peer = p;
		x->invite = !strcmp(r->method, "INVITE");
		imtab_add(&s->pending, &x->hn, x->branch, x);
	}
	err = imsrv_peer_send(p, buf, len);
	mem_deref(buf);
	if (err) {
		if (!x)
			return err;
		/* no connection at all: the user learns it like a lost one */
		imtab_del(&x->hn);
		x->peer = NULL;
		uac_complete_later(x, 0, "", ECONNRESET);
		return 0;
	}
	s->n_out++;
	if (!x)
		return 0;
	ms = x->invite ? IMUAC_INVITE_MS : s->timer_f_ms;
	if (x->invite && s->timer_f_ms < IMUAC_TIMER_F_MS)
		ms = s->timer_f_ms; /* tests that shorten Timer F mean the INVITE too */
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(x->timer, &tv);
	return 0;
}

/* ---- page-mode MESSAGE for ua_send_message ---- */

struct submit {
	ua_resp_h *rh;
	void *arg;
};

static void submit_done(int status, const char *reason, const struct sipmsg *rsp, int err,
			void *arg)
{
	struct submit *sb = arg;
	ua_resp_h *rh = sb->rh;
	void *rarg = sb->arg;

	mem_deref(sb);
	if (rh)
		rh(status, reason, err, rarg);
}

static int submit_local(struct imsrv *s, const char *from_aor, const char *to_aor,
			const char *user, const char *text, struct submit *sb)
{
	struct imsrv_user *u = imtab_find(&s->users, user);
	struct imuac *x = NULL;
	char callid[32];
	int err = uac_alloc(&x, s, submit_done, sb);

	if (err)
		return err;
	if (!u) {
		uac_complete_later(x, 404, NULL, 0);
		return 0;
	}
	sipmsg_random_token(callid, sizeof(callid));
	ua_deliver(u->ua, from_aor, to_aor, callid, text, strlen(text), NULL);
	uac_complete_later(x, 200, NULL, 0);
	return 0;
}

/* Local users are served at once (from the loop); others go to the routed edge or, at home,
 * to the proxy, each request with our own Via and branch so its response finds us. */
int imuac_submit(struct imsrv *s, const char *from_aor, const char *to_aor, const char *text,
		 ua_resp_h *rh, void *arg)
{
	char user[128], ruri[IM_URI_MAX];
	const char *domain;
	struct imreq r = { 0 };
	struct submit *sb;
	int err;

	if (!s || !from_aor || !to_aor || !text || strlen(text) > IMUAC_MAX_TEXT)
		return EINVAL;
	err = split_aor(from_aor, user, sizeof(user), &domain);
	if (!err)
		err = split_aor(to_aor, user, sizeof(user), &domain);
	if (err)
		return err;
	sb = mem_zalloc(sizeof(*sb), NULL);
	if (!sb)
		return ENOMEM;
	sb->rh = rh;
	sb->arg = arg;
	if (!strcasecmp(domain, s->domain)) {
		err = submit_local(s, from_aor, to_aor, user, text, sb);
		if (err)
			mem_deref(sb);
		return err;
	}
	snprintf(ruri, sizeof(ruri), "sip:%s", to_aor);
	r.method = "MESSAGE";
	r.ruri = ruri;
	r.from_aor = from_aor;
	r.to_aor = to_aor;
	r.ctype = "text/plain";
	r.body = text;
	r.blen = strlen(text);
	err = imuac_send(s, &r, submit_done, sb);
	if (err)
		mem_deref(sb);
	return err;
}

/* ---- any request, for probing the proxy (ua_send_request) ---- */

struct raw {
	ua_raw_h *rh;
	void *arg;
};

static void raw_done(int status, const char *reason, const struct sipmsg *rsp, int err,
		     void *arg)
{
	struct raw *rw = arg;
	char *text = NULL;
	size_t len;

	if (rsp && sipmsg_encode(rsp, &text, &len))
		text = NULL;
	if (rw->rh)
		rw->rh(status, reason, text ? text : "", err, rw->arg);
	mem_deref(text);
	mem_deref(rw);
}

int imuac_raw(struct imsrv *s, const char *from_aor, const char *method, const char *to_aor,
	      const char *hdrs, const char *ctype, const char *body, ua_raw_h *rh, void *arg)
{
	char ruri[IM_URI_MAX];
	struct imreq r = { 0 };
	struct raw *rw;
	int err;
	const char *c;

	if (!s || !method || !*method || !to_aor || !strcmp(method, "ACK") ||
	    strlen(to_aor) >= IM_URI_MAX - 8 || (body && *body && !ctype))
		return EINVAL;
	for (c = method; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || *c == '-'))
			return EINVAL;
	rw = mem_zalloc(sizeof(*rw), NULL);
	if (!rw)
		return ENOMEM;
	rw->rh = rh;
	rw->arg = arg;
	snprintf(ruri, sizeof(ruri), "sip:%s", to_aor);
	r.method = method;
	r.ruri = ruri;
	r.from_aor = from_aor;
	r.to_aor = to_aor;
	r.hdrs = hdrs;
	r.ctype = body && *body ? ctype : NULL;
	r.body = body;
	r.blen = body ? strlen(body) : 0;
	r.contact = !strcmp(method, "INVITE") || !strcmp(method, "SUBSCRIBE");
	err = imuac_send(s, &r, raw_done, rw);
	if (err)
		mem_deref(rw);
	return err;
}
