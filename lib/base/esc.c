/* esc: untrusted bytes made printable for logs and SIP quoted-strings. */
#include <stdio.h>
#include <string.h>

#include "base/esc.h"

static const char esc_hex[] = "0123456789abcdef";

size_t esc_log(char *out, size_t size, const char *in, size_t n)
{
	size_t o = 0, i;

	if (!out || !size)
		return 0;
	for (i = 0; in && i < n && (n != (size_t)-1 || in[i]); i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\\' || !esc_is_print(c)) {
			if (o + 4 >= size)
				break;
			out[o++] = '\\';
			if (c == '\\') {
				out[o++] = '\\';
				continue;
			}
			out[o++] = 'x';
			out[o++] = esc_hex[c >> 4];
			out[o++] = esc_hex[c & 15];
		} else {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

size_t esc_qtext(char *out, size_t size, const char *in)
{
	size_t o = 0, i;

	if (!out || !size)
		return 0;
	for (i = 0; in && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '"') {
			c = '\'';
		} else if (c == '\\' || c == '%' || !esc_is_print(c)) {
			if (o + 3 >= size)
				break;
			out[o++] = '%';
			out[o++] = "0123456789ABCDEF"[c >> 4];
			out[o++] = "0123456789ABCDEF"[c & 15];
			continue;
		}
		if (o + 1 >= size)
			break;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o;
}
