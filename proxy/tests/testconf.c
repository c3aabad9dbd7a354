/* testconf: certificates made with the openssl command in a mkdtemp folder, config writer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "testconf.h"

static char testconf_tdir[64];
static int testconf_state; /* 0 not made, 1 made, -1 failed */

static int testconf_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void testconf_cleanup(void)
{
	if (testconf_tdir[0])
		testconf_sh("rm -rf '%s'", testconf_tdir);
}

const char *testconf_dir(void)
{
	static const struct { const char *name, *cn, *eku; } certs[] = {
		{ "ca", "Test Root", "serverAuth" },
		{ "int", "ap-int.contoso.test", "serverAuth,clientAuth" },
		{ "ext", "ap.contoso.test", "serverAuth,clientAuth" },
		{ "srv", "ap.contoso.test", "serverAuth" },
	};
	size_t i;

	if (testconf_state)
		return testconf_state > 0 ? testconf_tdir : NULL;
	testconf_state = -1;
	snprintf(testconf_tdir, sizeof(testconf_tdir), "/tmp/test_proxy.XXXXXX");
	if (!mkdtemp(testconf_tdir)) {
		testconf_tdir[0] = '\0';
		return NULL;
	}
	atexit(testconf_cleanup);
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		if (testconf_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
				"-nodes -days 2 -subj '/CN=%s' -addext 'extendedKeyUsage=%s' "
				"-keyout %s/%s.key -out %s/%s.crt >/dev/null 2>&1", certs[i].cn,
				certs[i].eku, testconf_tdir, certs[i].name, testconf_tdir,
				certs[i].name) != 0)
			return NULL;
	testconf_state = 1;
	return testconf_tdir;
}

const char *testconf_write(const char *name, const char *text)
{
	static char path[256];
	const char *dir = testconf_dir();
	FILE *f;

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	for (; *text; text++) {
		if (*text == '@')
			fputs(dir, f);
		else
			fputc(*text, f);
	}
	fclose(f);
	return path;
}

void testconf_loop_until(struct event_base *base, const int *calls, int want)
{
	int i;

	for (i = 0; i < 500 && *calls < want; i++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

const char *testconf_db(const char *kind, const char *name)
{
	static char path[128];
	char p[160];

	snprintf(path, sizeof(path), "/tmp/ap-%s-%ld-%s.db", kind, (long)getpid(), name);
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return path;
}
