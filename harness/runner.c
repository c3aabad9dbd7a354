/* runner: the scenario suite driver behind `piclab run` and `piclab list`. */
#define LOG_MODULE "runner"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "../fakes/ca/labca.h"
#include "base/mem.h"
#include "ladder.h"
#include "lab.h"
#include "labrt.h"
#include "pics.h"
#include "reportslua.h"
#include "runinfo.h"
#include "runner.h"
#include "scen.h"

#define RUNNER_MAX 1024
#define RUNNER_MAX_JOBS 32
#define RUNNER_LADDER_LAST 12

struct runner_item {
	char *path;
	char name[256];
	struct scen_result res;   /* probe data, then the verdict */
	bool probe_failed;
	bool done;
};

struct runner {
	const struct runner_opts *o;
	struct runner_item *items[RUNNER_MAX];
	unsigned n;
	struct runner_dirs d;
	struct ladder *ladder;   /* for the failure summary on a terminal */
	unsigned finished;
	unsigned lab[RUNNER_MAX_JOBS];   /* worker k's lab index, locked (labrt) */
	int lockfd[RUNNER_MAX_JOBS];
	unsigned nlocks;
	time_t start;
	int regressions;  /* with a baseline: scenarios that got worse (reports/compare.lua) */
};

static int runner_cmp(const void *a, const void *b)
{
	const struct runner_item *x = *(struct runner_item *const *)a;
	const struct runner_item *y = *(struct runner_item *const *)b;

	return strcmp(x->path, y->path);
}

/* "scenarios/smoke/x.lua" -> "smoke/x" */
static void runner_name(const char *path, char *buf, size_t size)
{
	const char *p = strstr(path, "scenarios/");
	size_t n;

	p = p ? p + strlen("scenarios/") : path;
	while (*p == '.' || *p == '/')
		p++;
	snprintf(buf, size, "%s", p);
	n = strlen(buf);
	if (n > 4 && strcmp(buf + n - 4, ".lua") == 0)
		buf[n - 4] = '\0';
}

static int runner_add(struct runner *r, const char *path)
{
	struct runner_item *it;

	if (r->n == RUNNER_MAX) {
		fprintf(stderr, "piclab: more than %d scenarios\n", RUNNER_MAX);
		return ENOSPC;
	}
	it = calloc(1, sizeof(*it));
	if (!it || !(it->path = strdup(path))) {
		free(it);
		return ENOMEM;
	}
	runner_name(path, it->name, sizeof(it->name));
	r->items[r->n++] = it;
	return 0;
}

/* Folders lib/ and fixtures/ hold shared steps and harness self-tests, not suite scenarios. */
static int runner_collect(struct runner *r, const char *path, bool top)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "piclab: %s: %s\n", path, strerror(errno));
		return ENOENT;
	}
	if (S_ISREG(st.st_mode))
		return runner_add(r, path);
	{
		size_t n = strlen(path);

		while (n > 1 && path[n - 1] == '/') {
			char trimmed[1024];

			snprintf(trimmed, sizeof(trimmed), "%.*s", (int)(n - 1), path);
			return runner_collect(r, trimmed, top);
		}
	}
	d = opendir(path);
	if (!d)
		return errno;
	while (!err && (de = readdir(d))) {
		char sub[1024];
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || strcmp(de->d_name, "lib") == 0 ||
		    strcmp(de->d_name, "fixtures") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			err = runner_collect(r, sub, false);
		else if (n > 4 && strcmp(de->d_name + n - 4, ".lua") == 0)
			err = runner_add(r, sub);
	}
	closedir(d);
	return err;
}

static bool runner_has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

/* Keeps the scenarios the filters and the shard select. */
static void runner_select(struct runner *r)
{
	const struct runner_opts *o = r->o;
	unsigned i, k = 0;

	for (i = 0; i < r->n; i++) {
		struct runner_item *it = r->items[i];
		bool keep = true;
		unsigned j;

		it->probe_failed = scen_probe(it->path, it->name, &it->res) != 0;
		if (!it->probe_failed && o->ntags) {
			keep = false;
			for (j = 0; j < o->ntags; j++)
				keep |= runner_has_word(it->res.tags, o->tags[j]);
		}
		if (!it->probe_failed && keep && o->nreqs) {
			keep = false;
			for (j = 0; j < o->nreqs; j++)
				keep |= runner_has_word(it->res.covers, o->reqs[j]);
		}
		if (keep && o->shard_n > 1)
			keep = k++ % o->shard_n == o->shard_k - 1;
		if (!keep) {
			free(it->path);
			free(it);
			r->items[i] = NULL;
		}
	}
	for (i = 0, k = 0; i < r->n; i++)
		if (r->items[i])
			r->items[k++] = r->items[i];
	r->n = k;
}

static int runner_mkdirs(const char *path)
{
	char tmp[1200];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) != 0 && errno != EEXIST ? errno : 0;
}

/* On a terminal, a failed scenario's verdict comes with the end of its SIP flow. */
static void runner_print_ladder(struct runner *r, const struct scen_result *res)
{
	char pcap[600], keys[600];

	if (!r->ladder && ladder_open(&r->ladder, r->o->root) != 0)
		return;
	snprintf(pcap, sizeof(pcap), "%s/capture.pcap", res->dir);
	snprintf(keys, sizeof(keys), "%s/keys.log", res->dir);
	if (access(pcap, R_OK) != 0)
		return;
	printf("      the last SIP messages (piclab ladder %s %s):\n", pcap, keys);
	fflush(stdout);
	ladder_print(r->ladder, pcap, keys, RUNNER_LADDER_LAST, stdout);
}

static void runner_print(struct runner *r, const struct scen_result *res)
{
	const char *v = scen_verdict_str(res->verdict);

	if (r->o->progress)
		printf("\r\033[K");
	if (res->runs > 1 && res->runs_passed && res->runs_passed < res->runs)
		v = "flaky";
	printf("%-5s %s (%.2f s)", v, res->name, res->seconds);
	if (res->runs > 1)
		printf(" [%u/%u passed: %s]", res->runs_passed, res->runs, res->history);
	if (res->verdict != SCEN_PASS)
		printf("\n      %s%s%s", res->where, res->where[0] ? ": " : "", res->reason);
	if (res->verdict == SCEN_FAIL || res->verdict == SCEN_ERROR)
		printf("\n      output: %s", res->dir);
	if (res->verdict == SCEN_FAIL && res->fail_frame)
		printf("\n      evidence: frame %lu of capture.pcap%s", res->fail_frame,
		       res->fail_frame_exact ? "" : " (captured so far)");
	printf("\n");
	if (r->o->progress && res->verdict == SCEN_FAIL)
		runner_print_ladder(r, res);
	if (r->o->progress && r->finished < r->n)
		printf("[%u/%u] running...", r->finished, r->n);
	fflush(stdout);
}

/* --repeat: the first non-passing run is the one reported (with its evidence); every run's
 * verdict goes into the history. */
static void runner_tally(struct scen_result *agg, const struct scen_result *one, unsigned rep)
{
	unsigned runs = rep ? agg->runs : 0, passed = rep ? agg->runs_passed : 0;
	char history[sizeof(agg->history)];
	size_t n;

	snprintf(history, sizeof(history), "%s", rep ? agg->history : "");
	if (rep == 0 || (agg->verdict == SCEN_PASS && one->verdict != SCEN_PASS))
		*agg = *one;
	agg->runs = runs + 1;
	agg->runs_passed = passed + (one->verdict == SCEN_PASS);
	n = strlen(history);
	snprintf(history + n, sizeof(history) - n, "%s%s", n ? " " : "",
		 scen_verdict_str(one->verdict));
	memcpy(agg->history, history, sizeof(history));
}

/* Runs items k, k+jobs, ... in lab r->lab[k]; results go to fd (or stay in place if fd<0). */
static void runner_worker(struct runner *r, unsigned k, unsigned jobs, int fd)
{
	struct event_base *base = event_base_new();
	unsigned i;

	if (!base) {
		fprintf(stderr, "piclab: worker %u: no event base\n", k);
		return;
	}
	for (i = k; i < r->n; i += jobs) {
		struct runner_item *it = r->items[i];
		unsigned rep, repeat = r->o->repeat ? r->o->repeat : 1;
		char repdir[1100];
		struct scen_opts so = {
			.lab_index = r->lab[k], .out_dir = r->d.out, .pki_dir = r->d.pki,
			.sut_binary = r->o->sut_binary, .sut_kind = r->o->sut_kind,
			.default_timeout = r->o->timeout, .time_scale = r->o->time_scale,
			.capture = r->o->capture, .seed = r->o->seed, .run_log = r->d.log,
			.root = r->o->root, .keep = r->o->keep, .workers = r->o->workers,
		};
		uint32_t idx = i;

		if (it->done)
			continue;  /* n/a: not run */
		for (rep = 0; rep < repeat; rep++) {
			struct scen_result one;

			if (rep) {
				snprintf(repdir, sizeof(repdir), "%s/repeat-%u", r->d.out, rep + 1);
				runner_mkdirs(repdir);
				so.out_dir = repdir;
			}
			scen_run(base, it->path, it->name, &so, &one);
			runner_tally(&it->res, &one, rep);
		}
		it->done = true;
		if (fd < 0) {
			r->finished++;
			runner_print(r, &it->res);
			continue;
		}
		if (write(fd, &idx, sizeof(idx)) != sizeof(idx) ||
		    write(fd, &it->res, sizeof(it->res)) != (ssize_t)sizeof(it->res))
			break;
	}
	event_base_free(base);
}

static bool runner_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

/* Forks one process per lab; each runs its share and streams results back through a pipe. */
static int runner_parallel(struct runner *r, unsigned jobs)
{
	struct pollfd pfd[RUNNER_MAX_JOBS];
	pid_t pid[RUNNER_MAX_JOBS];
	unsigned k, open_fds = 0;
	int err = 0;

	fflush(NULL);
	for (k = 0; k < jobs; k++) {
		int p[2];

		if (pipe(p) != 0)
			return errno;
		pid[k] = fork();
		if (pid[k] < 0)
			return errno;
		if (pid[k] == 0) {
			close(p[0]);
			runner_worker(r, k, jobs, p[1]);
			close(p[1]);
			_exit(0);
		}
		close(p[1]);
		pfd[k] = (struct pollfd){ .fd = p[0], .events = POLLIN };
		open_fds++;
	}
	while (open_fds) {
		if (poll(pfd, jobs, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		for (k = 0; k < jobs; k++) {
			uint32_t idx;
			struct scen_result res;

			if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP)))
				continue;
			if (!runner_read_full(pfd[k].fd, &idx, sizeof(idx)) ||
			    !runner_read_full(pfd[k].fd, &res, sizeof(res)) || idx >= r->n) {
				close(pfd[k].fd);
				pfd[k].fd = -1;
				open_fds--;
				continue;
			}
			r->items[idx]->res = res;
			r->items[idx]->done = true;
			r->finished++;
			runner_print(r, &res);
		}
	}
	for (k = 0; k < jobs; k++) {
		int status;

		while (waitpid(pid[k], &status, 0) < 0 && errno == EINTR)
			;
	}
	return err;
}

/* A scenario a worker never reported (it crashed) is an error, not a silent gap. */
static void runner_fill_missing(struct runner *r)
{
	unsigned i;

	for (i = 0; i < r->n; i++) {
		struct runner_item *it = r->items[i];

		if (it->done)
			continue;
		it->res.verdict = SCEN_ERROR;
		snprintf(it->res.reason, sizeof(it->res.reason),
			 "the harness worker running it ended without a result");
		it->done = true;
		runner_print(r, &it->res);
	}
}

static void runner_set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

/* Hands every result to reports/render.lua, which writes results.json and junit.xml. */
static int runner_report(struct runner *r, double seconds)
{
	lua_State *L = reports_lua(r->o->root, "render", "reports");
	unsigned i;
	int err = 0;

	if (!L)
		return EINVAL;
	lua_capture_open_reports(L);
	runinfo_open(L);
	lua_createtable(L, 0, 8);
	runner_set_str(L, "out", r->d.out);
	runner_set_str(L, "root", r->o->root);
	lua_pushnumber(L, seconds);
	lua_setfield(L, -2, "seconds");
	lua_pushinteger(L, (lua_Integer)r->o->seed);
	lua_setfield(L, -2, "seed");
	runinfo_set(L, r->o, r->start, time(NULL));
	lua_createtable(L, (int)r->n, 0);
	for (i = 0; i < r->n; i++) {
		runinfo_push_result(L, &r->items[i]->res, r->items[i]->path);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "scenarios");
	if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab: reports: %s\n", lua_tostring(L, -1));
		err = EIO;
	} else if (lua_istable(L, -1)) {
		lua_getfield(L, -1, "regressions");
		r->regressions = (int)lua_tointeger(L, -1);
	}
	lua_close(L);
	return err;
}

static double runner_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One lab index per worker from first_lab upwards, each locked; an index another piclab holds
 * is skipped (and said), so two runs on one machine never share a /24. */
static int runner_lock_labs(struct runner *r, unsigned jobs)
{
	unsigned idx = r->o->first_lab;
	char holder[600];

	while (r->nlocks < jobs) {
		int fd, err;

		if (idx > 250) {
			fprintf(stderr, "piclab: no free lab index from %u to 250 for %u labs; see "
				"who holds them in %s/lab-*.lock, or pick another range with --lab N\n",
				r->o->first_lab, jobs, labrt_base());
			return EBUSY;
		}
		err = labrt_lock(idx, &fd, holder, sizeof(holder));
		if (err == EBUSY) {
			printf("piclab: lab %u (127.77.%u.0/24) is in use by %s; using the next free "
			       "index\n", idx, idx, holder);
			idx++;
			continue;
		}
		if (err) {
			fprintf(stderr, "piclab: lock of lab %u in %s: %s\n", idx, labrt_base(),
				strerror(err));
			return err;
		}
		r->lab[r->nlocks] = idx++;
		r->lockfd[r->nlocks++] = fd;
	}
	return 0;
}

static int runner_list(struct runner *r)
{
	unsigned i;

	for (i = 0; i < r->n; i++) {
		const struct scen_result *s = &r->items[i]->res;

		if (r->items[i]->probe_failed)
			printf("%s\tINVALID: %s\n", s->name, s->reason);
		else if (s->verdict == SCEN_NA)
			printf("%s\t[%s]\t{%s}\tN/A: %s\n", s->name, s->covers, s->tags, s->reason);
		else
			printf("%s\t[%s]\t{%s}\t%s\n", s->name, s->covers, s->tags, s->title);
	}
	return 0;
}

int runner_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "piclab %s: needs root: the lab binds ports 53, 443 and 5061 on "
		"127.77.0.0/16 and captures on lo. Run it again with sudo (sudo build/bin/piclab "
		"%s ...), or as root in a container\n", cmd, cmd);
	return EPERM;
}

int runner_dirs_open(struct runner_dirs *d, const char *out_base, const char *pki_dir)
{
	char run_id[64], latest[1100];
	time_t now = time(NULL);
	int err;

	memset(d, 0, sizeof(*d));
	strftime(run_id, sizeof(run_id), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(d->out, sizeof(d->out), "%s/%s-%d", out_base, run_id, (int)getpid());
	snprintf(d->pki, sizeof(d->pki), "%s/pki", d->out);
	err = runner_mkdirs(d->pki);
	if (!err && pki_dir) {
		snprintf(d->pki, sizeof(d->pki), "%s", pki_dir);
		err = runner_mkdirs(d->pki);
	}
	if (err) {
		fprintf(stderr, "piclab: cannot create %s: %s\n", d->pki, strerror(err));
		return err;
	}
	snprintf(latest, sizeof(latest), "%s/latest", out_base);
	unlink(latest);
	if (symlink(strrchr(d->out, '/') + 1, latest) != 0)
		log_debug("no latest link: %s", strerror(errno));
	snprintf(latest, sizeof(latest), "%s/harness.log", d->out);
	d->log = fopen(latest, "w");
	if (d->log) {
		setvbuf(d->log, NULL, _IOLBF, 0);
		log_set_file(d->log);
	}
	/* the same PKI for every lab, scenario or manual: the default leaves and the site's */
	err = labca_make(d->pki, lab_pki_leaves());
	if (err)
		fprintf(stderr, "piclab: lab PKI in %s: %s\n", d->pki, strerror(err));
	return err;
}

void runner_dirs_close(struct runner_dirs *d)
{
	if (!d->log)
		return;
	log_set_file(NULL);
	fclose(d->log);
	d->log = NULL;
}

/* Scenarios covering a requirement the SUT's PICS makes n/a do not run: verdict n/a now. */
static int runner_pics(struct runner *r)
{
	struct pics *p = NULL;
	unsigned i;
	int err = pics_open(&p, r->o->root, r->o->pics);

	if (err)
		return err;
	for (i = 0; i < r->n; i++) {
		struct runner_item *it = r->items[i];
		char why[512];

		if (it->probe_failed || !pics_scenario_na(p, it->res.covers, why, sizeof(why)))
			continue;
		it->res.verdict = SCEN_NA;
		snprintf(it->res.reason, sizeof(it->res.reason), "%s", why);
		it->res.where[0] = '\0';
		it->done = true;
	}
	pics_close(p);
	return 0;
}

int runner_run(const struct runner_opts *o, int npaths, char **paths)
{
	struct runner r = { .o = o, .start = time(NULL) };
	unsigned passed = 0, failed = 0, errors = 0, skipped = 0, inconc = 0, na = 0, flaky = 0;
	unsigned i, jobs;
	double t0 = runner_now();
	int k, err = 0, rc;

	if (npaths == 0) {
		char def[1024];

		snprintf(def, sizeof(def), "%s/scenarios", o->root);
		err = runner_collect(&r, def, true);
	}
	for (k = 0; k < npaths && !err; k++)
		err = runner_collect(&r, paths[k], true);
	if (err) {
		rc = 2;
		goto out;
	}
	qsort(r.items, r.n, sizeof(r.items[0]), runner_cmp);
	runner_select(&r);
	if (o->pics && runner_pics(&r)) {
		rc = 2;
		goto out;
	}
	if (o->list_only) {
		rc = runner_list(&r);
		goto out;
	}
	if (r.n == 0) {
		fprintf(stderr, "piclab: no scenarios selected\n");
		rc = 2;
		goto out;
	}
	if (runner_need_root("run") || runner_dirs_open(&r.d, o->out_base, o->pki_dir)) {
		rc = 2;
		goto out;
	}
	jobs = o->jobs && !o->keep ? o->jobs : 1;
	if (jobs > r.n)
		jobs = r.n;
	if (jobs > RUNNER_MAX_JOBS)
		jobs = RUNNER_MAX_JOBS;
	if (runner_lock_labs(&r, jobs) != 0) {
		rc = 2;
		goto out;
	}
	/* made before the workers fork, so their sockets share the parent's folder */
	if (!labrt_dir()) {
		fprintf(stderr, "piclab: runtime folder under %s: %s\n", labrt_base(),
			strerror(errno));
		rc = 2;
		goto out;
	}
	printf("piclab: %u scenario%s in %u lab%s, seed %lu, results in %s\n", r.n,
	       r.n == 1 ? "" : "s", jobs, jobs == 1 ? "" : "s", o->seed, r.d.out);
	fflush(stdout);
	for (i = 0; i < r.n; i++) {
		if (r.items[i]->done) {
			snprintf(r.items[i]->res.dir, sizeof(r.items[i]->res.dir), "%s", r.d.out);
			r.finished++;
			runner_print(&r, &r.items[i]->res);
		}
	}
	if (jobs == 1)
		runner_worker(&r, 0, 1, -1);
	else
		err = runner_parallel(&r, jobs);
	runner_fill_missing(&r);
	for (i = 0; i < r.n; i++) {
		switch (r.items[i]->res.verdict) {
		case SCEN_PASS: passed++; break;
		case SCEN_FAIL: failed++; break;
		case SCEN_ERROR: errors++; break;
		case SCEN_SKIP: skipped++; break;
		case SCEN_INCONC: inconc++; break;
		case SCEN_NA: na++; break;
		}
		flaky += r.items[i]->res.runs > 1 && r.items[i]->res.runs_passed &&
			 r.items[i]->res.runs_passed < r.items[i]->res.runs;
	}
	if (runner_report(&r, runner_now() - t0) != 0)
		errors++;
	else
		printf("results: %s/index.html, results.json, junit.xml\n", r.d.out);
	printf("%u passed, %u failed", passed, failed + errors);
	if (errors || skipped)
		printf(" (%u error%s, %u skipped)", errors, errors == 1 ? "" : "s", skipped);
	if (inconc || na || flaky)
		printf(", %u inconc, %u n/a, %u flaky", inconc, na, flaky);
	printf("\n");
	rc = errors || err ? 2 : failed ? 1 : 0;
	/* against a baseline or an expected-failures list, only regressions fail the run */
	if ((o->baseline || o->xfail) && rc != 2)
		rc = r.regressions ? 1 : 0;
out:
	runner_dirs_close(&r.d);
	mem_deref(r.ladder);
	for (i = 0; i < r.nlocks; i++)
		labrt_unlock(r.lockfd[i]);
	for (i = 0; i < r.n; i++) {
		free(r.items[i]->path);
		free(r.items[i]);
	}
	return rc;
}
