/* wire: line-level edits of encoded SIP messages for topology hiding. */
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
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return i + 2;
	return len;
}

static bool wire_next_line(const char *p, const char *end, struct wire_line *l)
{
	const char *q = p;

	if (p >= end)
		return false;
	while (q < end && *q != '\n')
		q++;
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

static bool wire_has(const char *b, const char *e, const char *needle)
{
	size_t nl = strlen(needle);
	const char *p;

	for (p = b; nl && p + nl <= e; p++)
		if (!strncasecmp(p, needle, nl))
			return true;
	return false;
}

int wire_scrub(char **bufp, size_t *lenp, const char *const *needles, const char *const *keep,
	       unsigned *np, int *kept_hit)
{
	struct wire_out o = { 0 };
	struct wire_line l;
	const char *buf, *p, *he;
	const char *const *nd, *const *k;
	bool first = true;
	unsigned n = 0;

	if (!bufp || !*bufp || !lenp || !needles)
		return EINVAL;
	if (kept_hit)
		*kept_hit = 0;
	buf = *bufp;
	he = buf + wire_head_end(buf, *lenp);
	for (p = buf; wire_next_line(p, he, &l); p = l.next, first = false) {
		bool hit = false, kept = first;

		for (nd = needles; *nd && !hit; nd++)
			hit = **nd && wire_has(l.b, l.e, *nd);
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
