/* rpreport: the replay's run folder report — the verdicts, the cast and both ladders handed to
 * reports/replay.lua, which writes results.json, junit.xml and index.html. */
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "net/sa.h"
#include "../decode/capdec.h"
#include "../lab.h"
#include "replay_int.h"

#define RP_LADDER_MAX 400

static void rp_sets(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v ? v : "");
	lua_setfield(L, -2, k);
}

static void rp_seti(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void rp_label(const struct rp_sip *s, char *buf, size_t size)
{
	if (s->req)
		snprintf(buf, size, "%s", s->method);
	else
		snprintf(buf, size, "%d (%s)", s->status, s->method);
}

static void rp_push_recorded(lua_State *L, const struct replay *r)
{
	size_t i, n = 0;

	lua_createtable(L, RP_LADDER_MAX, 0);
	for (i = 0; i < r->nrecs && n < RP_LADDER_MAX; i++) {
		const struct rp_rec *m = &r->recs[i];
		char lab[64], host[160];

		lua_createtable(L, 0, 6);
		snprintf(host, sizeof(host), "%s (%s)", r->eps[m->src].label,
			 rp_role_name(r->eps[m->src].role));
		rp_sets(L, "src", host);
		snprintf(host, sizeof(host), "%s (%s)", r->eps[m->dst].label,
			 rp_role_name(r->eps[m->dst].role));
		rp_sets(L, "dst", host);
		rp_label(&m->sip, lab, sizeof(lab));
		rp_sets(L, "label", lab);
		rp_seti(L, "frame", m->frame);
		lua_pushlstring(L, m->sip.text, m->sip.len < 1500 ? m->sip.len : 1500);
		lua_setfield(L, -2, "text");
		lua_rawseti(L, -2, (lua_Integer)++n);
	}
}

/* The replay's own capture, decoded like any other, as lab host names. */
static void rp_push_replayed(lua_State *L, const struct replay *r)
{
	char pcap[1100], keys[1100];
	struct capdec *d = NULL;
	size_t i, n = 0;

	snprintf(pcap, sizeof(pcap), "%s/capture.pcap", r->dir);
	snprintf(keys, sizeof(keys), "%s/keys.log", r->dir);
	lua_createtable(L, RP_LADDER_MAX, 0);
	if (capdec_open(&d, pcap, keys))
		return;
	for (i = 0; i < capdec_sip_count(d) && n < RP_LADDER_MAX; i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		enum lab_host hs = lab_host_of_addr((const struct sockaddr *)&m->src);
		enum lab_host hd = lab_host_of_addr((const struct sockaddr *)&m->dst);
		struct rp_sip s;
		char lab[64];

		if (rp_sip_parse(&s, m->data, m->len))
			continue;
		lua_createtable(L, 0, 5);
		rp_sets(L, "src", hs < LAB_NHOSTS ? lab_host_name(hs) : "?");
		rp_sets(L, "dst", hd < LAB_NHOSTS ? lab_host_name(hd) : "?");
		rp_label(&s, lab, sizeof(lab));
		rp_sets(L, "label", lab);
		rp_seti(L, "frame", m->frame);
		lua_pushlstring(L, m->data, m->len < 1500 ? m->len : 1500);
		lua_setfield(L, -2, "text");
		lua_rawseti(L, -2, (lua_Integer)++n);
	}
	mem_deref(d);
}

static void rp_push_groups(lua_State *L, const struct replay *r)
{
	int g, i, n = 0;

	lua_createtable(L, r->ngroups, 0);
	for (g = 0; g < r->ngroups; g++) {
		const struct rp_group *gp = &r->groups[g];
		int k = 0;

		lua_createtable(L, 0, 4);
		rp_sets(L, "name", gp->name);
		rp_sets(L, "callid", gp->callid);
		rp_sets(L, "verdict", gp->pass && r->sut_alive ? "pass" : "fail");
		lua_createtable(L, gp->ntxns, 0);
		for (i = 0; i < gp->ntxns; i++) {
			const struct rp_txn *t = &r->txns[gp->txns[i]];

			if (t->proxy_origin)
				continue;
			lua_createtable(L, 0, 8);
			rp_sets(L, "name", t->name);
			rp_sets(L, "verdict", t->pass ? "pass" : "fail");
			rp_sets(L, "diff", t->diff);
			rp_seti(L, "frame", r->recs[t->hops[0]].frame);
			rp_seti(L, "recorded_final", t->rec_final);
			rp_seti(L, "replayed_final", t->live_final);
			lua_pushboolean(L, t->rec_reached);
			lua_setfield(L, -2, "recorded_reached");
			lua_pushboolean(L, t->arrived);
			lua_setfield(L, -2, "replayed_reached");
			rp_sets(L, "far_side", rp_role_name(t->far_role));
			lua_rawseti(L, -2, ++k);
		}
		lua_setfield(L, -2, "transactions");
		if (!k) {
			lua_pop(L, 1);
			continue;
		}
		lua_rawseti(L, -2, ++n);
	}
}

static void rp_push_cast(lua_State *L, const struct replay *r)
{
	int i, n = 0;

	lua_createtable(L, r->neps, 0);
	for (i = 0; i < r->neps; i++) {
		const struct rp_ep *e = &r->eps[i];

		if (!e->sent && !e->received)
			continue;
		lua_createtable(L, 0, 4);
		rp_sets(L, "address", e->label);
		rp_sets(L, "role", rp_role_name(e->role));
		rp_sets(L, "names", e->names);
		rp_sets(L, "why", e->why);
		lua_rawseti(L, -2, ++n);
	}
}

int rpreport_write(struct replay *r)
{
	char script[1200];
	lua_State *L = luaL_newstate();
	int err = 0;

	if (!L)
		return ENOMEM;
	luaL_openlibs(L);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/reports/?.lua;", r->o->root);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
	snprintf(script, sizeof(script), "%s/reports/replay.lua", r->o->root);
	if (luaL_loadfile(L, script) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
		fprintf(stderr, "piclab replay: report: %s\n", lua_tostring(L, -1));
		err = EINVAL;
		goto out;
	}
	lua_createtable(L, 0, 12);
	rp_sets(L, "out", r->dir);
	rp_sets(L, "capture", r->o->capture);
	rp_sets(L, "expect", r->o->expect == REPLAY_EXPECT_POLICY ? "policy" : "recorded");
	lua_pushnumber(L, r->seconds);
	lua_setfield(L, -2, "seconds");
	lua_pushboolean(L, r->sut_alive);
	lua_setfield(L, -2, "sut_alive");
	rp_sets(L, "lab_error", r->lab_why);
	rp_push_cast(L, r);
	lua_setfield(L, -2, "cast");
	rp_push_groups(L, r);
	lua_setfield(L, -2, "groups");
	rp_push_recorded(L, r);
	lua_setfield(L, -2, "recorded");
	rp_push_replayed(L, r);
	lua_setfield(L, -2, "replayed");
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		fprintf(stderr, "piclab replay: report: %s\n", lua_tostring(L, -1));
		err = EIO;
	}
out:
	lua_close(L);
	return err;
}
