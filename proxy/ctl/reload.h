/* reload: the proxy's policy state and certificates, loaded at start and swapped whole on
 * SIGHUP or the control command "reload" (CONF-007, TLS-007). */
#ifndef AP_RELOAD_H
#define AP_RELOAD_H

#include <stddef.h>
#include <stdint.h>

struct reload;
struct spine;
struct conf;
struct ctl;
struct event_base;

/* Opens (creating and seeding from cfg if missing) the database cfg names, builds the first
 * snapshot, starts the audit writer and hands both to spine. When [global] database is not
 * set and the default database cannot be opened, runs from the config file alone (warned,
 * no audit). */
int reload_alloc(struct reload **rp, struct event_base *base, const struct conf *cfg,
		 struct spine *spine);
/* Rereads the config file, the database and the edge certificates; swaps them in only if all
 * of it is good, else keeps the old state. msg gets one line: "ok version N ..." or the
 * problems (separated by "; "). Returns 0 or the errno of the first problem. */
int reload_run(struct reload *r, char *msg, size_t size);
/* Registers "reload" and "audit" on the control socket. */
int reload_ctl_add(struct reload *r, struct ctl *c);
uint64_t reload_version(const struct reload *r);
struct audit *reload_audit(const struct reload *r);

#endif
