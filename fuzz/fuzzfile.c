/* fuzzfile: a mkdtemp folder per fuzzing process, its files, and certificates by openssl(1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzfile.h"

static char fuzzfile_tdir[64];
static int fuzzfile_made_certs; /* 0 not yet, 1 made, -1 failed */

static void fuzzfile_cleanup(void)
{
	char cmd[128];

	if (!fuzzfile_tdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzzfile_tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzzfile: cannot remove %s\n", fuzzfile_tdir);
}

const char *fuzzfile_dir(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	if (fuzzfile_tdir[0])
		return fuzzfile_tdir;
	snprintf(fuzzfile_tdir, sizeof(fuzzfile_tdir), "%s/piclab-fuzz.XXXXXX", base);
	if (!mkdtemp(fuzzfile_tdir)) {
		fprintf(stderr, "fuzzfile: cannot make %s: %s\n", fuzzfile_tdir, strerror(errno));
		fuzzfile_tdir[0] = '\0';
		return NULL;
	}
	atexit(fuzzfile_cleanup);
	return fuzzfile_tdir;
}

const char *fuzzfile_write(const char *name, const void *data, size_t size, int expand)
{
	static char path[256];
	const char *dir = fuzzfile_dir(), *p = data, *end = p + size;
	FILE *f;

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return NULL;
	while (p < end) {
		if (expand && p + 1 < end && p[0] == '@' && p[1] == '/') {
			fputs(dir, f);
			p++;
			continue;
		}
		fputc(*p++, f);
	}
	if (fclose(f) != 0)
		return NULL;
	return path;
}

int fuzzfile_certs(void)
{
	static const struct { const char *name, *cn; } certs[] = {
		{ "ca", "Fuzz Root" },
		{ "int", "ap-int.contoso.test" },
		{ "ext", "ap.contoso.test" },
	};
	const char *dir = fuzzfile_dir();
	char cmd[1024];
	size_t i;

	if (fuzzfile_made_certs)
		return fuzzfile_made_certs > 0 ? 0 : EIO;
	fuzzfile_made_certs = -1;
	if (!dir)
		return EIO;
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
			 "ec_paramgen_curve:P-256 -nodes -days 2 -subj '/CN=%s' -addext "
			 "'extendedKeyUsage=serverAuth,clientAuth' -keyout %s/%s.key -out %s/%s.crt "
			 ">/dev/null 2>&1", certs[i].cn, dir, certs[i].name, dir, certs[i].name);
		if (system(cmd) != 0) {
			fprintf(stderr, "fuzzfile: openssl could not make %s.crt\n", certs[i].name);
			return EIO;
		}
	}
	fuzzfile_made_certs = 1;
	return 0;
}
