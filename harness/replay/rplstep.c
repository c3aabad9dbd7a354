/* rplstep: the steps of a generated scenario — each recorded transaction as calls of the
 * scenario API (send_message/expect_message, sessions, send_request, and send_raw where a
 * request says what the API cannot: another's From, Max-Forwards, a Request-URI that is not
 * its To), checked against the recorded final status, and the legs it crossed counted for
 * the capture:expect lines at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay_int.h"
#include "rplua_int.h"

static const char *rpl_leg(enum rp_role role)
{
	return role == RP_ROLE_ENTERPRISE ? "internal" : "external";
}
static void rpl_count(struct rplua *L, const char *leg, const char *method, int status,
		      const char *from, const char *to, int add)
{
	struct rpl_check *c;
	int i;

	for (i = 0; i < L->nchecks; i++) {
		c = &L->checks[i];
		if (!strcmp(c->leg, leg) && !strcmp(c->method, method) && c->status == status &&
		    !strcmp(c->from, from) && !strcmp(c->to, to)) {
			c->count += add;
			return;
		}
	}
	if (L->nchecks == RPL_MAX_CHECKS)
		return;
	c = &L->checks[L->nchecks++];
	snprintf(c->leg, sizeof(c->leg), "%s", leg);
	snprintf(c->method, sizeof(c->method), "%s", method);
	c->status = status;
	snprintf(c->from, sizeof(c->from), "%s", from);
	snprintf(c->to, sizeof(c->to), "%s", to);
	c->count = add;
}

/* What crossed each leg: the request on the sender's leg, on the far side's leg when it got
 * there (count 0 when the proxy kept it), and its final status back on the sender's leg. */
static void rpl_legs(struct rplua *L, const struct rp_txn *t, int cu, int fu)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	const struct rpl_user *c = &L->users[cu], *f = &L->users[fu];

	rpl_count(L, rpl_leg(c->role), s->method, 0, c->aor, f->aor, 1);
	if (strcmp(rpl_leg(c->role), rpl_leg(f->role)))
		rpl_count(L, rpl_leg(f->role), s->method, 0, c->aor, f->aor,
			  t->rec_reached ? 1 : 0);
	if (t->rec_final)
		rpl_count(L, rpl_leg(c->role), s->method, t->rec_final, c->aor, f->aor, 1);
}

/* The body as the lab will see it (names rewritten), malloc'd. */
static char *rpl_body(struct rplua *L, const struct rp_sip *s, size_t *len)
{
	char *b = rprewrite_text(L->r, RPMAP_GLOBAL, s->body ? s->body : "", s->blen, len);

	if (!b) {
		*len = 0;
		return calloc(1, 1);
	}
	return b;
}

/* The first line of a body (at most 60 bytes): what expect_message looks for. */
static void rpl_contains(FILE *f, const char *b, size_t len)
{
	size_t n = strcspn(b, "\r\n");

	if (n > len)
		n = len;
	if (n > 60)
		n = 60;
	rpl_str(f, b, n);
}
static void rpl_comment(struct rplua *L, const struct rp_txn *t, const char *a, const char *b)
{
	const struct rp_rec *m = &L->r->recs[t->hops[0]];

	fprintf(L->f, "\n    -- frame %u: %s %s -> %s; recorded: %s, final %d\n", m->frame,
		m->sip.method, a, b, t->rec_reached ? "reached the far side" : "kept by the proxy",
		t->rec_final);
}

/* The providers' answers to a MESSAGE for an offline user (fakes/im/profile.c). */
static bool rpl_offline_answer(enum rp_role role, int status)
{
	return (role == RP_ROLE_AOL && status == 480) || (role == RP_ROLE_YAHOO && status == 202) ||
	       (role == RP_ROLE_MSN && status == 408);
}
static bool rpl_is_message_sdp(const struct rp_sip *s)
{
	const struct rp_hdr *ct = rp_sip_hdr(s, "Content-Type", 0);
	const char *p, *end = s->body + s->blen;

	if (!s->blen)
		return true;
	if (!ct || ct->vlen < 15 || strncasecmp(ct->val, "application/sdp", 15))
		return false;
	/* a text session offer only: every media line is m=message */
	for (p = s->body; p && p + 2 < end; p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : p)
		if (!strncmp(p, "m=", 2) && (end - p < 9 || strncmp(p, "m=message", 9)))
			return false;
	return memmem(s->body, s->blen, "m=message", 9) != NULL;
}

/* An initial INVITE with a text-session offer: a Session on each side. */
static void rpl_invite(struct rplua *L, const struct rp_txn *t, int cu, int fu)
{
	const char *c = L->users[cu].var, *fv = L->users[fu].var;
	struct rpl_sess *ss = &L->sess[t->group];
	int g = t->group + 1;

	ss->group = t->group;
	snprintf(ss->caller, sizeof(ss->caller), "%s", L->r->recs[t->hops[0]].sip.from_aor);
	fprintf(L->f, "    local s%d = %s:start_session(%s)\n", g, c, fv);
	if (t->rec_reached) {
		fprintf(L->f, "    local a%d = %s:expect_session(%s)\n", g, fv, c);
		if (t->rec_final >= 200 && t->rec_final < 300) {
			fprintf(L->f, "    a%d:accept()\n    s%d:expect_established()\n", g, g);
			ss->up = true;
			return;
		}
		if (t->rec_final >= 300)
			fprintf(L->f, "    a%d:reject(%d)\n", g, t->rec_final);
	}
	fprintf(L->f, "    expect_eq(s%d:expect_end(), \"%d\", \"end of %s's session with %s\")\n",
		g, t->rec_final, c, fv);
}

/* A request inside a session the scenario holds (MESSAGE, BYE), from the caller (s) or the
 * callee (a); false when the scenario has no way to send it. */
static bool rpl_in_session(struct rplua *L, const struct rp_txn *t, int cu, int fu)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	const struct rpl_sess *ss = &L->sess[t->group];
	bool caller = !strcmp(ss->caller, s->from_aor);
	char me[16], peer[16];
	int g = t->group + 1;

	if (!ss->up || !ss->caller[0])
		return false;
	snprintf(me, sizeof(me), "%c%d", caller ? 's' : 'a', g);
	snprintf(peer, sizeof(peer), "%c%d", caller ? 'a' : 's', g);
	if (!strcmp(s->method, "MESSAGE")) {
		size_t bl;
		char *b = rpl_body(L, s, &bl);

		fprintf(L->f, "    expect_eq(%s:send(", me);
		rpl_str(L->f, b, bl);
		fprintf(L->f, "), %d, \"MESSAGE in the session, %s -> %s\")\n", t->rec_final,
			L->users[cu].var, L->users[fu].var);
		if (t->rec_reached && t->rec_final < 300) {
			fprintf(L->f, "    %s:expect_message{ contains = ", peer);
			rpl_contains(L->f, b, bl);
			fprintf(L->f, " }\n");
		}
		free(b);
		return true;
	}
	if (!strcmp(s->method, "BYE")) {
		fprintf(L->f, "    expect_eq(%s:bye(), %d, \"BYE %s -> %s\")\n", me, t->rec_final,
			L->users[cu].var, L->users[fu].var);
		if (t->rec_reached)
			fprintf(L->f, "    %s:expect_end()\n", peer);
		L->sess[t->group].up = false;
		return true;
	}
	return false;
}

/* Headers the lab's user agents write themselves (or that name lab places); any other recorded
 * header is carried as it was (rewritten into the lab). */
/* A header's name as a C string (rp_hdr names may point into the message text). */
static void rpl_hname(const struct rp_hdr *h, char *out, size_t size)
{
	size_t n = strcspn(h->name, ": \t\r\n");

	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), h->name);
}

static bool rpl_ua_header(const char *name, enum rp_role sender)
{
	static const char *const own[] = {
		"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Type", "Content-Length",
		"Max-Forwards", "Route", "Record-Route", "User-Agent", "Server", "Allow",
		"Supported", "Allow-Events", "Accept-Language", "Accept-Encoding", "Date",
		"Timestamp",
	};
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcasecmp(name, own[i]))
			return true;
	/* the MSN-like provider's users claim verification themselves (fakes/im/profile.c) */
	return sender == RP_ROLE_MSN && !strcasecmp(name, "ms-sender-verified");
}

static int rpl_extra_count(const struct rp_sip *s, enum rp_role sender)
{
	int i, n = 0;

	char name[64];

	for (i = 0; i < s->nh; i++) {
		rpl_hname(&s->h[i], name, sizeof(name));
		n += !rpl_ua_header(name, sender);
	}
	return n;
}

/* Max-Forwards other than the user agents' 70 */
static bool rpl_mf_odd(const struct rp_sip *s)
{
	const struct rp_hdr *h = rp_sip_hdr(s, "Max-Forwards", 0);

	return h && (h->vlen != 2 || memcmp(h->val, "70", 2));
}

/* How a request is sent: the API's own call, send_request, or raw text from the sender's site
 * (it speaks for another site's user, has its own Max-Forwards, or its Request-URI is not its
 * To). */
enum rpl_how { RPL_API = 0, RPL_REQUEST, RPL_RAW };

static enum rpl_how rpl_how(const struct rplua *L, const struct rp_txn *t, int cu)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	const struct rp_hdr *ct = rp_sip_hdr(s, "Content-Type", 0);

	if (L->r->eps[t->client].role != L->users[cu].role || rpl_mf_odd(s) ||
	    strcasecmp(s->ruri_aor, s->to_aor))
		return RPL_RAW;
	if (rpl_extra_count(s, L->r->eps[t->client].role))
		return RPL_REQUEST;
	if (!strcmp(s->method, "MESSAGE"))
		return !ct || (ct->vlen >= 10 && !strncasecmp(ct->val, "text/plain", 10)) ?
		       RPL_API : RPL_REQUEST;
	if (!strcmp(s->method, "INVITE"))
		return rpl_is_message_sdp(s) ? RPL_API : RPL_REQUEST;
	return RPL_REQUEST;
}

/* The carried headers as a Lua list of "Name: value" (values rewritten into the lab). */
static void rpl_headers(struct rplua *L, const struct rp_sip *s, enum rp_role sender,
			bool with_mf)
{
	int i;

	fprintf(L->f, "headers = {");
	for (i = 0; i < s->nh; i++) {
		const struct rp_hdr *h = &s->h[i];
		char name[64];
		bool mf;
		size_t vl;
		char *v, *line;

		rpl_hname(h, name, sizeof(name));
		mf = with_mf && !strcasecmp(name, "Max-Forwards") && rpl_mf_odd(s);
		if (rpl_ua_header(name, sender) && !mf)
			continue;
		v = rprewrite_text(L->r, RPMAP_GLOBAL, h->val, h->vlen, &vl);
		if (!v)
			continue;
		line = malloc(strlen(name) + vl + 3);
		if (line) {
			sprintf(line, "%s: %s", name, v);
			fputc(' ', L->f);
			rpl_cstr(L->f, line);
			fputc(',', L->f);
		}
		free(line);
		free(v);
	}
	fprintf(L->f, " }");
}

/* Any other out-of-dialog request (send_request), or one the API cannot say (send_raw of
 * sip.request text from the sender's site), with its body and carried headers. */
static void rpl_request(struct rplua *L, const struct rp_txn *t, int cu, int fu, int n,
			bool raw)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	const struct rp_hdr *ct = rp_sip_hdr(s, "Content-Type", 0);
	size_t bl;
	char *b = rpl_body(L, s, &bl);

	if (raw) {
		size_t ul;
		char *ruri = rprewrite_text(L->r, RPMAP_GLOBAL, s->ruri, s->rurilen, &ul);

		L->uses_sip = true;
		fprintf(L->f, "    local r%d = %s:send_raw(sip.request{ method = ", n,
			rpl_site(L->r->eps[t->client].role));
		rpl_cstr(L->f, s->method);
		fprintf(L->f, ", from = \"%s\", to = \"%s\",\n      ruri = ", L->users[cu].aor,
			L->users[fu].aor);
		rpl_str(L->f, ruri ? ruri : "", ruri ? ul : 0);
		free(ruri);
		fprintf(L->f, ", ");
	} else {
		fprintf(L->f, "    local r%d = %s:send_request{ method = ", n, L->users[cu].var);
		rpl_cstr(L->f, s->method);
		fprintf(L->f, ", to = %s, ", L->users[fu].ref);
	}
	rpl_headers(L, s, L->r->eps[t->client].role, raw);
	if (bl) {
		fprintf(L->f, ",\n      body = ");
		rpl_str(L->f, b, bl);
		if (ct) {
			fprintf(L->f, ", content_type = ");
			rpl_str(L->f, ct->val, ct->vlen);
		}
	}
	if (raw)
		fprintf(L->f, " })\n    expect_eq(r%d.final and r%d.final.status, %d, \"%s %s -> %s "
			"(as sent by %s)\")\n", n, n, t->rec_final, s->method, L->users[cu].var,
			L->users[fu].var, rp_role_name(L->r->eps[t->client].role));
	else
		fprintf(L->f, " }\n    expect_eq(r%d.status, %d, \"%s %s -> %s\")\n", n,
			t->rec_final, s->method, L->users[cu].var, L->users[fu].var);
	if (!strcmp(s->method, "MESSAGE") && t->rec_reached && t->rec_final >= 200 &&
	    t->rec_final < 300) {
		fprintf(L->f, "    %s:expect_message{ contains = ", L->users[fu].var);
		rpl_contains(L->f, b, bl);
		fprintf(L->f, " }\n");
	}
	free(b);
}

/* Enterprise users take unverified requests only from people on their allow list: the pair
 * whose recorded request the enterprise accepted is allowed just before it (an earlier refusal
 * stays a refusal). */
static void rpl_allow(struct rplua *L, const struct rp_txn *t, int cu, int fu)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	bool sub = !strcmp(s->method, "SUBSCRIBE");
	int e = -1, o = -1;

	if (!t->rec_reached || t->rec_final < 200 || t->rec_final >= 300)
		return;
	if (sub) {
		/* 200: the watcher is authorized; 202: it is not (yet), nobody allows it */
		if (t->rec_final != 200)
			return;
		e = fu;
		o = cu;
	} else if (L->users[cu].role != RP_ROLE_ENTERPRISE &&
		   L->users[fu].role == RP_ROLE_ENTERPRISE) {
		e = fu;
		o = cu;
	} else if (L->users[fu].role != RP_ROLE_ENTERPRISE &&
		   L->users[cu].role == RP_ROLE_ENTERPRISE && !strcmp(s->method, "INVITE")) {
		e = cu;                 /* the callee answers inside the session */
		o = fu;
	}
	if (e < 0 || L->allows[e][o])
		return;
	L->allows[e][o] = 1;
	fprintf(L->f, "    %s:allow(%s)  -- %s: on the allow list\n", L->users[e].var,
		L->users[o].var, sub ? "the watcher was authorized" : "the enterprise accepted it");
}

/* One recorded transaction as scenario steps; false when it is left as a comment. */
bool rpl_txn(struct rplua *L, const struct rp_txn *t)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	int cu = rpl_user(L, s->from_aor), fu = rpl_user(L, s->to_aor);
	const char *why = NULL;
	enum rpl_how how;

	if (cu < 0 || fu < 0) {
		fprintf(L->f, "\n    -- frame %u: %s %s -> %s: not replayed (no lab user for %s)\n",
			L->r->recs[t->hops[0]].frame, s->method, s->from_aor, s->to_aor,
			cu < 0 ? s->from_aor : s->to_aor);
		return false;
	}
	rpl_comment(L, t, L->users[cu].aor, L->users[fu].aor);
	if (!s->ttag[0])
		rpl_allow(L, t, cu, fu);
	if (!strcmp(s->method, "ACK") || !strcmp(s->method, "CANCEL")) {
		why = "the session sends it";
	} else if (s->ttag[0]) {
		if (rpl_in_session(L, t, cu, fu))
			goto sent;
		why = "a request inside a dialog the scenario does not hold";
	} else if (t->rec_final && (how = rpl_how(L, t, cu)) != RPL_API) {
		rpl_request(L, t, cu, fu, t->id + 1, how == RPL_RAW);
	} else if (!strcmp(s->method, "MESSAGE")) {
		size_t bl;
		char *b = rpl_body(L, s, &bl);
		bool off = t->rec_reached && rpl_offline_answer(L->users[fu].role, t->rec_final);

		if (off)
			fprintf(L->f, "    -- %d is %s's answer for a user who is offline\n"
				"    %s:set_presence(\"offline\")\n", t->rec_final,
				rp_role_name(L->users[fu].role), L->users[fu].var);

		if (t->rec_final)
			fprintf(L->f, "    expect_eq(%s:send_message(%s, ", L->users[cu].var,
				L->users[fu].ref);
		else
			fprintf(L->f, "    %s:send_message(%s, ", L->users[cu].var, L->users[fu].ref);
		rpl_str(L->f, b, bl);
		if (t->rec_final)
			fprintf(L->f, "), %d, \"MESSAGE %s -> %s\")\n", t->rec_final,
				L->users[cu].var, L->users[fu].var);
		else
			fprintf(L->f, ")\n");
		if (t->rec_reached && t->rec_final < 300 && !off) {
			fprintf(L->f, "    %s:expect_message{ from = %s, contains = ",
				L->users[fu].var, L->users[cu].var);
			rpl_contains(L->f, b, bl);
			fprintf(L->f, " }\n");
		}
		free(b);
	} else if (!strcmp(s->method, "INVITE") && t->rec_final) {
		rpl_invite(L, t, cu, fu);
	} else if (t->rec_final) {
		rpl_request(L, t, cu, fu, t->id + 1, false);
	} else {
		why = "no final answer was recorded";
	}
	if (why) {
		fprintf(L->f, "    -- not replayed: %s\n", why);
		return false;
	}
sent:
	rpl_legs(L, t, cu, fu);
	return true;
}

void rpl_unknown_users(struct rplua *L)
{
	int k, i;

	for (k = 0; k < L->r->ntxns; k++) {
		const struct rp_txn *t = &L->r->txns[k];
		const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
		int cu, fu;

		if (t->proxy_origin)
			continue;
		cu = rpl_user(L, s->from_aor);
		fu = rpl_user(L, s->to_aor);
		if (cu >= 0)
			L->users[cu].known = true;
		if (fu < 0)
			continue;
		if (t->rec_reached && t->rec_final == 404 && strcmp(s->method, "INVITE") &&
		    !s->ttag[0])
			L->users[fu].unknown = true;
		else
			L->users[fu].known = true;
	}
	for (i = 0; i < L->nusers; i++) {
		struct rpl_user *u = &L->users[i];
		const char *name = u->unknown && !u->known ? u->aor : u->var;
		size_t n = strnlen(name, sizeof(u->ref) - 3);

		u->unknown &= !u->known;
		/* by hand: the compiler cannot tell these members apart from the whole of *L */
		if (u->unknown) {
			u->ref[0] = '"';
			memcpy(u->ref + 1, name, n);
			memcpy(u->ref + 1 + n, "\"", 2);
		} else {
			memcpy(u->ref, name, n);
			u->ref[n] = '\0';
		}
	}
}
