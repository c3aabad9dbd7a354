/* lua_capture: the Capture class — what really crossed each leg, decoded and decrypted. */
#define LOG_MODULE "lua"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "sip/sipmsg.h"
#include "capture.h"
#include "decode/capdec.h"
#include "invariant.h"
#include "lab.h"
#include "scen.h"

#define MT_CAPTURE "piclab.Capture"

static struct scen *cap_check(lua_State *L, int i)
{
	return *(struct scen **)luaL_checkudata(L, i, MT_CAPTURE);
}

/* Syncs the live capture to disk and decodes it with the lab's key log. */
static struct capdec *cap_decode(lua_State *L, struct scen *s)
{
	struct lab *lab = scen_lab(s);
	struct capture *cap = lab_capture(lab);
	struct capdec *d = NULL;
	int err;

	if (!cap)
		luaL_error(L, "this run has no capture (piclab run --no-capture)");
	capture_sync(cap);
	err = capdec_open(&d, lab_pcap_path(lab), lab_keylog_path(lab));
	if (err)
		luaL_error(L, "cannot decode %s: %s", lab_pcap_path(lab), strerror(err));
	return d;
}

static void cap_set_addr(lua_State *L, const char *field, const struct sockaddr_storage *sa)
{
	char buf[64];

	lua_pushstring(L, sa_fmt((const struct sockaddr *)sa, buf, sizeof(buf)));
	lua_setfield(L, -2, field);
}

/* One message as a table: leg, src, dst, tls, text, and what parses of it. */
static void cap_push_msg(lua_State *L, struct lab *lab, const struct capdec_sip *m)
{
	struct sipmsg *msg = NULL;
	const char *user, *host;

	lua_createtable(L, 0, 12);
	lua_pushstring(L, lab_leg(lab, (const struct sockaddr *)&m->src,
				  (const struct sockaddr *)&m->dst));
	lua_setfield(L, -2, "leg");
	cap_set_addr(L, "src", &m->src);
	cap_set_addr(L, "dst", &m->dst);
	lua_pushboolean(L, m->tls);
	lua_setfield(L, -2, "tls");
	lua_pushinteger(L, m->flow);
	lua_setfield(L, -2, "flow");
	lua_pushnumber(L, m->ts);
	lua_setfield(L, -2, "time");
	lua_pushinteger(L, (lua_Integer)m->frame);
	lua_setfield(L, -2, "frame");
	lua_pushlstring(L, m->data, m->len);
	lua_setfield(L, -2, "text");
	if (sipmsg_decode(&msg, m->data, m->len) != 0) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "unparsable");
		return;
	}
	lua_pushboolean(L, sipmsg_is_request(msg));
	lua_setfield(L, -2, "request");
	lua_pushstring(L, sipmsg_method(msg));
	lua_setfield(L, -2, "method");
	if (!sipmsg_is_request(msg)) {
		lua_pushinteger(L, sipmsg_status(msg));
		lua_setfield(L, -2, "status");
	}
	lua_pushstring(L, sipmsg_callid(msg));
	lua_setfield(L, -2, "call_id");
	if (sipmsg_uri(msg, SIPMSG_FROM, &user, &host) == 0) {
		lua_pushfstring(L, "%s@%s", user, host);
		lua_setfield(L, -2, "from");
	}
	if (sipmsg_uri(msg, SIPMSG_TO, &user, &host) == 0) {
		lua_pushfstring(L, "%s@%s", user, host);
		lua_setfield(L, -2, "to");
	}
	mem_deref(msg);
}

/* Field k of the table at index t as a string (numbers and booleans converted), or NULL. */
static const char *cap_field(lua_State *L, int t, const char *k, char *buf, size_t size)
{
	const char *v = NULL;

	switch (lua_getfield(L, t, k)) {
	case LUA_TSTRING:
	case LUA_TNUMBER:
		snprintf(buf, size, "%s", lua_tostring(L, -1));
		v = buf;
		break;
	case LUA_TBOOLEAN:
		snprintf(buf, size, "%s", lua_toboolean(L, -1) ? "true" : "false");
		v = buf;
		break;
	default:
		break;
	}
	lua_pop(L, 1);
	return v;
}

/* Does the message table on top match the filter at index f? Fields compared: leg, method
 * (requests only; with status: the CSeq method of responses), status, tls, from, to, call_id. */
static bool cap_match(lua_State *L, int f)
{
	static const char *fields[] = { "leg", "method", "status", "tls", "from", "to", "call_id",
					NULL };
	char want[512], have[512];
	int m = lua_gettop(L);
	int i;

	if (lua_isnoneornil(L, f))
		return true;
	for (i = 0; fields[i]; i++) {
		const char *w = cap_field(L, f, fields[i], want, sizeof(want));
		const char *h;

		if (!w)
			continue;
		h = cap_field(L, m, fields[i], have, sizeof(have));
		if (!h || strcasecmp(w, h) != 0)
			return false;
	}
	/* method without status means the request itself, not its responses. */
	if (cap_field(L, f, "method", want, sizeof(want)) && !cap_field(L, f, "status", want,
									 sizeof(want)))
		return cap_field(L, m, "request", have, sizeof(have)) &&
		       strcmp(have, "true") == 0;
	return true;
}

/* Pushes the list of messages matching the filter at index f. Every TLS flow of the filter's
 * leg (all legs without one) must have been decrypted: a message that crossed an opaque flow
 * would be missing from the list, and "nothing crossed" would pass by default. */
static void cap_select(lua_State *L, struct scen *s, int f)
{
	struct capdec *d = cap_decode(L, s);
	size_t i, n = capdec_sip_count(d);
	lua_Integer k = 0;
	const char *leg = NULL;
	char legbuf[32], why[600];

	if (!lua_isnoneornil(L, f) && lua_getfield(L, f, "leg") == LUA_TSTRING) {
		snprintf(legbuf, sizeof(legbuf), "%s", lua_tostring(L, -1));
		leg = legbuf;
	}
	if (!lua_isnoneornil(L, f))
		lua_pop(L, 1);
	if (invariant_opaque_flow(scen_lab(s), d, leg, scen_waivers(s), why, sizeof(why))) {
		mem_deref(d);
		scen_fail(L, 1, "capture: %s; what crossed it cannot be judged", why);
	}

	lua_newtable(L);
	for (i = 0; i < n; i++) {
		cap_push_msg(L, scen_lab(s), capdec_sip_at(d, i));
		if (cap_match(L, f))
			lua_rawseti(L, -2, ++k);
		else
			lua_pop(L, 1);
	}
	mem_deref(d);
}

/* capture:sip{ leg=, method=, status=, from=, to=, call_id=, tls= } -> list of messages */
static int cap_l_sip(lua_State *L)
{
	struct scen *s = cap_check(L, 1);

	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	cap_select(L, s, 2);
	return 1;
}

/* A short description of a filter for failure messages. */
static const char *cap_filter_str(lua_State *L, int f)
{
	static const char *keys[] = { "leg", "method", "status", "from", "to", "call_id", "tls",
				      NULL };
	luaL_Buffer b;
	int i;

	luaL_buffinit(L, &b);
	luaL_addstring(&b, "{");
	for (i = 0; keys[i]; i++) {
		if (lua_getfield(L, f, keys[i]) != LUA_TNIL) {
			const char *v = luaL_tolstring(L, -1, NULL);

			lua_pop(L, 1);
			lua_pushfstring(L, "%s=%s ", keys[i], v);
			lua_remove(L, -2);
			luaL_addvalue(&b);
		} else {
			lua_pop(L, 1);
		}
	}
	luaL_addstring(&b, "}");
	luaL_pushresult(&b);
	return lua_tostring(L, -1);
}

static double cap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cap_expect_try(lua_State *L);

static int cap_expect_k(lua_State *L, int status, lua_KContext ctx)
{
	scen_waiter_timed_out(L);
	lua_settop(L, 5);
	return cap_expect_try(L);
}

/* Stack: 1 capture, 2 filter, 3 wanted count (-1: at least min), 4 deadline (monotonic s),
 * 5 min. */
static int cap_expect_try(lua_State *L)
{
	struct scen *s = cap_check(L, 1);
	lua_Integer want = lua_tointeger(L, 3), min = lua_tointeger(L, 5), got;
	double deadline = lua_tonumber(L, 4);

	cap_select(L, s, 2);
	got = (lua_Integer)lua_rawlen(L, -1);
	if ((want < 0 && got >= min) || (want >= 0 && got == want))
		return 1;
	if (cap_now() < deadline) { /* not there yet: look again in 50 ms */
		lua_pop(L, 1);
		return scen_yield(L, scen_wait_begin(L, "capture:expect within", 0.05), cap_expect_k);
	}
	if (want >= 0 && got > want) {
		/* one too many: the first match past the count is the evidence */
		lua_rawgeti(L, -1, want + 1);
		lua_getfield(L, -1, "frame");
		scen_evidence(L, (unsigned long)lua_tointeger(L, -1));
		lua_pop(L, 2);
	}
	return scen_fail(L, 1, "capture: expected %s SIP message%s matching %s, found %d",
			 lua_pushfstring(L, want < 0 ? "at least %d" : "%d",
					 (int)(want < 0 ? min : want)),
			 (want < 0 ? min : want) == 1 ? "" : "s", cap_filter_str(L, 2), (int)got);
}

/* capture:expect{ ..filter.., count=N | min=N, within=S } -> the matches; fails unless count (default:
 * at least one; min: at least that many) messages match. within: what is still on its way (an answer just sent by a fake
 * leaves on the next loop turn) may take up to S seconds (at most 30) to show; the capture is
 * looked at again every 50 ms meanwhile. Nothing is waited for once the count holds, so a
 * count = 0 check holds at once when nothing has crossed yet. */
static int cap_l_expect(lua_State *L)
{
	lua_Integer want = -1, min = 1;
	double within = 0;

	cap_check(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_getfield(L, 2, "count") != LUA_TNIL)
		want = luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	if (lua_getfield(L, 2, "min") != LUA_TNIL) {
		min = luaL_checkinteger(L, -1);
		luaL_argcheck(L, want < 0 && min >= 0, 2, "min: a count >= 0, not with count");
	}
	lua_pop(L, 1);
	if (lua_getfield(L, 2, "within") != LUA_TNIL) {
		within = luaL_checknumber(L, -1);
		luaL_argcheck(L, within >= 0 && within <= 30, 2, "within: 0..30 seconds");
	}
	lua_pop(L, 1);
	lua_pushinteger(L, want);
	lua_pushnumber(L, cap_now() + within);
	lua_pushinteger(L, min);
	return cap_expect_try(L);
}

static int cap_settle_try(lua_State *L);

static int cap_settle_k(lua_State *L, int status, lua_KContext ctx)
{
	scen_waiter_timed_out(L);
	lua_settop(L, 2);
	return cap_settle_try(L);
}

/* Stack: 1 capture, 2 deadline (monotonic s). */
static int cap_settle_try(lua_State *L)
{
	struct scen *s = cap_check(L, 1);
	struct capdec *d = cap_decode(L, s);
	char why[512];
	int bad;

	bad = invariant_check_one(scen_lab(s), d, INV_TXN_END, scen_waivers(s), why, sizeof(why));
	mem_deref(d);
	if (!bad)
		return 0;
	if (cap_now() < lua_tonumber(L, 2))
		return scen_yield(L, scen_wait_begin(L, "capture:settle", 0.05), cap_settle_k);
	return scen_fail(L, 1, "capture: transactions still open: %s", why);
}

/* capture:settle{ within = 5 }: waits (up to within seconds, 0..30, looking every 50 ms) until
 * every request in the capture has its final response on its connection, the rule the
 * transactions-end invariant judges after run returns; fails naming the open one. */
static int cap_l_settle(lua_State *L)
{
	double within = 5;

	cap_check(L, 1);
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		if (lua_getfield(L, 2, "within") != LUA_TNIL)
			within = luaL_checknumber(L, -1);
		lua_pop(L, 1);
	}
	luaL_argcheck(L, within >= 0 && within <= 30, 2, "within: 0..30 seconds");
	lua_settop(L, 1);
	lua_pushnumber(L, cap_now() + within);
	return cap_settle_try(L);
}

/* capture:flows{ leg= } -> list of TCP connections with TLS and SIP facts */
static int cap_l_flows(lua_State *L)
{
	struct scen *s = cap_check(L, 1);
	struct capdec *d;
	const char *leg = NULL;
	size_t i, n;
	lua_Integer k = 0;

	if (lua_istable(L, 2) && lua_getfield(L, 2, "leg") == LUA_TSTRING)
		leg = lua_tostring(L, -1);
	d = cap_decode(L, s);
	n = capdec_flow_count(d);
	lua_newtable(L);
	for (i = 0; i < n; i++) {
		const struct capdec_flow *fl = capdec_flow_at(d, i);
		const char *fleg = lab_leg(scen_lab(s), (const struct sockaddr *)&fl->client,
					   (const struct sockaddr *)&fl->server);

		if (leg && strcmp(leg, fleg) != 0)
			continue;
		lua_createtable(L, 0, 9);
		lua_pushstring(L, fleg);
		lua_setfield(L, -2, "leg");
		cap_set_addr(L, "client", &fl->client);
		cap_set_addr(L, "server", &fl->server);
		lua_pushboolean(L, fl->tls);
		lua_setfield(L, -2, "tls");
		lua_pushinteger(L, fl->tls_version);
		lua_setfield(L, -2, "tls_version");
		lua_pushboolean(L, fl->decrypted);
		lua_setfield(L, -2, "decrypted");
		lua_pushboolean(L, fl->protected_seen);
		lua_setfield(L, -2, "protected");
		lua_pushinteger(L, fl->cleartext_sip);
		lua_setfield(L, -2, "cleartext_sip");
		lua_pushinteger(L, fl->sip_msgs);
		lua_setfield(L, -2, "sip_msgs");
		if (fl->error) {
			lua_pushstring(L, fl->error);
			lua_setfield(L, -2, "error");
		}
		lua_rawseti(L, -2, ++k);
	}
	mem_deref(d);
	return 1;
}

static int cap_l_index(lua_State *L)
{
	struct scen *s = cap_check(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "pcap") == 0) {
		lua_pushstring(L, lab_pcap_path(scen_lab(s)));
		return 1;
	}
	if (strcmp(k, "keylog") == 0) {
		lua_pushstring(L, lab_keylog_path(scen_lab(s)));
		return 1;
	}
	/* methods in the metatable's methods table (lua_capture_open), for :help's check */
	if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE && lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	return luaL_error(L, "Capture has no field '%s'", k);
}

/* piclab_decode(pcap, keylog) -> list of messages (as capture:sip gives them, legs judged by
 * address) and list of flows: for the report renderers, outside any lab. */
static int cap_l_decode_file(lua_State *L)
{
	const char *pcap = luaL_checkstring(L, 1);
	const char *keylog = luaL_optstring(L, 2, NULL);
	struct capdec *d = NULL;
	size_t i, n;
	int err = capdec_open(&d, pcap, keylog);

	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	n = capdec_sip_count(d);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		const struct capdec_sip *m = capdec_sip_at(d, i);
		enum lab_host hs = lab_host_of_addr((const struct sockaddr *)&m->src);
		enum lab_host hd = lab_host_of_addr((const struct sockaddr *)&m->dst);

		cap_push_msg(L, NULL, m);
		lua_pushstring(L, hs < LAB_NHOSTS ? lab_host_name(hs) : "");
		lua_setfield(L, -2, "src_host");
		lua_pushstring(L, hd < LAB_NHOSTS ? lab_host_name(hd) : "");
		lua_setfield(L, -2, "dst_host");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	mem_deref(d);
	return 1;
}

void lua_capture_open_reports(lua_State *L)
{
	lua_register(L, "piclab_decode", cap_l_decode_file);
}

void lua_capture_open(lua_State *L)
{
	static const luaL_Reg mt[] = { { "__index", cap_l_index }, { NULL, NULL } };
	static const luaL_Reg methods[] = {
		{ "sip", cap_l_sip }, { "expect", cap_l_expect }, { "settle", cap_l_settle },
		{ "flows", cap_l_flows }, { NULL, NULL },
	};

	luaL_newmetatable(L, MT_CAPTURE);
	luaL_setfuncs(L, mt, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}
