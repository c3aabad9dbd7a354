/* aptable: apctl's listings, printed as an aligned table for people or as JSON for scripts. */
#ifndef AP_APTABLE_H
#define AP_APTABLE_H

#include <stdbool.h>
#include <stdio.h>

struct aptable;

/* cols: "name:type" items, NULL-terminated; type s string, n number, b boolean (yes/no),
 * l list (comma separated). JSON keys are the names. */
int aptable_alloc(struct aptable **tp, const char *const *cols);
/* One row: exactly as many strings as columns (NULL prints "-" / null). */
int aptable_row(struct aptable *t, ...);
size_t aptable_rows(const struct aptable *t);
/* A table (header, rows; "(none)" when empty) or a JSON array of objects. */
void aptable_print(const struct aptable *t, FILE *f, bool json);
/* s as a JSON string (quoted, escaped), or null. */
void aptable_json_str(FILE *f, const char *s);

#endif
