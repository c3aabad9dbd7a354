/* sutkind: the kinds of system under test the lab can judge, each behind one small vtable —
 * the lab's adapter layer (as TTCN-3 suites have one), so that the same scenarios run against
 * accessproxy, a Kamailio configured as an edge, or an edge already running elsewhere. */
#ifndef PIC_SUTKIND_H
#define PIC_SUTKIND_H

#include <stdbool.h>
#include <stddef.h>

struct lab;

enum sutk_cap {
	SUTK_PROCESS = 1 << 0, /* the lab starts, restarts and kills it (sut:kill, sut:restart) */
	SUTK_CONTROL = 1 << 1, /* accessproxy's control socket and apctl (sut:ctl, lab:apctl) */
	SUTK_RELOAD = 1 << 2,  /* certificates and configuration reload on request */
};

struct sut_kind {
	const char *name;     /* "accessproxy", "kamailio", "external" */
	unsigned caps;        /* enum sutk_cap */
	/* Writes the SUT's configuration from the lab's description (edges, FQDNs and
	 * certificates, provider table, domains, users and their enablement, filter modes).
	 * ENOTSUP with why: the SUT kind cannot be set up the way this lab asks. */
	int (*configure)(struct lab *lab, char *why, size_t whysize);
	/* Starts it as lab->sut, not waiting (lab_boot waits, lab:restart polls); a SUT the lab
	 * does not run is only checked to be there (lab->sut stays NULL). */
	int (*start)(struct lab *lab, char *why, size_t whysize);
	/* Reloads certificates and configuration; the SUT's answer goes to reply. */
	int (*reload)(struct lab *lab, char *reply, size_t size);
	/* Applies an administrator's change while the SUT runs, given as apctl's arguments
	 * (NULL-terminated: the apctl operations the scenarios use); the exit code into *code,
	 * the output into out. ENOTSUP with why in out: this kind cannot apply that change.
	 * NULL: the kind applies no changes at all. */
	int (*apply)(struct lab *lab, const char *const *args, char *out, size_t size, int *code);
	/* "name version (build)" of the SUT this lab runs. */
	void (*identity)(const struct lab *lab, char *buf, size_t size);
};

extern const struct sut_kind sutk_accessproxy;
extern const struct sut_kind sutk_kamailio;
extern const struct sut_kind sutk_external;

/* By name; NULL if unknown (sut_kind_names() lists them for an error message). */
const struct sut_kind *sut_kind_find(const char *name);
const char *sut_kind_names(void);

#endif
