/* standalone: runs a fuzz target's entry point over files, without libFuzzer, so the regression
 * inputs (fuzz/regress/<target>/) and the corpora replay in the unit tests on any compiler. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* The whole file in a buffer of exactly its size, so a read past the end is one for ASan. */
static int standalone_read(const char *path, uint8_t **bufp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int err = 0;

	if (!f)
		return errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		err = errno ? errno : EIO;
		goto out;
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		err = EIO;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return err;
}

int main(int argc, char **argv)
{
	int i, nbad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...  (runs each file through the fuzz target once)\n",
			argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int err = standalone_read(argv[i], &buf, &len);

		if (err) {
			fprintf(stderr, "%s: cannot read: %s\n", argv[i], strerror(err));
			nbad++;
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
	}
	printf("%s: %d input(s) run%s\n", argv[0], argc - 1 - nbad, nbad ? ", some unreadable" : "");
	return nbad ? 1 : 0;
}
