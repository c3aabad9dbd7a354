/* backup: hot backup, verification, atomic restore and export of all proxy state (BAK). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "base/mem.h"
#include "base/log.h"
#include "../conf/conf.h"
#include "../store/store.h"
#include "backup.h"

#define LOG_MODULE "backup"

#define BACKUP_FILE_MAX (16u * 1024u * 1024u) /* a certificate or config is far smaller */
#define BACKUP_FILES_MAX 16
#define BACKUP_STEP_TRIES 200                 /* x 10 ms while the source is busy */

struct backup_file {
	const char *path;
	const char *role;
};

/* --- checksums and export --- */

static void backup_hex(const unsigned char *md, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int backup_sha256(const void *data, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned len = 0;

	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32)
		return EIO;
	backup_hex(md, 32, out);
	return 0;
}

/* A growing line buffer. */
struct backup_line {
	char *buf;
	size_t len, size;
};

static void backup_put(struct backup_line *l, const void *s, size_t n)
{
	if (l->len + n + 1 > l->size) {
		size_t ns = (l->len + n + 1) * 2;
		char *nb = realloc(l->buf, ns);

		if (!nb)
			return; /* the line comes out short; the digest then mismatches loudly */
		l->buf = nb;
		l->size = ns;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

/* Appends one value of a row in the export's escaped form. */
static void backup_value(sqlite3_stmt *st, int col, struct backup_line *l)
{
	const unsigned char *p;
	char tmp[64];
	int i, n;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		backup_put(l, "NULL", 4);
		break;
	case SQLITE_INTEGER:
		n = snprintf(tmp, sizeof(tmp), "%lld", (long long)sqlite3_column_int64(st, col));
		backup_put(l, tmp, (size_t)n);
		break;
	case SQLITE_FLOAT:
		n = snprintf(tmp, sizeof(tmp), "%.17g", sqlite3_column_double(st, col));
		backup_put(l, tmp, (size_t)n);
		break;
	case SQLITE_BLOB:
		p = sqlite3_column_blob(st, col);
		n = sqlite3_column_bytes(st, col);
		backup_put(l, "x'", 2);
		for (i = 0; i < n; i++) {
			snprintf(tmp, sizeof(tmp), "%02x", p[i]);
			backup_put(l, tmp, 2);
		}
		backup_put(l, "'", 1);
		break;
	default:
		p = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		backup_put(l, "'", 1);
		for (i = 0; i < n; i++) {
			if (p[i] == '\t')
				backup_put(l, "\\t", 2);
			else if (p[i] == '\n')
				backup_put(l, "\\n", 2);
			else if (p[i] == '\\')
				backup_put(l, "\\\\", 2);
			else
				backup_put(l, p + i, 1);
		}
		backup_put(l, "'", 1);
		break;
	}
}

/* Every row of one table, by rowid. */
/* A secret (the topology sealing key) is exported as its SHA-256 fingerprint: exports can
 * still be compared and checksummed, and never show the key itself. */
static void backup_secret(sqlite3_stmt *st, int c, struct backup_line *l)
{
	unsigned char md[32];
	unsigned mdlen = 0;
	char hex[8 + 65];
	int i;

	if (!EVP_Digest(sqlite3_column_blob(st, c), (size_t)sqlite3_column_bytes(st, c), md, &mdlen,
			EVP_sha256(), NULL) || mdlen != 32) {
		backup_put(l, "sha256:?", 8);
		return;
	}
	memcpy(hex, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
	backup_put(l, hex, 7 + 64);
}

static int backup_export_table(sqlite3 *db, const char *table, backup_out_h *oh, void *arg)
{
	struct backup_line l = { NULL, 0, 0 };
	sqlite3_stmt *st = NULL;
	char sql[256];
	int rc, c, nc;

	snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY rowid", table);
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		l.len = 0;
		backup_put(&l, table, strlen(table));
		nc = sqlite3_column_count(st);
		for (c = 0; c < nc; c++) {
			const char *name = sqlite3_column_name(st, c);

			backup_put(&l, "\t", 1);
			backup_put(&l, name, strlen(name));
			backup_put(&l, "=", 1);
			if (!strcmp(table, "secrets") && !strcmp(name, "value"))
				backup_secret(st, c, &l);
			else
				backup_value(st, c, &l);
		}
		oh(l.buf ? l.buf : "", l.len, arg);
		rc = SQLITE_OK;
	}
	free(l.buf);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

int backup_export(sqlite3 *db, backup_out_h *oh, void *arg)
{
	sqlite3_stmt *st = NULL;
	char line[64];
	int rc, err = 0, n;

	if (!db || !oh)
		return EINVAL;
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		n = snprintf(line, sizeof(line), "schema_version %d", sqlite3_column_int(st, 0));
		oh(line, (size_t)n, arg);
	}
	sqlite3_finalize(st);
	rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
				"name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE "
				"'backup\\_%' ESCAPE '\\' ORDER BY name", -1, &st, NULL);
	while (!err && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = backup_export_table(db, (const char *)sqlite3_column_text(st, 0), oh, arg);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (!err && rc != SQLITE_DONE)
		err = store_errno(rc);
	return err;
}

static void backup_digest_line(const char *line, size_t len, void *arg)
{
	EVP_DigestUpdate(arg, line, len);
	EVP_DigestUpdate(arg, "\n", 1);
}

/* SHA-256 of the export of db's state tables. */
static int backup_state_sha256(sqlite3 *db, char out[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned len = 0;
	int err;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return ENOMEM;
	}
	err = backup_export(db, backup_digest_line, ctx);
	if (!err && (!EVP_DigestFinal_ex(ctx, md, &len) || len != 32))
		err = EIO;
	EVP_MD_CTX_free(ctx);
	if (!err)
		backup_hex(md, 32, out);
	return err;
}

/* --- the container --- */

/* One consistent copy of src into dst with the online backup API (waits while busy). */
static int backup_copy(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc, tries = 0;

	if (!b)
		return store_errno(sqlite3_errcode(dst));
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		if (++tries > BACKUP_STEP_TRIES)
			break;
		usleep(10000);
	}
	sqlite3_backup_finish(b);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

static int backup_exec(sqlite3 *db, const char *sql, char *why, size_t wsz)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		snprintf(why, wsz, "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc == SQLITE_OK ? 0 : store_errno(rc);
}

static int backup_meta_put(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO backup_meta (key, value) VALUES (?1, ?2)",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_errno(rc);
}

/* Reads a whole file (at most BACKUP_FILE_MAX bytes) into a malloc'd buffer. */
static int backup_slurp(const char *path, unsigned char **bufp, size_t *lenp, mode_t *modep)
{
	struct stat sb;
	unsigned char *buf;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return errno;
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size > BACKUP_FILE_MAX) {
		fclose(f);
		return EFBIG;
	}
	buf = malloc((size_t)sb.st_size + 1);
	n = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
	fclose(f);
	if (!buf)
		return ENOMEM;
	if (n != (size_t)sb.st_size) {
		free(buf);
		return EIO;
	}
	*bufp = buf;
	*lenp = n;
	*modep = sb.st_mode & 07777;
	return 0;
}

static int backup_file_put(sqlite3 *db, const struct backup_file *bf, char *why, size_t wsz)
{
	sqlite3_stmt *st = NULL;
	unsigned char *data = NULL;
	char sum[65], abs[PATH_MAX];
	size_t len = 0;
	mode_t mode = 0;
	int err = backup_slurp(bf->path, &data, &len, &mode), rc;

	/* restored where it was found, whatever the working directory then */
	if (!realpath(bf->path, abs))
		snprintf(abs, sizeof(abs), "%s", bf->path);

	if (err) {
		snprintf(why, wsz, "cannot read %s (%s): %s", bf->path, bf->role, strerror(err));
		return err;
	}
	err = backup_sha256(data, len, sum);
	rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO backup_files (path, role, mode, "
				"sha256, content) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
	if (!err && rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, abs, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, bf->role, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)mode);
		sqlite3_bind_text(st, 4, sum, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		err = rc == SQLITE_DONE ? 0 : store_errno(rc);
	}
	sqlite3_finalize(st);
	free(data);
	if (err && !*why)
		snprintf(why, wsz, "cannot store %s: %s", bf->path, strerror(err));
	return err;
}

/* The config file and every certificate, key and CA file it names. */
static size_t backup_files_of(const struct conf *cfg, struct backup_file *out)
{
	static const char *const roles[CONF_NEDGES][3] = {
		{ "internal certificate", "internal key", "internal CA" },
		{ "external certificate", "external key", "external CA" },
	};
	size_t n = 0;
	int i;

	if (!cfg)
		return 0;
	out[n++] = (struct backup_file){ conf_path(cfg), "config" };
	for (i = 0; i < CONF_NEDGES; i++) {
		const struct conf_edge *e = conf_edge(cfg, (enum conf_edge_id)i);
		const char *p[3] = { e->cert, e->key, e->ca };
		int j;

		for (j = 0; j < 3; j++)
			if (p[j] && *p[j] && n < BACKUP_FILES_MAX)
				out[n++] = (struct backup_file){ p[j], roles[i][j] };
	}
	return n;
}

/* Everything beside the copied state: the meta rows and the files. */
static int backup_fill(sqlite3 *dst, const char *db_path, const struct conf *cfg, char *why,
		       size_t wsz)
{
	struct backup_file files[BACKUP_FILES_MAX];
	char sum[65], created[32], ver[16], schema[16];
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);
	size_t i, n = backup_files_of(cfg, files);
	int err;

	/* one file, no WAL beside it: the container travels alone */
	err = backup_exec(dst, "PRAGMA journal_mode = DELETE", why, wsz);
	if (!err)
		err = backup_state_sha256(dst, sum);
	if (!err && sqlite3_prepare_v2(dst, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(schema, sizeof(schema), "%d", sqlite3_column_int(st, 0));
	else
		snprintf(schema, sizeof(schema), "0");
	sqlite3_finalize(st);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(ver, sizeof(ver), "%d", BACKUP_FORMAT_VERSION);
	if (!err)
		err = backup_exec(dst, "BEGIN;"
				  "CREATE TABLE backup_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
				  "CREATE TABLE backup_files (path TEXT PRIMARY KEY, role TEXT NOT NULL,"
				  " mode INTEGER NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL);",
				  why, wsz);
	if (!err)
		err = backup_meta_put(dst, "format_version", ver);
	if (!err)
		err = backup_meta_put(dst, "created", created);
	if (!err)
		err = backup_meta_put(dst, "source", db_path ? db_path : "");
	if (!err)
		err = backup_meta_put(dst, "schema_version", schema);
	if (!err)
		err = backup_meta_put(dst, "state_sha256", sum);
	for (i = 0; !err && i < n; i++)
		err = backup_file_put(dst, &files[i], why, wsz);
	if (!err)
		err = backup_exec(dst, "COMMIT", why, wsz);
	return err;
}

int backup_create(sqlite3 *db, const char *db_path, const struct conf *cfg, const char *path,
		  char *why, size_t wsz)
{
	sqlite3 *dst = NULL;
	char tmp[4096];
	int err;

	if (!db || !path || !why || !wsz)
		return EINVAL;
	*why = '\0';
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	unlink(tmp);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wsz, "cannot create %s: %s", tmp, dst ? sqlite3_errmsg(dst) : "");
		sqlite3_close(dst);
		return EIO;
	}
	err = backup_copy(dst, db);
	if (err)
		snprintf(why, wsz, "cannot copy the database: %s", strerror(err));
	if (!err)
		err = backup_fill(dst, db_path, cfg, why, wsz);
	if (sqlite3_close(dst) != SQLITE_OK && !err)
		err = EIO;
	if (!err && rename(tmp, path) != 0) {
		err = errno;
		snprintf(why, wsz, "cannot rename %s to %s: %s", tmp, path, strerror(err));
	}
	if (err)
		unlink(tmp);
	return err;
}

/* --- verification --- */

static int backup_check_meta(sqlite3 *db, char *sum, char *why, size_t wsz)
{
	sqlite3_stmt *st = NULL;
	char ver[32] = "";
	int rc = sqlite3_prepare_v2(db, "SELECT key, value FROM backup_meta", -1, &st, NULL);

	if (rc != SQLITE_OK) {
		snprintf(why, wsz, "not a backup: no backup_meta table");
		return EBADMSG;
	}
	sum[0] = '\0';
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *v = (const char *)sqlite3_column_text(st, 1);

		if (k && v && !strcmp(k, "format_version"))
			snprintf(ver, sizeof(ver), "%s", v);
		else if (k && v && !strcmp(k, "state_sha256"))
			snprintf(sum, 65, "%s", v);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(why, wsz, "damaged backup_meta: %s", sqlite3_errstr(rc));
		return EBADMSG;
	}
#ifdef AP_MUTANT_BAK_VERSION_UNCHECKED
	if (!*ver) { /* any format version accepted */
#else
	if (strcmp(ver, "1")) {
#endif
		snprintf(why, wsz, "backup format version %s not supported (this apctl reads %d)",
			 *ver ? ver : "(none)", BACKUP_FORMAT_VERSION);
		return ENOTSUP;
	}
	if (strlen(sum) != 64) {
		snprintf(why, wsz, "no state checksum in backup_meta");
		return EBADMSG;
	}
	return 0;
}

static int backup_check_files(sqlite3 *db, char *why, size_t wsz)
{
	sqlite3_stmt *st = NULL;
	char sum[65];
	int rc = sqlite3_prepare_v2(db, "SELECT path, sha256, content FROM backup_files "
				    "ORDER BY path", -1, &st, NULL), err = 0;

	if (rc != SQLITE_OK) {
		snprintf(why, wsz, "not a backup: no backup_files table");
		return EBADMSG;
	}
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		const char *want = (const char *)sqlite3_column_text(st, 1);
		const void *data = sqlite3_column_blob(st, 2);
		size_t n = (size_t)sqlite3_column_bytes(st, 2);

		err = backup_sha256(data ? data : "", n, sum);
#ifdef AP_MUTANT_BAK_FILE_CHECKSUM_UNCHECKED
		if (!err && !want) { /* file checksums not compared */
#else
		if (!err && (!want || strcmp(sum, want))) {
#endif
			snprintf(why, wsz, "file %s: checksum mismatch", path ? path : "?");
			err = EBADMSG;
		}
	}
	sqlite3_finalize(st);
	if (!err && rc != SQLITE_DONE) {
		snprintf(why, wsz, "damaged backup_files: %s", sqlite3_errstr(rc));
		err = EBADMSG;
	}
	return err;
}

static int backup_check_integrity(sqlite3 *db, char *why, size_t wsz)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(5)", -1, &st, NULL);
	const char *res = NULL;
	int err = 0;

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		res = (const char *)sqlite3_column_text(st, 0);
	if (!res || strcmp(res, "ok")) {
		snprintf(why, wsz, "damaged or truncated: %s",
			 res ? res : sqlite3_errstr(rc));
		err = EBADMSG;
	}
	sqlite3_finalize(st);
	return err;
}

/* Opens and checks a container; *dbp stays open (read-only) on success. */
static int backup_open_verified(const char *path, sqlite3 **dbp, char *why, size_t wsz)
{
	sqlite3 *db = NULL;
	char want[65], got[65];
	struct stat sb;
	int err;

	*why = '\0';
	if (stat(path, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(why, wsz, "%s: %s", path, strerror(errno ? errno : EINVAL));
		return ENOENT;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(why, wsz, "not a backup: %s", db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return EBADMSG;
	}
	err = backup_check_integrity(db, why, wsz);
	if (!err)
		err = backup_check_meta(db, want, why, wsz);
	if (!err)
		err = backup_check_files(db, why, wsz);
	if (!err && (err = backup_state_sha256(db, got)))
		snprintf(why, wsz, "cannot read the state: %s", strerror(err));
#ifdef AP_MUTANT_BAK_STATE_CHECKSUM_UNCHECKED
	if (0 && strcmp(want, got)) { /* state checksum not compared */
#else
	if (!err && strcmp(want, got)) {
#endif
		snprintf(why, wsz, "state checksum mismatch");
		err = EBADMSG;
	}
	if (err) {
		sqlite3_close(db);
		return err == ENOTSUP ? ENOTSUP : EBADMSG;
	}
	*dbp = db;
	return 0;
}

int backup_verify(const char *path, char *why, size_t wsz)
{
	sqlite3 *db = NULL;
	int err;

	if (!path || !why || !wsz)
		return EINVAL;
	err = backup_open_verified(path, &db, why, wsz);
	sqlite3_close(db);
	return err;
}

int backup_export_file(const char *path, backup_out_h *oh, void *arg, char *why, size_t wsz)
{
	sqlite3 *db = NULL;
	int err;

	if (!path || !oh || !why || !wsz)
		return EINVAL;
	err = backup_open_verified(path, &db, why, wsz);
	if (!err && (err = backup_export(db, oh, arg)))
		snprintf(why, wsz, "cannot export: %s", strerror(err));
	sqlite3_close(db);
	return err;
}

/* --- restore --- */

static void backup_dest(const char *to_dir, const char *path, char *out, size_t size)
{
	if (to_dir)
		snprintf(out, size, "%s/%s", to_dir, path[0] == '/' ? path + 1 : path);
	else
		snprintf(out, size, "%s", path);
}

/* mkdir -p of the directory part of path. */
static int backup_mkdirs(const char *path)
{
	char dir[4096];
	size_t i;

	snprintf(dir, sizeof(dir), "%s", path);
	for (i = 1; dir[i]; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return errno;
		dir[i] = '/';
	}
	return 0;
}

static int backup_write_file(const char *path, const void *data, size_t n, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode ? mode & 07777 : 0600), err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, data, n) != (ssize_t)n || fsync(fd))
		err = errno ? errno : EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* Writes every file of the backup beside its destination (dest + ".restore"). */
static int backup_stage_files(sqlite3 *db, const char *to_dir, char names[][4096],
			      size_t *np, char *why, size_t wsz)
{
	sqlite3_stmt *st = NULL;
	char tmp[4200];
	int rc = sqlite3_prepare_v2(db, "SELECT path, mode, content FROM backup_files "
				    "ORDER BY path", -1, &st, NULL), err = 0;

	*np = 0;
	while (rc == SQLITE_OK && !err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);

		if (*np >= BACKUP_FILES_MAX || !path) {
			err = EFBIG;
			break;
		}
		backup_dest(to_dir, path, names[*np], 4096);
		snprintf(tmp, sizeof(tmp), "%s.restore", names[*np]);
		err = backup_mkdirs(tmp);
		if (!err)
			err = backup_write_file(tmp, sqlite3_column_blob(st, 2),
						(size_t)sqlite3_column_bytes(st, 2),
						sqlite3_column_int(st, 1));
		if (err)
			snprintf(why, wsz, "cannot write %s: %s", tmp, strerror(err));
		else
			(*np)++;
		rc = SQLITE_OK;
	}
	if (!err && rc != SQLITE_DONE) {
		snprintf(why, wsz, "cannot read the files: %s", sqlite3_errstr(rc));
		err = EBADMSG;
	}
	sqlite3_finalize(st);
	return err;
}

/* The state alone, in a temporary database beside the destination. */
static int backup_stage_db(sqlite3 *src, const char *tmp, char *why, size_t wsz)
{
	sqlite3 *db = NULL;
	int err;

	unlink(tmp);
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wsz, "cannot create %s", tmp);
		sqlite3_close(db);
		return EIO;
	}
	err = backup_copy(db, src);
	if (err)
		snprintf(why, wsz, "cannot copy the state aside: %s", strerror(err));
	if (!err)
		err = backup_exec(db, "DROP TABLE backup_meta; DROP TABLE backup_files;", why, wsz);
	sqlite3_close(db);
	return err;
}

/* The commit point: the destination database takes the staged state in one transaction. */
static int backup_swap_db(const char *tmp, const char *dest, char *why, size_t wsz)
{
	sqlite3 *src = NULL, *dst = NULL;
	int err = 0;

	if (backup_mkdirs(dest) ||
	    sqlite3_open_v2(tmp, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, wsz, "cannot open %s", dest);
		err = EIO;
	}
	if (!err) {
		sqlite3_busy_timeout(dst, 5000);
		err = backup_copy(dst, src);
		if (err)
			snprintf(why, wsz, "cannot replace the state in %s: %s", dest,
				 strerror(err));
	}
	sqlite3_close(src);
	sqlite3_close(dst);
	return err;
}

static void backup_unstage(char names[][4096], size_t n)
{
	char tmp[4200];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s.restore", names[i]);
		unlink(tmp);
	}
}

/* The database path the backup was taken from (meta "source"). */
static void backup_source(sqlite3 *db, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT value FROM backup_meta WHERE key = 'source'", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

int backup_restore(const char *path, const char *db_path, const char *to_dir, char *why,
		   size_t wsz)
{
	static char names[BACKUP_FILES_MAX][4096];
	char dest[4096], tmp[4200], src[4096];
	sqlite3 *db = NULL;
	size_t n = 0, i;
	int err;

	if (!path || (!db_path && !to_dir) || !why || !wsz)
		return EINVAL;
	err = backup_open_verified(path, &db, why, wsz);
	if (err)
		return err;
	if (!db_path) {
		backup_source(db, src, sizeof(src));
		if (!*src) {
			snprintf(why, wsz, "the backup names no database path: give --db PATH");
			sqlite3_close(db);
			return EINVAL;
		}
		db_path = src;
	}
	backup_dest(to_dir, db_path, dest, sizeof(dest));
	snprintf(tmp, sizeof(tmp), "%s.restore", dest);
	err = backup_mkdirs(tmp);
	if (!err)
		err = backup_stage_files(db, to_dir, names, &n, why, wsz);
	if (!err)
		err = backup_stage_db(db, tmp, why, wsz);
	sqlite3_close(db);
	if (!err)
		err = backup_swap_db(tmp, dest, why, wsz);
	unlink(tmp);
	if (err) {
		backup_unstage(names, n);
		return err;
	}
	for (i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s.restore", names[i]);
		if (rename(tmp, names[i]) != 0 && !err) {
			err = errno;
			snprintf(why, wsz, "state restored but %s not renamed into place: %s",
				 names[i], strerror(err));
		}
	}
	if (err)
		backup_unstage(names, n);
	return err;
}
