/* reportslua: a Lua state for one of the report modules under reports/ (render, coverage,
 * compare, merge, pics): the standard libraries, package.path on reports/, the module loaded. */
#ifndef PIC_REPORTSLUA_H
#define PIC_REPORTSLUA_H

#include <lua.h>

/* A new state with reports/<module>.lua run and its return value on the stack top; NULL (and
 * "piclab <who>: why" on stderr) if the state cannot be made or the module does not load. The
 * caller lua_close()s it. */
lua_State *reports_lua(const char *root, const char *module, const char *who);

#endif
