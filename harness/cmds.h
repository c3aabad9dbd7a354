/* cmds: piclab coverage, new and lab. */
#ifndef PIC_CMDS_H
#define PIC_CMDS_H

/* Prints every requirement id as passing, failing or untested in run_dir; exit code 1 when a
 * covered id fails (or a scenario names an unknown id), 2 when the run cannot be read. */
int cmd_coverage(const char *root, const char *run_dir);
/* Writes scenarios/<name>.lua from a template; refuses to overwrite. */
int cmd_new(const char *root, const char *name);
/* Boots the default lab in 127.77.<index>.0/24 and keeps it up until SIGINT/SIGTERM. */
int cmd_lab(const char *out_base, const char *sut_binary, unsigned index);
/* piclab edge-kit [--lab N] DIR: the PKI, configuration example and instructions for an edge
 * judged with --sut-kind external on lab N's addresses. */
int cmd_edge_kit(const char *dir, unsigned index);
/* piclab merge [-o DIR] RUN...: sharded runs' folders into one run folder under out_base. */
int cmd_merge(const char *root, const char *out_base, int nruns, char **runs);

#endif
