/* piclab: the lab's command — runs scenario suites against the access proxy. */
#define LOG_MODULE "piclab"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "baseline.h"
#include "cmds.h"
#include "console.h"
#include "decode_cmd.h"
#include "runner.h"
#include "replay/replay.h"
#include "anon/anon.h"
#include "slowbuild.h"
#include "sutkind.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: piclab COMMAND [OPTIONS] [PATH...]\n"
		"\n"
		"commands:\n"
		"  run [PATH...]    run the scenarios in PATH (files or folders; default: scenarios/)\n"
		"                   each in its own lab in 127.77.L.0/24, against accessproxy;\n"
		"                   prints a verdict per scenario and 'N passed, N failed'\n"
		"  list [PATH...]   list the scenarios that run would run (name, covers, tags, title)\n"
		"  decode PCAP [KEYLOG] [--bench N | --stream]\n"
		"                   print the SIP messages of a capture, TLS decrypted with an NSS key\n"
		"                   log; --bench decodes N times and prints messages per second;\n"
		"                   --stream decodes once in bounded memory and prints MB/s,\n"
		"                   messages/s and peak RSS\n"
		"  replay CAPTURE [--keys KEYLOG] [--map FILE] [--expect recorded|policy]\n"
		"         [--speed X | --fast] [--wait S] [--lab N] [-o DIR] [--cast]\n"
		"                   replays a capture (pcap/pcapng; UDP, TCP, TLS, WebSocket) through\n"
		"                   the proxy in a fresh lab: prints the cast, then a verdict per\n"
		"                   transaction; DIR gets capture.pcapng, keys.log, results.json,\n"
		"                   junit.xml, index.html (README: 'Replay a capture')\n"
		"  replay --to-lua CAPTURE [--keys KEYLOG] [--map FILE] -o FILE.lua\n"
		"                   writes the capture as an editable scenario that re-creates its\n"
		"                   traffic and checks the recorded outcomes\n"
		"  anonymize CAPTURE [--keys KEYLOG] [--map FILE] --key SECRET|--key-file F\n"
		"         -o OUT.pcapng\n"
		"                   keyed, consistent pseudonyms for users, domains, addresses,\n"
		"                   Call-IDs, tags and text; the decrypted SIP as cleartext TCP in\n"
		"                   OUT.pcapng, its cast in OUT.map; says what it could not anonymize\n"
		"  ladder CAPTURE [KEYLOG]\n"
		"                   the SIP flow of a capture as an aligned text ladder (TLS decrypted\n"
		"                   with the key log); a failed scenario on a terminal shows its end\n"
		"  coverage [RUN]   every requirement id of reports/requirements.tsv as passing,\n"
		"                   failing, inconc, skipped, n/a or untested in RUN (default\n"
		"                   reports/out/latest; n/a: the run's PICS does not claim it);\n"
		"                   exits 1 when a covered id fails; with --strict also when an id\n"
		"                   is untested or covered only by skipped scenarios\n"
		"  compare A B [--xfail FILE] [--html FILE]\n"
		"                   classify each scenario of run B against run A (folders or\n"
		"                   results.json): pass, FAIL (was pass), fail, fixed, new-pass,\n"
		"                   new-fail, xfail, xfail->PASS, flaky, removed; exits 1 on a regression;\n"
		"                   then both runs requirement by requirement (SUT kind, identity,\n"
		"                   the ids whose status differs); --html FILE writes that side by\n"
		"                   side as a page (e.g. accessproxy against kamailio)\n"
		"  coverage --list  the requirement ids a scenario can name in covers, with texts\n"
		"  new AREA/NAME    writes scenarios/AREA/NAME.lua from a template\n"
		"  lab [--lab N] [--script FILE]\n"
		"                   brings up the lab a scenario gets in 127.77.N.0/24 (default 1),\n"
		"                   prints every address and certificate, and opens a Lua console in\n"
		"                   it (the scenario API; :help, :save AREA/NAME, :capture, :ladder,\n"
		"                   :quit); SIP messages show as ladder lines as they cross.\n"
		"                   --script runs a Lua file (steps, or a scenario file's run) first\n"
		"                   and stays up. A lab index another piclab holds is refused\n"
		"  merge [-o DIR] RUN...\n"
		"                   combines the run folders of `run --shard K/N` jobs into one run\n"
		"                   folder (results.json, junit.xml, report, coverage over the\n"
		"                   union); exit status like run's\n"
		"  edge-kit [--lab N] DIR\n"
		"                   writes what an edge judged with --sut-kind external needs: the\n"
		"                   lab PKI (DIR/pki), the addresses and names to answer on, the DNS\n"
		"                   server, providers and users (DIR/EDGE.txt), and the same as an\n"
		"                   accessproxy configuration (DIR/accessproxy.conf, DIR/users.csv)\n"
		"  help             this text\n"
		"\n"
		"options of run:\n"
		"  -t, --timeout SECONDS   default time limit per scenario (30)\n"
		"      --time-scale F      stretch every time limit and wait of the scenarios F\n"
		"                          times, 1..20 (default: $PICLAB_TIME_SCALE, else 3 when the\n"
		"                          lab or the accessproxy is a sanitizer build, else 1)\n"
		"  -o, --out DIR           where run folders go (default: reports/out)\n"
		"      --sut PATH          the SUT's program (default: accessproxy beside piclab;\n"
		"                          /usr/sbin/kamailio for --sut-kind kamailio)\n"
		"      --sut-kind KIND     the adapter for the SUT: accessproxy (default), kamailio\n"
		"                          (a Kamailio edge generated per lab from\n"
		"                          harness/kamailio/edge.cfg), external (an edge already\n"
		"                          running on the lab's edge addresses; see edge-kit)\n"
		"      --pki DIR           the lab PKI to use (made there if missing; default: a new\n"
		"                          one in the run folder); edge-kit's DIR/pki for external\n"
		"      --no-capture        do not capture traffic (capture checks then error)\n"
		"      --lab N             first lab index: labs use 127.77.N.0/24 upwards (1)\n"
		"  -j, --jobs N            labs in parallel (default: number of cores)\n"
		"      --tag TAG           only scenarios with this tag (repeatable)\n"
		"      --req ID            only scenarios covering this requirement id (repeatable)\n"
		"      --shard K/N         only the K-th of N equal shares (for CI jobs)\n"
		"      --workers N         worker processes of every lab's proxy (default: the\n"
		"                          scenario's lab.workers, else 1)\n"
		"      --seed N            seed of math.random in every scenario (default: random,\n"
		"                          printed so that a run can be repeated)\n"
		"      --list              list what would run (with the filters) and stop\n"
		"      --keep              leave a failed scenario's lab up for inspection, print its\n"
		"                          addresses and a capture command (implies -j 1)\n"
		"      --pics FILE         the SUT's PICS (default reports/pics/<sut kind>.pics if\n"
		"                          there is one, else reports/pics/accessproxy.pics):\n"
		"                          scenarios of requirements it makes n/a do not run\n"
		"      --baseline RUN      compare with a run folder or results.json; the exit status\n"
		"                          then follows the regressions only\n"
		"      --xfail FILE        expected failures, 'scenario reason' lines (default\n"
		"                          reports/expected-failures.txt when it exists); they\n"
		"                          do not fail the run, even without --baseline\n"
		"      --repeat N          run each scenario N times; mixed verdicts: flaky\n"
		"  -v, --verbose           harness log lines at debug level\n"
		"\n"
		"verdicts: pass, fail, inconc (the lab could not establish what the test needs),\n"
		"error (harness), skip, n/a (not claimed by the PICS); flaky with --repeat.\n"
		"exit status: 0 all passed, 1 a scenario failed, 2 a harness or lab error.\n"
		"Each run writes reports/out/<run>/<scenario>/: capture.pcap, keys.log (NSS key\n"
		"log for Wireshark/tshark), lab.log, sut.log, accessproxy.conf.\n");
}

/* The project root: the nearest folder above the binary that holds scenarios/ and Makefile. */
static void find_root(const char *argv0, char *root, size_t size)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	const char *env = getenv("PICLAB_ROOT");
	ssize_t n;
	struct stat st;

	if (env && *env) {
		snprintf(root, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(root, size, ".");
		return;
	}
	exe[n] = '\0';
	for (char *d = dirname(exe); strcmp(d, "/") != 0; d = dirname(d)) {
		snprintf(probe, sizeof(probe), "%s/scenarios", d);
		if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(probe, sizeof(probe), "%s/Makefile", d);
			if (stat(probe, &st) == 0) {
				snprintf(root, size, "%s", d);
				return;
			}
		}
	}
	snprintf(root, size, ".");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "sut", required_argument, NULL, 'S' },
		{ "sut-kind", required_argument, NULL, 'U' },
		{ "pki", required_argument, NULL, 'P' },
		{ "no-capture", no_argument, NULL, 'N' },
		{ "lab", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "list", no_argument, NULL, 'l' },
		{ "tag", required_argument, NULL, 'T' },
		{ "req", required_argument, NULL, 'R' },
		{ "shard", required_argument, NULL, 'K' },
		{ "seed", required_argument, NULL, 'D' },
		{ "pics", required_argument, NULL, 'Q' },
		{ "baseline", required_argument, NULL, 'B' },
		{ "xfail", required_argument, NULL, 'X' },
		{ "html", required_argument, NULL, 'H' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 'Y' },
		{ "workers", required_argument, NULL, 'W' },
		{ "script", required_argument, NULL, 'F' },
		{ "time-scale", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char root[PATH_MAX], out[PATH_MAX + 32], sut[PATH_MAX + 32], exe[PATH_MAX];
	char pics[PATH_MAX + 40], xfail[PATH_MAX + 40], base[PATH_MAX + 20];
	struct stat st;
	struct runner_opts o = { .timeout = 30, .capture = true, .first_lab = 1 };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	bool strict = false;
	const char *script = NULL, *html = NULL, *scale = NULL;
	const char *cmd;
	bool sut_given = false;
	ssize_t n;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "decode")) {
		int bench = 0;

		if (argc < 3) {
			fprintf(stderr, "usage: piclab decode PCAP [KEYLOG] [--bench N | --stream]\n");
			return 2;
		}
		if (argc >= 5 && !strcmp(argv[argc - 2], "--bench")) {
			bench = atoi(argv[argc - 1]);
			argc -= 2;
		} else if (argc >= 4 && !strcmp(argv[argc - 1], "--stream")) {
			bench = -1;
			argc -= 1;
		}
		return decode_cmd(argv[2], argc > 3 ? argv[3] : NULL, bench);
	}
	if (!strcmp(cmd, "replay")) {
		find_root(argv[0], root, sizeof(root));
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(sut, sizeof(sut), "%s/accessproxy", dirname(exe));
		signal(SIGPIPE, SIG_IGN);
		return replay_cmd(root, sut, argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "anonymize"))
		return anon_cmd(argc - 1, argv + 1);
	if (!strcmp(cmd, "ladder")) {
		if (argc < 3 || argc > 4 || argv[2][0] == '-') {
			fprintf(stderr, "usage: piclab ladder CAPTURE [KEYLOG]\n");
			return 2;
		}
		find_root(argv[0], root, sizeof(root));
		return cmd_ladder(root, argv[2], argc > 3 ? argv[3] : NULL);
	}
	if (strcmp(cmd, "run") != 0 && strcmp(cmd, "list") != 0 && strcmp(cmd, "coverage") != 0 &&
	    strcmp(cmd, "new") != 0 && strcmp(cmd, "lab") != 0 && strcmp(cmd, "edge-kit") != 0 &&
	    strcmp(cmd, "merge") != 0 && strcmp(cmd, "compare") != 0) {
		fprintf(stderr, "piclab: unknown command '%s' (try 'piclab help')\n", cmd);
		return 2;
	}
	o.list_only = strcmp(cmd, "list") == 0;
	find_root(argv[0], root, sizeof(root));
	snprintf(out, sizeof(out), "%s/reports/out", root);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(sut, sizeof(sut), "%s/accessproxy", dirname(exe));
	o.root = root;
	o.out_base = out;
	snprintf(pics, sizeof(pics), "%s/reports/pics/accessproxy.pics", root);
	o.pics = pics;
	snprintf(xfail, sizeof(xfail), "%s/reports/expected-failures.txt", root);
	if (stat(xfail, &st) == 0)
		o.xfail = xfail;
	o.sut_binary = sut;
	log_set_level(LOGL_INFO);
	optind = 2;
	o.jobs = cores > 0 ? (unsigned)cores : 1;
	o.progress = isatty(STDOUT_FILENO);
	while ((c = getopt_long(argc, argv, "t:o:vhj:", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.timeout = atof(optarg);
			if (o.timeout <= 0 || o.timeout > 3600) {
				fprintf(stderr, "piclab: --timeout must be 0 < s <= 3600\n");
				return 2;
			}
			break;
		case 'o': o.out_base = optarg; break;
		case 'S': o.sut_binary = optarg; sut_given = true; break;
		case 'P': o.pki_dir = optarg; break;
		case 'U':
			if (!sut_kind_find(optarg)) {
				fprintf(stderr, "piclab: --sut-kind '%s' is not one of: %s\n", optarg,
					sut_kind_names());
				return 2;
			}
			o.sut_kind = optarg;
			break;
		case 'N': o.capture = false; break;
		case 'L':
			o.first_lab = (unsigned)atoi(optarg);
			if (o.first_lab < 1 || o.first_lab > 250) {
				fprintf(stderr, "piclab: --lab must be 1..250\n");
				return 2;
			}
			break;
		case 'v': log_set_level(LOGL_DEBUG); break;
		case 'k': o.keep = true; break;
		case 'l': o.list_only = true; break;
		case 'j':
			o.jobs = (unsigned)atoi(optarg);
			if (o.jobs < 1 || o.jobs > 32) {
				fprintf(stderr, "piclab: --jobs must be 1..32\n");
				return 2;
			}
			break;
		case 'T':
		case 'R': {
			const char **tab = c == 'T' ? o.tags : o.reqs;
			unsigned *n = c == 'T' ? &o.ntags : &o.nreqs;

			if (*n == 16) {
				fprintf(stderr, "piclab: at most 16 --tag and 16 --req\n");
				return 2;
			}
			tab[(*n)++] = optarg;
			break;
		}
		case 'K':
			if (sscanf(optarg, "%u/%u", &o.shard_k, &o.shard_n) != 2 || o.shard_n < 1 ||
			    o.shard_k < 1 || o.shard_k > o.shard_n) {
				fprintf(stderr, "piclab: --shard wants K/N with 1 <= K <= N\n");
				return 2;
			}
			break;
		case 'D': {
			char *end;

			o.seed = strtoul(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "piclab: --seed wants a number\n");
				return 2;
			}
			break;
		}
		case 'Q': o.pics = optarg; break;
		case 'B': o.baseline = optarg; break;
		case 'X': o.xfail = optarg; break;
		case 'H': html = optarg; break;
		case 'r':
			o.repeat = (unsigned)atoi(optarg);
			if (o.repeat < 1 || o.repeat > 100) {
				fprintf(stderr, "piclab: --repeat must be 1..100\n");
				return 2;
			}
			break;
		case 'Y': strict = true; break;
		case 'W': {
			char *end;
			unsigned long w = strtoul(optarg, &end, 10);

			if (*end || !*optarg || w < 1 || w > 16) {
				fprintf(stderr, "piclab: --workers wants a number 1..16, got '%s'\n",
					optarg);
				return 2;
			}
			o.workers = (unsigned)w;
			break;
		}
		case 'F': script = optarg; break;
		case 'Z': scale = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.seed == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o.seed = (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 20) ^ getpid()) % 1000000000UL + 1;
	}
	if (o.sut_kind && !strcmp(o.sut_kind, "kamailio") && !sut_given)
		o.sut_binary = "/usr/sbin/kamailio";
	if (o.sut_kind && !strcmp(o.sut_kind, "external") && o.jobs != 1) {
		/* one edge, on the edge addresses of one lab */
		o.jobs = 1;
	}
	if (o.first_lab + o.jobs - 1 > 250) {
		fprintf(stderr, "piclab: --lab %u with %u jobs goes past 127.77.250.0/24\n",
			o.first_lab, o.jobs);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "coverage")) {
		char latest[PATH_MAX + 40];

		snprintf(latest, sizeof(latest), "%s/latest", o.out_base);
		return cmd_coverage(root, optind < argc ? argv[optind] : latest, o.list_only,
				    strict);
	}
	if (o.pics == pics && o.sut_kind) {
		/* a PICS per SUT kind, when the kind has its own */
		snprintf(pics, sizeof(pics), "%s/reports/pics/%s.pics", root, o.sut_kind);
		if (stat(pics, &st) != 0)
			snprintf(pics, sizeof(pics), "%s/reports/pics/accessproxy.pics", root);
	}
	if (!strcmp(cmd, "compare")) {
		if (argc - optind != 2) {
			fprintf(stderr, "usage: piclab compare A B [--xfail FILE] [--html FILE]\n");
			return 2;
		}
		return cmd_compare(root, argv[optind], argv[optind + 1], o.xfail, html);
	}
	if (o.baseline) {
		if (baseline_resolve(o.baseline, base, sizeof(base)))
			return 2;
		o.baseline = base;
	}
	if (!strcmp(cmd, "new"))
		return optind < argc ? cmd_new(root, argv[optind]) : (usage(stderr), 2);
	if (!strcmp(cmd, "merge"))
		return cmd_merge(root, o.out_base, argc - optind, argv + optind);
	if (!strcmp(cmd, "edge-kit"))
		return optind < argc ? cmd_edge_kit(argv[optind], o.first_lab) : (usage(stderr), 2);
	if (!strcmp(cmd, "lab")) {
		struct console_opts co = { .root = root, .out_base = o.out_base,
					   .sut_binary = o.sut_binary, .index = o.first_lab,
					   .script = script, .capture = o.capture };

		if (script && access(script, R_OK) != 0) {
			fprintf(stderr, "piclab lab: --script %s: %s\n", script, strerror(errno));
			return 2;
		}
		if (optind < argc) {
			fprintf(stderr, "piclab lab: unexpected '%s' (a file to run goes after "
				"--script)\n", argv[optind]);
			return 2;
		}
		return console_run(&co);
	}
	{
		char why[PATH_MAX + 64];

		o.time_scale = slowbuild_scale(scale, o.sut_kind, o.sut_binary, why, sizeof(why));
		if (o.time_scale == 0) {
			fprintf(stderr, "piclab: %s\n", why);
			return 2;
		}
		if (o.time_scale != 1 && !o.list_only)
			printf("time scale %g (%s): every time limit and wait of a scenario is %g "
			       "times as long\n", o.time_scale, why, o.time_scale);
	}
	return runner_run(&o, argc - optind, argv + optind);
}
