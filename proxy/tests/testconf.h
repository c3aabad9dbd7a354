/* testconf: throw-away certificates and config files for the proxy tests. */
#ifndef AP_TESTCONF_H
#define AP_TESTCONF_H

/* A temp folder holding ca, int (ap-int.contoso.test), ext (ap.contoso.test) with both EKUs,
 * and srv (ap.contoso.test, serverAuth only): NAME.crt / NAME.key. Made once per process;
 * NULL if openssl failed. Removed at exit. */
const char *testconf_dir(void);
/* Writes text to DIR/name with every '@' replaced by DIR; returns the path (static buffer). */
const char *testconf_write(const char *name, const char *text);

#endif
