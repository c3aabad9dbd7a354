/* pcapng: rewrites a lab capture as pcapng with the TLS key log embedded (Decryption Secrets
 * Block), so Wireshark and tshark open it already decrypted. */
#ifndef PIC_PCAPNG_H
#define PIC_PCAPNG_H

/* Reads pcap_path (any format libpcap reads) and keylog_path (NSS key log; may be missing or
 * empty: then no DSB), writes out_path atomically. Returns 0 or an errno (logged). */
int pcapng_write_with_secrets(const char *pcap_path, const char *keylog_path,
			      const char *out_path);

#endif
