/* wire: line-level edits of encoded SIP messages for topology hiding. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/log.h"
#include "wire.h"

#define LOG_MODULE "wire"

/* One header line: [b, e) without its CRLF; next is where the following line starts. */
struct wire_line {
	const char *b, *e, *next;
};

/* End of the header section: the offset of the empty line's CRLF (or len when none). */
static size_t wire_head_end(const char *buf, size_t len)
{
	const char *e = memmem(buf, len, "\r\n\r\n", 4);

	return e ? (size_t)(e - buf) + 2 : len;
}

static bool wire_next_line(const char *p, const char *end, struct wire_line *l)
{
	const char *q;

	if (p >= end)
		return false;
	q = memchr(p, '\n', (size_t)(end - p));
	if (!q)
		q = end;
	l->b = p;
	l->e = q > p && q[-1] == '\r' ? q - 1 : q;
	l->next = q < end ? q + 1 : q;
	return true;
}

/* True if the line is a header named name (or compact); *val points at its value. */
static bool wire_is(const struct wire_line *l, const char *name, const char *compact,
		    const char **val)
{
	const char *c = memchr(l->b, ':', (size_t)(l->e - l->b)), *n;
	size_t nl;

	if (!c || !name)
		return false;
	n = c;
	while (n > l->b && (n[-1] == ' ' || n[-1] == '\t'))
		n--;
	nl = (size_t)(n - l->b);
	if (!((nl == strlen(name) && !strncasecmp(l->b, name, nl)) ||
	      (compact && nl == strlen(compact) && !strncasecmp(l->b, compact, nl))))
		return false;
	if (val) {
		c++;
		while (c < l->e && (*c == ' ' || *c == '\t'))
			c++;
		*val = c;
	}
	return true;
}

/* A growing mem string. */
struct wire_out {
	char *p;
	size_t len, cap;
	int err;
};

static void wire_put(struct wire_out *o, const char *s, size_t n)
{
	if (o->err || !n)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *p = mem_zalloc(cap, NULL);

		if (!p) {
			o->err = ENOMEM;
			return;
		}
		if (o->p)
			memcpy(p, o->p, o->len);
		mem_deref(o->p);
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static int wire_done(struct wire_out *o, char **bufp, size_t *lenp)
{
	if (o->err || !o->p) {
		mem_deref(o->p);
		return o->err ? o->err : ENOMEM;
	}
	mem_deref(*bufp);
	*bufp = o->p;
	*lenp = o->len;
	return 0;
}

int wire_cut(char **bufp, size_t *lenp, const char *name, const char *compact, unsigned keep,
	     char **cutp, unsigned *np)
{
	struct wire_out o = { 0 }, cut = { 0 };
	struct wire_line l;
	const char *buf, *p, *he;
	unsigned seen = 0, n = 0;
	bool first = true;

	if (!bufp || !*bufp || !lenp || !name)
		return EINVAL;
	buf = *bufp;
	he = buf + wire_head_end(buf, *lenp);
	if (cutp && *cutp) {
		wire_put(&cut, *cutp, strlen(*cutp));
	}
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		if (!first && wire_is(&l, name, compact, NULL) && seen++ >= keep) {
			wire_put(&cut, l.b, (size_t)(l.next - l.b));
			n++;
			continue;
		}
		wire_put(&o, l.b, (size_t)(l.next - l.b));
	}
	wire_put(&o, he, (size_t)(buf + *lenp - he));
	if (cut.err || o.err) {
		mem_deref(cut.p);
		mem_deref(o.p);
		return ENOMEM;
	}
	if (np)
		*np = n;
	if (cutp && cut.p) {
		mem_deref(*cutp);
		*cutp = cut.p;
	} else {
		mem_deref(cut.p);
	}
	return wire_done(&o, bufp, lenp);
}

int wire_insert(char **bufp, size_t *lenp, const char *after, const char *compact,
		const char *lines)
{
	struct wire_out o = { 0 };
	struct wire_line l;
	const char *buf, *p, *he, *at = NULL;
	bool first = true;

	if (!bufp || !*bufp || !lenp || !lines)
		return EINVAL;
	if (!*lines)
		return 0;
	buf = *bufp;
	he = buf + wire_head_end(buf, *lenp);
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		if (first)
			at = l.next;
		else if (after && wire_is(&l, after, compact, NULL))
			at = l.next;
	}
	if (!at)
		return EBADMSG;
	wire_put(&o, buf, (size_t)(at - buf));
	wire_put(&o, lines, strlen(lines));
	wire_put(&o, at, (size_t)(buf + *lenp - at));
	return wire_done(&o, bufp, lenp);
}

int wire_replace(char **bufp, size_t *lenp, const char *name, const char *compact,
		 const char *value)
{
	struct wire_out o = { 0 };
	struct wire_line l;
	const char *buf, *p, *he, *val;
	bool first = true;

	if (!bufp || !*bufp || !lenp || !name || !value)
		return EINVAL;
	buf = *bufp;
	he = buf + wire_head_end(buf, *lenp);
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		if (first || !wire_is(&l, name, compact, &val))
			continue;
		wire_put(&o, buf, (size_t)(val - buf));
		wire_put(&o, value, strlen(value));
		wire_put(&o, l.e, (size_t)(buf + *lenp - l.e));
		return wire_done(&o, bufp, lenp);
	}
	return ENOENT;
}

int wire_value(const char *buf, size_t len, const char *name, const char *compact, char *out,
	       size_t size)
{
	struct wire_line l;
	const char *p, *he, *val, *e;
	bool first = true;

	if (!buf || !name || !out || !size)
		return EINVAL;
	he = buf + wire_head_end(buf, len);
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		if (first || !wire_is(&l, name, compact, &val))
			continue;
		e = l.e;
		while (e > val && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - val) >= size)
			return ENOSPC;
		memcpy(out, val, (size_t)(e - val));
		out[e - val] = '\0';
		return 0;
	}
	return ENOENT;
}

/* The needles of one scrub: which bytes can start one, so a line is read once and the
 * case-insensitive compare runs only where a needle could begin. */
struct wire_needles {
	const char *const *list;
	bool first[256];
};

static void wire_needles_init(struct wire_needles *w, const char *const *needles)
{
	const char *const *nd;
	unsigned char c;

	memset(w, 0, sizeof(*w));
	w->list = needles;
	for (nd = needles; *nd; nd++) {
		if (!**nd)
			continue;
		c = (unsigned char)**nd;
		w->first[tolower(c)] = true;
		w->first[toupper(c)] = true;
	}
}

/* True if [b, e) contains one of the needles (case-insensitive). */
static bool wire_has(const struct wire_needles *w, const char *b, const char *e)
{
	const char *const *nd;
	const char *p;
	size_t nl;
	int c;

	for (p = b; p < e; p++) {
		if (!w->first[(unsigned char)*p])
			continue;
		c = tolower((unsigned char)*p);
		for (nd = w->list; *nd; nd++) {
			if (tolower((unsigned char)**nd) != c)
				continue;
			nl = strlen(*nd);
			if (nl <= (size_t)(e - p) && !strncasecmp(p, *nd, nl))
				return true;
		}
	}
	return false;
}

int wire_scrub(char **bufp, size_t *lenp, const char *const *needles, const char *const *keep,
	       unsigned *np, int *kept_hit)
{
	struct wire_out o = { 0 };
	struct wire_needles w;
	struct wire_line l;
	const char *buf, *p, *he;
	const char *const *k;
	bool first = true;
	unsigned n = 0;

	if (!bufp || !*bufp || !lenp || !needles)
		return EINVAL;
	if (kept_hit)
		*kept_hit = 0;
	wire_needles_init(&w, needles);
	buf = *bufp;
	he = buf + wire_head_end(buf, *lenp);
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		bool hit = wire_has(&w, l.b, l.e), kept = first;

		for (k = keep; hit && !kept && k && *k; k++)
			kept = wire_is(&l, *k, NULL, NULL);
		if (hit && !kept) {
			n++;
			continue;
		}
		if (hit && kept_hit)
			*kept_hit = 1;
		wire_put(&o, l.b, (size_t)(l.next - l.b));
	}
	wire_put(&o, he, (size_t)(buf + *lenp - he));
	if (np)
		*np = n;
	return wire_done(&o, bufp, lenp);
}
