/* anonrw: pass 2 of the anonymizer — a SIP message rewritten token by token through the map
 * (so an identifier is replaced wherever it shows up again, bodies included), free-text header
 * values, presence notes and text bodies replaced whole, credentials and network headers kept
 * in shape with their values replaced, and Content-Length fixed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "anon_int.h"

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
			if (colons >= 2 && (i == 0 || !anon_tokch(in[i - 1])) && anon_is_ip6(in + s, j - s) &&
			    (v = anonmap_put(m, ANON_IP6, in + s, j - s))) {
				if (s > i)
					anon_abuf_put(b, "[", 1);
				anon_abuf_str(b, v);
				i = j;
				continue;
			}
		}
		if (!anon_tokch(in[i])) {
			anon_abuf_put(b, in + i, 1);
			i++;
			continue;
		}
		for (j = i; j < len && anon_tokch(in[j]); j++)
			;
		v = anonmap_find(m, in + i, j - i);
		if (v)
			anon_abuf_str(b, v);
		else
			anon_abuf_put(b, in + i, j - i);
		i = j;
	}
}

char *anonsip_text(struct anonmap *m, const char *in, size_t len, size_t *outlen)
{
	struct abuf b = { 0 };

	anon_rewrite_into(m, &b, in, len);
	anon_abuf_put(&b, "", 0);
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
			anon_abuf_put(b, "\"", 1);
			if (j > i + 1)
				anon_abuf_str(b, anonmap_put(m, ANON_TEXT, v + i + 1, j - i - 1) ?: "x");
			anon_abuf_put(b, "\"", 1);
			i = j + 1;
		} else if (v[i] == '=' && i + 1 < vl && v[i + 1] != '"') {
			for (j = i + 1; j < vl && !strchr(",; \t", v[j]); j++)
				;
			anon_abuf_put(b, "=", 1);
			if (j > i + 1)
				anon_abuf_str(b, anonmap_put(m, ANON_TEXT, v + i + 1, j - i - 1) ?: "x");
			i = j;
		} else {
			anon_abuf_put(b, v + i, 1);
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

	if (anon_hdr_is(name, nl, (const char *const[]){ "Content-Length", "l", NULL }))
		return;                 /* written last, for the new body */
	anon_abuf_put(w->b, name, nl);
	anon_abuf_put(w->b, ": ", 2);
	if (anon_hdr_is(name, nl, (const char *const[]){ "Content-Type", "c", NULL })) {
		size_t n = strcspn(v, ";\r\n");

		snprintf(w->ctype, sizeof(w->ctype), "%.*s", (int)(n < vl ? n : vl), v);
	}
	if (anon_hdr_is(name, nl, freetext_hdrs)) {
		anon_abuf_str(w->b, anonmap_put(w->m, ANON_TEXT, v, vl) ?: "x");
		w->rep->freetext_hdrs++;
	} else if (anon_hdr_is(name, nl, param_hdrs)) {
		anon_rewrite_params(w->m, w->b, v, vl);
		w->rep->freetext_hdrs++;
	} else {
		if (!anon_hdr_is(name, nl, known_hdrs))
			anon_kept(w->rep->hdrs, &w->rep->nhdrs, name, nl);
		anon_rewrite_into(w->m, w->b, v, vl);
	}
	anon_abuf_put(w->b, "\r\n", 2);
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
		anon_abuf_put(&o, p, (size_t)(gt + 1 - p));
		p = gt + 1;
		if (lt[1] == '/' || gt[-1] == '/' || nl != 4 || strncmp(name, "note", 4))
			continue;
		close = memmem(p, (size_t)(end - p), "</", 2);
		if (!close)
			continue;
		if (close > p) {
			anon_abuf_str(&o, anonmap_put(m, ANON_TEXT, p, (size_t)(close - p)) ?: "x");
			rep->freetext_hdrs++;
		}
		p = close;
	}
	anon_abuf_put(&o, p, (size_t)(end - p));
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
	anon_abuf_put(&b, "\r\n", 2);
	anon_each_hdr(msg, head, anon_rewrite_hdr, &w);
	if (bstart < len) {
		const char *bp = msg + bstart;
		size_t bl = len - bstart;

		if (!strncasecmp(w.ctype, "text/", 5)) {
			char t[64];

			/* the words of a message are replaced whole: nothing of them is kept */
			snprintf(t, sizeof(t), "text %s", anonmap_put(m, ANON_TEXT, bp, bl) ?: "x");
			anon_abuf_str(&body, t);
			rep->text_bodies++;
		} else {
			if (!anon_hdr_is(w.ctype, strlen(w.ctype), known_bodies))
				anon_kept(rep->bodies, &rep->nbodies, w.ctype[0] ? w.ctype :
					  "(no Content-Type)", w.ctype[0] ? strlen(w.ctype) : 17);
			anon_rewrite_into(m, &body, bp, bl);
			if (strstr(w.ctype, "xml"))
				anon_xml_notes(m, &body, rep);
		}
	}
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", body.len);
	anon_abuf_str(&b, cl);
	if (body.len)
		anon_abuf_put(&b, body.p, body.len);
	free(body.p);
	rep->msgs++;
	if (b.oom || body.oom) {
		free(b.p);
		return NULL;
	}
	*outlen = b.len;
	return b.p;
}
