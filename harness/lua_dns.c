/* lua_dns: the Dns class — the lab's stub DNS seen from a scenario: faults, records, query log. */
#define LOG_MODULE "luadns"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "../fakes/dns/fakedns.h"
#include "lab.h"
#include "scen.h"

#define MT_DNS "piclab.Dns"
/* dns:resolve waits at most this long by default: a dropped query must not hang a scenario. */
#define DNS_RESOLVE_TIMEOUT_S 2.0

static struct fakedns *dns_check(lua_State *L, int i)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, i, MT_DNS);
	struct fakedns *d = lab_dns(scen_lab(s));

	if (!d)
		luaL_error(L, "the lab has no DNS server");
	return d;
}

/* lab:dns() -> Dns */
static int dns_l_lab_dns(lua_State *L)
{
	struct scen **p;

	luaL_checkudata(L, 1, "piclab.Lab");
	p = lua_newuserdatauv(L, sizeof(*p), 0);
	*p = scen_of(L);
	luaL_setmetatable(L, MT_DNS);
	return 1;
}

/* dns:fault("sip.aol.test", "servfail"|"nxdomain"|"drop"|"timeout"|"delay"|"truncate"|"none",
 *           { ms = 500 }) */
static int dns_l_fault(lua_State *L)
{
	struct fakedns *d = dns_check(L, 1);
	const char *name = luaL_checkstring(L, 2), *kind = luaL_checkstring(L, 3);
	enum fakedns_fault f;
	lua_Integer ms = 0;
	int err;

	if (fakedns_fault_parse(kind, &f))
		return luaL_error(L, "dns:fault: unknown kind '%s' (servfail, nxdomain, drop, "
				  "timeout, delay, truncate, none)", kind);
	if (lua_istable(L, 4) && lua_getfield(L, 4, "ms") != LUA_TNIL)
		ms = luaL_checkinteger(L, -1);
	if (f == FAKEDNS_FAULT_DELAY && (ms <= 0 || ms > 60000))
		return luaL_error(L, "dns:fault: delay needs { ms = 1..60000 }");
	err = fakedns_fault(d, name, f, (unsigned)(ms > 0 ? ms : 0));
	if (err)
		return luaL_error(L, "dns:fault %s: %s", name, strerror(err));
	return 0;
}

static int dns_l_clear_faults(lua_State *L)
{
	fakedns_fault_clear(dns_check(L, 1));
	return 0;
}

/* dns:set(text) replaces every record; dns:add(text) adds. Zone-file lines, absolute names. */
static int dns_records(lua_State *L, bool replace)
{
	struct fakedns *d = dns_check(L, 1);
	const char *text = luaL_checkstring(L, 2);
	int err = replace ? fakedns_set_zone(d, text) : fakedns_add(d, text);

	if (err)
		return luaL_error(L, "dns:%s: %s (see the lab log for the line)",
				  replace ? "set" : "add",
				  err == EINVAL ? "records do not parse" : strerror(err));
	return 0;
}

static int dns_l_set(lua_State *L)
{
	return dns_records(L, true);
}

static int dns_l_add(lua_State *L)
{
	return dns_records(L, false);
}

/* dns:remove("sip.aol.test.", "A") (type optional: all types) */
static int dns_l_remove(lua_State *L)
{
	struct fakedns *d = dns_check(L, 1);
	const char *name = luaL_checkstring(L, 2), *type = luaL_optstring(L, 3, NULL);
	int err = fakedns_remove(d, name, type);

	if (err == ENOENT)
		return luaL_error(L, "dns:remove: no %s records for %s", type ? type : "", name);
	if (err)
		return luaL_error(L, "dns:remove %s %s: %s", name, type ? type : "",
				  err == EINVAL ? "unknown type" : strerror(err));
	return 0;
}

static const char *rcode_name(int rcode)
{
	ldns_lookup_table *lt;

	if (rcode < 0)
		return "dropped";
	lt = ldns_lookup_by_id(ldns_rcodes, rcode);
	return lt ? lt->name : "?";
}

/* A query filter read from a table argument: name (trailing dot optional), type ("SRV"),
 * transport ("udp", "tcp"). */
struct dns_filter {
	char name[256];
	uint16_t type;
	const char *transport;
};

static void filter_read(lua_State *L, int idx, struct dns_filter *f)
{
	memset(f, 0, sizeof(*f));
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "name") != LUA_TNIL) {
		const char *n = luaL_checkstring(L, -1);
		size_t i, len = strlen(n);

		if (len && n[len - 1] == '.')
			len--;
		for (i = 0; i < len && i + 1 < sizeof(f->name); i++)
			f->name[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "type") != LUA_TNIL) {
		const char *t = luaL_checkstring(L, -1);

		f->type = (uint16_t)ldns_get_rr_type_by_name(t);
		if (!f->type)
			luaL_error(L, "unknown DNS type '%s'", t);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "transport") != LUA_TNIL)
		f->transport = luaL_checkstring(L, -1);
	lua_pop(L, 1); /* the string stays alive in the table */
}

static bool filter_match(const struct dns_filter *f, const struct fakedns_query *q)
{
	return (!f->name[0] || !strcmp(f->name, q->name)) && (!f->type || f->type == q->type) &&
	       (!f->transport || !strcmp(f->transport, fakedns_transport_name(q->transport)));
}

static void query_push(lua_State *L, const struct fakedns_query *q)
{
	char *type = ldns_rr_type2str((ldns_rr_type)q->type);

	lua_createtable(L, 0, 7);
	lua_pushstring(L, q->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, type ? type : "?");
	lua_setfield(L, -2, "type");
	free(type);
	lua_pushstring(L, fakedns_transport_name(q->transport));
	lua_setfield(L, -2, "transport");
	lua_pushnumber(L, (double)q->at_ms / 1000.0);
	lua_setfield(L, -2, "t");
	lua_pushstring(L, rcode_name(q->rcode));
	lua_setfield(L, -2, "rcode");
	lua_pushboolean(L, q->truncated);
	lua_setfield(L, -2, "truncated");
	lua_pushstring(L, fakedns_fault_name(q->fault));
	lua_setfield(L, -2, "fault");
}

/* Pushes the list of matching queries; returns how many. */
static int queries_push(lua_State *L, struct fakedns *d, const struct dns_filter *f)
{
	size_t i, n = fakedns_log_count(d);
	int k = 0;

	lua_newtable(L);
	for (i = 0; i < n; i++) {
		const struct fakedns_query *q = fakedns_log_get(d, i);

		if (!filter_match(f, q))
			continue;
		query_push(L, q);
		lua_rawseti(L, -2, ++k);
	}
	return k;
}

/* dns:queries{ name=, type=, transport= } -> { {name, type, transport, t, rcode, truncated,
 * fault}, ... } oldest first; t in seconds since the DNS server started. */
static int dns_l_queries(lua_State *L)
{
	struct fakedns *d = dns_check(L, 1);
	struct dns_filter f;

	filter_read(L, 2, &f);
	queries_push(L, d, &f);
	return 1;
}

/* dns:expect_query{ name=, type=, transport=, count= | min= | max= } -> the matching list.
 * Without count/min/max: at least one. Fails the scenario with expected vs actual. */
static int dns_l_expect_query(lua_State *L)
{
	struct fakedns *d = dns_check(L, 1);
	struct dns_filter f;
	lua_Integer count = -1, min = -1, max = -1;
	int n;

	filter_read(L, 2, &f);
	if (lua_istable(L, 2)) {
		if (lua_getfield(L, 2, "count") != LUA_TNIL)
			count = luaL_checkinteger(L, -1);
		if (lua_getfield(L, 2, "min") != LUA_TNIL)
			min = luaL_checkinteger(L, -1);
		if (lua_getfield(L, 2, "max") != LUA_TNIL)
			max = luaL_checkinteger(L, -1);
		lua_pop(L, 3);
	}
	if (count < 0 && min < 0 && max < 0)
		min = 1;
	n = queries_push(L, d, &f);
	if ((count >= 0 && n != count) || (min >= 0 && n < min) || (max >= 0 && n > max)) {
		char want[64], *tn = f.type ? ldns_rr_type2str(f.type) : NULL;
		int rc;

		if (count >= 0)
			snprintf(want, sizeof(want), "%lld", (long long)count);
		else if (max < 0)
			snprintf(want, sizeof(want), "at least %lld", (long long)min);
		else
			snprintf(want, sizeof(want), "%lld..%lld", (long long)(min < 0 ? 0 : min),
				 (long long)max);
		lua_pushfstring(L, "DNS queries for %s %s: expected %s, got %d (of %d logged)",
				f.name[0] ? f.name : "(any name)", tn ? tn : "(any type)", want, n,
				(int)fakedns_log_count(d));
		free(tn);
		rc = scen_fail(L, 1, "%s", lua_tostring(L, -1));
		return rc;
	}
	return 1;
}

static int dns_l_clear_log(lua_State *L)
{
	fakedns_log_clear(dns_check(L, 1));
	return 0;
}

/* --- dns:resolve: a real UDP query to the lab's DNS, answered by the same event loop --- */

struct dns_ask {
	struct scen_waiter *w;     /* not a reference: the waiter owns us */
	struct event *ev;
	int fd;
	uint16_t id;
};

static void ask_destroy(void *data)
{
	struct dns_ask *a = data;

	if (a->ev)
		event_free(a->ev);
	if (a->fd >= 0)
		close(a->fd);
}

static void rrs_push(lua_State *L, const ldns_rr_list *rrs)
{
	size_t i, j;

	lua_createtable(L, (int)ldns_rr_list_rr_count(rrs), 0);
	for (i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		char *txt = ldns_rr2str(rr), *s;

		lua_createtable(L, 0, 5);
		s = ldns_rdf2str(ldns_rr_owner(rr));
		lua_pushstring(L, s ? s : "");
		lua_setfield(L, -2, "name");
		free(s);
		s = ldns_rr_type2str(ldns_rr_get_type(rr));
		lua_pushstring(L, s ? s : "");
		lua_setfield(L, -2, "type");
		free(s);
		lua_pushinteger(L, ldns_rr_ttl(rr));
		lua_setfield(L, -2, "ttl");
		if (txt) {
			size_t l = strlen(txt);

			while (l && (txt[l - 1] == '\n' || txt[l - 1] == ' '))
				l--;
			lua_pushlstring(L, txt, l);
			lua_setfield(L, -2, "text");
		}
		free(txt);
		lua_createtable(L, (int)ldns_rr_rd_count(rr), 0);
		for (j = 0; j < ldns_rr_rd_count(rr); j++) {
			s = ldns_rdf2str(ldns_rr_rdf(rr, j));
			lua_pushstring(L, s ? s : "");
			lua_rawseti(L, -2, (lua_Integer)j + 1);
			free(s);
		}
		lua_setfield(L, -2, "rdata");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void ask_read(evutil_socket_t fd, short what, void *arg)
{
	struct dns_ask *a = arg;
	uint8_t buf[65536];
	ldns_pkt *p = NULL;
	lua_State *co;
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	if (n < LDNS_HEADER_SIZE || LDNS_ID_WIRE(buf) != a->id ||
	    ldns_wire2pkt(&p, buf, (size_t)n) != LDNS_STATUS_OK) {
		ldns_pkt_free(p);
		event_add(a->ev, NULL); /* not ours or garbage: keep waiting */
		return;
	}
	co = scen_waiter_thread(a->w);
	if (!co) {
		ldns_pkt_free(p);
		return;
	}
	lua_createtable(co, 0, 4);
	lua_pushstring(co, rcode_name(ldns_pkt_get_rcode(p)));
	lua_setfield(co, -2, "rcode");
	lua_pushboolean(co, ldns_pkt_tc(p));
	lua_setfield(co, -2, "truncated");
	rrs_push(co, ldns_pkt_answer(p));
	lua_setfield(co, -2, "answers");
	rrs_push(co, ldns_pkt_additional(p));
	lua_setfield(co, -2, "additional");
	ldns_pkt_free(p);
	scen_wake(a->w, 1); /* may free a: nothing after this */
}

static int dns_resolve_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L)) {
		lua_pushnil(L);
		lua_pushstring(L, "no DNS answer in time");
		return 2;
	}
	return 1;
}

/* dns:resolve("_sipfederationtls._tcp.contoso.test", "SRV", { timeout = 2 })
 *   -> { rcode = "NOERROR", truncated = bool, answers = { {name, type, ttl, text, rdata}... },
 *        additional = {...} }, or nil, "no DNS answer in time"
 * A real query over UDP from the harness to the lab's DNS address (it shows in the log). */
static int dns_l_resolve(lua_State *L)
{
	struct scen *s = *(struct scen **)luaL_checkudata(L, 1, MT_DNS);
	const char *name = luaL_checkstring(L, 2), *tname = luaL_optstring(L, 3, "A");
	struct lab *lab = scen_lab(s);
	struct sockaddr_storage ns;
	ldns_rr_type type = ldns_get_rr_type_by_name(tname);
	double timeout = DNS_RESOLVE_TIMEOUT_S;
	struct scen_waiter *w;
	struct dns_ask *a;
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	ssize_t sent;

	if (!type)
		return luaL_error(L, "dns:resolve: unknown type '%s'", tname);
	if (lua_istable(L, 4) && lua_getfield(L, 4, "timeout") == LUA_TNUMBER)
		timeout = lua_tonumber(L, -1);
	luaL_argcheck(L, timeout > 0 && timeout <= 60, 4, "timeout between 0 and 60 s");
	if (sa_set(&ns, lab_host_ip(lab, LAB_NS), 53))
		return luaL_error(L, "dns:resolve: bad DNS address");
	a = mem_zalloc(sizeof(*a), ask_destroy);
	if (!a)
		return luaL_error(L, "out of memory");
	a->fd = -1;
	RAND_bytes((unsigned char *)&a->id, sizeof(a->id));
	if (ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD) !=
	    LDNS_STATUS_OK) {
		mem_deref(a);
		return luaL_error(L, "dns:resolve: bad name '%s'", name);
	}
	ldns_pkt_set_id(q, a->id);
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
		wire = NULL;
	ldns_pkt_free(q);
	a->fd = socket(ns.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sent = wire && a->fd >= 0 ? sendto(a->fd, wire, wlen, 0, (struct sockaddr *)&ns,
					   sa_len((struct sockaddr *)&ns)) : -1;
	free(wire);
	if (sent != (ssize_t)wlen) {
		mem_deref(a);
		return luaL_error(L, "dns:resolve: cannot send the query: %s", strerror(errno));
	}
	a->ev = event_new(scen_base(s), a->fd, EV_READ, ask_read, a);
	if (!a->ev || event_add(a->ev, NULL) < 0) {
		mem_deref(a);
		return luaL_error(L, "out of memory");
	}
	w = scen_wait_begin(L, "dns:resolve", timeout);
	a->w = w;
	scen_waiter_set_data(w, a);
	return scen_yield(L, w, dns_resolve_k);
}

/* Methods live in the metatable's methods table (lua_dns_open), where :help's check and the
 * console's completion find them. */
static int dns_l_index(lua_State *L)
{
	const char *k = luaL_checkstring(L, 2);

	if (luaL_getmetafield(L, 1, "methods") == LUA_TTABLE && lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	return luaL_error(L, "Dns has no field '%s'", k);
}

void lua_dns_open(lua_State *L)
{
	static const luaL_Reg dns_mt[] = { { "__index", dns_l_index }, { NULL, NULL } };
	static const luaL_Reg lab_methods[] = { { "dns", dns_l_lab_dns }, { NULL, NULL } };

	static const luaL_Reg methods[] = {
		{ "fault", dns_l_fault }, { "clear_faults", dns_l_clear_faults },
		{ "set", dns_l_set }, { "add", dns_l_add }, { "remove", dns_l_remove },
		{ "queries", dns_l_queries }, { "expect_query", dns_l_expect_query },
		{ "clear_log", dns_l_clear_log }, { "resolve", dns_l_resolve },
		{ NULL, NULL },
	};

	luaL_newmetatable(L, MT_DNS);
	luaL_setfuncs(L, dns_mt, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
	lua_class_extend(L, "piclab.Lab", lab_methods);
}
