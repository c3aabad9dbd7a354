/* fuzz_capdec: the capture decoder (harness/decode: pcap and pcapng readers, TCP reassembly,
 * TLS records and their decryption, SIP splitting) on a hostile capture file. An input that
 * starts with "#keylog\n" carries an NSS key log up to "\n#capture\n", then the capture. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "../harness/decode/capdec.h"
#include "fuzzfile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_capdec_null;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(getenv("FUZZ_DEBUG") ? LOGL_DEBUG : LOGL_NONE);
	fuzz_capdec_null = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kl[] = "#keylog\n", cap[] = "\n#capture\n";
	const uint8_t *pcap = data, *sep;
	size_t plen = size, i;
	char keys[256] = "";
	const char *path;
	struct capdec *c = NULL;

	if (size >= sizeof(kl) - 1 && !memcmp(data, kl, sizeof(kl) - 1)) {
		sep = memmem(data, size, cap, sizeof(cap) - 1);
		if (!sep)
			return 0;
		/* the separator may share its first newline with "#keylog\n": an empty key log */
		path = fuzzfile_write("keys.log", data + sizeof(kl) - 1,
				      sep >= data + sizeof(kl) - 1 ?
				      (size_t)(sep - data) - (sizeof(kl) - 1) : 0, 0);
		if (!path)
			return 0;
		snprintf(keys, sizeof(keys), "%s", path);
		pcap = sep + sizeof(cap) - 1;
		plen = size - (size_t)(pcap - data);
	}
	path = fuzzfile_write("capture", pcap, plen, 0);
	if (!path || capdec_open(&c, path, keys[0] ? keys : NULL))
		return 0;
	/* every message found must lie within what was captured and be SIP-framed */
	for (i = 0; i < capdec_sip_count(c); i++) {
		const struct capdec_sip *m = capdec_sip_at(c, i);

		if (!m || !m->data || !m->len)
			abort();
		if (getenv("FUZZ_DEBUG"))
			fprintf(stderr, "sip %zu: %.*s\n", i, (int)(m->len < 40 ? m->len : 40),
				m->data);
	}
	for (i = 0; i < capdec_flow_count(c); i++)
		(void)capdec_flow_at(c, i);
	capdec_debug(c, fuzz_capdec_null);
	mem_deref(c);
	return 0;
}
