/* fake-dns main: serves a zone file on one address (UDP and TCP) until SIGINT or SIGTERM. */
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
#include "../dns/fakedns.h"

#define LOG_MODULE "fake-dns"
/* Zone files of the lab are a few dozen lines; refuse anything absurd. */
#define ZONE_MAX (4 * 1024 * 1024)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fake-dns --listen IP[:PORT] --zone FILE [-v]\n"
		"  Serves the records of FILE (one presentation-format record a line, absolute\n"
		"  names, ';' comments) on IP, UDP and TCP, PORT 53 unless given, until SIGINT\n"
		"  or SIGTERM. IPv6: [::1]:5353.\n"
		"  -v           log every query (debug level)\n"
		"  -h, --help   this text\n");
}

/* "IP", "IP:PORT", "[V6]" or "[V6]:PORT"; the port defaults to 53 (RFC 1035 4.2). */
static int listen_parse(const char *s, struct sockaddr_storage *ss)
{
	char ip[64];
	size_t n;

	if (sa_parse(ss, s) == 0)
		return 0;
	n = strlen(s);
	if (n >= sizeof(ip))
		return EINVAL;
	if (s[0] == '[' && s[n - 1] == ']') {
		memcpy(ip, s + 1, n - 2);
		ip[n - 2] = '\0';
	} else {
		memcpy(ip, s, n + 1);
	}
	return sa_set(ss, ip, 53);
}

static char *zone_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t n;

	if (!f)
		return NULL;
	text = malloc(ZONE_MAX + 1);
	if (text) {
		n = fread(text, 1, ZONE_MAX + 1, f);
		if (ferror(f) || n > ZONE_MAX) {
			free(text);
			text = NULL;
			errno = n > ZONE_MAX ? EFBIG : EIO;
		} else {
			text[n] = '\0';
		}
	}
	fclose(f);
	return text;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d, stopping", (int)sig);
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "zone", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *zone = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct sockaddr_storage ss;
	struct event_base *base = NULL;
	struct fakedns *d = NULL;
	char *text = NULL;
	int c, err, rc = 1;

	log_set_prefix("fake-dns");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:z:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 'v':
			log_set_level(LOGL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "fake-dns: option %s needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "fake-dns: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !listen || !zone) {
		fprintf(stderr, optind < argc ? "fake-dns: unexpected argument %s\n"
			: "fake-dns: --listen and --zone are required%s\n",
			optind < argc ? argv[optind] : "");
		usage(stderr);
		return 2;
	}
	if (listen_parse(listen, &ss)) {
		fprintf(stderr, "fake-dns: --listen wants an IP literal and optional port: %s\n",
			listen);
		return 2;
	}
	text = zone_read(zone);
	if (!text) {
		fprintf(stderr, "fake-dns: %s: %s\n", zone, strerror(errno));
		return 1;
	}
	base = event_base_new();
	if (!base)
		goto out;
	err = fakedns_alloc(&d, base, (struct sockaddr *)&ss, text);
	if (err) {
		fprintf(stderr, "fake-dns: cannot serve %s on %s: %s\n", zone, listen,
			strerror(err));
		goto out;
	}
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL))
		goto out;
	event_base_dispatch(base);
	log_info("%llu queries answered", (unsigned long long)fakedns_queries(d));
	rc = 0;
out:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	mem_deref(d);
	if (base)
		event_base_free(base);
	free(text);
	return rc;
}
