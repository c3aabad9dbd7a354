/* anonsip: pass 1 of the anonymizer and the SIP text helpers both passes share. Pass 1 puts
 * every identifier a message shows into the map: users and hosts of URIs (sip, sips, tel,
 * pres, im, mailto) anywhere in headers and bodies, Via hosts, received/maddr, Call-ID parts,
 * tags, branches, epids, instances, IP addresses, display-name words. Pass 2 is anonrw.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "anon_int.h"

void anon_abuf_put(struct abuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *np = realloc(b->p, nc);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void anon_abuf_str(struct abuf *b, const char *s)
{
	anon_abuf_put(b, s, strlen(s));
}

bool anon_tokch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	       c == '%' || c == '+' || c == '!' || c == '*';
}

/* Words of the protocol that never become identifiers, whatever a display name says. */
static bool anon_protocol_word(const char *t, size_t n)
{
	static const char *const w[] = {
		"SIP", "SIPS", "TLS", "TCP", "UDP", "WS", "WSS", "SCTP", "lr", "IN", "IP4", "IP6",
		"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE", "SUBSCRIBE",
		"NOTIFY", "PUBLISH", "INFO", "REFER", "UPDATE", "PRACK", "transport", "user",
		"phone", "sip", "tel", "true", "false", "yes", "no", "urn", "uuid", "gsma", "imei",
	};
	size_t i;

	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (strlen(w[i]) == n && !strncasecmp(w[i], t, n))
			return true;
	return false;
}

static bool is_ip4(const char *t, size_t n)
{
	char s[48];
	struct in_addr a;

	if (n >= sizeof(s))
		return false;
	memcpy(s, t, n);
	s[n] = '\0';
	return inet_pton(AF_INET, s, &a) == 1;
}

bool anon_is_ip6(const char *t, size_t n)
{
	char s[64];
	struct in6_addr a;

	if (n >= sizeof(s) || n < 2)
		return false;
	memcpy(s, t, n);
	s[n] = '\0';
	return inet_pton(AF_INET6, s, &a) == 1;
}

/* A host, an address or a name-ish token into the map as what it looks like. */
static void anon_put_host(struct anonmap *m, const char *t, size_t n)
{
	if (!n)
		return;
	if (t[0] == '[' && n > 2 && t[n - 1] == ']') {
		t++;
		n -= 2;
	}
	if (is_ip4(t, n))
		anonmap_put(m, ANON_IP4, t, n);
	else if (anon_is_ip6(t, n))
		anonmap_put(m, ANON_IP6, t, n);
	else if (!anon_protocol_word(t, n))
		anonmap_put(m, ANON_HOST, t, n);
}

/* a.b.example: dotted, its top label letters only */
static bool looks_host(const char *t, size_t n)
{
	size_t i = n;

	if (!n || t[n - 1] == '.' || !memchr(t, '.', n))
		return false;
	while (i > 0 && t[i - 1] != '.')
		if (!isalpha((unsigned char)t[--i]))
			return false;
	return true;
}

/* Every token of a value as kind (short numbers and protocol words are no identifiers). */
static void anon_put_tokens(struct anonmap *m, enum anon_kind kind, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i, k, digits = 0;

		while (i < n && !anon_tokch(v[i]))
			i++;
		for (j = i; j < n && anon_tokch(v[j]); j++)
			;
		for (k = i; k < j; k++)
			digits += isdigit((unsigned char)v[k]) != 0;
		if (j > i && !(digits == j - i && j - i < 6) && !anon_protocol_word(v + i, j - i)) {
			if (is_ip4(v + i, j - i))
				anonmap_put(m, ANON_IP4, v + i, j - i);
			else if (kind == ANON_ID && looks_host(v + i, j - i))
				anonmap_put(m, ANON_HOST, v + i, j - i);
			else
				anonmap_put(m, kind, v + i, j - i);
		}
		i = j;
	}
}

/* sip:user@host, tel:+1234, pres:user@host ... anywhere in the text. */
static void anon_collect_uris(struct anonmap *m, const char *s, size_t len)
{
	static const char *const schemes[] = { "sip:", "sips:", "tel:", "pres:", "im:", "mailto:" };
	size_t i, k;

	for (i = 0; i < len; i++) {
		const char *u = NULL;
		bool tel = false;

		if (i > 0 && (anon_tokch(s[i - 1]) || s[i - 1] == ':'))
			continue;
		for (k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
			size_t sl = strlen(schemes[k]);

			if (len - i > sl && !strncasecmp(s + i, schemes[k], sl)) {
				u = s + i + sl;
				tel = k == 2;
				break;
			}
		}
		if (!u)
			continue;
		{
			const char *end = s + len, *p = u, *at = NULL, *h;

			while (p < end && !strchr(";>?, \t\r\n\"<", *p)) {
				if (*p == '@')
					at = p;
				p++;
			}
			if (at || tel) {
				const char *ue = at ? at : p, *c = memchr(u, ':', (size_t)(ue - u));

				if (c && at)
					ue = c;         /* user:password */
				anon_put_tokens(m, ANON_USER, u, (size_t)(ue - u));
			}
			if (tel)
				continue;
			h = at ? at + 1 : u;
			if (h < end && *h == '[') {
				const char *rb = memchr(h, ']', (size_t)(end - h));

				if (rb)
					anon_put_host(m, h, (size_t)(rb - h) + 1);
				continue;
			}
			for (p = h; p < end && !strchr(":;>?, \t\r\n\"</", *p); p++)
				;
			anon_put_host(m, h, (size_t)(p - h));
		}
	}
}

/* ;tag= ;branch= ;epid= ;+sip.instance= ;received= ;maddr= ;gr= */
static void anon_collect_params(struct anonmap *m, const char *s, size_t len)
{
	static const struct {
		const char *name;
		enum anon_kind kind;
	} ps[] = {
		{ ";tag=", ANON_ID }, { ";branch=", ANON_BRANCH }, { ";epid=", ANON_ID },
		{ ";+sip.instance=", ANON_ID }, { ";gr=", ANON_ID }, { ";received=", ANON_HOST },
		{ ";maddr=", ANON_HOST }, { ";ms-ep-fqdn=", ANON_HOST },
	};
	size_t i, k;

	for (i = 0; i < len; i++) {
		if (s[i] != ';')
			continue;
		for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
			size_t pl = strlen(ps[k].name), j;

			if (len - i <= pl || strncasecmp(s + i, ps[k].name, pl))
				continue;
			for (j = i + pl; j < len && !strchr(";,> \t\r\n", s[j]); j++)
				;
			if (ps[k].kind == ANON_HOST)
				anon_put_host(m, s + i + pl, j - i - pl);
			else if (ps[k].kind == ANON_BRANCH && j - i - pl > 7)
				anonmap_put(m, ANON_BRANCH, s + i + pl, j - i - pl);
			else
				anon_put_tokens(m, ANON_ID, s + i + pl, j - i - pl);
		}
	}
}

static void anon_collect_ips(struct anonmap *m, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j;

		if (!isdigit((unsigned char)s[i]) || (i && anon_tokch(s[i - 1]))) {
			i++;
			continue;
		}
		for (j = i; j < len && (isdigit((unsigned char)s[j]) || s[j] == '.'); j++)
			;
		if (j - i >= 7 && is_ip4(s + i, j - i))
			anonmap_put(m, ANON_IP4, s + i, j - i);
		i = j;
	}
}

bool anon_hdr_is(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && !strncasecmp(*list, name, n))
			return true;
	return false;
}

static const char *const addr_hdrs[] = {
	"From", "f", "To", "t", "Contact", "m", "Referred-By", "b", "Refer-To", "r",
	"P-Asserted-Identity", "P-Preferred-Identity", "Reply-To", "Diversion", "History-Info",
	"Remote-Party-ID", "P-Called-Party-ID", NULL,
};

/* Display names: a quoted string, or the words before '<'. */
static void anon_collect_names(struct anonmap *m, const char *v, size_t n)
{
	const char *lt = memchr(v, '<', n);

	if (n && v[0] == '"') {
		const char *q = memchr(v + 1, '"', n - 1);

		if (q)
			anon_put_tokens(m, ANON_NAME, v + 1, (size_t)(q - v - 1));
	} else if (lt && lt > v) {
		anon_put_tokens(m, ANON_NAME, v, (size_t)(lt - v));
	}
}

size_t anon_head_len(const char *msg, size_t len, size_t *body)
{
	const char *e = NULL;
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && msg[i + 1] == '\n') {
			e = msg + i + 1;
			*body = i + 2;
			break;
		}
		if (i + 3 < len && !memcmp(msg + i, "\r\n\r\n", 4)) {
			e = msg + i + 2;
			*body = i + 4;
			break;
		}
	}
	if (!e) {
		*body = len;
		return len;
	}
	return (size_t)(e - msg);
}

struct anon_collect_arg {
	struct anonmap *m;
};

static void anon_collect_hdr(const char *name, size_t nl, const char *v, size_t vl, void *arg)
{
	struct anonmap *m = ((struct anon_collect_arg *)arg)->m;

	if (anon_hdr_is(name, nl, (const char *const[]){ "Call-ID", "i", "In-Reply-To", NULL })) {
		anon_put_tokens(m, ANON_ID, v, vl);
	} else if (anon_hdr_is(name, nl, (const char *const[]){ "Via", "v", NULL })) {
		size_t i = 0;

		/* SIP/2.0/TLS host:port;params, ... */
		while (i < vl) {
			const char *sp = memchr(v + i, ' ', vl - i), *e;

			if (!sp)
				break;
			while (sp < v + vl && *sp == ' ')
				sp++;
			for (e = sp; e < v + vl && !strchr(";, \t", *e) &&
			     !(*e == ':' && sp[0] != '['); e++)
				if (*e == ']') {
					e++;
					break;
				}
			anon_put_host(m, sp, (size_t)(e - sp));
			e = memchr(sp, ',', (size_t)(v + vl - sp));
			if (!e)
				break;
			i = (size_t)(e - v) + 1;
		}
	} else if (anon_hdr_is(name, nl, addr_hdrs)) {
		anon_collect_names(m, v, vl);
	}
}

void anon_each_hdr(const char *msg, size_t head, hdr_h *h, void *arg)
{
	const char *p = memchr(msg, '\n', head), *end = msg + head;

	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c, *v, *ve;

		if (!eol)
			eol = end;
		ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
		c = ve > p ? memchr(p, ':', (size_t)(ve - p)) : NULL;
		if (c) {
			const char *ne = c;

			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			for (v = c + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
				;
			h(p, (size_t)(ne - p), v, (size_t)(ve - v), arg);
		}
		p = eol;
	}
}

int anonsip_collect(struct anonmap *m, const char *msg, size_t len)
{
	struct anon_collect_arg a = { m };
	size_t body, head = anon_head_len(msg, len, &body);

	anon_collect_uris(m, msg, len);
	anon_collect_params(m, msg, head);
	anon_collect_ips(m, msg, len);
	anon_each_hdr(msg, head, anon_collect_hdr, &a);
	return 0;
}

