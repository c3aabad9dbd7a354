/* test_worker: worker counts, control socket names, and the master with real forked workers:
 * in-process single worker, startup failure, crash restart with backoff, SIGTERM forwarding. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/testreg.h"
#include "../worker/worker.h"

static char worker_test_file[64];

static void test_worker_count(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	CU_ASSERT_EQUAL(worker_count(0), cores < 1 ? 1 : cores > WORKER_MAX ? WORKER_MAX : cores);
	CU_ASSERT_EQUAL(worker_count(1), 1);
	CU_ASSERT_EQUAL(worker_count(3), 3);
	CU_ASSERT_EQUAL(worker_count(1000), WORKER_MAX);
	CU_ASSERT_EQUAL(worker_index(), 0);
	CU_ASSERT_STRING_EQUAL(worker_ctl_path("/run/ap.sock"), "/run/ap.sock");
	CU_ASSERT_PTR_NULL(worker_ctl_path(NULL));
}

static int worker_test_inline(void *arg)
{
	(*(int *)arg)++;
	return 42;
}

static void test_worker_single(void)
{
	int calls = 0;

	/* one worker: no fork, run's own result */
	CU_ASSERT_EQUAL(worker_run(1, worker_test_inline, &calls), 42);
	CU_ASSERT_EQUAL(calls, 1);
	CU_ASSERT_EQUAL(worker_run(0, worker_test_inline, &calls), EINVAL);
	CU_ASSERT_EQUAL(worker_run(WORKER_MAX + 1, worker_test_inline, &calls), EINVAL);
	CU_ASSERT_EQUAL(calls, 1);
}

/* Appends one byte to the shared file and returns how many there are: a counter that
 * survives the workers' processes. */
static long worker_test_tick(void)
{
	struct stat st;
	int fd = open(worker_test_file, O_WRONLY | O_APPEND | O_CREAT, 0600);

	if (fd < 0)
		return -1;
	if (write(fd, "x", 1) != 1 || fstat(fd, &st) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return (long)st.st_size;
}

static long worker_test_ticks(void)
{
	struct stat st;

	return stat(worker_test_file, &st) == 0 ? (long)st.st_size : 0;
}

static void worker_test_file_new(void)
{
	snprintf(worker_test_file, sizeof(worker_test_file), "/tmp/test_worker.%ld",
		 (long)getpid());
	unlink(worker_test_file);
}

static int worker_test_fail(void *arg)
{
	worker_test_tick();
	return EADDRINUSE;
}

static void test_worker_startup_failure(void)
{
	worker_test_file_new();
	/* the workers fail at startup (all started at once): the master stops with the errno */
	CU_ASSERT_EQUAL(worker_run(2, worker_test_fail, NULL), EADDRINUSE);
	CU_ASSERT(worker_test_ticks() >= 1 && worker_test_ticks() <= 2);
	unlink(worker_test_file);
}

static volatile sig_atomic_t worker_test_stop;

static void worker_test_on_term(int sig)
{
	worker_test_stop = 1;
}

/* A worker that runs until SIGTERM (bounded to 5 s); with arg, it counts its start and
 * worker 1 asks the master to stop. */
static int worker_test_serve(void *arg)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_test_on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (arg)
		worker_test_tick();
	if (arg && worker_index() == 1) {
		usleep(100000);
		kill(getppid(), SIGTERM);
	}
	for (i = 0; i < 500 && !worker_test_stop; i++)
		usleep(10000);
	return worker_test_stop ? 0 : ETIMEDOUT;
}

static void test_worker_sigterm(void)
{
	struct sigaction old, dfl;
	struct timespec a, b;
	double secs;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &dfl, &old);
	worker_test_file_new();
	clock_gettime(CLOCK_MONOTONIC, &a);
	CU_ASSERT_EQUAL(worker_run(2, worker_test_serve, worker_test_file), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CU_ASSERT_EQUAL(worker_test_ticks(), 2); /* both started, none restarted */
	CU_ASSERT(secs < 4.0);
	sigaction(SIGTERM, &old, NULL);
	unlink(worker_test_file);
}

/* Worker 0 serves until SIGTERM; worker 1 crashes (a signal) on its first two starts and
 * then fails cleanly with EPROTO. */
static int worker_test_crash(void *arg)
{
	if (worker_index() == 0)
		return worker_test_serve(NULL);
	if (worker_test_tick() <= 2)
		raise(SIGKILL);
	return EPROTO;
}

static void test_worker_restart(void)
{
	struct timespec a, b;
	double secs;

	worker_test_file_new();
	worker_test_stop = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CU_ASSERT_EQUAL(worker_run(2, worker_test_crash, NULL), EPROTO);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	/* restarted twice, after 100 ms then 200 ms of backoff, then the failure stopped all */
	CU_ASSERT_EQUAL(worker_test_ticks(), 3);
	CU_ASSERT(secs >= 0.3);
	CU_ASSERT(secs < 5.0);
	unlink(worker_test_file);
}

static CU_TestInfo worker_tests[] = {
	{ "count and paths", test_worker_count },
	{ "single in process", test_worker_single },
	{ "startup failure stops all", test_worker_startup_failure },
	{ "crash restart", test_worker_restart },
	{ "SIGTERM forwarded", test_worker_sigterm },
	CU_TEST_INFO_NULL,
};
TEST_SUITE("worker", worker_tests);
