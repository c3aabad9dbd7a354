/* archive: apctl's reading of archived messages (AUD-002): a listing and one message in full,
 * so that nobody has to open the database to see what was kept. */
#define LOG_MODULE "apctl"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "../audit/audit.h"
#include "../store/store.h"
#include "aptable.h"
#include "apctl_int.h"

/* The archive's body as text: for the table, control characters and backslashes escaped
 * (\n, \r, \t, \\, \xNN) so a row stays one line; for JSON, as stored but for NUL bytes, which
 * become \x00 (JSON strings of C text cannot hold them). NULL when no body was kept. */
static char *archive_body_text(const struct audit_row *r, bool table)
{
	const unsigned char *b = r->rec.body;
	size_t n = r->body_stored, i, o = 0;
	char *s;

	if (!r->rec.body)
		return NULL;
	s = malloc(n * 4 + 1);
	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = b[i];

		if (!table && ch) {
			s[o++] = (char)ch;
		} else if (ch == '\n' || ch == '\r' || ch == '\t' || ch == '\\') {
			s[o++] = '\\';
			s[o++] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : ch == '\t' ? 't' : '\\';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)sprintf(s + o, "\\x%02x", ch);
		} else {
			s[o++] = (char)ch;
		}
	}
	s[o] = '\0';
	return s;
}

struct archive_list {
	struct aptable *t;
	bool json;
	int err;
};

static void archive_list_row(const struct audit_row *r, void *arg)
{
	struct archive_list *l = arg;
	char id[24], when[32], len[24], *body;

	snprintf(id, sizeof(id), "%" PRId64, r->id);
	snprintf(len, sizeof(len), "%zu", r->rec.body_len);
	body = archive_body_text(r, !l->json);
	if (r->rec.body && !body) {
		l->err = ENOMEM;
		return;
	}
	if (aptable_row(l->t, id, apctl_time_str(r->rec.time, when, sizeof(when)),
			audit_dir_name(r->rec.direction), r->rec.provider, r->rec.from, r->rec.to,
			r->rec.method, r->rec.call_id, r->rec.content_type, len,
			r->rec.body ? "yes" : "no", body))
		l->err = ENOMEM;
	free(body);
}

static int archive_list(struct apctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "provider", required_argument, NULL, 'p' },
		{ "user", required_argument, NULL, 'U' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = { "id:n", "time", "direction", "provider", "from", "to",
		"method", "call_id", "content_type", "length:n", "body_kept:b", "body", NULL };
	struct audit_filter f = { .direction = -1, .decision = -1, .limit = 100,
				  .archived = true };
	struct archive_list l = { .json = c->json };
	int ch, err;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		err = apctl_filter_opt(ch, optarg, &f);
		if (err > 0)
			return err;
		if (err < 0)
			return apctl_fail(APCTL_USAGE, "archive list: unknown or incomplete option %s",
					  argv[optind - 1]);
	}
	if (optind != argc)
		return apctl_fail(APCTL_USAGE, "archive list: unexpected argument '%s'",
				  argv[optind]);
	if ((err = apctl_open(c)))
		return err;
	if ((err = aptable_alloc(&l.t, cols)))
		return apctl_fail(APCTL_FAIL, "%s", strerror(err));
	err = audit_query(c->store, &f, archive_list_row, &l);
	err = err ? err : l.err;
	if (!err)
		aptable_print(l.t, stdout, c->json);
	mem_deref(l.t);
	return err ? apctl_fail(APCTL_FAIL, "archive list: %s", strerror(err)) : APCTL_OK;
}

struct archive_show {
	bool json, found;
	int err;
};

static void archive_show_row(const struct audit_row *r, void *arg)
{
	struct archive_show *sh = arg;
	char when[32];

	sh->found = true;
	apctl_time_str(r->rec.time, when, sizeof(when));
	if (sh->json) {
		char *body = archive_body_text(r, false);

		if (r->rec.body && !body) {
			sh->err = ENOMEM;
			return;
		}
		printf("{\"id\":%" PRId64 ",\"time\":\"%s\",\"direction\":\"%s\",\"provider\":", r->id,
		       when, audit_dir_name(r->rec.direction));
		aptable_json_str(stdout, r->rec.provider);
		fputs(",\"from\":", stdout);
		aptable_json_str(stdout, r->rec.from);
		fputs(",\"to\":", stdout);
		aptable_json_str(stdout, r->rec.to);
		fputs(",\"method\":", stdout);
		aptable_json_str(stdout, r->rec.method);
		fputs(",\"call_id\":", stdout);
		aptable_json_str(stdout, r->rec.call_id);
		fputs(",\"content_type\":", stdout);
		aptable_json_str(stdout, r->rec.content_type);
		printf(",\"length\":%zu,\"body_kept\":%s,\"body\":", r->rec.body_len,
		       r->rec.body ? "true" : "false");
		aptable_json_str(stdout, body);
		fputs("}\n", stdout);
		free(body);
		return;
	}
	printf("id: %" PRId64 "\ntime: %s\ndirection: %s\nprovider: %s\nfrom: %s\nto: %s\n"
	       "method: %s\ncall_id: %s\ncontent_type: %s\nlength: %zu\nbody_kept: %s\n\n",
	       r->id, when, audit_dir_name(r->rec.direction),
	       r->rec.provider ? r->rec.provider : "-", r->rec.from ? r->rec.from : "-",
	       r->rec.to ? r->rec.to : "-", r->rec.method ? r->rec.method : "-",
	       r->rec.call_id ? r->rec.call_id : "-",
	       r->rec.content_type ? r->rec.content_type : "-", r->rec.body_len,
	       r->rec.body ? "yes" : "no");
	if (r->rec.body)
		fwrite(r->rec.body, 1, r->body_stored, stdout);
}

static int archive_show(struct apctl *c, int argc, char **argv)
{
	struct audit_filter f = { .direction = -1, .decision = -1, .limit = 1, .archived = true };
	struct archive_show sh = { .json = c->json };
	char *e;
	long long id;
	int err;

	if (argc != 2)
		return apctl_fail(APCTL_USAGE, "archive show needs one ID (see apctl archive list)");
	id = strtoll(argv[1], &e, 10);
	if (*e || !*argv[1] || id <= 0)
		return apctl_fail(APCTL_USAGE, "archive show: '%s' is not a record id", argv[1]);
	f.id = id;
	if ((err = apctl_open(c)))
		return err;
	err = audit_query(c->store, &f, archive_show_row, &sh);
	err = err ? err : sh.err;
	if (err)
		return apctl_fail(APCTL_FAIL, "archive show: %s", strerror(err));
	if (!sh.found)
		return apctl_fail(APCTL_FAIL, "archive show: record %lld has no archived message",
				  id);
	return APCTL_OK;
}

int apctl_cmd_archive(struct apctl *c, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return archive_list(c, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "show"))
		return archive_show(c, argc - 1, argv + 1);
	return apctl_fail(APCTL_USAGE, "archive takes list or show, got '%s'",
			  argc >= 2 ? argv[1] : "");
}
