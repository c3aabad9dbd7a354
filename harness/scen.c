/* scen: runs one Lua scenario as a coroutine in a fresh state against a fresh lab. */
#define LOG_MODULE "scen"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "capture.h"
#include "decode/capdec.h"
#include "invariant.h"
#include "pcapng.h"
#include "lab.h"
#include "scen.h"
#include "sutkind.h"
#include "scen_int.h"
#include "sut.h"

const char *scen_verdict_str(enum scen_verdict v)
{
	switch (v) {
	case SCEN_PASS: return "pass";
	case SCEN_FAIL: return "fail";
	case SCEN_ERROR: return "error";
	case SCEN_SKIP: return "skip";
	case SCEN_INCONC: return "inconc";
	case SCEN_NA: return "n/a";
	}
	return "?";
}

/* Lua allocator with a ceiling, so a runaway scenario fails instead of eating the machine. */
static void *scen_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct scen *s = ud;
	size_t old = ptr ? osize : 0;

	if (nsize == 0) {
		s->mem_used -= old;
		free(ptr);
		return NULL;
	}
	if (nsize > old && s->mem_used + (nsize - old) > SCEN_MEM_LIMIT)
		return NULL;
	ptr = realloc(ptr, nsize);
	if (ptr)
		s->mem_used += nsize - old;
	return ptr;
}

const char scen_key = 'S';

struct scen *scen_of(lua_State *L)
{
	struct scen *s;

	lua_rawgetp(L, LUA_REGISTRYINDEX, &scen_key);
	s = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return s;
}

const char *scen_root(struct scen *s)
{
	return s->root ? s->root : ".";
}

struct lab *scen_lab(struct scen *s)
{
	return s->lab;
}

struct event_base *scen_base(struct scen *s)
{
	return s->base;
}

double scen_time(const struct scen *s, double secs)
{
	return s && s->time_scale > 1 ? secs * s->time_scale : secs;
}

void scen_finish(struct scen *s, enum scen_verdict v, const char *reason, const char *where)
{
	if (s->step_h) {
		/* a session (console, --script): the step ends, the lab stays */
		scen_step_end(s, NULL, 0, v, reason, where);
		return;
	}
	if (s->finished)
		return;
	s->finished = true;
	s->res->verdict = v;
	/* evidence: what the capture held when the expectation failed */
	if ((v == SCEN_FAIL || v == SCEN_INCONC) && !s->res->fail_frame_exact && s->lab &&
	    lab_capture(s->lab)) {
		capture_sync(lab_capture(s->lab));
		s->res->fail_frame = capture_packets(lab_capture(s->lab));
	}
	snprintf(s->res->reason, sizeof(s->res->reason), "%s", reason ? reason : "");
	snprintf(s->res->where, sizeof(s->res->where), "%s", where ? where : "");
	event_base_loopbreak(s->base);
}

void scen_evidence(lua_State *L, unsigned long frame)
{
	struct scen *s = scen_of(L);

	if (!s || !s->res || !frame || s->finished)
		return;
	s->res->fail_frame = frame;
	s->res->fail_frame_exact = true;
}

void scen_count_assertion(lua_State *L)
{
	struct scen *s = scen_of(L);

	if (s && s->res)
		s->res->assertions++;
}

int scen_not_applicable(lua_State *L, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, "n/a");
	lua_setfield(L, -2, "piclab_verdict");
	lua_pushfstring(L, "not applicable: %s", reason);
	lua_setfield(L, -2, "reason");
	return lua_error(L);
}

int scen_fail(lua_State *L, int level, const char *fmt, ...)
{
	char reason[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, "fail");
	lua_setfield(L, -2, "piclab_verdict");
	lua_pushstring(L, reason);
	lua_setfield(L, -2, "reason");
	luaL_where(L, level);
	{
		size_t n;
		const char *w = lua_tolstring(L, -1, &n);

		/* luaL_where gives "file:line: "; keep "file:line". */
		lua_pushlstring(L, w, n >= 2 ? n - 2 : n);
		lua_remove(L, -2);
	}
	lua_setfield(L, -2, "where");
	return lua_error(L);
}

static void scen_limit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scen *s = arg;
	char reason[512];

	struct scen_waiter *w = scen_some_wait(s);

	snprintf(reason, sizeof(reason), "time limit of %.0f s%s exceeded%s%s", s->timeout,
		 s->time_scale > 1 ? " (time scale applied)" : "", w ? " while waiting for " : "",
		 w ? w->what : "");
	scen_finish(s, SCEN_FAIL, reason, w ? w->where : "");
}

void scen_lab_broken(struct lab *lab, const char *why, void *arg)
{
	struct scen *s = arg;

	struct scen_waiter *w = scen_some_wait(s);

	scen_finish(s, SCEN_FAIL, why, w ? w->where : "");
}

/* Loads the file and leaves its scenario table on the stack; an error string otherwise. */
int scen_load(struct scen *s, const char *path, char *why, size_t whysize)
{
	lua_State *L = s->L;

	if (luaL_loadfile(L, path) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
		snprintf(why, whysize, "%s", lua_tostring(L, -1));
		return EINVAL;
	}
	if (!lua_istable(L, -1) || lua_getfield(L, -1, "__scenario") != LUA_TBOOLEAN) {
		snprintf(why, whysize, "%s: the file must `return scenario{...}`", path);
		return EINVAL;
	}
	lua_pop(L, 1);
	return 0;
}

/* waive = { { "<invariant>", call_id= | method=, cseq= | flow="a -> b", why= }, ... } */
static void scen_read_waivers(struct scen *s, int w)
{
	lua_State *L = s->L;
	lua_Integer i, n = (lua_Integer)lua_rawlen(L, w);
	char why[300];

	lua_pushnil(L);
	if (lua_next(L, w)) {
		bool old = lua_type(L, -2) == LUA_TSTRING;

		lua_pop(L, 2);
		if (old) {
			snprintf(s->bad_waiver, sizeof(s->bad_waiver),
				 "waive: a waiver names what it exempts, not the whole scenario: "
				 "waive = { { \"<invariant>\", call_id = \"...\" | method = \"M\", "
				 "cseq = N | flow = \"client -> server\", why = \"...\" } }");
			return;
		}
	}
	for (i = 1; i <= n; i++) {
		const char *inv, *call_id, *method, *flow, *reason;
		long cseq = -1;

		if (lua_rawgeti(L, w, i) != LUA_TTABLE) {
			snprintf(s->bad_waiver, sizeof(s->bad_waiver), "waive[%d] is not a table",
				 (int)i);
			lua_pop(L, 1);
			return;
		}
		lua_rawgeti(L, -1, 1);
		lua_getfield(L, -2, "call_id");
		lua_getfield(L, -3, "method");
		lua_getfield(L, -4, "cseq");
		lua_getfield(L, -5, "flow");
		lua_getfield(L, -6, "why");
		inv = lua_tostring(L, -6);
		call_id = lua_tostring(L, -5);
		method = lua_tostring(L, -4);
		if (lua_isinteger(L, -3))
			cseq = (long)lua_tointeger(L, -3);
		flow = lua_tostring(L, -2);
		reason = lua_tostring(L, -1);
		if (waiver_add(&s->waivers, inv, call_id, method, cseq, flow, reason, why,
			       sizeof(why))) {
			snprintf(s->bad_waiver, sizeof(s->bad_waiver), "waive[%d]: %s", (int)i, why);
			lua_pop(L, 7);
			return;
		}
		lua_pop(L, 7);
	}
}

/* The waivers and how much each exempted, for the results ("name: reason" lines). */
static void scen_waivers_str(struct scen *s)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < s->waivers.n; i++) {
		char what[300];
		int n = snprintf(s->res->waived + used, sizeof(s->res->waived) - used,
				 "%s%s: %s (exempted %u)", used ? "\n" : "",
				 waiver_str(&s->waivers.w[i], what, sizeof(what)), s->waivers.w[i].why,
				 s->waivers.w[i].used);

		if (n > 0 && (size_t)n < sizeof(s->res->waived) - used)
			used += (size_t)n;
	}
}

struct waivers *scen_waivers(struct scen *s)
{
	return &s->waivers;
}

void scen_read_meta(struct scen *s, int t, const struct scen_opts *o)
{
	lua_State *L = s->L;
	size_t used = 0;
	lua_Integer i;

	lua_getfield(L, t, "title");
	snprintf(s->res->title, sizeof(s->res->title), "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	lua_getfield(L, t, "covers");
	for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
		int n = snprintf(s->res->covers + used, sizeof(s->res->covers) - used, "%s%s",
				 used ? " " : "", lua_tostring(L, -1));

		if (n > 0 && (size_t)n < sizeof(s->res->covers) - used)
			used += (size_t)n;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	used = 0;
	if (lua_getfield(L, t, "tags") == LUA_TTABLE) {
		for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			int n = snprintf(s->res->tags + used, sizeof(s->res->tags) - used, "%s%s",
					 used ? " " : "", lua_tostring(L, -1));

			if (n > 0 && (size_t)n < sizeof(s->res->tags) - used)
				used += (size_t)n;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* sut_kinds = { "accessproxy" }: written for those SUT kinds only (their configuration
	 * files, their tools); for any other it is not applicable */
	if (lua_getfield(L, t, "sut_kinds") == LUA_TTABLE) {
		const char *kind = o && o->sut_kind ? o->sut_kind : "accessproxy";
		char kinds[120] = "";
		bool listed = false;

		for (i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
			listed |= strcmp(lua_tostring(L, -1), kind) == 0;
			snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s",
				 i > 1 ? ", " : "", lua_tostring(L, -1));
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (!listed)
			snprintf(s->not_for_kind, sizeof(s->not_for_kind), "written for %s (its "
				 "configuration files or tools), not for %s", kinds, kind);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "waive") == LUA_TTABLE)
		scen_read_waivers(s, lua_gettop(L));
	lua_pop(L, 1);
	scen_waivers_str(s);
	lua_getfield(L, t, "timeout");
	s->timeout = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : o ? o->default_timeout : 30;
	s->time_scale = o && o->time_scale > 1 ? o->time_scale : 1;
	s->timeout *= s->time_scale;
	lua_pop(L, 1);
}

/* The lab options a scenario may set: lab = { providers = { aol = { allow = false } } }. */
void scen_lab_opts(struct scen *s, int t, struct lab_opts *lo)
{
	lua_State *L = s->L;
	unsigned i;

	for (i = 0; i < LAB_NPROVIDERS; i++)
		lo->provider_allow[i] = true;
	lab_default_users(lo);
	/* lab = { pic_users = { "alice@contoso.test", ... } } replaces the enabled set; eve stays
	 * known and disabled unless listed */
	if (lua_getfield(L, t, "lab") == LUA_TTABLE) {
		lua_getfield(L, -1, "pic_users");
	} else {
		lua_pushnil(L);
	}
	if (lua_istable(L, -1)) {
		lua_Integer k;
		bool eve_listed = false;

		lo->npic_users = 0;
		for (k = 1; lua_rawgeti(L, -1, k) == LUA_TSTRING && lo->npic_users < LAB_MAX_USERS - 1;
		     k++) {
			snprintf(lo->pic_users[lo->npic_users].aor, sizeof(lo->pic_users[0].aor), "%s",
				 lua_tostring(L, -1));
			eve_listed |= strcmp(lua_tostring(L, -1), "eve@contoso.test") == 0;
			lo->pic_users[lo->npic_users++].enabled = true;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		if (!eve_listed) {
			snprintf(lo->pic_users[lo->npic_users].aor, sizeof(lo->pic_users[0].aor),
				 "eve@contoso.test");
			lo->pic_users[lo->npic_users++].enabled = false;
		}
	}
	lua_pop(L, 2);
	/* lab = { provisioned = false }: providers learn the enterprise's route only through the
	 * provisioning site during the scenario (PROV-005) */
	if (lua_getfield(L, t, "lab") == LUA_TTABLE) {
		lua_getfield(L, -1, "provisioned");
		lo->unprovisioned = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (lua_getfield(L, -1, "sut_rate") == LUA_TTABLE) {
			lua_getfield(L, -1, "per_sec");
			lua_getfield(L, -2, "burst");
			if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > 0)
				lo->rate_per_sec = (unsigned)lua_tointeger(L, -2);
			if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0)
				lo->rate_burst = (unsigned)lua_tointeger(L, -1);
			lua_pop(L, 2);
		}
		lua_pop(L, 1);
		if (lua_getfield(L, -1, "sut_limits") == LUA_TTABLE) {
			/* the proxy checks the bounds (accessproxy -t): out of them, the lab does
			 * not boot, which names the key */
			const struct { const char *k; unsigned *v; } lk[] = {
				{ "message_timeout_ms", &lo->sut_msg_timeout_ms },
				{ "peer_partial_max", &lo->sut_peer_partial_max },
				{ "max_body_bytes", &lo->sut_max_body },
				{ "max_discard_bytes", &lo->sut_max_discard },
				{ "max_header_bytes", &lo->sut_max_header },
				{ "idle_timeout_ms", &lo->sut_idle_timeout_ms },
			};
			size_t i;

			for (i = 0; i < sizeof(lk) / sizeof(lk[0]); i++) {
				lua_getfield(L, -1, lk[i].k);
				if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 &&
				    lua_tointeger(L, -1) <= 0x7fffffff)
					*lk[i].v = (unsigned)lua_tointeger(L, -1);
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
		lua_getfield(L, -1, "workers");
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 && lua_tointeger(L, -1) <= 16)
			lo->workers = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
		lua_getfield(L, -1, "state_disk_kb");
		if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0 && lua_tointeger(L, -1) < (1 << 20))
			lo->state_disk_kb = (unsigned)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, t, "lab") == LUA_TTABLE &&
	    lua_getfield(L, -1, "providers") == LUA_TTABLE) {
		for (i = 0; i < LAB_NPROVIDERS; i++) {
			if (lua_getfield(L, -1, lab_provider_name(i)) == LUA_TTABLE) {
				lua_getfield(L, -1, "allow");
				if (!lua_isnil(L, -1))
					lo->provider_allow[i] = lua_toboolean(L, -1);
				lua_pop(L, 1);
				lua_getfield(L, -1, "blocked");
				lo->provider_blocked[i] = lua_toboolean(L, -1);
				lua_pop(L, 1);
				lua_getfield(L, -1, "public");
				lo->provider_partner[i] = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
				lua_pop(L, 1);
				if (lua_getfield(L, -1, "filter") == LUA_TSTRING)
					snprintf(lo->provider_filter[i], sizeof(lo->provider_filter[i]),
						 "%s", lua_tostring(L, -1));
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_tls_lab_opts(L, t, lo);
}

static double scen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void scen_open_lua(struct scen *s)
{
	lua_State *L = s->L;

	luaL_openlibs(L);
	/* Scenarios drive the lab through its API, not through the shell. */
	lua_getglobal(L, "os");
	lua_pushnil(L);
	lua_setfield(L, -2, "execute");
	lua_pushnil(L);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);
	lua_getglobal(L, "io");
	lua_pushnil(L);
	lua_setfield(L, -2, "popen");
	lua_pop(L, 1);
	lua_pushlightuserdata(L, s);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &scen_key);
	/* require() finds shared steps in scenarios/lib/ */
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/scenarios/lib/?.lua", s->root ? s->root : ".");
	lua_setfield(L, -2, "path");
	lua_pushstring(L, "");
	lua_setfield(L, -2, "cpath");
	lua_pop(L, 1);
	lua_base_open(L);
	lua_lab_open(L);
	{
		static const luaL_Reg lab_methods[] = { { "parallel", scen_l_parallel },
							{ NULL, NULL } };

		lua_class_extend(L, "piclab.Lab", lab_methods);
	}
	lua_capture_open(L);
	lua_im_open(L);
	lua_raw_open(L);
	lua_load_open(L);
	lua_job_open(L);
	lua_tls_open(L);
	lua_prov_open(L);
	lua_dns_open(L);
}

/* The capture-wide rules, after a scenario passed its own checks. */
static void scen_check_invariants(struct scen *s)
{
	struct capdec *d = NULL;
	const struct capdec_sip *at = NULL;
	char why[1500], reason[1700];
	int id, err;

	capture_sync(lab_capture(s->lab));
	err = capdec_open(&d, lab_pcap_path(s->lab), lab_keylog_path(s->lab));
	if (err) {
		s->res->verdict = SCEN_ERROR;
		snprintf(s->res->reason, sizeof(s->res->reason), "cannot decode the capture %s: %s",
			 lab_pcap_path(s->lab), strerror(err));
		return;
	}
	for (unsigned i = 0; i < s->waivers.n; i++)
		s->waivers.w[i].used = 0;
	id = invariant_check_at(s->lab, d, &s->waivers, why, sizeof(why), &at);
	if (id >= 0 && at) {
		s->res->fail_frame = at->frame;
		s->res->fail_frame_exact = true;
	}
	mem_deref(d);
	scen_waivers_str(s);
	/* a waiver that exempted nothing this time shows "(exempted 0)" in the results: over TLS
	 * 1.3 whether a probe's request crosses before the refusal is a matter of timing */
	if (id < 0)
		return;
	snprintf(reason, sizeof(reason), "invariant %s violated: %s", invariant_name(id), why);
	s->res->verdict = SCEN_FAIL;
	snprintf(s->res->reason, sizeof(s->res->reason), "%s", reason);
	snprintf(s->res->where, sizeof(s->res->where), "(capture)");
}

static void scen_keep_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* --keep: the failed lab stays up for inspection until Ctrl-C. */
static void scen_keep(struct scen *s, const struct scen_opts *o)
{
	struct event *ev = evsignal_new(s->base, SIGINT, scen_keep_stop, s->base);
	char net[32], *dot;
	unsigned h;

	snprintf(net, sizeof(net), "%s", lab_host_ip(s->lab, LAB_NS));
	dot = strrchr(net, '.');
	if (dot)
		snprintf(dot, sizeof(net) - (size_t)(dot - net), ".0");

	if (lab_capture(s->lab))
		capture_sync(lab_capture(s->lab));
	fprintf(stdout, "\n%s %s: %s\nthe lab stays up (Ctrl-C tears it down):\n",
		scen_verdict_str(s->res->verdict), s->res->name, s->res->reason);
	for (h = 0; h < LAB_NHOSTS; h++)
		fprintf(stdout, "  %-22s %s\n", lab_host_name(h), lab_host_ip(s->lab, h));
	fprintf(stdout, "  proxy pid %d, config %s\n", (int)sut_pid(lab_sut(s->lab)),
		lab_sut_conf(s->lab));
	fprintf(stdout, "capture: tshark -i lo -f 'net %s/24' -o tls.keylog_file:%s -Y sip\n",
		net, lab_keylog_path(s->lab));
	fprintf(stdout, "so far:  tshark -r %s -o tls.keylog_file:%s -Y sip\n",
		lab_pcap_path(s->lab), lab_keylog_path(s->lab));
	fflush(stdout);
	if (!ev)
		return;
	event_add(ev, NULL);
	event_base_dispatch(s->base);
	event_free(ev);
}

int scen_probe(const char *path, const char *name, struct scen_result *res)
{
	struct scen s = { .res = res };
	char why[1024];
	int err;

	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name);
	s.L = lua_newstate(scen_alloc, &s);
	if (!s.L)
		return ENOMEM;
	scen_open_lua(&s);
	err = scen_load(&s, path, why, sizeof(why));
	if (err)
		snprintf(res->reason, sizeof(res->reason), "%s", why);
	else
		scen_read_meta(&s, lua_gettop(s.L), NULL);
	lua_close(s.L);
	return err;
}

int scen_setup(struct scen *s, struct event_base *base, const struct scen_opts *o,
	       const char *name, struct scen_result *res, FILE **logfp)
{
	char logpath[600];
	FILE *logf;

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->res = res;
	s->root = o->root;
	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name);
	snprintf(res->dir, sizeof(res->dir), "%s/%s", o->out_dir, name);
	for (char *p = res->dir + strlen(o->out_dir) + 1; *p; p++)
		if (*p == '/')
			*p = '.';
	mkdir(res->dir, 0755);
	snprintf(logpath, sizeof(logpath), "%s/lab.log", res->dir);
	logf = fopen(logpath, "w");
	if (logf) {
		setvbuf(logf, NULL, _IOLBF, 0);
		log_set_file(logf);
	}
	*logfp = logf;
	s->L = lua_newstate(scen_alloc, s);
	if (!s->L)
		return ENOMEM;
	scen_open_lua(s);
	return 0;
}

/* The SUT's identity from its adapter, asked once per process (it may run a program) and kept
 * in the result, so the report names what was judged. */
static void scen_sut_identity(struct scen *s)
{
	static char cached[sizeof(s->res->sut_identity)];
	static const struct sut_kind *cached_kind;
	const struct sut_kind *k = lab_sut_kind(s->lab);

	if (!k || !k->identity)
		return;
	if (cached_kind != k || !cached[0]) {
		k->identity(s->lab, cached, sizeof(cached));
		cached_kind = k;
	}
	snprintf(s->res->sut_identity, sizeof(s->res->sut_identity), "%s", cached);
}

int scen_boot(struct scen *s, const struct scen_opts *o, int t, char *why, size_t whysize)
{
	struct lab_opts lo = { .index = o->lab_index, .pki_dir = o->pki_dir,
			       .sut_binary = o->sut_binary, .capture = o->capture,
			       .dir = s->res->dir, .sut_kind = o->sut_kind, .root = o->root };
	char lwhy[1024] = "";
	int err;

	lua_getglobal(s->L, "math");
	lua_getfield(s->L, -1, "randomseed");
	lua_pushinteger(s->L, (lua_Integer)o->seed);
	lua_call(s->L, 1, 0);
	lua_pop(s->L, 1);
	if (t == 0) {
		/* no scenario table: the lab every scenario gets by default */
		lua_newtable(s->L);
		scen_lab_opts(s, lua_gettop(s->L), &lo);
		lua_pop(s->L, 1);
	} else {
		scen_lab_opts(s, t, &lo);
	}
	if (o->workers)
		lo.workers = o->workers;
	s->res->workers = lo.workers > 1 ? lo.workers : 1;
	err = lab_boot(&s->lab, s->base, &lo, scen_lab_broken, s, lwhy, sizeof(lwhy));
	if (err == ENOTSUP) {
		/* the SUT kind under test cannot be set up the way this scenario needs */
		snprintf(why, whysize, "not applicable to SUT kind %s: %s",
			 o->sut_kind ? o->sut_kind : "accessproxy", lwhy);
		return ENOTSUP;
	}
	if (err) {
		snprintf(why, whysize, "lab did not boot: %s", lwhy);
		return EIO;
	}
	scen_sut_identity(s);
	return 0;
}

void scen_teardown(struct scen *s, const struct scen_opts *o, FILE *logf)
{
	struct scen_result *res = s->res;

	for (unsigned i = 0; i <= SCEN_MAX_BRANCHES; i++)
		if (s->waits[i])
			scen_waiter_end(s->waits[i]);
	if (s->lab && lab_capture(s->lab)) {
		capture_sync(lab_capture(s->lab));
		res->packets = capture_packets(lab_capture(s->lab));
	}
	if (s->limit_ev)
		event_free(s->limit_ev);
	s->limit_ev = NULL;
	/* Lua objects hold users of the lab's servers: they go first. */
	if (s->L)
		lua_close(s->L);
	s->L = NULL;
	if (s->lab) {
		lab_teardown(s->lab);
		if (lab_capture(s->lab) || o->capture) {
			char ng[600];

			/* the capture is closed now: write the self-decrypting copy */
			snprintf(ng, sizeof(ng), "%s/capture.pcapng", res->dir);
			pcapng_write_with_secrets(lab_pcap_path(s->lab), lab_keylog_path(s->lab), ng);
		}
	}
	s->lab = mem_deref(s->lab);
	/* Let closed connections' last callbacks run before the next lab takes the addresses. */
	event_base_loop(s->base, EVLOOP_NONBLOCK);
	log_set_file(o->run_log);
	if (logf)
		fclose(logf);
}

void scen_run(struct event_base *base, const char *path, const char *name,
	      const struct scen_opts *o, struct scen_result *res)
{
	struct scen s;
	char why[1024] = "";
	double t0 = scen_now();
	FILE *logf = NULL;
	int t, boot;

	if (scen_setup(&s, base, o, name, res, &logf)) {
		scen_finish(&s, SCEN_ERROR, "cannot create a Lua state", NULL);
		goto out;
	}
	if (scen_load(&s, path, why, sizeof(why))) {
		scen_finish(&s, SCEN_ERROR, why, NULL);
		goto out;
	}
	t = lua_gettop(s.L);
	scen_read_meta(&s, t, o);
	if (s.bad_waiver[0]) {
		scen_finish(&s, SCEN_ERROR, s.bad_waiver, NULL);
		goto out;
	}
	if (s.not_for_kind[0]) {
		char reason[400];

		snprintf(reason, sizeof(reason), "not applicable: %s", s.not_for_kind);
		scen_finish(&s, SCEN_NA, reason, NULL);
		goto out;
	}
	boot = scen_boot(&s, o, t, why, sizeof(why));
	if (boot) {
		s.finished = false;
		scen_finish(&s, boot == ENOTSUP ? SCEN_NA : SCEN_ERROR, why, NULL);
		goto out;
	}
	s.finished = false;
	{
		struct timeval tv = { (time_t)s.timeout, 0 };

		s.limit_ev = evtimer_new(base, scen_limit_cb, &s);
		evtimer_add(s.limit_ev, &tv);
	}
	s.co = lua_newthread(s.L);
	lua_getfield(s.L, t, "run");
	lua_xmove(s.L, s.co, 1);
	lua_lab_push(s.co, &s);
	scen_resume(&s, s.co, 1);
	while (!s.finished)
		event_base_loop(base, EVLOOP_ONCE);
	if (res->verdict == SCEN_PASS && lab_capture(s.lab)) {
		/* let answers still in flight land before judging the whole capture */
		struct timeval settle = { 0, 300000 };

		event_base_loopexit(base, &settle);
		event_base_dispatch(base);
		if (res->verdict == SCEN_PASS)
			scen_check_invariants(&s);
	}
	if (o->keep && (res->verdict == SCEN_FAIL || res->verdict == SCEN_ERROR))
		scen_keep(&s, o);
out:
	scen_teardown(&s, o, logf);
	res->seconds = scen_now() - t0;
}
