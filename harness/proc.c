/* proc: a bounded child process whose output is collected (fork, exec, pipe, waitpid). */
#define LOG_MODULE "proc"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "proc.h"

int proc_run(const char *const *argv, unsigned timeout_s, char *out, size_t outsize, int *exitp)
{
	size_t used = 0;
	int fds[2], status = 0;
	pid_t pid;

	if (!argv || !argv[0] || !exitp)
		return EINVAL;
	if (out && outsize)
		out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC) != 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return errno;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		alarm(timeout_s); /* bounded: a tool that hangs must not hang the lab */
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		char buf[4096];
		ssize_t r = read(fds[0], buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (out && used + 1 < outsize) {
			size_t k = (size_t)r < outsize - 1 - used ? (size_t)r : outsize - 1 - used;

			memcpy(out + used, buf, k);
			used += k;
			out[used] = '\0';
		}
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*exitp = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	log_debug("%s -> %d", argv[0], *exitp);
	return 0;
}

int proc_spawn(const char *const *argv, unsigned timeout_s, pid_t *pidp, int *fdp)
{
	int fds[2];
	pid_t pid;

	if (!argv || !argv[0] || !pidp || !fdp)
		return EINVAL;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return errno;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return errno;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		fcntl(1, F_SETFL, 0); /* the child writes blocking */
		alarm(timeout_s);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*pidp = pid;
	*fdp = fds[0];
	return 0;
}
