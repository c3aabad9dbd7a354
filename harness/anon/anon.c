/* anon: `piclab anonymize` — a capture's SIP (decrypted with its key log) rewritten with keyed,
 * consistent pseudonyms for users, domains, addresses, Call-IDs, tags, branches and message
 * text, and written as cleartext TCP (UDP stays UDP) in a pcapng that can be committed and
 * still replays. It says what it could not anonymize. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "../decode/capdec.h"
#include "../replay/replay_int.h"
#include "anon.h"
#include "anon_int.h"

struct anon {
	const char *capture, *keys, *map, *out;
	char key[1024];
	size_t keylen;
	struct capdec *dec;
	struct anonmap *m;
	struct anon_report rep;
	unsigned tls_left_out;
	unsigned not_sip_flows;
};

/* The pseudonymous address of a packet address (port kept). */
static int anon_sa(struct anon *a, const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	char ip[64];
	const char *v;

	if (in->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)in;
		struct sockaddr_in *o = (void *)out;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		v = anonmap_put(a->m, ANON_IP4, ip, strlen(ip));
		memset(out, 0, sizeof(*out));
		o->sin_family = AF_INET;
		o->sin_port = s->sin_port;
		return v && inet_pton(AF_INET, v, &o->sin_addr) == 1 ? 0 : EINVAL;
	} else {
		const struct sockaddr_in6 *s = (const void *)in;
		struct sockaddr_in6 *o = (void *)out;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		v = anonmap_put(a->m, ANON_IP6, ip, strlen(ip));
		memset(out, 0, sizeof(*out));
		o->sin6_family = AF_INET6;
		o->sin6_port = s->sin6_port;
		return v && inet_pton(AF_INET6, v, &o->sin6_addr) == 1 ? 0 : EINVAL;
	}
}

static const struct capdec_flow *anon_flow(const struct anon *a, unsigned id)
{
	size_t i, n = capdec_flow_count(a->dec);
	const struct capdec_flow *f = id < n ? capdec_flow_at(a->dec, id) : NULL;

	if (f && f->id == id)
		return f;
	for (i = 0; i < n; i++)
		if (capdec_flow_at(a->dec, i)->id == id)
			return capdec_flow_at(a->dec, i);
	return NULL;
}

static int anon_write(struct anon *a)
{
	struct anonpcap *p = NULL;
	size_t i, n = capdec_sip_count(a->dec);
	double last = 0;
	int err;

	/* pass 1: every identifier, so that a later mention is replaced even in a body */
	for (i = 0; i < n; i++) {
		const struct capdec_sip *m = capdec_sip_at(a->dec, i);
		struct sockaddr_storage x;

		anonsip_collect(a->m, m->data, m->len);
		anon_sa(a, &m->src, &x);
		anon_sa(a, &m->dst, &x);
	}
	err = anonpcap_open(&p, a->out);
	if (err) {
		fprintf(stderr, "piclab anonymize: cannot write %s: %s\n", a->out, strerror(err));
		return err;
	}
	for (i = 0; !err && i < n; i++) {
		const struct capdec_sip *m = capdec_sip_at(a->dec, i);
		const struct capdec_flow *f = anon_flow(a, m->flow);
		struct sockaddr_storage cl, sv;
		size_t ol;
		char *o;

		if (!f)
			continue;
		o = anonsip_rewrite(a->m, m->data, m->len, &ol, &a->rep);
		if (!o)
			err = ENOMEM;
		if (!err)
			err = anon_sa(a, &f->client, &cl);
		if (!err)
			err = anon_sa(a, &f->server, &sv);
		if (!err)
			err = anonpcap_msg(p, f->id, f->udp, &cl, &sv,
					   sa_equal((const struct sockaddr *)&m->src,
						    (const struct sockaddr *)&f->client),
					   m->ts, o, ol);
		last = m->ts;
		free(o);
	}
	if (err) {
		mem_deref(p);
		fprintf(stderr, "piclab anonymize: writing %s failed: %s\n", a->out, strerror(err));
		return err;
	}
	err = anonpcap_close(p, last);
	if (err)
		fprintf(stderr, "piclab anonymize: writing %s failed: %s\n", a->out, strerror(err));
	return err;
}

#define ANON_MAP_DOMAINS 64

struct anon_mapw {
	struct anon *a;
	FILE *f;
	struct {
		char dom[128];
		enum rp_role role;       /* RP_ROLE_NONE: users of several roles */
	} d[ANON_MAP_DOMAINS];
	int nd;
};

/* domain lines: a recorded domain whose users the cast placed all in one role, under its
 * pseudonym (a domain both sides used is left to the endpoints' roles) */
static void anon_map_domain(const char *key, const char *val, void *arg)
{
	struct anon_mapw *w = arg;
	const char *at = strchr(key, '@'), *nd = strchr(val, '@');
	enum rp_role role = RP_ROLE_NONE;
	int i;

	if (strncmp(key, "aor:", 4) || !at || !nd)
		return;
	for (i = RP_ROLE_ENTERPRISE; i < RP_NROLES; i++)
		if (!strcmp(nd + 1, rp_role_domain((enum rp_role)i)))
			role = (enum rp_role)i;
	for (i = 0; i < w->nd; i++)
		if (!strcmp(w->d[i].dom, at + 1)) {
			if (w->d[i].role != role)
				w->d[i].role = RP_ROLE_NONE;
			return;
		}
	if (w->nd < ANON_MAP_DOMAINS && strlen(at + 1) < sizeof(w->d[0].dom)) {
		snprintf(w->d[w->nd].dom, sizeof(w->d[0].dom), "%s", at + 1);
		w->d[w->nd++].role = role;
	}
}

/* OUT.map: the cast of the original capture in pseudonyms, so the output replays as is. */
static void anon_castmap(struct anon *a)
{
	struct replay_opts o = { .capture = a->capture, .keys = a->keys, .map = a->map };
	struct replay r = { .o = &o };
	char path[1100];
	const char *dot = strrchr(a->out, '.');
	struct anon_mapw w = { .a = a };
	int i;

	snprintf(path, sizeof(path), "%.*s.map", (int)(dot && !strchr(dot, '/') ?
		 (size_t)(dot - a->out) : strlen(a->out)), a->out);
	if (replay_read(&r)) {
		printf("cast: none (see above); replay %s with a map file of your own\n", a->out);
		replay_free(&r);
		return;
	}
	w.f = fopen(path, "w");
	if (!w.f) {
		fprintf(stderr, "piclab anonymize: cannot write %s: %s\n", path, strerror(errno));
		replay_free(&r);
		return;
	}
	fprintf(w.f, "# cast of %s in its pseudonyms (piclab anonymize)\n", a->out);
	for (i = 0; i < r.neps; i++) {
		const char *v = anonmap_find(a->m, r.eps[i].label, strlen(r.eps[i].label));

		if (v && r.eps[i].role != RP_ROLE_NONE && (r.eps[i].sent || r.eps[i].received))
			fprintf(w.f, "endpoint %s %s\n", v, rp_role_name(r.eps[i].role));
	}
	rpmap_each(r.map, anon_map_domain, &w);
	for (i = 0; i < w.nd; i++) {
		const char *pd = anonmap_find(a->m, w.d[i].dom, strlen(w.d[i].dom));

		if (pd && w.d[i].role != RP_ROLE_NONE)
			fprintf(w.f, "domain %s %s\n", pd, rp_role_name(w.d[i].role));
	}
	for (i = 0; i < 3; i++) {
		static const char *const pn[3] = { "aol", "yahoo", "msn" };

		if (!r.provider_allow[i])
			fprintf(w.f, "provider %s deny\n", pn[i]);
		if (r.provider_blocked[i])
			fprintf(w.f, "provider %s block\n", pn[i]);
		if (r.provider_filter[i][0])
			fprintf(w.f, "provider %s filter %s\n", pn[i], r.provider_filter[i]);
		if (r.provider_partner[i])
			fprintf(w.f, "provider %s partner\n", pn[i]);
	}
	fclose(w.f);
	printf("cast: %s (replay with --map %s)\n", path, path);
	replay_free(&r);
}

static void anon_report(struct anon *a)
{
	const struct anon_report *rp = &a->rep;
	int i;

	printf("anonymized %u SIP messages into %s: %zu users, %zu host names, %zu addresses, "
	       "%zu ids, %zu branches, %zu display-name words; %u text bodies and %u free-text "
	       "values (headers, presence notes) replaced whole\n", rp->msgs, a->out, anonmap_count(a->m, ANON_USER),
	       anonmap_count(a->m, ANON_HOST),
	       anonmap_count(a->m, ANON_IP4) + anonmap_count(a->m, ANON_IP6),
	       anonmap_count(a->m, ANON_ID), anonmap_count(a->m, ANON_BRANCH),
	       anonmap_count(a->m, ANON_NAME), rp->text_bodies, rp->freetext_hdrs);
	if (!rp->nhdrs && !rp->nbodies && !a->tls_left_out && !a->not_sip_flows)
		printf("not anonymized: nothing\n");
	for (i = 0; i < rp->nhdrs; i++)
		printf("not anonymized: header %s (%u messages): kept but for the identifiers "
		       "found elsewhere\n", rp->hdrs[i].name, rp->hdrs[i].n);
	for (i = 0; i < rp->nbodies; i++)
		printf("not anonymized: %s bodies (%u): kept but for the identifiers found "
		       "elsewhere\n", rp->bodies[i].name, rp->bodies[i].n);
	if (a->tls_left_out)
		printf("left out: %u TLS connections without keys (not decrypted, not written)\n",
		       a->tls_left_out);
	if (a->not_sip_flows)
		printf("left out: %u connections or datagram flows without SIP\n",
		       a->not_sip_flows);
}

static int anon_run(struct anon *a)
{
	size_t i;
	int err;

	err = capdec_open(&a->dec, a->capture, a->keys);
	if (err) {
		fprintf(stderr, "piclab anonymize: %s: cannot read the capture%s: %s\n", a->capture,
			a->keys ? " or its key log" : "", err == EPROTONOSUPPORT ?
			"unknown link type" : strerror(err));
		return 2;
	}
	if (capdec_truncated(a->dec))
		printf("warning: %s is truncated (%s): anonymized up to the cut\n", a->capture,
		       capdec_truncated(a->dec));
	for (i = 0; i < capdec_flow_count(a->dec); i++) {
		const struct capdec_flow *f = capdec_flow_at(a->dec, i);

		if (f->tls && !f->decrypted) {
			char c[64], s[64];

			a->tls_left_out++;
			fprintf(stderr, "piclab anonymize: %s: TLS connection %s -> %s not decrypted "
				"(%s): its SIP is left out\n", a->capture,
				sa_fmt((const struct sockaddr *)&f->client, c, sizeof(c)),
				sa_fmt((const struct sockaddr *)&f->server, s, sizeof(s)),
				f->error ? f->error : "no key");
		} else if (!f->sip_msgs) {
			a->not_sip_flows++;
		}
	}
	if (!capdec_sip_count(a->dec)) {
		fprintf(stderr, "piclab anonymize: %s: no SIP messages to anonymize\n", a->capture);
		return 2;
	}
	err = anonmap_alloc(&a->m, a->key, a->keylen);
	if (!err)
		err = anon_write(a);
	if (err)
		return 2;
	anon_report(a);
	anon_castmap(a);
	return 0;
}

static int anon_readkey(struct anon *a, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "piclab anonymize: --key-file %s: %s\n", path, strerror(errno));
		return EINVAL;
	}
	n = fread(a->key, 1, sizeof(a->key) - 1, f);
	fclose(f);
	while (n && (a->key[n - 1] == '\n' || a->key[n - 1] == '\r'))
		n--;
	a->keylen = n;
	return 0;
}

int anon_cmd(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "keys", required_argument, NULL, 'k' }, { "key", required_argument, NULL, 'K' },
		{ "key-file", required_argument, NULL, 'F' }, { "map", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct anon a = { 0 };
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'k': a.keys = optarg; break;
		case 'm': a.map = optarg; break;
		case 'o': a.out = optarg; break;
		case 'K':
			a.keylen = strlen(optarg) < sizeof(a.key) ? strlen(optarg) : sizeof(a.key) - 1;
			memcpy(a.key, optarg, a.keylen);
			break;
		case 'F':
			if (anon_readkey(&a, optarg))
				return 2;
			break;
		case 'h':
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: piclab anonymize CAPTURE "
				"[--keys KEYLOG] [--map FILE] --key SECRET | --key-file FILE "
				"-o OUT.pcapng\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || !a.out) {
		fprintf(stderr, "usage: piclab anonymize CAPTURE [--keys KEYLOG] [--map FILE] "
			"--key SECRET | --key-file FILE -o OUT.pcapng\n");
		return 2;
	}
	if (!a.keylen) {
		fprintf(stderr, "piclab anonymize: a secret is required (--key SECRET or --key-file "
			"FILE): the pseudonyms are keyed with it\n");
		return 2;
	}
	a.capture = argv[optind];
	log_set_level(LOGL_ERROR);      /* the decoder names what is wrong with a bad file */
	rc = anon_run(&a);
	mem_deref(a.m);
	mem_deref(a.dec);
	memset(a.key, 0, sizeof(a.key));
	return rc;
}
