/* common: apctl's shared steps: loading the config, opening the store, talking to the proxy. */
#define LOG_MODULE "apctl"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/mem.h"
#include "../audit/audit.h"
#include "../conf/conf.h"
#include "../store/store.h"
#include "apctl_int.h"

#define APCTL_TIMEOUT_S 10

int apctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("apctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void apctl_help(FILE *f, const char *name)
{
	size_t i;

	for (i = 0; apctl_cmds[i].name; i++)
		if (!strcmp(apctl_cmds[i].name, name))
			fputs(apctl_cmds[i].help, f);
}

bool apctl_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

static void apctl_problem(bool error, const char *msg, void *arg)
{
	fprintf(stderr, "%s%s\n", error ? "" : "warning: ", msg);
}

/* The config is needed for the database path (unless --db) and the control socket. */
static int apctl_load_conf(struct apctl *c)
{
	int err;

	if (c->cfg)
		return 0;
	if (!c->conf_given && c->db_path && access(c->conf_path, R_OK) != 0)
		return 0;
	err = conf_load(&c->cfg, c->conf_path, apctl_problem, NULL);
	if (err)
		return apctl_fail(APCTL_FAIL, "cannot use the configuration %s (give -c FILE or "
				  "--db PATH)", c->conf_path);
	return 0;
}

int apctl_open(struct apctl *c)
{
	char why[512];
	int err;

	if (c->store)
		return 0;
	if ((err = apctl_load_conf(c)))
		return err;
	if (!c->db_path)
		c->db_path = conf_database(c->cfg);
	err = store_open(&c->store, c->db_path, false, c->cfg, why, sizeof(why));
	if (err)
		return apctl_fail(APCTL_FAIL, "database: %s", why);
	return 0;
}

static const char *apctl_socket(struct apctl *c)
{
	if (!c->socket && apctl_load_conf(c))
		return NULL;
	return c->socket ? c->socket : c->cfg ? conf_control_socket(c->cfg) :
	       APCTL_DEFAULT_SOCKET;
}

static int apctl_ctl_path(const char *path, const char *cmd, char *answer, size_t size)
{
	struct timeval tv = { APCTL_TIMEOUT_S, 0 };
	struct sockaddr_un sun;
	size_t got = 0;
	int fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    dprintf(fd, "%s\n", cmd) < 0) {
		err = errno;
		close(fd);
		return err;
	}
	while (got + 1 < size && !memchr(answer, '\n', got)) {
		ssize_t n = read(fd, answer + got, size - 1 - got);

		if (n <= 0) {
			err = n == 0 ? EPIPE : errno;
			close(fd);
			return err;
		}
		got += (size_t)n;
	}
	close(fd);
	answer[got] = '\0';
	answer[strcspn(answer, "\n")] = '\0';
	return 0;
}

int apctl_ctl(struct apctl *c, const char *cmd, char *answer, size_t size)
{
	const char *path = apctl_socket(c);

	return path ? apctl_ctl_path(path, cmd, answer, size) : EINVAL;
}

int apctl_ctl_all(struct apctl *c, const char *cmd, char *answer, size_t size,
		  unsigned *nworkers)
{
	const char *path = apctl_socket(c);
	char wpath[256], other[4096];
	unsigned i;
	int err;

	*nworkers = 0;
	if (!path)
		return EINVAL;
	err = apctl_ctl_path(path, cmd, answer, size);
	if (err)
		return err;
	*nworkers = 1;
	/* worker i > 0 of a multi-process proxy listens on "<path>.<i>" */
	for (i = 1; i < 64; i++) {
		snprintf(wpath, sizeof(wpath), "%s.%u", path, i);
		if (access(wpath, F_OK) != 0)
			break;
		err = apctl_ctl_path(wpath, cmd, other, sizeof(other));
		if (err == ECONNREFUSED) /* a worker being restarted reloads as it starts */
			continue;
		if (err)
			return err;
		(*nworkers)++;
		if (!strncmp(other, "error", 5) && strncmp(answer, "error", 5))
			snprintf(answer, size, "%s (worker %u)", other, i);
	}
	return 0;
}

int apctl_notify(struct apctl *c)
{
	char answer[4096];
	unsigned n = 0;
	int err = apctl_ctl_all(c, "reload", answer, sizeof(answer), &n);

	if (err == ENOENT || err == ECONNREFUSED) {
		printf("(proxy not running: changes apply at its next start)\n");
		return APCTL_OK;
	}
	if (err)
		return apctl_fail(APCTL_FAIL, "saved, but the proxy could not be asked to reload: "
				  "%s", strerror(err));
	if (!strncmp(answer, "error", 5))
		return apctl_fail(APCTL_FAIL, "saved, but the proxy refused to reload: %s",
				  answer);
	printf("proxy reloaded: %s%s\n", answer, n > 1 ? " (every worker)" : "");
	return APCTL_OK;
}

int apctl_time_parse(const char *s, time_t *tp)
{
	struct tm tm;
	const char *end;
	char *e;
	long long v;

	if (!s || !*s || !tp)
		return EINVAL;
	if (!strcmp(s, "now")) {
		*tp = time(NULL);
		return 0;
	}
	if (s[0] == '-' && isdigit((unsigned char)s[1])) {
		v = strtoll(s + 1, &e, 10);
		if (e[1] != '\0')
			return EINVAL;
		switch (*e) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: return EINVAL;
		}
		*tp = time(NULL) - (time_t)v;
		return 0;
	}
	v = strtoll(s, &e, 10);
	if (!*e && e != s) {
		*tp = (time_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && (*end == 'T' || *end == ' ')) {
		const char *t = strptime(end + 1, "%H:%M:%S", &tm);

		end = t ? t : strptime(end + 1, "%H:%M", &tm);
	}
	if (end && *end == 'Z')
		end++;
	if (!end || *end)
		return EINVAL;
	*tp = timegm(&tm);
	return 0;
}

int apctl_period(const char *opt, const char *v, time_t *tp)
{
	if (apctl_time_parse(v, tp))
		return apctl_fail(APCTL_USAGE, "%s: '%s' is not a time (YYYY-MM-DD[THH:MM[:SS]], "
				  "UNIX seconds, now, -30m, -2h, -7d)", opt, v);
	return 0;
}

int apctl_filter_opt(int ch, char *arg, struct audit_filter *f)
{
	char *e;

	switch (ch) {
	case 's': return apctl_period("--since", arg, &f->since);
	case 'u': return apctl_period("--until", arg, &f->until);
	case 'p': f->provider = arg; return 0;
	case 'U': f->user = arg; return 0;
	case 'd':
		if (strcmp(arg, "in") && strcmp(arg, "out"))
			return apctl_fail(APCTL_USAGE, "--direction takes in or out");
		f->direction = !strcmp(arg, "out") ? AUDIT_OUT : AUDIT_IN;
		return 0;
	case 'D':
		if (strcmp(arg, "forwarded") && strcmp(arg, "refused"))
			return apctl_fail(APCTL_USAGE, "--decision takes forwarded or refused");
		f->decision = !strcmp(arg, "refused") ? AUDIT_REFUSED : AUDIT_FORWARDED;
		return 0;
	case 'l':
		f->limit = (unsigned)strtoul(arg, &e, 10);
		if (*e || !*arg)
			return apctl_fail(APCTL_USAGE, "--limit takes a number (0: all)");
		return 0;
	default:
		return -1;
	}
}

const char *apctl_time_str(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)t);
	return buf;
}
