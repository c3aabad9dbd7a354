/* providers: apctl's provider table commands (CONF-001..004): list, add, set, allow,
 * disallow, block, unblock, remove. */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "../store/store.h"
#include "../state/state.h"
#include "aptable.h"
#include "apctl_int.h"

#define APCTL_MAX_DOMAINS 64

static void apctl_prov_row(const struct state_provider *p, time_t created, time_t updated,
			   void *arg)
{
	char doms[1024] = "", port[8], upd[32];
	size_t i, n = 0;

	for (i = 0; i < p->ndomains && n < sizeof(doms); i++)
		n += (size_t)snprintf(doms + n, sizeof(doms) - n, "%s%s", i ? "," : "",
				      p->domains[i]);
	snprintf(port, sizeof(port), "%u", p->port);
	aptable_row(arg, p->name, p->fqdn, port, doms, p->public_provider ? "yes" : "no",
		    p->allowed ? "yes" : "no", p->blocked ? "yes" : "no",
		    state_filter_name(p->filter), p->tcp ? "tcp" : "tls",
		    apctl_time_str(updated, upd, sizeof(upd)));
}

static int apctl_prov_list(struct apctl *c)
{
	static const char *const cols[] = { "name", "fqdn", "port:n", "domains:l", "public:b",
		"allowed:b", "blocked:b", "filter", "transport", "updated", NULL };
	struct aptable *t = NULL;
	int err;

	if ((err = aptable_alloc(&t, cols)))
		return apctl_fail(APCTL_FAIL, "%s", strerror(err));
	err = store_provider_each(c->store, apctl_prov_row, t);
	if (!err)
		aptable_print(t, stdout, c->json);
	mem_deref(t);
	return err ? apctl_fail(APCTL_FAIL, "providers: %s", strerror(err)) : APCTL_OK;
}

/* The fields add and set accept; the strings point into argv. */
struct apctl_prov_opts {
	const char *fqdn, *domains, *filter, *public_s, *port;
};

static int apctl_prov_parse(int argc, char **argv, struct apctl_prov_opts *o)
{
	static const struct option opts[] = {
		{ "fqdn", required_argument, NULL, 'f' },
		{ "domains", required_argument, NULL, 'd' },
		{ "public", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': o->fqdn = optarg; break;
		case 'd': o->domains = optarg; break;
		case 'p': o->public_s = optarg; break;
		case 'm': o->filter = optarg; break;
		case 'P': o->port = optarg; break;
		default: return apctl_fail(APCTL_USAGE, "unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	return optind == argc ? 0 : APCTL_USAGE;
}

/* Applies the options to p; domains are split into list (pointing into buf). */
static int apctl_prov_apply(const struct apctl_prov_opts *o, struct state_provider *p,
			    char *buf, size_t bsz, const char **list)
{
	char *save = NULL, *d;
	bool b;

	if (o->fqdn)
		p->fqdn = o->fqdn;
	if (o->public_s) {
		if (store_bool_parse(o->public_s, &b))
			return apctl_fail(APCTL_USAGE, "--public takes yes or no, not '%s'",
					  o->public_s);
		p->public_provider = b;
	}
	if (o->filter && state_filter_parse(o->filter, &p->filter))
		return apctl_fail(APCTL_USAGE, "--filter takes contacts-only, verified-only or "
				  "allow-all, not '%s'", o->filter);
	if (o->port) {
		char *e;
		long v = strtol(o->port, &e, 10);

		if (*e || v < 1 || v > 65535)
			return apctl_fail(APCTL_USAGE, "--port takes 1..65535, not '%s'", o->port);
		p->port = (uint16_t)v;
	}
	if (o->domains) {
		snprintf(buf, bsz, "%s", o->domains);
		p->ndomains = 0;
		for (d = strtok_r(buf, ",", &save); d && p->ndomains < APCTL_MAX_DOMAINS;
		     d = strtok_r(NULL, ",", &save))
			list[p->ndomains++] = d;
		p->domains = list;
	}
	return 0;
}

static int apctl_prov_add(struct apctl *c, const char *name, int argc, char **argv)
{
	struct apctl_prov_opts o = { 0 };
	struct state_provider p = { .name = name, .port = 5061, .public_provider = true };
	const char *list[APCTL_MAX_DOMAINS];
	char buf[2048], why[512];
	int err;

	if (apctl_prov_parse(argc, argv, &o))
		return apctl_fail(APCTL_USAGE, "usage: apctl providers add NAME --fqdn F "
				  "--domains a,b [--public yes|no] [--filter MODE] [--port N]");
	if (!o.fqdn || !o.domains)
		return apctl_fail(APCTL_USAGE, "providers add needs --fqdn and --domains");
	if ((err = apctl_prov_apply(&o, &p, buf, sizeof(buf), list)))
		return err;
	if ((err = apctl_open(c)))
		return err;
	if (store_provider_add(c->store, &p, why, sizeof(why)))
		return apctl_fail(APCTL_FAIL, "provider %s refused: %s", name, why);
	printf("provider %s added (not allowed: 'apctl providers allow %s' to let it pass)\n",
	       name, name);
	return apctl_notify(c);
}

/* set, allow, disallow, block, unblock: read the row, change it, write it back checked. */
static int apctl_prov_change(struct apctl *c, const char *verb, const char *name, int argc,
			     char **argv)
{
	struct apctl_prov_opts o = { 0 };
	const char *list[APCTL_MAX_DOMAINS];
	const struct state_provider *cur;
	struct state_provider p;
	struct state *st = NULL;
	char buf[2048], why[512];
	int err;

	if (!strcmp(verb, "set")) {
		if (apctl_prov_parse(argc, argv, &o))
			return apctl_fail(APCTL_USAGE, "usage: apctl providers set NAME [--fqdn F] "
					  "[--domains a,b] [--public yes|no] [--filter MODE] "
					  "[--port N]");
		if (!o.fqdn && !o.domains && !o.public_s && !o.filter && !o.port)
			return apctl_fail(APCTL_USAGE, "providers set: nothing to change");
	} else if (argc > 1) {
		return apctl_fail(APCTL_USAGE, "providers %s takes one NAME", verb);
	}
	if ((err = apctl_open(c)))
		return err;
	if ((err = store_load_state(c->store, NULL, &st)))
		return apctl_fail(APCTL_FAIL, "database: %s", strerror(err));
	cur = state_provider_by_name(st, name);
	if (!cur) {
		mem_deref(st);
		return apctl_fail(APCTL_FAIL, "no provider called %s", name);
	}
	p = *cur;
	if (!strcmp(verb, "allow"))
		p.allowed = true;
	else if (!strcmp(verb, "disallow"))
		p.allowed = false;
	else if (!strcmp(verb, "block"))
		p.blocked = true;
	else if (!strcmp(verb, "unblock"))
		p.blocked = false;
	else if ((err = apctl_prov_apply(&o, &p, buf, sizeof(buf), list))) {
		mem_deref(st);
		return err;
	}
	err = store_provider_update(c->store, cur->name, &p, why, sizeof(why));
	mem_deref(st);
	if (err)
		return apctl_fail(APCTL_FAIL, "provider %s: %s refused: %s", name, verb, why);
	printf("provider %s: %s done\n", name, verb);
	return apctl_notify(c);
}

int apctl_cmd_providers(struct apctl *c, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "list";
	char why[512];
	int err;

	if (!strcmp(verb, "list")) {
		if (argc > 2)
			return apctl_fail(APCTL_USAGE, "providers list takes no argument");
		if ((err = apctl_open(c)))
			return err;
		return apctl_prov_list(c);
	}
	if (argc < 3 || argv[2][0] == '-')
		return apctl_fail(APCTL_USAGE, "providers %s needs a NAME (see apctl providers "
				  "--help)", verb);
	if (!strcmp(verb, "add"))
		return apctl_prov_add(c, argv[2], argc - 2, argv + 2);
	if (!strcmp(verb, "remove")) {
		if (argc > 3)
			return apctl_fail(APCTL_USAGE, "providers remove takes one NAME");
		if ((err = apctl_open(c)))
			return err;
		if (store_provider_remove(c->store, argv[2], why, sizeof(why)))
			return apctl_fail(APCTL_FAIL, "%s", why);
		printf("provider %s removed\n", argv[2]);
		return apctl_notify(c);
	}
	if (!strcmp(verb, "set") || !strcmp(verb, "allow") || !strcmp(verb, "disallow") ||
	    !strcmp(verb, "block") || !strcmp(verb, "unblock"))
		return apctl_prov_change(c, verb, argv[2], argc - 2, argv + 2);
	return apctl_fail(APCTL_USAGE, "providers: unknown action '%s' (see apctl providers "
			  "--help)", verb);
}
