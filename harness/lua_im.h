/* lua_im: what the IM bindings (lua_im.c, lua_sess.c) share — finding users, waiting for a
 * user's events until a condition holds. */
#ifndef PIC_LUA_IM_H
#define PIC_LUA_IM_H

#include <lua.h>

struct ua;

#define MT_USER "piclab.User"
#define MT_SITE "piclab.Site"
#define MT_SESS "piclab.Session"
#define MT_AUTHZ "piclab.Authorization"

/* A condition checked after each event: returns results pushed, or -1 while not met. */
typedef int (cond_h)(lua_State *L, struct ua *u);

struct evwait {
	cond_h *cond;
	int (*failed)(lua_State *L, struct ua *u); /* the timeout's expected vs actual */
	const char *what;
};

double now_s(void);
struct ua *ua_of_aor(lua_State *L, const char *aor);
/* The User at stack index i (error if it is not one, or not registered). */
struct ua *user_ua(lua_State *L, int i);
/* An address argument: a User or "user@domain". */
const char *aor_arg(lua_State *L, int i);
/* { timeout = s } or a number at i, else dflt; bounded to (0, 600]. */
double opt_timeout(lua_State *L, int i, double dflt);
/* Waits, yielding, until ew->cond holds for u or the timeout passes (then ew->failed). */
int ev_wait(lua_State *L, const struct evwait *ew, struct ua *u, double timeout);
void lua_sess_open(lua_State *L);

#endif
