/* accessproxy: the SIP federation access proxy: config check mode and the event loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <event2/event.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "base/mem.h"
#include "base/log.h"
#include "base/sanitized.h"
#include "conf/conf.h"
#include "ctl/ctl.h"
#include "ctl/reload.h"
#include "audit/audit.h"
#include "store/store.h"
#include "spine.h"
#include "worker/worker.h"

#define LOG_MODULE "main"

/* Exit codes: the harness and init systems tell the cases apart by these. */
enum ap_exit {
	AP_EXIT_OK = 0,       /* clean shutdown (SIGTERM/SIGINT), or -t: configuration ok */
	AP_EXIT_CONFIG = 1,   /* configuration invalid (each problem printed on stderr) */
	AP_EXIT_USAGE = 2,    /* bad command line */
	AP_EXIT_STARTUP = 3,  /* valid configuration but startup failed (bind, TLS, socket) */
};

/* A graceful stop waits this long at most for the transactions in flight, polling on a tick. */
#define AP_DRAIN_MS 1000
#define AP_DRAIN_TICK_MS 10
#define AP_DRAIN_TICKS (AP_DRAIN_MS / AP_DRAIN_TICK_MS)
/* ... and then this many ticks for the 503s it sent to leave */
#define AP_FLUSH_TICKS 5

struct ap {
	struct event_base *base;
	struct conf *cfg;
	struct spine *spine;
	struct ctl *ctl;
	struct reload *reload;
	struct event *drain;       /* a graceful stop under way */
	unsigned drain_ticks;
	time_t started;
};

/* The release; a build's git hash is in the buildinfo file beside bin/. */
#define AP_VERSION "1.0.0"

/* One line: what a report names as the SUT's identity. */
static void ap_version(void)
{
	printf("accessproxy %s (%s, libevent %s, SQLite %s)%s\n", AP_VERSION,
	       OpenSSL_version(OPENSSL_VERSION), event_get_version(), sqlite3_libversion(),
	       PIC_SANITIZED ? PIC_SANITIZED_MARK : "");
}

static void ap_usage(FILE *f)
{
	fprintf(f,
		"usage: accessproxy [-t] -c FILE | -V\n"
		"  -c, --config FILE  configuration (format: accessproxy.conf.example)\n"
		"  -t, --test         check the configuration, print each problem, exit\n"
		"  -V, --version      print the version and the libraries it runs with, exit\n"
		"                     0 (\"configuration ok\") or 1\n"
		"  -h, --help         this text\n"
		"signals: TERM/INT stop gracefully; HUP reloads the config, the database\n"
		"         ([global] database) and the certificates, keeping the old state if\n"
		"         any of it is broken (the control command \"reload\" does the same)\n"
		"exit codes: 0 ok, 1 invalid configuration, 2 usage, 3 startup failure\n");
}

static void ap_print_problem(bool error, const char *msg, void *arg)
{
	fprintf(stderr, "%s\n", msg);
}

static void ap_print_warning(bool error, const char *msg, void *arg)
{
	fprintf(stderr, "%s%s\n", error ? "" : "warning: ", msg);
}

/* -t: the database is authoritative once it exists, so say where the config differs. */
static int ap_check_database(const struct conf *cfg)
{
	const char *path = conf_database(cfg);
	struct store *s = NULL;
	char why[512];
	int err;

	if (access(path, F_OK) != 0) {
		char dir[4096];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		if (slash && access(dir, W_OK) != 0 && conf_database_is_default(cfg)) {
			fprintf(stderr, "warning: database %s cannot be created (%s: %s): the proxy "
				"will run from this config alone, without audit; set [global] "
				"database\n", path, dir, strerror(errno));
		} else if (slash && access(dir, W_OK) != 0) {
			fprintf(stderr, "%s: database %s cannot be created (%s: %s)\n",
				conf_path(cfg), path, dir, strerror(errno));
			return EACCES;
		} else
			fprintf(stderr, "note: database %s does not exist: it will be created and "
				"seeded from this config\n", path);
		return 0;
	}
	err = store_open(&s, path, true, NULL, why, sizeof(why));
	if (err == EACCES) /* an older schema: the proxy migrates it when it starts */
		return 0;
	if (err) {
		fprintf(stderr, "%s\n", why);
		return conf_database_is_default(cfg) ? 0 : err;
	}
	err = store_compare_conf(s, cfg, ap_print_warning, NULL);
	mem_deref(s);
	return err;
}

static int ap_cmd_ready(const char *args, char *out, size_t size, void *arg)
{
	snprintf(out, size, "ok");
	return 0;
}

/* The worker's heap as the allocator sees it: in use, and free but kept (fragments and the
 * top below the trim threshold), which RSS counts too. null where it cannot tell. */
static void ap_heap_json(char *out, size_t size)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33) && !PIC_SANITIZED
	struct mallinfo2 mi = mallinfo2();

	snprintf(out, size, "{\"in_use\":%zu,\"free\":%zu,\"mmapped\":%zu}", mi.uordblks,
		 mi.fordblks, mi.hblkhd);
#else
	snprintf(out, size, "null");
#endif
}

static int ap_cmd_status(const char *args, char *out, size_t size, void *arg)
{
	const struct ap *ap = arg;
	struct spine_stats st;
	char audit[640] = "null", heap[128];

	spine_stats(ap->spine, &st);
	ap_heap_json(heap, sizeof(heap));
	if (reload_audit(ap->reload))
		audit_debug(reload_audit(ap->reload), audit, sizeof(audit));
	snprintf(out, size,
		 "{\"pid\":%ld,\"uptime_s\":%lld,\"connections\":{\"internal\":%zu,"
		 "\"external\":%zu},\"transactions\":%zu,\"requests_in\":%llu,"
		 "\"responses_out\":%llu,\"refused_malformed\":%llu,\"oversize\":%llu,"
		 "\"incomplete_timeouts\":%llu,\"partial_cap_closes\":%llu,\"idle_closes\":%llu,"
		 "\"state_version\":%llu,\"heap\":%s,\"audit\":%s}",
		 (long)getpid(), (long long)(time(NULL) - ap->started),
		 st.connections[CONF_INTERNAL], st.connections[CONF_EXTERNAL], st.transactions,
		 (unsigned long long)st.requests_in, (unsigned long long)st.responses_out,
		 (unsigned long long)st.refused_malformed, (unsigned long long)st.oversize,
		 (unsigned long long)st.msg_timeouts, (unsigned long long)st.partial_closes,
		 (unsigned long long)st.idle_closes,
		 (unsigned long long)reload_version(ap->reload), heap, audit);
	return 0;
}

/* A graceful stop lets the requests in flight get their answers first (bounded by
 * AP_DRAIN_MS): a peer whose request lost its answer to a restart may end a dialog or a
 * subscription over it (RFC 6665 4.2.2; CONT-005). */
static void ap_drain_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ap *ap = arg;
	size_t n = spine_pending(ap->spine);

	++ap->drain_ticks;
	if (n && ap->drain_ticks < AP_DRAIN_TICKS)
		return;
	if (n) {
		log_warn("stopping: %zu forwarded request(s) unanswered get 503", n);
		spine_stop(ap->spine);
		return;
	}
	if (ap->drain_ticks > AP_DRAIN_TICKS && ap->drain_ticks < AP_DRAIN_TICKS + AP_FLUSH_TICKS)
		return;
	event_base_loopbreak(ap->base);
}

static void ap_signal(evutil_socket_t sig, short what, void *arg)
{
	struct ap *ap = arg;

	if (sig == SIGHUP) {
		char msg[2048];

		if (reload_run(ap->reload, msg, sizeof(msg)))
			log_error("SIGHUP: reload refused, old state kept: %s", msg);
		else
			log_info("SIGHUP: %s", msg);
		return;
	}
	log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (!ap->drain && spine_pending(ap->spine)) {
		struct timeval tv = { 0, AP_DRAIN_TICK_MS * 1000 };

		ap->drain = event_new(ap->base, -1, EV_PERSIST, ap_drain_tick, ap);
		if (ap->drain && event_add(ap->drain, &tv) == 0)
			return;
	}
	event_base_loopbreak(ap->base); /* nothing in flight, or a second signal */
}

static int ap_run(struct ap *ap)
{
	struct event *sigs[3] = { NULL, NULL, NULL };
	const int signos[3] = { SIGTERM, SIGINT, SIGHUP };
	char prefix[64];
	int err = 0, i;

	snprintf(prefix, sizeof(prefix), "accessproxy[%ld]", (long)getpid());
	log_set_prefix(prefix);
	log_set_level(conf_log_level(ap->cfg));
	signal(SIGPIPE, SIG_IGN);
	ap->started = time(NULL);
	ap->base = event_base_new();
	if (!ap->base)
		return ENOMEM;
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(ap->base, signos[i], ap_signal, ap);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			err = ENOMEM;
	}
	if (!err)
		err = spine_alloc(&ap->spine, ap->base, ap->cfg);
	if (!err)
		err = reload_alloc(&ap->reload, ap->base, ap->cfg, ap->spine);
	/* AUD-001: every federated decision goes to the audit log the state database holds */
	if (!err)
		spine_set_audit(ap->spine, reload_audit(ap->reload));
	/* the control socket comes last: "ready" answering means every listener is up */
	if (!err)
		err = ctl_alloc(&ap->ctl, ap->base,
				worker_ctl_path(conf_control_socket(ap->cfg)));
	if (!err)
		err = ctl_add(ap->ctl, "ready", ap_cmd_ready, ap);
	if (!err)
		err = ctl_add(ap->ctl, "status", ap_cmd_status, ap);
	if (!err)
		err = reload_ctl_add(ap->reload, ap->ctl);
	if (!err) {
		log_info("running (config %s)", conf_path(ap->cfg));
		event_base_dispatch(ap->base);
	}
	ap->ctl = mem_deref(ap->ctl);
	ap->reload = mem_deref(ap->reload); /* the audit writer drains its queue */
	ap->spine = mem_deref(ap->spine);
	for (i = 0; i < 3; i++)
		if (sigs[i])
			event_free(sigs[i]);
	if (ap->drain)
		event_free(ap->drain);
	ap->drain = NULL;
	event_base_free(ap->base);
	return err;
}

/* One event loop; with [global] workers > 1 each worker process runs one (worker.h). */
static int ap_run_worker(void *arg)
{
	return ap_run(arg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ap ap = { 0 };
	const char *path = NULL;
	bool test = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': test = true; break;
		case 'h': ap_usage(stdout); return AP_EXIT_OK;
		case 'V': ap_version(); return AP_EXIT_OK;
		default: ap_usage(stderr); return AP_EXIT_USAGE;
		}
	}
	if (!path || optind != argc) {
		ap_usage(stderr);
		return AP_EXIT_USAGE;
	}
#ifdef AP_MUTANT_CONF_CHECK_EXITS_ZERO
	err = conf_load(&ap.cfg, path, ap_print_problem, NULL);
	if (err) /* the check prints the problems but exits 0 */
		return test ? AP_EXIT_OK : AP_EXIT_CONFIG;
#else
	err = conf_load(&ap.cfg, path, ap_print_problem, NULL);
	if (err)
		return AP_EXIT_CONFIG;
#endif
	if (test) {
		if (ap_check_database(ap.cfg)) {
			mem_deref(ap.cfg);
			return AP_EXIT_CONFIG;
		}
		printf("configuration ok\n");
		mem_deref(ap.cfg);
		return AP_EXIT_OK;
	}
	err = worker_run(worker_count(conf_workers(ap.cfg)), ap_run_worker, &ap);
	mem_deref(ap.cfg);
	if (err) {
		log_error("startup failed: %s", strerror(err));
		return AP_EXIT_STARTUP;
	}
	log_info("stopped");
	return AP_EXIT_OK;
}
