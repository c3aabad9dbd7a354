/* sut: the system under test — the access proxy as a child process, seen only through its config,
 * its ports and its control socket. */
#ifndef PIC_SUT_H
#define PIC_SUT_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/types.h>

struct sut;

/* Called once if the child ends while the lab still needs it; why says how
 * ("exited with status 1", "killed by signal 9"). */
typedef void (sut_died_h)(struct sut *s, const char *why, void *arg);

/* Starts `binary -c conf_path`, stdout/stderr appended to log_path; the child dies with us
 * (PR_SET_PDEATHSIG). Returns ENOENT if the binary is missing. */
int sut_start(struct sut **sp, struct event_base *base, const char *binary, const char *conf_path,
	      const char *ctl_path, const char *log_path, sut_died_h *dh, void *arg);
/* The general form: argv[0] is the program (checked to be executable). ctl_path NULL: the SUT
 * has no control socket of ours and is ready once probe_ip:probe_port accepts TCP. */
int sut_spawn(struct sut **sp, struct event_base *base, const char *const *argv,
	      const char *ctl_path, const char *probe_ip, int probe_port, const char *log_path,
	      sut_died_h *dh, void *arg);
/* True if a TCP socket listens on ip:port on this machine (IPv4). */
bool sut_listening(const char *ip, int port);
/* Blocks until the control socket answers "ready" with "ok" or timeout_ms passes (ETIMEDOUT) or
 * the child exits (ECHILD; *why then says how). */
int sut_wait_ready(struct sut *s, int timeout_ms, char *why, size_t whysize);
/* Sends one control command line and reads one line back (blocking, bounded by timeout_ms). */
int sut_ctl(struct sut *s, const char *cmd, char *reply, size_t size, int timeout_ms);
/* The same on the control socket at path (worker i of a multi-process proxy has its own). */
int sut_ctl_at(const char *path, const char *cmd, char *reply, size_t size, int timeout_ms);
/* The SUT runs n worker processes: it is ready once each answers on its own control socket. */
void sut_set_workers(struct sut *s, unsigned n);
/* One quick readiness probe (control socket "ready" -> "ok"), for polling from a timer. */
bool sut_ready_now(struct sut *s);
pid_t sut_pid(const struct sut *s);
bool sut_running(const struct sut *s);
/* Sends sig (for scenarios that kill the SUT on purpose). */
int sut_kill(struct sut *s, int sig);
/* The next exit is on purpose: the died handler is not called for it. */
void sut_expect_exit(struct sut *s);
/* SIGTERM, up to grace_ms, then SIGKILL; always reaps. Safe to call twice. */
void sut_stop(struct sut *s, int grace_ms);
/* How the child ended ("" while it runs). */
const char *sut_exit_reason(const struct sut *s);

#endif
