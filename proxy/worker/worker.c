/* worker: the master forks N event-loop workers, forwards signals, restarts the ones that crash. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "../tp/tp.h"
#include "worker.h"

#define LOG_MODULE "worker"

#define WORKER_BACKOFF_MIN_MS 100
#define WORKER_BACKOFF_MAX_MS 10000
#define WORKER_STABLE_MS 30000     /* a worker that lived this long resets the backoff */
#define WORKER_STOP_MS 10000       /* grace after SIGTERM before SIGKILL */

struct worker_slot {
	pid_t pid;                 /* 0: not running */
	uint64_t started_ms;
	uint64_t restart_at_ms;    /* when pid == 0 and a restart is due */
	unsigned backoff_ms;
};

static unsigned worker_idx;
static char worker_path[128];

unsigned worker_count(unsigned configured)
{
	long n = configured ? (long)configured : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > WORKER_MAX)
		n = WORKER_MAX;
	return (unsigned)n;
}

unsigned worker_index(void)
{
	return worker_idx;
}

const char *worker_ctl_path(const char *path)
{
	if (!path || worker_idx == 0)
		return path;
	snprintf(worker_path, sizeof(worker_path), "%s.%u", path, worker_idx);
	return worker_path;
}

static const int worker_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

static void worker_sigset(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	for (i = 0; i < sizeof(worker_signals) / sizeof(worker_signals[0]); i++)
		sigaddset(set, worker_signals[i]);
}

/* Forks worker idx; the child never returns from here. */
static int worker_spawn(struct worker_slot *w, unsigned idx, worker_run_h *run, void *arg)
{
	pid_t master = getpid(), pid;
	sigset_t set;
	int err;

	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		/* a master killed outright (kill -9, OOM) takes its workers with it: orphans would
		 * keep the listeners and control sockets of a proxy that is being restarted */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != master)
			_exit(ECHILD);
		worker_idx = idx;
		/* a SIGHUP forwarded before the worker's loop handles it must not kill it (the
		 * default action); the loop's own handler replaces this one */
		signal(SIGHUP, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		worker_sigset(&set);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		err = run(arg);
		/* the status carries the errno to the master (errnos are below 256) */
		_exit(err > 0 && err < 256 ? err : (err ? EIO : 0));
	}
	w->pid = pid;
	w->started_ms = clock_mono_ms();
	log_info("worker %u started (pid %ld)", idx, (long)pid);
	return 0;
}

static void worker_kill_all(struct worker_slot *ws, unsigned n, int sig)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, sig);
}

static unsigned worker_alive(const struct worker_slot *ws, unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		k += ws[i].pid > 0;
	return k;
}

/* Reaps every exited child. Returns the errno a worker exited with (startup failure), or 0;
 * crashed workers get a restart time. */
static int worker_reap(struct worker_slot *ws, unsigned n, bool stopping)
{
	int status, fail = 0;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		uint64_t now = clock_mono_ms();

		for (i = 0; i < n && ws[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		ws[i].pid = 0;
		if (stopping)
			continue;
		if (WIFEXITED(status)) {
			log_error("worker %u (pid %ld) exited with status %d", i, (long)pid,
				  WEXITSTATUS(status));
			if (WEXITSTATUS(status) && !fail)
				fail = WEXITSTATUS(status);
			continue;
		}
		if (now - ws[i].started_ms >= WORKER_STABLE_MS || !ws[i].backoff_ms)
			ws[i].backoff_ms = WORKER_BACKOFF_MIN_MS;
		else if (ws[i].backoff_ms < WORKER_BACKOFF_MAX_MS)
			ws[i].backoff_ms = ws[i].backoff_ms * 2 > WORKER_BACKOFF_MAX_MS ?
					   WORKER_BACKOFF_MAX_MS : ws[i].backoff_ms * 2;
		ws[i].restart_at_ms = now + ws[i].backoff_ms;
		log_error("worker %u (pid %ld) killed by signal %d; restart in %u ms", i,
			  (long)pid, WIFSIGNALED(status) ? WTERMSIG(status) : 0, ws[i].backoff_ms);
	}
	return fail;
}

/* Milliseconds until the next due restart (capped at 1 s so the loop stays bounded). */
static uint64_t worker_next_wait(const struct worker_slot *ws, unsigned n, uint64_t now)
{
	uint64_t wait = 1000;
	unsigned i;

	for (i = 0; i < n; i++)
		if (!ws[i].pid && ws[i].restart_at_ms)
			wait = ws[i].restart_at_ms <= now ? 0 :
			       (ws[i].restart_at_ms - now < wait ? ws[i].restart_at_ms - now : wait);
	return wait;
}

/* After SIGTERM or a failure: wait for every worker, SIGKILL the ones past the grace. */
static void worker_stop_all(struct worker_slot *ws, unsigned n, int sig)
{
	uint64_t deadline = clock_mono_ms() + WORKER_STOP_MS;

	worker_kill_all(ws, n, sig);
	while (worker_alive(ws, n) && clock_mono_ms() < deadline) {
		worker_reap(ws, n, true);
		if (worker_alive(ws, n))
			usleep(10000);
	}
	if (worker_alive(ws, n)) {
		log_warn("%u worker(s) still running after %u ms: SIGKILL", worker_alive(ws, n),
			 WORKER_STOP_MS);
		worker_kill_all(ws, n, SIGKILL);
		for (unsigned i = 0; i < n; i++)
			if (ws[i].pid > 0 && waitpid(ws[i].pid, NULL, 0) >= 0)
				ws[i].pid = 0;
	}
}

static int worker_master(struct worker_slot *ws, unsigned n, worker_run_h *run, void *arg)
{
	sigset_t set;
	siginfo_t si;
	unsigned i;
	int err = 0, sig;

	worker_sigset(&set);
	/* All at once: the one-time work of a fresh start (creating, migrating and seeding the
	 * state database) is serialised by the store itself (each step in BEGIN IMMEDIATE, the
	 * version looked at again under the lock). */
	for (i = 0; i < n && !err; i++)
		err = worker_spawn(&ws[i], i, run, arg);
	while (!err) {
		uint64_t now = clock_mono_ms(), wait = worker_next_wait(ws, n, now);
		struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };

		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("%s: stopping %u workers", sig == SIGTERM ? "SIGTERM" : "SIGINT",
				 worker_alive(ws, n));
			worker_stop_all(ws, n, sig);
			return 0;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: forwarded to %u workers", worker_alive(ws, n));
			worker_kill_all(ws, n, SIGHUP);
		}
		err = worker_reap(ws, n, false);
		now = clock_mono_ms();
		for (i = 0; i < n && !err; i++)
			if (!ws[i].pid && ws[i].restart_at_ms && ws[i].restart_at_ms <= now) {
				ws[i].restart_at_ms = 0;
				err = worker_spawn(&ws[i], i, run, arg);
			}
	}
	log_error("stopping: a worker failed (%s)", strerror(err));
	worker_stop_all(ws, n, SIGTERM);
	return err;
}

int worker_run(unsigned n, worker_run_h *run, void *arg)
{
	struct worker_slot ws[WORKER_MAX];
	sigset_t set, old;
	int err;

	if (!run || n < 1 || n > WORKER_MAX)
		return EINVAL;
	if (n == 1)
		return run(arg);
	memset(ws, 0, sizeof(ws));
	tp_set_reuseport(true);
	/* blocked before the first fork so no signal is lost between fork and sigtimedwait */
	worker_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	log_set_prefix("accessproxy[master]");
	log_info("master pid %ld: %u workers sharing the listeners", (long)getpid(), n);
	err = worker_master(ws, n, run, arg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return err;
}
