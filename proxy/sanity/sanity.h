/* sanity: what may cross inward from outside (issue 11): every header field and the body of a
 * message held to the RFC 3261 grammar, at least as strictly as Kamailio's sanity module, so
 * that the inside network, which trusts what the edge lets through, sees nothing malformed. */
#ifndef AP_SANITY_H
#define AP_SANITY_H

#include <stddef.h>

struct sipscan;

/* buf (len bytes) is one message the scanner read without a defect (sc). Checks, and refuses
 * with 400 and a reason naming the header and the fault:
 *   every header: no control byte (NUL, ESC, BS, DEL, a bare CR...), 8-bit bytes only as
 *     valid UTF-8, and in structured headers only inside quoted strings;
 *   Request-URI (sip/sips: user part, host, port, parameters; no headers);
 *   every Via: SIP/2.0/transport, sent-by host syntax and port 1..65535, received, maddr,
 *     ttl, rport values, parameters;
 *   From, To, Contact, Route, Record-Route: parsable name-addr / addr-spec (a display name
 *     needs a <URI>, no empty user part before '@', a URI scheme that is a scheme name), tag
 *     a token, Contact expires a number of seconds;
 *   Call-ID: word ["@" word] of the RFC 3261 word characters;
 *   CSeq method a token; Expires and Min-Expires 0..2^32-1 (RFC 3261 20.19);
 *   Content-Type type/subtype; Proxy-Require, Require, Supported, Unsupported, Allow lists of
 *     tokens; Event and Subscription-State a token with parameters;
 *   a body has a Content-Type, and a textual one (text/ *, application/sdp, XML, JSON) holds no
 *     NUL or other control byte.
 * Returns 0 or 400 (why filled, NUL-terminated; it quotes no byte of the message). */
int sanity_check(const char *buf, size_t len, const struct sipscan *sc, char *why, size_t wsz);

#endif
