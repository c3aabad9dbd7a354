/* decode_cmd: the `piclab decode` command. */
#ifndef PIC_DECODE_CMD_H
#define PIC_DECODE_CMD_H

/* Prints the SIP messages of pcap (decrypted with keylog, may be NULL); with bench > 0 decodes
 * it bench times and prints the rate. Returns the exit code. */
int decode_cmd(const char *pcap, const char *keylog, int bench);

#endif
