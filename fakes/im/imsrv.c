/* imsrv: the lab IM service (home server or public provider): accepted connections, request
 * dispatch, responses and faults; next hops and routes live in impeer.c, presence in impres.c,
 * sessions and MESSAGE in imsess.c. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"

#include <event2/buffer.h>

#include "imsrv.h"
#include "imsrv_int.h"
#include "im_int.h"
#include "../ua/ua.h"

#define LOG_MODULE "imsrv"

/* An accepted connection. */
struct link {
	struct imtab_node hn;     /* in imsrv.links (bucket 0 only: a plain list) */
	struct imsrv *s;
	struct conn *conn;
};

/* ---- connections ---- */

static void link_destroy(void *data)
{
	struct link *l = data;

	imtab_del(&l->hn);
	if (l->conn)
		conn_close(l->conn);
	mem_deref(l->conn);
}

static void link_msg_h(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct link *l = arg;

	imsrv_recv(l->s, c, buf, len);
}

static void link_close_h(struct conn *c, int err, void *arg)
{
	struct link *l = arg;

	log_debug("%s: inbound connection from %s ended (%s)", l->s->name,
		  conn_peer_cn(c), err ? strerror(err) : "closed");
	l->conn = mem_deref(l->conn);
	mem_deref(l);
}

static void link_estab_h(struct conn *c, void *arg)
{
	struct link *l = arg;

	if (imsrv_peer_cert_ok(l->s, c))
		return;
	conn_close(c);
	link_close_h(c, EPERM, l);
}

static void accept_h(struct conn *c, void *arg)
{
	struct imsrv *s = arg;
	struct link *l = mem_zalloc(sizeof(*l), link_destroy);
	struct conn_handlers h = { link_estab_h, link_msg_h, link_close_h, NULL };

	if (!l) {
		conn_close(c);
		mem_deref(c);
		return;
	}
	l->s = s;
	l->conn = c;
	h.arg = l;
	imtab_add(&s->links, &l->hn, NULL, l);
	conn_set_handlers(c, &h);
}
/* ---- requests and responses from the network ---- */

/* A response a fault holds back (delay_ms). */
struct imdelay {
	struct imtab_node hn;     /* in imsrv.delayed, bucket 0 */
	struct conn *conn;
	struct event *timer;
	char *buf;
	size_t len;
};

static void delay_destroy(void *data)
{
	struct imdelay *d = data;

	imtab_del(&d->hn);
	if (d->timer)
		event_free(d->timer);
	mem_deref(d->conn);
	mem_deref(d->buf);
}

static void delay_h(evutil_socket_t fd, short what, void *arg)
{
	struct imdelay *d = arg;

	if (conn_send(d->conn, d->buf, d->len))
		log_debug("delayed response not sent: connection gone");
	mem_deref(d);
}

static void reply_send(struct imsrv *s, struct conn *c, char *buf, size_t len)
{
	const struct imsrv_fault *f = s->cur_fault;
	struct imdelay *d;
	struct timeval tv;

	if (f && f->withhold_response) {
		log_info("%s: fault: response withheld", s->name);
		mem_deref(buf);
		return;
	}
	if (!f || !f->delay_ms) {
		if (conn_send(c, buf, len))
			log_warn("%s: cannot send a response", s->name);
		mem_deref(buf);
		return;
	}
	d = mem_zalloc(sizeof(*d), delay_destroy);
	if (!d || !(d->timer = evtimer_new(s->base, delay_h, d))) {
		mem_deref(d);
		mem_deref(buf);
		return;
	}
	d->conn = mem_ref(c);
	d->buf = buf;
	d->len = len;
	imtab_add(&s->delayed, &d->hn, NULL, d);
	tv.tv_sec = f->delay_ms / 1000;
	tv.tv_usec = (f->delay_ms % 1000) * 1000;
	evtimer_add(d->timer, &tv);
}

/* Adds "Name: value\r\n" lines to m. */
static int add_hdrs(struct sipmsg *m, const char *hdrs)
{
	char name[64], value[1024];
	const char *p = hdrs, *eol, *colon;
	int err = 0;

	while (!err && p && *p) {
		eol = strstr(p, "\r\n");
		if (!eol)
			eol = p + strlen(p);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && (size_t)(colon - p) < sizeof(name)) {
			const char *v = colon + 1;

			memcpy(name, p, (size_t)(colon - p));
			name[colon - p] = '\0';
			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)(eol - v), v);
			if (!strcasecmp(name, "Contact"))
				err = sipmsg_contact_add(m, value);
			else
				err = sipmsg_header_add(m, name, value);
		}
		p = *eol ? eol + 2 : eol;
	}
	return err;
}

void imsrv_reply(struct imsrv *s, struct conn *c, const struct sipmsg *req, int status,
		 const char *reason, const char *to_tag, const char *hdrs, const char *ctype,
		 const char *body)
{
	const char *method = sipmsg_method(req);
	struct sipmsg *rsp = NULL;
	char tag[24], rr[IM_URI_MAX], *buf = NULL;
	size_t len;
	int err, i;

	if (!to_tag) {
		sipmsg_random_token(tag, sizeof(tag));
		to_tag = tag;
	}
	err = sipmsg_response_alloc(&rsp, req, status, reason, status > 100 ? to_tag : NULL);
	if (!err && status == 405)
		err = sipmsg_header_add(rsp, "Allow", "MESSAGE, OPTIONS, SUBSCRIBE, NOTIFY, "
					"PUBLISH, INVITE, ACK, BYE, CANCEL");
	/* RFC 3261 12.1.1: a dialog-creating response carries the Record-Route as it came */
	if (!err && status > 100 && (!strcmp(method, "SUBSCRIBE") || !strcmp(method, "INVITE"))) {
		for (i = sipmsg_route_count(req, true) - 1; !err && i >= 0; i--) {
			err = sipmsg_route_str(req, true, i, rr, sizeof(rr));
			if (!err)
				err = sipmsg_route_push(rsp, true, rr);
		}
	}
	if (!err && hdrs)
		err = add_hdrs(rsp, hdrs);
	if (!err && ctype && body)
		err = sipmsg_set_body(rsp, ctype, body, strlen(body));
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (err) {
		log_warn("%s: cannot answer %s with %d: %s", s->name, method, status,
			 strerror(err));
		mem_deref(buf);
	} else {
		reply_send(s, c, buf, len);
	}
	mem_deref(rsp);
}

static void respond(struct imsrv *s, struct conn *c, const struct sipmsg *req, int status,
		    const char *reason)
{
	imsrv_reply(s, c, req, status, reason, NULL, NULL, NULL, NULL);
}

int imsrv_aor(const struct sipmsg *m, int which, char *buf, size_t size)
{
	const char *user, *host;

	if (sipmsg_uri(m, which, &user, &host) || !host || !*host)
		return EBADMSG;
	if (*user)
		snprintf(buf, size, "%s@%s", user, host);
	else
		snprintf(buf, size, "%s", host);
	return 0;
}

static struct imsrv_user *user_find(struct imsrv *s, const char *user)
{
	char norm[128];

	profile_user_norm(s->pf, user, norm, sizeof(norm));
	return imtab_find(&s->users, norm);
}

struct imsrv_user *imsrv_user_of(struct imsrv *s, const struct sipmsg *m)
{
	const char *user, *host;

	if (!sipmsg_uri(m, SIPMSG_RURI, &user, &host) && *user &&
	    (!strcasecmp(host, s->domain) || !strcasecmp(host, s->fqdn)))
		return user_find(s, user);
	/* in-dialog requests may carry a rewritten target: the To names the user */
	if (!sipmsg_uri(m, SIPMSG_TO, &user, &host) && *user && !strcasecmp(host, s->domain))
		return user_find(s, user);
	return NULL;
}

/* RFC-less but documented (MS): the proxy's trust mark, ms-source-verified-user=... */
bool imsrv_verified(const struct imsrv *s, const struct sipmsg *m)
{
	const char *t = sipmsg_header(m, "ms-edge-proxy-message-trust", 0);

	if (s->conf.role != IMSRV_HOME || !t)
		return true;
	return !strstr(t, "ms-source-verified-user=unverified");
}

void imsrv_dialog_add(struct imsrv *s, struct imdialog *d, void *owner)
{
	snprintf(d->key, sizeof(d->key), "%s;%s", d->dlg.call_id, d->dlg.local_tag);
	imtab_add(&s->dialogs, &d->dn, d->key, owner);
}

void *imsrv_dialog_find(struct imsrv *s, const char *call_id, const char *local_tag)
{
	char key[IM_CALLID_MAX + 40];

	if (!call_id || !local_tag || !*local_tag)
		return NULL;
	snprintf(key, sizeof(key), "%s;%s", call_id, local_tag);
	return imtab_find(&s->dialogs, key);
}

bool imname_has(const struct imtab *t, const char *aor)
{
	return aor && imtab_find(t, aor) != NULL;
}

static void imname_destroy(void *data)
{
	struct imname *n = data;

	imtab_del(&n->hn);
}

int imname_set(struct imtab *t, const char *aor, bool on)
{
	struct imname *n = imtab_find(t, aor);

	if (!aor || !*aor || strlen(aor) >= IM_AOR_MAX)
		return EINVAL;
	if (!on) {
		if (!n)
			return ENOENT;
		mem_deref(n);
		return 0;
	}
	if (n)
		return 0;
	n = mem_zalloc(sizeof(*n), imname_destroy);
	if (!n)
		return ENOMEM;
	snprintf(n->aor, sizeof(n->aor), "%s", aor);
	imtab_add(t, &n->hn, n->aor, n);
	return 0;
}

/* ---- faults on demand ---- */

int imsrv_fault_add(struct imsrv *s, const struct imsrv_fault *f)
{
	struct imsrv_fault *d;

	if (!s || !f || (f->respond && (f->respond < 200 || f->respond > 699)) ||
	    (f->method && strlen(f->method) >= 16))
		return EINVAL;
	if (s->nfaults == IMSRV_MAX_FAULTS)
		return EOVERFLOW;
	d = &s->faults[s->nfaults++];
	*d = *f;
	/* the method name is copied into the server's own storage */
	d->method = NULL;
	if (f->method && *f->method)
		d->method = strcpy(s->fault_methods[s->nfaults - 1], f->method);
	return 0;
}

void imsrv_fault_clear(struct imsrv *s)
{
	if (s)
		s->nfaults = 0;
}

static struct imsrv_fault *fault_match(struct imsrv *s, const char *method)
{
	unsigned i;

	for (i = 0; i < s->nfaults; i++)
		if (!s->faults[i].method || !strcasecmp(s->faults[i].method, method))
			return &s->faults[i];
	return NULL;
}

static void fault_remove(struct imsrv *s, struct imsrv_fault *f)
{
	unsigned i = (unsigned)(f - s->faults);

	for (; i + 1 < s->nfaults; i++) {
		s->faults[i] = s->faults[i + 1];
		memcpy(s->fault_methods[i], s->fault_methods[i + 1], sizeof(s->fault_methods[i]));
		if (s->faults[i].method)
			s->faults[i].method = s->fault_methods[i];
	}
	s->nfaults--;
}

/* Closes c at once, as a crashed or misbehaving service would, and forgets it. */
static void conn_drop(struct imsrv *s, struct conn *c)
{
	struct imtab_node *n;
	int i;

	for (n = s->links.b[0]; n; n = n->next) {
		struct link *l = n->obj;

		if (l->conn == c) {
			conn_close(c);
			l->conn = mem_deref(l->conn);
			mem_deref(l);
			return;
		}
	}
	for (i = 0; i < IMTAB_BUCKETS; i++) {
		for (n = s->peers.b[i]; n; n = n->next) {
			struct imsrv_peer *p = n->obj;

			if (p->conn == c) {
				conn_close(c);
				p->conn = mem_deref(p->conn);
				imuac_fail_peer(s, p);
				return;
			}
		}
	}
}

/* true when the fault consumed the request. */
static bool fault_apply(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	struct imsrv_fault *f = fault_match(s, sipmsg_method(m));

	s->cur_fault = NULL;
	if (!f)
		return false;
	if (f->drop_next_connection) {
		log_info("%s: fault: dropping the connection a %s came on", s->name,
			 sipmsg_method(m));
		fault_remove(s, f);
		conn_drop(s, c);
		return true;
	}
	s->cur_fault = f;
	if (f->respond) {
		if (strcmp(sipmsg_method(m), "ACK"))
			imsrv_reply(s, c, m, f->respond, NULL, NULL,
				    f->respond == 503 ? "Retry-After: 5\r\n" : NULL, NULL, NULL);
		s->cur_fault = NULL;
		return true;
	}
	return false;
}

static void recv_request(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	const char *method = sipmsg_method(m);

	s->n_in++;
	if (fault_apply(s, c, m))
		return;
	if (!strcmp(method, "ACK")) {
		imsess_recv_ack(s, m);
		goto out;
	}
	if (sipmsg_max_forwards(m) == 0) {
		respond(s, c, m, 483, NULL); /* RFC 3261 16.3 step 3 */
		goto out;
	}
	if (!impeer_allowed(s, c, m)) {
		respond(s, c, m, 403, "Forbidden (not provisioned)");
		goto out;
	}
	if (!strcmp(method, "OPTIONS"))
		respond(s, c, m, 200, NULL);
	else if (!strcmp(method, "MESSAGE"))
		imsess_recv_message(s, c, m);
	else if (!strcmp(method, "SUBSCRIBE"))
		impres_subscribe(s, c, m);
	else if (!strcmp(method, "NOTIFY"))
		impres_notify(s, c, m);
	else if (!strcmp(method, "PUBLISH"))
		impres_publish(s, c, m);
	else if (!strcmp(method, "INVITE"))
		imsess_recv_invite(s, c, m);
	else if (!strcmp(method, "BYE"))
		imsess_recv_bye(s, c, m);
	else if (!strcmp(method, "CANCEL"))
		imsess_recv_cancel(s, c, m);
	else
		respond(s, c, m, 405, NULL);
out:
	s->cur_fault = NULL;
}

void imsrv_recv(struct imsrv *s, struct conn *c, const char *buf, size_t len)
{
	struct sipmsg *m = NULL;
	int err;

	err = sipmsg_decode(&m, buf, len);
	if (err) {
		log_warn("%s: undecodable message from %s: %s", s->name, conn_peer_cn(c),
			 strerror(err));
		return;
	}
	mem_ref(s); /* a user handler may drop the last outside reference */
	if (sipmsg_is_request(m))
		recv_request(s, c, m);
	else
		imuac_response(s, m);
	mem_deref(m);
	mem_deref(s);
}
/* ---- users, routes, the server ---- */

static void user_destroy(void *data)
{
	struct imsrv_user *u = data;

	imsess_user_close(u);
	impres_user_close(u);
	imtab_del(&u->hn);
	mem_deref(u->user);
	mem_deref(u->s);
}

int imsrv_user_add(struct imsrv_user **hp, struct imsrv *s, const char *user, struct ua *u)
{
	struct imsrv_user *h;
	char norm[128];

	if (!hp || !s || !user || !*user || !u || strlen(user) >= sizeof(norm))
		return EINVAL;
	if (user_find(s, user))
		return EEXIST;
	h = mem_zalloc(sizeof(*h), user_destroy);
	if (!h)
		return ENOMEM;
	profile_user_norm(s->pf, user, norm, sizeof(norm));
	snprintf(h->aor, sizeof(h->aor), "%s@%s", user, s->domain);
	impres_user_init(h);
	h->user = mem_strdup(norm);
	if (!h->user) {
		mem_deref(h);
		return ENOMEM;
	}
	h->s = mem_ref(s);
	h->ua = u;
	imtab_add(&s->users, &h->hn, h->user, h);
	*hp = h;
	return 0;
}

static void imsrv_destroy(void *data)
{
	struct imsrv *s = data;

	s->listener = mem_deref(s->listener);
	imuac_fail_peer(s, NULL);
	imsess_server_close(s);
	imtab_flush(&s->dialogs);
	imtab_flush(&s->delayed);
	imtab_flush(&s->pending);
	imtab_flush(&s->links);
	imtab_flush(&s->routes);
	imtab_flush(&s->peers);
	/* users hold a reference on the server, so none are left here */
	mem_deref(s->name);
	mem_deref(s->fqdn);
	mem_deref(s->domain);
	mem_deref(s->proxy_fqdn);
}

static char *dup_or_empty(const char *v)
{
	return mem_strdup(v ? v : "");
}

int imsrv_alloc(struct imsrv **sp, struct event_base *base, const struct imsrv_conf *conf)
{
	struct imsrv *s;
	char abuf[64];
	unsigned i;
	int err;

	if (!sp || !base || !conf || !conf->fqdn || !conf->domain || !conf->server_tls)
		return EINVAL;
	if (conf->role == IMSRV_HOME && (!conf->proxy_fqdn || !conf->client_tls))
		return EINVAL;
	s = mem_zalloc(sizeof(*s), imsrv_destroy);
	if (!s)
		return ENOMEM;
	s->conf = *conf;
	s->base = base;
	s->timer_f_ms = IMUAC_TIMER_F_MS;
	s->sub_expires = 3600;
	s->pf = profile_find(conf->profile ? conf->profile :
			     conf->role == IMSRV_PROVIDER ? conf->name : NULL);
	s->name = dup_or_empty(conf->name ? conf->name : conf->domain);
	s->fqdn = dup_or_empty(conf->fqdn);
	s->domain = dup_or_empty(conf->domain);
	s->proxy_fqdn = dup_or_empty(conf->proxy_fqdn);
	if (!s->name || !s->fqdn || !s->domain || !s->proxy_fqdn) {
		err = ENOMEM;
		goto out;
	}
	/* the conf's strings are ours from here on */
	s->conf.name = s->name;
	s->conf.fqdn = s->fqdn;
	s->conf.domain = s->domain;
	s->conf.proxy_fqdn = s->proxy_fqdn;
	s->conf.profile = s->pf->name;
	for (i = 0; i < PROFILE_NPRES; i++)
		snprintf(s->note[i], sizeof(s->note[i]), "%s", s->pf->note[i]);
	s->offline_status = s->pf->offline_status;
	snprintf(s->offline_reason, sizeof(s->offline_reason), "%s", s->pf->offline_reason);
	if (conf->role == IMSRV_HOME) {
		err = impeer_alloc(&s->proxy, s, s->proxy_fqdn,
				 (const struct sockaddr *)&conf->proxy);
		if (err)
			goto out;
	}
	err = listener_alloc(&s->listener, base, conf->server_tls,
			     (const struct sockaddr *)&conf->listen, false, accept_h, s);
	if (err) {
		log_error("%s: cannot listen on %s: %s", s->name,
			  sa_fmt((const struct sockaddr *)&conf->listen, abuf, sizeof(abuf)),
			  strerror(err));
		goto out;
	}
	err = impeer_alloc(&s->self, s, s->fqdn, listener_addr(s->listener));
	if (err)
		goto out;
	log_info("%s: %s for %s listening on %s", s->name,
		 conf->role == IMSRV_HOME ? "home server" : "provider", s->domain,
		 sa_fmt(listener_addr(s->listener), abuf, sizeof(abuf)));
	*sp = s;
	return 0;
out:
	mem_deref(s);
	return err;
}

const struct imsrv_conf *imsrv_conf(const struct imsrv *s)
{
	return s ? &s->conf : NULL;
}

unsigned imsrv_requests_in(const struct imsrv *s)
{
	return s ? s->n_in : 0;
}

unsigned imsrv_requests_out(const struct imsrv *s)
{
	return s ? s->n_out : 0;
}

void imsrv_set_timer_f(struct imsrv *s, unsigned ms)
{
	if (s && ms)
		s->timer_f_ms = ms;
}

const struct sockaddr *imsrv_listen_addr(const struct imsrv *s)
{
	return s && s->listener ? listener_addr(s->listener) : NULL;
}

void imsrv_set_notify_before_200(struct imsrv *s, bool on)
{
	if (s)
		s->notify_before_200 = on;
}

void imsrv_set_sub_expires(struct imsrv *s, unsigned secs)
{
	if (s && secs)
		s->sub_expires = secs;
}

int imsrv_stop(struct imsrv *s)
{
	if (!s)
		return EINVAL;
	if (!s->listener)
		return EALREADY;
	/* what a killed process loses: its sockets, and the transactions it had in flight */
	s->listener = mem_deref(s->listener);
	imtab_flush(&s->links);
	imtab_flush(&s->delayed);
	impeer_close_all(s);
	imuac_fail_peer(s, NULL);
	log_info("%s: stopped (its state kept, as its database would)", s->name);
	return 0;
}

int imsrv_start(struct imsrv *s)
{
	char abuf[64];
	int err;

	if (!s)
		return EINVAL;
	if (s->listener)
		return EALREADY;
	err = listener_alloc(&s->listener, s->base, s->conf.server_tls,
			     (const struct sockaddr *)&s->conf.listen, false, accept_h, s);
	if (err) {
		log_warn("%s: cannot listen again: %s", s->name, strerror(err));
		return err;
	}
	log_info("%s: started again on %s", s->name,
		 sa_fmt(listener_addr(s->listener), abuf, sizeof(abuf)));
	return 0;
}

int imsrv_set_note(struct imsrv *s, enum profile_pres p, const char *text)
{
	size_t i;

	if (!s || p >= PROFILE_NPRES || !text || !*text || strlen(text) >= sizeof(s->note[p]))
		return EINVAL;
	for (i = 0; text[i]; i++) /* it goes into PIDF <note> as is: no markup, no controls */
		if (strchr("<>&\"'", text[i]) || (unsigned char)text[i] < 0x20)
			return EINVAL;
	snprintf(s->note[p], sizeof(s->note[p]), "%s", text);
	log_info("%s: %s now shown as \"%s\"", s->name, profile_pres_str(p), text);
	return 0;
}

int imsrv_set_offline_answer(struct imsrv *s, int status, const char *reason)
{
	size_t i;

	if (!s || status < 200 || status > 699 || !reason || !*reason ||
	    strlen(reason) >= sizeof(s->offline_reason))
		return EINVAL;
	for (i = 0; reason[i]; i++) /* a reason phrase: printable text on one line */
		if ((unsigned char)reason[i] < 0x20)
			return EINVAL;
	s->offline_status = status;
	snprintf(s->offline_reason, sizeof(s->offline_reason), "%s", reason);
	log_info("%s: offline users now answered %d %s", s->name, status, reason);
	return 0;
}

const char *imsrv_profile(const struct imsrv *s)
{
	return s ? s->pf->name : NULL;
}

struct ua *imsrv_ua(const struct imsrv *s, const char *aor)
{
	const char *at = aor ? strchr(aor, '@') : NULL;
	struct imsrv_user *u;
	char user[128];

	if (!s || !at || strcasecmp(at + 1, s->domain) || (size_t)(at - aor) >= sizeof(user))
		return NULL;
	memcpy(user, aor, (size_t)(at - aor));
	user[at - aor] = '\0';
	u = user_find((struct imsrv *)s, user);
	return u ? u->ua : NULL;
}

int imsrv_debug(const struct imsrv *s, char *buf, size_t size)
{
	int r;

	if (!s || !buf || !size)
		return EINVAL;
	r = snprintf(buf, size, "%s (%s, %s): users %zu, routes %zu, inbound conns %zu, "
		     "pending %zu, dialogs %zu, faults %u, requests in %u out %u", s->name, s->fqdn,
		     s->conf.role == IMSRV_HOME ? "home" : "provider", imtab_count(&s->users),
		     imtab_count(&s->routes), imtab_count(&s->links), imtab_count(&s->pending),
		     imtab_count(&s->dialogs), s->nfaults, s->n_in, s->n_out);
	return r < 0 || (size_t)r >= size ? ENOSPC : 0;
}
