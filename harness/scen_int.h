/* scen_int: what the scenario engine's files (scen.c, scenwait.c) share. */
#ifndef PIC_SCEN_INT_H
#define PIC_SCEN_INT_H

#include <event2/event.h>
#include <lua.h>
#include <stdbool.h>
#include <stdio.h>

#include "invariant.h"
#include "scen.h"
#include "waiver.h"

#define SCEN_MEM_LIMIT (256u << 20) /* a scenario's Lua heap */
#define SCEN_MAX_BRANCHES 16

/* lab:parallel: branches run as coroutines of their own; the caller waits for all of them. */
struct scen_group {
	struct scen_waiter *w;     /* the caller's wait, once it waits */
	unsigned remaining;
};

struct scen_branch {
	lua_State *co;             /* NULL: free slot */
	struct scen_group *g;
};

struct scen {
	lua_State *L;
	lua_State *co;
	struct event_base *base;
	struct lab *lab;
	struct scen_result *res;
	/* the waits in progress, at most one per coroutine: the run function's and those of the
	 * branches of lab:parallel */
	struct scen_waiter *waits[SCEN_MAX_BRANCHES + 1];
	struct scen_branch branches[SCEN_MAX_BRANCHES];
	struct event *limit_ev;
	size_t mem_used;
	double timeout;
	double time_scale;        /* >= 1: the waits and the limit times this */
	bool finished;
	struct waivers waivers;   /* what the scenario exempts from the invariants */
	const char *root;
	char bad_waiver[400];     /* why its waive table is wrong */
	char not_for_kind[200];  /* set: the scenario is not applicable to this SUT kind */
	/* a session (the console, --script): each step is a coroutine in co; its end, whatever
	 * the verdict, calls step_h and the lab stays up */
	scen_step_h *step_h;
	void *step_arg;
};

struct scen_waiter {
	struct scen *scen;        /* NULL once the wait is over */
	lua_State *co;
	struct event *timer;
	void *data;
	bool yielded;
	bool early;               /* woken before it could yield */
	int early_nres;
	lua_KFunction k;
	char what[128];
	char where[256];
};

/* The registry key of the running scenario (scen_of). */
extern const char scen_key;

/* scen.c */
void scen_finish(struct scen *s, enum scen_verdict v, const char *reason, const char *where);
/* The parts of a run, shared by scen_run and sessions: a fresh state with the API (and the
 * scenario's log file), the lab booted from the scenario table at t (0: the default lab), and
 * the teardown that writes the capture out. */
int scen_setup(struct scen *s, struct event_base *base, const struct scen_opts *o,
	       const char *name, struct scen_result *res, FILE **logfp);
int scen_load(struct scen *s, const char *path, char *why, size_t whysize);
/* Opens the libraries and the whole scenario API in s->L (what every scenario state gets). */
void scen_open_lua(struct scen *s);
void scen_read_meta(struct scen *s, int t, const struct scen_opts *o);
int scen_boot(struct scen *s, const struct scen_opts *o, int t, char *why, size_t whysize);
void scen_teardown(struct scen *s, const struct scen_opts *o, FILE *logf);
/* scenstep.c: a session step ended (co NULL: the lab broke between steps) */
void scen_step_end(struct scen *s, lua_State *co, int nres, enum scen_verdict v,
		   const char *reason, const char *where);
/* scenwait.c */
void scen_resume(struct scen *s, lua_State *co, int nargs);
void scen_waiter_end(struct scen_waiter *w);
/* Some wait in progress (the run function's first), for messages: NULL if none. */
struct scen_waiter *scen_some_wait(const struct scen *s);
int scen_l_parallel(lua_State *L);

#endif
