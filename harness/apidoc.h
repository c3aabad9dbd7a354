/* apidoc: the scenario API reference — the tables of scenarios/README.md, one row per call with
 * what it does and an example — read for the console's :help and its tab completion. */
#ifndef PIC_APIDOC_H
#define PIC_APIDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct apidoc;

/* Reads the tables of the README at path (sections "## Name ...", rows "| `call` | what |
 * example |"). ENOENT/EINVAL if it cannot be read or holds no table. */
int apidoc_load(struct apidoc **dp, const char *path);
/* Prints the rows whose section, call or text contain filter (NULL or "": all), by section. */
void apidoc_print(const struct apidoc *d, const char *filter, FILE *f);
/* The member names (after `x.` or `x:`) documented in the sections whose heading starts with
 * cls ("Lab", "User", ...; NULL: every section), into names; returns how many. */
size_t apidoc_members(const struct apidoc *d, const char *cls, const char **names, size_t max);
/* Is name documented as a member (`x:name(` or `x.name`) anywhere? */
bool apidoc_has(const struct apidoc *d, const char *name);

/* The names the bindings register in L (global functions beyond Lua's own, the methods and
 * __index tables of the piclab.* metatables) that the README does not document: h gets each
 * (class, name); returns how many. The check that keeps the README the API's reference. */
struct lua_State;
typedef void (apidoc_missing_h)(const char *cls, const char *name, void *arg);
size_t apidoc_undocumented(const struct apidoc *d, struct lua_State *L, apidoc_missing_h *h,
			   void *arg);

#endif
