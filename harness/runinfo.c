/* runinfo: identity, lab layout and digests for the report renderers. */
#define LOG_MODULE "runner"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../proxy/txn/txn.h"
#include "lab_int.h"
#include "runinfo.h"
#include "runner.h"
#include "scen.h"

static int runinfo_l_sha256(lua_State *L)
{
	size_t n;
	const char *s = luaL_checklstring(L, 1, &n);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!EVP_Digest(s, n, md, &mdlen, EVP_sha256(), NULL))
		return luaL_error(L, "piclab_sha256: digest failed");
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	lua_pushlstring(L, hex, 2 * mdlen);
	return 1;
}

static int runinfo_l_layout(lua_State *L)
{
	unsigned h;

	lua_createtable(L, 0, 5);
	lua_createtable(L, LAB_NHOSTS, 0);
	for (h = 0; h < LAB_NHOSTS; h++) {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, lab_hosts[h].fqdn);
		lua_setfield(L, -2, "name");
		lua_pushinteger(L, lab_hosts[h].octet);
		lua_setfield(L, -2, "octet");
		lua_rawseti(L, -2, h + 1);
	}
	lua_setfield(L, -2, "hosts");
	lua_pushinteger(L, LAB_SIP_PORT);
	lua_setfield(L, -2, "sip_port");
	lua_pushinteger(L, LAB_HTTPS_PORT);
	lua_setfield(L, -2, "https_port");
	lua_pushinteger(L, 53);
	lua_setfield(L, -2, "dns_port");
	lua_pushstring(L, LAB_ENTERPRISE_DOMAIN);
	lua_setfield(L, -2, "domain");
	lua_pushinteger(L, LAB_SITE_STEP_MS);
	lua_setfield(L, -2, "site_step_ms");
	/* accessproxy's transaction timers (RFC 3261 Timer F and C as it sets them) */
	lua_pushinteger(L, TXN_TIMER_F_MS);
	lua_setfield(L, -2, "sut_timer_f_ms");
	lua_pushinteger(L, TXN_TIMER_C_MS);
	lua_setfield(L, -2, "sut_timer_c_ms");
	return 1;
}

void runinfo_open(lua_State *L)
{
	lua_register(L, "piclab_sha256", runinfo_l_sha256);
	lua_register(L, "piclab_lab_layout", runinfo_l_layout);
}

static void runinfo_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v ? v : "");
	lua_setfield(L, -2, k);
}

static void runinfo_num(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

void runinfo_set(lua_State *L, const struct runner_opts *o, time_t start, time_t end)
{
	char host[256] = "?", exe[PATH_MAX], sut[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	exe[n > 0 ? n : 0] = '\0';
	gethostname(host, sizeof(host) - 1);
	runinfo_str(L, "host", host);
	runinfo_num(L, "cores", cores > 0 ? cores : 1);
	runinfo_num(L, "start", (lua_Integer)start);
	runinfo_num(L, "end", (lua_Integer)end);
	runinfo_str(L, "harness_binary", exe);
	runinfo_str(L, "sut_binary", realpath(o->sut_binary, sut) ? sut : o->sut_binary);
	runinfo_str(L, "pics", o->pics);
	runinfo_str(L, "sut_kind", o->sut_kind ? o->sut_kind : "accessproxy");
	runinfo_str(L, "baseline", o->baseline);
	runinfo_str(L, "xfail", o->xfail);
	runinfo_num(L, "repeat", o->repeat ? o->repeat : 1);
	runinfo_num(L, "first_lab", o->first_lab);
	lua_pushnumber(L, o->timeout);
	lua_setfield(L, -2, "timeout");
	lua_pushnumber(L, o->time_scale > 1 ? o->time_scale : 1);
	lua_setfield(L, -2, "time_scale");
}

void runinfo_push_result(lua_State *L, const struct scen_result *s, const char *file)
{
	lua_createtable(L, 0, 18);
	runinfo_str(L, "name", s->name);
	runinfo_str(L, "file", file);
	runinfo_str(L, "title", s->title);
	runinfo_str(L, "verdict", scen_verdict_str(s->verdict));
	runinfo_str(L, "reason", s->reason);
	runinfo_str(L, "where", s->where);
	runinfo_str(L, "dir", s->dir);
	runinfo_str(L, "covers", s->covers);
	runinfo_str(L, "tags", s->tags);
	runinfo_str(L, "waived", s->waived);
	runinfo_str(L, "history", s->history);
	lua_pushnumber(L, s->seconds);
	lua_setfield(L, -2, "seconds");
	runinfo_num(L, "packets", (lua_Integer)s->packets);
	runinfo_num(L, "fail_frame", (lua_Integer)s->fail_frame);
	runinfo_num(L, "assertions", s->assertions);
	runinfo_num(L, "workers", s->workers);
	runinfo_str(L, "sut_identity", s->sut_identity);
	lua_pushboolean(L, s->fail_frame_exact);
	lua_setfield(L, -2, "fail_frame_exact");
	runinfo_num(L, "runs", s->runs ? s->runs : 1);
	runinfo_num(L, "runs_passed", s->runs ? s->runs_passed : s->verdict == SCEN_PASS);
}
