/* sipframe: message boundaries on a SIP stream (RFC 3261 18.3): header, CRLFCRLF, Content-Length. */
#ifndef PIC_SIPFRAME_H
#define PIC_SIPFRAME_H

#include <stdbool.h>
#include <stddef.h>

#define SIPFRAME_DEFAULT_MAX_HEAD 16384
#define SIPFRAME_DEFAULT_MAX_BODY 65536

struct sipframe_limits {
	size_t max_head; /* bytes up to and including CRLFCRLF */
	size_t max_body; /* Content-Length value */
	/* Lenient (a proxy that answers what it can, RFC 4475): any start line of text naming
	 * "SIP/" frames (extra spaces, another version), and a header with a bad or conflicting
	 * Content-Length is handed over with every byte available (the rest of that "datagram",
	 * RFC 4475 3.1.2.3, 3.3.9) for the receiver to refuse with 400. Off: such input is
	 * EBADMSG. */
	bool lenient;
	/* A body over max_body but within this many bytes can be read and dropped by the
	 * receiver (the connection survives, issue 11); 0: none. Only sizes the Content-Length
	 * reported with EMSGSIZE. */
	size_t max_discard;
};

/* Looks at the first avail bytes of a stream buffer. Leading CRLFs (keep-alives, RFC 5626 3.5.1)
 * are counted into *skip and must be discarded by the caller. Returns:
 *   0        a complete message of *msglen bytes starts at data + *skip;
 *   EAGAIN   more bytes are needed (nothing wrong yet);
 *   EMSGSIZE the header or the declared body exceeds the limits: when the header is complete
 *            and only the body is too large, *msglen is the header's length and (with
 *            sipframe_scan) *need the declared body length (max(max_body, max_discard) + 1
 *            when larger still); when the header itself is too large, *msglen is 0;
 *   EBADMSG  the bytes are not SIP (no start line of "SIP/2.0 " or "METHOD uri SIP/2.0"),
 *            or the header has no valid Content-Length (mandatory on streams).
 * Lenient framing holds whenever it can: a start line of any bytes but two leading control
 * bytes (binary, a TLS record), header lines that are not "name: value" (skipped), as long
 * as one Content-Length gives the message its end; only then can the receiver answer 400 and
 * read the next one.
 * lim may be NULL for the defaults. */
int sipframe_next(const struct sipframe_limits *lim, const char *data, size_t avail,
		  size_t *skip, size_t *msglen);
/* As sipframe_next; on EAGAIN, *need (if not NULL) is how many bytes from data + *skip must be
 * available before a new call can succeed: the whole message's size once its header is in
 * (so a stream reader can wait for the body without rescanning), else 0 (unknown). */
int sipframe_scan(const struct sipframe_limits *lim, const char *data, size_t avail,
		  size_t *skip, size_t *msglen, size_t *need);

#endif
