/* labrt: the lab's runtime places outside the checkout — a short per-run folder for unix
 * sockets (a socket path holds at most 107 bytes, a checkout path has no such bound) and one
 * lock per lab index, so two piclab processes never boot labs in the same 127.77.L.0/24. */
#ifndef PIC_LABRT_H
#define PIC_LABRT_H

#include <stddef.h>

/* Where the runtime folders and locks live: $PICLAB_RUNTIME, else /run/piclab, else (no write
 * access there) /tmp/piclab-<uid>. */
const char *labrt_base(void);

/* This process's runtime folder, <base>/<pid>, mode 0700: created on first use, removed with
 * everything in it at exit (a folder left by a process that died is swept by the next one).
 * A process that forks workers must call it before the fork, so the folder is the parent's.
 * NULL with errno set if it cannot be made. */
const char *labrt_dir(void);

/* Removes this process's runtime folder now (also done at exit). */
void labrt_cleanup(void);

/* Takes the lock of lab index (flock on <base>/lab-<index>.lock) for the life of the returned
 * descriptor, and writes this process's pid and command into it. EBUSY if another process holds
 * it: then holder names it ("pid 123: piclab run ..."). Other errors: errno of the open. */
int labrt_lock(unsigned index, int *fdp, char *holder, size_t hsize);

/* Releases a lock taken by labrt_lock (fd < 0: nothing). */
void labrt_unlock(int fd);

/* The process holding port on the local machine as "pid N (command)", from /proc; "" if none is
 * found (another namespace, no access). proto "tcp" or "udp". */
void labrt_port_holder(const char *proto, const char *ip, unsigned port, char *buf, size_t size);

#endif
