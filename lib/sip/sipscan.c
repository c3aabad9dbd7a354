/* sipscan: tolerant SIP header scanner (RFC 4475): addressing fields and defects, no osip. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/esc.h"
#include "base/mem.h"
#include "base/log.h"
#include "sip/sipmsg.h"
#include "sip/sipscan.h"

#define LOG_MODULE "sipscan"

/* Single-value headers (RFC 3261 7.3.1: only list-valued fields may repeat). */
enum sipscan_hdr {
	SIPSCAN_H_OTHER = 0, SIPSCAN_H_VIA, SIPSCAN_H_FROM, SIPSCAN_H_TO, SIPSCAN_H_CALLID,
	SIPSCAN_H_CSEQ, SIPSCAN_H_MAXFWD, SIPSCAN_H_CLEN, SIPSCAN_H_CONTACT, SIPSCAN_H_DATE,
	SIPSCAN_H_N
};

struct sipscan_name {
	const char *name;
	size_t len;
	char compact;
	enum sipscan_hdr id;
};

static const struct sipscan_name sipscan_names[] = {
	{ "Via", 3, 'v', SIPSCAN_H_VIA }, { "From", 4, 'f', SIPSCAN_H_FROM },
	{ "To", 2, 't', SIPSCAN_H_TO }, { "Call-ID", 7, 'i', SIPSCAN_H_CALLID },
	{ "CSeq", 4, 0, SIPSCAN_H_CSEQ }, { "Max-Forwards", 12, 0, SIPSCAN_H_MAXFWD },
	{ "Content-Length", 14, 'l', SIPSCAN_H_CLEN }, { "Contact", 7, 'm', SIPSCAN_H_CONTACT },
	{ "Date", 4, 0, SIPSCAN_H_DATE },
};

/* RFC 3261 25.1: token characters. */
static bool sipscan_is_token(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`':
	case '\'': case '~':
		return true;
	default:
		return false;
	}
}

static bool sipscan_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void sipscan_trim(struct sipscan_pl *v)
{
	while (v->l && sipscan_is_ws(v->p[0])) {
		v->p++;
		v->l--;
	}
	while (v->l && sipscan_is_ws(v->p[v->l - 1]))
		v->l--;
}

static bool sipscan_eq(const struct sipscan_pl *a, const struct sipscan_pl *b)
{
	return a->l == b->l && !memcmp(a->p, b->p, a->l);
}

/* RFC 3986 3.1 (RFC 3261 25.1 absoluteURI): scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool sipscan_is_scheme(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		bool alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';

		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' ||
					   c == '.')))
			return false;
	}
	return n > 0;
}

/* Records the first defect only: it is the one the answer names. */
static void sipscan_defect(struct sipscan *sc, int status, const char *fmt, ...)
{
	va_list ap;

	if (sc->defect)
		return;
	sc->defect = status;
	va_start(ap, fmt);
	vsnprintf(sc->why, sizeof(sc->why), fmt, ap);
	va_end(ap);
}

static enum sipscan_hdr sipscan_hdr_id(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(sipscan_names) / sizeof(sipscan_names[0]); i++) {
		const struct sipscan_name *h = &sipscan_names[i];

		if ((n == 1 && h->compact && (name[0] | 0x20) == h->compact) ||
		    (n == h->len && !strncasecmp(name, h->name, n)))
			return h->id;
	}
	return SIPSCAN_H_OTHER;
}

static const char *sipscan_hdr_name(enum sipscan_hdr id)
{
	size_t i;

	for (i = 0; i < sizeof(sipscan_names) / sizeof(sipscan_names[0]); i++)
		if (sipscan_names[i].id == id)
			return sipscan_names[i].name;
	return "header";
}

/* Digits only, value into *vp (saturating at UINT64_MAX / 10). */
static bool sipscan_number(const struct sipscan_pl *v, uint64_t *vp)
{
	uint64_t n = 0;
	size_t i;

	if (!v->l)
		return false;
	for (i = 0; i < v->l; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return false;
		if (n < UINT64_MAX / 100)
			n = n * 10 + (uint64_t)(v->p[i] - '0');
	}
	*vp = n;
	return true;
}

/* RFC 3261 25.1 name-addr / addr-spec checks on From, To and Contact values: quotes balance
 * (quoted-pair aware), an unquoted display name is tokens and LWS, no LWS inside <...>
 * (RFC 4475 3.1.2.6, 3.1.2.14, 3.1.2.15; 3.1.1.6: no LWS before '<' is accepted). */
static void sipscan_addr_check(struct sipscan *sc, const char *name,
			       const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l, *lt = NULL, *gt;
	bool inq = false;

	for (; p < end; p++) {
		if (inq && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '<' && !lt)
			lt = p;
	}
	if (inq) {
		sipscan_defect(sc, 400, "unterminated quoted string in %s", name);
		return;
	}
	if (!lt)
		return;
	if (lt > v->p && v->p[0] != '"') {
		for (p = v->p; p < lt; p++)
			if (!sipscan_is_token((unsigned char)*p) && !sipscan_is_ws(*p)) {
				sipscan_defect(sc, 400, "unquoted display name in %s has "
					       "characters that need quotes", name);
				return;
			}
	}
	gt = memchr(lt, '>', (size_t)(end - lt));
	if (!gt) {
		sipscan_defect(sc, 400, "%s has '<' without '>'", name);
		return;
	}
	for (p = lt + 1; p < gt; p++)
		if (sipscan_is_ws(*p)) {
			sipscan_defect(sc, 400, "whitespace inside the <addr-spec> of %s", name);
			return;
		}
}

/* As sipscan_addr_check; *bad (may be NULL) is set when this value is what is wrong. A
 * defect found earlier hides later ones, so the value is checked on a scratch copy. */
static void sipscan_addr(struct sipscan *sc, const char *name, const struct sipscan_pl *v,
			 bool *bad)
{
	struct sipscan tmp;

	tmp.defect = 0;
	tmp.why[0] = '\0';
	sipscan_addr_check(&tmp, name, v);
	if (!tmp.defect)
		return;
	if (bad)
		*bad = true;
	sipscan_defect(sc, tmp.defect, "%s", tmp.why);
}

/* RFC 3261 20.42: sent-protocol "SIP/2.0/transport" (LWS allowed around '/'), sent-by,
 * then ;params and ,more-values: none of them empty (RFC 4475 3.1.2.1); a branch that is the
 * magic cookie alone identifies no transaction (RFC 4475 3.2.1). */
static void sipscan_via(struct sipscan *sc, const struct sipscan_pl *v, bool top)
{
	const char *p = v->p, *end = v->p + v->l, *seg = v->p;
	char ver[16];
	size_t n = 0;

	while (p < end && n + 1 < sizeof(ver) && (n < 7 || *p != '/')) {
		if (!sipscan_is_ws(*p))
			ver[n++] = *p;
		p++;
	}
	ver[n] = '\0';
	if (n < 4 || strncasecmp(ver, "SIP/", 4)) {
		sipscan_defect(sc, 400, "Via without a SIP sent-protocol");
		return;
	}
	if (strcmp(ver + 4, "2.0")) {
		sipscan_defect(sc, 505, "SIP version %s in Via not supported", ver + 4);
		return;
	}
	for (p = v->p; p <= end; p++) {
		if (p < end && *p != ';' && *p != ',')
			continue;
		{
			struct sipscan_pl s = { seg, (size_t)(p - seg) };

			sipscan_trim(&s);
			if (!s.l) {
				sipscan_defect(sc, 400, "empty parameter or value in Via");
				return;
			}
			if (top && s.l >= 6 && !strncasecmp(s.p, "branch", 6)) {
				const char *eq = memchr(s.p, '=', s.l);

				if (eq) {
					struct sipscan_pl b = { eq + 1,
								(size_t)(s.p + s.l - eq - 1) };

					sipscan_trim(&b);
					if (b.l == 7 && !strncmp(b.p, "z9hG4bK", 7))
						sipscan_defect(sc, 400, "Via branch is the magic "
							       "cookie alone (RFC 4475 3.2.1)");
				}
			}
		}
		seg = p + 1;
	}
}

/* RFC 3261 7.1, 25.1: Method SP Request-URI SP SIP-Version, single spaces, nothing more. */
static void sipscan_request_line(struct sipscan *sc, const char *p, size_t n)
{
	const char *sp1 = memchr(p, ' ', n), *ver, *colon;
	size_t i, vl;

	if (!sp1) {
		sipscan_defect(sc, 400, "Request-Line without SIP-Version");
		return;
	}
	sc->method = (struct sipscan_pl){ p, (size_t)(sp1 - p) };
	/* the version is the last word; trailing spaces are a defect of their own below */
	vl = n;
	while (vl && p[vl - 1] == ' ')
		vl--;
	for (ver = p + vl; ver > sp1 && ver[-1] != ' '; ver--)
		;
	if (ver <= sp1 + 1 || (size_t)(p + vl - ver) < 4 || strncasecmp(ver, "SIP/", 4)) {
		sipscan_defect(sc, 400, "Request-Line without SIP-Version");
		return;
	}
	if ((size_t)(p + vl - ver) != 7 || strncmp(ver + 4, "2.0", 3)) {
		sipscan_defect(sc, 505, "SIP version %.*s not supported", (int)(p + vl - ver - 4),
			       ver + 4);
		return;
	}
	sc->ruri = (struct sipscan_pl){ sp1 + 1, (size_t)(ver - sp1 - 2) };
	for (i = 0; i < sc->method.l; i++)
		if (!sipscan_is_token((unsigned char)p[i])) {
			sipscan_defect(sc, 400, "method is not a token");
			return;
		}
	if (vl != n || !sc->ruri.l ||
	    memchr(sc->ruri.p, ' ', sc->ruri.l) || memchr(sc->ruri.p, '\t', sc->ruri.l) ||
	    (sp1 + 1 < p + n && sp1[1] == ' ')) {
		sipscan_defect(sc, 400, "extra whitespace in the Request-Line");
		return;
	}
	if (sc->ruri.p[0] == '<') {
		sipscan_defect(sc, 400, "Request-URI enclosed in <>");
		return;
	}
	colon = memchr(sc->ruri.p, ':', sc->ruri.l);
	if (!colon || colon == sc->ruri.p) {
		sipscan_defect(sc, 400, "Request-URI without a scheme");
		return;
	}
	i = (size_t)(colon - sc->ruri.p);
	if (!sipscan_is_scheme(sc->ruri.p, i)) {
		/* RFC 3261 19.1.1 / RFC 3986 3.1: no scheme at all, a syntax error */
		sipscan_defect(sc, 400,
			       "Request-URI scheme is not ALPHA *(ALPHA / DIGIT / + / - / .)");
		return;
	}
	if (!((i == 3 && !strncasecmp(sc->ruri.p, "sip", 3)) ||
	      (i == 4 && !strncasecmp(sc->ruri.p, "sips", 4)))) {
		/* RFC 3261 16.3 step 1: only SIP URIs can be routed here */
		sipscan_defect(sc, 416, "Request-URI scheme %.*s not supported", (int)(i > 40 ? 40 : i),
			       sc->ruri.p);
		return;
	}
	{
		/* RFC 3261 19.1.1: headers (after the hostport) are not allowed in a
		 * Request-URI; a '?' in the userinfo is just a character (RFC 4475 3.1.1.2) */
		const char *at = NULL, *q;

		for (q = sc->ruri.p; q < sc->ruri.p + sc->ruri.l; q++)
			if (*q == '@')
				at = q;
		q = at ? at : colon;
		if (memchr(q, '?', (size_t)(sc->ruri.p + sc->ruri.l - q)))
			sipscan_defect(sc, 400, "escaped headers in the Request-URI");
	}
}

/* RFC 3261 7.2: SIP-Version SP Status-Code SP Reason-Phrase; a code outside 100..699 is
 * no response (RFC 4475 3.1.2.19). */
static void sipscan_status_line(struct sipscan *sc, const char *p, size_t n)
{
	size_t i;

	if (n < 12 || strncmp(p, "SIP/2.0 ", 8) || p[11] != ' ') {
		sipscan_defect(sc, 400, "bad Status-Line");
		return;
	}
	for (i = 8; i < 11; i++)
		if (p[i] < '0' || p[i] > '9') {
			sipscan_defect(sc, 400, "bad status code");
			return;
		}
	sc->status = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	if (sc->status < 100)
		sipscan_defect(sc, 400, "bad status code");
}

/* Per header: single-value duplicates must agree (RFC 3261 7.3.1, RFC 4475 3.3.8, 3.3.9). */
static void sipscan_single(struct sipscan *sc, enum sipscan_hdr id, struct sipscan_pl *first,
			   const struct sipscan_pl *v)
{
	if (!first->p) {
		*first = *v;
		return;
	}
	if (!sipscan_eq(first, v))
		sipscan_defect(sc, 400, "conflicting %s headers", sipscan_hdr_name(id));
}

static void sipscan_cseq(struct sipscan *sc)
{
	struct sipscan_pl num = sc->cseq;
	const char *sp;

	for (sp = num.p; sp < num.p + num.l && !sipscan_is_ws(*sp); sp++)
		;
	num.l = (size_t)(sp - num.p);
	sc->cseq_method = (struct sipscan_pl){ sp, (size_t)(sc->cseq.p + sc->cseq.l - sp) };
	sipscan_trim(&sc->cseq_method);
	if (!sipscan_number(&num, &sc->cseq_num) || !sc->cseq_method.l) {
		sipscan_defect(sc, 400, "bad CSeq");
		return;
	}
	/* RFC 3261 8.1.1.5: the sequence number MUST be less than 2^31 */
	if (num.l > 10 || sc->cseq_num >= 0x80000000ull) {
		sipscan_defect(sc, 400, "CSeq number out of range (2^31)");
		return;
	}
	if (sc->request && !sipscan_eq(&sc->method, &sc->cseq_method))
		sipscan_defect(sc, 400, "CSeq method %.*s differs from the Request-Line's",
			       (int)(sc->cseq_method.l > 40 ? 40 : sc->cseq_method.l),
			       sc->cseq_method.p);
}

/* Checks of one header field's value (after its duplicates were compared). */
static void sipscan_value(struct sipscan *sc, enum sipscan_hdr id, const struct sipscan_pl *v,
			  struct sipscan_pl *seen)
{
	uint64_t n;

	switch (id) {
	case SIPSCAN_H_VIA:
		if (sc->nvia < SIPSCAN_VIA_MAX)
			sc->via[sc->nvia] = *v;
		sipscan_via(sc, v, sc->nvia == 0);
		sc->nvia++;
		break;
	case SIPSCAN_H_FROM:
	case SIPSCAN_H_TO:
		sipscan_single(sc, id, id == SIPSCAN_H_FROM ? &sc->from : &sc->to, v);
		sipscan_addr(sc, sipscan_hdr_name(id), v,
			     id == SIPSCAN_H_FROM ? &sc->from_bad : &sc->to_bad);
		break;
	case SIPSCAN_H_CALLID:
		sipscan_single(sc, id, &sc->callid, v);
		break;
	case SIPSCAN_H_CSEQ:
		sipscan_single(sc, id, &sc->cseq, v);
		break;
	case SIPSCAN_H_MAXFWD:
		sipscan_single(sc, id, &seen[id], v);
		/* RFC 3261 20.22: an integer in the range 0-255 */
		if (!sipscan_number(v, &n) || n > 255)
			sipscan_defect(sc, 400, "bad Max-Forwards");
		break;
	case SIPSCAN_H_CLEN:
		sipscan_single(sc, id, &seen[id], v);
		if (!sipscan_number(v, &n))
			sipscan_defect(sc, 400, "bad Content-Length");
		break;
	case SIPSCAN_H_CONTACT:
		/* RFC 3261 20.10: a URI with headers or parameters must be in <> */
		if (!memchr(v->p, '<', v->l) && memchr(v->p, '?', v->l))
			sipscan_defect(sc, 400, "Contact URI with headers must be in <>");
		else
			sipscan_addr(sc, "Contact", v, NULL);
		break;
	case SIPSCAN_H_DATE:
		/* RFC 3261 20.17: SIP-date is rfc1123-date, always in GMT */
		if (v->l < 3 || strncmp(v->p + v->l - 3, "GMT", 3))
			sipscan_defect(sc, 400, "Date not in GMT");
		break;
	default:
		break;
	}
}

/* Walks the header fields from p to hend (the CRLF ending the last field). */
static void sipscan_headers(struct sipscan *sc, const char *p, const char *hend)
{
	struct sipscan_pl seen[SIPSCAN_H_N];

	memset(seen, 0, sizeof(seen));
	while (p < hend) {
		const char *fend = p, *colon;
		struct sipscan_pl v;
		size_t nlen;

		/* a field ends at a line end not followed by SP/HT (RFC 3261 7.3.1 folding) */
		for (;;) {
			const char *lf = memchr(fend, '\n', (size_t)(hend - fend));

			if (!lf) {
				fend = hend;
				break;
			}
			fend = lf;
			if (lf + 1 >= hend || (lf[1] != ' ' && lf[1] != '\t'))
				break;
			fend = lf + 1;
		}
		for (colon = p; colon < fend && sipscan_is_token((unsigned char)*colon); colon++)
			;
		nlen = (size_t)(colon - p);
		while (colon < fend && (*colon == ' ' || *colon == '\t'))
			colon++;
		if (!nlen || colon >= fend || *colon != ':') {
			sipscan_defect(sc, 400, "header line without a name and colon");
		} else {
			enum sipscan_hdr id = sipscan_hdr_id(p, nlen);

			v = (struct sipscan_pl){ colon + 1, (size_t)(fend - colon - 1) };
			sipscan_trim(&v);
			if (id != SIPSCAN_H_OTHER)
				sipscan_value(sc, id, &v, seen);
			if (id == SIPSCAN_H_CLEN && !sc->defect) {
				uint64_t n = 0;

				sipscan_number(&v, &n);
				if (n > sc->body_len)
					sipscan_defect(sc, 400, "Content-Length larger than "
						       "the body");
			}
		}
		p = fend + 1;
	}
}

int sipscan_parse(struct sipscan *sc, const char *buf, size_t len)
{
	const char *eol, *hend, *body;
	size_t n;

	if (!sc || !buf)
		return EINVAL;
	memset(sc, 0, sizeof(*sc));
	while (len && (*buf == '\r' || *buf == '\n')) {
		buf++;
		len--;
	}
	eol = memchr(buf, '\n', len);
	if (!eol)
		return EBADMSG;
	n = (size_t)(eol - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	/* the header ends at the first empty line; bare LFs are tolerated here */
	hend = NULL;
	for (body = eol; body && body + 1 < buf + len;
	     body = memchr(body + 1, '\n', (size_t)(buf + len - body - 1))) {
		if (body[1] == '\n') {
			hend = body;
			body += 2;
			break;
		}
		if (body + 2 < buf + len && body[1] == '\r' && body[2] == '\n') {
			hend = body;
			body += 3;
			break;
		}
	}
	if (!hend)
		return EBADMSG;
	sc->body_len = (size_t)(buf + len - body);
	if (n >= 4 && !strncmp(buf, "SIP/", 4)) {
		sipscan_status_line(sc, buf, n);
	} else {
		sc->request = true;
		sipscan_request_line(sc, buf, n);
	}
	/* the body length is known before the header is walked: Content-Length is compared */
	sipscan_headers(sc, eol + 1, hend);
	if (sc->cseq.p)
		sipscan_cseq(sc);
	if (sc->request && (!sc->callid.p || !sc->from.p || !sc->to.p || !sc->cseq.p || !sc->nvia))
		sipscan_defect(sc, 400, "missing%s%s%s%s%s", sc->nvia ? "" : " Via",
			       sc->callid.p ? "" : " Call-ID", sc->from.p ? "" : " From",
			       sc->to.p ? "" : " To", sc->cseq.p ? "" : " CSeq");
	return 0;
}

/* A top Via the sender can match an answer by: sent-protocol (three tokens around '/', LWS
 * allowed) then LWS and a sent-by. */
static bool sipscan_via_usable(const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l;
	int part;

	for (part = 0; part < 3; part++) {
		const char *t;

		while (p < end && sipscan_is_ws(*p))
			p++;
		for (t = p; p < end && sipscan_is_token((unsigned char)*p); p++)
			;
		if (p == t)
			return false;
		while (p < end && sipscan_is_ws(*p))
			p++;
		if (part < 2 && (p == end || *p++ != '/'))
			return false;
	}
	return p < end && sipscan_is_token((unsigned char)*p) && p > v->p &&
	       sipscan_is_ws(p[-1]);
}

/* A CSeq the sender can match an answer by: digits, LWS, a token. */
static bool sipscan_cseq_usable(const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l, *t;

	for (t = p; p < end && *p >= '0' && *p <= '9'; p++)
		;
	if (p == t || p == end || !sipscan_is_ws(*p))
		return false;
	while (p < end && sipscan_is_ws(*p))
		p++;
	for (t = p; p < end && sipscan_is_token((unsigned char)*p); p++)
		;
	return p > t && p == end;
}

bool sipscan_answerable(const struct sipscan *sc)
{
	/* an answer that would echo an unusable Via or CSeq could be matched by nobody and
	 * would itself be malformed (issue 11): such a request is dropped instead */
	return sc && sc->request && sc->nvia > 0 && sc->cseq.p && sc->cseq.l &&
	       sc->cseq.l <= SIPSCAN_ID_MAX && sipscan_via_usable(&sc->via[0]) &&
	       sipscan_cseq_usable(&sc->cseq);
}

/* Appends "Name: value" with folded lines joined (CR/LF become spaces). */
static size_t sipscan_put(char *out, size_t pos, size_t size, const char *name,
			  const struct sipscan_pl *v, const char *extra)
{
	size_t i;
	int n = snprintf(out + pos, pos < size ? size - pos : 0, "%s: ", name);

	pos += n > 0 ? (size_t)n : 0;
	for (i = 0; i < v->l && pos < size; i++)
		out[pos++] = esc_hdr_byte((unsigned char)v->p[i]);
	n = snprintf(out + (pos < size ? pos : size), pos < size ? size - pos : 0, "%s\r\n",
		     extra ? extra : "");
	pos += n > 0 ? (size_t)n : 0;
	return pos;
}

/* RFC 3261 25.1 callid = word ["@" word]: a Call-ID that is not one is not echoed (our answer
 * must parse; the sender matches it by its Via branch and CSeq, RFC 3261 17.1.3). */
static bool sipscan_callid_ok(const struct sipscan_pl *v)
{
	size_t i, at = v->l;

	for (i = 0; i < v->l; i++) {
		unsigned char c = (unsigned char)v->p[i];

		if (c == '@' && at == v->l)
			at = i;
		else if (!sipscan_is_token(c) && !(c && strchr("()<>:\\\"/[]?{}", c)))
			return false;
	}
	return v->l && at != 0 && at + 1 != v->l;
}

/* The tag parameter of a From/To value (outside quotes and <>), or an empty view. */
static struct sipscan_pl sipscan_tag(const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l;
	bool inq = false, inb = false;

	for (; p < end; p++) {
		if (inq && *p == '\\')
			p++;
		else if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '<')
			inb = true;
		else if (!inq && *p == '>')
			inb = false;
		else if (!inq && !inb && *p == ';') {
			const char *q = p + 1, *t;

			while (q < end && sipscan_is_ws(*q))
				q++;
			if (end - q < 3 || strncasecmp(q, "tag", 3))
				continue;
			for (q += 3; q < end && (sipscan_is_ws(*q) || *q == '='); q++)
				;
			for (t = q; t < end && sipscan_is_token((unsigned char)*t); t++)
				;
			return (struct sipscan_pl){ q, (size_t)(t - q) };
		}
	}
	return (struct sipscan_pl){ NULL, 0 };
}

/* A From/To value we may echo as it came: a URI with a scheme (in <> or alone), then ;params
 * none of them empty or nameless; anything else is answered in the clean form below. */
static bool sipscan_addr_echoable(const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l, *lt = NULL, *u, *q;
	bool inq = false;

	for (; p < end && !lt; p++) {
		if (inq && *p == '\\')
			p++;
		else if (*p == '"')
			inq = !inq;
		else if (!inq && *p == '<')
			lt = p;
	}
	u = lt ? lt + 1 : v->p;
	for (q = u; q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')); q++)
		;
	if (q == u || q >= end || *q != ':')
		return false;
	if (lt) {
		p = memchr(lt, '>', (size_t)(end - lt));
		if (!p)
			return false;
		p++;
	} else {
		p = memchr(v->p, ';', v->l);
		if (!p)
			return true;
	}
	while (p < end) { /* ;params */
		while (p < end && sipscan_is_ws(*p))
			p++;
		if (p == end)
			break;
		if (*p != ';')
			return false;
		for (p++; p < end && sipscan_is_ws(*p); p++)
			;
		if (p == end || !sipscan_is_token((unsigned char)*p))
			return false;
		while (p < end && *p != ';')
			p++;
	}
	return true;
}

/* A From/To for the response: as found, or for a malformed one "<sip-uri>;tag=t" with the
 * URI's whitespace left out, or the anonymous URI (RFC 3261 8.1.1.3) when there is none. */
static size_t sipscan_put_addr_text(char *out, size_t pos, size_t size, const char *name,
				    const struct sipscan_pl *v, bool bad, const char *to_tag)
{
	static const char anon[] = "<sip:anonymous@anonymous.invalid>";
	struct sipscan_pl tag = v->p ? sipscan_tag(v) : (struct sipscan_pl){ NULL, 0 };
	char extra[96] = "";
	const char *p, *end = v->p ? v->p + v->l : NULL, *u = NULL;
	int n;

	if (tag.l)
		; /* the request's own tag stays */
	else if (to_tag && *to_tag)
		snprintf(extra, sizeof(extra), ";tag=%s", to_tag);
	if (v->p && !bad && sipscan_addr_echoable(v))
		return sipscan_put(out, pos, size, name, v, extra);
	for (p = v->p; p && p + 4 <= end && !u; p++)
		if (!strncasecmp(p, "sip:", 4) || (p + 5 <= end && !strncasecmp(p, "sips:", 5)))
			u = p;
	n = snprintf(out + pos, pos < size ? size - pos : 0, "%s: %s", name, u ? "<" : anon);
	pos += n > 0 ? (size_t)n : 0;
	for (p = u; p && p < end && *p != '>' && *p != ';' && *p != '"' && pos < size; p++)
		if (!sipscan_is_ws(*p) && *p)
			out[pos++] = esc_hdr_byte((unsigned char)*p);
	n = snprintf(out + (pos < size ? pos : size), pos < size ? size - pos : 0, "%s%s%.*s%s\r\n",
		     u ? ">" : "", tag.l ? ";tag=" : "", (int)tag.l, tag.l ? tag.p : "", extra);
	pos += n > 0 ? (size_t)n : 0;
	return pos;
}

/* Issue 11 item 3: the field just written at out + start ("Name: value\r\n") is one a peer's
 * parser accepts (libosip2's, as a stand-in for the strict ones): our answer must parse. */
static bool sipscan_echo_ok(const char *out, size_t start, size_t pos, size_t size,
			    const char *name)
{
	size_t skip = strlen(name) + 2;

	if (pos > size || pos < start + skip + 2)
		return false;
	return sipmsg_header_parses(name, out + start + skip, pos - start - skip - 2);
}

/* A From/To that parses: as found, else reduced to "<sip-uri>;tag=t", else the anonymous URI
 * with the request's tag (a token) and ours; the sender matches our answer by the Via branch
 * and CSeq (RFC 3261 17.1.3), not by these. */
static size_t sipscan_put_addr(char *out, size_t pos, size_t size, const char *name,
			       const struct sipscan_pl *v, bool bad, const char *to_tag)
{
	static const char anon[] = "<sip:anonymous@anonymous.invalid>";
	struct sipscan_pl tag = v->p ? sipscan_tag(v) : (struct sipscan_pl){ NULL, 0 };
	const char *ours = !tag.l && to_tag && *to_tag ? to_tag : NULL;
	size_t start = pos;
	int n;

	if (v->l <= SIPSCAN_ECHO_MAX) {
		pos = sipscan_put_addr_text(out, start, size, name, v, bad, to_tag);
		if (sipscan_echo_ok(out, start, pos, size, name))
			return pos;
	}
	pos = sipscan_put_addr_text(out, start, size, name, v, true, to_tag);
	if (pos - start <= SIPSCAN_ECHO_MAX && sipscan_echo_ok(out, start, pos, size, name))
		return pos;
	if (tag.l > SIPSCAN_ID_MAX) { /* theirs too long to echo: ours instead */
		tag.l = 0;
		ours = to_tag && *to_tag ? to_tag : NULL;
	}
	n = snprintf(out + start, start < size ? size - start : 0, "%s: %s%s%.*s%s%s\r\n", name,
		     anon, tag.l ? ";tag=" : "", (int)tag.l, tag.l ? tag.p : "",
		     ours ? ";tag=" : "", ours ? ours : "");
	return start + (n > 0 ? (size_t)n : 0);
}

/* A Via parameter we may echo: token characters, '=', and a host's '[', ']', ':' or a quoted
 * value; any other is left out of our answer, which must parse (it is not needed to match). */
static bool sipscan_param_ok(const struct sipscan_pl *v)
{
	size_t i;

	for (i = 0; i < v->l; i++)
		if (!sipscan_is_token((unsigned char)v->p[i]) && !strchr("=[]:\" ", v->p[i]))
			return false;
	return true;
}

/* "SIP/2.0/TLS host:port" of a Via value: a sent-by host that is no host name or address
 * becomes "invalid.invalid", a port that is not 1..65535 is left out (RFC 3261 17.1.3: the
 * sender matches our answer by branch and CSeq, not by these). */
static size_t sipscan_put_sentby(char *out, size_t pos, size_t size, const struct sipscan_pl *v)
{
	const char *p = v->p + v->l, *host, *colon = NULL, *q;
	size_t i, hl, pl = 0;
	unsigned long port = 0;
	bool ok = true;

	while (p > v->p && !sipscan_is_ws(p[-1]))
		p--;
	host = p;
	for (i = 0; i < (size_t)(host - v->p) && pos < size; i++)
		out[pos++] = esc_hdr_byte((unsigned char)v->p[i]);
	hl = (size_t)(v->p + v->l - host);
	if (hl && host[0] == '[') {
		q = memchr(host, ']', hl);
		colon = q && q + 1 < host + hl && q[1] == ':' ? q + 1 : NULL;
	} else {
		colon = memchr(host, ':', hl);
	}
	if (colon) {
		pl = (size_t)(host + hl - colon - 1);
		for (i = 0; i < pl && pl <= 5; i++)
			port = port * 10 + (unsigned long)(colon[1 + i] - '0');
		for (i = 0; i < pl; i++)
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				pl = 0;
		if (pl > 5 || port == 0 || port > 65535)
			pl = 0;
		hl = (size_t)(colon - host);
	}
	for (i = 0; i < hl; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		      (host[i] >= '0' && host[i] <= '9') || strchr(".-[]:", host[i])))
			ok = false;
	if (!hl || host[0] == '-' || host[0] == '.')
		ok = false;
	if (!ok) {
		host = "invalid.invalid";
		hl = 15;
	}
	for (i = 0; i < hl && pos < size; i++)
		out[pos++] = host[i];
	if (pl && pos < size)
		out[pos++] = ':';
	for (i = 0; i < pl && pos < size; i++)
		out[pos++] = colon[1 + i];
	return pos;
}

/* A Via value without its empty parameters and values (RFC 4475 3.1.2.1). */
static size_t sipscan_put_via(char *out, size_t pos, size_t size, const struct sipscan_pl *v)
{
	const char *p, *seg = v->p, *end = v->p + v->l;
	bool first = true;
	int n = snprintf(out + pos, pos < size ? size - pos : 0, "Via: ");

	pos += n > 0 ? (size_t)n : 0;
	for (p = v->p; p <= end; p++) {
		struct sipscan_pl sg;
		size_t i;

		if (p < end && *p != ';' && *p != ',')
			continue;
		sg = (struct sipscan_pl){ seg, (size_t)(p - seg) };
		sipscan_trim(&sg);
		if (sg.l && (first || seg[-1] == ',' || sipscan_param_ok(&sg))) {
			if (!first && pos < size)
				out[pos++] = seg[-1]; /* the delimiter just before it */
			if (first || seg[-1] == ',') {
				pos = sipscan_put_sentby(out, pos, size, &sg);
			} else {
				for (i = 0; i < sg.l && pos < size; i++)
					out[pos++] = esc_hdr_byte((unsigned char)sg.p[i]);
			}
			first = false;
		}
		seg = p + 1;
	}
	if (pos + 2 <= size) {
		memcpy(out + pos, "\r\n", 2);
		pos += 2;
	}
	return pos;
}

/* A Via that parses, for one whose echo would not: "SIP/2.0/<transport> invalid.invalid" with
 * the request's branch (a token; the sender matches our answer by it, RFC 3261 17.1.3). */
static size_t sipscan_put_via_min(char *out, size_t pos, size_t size, const struct sipscan_pl *v)
{
	const char *p = v->p, *end = v->p + v->l, *t = NULL, *b = NULL;
	size_t tl = 0, bl = 0, slashes = 0;
	int n;

	for (; p < end && !sipscan_is_ws(*p) && *p != ';'; p++)
		if (*p == '/' && ++slashes == 2)
			t = p + 1;
	if (t)
		for (tl = 0; t + tl < p && sipscan_is_token((unsigned char)t[tl]); tl++)
			;
	if (!t || !tl || t + tl != p || tl > 16) {
		t = "TLS";
		tl = 3;
	}
	for (p = v->p; p + 8 <= end && !b; p++)
		if (*p == ';' && !strncasecmp(p + 1, "branch=", 7))
			b = p + 8;
	while (b && b + bl < end && sipscan_is_token((unsigned char)b[bl]))
		bl++;
	if (bl > SIPSCAN_ID_MAX)
		bl = 0;
	n = snprintf(out + pos, pos < size ? size - pos : 0,
		     "Via: SIP/2.0/%.*s invalid.invalid%s%.*s\r\n", (int)tl, t,
		     bl ? ";branch=" : "", (int)bl, bl ? b : "");
	return pos + (n > 0 ? (size_t)n : 0);
}

int sipscan_response(const struct sipscan *sc, int status, const char *reason,
		     const char *agent, const char *warning, const char *to_tag, char **bufp,
		     size_t *lenp)
{
	size_t size = 1024, pos = 0, i;
	char *out;
	int n;

	if (!sipscan_answerable(sc) || !bufp || !lenp || status < 100 || status > 699)
		return EINVAL;
	for (i = 0; i < (size_t)sc->nvia && i < SIPSCAN_VIA_MAX; i++)
		size += sc->via[i].l + 72; /* room for sipscan_put_via_min's fixed text */
	/* and for the anonymous From and To with both tags */
	size += sc->from.l + sc->to.l + sc->callid.l + sc->cseq.l + 512;
	size += (warning ? 3 * strlen(warning) : 0) + (agent ? strlen(agent) : 0);
	out = mem_zalloc(size, NULL);
	if (!out)
		return ENOMEM;
	n = snprintf(out, size, "SIP/2.0 %d %s\r\n", status,
		     reason ? reason : sipmsg_reason_phrase(status));
	pos = n > 0 ? (size_t)n : 0;
	for (i = 0; i < (size_t)sc->nvia && i < SIPSCAN_VIA_MAX; i++) {
		size_t start = pos;

		if (sc->via[i].l <= SIPSCAN_ECHO_MAX)
			pos = sipscan_put_via(out, pos, size, &sc->via[i]);
		if (sc->via[i].l > SIPSCAN_ECHO_MAX ||
		    !sipscan_echo_ok(out, start, pos, size, "Via"))
			pos = sipscan_put_via_min(out, start, size, &sc->via[i]);
	}
	pos = sipscan_put_addr(out, pos, size, "From", &sc->from, sc->from_bad, NULL);
	pos = sipscan_put_addr(out, pos, size, "To", &sc->to, sc->to_bad, to_tag);
	if (sc->callid.p && sc->callid.l <= SIPSCAN_ECHO_MAX && sipscan_callid_ok(&sc->callid)) {
		pos = sipscan_put(out, pos, size, "Call-ID", &sc->callid, NULL);
	} else if (pos < size) {
		char cid[24];

		sipmsg_random_token(cid, sizeof(cid));
		n = snprintf(out + pos, size - pos, "Call-ID: %s.invalid\r\n", cid);
		pos += n > 0 ? (size_t)n : 0;
	}
	pos = sipscan_put(out, pos, size, "CSeq", &sc->cseq, NULL);
	if (warning && pos < size) {
		n = snprintf(out + pos, size - pos, "Warning: 399 %s \"", agent ? agent : "-");
		pos += n > 0 ? (size_t)n : 0;
		/* RFC 3261 20.43: warn-text is a quoted-string of printable text only */
		pos += esc_qtext(out + pos, size - pos, warning);
		if (pos + 3 < size) {
			memcpy(out + pos, "\"\r\n", 3);
			pos += 3;
		}
	}
	if (pos < size) {
		n = snprintf(out + pos, size - pos, "Content-Length: 0\r\n\r\n");
		pos += n > 0 ? (size_t)n : 0;
	}
	if (pos >= size) { /* cannot happen with the size computed above */
		mem_deref(out);
		return EOVERFLOW;
	}
	*bufp = out;
	*lenp = pos;
	return 0;
}
