/* rptext: recorded SIP messages read as text (RFC 3261 7, 20): start line, headers with their
 * compact forms, the identifiers a replay keys on. Lenient by design: a capture from elsewhere
 * may carry what our own parser would refuse, and the replay still has to name it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "replay_int.h"

/* RFC 3261 7.3.3 compact forms, and a few from later RFCs. */
static const char *rp_long_name(const char *n, size_t len)
{
	static const char *const compact[26] = {
		['a' - 'a'] = "Accept-Contact", ['b' - 'a'] = "Referred-By",
		['c' - 'a'] = "Content-Type", ['e' - 'a'] = "Content-Encoding",
		['f' - 'a'] = "From", ['i' - 'a'] = "Call-ID", ['k' - 'a'] = "Supported",
		['l' - 'a'] = "Content-Length", ['m' - 'a'] = "Contact", ['o' - 'a'] = "Event",
		['r' - 'a'] = "Refer-To", ['s' - 'a'] = "Subject", ['t' - 'a'] = "To",
		['u' - 'a'] = "Allow-Events", ['v' - 'a'] = "Via", ['x' - 'a'] = "Session-Expires",
	};
	int ch;

	if (len != 1)
		return NULL;
	ch = tolower((unsigned char)n[0]);
	return ch >= 'a' && ch <= 'z' ? compact[ch - 'a'] : NULL;
}

static void rp_copy(char *out, size_t size, const char *p, size_t n)
{
	if (!size)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

void rp_param(const char *val, size_t vlen, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), i = 0;
	bool inq = false, inang = false;

	out[0] = '\0';
	for (i = 0; i < vlen; i++) {
		char ch = val[i];

		if (ch == '"')
			inq = !inq;
		else if (!inq && ch == '<')
			inang = true;
		else if (!inq && ch == '>')
			inang = false;
		if (inq || inang || ch != ';')
			continue;
		{
			size_t j = i + 1, k;

			while (j < vlen && val[j] == ' ')
				j++;
			if (j + nl > vlen || strncasecmp(val + j, name, nl))
				continue;
			j += nl;
			while (j < vlen && val[j] == ' ')
				j++;
			if (j >= vlen || val[j] != '=')
				continue;
			j++;
			for (k = j; k < vlen && val[k] != ';' && val[k] != ',' && val[k] != ' ' &&
				    val[k] != '>' && val[k] != '\r'; k++)
				;
			rp_copy(out, size, val + j, k - j);
			return;
		}
	}
}

void rp_uri(const char *val, size_t vlen, const char **u, size_t *ul)
{
	const char *lt = memchr(val, '<', vlen), *gt;
	size_t i;

	if (lt && (gt = memchr(lt, '>', vlen - (size_t)(lt - val)))) {
		*u = lt + 1;
		*ul = (size_t)(gt - lt - 1);
		return;
	}
	for (i = 0; i < vlen && val[i] != ';' && val[i] != ' ' && val[i] != ','; i++)
		;
	*u = val;
	*ul = i;
}

void rp_aor(const char *val, size_t vlen, char *out, size_t size)
{
	const char *u, *colon;
	size_t ul, i, o = 0;
	bool at = false;

	rp_uri(val, vlen, &u, &ul);
	colon = memchr(u, ':', ul);
	if (colon && (size_t)(colon - u) <= 5) {      /* sip: sips: tel: */
		ul -= (size_t)(colon - u) + 1;
		u = colon + 1;
	}
	for (i = 0; i < ul && o + 1 < size; i++) {
		char ch = u[i];

		if (ch == ';' || ch == '?' || ch == '>')
			break;
		if (ch == '@')
			at = true;
		if (ch == ':' && (at || !memchr(u, '@', ul)) && !(i && u[i - 1] == ']') &&
		    !memchr(u, '[', ul))
			break;          /* a port */
		out[o++] = at ? (char)tolower((unsigned char)ch) : ch;
	}
	out[o] = '\0';
}

const char *rp_aor_domain(const char *aor)
{
	const char *at = strrchr(aor, '@');

	return at ? at + 1 : aor;
}

void rp_via_host(const char *val, size_t vlen, char *transport, size_t tsize, char *host,
		 size_t hsize)
{
	size_t i = 0, s;

	while (i < vlen && val[i] != ' ')
		i++;
	s = i;
	while (s > 0 && val[s - 1] != '/')
		s--;
	rp_copy(transport, tsize, val + s, i - s);
	while (i < vlen && val[i] == ' ')
		i++;
	s = i;
	if (i < vlen && val[i] == '[') {
		while (i < vlen && val[i] != ']')
			i++;
		i++;
	} else {
		while (i < vlen && val[i] != ':' && val[i] != ';' && val[i] != ' ' && val[i] != ',')
			i++;
	}
	rp_copy(host, hsize, val + s, i > vlen ? vlen - s : i - s);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static int atoi_n(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n && i < 4 && isdigit((unsigned char)p[i]); i++)
		v = v * 10 + (p[i] - '0');
	return v;
}

/* Start line: "METHOD uri SIP/2.0" or "SIP/2.0 code reason". */
static int rp_start_line(struct rp_sip *s, const char *p, size_t n)
{
	const char *sp1 = memchr(p, ' ', n), *sp2;

	if (!sp1)
		return EBADMSG;
	if (n > 8 && !strncmp(p, "SIP/2.0 ", 8)) {
		s->req = false;
		s->status = atoi_n(p + 8, n - 8);
		sp2 = memchr(p + 8, ' ', n - 8);
		if (sp2)
			rp_copy(s->reason, sizeof(s->reason), sp2 + 1, n - (size_t)(sp2 + 1 - p));
		return s->status >= 100 && s->status <= 699 ? 0 : EBADMSG;
	}
	s->req = true;
	rp_copy(s->method, sizeof(s->method), p, (size_t)(sp1 - p));
	sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p));
	if (!sp2)
		return EBADMSG;
	s->ruri = sp1 + 1;
	s->rurilen = (size_t)(sp2 - sp1 - 1);
	return 0;
}

int rp_sip_parse(struct rp_sip *s, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol;
	const struct rp_hdr *h;
	char cseq[64];
	int err;

	memset(s, 0, sizeof(*s));
	s->text = text;
	s->len = len;
	eol = memmem(p, len, "\r\n", 2);
	if (!eol)
		return EBADMSG;
	err = rp_start_line(s, p, (size_t)(eol - p));
	if (err)
		return err;
	p = eol + 2;
	while (p < end) {
		const char *colon, *v, *line_end = p;
		size_t nlen;

		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
			p += 2;
			break;
		}
		/* a header line with its folded continuations (RFC 3261 7.3.1) */
		do {
			eol = memmem(line_end, (size_t)(end - line_end), "\r\n", 2);
			if (!eol)
				return EBADMSG;
			line_end = eol + 2;
		} while (line_end < end && (*line_end == ' ' || *line_end == '\t'));
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			return EBADMSG;
		nlen = (size_t)(colon - p);
		while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
			nlen--;
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (s->nh < RP_MAX_HDRS) {
			struct rp_hdr *nh = &s->h[s->nh++];
			const char *ln = rp_long_name(p, nlen);

			nh->name = ln ? ln : p;
			nh->val = v;
			nh->vlen = (size_t)(eol - v);
		}
		p = line_end;
	}
	s->body = p;
	s->blen = (size_t)(end - p);
	if ((h = rp_sip_hdr(s, "Call-ID", 0)))
		rp_copy(s->callid, sizeof(s->callid), h->val, h->vlen);
	if ((h = rp_sip_hdr(s, "From", 0))) {
		rp_param(h->val, h->vlen, "tag", s->ftag, sizeof(s->ftag));
		rp_aor(h->val, h->vlen, s->from_aor, sizeof(s->from_aor));
	}
	if ((h = rp_sip_hdr(s, "To", 0))) {
		rp_param(h->val, h->vlen, "tag", s->ttag, sizeof(s->ttag));
		rp_aor(h->val, h->vlen, s->to_aor, sizeof(s->to_aor));
	}
	if ((h = rp_sip_hdr(s, "CSeq", 0))) {
		rp_copy(cseq, sizeof(cseq), h->val, h->vlen);
		s->cseq = (uint32_t)strtoul(cseq, NULL, 10);
		if (!s->req) {
			const char *m = strchr(cseq, ' ');

			while (m && *m == ' ')
				m++;
			rp_copy(s->method, sizeof(s->method), m ? m : "", m ? strlen(m) : 0);
		}
	}
	if ((h = rp_sip_hdr(s, "Via", 0)))
		rp_param(h->val, h->vlen, "branch", s->branch, sizeof(s->branch));
	if (s->req)
		rp_aor(s->ruri, s->rurilen, s->ruri_aor, sizeof(s->ruri_aor));
	return s->callid[0] && s->cseq ? 0 : EBADMSG;
}

/* A header name as written ends at its colon (or is a canonical literal). */
static bool rp_name_is(const char *n, const char *want)
{
	size_t wl = strlen(want);

	if (strncasecmp(n, want, wl))
		return false;
	return n[wl] == '\0' || n[wl] == ':' || n[wl] == ' ' || n[wl] == '\t';
}

const struct rp_hdr *rp_sip_hdr(const struct rp_sip *s, const char *name, int idx)
{
	int i;

	for (i = 0; i < s->nh; i++) {
		if (rp_name_is(s->h[i].name, name) && idx-- == 0)
			return &s->h[i];
	}
	return NULL;
}

int rp_sip_hdr_count(const struct rp_sip *s, const char *name)
{
	int i, n = 0;

	for (i = 0; i < s->nh; i++)
		n += rp_name_is(s->h[i].name, name);
	return n;
}

int rp_sip_values(const struct rp_sip *s, const char *name, const char **v, size_t *vl, int max)
{
	int i, n = 0;

	for (i = 0; i < s->nh; i++) {
		const char *p, *e, *start;
		bool inq = false, inang = false;

		if (!rp_name_is(s->h[i].name, name))
			continue;
		p = start = s->h[i].val;
		e = p + s->h[i].vlen;
		for (; p <= e; p++) {
			if (p < e && *p == '"')
				inq = !inq;
			if (p < e && !inq && *p == '<')
				inang = true;
			if (p < e && !inq && *p == '>')
				inang = false;
			if (p == e || (*p == ',' && !inq && !inang)) {
				const char *a = start, *b = p;

				while (a < b && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n'))
					a++;
				while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
					b--;
				if (b > a && n < max) {
					v[n] = a;
					vl[n] = (size_t)(b - a);
					n++;
				}
				start = p + 1;
			}
		}
	}
	return n;
}
