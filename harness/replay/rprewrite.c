/* rprewrite: the replay's rewrite stage — recorded messages into the lab through one old->new
 * map. Static entries (addresses, host names, domains, users) come from the cast; fresh ones
 * (Call-ID, tags, branches) are made the first time a party sends a recorded value; learned
 * ones (what the proxy did to a value on its way: Call-ID, tags, Contact, Record-Route) are
 * kept per party, so an in-dialog request, a To tag in a response, a Route set or a
 * Replaces/Refer-To carries the value that party really saw. Tokens are rewritten wherever
 * they appear (headers and bodies), so references stay consistent without a parser per
 * header. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "sip/sipmsg.h"
#include "../lab.h"
#include "replay_int.h"

struct rpbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void rpbuf_put(struct rpbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void rpbuf_str(struct rpbuf *b, const char *s)
{
	rpbuf_put(b, s, strlen(s));
}

static bool rp_tokch(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	       c == '%' || c == '+' || c == '!' || c == '*';
}

static const char *rp_lookup(const struct replay *r, int party, const char *pfx, const char *v,
			     size_t n)
{
	char key[600];
	int kl = snprintf(key, sizeof(key), "%s%.*s", pfx, (int)n, v);

	if (kl <= 0 || (size_t)kl >= sizeof(key))
		return NULL;
	return rpmap_get(r->map, party, key, (size_t)kl);
}

static int rp_store(struct replay *r, int party, const char *pfx, const char *v, size_t n,
		    const char *val, bool replace)
{
	char key[600];
	int kl = snprintf(key, sizeof(key), "%s%.*s", pfx, (int)n, v);

	if (kl <= 0 || (size_t)kl >= sizeof(key))
		return EINVAL;
	return rpmap_set(r->map, party, key, (size_t)kl, val, replace);
}

/* Rewrites text token by token: user@host pairs through the user map, then each token
 * (address, name, domain, Call-ID part, tag, branch) through the value map. */
static void rp_rewrite(const struct replay *r, int party, struct rpbuf *b, const char *in,
		       size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, k, h;
		const char *m;

		if (in[i] == '[') {             /* an IPv6 reference */
			const char *rb = memchr(in + i, ']', len - i);

			if (rb && rb - (in + i) < 48) {
				j = (size_t)(rb - in) + 1;
				m = rp_lookup(r, party, "v:", in + i + 1, j - i - 2);
				if (m)
					rpbuf_str(b, m);
				else
					rpbuf_put(b, in + i, j - i);
				i = j;
				continue;
			}
		}
		if (!rp_tokch(in[i])) {
			rpbuf_put(b, in + i, 1);
			i++;
			continue;
		}
		while (j < len && rp_tokch(in[j]))
			j++;
		if (j < len && in[j] == '@' && j + 1 < len) {
			for (h = j + 1; h < len && (rp_tokch(in[h]) || in[h] == '[' ||
						   in[h] == ']' || (in[h] == ':' &&
						   memchr(in + j, '[', h - j))); h++)
				;
			{
				char aor[400];
				size_t n = h - i < sizeof(aor) - 1 ? h - i : sizeof(aor) - 1;

				memcpy(aor, in + i, n);
				aor[n] = '\0';
				for (k = j - i; k < n; k++)
					aor[k] = (char)tolower((unsigned char)aor[k]);
				m = rp_lookup(r, party, "aor:", aor, n);
				if (m) {
					rpbuf_str(b, m);
					i = h;
					continue;
				}
			}
		}
		m = rp_lookup(r, party, "v:", in + i, j - i);
		if (m)
			rpbuf_str(b, m);
		else
			rpbuf_put(b, in + i, j - i);
		i = j;
	}
}

char *rprewrite_text(struct replay *r, int party, const char *in, size_t len, size_t *outlen)
{
	struct rpbuf b = { 0 };

	rp_rewrite(r, party, &b, in, len);
	rpbuf_put(&b, "", 0);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*outlen = b.len;
	return b.p;
}

/* The lab speaks TLS: transport parameters of URIs say so (RFC 3261 19.1.1). The text from
 * `from` on is rebuilt, so a value shorter or longer than "tls" is replaced in place. */
static void rp_fix_transport(struct rpbuf *b, size_t from)
{
	static const char *const tr[] = { "ws", "wss", "udp", "tcp" };
	static const char key[] = "transport=";
	const size_t kl = sizeof(key) - 1;
	char *tail;
	size_t tl, i = 0, done = 0;

	if (!b->p || b->oom || from >= b->len || !strcasestr(b->p + from, key))
		return;
	tl = b->len - from;
	tail = malloc(tl + 1);
	if (!tail) {
		b->oom = true;
		return;
	}
	memcpy(tail, b->p + from, tl + 1);
	b->len = from;
	while (i + kl <= tl) {
		size_t v = i + kl, vl = 0, k;

		if (strncasecmp(tail + i, key, kl) || (i && rp_tokch(tail[i - 1]))) {
			i++;
			continue;
		}
		while (v + vl < tl && rp_tokch(tail[v + vl]))
			vl++;
		for (k = 0; k < sizeof(tr) / sizeof(tr[0]); k++)
			if (strlen(tr[k]) == vl && !strncasecmp(tail + v, tr[k], vl))
				break;
		if (k < sizeof(tr) / sizeof(tr[0])) {
			rpbuf_put(b, tail + done, v - done);
			rpbuf_str(b, "tls");
			done = v + vl;
		}
		i = v + vl;
	}
	rpbuf_put(b, tail + done, tl - done);
	free(tail);
}

/* A value fresh for this replay in place of a recorded one (created once, then reused). */
static const char *rp_fresh(struct replay *r, const char *pfx_hint, const char *old, size_t n)
{
	const char *m = rp_lookup(r, RPMAP_GLOBAL, "v:", old, n);
	char v[96], rnd[24];

	if (m || !n)
		return m;
	sipmsg_random_token(rnd, sizeof(rnd));
	snprintf(v, sizeof(v), "%s%x%s", pfx_hint, ++r->fresh, rnd);
	if (rp_store(r, RPMAP_GLOBAL, "v:", old, n, v, false))
		return NULL;
	return rp_lookup(r, RPMAP_GLOBAL, "v:", old, n);
}

/* URIs the party learned (a remote target, a route) replace the recorded ones whole. */
static void rp_uri_value(struct replay *r, int party, struct rpbuf *b, const char *v, size_t vl)
{
	const char *u, *m;
	size_t ul, start = b->len;

	rp_uri(v, vl, &u, &ul);
	m = rp_lookup(r, party, "uri:", u, ul);
	if (m) {
		rp_rewrite(r, party, b, v, (size_t)(u - v));
		rpbuf_str(b, m);
		rp_rewrite(r, party, b, u + ul, vl - (size_t)(u - v) - ul);
	} else {
		rp_rewrite(r, party, b, v, vl);
	}
	rp_fix_transport(b, start);
}

static bool rp_is(const struct rp_hdr *h, const char *name)
{
	size_t n = strlen(name);

	return !strncasecmp(h->name, name, n) &&
	       (h->name[n] == '\0' || h->name[n] == ':' || h->name[n] == ' ');
}

static void rp_canon_name(struct rpbuf *b, const struct rp_hdr *h)
{
	size_t n = 0;

	while (h->name[n] && h->name[n] != ':' && h->name[n] != ' ' && h->name[n] != '\t')
		n++;
	rpbuf_put(b, h->name, n);
	rpbuf_str(b, ": ");
}

static void rp_finish(struct rpbuf *b, const char *body, size_t blen)
{
	char cl[48];

	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", blen);
	rpbuf_str(b, cl);
	rpbuf_put(b, body, blen);
}

int rprewrite_request(struct replay *r, const struct rp_rec *rec, char **out, size_t *outlen,
		      const char *via_host, char *branch, size_t bsize)
{
	const struct rp_sip *s = &rec->sip;
	int party = rec->src, i;
	struct rpbuf b = { 0 }, body = { 0 };
	bool top_done = false;
	const char *m;

	/* fresh identifiers for what this party created */
	if (s->ftag[0])
		rp_fresh(r, "t", s->ftag, strlen(s->ftag));
	if (!rp_lookup(r, party, "cidv:", s->callid, strlen(s->callid))) {
		/* the Call-ID as a whole, and its first token wherever it appears (Replaces) */
		struct rpbuf cb = { 0 };
		size_t n = strspn(s->callid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789-._~%+!*");

		rp_fresh(r, "c", s->callid, n);
		rp_rewrite(r, party, &cb, s->callid, strlen(s->callid));
		if (cb.p)
			rp_store(r, RPMAP_GLOBAL, "cidv:", s->callid, strlen(s->callid), cb.p,
				 false);
		free(cb.p);
	}
	m = s->branch[0] ? rp_fresh(r, "z9hG4bK", s->branch, strlen(s->branch)) : NULL;
	if (!m) {
		char rnd[24];

		sipmsg_random_token(rnd, sizeof(rnd));
		snprintf(branch, bsize, "z9hG4bKr%x%s", ++r->fresh, rnd);
	} else {
		snprintf(branch, bsize, "%s%s", strncmp(m, "z9hG4bK", 7) ? "z9hG4bK" : "", m);
	}
	rpbuf_str(&b, s->method);
	rpbuf_str(&b, " ");
	/* a Request-URI is a URI whole, parameters and all: a learned remote target first */
	m = rp_lookup(r, party, "uri:", s->ruri, s->rurilen);
	if (m)
		rpbuf_str(&b, m);
	else
		rp_uri_value(r, party, &b, s->ruri, s->rurilen);
	rpbuf_str(&b, " SIP/2.0\r\n");
	for (i = 0; i < s->nh; i++) {
		const struct rp_hdr *h = &s->h[i];

		if (rp_is(h, "Content-Length"))
			continue;
		rp_canon_name(&b, h);
		if (rp_is(h, "Via") && !top_done) {
			const char *comma = memchr(h->val, ',', h->vlen);
			char via[300];

			snprintf(via, sizeof(via), "SIP/2.0/TLS %s:5061;branch=%s", via_host, branch);
			rpbuf_str(&b, via);
			if (comma) {
				rpbuf_str(&b, ",");
				rp_rewrite(r, party, &b, comma + 1,
					   h->vlen - (size_t)(comma + 1 - h->val));
			}
			top_done = true;
		} else if (rp_is(h, "Call-ID") &&
			   (m = rp_lookup(r, party, "cidv:", h->val, h->vlen))) {
			rpbuf_str(&b, m);
		} else if (rp_is(h, "Route") || rp_is(h, "Contact") || rp_is(h, "Record-Route")) {
			struct rp_sip one = { .nh = 1 };
			const char *vals[16];
			size_t vl[16];
			int n, k;

			one.h[0] = *h;
			one.h[0].name = "X";
			n = rp_sip_values(&one, "X", vals, vl, 16);
			for (k = 0; k < n; k++) {
				if (k)
					rpbuf_str(&b, ", ");
				rp_uri_value(r, party, &b, vals[k], vl[k]);
			}
		} else {
			rp_rewrite(r, party, &b, h->val, h->vlen);
		}
		rpbuf_str(&b, "\r\n");
	}
	rp_rewrite(r, party, &body, s->body, s->blen);
	rp_finish(&b, body.p ? body.p : "", body.len);
	free(body.p);
	if (b.oom || body.oom) {
		free(b.p);
		return ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

static void rp_copy_hdrs(struct rpbuf *b, const struct rp_sip *q, const char *name)
{
	int i;

	for (i = 0; i < q->nh; i++) {
		if (!rp_is(&q->h[i], name))
			continue;
		rpbuf_str(b, name);
		rpbuf_str(b, ": ");
		rpbuf_put(b, q->h[i].val, q->h[i].vlen);
		rpbuf_str(b, "\r\n");
	}
}

/* RFC 3261 8.2.6.2: Via, From, To, Call-ID and CSeq come from the request as it arrived; the
 * rest (status, Contact, Expires, Event, body...) is the recording's, rewritten. */
int rprewrite_response(struct replay *r, const struct rp_rec *rec, const struct rp_sip *q,
		       char **out, size_t *outlen)
{
	const struct rp_sip *s = &rec->sip;
	const struct rp_hdr *to = rp_sip_hdr(q, "To", 0);
	struct rpbuf b = { 0 }, body = { 0 };
	int party = rec->src, i;
	char line[160];

	snprintf(line, sizeof(line), "SIP/2.0 %d %s\r\n", s->status, s->reason);
	rpbuf_str(&b, line);
	rp_copy_hdrs(&b, q, "Via");
	rp_copy_hdrs(&b, q, "From");
	if (to) {
		rpbuf_str(&b, "To: ");
		rpbuf_put(&b, to->val, to->vlen);
		if (!q->ttag[0] && s->ttag[0]) {
			const char *t = rp_fresh(r, "t", s->ttag, strlen(s->ttag));

			rpbuf_str(&b, ";tag=");
			rpbuf_str(&b, t ? t : s->ttag);
		}
		rpbuf_str(&b, "\r\n");
	}
	rp_copy_hdrs(&b, q, "Call-ID");
	rp_copy_hdrs(&b, q, "CSeq");
	if (rp_sip_hdr(s, "Record-Route", 0))
		rp_copy_hdrs(&b, q, "Record-Route");
	for (i = 0; i < s->nh; i++) {
		const struct rp_hdr *h = &s->h[i];
		size_t start;

		if (rp_is(h, "Via") || rp_is(h, "From") || rp_is(h, "To") || rp_is(h, "Call-ID") ||
		    rp_is(h, "CSeq") || rp_is(h, "Record-Route") || rp_is(h, "Content-Length"))
			continue;
		rp_canon_name(&b, h);
		start = b.len;
		rp_rewrite(r, party, &b, h->val, h->vlen);
		if (rp_is(h, "Contact"))
			rp_fix_transport(&b, start);
		rpbuf_str(&b, "\r\n");
	}
	rp_rewrite(r, party, &body, s->body, s->blen);
	rp_finish(&b, body.p ? body.p : "", body.len);
	free(body.p);
	if (b.oom || body.oom) {
		free(b.p);
		return ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

static void rp_learn_uri(struct replay *r, int party, const struct rp_sip *rec,
			 const struct rp_sip *live, const char *name)
{
	const char *rv[16], *lv[16], *ru, *lu;
	size_t rl[16], ll[16], rul, lul;
	int rn = rp_sip_values(rec, name, rv, rl, 16), ln = rp_sip_values(live, name, lv, ll, 16);
	int i;
	char val[600];

	if (rn != ln)
		return;
	for (i = 0; i < rn; i++) {
		rp_uri(rv[i], rl[i], &ru, &rul);
		rp_uri(lv[i], ll[i], &lu, &lul);
		if (lul >= sizeof(val))
			continue;
		memcpy(val, lu, lul);
		val[lul] = '\0';
		rp_store(r, party, "uri:", ru, rul, val, true);
	}
}

void rprewrite_learn(struct replay *r, int party, const struct rp_sip *rec,
		     const struct rp_sip *live)
{
	if (strcmp(rec->callid, live->callid))
		rp_store(r, party, "cidv:", rec->callid, strlen(rec->callid), live->callid, true);
	if (rec->ftag[0] && live->ftag[0])
		rp_store(r, party, "v:", rec->ftag, strlen(rec->ftag), live->ftag, true);
	if (rec->ttag[0] && live->ttag[0])
		rp_store(r, party, "v:", rec->ttag, strlen(rec->ttag), live->ttag, true);
	rp_learn_uri(r, party, rec, live, "Contact");
	rp_learn_uri(r, party, rec, live, "Record-Route");
}

/* Static entries: every endpoint's address and host names become its lab host's name, every
 * domain its role's lab domain. */
/* The lab name of a recorded proxy address that is not a lab's: its internal edge's when it
 * spoke mostly with the enterprise, else its external edge's (an anonymized lab capture names
 * its proxy with pseudonyms that the judge must see as the lab proxy's). */
static const char *rp_proxy_name(const struct replay *r, int e)
{
	size_t i;
	long inside = 0, outside = 0;

	for (i = 0; i < r->nrecs; i++) {
		int peer = r->recs[i].src == e ? r->recs[i].dst :
			   r->recs[i].dst == e ? r->recs[i].src : -1;

		if (peer < 0)
			continue;
		if (r->eps[peer].role == RP_ROLE_ENTERPRISE)
			inside++;
		else if (r->eps[peer].role != RP_ROLE_PROXY)
			outside++;
	}
	return inside > outside ? "ap-int.contoso.test" : "ap.contoso.test";
}

int rprewrite_prepare(struct replay *r)
{
	static const char *const fqdn[RP_NROLES] = {
		[RP_ROLE_PROXY] = "ap.contoso.test", [RP_ROLE_ENTERPRISE] = "pool.contoso.test",
		[RP_ROLE_AOL] = "sip.aol.test", [RP_ROLE_YAHOO] = "sip.yahoo.test",
		[RP_ROLE_MSN] = "sip.msn.test",
	};
	size_t i;
	int e, err = 0;

	for (e = 0; !err && e < r->neps; e++) {
		const struct rp_ep *ep = &r->eps[e];
		char names[256], *save = NULL, *t;
		enum lab_host lh = lab_host_of_addr((const struct sockaddr *)&ep->addr);
		bool lab_addr = !strncmp(ep->label, "127.77.", 7) && lh != LAB_NHOSTS;

		if (ep->role == RP_ROLE_NONE)
			continue;
		/* a lab's own capture keeps its host names; a proxy's names stay its own */
		err = rp_store(r, RPMAP_GLOBAL, "v:", ep->label, strlen(ep->label),
			       lab_addr ? lab_host_name(lh) : fqdn[ep->role], false);
		if (lab_addr)
			continue;
		snprintf(names, sizeof(names), "%s", ep->names);
		for (t = strtok_r(names, " ", &save); !err && t; t = strtok_r(NULL, " ", &save))
			err = rp_store(r, RPMAP_GLOBAL, "v:", t, strlen(t),
				       ep->role == RP_ROLE_PROXY ? rp_proxy_name(r, e) :
				       fqdn[ep->role], false);
	}
	for (i = 0; !err && i < r->nrecs; i++) {
		const struct rp_sip *s = &r->recs[i].sip;
		const char *const aors[2] = { s->from_aor, s->to_aor };
		int k;

		for (k = 0; k < 2; k++) {
			char key[320];
			const char *m;

			snprintf(key, sizeof(key), "aor:%s", aors[k]);
			m = rpmap_get(r->map, RPMAP_GLOBAL, key, strlen(key));
			if (!m || !strchr(aors[k], '@'))
				continue;
			err = rp_store(r, RPMAP_GLOBAL, "v:", rp_aor_domain(aors[k]),
				       strlen(rp_aor_domain(aors[k])), rp_aor_domain(m), false);
		}
		/* the recorded proxy names its external edge in its trust mark */
		{
			const struct rp_hdr *h = rp_sip_hdr(s, "ms-edge-proxy-message-trust", 0);
			char ep[128];

			if (!h)
				continue;
			rp_param(h->val, h->vlen, "ms-ep-fqdn", ep, sizeof(ep));
			if (ep[0])
				err = rp_store(r, RPMAP_GLOBAL, "v:", ep, strlen(ep),
					       "ap.contoso.test", false);
		}
	}
	return err;
}
