/* replay: `piclab replay` — the pipeline that turns any SIP capture into a lab run against the
 * proxy under test, and its command line. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "replay_int.h"
#include "rplua.h"

double rp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rp_log(struct replay *r, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (r->o->verbose)
		fprintf(stderr, "replay: %s\n", line);
	if (r->log)
		fprintf(r->log, "replay: %s\n", line);
}

void replay_free(struct replay *r)
{
	int i;

	for (i = 0; i < r->ntxns; i++) {
		free(r->txns[i].resps);
		free(r->txns[i].arrived_text);
		free(r->txns[i].live_final_text);
		mem_deref(r->txns[i].arrived_conn);
	}
	for (i = 0; i < r->ngroups; i++)
		free(r->groups[i].txns);
	free(r->txns);
	free(r->groups);
	free(r->eps);
	free(r->recs);
	free(r->steps);
	free(r->exps);
	mem_deref(r->txn_index);
	mem_deref(r->map);
	mem_deref(r->live);
	mem_deref(r->dec);
}

/* The run folder is made only once the capture has been understood: bad input leaves nothing
 * behind. An existing folder must be empty. */
static int replay_mkdir(struct replay *r)
{
	char path[1100];
	struct stat st;
	DIR *d;

	snprintf(r->dir, sizeof(r->dir), "%s", r->o->out);
	if (stat(r->dir, &st) == 0) {
		struct dirent *de;
		bool empty = true;

		if (!S_ISDIR(st.st_mode) || !(d = opendir(r->dir))) {
			fprintf(stderr, "piclab replay: -o %s is not a folder\n", r->dir);
			return EEXIST;
		}
		while ((de = readdir(d)))
			empty &= de->d_name[0] == '.';
		closedir(d);
		if (!empty) {
			fprintf(stderr, "piclab replay: -o %s is not empty; give a new folder\n",
				r->dir);
			return EEXIST;
		}
	} else if (mkdir(r->dir, 0755) != 0) {
		fprintf(stderr, "piclab replay: cannot create %s: %s\n", r->dir, strerror(errno));
		return errno;
	}
	snprintf(path, sizeof(path), "%s/lab.log", r->dir);
	r->log = fopen(path, "w");
	if (r->log) {
		setvbuf(r->log, NULL, _IOLBF, 0);
		log_set_file(r->log);
	}
	snprintf(path, sizeof(path), "%s/cast.txt", r->dir);
	{
		FILE *f = fopen(path, "w");

		if (f) {
			rpcast_print(r, f);
			fclose(f);
		}
	}
	return 0;
}

static void replay_summary(const struct replay *r)
{
	int g;

	for (g = 0; g < r->ngroups; g++) {
		const struct rp_group *gp = &r->groups[g];
		int i;

		for (i = 0; i < gp->ntxns; i++) {
			const struct rp_txn *t = &r->txns[gp->txns[i]];

			if (t->proxy_origin || (t->pass && !t->diff[0] && r->ngroups > 50))
				continue;
			printf("%-5s %s: %s (frame %u)%s%s\n", t->pass ? "pass" : "FAIL", gp->name,
			       t->name, r->recs[t->hops[0]].frame, t->diff[0] ? "\n      " : "",
			       t->diff);
		}
	}
	printf("results: %s/index.html, results.json, junit.xml\n", r->dir);
	printf("%d passed, %d failed (groups of transactions, --expect %s)%s\n", r->passed,
	       r->failed, r->o->expect == REPLAY_EXPECT_POLICY ? "policy" : "recorded",
	       r->sut_alive ? "" : "; the proxy or the lab died");
}

int replay_read(struct replay *r)
{
	int err = rpmap_alloc(&r->map);

	if (!err)
		err = rpdecode_run(r);
	if (!err)
		err = rpgroup_run(r);
	if (!err)
		err = rpcast_run(r);
	return err;
}

int replay_run(const struct replay_opts *o)
{
	struct replay r = { .o = o };
	double t0 = rp_now(), t_read, t_send, t_judge, t_down;
	int err, rc = 2;

	/* decode -> group -> cast: reading only */
	err = replay_read(&r);
	if (err)
		goto out;
	t_read = rp_now();
	rpcast_print(&r, stdout);
	fflush(stdout);
	if (o->cast_only) {
		rc = 0;
		goto out;
	}
	/* rewrite -> send -> judge: in the lab, results in the run folder */
	err = replay_mkdir(&r);
	if (!err)
		err = rprewrite_prepare(&r);
	if (!err)
		err = rpsend_run(&r);
	t_send = rp_now();
	if (!err)
		err = rpjudge_run(&r);
	t_judge = rp_now();
	rpsend_teardown(&r);
	t_down = rp_now();
	if (err)
		goto out;
	r.seconds = rp_now() - t0;
	err = rpreport_write(&r);
	/* where the time went, for `make bench` and a slow replay */
	rp_log(&r, "seconds: read %.2f, lab and send %.2f, judge %.2f, lab down and capture "
	       "%.2f, report %.2f", t_read - t0, t_send - t_read, t_judge - t_send,
	       t_down - t_judge, rp_now() - t_down);
	replay_summary(&r);
	rc = err || !r.sut_alive ? 2 : r.failed ? 1 : 0;
out:
	if (r.log) {
		log_set_file(NULL);
		fclose(r.log);
	}
	replay_free(&r);
	return rc;
}

static void replay_usage(FILE *f)
{
	fprintf(f, "usage: piclab replay CAPTURE [--keys KEYLOG] [--map FILE] "
		"[--expect recorded|policy]\n"
		"                    [--speed X | --fast] [--wait S] [--lab N] [-o DIR] [--cast]\n"
		"       piclab replay --to-lua CAPTURE [--keys KEYLOG] [--map FILE] -o FILE.lua\n");
}

int replay_cmd(const char *root, const char *sut_binary, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "keys", required_argument, NULL, 'k' }, { "map", required_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' }, { "speed", required_argument, NULL, 's' },
		{ "fast", no_argument, NULL, 'f' }, { "out", required_argument, NULL, 'o' },
		{ "lab", required_argument, NULL, 'L' }, { "wait", required_argument, NULL, 'w' },
		{ "to-lua", no_argument, NULL, 'T' }, { "cast", no_argument, NULL, 'C' },
		{ "sut", required_argument, NULL, 'S' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct replay_opts o = { .root = root, .sut_binary = sut_binary, .speed = 1.0,
				 .wait = 5.0, .lab_index = 1 };
	char defout[1200];
	bool to_lua = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.keys = optarg; break;
		case 'm': o.map = optarg; break;
		case 'o': o.out = optarg; break;
		case 'S': o.sut_binary = optarg; break;
		case 'v': o.verbose = true; break;
		case 'f': o.speed = 0; break;
		case 'T': to_lua = true; break;
		case 'C': o.cast_only = true; break;
		case 'e':
			if (!strcmp(optarg, "recorded"))
				o.expect = REPLAY_EXPECT_RECORDED;
			else if (!strcmp(optarg, "policy"))
				o.expect = REPLAY_EXPECT_POLICY;
			else {
				fprintf(stderr, "piclab replay: --expect is recorded or policy\n");
				return 2;
			}
			break;
		case 's':
			o.speed = atof(optarg);
			if (o.speed <= 0) {
				fprintf(stderr, "piclab replay: --speed wants a factor > 0\n");
				return 2;
			}
			break;
		case 'w':
			o.wait = atof(optarg);
			if (o.wait <= 0 || o.wait > 600) {
				fprintf(stderr, "piclab replay: --wait wants 0 < seconds <= 600\n");
				return 2;
			}
			break;
		case 'L':
			o.lab_index = (unsigned)atoi(optarg);
			if (o.lab_index < 1 || o.lab_index > 250) {
				fprintf(stderr, "piclab replay: --lab must be 1..250\n");
				return 2;
			}
			break;
		case 'h': replay_usage(stdout); return 0;
		default: replay_usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		replay_usage(stderr);
		return 2;
	}
	o.capture = argv[optind];
	if (to_lua) {
		if (!o.out) {
			fprintf(stderr, "piclab replay --to-lua: -o FILE.lua is required\n");
			return 2;
		}
		log_set_level(o.verbose ? LOGL_DEBUG : LOGL_ERROR);  /* the decoder names a bad file */
		return rplua_write(&o);
	}
	if (!o.out) {
		char stamp[64];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
		snprintf(defout, sizeof(defout), "%s/reports/out/replay-%s-%d", root, stamp,
			 (int)getpid());
		o.out = defout;
		snprintf(stamp, sizeof(stamp), "%.60s", "");
		{
			char base[1100];

			snprintf(base, sizeof(base), "%s/reports/out", root);
			mkdir(base, 0755);
		}
	}
	if (!o.cast_only && geteuid() != 0) {
		fprintf(stderr, "piclab replay: the lab binds ports 5061 and 53 on 127.77.0.0/16 "
			"and captures on lo: run as root\n");
		return 2;
	}
	log_set_level(o.verbose ? LOGL_DEBUG : LOGL_WARN);
	return replay_run(&o);
}
