/* anon: `piclab anonymize` — a capture's SIP with keyed, consistent pseudonyms, written as
 * cleartext TCP in a pcapng that can be committed and still replays. */
#ifndef PIC_ANON_H
#define PIC_ANON_H

/* `piclab anonymize ...` argument parsing and run; argv[0] is "anonymize". The exit code. */
int anon_cmd(int argc, char **argv);

#endif
