/* wire: edits of an encoded SIP message's header lines (what sipmsg cannot express: Call-ID
 * values, whole Via lines kept aside and put back, lines naming internal hosts). */
#ifndef AP_WIRE_H
#define AP_WIRE_H

#include <stddef.h>

/* Every function works on *bufp (a mem string of *lenp bytes, NUL-terminated, as sipmsg_encode
 * makes it), replacing it with a new one on success; only the header section is touched, the
 * body is carried over byte for byte. Header names match case-insensitively, in full or in
 * their compact form (RFC 3261 7.3.3; compact may be NULL). */

/* Removes the header lines of name after the first keep ones; the removed lines (each with its
 * CRLF, in order) are appended to *cutp (a mem string, allocated when NULL) when cutp is set.
 * *np (may be NULL) counts them. */
int wire_cut(char **bufp, size_t *lenp, const char *name, const char *compact, unsigned keep,
	     char **cutp, unsigned *np);
/* Inserts lines (complete "Name: value\r\n" lines) after the last line of header after, or
 * right after the start line when after is NULL or absent. */
int wire_insert(char **bufp, size_t *lenp, const char *after, const char *compact,
		const char *lines);
/* Replaces the value of the first header line of name. ENOENT if there is none. */
int wire_replace(char **bufp, size_t *lenp, const char *name, const char *compact,
		 const char *value);
/* Value of the first header line of name into buf (trimmed). ENOENT if none. */
int wire_value(const char *buf, size_t len, const char *name, const char *compact, char *out,
	       size_t size);
/* Removes every header line, except the start line and the ones named in keep (a NULL-ended
 * list of full names), that contains one of needles (NULL-ended; case-insensitive). *np (may
 * be NULL) counts the lines removed; *kept_hit tells whether a kept line still holds one. */
int wire_scrub(char **bufp, size_t *lenp, const char *const *needles, const char *const *keep,
	       unsigned *np, int *kept_hit);

#endif
