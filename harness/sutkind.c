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
	else
		sut_set_workers(lab->sut, lab->opts.workers > 1 ? lab->opts.workers : 1);
	return err;
}

/* A reload reaches every worker, as `apctl reload` does: worker 0 on the configured control
 * socket, worker i on "<socket>.<i>". The answer is worker 0's, unless a worker refused (its
 * "error ..." answer, naming it) or could not be asked. */
static int ap_reload(struct lab *lab, char *reply, size_t size)
{
	unsigned n = lab->opts.workers > 1 ? lab->opts.workers : 1;
	int err = sut_ctl(lab->sut, "reload", reply, size, 10000);

	for (unsigned i = 1; !err && i < n && strncmp(reply, "error", 5) != 0; i++) {
		char path[sizeof(lab->ctl) + 16], other[2048];

		snprintf(path, sizeof(path), "%s.%u", lab_ctl_path(lab), i);
		err = sut_ctl_at(path, "reload", other, sizeof(other), 10000);
		if (err)
			snprintf(reply, size, "error worker %u not reloaded: %s", i, strerror(err));
		else if (strncmp(other, "error", 5) == 0)
			snprintf(reply, size, "%s (worker %u)", other, i);
		err = 0;
	}
	return err;
}

static int ap_apply(struct lab *lab, const char *const *args, char *out, size_t size, int *code)
{
	return lab_apctl(lab, args, out, size, code);
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
	.apply = ap_apply,
	.identity = ap_identity,
};
