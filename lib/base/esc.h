/* esc: making untrusted bytes safe to print: in a log line, in a SIP quoted-string, in an
 * echoed header value. */
#ifndef PIC_ESC_H
#define PIC_ESC_H

#include <stdbool.h>
#include <stddef.h>

/* Printable ASCII (0x20..0x7e). */
static inline bool esc_is_print(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Log text: every byte outside printable ASCII becomes "\xNN" and a backslash "\\", so a log
 * line can carry no terminal escape, backspace, NUL or raw 8-bit byte from a peer, and what was
 * escaped stays recognisable. Reads at most n bytes of in (stops at NUL when n is (size_t)-1);
 * writes a NUL-terminated result of at most size bytes (truncated, never mid-escape). Returns
 * the length written. */
size_t esc_log(char *out, size_t size, const char *in, size_t n);

/* RFC 3261 25.1 quoted-string text (qdtext) for a Warning, Reason or other echo of ours:
 * printable ASCII only, with '"' written as '\'' and '\\' and every other byte as "%NN" (no
 * quoted-pair, no 8-bit byte, no control). NUL-terminated, at most size bytes. Returns the
 * length written. */
size_t esc_qtext(char *out, size_t size, const char *in);

/* One byte of a header value echoed in a response of ours (Via, From, To, Call-ID, CSeq
 * copied from a malformed request): CR/LF (folding) become a space, every other byte outside
 * printable ASCII and HT becomes '?', so our answer is well-formed whatever the request held
 * (a UTF-8 display name loses its letters; the tags, branch and CSeq that match it do not). */
static inline char esc_hdr_byte(unsigned char c)
{
	if (c == '\r' || c == '\n')
		return ' ';
	if (c != '\t' && !esc_is_print(c))
		return '?';
	return (char)c;
}

#endif
