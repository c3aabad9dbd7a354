/* apctl backup | verify | restore | export: all proxy state in one file and back (BAK). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "../conf/conf.h"
#include "../store/store.h"
#include "../backup/backup.h"
#include "apctl_int.h"

#define LOG_MODULE "apctl"

int apctl_cmd_backup(struct apctl *c, int argc, char **argv)
{
	char why[1024];
	int err;

	if (argc != 2)
		return apctl_fail(APCTL_USAGE, "usage: apctl backup FILE");
	if ((err = apctl_open(c)))
		return err;
	err = backup_create(store_sqlite(c->store), c->db_path, c->cfg, argv[1], why,
			    sizeof(why));
	if (err)
		return apctl_fail(APCTL_FAIL, "backup failed, nothing written: %s", why);
	printf("backup written to %s (format %d; state database%s)\n", argv[1],
	       BACKUP_FORMAT_VERSION, c->cfg ? ", config, certificates and keys" : " only");
	return APCTL_OK;
}

int apctl_cmd_verify(struct apctl *c, int argc, char **argv)
{
	char why[1024];
	int err;

	(void)c;
	if (argc != 2)
		return apctl_fail(APCTL_USAGE, "usage: apctl verify FILE");
	err = backup_verify(argv[1], why, sizeof(why));
	if (err)
		return apctl_fail(APCTL_FAIL, "%s: %s", argv[1], why);
	printf("%s: ok (format %d, every checksum matches)\n", argv[1], BACKUP_FORMAT_VERSION);
	return APCTL_OK;
}

int apctl_cmd_restore(struct apctl *c, int argc, char **argv)
{
	const char *to = NULL;
	char why[1024];
	int err;

	if (argc == 4 && !strcmp(argv[2], "--to"))
		to = argv[3];
	else if (argc != 2)
		return apctl_fail(APCTL_USAGE, "usage: apctl restore FILE [--to DIR]");
	/* in place: the config's database; --to DIR: the backup's own path unless told */
	if (!c->db_path && (!to || c->conf_given) && (err = apctl_open(c)))
		return err;
	err = backup_restore(argv[1], c->db_path, to, why, sizeof(why));
	if (err)
		return apctl_fail(APCTL_FAIL, "restore refused, current state untouched: %s", why);
	if (to) {
		printf("restored into %s\n", to);
		return APCTL_OK;
	}
	printf("restored %s\n", c->db_path);
	return apctl_notify(c);
}

static void apctl_export_line(const char *line, size_t len, void *arg)
{
	fwrite(line, 1, len, arg);
	fputc('\n', arg);
}

int apctl_cmd_export(struct apctl *c, int argc, char **argv)
{
	char why[1024];
	int err;

	if (argc > 2)
		return apctl_fail(APCTL_USAGE, "usage: apctl export [BACKUP-FILE]");
	if (argc == 2) {
		err = backup_export_file(argv[1], apctl_export_line, stdout, why, sizeof(why));
		if (err)
			return apctl_fail(APCTL_FAIL, "%s: %s", argv[1], why);
		return APCTL_OK;
	}
	if ((err = apctl_open(c)))
		return err;
	err = backup_export(store_sqlite(c->store), apctl_export_line, stdout);
	if (err)
		return apctl_fail(APCTL_FAIL, "export failed: %s", strerror(err));
	return APCTL_OK;
}
