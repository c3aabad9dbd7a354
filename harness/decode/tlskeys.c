/* tlskeys: NSS key log files (the SSLKEYLOGFILE format), indexed by client_random. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

#define TLSKEYS_BUCKETS 4096

struct tlskeys {
	struct tlskeys_entry *tab[TLSKEYS_BUCKETS];
	size_t n;
};

static void tlskeys_destroy(void *data)
{
	struct tlskeys *k = data;
	size_t i;

	for (i = 0; i < TLSKEYS_BUCKETS; i++) {
		while (k->tab[i]) {
			struct tlskeys_entry *e = k->tab[i];

			k->tab[i] = e->next;
			free(e);
		}
	}
}

/* client_random is random: its first bytes are a good hash. */
static size_t tlskeys_bucket(const uint8_t cr[32])
{
	return ((size_t)cr[0] << 8 | cr[1]) % TLSKEYS_BUCKETS;
}

const struct tlskeys_entry *tlskeys_find(const struct tlskeys *k, const uint8_t cr[32])
{
	const struct tlskeys_entry *e;

	if (!k)
		return NULL;
	for (e = k->tab[tlskeys_bucket(cr)]; e; e = e->next) {
		if (!memcmp(e->client_random, cr, 32))
			return e;
	}
	return NULL;
}

static int tlskeys_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes exactly the hex word s into out (at most max bytes); the byte count or -1. */
static int tlskeys_unhex(const char *s, size_t slen, uint8_t *out, size_t max)
{
	size_t i;

	if (slen % 2 || slen / 2 > max)
		return -1;
	for (i = 0; i < slen / 2; i++) {
		int hi = tlskeys_hexval(s[2 * i]), lo = tlskeys_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(slen / 2);
}

static struct tlskeys_secret *tlskeys_slot(struct tlskeys_entry *e, const char *label)
{
	if (!strcmp(label, "CLIENT_RANDOM"))
		return &e->master;
	if (!strcmp(label, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"))
		return &e->chts;
	if (!strcmp(label, "SERVER_HANDSHAKE_TRAFFIC_SECRET"))
		return &e->shts;
	if (!strcmp(label, "CLIENT_TRAFFIC_SECRET_0"))
		return &e->cts0;
	if (!strcmp(label, "SERVER_TRAFFIC_SECRET_0"))
		return &e->sts0;
	return NULL;
}

static bool tlskeys_label_known(const char *label)
{
	struct tlskeys_entry e;

	return tlskeys_slot(&e, label) != NULL;
}

static struct tlskeys_entry *tlskeys_get(struct tlskeys *k, const uint8_t cr[32])
{
	struct tlskeys_entry *e = (struct tlskeys_entry *)tlskeys_find(k, cr);
	size_t b;

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(e->client_random, cr, 32);
	b = tlskeys_bucket(cr);
	e->next = k->tab[b];
	k->tab[b] = e;
	k->n++;
	return e;
}

/* One line: "<LABEL> <client_random hex> <secret hex>"; comments and other labels (EXPORTER,
 * early secrets) are skipped. Returns 0, or ENOMEM. */
static int tlskeys_line(struct tlskeys *k, char *line, unsigned lineno)
{
	char *label, *crhex, *sechex, *save = NULL;
	struct tlskeys_entry *e;
	struct tlskeys_secret *s;
	uint8_t cr[32], sec[64];
	int n;

	label = strtok_r(line, " \t\r\n", &save);
	if (!label || label[0] == '#' || !tlskeys_label_known(label))
		return 0;
	crhex = strtok_r(NULL, " \t\r\n", &save);
	sechex = strtok_r(NULL, " \t\r\n", &save);
	if (!crhex || !sechex || tlskeys_unhex(crhex, strlen(crhex), cr, 32) != 32 ||
	    (n = tlskeys_unhex(sechex, strlen(sechex), sec, sizeof(sec))) < 32) {
		log_warn("key log line %u: malformed, skipped", lineno);
		return 0;
	}
	e = tlskeys_get(k, cr);
	if (!e)
		return ENOMEM;
	s = tlskeys_slot(e, label);
	memcpy(s->v, sec, (size_t)n);
	s->len = (size_t)n;
	return 0;
}

int tlskeys_load(struct tlskeys **kp, const char *path)
{
	struct tlskeys *k;
	char line[512];
	unsigned lineno = 0;
	FILE *fp;
	int err = 0;

	fp = fopen(path, "r");
	if (!fp) {
		err = errno;
		log_error("cannot read key log %s: %s", path, strerror(err));
		return err == ENOENT ? ENOENT : EINVAL;
	}
	k = mem_zalloc(sizeof(*k), tlskeys_destroy);
	if (!k) {
		fclose(fp);
		return ENOMEM;
	}
	while (fgets(line, sizeof(line), fp)) {
		err = tlskeys_line(k, line, ++lineno);
		if (err)
			break;
	}
	fclose(fp);
	if (err) {
		mem_deref(k);
		return err;
	}
	log_debug("key log %s: %zu connections", path, k->n);
	*kp = k;
	return 0;
}

int tlskeys_add_text(struct tlskeys **kp, const char *text, size_t len, size_t *added)
{
	char line[512];
	size_t i = 0, before;
	unsigned lineno = 0;
	int err = 0;

	if (!*kp) {
		*kp = mem_zalloc(sizeof(**kp), tlskeys_destroy);
		if (!*kp)
			return ENOMEM;
	}
	before = (*kp)->n;
	while (i < len && !err) {
		size_t j = i, n;

		while (j < len && text[j] != '\n')
			j++;
		n = j - i < sizeof(line) - 1 ? j - i : sizeof(line) - 1;
		memcpy(line, text + i, n);
		line[n] = '\0';
		err = tlskeys_line(*kp, line, ++lineno);
		i = j + 1;
	}
	if (added)
		*added = (*kp)->n - before;
	return err;
}
