/* ctl: the control socket: a unix stream socket taking one command per line. */
#ifndef AP_CTL_H
#define AP_CTL_H

#include <stddef.h>
#include <event2/event.h>

struct ctl;

/* Writes the one-line answer (no newline) to out; args is the rest of the line ("" if none).
 * Returns 0, or an errno that turns the answer into "error <text>". */
typedef int (ctl_cmd_h)(const char *args, char *out, size_t size, void *arg);

/* Listens on path with mode 0600. A stale socket file is replaced; a live one (another
 * process answers on it) is refused with EADDRINUSE. The file is removed when ctl goes. */
int ctl_alloc(struct ctl **cp, struct event_base *base, const char *path);
/* Adds a command (name up to 31 chars); a later one of the same name wins. */
int ctl_add(struct ctl *c, const char *name, ctl_cmd_h *h, void *arg);
/* Runs one command line as a client would and writes the answer (for tests). */
void ctl_exec(struct ctl *c, const char *line, char *out, size_t size);

#define CTL_MAX_LINE 1024
#define CTL_MAX_CLIENTS 32

#endif
