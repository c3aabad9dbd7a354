/* testconf: throw-away certificates and config files for the proxy tests, and a loop runner. */
#ifndef AP_TESTCONF_H
#define AP_TESTCONF_H

/* A temp folder holding ca, int (ap-int.contoso.test), ext (ap.contoso.test) with both EKUs,
 * and srv (ap.contoso.test, serverAuth only): NAME.crt / NAME.key. Made once per process;
 * NULL if openssl failed. Removed at exit. */
const char *testconf_dir(void);
/* Writes text to DIR/name with every '@' replaced by DIR; returns the path (static buffer). */
const char *testconf_write(const char *name, const char *text);

/* A fresh SQLite path /tmp/ap-KIND-<pid>-NAME.db, the file and its -wal and -shm removed
 * (static buffer). */
const char *testconf_db(const char *kind, const char *name);

struct event_base;
/* Runs base in 10 ms slices until *calls reaches want, at most 5 s. */
void testconf_loop_until(struct event_base *base, const int *calls, int want);

#endif
