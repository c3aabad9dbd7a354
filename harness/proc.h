/* proc: runs a tool of the product (apctl, accessproxy -t) as a child process, bounded in time,
 * and collects what it prints. */
#ifndef PIC_PROC_H
#define PIC_PROC_H

#include <stddef.h>

/* Runs argv[0] with argv (NULL-terminated), stdout and stderr into out (NUL-terminated,
 * truncated to outsize), killed after timeout_s seconds; its exit code (128+signal when
 * killed) into *exitp. Returns 0 or the errno of starting it. */
int proc_run(const char *const *argv, unsigned timeout_s, char *out, size_t outsize, int *exitp);

/* The same child, started and left running: its pid into *pidp and the read end of its
 * stdout+stderr pipe into *fdp (close-on-exec, non-blocking), for the caller's event loop;
 * reap it with waitpid once the pipe reads EOF. Returns 0 or the errno of starting it. */
#include <sys/types.h>
int proc_spawn(const char *const *argv, unsigned timeout_s, pid_t *pidp, int *fdp);

#endif
