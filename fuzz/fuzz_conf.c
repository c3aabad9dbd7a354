/* fuzz_conf: the accessproxy configuration parser and validator (proxy/conf) on hostile text;
 * "@/" in an input names the scratch folder, where valid certificates wait (ca, int, ext). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "../proxy/conf/conf.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_conf_problem(bool error, const char *msg, void *arg)
{
	unsigned *n = arg;

	(*n)++;
	if (getenv("FUZZ_DEBUG")) /* seeing why a seed is refused */
		fprintf(stderr, "%s: %s\n", error ? "error" : "warning", msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOGL_NONE);
	if (fuzzfile_certs())
		abort(); /* nothing valid could be reached: say so rather than fuzz blind */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzzfile_write("accessproxy.conf", data, size, 1);
	struct conf *cfg = NULL;
	unsigned nprob = 0;
	size_t i;

	if (!path || conf_load(&cfg, path, fuzz_conf_problem, &nprob))
		return 0;
	/* what the proxy reads from a valid config */
	(void)conf_dns_server(cfg);
	(void)conf_control_socket(cfg);
	for (i = 0; i < conf_domain_count(cfg); i++)
		(void)conf_is_our_domain(cfg, conf_domain(cfg, i));
	for (i = 0; i < conf_provider_count(cfg); i++) {
		const struct conf_provider *p = conf_provider_at(cfg, i);

		if (conf_provider_by_fqdn(cfg, p->fqdn) == NULL ||
		    conf_provider_by_name(cfg, p->name) == NULL)
			abort(); /* a provider just parsed must be found by its keys */
	}
	mem_deref(cfg);
	return 0;
}
