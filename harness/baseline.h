/* baseline: comparison of a run with a baseline run (reports/compare.lua) — `piclab compare`. */
#ifndef PIC_BASELINE_H
#define PIC_BASELINE_H

#include <stddef.h>

/* `piclab compare A B`: A and B are run folders or results.json files; xfail the expected
 * failures file or NULL. Prints the categories; 0 no regression, 1 some, 2 bad input. */
int cmd_compare(const char *root, const char *a, const char *b, const char *xfail,
		const char *html);
/* A baseline argument made absolute (reports/out/latest moves when the run starts): the
 * results.json it names, into buf. ENOENT with a message if there is none. */
int baseline_resolve(const char *arg, char *buf, size_t size);

#endif
