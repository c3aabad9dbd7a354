/* slowbuild: the time scale of a run (see slowbuild.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sanitized.h"
#include "proc.h"
#include "slowbuild.h"

/* Whether the accessproxy at path says it is a sanitizer build (its -V line). */
static bool slowbuild_sut(const char *path)
{
	const char *argv[] = { path, "-V", NULL };
	char line[512] = "";
	int code = 0;

	if (proc_run(argv, 10, line, sizeof(line), &code) || code != 0)
		return false;
	return strstr(line, PIC_SANITIZED_MARK) != NULL;
}

double slowbuild_scale(const char *given, const char *sut_kind, const char *sut_binary,
		       char *why, size_t size)
{
	const char *env = getenv("PICLAB_TIME_SCALE");

	if (!given && env && *env)
		given = env;
	if (given) {
		char *end;
		double f = strtod(given, &end);

		if (end == given || *end || !(f >= 1 && f <= 20)) {
			snprintf(why, size, "time scale '%s'%s is not a number from 1 to 20", given,
				 given == env ? " (PICLAB_TIME_SCALE)" : "");
			return 0;
		}
		snprintf(why, size, "%s", given == env ? "PICLAB_TIME_SCALE" : "--time-scale");
		return f;
	}
	if (PIC_SANITIZED) {
		snprintf(why, size, "the lab is a sanitizer build");
		return SLOWBUILD_SCALE;
	}
	if ((!sut_kind || !strcmp(sut_kind, "accessproxy")) && sut_binary &&
	    slowbuild_sut(sut_binary)) {
		snprintf(why, size, "%s is a sanitizer build", sut_binary);
		return SLOWBUILD_SCALE;
	}
	snprintf(why, size, "a normal build");
	return 1;
}
