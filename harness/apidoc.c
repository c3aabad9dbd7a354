/* apidoc: the tables of scenarios/README.md as data, for :help and completion. */
#define LOG_MODULE "apidoc"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/mem.h"
#include "apidoc.h"

#define APIDOC_MAX_ROWS 400
#define APIDOC_MAX_NAMES 800

struct apidoc_row {
	const char *section;   /* the heading, "Lab", "User: contacts, ..." */
	char *cells[3];        /* call, what, example */
};

struct apidoc {
	char *text;            /* the README, cut into the strings the rows point at */
	struct apidoc_row rows[APIDOC_MAX_ROWS];
	size_t nrows;
	struct {
		const char *section;
		char var[16];      /* "dns" of `dns:fault`, "" for a global or `:up()` */
		char name[48];
	} names[APIDOC_MAX_NAMES];
	size_t nnames;
};

static void apidoc_destroy(void *data)
{
	free(((struct apidoc *)data)->text);
}

static char *apidoc_trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void apidoc_name(struct apidoc *d, const char *section, const char *name, size_t n)
{
	const char *v = name - 1;
	size_t vn = 0;

	if (!n || n >= sizeof(d->names[0].name) || d->nnames == APIDOC_MAX_NAMES ||
	    isdigit((unsigned char)name[0]))
		return;
	d->names[d->nnames].section = section;
	/* the variable before `.` or `:` names the class: `dns:fault` is a Dns method */
	if (*v == '.' || *v == ':') {
		while (isalnum((unsigned char)v[-1 - (long)vn]) || v[-1 - (long)vn] == '_')
			vn++;
	}
	if (vn >= sizeof(d->names[0].var))
		vn = 0;
	memcpy(d->names[d->nnames].var, v - vn, vn);
	d->names[d->nnames].var[vn] = '\0';
	memcpy(d->names[d->nnames].name, name, n);
	d->names[d->nnames++].name[n] = '\0';
}

/* Every `x.name` and `x:name` inside the backticks of a call cell, and a global `name(...)`
 * or `name{...}` that opens one. */
static void apidoc_names(struct apidoc *d, const char *section, const char *call)
{
	const char *p = call;

	for (const char *q = strchr(call, '`'); q; q = strstr(q + 1, ", `")) {
		size_t n = 0;

		q = strchr(q, '`') + 1;
		while (isalnum((unsigned char)q[n]) || q[n] == '_')
			n++;
		if (q[n] == '(' || q[n] == '{')
			apidoc_name(d, section, q, n);
	}

	while ((p = strpbrk(p, ".:"))) {
		const char *q = p + 1;
		size_t n = 0;

		if (p > call && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == ')')) {
			while (isalnum((unsigned char)q[n]) || q[n] == '_')
				n++;
		}
		apidoc_name(d, section, q, n);
		p = q;
	}
}

static void apidoc_row(struct apidoc *d, const char *section, char *line)
{
	struct apidoc_row *r;
	char *cell, *save = NULL;
	int k = 0;

	if (d->nrows == APIDOC_MAX_ROWS)
		return;
	r = &d->rows[d->nrows];
	memset(r, 0, sizeof(*r));
	r->section = section;
	/* cells are split at " | " so that a `|` inside code stays (rare, and only in examples) */
	for (cell = strtok_r(line + 1, "|", &save); cell && k < 3; cell = strtok_r(NULL, "|", &save))
		r->cells[k++] = apidoc_trim(cell);
	if (k < 2 || r->cells[0][0] != '`')
		return;
	apidoc_names(d, section, r->cells[0]);
	/* methods of the objects a call returns: "returns a Held object with `:up()`" */
	for (const char *q = strstr(r->cells[1], "`:"); q; q = strstr(q + 2, "`:")) {
		size_t n = 0;

		while (isalnum((unsigned char)q[2 + n]) || q[2 + n] == '_')
			n++;
		apidoc_name(d, section, q + 2, n);
	}
	d->nrows++;
}

int apidoc_load(struct apidoc **dp, const char *path)
{
	struct apidoc *d;
	const char *section = "";
	char *line, *save = NULL;
	FILE *f = fopen(path, "r");
	long size;

	if (!f)
		return errno;
	d = mem_zalloc(sizeof(*d), apidoc_destroy);
	if (!d || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(d->text = calloc(1, (size_t)size + 1)) || fread(d->text, 1, (size_t)size, f) !=
	    (size_t)size) {
		fclose(f);
		mem_deref(d);
		return ENOMEM;
	}
	fclose(f);
	for (line = strtok_r(d->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "## ", 3))
			section = line + 3;
		else if (!strncmp(line, "| `", 3))
			apidoc_row(d, section, line);
	}
	if (d->nrows == 0) {
		mem_deref(d);
		return EINVAL;
	}
	*dp = d;
	return 0;
}

static bool apidoc_match(const struct apidoc_row *r, const char *filter)
{
	if (!filter || !*filter)
		return true;
	if (strcasestr(r->section, filter))
		return true;
	for (int k = 0; k < 3; k++)
		if (r->cells[k] && strcasestr(r->cells[k], filter))
			return true;
	return false;
}

void apidoc_print(const struct apidoc *d, const char *filter, FILE *f)
{
	const char *last = NULL;
	size_t i, shown = 0;

	for (i = 0; i < d->nrows; i++) {
		const struct apidoc_row *r = &d->rows[i];

		if (!apidoc_match(r, filter))
			continue;
		if (r->section != last)
			fprintf(f, "%s== %s\n", last ? "\n" : "", r->section);
		last = r->section;
		fprintf(f, "  %s\n      %s\n", r->cells[0], r->cells[1]);
		if (r->cells[2] && *r->cells[2])
			fprintf(f, "      e.g. %s\n", r->cells[2]);
		shown++;
	}
	if (!shown)
		fprintf(f, "nothing in scenarios/README.md matches '%s'\n", filter);
}

size_t apidoc_members(const struct apidoc *d, const char *cls, const char **names, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < d->nnames && n < max; i++) {
		bool dup = false;

		if (cls && strncasecmp(d->names[i].section, cls, strlen(cls)) != 0)
			continue;
		for (j = 0; j < n && !dup; j++)
			dup = strcmp(names[j], d->names[i].name) == 0;
		if (!dup)
			names[n++] = d->names[i].name;
	}
	return n;
}

bool apidoc_has(const struct apidoc *d, const char *name)
{
	for (size_t i = 0; i < d->nnames; i++)
		if (strcmp(d->names[i].name, name) == 0)
			return true;
	return false;
}

/* Is name documented for class cls ("piclab.Dns": rows of `dns:...`)? A class the README never
 * writes as a variable (returned objects: `:grant()`) is judged by the name alone. */
static bool apidoc_has_member(const struct apidoc *d, const char *cls, const char *name)
{
	const char *c = cls ? strrchr(cls, '.') : NULL;
	bool class_seen = false;

	if (!c)
		return apidoc_has(d, name);
	c++;
	for (size_t i = 0; i < d->nnames; i++) {
		if (strcasecmp(d->names[i].var, c) != 0)
			continue;
		class_seen = true;
		if (strcmp(d->names[i].name, name) == 0)
			return true;
	}
	return !class_seen && apidoc_has(d, name);
}

/* Calls h for each string key of the table at idx that the README does not name. */
static size_t apidoc_keys(const struct apidoc *d, lua_State *L, int idx, const char *cls,
			  lua_State *std, apidoc_missing_h *h, void *arg)
{
	size_t missing = 0;

	idx = lua_absindex(L, idx);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		bool builtin = false;

		if (std && k) {
			builtin = lua_getglobal(std, k) != LUA_TNIL;
			lua_pop(std, 1);
		}
		if (k && k[0] != '_' && !builtin && (!std || lua_isfunction(L, -1)) &&
		    !(std ? apidoc_has(d, k) : apidoc_has_member(d, cls, k))) {
			h(cls, k, arg);
			missing++;
		}
		lua_pop(L, 1);
	}
	return missing;
}

size_t apidoc_undocumented(const struct apidoc *d, lua_State *L, apidoc_missing_h *h, void *arg)
{
	lua_State *std = luaL_newstate();
	size_t missing = 0;

	if (!std)
		return 0;
	luaL_openlibs(std);
	lua_pushglobaltable(L);
	missing += apidoc_keys(d, L, -1, "(global)", std, h, arg);
	lua_pop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, LUA_REGISTRYINDEX)) {
		if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1) &&
		    !strncmp(lua_tostring(L, -2), "piclab.", 7)) {
			const char *cls = lua_tostring(L, -2);

			if (lua_getfield(L, -1, "methods") == LUA_TTABLE)
				missing += apidoc_keys(d, L, -1, cls, NULL, h, arg);
			lua_pop(L, 1);
			if (lua_getfield(L, -1, "__index") == LUA_TTABLE)
				missing += apidoc_keys(d, L, -1, cls, NULL, h, arg);
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
	}
	lua_close(std);
	return missing;
}
