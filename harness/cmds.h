/* cmds: piclab coverage, new and ladder. */
#ifndef PIC_CMDS_H
#define PIC_CMDS_H

#include <stdbool.h>

/* list: prints every requirement id with its text instead (piclab coverage --list).
 * Otherwise prints every requirement id as passing, failing or untested in run_dir; exit code 1
 * when a covered id fails (or a scenario names an unknown id; with strict also when an id is
 * untested or only skipped), 2 when the run cannot be read. */
int cmd_coverage(const char *root, const char *run_dir, bool list, bool strict);
/* Writes scenarios/<name>.lua from a template; refuses to overwrite. */
int cmd_new(const char *root, const char *name);
/* piclab edge-kit [--lab N] DIR: the PKI, configuration example and instructions for an edge
 * judged with --sut-kind external on lab N's addresses. */
int cmd_edge_kit(const char *dir, unsigned index);
/* piclab merge [-o DIR] RUN...: sharded runs' folders into one run folder under out_base. */
int cmd_merge(const char *root, const char *out_base, int nruns, char **runs);
/* Prints the text ladder of a capture (piclab ladder). */
int cmd_ladder(const char *root, const char *pcap, const char *keylog);

#endif
