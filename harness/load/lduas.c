/* lduas: the load responder: 200 OK built by copying the request's dialog headers, no parser. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/conn.h"
#include "lduas.h"

#define LOG_MODULE "lduas"
#define LDUAS_MAX_ANSWER 8192

struct lduas {
	struct event_base *base;
	struct listener *l;
	uint64_t answered;
	unsigned conns;
};

/* A header line's name (long or RFC 3261 7.3.3 compact form) if it is one we copy, else 0. */
static char lduas_hdr_kind(const char *line, size_t len)
{
	static const struct { const char *name; char compact; char kind; } hs[] = {
		{ "via", 'v', 'v' }, { "from", 'f', 'f' }, { "to", 't', 't' },
		{ "call-id", 'i', 'i' }, { "cseq", 0, 'c' },
	};
	size_t n, i;

	for (n = 0; n < len && line[n] != ':' && line[n] != ' ' && line[n] != '\t'; n++)
		;
	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		if ((strlen(hs[i].name) == n && !strncasecmp(line, hs[i].name, n)) ||
		    (n == 1 && hs[i].compact && (line[0] | 0x20) == hs[i].compact))
			return hs[i].kind;
	}
	return 0;
}

static bool lduas_put(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= size)
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	return true;
}

size_t lduas_answer(const char *req, size_t len, char *out, size_t size)
{
	static const char status[] = "SIP/2.0 200 OK\r\n";
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	const char *p = req, *end = req + len, *eol;
	unsigned seen = 0;
	size_t pos = 0;
	bool ok = true;

	if (len < 8 || !strncmp(req, "SIP/2.0 ", 8) || !strncmp(req, "ACK ", 4))
		return 0;
	eol = memchr(p, '\n', len);
	if (!eol)
		return 0;
	ok = lduas_put(out, size, &pos, status, sizeof(status) - 1);
	for (p = eol + 1; ok && p < end; p = eol + 1) {
		size_t ll;
		char kind;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		ll = (size_t)(eol - p) + 1;
		if (ll <= 2)
			break; /* the empty line: end of the header */
		kind = lduas_hdr_kind(p, ll);
		if (!kind)
			continue;
		seen |= 1u << (kind - 'a');
		if (kind == 't' && !memmem(p, ll, ";tag=", 5)) {
			size_t body = ll - ((ll >= 2 && p[ll - 2] == '\r') ? 2 : 1);

			ok = lduas_put(out, size, &pos, p, body) &&
			     lduas_put(out, size, &pos, ";tag=ld200\r\n", 12);
		} else {
			ok = lduas_put(out, size, &pos, p, ll);
		}
	}
	if (!ok || (seen & ((1u << ('v' - 'a')) | (1u << ('f' - 'a')) | (1u << ('t' - 'a')) |
			    (1u << ('i' - 'a')) | (1u << ('c' - 'a')))) !=
		   ((1u << ('v' - 'a')) | (1u << ('f' - 'a')) | (1u << ('t' - 'a')) |
		    (1u << ('i' - 'a')) | (1u << ('c' - 'a'))))
		return 0;
	if (!lduas_put(out, size, &pos, tail, sizeof(tail) - 1))
		return 0;
	return pos;
}

struct lduas_conn {
	struct lduas *u;
	struct conn *c;
};

static void lduas_msg(struct conn *c, const char *buf, size_t len, void *arg)
{
	struct lduas_conn *uc = arg;
	char out[LDUAS_MAX_ANSWER];
	size_t n = lduas_answer(buf, len, out, sizeof(out));

	if (!n)
		return;
	if (conn_send(c, out, n) == 0)
		uc->u->answered++;
}

static void lduas_conn_destroy(void *data)
{
	struct lduas_conn *uc = data;

	mem_deref(uc->c);
}

static void lduas_release(evutil_socket_t fd, short what, void *arg)
{
	mem_deref(arg);
}

static void lduas_close(struct conn *c, int err, void *arg)
{
	struct lduas_conn *uc = arg;
	struct timeval now = { 0, 0 };

	uc->u->conns--;
	log_debug("connection closed: %s", err ? strerror(err) : "by peer");
	/* the conn is on the stack of this callback: free it from the loop */
	if (event_base_once(uc->u->base, -1, EV_TIMEOUT, lduas_release, uc, &now) != 0)
		log_warn("cannot defer release: a connection is kept");
}

static void lduas_accept(struct conn *c, void *arg)
{
	struct lduas *u = arg;
	struct lduas_conn *uc = mem_zalloc(sizeof(*uc), lduas_conn_destroy);
	struct conn_handlers h = { .msg = lduas_msg, .close = lduas_close };

	if (!uc) {
		conn_close(c);
		mem_deref(c);
		return;
	}
	uc->u = u;
	uc->c = c;
	h.arg = uc;
	conn_set_handlers(c, &h);
	u->conns++;
}

static void lduas_destroy(void *data)
{
	struct lduas *u = data;

	mem_deref(u->l);
}

int lduas_alloc(struct lduas **up, struct event_base *base, struct tlsctx *tls,
		const struct sockaddr *addr, bool reuseport)
{
	struct lduas *u;
	int err;

	if (!up || !base || !addr)
		return EINVAL;
	u = mem_zalloc(sizeof(*u), lduas_destroy);
	if (!u)
		return ENOMEM;
	u->base = base;
	err = listener_alloc(&u->l, base, tls, addr, reuseport, lduas_accept, u);
	if (err) {
		mem_deref(u);
		return err;
	}
	*up = u;
	return 0;
}

uint64_t lduas_answered(const struct lduas *u)
{
	return u ? u->answered : 0;
}

unsigned lduas_conns(const struct lduas *u)
{
	return u ? u->conns : 0;
}
