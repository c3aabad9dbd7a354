/* aptable: rows of strings with typed columns, rendered as text or JSON. */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "aptable.h"

#define APTABLE_MAX_COLS 16

struct aptable {
	size_t ncols;
	char name[APTABLE_MAX_COLS][32];
	char type[APTABLE_MAX_COLS];
	char **cells;       /* rows * ncols, malloc'd strings or NULL */
	size_t nrows;
};

static void aptable_destroy(void *data)
{
	struct aptable *t = data;
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

int aptable_alloc(struct aptable **tp, const char *const *cols)
{
	struct aptable *t;
	size_t i;

	if (!tp || !cols)
		return EINVAL;
	t = mem_zalloc(sizeof(*t), aptable_destroy);
	if (!t)
		return ENOMEM;
	for (i = 0; cols[i] && i < APTABLE_MAX_COLS; i++) {
		const char *c = strchr(cols[i], ':');
		size_t n = c ? (size_t)(c - cols[i]) : strlen(cols[i]);

		if (n >= sizeof(t->name[0]))
			n = sizeof(t->name[0]) - 1;
		memcpy(t->name[i], cols[i], n);
		t->type[i] = c ? c[1] : 's';
	}
	t->ncols = i;
	*tp = t;
	return 0;
}

int aptable_row(struct aptable *t, ...)
{
	char **cells;
	va_list ap;
	size_t i;

	if (!t)
		return EINVAL;
	cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	if (!cells)
		return ENOMEM;
	t->cells = cells;
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *v = va_arg(ap, const char *);

		cells[t->nrows * t->ncols + i] = v ? strdup(v) : NULL;
	}
	va_end(ap);
	t->nrows++;
	return 0;
}

size_t aptable_rows(const struct aptable *t)
{
	return t ? t->nrows : 0;
}

void aptable_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void aptable_json_cell(FILE *f, char type, const char *v)
{
	char *copy, *save = NULL, *item;
	bool first = true;

	if (!v) {
		fputs("null", f);
		return;
	}
	switch (type) {
	case 'n':
		fputs(*v ? v : "null", f);
		return;
	case 'b':
		fputs(!strcmp(v, "yes") ? "true" : "false", f);
		return;
	case 'l':
		fputc('[', f);
		copy = strdup(v);
		for (item = copy ? strtok_r(copy, ",", &save) : NULL; item;
		     item = strtok_r(NULL, ",", &save)) {
			if (!first)
				fputc(',', f);
			aptable_json_str(f, item);
			first = false;
		}
		free(copy);
		fputc(']', f);
		return;
	default:
		aptable_json_str(f, v);
	}
}

static void aptable_cell(FILE *f, const char *v, size_t width, bool last)
{
	if (last)
		fprintf(f, "%s\n", v);
	else
		fprintf(f, "%-*s  ", (int)width, v);
}

void aptable_print(const struct aptable *t, FILE *f, bool json)
{
	size_t w[APTABLE_MAX_COLS], r, c;

	if (!t)
		return;
	if (json) {
		fputc('[', f);
		for (r = 0; r < t->nrows; r++) {
			fputs(r ? ",\n {" : "{", f);
			for (c = 0; c < t->ncols; c++) {
				if (c)
					fputc(',', f);
				aptable_json_str(f, t->name[c]);
				fputc(':', f);
				aptable_json_cell(f, t->type[c], t->cells[r * t->ncols + c]);
			}
			fputc('}', f);
		}
		fputs("]\n", f);
		return;
	}
	if (!t->nrows) {
		fputs("(none)\n", f);
		return;
	}
	for (c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->name[c]);
		for (r = 0; r < t->nrows; r++) {
			const char *v = t->cells[r * t->ncols + c];
			size_t n = v ? strlen(v) : 1;

			if (n > w[c])
				w[c] = n;
		}
	}
	for (c = 0; c < t->ncols; c++)
		aptable_cell(f, t->name[c], w[c], c + 1 == t->ncols);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];

			aptable_cell(f, v ? v : "-", w[c], c + 1 == t->ncols);
		}
}
