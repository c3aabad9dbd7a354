/* sipscan: a tolerant look at a SIP message, with no libosip2: finds the fields a response
 * needs and the defects RFC 4475 lists, so a message the parser refuses can still be answered. */
#ifndef PIC_SIPSCAN_H
#define PIC_SIPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIPSCAN_VIA_MAX 16
/* Our answer stays well within a peer's header limit (16 KB here and commonly): a From, To,
 * Call-ID or Via longer than this is not echoed as found but in its neutral form, a tag or
 * branch longer than SIPSCAN_ID_MAX left out, and a request whose CSeq is longer than
 * SIPSCAN_ID_MAX is not answered (issue 11). */
#define SIPSCAN_ECHO_MAX 1024u
#define SIPSCAN_ID_MAX 256u

/* A view into the scanned buffer (not NUL-terminated). */
struct sipscan_pl {
	const char *p;
	size_t l;
};

/* What sipscan_parse found. Every view points into the buffer given to it, which must outlive
 * the scan. A plain struct so the hot path scans on the stack without allocating. */
struct sipscan {
	bool request;
	struct sipscan_pl method;            /* request method */
	struct sipscan_pl ruri;              /* Request-URI as written */
	int status;                          /* response status, 0 for a request */
	struct sipscan_pl via[SIPSCAN_VIA_MAX]; /* Via header field values, top first */
	int nvia;
	struct sipscan_pl from, to, callid, cseq; /* first of each (len 0: absent) */
	bool from_bad, to_bad;               /* malformed: a response carries a clean form */
	uint64_t cseq_num;
	struct sipscan_pl cseq_method;
	size_t body_len;                     /* bytes after the empty line */
	int defect;                          /* 0, or the status RFC 4475 calls for: 400/416/505 */
	char why[160];                       /* the defect in words, for a Warning */
};

/* Scans buf. Returns EBADMSG when there is no start line or no header end at all (nothing
 * can be answered), else 0 with sc filled; sc->defect names the first problem found:
 *   505  SIP-Version not 2.0 (Request-Line or top Via; RFC 3261 8.2.2.. 21.5.6)
 *   416  Request-URI scheme other than sip/sips (RFC 3261 16.3 step 1)
 *   400  extra or missing whitespace in the Request-Line, <> around or headers in the
 *        Request-URI, empty Via parameters, a bare magic-cookie branch, missing From/To/
 *        Call-ID/CSeq, conflicting duplicates of single-value headers, CSeq out of range
 *        (2^31, RFC 3261 8.1.1.5) or naming another method, a bad Max-Forwards or
 *        Content-Length, a body shorter than Content-Length, unbalanced quotes, spaces
 *        inside <addr-spec>, unquoted non-token display names, a Contact addr-spec with
 *        headers, a Date not in GMT, a header line without a colon. */
int sipscan_parse(struct sipscan *sc, const char *buf, size_t len);

/* A response can be addressed: a request with a top Via of SIP-ish sent-protocol and a
 * sent-by, and a CSeq of a number and a method token (SIPSCAN_ID_MAX bytes at most). */
bool sipscan_answerable(const struct sipscan *sc);

/* Builds a response to the scanned request (RFC 3261 8.2.6.2: Via, From, To, Call-ID, CSeq
 * copied as found, folded lines joined). What we send must itself be well-formed, so empty
 * Via parameters are left out, a malformed From/To becomes <its SIP URI>;tag=..., and a
 * missing From/To/Call-ID is written in the anonymous form of RFC 3261 8.1.1.3 (a response
 * is matched by its Via branch and CSeq anyway). Then status, reason (NULL: a standard phrase), a To tag
 * when to_tag is set and To has none, and when warning is set a Warning (RFC 3261 20.43)
 * "399 <agent> \"<warning>\"". *bufp is a mem object, NUL-terminated. */
int sipscan_response(const struct sipscan *sc, int status, const char *reason,
		     const char *agent, const char *warning, const char *to_tag, char **bufp,
		     size_t *lenp);

#endif
