/* maildir: delivers RFC 5322 text mails into a Maildir (tmp/ then rename into new/). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "maildir.h"

#define LOG_MODULE "prov-mail"

struct maildir {
	char *path;
	char host[64];
	unsigned count;
};

static void maildir_destroy(void *data)
{
	struct maildir *md = data;

	mem_deref(md->path);
}

static int mkdir_p1(const char *dir, const char *sub)
{
	char p[4096];

	if (snprintf(p, sizeof(p), "%s%s", dir, sub) >= (int)sizeof(p))
		return ENAMETOOLONG;
	if (mkdir(p, 0700) && errno != EEXIST) {
		int err = errno;

		log_error("mkdir %s: %s", p, strerror(err));
		return err;
	}
	return 0;
}

int maildir_alloc(struct maildir **mdp, const char *path)
{
	struct maildir *md;
	int err;

	if (!mdp || !path || !*path)
		return EINVAL;
	md = mem_zalloc(sizeof(*md), maildir_destroy);
	if (!md)
		return ENOMEM;
	md->path = mem_strdup(path);
	if (!md->path) {
		err = ENOMEM;
		goto out;
	}
	if (gethostname(md->host, sizeof(md->host)) || !md->host[0])
		snprintf(md->host, sizeof(md->host), "localhost");
	/* The Maildir convention replaces '/' and ':' in the host part of a name. */
	for (char *c = md->host; *c; c++)
		if (*c == '/' || *c == ':')
			*c = '_';
	err = mkdir_p1(path, "");
	if (!err)
		err = mkdir_p1(path, "/tmp");
	if (!err)
		err = mkdir_p1(path, "/new");
	if (!err)
		err = mkdir_p1(path, "/cur");
out:
	if (err)
		mem_deref(md);
	else
		*mdp = md;
	return err;
}

/* RFC 5322 3.3 date-time, always in English whatever the locale. */
static void rfc5322_date(time_t t, char *buf, size_t size)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
		 mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static int mail_write(const char *file, const char *head, const char *body)
{
	FILE *f = fopen(file, "wx");
	int err = 0;

	if (!f)
		return errno;
	fputs(head, f);
	/* RFC 5322 2.3: lines end in CRLF in the message format. */
	for (const char *p = body; *p; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			fputc('\r', f);
		fputc(*p, f);
	}
	if (fflush(f) || fsync(fileno(f)))
		err = errno;
	if (fclose(f) && !err)
		err = errno;
	return err;
}

int maildir_deliver(struct maildir *md, const char *from, const char *to, const char *subject,
		    const char *extra, const char *body, char *name, size_t size)
{
	char base[256], tmp[4096], dst[4096], date[64], head[2048];
	struct timeval tv;
	int err, n;

	if (!md || !from || !to || !subject || !body)
		return EINVAL;
	gettimeofday(&tv, NULL);
	md->count++;
	/* Maildir unique name: seconds, then M<usec>P<pid>Q<delivery number>, then the host. */
	snprintf(base, sizeof(base), "%lld.M%ldP%dQ%u.%s", (long long)tv.tv_sec,
		 (long)tv.tv_usec, (int)getpid(), md->count, md->host);
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", md->path, base);
	snprintf(dst, sizeof(dst), "%s/new/%s", md->path, base);
	rfc5322_date(tv.tv_sec, date, sizeof(date));
	/* RFC 5322 3.6: Date and From are required; Message-ID is what mail readers thread on.
	 * RFC 2045 for the MIME headers of a plain UTF-8 body. */
	n = snprintf(head, sizeof(head),
		     "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
		     "Message-ID: <%s@provisioning.test>\r\nMIME-Version: 1.0\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "Content-Transfer-Encoding: 8bit\r\n%s\r\n",
		     from, to, subject, date, base, extra ? extra : "");
	if (n < 0 || n >= (int)sizeof(head))
		return EMSGSIZE;
	err = mail_write(tmp, head, body);
	if (!err && rename(tmp, dst))
		err = errno;
	if (err) {
		log_error("delivering %s: %s", dst, strerror(err));
		unlink(tmp);
		return err;
	}
	log_debug("delivered %s: %s", base, subject);
	if (name)
		snprintf(name, size, "%s", base);
	return 0;
}

const char *maildir_path(const struct maildir *md)
{
	return md ? md->path : NULL;
}

unsigned maildir_count(const struct maildir *md)
{
	return md ? md->count : 0;
}
