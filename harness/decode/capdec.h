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
	bool udp;                       /* one UDP datagram (else a TCP stream) */
	bool ws;                        /* one WebSocket message (RFC 7118) */
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
	bool udp;                        /* UDP datagrams between the two (client: first sender) */
	bool ws;                         /* SIP over WebSocket (RFC 7118) after an HTTP upgrade */
	int tls_version;                 /* 0x0303 or 0x0304 once known, else 0 */
	bool decrypted;                  /* secrets found and every application record opened */
	bool protected_seen;             /* protected (encrypted) records crossed: what they carry
	                                    can be judged only if decrypted */
	unsigned cleartext_sip;          /* SIP messages seen outside TLS */
	unsigned sip_msgs;               /* SIP messages in total (cleartext + decrypted) */
	const char *error;               /* first decoding problem ("no key for client_random ..."),
	                                    or NULL */
};

/* Reads a whole capture (pcap or pcapng; Ethernet with VLAN tags, loopback/null, raw IP, Linux
 * SLL and SLL2 link types; IPv4 and IPv6; SIP over UDP, TCP, TLS and WebSocket; GTP-U tunnels)
 * and decrypts TLS 1.2 (AES-GCM, ChaCha20-Poly1305) and TLS 1.3 flows with the NSS key log
 * lines of keylog_path (may be NULL) and of the pcapng's Decryption Secrets Blocks.
 * EINVAL/ENOENT if a file cannot be read, EPROTONOSUPPORT for an unknown link type (message
 * logged). A file cut short is decoded up to the cut: see capdec_truncated. */
int capdec_open(struct capdec **cp, const char *pcap_path, const char *keylog_path);
/* Why the file ended early ("truncated dump file ..."), or NULL when it was read to its end. */
const char *capdec_truncated(const struct capdec *c);
/* The link type number of the file (DLT_*). */
int capdec_linktype(const struct capdec *c);
/* Key log lines that came from the capture's own Decryption Secrets Blocks. */
size_t capdec_dsb_keys(const struct capdec *c);
/* Packets of an encapsulation the decoder does not open (e.g. "ESP"), counted by name; the
 * first name seen, or NULL. */
const char *capdec_unsupported(const struct capdec *c, size_t *count);

/* Streaming: h gets every SIP message as soon as it is complete (m->data is valid only during
 * the call; a non-zero return stops the decoding with that error). Bytes already cut into
 * messages are dropped and finished connections (FIN both ways, RST) are freed as the file is
 * read, so memory follows the connections open at once, not the capture's size. */
typedef int (capdec_msg_h)(const struct capdec_sip *m, void *arg);

struct capdec_stats {
	uint64_t packets;
	uint64_t msgs;
	uint64_t flows;                 /* connections and datagram flows that carried data */
	uint64_t tls_flows;
	uint64_t decrypted_flows;
	uint64_t flow_errors;           /* flows with a decoding problem */
	uint64_t flows_freed;           /* finished before the end of the file */
	uint64_t max_open_flows;
	uint64_t max_buffered;          /* most bytes one direction held after a trim */
};

int capdec_stream(const char *pcap_path, const char *keylog_path, capdec_msg_h *h, void *arg,
		  struct capdec_stats *st);
/* The same, and fh sees each flow that carried data when it ends (freed, or at the end of the
 * file): its counts, TLS facts and first error. */
typedef void (capdec_flow_h)(const struct capdec_flow *f, void *arg);
int capdec_stream_flows(const char *pcap_path, const char *keylog_path, capdec_msg_h *h,
			capdec_flow_h *fh, void *arg, struct capdec_stats *st);

size_t capdec_sip_count(const struct capdec *c);
const struct capdec_sip *capdec_sip_at(const struct capdec *c, size_t i);
size_t capdec_flow_count(const struct capdec *c);
const struct capdec_flow *capdec_flow_at(const struct capdec *c, size_t i);
/* One line per flow (endpoints, TLS version, decrypted, message counts, first error). */
void capdec_debug(const struct capdec *c, FILE *f);

#endif
