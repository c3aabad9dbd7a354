/* imsrv: the lab IM service (home server or public provider) relaying page-mode MESSAGE. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "net/sa.h"
#include "sip/sipmsg.h"

#include "imsrv.h"
#include "imsrv_int.h"
#include "im_int.h"

#define LOG_MODULE "imsrv"

/* An accepted connection. */
struct link {
	struct imtab_node hn;     /* in imsrv.links (bucket 0 only: a plain list) */
	struct imsrv *s;
	struct conn *conn;
};

/* ---- connections ---- */

static void imsrv_recv(struct imsrv *s, struct conn *c, const char *buf, size_t len);

static void peer_msg_h(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct imsrv_peer *p = arg;

	imsrv_recv(p->s, c, buf, len);
}

static void peer_close_h(struct conn *c, int err, void *arg)
{
	struct imsrv_peer *p = arg;
	struct imsrv *s = mem_ref(p->s);

	log_info("%s: connection to %s lost (%s)", s->name, p->fqdn, err ? strerror(err) : "closed");
	p->conn = mem_deref(p->conn);
	imuac_fail_peer(s, p);
	mem_deref(s);
}

static void peer_destroy(void *data)
{
	struct imsrv_peer *p = data;

	imtab_del(&p->hn);
	if (p->conn)
		conn_close(p->conn);
	mem_deref(p->conn);
	mem_deref(p->fqdn);
}

static int peer_alloc(struct imsrv_peer **pp, struct imsrv *s, const char *fqdn,
		      const struct sockaddr *addr)
{
	struct imsrv_peer *p = mem_zalloc(sizeof(*p), peer_destroy);

	if (!p)
		return ENOMEM;
	p->s = s;
	p->fqdn = mem_strdup(fqdn);
	if (!p->fqdn) {
		mem_deref(p);
		return ENOMEM;
	}
	memcpy(&p->addr, addr, sa_len(addr));
	imtab_add(&s->peers, &p->hn, p->fqdn, p);
	*pp = p;
	return 0;
}

/* One persistent connection per next hop, bound to our own address so the peer sees who we
 * are (the lab gives every host its own IP), and checked against the FQDN it must present. */
int imsrv_peer_send(struct imsrv_peer *p, const char *buf, size_t len)
{
	struct imsrv *s = p->s;
	struct conn_handlers h = { NULL, peer_msg_h, peer_close_h, p };
	struct sockaddr_storage local = s->conf.listen;
	int err;

	if (!p->conn) {
		sa_set_port(&local, 0);
		err = conn_connect(&p->conn, s->base, s->conf.client_tls,
				   (struct sockaddr *)&local, (struct sockaddr *)&p->addr,
				   p->fqdn, &h);
		if (err) {
			log_warn("%s: cannot connect to %s: %s", s->name, p->fqdn, strerror(err));
			return err;
		}
	}
	return conn_send(p->conn, buf, len);
}

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

static void accept_h(struct conn *c, void *arg)
{
	struct imsrv *s = arg;
	struct link *l = mem_zalloc(sizeof(*l), link_destroy);
	struct conn_handlers h = { NULL, link_msg_h, link_close_h, NULL };

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

static void respond(struct imsrv *s, struct conn *c, const struct sipmsg *req, int status,
		    const char *reason)
{
	struct sipmsg *rsp = NULL;
	char tag[24], *buf = NULL;
	size_t len;
	int err;

	sipmsg_random_token(tag, sizeof(tag));
	err = sipmsg_response_alloc(&rsp, req, status, reason, tag);
	if (!err && status == 405)
		err = sipmsg_header_add(rsp, "Allow", "MESSAGE, OPTIONS");
	if (!err)
		err = sipmsg_encode(rsp, &buf, &len);
	if (!err)
		err = conn_send(c, buf, len);
	if (err)
		log_warn("%s: cannot answer %s with %d: %s", s->name, sipmsg_method(req), status,
			 strerror(err));
	mem_deref(buf);
	mem_deref(rsp);
}

/* Provider role: the sending edge must be the one provisioned for the From domain. */
static bool peer_allowed(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	const char *fuser, *fhost;
	struct imsrv_route *r;

	if (s->conf.role != IMSRV_PROVIDER)
		return true;
	if (sipmsg_uri(m, SIPMSG_FROM, &fuser, &fhost))
		return false;
	r = imtab_find(&s->routes, fhost);
	if (!r) {
		log_info("%s: %s is not provisioned", s->name, fhost);
		return false;
	}
	if (strcasecmp(conn_peer_cn(c), r->peer->fqdn)) {
		log_info("%s: %s arrived from CN '%s', provisioned edge is %s", s->name, fhost,
			 conn_peer_cn(c), r->peer->fqdn);
		return false;
	}
	return true;
}

static void recv_request(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	const char *method = sipmsg_method(m), *user, *host, *body, *fu, *fh, *tu, *th;
	char from[256], to[256];
	struct imsrv_user *u;
	size_t blen;

	s->n_in++;
	if (!strcmp(method, "ACK"))
		return;
	if (sipmsg_max_forwards(m) == 0) {
		respond(s, c, m, 483, NULL); /* RFC 3261 16.3 step 3 */
		return;
	}
	if (!peer_allowed(s, c, m)) {
		respond(s, c, m, 403, "Forbidden (not provisioned)");
		return;
	}
	if (!strcmp(method, "OPTIONS")) {
		respond(s, c, m, 200, NULL);
		return;
	}
	if (strcmp(method, "MESSAGE")) {
		respond(s, c, m, 405, NULL);
		return;
	}
	if (sipmsg_uri(m, SIPMSG_RURI, &user, &host) || strcasecmp(host, s->domain)) {
		respond(s, c, m, 404, "No route");
		return;
	}
	u = imtab_find(&s->users, user);
	if (!u) {
		respond(s, c, m, 404, NULL);
		return;
	}
	if (sipmsg_uri(m, SIPMSG_FROM, &fu, &fh) || sipmsg_uri(m, SIPMSG_TO, &tu, &th)) {
		respond(s, c, m, 400, NULL);
		return;
	}
	snprintf(from, sizeof(from), "%s@%s", fu, fh);
	snprintf(to, sizeof(to), "%s@%s", tu, th);
	body = sipmsg_body(m, &blen);
	/* RFC 3428 7: the UAS answers a MESSAGE it accepts with 200. */
	respond(s, c, m, 200, NULL);
	ua_deliver(u->ua, from, to, sipmsg_callid(m), body, blen,
		   sipmsg_header(m, "ms-edge-proxy-message-trust", 0));
}

static void imsrv_recv(struct imsrv *s, struct conn *c, const char *buf, size_t len)
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

	imtab_del(&u->hn);
	mem_deref(u->user);
	mem_deref(u->s);
}

int imsrv_user_add(struct imsrv_user **hp, struct imsrv *s, const char *user, struct ua *u)
{
	struct imsrv_user *h;

	if (!hp || !s || !user || !*user || !u)
		return EINVAL;
	if (imtab_find(&s->users, user))
		return EEXIST;
	h = mem_zalloc(sizeof(*h), user_destroy);
	if (!h)
		return ENOMEM;
	h->user = mem_strdup(user);
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

static void route_destroy(void *data)
{
	struct imsrv_route *r = data;

	imtab_del(&r->hn);
	mem_deref(r->domain);
}

int imsrv_route_add(struct imsrv *s, const char *domain, const char *fqdn,
		    const struct sockaddr *addr)
{
	struct imsrv_route *r;
	struct imsrv_peer *p;
	int err;

	if (!s || !domain || !fqdn || !addr)
		return EINVAL;
	p = imtab_find(&s->peers, fqdn);
	if (!p) {
		err = peer_alloc(&p, s, fqdn, addr);
		if (err)
			return err;
	} else if (!sa_equal((const struct sockaddr *)&p->addr, addr)) {
		/* re-provisioned elsewhere: the next request opens a new connection */
		memcpy(&p->addr, addr, sa_len(addr));
		if (p->conn)
			conn_close(p->conn);
		p->conn = mem_deref(p->conn);
		imuac_fail_peer(s, p);
	}
	r = imtab_find(&s->routes, domain);
	if (r) {
		r->peer = p;
		return 0;
	}
	r = mem_zalloc(sizeof(*r), route_destroy);
	if (!r)
		return ENOMEM;
	r->domain = mem_strdup(domain);
	if (!r->domain) {
		mem_deref(r);
		return ENOMEM;
	}
	r->peer = p;
	imtab_add(&s->routes, &r->hn, r->domain, r);
	return 0;
}

static void imsrv_destroy(void *data)
{
	struct imsrv *s = data;

	s->listener = mem_deref(s->listener);
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
	if (conf->role == IMSRV_HOME) {
		err = peer_alloc(&s->proxy, s, s->proxy_fqdn,
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

int imsrv_debug(const struct imsrv *s, char *buf, size_t size)
{
	int r;

	if (!s || !buf || !size)
		return EINVAL;
	r = snprintf(buf, size, "%s (%s, %s): users %zu, routes %zu, inbound conns %zu, "
		     "pending %zu, requests in %u out %u", s->name, s->fqdn,
		     s->conf.role == IMSRV_HOME ? "home" : "provider", imtab_count(&s->users),
		     imtab_count(&s->routes), imtab_count(&s->links), imtab_count(&s->pending),
		     s->n_in, s->n_out);
	return r < 0 || (size_t)r >= size ? ENOSPC : 0;
}
