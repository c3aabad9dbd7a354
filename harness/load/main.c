/* piclab-load: the lab's MESSAGE load generator (uac, baseline) and responder (uas). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "lduac.h"
#include "lduas.h"

#define LOG_MODULE "piclab-load"
#define LOAD_MAX_DURATION_S 86400
#define LOAD_MAX_UAS_S 86400
#define LOAD_MAX_LOCALS 4096

static void usage(FILE *f)
{
	fprintf(f,
		"usage: piclab-load uas|uac|baseline [options]\n"
		"  uas       answer 200 OK to every request (a provider's edge): --listen, TLS\n"
		"            unless --tcp; runs until SIGTERM/SIGINT or --duration\n"
		"  uac       --conns connections to --target sending MESSAGE transactions, open\n"
		"            loop (--rate) or closed loop (--window); prints one 'result' line\n"
		"  baseline  uac aimed straight at a uas (no proxy): the latency to subtract\n"
		"options:\n"
		"  --listen IP:PORT     uas address\n"
		"  --target IP:PORT     uac destination\n"
		"  --local IP           uac source address\n"
		"  --locals N           uac: N source addresses from --local up (last octet + i;\n"
		"                       on 127/8 on into the next /24s), connections spread over\n"
		"                       them (per-address caps), 1..%u\n"
		"  --tcp                plain TCP instead of mutual TLS\n"
		"  --cert F --key F     our certificate and key (PEM)\n"
		"  --ca F               trust store for the peer's certificate\n"
		"  --expect-cn NAME     uac: the server certificate CN required\n"
		"  --conns N            uac connections (1..%u, default 1)\n"
		"  --rate R             uac open loop: transactions/s in total\n"
		"  --window W           uac closed loop: outstanding per connection (default 1)\n"
		"  --duration S         seconds of sending (uac, max %u) or serving (uas, max %u)\n"
		"  --count N            uac: stop after N transactions\n"
		"  --warmup MS          uac: latencies of the first MS are not kept (default 0)\n"
		"  --interval S         uac: every S seconds of sending, an 'interval' line: tps,\n"
		"                       p50_us p99_us max_us of what was answered since the last\n"
		"  --latencies FILE     uac: every answered transaction as a line 'N US' (N: the\n"
		"                       --interval it was answered in, from 1; US: its latency),\n"
		"                       so that several generators' percentiles can be merged\n"
		"  --timeout MS         uac: wait for answers after sending stops (default 2000)\n"
		"  --idle               uac: connect, print 'established', hold --duration, send\n"
		"                       nothing (memory per connection); with --rate, that many\n"
		"                       MESSAGE/s round robin over them as keep-alive\n"
		"  --ruri URI --from URI  default sip:bob@aol.test, sip:alice@contoso.test\n"
		"  --body N             body bytes (default 32)\n"
		"  --method M           uac: MESSAGE (default), SUBSCRIBE or NOTIFY (presence:\n"
		"                       Event: presence, a minute's subscription)\n"
		"  --reuseport          uas: SO_REUSEPORT (run several on one address)\n"
		"  -v                   debug logs\n"
		"output (uac): 'established N of M ...' then 'result key=value ...' with tps,\n"
		"  p50_us p90_us p99_us max_us, errors (non-2xx), timeouts (unanswered)\n",
		LOAD_MAX_LOCALS, LDUAC_MAX_CONNS, LOAD_MAX_DURATION_S, LOAD_MAX_UAS_S);
}

struct load_opts {
	const char *listen, *target, *local, *cert, *key, *ca, *expect_cn;
	const char *latencies;
	bool tcp, reuseport;
	unsigned duration_s, nlocal;
	struct lduac_conf uc;
};

static void load_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void load_done(void *arg)
{
	event_base_loopbreak(arg);
}

static void load_rlimit(void)
{
	struct rlimit rl;

	/* thousands of connections need thousands of descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int load_tls(const struct load_opts *o, bool server, struct tlsctx **tls)
{
	struct tlsctx_conf tc = {
		.cert_file = o->cert, .key_file = o->key, .ca_file = o->ca,
		.require_peer_cert = true,
	};

	*tls = NULL;
	if (o->tcp)
		return 0;
	if (!o->cert || !o->key || !o->ca) {
		fprintf(stderr, "piclab-load: TLS needs --cert, --key and --ca (or --tcp)\n");
		return EINVAL;
	}
	return tlsctx_alloc(tls, server, &tc);
}

static int load_parse(int argc, char **argv, struct load_opts *o)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'L' }, { "target", required_argument, NULL, 'T' },
		{ "local", required_argument, NULL, 'l' }, { "tcp", no_argument, NULL, 'P' },
		{ "locals", required_argument, NULL, 'N' },
		{ "cert", required_argument, NULL, 'C' }, { "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'A' }, { "expect-cn", required_argument, NULL, 'E' },
		{ "conns", required_argument, NULL, 'n' }, { "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'm' }, { "warmup", required_argument, NULL, 'W' },
		{ "interval", required_argument, NULL, 'i' },
		{ "latencies", required_argument, NULL, 'Y' },
		{ "timeout", required_argument, NULL, 't' }, { "idle", no_argument, NULL, 'I' },
		{ "ruri", required_argument, NULL, 'R' }, { "from", required_argument, NULL, 'F' },
		{ "body", required_argument, NULL, 'b' },
		{ "method", required_argument, NULL, 'M' },
		{ "reuseport", no_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'L': o->listen = optarg; break;
		case 'T': o->target = optarg; break;
		case 'l': o->local = optarg; break;
		case 'N': o->nlocal = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': o->tcp = true; break;
		case 'C': o->cert = optarg; break;
		case 'K': o->key = optarg; break;
		case 'A': o->ca = optarg; break;
		case 'E': o->expect_cn = optarg; break;
		case 'n': o->uc.conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o->uc.rate = strtod(optarg, NULL); break;
		case 'w': o->uc.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o->duration_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o->uc.count = strtoull(optarg, NULL, 10); break;
		case 'M': o->uc.method = optarg; break;
		case 'W': o->uc.warmup_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': o->uc.interval_ms = (unsigned)(strtod(optarg, NULL) * 1000); break;
		case 'Y': o->latencies = optarg; break;
		case 't': o->uc.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'I': o->uc.idle = true; break;
		case 'R': o->uc.ruri = optarg; break;
		case 'F': o->uc.from = optarg; break;
		case 'b': o->uc.body = strtoul(optarg, NULL, 10); break;
		case 'U': o->reuseport = true; break;
		case 'v': log_set_level(LOGL_DEBUG); break;
		case 'h': usage(stdout); exit(0);
		default: return EINVAL;
		}
	}
	return 0;
}

static int load_uas(struct event_base *base, const struct load_opts *o)
{
	struct sockaddr_storage ss;
	struct tlsctx *tls = NULL;
	struct lduas *u = NULL;
	struct event *stop = NULL;
	struct timeval tv = { o->duration_s ? o->duration_s : LOAD_MAX_UAS_S, 0 };
	int err;

	if (!o->listen || sa_parse(&ss, o->listen)) {
		fprintf(stderr, "piclab-load uas: --listen IP:PORT is required\n");
		return EINVAL;
	}
	err = load_tls(o, true, &tls);
	if (!err)
		err = lduas_alloc(&u, base, tls, (struct sockaddr *)&ss, o->reuseport);
	if (!err) {
		stop = evtimer_new(base, load_stop, base);
		if (!stop || evtimer_add(stop, &tv))
			err = ENOMEM;
	}
	if (!err) {
		printf("listening %s (%s)\n", o->listen, tls ? "mutual TLS" : "TCP");
		fflush(stdout);
		event_base_dispatch(base);
		printf("answered %llu\n", (unsigned long long)lduas_answered(u));
	}
	if (stop)
		event_free(stop);
	mem_deref(u);
	mem_deref(tls);
	return err;
}

/* --local A.B.C.D with --locals N: A.B.C.D .. A.B.C.(D+N-1), none past .254. */
/* n source addresses from first up. Outside 127/8 they stay in first's /24; on loopback they
 * go on into the next /24s (x.y.z.254 is followed by x.y.z+1.1), so tens of thousands of
 * connections fit under a per-address cap. */
static int load_locals(const char *first, unsigned n, struct sockaddr_storage *out)
{
	unsigned a, b, c, d, i;
	char ip[32];

	if (n <= 1)
		return sa_set(&out[0], first, 0);
	if (sscanf(first, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 ||
	    c > 255 || d < 1 || d > 254 || (a != 127 && d + n - 1 > 254))
		return EINVAL;
	for (i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a, b, c, d);
		if (sa_set(&out[i], ip, 0))
			return EINVAL;
		if (++d == 255) {
			d = 1;
			if (++c == 256) {
				c = 0;
				if (++b == 256)
					return EINVAL;
			}
		}
	}
	return 0;
}

static int load_uac(struct event_base *base, struct load_opts *o, const char *label)
{
	static struct sockaddr_storage local[LOAD_MAX_LOCALS];
	struct sockaddr_storage target;
	struct tlsctx *tls = NULL;
	struct lduac *u = NULL;
	int err;

	if (!o->target || sa_parse(&target, o->target)) {
		fprintf(stderr, "piclab-load %s: --target IP:PORT is required\n", label);
		return EINVAL;
	}
	if (o->nlocal > LOAD_MAX_LOCALS || (o->local && load_locals(o->local, o->nlocal, local))) {
		fprintf(stderr, "piclab-load %s: --local wants an IPv4 address, --locals 1..%u "
			"addresses that stay in its /24 (on 127/8: in 127/8)\n", label,
			LOAD_MAX_LOCALS);
		return EINVAL;
	}
	if (o->uc.method && strcmp(o->uc.method, "MESSAGE") && strcmp(o->uc.method, "SUBSCRIBE") &&
	    strcmp(o->uc.method, "NOTIFY")) {
		fprintf(stderr, "piclab-load %s: --method '%s': MESSAGE, SUBSCRIBE or NOTIFY\n",
			label, o->uc.method);
		return EINVAL;
	}
	if (!o->duration_s || o->duration_s > LOAD_MAX_DURATION_S) {
		fprintf(stderr, "piclab-load %s: --duration 1..%u is required\n", label,
			LOAD_MAX_DURATION_S);
		return EINVAL;
	}
	o->uc.target = (struct sockaddr *)&target;
	o->uc.local = o->local ? (struct sockaddr *)&local[0] : NULL;
	o->uc.nlocal = o->nlocal ? o->nlocal : 1;
	o->uc.duration_ms = o->duration_s * 1000;
	o->uc.expect_cn = o->expect_cn;
	o->uc.progress = stdout;
	if (o->latencies) {
		if (!o->uc.interval_ms) {
			fprintf(stderr, "piclab-load %s: --latencies needs --interval\n", label);
			return EINVAL;
		}
		o->uc.latencies = fopen(o->latencies, "w");
		if (!o->uc.latencies) {
			fprintf(stderr, "piclab-load %s: --latencies %s: %s\n", label,
				o->latencies, strerror(errno));
			return errno;
		}
		/* The lines are written on the event loop that timestamps the answers. A write(2)
		 * every 4 kB can wait for the file system's journal (a commit another process's
		 * fsync forced: the proxy's audit checkpoints) and every answer read meanwhile
		 * would count that wait as latency. 4 MiB: one write every ~300,000 answers. */
		setvbuf(o->uc.latencies, NULL, _IOFBF, 4u << 20);
	}
	if (!o->uc.conns)
		o->uc.conns = 1;
	if (!o->uc.rate && !o->uc.window)
		o->uc.window = 1;
	err = load_tls(o, false, &tls);
	o->uc.tls = tls;
	if (!err)
		err = lduac_alloc(&u, base, &o->uc, load_done, base);
	if (err) {
		fprintf(stderr, "piclab-load %s: %s\n", label, strerror(err));
	} else {
		event_base_dispatch(base);
		lduac_report(u, label, stdout);
	}
	mem_deref(u);
	mem_deref(tls);
	if (o->uc.latencies && fclose(o->uc.latencies) != 0 && !err) {
		fprintf(stderr, "piclab-load %s: --latencies %s: %s\n", label, o->latencies,
			strerror(errno));
		err = errno;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct load_opts o = { 0 };
	struct event_config *cfg;
	struct event_base *base;
	struct event *sigs[2] = { NULL, NULL };
	const char *mode;
	int err, i;

	log_set_prefix("piclab-load");
	log_set_level(LOGL_WARN);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	o.uc.ruri = "sip:bob@aol.test";
	o.uc.from = "sip:alice@contoso.test";
	o.uc.body = 32;
	o.uc.timeout_ms = 2000;
	if (load_parse(argc - 1, argv + 1, &o) || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	load_rlimit();
	/* microsecond timers (timerfd): the open-loop pacing ticks every 50..1000 us */
	cfg = event_config_new();
	if (cfg)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = cfg ? event_base_new_with_config(cfg) : NULL;
	if (cfg)
		event_config_free(cfg);
	if (!base)
		return 1;
	for (i = 0; i < 2; i++) {
		sigs[i] = evsignal_new(base, i ? SIGINT : SIGTERM, load_stop, base);
		if (sigs[i])
			evsignal_add(sigs[i], NULL);
	}
	if (!strcmp(mode, "uas")) {
		err = load_uas(base, &o);
	} else if (!strcmp(mode, "uac") || !strcmp(mode, "baseline")) {
		err = load_uac(base, &o, mode);
	} else {
		fprintf(stderr, "piclab-load: unknown mode '%s'\n", mode);
		usage(stderr);
		err = EINVAL;
	}
	for (i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	event_base_free(base);
	return err ? 1 : 0;
}
