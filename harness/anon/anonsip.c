/* anonsip: a SIP message through the anonymizer. Pass 1 puts every identifier the message
 * shows into the map: users and hosts of URIs (sip, sips, tel, pres, im, mailto) anywhere in
 * headers and bodies, Via hosts, received/maddr, Call-ID parts, tags, branches, epids,
 * instances, IP addresses, display-name words. Pass 2 rewrites the message token by token
 * through the map (so an identifier is replaced wherever it shows up again, bodies included),
 * replaces free-text header values and text bodies whole, and fixes Content-Length. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "anon_int.h"

struct abuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void abuf_put(struct abuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *np = realloc(b->p, nc);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void abuf_str(struct abuf *b, const char *s)
{
	abuf_put(b, s, strlen(s));
}

static bool tokch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	       c == '%' || c == '+' || c == '!' || c == '*';
}

/* Words of the protocol that never become identifiers, whatever a display name says. */
static bool anon_protocol_word(const char *t, size_t n)
{
	static const char *const w[] = {
		"SIP", "SIPS", "TLS", "TCP", "UDP", "WS", "WSS", "SCTP", "lr", "IN", "IP4", "IP6",
		"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE", "SUBSCRIBE",
		"NOTIFY", "PUBLISH", "INFO", "REFER", "UPDATE", "PRACK", "transport", "user",
		"phone", "sip", "tel", "true", "false", "yes", "no", "urn", "uuid", "gsma", "imei",
	};
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strlen(w[i]) == n && !strncasecmp(w[i], t, n))
			return true;
	return false;
}

static bool is_ip4(const char *t, size_t n)
{
	char s[48];
	struct in_addr a;

	if (n >= sizeof(s))
		return false;
	memcpy(s, t, n);
	s[n] = '\0';
	return inet_pton(AF_INET, s, &a) == 1;
}

static bool is_ip6(const char *t, size_t n)
{
	char s[64];
	struct in6_addr a;

	if (n >= sizeof(s) || n < 2)
		return false;
	memcpy(s, t, n);
	s[n] = '\0';
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* A host, an address or a name-ish token into the map as what it looks like. */
static void anon_put_host(struct anonmap *m, const char *t, size_t n)
{
	if (!n)
		return;
	if (t[0] == '[' && n > 2 && t[n - 1] == ']') {
		t++;
		n -= 2;
	}
	if (is_ip4(t, n))
		anonmap_put(m, ANON_IP4, t, n);
	else if (is_ip6(t, n))
		anonmap_put(m, ANON_IP6, t, n);
	else if (!anon_protocol_word(t, n))
		anonmap_put(m, ANON_HOST, t, n);
}

/* a.b.example: dotted, its top label letters only */
static bool looks_host(const char *t, size_t n)
{
	size_t i = n;

	if (!n || t[n - 1] == '.' || !memchr(t, '.', n))
		return false;
	while (i > 0 && t[i - 1] != '.')
		if (!isalpha((unsigned char)t[--i]))
			return false;
	return true;
}

/* Every token of a value as kind (short numbers and protocol words are no identifiers). */
static void anon_put_tokens(struct anonmap *m, enum anon_kind kind, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, k, digits = 0;

		while (i < n && !tokch(v[i]))
			i++;
		for (j = i; j < n && tokch(v[j]); j++)
			;
		for (k = i; k < j; k++)
			digits += isdigit((unsigned char)v[k]) != 0;
		if (j > i && !(digits == j - i && j - i < 6) && !anon_protocol_word(v + i, j - i)) {
			if (is_ip4(v + i, j - i))
				anonmap_put(m, ANON_IP4, v + i, j - i);
			else if (kind == ANON_ID && looks_host(v + i, j - i))
				anonmap_put(m, ANON_HOST, v + i, j - i);
			else
				anonmap_put(m, kind, v + i, j - i);
		}
		i = j;
	}
}

/* sip:user@host, tel:+1234, pres:user@host ... anywhere in the text. */
static void anon_collect_uris(struct anonmap *m, const char *s, size_t len)
{
	static const char *const schemes[] = { "sip:", "sips:", "tel:", "pres:", "im:", "mailto:" };
	size_t i, k;

	for (i = 0; i < len; i++) {
		const char *u = NULL;
		bool tel = false;

		if (i > 0 && (tokch(s[i - 1]) || s[i - 1] == ':'))
			continue;
		for (k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
			size_t sl = strlen(schemes[k]);

			if (len - i > sl && !strncasecmp(s + i, schemes[k], sl)) {
				u = s + i + sl;
				tel = k == 2;
				break;
			}
		}
		if (!u)
			continue;
		{
			const char *end = s + len, *p = u, *at = NULL, *h;

			while (p < end && !strchr(";>?, \t\r\n\"<", *p)) {
				if (*p == '@')
					at = p;
				p++;
			}
			if (at || tel) {
				const char *ue = at ? at : p, *c = memchr(u, ':', (size_t)(ue - u));

				if (c && at)
					ue = c;         /* user:password */
				anon_put_tokens(m, ANON_USER, u, (size_t)(ue - u));
			}
			if (tel)
				continue;
			h = at ? at + 1 : u;
			if (h < end && *h == '[') {
				const char *rb = memchr(h, ']', (size_t)(end - h));

				if (rb)
					anon_put_host(m, h, (size_t)(rb - h) + 1);
				continue;
			}
			for (p = h; p < end && !strchr(":;>?, \t\r\n\"</", *p); p++)
				;
			anon_put_host(m, h, (size_t)(p - h));
		}
	}
}

/* ;tag= ;branch= ;epid= ;+sip.instance= ;received= ;maddr= ;gr= */
static void anon_collect_params(struct anonmap *m, const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum anon_kind kind;
	} ps[] = {
		{ ";tag=", ANON_ID }, { ";branch=", ANON_BRANCH }, { ";epid=", ANON_ID },
		{ ";+sip.instance=", ANON_ID }, { ";gr=", ANON_ID }, { ";received=", ANON_HOST },
		{ ";maddr=", ANON_HOST }, { ";ms-ep-fqdn=", ANON_HOST },
	};
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (s[i] != ';')
			continue;
		for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			size_t pl = strlen(ps[k].name), j;

			if (len - i <= pl || strncasecmp(s + i, ps[k].name, pl))
				continue;
			for (j = i + pl; j < len && !strchr(";,> \t\r\n", s[j]); j++)
				;
			if (ps[k].kind == ANON_HOST)
				anon_put_host(m, s + i + pl, j - i - pl);
			else if (ps[k].kind == ANON_BRANCH && j - i - pl > 7)
				anonmap_put(m, ANON_BRANCH, s + i + pl, j - i - pl);
			else
				anon_put_tokens(m, ANON_ID, s + i + pl, j - i - pl);
		}
	}
}

static void anon_collect_ips(struct anonmap *m, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j;

		if (!isdigit((unsigned char)s[i]) || (i && tokch(s[i - 1]))) {
			i++;
			continue;
		}
		for (j = i; j < len && (isdigit((unsigned char)s[j]) || s[j] == '.'); j++)
			;
		if (j - i >= 7 && is_ip4(s + i, j - i))
			anonmap_put(m, ANON_IP4, s + i, j - i);
		i = j;
	}
}

static bool hdr_is(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && !strncasecmp(*list, name, n))
			return true;
	return false;
}

static const char *const addr_hdrs[] = {
	"From", "f", "To", "t", "Contact", "m", "Referred-By", "b", "Refer-To", "r",
	"P-Asserted-Identity", "P-Preferred-Identity", "Reply-To", "Diversion", "History-Info",
	"Remote-Party-ID", "P-Called-Party-ID", NULL,
};

/* Display names: a quoted string, or the words before '<'. */
static void anon_collect_names(struct anonmap *m, const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n);

	if (n && v[0] == '"') {
		const char *q = memchr(v + 1, '"', n - 1);

		if (q)
			anon_put_tokens(m, ANON_NAME, v + 1, (size_t)(q - v - 1));
	} else if (lt && lt > v) {
		anon_put_tokens(m, ANON_NAME, v, (size_t)(lt - v));
	}
}

/* Calls h(name, nlen, value, vlen) per header line of the head (start line excluded). */
typedef void (hdr_h)(const char *name, size_t nl, const char *v, size_t vl, void *arg);

static size_t anon_head_len(const char *msg, size_t len, size_t *body)
{
	const char *e = NULL;
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && msg[i + 1] == '\n') {
			e = msg + i + 1;
			*body = i + 2;
			break;
		}
		if (i + 3 < len && !memcmp(msg + i, "\r\n\r\n", 4)) {
			e = msg + i + 2;
			*body = i + 4;
			break;
		}
	}
	if (!e) {
		*body = len;
		return len;
	}
	return (size_t)(e - msg);
}

struct anon_collect_arg {
	struct anonmap *m;
};

static void anon_collect_hdr(const char *name, size_t nl, const char *v, size_t vl, void *arg)
{
	struct anonmap *m = ((struct anon_collect_arg *)arg)->m;

	if (hdr_is(name, nl, (const char *const[]){ "Call-ID", "i", "In-Reply-To", NULL })) {
		anon_put_tokens(m, ANON_ID, v, vl);
	} else if (hdr_is(name, nl, (const char *const[]){ "Via", "v", NULL })) {
		size_t i = 0;

		/* SIP/2.0/TLS host:port;params, ... */
		while (i < vl) {
			const char *sp = memchr(v + i, ' ', vl - i), *e;

			if (!sp)
				break;
			while (sp < v + vl && *sp == ' ')
				sp++;
			for (e = sp; e < v + vl && !strchr(";, \t", *e) &&
			     !(*e == ':' && sp[0] != '['); e++)
				if (*e == ']') {
					e++;
					break;
				}
			anon_put_host(m, sp, (size_t)(e - sp));
			e = memchr(sp, ',', (size_t)(v + vl - sp));
			if (!e)
				break;
			i = (size_t)(e - v) + 1;
		}
	} else if (hdr_is(name, nl, addr_hdrs)) {
		anon_collect_names(m, v, vl);
	}
}

static void anon_each_hdr(const char *msg, size_t head, hdr_h *h, void *arg)
{
	const char *p = memchr(msg, '\n', head), *end = msg + head;

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c, *v, *ve;

		if (!eol)
			eol = end;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		c = ve > p ? memchr(p, ':', (size_t)(ve - p)) : NULL;
		if (c) {
			const char *ne = c;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			for (v = c + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
				;
			h(p, (size_t)(ne - p), v, (size_t)(ve - v), arg);
		}
		p = eol;
	}
}

int anonsip_collect(struct anonmap *m, const char *msg, size_t len)
{
	struct anon_collect_arg a = { m };
	size_t body, head = anon_head_len(msg, len, &body);

	anon_collect_uris(m, msg, len);
	anon_collect_params(m, msg, head);
	anon_collect_ips(m, msg, len);
	anon_each_hdr(msg, head, anon_collect_hdr, &a);
	return 0;
}

/* ---- pass 2 ---- */

static void anon_rewrite_into(struct anonmap *m, struct abuf *b, const char *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		const char *v;

		if (isxdigit((unsigned char)in[i]) || in[i] == ':' || in[i] == '[') {
			/* an IPv6 address, bracketed or bare */
			size_t s = i + (in[i] == '[');
			size_t colons = 0;

			for (j = s; j < len && (isxdigit((unsigned char)in[j]) || in[j] == ':' ||
						in[j] == '.'); j++)
				colons += in[j] == ':';
			if (colons >= 2 && (i == 0 || !tokch(in[i - 1])) && is_ip6(in + s, j - s) &&
			    (v = anonmap_put(m, ANON_IP6, in + s, j - s))) {
				if (s > i)
					abuf_put(b, "[", 1);
				abuf_str(b, v);
				i = j;
				continue;
			}
		}
		if (!tokch(in[i])) {
			abuf_put(b, in + i, 1);
			i++;
			continue;
		}
		for (j = i; j < len && tokch(in[j]); j++)
			;
		v = anonmap_find(m, in + i, j - i);
		if (v)
			abuf_str(b, v);
		else
			abuf_put(b, in + i, j - i);
		i = j;
	}
}

char *anonsip_text(struct anonmap *m, const char *in, size_t len, size_t *outlen)
{
	struct abuf b = { 0 };

	anon_rewrite_into(m, &b, in, len);
	abuf_put(&b, "", 0);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*outlen = b.len;
	return b.p;
}

static const char *const freetext_hdrs[] = {
	"Subject", "s", "User-Agent", "Server", "Organization", "Warning", "Call-Info",
	"Alert-Info", "Error-Info", "Identity", "Identity-Info", "Geolocation", NULL,
};

/* Credentials and network facts: their scheme and parameter names stay (the header still
 * parses), every parameter value and quoted string is replaced. */
static const char *const param_hdrs[] = {
	"Authorization", "Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate",
	"Authentication-Info", "P-Access-Network-Info", "P-Charging-Vector",
	"P-Charging-Function-Addresses", "Security-Client", "Security-Server", "Security-Verify",
	NULL,
};

static void anon_rewrite_params(struct anonmap *m, struct abuf *b, const char *v, size_t vl)
{
	size_t i = 0;

	while (i < vl) {
		size_t j;

		if (v[i] == '"') {
			const char *q = memchr(v + i + 1, '"', vl - i - 1);

			j = q ? (size_t)(q - v) : vl;
			abuf_put(b, "\"", 1);
			if (j > i + 1)
				abuf_str(b, anonmap_put(m, ANON_TEXT, v + i + 1, j - i - 1) ?: "x");
			abuf_put(b, "\"", 1);
			i = j + 1;
		} else if (v[i] == '=' && i + 1 < vl && v[i + 1] != '"') {
			for (j = i + 1; j < vl && !strchr(",; \t", v[j]); j++)
				;
			abuf_put(b, "=", 1);
			if (j > i + 1)
				abuf_str(b, anonmap_put(m, ANON_TEXT, v + i + 1, j - i - 1) ?: "x");
			i = j;
		} else {
			abuf_put(b, v + i, 1);
			i++;
		}
	}
}

static const char *const known_hdrs[] = {
	"Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq", "Contact", "m",
	"Max-Forwards", "Content-Type", "c", "Record-Route", "Route", "Expires", "Event", "o",
	"Allow", "Supported", "k", "Require", "Proxy-Require", "Unsupported", "Accept",
	"Accept-Encoding", "Accept-Language", "Allow-Events", "u", "Subscription-State",
	"Session-Expires", "x", "Min-Expires", "Min-SE", "Date", "Timestamp", "Retry-After",
	"Refer-To", "r", "Referred-By", "b", "Replaces", "P-Asserted-Identity",
	"P-Preferred-Identity", "Privacy", "Path", "Service-Route", "Content-Disposition",
	"Content-Encoding", "e", "RSeq", "RAck", "Reason", "History-Info", "Diversion",
	"Accept-Contact", "a", "Reject-Contact", "j", "Request-Disposition", "d", "Priority",
	"Content-ID", "MIME-Version", "Content-Transfer-Encoding", "Content-Language",
	"P-Called-Party-ID", "P-Associated-URI", "P-Visited-Network-ID", "Feature-Caps",
	"SIP-ETag", "SIP-If-Match", "Refer-Sub", "Target-Dialog", "Reply-To", "In-Reply-To",
	"Recv-Info", "Info-Package", "ms-edge-proxy-message-trust", "ms-sender-verified", NULL,
};

static const char *const known_bodies[] = {
	"application/sdp", "application/pidf+xml", "application/xpidf+xml",
	"application/rlmi+xml", "application/im-iscomposing+xml", "message/sipfrag",
	"application/simple-message-summary", "application/dialog-info+xml",
	"application/watcherinfo+xml", NULL,
};

static void anon_kept(struct anon_kept *k, int *n, const char *name, size_t nl)
{
	int i;

	if (nl >= sizeof(k[0].name))
		nl = sizeof(k[0].name) - 1;
	for (i = 0; i < *n; i++)
		if (strlen(k[i].name) == nl && !strncasecmp(k[i].name, name, nl)) {
			k[i].n++;
			return;
		}
	if (*n == ANON_REPORT_MAX)
		return;
	memcpy(k[*n].name, name, nl);
	k[*n].name[nl] = '\0';
	k[*n].n = 1;
	(*n)++;
}

struct anon_rw {
	struct anonmap *m;
	struct abuf *b;
	struct anon_report *rep;
	char ctype[96];
};

static void anon_rewrite_hdr(const char *name, size_t nl, const char *v, size_t vl, void *arg)
{
	struct anon_rw *w = arg;

	if (hdr_is(name, nl, (const char *const[]){ "Content-Length", "l", NULL }))
		return;                 /* written last, for the new body */
	abuf_put(w->b, name, nl);
	abuf_put(w->b, ": ", 2);
	if (hdr_is(name, nl, (const char *const[]){ "Content-Type", "c", NULL })) {
		size_t n = strcspn(v, ";\r\n");

		snprintf(w->ctype, sizeof(w->ctype), "%.*s", (int)(n < vl ? n : vl), v);
	}
	if (hdr_is(name, nl, freetext_hdrs)) {
		abuf_str(w->b, anonmap_put(w->m, ANON_TEXT, v, vl) ?: "x");
		w->rep->freetext_hdrs++;
	} else if (hdr_is(name, nl, param_hdrs)) {
		anon_rewrite_params(w->m, w->b, v, vl);
		w->rep->freetext_hdrs++;
	} else {
		if (!hdr_is(name, nl, known_hdrs))
			anon_kept(w->rep->hdrs, &w->rep->nhdrs, name, nl);
		anon_rewrite_into(w->m, w->b, v, vl);
	}
	abuf_put(w->b, "\r\n", 2);
}

/* Presence notes (<note>, <dm:note>, <rpid:note>) are free text: replaced whole. */
static void anon_xml_notes(struct anonmap *m, struct abuf *body, struct anon_report *rep)
{
	struct abuf o = { 0 };
	const char *p = body->p, *end = body->p + body->len;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *name, *close;
		size_t nl;

		if (!lt)
			break;
		gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			break;
		for (name = gt; name > lt && name[-1] != '<' && name[-1] != ':'; name--)
			;
		nl = strcspn(name, " \t/>");
		abuf_put(&o, p, (size_t)(gt + 1 - p));
		p = gt + 1;
		if (lt[1] == '/' || gt[-1] == '/' || nl != 4 || strncmp(name, "note", 4))
			continue;
		close = memmem(p, (size_t)(end - p), "</", 2);
		if (!close)
			continue;
		if (close > p) {
			abuf_str(&o, anonmap_put(m, ANON_TEXT, p, (size_t)(close - p)) ?: "x");
			rep->freetext_hdrs++;
		}
		p = close;
	}
	abuf_put(&o, p, (size_t)(end - p));
	if (o.oom) {
		free(o.p);
		body->oom = true;
		return;
	}
	free(body->p);
	*body = o;
}

char *anonsip_rewrite(struct anonmap *m, const char *msg, size_t len, size_t *outlen,
		      struct anon_report *rep)
{
	struct abuf b = { 0 }, body = { 0 };
	struct anon_rw w = { .m = m, .b = &b, .rep = rep };
	size_t bstart, head = anon_head_len(msg, len, &bstart);
	const char *eol = memchr(msg, '\n', head);
	size_t sl = eol ? (size_t)(eol - msg) : head;
	char cl[48];

	if (sl && msg[sl - 1] == '\r')
		sl--;
	anon_rewrite_into(m, &b, msg, sl);
	abuf_put(&b, "\r\n", 2);
	anon_each_hdr(msg, head, anon_rewrite_hdr, &w);
	if (bstart < len) {
		const char *bp = msg + bstart;
		size_t bl = len - bstart;

		if (!strncasecmp(w.ctype, "text/", 5)) {
			char t[64];

			/* the words of a message are replaced whole: nothing of them is kept */
			snprintf(t, sizeof(t), "text %s", anonmap_put(m, ANON_TEXT, bp, bl) ?: "x");
			abuf_str(&body, t);
			rep->text_bodies++;
		} else {
			if (!hdr_is(w.ctype, strlen(w.ctype), known_bodies))
				anon_kept(rep->bodies, &rep->nbodies, w.ctype[0] ? w.ctype :
					  "(no Content-Type)", w.ctype[0] ? strlen(w.ctype) : 17);
			anon_rewrite_into(m, &body, bp, bl);
			if (strstr(w.ctype, "xml"))
				anon_xml_notes(m, &body, rep);
		}
	}
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", body.len);
	abuf_str(&b, cl);
	if (body.len)
		abuf_put(&b, body.p, body.len);
	free(body.p);
	rep->msgs++;
	if (b.oom || body.oom) {
		free(b.p);
		return NULL;
	}
	*outlen = b.len;
	return b.p;
}
