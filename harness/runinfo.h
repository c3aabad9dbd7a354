/* runinfo: what the report renderers get besides the verdicts — the run's identity (host, cores,
 * times, options), the lab's fixed layout (PIXIT) and a digest function. */
#ifndef PIC_RUNINFO_H
#define PIC_RUNINFO_H

#include <lua.h>
#include <time.h>

struct scen_result;
struct runner_opts;

/* Globals for report scripts: piclab_sha256(s) -> hex, piclab_lab_layout() -> { hosts =
 * {{name=, octet=}...}, sip_port=, https_port=, dns_port=, domain= }. */
void runinfo_open(lua_State *L);
/* Sets the identity fields of the run table at the top of the stack. */
void runinfo_set(lua_State *L, const struct runner_opts *o, time_t start, time_t end);
/* Pushes one scenario's result as a table (file: its path). */
void runinfo_push_result(lua_State *L, const struct scen_result *s, const char *file);

#endif
