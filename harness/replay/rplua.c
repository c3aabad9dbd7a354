/* rplua: `piclab replay --to-lua` — a capture written as an editable Lua scenario. The
 * transactions the replay would send become calls of the normal scenario API in recorded order
 * (send_message/expect_message, sessions, send_request), each checked against the recorded
 * final status, and the legs each one crossed become capture:expect counts at the end. The
 * style is described in scenarios/README.md ("Generated scenarios"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/mem.h"
#include "replay_int.h"
#include "rplua.h"

#define RPL_MAX_USERS 64
#define RPL_MAX_CHECKS 256

struct rpl_user {
	char aor[128];           /* in the lab */
	char var[48];
	enum rp_role role;
};

/* One capture:expect of the last part: leg, method, status (0: requests), from, to, count. */
struct rpl_check {
	char leg[12];
	char method[32];
	int status;
	char from[128];
	char to[128];
	int count;
};

/* A session the scenario holds: the INVITE's group, the caller's recorded AOR. */
struct rpl_sess {
	int group;
	char caller[256];
	bool up;                 /* established: in-dialog requests can be sent */
};

struct rplua {
	struct replay *r;
	FILE *f;
	struct rpl_user users[RPL_MAX_USERS];
	int nusers;
	struct rpl_check checks[RPL_MAX_CHECKS];
	int nchecks;
	struct rpl_sess *sess;   /* one per group, group id = index */
	char allows[RPL_MAX_USERS][RPL_MAX_USERS];
	int skipped;
	int steps;
};

static const char *rpl_leg(enum rp_role role)
{
	return role == RP_ROLE_ENTERPRISE ? "internal" : "external";
}

/* A Lua string literal of any bytes. */
static void rpl_str(FILE *f, const char *s, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 32 || c >= 127)
			fprintf(f, "\\%03u", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void rpl_cstr(FILE *f, const char *s)
{
	rpl_str(f, s, strlen(s));
}

/* The lab AOR of a recorded one (the cast's user map), or NULL. */
static const char *rpl_lab_aor(const struct replay *r, const char *aor)
{
	char key[320];

	snprintf(key, sizeof(key), "aor:%s", aor);
	return rpmap_get(r->map, RPMAP_GLOBAL, key, strlen(key));
}

static enum rp_role rpl_domain_role(const char *aor)
{
	const char *d = rp_aor_domain(aor);
	int i;

	for (i = RP_ROLE_ENTERPRISE; i < RP_NROLES; i++)
		if (!strcasecmp(d, rp_role_domain((enum rp_role)i)))
			return (enum rp_role)i;
	return RP_ROLE_NONE;
}

/* The scenario's user for a recorded AOR: index into users, -1 if it has no lab user. */
static int rpl_user(struct rplua *L, const char *rec_aor)
{
	const char *aor = rpl_lab_aor(L->r, rec_aor);
	struct rpl_user *u;
	enum rp_role role;
	size_t i, o = 0;
	int k;

	if (!aor || (role = rpl_domain_role(aor)) == RP_ROLE_NONE)
		return -1;
	for (k = 0; k < L->nusers; k++)
		if (!strcmp(L->users[k].aor, aor))
			return k;
	if (L->nusers == RPL_MAX_USERS)
		return -1;
	u = &L->users[L->nusers];
	snprintf(u->aor, sizeof(u->aor), "%s", aor);
	u->role = role;
	if (aor[0] >= '0' && aor[0] <= '9')
		u->var[o++] = 'u';      /* a Lua name starts with a letter */
	for (i = 0; aor[i] && aor[i] != '@' && o + 1 < 24; i++) {
		char c = aor[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9');

		u->var[o++] = ok ? c : '_';
	}
	u->var[o] = '\0';
	for (k = 0; k < L->nusers; k++)
		if (!strcmp(L->users[k].var, u->var))
			break;
	if (k < L->nusers || !o || !strcmp(u->var, "lab") || !strcmp(u->var, "end"))
		snprintf(u->var + o, sizeof(u->var) - o, "_%s", rp_role_name(role));
	return L->nusers++;
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
static bool rpl_txn(struct rplua *L, const struct rp_txn *t)
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

static bool rpl_default_pic(const char *aor)
{
	static const char *const def[] = { "alice@contoso.test", "bob@contoso.test",
					   "carol@contoso.test", "dave@contoso.test" };
	size_t i;

	for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
		if (!strcmp(aor, def[i]))
			return true;
	return false;
}

static void rpl_lab_options(struct rplua *L)
{
	const struct replay *r = L->r;
	bool pic = false, prov = false;
	int i;

	for (i = 0; i < r->nusers; i++)
		pic |= !rpl_default_pic(r->users[i].aor) || !r->users[i].enabled;
	for (i = 0; i < 3; i++)
		prov |= !r->provider_allow[i] || r->provider_blocked[i] || r->provider_filter[i][0];
	if (!pic && !prov)
		return;
	fprintf(L->f, "  lab = {");
	if (pic) {
		fprintf(L->f, " pic_users = {");
		for (i = 0; i < r->nusers; i++)
			if (r->users[i].enabled)
				fprintf(L->f, " \"%s\",", r->users[i].aor);
		fprintf(L->f, " },");
	}
	if (prov) {
		static const char *const pn[3] = { "aol", "yahoo", "msn" };

		fprintf(L->f, " providers = {");
		for (i = 0; i < 3; i++) {
			if (r->provider_allow[i] && !r->provider_blocked[i] && !r->provider_filter[i][0])
				continue;
			fprintf(L->f, " %s = { allow = %s", pn[i],
				r->provider_allow[i] ? "true" : "false");
			if (r->provider_blocked[i])
				fprintf(L->f, ", blocked = true");
			if (r->provider_filter[i][0])
				fprintf(L->f, ", filter = \"%s\"", r->provider_filter[i]);
			fprintf(L->f, " },");
		}
		fprintf(L->f, " },");
	}
	fprintf(L->f, " },\n");
}

static const char *rpl_site(enum rp_role role)
{
	switch (role) {
	case RP_ROLE_AOL: return "lab.provider(\"aol\")";
	case RP_ROLE_YAHOO: return "lab.provider(\"yahoo\")";
	case RP_ROLE_MSN: return "lab.provider(\"msn\")";
	default: return "lab.enterprise";
	}
}

static int rpl_write(struct rplua *L, const char *name)
{
	struct replay *r = L->r;
	FILE *f = L->f;
	int k, i;
	char *body = NULL;

	/* the steps first (into memory) so that the users and allows they need can go above */
	{
		size_t blen = 0;
		FILE *mf = open_memstream(&body, &blen);

		if (!mf)
			return ENOMEM;
		L->f = mf;
		for (k = 0; k < r->ntxns; k++) {
			const struct rp_txn *t = &r->txns[k];

			if (t->proxy_origin)
				continue;
			if (rpl_txn(L, t))
				L->steps++;
			else
				L->skipped++;
		}
		fclose(mf);
		L->f = f;
	}
	fprintf(f, "-- Generated by `piclab replay --to-lua` from %s\n", name);
	fprintf(f, "-- (%zu SIP messages, %d transactions, %d groups); edit freely. Each step "
		"names its source\n-- frame and what the recording saw; the counts at the end are "
		"what crossed each leg.\n", r->nrecs, r->ntxns, r->ngroups);
	fprintf(f, "return scenario {\n  title  = ");
	{
		char title[300], dir[256] = "";
		const char *base = strrchr(name, '/');

		base = base ? base + 1 : name;
		/* a lab run's capture.pcap(ng) is named by its scenario's folder */
		if (!strncmp(base, "capture.pcap", 12) && base - name > 1) {
			const char *d = base - 1;

			while (d > name && d[-1] != '/')
				d--;
			snprintf(dir, sizeof(dir), "%.*s/", (int)(base - 1 - d), d);
		}
		snprintf(title, sizeof(title), "replay of %s%s as scenario steps", dir, base);
		rpl_cstr(f, title);
	}
	fprintf(f, ",\n  covers = {},  -- add the requirement ids this traffic proves\n"
		"  tags   = { \"replay\" },\n");
	rpl_lab_options(L);
	fprintf(f, "  run = function(lab)\n");
	for (i = 0; i < L->nusers; i++) {
		fprintf(f, "    local %s = %s:user(\"%s\")\n", L->users[i].var,
			rpl_site(L->users[i].role), L->users[i].aor);
	}
	fputs(body ? body : "", f);
	free(body);
	fprintf(f, "\n    -- what crossed each leg in the recording\n");
	for (i = 0; i < L->nchecks; i++) {
		const struct rpl_check *c = &L->checks[i];

		fprintf(f, "    lab.capture:expect{ leg = \"%s\", method = \"%s\", ", c->leg,
			c->method);
		if (c->status)
			fprintf(f, "status = %d, ", c->status);
		fprintf(f, "from = \"%s\", to = \"%s\", count = %d }\n", c->from, c->to, c->count);
	}
	fprintf(f, "  end,\n}\n");
	return ferror(f) ? EIO : 0;
}

int rplua_write(const struct replay_opts *o)
{
	struct replay r = { .o = o };
	struct rplua L = { .r = &r };
	char tmp[1100];
	int err, rc = 2;

	err = replay_read(&r);
	if (!err)
		err = rprewrite_prepare(&r);
	if (err)
		goto out;
	L.sess = calloc((size_t)r.ngroups + 1, sizeof(*L.sess));
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", o->out, (int)getpid());
	L.f = L.sess ? fopen(tmp, "w") : NULL;
	if (!L.f) {
		fprintf(stderr, "piclab replay --to-lua: cannot write %s: %s\n", o->out,
			strerror(L.sess ? errno : ENOMEM));
		goto out;
	}
	err = rpl_write(&L, o->capture);
	if (fclose(L.f) || err || rename(tmp, o->out)) {
		fprintf(stderr, "piclab replay --to-lua: cannot write %s\n", o->out);
		unlink(tmp);
		goto out;
	}
	rpcast_print(&r, stdout);
	printf("wrote %s: %d transactions as steps, %d left as comments\n", o->out,
	       L.steps, L.skipped);
	rc = 0;
out:
	free(L.sess);
	replay_free(&r);
	return rc;
}
