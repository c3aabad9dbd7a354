/* pcapdsb: the TLS key log lines a pcapng file carries in Decryption Secrets Blocks
 * (draft-ietf-opsawg-pcapng 4.7), which libpcap skips. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

#define PCAPDSB_SHB 0x0a0d0d0au
#define PCAPDSB_DSB 0x0000000au
#define PCAPDSB_TLS_KEYLOG 0x544c534bu   /* "TLSK" */
#define PCAPDSB_MAX_BLOCK (64u << 20)

static uint32_t pcapdsb_u32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Walks the blocks of every section; a block that does not fit ends the walk quietly (libpcap
 * reports the damage when it reads the packets). */
int pcapdsb_load(struct capdec *c, const char *path)
{
	uint8_t hdr[12], *body = NULL;
	bool swap = false;
	FILE *fp;
	int err = 0;

	fp = fopen(path, "rb");
	if (!fp)
		return 0;
	while (fread(hdr, 1, 8, fp) == 8) {
		uint32_t type, len;

		memcpy(&type, hdr, 4);
		if (type == PCAPDSB_SHB) {
			uint32_t magic;

			if (fread(hdr + 8, 1, 4, fp) != 4)
				break;
			memcpy(&magic, hdr + 8, 4);
			if (magic == 0x1a2b3c4du)
				swap = false;
			else if (magic == 0x4d3c2b1au)
				swap = true;
			else
				break;
			len = pcapdsb_u32(hdr + 4, swap);
			if (len < 12 || len > PCAPDSB_MAX_BLOCK || fseek(fp, (long)len - 12, SEEK_CUR))
				break;
			continue;
		}
		type = pcapdsb_u32(hdr, swap);
		len = pcapdsb_u32(hdr + 4, swap);
		if (len < 12 || len % 4 || len > PCAPDSB_MAX_BLOCK)
			break;
		if (type != PCAPDSB_DSB) {
			if (fseek(fp, (long)len - 8, SEEK_CUR))
				break;
			continue;
		}
		body = realloc(body, len - 8);
		if (!body) {
			err = ENOMEM;
			break;
		}
		if (fread(body, 1, len - 8, fp) != len - 8)
			break;
		if (len >= 20 && pcapdsb_u32(body, swap) == PCAPDSB_TLS_KEYLOG) {
			uint32_t slen = pcapdsb_u32(body + 4, swap);
			size_t added = 0;

			if (slen > len - 20)
				break;
			err = tlskeys_add_text(&c->keys, (const char *)body + 8, slen, &added);
			if (err)
				break;
			c->dsb_keys += added;
		}
	}
	free(body);
	fclose(fp);
	if (c->dsb_keys)
		log_debug("%s: %zu TLS connections' secrets from its DSB", path, c->dsb_keys);
	return err;
}
