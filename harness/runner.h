/* runner: finds scenario files, runs each in its own lab, prints verdicts and the summary. */
#ifndef PIC_RUNNER_H
#define PIC_RUNNER_H

#include <stdbool.h>

struct runner_opts {
	const char *root;        /* the project root (scenarios/, reports/) */
	const char *out_base;    /* where run folders go (default <root>/reports/out) */
	const char *sut_binary;  /* accessproxy */
	double timeout;          /* default per-scenario time limit, seconds */
	bool capture;
	bool list_only;
	unsigned first_lab;      /* first lab index (127.77.<n>.0/24) */
};

/* Runs the scenarios under paths (files or folders; none: <root>/scenarios). Returns the exit
 * code: 0 all passed, 1 any failure, 2 a harness or lab error. */
int runner_run(const struct runner_opts *o, int npaths, char **paths);

#endif
