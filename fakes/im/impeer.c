/* impeer: the next hops of an IM service — persistent connections to edges known by address,
 * by their A record (DNS-002) or by a domain's federation SRV record (DNS-001) — and the routes
 * a provider keeps to foreign domains. */
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
#include "net/tlsctx.h"
#include "sip/sipmsg.h"

#include <event2/buffer.h>

#include "imdns.h"
#include "imsrv.h"
#include "imsrv_int.h"
#include "im_int.h"

#define LOG_MODULE "imsrv"

/* ---- connections ---- */

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

/* TLS-004: the AOL-like provider demands the clientAuth extended key usage on every
 * certificate it is shown, accepted or dialled: a federation edge's certificate serves both
 * directions. The others leave usages to their TLS library. */
bool imsrv_peer_cert_ok(const struct imsrv *s, struct conn *c)
{
	X509 *cert;

	if (s->conf.role != IMSRV_PROVIDER || strcmp(s->pf->name, "aol") != 0 ||
	    !conn_is_tls(c))
		return true;
	cert = conn_peer_cert(c);
	if (cert && tls_cert_has_client_auth(cert))
		return true;
	log_warn("%s: refusing the connection with %s: its certificate lacks the clientAuth "
		 "extended key usage (TLS-004)", s->name, conn_peer_cn(c));
	return false;
}

static void peer_estab_h(struct conn *c, void *arg)
{
	struct imsrv_peer *p = arg;

	if (imsrv_peer_cert_ok(p->s, c))
		return;
	conn_close(c);
	peer_close_h(c, EPERM, p);
}

static void peer_destroy(void *data)
{
	struct imsrv_peer *p = data;

	imtab_del(&p->hn);
	if (p->conn)
		conn_close(p->conn);
	mem_deref(p->conn);
	mem_deref(p->fqdn);
	mem_deref(p->target);
	mem_deref(p->q);
	if (p->held)
		evbuffer_free(p->held);
}

int impeer_alloc(struct imsrv_peer **pp, struct imsrv *s, const char *fqdn,
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
	if (addr)
		memcpy(&p->addr, addr, sa_len(addr));
	else
		p->resolve = true;
	imtab_add(&s->peers, &p->hn, p->fqdn, p);
	*pp = p;
	return 0;
}

static int peer_send_now(struct imsrv_peer *p, const char *buf, size_t len);

/* The name the peer's certificate must show: the edge's FQDN, or for a peer found by SRV the
 * target last found (NULL before the first lookup). */
static const char *peer_name(const struct imsrv_peer *p)
{
	return p->srv ? p->target : p->fqdn;
}

/* DNS-002: the edge's address is its A record, on the SIP over TLS port (RFC 3263 4.2);
 * DNS-001: a peer found by SRV takes the port of the SRV record. */
static void peer_resolved(int err, const struct sockaddr *addr, void *arg)
{
	struct imsrv_peer *p = arg;
	struct imsrv *s = mem_ref(p->s);
	size_t len = evbuffer_get_length(p->held);
	char *data = NULL;

	p->q = mem_deref(p->q);
	if (!err) {
		memcpy(&p->addr, addr, sa_len(addr));
		sa_set_port(&p->addr, p->srv && p->port ? p->port : 5061);
		data = malloc(len ? len : 1);
		err = data ? 0 : ENOMEM;
	}
	if (!err && len)
		evbuffer_remove(p->held, data, len);
	evbuffer_drain(p->held, evbuffer_get_length(p->held));
	if (!err && len)
		err = peer_send_now(p, data, len);
	free(data);
	if (err) {
		log_warn("%s: %s not reached by its A record: %s", s->name, peer_name(p),
			 strerror(err));
		imuac_fail_peer(s, p);
	}
	mem_deref(s);
}

/* DNS-001: the SRV record named the edge (target and port); its A record comes next. */
static void peer_srv_found(int err, const char *target, uint16_t port, void *arg)
{
	struct imsrv_peer *p = arg;
	struct imsrv *s = mem_ref(p->s);

	p->q = mem_deref(p->q);
	if (!err) {
		mem_deref(p->target);
		p->target = mem_strdup(target);
		p->port = port;
		err = p->target ? 0 : ENOMEM;
	}
	if (!err) {
		log_info("%s: %s -> %s:%u", s->name, p->fqdn, target, port);
		err = imdns_lookup(&p->q, s->base, (struct sockaddr *)&s->conf.dns, target, 2000,
				   peer_resolved, p);
	}
	if (err) {
		log_warn("%s: %s not reached by SRV: %s", s->name, p->fqdn, strerror(err));
		evbuffer_drain(p->held, evbuffer_get_length(p->held));
		imuac_fail_peer(s, p);
	}
	mem_deref(s);
}

/* Holds what is to be sent while the edge's A record is asked for. */
static int peer_hold(struct imsrv_peer *p, const char *buf, size_t len)
{
	struct imsrv *s = p->s;
	int err;

	if (!p->held && !(p->held = evbuffer_new()))
		return ENOMEM;
	if (!p->q) {
		err = p->srv ? imdns_lookup_srv(&p->q, s->base, (struct sockaddr *)&s->conf.dns,
						p->fqdn, 2000, peer_srv_found, p)
			     : imdns_lookup(&p->q, s->base, (struct sockaddr *)&s->conf.dns, p->fqdn,
					    2000, peer_resolved, p);
		if (err) {
			log_warn("%s: cannot look up %s: %s", s->name, p->fqdn, strerror(err));
			return err;
		}
	}
	return evbuffer_add(p->held, buf, len) ? ENOMEM : 0;
}

/* One persistent connection per next hop, bound to our own address so the peer sees who we
 * are (the lab gives every host its own IP), and checked against the FQDN it must present. */
int imsrv_peer_send(struct imsrv_peer *p, const char *buf, size_t len)
{
	/* a new connection to an edge known by name asks DNS again: the record may have moved */
	if (p->resolve && (!p->conn || p->q))
		return peer_hold(p, buf, len);
	return peer_send_now(p, buf, len);
}

static int peer_send_now(struct imsrv_peer *p, const char *buf, size_t len)
{
	struct imsrv *s = p->s;
	struct conn_handlers h = { peer_estab_h, peer_msg_h, peer_close_h, p };
	struct sockaddr_storage local = s->conf.listen;
	int err;

	if (!p->conn) {
		sa_set_port(&local, 0);
		err = conn_connect(&p->conn, s->base, s->conf.client_tls,
				   (struct sockaddr *)&local, (struct sockaddr *)&p->addr,
				   peer_name(p), &h);
		if (err) {
			log_warn("%s: cannot connect to %s: %s", s->name, p->fqdn, strerror(err));
			return err;
		}
	}
	err = conn_send(p->conn, buf, len);
	if (err == ENOTCONN) { /* closed under us: one new connection */
		conn_close(p->conn);
		p->conn = mem_deref(p->conn);
		return imsrv_peer_send(p, buf, len);
	}
	return err;
}

/* ---- routing ---- */

/* Host part of "sip:user@host:port;params", "<sip:host;lr>" and the like. */
static int uri_host(const char *uri, char *host, size_t size)
{
	const char *p = uri, *at, *end;
	size_t n;

	while (*p == '<' || *p == ' ')
		p++;
	if (!strncasecmp(p, "sips:", 5))
		p += 5;
	else if (!strncasecmp(p, "sip:", 4))
		p += 4;
	else
		return EINVAL;
	end = p + strcspn(p, ";>?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	end = p + strcspn(p, ":;>?");
	n = (size_t)(end - p);
	if (!n || n >= size)
		return EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	return 0;
}

/* RFC 3261 8.1.2: the first Route if any, else the Request-URI; our own names loop back to
 * our own listener (two users of one server talk over the wire like any others). */
struct imsrv_peer *imsrv_next_hop(struct imsrv *s, const char *uri, const char *route0)
{
	struct imsrv_route *r;
	struct imsrv_peer *p;
	char host[256];

	if (uri_host(route0 ? route0 : uri, host, sizeof(host)))
		return NULL;
	if (!strcasecmp(host, s->domain) || !strcasecmp(host, s->fqdn))
		return s->self;
	r = imtab_find(&s->routes, host);
	if (r)
		return r->peer;
	p = imtab_find(&s->peers, host);
	if (p && p != s->self)
		return p;
	return s->proxy;
}

/* Provider role: the sending edge must be the one provisioned for the From domain. */
bool impeer_allowed(struct imsrv *s, struct conn *c, const struct sipmsg *m)
{
	const char *fuser, *fhost;
	struct imsrv_route *r;

	if (s->conf.role != IMSRV_PROVIDER)
		return true;
	if (sipmsg_uri(m, SIPMSG_FROM, &fuser, &fhost))
		return false;
	if (!strcasecmp(fhost, s->domain) && !strcasecmp(conn_peer_cn(c), s->fqdn))
		return true; /* our own users, looped back */
	r = imtab_find(&s->routes, fhost);
	if (!r) {
		log_info("%s: %s is not provisioned", s->name, fhost);
		return false;
	}
	if (!peer_name(r->peer) || strcasecmp(conn_peer_cn(c), peer_name(r->peer))) {
		log_info("%s: %s arrived from CN '%s', provisioned edge is %s", s->name, fhost,
			 conn_peer_cn(c), peer_name(r->peer) ? peer_name(r->peer) :
			 "not found by SRV yet");
		return false;
	}
	return true;
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

	if (!s || !domain || !fqdn)
		return EINVAL;
	if (!addr && s->conf.dns.ss_family != AF_INET && s->conf.dns.ss_family != AF_INET6)
		return EINVAL;
	p = imtab_find(&s->peers, fqdn);
	if (!p) {
		err = impeer_alloc(&p, s, fqdn, addr);
		if (err)
			return err;
	} else if (!addr) {
		p->resolve = true;
	} else if (p->resolve || !sa_equal((const struct sockaddr *)&p->addr, addr)) {
		p->resolve = false;
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

int imsrv_route_add_srv(struct imsrv *s, const char *domain)
{
	char name[300];
	struct imsrv_peer *p;
	int err;

	if (!s || !domain || !*domain)
		return EINVAL;
	if ((size_t)snprintf(name, sizeof(name), "_sipfederationtls._tcp.%s", domain) >=
	    sizeof(name))
		return EINVAL;
	err = imsrv_route_add(s, domain, name, NULL);
	if (err)
		return err;
	p = imtab_find(&s->peers, name);
	if (p)
		p->srv = true;
	log_info("%s: route for %s found by SRV %s", s->name, domain, name);
	return p ? 0 : ENOENT;
}

int imsrv_route_del(struct imsrv *s, const char *domain)
{
	struct imsrv_route *r;

	if (!s || !domain)
		return EINVAL;
	r = imtab_find(&s->routes, domain);
	if (!r)
		return ENOENT;
	log_info("%s: route for %s to %s withdrawn", s->name, domain, r->peer->fqdn);
	mem_deref(r);
	return 0;
}

/* What a killed process loses of its next hops: their connections and lookups (imsrv_stop). */
void impeer_close_all(struct imsrv *s)
{
	unsigned i;

	for (i = 0; i < IMTAB_BUCKETS; i++) {
		struct imtab_node *n;

		for (n = s->peers.b[i]; n; n = n->next) {
			struct imsrv_peer *p = n->obj;

			if (p->conn)
				conn_close(p->conn);
			p->conn = mem_deref(p->conn);
			p->q = mem_deref(p->q);
			if (p->held)
				evbuffer_drain(p->held, evbuffer_get_length(p->held));
		}
	}
}
