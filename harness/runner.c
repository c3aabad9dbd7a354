/* runner: the scenario suite driver behind `piclab run`. */
#define LOG_MODULE "runner"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "../fakes/ca/labca.h"
#include "runner.h"
#include "scen.h"

#define RUNNER_MAX 1024

struct runner_list {
	char *path[RUNNER_MAX];
	unsigned n;
};

static int runner_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool runner_is_scenario(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".lua") == 0 && name[0] != '.';
}

/* Folders lib/ and fixtures/ hold shared steps and data, not scenarios. */
static int runner_collect(struct runner_list *l, const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "piclab: %s: %s\n", path, strerror(errno));
		return ENOENT;
	}
	if (S_ISREG(st.st_mode)) {
		if (l->n == RUNNER_MAX)
			return ENOSPC;
		l->path[l->n++] = strdup(path);
		return 0;
	}
	d = opendir(path);
	if (!d)
		return errno;
	while ((de = readdir(d))) {
		char sub[1024];

		if (de->d_name[0] == '.' || strcmp(de->d_name, "lib") == 0 ||
		    strcmp(de->d_name, "fixtures") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			runner_collect(l, sub);
		else if (runner_is_scenario(de->d_name) && l->n < RUNNER_MAX)
			l->path[l->n++] = strdup(sub);
	}
	closedir(d);
	return 0;
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

static int runner_mkdirs(const char *path)
{
	char tmp[1024];
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

int runner_run(const struct runner_opts *o, int npaths, char **paths)
{
	struct runner_list l = { .n = 0 };
	char run_id[64], out[1024], pki[1100], latest[1100];
	unsigned passed = 0, failed = 0, errors = 0, skipped = 0, i;
	struct event_base *base;
	time_t now = time(NULL);
	int k, err, rc = 0;

	if (npaths == 0) {
		char def[1024];

		snprintf(def, sizeof(def), "%s/scenarios", o->root);
		err = runner_collect(&l, def);
	} else {
		for (k = 0, err = 0; k < npaths && !err; k++)
			err = runner_collect(&l, paths[k]);
	}
	if (err)
		return 2;
	qsort(l.path, l.n, sizeof(l.path[0]), runner_cmp);
	if (o->list_only) {
		for (i = 0; i < l.n; i++) {
			char name[512];

			runner_name(l.path[i], name, sizeof(name));
			printf("%s\t%s\n", name, l.path[i]);
		}
		goto out;
	}
	if (l.n == 0) {
		fprintf(stderr, "piclab: no scenarios found\n");
		rc = 2;
		goto out;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "piclab: the lab binds ports 53 and 5061 on 127.77.0.0/16 and "
			"captures on lo: run as root (or grant CAP_NET_BIND_SERVICE+CAP_NET_RAW)\n");
		rc = 2;
		goto out;
	}
	strftime(run_id, sizeof(run_id), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(out, sizeof(out), "%s/%s-%d", o->out_base, run_id, (int)getpid());
	snprintf(pki, sizeof(pki), "%s/pki", out);
	if (runner_mkdirs(pki) != 0) {
		fprintf(stderr, "piclab: cannot create %s: %s\n", pki, strerror(errno));
		rc = 2;
		goto out;
	}
	snprintf(latest, sizeof(latest), "%s/latest", o->out_base);
	unlink(latest);
	if (symlink(strrchr(out, '/') + 1, latest) != 0)
		log_debug("no latest link: %s", strerror(errno));
	err = labca_make(pki, NULL);
	if (err) {
		fprintf(stderr, "piclab: lab PKI in %s: %s\n", pki, strerror(err));
		rc = 2;
		goto out;
	}
	base = event_base_new();
	if (!base) {
		rc = 2;
		goto out;
	}
	printf("piclab: %u scenario%s, results in %s\n", l.n, l.n == 1 ? "" : "s", out);
	fflush(stdout);
	for (i = 0; i < l.n; i++) {
		struct scen_opts so = {
			.lab_index = o->first_lab + i % 200, .out_dir = out, .pki_dir = pki,
			.sut_binary = o->sut_binary, .default_timeout = o->timeout,
			.capture = o->capture,
		};
		struct scen_result r;
		char name[512];

		runner_name(l.path[i], name, sizeof(name));
		scen_run(base, l.path[i], name, &so, &r);
		printf("%-5s %s (%.2f s)", scen_verdict_str(r.verdict), r.name, r.seconds);
		if (r.verdict != SCEN_PASS)
			printf("\n      %s%s%s", r.where[0] ? r.where : "", r.where[0] ? ": " : "",
			       r.reason);
		if (r.verdict == SCEN_FAIL || r.verdict == SCEN_ERROR)
			printf("\n      output: %s", r.dir);
		printf("\n");
		fflush(stdout);
		switch (r.verdict) {
		case SCEN_PASS: passed++; break;
		case SCEN_FAIL: failed++; break;
		case SCEN_ERROR: errors++; break;
		case SCEN_SKIP: skipped++; break;
		}
	}
	event_base_free(base);
	printf("%u passed, %u failed", passed, failed + errors);
	if (errors || skipped)
		printf(" (%u error%s, %u skipped)", errors, errors == 1 ? "" : "s", skipped);
	printf("\n");
	rc = errors ? 2 : failed ? 1 : 0;
out:
	for (i = 0; i < l.n; i++)
		free(l.path[i]);
	return rc;
}
