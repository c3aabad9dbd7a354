/* sipmime: finds what libosip2's MIME body parser mishandles, by plain line scanning. */
#include <string.h>
#include <strings.h>

#include "sip/sipmime.h"

/* True if the line [p, end) is a header named name (any case, blanks before the colon). */
static bool sipmime_is_header(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(end - p) < n || strncasecmp(p, name, n))
		return false;
	for (p += n; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < end && *p == ':';
}

/* A body part header libosip2 takes for a Content-Type: it compares only the first 12 bytes
 * of the name, so "Content-Typesetting: x" counts too. */
static bool sipmime_names_type(const char *p, const char *end)
{
	return end - p >= 12 && !strncasecmp(p, "Content-Type", 12) &&
	       memchr(p, ':', (size_t)(end - p)) != NULL;
}

/* Next line of [p, end): its end (without CR LF) into *le; returns the start of the next. */
static const char *sipmime_line(const char *p, const char *end, const char **le)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;

	if (e > p && e[-1] == '\r')
		e--;
	*le = e;
	return nl ? nl + 1 : end;
}

bool sipmime_dup_part_type(const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *le, *next;
	bool multipart = false, in_part_head = false;
	unsigned ntype = 0;

	if (!msg)
		return false;
	/* the message's own header: is it multipart at all? */
	for (; p < end; p = next) {
		next = sipmime_line(p, end, &le);
		if (le == p)
			break; /* the empty line */
		if ((sipmime_is_header(p, le, "Content-Type") || sipmime_is_header(p, le, "c")) &&
		    memmem(p, (size_t)(le - p), "ultipart", 8))
			multipart = true;
	}
	if (!multipart || p >= end)
		return false;
	for (p = next; p < end; p = next) {
		next = sipmime_line(p, end, &le);
		if (le - p >= 2 && p[0] == '-' && p[1] == '-') {
			in_part_head = true;
			ntype = 0;
		} else if (in_part_head && le == p) {
			in_part_head = false;
		} else if (in_part_head && sipmime_names_type(p, le) && ++ntype > 1) {
			return true;
		}
	}
	return false;
}
