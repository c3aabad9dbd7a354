/* lua_prov: the Provisioning class of the scenario API — the lab's provisioning web site, driven
 * through its C API, with waits on request states and mails (HTTPS is in lua_provhttp.c). */
#define LOG_MODULE "luaprov"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/provisioning/site.h"
#include "lab.h"
#include "lua_prov.h"
#include "scen.h"

#define PROV_POLL_MS 20
#define PROV_FORM_MAX 8192
#define PROV_MAIL_MAX 64
#define PROV_MAIL_SIZE 65536

struct lprov *lua_prov_check(lua_State *L, int i)
{
	return luaL_checkudata(L, i, MT_PROV);
}

struct site *lua_prov_site(lua_State *L, struct lprov *p)
{
	struct site *site = lab_site(scen_lab(p->s));

	if (!site)
		luaL_error(L, "the lab has no provisioning site");
	return site;
}

static unsigned prov_id(lua_State *L, int i)
{
	lua_Integer id = luaL_checkinteger(L, i);

	luaL_argcheck(L, id > 0 && id <= 100000, i, "a request id");
	return (unsigned)id;
}

/* --- forms --- */

/* Appends k=v, both form-encoded (HTML 4.01 17.13.4.1), to out; errors past its end. */
static void form_add(lua_State *L, char *out, size_t size, size_t *used, const char *k,
		     const char *v)
{
	char *ek = evhttp_uriencode(k, -1, 1), *ev = evhttp_uriencode(v, -1, 1);

	*used += (size_t)snprintf(out + *used, size - *used, "%s%s=%s", *used ? "&" : "",
				  ek ? ek : "", ev ? ev : "");
	free(ek);
	free(ev);
	if (*used >= size)
		luaL_error(L, "form too long");
}

/* Pushes a Lua table as application/x-www-form-urlencoded, keys sorted so the wire is
 * reproducible: true -> "on", false -> left out, providers = { "aol", ... } ->
 * provider_aol=on&... */
void lua_prov_form_push(lua_State *L, int t)
{
	char out[PROV_FORM_MAX] = "";
	size_t used = 0;
	int n = 0, i, keys;

	t = lua_absindex(L, t);
	luaL_checktype(L, t, LUA_TTABLE);
	lua_newtable(L);
	keys = lua_absindex(L, -1);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "form field names are strings");
		lua_pushvalue(L, -1);
		lua_rawseti(L, keys, ++n);
	}
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, keys);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
	for (i = 1; i <= n; i++) {
		const char *k;
		int tv;

		lua_rawgeti(L, keys, i);
		k = lua_tostring(L, -1);
		tv = lua_getfield(L, t, k);
		if (tv == LUA_TTABLE && strcmp(k, "providers") == 0) {
			int j;

			for (j = 1; lua_rawgeti(L, -1, j) == LUA_TSTRING; j++) {
				char name[64];

				snprintf(name, sizeof(name), "provider_%s", lua_tostring(L, -1));
				form_add(L, out, sizeof(out), &used, name, "on");
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		} else if (tv == LUA_TBOOLEAN && lua_toboolean(L, -1)) {
			form_add(L, out, sizeof(out), &used, k, "on");
		} else if (tv == LUA_TSTRING || tv == LUA_TNUMBER) {
			form_add(L, out, sizeof(out), &used, k, lua_tostring(L, -1));
		}
		lua_pop(L, 2);
	}
	lua_pop(L, 1);
	lua_pushstring(L, out);
}

/* problems text (one per line) -> list of strings */
static void problems_push(lua_State *L, const char *text)
{
	int n = 0;

	lua_newtable(L);
	while (text && *text) {
		size_t len = strcspn(text, "\n");

		if (len) {
			lua_pushlstring(L, text, len);
			lua_rawseti(L, -2, ++n);
		}
		text += len;
		if (*text == '\n')
			text++;
	}
}

/* prov:submit{ field = value, ... } -> id | nil, { problem, ... } */
static int prov_l_submit(lua_State *L)
{
	struct site *site = lua_prov_site(L, lua_prov_check(L, 1));
	char problems[4096] = "";
	unsigned id = 0;
	int err;

	lua_prov_form_push(L, 2);
	err = site_submit(site, lua_tostring(L, -1), &id, problems, sizeof(problems));
	if (err == EINVAL) {
		lua_pushnil(L);
		problems_push(L, problems);
		return 2;
	}
	if (err)
		return luaL_error(L, "submit: %s", strerror(err));
	lua_pushinteger(L, id);
	return 1;
}

/* prov:change(id, { ap_fqdn = ..., providers = {...} }) -> true | nil, { problem, ... } */
static int prov_l_change(lua_State *L)
{
	struct site *site = lua_prov_site(L, lua_prov_check(L, 1));
	unsigned id = prov_id(L, 2);
	char problems[4096] = "";
	int err;

	lua_prov_form_push(L, 3);
	err = site_change(site, id, lua_tostring(L, -1), problems, sizeof(problems));
	if (err == EINVAL) {
		lua_pushnil(L);
		problems_push(L, problems);
		return 2;
	}
	if (err) {
		lua_pushnil(L);
		lua_createtable(L, 1, 0);
		lua_pushstring(L, strerror(err));
		lua_rawseti(L, -2, 1);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int prov_l_state(lua_State *L)
{
	struct site *site = lua_prov_site(L, lua_prov_check(L, 1));

	lua_pushstring(L, site_request_state(site, prov_id(L, 2)));
	return 1;
}

static int prov_l_provider_state(lua_State *L)
{
	struct site *site = lua_prov_site(L, lua_prov_check(L, 1));

	lua_pushstring(L, site_provider_state(site, prov_id(L, 2), luaL_checkstring(L, 3)));
	return 1;
}

static int prov_l_count(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)site_request_count(lua_prov_site(L, lua_prov_check(L, 1))));
	return 1;
}

/* prov:json(id) -> the request as JSON text (id 0: every request) */
static int prov_l_json(lua_State *L)
{
	struct site *site = lua_prov_site(L, lua_prov_check(L, 1));
	lua_Integer id = luaL_optinteger(L, 2, 0);
	char *json = NULL;
	int err;

	luaL_argcheck(L, id >= 0 && id <= 100000, 2, "a request id or 0");
	err = site_request_json(site, (unsigned)id, &json);
	if (err) {
		lua_pushnil(L);
		lua_pushstring(L, strerror(err));
		return 2;
	}
	lua_pushstring(L, json);
	mem_deref(json);
	return 1;
}

static int prov_l_url(lua_State *L)
{
	char url[128];

	site_url(lua_prov_site(L, lua_prov_check(L, 1)), url, sizeof(url));
	lua_pushstring(L, url);
	return 1;
}

/* --- mails, read back from the site's Maildir --- */

struct pmail {
	unsigned q;        /* the Maildir delivery number: the order they were sent in */
	char name[256];
};

static int pmail_cmp(const void *a, const void *b)
{
	const struct pmail *x = a, *y = b;

	return x->q < y->q ? -1 : x->q > y->q;
}

/* "Name: value" of the header block, trimmed, into buf ("" if absent). */
static void mail_header(const char *head, size_t hlen, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);
	const char *p = head, *end = head + hlen;

	buf[0] = '\0';
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((eol ? eol : end) - p);

		if (ll > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl = ll - n - 1;

			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			snprintf(buf, size, "%.*s", (int)vl, v);
			return;
		}
		p = eol ? eol + 1 : end;
	}
}

/* Pushes one mail table if the file belongs to request id (and stage, if given); returns 1 if
 * it pushed. */
static int mail_push(lua_State *L, const char *path, unsigned id, const char *stage)
{
	char *text = malloc(PROV_MAIL_SIZE + 1), v[512];
	const char *body;
	size_t len, hlen;
	FILE *f = fopen(path, "rb");
	int pushed = 0;

	if (!f || !text)
		goto out;
	len = fread(text, 1, PROV_MAIL_SIZE, f);
	text[len] = '\0';
	body = strstr(text, "\r\n\r\n");
	hlen = body ? (size_t)(body - text) : len;
	body = body ? body + 4 : "";
	mail_header(text, hlen, "X-PIC-Request", v, sizeof(v));
	if (strtoul(v, NULL, 10) != id)
		goto out;
	mail_header(text, hlen, "X-PIC-Stage", v, sizeof(v));
	if (stage && strcmp(v, stage))
		goto out;
	lua_createtable(L, 0, 6);
	lua_pushstring(L, v);
	lua_setfield(L, -2, "stage");
	mail_header(text, hlen, "Subject", v, sizeof(v));
	lua_pushstring(L, v);
	lua_setfield(L, -2, "subject");
	mail_header(text, hlen, "To", v, sizeof(v));
	lua_pushstring(L, v);
	lua_setfield(L, -2, "to");
	mail_header(text, hlen, "Cc", v, sizeof(v));
	lua_pushstring(L, v);
	lua_setfield(L, -2, "cc");
	mail_header(text, hlen, "From", v, sizeof(v));
	lua_pushstring(L, v);
	lua_setfield(L, -2, "from");
	lua_pushstring(L, body);
	lua_setfield(L, -2, "body");
	pushed = 1;
out:
	if (f)
		fclose(f);
	free(text);
	return pushed;
}

/* Pushes the list of request id's mails (of one stage if stage is not NULL), oldest first. */
static int mails_push(lua_State *L, struct lprov *p, unsigned id, const char *stage)
{
	char dir[700], path[1000];
	struct pmail m[PROV_MAIL_MAX * 2];
	struct dirent *de;
	size_t n = 0, i;
	int k = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/maildir/new", lab_dir(scen_lab(p->s)));
	lua_newtable(L);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < sizeof(m) / sizeof(m[0])) {
		const char *q = strstr(de->d_name, "Q");

		if (de->d_name[0] == '.' || !q)
			continue;
		m[n].q = (unsigned)strtoul(q + 1, NULL, 10);
		snprintf(m[n].name, sizeof(m[n].name), "%s", de->d_name);
		n++;
	}
	closedir(d);
	qsort(m, n, sizeof(m[0]), pmail_cmp);
	for (i = 0; i < n && k < PROV_MAIL_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, m[i].name);
		if (mail_push(L, path, id, stage))
			lua_rawseti(L, -2, ++k);
	}
	return k;
}

/* prov:mails(id) -> { { stage, subject, to, cc, from, body }, ... } in the order sent */
static int prov_l_mails(lua_State *L)
{
	struct lprov *p = lua_prov_check(L, 1);

	lua_prov_site(L, p);
	mails_push(L, p, prov_id(L, 2), NULL);
	return 1;
}

/* --- waits: polled on a short timer, since the site's workflow is timer driven too --- */

enum pwait_kind { PW_STATE = 0, PW_PROVIDER, PW_MAIL };

struct pwait {
	struct scen_waiter *w;   /* weak: the waiter owns us through its data */
	struct lprov *p;
	struct event *tick;
	enum pwait_kind kind;
	unsigned id;
	char prov[16], want[32];
};

static void pwait_destroy(void *data)
{
	struct pwait *pw = data;

	if (pw->tick)
		event_free(pw->tick);
}

static const char *pwait_actual(struct lprov *p, const struct pwait *pw)
{
	struct site *site = lab_site(scen_lab(p->s));

	if (pw->kind == PW_STATE)
		return site_request_state(site, pw->id);
	if (pw->kind == PW_PROVIDER)
		return site_provider_state(site, pw->id, pw->prov);
	return NULL;
}

/* Pushes what the wait returns if it is met, and says so. */
static bool pwait_met(lua_State *L, struct lprov *p, const struct pwait *pw)
{
	const char *a;

	if (pw->kind == PW_MAIL) {
		if (mails_push(L, p, pw->id, pw->want) > 0) {
			lua_rawgeti(L, -1, 1);
			lua_remove(L, -2);
			return true;
		}
		lua_pop(L, 1);
		return false;
	}
	a = pwait_actual(p, pw);
	if (a && !strcmp(a, pw->want)) {
		lua_pushstring(L, a);
		return true;
	}
	return false;
}

static void pwait_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pwait *pw = arg;
	lua_State *co = scen_waiter_thread(pw->w);
	struct timeval tv = { 0, PROV_POLL_MS * 1000 };

	if (!co)
		return;
	if (pwait_met(co, pw->p, pw)) {
		scen_wake(pw->w, 1);  /* may free pw: nothing after this */
		return;
	}
	evtimer_add(pw->tick, &tv);
}

/* Continuation: stack is self, id, [provider,] want, opts, then the result or the marker. */
static int pwait_k(lua_State *L, int status, lua_KContext ctx)
{
	struct lprov *p = lua_prov_check(L, 1);
	enum pwait_kind kind = (enum pwait_kind)ctx;
	struct site *site = lua_prov_site(L, p);
	unsigned id = prov_id(L, 2);

	if (!scen_waiter_timed_out(L))
		return 1;
	if (kind == PW_STATE)
		return scen_fail(L, 1, "request %u: expected state '%s', still '%s'", id,
				 lua_tostring(L, 3), site_request_state(site, id) ?
				 site_request_state(site, id) : "(no such request)");
	if (kind == PW_PROVIDER)
		return scen_fail(L, 1, "request %u: expected %s '%s', still '%s'", id,
				 lua_tostring(L, 3), lua_tostring(L, 4),
				 site_provider_state(site, id, lua_tostring(L, 3)) ?
				 site_provider_state(site, id, lua_tostring(L, 3)) : "(none)");
	return scen_fail(L, 1, "request %u: expected a '%s' mail, got %u mails (state '%s')", id,
			 lua_tostring(L, 3), site_request_mails(site, id),
			 site_request_state(site, id) ? site_request_state(site, id) : "(none)");
}

static int pwait_start(lua_State *L, enum pwait_kind kind, int optidx)
{
	struct lprov *p = lua_prov_check(L, 1);
	double timeout = 5;
	struct timeval tv = { 0, PROV_POLL_MS * 1000 };
	struct pwait *pw;

	lua_prov_site(L, p);
	if (lua_istable(L, optidx) && lua_getfield(L, optidx, "timeout") == LUA_TNUMBER)
		timeout = lua_tonumber(L, -1);
	luaL_argcheck(L, timeout > 0 && timeout <= 120, optidx, "timeout between 0 and 120 s");
	lua_settop(L, optidx);
	pw = mem_zalloc(sizeof(*pw), pwait_destroy);
	if (!pw)
		return luaL_error(L, "out of memory");
	pw->p = p;
	pw->kind = kind;
	pw->id = prov_id(L, 2);
	snprintf(pw->prov, sizeof(pw->prov), "%s", kind == PW_PROVIDER ? luaL_checkstring(L, 3) : "");
	snprintf(pw->want, sizeof(pw->want), "%s", luaL_checkstring(L, kind == PW_PROVIDER ? 4 : 3));
	if (pwait_met(L, p, pw)) {
		mem_deref(pw);
		return 1;
	}
	pw->tick = evtimer_new(scen_base(p->s), pwait_tick, pw);
	if (!pw->tick) {
		mem_deref(pw);
		return luaL_error(L, "out of memory");
	}
	pw->w = scen_wait_begin(L, kind == PW_MAIL ? "a provisioning mail" :
				"a provisioning state", timeout);
	scen_waiter_set_data(pw->w, pw);
	evtimer_add(pw->tick, &tv);
	return scen_yield(L, pw->w, pwait_k);
}

/* prov:expect_state(id, "provisioned", { timeout = 5 }) -> state, or fails the scenario */
static int prov_l_expect_state(lua_State *L)
{
	return pwait_start(L, PW_STATE, 4);
}

/* prov:expect_provider_state(id, "aol", "configured", { timeout = 5 }) */
static int prov_l_expect_provider_state(lua_State *L)
{
	return pwait_start(L, PW_PROVIDER, 5);
}

/* prov:expect_mail(id, "sent", { timeout = 5 }) -> the first mail of that stage */
static int prov_l_expect_mail(lua_State *L)
{
	return pwait_start(L, PW_MAIL, 4);
}

static int prov_l_gc(lua_State *L)
{
	struct lprov *p = luaL_checkudata(L, 1, MT_PROV);

	if (p->ssl)
		SSL_CTX_free(p->ssl);
	p->ssl = NULL;
	return 0;
}

/* lab:provisioning() -> the Provisioning object for the lab's site */
static int lab_l_provisioning(lua_State *L)
{
	struct lprov *p;

	luaL_checkudata(L, 1, "piclab.Lab");
	p = lua_newuserdatauv(L, sizeof(*p), 0);
	p->s = scen_of(L);
	p->ssl = NULL;
	luaL_setmetatable(L, MT_PROV);
	lua_prov_site(L, p);
	return 1;
}

/* lab:unprovision(): withdraws the routes the lab put on the providers at boot */
static int lab_l_unprovision(lua_State *L)
{
	luaL_checkudata(L, 1, "piclab.Lab");
	lab_unprovision(scen_lab(scen_of(L)));
	return 0;
}

/* lab:dns_queries() -> how many queries the stub DNS has answered */
static int lab_l_dns_queries(lua_State *L)
{
	luaL_checkudata(L, 1, "piclab.Lab");
	lua_pushinteger(L, (lua_Integer)lab_dns_queries(scen_lab(scen_of(L))));
	return 1;
}

void lua_prov_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "submit", prov_l_submit },
		{ "change", prov_l_change },
		{ "state", prov_l_state },
		{ "provider_state", prov_l_provider_state },
		{ "count", prov_l_count },
		{ "json", prov_l_json },
		{ "url", prov_l_url },
		{ "mails", prov_l_mails },
		{ "expect_state", prov_l_expect_state },
		{ "expect_provider_state", prov_l_expect_provider_state },
		{ "expect_mail", prov_l_expect_mail },
		{ NULL, NULL },
	};
	static const luaL_Reg lab_methods[] = {
		{ "provisioning", lab_l_provisioning },
		{ "unprovision", lab_l_unprovision },
		{ "dns_queries", lab_l_dns_queries },
		{ NULL, NULL },
	};

	luaL_newmetatable(L, MT_PROV);
	luaL_newlib(L, methods);
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, "methods");  /* lua_class_extend adds here */
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, prov_l_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushstring(L, MT_PROV);
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
	lua_class_extend(L, "piclab.Lab", lab_methods);
	lua_provhttp_open(L);
}
