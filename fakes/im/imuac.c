/* imuac: the lab IM server as UAC for its local users: page-mode MESSAGE client transactions. */
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

/* A client transaction the server runs for a local user (RFC 3261 17.1.2, non-INVITE). */
struct imuac {
	struct imtab_node hn;     /* in imsrv.pending by branch, while waiting */
	struct imsrv *s;
	char branch[48];
	struct imsrv_peer *peer;  /* where it went; NULL for local or refused at once */
	struct event *timer;      /* Timer F, or 0 s to report a local outcome */
	int status;
	int err;
	char reason[64];
	ua_resp_h *rh;
	void *arg;
};

static void uac_destroy(void *data)
{
	struct imuac *x = data;

	imtab_del(&x->hn);
	if (x->timer)
		event_free(x->timer);
}

/* Ends a transaction: reports once to the user, then frees it. */
static void uac_finish(struct imuac *x, int status, const char *reason, int err)
{
	ua_resp_h *rh = x->rh;
	void *arg = x->arg;
	char rbuf[64];

	snprintf(rbuf, sizeof(rbuf), "%s", reason ? reason : "");
	mem_deref(x);
	if (rh)
		rh(status, rbuf, err, arg);
}

static void uac_timer_h(evutil_socket_t fd, short what, void *arg)
{
	struct imuac *x = arg;

	if (x->status || x->err)
		uac_finish(x, x->status, x->reason, x->err);
	else
		uac_finish(x, 0, "", ETIMEDOUT);
}

static int uac_alloc(struct imuac **xp, struct imsrv *s, ua_resp_h *rh, void *arg)
{
	struct imuac *x = mem_zalloc(sizeof(*x), uac_destroy);

	if (!x)
		return ENOMEM;
	x->s = s;
	x->rh = rh;
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
			if (x->peer != p)
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
		uac_finish(n->obj, 0, "", ECONNRESET);
	}
}

/* Provisional responses are ignored: page-mode MESSAGE needs only the final one. */
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
	uac_finish(x, sipmsg_status(m), sipmsg_reason(m), 0);
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

/* The MESSAGE as its UAC writes it (RFC 3261 8.1.1, RFC 3428 4). */
static char *build_message(const struct imsrv *s, const char *branch, const char *from_aor,
			   const char *to_aor, const char *text, size_t *lenp)
{
	static const char fmt[] =
		"MESSAGE sip:%s SIP/2.0\r\n"
		"Via: SIP/2.0/TLS %s:%u;branch=z9hG4bK%s\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:%s>;tag=%s\r\n"
		"To: <sip:%s>\r\n"
		"Call-ID: %s@%s\r\n"
		"CSeq: 1 MESSAGE\r\n"
		"Content-Type: text/plain\r\n"
		"Content-Length: %zu\r\n"
		"\r\n"
		"%s";
	char tag[24], callid[32];
	unsigned port = sa_port((const struct sockaddr *)&s->conf.listen);
	size_t tlen = strlen(text);
	char *buf;
	int n;

	sipmsg_random_token(tag, sizeof(tag));
	sipmsg_random_token(callid, sizeof(callid));
	if (!port)
		port = 5061;
	n = snprintf(NULL, 0, fmt, to_aor, s->fqdn, port, branch, from_aor, tag, to_aor,
		     callid, s->fqdn, tlen, text);
	if (n < 0)
		return NULL;
	buf = mem_zalloc((size_t)n + 1, NULL);
	if (!buf)
		return NULL;
	snprintf(buf, (size_t)n + 1, fmt, to_aor, s->fqdn, port, branch, from_aor, tag, to_aor,
		 callid, s->fqdn, tlen, text);
	*lenp = (size_t)n;
	return buf;
}

static int submit_local(struct imsrv *s, struct imuac *x, const char *from_aor,
			const char *to_aor, const char *user, const char *text)
{
	struct imsrv_user *u = imtab_find(&s->users, user);
	char callid[32];

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
	char user[128], token[24];
	const char *domain;
	struct imsrv_route *r;
	struct imsrv_peer *p;
	struct imuac *x = NULL;
	struct timeval tv;
	char *buf = NULL;
	size_t len = 0;
	int err;

	if (!s || !from_aor || !to_aor || !text || strlen(text) > IMUAC_MAX_TEXT)
		return EINVAL;
	err = split_aor(from_aor, user, sizeof(user), &domain);
	if (!err)
		err = split_aor(to_aor, user, sizeof(user), &domain);
	if (err)
		return err;
	err = uac_alloc(&x, s, rh, arg);
	if (err)
		return err;
	if (!strcasecmp(domain, s->domain))
		return submit_local(s, x, from_aor, to_aor, user, text);

	r = imtab_find(&s->routes, domain);
	p = r ? r->peer : s->proxy;
	if (!p) {
		uac_complete_later(x, 404, "No route", 0);
		return 0;
	}
	sipmsg_random_token(token, sizeof(token));
	snprintf(x->branch, sizeof(x->branch), "z9hG4bK%s", token);
	buf = build_message(s, token, from_aor, to_aor, text, &len);
	if (!buf) {
		mem_deref(x);
		return ENOMEM;
	}
	x->peer = p;
	imtab_add(&s->pending, &x->hn, x->branch, x);
	err = imsrv_peer_send(p, buf, len);
	mem_deref(buf);
	if (err) {
		/* no connection at all: the user learns it like a lost one */
		imtab_del(&x->hn);
		x->peer = NULL;
		uac_complete_later(x, 0, "", ECONNRESET);
		return 0;
	}
	s->n_out++;
	tv.tv_sec = s->timer_f_ms / 1000;
	tv.tv_usec = (s->timer_f_ms % 1000) * 1000;
	evtimer_add(x->timer, &tv);
	return 0;
}
