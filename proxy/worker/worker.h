/* worker: a master process and N event-loop worker processes sharing SO_REUSEPORT listeners. */
#ifndef AP_WORKER_H
#define AP_WORKER_H

#include <stddef.h>

#define WORKER_MAX 64

/* Runs one worker: builds its event loop, listeners and control socket, dispatches until
 * SIGTERM/SIGINT, and returns 0 on a clean stop or the positive errno that stopped it. */
typedef int (worker_run_h)(void *arg);

/* The number of workers for a configured value: 0 means one per online core; the result is
 * always within 1..WORKER_MAX. */
unsigned worker_count(unsigned configured);

/* With n == 1, calls run in this process and returns what it returns (no master, no fork).
 * With n > 1, this process becomes the master: listeners are switched to SO_REUSEPORT, n
 * children each call run, all started at once (creating the state database is serialised
 * by the store's own locking), and the master
 *  - forwards SIGHUP, SIGTERM and SIGINT to every worker;
 *  - restarts a worker killed by a signal (a crash), after a delay that doubles from 100 ms
 *    up to 10 s and starts again from 100 ms once a worker has lived 30 s;
 *  - stops everything when a worker exits with a non-zero status (its startup failed, e.g.
 *    EADDRINUSE) and returns that status as the errno;
 *  - on SIGTERM/SIGINT waits up to 10 s for the workers (then SIGKILLs them) and returns 0.
 * Each child first unblocks the signals the master blocks (SIGHUP ignored until run installs
 * its handler). Workers share nothing but the listening addresses: each has its own peer
 * connections, transactions, rate limits and control socket (worker_ctl_path); a worker
 * restarted after a reload starts from the configuration loaded before the fork. */
int worker_run(unsigned n, worker_run_h *run, void *arg);

/* 0 in the master, in worker 0 and in a single-process proxy; i for worker i. */
unsigned worker_index(void);

/* The control socket of this worker: path itself for worker 0 (so "ready" and "status" at the
 * configured path describe worker 0), "<path>.<i>" for worker i. Valid until the next call. */
const char *worker_ctl_path(const char *path);

#endif
