/* capdec: capture decoding — pcap/pcapng read, TCP reassembly, TLS record decryption from an NSS
 * key log, and SIP message extraction, per TCP connection. */
#ifndef PIC_CAPDEC_H
#define PIC_CAPDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

struct capdec;

/* One SIP message found in the capture. */
struct capdec_sip {
	double ts;                      /* capture time of the segment that completed it */
	unsigned long frame;            /* 1-based number of that segment's frame in the file */
	struct sockaddr_storage src;    /* sender ip:port */
	struct sockaddr_storage dst;
	bool tls;                       /* carried inside TLS records (decrypted) */
	unsigned flow;                  /* connection number, in order of first packet */
	const char *data;               /* the whole message (start line to end of body) */
	size_t len;
};

/* What was seen on one TCP connection. */
struct capdec_flow {
	unsigned id;
	struct sockaddr_storage client;  /* side that sent the SYN (or the first packet) */
	struct sockaddr_storage server;
	bool tls;                        /* looks like TLS (record header seen) */
	int tls_version;                 /* 0x0303 or 0x0304 once known, else 0 */
	bool decrypted;                  /* secrets found and every application record opened */
	bool protected_seen;             /* protected (encrypted) records crossed: what they carry
	                                    can be judged only if decrypted */
	unsigned cleartext_sip;          /* SIP messages seen outside TLS */
	unsigned sip_msgs;               /* SIP messages in total (cleartext + decrypted) */
	const char *error;               /* first decoding problem ("no key for client_random ..."),
	                                    or NULL */
};

/* Reads a whole capture (pcap or pcapng, Ethernet/loopback/raw/Linux SLL link types) and, if
 * keylog_path is not NULL, decrypts TLS 1.2 (AES-GCM, ChaCha20-Poly1305) and TLS 1.3 flows with
 * the NSS key log lines in it. EINVAL/ENOENT if a file cannot be read (message logged). */
int capdec_open(struct capdec **cp, const char *pcap_path, const char *keylog_path);

size_t capdec_sip_count(const struct capdec *c);
const struct capdec_sip *capdec_sip_at(const struct capdec *c, size_t i);
size_t capdec_flow_count(const struct capdec *c);
const struct capdec_flow *capdec_flow_at(const struct capdec *c, size_t i);
/* One line per flow (endpoints, TLS version, decrypted, message counts, first error). */
void capdec_debug(const struct capdec *c, FILE *f);

#endif
