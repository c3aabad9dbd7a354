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
	return !s->blen || (s->body && memmem(s->body, s->blen, "m=message", 9));
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
/* Any other out-of-dialog request, with its recorded body and the headers that carry meaning
 * for the far side (Event, Expires, Accept, Content-Type). */
static void rpl_request(struct rplua *L, const struct rp_txn *t, int cu, int fu, int n)
{
	static const char *const keep[] = { "Event", "Expires", "Accept" };
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	const struct rp_hdr *ct = rp_sip_hdr(s, "Content-Type", 0);
	size_t k, bl;
	char *b = rpl_body(L, s, &bl);

	fprintf(L->f, "    local r%d = %s:send_request{ method = ", n, L->users[cu].var);
	rpl_cstr(L->f, s->method);
	fprintf(L->f, ", to = %s", L->users[fu].var);
	fprintf(L->f, ", headers = {");
	for (k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
		const struct rp_hdr *h = rp_sip_hdr(s, keep[k], 0);

		if (h) {
			char line[300];

			snprintf(line, sizeof(line), "%s: %.*s", keep[k], (int)h->vlen, h->val);
			fputc(' ', L->f);
			rpl_cstr(L->f, line);
			fputc(',', L->f);
		}
	}
	fprintf(L->f, " }");
	if (bl) {
		fprintf(L->f, ",\n      body = ");
		rpl_str(L->f, b, bl);
		if (ct) {
			fprintf(L->f, ", content_type = ");
			rpl_str(L->f, ct->val, ct->vlen);
		}
	}
	fprintf(L->f, " }\n    expect_eq(r%d.status, %d, \"%s %s -> %s\")\n", n, t->rec_final,
		s->method, L->users[cu].var, L->users[fu].var);
	free(b);
}
/* Enterprise users take unverified requests only from people on their allow list: the pair
 * whose recorded request the enterprise accepted is allowed just before it (an earlier refusal
 * stays a refusal). */
static void rpl_allow(struct rplua *L, const struct rp_txn *t, int cu, int fu)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	int e = -1, o = -1;

	if (!t->rec_reached || t->rec_final < 200 || t->rec_final >= 300)
		return;
	if (L->users[cu].role != RP_ROLE_ENTERPRISE && L->users[fu].role == RP_ROLE_ENTERPRISE) {
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
	fprintf(L->f, "    %s:allow(%s)  -- the enterprise accepted it: on the allow list\n",
		L->users[e].var, L->users[o].var);
}
/* One recorded transaction as scenario steps; false when it is left as a comment. */
bool rpl_txn(struct rplua *L, const struct rp_txn *t)
{
	const struct rp_sip *s = &L->r->recs[t->hops[0]].sip;
	int cu = rpl_user(L, s->from_aor), fu = rpl_user(L, s->to_aor);
	const char *why = NULL;

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
				L->users[fu].var);
		else
			fprintf(L->f, "    %s:send_message(%s, ", L->users[cu].var, L->users[fu].var);
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
	} else if (!strcmp(s->method, "INVITE") && rpl_is_message_sdp(s) && t->rec_final) {
		rpl_invite(L, t, cu, fu);
	} else if (t->rec_final) {
		rpl_request(L, t, cu, fu, t->id + 1);
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
