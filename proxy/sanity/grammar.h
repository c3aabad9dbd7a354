/* grammar: the pieces of the RFC 3261 25.1 ABNF the sanity checks hold a value to (token,
 * host, SIP URI, name-addr, word, media type), judged on a view of the raw bytes. */
#ifndef AP_GRAMMAR_H
#define AP_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view into a message (not NUL-terminated). */
struct grammar_pl {
	const char *p;
	size_t l;
};

/* Every function below returns NULL when v matches, else a short English phrase saying what
 * is wrong ("host is not a host name or IP address"), for a 400's reason. */

bool grammar_is_token_char(unsigned char c);
const char *grammar_token(struct grammar_pl v);
/* host = hostname / IPv4address / IPv6reference (RFC 3261 25.1, RFC 1123 labels). */
const char *grammar_host(struct grammar_pl v);
/* hostport: host [":" port], port 1..65535. */
const char *grammar_hostport(struct grammar_pl v);
/* Decimal digits only, value <= max (no sign, no blank; leading zeros allowed). */
const char *grammar_uint(struct grammar_pl v, uint64_t max);
/* A URI in an addr-spec or the Request-URI: SIP-URI / SIPS-URI (strict: userinfo not empty
 * when '@' is there, user and parameter characters, host, port; headers only if
 * allow_headers) or another absoluteURI (scheme, then URI characters). */
const char *grammar_uri(struct grammar_pl v, bool allow_headers);
/* name-addr / addr-spec followed by ;params (From, To, Contact, Route values; route: the
 * URI must be in <>). tag and expires parameters are checked too. */
const char *grammar_addr(struct grammar_pl v, bool route);
/* callid = word ["@" word] (RFC 3261 20.8), each word not empty. */
const char *grammar_callid(struct grammar_pl v);
/* media-type = type "/" subtype *(";" token "=" (token / quoted-string)) (RFC 3261 20.15). */
const char *grammar_media_type(struct grammar_pl v);
/* token *( ";" generic-param ) (Event, Subscription-State...); expires params are checked. */
const char *grammar_token_params(struct grammar_pl v);
/* One Via value: "SIP" "/" "2.0" "/" transport LWS sent-by *(";" via-params). */
const char *grammar_via(struct grammar_pl v);

/* Splits a header value at commas outside quotes and <>; calls fn on each trimmed element
 * until fn returns non-NULL, which is returned. An empty element is an error. */
const char *grammar_each(struct grammar_pl v, const char *(*fn)(struct grammar_pl, void *),
			 void *arg);

#endif
