/* grammar: RFC 3261 25.1 productions, judged on raw views, each failure named in words. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "grammar.h"

#define G_SEP " \t\r\n"

static bool g_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool g_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool g_alnum(unsigned char c)
{
	return g_alpha(c) || g_digit(c);
}

static bool g_hex(unsigned char c)
{
	return g_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static bool g_ws(unsigned char c)
{
	return c && strchr(G_SEP, c) != NULL;
}

/* unreserved = alphanum / mark (RFC 3261 25.1) */
static bool g_unreserved(unsigned char c)
{
	return g_alnum(c) || (c && strchr("-_.!~*'()", c));
}

static struct grammar_pl g_trim(struct grammar_pl v)
{
	while (v.l && g_ws((unsigned char)v.p[0])) {
		v.p++;
		v.l--;
	}
	while (v.l && g_ws((unsigned char)v.p[v.l - 1]))
		v.l--;
	return v;
}

static struct grammar_pl g_sub(const char *a, const char *b)
{
	return (struct grammar_pl){ a, (size_t)(b - a) };
}

bool grammar_is_token_char(unsigned char c)
{
	return g_alnum(c) || (c && strchr("-.!%*_+`'~", c));
}

const char *grammar_token(struct grammar_pl v)
{
	size_t i;

	if (!v.l)
		return "empty token";
	for (i = 0; i < v.l; i++)
		if (!grammar_is_token_char((unsigned char)v.p[i]))
			return "a character that is not allowed in a token";
	return NULL;
}

/* Characters of a URI part: unreserved, escaped (%HH) or one of extra. */
static const char *g_chars(struct grammar_pl v, const char *extra, const char *what)
{
	size_t i;

	for (i = 0; i < v.l; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (c == '%') {
			if (i + 2 >= v.l || !g_hex((unsigned char)v.p[i + 1]) ||
			    !g_hex((unsigned char)v.p[i + 2]))
				return "a bad %-escape in the URI";
			/* grammatical, but a NUL in a name: parsers unescape it and cut the part
			 * short (libosip2 forwards "sip:%00@h" as "sip:@h") */
			if (v.p[i + 1] == '0' && v.p[i + 2] == '0')
				return "an escaped NUL (%00) in the URI";
			i += 2;
		} else if (!g_unreserved(c) && !(c && strchr(extra, c))) {
			return what;
		}
	}
	return NULL;
}

const char *grammar_uint(struct grammar_pl v, uint64_t max)
{
	uint64_t n = 0;
	size_t i;

	if (!v.l)
		return "an empty number";
	for (i = 0; i < v.l; i++) {
		if (!g_digit((unsigned char)v.p[i]))
			return "not a decimal number";
		if (n > (UINT64_MAX - 9) / 10)
			return "a number out of range";
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	return n > max ? "a number out of range" : NULL;
}

static bool g_ipv4(struct grammar_pl v)
{
	size_t i, nd = 0, parts = 1;
	unsigned val = 0;

	for (i = 0; i < v.l; i++) {
		if (v.p[i] == '.') {
			if (!nd || ++parts > 4)
				return false;
			nd = 0;
			val = 0;
		} else if (g_digit((unsigned char)v.p[i]) && nd < 3) {
			val = val * 10 + (unsigned)(v.p[i] - '0');
			if (val > 255)
				return false;
			nd++;
		} else {
			return false;
		}
	}
	return parts == 4 && nd;
}

static bool g_ipv6(struct grammar_pl v)
{
	char buf[64];
	unsigned char a[16];

	if (v.l == 0 || v.l >= sizeof(buf))
		return false;
	memcpy(buf, v.p, v.l);
	buf[v.l] = '\0';
	return inet_pton(AF_INET6, buf, a) == 1;
}

/* hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alphanum and inner '-';
 * toplabel starts with a letter (which also tells a name from a bad IPv4 address). */
static bool g_hostname(struct grammar_pl v)
{
	size_t i, start = 0, last = 0, len;

	if (v.l && v.p[v.l - 1] == '.')
		v.l--;
	if (!v.l || v.l > 253)
		return false;
	for (i = 0; i <= v.l; i++) {
		if (i < v.l && v.p[i] != '.') {
			if (!g_alnum((unsigned char)v.p[i]) && v.p[i] != '-')
				return false;
			continue;
		}
		len = i - start;
		if (!len || len > 63 || v.p[start] == '-' || v.p[i - 1] == '-')
			return false;
		last = start;
		start = i + 1;
	}
	return g_alpha((unsigned char)v.p[last]);
}

const char *grammar_host(struct grammar_pl v)
{
	if (!v.l)
		return "an empty host";
	if (v.p[0] == '[')
		return v.l > 2 && v.p[v.l - 1] == ']' && g_ipv6(g_sub(v.p + 1, v.p + v.l - 1)) ?
		       NULL : "a bad IPv6 reference as host";
	if (g_ipv4(v) || g_hostname(v))
		return NULL;
	return "a host that is neither a host name nor an IP address";
}

const char *grammar_hostport(struct grammar_pl v)
{
	const char *colon = NULL, *e;

	if (v.l && v.p[0] == '[') {
		e = memchr(v.p, ']', v.l);
		if (e && e + 1 < v.p + v.l) {
			if (e[1] != ':')
				return "junk after the IPv6 reference";
			colon = e + 1;
		}
	} else {
		colon = memchr(v.p, ':', v.l);
	}
	if (!colon)
		return grammar_host(v);
	if (grammar_uint(g_sub(colon + 1, v.p + v.l), 65535) || colon + 1 == v.p + v.l)
		return "a port that is not a number from 1 to 65535";
	if (grammar_uint(g_sub(colon + 1, v.p + v.l), 0) == NULL)
		return "port 0";
	return grammar_host(g_sub(v.p, colon));
}

/* SIP-URI / SIPS-URI after "sip:" (RFC 3261 19.1.1, 25.1). */
static const char *g_sip_uri(struct grammar_pl v, bool allow_headers)
{
	const char *end = v.p + v.l, *q = memchr(v.p, '?', v.l), *at, *semi, *colon, *err;
	const char *at2;

	if (q) {
		if (!allow_headers)
			return "headers in a URI where none are allowed";
		if ((err = g_chars(g_sub(q + 1, end), "[]/?:+$=&", "a bad URI header")))
			return err;
		end = q;
	}
	at = memchr(v.p, '@', (size_t)(end - v.p));
	if (at) {
		at2 = memchr(at + 1, '@', (size_t)(end - at - 1));
		if (at2)
			return "more than one '@' in the URI";
		if (at == v.p)
			return "an empty user part before '@'";
		colon = memchr(v.p, ':', (size_t)(at - v.p));
		if ((err = g_chars(g_sub(v.p, colon ? colon : at), "&=+$,;?/",
				   "a character not allowed in the URI user part")))
			return err;
		if (colon == v.p)
			return "an empty user part before '@'";
		if (colon && (err = g_chars(g_sub(colon + 1, at), "&=+$,",
					    "a character not allowed in the URI password")))
			return err;
		v = g_sub(at + 1, end);
	} else {
		v = g_sub(v.p, end);
	}
	semi = memchr(v.p, ';', v.l);
	if ((err = grammar_hostport(g_sub(v.p, semi ? semi : v.p + v.l))))
		return err;
	while (semi) {
		const char *next = memchr(semi + 1, ';', (size_t)(v.p + v.l - semi - 1));
		struct grammar_pl prm = g_sub(semi + 1, next ? next : v.p + v.l);
		const char *eq = memchr(prm.p, '=', prm.l);

		if (!prm.l || eq == prm.p)
			return "an empty URI parameter";
		if ((err = g_chars(prm, "[]/:&+$=", "a character not allowed in a URI parameter")))
			return err;
		if (eq && memchr(eq + 1, '=', (size_t)(prm.p + prm.l - eq - 1)))
			return "a URI parameter with two '='";
		semi = next;
	}
	return NULL;
}

const char *grammar_uri(struct grammar_pl v, bool allow_headers)
{
	const char *colon = memchr(v.p, ':', v.l);
	size_t i, n;

	if (!colon)
		return "a URI without a scheme";
	n = (size_t)(colon - v.p);
	if (!n || !g_alpha((unsigned char)v.p[0]))
		return "a URI scheme that is not a scheme name";
	for (i = 1; i < n; i++)
		if (!g_alnum((unsigned char)v.p[i]) && !strchr("+-.", v.p[i]))
			return "a URI scheme that is not a scheme name";
	if ((n == 3 && !strncasecmp(v.p, "sip", 3)) || (n == 4 && !strncasecmp(v.p, "sips", 4)))
		return g_sip_uri(g_sub(colon + 1, v.p + v.l), allow_headers);
	if (colon + 1 == v.p + v.l)
		return "an empty URI after its scheme";
	return g_chars(g_sub(colon + 1, v.p + v.l), ";/?:@&=+$,#[]",
		       "a character not allowed in a URI");
}

/* quoted-string starting at p (on its '"'): returns the byte after the closing quote, or NULL. */
static const char *g_quoted(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* gen-value = token / host / quoted-string (RFC 3261 25.1 generic-param). */
static const char *g_gen_value(struct grammar_pl v)
{
	size_t i;

	if (!v.l)
		return "a parameter with '=' and no value";
	if (v.p[0] == '"')
		return g_quoted(v.p, v.p + v.l) == v.p + v.l ? NULL : "a bad quoted parameter value";
	for (i = 0; i < v.l; i++)
		if (!grammar_is_token_char((unsigned char)v.p[i]) && !strchr("[]:", v.p[i]))
			return "a character not allowed in a parameter value";
	return NULL;
}

/* *( SEMI generic-param ) after an address, a Via or a media type; names checked by kind. */
static const char *g_params(struct grammar_pl v, bool addr)
{
	const char *p = v.p, *end = v.p + v.l, *err;

	while (p < end) {
		const char *s, *eq = NULL, *q;
		struct grammar_pl name, val;

		while (p < end && g_ws((unsigned char)*p))
			p++;
		if (p == end)
			break;
		if (*p != ';')
			return "junk where a ';' parameter should start";
		/* the parameter ends at the next ';' outside a quoted string */
		for (s = ++p; p < end && *p != ';'; p++) {
			if (*p == '"') {
				q = g_quoted(p, end);
				if (!q)
					return "an unterminated quoted string";
				p = q - 1;
			} else if (*p == '=' && !eq) {
				eq = p;
			}
		}
		name = g_trim(g_sub(s, eq ? eq : p));
		if (!name.l)
			return "an empty parameter";
		if (grammar_token(name))
			return "a parameter name that is not a token";
		if (!eq)
			continue;
		val = g_trim(g_sub(eq + 1, p));
		if ((err = g_gen_value(val)))
			return err;
		if (addr && name.l == 3 && !strncasecmp(name.p, "tag", 3) && grammar_token(val))
			return "a tag that is not a token";
		if (addr && name.l == 7 && !strncasecmp(name.p, "expires", 7) &&
		    grammar_uint(val, UINT32_MAX))
			return "an expires parameter that is not a number of seconds up to 2^32-1";
	}
	return NULL;
}

const char *grammar_addr(struct grammar_pl v, bool route)
{
	const char *p, *end, *lt = NULL, *gt, *err;
	struct grammar_pl dn, uri;

	v = g_trim(v);
	if (!v.l)
		return "no address";
	end = v.p + v.l;
	for (p = v.p; p < end && !lt; p++) {
		if (*p == '"') {
			const char *q = g_quoted(p, end);

			if (!q)
				return "an unterminated quoted display name";
			p = q - 1;
		} else if (*p == '<') {
			lt = p;
		} else if (*p == ';' || *p == '>') {
			break;
		}
	}
	if (!lt) {
		if (route)
			return "a URI that is not in <>";
		if (v.p[0] == '"')
			return "a display name without a <URI>";
		for (p = v.p; p < end && *p != ';'; p++)
			;
		uri = g_trim(g_sub(v.p, p));
		for (gt = uri.p; gt < uri.p + uri.l; gt++)
			if (g_ws((unsigned char)*gt))
				return "a display name without a <URI>, or whitespace in the URI";
		if (!uri.l)
			return "no URI";
		if ((err = grammar_uri(uri, false)))
			return err;
		return g_params(g_sub(p, end), true);
	}
	dn = g_trim(g_sub(v.p, lt));
	if (dn.l && dn.p[0] == '"') {
		if (g_quoted(dn.p, dn.p + dn.l) != dn.p + dn.l)
			return "junk after the quoted display name";
	} else {
		for (p = dn.p; p < dn.p + dn.l; p++)
			if (!grammar_is_token_char((unsigned char)*p) && !g_ws((unsigned char)*p))
				return "an unquoted display name with characters that need quotes";
	}
	gt = memchr(lt, '>', (size_t)(end - lt));
	if (!gt)
		return "'<' without '>'";
	uri = g_sub(lt + 1, gt);
	for (p = uri.p; p < gt; p++)
		if (g_ws((unsigned char)*p))
			return "whitespace inside <URI>";
	if (!uri.l)
		return "an empty <URI>";
	if ((err = grammar_uri(uri, true)))
		return err;
	return g_params(g_sub(gt + 1, end), true);
}

static bool g_word_char(unsigned char c)
{
	return g_alnum(c) || (c && strchr("-.!%*_+`'~()<>:\\\"/[]?{}", c));
}

const char *grammar_callid(struct grammar_pl v)
{
	size_t i, at = v.l;

	if (!v.l)
		return "an empty Call-ID";
	for (i = 0; i < v.l; i++) {
		if (v.p[i] == '@') {
			if (at != v.l)
				return "a Call-ID with more than one '@'";
			at = i;
		} else if (!g_word_char((unsigned char)v.p[i])) {
			return "a Call-ID with a character outside the word set (RFC 3261 25.1)";
		}
	}
	if (at == 0 || at + 1 == v.l)
		return "a Call-ID with an empty word around '@'";
	return NULL;
}

const char *grammar_media_type(struct grammar_pl v)
{
	const char *slash = memchr(v.p, '/', v.l), *semi, *end = v.p + v.l;

	if (!slash)
		return "a media type that is not type/subtype";
	semi = memchr(slash, ';', (size_t)(end - slash));
	if (grammar_token(g_trim(g_sub(v.p, slash))) ||
	    grammar_token(g_trim(g_sub(slash + 1, semi ? semi : end))))
		return "a media type that is not type/subtype of tokens";
	return semi ? g_params(g_sub(semi, end), false) : NULL;
}

const char *grammar_token_params(struct grammar_pl v)
{
	const char *semi = memchr(v.p, ';', v.l);

	if (grammar_token(g_trim(g_sub(v.p, semi ? semi : v.p + v.l))))
		return "a value that is not a token";
	return semi ? g_params(g_sub(semi, v.p + v.l), true) : NULL;
}

/* The via-params whose values have a grammar of their own (RFC 3261 20.42, 25.1). */
static const char *g_via_params(struct grammar_pl v)
{
	const char *p = v.p, *end = v.p + v.l, *err = g_params(v, false);

	if (err)
		return err;
	while (p < end) {
		const char *s = memchr(p, ';', (size_t)(end - p)), *n, *eq;
		struct grammar_pl name, val;

		if (!s)
			break;
		n = memchr(s + 1, ';', (size_t)(end - s - 1));
		if (!n)
			n = end;
		eq = memchr(s + 1, '=', (size_t)(n - s - 1));
		p = n;
		if (!eq)
			continue;
		name = g_trim(g_sub(s + 1, eq));
		val = g_trim(g_sub(eq + 1, n));
		if (name.l == 8 && !strncasecmp(name.p, "received", 8) && !g_ipv4(val) &&
		    !g_ipv6(val))
			return "a received parameter that is not an IP address";
		if (name.l == 5 && !strncasecmp(name.p, "maddr", 5) && grammar_host(val))
			return "an maddr parameter that is not a host";
		if (name.l == 3 && !strncasecmp(name.p, "ttl", 3) && grammar_uint(val, 255))
			return "a ttl parameter that is not 0..255";
		if (name.l == 5 && !strncasecmp(name.p, "rport", 5) && grammar_uint(val, 65535))
			return "an rport parameter that is not a port";
	}
	return NULL;
}

const char *grammar_via(struct grammar_pl v)
{
	const char *p = v.p, *end = v.p + v.l, *s, *semi;
	char sentby[300];
	size_t n = 0;
	int slashes = 0;

	/* sent-protocol: three tokens around two '/' with optional LWS */
	for (s = p; p < end; p++) {
		if (*p == '/') {
			if (grammar_token(g_trim(g_sub(s, p))))
				return "a Via sent-protocol that is not SIP/2.0/transport";
			if (++slashes == 2) {
				p++;
				break;
			}
			s = p + 1;
		}
	}
	if (slashes != 2)
		return "a Via without SIP/2.0/transport";
	while (p < end && g_ws((unsigned char)*p))
		p++;
	for (s = p; p < end && grammar_is_token_char((unsigned char)*p); p++)
		;
	if (p == s)
		return "a Via without a transport";
	if (p == end || !g_ws((unsigned char)*p))
		return "a Via without whitespace before its sent-by";
	semi = memchr(p, ';', (size_t)(end - p));
	for (; p < (semi ? semi : end); p++) {
		if (g_ws((unsigned char)*p))
			continue; /* LWS around the ':' of sent-by */
		if (n + 1 >= sizeof(sentby))
			return "a Via sent-by that is too long";
		sentby[n++] = *p;
	}
	if (!n)
		return "a Via without a sent-by host";
	if (grammar_hostport((struct grammar_pl){ sentby, n }))
		return "a Via sent-by that is not host[:port] (port 1..65535)";
	return semi ? g_via_params(g_sub(semi, end)) : NULL;
}

const char *grammar_each(struct grammar_pl v, const char *(*fn)(struct grammar_pl, void *),
			 void *arg)
{
	const char *p = v.p, *end = v.p + v.l, *s = v.p, *err;
	bool inb = false;

	for (; p <= end; p++) {
		if (p < end && *p == '"') {
			const char *q = g_quoted(p, end);

			if (!q)
				return "an unterminated quoted string";
			p = q - 1;
			continue;
		}
		if (p < end && *p == '<')
			inb = true;
		else if (p < end && *p == '>')
			inb = false;
		if (p < end && (*p != ',' || inb))
			continue;
		{
			struct grammar_pl e = g_trim(g_sub(s, p));

			if (!e.l)
				return "an empty element in a list";
			if ((err = fn(e, arg)))
				return err;
		}
		s = p + 1;
	}
	return NULL;
}
