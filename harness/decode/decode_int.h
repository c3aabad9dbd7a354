/* decode_int: internals shared by the capture decoder's files (flows, streams, TLS state). */
#ifndef PIC_DECODE_INT_H
#define PIC_DECODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "capdec.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

/* A growing byte buffer; messages keep offsets into it until the capture is done. */
struct dbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

int dbuf_reserve(struct dbuf *b, size_t more);
int dbuf_append(struct dbuf *b, const void *data, size_t n);
void dbuf_reset(struct dbuf *b);

/* One TCP segment as pcapread hands it to tcpflow. */
struct cd_pkt {
	double ts;
	struct sockaddr_storage src;
	struct sockaddr_storage dst;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *payload;
	size_t len;
};

#define CD_TH_FIN 0x01
#define CD_TH_SYN 0x02
#define CD_TH_RST 0x04
#define CD_TH_ACK 0x10

/* A segment that arrived ahead of the next expected sequence number. */
struct cd_seg {
	struct cd_seg *next;
	uint32_t seq;
	size_t len;
	uint8_t data[];
};

enum cd_epoch {
	CD_EPOCH_CLEAR = 0,     /* records are plaintext */
	CD_EPOCH_HANDSHAKE,     /* TLS 1.3 handshake traffic keys */
	CD_EPOCH_APP,           /* application traffic keys (or TLS 1.2 after CCS) */
	CD_EPOCH_TRIAL,         /* TLS 1.3, only traffic secrets logged: skip what fails */
	CD_EPOCH_DEAD,          /* no keys or a record failed: skip records */
};

/* One direction of a TCP connection. */
struct cd_dir {
	int idx;                        /* 0 client->server, 1 server->client */
	struct sockaddr_storage src;
	struct sockaddr_storage dst;
	bool have_next;
	bool fin;
	bool stopped;                   /* a hole or a parse error: stop decoding this side */
	uint32_t next;                  /* next expected sequence number */
	struct cd_seg *ooo;             /* sorted by seq */
	size_t ooo_bytes;
	struct dbuf raw;                /* reassembled stream */
	size_t raw_off;                 /* consumed by the TLS record layer */
	struct dbuf app;                /* decrypted application data */
	size_t scan_off;                /* SIP scanner position (in raw or app) */
	bool not_sip;
	/* TLS */
	struct dbuf hs;                 /* handshake messages being reassembled */
	enum cd_epoch epoch;
	bool encrypted;                 /* TLS 1.2: ChangeCipherSpec seen */
	uint64_t seq;                   /* record sequence number under the current keys */
	EVP_CIPHER_CTX *cctx;
	uint8_t iv[12];
	uint8_t secret[64];             /* TLS 1.3: current traffic secret (for KeyUpdate) */
	size_t secret_len;
};

enum cd_kind {
	CD_KIND_UNKNOWN = 0,
	CD_KIND_CLEAR,
	CD_KIND_TLS,
};

struct cd_flow {
	struct capdec_flow pub;
	struct cd_flow *hnext;
	struct cd_dir dir[2];
	enum cd_kind kind;
	bool syn_seen;
	uint32_t client_isn;
	/* TLS handshake facts */
	bool have_cr;
	bool have_sr;
	uint8_t client_random[32];
	uint8_t server_random[32];
	uint16_t suite;
	bool keys_found;
	bool open_failed;
	char errbuf[160];
};

struct tlskeys;

struct capdec {
	struct tlskeys *keys;
	struct cd_flow **flows;
	size_t nflows;
	size_t capflows;
	struct cd_flow **htab;
	size_t hsize;
	struct cd_msg *msgs;
	size_t nmsgs;
	size_t capmsgs;
	unsigned long frame;    /* frames read so far: the one being decoded */
};

struct cd_msg {
	struct capdec_sip pub;
	const struct dbuf *buf;
	size_t off;
};

/* capdec.c */
int capdec_msg_add(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts,
		   const struct dbuf *buf, size_t off, size_t len);
void capdec_flow_error(struct cd_flow *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pcapread.c */
int pcapread_run(struct capdec *c, const char *path);

/* tcpflow.c */
int tcpflow_segment(struct capdec *c, const struct cd_pkt *pkt);
void tcpflow_finish(struct capdec *c);
void tcpflow_free(struct cd_flow *f);

/* tlsrec.c */
bool tlsrec_looks_tls(const uint8_t *p, size_t len);
int tlsrec_process(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts);

/* tlskeys.c */
struct tlskeys_secret {
	uint8_t v[64];
	size_t len;
};

struct tlskeys_entry {
	struct tlskeys_entry *next;
	uint8_t client_random[32];
	struct tlskeys_secret master;   /* CLIENT_RANDOM (TLS 1.2) */
	struct tlskeys_secret chts;
	struct tlskeys_secret shts;
	struct tlskeys_secret cts0;
	struct tlskeys_secret sts0;
};

int tlskeys_load(struct tlskeys **kp, const char *path);
const struct tlskeys_entry *tlskeys_find(const struct tlskeys *k, const uint8_t cr[32]);

/* tlsdec.c */
bool tlsdec_suite_known(uint16_t suite, int version);
int tlsdec_tls13_install(struct cd_dir *d, uint16_t suite, const uint8_t *secret, size_t len);
int tlsdec_tls13_keyupdate(struct cd_dir *d, uint16_t suite);
int tlsdec_tls12_install(struct cd_flow *f, const uint8_t *master, size_t len);
/* Opens one protected record (hdr: its 5-byte header) into out (room for len bytes); sets
 * *outlen and, for TLS 1.3, *type to the inner content type. */
int tlsdec_open(struct cd_dir *d, int version, const uint8_t *hdr, const uint8_t *body,
		size_t len, uint8_t *out, size_t *outlen, uint8_t *type);
void tlsdec_clear(struct cd_dir *d);

/* sipscan.c */
int sipscan_run(struct capdec *c, struct cd_flow *f, struct cd_dir *d, double ts,
		const struct dbuf *buf);

#endif
