/* esc: escaping text into HTML and JSON for the provisioning site's pages. */
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "esc.h"

#define LOG_MODULE "prov-esc"

void esc_html(struct evbuffer *b, const char *s)
{
	const char *run;

	if (!s)
		return;
	for (run = s; *s; s++) {
		const char *ent;

		switch (*s) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default: continue;
		}
		evbuffer_add(b, run, (size_t)(s - run));
		evbuffer_add(b, ent, strlen(ent));
		run = s + 1;
	}
	evbuffer_add(b, run, (size_t)(s - run));
}

void esc_json(struct evbuffer *b, const char *s)
{
	const char *run;

	if (!s) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		evbuffer_add(b, run, (size_t)(s - run));
		switch (c) {
		case '"': evbuffer_add(b, "\\\"", 2); break;
		case '\\': evbuffer_add(b, "\\\\", 2); break;
		case '\n': evbuffer_add(b, "\\n", 2); break;
		case '\r': evbuffer_add(b, "\\r", 2); break;
		case '\t': evbuffer_add(b, "\\t", 2); break;
		default: evbuffer_add_printf(b, "\\u%04x", c); break;
		}
		run = s + 1;
	}
	evbuffer_add(b, run, (size_t)(s - run));
	evbuffer_add(b, "\"", 1);
}

char *esc_take(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = mem_zalloc(n + 1, NULL);

	if (!s) {
		log_warn("out of memory copying %zu bytes", n);
		return NULL;
	}
	evbuffer_copyout(b, s, n);
	return s;
}
