/* fuzz_provform: the provisioning site's form parser (fakes/provisioning/provform) on hostile
 * application/x-www-form-urlencoded bodies: parse, both checks, the page and the problem list
 * that echo what was sent back as HTML. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/provisioning/provform.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOGL_NONE);
	return 0;
}

/* The page and the problem lists echo every value (escaped) back. */
static void fuzz_provform_page(const struct provform *f)
{
	struct evbuffer *b = evbuffer_new();
	char text[4096];

	if (!b)
		return;
	provform_page(b, f);
	provform_problems_html(b, f);
	provform_problems(f, text, sizeof(text));
	evbuffer_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1);
	struct provform *f = NULL;

	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0'; /* evhttp hands the site a NUL-terminated body */
	if (!provform_alloc(&f, body)) {
		provform_check(f);
		fuzz_provform_page(f);
		f = mem_deref(f);
	}
	if (!provform_alloc(&f, body)) {
		provform_check_change(f);
		fuzz_provform_page(f);
		mem_deref(f);
	}
	free(body);
	return 0;
}
