/* tlsrec: the TLS record layer of a captured stream (RFC 8446 5, RFC 5246 6.2) and the few
 * handshake messages the decoder needs: hellos, Finished, KeyUpdate. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "decode_int.h"

#define LOG_MODULE "capdec"

enum {
	TLSREC_CCS = 20,
	TLSREC_ALERT = 21,
	TLSREC_HANDSHAKE = 22,
	TLSREC_APPDATA = 23,
};

enum {
	TLSREC_HS_CLIENT_HELLO = 1,
	TLSREC_HS_SERVER_HELLO = 2,
	TLSREC_HS_FINISHED = 20,
	TLSREC_HS_KEY_UPDATE = 24,
};

/* RFC 8446 5.1: 2^14 plaintext plus at most 256 bytes of expansion; RFC 5246 allows 2048. */
#define TLSREC_MAX_LEN (16384 + 2048)
#define TLSREC_MAX_HS (1u << 20)

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t tlsrec_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
	0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
	0xc8, 0xa8, 0x33, 0x9c,
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool tlsrec_looks_tls(const uint8_t *p, size_t len)
{
	return len >= 3 && p[0] == TLSREC_HANDSHAKE && p[1] == 3 && p[2] >= 1 && p[2] <= 3;
}

static void tlsrec_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void tlsrec_kill(struct cd_flow *f)
{
	f->dir[0].epoch = CD_EPOCH_DEAD;
	f->dir[1].epoch = CD_EPOCH_DEAD;
}

/* Some key logs hold only the traffic secrets: the encrypted handshake cannot be read, so
 * each record is tried with the traffic keys and skipped until one opens (the first
 * application record, RFC 8446 5.2: its sequence number is 0 under these keys). */
static void tlsrec_arm_trial(struct cd_flow *f, const struct tlskeys_entry *e)
{
	if (tlsdec_tls13_install(&f->dir[0], f->suite, e->cts0.v, e->cts0.len) ||
	    tlsdec_tls13_install(&f->dir[1], f->suite, e->sts0.v, e->sts0.len)) {
		capdec_flow_error(f, "cannot derive TLS 1.3 traffic keys");
		tlsrec_kill(f);
		return;
	}
	f->dir[0].epoch = f->dir[1].epoch = CD_EPOCH_TRIAL;
	f->keys_found = true;
}

/* Both hellos are known: look the connection up in the key log and arm the ciphers. */
static void tlsrec_arm(struct capdec *c, struct cd_flow *f)
{
	const struct tlskeys_entry *e = NULL;
	int version = f->pub.tls_version;
	char crhex[65];

	if (!tlsdec_suite_known(f->suite, version)) {
		capdec_flow_error(f, "cipher suite 0x%04x not supported", f->suite);
		tlsrec_kill(f);
		return;
	}
	if (c->keys && f->have_cr)
		e = tlskeys_find(c->keys, f->client_random);
	tlsrec_hex(f->client_random, 32, crhex);
	if (version == 0x0304) {
		/* a handshake cut short (a refused certificate) has handshake secrets only: what it
		 * sent under them still opens; traffic secrets are needed once data follows */
		if (!e || ((!e->cts0.len || !e->sts0.len) && (!e->chts.len || !e->shts.len))) {
			capdec_flow_error(f, "no key for client_random %s", crhex);
			tlsrec_kill(f);
			return;
		}
		if (!e->chts.len || !e->shts.len) {
			tlsrec_arm_trial(f, e);
			return;
		}
		if (tlsdec_tls13_install(&f->dir[0], f->suite, e->chts.v, e->chts.len) ||
		    tlsdec_tls13_install(&f->dir[1], f->suite, e->shts.v, e->shts.len)) {
			capdec_flow_error(f, "cannot derive TLS 1.3 handshake keys");
			tlsrec_kill(f);
			return;
		}
		f->dir[0].epoch = f->dir[1].epoch = CD_EPOCH_HANDSHAKE;
		f->keys_found = true;
		return;
	}
	if (!e || !e->master.len || !f->have_sr) {
		capdec_flow_error(f, "no key for client_random %s", crhex);
		tlsrec_kill(f);
		return;
	}
	if (tlsdec_tls12_install(f, e->master.v, e->master.len)) {
		capdec_flow_error(f, "cannot derive the TLS 1.2 key block");
		tlsrec_kill(f);
		return;
	}
	f->keys_found = true;
}

static void tlsrec_client_hello(struct cd_flow *f, const uint8_t *p, size_t n)
{
	if (n < 34 || f->have_cr)
		return;
	memcpy(f->client_random, p + 2, 32);
	f->have_cr = true;
}

/* RFC 8446 4.1.3 and 4.2.1: the chosen version is in supported_versions when it is 1.3. */
static void tlsrec_server_hello(struct capdec *c, struct cd_flow *f, const uint8_t *p,
				size_t n)
{
	size_t off, end;
	int version;

	if (n < 38 || f->pub.tls_version)
		return;
	if (!memcmp(p + 2, tlsrec_hrr_random, 32))
		return;                 /* the real ServerHello follows the second ClientHello */
	version = rd16(p);
	memcpy(f->server_random, p + 2, 32);
	f->have_sr = true;
	off = 35 + p[34];
	if (off + 3 > n)
		return;
	f->suite = rd16(p + off);
	off += 3;
	if (off + 2 <= n) {
		end = off + 2 + rd16(p + off);
		off += 2;
		if (end > n)
			end = n;
		while (off + 4 <= end) {
			uint16_t type = rd16(p + off), len = rd16(p + off + 2);

			if (off + 4 + len > end)
				break;
			if (type == 43 && len == 2)
				version = rd16(p + off + 4);
			off += 4 + len;
		}
	}
	f->pub.tls_version = version;
	if (version != 0x0303 && version != 0x0304) {
		capdec_flow_error(f, "TLS version 0x%04x not supported", version);
		tlsrec_kill(f);
		return;
	}
	tlsrec_arm(c, f);
}

/* RFC 8446 4.4.4 / 4.6.3: keys change after Finished and after KeyUpdate. */
static void tlsrec_key_change(struct capdec *c, struct cd_flow *f, struct cd_dir *d, int type)
{
	const struct tlskeys_entry *e;
	const struct tlskeys_secret *s;

	if (f->pub.tls_version != 0x0304)
		return;
	if (type == TLSREC_HS_FINISHED && d->epoch == CD_EPOCH_HANDSHAKE) {
		e = tlskeys_find(c->keys, f->client_random);
		s = d->idx ? &e->sts0 : &e->cts0;
		if (!s->len) {
			/* its records from here on cannot open: open_failed if any come */
			capdec_flow_error(f, "no %s traffic secret for client_random",
					  d->idx ? "server" : "client");
			d->epoch = CD_EPOCH_DEAD;
			return;
		}
		if (tlsdec_tls13_install(d, f->suite, s->v, s->len)) {
			capdec_flow_error(f, "cannot derive TLS 1.3 traffic keys");
			d->epoch = CD_EPOCH_DEAD;
			return;
		}
		d->epoch = CD_EPOCH_APP;
	} else if (type == TLSREC_HS_KEY_UPDATE && d->epoch == CD_EPOCH_APP) {
		if (tlsdec_tls13_keyupdate(d, f->suite)) {
			capdec_flow_error(f, "cannot derive keys after KeyUpdate");
			d->epoch = CD_EPOCH_DEAD;
		}
	}
}

/* Handshake messages may span records (RFC 8446 5.1): collect, then act per message. */
static void tlsrec_handshake(struct capdec *c, struct cd_flow *f, struct cd_dir *d,
			     const uint8_t *p, size_t n)
{
	size_t off = 0;
	const uint8_t *m;

	if (d->hs.len + n > TLSREC_MAX_HS || dbuf_append(&d->hs, p, n)) {
		capdec_flow_error(f, "handshake message too large");
		d->hs.len = 0;
		return;
	}
	while (d->hs.len - off >= 4) {
		size_t len;

		m = d->hs.p + off;
		len = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
		if (d->hs.len - off < 4 + len)
			break;
		switch (m[0]) {
		case TLSREC_HS_CLIENT_HELLO:
			if (d->idx == 0)
				tlsrec_client_hello(f, m + 4, len);
			break;
		case TLSREC_HS_SERVER_HELLO:
			if (d->idx == 1)
				tlsrec_server_hello(c, f, m + 4, len);
			break;
		case TLSREC_HS_FINISHED:
		case TLSREC_HS_KEY_UPDATE:
			tlsrec_key_change(c, f, d, m[0]);
			break;
		default:
			break;
		}
		off += 4 + len;
	}
	if (off == d->hs.len) {
		d->hs.len = 0;
	} else if (off) {
		memmove(d->hs.p, d->hs.p + off, d->hs.len - off);
		d->hs.len -= off;
	}
}

/* Decrypts one protected record straight into the application stream buffer. */
static void tlsrec_protected(struct capdec *c, struct cd_flow *f, struct cd_dir *d,
			     const uint8_t *h, size_t len)
{
	int version = f->pub.tls_version;
	size_t outlen;
	uint8_t type;

	f->pub.protected_seen = true;
	if (d->epoch == CD_EPOCH_DEAD || d->epoch == CD_EPOCH_CLEAR) {
		if (f->keys_found && h[0] == TLSREC_APPDATA)
			f->open_failed = true;
		return;
	}
	if (dbuf_reserve(&d->app, len ? len : 1)) { /* an empty record still needs d->app.p */
		capdec_flow_error(f, "out of memory");
		d->epoch = CD_EPOCH_DEAD;
		return;
	}
	if (tlsdec_open(d, version, h, h + 5, len, d->app.p + d->app.len, &outlen, &type)) {
		if (d->epoch == CD_EPOCH_TRIAL)
			return;         /* a handshake record under keys we do not have */
		capdec_flow_error(f, "%s record %llu does not open (%s keys)",
				  d->idx ? "server" : "client", (unsigned long long)d->seq,
				  d->epoch == CD_EPOCH_HANDSHAKE ? "handshake" : "traffic");
		f->open_failed = true;
		d->epoch = CD_EPOCH_DEAD;
		return;
	}
	if (d->epoch == CD_EPOCH_TRIAL)
		d->epoch = CD_EPOCH_APP;
	if (type == TLSREC_APPDATA)
		d->app.len += outlen;
	else if (type == TLSREC_HANDSHAKE)
		tlsrec_handshake(c, f, d, d->app.p + d->app.len, outlen);
}

/* Whether a record of this type is protected under the direction's current state; -1 when
 * that cannot be known yet (TLS 1.3 data before the ServerHello was seen). */
static int tlsrec_is_protected(const struct cd_flow *f, const struct cd_dir *d, uint8_t type)
{
	if (f->pub.tls_version == 0x0304)
		return type == TLSREC_APPDATA;
	if (f->pub.tls_version == 0x0303)
		return d->epoch != CD_EPOCH_CLEAR ? type != TLSREC_CCS : type == TLSREC_APPDATA;
	return type == TLSREC_APPDATA ? -1 : 0;
}

static void tlsrec_ccs(struct cd_flow *f, struct cd_dir *d)
{
	/* RFC 5246 7.1: the sender's records are protected from the next one on. TLS 1.3 sends
	 * it only for middlebox compatibility (RFC 8446 D.4). */
	if (f->pub.tls_version != 0x0303 || d->epoch != CD_EPOCH_CLEAR)
		return;
	d->seq = 0;
	d->epoch = d->cctx ? CD_EPOCH_APP : CD_EPOCH_DEAD;
}

int tlsrec_process(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts)
{
	int err = 0, prot;

	while (d->raw.len - d->raw_off >= 5) {
		const uint8_t *h = d->raw.p + d->raw_off;
		size_t len = rd16(h + 3);

		if (h[0] < TLSREC_CCS || h[0] > 24 || h[1] != 3 || len > TLSREC_MAX_LEN) {
			capdec_flow_error(f, "%s stream: not a TLS record at offset %zu",
					  d->idx ? "server" : "client", d->raw_off);
			d->stopped = true;
			break;
		}
		if (d->raw.len - d->raw_off < 5 + len)
			break;
		prot = tlsrec_is_protected(f, d, h[0]);
		if (prot < 0)
			break;
		if (prot)
			tlsrec_protected(c, f, d, h, len);
		else if (h[0] == TLSREC_HANDSHAKE)
			tlsrec_handshake(c, f, d, h + 5, len);
		else if (h[0] == TLSREC_CCS)
			tlsrec_ccs(f, d);
		d->raw_off += 5 + len;
	}
	/* Nothing points into the ciphertext: drop what was consumed. */
	if (d->raw_off == d->raw.len) {
		d->raw.len = d->raw_off = 0;
	} else if (d->raw_off >= (1u << 16)) {
		memmove(d->raw.p, d->raw.p + d->raw_off, d->raw.len - d->raw_off);
		d->raw.len -= d->raw_off;
		d->raw_off = 0;
	}
	if (d->app.len > d->scan_off && !d->not_sip)
		err = sipscan_run(c, f, d, ts, &d->app);
	/* The ServerHello may have unblocked client records that came earlier. */
	if (!err && d->idx == 1 && f->pub.tls_version && !f->dir[0].stopped &&
	    f->dir[0].raw.len - f->dir[0].raw_off >= 5)
		err = tlsrec_process(c, f, &f->dir[0], ts);
	return err;
}
