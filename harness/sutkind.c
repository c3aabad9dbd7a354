/* sutkind: the adapter registry, and the default adapter: our own accessproxy, configured in
 * its own format, its users imported with apctl, supervised through its control socket. */
#define LOG_MODULE "lab"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "lab.h"
#include "lab_int.h"
#include "proc.h"
#include "sut.h"
#include "sutkind.h"

static const struct sut_kind *const sut_kinds[] = {
	&sutk_accessproxy, &sutk_kamailio, &sutk_external,
};

const struct sut_kind *sut_kind_find(const char *name)
{
	size_t i;

	if (!name || !*name)
		return &sutk_accessproxy;
	for (i = 0; i < sizeof(sut_kinds) / sizeof(sut_kinds[0]); i++)
		if (strcmp(sut_kinds[i]->name, name) == 0)
			return sut_kinds[i];
	return NULL;
}

const char *sut_kind_names(void)
{
	return "accessproxy, kamailio, external";
}

static int ap_configure(struct lab *lab, char *why, size_t whysize)
{
	int err;

	snprintf(lab->conf, sizeof(lab->conf), "%s/accessproxy.conf", lab->dir);
	unlink(lab->ctl);
	err = lab_write_sut_conf(lab, lab->conf, lab->ctl);
	if (err) {
		snprintf(why, whysize, "writing %s: %s", lab->conf, strerror(err));
		return err;
	}
	return lab_users(lab, why, whysize);
}

static int ap_start(struct lab *lab, char *why, size_t whysize)
{
	char slog[600];
	int err;

	snprintf(slog, sizeof(slog), "%s/sut.log", lab->dir);
	err = sut_start(&lab->sut, lab->base, lab->opts.sut_binary, lab->conf, lab->ctl, slog,
			lab_sut_died, lab);
	if (err)
		snprintf(why, whysize, "starting %s: %s", lab->opts.sut_binary, strerror(err));
	return err;
}

static int ap_reload(struct lab *lab, char *reply, size_t size)
{
	return sut_ctl(lab->sut, "reload", reply, size, 10000);
}

static void ap_identity(const struct lab *lab, char *buf, size_t size)
{
	const char *argv[] = { lab->opts.sut_binary, "-V", NULL };
	int code = 0;

	if (proc_run(argv, 5, buf, size, &code) || code != 0)
		snprintf(buf, size, "accessproxy (%s)", lab->opts.sut_binary);
	buf[strcspn(buf, "\r\n")] = '\0';
}

const struct sut_kind sutk_accessproxy = {
	.name = "accessproxy",
	.caps = SUTK_PROCESS | SUTK_CONTROL | SUTK_RELOAD,
	.configure = ap_configure,
	.start = ap_start,
	.reload = ap_reload,
	.identity = ap_identity,
};
