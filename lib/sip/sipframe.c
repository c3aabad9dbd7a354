/* sipframe: finds SIP message boundaries on a stream (RFC 3261 18.3) without copying. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "sip/sipframe.h"

#define LOG_MODULE "sipframe"

static const struct sipframe_limits sipframe_defaults = {
	.max_head = SIPFRAME_DEFAULT_MAX_HEAD,
	.max_body = SIPFRAME_DEFAULT_MAX_BODY,
};

/* RFC 3261 25.1: token characters. */
static bool sipframe_is_token(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-.!%*_+`'~", c) != NULL;
}

static bool sipframe_is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool sipframe_is_ver(const char *p)
{
	return (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' &&
	       p[3] == '/' && p[4] == '2' && p[5] == '.' && p[6] == '0';
}

/* Judges a start line, complete (len excludes CRLF) or still arriving (partial): returns
 * false only when no amount of further bytes could make it a Request-Line or Status-Line
 * (RFC 3261 7.1, 7.2). */
static bool sipframe_startline_ok(const char *p, size_t len, bool partial, bool lenient)
{
	size_t i, sp1 = 0, sp2 = 0;

	if (partial && len && p[len - 1] == '\r')
		len--; /* the CR of the line end, its LF still to come */
	/* lenient: anything but binary (a TLS record: two control bytes first) may still frame,
	 * control bytes in the line included (a NUL for a method, in the Request-URI): the
	 * receiver judges the line (sipframe_names_sip decides how) and answers 400 on a
	 * connection kept (issue 11 item 2) */
	if (lenient)
		return len < 2 || !sipframe_is_ctl((unsigned char)p[0]) ||
		       !sipframe_is_ctl((unsigned char)p[1]);
	for (i = 0; i < len; i++)
		if (sipframe_is_ctl((unsigned char)p[i]))
			return false;
	/* Method (or "SIP/2.0") up to the first SP. */
	for (i = 0; i < len && p[i] != ' '; i++)
		if (!sipframe_is_token((unsigned char)p[i]) && p[i] != '/')
			return false;
	if (i == len)
		return partial && len < 32;
	sp1 = i;
	if (sp1 == 7 && sipframe_is_ver(p)) {
		/* Status-Line: SIP/2.0 SP 3DIGIT SP Reason-Phrase */
		for (i = 8; i < 11 && i < len; i++)
			if (p[i] < '0' || p[i] > '9')
				return false;
		if (i < 11)
			return partial;
		return len == 11 ? partial : p[11] == ' ';
	}
	if (sp1 == 0 || memchr(p, '/', sp1))
		return false;
	/* Request-URI: no SP inside, then SP "SIP/2.0" and the end of the line. */
	for (i = sp1 + 1; i < len && p[i] != ' '; i++)
		;
	if (i == len)
		return partial;
	sp2 = i;
	if (sp2 == sp1 + 1)
		return false;
	if (partial)
		return len - sp2 - 1 <= 7; /* the version is still arriving */
	return len - sp2 - 1 == 7 && sipframe_is_ver(p + sp2 + 1);
}

/* Does a start line name a SIP version anywhere ("SIP/")? */
static bool sipframe_names_sip(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (!strncasecmp(p + i, "SIP/", 4))
			return true;
	return false;
}

/* Header name (RFC 3261 7.3.1: case-insensitive, compact form "l", 20). */
static bool sipframe_is_clen(const char *name, size_t n)
{
	return (n == 1 && (name[0] | 0x20) == 'l') ||
	       (n == 14 && strncasecmp(name, "content-length", 14) == 0);
}

/* Parses the value of a Content-Length field starting after its colon, up to the end of the
 * field (its last line's CR at fend). LWS, including folded lines, may surround the digits. */
static int sipframe_clen_value(const char *p, const char *fend, size_t max, size_t *valp)
{
	size_t v = 0, nd = 0;

	while (p < fend && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	for (; p < fend && *p >= '0' && *p <= '9'; p++, nd++) {
		if (v <= max)
			v = v * 10 + (size_t)(*p - '0');
	}
	while (p < fend && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	if (nd == 0 || p != fend)
		return EBADMSG;
	*valp = v > max ? max + 1 : v;
	return 0;
}

/* Walks the header fields between the start line and the empty line (hend points at its CR),
 * looking for Content-Length: EBADMSG when it is missing or a line is broken, EPROTO when its
 * value is bad or duplicates conflict (RFC 3261 20.14). */
static int sipframe_find_clen(const char *p, const char *hend, size_t max, bool lenient,
			      size_t *clenp)
{
	bool found = false;
	size_t clen = 0;

	while (p < hend) {
		const char *name = p, *colon, *fend;
		size_t nlen, v;
		int err;

		/* The field ends at a CRLF not followed by SP/HT (folding, RFC 3261 7.3.1). */
		fend = p;
		for (;;) {
			fend = lenient ? memmem(fend, (size_t)(hend - fend) + 2, "\r\n", 2) :
					 memchr(fend, '\r', (size_t)(hend - fend) + 2);
			if (!fend || fend[1] != '\n')
				return EBADMSG;
			if (fend == hend || (fend[2] != ' ' && fend[2] != '\t'))
				break;
			fend += 2;
		}
		for (colon = name; colon < fend && sipframe_is_token((unsigned char)*colon); colon++)
			;
		nlen = (size_t)(colon - name);
		while (colon < fend && (*colon == ' ' || *colon == '\t'))
			colon++;
		if (nlen == 0 || colon == fend || *colon != ':') {
			if (!lenient)
				return EBADMSG;
			p = fend + 2; /* a broken line: the receiver refuses it with 400 */
			continue;
		}
		if (sipframe_is_clen(name, nlen)) {
			err = sipframe_clen_value(colon + 1, fend, max, &v);
			if (err)
				return EPROTO;
			if (found && v != clen)
				return EPROTO;
			clen = v;
			found = true;
		}
		p = fend + 2;
	}
	if (!found)
		return EBADMSG;
	*clenp = clen;
	return 0;
}

int sipframe_next(const struct sipframe_limits *lim, const char *data, size_t avail,
		  size_t *skip, size_t *msglen)
{
	return sipframe_scan(lim, data, avail, skip, msglen, NULL);
}

int sipframe_scan(const struct sipframe_limits *lim, const char *data, size_t avail,
		  size_t *skip, size_t *msglen, size_t *need)
{
	const char *p, *eol, *hend;
	size_t s = 0, n, win, head, clen = 0, cmax;
	int err;

	if (!lim)
		lim = &sipframe_defaults;
	if (!data || !skip || !msglen)
		return EINVAL;
	if (need)
		*need = 0;
	*msglen = 0;
	/* RFC 5626 3.5.1 keep-alives: CRLFCRLF pings and CRLF pongs between messages. */
	while (s < avail && (data[s] == '\r' || data[s] == '\n'))
		s++;
	*skip = s;
	p = data + s;
	n = avail - s;
	if (n == 0)
		return EAGAIN;

	win = n < lim->max_head ? n : lim->max_head;
	eol = memchr(p, '\n', win);
	if (!eol) {
		if (!sipframe_startline_ok(p, win, true, lim->lenient))
			return EBADMSG;
		return n >= lim->max_head ? EMSGSIZE : EAGAIN;
	}
	if (eol == p || eol[-1] != '\r' ||
	    !sipframe_startline_ok(p, (size_t)(eol - 1 - p), false, lim->lenient))
		return EBADMSG;

	/* The empty line may begin right after the start line (a message with no headers, which
	 * then lacks Content-Length and is refused below). */
	hend = memmem(eol - 1, win - (size_t)(eol - 1 - p), "\r\n\r\n", 4);
	if (!hend)
		return n >= lim->max_head ? EMSGSIZE : EAGAIN;
	head = (size_t)(hend + 4 - p);
	hend += 2;
	cmax = lim->max_body > lim->max_discard ? lim->max_body : lim->max_discard;
	if (lim->lenient && !sipframe_names_sip(p, (size_t)(eol - p)) &&
	    (hend == eol + 1 || sipframe_find_clen(eol + 1, hend, cmax, true, &clen))) {
		/* a line of text that is no SIP start line, up to an empty line: stray bytes
		 * (say, the tail of a body whose Content-Length was short, RFC 4475 3.1.1.8),
		 * handed over for the receiver to drop without losing the connection */
		*msglen = head;
		return 0;
	}
	if (hend == eol + 1)
		return EBADMSG;
	err = sipframe_find_clen(eol + 1, hend, cmax, lim->lenient, &clen);
	if (err == EPROTO && lim->lenient) {
		/* framing is lost: what has arrived goes as one message, to be refused */
		*msglen = n;
		return 0;
	}
	if (err)
		return EBADMSG;
	if (clen > lim->max_body) {
		*msglen = head;
		if (need)
			*need = clen;
		return EMSGSIZE;
	}
	if (n - head < clen) {
		if (need)
			*need = head + clen;
		return EAGAIN;
	}
	*msglen = head + clen;
	return 0;
}
