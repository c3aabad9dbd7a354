/* console_int: what the console's files (console.c, consolecmd.c) share. */
#ifndef PIC_CONSOLE_INT_H
#define PIC_CONSOLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runner.h"

struct console {
	const struct console_opts *o;
	struct event_base *base;
	struct scen_session *ss;
	struct ladder *ladder;
	struct apidoc *doc;        /* scenarios/README.md's tables: :help, completion */
	struct runner_dirs dirs;
	int lockfd;                /* the lab index's lock */
	struct event *in_ev, *tick;
	struct evbuffer *inbuf;    /* stdin that is not a terminal */
	bool tty, editing, quit, stdin_eof, in_script, script_failed;
	char *pending;             /* the lines of a chunk not complete yet */
	char *cur;                 /* the running step's text */
	bool cur_saveable;         /* a statement (not only an expression to show) */
	char **steps;              /* the steps that passed, for :save */
	size_t nsteps;
	size_t seen;               /* SIP messages shown so far */
	off_t pcap_size;
	char bindir[600];
	char hist[600];
};

/* console.c */
void console_printf(struct console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void console_quit(struct console *c);
/* consolecmd.c */
void console_command(struct console *c, char *cmd);
char **console_complete(const char *text, int start, int end);
void console_steps_add(struct console *c, const char *step);
void console_steps_free(struct console *c);
/* The console of this process, for libedit's callbacks. */
struct console *console_get(void);

#endif
