/* sipmsg: the libosip2 adapter — decode, inspect, edit, encode; the only file that sees osip. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "base/log.h"
#include "base/mem.h"
#include "sip/sipmime.h"
#include "sip/sipmsg.h"

#define LOG_MODULE "sipmsg"

struct sipmsg {
	osip_message_t *osip;
	char *callid; /* "number@host" as osip renders it (osip-allocated) */
};

static pthread_once_t sipmsg_once = PTHREAD_ONCE_INIT;

/* osip's own traces (parse refusals of hostile input, mostly) become debug lines of ours. */
static void sipmsg_osip_trace(const char *fi, int li, osip_trace_level_t level, const char *fmt,
			      va_list ap)
{
	char line[512];

	if (log_get_level() > LOGL_DEBUG)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\r\n")] = '\0';
	log_debug("osip %s:%d: %s", fi, li, line);
}

static void sipmsg_parser_init(void)
{
	parser_init();
	osip_trace_initialize_func(OSIP_WARNING, sipmsg_osip_trace);
}

static void sipmsg_destroy(void *data)
{
	struct sipmsg *m = data;

	if (m->osip)
		osip_message_free(m->osip);
	if (m->callid)
		osip_free(m->callid);
}

static int sipmsg_new(struct sipmsg **mp)
{
	struct sipmsg *m;

	pthread_once(&sipmsg_once, sipmsg_parser_init);
	m = mem_zalloc(sizeof(*m), sipmsg_destroy);
	if (!m)
		return ENOMEM;
	if (osip_message_init(&m->osip) != 0) {
		mem_deref(m);
		return ENOMEM;
	}
	*mp = m;
	return 0;
}

/* Marks the structure as changed so osip re-renders it instead of returning its cached copy. */
static void sipmsg_touched(struct sipmsg *m)
{
	osip_message_force_update(m->osip);
}

int sipmsg_decode(struct sipmsg **mp, const char *buf, size_t len)
{
	struct sipmsg *m = NULL;
	osip_message_t *o;
	int err;

	if (!mp || !buf || !len)
		return EINVAL;
	if (sipmime_dup_part_type(buf, len))
		return EBADMSG; /* libosip2 would leak a Content-Type (see sipmime.h) */
	err = sipmsg_new(&m);
	if (err)
		return err;
	o = m->osip;
	if (osip_message_parse(o, buf, len) != 0) {
		err = EBADMSG;
		goto out;
	}
	/* RFC 3261 8.1.1: these are mandatory in every request, and present in every response. */
	if (osip_list_size(&o->vias) < 1 || !o->from || !o->to || !o->call_id ||
	    !o->call_id->number || !o->cseq || !o->cseq->method || !o->cseq->number) {
		err = EBADMSG;
		goto out;
	}
	if (MSG_IS_REQUEST(o) ? (!o->req_uri || !o->sip_method) : (o->status_code < 100 ||
								      o->status_code > 699)) {
		err = EBADMSG;
		goto out;
	}
	if (osip_call_id_to_str(o->call_id, &m->callid) != 0) {
		err = EBADMSG;
		goto out;
	}
	*mp = m;
	return 0;
out:
	mem_deref(m);
	return err;
}

/* osip renders "Content-Length:     7" (it reserves room, then fills in); the copy we make
 * anyway drops that padding so the wire shows the usual "Content-Length: 7". */
static size_t sipmsg_copy_compact(char *dst, const char *src, size_t n)
{
	static const char cl[] = "\r\nContent-Length: ";
	const char *p = memmem(src, n, cl, sizeof(cl) - 1);
	size_t pre, pad = 0;

	if (!p) {
		memcpy(dst, src, n);
		return n;
	}
	pre = (size_t)(p - src) + sizeof(cl) - 1;
	while (pre + pad < n && src[pre + pad] == ' ')
		pad++;
	if (pre + pad == n || src[pre + pad] < '0' || src[pre + pad] > '9')
		pad = 0;
	memcpy(dst, src, pre);
	memcpy(dst + pre, src + pre + pad, n - pre - pad);
	return n - pad;
}

/* RFC 3261 20.14: Content-Length always states the body as sent; the old value is dropped and
 * osip renders the one computed from the body. */
int sipmsg_encode(const struct sipmsg *m, char **bufp, size_t *lenp)
{
	osip_message_t *o;
	char *s = NULL, *out;
	size_t n = 0;

	if (!m || !bufp)
		return EINVAL;
	o = m->osip;
	if (o->content_length) {
		osip_content_length_free(o->content_length);
		o->content_length = NULL;
		osip_message_force_update(o);
	}
	if (osip_message_to_str(o, &s, &n) != 0 || !s)
		return EBADMSG;
	out = mem_zalloc(n + 1, NULL);
	if (!out) {
		osip_free(s);
		return ENOMEM;
	}
	n = sipmsg_copy_compact(out, s, n);
	osip_free(s);
	*bufp = out;
	if (lenp)
		*lenp = n;
	return 0;
}

bool sipmsg_is_request(const struct sipmsg *m)
{
	return m && MSG_IS_REQUEST(m->osip);
}

const char *sipmsg_method(const struct sipmsg *m)
{
	if (!m)
		return "";
	if (MSG_IS_REQUEST(m->osip))
		return m->osip->sip_method ? m->osip->sip_method : "";
	return m->osip->cseq && m->osip->cseq->method ? m->osip->cseq->method : "";
}

int sipmsg_status(const struct sipmsg *m)
{
	return m && !MSG_IS_REQUEST(m->osip) ? m->osip->status_code : 0;
}

const char *sipmsg_reason(const struct sipmsg *m)
{
	if (!m || MSG_IS_REQUEST(m->osip) || !m->osip->reason_phrase)
		return "";
	return m->osip->reason_phrase;
}

const char *sipmsg_callid(const struct sipmsg *m)
{
	return m && m->callid ? m->callid : "";
}

uint32_t sipmsg_cseq(const struct sipmsg *m)
{
	if (!m || !m->osip->cseq || !m->osip->cseq->number)
		return 0;
	return (uint32_t)strtoul(m->osip->cseq->number, NULL, 10);
}

static const char *sipmsg_tag(osip_from_t *f)
{
	osip_generic_param_t *p = NULL;

	if (!f || osip_from_get_tag(f, &p) != 0 || !p || !p->gvalue)
		return "";
	return p->gvalue;
}

const char *sipmsg_from_tag(const struct sipmsg *m)
{
	return m ? sipmsg_tag(m->osip->from) : "";
}

const char *sipmsg_to_tag(const struct sipmsg *m)
{
	return m ? sipmsg_tag(m->osip->to) : "";
}

static osip_uri_t *sipmsg_uri_get(const struct sipmsg *m, enum sipmsg_uri_of which)
{
	osip_contact_t *c;

	if (!m)
		return NULL;
	switch (which) {
	case SIPMSG_RURI:
		return m->osip->req_uri;
	case SIPMSG_FROM:
		return m->osip->from ? m->osip->from->url : NULL;
	case SIPMSG_TO:
		return m->osip->to ? m->osip->to->url : NULL;
	case SIPMSG_CONTACT:
		c = osip_list_get(&m->osip->contacts, 0);
		return c ? c->url : NULL;
	}
	return NULL;
}

int sipmsg_uri(const struct sipmsg *m, enum sipmsg_uri_of which, const char **user,
	       const char **host)
{
	osip_uri_t *u = sipmsg_uri_get(m, which);

	if (!u || !u->host)
		return ENOENT;
	if (user)
		*user = u->username ? u->username : "";
	if (host)
		*host = u->host;
	return 0;
}

int sipmsg_uri_str(const struct sipmsg *m, enum sipmsg_uri_of which, char *buf, size_t size)
{
	osip_uri_t *u = sipmsg_uri_get(m, which);
	char *s = NULL;
	int err = 0;

	if (!buf || !size)
		return EINVAL;
	if (!u)
		return ENOENT;
	if (osip_uri_to_str(u, &s) != 0 || !s)
		return EBADMSG;
	if ((size_t)snprintf(buf, size, "%s", s) >= size)
		err = ENOSPC;
	osip_free(s);
	return err;
}

int sipmsg_set_ruri(struct sipmsg *m, const char *uri)
{
	osip_uri_t *u = NULL;

	if (!m || !uri || !MSG_IS_REQUEST(m->osip))
		return EINVAL;
	if (osip_uri_init(&u) != 0)
		return ENOMEM;
	if (osip_uri_parse(u, uri) != 0) {
		osip_uri_free(u);
		return EINVAL;
	}
	if (m->osip->req_uri)
		osip_uri_free(m->osip->req_uri);
	m->osip->req_uri = u;
	sipmsg_touched(m);
	return 0;
}

/* Names osip keeps in dedicated fields (or we manage with dedicated calls). */
static bool sipmsg_is_special(const char *name)
{
	static const char *const special[] = {
		"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq", "content-length", "l",
		"content-type", "c", "max-forwards", "route", "record-route", "contact", "m",
	};
	size_t i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcasecmp(name, special[i]) == 0)
			return true;
	return false;
}

static osip_header_t *sipmsg_header_find(const struct sipmsg *m, const char *name, int idx,
					 int *posp)
{
	osip_header_t *h;
	int pos, n = 0;

	for (pos = 0; (h = osip_list_get(&m->osip->headers, pos)) != NULL; pos++) {
		if (h->hname && strcasecmp(h->hname, name) == 0 && n++ == idx) {
			if (posp)
				*posp = pos;
			return h;
		}
	}
	return NULL;
}

const char *sipmsg_header(const struct sipmsg *m, const char *name, int idx)
{
	osip_header_t *h;

	if (!m || !name || idx < 0)
		return NULL;
	h = sipmsg_header_find(m, name, idx, NULL);
	return h ? (h->hvalue ? h->hvalue : "") : NULL;
}

int sipmsg_header_count(const struct sipmsg *m, const char *name)
{
	osip_header_t *h;
	int pos, n = 0;

	if (!m || !name)
		return 0;
	for (pos = 0; (h = osip_list_get(&m->osip->headers, pos)) != NULL; pos++)
		if (h->hname && strcasecmp(h->hname, name) == 0)
			n++;
	return n;
}

int sipmsg_header_add(struct sipmsg *m, const char *name, const char *value)
{
	if (!m || !name || !*name || !value || sipmsg_is_special(name))
		return EINVAL;
	if (strpbrk(name, " \t\r\n:") || strpbrk(value, "\r\n"))
		return EINVAL; /* would break the framing of the encoded message */
	if (osip_message_set_header(m->osip, name, value) != 0)
		return ENOMEM;
	sipmsg_touched(m);
	return 0;
}

int sipmsg_header_remove(struct sipmsg *m, const char *name, int *np)
{
	osip_header_t *h;
	int pos, n = 0;

	if (!m || !name)
		return EINVAL;
	while ((h = sipmsg_header_find(m, name, 0, &pos)) != NULL) {
		osip_list_remove(&m->osip->headers, pos);
		osip_header_free(h);
		n++;
	}
	if (n)
		sipmsg_touched(m);
	if (np)
		*np = n;
	return 0;
}

int sipmsg_via_count(const struct sipmsg *m)
{
	return m ? osip_list_size(&m->osip->vias) : 0;
}

int sipmsg_via_push(struct sipmsg *m, const char *transport, const char *host, uint16_t port,
		    const char *branch)
{
	osip_via_t *v = NULL;
	char val[512];
	int n;

	if (!m || !transport || !host || !branch)
		return EINVAL;
	n = snprintf(val, sizeof(val), strchr(host, ':') ? "SIP/2.0/%s [%s]:%u;branch=%s" :
			"SIP/2.0/%s %s:%u;branch=%s", transport, host, port, branch);
	if (n < 0 || (size_t)n >= sizeof(val))
		return EINVAL;
	if (osip_via_init(&v) != 0)
		return ENOMEM;
	if (osip_via_parse(v, val) != 0) {
		osip_via_free(v);
		return EINVAL;
	}
	if (osip_list_add(&m->osip->vias, v, 0) < 0) {
		osip_via_free(v);
		return ENOMEM;
	}
	sipmsg_touched(m);
	return 0;
}

int sipmsg_via_pop(struct sipmsg *m)
{
	osip_via_t *v;

	if (!m)
		return EINVAL;
	v = osip_list_get(&m->osip->vias, 0);
	if (!v)
		return ENOENT;
	osip_list_remove(&m->osip->vias, 0);
	osip_via_free(v);
	sipmsg_touched(m);
	return 0;
}

const char *sipmsg_via_branch(const struct sipmsg *m, int idx)
{
	osip_generic_param_t *p = NULL;
	osip_via_t *v;

	if (!m || idx < 0)
		return NULL;
	v = osip_list_get(&m->osip->vias, idx);
	if (!v || osip_via_param_get_byname(v, "branch", &p) != 0 || !p)
		return NULL;
	return p->gvalue;
}

const char *sipmsg_via_host(const struct sipmsg *m, int idx)
{
	osip_via_t *v;

	if (!m || idx < 0)
		return NULL;
	v = osip_list_get(&m->osip->vias, idx);
	return v ? v->host : NULL;
}

int sipmsg_max_forwards(const struct sipmsg *m)
{
	osip_header_t *h = NULL;
	char *end;
	long v;

	if (!m || osip_message_get_max_forwards(m->osip, 0, &h) < 0 || !h || !h->hvalue)
		return -1;
	v = strtol(h->hvalue, &end, 10);
	if (end == h->hvalue || v < 0 || v > 255)
		return -1;
	return (int)v;
}

int sipmsg_set_max_forwards(struct sipmsg *m, int value)
{
	osip_header_t *h;
	char val[16];
	int pos;

	if (!m || value < 0 || value > 255)
		return EINVAL;
	while ((h = sipmsg_header_find(m, "max-forwards", 0, &pos)) != NULL) {
		osip_list_remove(&m->osip->headers, pos);
		osip_header_free(h);
	}
	snprintf(val, sizeof(val), "%d", value);
	if (osip_message_set_max_forwards(m->osip, val) != 0)
		return ENOMEM;
	sipmsg_touched(m);
	return 0;
}

static osip_list_t *sipmsg_routes(const struct sipmsg *m, bool record)
{
	return record ? &m->osip->record_routes : &m->osip->routes;
}

int sipmsg_route_count(const struct sipmsg *m, bool record)
{
	return m ? osip_list_size(sipmsg_routes(m, record)) : 0;
}

int sipmsg_route_str(const struct sipmsg *m, bool record, int idx, char *buf, size_t size)
{
	osip_route_t *r;
	char *s = NULL;
	int err = 0;

	if (!m || !buf || !size || idx < 0)
		return EINVAL;
	r = osip_list_get(sipmsg_routes(m, record), idx);
	if (!r)
		return ENOENT;
	if (osip_from_to_str(r, &s) != 0 || !s)
		return EBADMSG;
	if ((size_t)snprintf(buf, size, "%s", s) >= size)
		err = ENOSPC;
	osip_free(s);
	return err;
}

int sipmsg_route_push(struct sipmsg *m, bool record, const char *uri)
{
	osip_route_t *r = NULL;

	if (!m || !uri)
		return EINVAL;
	if (osip_from_init(&r) != 0)
		return ENOMEM;
	if (osip_from_parse(r, uri) != 0) {
		osip_from_free(r);
		return EINVAL;
	}
	if (osip_list_add(sipmsg_routes(m, record), r, 0) < 0) {
		osip_from_free(r);
		return ENOMEM;
	}
	sipmsg_touched(m);
	return 0;
}

int sipmsg_route_pop(struct sipmsg *m, bool record)
{
	osip_route_t *r;

	if (!m)
		return EINVAL;
	r = osip_list_get(sipmsg_routes(m, record), 0);
	if (!r)
		return ENOENT;
	osip_list_remove(sipmsg_routes(m, record), 0);
	osip_from_free(r);
	sipmsg_touched(m);
	return 0;
}

int sipmsg_contact_count(const struct sipmsg *m)
{
	return m ? osip_list_size(&m->osip->contacts) : 0;
}

int sipmsg_contact_remove_all(struct sipmsg *m)
{
	if (!m)
		return EINVAL;
	osip_list_special_free(&m->osip->contacts, (void (*)(void *))osip_contact_free);
	sipmsg_touched(m);
	return 0;
}

int sipmsg_contact_add(struct sipmsg *m, const char *value)
{
	if (!m || !value)
		return EINVAL;
	if (osip_message_set_contact(m->osip, value) != 0)
		return EINVAL;
	sipmsg_touched(m);
	return 0;
}

const char *sipmsg_body(const struct sipmsg *m, size_t *lenp)
{
	osip_body_t *b = m ? osip_list_get(&m->osip->bodies, 0) : NULL;

	if (!b || !b->body) {
		if (lenp)
			*lenp = 0;
		return "";
	}
	if (lenp)
		*lenp = b->length;
	return b->body;
}

const char *sipmsg_content_type(const struct sipmsg *m, char *buf, size_t size)
{
	char *s = NULL;

	if (!buf || !size)
		return "";
	buf[0] = '\0';
	if (!m || !m->osip->content_type || osip_content_type_to_str(m->osip->content_type, &s) != 0
	    || !s)
		return buf;
	snprintf(buf, size, "%s", s);
	osip_free(s);
	return buf;
}

/* Replaces the body and its type; type NULL with len 0 removes both. */
int sipmsg_set_body(struct sipmsg *m, const char *type, const char *body, size_t len)
{
	osip_message_t *o;

	if (!m || (len && !body) || (len && !type))
		return EINVAL;
	o = m->osip;
	osip_list_special_free(&o->bodies, (void (*)(void *))osip_body_free);
	if (o->content_type) {
		osip_content_type_free(o->content_type);
		o->content_type = NULL;
	}
	if (o->content_length) {
		osip_content_length_free(o->content_length);
		o->content_length = NULL;
	}
	sipmsg_touched(m);
	if (type && osip_message_set_content_type(o, type) != 0)
		return EINVAL;
	if (len && osip_message_set_body(o, body, len) != 0)
		return ENOMEM;
	return 0;
}

int sipmsg_response_alloc(struct sipmsg **rp, const struct sipmsg *req, int status,
			  const char *reason, const char *to_tag)
{
	osip_message_t *q, *o;
	struct sipmsg *r = NULL;
	osip_via_t *v, *vc;
	int err = ENOMEM, pos;

	if (!rp || !req || !sipmsg_is_request(req) || status < 100 || status > 699)
		return EINVAL;
	err = sipmsg_new(&r);
	if (err)
		return err;
	err = ENOMEM;
	q = req->osip;
	o = r->osip;
	osip_message_set_version(o, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(o, status);
	osip_message_set_reason_phrase(o, osip_strdup(reason ? reason :
						       sipmsg_reason_phrase(status)));
	/* RFC 3261 8.2.6.2: all Vias in order, From, Call-ID, CSeq as they were; To with a tag
	 * added by the UAS unless the request had one. */
	for (pos = 0; (v = osip_list_get(&q->vias, pos)) != NULL; pos++) {
		if (osip_via_clone(v, &vc) != 0)
			goto out;
		osip_list_add(&o->vias, vc, -1);
	}
	if (osip_from_clone(q->from, &o->from) != 0 || osip_to_clone(q->to, &o->to) != 0 ||
	    osip_call_id_clone(q->call_id, &o->call_id) != 0 ||
	    osip_cseq_clone(q->cseq, &o->cseq) != 0)
		goto out;
	if (to_tag && *to_tag && !*sipmsg_tag(o->to) &&
	    osip_to_set_tag(o->to, osip_strdup(to_tag)) != 0)
		goto out;
	if (osip_call_id_to_str(o->call_id, &r->callid) != 0)
		goto out;
	sipmsg_touched(r);
	*rp = r;
	return 0;
out:
	mem_deref(r);
	return err;
}

/* RFC 3261 21 (plus the few extension codes a federation edge emits). */
const char *sipmsg_reason_phrase(int status)
{
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	case 202: return "Accepted";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Moved Temporarily";
	case 305: return "Use Proxy";
	case 380: return "Alternative Service";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 421: return "Extension Required";
	case 423: return "Interval Too Brief";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 485: return "Ambiguous";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 489: return "Bad Event";
	case 491: return "Request Pending";
	case 493: return "Undecipherable";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default: return "Unknown";
	}
}

bool sipmsg_header_parses(const char *name, const char *value, size_t len)
{
	osip_message_t *o = NULL;
	char hname[32], *v;
	bool ok = false;

	if (!name || strlen(name) >= sizeof(hname) || !value || !len ||
	    memchr(value, '\0', len) || memchr(value, '\r', len) || memchr(value, '\n', len))
		return false;
	pthread_once(&sipmsg_once, sipmsg_parser_init);
	v = mem_zalloc(len + 1, NULL);
	if (!v)
		return false;
	memcpy(v, value, len);
	snprintf(hname, sizeof(hname), "%s", name); /* osip wants them writable */
	if (osip_message_init(&o) == 0) {
		ok = osip_message_set_multiple_header(o, hname, v) == 0;
		osip_message_free(o);
	}
	mem_deref(v);
	return ok;
}

/* Hex of CSPRNG bytes: RFC 3261 19.3 asks tags and Call-IDs to be globally unique and
 * cryptographically random (>= 32 bits). */
void sipmsg_random_token(char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[64];
	size_t n, i;

	if (!buf || !size)
		return;
	n = (size - 1 + 1) / 2;
	if (n > sizeof(rnd))
		n = sizeof(rnd);
	if (RAND_bytes(rnd, (int)n) != 1) {
		for (i = 0; i < n; i++)
			rnd[i] = (unsigned char)random();
	}
	for (i = 0; i + 1 < size && i < 2 * n; i++)
		buf[i] = hex[(rnd[i / 2] >> ((i & 1) ? 0 : 4)) & 0xf];
	buf[i] = '\0';
}
