/* labca main: makes (or reuses) the lab PKI in a directory and prints the paths of its files. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "../ca/labca.h"

#define LOG_MODULE "labca"
#define LABCA_MAX_LEAVES 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: labca [--dir DIR] [--leaf CN[:public|enterprise][:server,client]]...\n"
		"  Makes the lab PKI in DIR (default ./pki), or reuses it when every file is\n"
		"  there and valid, and prints the path of each file.\n"
		"  --dir DIR    where the PKI lives (created if missing)\n"
		"  --leaf SPEC  a leaf to make instead of the default set; repeatable.\n"
		"               root defaults to public, usages default to server,client\n"
		"  -v           debug logs\n"
		"  -h, --help   this text\n"
		"  default leaves:");
	for (const struct labca_leaf *l = labca_default_leaves; l->cn; l++)
		fprintf(f, " %s", l->cn);
	fprintf(f, "\n");
}

/* "CN[:public|enterprise][:server,client]" into *l; the CN points into spec, which is kept. */
static int leaf_parse(char *spec, struct labca_leaf *l)
{
	char *root, *eku, *tok, *save = NULL;

	*l = (struct labca_leaf){ spec, LABCA_PUBLIC, true, true };
	root = strchr(spec, ':');
	if (!root)
		return *spec ? 0 : EINVAL;
	*root++ = '\0';
	eku = strchr(root, ':');
	if (eku)
		*eku++ = '\0';
	if (!*spec)
		return EINVAL;
	if (!strcmp(root, "enterprise"))
		l->root = LABCA_ENTERPRISE;
	else if (strcmp(root, "public") && *root)
		return EINVAL;
	if (!eku)
		return 0;
	l->eku_server = l->eku_client = false;
	for (tok = strtok_r(eku, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "server"))
			l->eku_server = true;
		else if (!strcmp(tok, "client"))
			l->eku_client = true;
		else
			return EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "leaf", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct labca_leaf leaves[LABCA_MAX_LEAVES + 1];
	const struct labca_leaf *set = NULL, *l;
	const char *dir = "pki";
	char path[4096];
	int c, n = 0, err;

	log_set_prefix("labca");
	log_set_level(LOGL_WARN);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:l:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			if (n == LABCA_MAX_LEAVES) {
				fprintf(stderr, "labca: at most %d leaves\n", LABCA_MAX_LEAVES);
				return 2;
			}
			if (leaf_parse(optarg, &leaves[n])) {
				fprintf(stderr, "labca: bad --leaf \"%s\" (want "
					"CN[:public|enterprise][:server,client])\n", optarg);
				return 2;
			}
			n++;
			break;
		case 'v':
			log_set_level(LOGL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "labca: option %s needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "labca: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "labca: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (n) {
		leaves[n] = (struct labca_leaf){ 0 };
		set = leaves;
	}
	err = labca_make(dir, set);
	if (err) {
		fprintf(stderr, "labca: cannot make the PKI in %s: %s\n", dir, strerror(err));
		return 1;
	}
	printf("%s\n", labca_root_path(dir, LABCA_PUBLIC, path, sizeof(path)));
	printf("%s\n", labca_root_path(dir, LABCA_ENTERPRISE, path, sizeof(path)));
	for (l = set ? set : labca_default_leaves; l->cn; l++) {
		printf("%s\n", labca_cert_path(dir, l->cn, path, sizeof(path)));
		printf("%s\n", labca_key_path(dir, l->cn, path, sizeof(path)));
	}
	return 0;
}
