/* proc: runs a tool of the product (apctl, accessproxy -t) as a child process, bounded in time,
 * and collects what it prints. */
#ifndef PIC_PROC_H
#define PIC_PROC_H

#include <stddef.h>

/* Runs argv[0] with argv (NULL-terminated), stdout and stderr into out (NUL-terminated,
 * truncated to outsize), killed after timeout_s seconds; its exit code (128+signal when
 * killed) into *exitp. Returns 0 or the errno of starting it. */
int proc_run(const char *const *argv, unsigned timeout_s, char *out, size_t outsize, int *exitp);

#endif
