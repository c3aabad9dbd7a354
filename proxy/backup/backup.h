/* backup: one self-describing file holding all of the proxy's state (BAK-001..005): the state
 * database copied with SQLite's online backup API while the proxy runs, plus the config file
 * and every certificate and key it names, with a format version and SHA-256 checksums.
 *
 * The container is itself a SQLite database: the state tables as they were, and
 *   backup_meta(key, value): format_version, created, source, schema_version, state_sha256
 *                            (the SHA-256 of backup_export() of the state tables)
 *   backup_files(path, role, mode, sha256, content): each file, byte for byte. */
#ifndef AP_BACKUP_H
#define AP_BACKUP_H

#include <stddef.h>

#define BACKUP_FORMAT_VERSION 1

struct conf;
struct sqlite3;

/* Writes the backup of the database db (a live connection: the copy is one consistent read
 * snapshot, other processes may keep writing) and of the files cfg names (cfg may be NULL:
 * the database alone) to path, atomically (a temporary file renamed at the end). why says
 * what failed. */
int backup_create(struct sqlite3 *db, const char *db_path, const struct conf *cfg,
		  const char *path, char *why, size_t wsz);

/* Checks path: a backup container, not damaged (SQLite integrity check), of our format
 * version, each file's and the state's checksum right. EBADMSG (damaged, truncated or
 * wrong checksum) or ENOTSUP (another version), with why naming what is wrong. */
int backup_verify(const char *path, char *why, size_t wsz);

/* BAK-003: verifies path, then puts its state into the database at db_path and its files at
 * their paths; with to_dir every destination is under to_dir instead (a fresh install
 * elsewhere, BAK-005), and db_path may be NULL: the path the backup was taken from. Nothing is touched unless the whole backup verified and every file
 * was written aside: the files are written to temporary names, the database is replaced in
 * one SQLite transaction (a running proxy sees the old or the new state, never a mix), then
 * the files are renamed into place. */
int backup_restore(const char *path, const char *db_path, const char *to_dir, char *why,
		   size_t wsz);

/* BAK-004: the state in db as text, deterministically: "schema_version N", then for every
 * table (by name, backup_* left out) every row (by rowid) as "table\tcol=value..." with NULL,
 * integers, reals, text (\t \n \\ escaped) and blobs (x'hex'). Lines go to oh. */
typedef void (backup_out_h)(const char *line, size_t len, void *arg);
int backup_export(struct sqlite3 *db, backup_out_h *oh, void *arg);
/* The same for the state inside a backup file, which is verified first. */
int backup_export_file(const char *path, backup_out_h *oh, void *arg, char *why, size_t wsz);

#endif
