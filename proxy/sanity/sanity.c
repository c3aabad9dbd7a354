/* sanity: every header field and the body of a message from outside held to the grammar. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip/sipscan.h"
#include "grammar.h"
#include "sanity.h"

#define LOG_MODULE "sanity"

typedef const char *(sanity_check_h)(struct grammar_pl v);

/* One header the grammar knows: its names (long, compact) and its value's check. structured:
 * 8-bit bytes only inside quoted strings. list: a comma list (the check sees each element). */
struct sanity_hdr {
	const char *name;
	char compact;
	sanity_check_h *check;
	bool structured, list, may_be_empty;
};

static const char *sanity_from_to(struct grammar_pl v)
{
	return grammar_addr(v, false);
}

static const char *sanity_route(struct grammar_pl v)
{
	return grammar_addr(v, true);
}

static const char *sanity_contact(struct grammar_pl v)
{
	if (v.l == 1 && v.p[0] == '*')
		return NULL; /* RFC 3261 10.2.2: REGISTER removing every binding (sanity_check) */
	return grammar_addr(v, false);
}

/* RFC 3891 6.1: callid *(";" replaces-param), to-tag and from-tag among the params, each
 * a token [= value]. */
static const char *sanity_replaces(struct grammar_pl v)
{
	const char *p = memchr(v.p, ';', v.l), *end = v.p + v.l;
	bool to = false, from = false;

	if (!p || grammar_callid((struct grammar_pl){ v.p, (size_t)(p - v.p) }))
		return "a Replaces that is not Call-ID;to-tag=..;from-tag=..";
	while (p < end) {
		const char *n = ++p, *q;

		while (p < end && *p != ';')
			p++;
		for (q = n; q < p && grammar_is_token_char((unsigned char)*q); q++)
			;
		if (q == n || (q < p && (*q != '=' || q + 1 == p)))
			return "a Replaces parameter that is not token[=value]";
		to |= q - n == 6 && !strncasecmp(n, "to-tag", 6);
		from |= q - n == 8 && !strncasecmp(n, "from-tag", 8);
	}
	return to && from ? NULL : "a Replaces without to-tag and from-tag";
}

/* Accept (RFC 3261 20.1): media ranges, checked like a Content-Type (type and subtype may
 * be "*", a token character). */
static const char *sanity_accept(struct grammar_pl v)
{
	return grammar_media_type(v);
}

/* RFC 3261 20.38: 1*DIGIT ["." *DIGIT] [LWS delay], delay the same without LWS. */
static const char *sanity_timestamp(struct grammar_pl v)
{
	const char *p = v.p, *end = v.p + v.l;
	int part;

	for (part = 0; part < 2 && p < end; part++) {
		const char *d = p;

		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d && (part == 0 || p == end || *p != '.'))
			return "a value that is not a number [delay]";
		if (p < end && *p == '.')
			for (p++; p < end && *p >= '0' && *p <= '9'; p++)
				;
		if (p < end && *p != ' ' && *p != '\t')
			return "a value that is not a number [delay]";
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	return p == end ? NULL : "a value that is not a number [delay]";
}

static const char *sanity_expires(struct grammar_pl v)
{
	/* RFC 3261 20.19: delta-seconds; above 2^32-1 it means nothing a server can act on */
	return grammar_uint(v, UINT32_MAX) ?
	       "a value that is not a number of seconds from 0 to 2^32-1" : NULL;
}

/* RFC 3261 20.16: the number is the scanner's (8.1.1.5: below 2^31); the method a token. */
static const char *sanity_cseq(struct grammar_pl v)
{
	const char *sp = v.p, *end = v.p + v.l;

	while (sp < end && *sp != ' ' && *sp != '\t')
		sp++;
	while (sp < end && (*sp == ' ' || *sp == '\t'))
		sp++;
	return grammar_token((struct grammar_pl){ sp, (size_t)(end - sp) }) ?
	       "a method that is not a token" : NULL;
}

static const struct sanity_hdr sanity_hdrs[] = {
	{ "Via", 'v', grammar_via, true, true, false },
	{ "From", 'f', sanity_from_to, true, false, false },
	{ "To", 't', sanity_from_to, true, false, false },
	{ "Contact", 'm', sanity_contact, true, true, false },
	{ "Route", 0, sanity_route, true, true, false },
	{ "Record-Route", 0, sanity_route, true, true, false },
	{ "Path", 0, sanity_route, true, true, false },
	{ "Service-Route", 0, sanity_route, true, true, false },
	{ "Reply-To", 0, sanity_from_to, true, false, false },
	{ "Refer-To", 'r', sanity_from_to, true, false, false },
	{ "Referred-By", 'b', sanity_from_to, true, false, false },
	{ "P-Asserted-Identity", 0, sanity_from_to, true, true, false },
	{ "P-Preferred-Identity", 0, sanity_from_to, true, true, false },
	{ "Replaces", 0, sanity_replaces, true, false, false },
	{ "Timestamp", 0, sanity_timestamp, true, false, false },
	{ "Accept", 0, sanity_accept, true, true, true },
	{ "Call-ID", 'i', grammar_callid, true, false, false },
	{ "CSeq", 0, sanity_cseq, true, false, false },
	{ "Expires", 0, sanity_expires, true, false, false },
	{ "Min-Expires", 0, sanity_expires, true, false, false },
	{ "Content-Type", 'c', grammar_media_type, true, false, false },
	{ "Proxy-Require", 0, grammar_token, true, true, false },
	{ "Require", 0, grammar_token, true, true, false },
	{ "Supported", 'k', grammar_token, true, true, true },
	{ "Unsupported", 0, grammar_token, true, true, false },
	{ "Allow", 0, grammar_token, true, true, true },
	{ "Event", 'o', grammar_token_params, true, false, false },
	{ "Subscription-State", 0, grammar_token_params, true, false, false },
	{ "Max-Forwards", 0, NULL, true, false, false },
	{ "Content-Length", 'l', NULL, true, false, false },
};

static const struct sanity_hdr *sanity_hdr_find(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(sanity_hdrs) / sizeof(sanity_hdrs[0]); i++) {
		const struct sanity_hdr *h = &sanity_hdrs[i];

		if ((n == 1 && h->compact && (name[0] | 0x20) == h->compact) ||
		    (strlen(h->name) == n && !strncasecmp(name, h->name, n)))
			return h;
	}
	return NULL;
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlong form, no surrogate, <= U+10FFFF),
 * 0 when it is none. */
static size_t sanity_utf8(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* The bytes of a field value (folding included): no control byte, CR and LF only as the
 * folding CRLF SP, 8-bit only as UTF-8 and, in a structured header, only in quotes. */
static const char *sanity_bytes(struct grammar_pl v, bool structured, char *why, size_t wsz,
				const char *hname)
{
	const unsigned char *p = (const unsigned char *)v.p, *end = p + v.l;
	bool inq = false;
	size_t n;

	for (; p < end; p++) {
		if (*p == '\r' && p + 2 < end && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p += 2;
			continue;
		}
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(why, wsz, "control byte 0x%02x in the %s header", *p, hname);
			return why;
		}
		if (inq && *p == '\\' && p + 1 < end) {
			p++;
			if (*p >= 0x80) /* quoted-pair is ASCII (RFC 3261 25.1) */
				goto utf8;
			continue;
		}
		if (*p == '"') {
			inq = !inq;
			continue;
		}
		if (*p < 0x80)
			continue;
		if (structured && !inq) {
			snprintf(why, wsz, "8-bit byte outside a quoted string in the %s header",
				 hname);
			return why;
		}
		n = sanity_utf8(p, (size_t)(end - p));
		if (!n)
			goto utf8;
		p += n - 1;
	}
	return NULL;
utf8:
	snprintf(why, wsz, "invalid UTF-8 in the %s header", hname);
	return why;
}

static struct grammar_pl sanity_trim(struct grammar_pl v)
{
	while (v.l && strchr(" \t\r\n", v.p[0]))
		v.p++, v.l--;
	while (v.l && strchr(" \t\r\n", v.p[v.l - 1]))
		v.l--;
	return v;
}

static const char *sanity_each(struct grammar_pl v, void *arg)
{
	const struct sanity_hdr *h = arg;

	return h->check(v);
}

/* One header field: bytes, then its grammar. */
static const char *sanity_field(const char *name, size_t nlen, struct grammar_pl raw,
				char *why, size_t wsz, struct grammar_pl *ctype, bool reg)
{
	const struct sanity_hdr *h = sanity_hdr_find(name, nlen);
	char hname[40];
	const char *err = NULL;

	/* an unknown header is named as it came (the scanner made sure it is a token) */
	snprintf(hname, sizeof(hname), "%.*s", h ? (int)strlen(h->name) : (int)(nlen < 39 ? nlen : 39),
		 h ? h->name : name);
	struct grammar_pl v = sanity_trim(raw);

	if (sanity_bytes(raw, h && h->structured, why, wsz, hname))
		return why;
	if (!h || !h->check)
		return NULL;
	if (h->check == grammar_media_type)
		*ctype = v;
	if (h->check == sanity_contact && !reg && v.l == 1 && v.p[0] == '*') {
		snprintf(why, wsz, "Contact header: * outside a REGISTER (RFC 3261 10.2.2)");
		return why;
	}
	if (!v.l && h->may_be_empty)
		return NULL;
	if (h->list)
		err = grammar_each(v, sanity_each, (void *)h);
	else if (!v.l)
		err = "an empty value";
	else
		err = h->check(v);
	if (!err)
		return NULL;
	snprintf(why, wsz, "%s header: %s", hname, err);
	return why;
}

/* RFC 3261 20.15: a body needs its type; a textual one is text (RFC 4566 5 for SDP), and a
 * NUL or a control byte in it is an attack on whatever parses it inside. */
static const char *sanity_body(const char *body, size_t blen, struct grammar_pl ctype,
			       char *why, size_t wsz)
{
	static const char *const textual[] = { "text/", "application/sdp", "application/json",
					       "message/sipfrag", "message/cpim" };
	const char *slash;
	bool text = false;
	size_t i;

	if (!blen)
		return NULL;
	if (!ctype.p) {
		snprintf(why, wsz, "a body without a Content-Type");
		return why;
	}
	for (i = 0; i < sizeof(textual) / sizeof(textual[0]); i++)
		if (ctype.l >= strlen(textual[i]) &&
		    !strncasecmp(ctype.p, textual[i], strlen(textual[i])))
			text = true;
	/* application/xml, application/pidf+xml and the like */
	slash = memchr(ctype.p, '/', ctype.l);
	for (i = slash ? (size_t)(slash - ctype.p) : ctype.l; i + 3 <= ctype.l; i++)
		if (!strncasecmp(ctype.p + i, "xml", 3))
			text = true;
	if (!text)
		return NULL;
	for (i = 0; i < blen; i++) {
		unsigned char c = (unsigned char)body[i];

		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
			snprintf(why, wsz, "%s byte 0x%02x at offset %zu of a textual body (%.*s)",
				 c ? "control" : "NUL", c, i, (int)(slash ? slash - ctype.p : 0),
				 ctype.p);
			return why;
		}
	}
	return NULL;
}

int sanity_check(const char *buf, size_t len, const struct sipscan *sc, char *why, size_t wsz)
{
	const char *p = buf, *end = buf + len - (sc ? sc->body_len : 0), *err;
	struct grammar_pl ctype = { NULL, 0 };
	bool reg;

	if (!buf || !sc || !why || !wsz)
		return 0;
	/* a response's Contact * is judged as the REGISTER's it answers */
	reg = !sc->request || (sc->method.l == 8 && !memcmp(sc->method.p, "REGISTER", 8));
	why[0] = '\0';
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	p = memchr(p, '\n', (size_t)(end - p));
	if (!p)
		return 0; /* the scanner found the start line: cannot happen */
	if (sc->request && sc->ruri.l && (err = grammar_uri((struct grammar_pl){ sc->ruri.p,
					sc->ruri.l }, false)) &&
	    (!strncasecmp(sc->ruri.p, "sip:", 4) || !strncasecmp(sc->ruri.p, "sips:", 5))) {
		snprintf(why, wsz, "Request-URI: %s", err);
		return 400;
	}
	for (p++; p < end;) {
		const char *fend = p, *colon;

		/* a field ends at a line end not followed by SP/HT (RFC 3261 7.3.1 folding) */
		for (;;) {
			const char *lf = memchr(fend, '\n', (size_t)(end - fend));

			if (!lf) {
				fend = end;
				break;
			}
			fend = lf;
			if (lf + 1 >= end || (lf[1] != ' ' && lf[1] != '\t'))
				break;
			fend = lf + 1;
		}
		if (fend == p || (fend == p + 1 && *p == '\r'))
			break; /* the empty line */
		for (colon = p; colon < fend && grammar_is_token_char((unsigned char)*colon);
		     colon++)
			;
		if (colon > p) {
			const char *v = colon;
			size_t vl;

			while (v < fend && (*v == ' ' || *v == '\t'))
				v++;
			if (v < fend && *v == ':') {
				v++;
				vl = (size_t)(fend - v);
				if (vl && v[vl - 1] == '\r')
					vl--;
				if (sanity_field(p, (size_t)(colon - p), (struct grammar_pl){ v, vl },
						 why, wsz, &ctype, reg))
					return 400;
			}
		}
		p = fend + 1;
	}
	if (sanity_body(buf + len - sc->body_len, sc->body_len, ctype, why, wsz))
		return 400;
	return 0;
}
