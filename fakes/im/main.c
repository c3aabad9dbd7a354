/* fake-provider: runs one lab IM provider (imsrv in provider role) on its own until SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "net/tlsctx.h"

#include "imsrv.h"
#include "../ua/ua.h"

#define LOG_MODULE "fake-provider"
#define MAX_USERS 256

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fake-provider --fqdn FQDN --domain DOMAIN --listen IP:PORT\n"
		"                     --cert FILE --key FILE --ca FILE\n"
		"                     [--route DOMAIN=FQDN@IP:PORT]... [--user AOR]...\n"
		"                     [--log-level debug|info|warn|error]\n"
		"Runs a lab IM provider (e.g. --fqdn sip.aol.test --domain aol.test) speaking SIP\n"
		"over mutual TLS. Each --route provisions a federated domain: its requests must come\n"
		"from a peer whose certificate CN is FQDN, and MESSAGEs to it go to IP:PORT.\n"
		"Each --user registers a local user; messages they receive are printed on stdout.\n"
		"Stops on SIGINT or SIGTERM.\n");
}

static void inbox_h(struct ua *u, void *arg)
{
	struct ua_msg m;

	while (!ua_inbox_take(u, &m)) {
		printf("MESSAGE to %s from %s (Call-ID %s%s%s): %s\n", m.to, m.from, m.call_id,
		       m.trust[0] ? ", trust " : "", m.trust, m.body);
		fflush(stdout);
	}
}

static void signal_h(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* "contoso.test=ap.contoso.test@127.77.1.3:5061" */
static int route_parse(struct imsrv *s, const char *spec)
{
	char buf[512], *eq, *at;
	struct sockaddr_storage sa;
	int err;

	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return EINVAL;
	eq = strchr(buf, '=');
	at = eq ? strrchr(eq, '@') : NULL;
	if (!eq || !at || eq == buf || at == eq + 1)
		return EINVAL;
	*eq = '\0';
	*at = '\0';
	err = sa_parse(&sa, at + 1);
	if (err)
		return err;
	return imsrv_route_add(s, buf, eq + 1, (struct sockaddr *)&sa);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fqdn", required_argument, NULL, 'f' },
		{ "domain", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "ca", required_argument, NULL, 'a' },
		{ "route", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *routes[MAX_USERS], *users[MAX_USERS], *listen = NULL;
	struct ua *uas[MAX_USERS] = { NULL };
	struct tlsctx_conf tc = { 0 };
	struct imsrv_conf conf = { 0 };
	struct tlsctx *stls = NULL, *ctls = NULL;
	struct imsrv *s = NULL;
	struct event_base *base = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	enum log_level lvl;
	int nroutes = 0, nusers = 0, i, c, rc = 1, err;

	conf.role = IMSRV_PROVIDER;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': conf.fqdn = optarg; break;
		case 'd': conf.domain = optarg; break;
		case 'l': listen = optarg; break;
		case 'c': tc.cert_file = optarg; break;
		case 'k': tc.key_file = optarg; break;
		case 'a': tc.ca_file = optarg; break;
		case 'r':
			if (nroutes == MAX_USERS)
				goto usage;
			routes[nroutes++] = optarg;
			break;
		case 'u':
			if (nusers == MAX_USERS)
				goto usage;
			users[nusers++] = optarg;
			break;
		case 'L':
			if (log_level_parse(optarg, &lvl))
				goto usage;
			log_set_level(lvl);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc || !conf.fqdn || !conf.domain || !listen || !tc.cert_file ||
	    !tc.key_file || !tc.ca_file)
		goto usage;
	if (sa_parse(&conf.listen, listen)) {
		fprintf(stderr, "fake-provider: --listen wants IP:PORT, not '%s'\n", listen);
		return 2;
	}
	log_set_prefix("fake-provider");
	conf.name = conf.domain;
	tc.require_peer_cert = true;
	if (tlsctx_alloc(&stls, true, &tc) || tlsctx_alloc(&ctls, false, &tc)) {
		fprintf(stderr, "fake-provider: cannot load the TLS certificate, key or CA\n");
		goto out;
	}
	conf.server_tls = stls;
	conf.client_tls = ctls;
	base = event_base_new();
	if (!base)
		goto out;
	err = imsrv_alloc(&s, base, &conf);
	if (err) {
		fprintf(stderr, "fake-provider: cannot start: %s\n", strerror(err));
		goto out;
	}
	for (i = 0; i < nroutes; i++) {
		if (route_parse(s, routes[i])) {
			fprintf(stderr, "fake-provider: bad --route '%s'\n", routes[i]);
			goto out;
		}
	}
	for (i = 0; i < nusers; i++) {
		err = ua_alloc(&uas[i], s, users[i]);
		if (err) {
			fprintf(stderr, "fake-provider: bad --user '%s': %s\n", users[i],
				strerror(err));
			goto out;
		}
		ua_set_inbox_handler(uas[i], inbox_h, NULL);
	}
	sigint = evsignal_new(base, SIGINT, signal_h, base);
	sigterm = evsignal_new(base, SIGTERM, signal_h, base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL))
		goto out;
	event_base_dispatch(base);
	rc = 0;
out:
	for (i = 0; i < nusers; i++)
		mem_deref(uas[i]);
	mem_deref(s);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	mem_deref(stls);
	mem_deref(ctls);
	if (base)
		event_base_free(base);
	return rc;
usage:
	usage(stderr);
	return 2;
}
