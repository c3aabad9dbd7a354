/* console: piclab lab — the lab a scenario gets, kept up for a person: every address and
 * certificate printed, a Lua console with the scenario API (line editing, history, completion),
 * the SIP messages shown as they cross, and :save to turn what worked into a scenario. */
#ifndef PIC_CONSOLE_H
#define PIC_CONSOLE_H

#include <stdbool.h>

struct console_opts {
	const char *root;        /* the project root (scenarios/, reports/) */
	const char *out_base;    /* where the run folder goes */
	const char *sut_binary;  /* accessproxy */
	unsigned index;          /* the lab's /24: 127.77.<index>.0/24 */
	const char *script;      /* --script FILE: run first, then stay up (NULL: none) */
	bool capture;
};

/* Runs the lab until :quit, Ctrl-D or SIGTERM (or SIGINT when no console reads a terminal).
 * Returns the exit code: 0, or 2 when the lab cannot start (the reason printed with what to
 * do next) or a --script step failed. */
int console_run(const struct console_opts *o);

#endif
