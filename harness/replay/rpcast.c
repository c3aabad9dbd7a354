/* rpcast: the replay's cast stage — every endpoint of the capture gets a lab role (the proxy's
 * place, the enterprise home server, a public provider, a federated partner: MSN with
 * public = no) from a map file, from the lab's own addresses, or from the domains and host
 * names it used; users are collected for the lab to provision. The map file format is in
 * README.md ("Replay a capture"). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/mem.h"
#include "../lab.h"
#include "replay_int.h"

static const char *const rp_role_names[RP_NROLES] = {
	[RP_ROLE_NONE] = "none", [RP_ROLE_PROXY] = "proxy", [RP_ROLE_ENTERPRISE] = "enterprise",
	[RP_ROLE_AOL] = "aol", [RP_ROLE_YAHOO] = "yahoo", [RP_ROLE_MSN] = "msn",
};

static const char *const rp_role_domains[RP_NROLES] = {
	[RP_ROLE_ENTERPRISE] = "contoso.test", [RP_ROLE_AOL] = "aol.test",
	[RP_ROLE_YAHOO] = "yahoo.test", [RP_ROLE_MSN] = "msn.test",
	[RP_ROLE_PROXY] = "ap.contoso.test",
};

const char *rp_role_name(enum rp_role r)
{
	return r < RP_NROLES ? rp_role_names[r] : "?";
}

enum rp_role rp_role_parse(const char *name)
{
	int i;

	for (i = 1; i < RP_NROLES; i++)
		if (!strcasecmp(name, rp_role_names[i]))
			return (enum rp_role)i;
	return RP_ROLE_NONE;
}

const char *rp_role_domain(enum rp_role r)
{
	return r < RP_NROLES && rp_role_domains[r] ? rp_role_domains[r] : "";
}

/* Domains the public providers are known by, in the lab and outside it. */
static enum rp_role rpcast_domain_builtin(const char *d)
{
	static const struct {
		const char *suffix;
		enum rp_role role;
	} tab[] = {
		{ "contoso.test", RP_ROLE_ENTERPRISE }, { "aol.test", RP_ROLE_AOL },
		{ "aol.com", RP_ROLE_AOL }, { "aim.com", RP_ROLE_AOL },
		{ "yahoo.test", RP_ROLE_YAHOO }, { "yahoo.com", RP_ROLE_YAHOO },
		{ "msn.test", RP_ROLE_MSN }, { "msn.com", RP_ROLE_MSN },
		{ "hotmail.com", RP_ROLE_MSN }, { "live.com", RP_ROLE_MSN },
		{ "outlook.com", RP_ROLE_MSN },
	};
	size_t i, dl = strlen(d);

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		size_t sl = strlen(tab[i].suffix);

		if (dl >= sl && !strcasecmp(d + dl - sl, tab[i].suffix) &&
		    (dl == sl || d[dl - sl - 1] == '.'))
			return tab[i].role;
	}
	return RP_ROLE_NONE;
}

static enum rp_role rpcast_domain_role(const struct replay *r, const char *d)
{
	char key[300];
	const char *m;

	snprintf(key, sizeof(key), "role-of-domain:%s", d);
	m = rpmap_get(r->map, RPMAP_GLOBAL, key, strlen(key));
	return m ? rp_role_parse(m) : rpcast_domain_builtin(d);
}

/* ---- the map file ---- */

static int rpcast_map_error(const char *file, unsigned line, const char *fmt, const char *a)
{
	fprintf(stderr, "piclab replay: map %s:%u: ", file, line);
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	return EINVAL;
}

static int rpcast_find_ep(struct replay *r, const char *addr)
{
	char want[80];
	int i;

	snprintf(want, sizeof(want), "%s", addr);
	if (want[0] == '[') {
		memmove(want, want + 1, strlen(want));
		want[strcspn(want, "]")] = '\0';
	}
	for (i = 0; i < r->neps; i++)
		if (!strcasecmp(r->eps[i].label, want))
			return i;
	return -1;
}

static int rpcast_map_line(struct replay *r, const char *file, unsigned ln, char *line)
{
	char *w[5] = { 0 }, *save = NULL;
	int n = 0, pi;
	enum rp_role role;
	char key[300];

	for (char *t = strtok_r(line, " \t\r\n", &save); t && n < 5 && t[0] != '#';
	     t = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = t;
	if (!n)
		return 0;
	if (!strcmp(w[0], "endpoint") || !strcmp(w[0], "domain")) {
		int e;

		if (n != 3)
			return rpcast_map_error(file, ln, "'%s' wants two words: WHAT ROLE", w[0]);
		/* a federated partner (public = no, found by SRV) plays in MSN's place */
		if (!strcmp(w[2], "partner")) {
			r->provider_partner[lab_provider_find("msn")] = true;
			w[2] = "msn";
		}
		role = rp_role_parse(w[2]);
		if (role == RP_ROLE_NONE)
			return rpcast_map_error(file, ln, "role '%s' does not exist (roles: "
						"enterprise, aol, yahoo, msn, partner, proxy)", w[2]);
		if (!strcmp(w[0], "domain")) {
			snprintf(key, sizeof(key), "role-of-domain:%s", w[1]);
			return rpmap_set(r->map, RPMAP_GLOBAL, key, strlen(key), w[2], true);
		}
		e = rpcast_find_ep(r, w[1]);
		if (e < 0)
			return rpcast_map_error(file, ln, "endpoint %s is not in the capture", w[1]);
		r->eps[e].role = role;
		r->eps[e].role_from_map = true;
		snprintf(r->eps[e].why, sizeof(r->eps[e].why), "map %s:%u", file, ln);
		return 0;
	}
	if (!strcmp(w[0], "user")) {
		if (n < 3 || !strchr(w[1], '@') || !strchr(w[2], '@'))
			return rpcast_map_error(file, ln, "'%s' wants OLD@DOMAIN NEW@DOMAIN "
						"[disabled]", w[0]);
		role = rpcast_domain_builtin(rp_aor_domain(w[2]));
		if (role == RP_ROLE_NONE || role == RP_ROLE_PROXY)
			return rpcast_map_error(file, ln, "new user '%s' is in no lab domain "
						"(contoso.test, aol.test, yahoo.test, msn.test)", w[2]);
		snprintf(key, sizeof(key), "aor:%s", w[1]);
		if (rpmap_set(r->map, RPMAP_GLOBAL, key, strlen(key), w[2], true))
			return ENOMEM;
		if (n > 3 && !strcmp(w[3], "disabled")) {
			snprintf(key, sizeof(key), "disabled:%s", w[2]);
			return rpmap_set(r->map, RPMAP_GLOBAL, key, strlen(key), "1", true);
		}
		return 0;
	}
	if (!strcmp(w[0], "provider")) {
		if (n < 3 || (pi = lab_provider_find(w[1])) < 0)
			return rpcast_map_error(file, ln, "provider '%s' does not exist (aol, yahoo, "
						"msn)", n > 1 ? w[1] : "");
		if (!strcmp(w[2], "allow"))
			r->provider_allow[pi] = true;
		else if (!strcmp(w[2], "deny"))
			r->provider_allow[pi] = false;
		else if (!strcmp(w[2], "block"))
			r->provider_blocked[pi] = true;
		else if (!strcmp(w[2], "filter") && n == 4)
			snprintf(r->provider_filter[pi], sizeof(r->provider_filter[pi]), "%s", w[3]);
		else if (!strcmp(w[2], "partner"))
			r->provider_partner[pi] = true;
		else
			return rpcast_map_error(file, ln, "provider: '%s' is not allow, deny, block, "
						"partner or filter MODE", w[2]);
		return 0;
	}
	return rpcast_map_error(file, ln, "unknown rule '%s' (endpoint, domain, user, provider)",
				w[0]);
}

static int rpcast_map_file(struct replay *r, const char *file)
{
	char line[1024];
	unsigned ln = 0;
	FILE *fp = fopen(file, "r");
	int err = 0;

	if (!fp) {
		fprintf(stderr, "piclab replay: cannot read map %s: %s\n", file, strerror(errno));
		return EINVAL;
	}
	while (!err && fgets(line, sizeof(line), fp))
		err = rpcast_map_line(r, file, ++ln, line);
	fclose(fp);
	return err;
}

/* ---- automatic cast ---- */

/* Addresses of a PIClab lab (127.77.L.x) name their host by the last octet. */
static void rpcast_lab_addr(struct rp_ep *e)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&e->addr;
	uint32_t a;

	if (e->role_from_map || e->addr.ss_family != AF_INET)
		return;
	a = ntohl(in->sin_addr.s_addr);
	if ((a >> 16) != ((127u << 8) | 77u))
		return;
	switch (lab_host_of_addr((const struct sockaddr *)&e->addr)) {
	case LAB_POOL: e->role = RP_ROLE_ENTERPRISE; break;
	case LAB_AP_INT:
	case LAB_AP_EXT: e->role = RP_ROLE_PROXY; break;
	case LAB_AOL: e->role = RP_ROLE_AOL; break;
	case LAB_YAHOO: e->role = RP_ROLE_YAHOO; break;
	case LAB_MSN: e->role = RP_ROLE_MSN; break;
	default: return;
	}
	snprintf(e->why, sizeof(e->why), "a PIClab lab address");
}

static void rpcast_vote(struct replay *r, int ep, const char *aor_or_host, int weight)
{
	enum rp_role role = rpcast_domain_role(r, rp_aor_domain(aor_or_host));

	if (role != RP_ROLE_NONE && ep >= 0)
		r->eps[ep].votes[role] += weight;
}

static void rpcast_names(struct replay *r)
{
	size_t i;

	for (i = 0; i < r->nrecs; i++) {
		const struct rp_rec *m = &r->recs[i];
		const struct rp_hdr *v = rp_sip_hdr(&m->sip, "Via", 0);
		char tr[16], host[128];
		struct rp_ep *e = &r->eps[m->src];

		if (!m->sip.req || !v)
			continue;
		rp_via_host(v->val, v->vlen, tr, sizeof(tr), host, sizeof(host));
		if (host[0] && !strstr(e->names, host) &&
		    strlen(e->names) + strlen(host) + 2 < sizeof(e->names)) {
			if (e->names[0])
				strcat(e->names, " ");
			strcat(e->names, host);
		}
		rpcast_vote(r, m->src, host, 3);
	}
}

/* From the domains each endpoint spoke for: the From of what it sent first, the To of what
 * finally reached it. */
static void rpcast_domains(struct replay *r)
{
	int k, i;

	rpcast_names(r);
	for (k = 0; k < r->ntxns; k++) {
		const struct rp_txn *t = &r->txns[k];
		const struct rp_rec *first = &r->recs[t->hops[0]];

		rpcast_vote(r, t->client, first->sip.from_aor, 2);
		rpcast_vote(r, t->server, first->sip.ruri_aor[0] ? first->sip.ruri_aor :
					  first->sip.to_aor, 1);
	}
	for (i = 0; i < r->neps; i++) {
		struct rp_ep *e = &r->eps[i];
		int best = RP_ROLE_NONE, j;

		if (e->role != RP_ROLE_NONE)
			continue;
		for (j = RP_ROLE_ENTERPRISE; j < RP_NROLES; j++)
			if (e->votes[j] > (best ? e->votes[best] : 0))
				best = j;
		if (best != RP_ROLE_NONE) {
			e->role = (enum rp_role)best;
			snprintf(e->why, sizeof(e->why), "the domains and names it used");
		}
	}
}

/* Users as the lab will know them: user@<the role's lab domain>, or as a map rule says. */
static int rpcast_aor(struct replay *r, const char *aor, enum rp_role role)
{
	char key[320], nu[300], dkey[320];
	const char *at = strchr(aor, '@'), *m;
	enum rp_role own;
	size_t i, o = 0;

	if (!at || at == aor)
		return 0;
	/* a domain the lab knows keeps its role (a provider may send for another's domain:
	 * that is what the proxy must refuse); an unknown one takes the side's */
	own = rpcast_domain_role(r, at + 1);
	if (own >= RP_ROLE_ENTERPRISE)
		role = own;
	else if (r->lab_capture)
		return 0;       /* a lab's own capture: a domain it does not know is meant foreign */
	if (role < RP_ROLE_ENTERPRISE)
		return 0;
	snprintf(key, sizeof(key), "aor:%s", aor);
	m = rpmap_get(r->map, RPMAP_GLOBAL, key, strlen(key));
	if (m) {
		snprintf(nu, sizeof(nu), "%s", m);
	} else {
		for (i = 0; aor + i < at && o + 1 < 64; i++) {
			char ch = aor[i];

			nu[o++] = isalnum((unsigned char)ch) || ch == '.' || ch == '-' ||
				  ch == '_' || ch == '+' ? ch : '_';
		}
		snprintf(nu + o, sizeof(nu) - o, "@%s", rp_role_domain(role));
		if (rpmap_set(r->map, RPMAP_GLOBAL, key, strlen(key), nu, false))
			return ENOMEM;
	}
	if (rpcast_domain_builtin(rp_aor_domain(nu)) != RP_ROLE_ENTERPRISE)
		return 0;
	for (i = 0; i < (size_t)r->nusers; i++)
		if (!strcmp(r->users[i].aor, nu))
			return 0;
	if (r->nusers == (int)(sizeof(r->users) / sizeof(r->users[0]))) {
		rp_log(r, "more than %d enterprise users: %s is not provisioned", r->nusers, nu);
		return 0;
	}
	snprintf(dkey, sizeof(dkey), "disabled:%s", nu);
	snprintf(r->users[r->nusers].aor, sizeof(r->users[0].aor), "%s", nu);
	r->users[r->nusers++].enabled = !rpmap_get(r->map, RPMAP_GLOBAL, dkey, strlen(dkey));
	return 0;
}

/* The party a transaction is for: its last hop's receiver, or (the proxy answered it alone)
 * the role of its Request-URI's domain. */
static enum rp_role rpcast_far(struct replay *r, const struct rp_txn *t)
{
	const struct rp_rec *first = &r->recs[t->hops[0]];
	enum rp_role role = r->eps[t->server].role;

	if (role != RP_ROLE_PROXY)
		return role;
	role = rpcast_domain_role(r, rp_aor_domain(first->sip.ruri_aor));
	if (role == RP_ROLE_NONE)
		role = rpcast_domain_role(r, rp_aor_domain(first->sip.to_aor));
	return role;
}

static int rpcast_users(struct replay *r)
{
	int k, err = 0;

	for (k = 0; !err && k < r->ntxns; k++) {
		struct rp_txn *t = &r->txns[k];
		const struct rp_rec *first = &r->recs[t->hops[0]];

		t->proxy_origin = r->eps[t->client].role == RP_ROLE_PROXY;
		/* the far side is the first party beyond the proxy the request reached (a party
		 * that sent it back, a loop, is not its far side) */
		t->rec_reached = false;
		t->far_hop = t->nhops - 1;
		for (int h = 0; h < t->nhops; h++) {
			int d = r->recs[t->hops[h]].dst;

			if (r->eps[d].role != RP_ROLE_PROXY) {
				t->server = d;
				t->far_hop = h;
				t->rec_reached = true;
				t->rec_far_ts = r->recs[t->hops[h]].ts;
				break;
			}
		}
		t->far_role = rpcast_far(r, t);
		if (t->proxy_origin)
			continue;
		err = rpcast_aor(r, first->sip.from_aor, r->eps[t->client].role);
		if (!err)
			err = rpcast_aor(r, first->sip.to_aor, t->far_role);
		/* in a dialog the Request-URI is a remote target (a Contact), not a user */
		if (!err && !first->sip.ttag[0] && strcmp(first->sip.ruri_aor, first->sip.to_aor))
			err = rpcast_aor(r, first->sip.ruri_aor, t->far_role);
	}
	return err;
}

int rpcast_run(struct replay *r)
{
	int i, err = 0, uncast = 0;

	for (i = 0; i < 3; i++)
		r->provider_allow[i] = true;
	if (r->o->map)
		err = rpcast_map_file(r, r->o->map);
	if (err)
		return err;
	r->lab_capture = true;
	for (i = 0; i < r->neps; i++) {
		rpcast_lab_addr(&r->eps[i]);
		if ((r->eps[i].sent || r->eps[i].received) &&
		    strcmp(r->eps[i].why, "a PIClab lab address"))
			r->lab_capture = false;
	}
	for (i = 0; i < r->neps; i++)
		if (r->eps[i].role == RP_ROLE_PROXY && !r->eps[i].why[0])
			snprintf(r->eps[i].why, sizeof(r->eps[i].why), "it forwarded requests");
	rpcast_domains(r);
	for (i = 0; i < r->neps; i++) {
		const struct rp_ep *e = &r->eps[i];

		if (e->role != RP_ROLE_NONE || (!e->sent && !e->received))
			continue;
		if (!uncast++)
			fprintf(stderr, "piclab replay: %s: endpoints without a lab role; cast them "
				"in a map file (--map), e.g. 'endpoint %s aol':\n", r->o->capture,
				e->label);
		fprintf(stderr, "  %s (names: %s)\n", e->label, e->names[0] ? e->names : "none");
	}
	if (uncast)
		return EINVAL;
	return rpcast_users(r);
}

void rpcast_print(const struct replay *r, FILE *f)
{
	int i;

	fprintf(f, "cast of %s:\n", r->o->capture);
	for (i = 0; i < r->neps; i++) {
		const struct rp_ep *e = &r->eps[i];
		bool partner = e->role >= RP_ROLE_AOL && e->role <= RP_ROLE_MSN &&
			       r->provider_partner[e->role - RP_ROLE_AOL];

		if (!e->sent && !e->received)
			continue;
		fprintf(f, "  %-40s %-11s %s%s%s(%s)\n", e->label,
			partner ? "partner" : rp_role_name(e->role), e->names[0] ? "names " : "",
			e->names, e->names[0] ? " " : "", e->why);
	}
	for (i = 0; i < r->nusers; i++)
		fprintf(f, "  user %-35s provisioned%s\n", r->users[i].aor,
			r->users[i].enabled ? "" : " (not enabled for PIC)");
	for (i = 0; i < 3; i++)
		if (!r->provider_allow[i] || r->provider_filter[i][0] || r->provider_blocked[i] ||
		    r->provider_partner[i])
			fprintf(f, "  provider %s %s%s%s%s%s\n", lab_provider_name((unsigned)i),
				r->provider_allow[i] ? "allowed" : "not allowed",
				r->provider_blocked[i] ? ", blocked" : "",
				r->provider_partner[i] ? ", a federated partner (public = no, "
							 "found by DNS SRV)" : "",
				r->provider_filter[i][0] ? ", filter " : "", r->provider_filter[i]);
}
