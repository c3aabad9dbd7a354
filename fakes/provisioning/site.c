/* site: the provisioning web site over HTTPS (libevent evhttp + bufferevent_openssl). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "base/log.h"
#include "base/mem.h"
#include "net/sa.h"
#include "net/tlsctx.h"
#include "esc.h"
#include "maildir.h"
#include "provform.h"
#include "provreq.h"
#include "site.h"

#define LOG_MODULE "prov-site"
/* The form is a few kilobytes at most; anything larger is refused by evhttp with 413. */
#define BODY_MAX (64 * 1024)
#define REQ_MAX 100000

struct site {
	struct event_base *base;
	struct tlsctx *tls;
	struct evhttp *http;
	struct sockaddr_storage bound;
	struct provreq_env env;
	char *from;
	struct provreq **req;    /* req[id - 1] */
	size_t nreq, cap;
};

static const char *const prov_names[SITE_PROV_COUNT] = { "aol", "yahoo", "msn" };

const char *site_prov_name(enum site_prov p)
{
	return (unsigned)p < SITE_PROV_COUNT ? prov_names[p] : NULL;
}

void site_conf_defaults(struct site_conf *conf)
{
	if (!conf)
		return;
	memset(conf, 0, sizeof(*conf));
	conf->validate_ms = 200;
	conf->send_ms = 200;
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		conf->configure_ms[i] = 200;
}

static void site_destroy(void *data)
{
	struct site *site = data;

	/* The server goes first so no handler runs on a half-freed site. */
	if (site->http)
		evhttp_free(site->http);
	for (size_t i = 0; i < site->nreq; i++)
		mem_deref(site->req[i]);
	free(site->req);
	mem_deref(site->env.md);
	mem_deref(site->tls);
	mem_deref(site->from);
}

static struct provreq *req_find(const struct site *site, unsigned id)
{
	return site && id >= 1 && id <= site->nreq ? site->req[id - 1] : NULL;
}

/* ---- the workflow without HTTP ---- */

/* Creates the request for a checked form; its id is the next number. */
static int req_add(struct site *site, struct provform *f, unsigned *idp)
{
	struct provreq *r = NULL;
	int err;

	if (site->nreq >= REQ_MAX)
		return ENOSPC;
	if (site->nreq == site->cap) {
		size_t cap = site->cap ? site->cap * 2 : 16;
		struct provreq **n = realloc(site->req, cap * sizeof(*n));

		if (!n)
			return ENOMEM;
		site->req = n;
		site->cap = cap;
	}
	err = provreq_alloc(&r, &site->env, (unsigned)site->nreq + 1, f);
	if (err)
		return err;
	site->req[site->nreq++] = r;
	if (idp)
		*idp = provreq_id(r);
	return 0;
}

int site_submit(struct site *site, const char *form, unsigned *idp, char *problems,
		size_t size)
{
	struct provform *f = NULL;
	int err;

	if (problems && size)
		problems[0] = '\0';
	if (!site || !form)
		return EINVAL;
	err = provform_alloc(&f, form);
	if (err)
		return err;
	if (provform_check(f)) {
		provform_problems(f, problems, size);
		err = EINVAL;
	} else {
		err = req_add(site, f, idp);
	}
	mem_deref(f);
	return err;
}

int site_change(struct site *site, unsigned id, const char *form, char *problems, size_t size)
{
	struct provreq *r = req_find(site, id);
	struct provform *f = NULL;
	int err;

	if (problems && size)
		problems[0] = '\0';
	if (!r || !form)
		return r ? EINVAL : ENOENT;
	err = provform_alloc(&f, form);
	if (err)
		return err;
	if (provform_check_change(f)) {
		provform_problems(f, problems, size);
		err = EINVAL;
	} else {
		err = provreq_change(r, f);
	}
	mem_deref(f);
	return err;
}

/* ---- HTTP ---- */

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
		  struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "%d %s\n", code, reason);
	reply(req, code, reason, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void redirect(struct evhttp_request *req, unsigned id)
{
	char loc[64];

	/* RFC 9110 15.4.4: 303 makes the browser GET the status page after the POST. */
	snprintf(loc, sizeof(loc), "/request/%u", id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	reply_text(req, 303, "See Other");
}

/* The body of a POST as a NUL-terminated string (mem), or NULL. */
static char *body_take(struct evhttp_request *req)
{
	return esc_take(evhttp_request_get_input_buffer(req));
}

static void on_submit(struct site *site, struct evhttp_request *req, struct evbuffer *b)
{
	struct provform *f = NULL;
	char *body = body_take(req);
	unsigned id = 0;
	int err;

	err = body ? provform_alloc(&f, body) : ENOMEM;
	mem_deref(body);
	if (err) {
		reply_text(req, 400, "Bad Request");
		return;
	}
	/* PROV-002: every problem is named, and nothing is provisioned. */
	if (provform_check(f)) {
		log_info("submission refused: %u problem(s), first: %s", f->nprob,
			 f->prob[0].text);
		provform_page(b, f);
		reply(req, 400, "Bad Request", "text/html; charset=utf-8", b);
	} else if ((err = req_add(site, f, &id)) != 0) {
		log_warn("request not created: %s", strerror(err));
		reply_text(req, 503, "Service Unavailable");
	} else {
		redirect(req, id);
	}
	mem_deref(f);
}

static void on_change(struct provreq *r, struct evhttp_request *req, struct evbuffer *b)
{
	struct provform *f = NULL;
	char *body = body_take(req);
	int err;

	err = body ? provform_alloc(&f, body) : ENOMEM;
	mem_deref(body);
	if (err) {
		reply_text(req, 400, "Bad Request");
		return;
	}
	if (provform_check_change(f)) {
		provreq_page(r, b, f);
		reply(req, 400, "Bad Request", "text/html; charset=utf-8", b);
	} else {
		err = provreq_change(r, f);
		if (err && err != EALREADY)
			reply_text(req, 503, "Service Unavailable");
		else
			redirect(req, provreq_id(r));
	}
	mem_deref(f);
}

static void json_all(const struct site *site, struct evbuffer *b)
{
	evbuffer_add_printf(b, "[");
	for (size_t i = 0; i < site->nreq; i++) {
		if (i)
			evbuffer_add_printf(b, ",");
		provreq_json(site->req[i], b);
	}
	evbuffer_add_printf(b, "]");
}

/* "/request/<id>", "/request/<id>.json", "/request/<id>/change". */
static void on_request_path(struct site *site, struct evhttp_request *req, const char *rest,
			    bool post, struct evbuffer *b)
{
	char *end;
	unsigned long id = strtoul(rest, &end, 10);
	struct provreq *r = end != rest && id <= REQ_MAX ? req_find(site, (unsigned)id) : NULL;

	if (!r) {
		reply_text(req, 404, "Not Found");
	} else if (!post && !*end) {
		provreq_page(r, b, NULL);
		reply(req, 200, "OK", "text/html; charset=utf-8", b);
	} else if (!post && !strcmp(end, ".json")) {
		provreq_json(r, b);
		reply(req, 200, "OK", "application/json", b);
	} else if (post && !strcmp(end, "/change")) {
		on_change(r, req, b);
	} else if (!*end || !strcmp(end, ".json") || !strcmp(end, "/change")) {
		reply_text(req, 405, "Method Not Allowed");
	} else {
		reply_text(req, 404, "Not Found");
	}
}

static void on_http(struct evhttp_request *req, void *arg)
{
	struct site *site = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD, post = cmd == EVHTTP_REQ_POST;
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (!path || !*path)
		path = "/";
	log_debug("%s %s", post ? "POST" : get ? "GET" : "other", path);
	if (!strcmp(path, "/") && get) {
		provform_page(b, NULL);
		reply(req, 200, "OK", "text/html; charset=utf-8", b);
	} else if (!strcmp(path, "/submit") && post) {
		on_submit(site, req, b);
	} else if (!strcmp(path, "/requests.json") && get) {
		json_all(site, b);
		reply(req, 200, "OK", "application/json", b);
	} else if (!strncmp(path, "/request/", 9) && (get || post)) {
		on_request_path(site, req, path + 9, post, b);
	} else if (!strcmp(path, "/") || !strcmp(path, "/submit") ||
		   !strcmp(path, "/requests.json")) {
		reply_text(req, 405, "Method Not Allowed");
	} else {
		reply_text(req, 404, "Not Found");
	}
	evbuffer_free(b);
}

/* Every accepted connection gets its own SSL in server mode. */
static struct bufferevent *on_bev(struct event_base *base, void *arg)
{
	struct site *site = arg;
	SSL *ssl = tlsctx_ssl_new(site->tls);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

static int listen_start(struct site *site, const struct sockaddr_storage *ss)
{
	struct evconnlistener *l;
	socklen_t len = sizeof(site->bound);

	l = evconnlistener_new_bind(site->base, NULL, NULL,
				    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
				    -1, (const struct sockaddr *)ss,
				    (int)sa_len((const struct sockaddr *)ss));
	if (!l)
		return errno ? errno : EADDRNOTAVAIL;
	if (!evhttp_bind_listener(site->http, l)) {
		evconnlistener_free(l);
		return ENOMEM;
	}
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&site->bound, &len))
		return errno;
	return 0;
}

static int site_setup(struct site *site, const struct site_conf *conf)
{
	struct tlsctx_conf tc = { 0 };
	int err;

	tc.cert_file = conf->cert_file;
	tc.key_file = conf->key_file;
	tc.require_peer_cert = false;
	err = tlsctx_alloc(&site->tls, true, &tc);
	if (err)
		return err;
	err = maildir_alloc(&site->env.md, conf->maildir);
	if (err)
		return err;
	site->from = mem_strdup(conf->mail_from ? conf->mail_from
				: "PIC Provisioning <provisioning@provisioning.test>");
	site->http = evhttp_new(site->base);
	if (!site->from || !site->http)
		return ENOMEM;
	evhttp_set_max_body_size(site->http, BODY_MAX);
	evhttp_set_timeout(site->http, 30);
	evhttp_set_allowed_methods(site->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_POST);
	evhttp_set_bevcb(site->http, on_bev, site);
	evhttp_set_gencb(site->http, on_http, site);
	return listen_start(site, &conf->listen);
}

int site_alloc(struct site **sp, struct event_base *base, const struct site_conf *conf)
{
	struct site *site;
	char ab[64];
	int err;

	if (!sp || !base || !conf || !conf->cert_file || !conf->key_file || !conf->maildir ||
	    !conf->listen.ss_family)
		return EINVAL;
	site = mem_zalloc(sizeof(*site), site_destroy);
	if (!site)
		return ENOMEM;
	site->base = base;
	site->env.base = base;
	site->env.validate_ms = conf->validate_ms;
	site->env.send_ms = conf->send_ms;
	memcpy(site->env.configure_ms, conf->configure_ms, sizeof(conf->configure_ms));
	site->env.routeh = conf->routeh;
	site->env.arg = conf->arg;
	err = site_setup(site, conf);
	if (err) {
		log_error("provisioning site on %s: %s",
			  sa_fmt((const struct sockaddr *)&conf->listen, ab, sizeof(ab)),
			  strerror(err));
		mem_deref(site);
		return err;
	}
	site->env.from = site->from;
	log_info("provisioning site on https://%s/",
		 sa_fmt((struct sockaddr *)&site->bound, ab, sizeof(ab)));
	*sp = site;
	return 0;
}

int site_url(const struct site *site, char *buf, size_t size)
{
	char ab[64];

	if (!site || !buf || !size)
		return EINVAL;
	snprintf(buf, size, "https://%s/",
		 sa_fmt((const struct sockaddr *)&site->bound, ab, sizeof(ab)));
	return 0;
}

const struct sockaddr *site_listen_addr(const struct site *site)
{
	return site ? (const struct sockaddr *)&site->bound : NULL;
}

/* ---- inspection ---- */

size_t site_request_count(const struct site *site)
{
	return site ? site->nreq : 0;
}

const char *site_request_state(const struct site *site, unsigned id)
{
	const struct provreq *r = req_find(site, id);

	return r ? provreq_statename(provreq_state(r)) : NULL;
}

const char *site_provider_state(const struct site *site, unsigned id, const char *provider)
{
	const struct provreq *r = req_find(site, id);

	for (int i = 0; r && provider && i < SITE_PROV_COUNT; i++)
		if (!strcmp(provider, prov_names[i]))
			return provreq_pstatename(provreq_pstate(r, i));
	return NULL;
}

unsigned site_request_mails(const struct site *site, unsigned id)
{
	const struct provreq *r = req_find(site, id);

	return r ? provreq_mails(r) : 0;
}

int site_request_json(const struct site *site, unsigned id, char **jsonp)
{
	const struct provreq *r = req_find(site, id);
	struct evbuffer *b;

	if (!site || !jsonp)
		return EINVAL;
	if (id && !r)
		return ENOENT;
	b = evbuffer_new();
	if (!b)
		return ENOMEM;
	if (r)
		provreq_json(r, b);
	else
		json_all(site, b);
	*jsonp = esc_take(b);
	evbuffer_free(b);
	return *jsonp ? 0 : ENOMEM;
}

int site_debug(const struct site *site, char *buf, size_t size)
{
	size_t prov = 0;
	char ab[64];

	if (!site || !buf || !size)
		return EINVAL;
	for (size_t i = 0; i < site->nreq; i++)
		prov += provreq_state(site->req[i]) == PR_PROVISIONED;
	snprintf(buf, size, "site https://%s/ requests=%zu provisioned=%zu mails=%u",
		 sa_fmt((const struct sockaddr *)&site->bound, ab, sizeof(ab)), site->nreq, prov,
		 maildir_count(site->env.md));
	return 0;
}
