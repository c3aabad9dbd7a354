/* apidoc: the tables of scenarios/README.md as data, for :help and completion. */
#define LOG_MODULE "apidoc"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Every `x.name` and `x:name` inside the backticks of a call cell. */
static void apidoc_names(struct apidoc *d, const char *section, const char *call)
{
	const char *p = call;

	while ((p = strpbrk(p, ".:"))) {
		const char *q = p + 1;
		size_t n = 0;

		if (p > call && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == ')')) {
			while (isalnum((unsigned char)q[n]) || q[n] == '_')
				n++;
		}
		if (n && n < sizeof(d->names[0].name) && d->nnames < APIDOC_MAX_NAMES &&
		    !isdigit((unsigned char)q[0])) {
			d->names[d->nnames].section = section;
			memcpy(d->names[d->nnames].name, q, n);
			d->names[d->nnames++].name[n] = '\0';
		}
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
