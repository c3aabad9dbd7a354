/* replay: any SIP capture becomes a lab run against the proxy under test (`piclab replay`). */
#ifndef PIC_REPLAY_H
#define PIC_REPLAY_H

#include <stdbool.h>

enum replay_expect { REPLAY_EXPECT_RECORDED = 0, REPLAY_EXPECT_POLICY };

struct replay_opts {
	const char *root;          /* project root (reports/) */
	const char *capture;       /* pcap or pcapng */
	const char *keys;          /* NSS key log, or NULL */
	const char *map;           /* map file, or NULL */
	const char *out;           /* the run folder (created) */
	const char *sut_binary;
	enum replay_expect expect;
	double speed;              /* recorded timing scaled by 1/speed; 0 = --fast */
	double wait;               /* seconds an expected answer may take (default 5) */
	unsigned lab_index;
	bool verbose;
	bool cast_only;            /* print the cast and the map, send nothing */
};

/* The pipeline: decode -> group -> cast -> rewrite -> send -> judge, then the report. Returns
 * the exit code: 0 every transaction matched, 1 one did not, 2 bad input or a lab error. */
int replay_run(const struct replay_opts *o);
/* `piclab replay ...` argument parsing; argv[0] is "replay". */
int replay_cmd(const char *root, const char *sut_binary, int argc, char **argv);

#endif
