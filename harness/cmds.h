/* cmds: piclab coverage, new and lab. */
#ifndef PIC_CMDS_H
#define PIC_CMDS_H

#include <stdbool.h>

/* Prints every requirement id as passing, failing or untested in run_dir; exit code 1 when a
 * covered id fails (or a scenario names an unknown id; with strict also when an id is untested
 * or only skipped), 2 when the run cannot be read. */
int cmd_coverage(const char *root, const char *run_dir, bool strict);
/* Writes scenarios/<name>.lua from a template; refuses to overwrite. */
int cmd_new(const char *root, const char *name);
/* Boots the default lab in 127.77.<index>.0/24 and keeps it up until SIGINT/SIGTERM. */
int cmd_lab(const char *out_base, const char *sut_binary, unsigned index);

#endif
