/* log: levelled, module-tagged log lines "<ms> <LEVEL> <prefix> <module>: msg". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/esc.h"
#include "base/log.h"

#define LOG_MODULE "log"

static enum log_level log_level = LOGL_INFO;
static FILE *log_file;
static char log_prefix[64];

static const char *const log_names[] = { "DEBUG", "INFO", "WARN", "ERROR", "NONE" };

void log_set_level(enum log_level level)
{
	if (level <= LOGL_NONE)
		log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_file(FILE *f)
{
	log_file = f;
}

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "");
}

int log_level_parse(const char *name, enum log_level *levelp)
{
	enum log_level l;

	if (!name || !levelp)
		return EINVAL;
	for (l = LOGL_DEBUG; l <= LOGL_NONE; l++) {
		if (strcasecmp(name, log_names[l]) == 0 ||
		    (l == LOGL_WARN && strcasecmp(name, "warning") == 0)) {
			*levelp = l;
			return 0;
		}
	}
	return EINVAL;
}

/* The line is formatted into one buffer and written with one call, so lines from several
 * processes sharing a file do not interleave mid-line. The message part is escaped (esc_log):
 * values from peers are logged as they came, and a terminal escape, backspace, NUL, newline or
 * raw 8-bit byte among them must not forge or hide a line. */
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char line[2048], raw[1024];
	struct timespec ts;
	unsigned long long ms;
	va_list ap;
	int n, m;
	FILE *f;

	if (level < log_level || level >= LOGL_NONE)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
	n = snprintf(line, sizeof(line), "%llu %s %s%s%s: ", ms, log_names[level], log_prefix,
		     log_prefix[0] ? " " : "", module ? module : "-");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	va_start(ap, fmt);
	m = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(raw))
		m = sizeof(raw) - 1;
	n += (int)esc_log(line + n, sizeof(line) - (size_t)n, raw, (size_t)m);
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2; /* truncated: still end the line */
	line[n++] = '\n';
	f = log_file ? log_file : stderr;
	fwrite(line, 1, (size_t)n, f);
	fflush(f);
}
