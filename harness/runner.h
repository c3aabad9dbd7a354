/* runner: finds scenario files, filters and shards them, runs them in parallel labs, prints
 * verdicts and the summary, and has the reports written. */
#ifndef PIC_RUNNER_H
#define PIC_RUNNER_H

#include <stdbool.h>

struct runner_opts {
	const char *root;        /* the project root (scenarios/, reports/) */
	const char *out_base;    /* where run folders go (default <root>/reports/out) */
	const char *sut_binary;  /* accessproxy, or the program of sut_kind */
	const char *sut_kind;    /* adapter name (sutkind.h); NULL: accessproxy */
	const char *pki_dir;     /* the lab PKI to use (NULL: a new one in the run folder) */
	double timeout;          /* default per-scenario time limit, seconds */
	double time_scale;       /* time limits and waits times this (a sanitizer build: 3) */
	bool capture;
	bool list_only;
	unsigned first_lab;      /* first lab index (127.77.<n>.0/24); worker k uses n + k */
	unsigned jobs;           /* labs in parallel */
	unsigned workers;        /* >0: every lab's SUT runs this many worker processes */
	unsigned shard_k;        /* run only scenarios i with i % shard_n == shard_k - 1 */
	unsigned shard_n;
	unsigned long seed;      /* 0: pick one and print it */
	const char *tags[16];    /* run only scenarios with one of these tags */
	unsigned ntags;
	const char *reqs[16];    /* run only scenarios covering one of these requirement ids */
	unsigned nreqs;
	bool progress;
	bool keep;               /* leave a failed lab up for inspection (implies jobs = 1) */
	const char *pics;        /* the SUT's PICS file (default reports/pics/accessproxy.pics) */
	const char *baseline;    /* a run folder or results.json to compare with, or NULL */
	const char *xfail;       /* expected failures (name TAB reason), or NULL */
	unsigned repeat;         /* runs per scenario (0, 1: once); mixed verdicts mark it flaky */
};

/* A run's folder <out_base>/<date>-<time>-<pid>/ with the lab PKI (the same for piclab run
 * and piclab lab), the <out_base>/latest link, and harness.log, where log lines go until
 * runner_dirs_close. Errors are printed. */
#include <stdio.h>
struct runner_dirs {
	char out[1024];
	char pki[1100];
	FILE *log;
};
int runner_dirs_open(struct runner_dirs *d, const char *out_base, const char *pki_dir);
void runner_dirs_close(struct runner_dirs *d);
/* EPERM, with what to do printed, unless root (cmd: "run", "lab"). */
int runner_need_root(const char *cmd);

/* Runs the scenarios under paths (files or folders; none: <root>/scenarios). Returns the exit
 * code: 0 all passed, 1 any failure, 2 a harness or lab error. */
int runner_run(const struct runner_opts *o, int npaths, char **paths);

#endif
