/* fake-provisioning main: serves the provisioning web site on one address until SIGINT or
 * SIGTERM, delivering its mails into a Maildir and printing the routes providers configure. */
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
#include "site.h"

#define LOG_MODULE "fake-provisioning"
/* Bound the lab's delays: a minute is already far longer than any scenario waits. */
#define DELAY_MAX 60000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fake-provisioning --listen IP:PORT --cert FILE --key FILE --maildir DIR\n"
		"                         [--delay-ms N] [-v]\n"
		"  Serves the PIC provisioning request site over HTTPS on IP:PORT ([V6]:PORT for\n"
		"  IPv6) with the PEM certificate and key given, until SIGINT or SIGTERM. Mails go\n"
		"  to the Maildir DIR (created if missing); every route a provider configures or\n"
		"  withdraws is printed on stdout as 'route add|del PROVIDER DOMAIN FQDN'.\n"
		"  --delay-ms N  every workflow step and provider configuration takes N ms\n"
		"                (default 200, at most %d)\n"
		"  -v            debug logging\n"
		"  -h, --help    this text\n", DELAY_MAX);
}

static void route_h(const char *provider, const char *domain, const char *fqdn, bool add,
		    void *arg)
{
	printf("route %s %s %s %s\n", add ? "add" : "del", provider, domain, fqdn);
	fflush(stdout);
}

static void signal_h(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d, stopping", (int)sig);
	event_base_loopbreak(arg);
}

static int delay_parse(const char *s, unsigned *ms)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > DELAY_MAX)
		return EINVAL;
	*ms = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "maildir", required_argument, NULL, 'm' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct event_base *base = NULL;
	struct site *site = NULL;
	struct site_conf conf;
	unsigned delay = 200;
	char url[96];
	int c, err, rc = 1;

	log_set_prefix("fake-provisioning");
	site_conf_defaults(&conf);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:c:k:m:d:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen = optarg; break;
		case 'c': conf.cert_file = optarg; break;
		case 'k': conf.key_file = optarg; break;
		case 'm': conf.maildir = optarg; break;
		case 'd':
			if (delay_parse(optarg, &delay)) {
				fprintf(stderr, "fake-provisioning: --delay-ms wants 0..%d: %s\n",
					DELAY_MAX, optarg);
				return 2;
			}
			break;
		case 'v': log_set_level(LOGL_DEBUG); break;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "fake-provisioning: option %s needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "fake-provisioning: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !listen || !conf.cert_file || !conf.key_file || !conf.maildir) {
		fprintf(stderr, "fake-provisioning: %s\n", optind < argc ? "unexpected argument"
			: "--listen, --cert, --key and --maildir are required");
		usage(stderr);
		return 2;
	}
	if (sa_parse(&conf.listen, listen)) {
		fprintf(stderr, "fake-provisioning: --listen wants IP:PORT: %s\n", listen);
		return 2;
	}
	conf.validate_ms = conf.send_ms = delay;
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		conf.configure_ms[i] = delay;
	conf.routeh = route_h;
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		goto out;
	err = site_alloc(&site, base, &conf);
	if (err) {
		fprintf(stderr, "fake-provisioning: cannot serve on %s: %s\n", listen,
			strerror(err));
		goto out;
	}
	site_url(site, url, sizeof(url));
	printf("serving %s (mail in %s)\n", url, conf.maildir);
	fflush(stdout);
	sigint = evsignal_new(base, SIGINT, signal_h, base);
	sigterm = evsignal_new(base, SIGTERM, signal_h, base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL))
		goto out;
	event_base_dispatch(base);
	rc = 0;
out:
	mem_deref(site);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (base)
		event_base_free(base);
	return rc;
}
