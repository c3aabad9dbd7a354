/* sut: the access proxy under test as a child process, started, watched, stopped and reaped. */
#define LOG_MODULE "sut"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "sut.h"

struct sut {
	struct event_base *base;
	pid_t pid;
	bool reaped;
	bool stopping;
	char ctl_path[512];
	unsigned workers;          /* worker processes, each with "<ctl_path>.<i>" for i > 0 */
	bool group;                /* its own process group, signalled as a whole */
	char probe_ip[64];         /* no control socket: ready once this TCP port accepts */
	int probe_port;
	char why[128];
	struct event *poll_ev;     /* periodic waitpid: no global SIGCHLD handler to fight over */
	sut_died_h *dh;
	void *arg;
};

static void sut_describe(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "ended (status 0x%x)", status);
}

/* Non-blocking reap; true if the child is gone (now or before). */
static bool sut_reap(struct sut *s, int flags)
{
	int status;
	pid_t r;

	if (s->reaped || s->pid <= 0)
		return true;
	do
		r = waitpid(s->pid, &status, flags);
	while (r < 0 && errno == EINTR);
	if (r == s->pid || (r < 0 && errno == ECHILD)) {
		s->reaped = true;
		if (r == s->pid)
			sut_describe(status, s->why, sizeof(s->why));
		else
			snprintf(s->why, sizeof(s->why), "vanished");
		return true;
	}
	return false;
}

static void sut_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sut *s = arg;

	if (!sut_reap(s, WNOHANG))
		return;
	event_del(s->poll_ev);
	if (!s->stopping && s->dh) {
		log_warn("accessproxy (pid %d) %s", (int)s->pid, s->why);
		s->dh(s, s->why, s->arg);
	}
}

static void sut_destroy(void *data)
{
	struct sut *s = data;

	sut_stop(s, 2000);
	if (s->poll_ev)
		event_free(s->poll_ev);
}

int sut_start(struct sut **sp, struct event_base *base, const char *binary, const char *conf_path,
	      const char *ctl_path, const char *log_path, sut_died_h *dh, void *arg)
{
	const char *argv[] = { binary, "-c", conf_path, NULL };

	return sut_spawn(sp, base, argv, ctl_path, NULL, 0, log_path, dh, arg);
}

int sut_spawn(struct sut **sp, struct event_base *base, const char *const *argv,
	      const char *ctl_path, const char *probe_ip, int probe_port, const char *log_path,
	      sut_died_h *dh, void *arg)
{
	struct timeval tick = { 0, 20000 };
	struct sut *s;
	pid_t parent = getpid();
	pid_t pid;

	if (access(argv[0], X_OK) != 0) {
		log_error("SUT binary %s: %s (build it with `make`, or install it)", argv[0],
			  strerror(errno));
		return ENOENT;
	}
	s = mem_zalloc(sizeof(*s), sut_destroy);
	if (!s)
		return ENOMEM;
	s->base = base;
	s->dh = dh;
	s->arg = arg;
	snprintf(s->ctl_path, sizeof(s->ctl_path), "%s", ctl_path ? ctl_path : "");
	snprintf(s->probe_ip, sizeof(s->probe_ip), "%s", probe_ip ? probe_ip : "");
	s->probe_port = probe_port;
	/* a SUT of another kind forks workers that know nothing of us: it gets a process group
	 * of its own, and every signal goes to the whole group */
	s->group = !ctl_path;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		mem_deref(s);
		return err;
	}
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		/* The SUT must never outlive the harness, even if the harness is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Its own process group: Ctrl-C at the terminal is for the harness (the console
		 * interrupts a wait with it), which stops the proxy itself. */
		setpgid(0, 0);
		if (getppid() != parent)
			_exit(127);
		if (!ctl_path)
			setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	s->pid = pid;
	if (s->group)
		setpgid(pid, pid);
	s->poll_ev = event_new(base, -1, EV_PERSIST, sut_poll_cb, s);
	if (!s->poll_ev) {
		mem_deref(s);
		return ENOMEM;
	}
	event_add(s->poll_ev, &tick);
	*sp = s;
	return 0;
}

static long sut_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* One request/response exchange on the control socket, bounded in time. */
int sut_ctl(struct sut *s, const char *cmd, char *reply, size_t size, int timeout_ms)
{
	if (!s)
		return EINVAL;
	return sut_ctl_at(s->ctl_path, cmd, reply, size, timeout_ms);
}

int sut_ctl_at(const char *path, const char *cmd, char *reply, size_t size, int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t used = 0;
	long deadline = sut_now_ms() + timeout_ms;
	int fd, err = 0;

	if (!path || size == 0)
		return EINVAL;
	reply[0] = '\0';
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		err = errno;
		goto out;
	}
	if (write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0) {
		err = errno;
		goto out;
	}
	while (used + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - sut_now_ms();
		ssize_t n;

		if (left <= 0) {
			err = ETIMEDOUT;
			goto out;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, reply + used, size - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		reply[used] = '\0';
		if (memchr(reply, '\n', used))
			break;
	}
	reply[used] = '\0';
	reply[strcspn(reply, "\r\n")] = '\0';
	if (used == 0)
		err = EPROTO;
out:
	close(fd);
	return err;
}

/* True if a socket listens on ip:port (IPv4), read from /proc/net/tcp rather than probed with
 * a connection, which the lab's capture would record as a flow of its own. */
bool sut_listening(const char *ip, int port)
{
	struct in_addr a;
	char line[256];
	bool found = false;
	FILE *f;

	if (inet_pton(AF_INET, ip, &a) != 1 || !(f = fopen("/proc/net/tcp", "r")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned addr, lport, st;

		/* "  sl  local_address rem_address   st ..." with addresses as hex, host order */
		if (sscanf(line, " %*u: %8x:%4x %*8x:%*4x %2x", &addr, &lport, &st) == 3)
			found = st == 0x0A && addr == a.s_addr && (int)lport == port;
	}
	fclose(f);
	return found;
}

/* A SUT without our control socket is ready when its probe port listens. */
static bool sut_probe(const struct sut *s)
{
	return sut_listening(s->probe_ip, s->probe_port);
}

static bool sut_answers(struct sut *s, int timeout_ms)
{
	char reply[64];

	if (!s->ctl_path[0])
		return sut_probe(s);
	if (sut_ctl(s, "ready", reply, sizeof(reply), timeout_ms) != 0 || strcmp(reply, "ok") != 0)
		return false;
	/* ready means every worker: one still starting would miss a reload made meanwhile */
	for (unsigned i = 1; i < s->workers; i++) {
		char path[sizeof(s->ctl_path) + 16];

		snprintf(path, sizeof(path), "%s.%u", s->ctl_path, i);
		if (sut_ctl_at(path, "ready", reply, sizeof(reply), timeout_ms) != 0 ||
		    strcmp(reply, "ok") != 0)
			return false;
	}
	return true;
}

void sut_set_workers(struct sut *s, unsigned n)
{
	if (s)
		s->workers = n;
}

int sut_wait_ready(struct sut *s, int timeout_ms, char *why, size_t whysize)
{
	long deadline = sut_now_ms() + timeout_ms;

	for (;;) {
		if (sut_reap(s, WNOHANG)) {
			snprintf(why, whysize, "the SUT (pid %d) %s before it was ready",
				 (int)s->pid, s->why);
			return ECHILD;
		}
		if (sut_answers(s, 200))
			return 0;
		if (sut_now_ms() >= deadline) {
			if (s->ctl_path[0])
				snprintf(why, whysize, "the SUT not ready after %d ms "
					 "(control socket %s)", timeout_ms, s->ctl_path);
			else
				snprintf(why, whysize, "the SUT not ready after %d ms "
					 "(nothing accepts on %s:%d)", timeout_ms, s->probe_ip,
					 s->probe_port);
			return ETIMEDOUT;
		}
		usleep(5000);
	}
}

bool sut_ready_now(struct sut *s)
{
	return s && !s->reaped && sut_answers(s, 100);
}

pid_t sut_pid(const struct sut *s)
{
	return s ? s->pid : -1;
}

bool sut_running(const struct sut *s)
{
	return s && !s->reaped;
}

int sut_kill(struct sut *s, int sig)
{
	if (!s || s->reaped)
		return ESRCH;
	return kill(s->group ? -s->pid : s->pid, sig) == 0 ? 0 : errno;
}

void sut_stop(struct sut *s, int grace_ms)
{
	pid_t who;
	long deadline;

	if (!s || s->pid <= 0)
		return;
	who = s->group ? -s->pid : s->pid;
	s->stopping = true;
	if (s->poll_ev)
		event_del(s->poll_ev);
	if (sut_reap(s, WNOHANG))
		goto out;
	kill(who, SIGTERM);
	deadline = sut_now_ms() + grace_ms;
	while (sut_now_ms() < deadline) {
		if (sut_reap(s, WNOHANG))
			goto out;
		usleep(2000);
	}
	log_warn("the SUT (pid %d) ignored SIGTERM for %d ms: SIGKILL", (int)s->pid, grace_ms);
	kill(who, SIGKILL);
	sut_reap(s, 0);
out:
	/* whatever of its group outlived it */
	if (s->group)
		kill(who, SIGKILL);
}

void sut_expect_exit(struct sut *s)
{
	if (s)
		s->stopping = true;
}

const char *sut_exit_reason(const struct sut *s)
{
	return s && s->reaped ? s->why : "";
}
