/* sipmsg: the libosip2 adapter — decode, inspect, edit, encode. The only file that sees osip. */
#ifndef PIC_SIPMSG_H
#define PIC_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sipmsg;

enum sipmsg_uri_of { SIPMSG_RURI = 0, SIPMSG_FROM, SIPMSG_TO, SIPMSG_CONTACT };

/* Parses one complete message. EBADMSG when libosip2 refuses it or a mandatory header
 * (Via, From, To, Call-ID, CSeq) is missing; ENOMEM. *mp is a mem object. */
int sipmsg_decode(struct sipmsg **mp, const char *buf, size_t len);
/* Serialises into a mem-allocated, NUL-terminated buffer; Content-Length is recomputed. */
int sipmsg_encode(const struct sipmsg *m, char **bufp, size_t *lenp);

bool sipmsg_is_request(const struct sipmsg *m);
/* Request method, or for a response the CSeq method. */
const char *sipmsg_method(const struct sipmsg *m);
int sipmsg_status(const struct sipmsg *m);            /* 0 for requests */
const char *sipmsg_reason(const struct sipmsg *m);    /* "" for requests */
const char *sipmsg_callid(const struct sipmsg *m);
uint32_t sipmsg_cseq(const struct sipmsg *m);
const char *sipmsg_from_tag(const struct sipmsg *m);  /* "" if none */
const char *sipmsg_to_tag(const struct sipmsg *m);    /* "" if none */

/* User and host of a URI (Request-URI, From, To or first Contact). Returns ENOENT if absent.
 * Pointers are borrowed from the message; user may be "". */
int sipmsg_uri(const struct sipmsg *m, enum sipmsg_uri_of which, const char **user,
	       const char **host);
/* Whole URI as text into buf ("sip:bob@aol.test"). */
int sipmsg_uri_str(const struct sipmsg *m, enum sipmsg_uri_of which, char *buf, size_t size);
/* Replaces the Request-URI. */
int sipmsg_set_ruri(struct sipmsg *m, const char *uri);

/* Generic headers (not Via/From/To/Call-ID/CSeq/Content-Length/Content-Type/Max-Forwards/
 * Route/Record-Route/Contact, which have their own calls or are handled by osip):
 * value of the idx-th header of that name (case-insensitive), or NULL. */
const char *sipmsg_header(const struct sipmsg *m, const char *name, int idx);
int sipmsg_header_count(const struct sipmsg *m, const char *name);
int sipmsg_header_add(struct sipmsg *m, const char *name, const char *value);
/* Removes every header of that name; returns how many went through *np (may be NULL). */
int sipmsg_header_remove(struct sipmsg *m, const char *name, int *np);

/* Via stack (RFC 3261 8.1.1.7, 16.6 step 8, 16.7 step 3). */
int sipmsg_via_count(const struct sipmsg *m);
/* Adds a Via on top: "SIP/2.0/<transport> <host>:<port>;branch=<branch>". */
int sipmsg_via_push(struct sipmsg *m, const char *transport, const char *host, uint16_t port,
		    const char *branch);
/* Removes the top Via. ENOENT if none. */
int sipmsg_via_pop(struct sipmsg *m);
/* Top Via's branch / sent-by host / received param; borrowed, NULL if absent. */
const char *sipmsg_via_branch(const struct sipmsg *m, int idx);
const char *sipmsg_via_host(const struct sipmsg *m, int idx);

/* Max-Forwards (RFC 3261 16.3 step 3): -1 when absent. */
int sipmsg_max_forwards(const struct sipmsg *m);
int sipmsg_set_max_forwards(struct sipmsg *m, int value);

/* Route / Record-Route: count, idx-th as text, push on top, pop top. */
int sipmsg_route_count(const struct sipmsg *m, bool record);
int sipmsg_route_str(const struct sipmsg *m, bool record, int idx, char *buf, size_t size);
int sipmsg_route_push(struct sipmsg *m, bool record, const char *uri);
int sipmsg_route_pop(struct sipmsg *m, bool record);
/* Contact: count and removal of all (topology hiding) and add. */
int sipmsg_contact_count(const struct sipmsg *m);
int sipmsg_contact_remove_all(struct sipmsg *m);
int sipmsg_contact_add(struct sipmsg *m, const char *value);

/* Body and its type ("" and 0 when none). */
const char *sipmsg_body(const struct sipmsg *m, size_t *lenp);
const char *sipmsg_content_type(const struct sipmsg *m, char *buf, size_t size);
int sipmsg_set_body(struct sipmsg *m, const char *type, const char *body, size_t len);

/* A response to req per RFC 3261 8.2.6.2: Via, From, To (a To tag is added when to_tag is set
 * and the request had none), Call-ID, CSeq copied; reason NULL uses the standard phrase. */
int sipmsg_response_alloc(struct sipmsg **rp, const struct sipmsg *req, int status,
			  const char *reason, const char *to_tag);
/* Standard reason phrase for a status code ("Not Found"), or "Unknown". */
const char *sipmsg_reason_phrase(int status);

/* Would libosip2 accept this header field (name, value of len bytes) in a message? Used to
 * check what we echo of a malformed request in our own answer (issue 11 item 3). */
bool sipmsg_header_parses(const char *name, const char *value, size_t len);

/* Random token suitable for tags, Call-IDs and branches (after "z9hG4bK"). */
void sipmsg_random_token(char *buf, size_t size);

#endif
