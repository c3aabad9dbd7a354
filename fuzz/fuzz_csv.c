/* fuzz_csv: apctl's user import ("apctl users import FILE.csv": store_user_import_csv) on
 * hostile text, into an in-memory database that is emptied after each input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>

#include "base/log.h"
#include "base/mem.h"
#include "../proxy/store/store.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *fuzz_csv_store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char why[256] = "";

	log_set_level(LOGL_NONE);
	if (store_open(&fuzz_csv_store, ":memory:", false, NULL, why, sizeof(why))) {
		fprintf(stderr, "fuzz_csv: cannot open an in-memory store: %s\n", why);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write("users.csv", data, size, 0);
	char why[1024];
	size_t n = 0, enabled = 0;

	if (!path)
		return 0;
	if (!store_user_import_csv(fuzz_csv_store, path, &n, why, sizeof(why))) {
		/* all or nothing: what was imported is there */
		if (store_users_enabled(fuzz_csv_store, &enabled) || enabled > n)
			abort();
	} else if (getenv("FUZZ_DEBUG")) {
		fprintf(stderr, "refused: %s\n", why);
	}
	if (sqlite3_exec(store_sqlite(fuzz_csv_store), "DELETE FROM users", NULL, NULL, NULL))
		abort();
	return 0;
}
