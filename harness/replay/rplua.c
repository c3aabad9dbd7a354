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
#include "rplua_int.h"







/* A Lua string literal of any bytes. */
void rpl_str(FILE *f, const char *s, size_t n)
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

void rpl_cstr(FILE *f, const char *s)
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
int rpl_user(struct rplua *L, const char *rec_aor)
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

	/* a lab's own capture was made with the lab's PIC users: nothing to say */
	for (i = 0; i < r->nusers && !r->lab_capture; i++)
		pic |= !rpl_default_pic(r->users[i].aor) || !r->users[i].enabled;
	for (i = 0; i < 3; i++)
		prov |= !r->provider_allow[i] || r->provider_blocked[i] || r->provider_filter[i][0] ||
			r->provider_partner[i];
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
			if (r->provider_allow[i] && !r->provider_blocked[i] &&
			    !r->provider_filter[i][0] && !r->provider_partner[i])
				continue;
			fprintf(L->f, " %s = { allow = %s", pn[i],
				r->provider_allow[i] ? "true" : "false");
			if (r->provider_blocked[i])
				fprintf(L->f, ", blocked = true");
			if (r->provider_filter[i][0])
				fprintf(L->f, ", filter = \"%s\"", r->provider_filter[i]);
			if (r->provider_partner[i])
				fprintf(L->f, ", public = false");
			fprintf(L->f, " },");
		}
		fprintf(L->f, " },");
	}
	fprintf(L->f, " },\n");
}

const char *rpl_site(enum rp_role role)
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
		rpl_unknown_users(L);
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
	if (L->uses_sip)
		fprintf(f, "local sip = require(\"sip\")  -- request text for the send_raw steps\n\n");
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
		if (L->users[i].unknown)
			fprintf(f, "    -- %s: unknown to its site (404), named by address only\n",
				L->users[i].aor);
		else
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
