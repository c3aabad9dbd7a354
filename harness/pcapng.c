/* pcapng: SHB, IDB, DSB (TLS key log) and EPBs, written from a pcap file (pcapng spec,
 * draft-ietf-opsawg-pcapng: sections 4.1-4.3 and 4.7). */
#define LOG_MODULE "pcapng"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "pcapng.h"

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au
#define PCAPNG_MAGIC 0x1A2B3C4Du
#define PCAPNG_TLS_KEYLOG 0x544c534bu /* "TLSK" */

static const uint8_t pcapng_pad[4];

static size_t pcapng_pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static int pcapng_block(FILE *f, uint32_t type, const void *body, size_t blen, const void *data,
			size_t dlen)
{
	uint32_t total = (uint32_t)(12 + blen + dlen + pcapng_pad4(dlen));

	if (fwrite(&type, 4, 1, f) != 1 || fwrite(&total, 4, 1, f) != 1 ||
	    (blen && fwrite(body, blen, 1, f) != 1) || (dlen && fwrite(data, dlen, 1, f) != 1) ||
	    fwrite(pcapng_pad, pcapng_pad4(dlen), 1, f) != (pcapng_pad4(dlen) ? 1u : 0u) ||
	    fwrite(&total, 4, 1, f) != 1)
		return EIO;
	return 0;
}

static char *pcapng_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*lenp = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, (size_t)n, 1, f) == 1)
			*lenp = (size_t)n;
		else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int pcapng_write_with_secrets(const char *pcap_path, const char *keylog_path,
			      const char *out_path)
{
	char errbuf[PCAP_ERRBUF_SIZE], tmp[1024];
	struct pcap_pkthdr *h;
	const u_char *pkt;
	pcap_t *pc;
	FILE *f = NULL;
	char *keys = NULL;
	size_t klen = 0;
	int err = 0, rc;

	pc = pcap_open_offline_with_tstamp_precision(pcap_path, PCAP_TSTAMP_PRECISION_MICRO,
						     errbuf);
	if (!pc) {
		log_error("%s: %s", pcap_path, errbuf);
		return ENOENT;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
	f = fopen(tmp, "wb");
	if (!f) {
		err = errno;
		log_error("%s: %s", tmp, strerror(err));
		goto out;
	}
	{
		/* byte-order magic, version 1.0, section length unknown (-1) */
		struct {
			uint32_t magic;
			uint16_t major, minor;
			int64_t section_len;
		} shb = { PCAPNG_MAGIC, 1, 0, -1 };
		struct {
			uint16_t linktype, reserved;
			uint32_t snaplen;
		} idb = { (uint16_t)pcap_datalink(pc), 0, (uint32_t)pcap_snapshot(pc) };

		err = pcapng_block(f, PCAPNG_SHB, &shb, sizeof(shb), NULL, 0);
		err = err ? err : pcapng_block(f, PCAPNG_IDB, &idb, sizeof(idb), NULL, 0);
	}
	keys = keylog_path ? pcapng_slurp(keylog_path, &klen) : NULL;
	if (!err && keys && klen) {
		uint32_t dsb[2] = { PCAPNG_TLS_KEYLOG, (uint32_t)klen };

		err = pcapng_block(f, PCAPNG_DSB, dsb, sizeof(dsb), keys, klen);
	}
	while (!err && (rc = pcap_next_ex(pc, &h, &pkt)) == 1) {
		uint64_t us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		uint32_t epb[5] = { 0, (uint32_t)(us >> 32), (uint32_t)us, h->caplen, h->len };

		err = pcapng_block(f, PCAPNG_EPB, epb, sizeof(epb), pkt, h->caplen);
	}
	if (!err && fclose(f) != 0)
		err = errno;
	f = NULL;
	if (!err && rename(tmp, out_path) != 0)
		err = errno;
	if (err)
		log_error("writing %s: %s", out_path, strerror(err));
out:
	if (f)
		fclose(f);
	if (err)
		remove(tmp);
	free(keys);
	pcap_close(pc);
	return err;
}
