/* rplua_int: what the --to-lua writer (rplua.c) and its steps (rplstep.c) share. */
#ifndef PIC_RPLUA_INT_H
#define PIC_RPLUA_INT_H

#include <stdbool.h>
#include <stdio.h>

#include "replay_int.h"

#define RPL_MAX_USERS 64
#define RPL_MAX_CHECKS 256

struct rpl_user {
	char aor[128];           /* in the lab */
	char var[48];
	char ref[140];           /* how a step names it as a target: var, or "aor" if unknown */
	enum rp_role role;
	bool known;              /* it sent something, or its site knew it */
	bool unknown;            /* its site answered 404 to all that reached it: no local */
};

/* One capture:expect of the last part: leg, method, status (0: requests), from, to, count. */
struct rpl_check {
	char leg[12];
	char method[32];
	int status;
	char from[128];
	char to[128];
	int count;
};

/* A session the scenario holds: the INVITE's group, the caller's recorded AOR. */
struct rpl_sess {
	int group;
	char caller[256];
	bool up;                 /* established: in-dialog requests can be sent */
};

struct rplua {
	struct replay *r;
	FILE *f;
	struct rpl_user users[RPL_MAX_USERS];
	int nusers;
	struct rpl_check checks[RPL_MAX_CHECKS];
	int nchecks;
	struct rpl_sess *sess;   /* one per group, group id = index */
	char allows[RPL_MAX_USERS][RPL_MAX_USERS];
	int skipped;
	int steps;
	bool uses_sip;           /* send_raw steps: scenarios/lib/sip.lua is required */
};

/* rplua.c */
/* A Lua string literal of any bytes; of a C string. */
void rpl_str(FILE *f, const char *s, size_t n);
void rpl_cstr(FILE *f, const char *s);
/* The scenario's user for a recorded AOR: index into L->users, -1 if it has no lab user. */
int rpl_user(struct rplua *L, const char *rec_aor);
/* The Lua expression of a role's site: lab.enterprise, lab.provider("aol"), ... */
const char *rpl_site(enum rp_role role);

/* rplstep.c: which users the far sites did not know (404), before any step is written */
void rpl_unknown_users(struct rplua *L);
/* rplstep.c: one recorded transaction as scenario steps; false when it stays a comment. */
bool rpl_txn(struct rplua *L, const struct rp_txn *t);

#endif
