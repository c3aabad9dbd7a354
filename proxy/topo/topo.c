/* topo: topology hiding and record-routing for the external edge (TOPO-001, TOPO-002). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "seal.h"
#include "wire.h"
#include "topo.h"

#define LOG_MODULE "topo"

#define TOPO_NAMES_MAX 16
#define TOPO_URI_MAX 512

struct topo {
	struct seal *seal;
	char *fqdn[CONF_NEDGES];
	uint16_t port[CONF_NEDGES];
	char *names[TOPO_NAMES_MAX + 1];   /* NULL-ended */
};

static void topo_destroy(void *data)
{
	struct topo *t = data;
	int i;

	mem_deref(t->seal);
	for (i = 0; i < CONF_NEDGES; i++)
		mem_deref(t->fqdn[i]);
	for (i = 0; t->names[i]; i++)
		mem_deref(t->names[i]);
}

int topo_alloc(struct topo **tp, const char *const fqdn[CONF_NEDGES],
	       const uint16_t port[CONF_NEDGES], const char *const *internal_names)
{
	struct topo *t;
	int err, i, n = 0;

	if (!tp || !fqdn || !port)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), topo_destroy);
	if (!t)
		return ENOMEM;
	err = seal_alloc(&t->seal);
	for (i = 0; !err && i < CONF_NEDGES; i++) {
		t->fqdn[i] = mem_strdup(fqdn[i] ? fqdn[i] : "");
		t->port[i] = port[i] ? port[i] : 5061;
		if (!t->fqdn[i])
			err = ENOMEM;
	}
	for (i = 0; !err && internal_names && internal_names[i] && n < TOPO_NAMES_MAX; i++) {
		if (!*internal_names[i])
			continue;
		t->names[n] = mem_strdup(internal_names[i]);
		if (!t->names[n++])
			err = ENOMEM;
	}
	if (err)
		mem_deref(t);
	else
		*tp = t;
	return err;
}

int topo_set_secret(struct topo *t, const unsigned char key[32])
{
	struct seal *seal = NULL;
	int err;

	if (!t || !key)
		return EINVAL;
	err = seal_alloc_key(&seal, key);
	if (err)
		return err;
	mem_deref(t->seal);
	t->seal = seal;
	return 0;
}

/* True if s names one of the internal hosts or addresses (case-insensitive). */
static bool topo_names_internal(const struct topo *t, const char *s)
{
	int i;

	for (i = 0; t->names[i]; i++)
		if (strcasestr(s, t->names[i]))
			return true;
	return false;
}

int topo_callid_out(const struct topo *t, const char *callid, char *out, size_t size)
{
	if (!t || !callid || !out || size < 3)
		return EINVAL;
	if (!topo_names_internal(t, callid)) {
		if ((size_t)snprintf(out, size, "%s", callid) >= size)
			return ENOSPC;
		return 0;
	}
	memcpy(out, "ap", 2);
	return seal_encode(t->seal, callid, out + 2, size - 2);
}

int topo_callid_in(const struct topo *t, const char *callid, char *out, size_t size)
{
	if (!t || !callid || !out)
		return EINVAL;
	if (!strncmp(callid, "ap", 2) &&
	    !seal_decode(t->seal, callid + 2, strlen(callid + 2), out, size))
		return 0;
	if ((size_t)snprintf(out, size, "%s", callid) >= size)
		return ENOSPC;
	return 0;
}

int topo_contact_hide(const struct topo *t, struct sipmsg *m)
{
	char orig[TOPO_URI_MAX], tok[2 * TOPO_URI_MAX + 40], val[3 * TOPO_URI_MAX];
	const char *user = NULL, *host = NULL;
	int err;

	if (!t || !m)
		return EINVAL;
	if (sipmsg_contact_count(m) == 0)
		return 0;
	err = sipmsg_uri_str(m, SIPMSG_CONTACT, orig, sizeof(orig));
	if (!err)
		err = sipmsg_uri(m, SIPMSG_CONTACT, &user, &host);
	if (!err)
		err = seal_encode(t->seal, orig, tok, sizeof(tok));
	if (err)
		return err;
	if ((size_t)snprintf(val, sizeof(val), "<sip:%s%s%s:%u;transport=tls;apc=%s>",
			     user ? user : "", user && *user ? "@" : "", t->fqdn[CONF_EXTERNAL],
			     t->port[CONF_EXTERNAL], tok) >= sizeof(val))
		return ENOSPC;
	err = sipmsg_contact_remove_all(m);
	return err ? err : sipmsg_contact_add(m, val);
}

int topo_ruri_unhide(const struct topo *t, struct sipmsg *m, bool *changed)
{
	char uri[3 * TOPO_URI_MAX], orig[TOPO_URI_MAX];
	const char *p, *e;
	int err;

	if (changed)
		*changed = false;
	if (!t || !m)
		return EINVAL;
	err = sipmsg_uri_str(m, SIPMSG_RURI, uri, sizeof(uri));
	if (err)
		return err == ENOSPC ? EBADMSG : err;
	p = strstr(uri, ";apc=");
	if (!p)
		return 0;
	p += 5;
	e = p + strcspn(p, ";?>");
	if (seal_decode(t->seal, p, (size_t)(e - p), orig, sizeof(orig)))
		return EBADMSG;
	err = sipmsg_set_ruri(m, orig);
	if (!err && changed)
		*changed = true;
	return err;
}

/* Host of a SIP URI given as text ("<sip:user@host:port;params>" or bare). */
static int topo_uri_host(const char *uri, char *host, size_t size)
{
	const char *p = strchr(uri, ':'), *at, *e;

	if (!p)
		return EINVAL;
	p++;
	e = p + strcspn(p, ";?>");
	at = memchr(p, '@', (size_t)(e - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		e = strchr(p, ']');
		if (!e)
			return EINVAL;
		e++;
	} else {
		e = p + strcspn(p, ":;?>");
	}
	if ((size_t)(e - p) >= size || e == p)
		return EINVAL;
	memcpy(host, p, (size_t)(e - p));
	host[e - p] = '\0';
	return 0;
}

bool topo_uri_is_ours(const struct topo *t, const char *uri)
{
	char host[256];
	int i;

	if (!t || !uri || topo_uri_host(uri, host, sizeof(host)))
		return false;
	for (i = 0; i < CONF_NEDGES; i++)
		if (*t->fqdn[i] && !strcasecmp(host, t->fqdn[i]))
			return true;
	return false;
}

int topo_route_consume(const struct topo *t, struct sipmsg *req, int *np)
{
	char r[TOPO_URI_MAX];
	int n = 0;

	if (!t || !req)
		return EINVAL;
	/* bounded: at most one entry per edge, plus a spiral's worth */
	while (n < 2 * CONF_NEDGES && sipmsg_route_count(req, false) > 0 &&
	       !sipmsg_route_str(req, false, 0, r, sizeof(r)) && topo_uri_is_ours(t, r)) {
		sipmsg_route_pop(req, false);
		n++;
	}
	if (np)
		*np = n;
	return 0;
}

int topo_rr_take(struct sipmsg *m, char **savedp)
{
	char r[TOPO_URI_MAX], line[TOPO_URI_MAX + 20];
	size_t have = savedp && *savedp ? strlen(*savedp) : 0;
	int err = 0;

	if (!m)
		return EINVAL;
	while (sipmsg_route_count(m, true) > 0) {
		if (savedp && !sipmsg_route_str(m, true, 0, r, sizeof(r))) {
			size_t n = (size_t)snprintf(line, sizeof(line), "Record-Route: %s\r\n", r);
			char *s = mem_zalloc(have + n + 1, NULL);

			if (!s) {
				err = ENOMEM;
				break;
			}
			if (have)
				memcpy(s, *savedp, have);
			memcpy(s + have, line, n + 1);
			mem_deref(*savedp);
			*savedp = s;
			have += n;
		}
		sipmsg_route_pop(m, true);
	}
	return err;
}

int topo_rr_add(const struct topo *t, struct sipmsg *req, enum conf_edge_id in,
		enum conf_edge_id out)
{
	char uri[300];
	int err;

	if (!t || !req || in >= CONF_NEDGES || out >= CONF_NEDGES)
		return EINVAL;
	snprintf(uri, sizeof(uri), "<sip:%s:%u;transport=tls;lr>", t->fqdn[in], t->port[in]);
	err = sipmsg_route_push(req, true, uri);
	if (err)
		return err;
	snprintf(uri, sizeof(uri), "<sip:%s:%u;transport=tls;lr>", t->fqdn[out], t->port[out]);
	return sipmsg_route_push(req, true, uri);
}

/* Prepends "Record-Route: <uri>\r\n" to the mem string *savedp (allocated if NULL). */
static int topo_saved_prepend(char **savedp, const char *uri)
{
	size_t have = *savedp ? strlen(*savedp) : 0;
	int n = snprintf(NULL, 0, "Record-Route: %s\r\n", uri);
	char *s;

	if (n < 0)
		return EINVAL;
	s = mem_zalloc(have + (size_t)n + 1, NULL);
	if (!s)
		return ENOMEM;
	snprintf(s, (size_t)n + 1, "Record-Route: %s\r\n", uri);
	if (have)
		memcpy(s + n, *savedp, have + 1);
	mem_deref(*savedp);
	*savedp = s;
	return 0;
}

int topo_rr_add_external(const struct topo *t, struct sipmsg *req, char **savedp)
{
	char uri[300];
	int err;

	if (!t || !req || !savedp)
		return EINVAL;
	/* RFC 5658 4.2 double record-routing with TOPO-001 hiding: the inside-facing entry
	 * never leaves; responses get it back below ours so the inside's route set (RFC 3261
	 * 12.1.2) names us by our inside name. */
	snprintf(uri, sizeof(uri), "<sip:%s:%u;transport=tls;lr>", t->fqdn[CONF_INTERNAL],
		 t->port[CONF_INTERNAL]);
	err = topo_saved_prepend(savedp, uri);
	if (err)
		return err;
	snprintf(uri, sizeof(uri), "<sip:%s:%u;transport=tls;lr>", t->fqdn[CONF_EXTERNAL],
		 t->port[CONF_EXTERNAL]);
	return sipmsg_route_push(req, true, uri);
}

/* True if the URI names our internal edge. */
static bool topo_uri_is_inside_edge(const struct topo *t, const char *uri)
{
	char host[256];

	return !topo_uri_host(uri, host, sizeof(host)) && *t->fqdn[CONF_INTERNAL] &&
	       !strcasecmp(host, t->fqdn[CONF_INTERNAL]);
}

int topo_rr_hide_response(const struct topo *t, struct sipmsg *rsp)
{
	char r[TOPO_URI_MAX];
	int i, n, at = -1;

	if (!t || !rsp)
		return EINVAL;
	n = sipmsg_route_count(rsp, true);
	for (i = 0; i < n && at < 0; i++)
		if (!sipmsg_route_str(rsp, true, i, r, sizeof(r)) && topo_uri_is_ours(t, r))
			at = i;
	if (at < 0) /* not record-routed by us: every entry was placed inside */
		at = n;
	else if (topo_uri_is_inside_edge(t, r)) /* RFC 5658: our inside entry stays inside */
		at++;
	for (i = 0; i < at; i++)
		sipmsg_route_pop(rsp, true);
	return 0;
}

int topo_wire_out(const struct topo *t, char **bufp, size_t *lenp, bool request, char **viasp)
{
	static const char *const keep[] = { "From", "To", "Call-ID", "CSeq", "Via", NULL };
	char cid[TOPO_CALLID_MAX], mapped[2 * TOPO_CALLID_MAX + 40];
	unsigned n = 0;
	int err = 0, kept_hit = 0;

	if (!t || !bufp || !*bufp || !lenp)
		return EINVAL;
#ifdef AP_MUTANT_NO_TOPO
	/* mutation-test build only (harness/tests/mutants.sh): topology hiding switched off */
	return 0;
#endif
	if (request)
		err = wire_cut(bufp, lenp, "Via", "v", 1, viasp, NULL);
	if (!err && !wire_value(*bufp, *lenp, "Call-ID", "i", cid, sizeof(cid))) {
		err = topo_callid_out(t, cid, mapped, sizeof(mapped));
		if (!err)
			err = wire_replace(bufp, lenp, "Call-ID", "i", mapped);
	}
	if (!err && t->names[0])
		err = wire_scrub(bufp, lenp, (const char *const *)t->names, keep, &n, &kept_hit);
	if (n)
		log_debug("dropped %u header line(s) naming internal hosts", n);
	if (kept_hit)
		log_warn("an internal name remains in a From/To/Via line leaving the external edge");
	return err;
}

int topo_wire_in(const struct topo *t, char **bufp, size_t *lenp, const char *vias,
		 const char *rrs)
{
	char cid[TOPO_CALLID_MAX], mapped[TOPO_CALLID_MAX + 8];
	char probe[8];
	int err = 0;

	if (!t || !bufp || !*bufp || !lenp)
		return EINVAL;
	if (!wire_value(*bufp, *lenp, "Call-ID", "i", cid, sizeof(cid))) {
		err = topo_callid_in(t, cid, mapped, sizeof(mapped));
		if (!err)
			err = wire_replace(bufp, lenp, "Call-ID", "i", mapped);
	}
	if (!err && vias && *vias)
		err = wire_insert(bufp, lenp, NULL, NULL, vias);
	/* internal Record-Route entries go back below ours, only if the far end kept the set */
	if (!err && rrs && *rrs &&
	    wire_value(*bufp, *lenp, "Record-Route", NULL, probe, sizeof(probe)) != ENOENT)
		err = wire_insert(bufp, lenp, "Record-Route", NULL, rrs);
	return err;
}
