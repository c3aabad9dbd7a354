/* lua_provhttp: raw HTTPS requests from Lua to the lab's provisioning site — a real client
 * (libevent evhttp over an OpenSSL bufferevent) checking the site's certificate and name. */
#define LOG_MODULE "luaprov"

#include <arpa/inet.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/log.h"
#include "base/mem.h"
#include "../fakes/provisioning/site.h"
#include "lab.h"
#include "lua_prov.h"
#include "scen.h"

#define PROV_SITE_NAME "provisioning.test"

/* --- raw HTTPS, as a browser on the enterprise's network would speak it --- */

struct hreq {
	struct scen_waiter *w;
	struct evhttp_connection *conn;
	struct event *done_ev;  /* wakes the scenario outside libevent's HTTP callbacks */
	int status;
	char reason[128], location[512], ctype[128], error[256];
	char *body;
	size_t body_len;
	bool done;
};

static void hreq_destroy(void *data)
{
	struct hreq *h = data;

	if (h->done_ev)
		event_free(h->done_ev);
	if (h->conn)
		evhttp_connection_free(h->conn);
	free(h->body);
}

static void hreq_wake(evutil_socket_t fd, short what, void *arg)
{
	struct hreq *h = arg;
	lua_State *co = scen_waiter_thread(h->w);

	if (!co)
		return;
	if (!h->status) {
		lua_pushnil(co);
		lua_pushstring(co, h->error[0] ? h->error : "no response");
		scen_wake(h->w, 2);
		return;
	}
	lua_createtable(co, 0, 5);
	lua_pushinteger(co, h->status);
	lua_setfield(co, -2, "status");
	lua_pushstring(co, h->reason);
	lua_setfield(co, -2, "reason");
	lua_pushlstring(co, h->body ? h->body : "", h->body_len);
	lua_setfield(co, -2, "body");
	if (h->location[0]) {
		lua_pushstring(co, h->location);
		lua_setfield(co, -2, "location");
	}
	lua_pushstring(co, h->ctype);
	lua_setfield(co, -2, "content_type");
	lua_pushnil(co);
	scen_wake(h->w, 2);  /* frees h: nothing after this */
}

static void hreq_done(struct evhttp_request *req, void *arg)
{
	struct hreq *h = arg;
	struct evkeyvalq *hd;
	struct evbuffer *in;
	const char *v;

	if (h->done)
		return;
	h->done = true;
	if (req && evhttp_request_get_response_code(req)) {
		h->status = evhttp_request_get_response_code(req);
		snprintf(h->reason, sizeof(h->reason), "%s",
			 evhttp_request_get_response_code_line(req) ?
			 evhttp_request_get_response_code_line(req) : "");
		hd = evhttp_request_get_input_headers(req);
		v = evhttp_find_header(hd, "Location");
		snprintf(h->location, sizeof(h->location), "%s", v ? v : "");
		v = evhttp_find_header(hd, "Content-Type");
		snprintf(h->ctype, sizeof(h->ctype), "%s", v ? v : "");
		in = evhttp_request_get_input_buffer(req);
		h->body_len = evbuffer_get_length(in);
		h->body = malloc(h->body_len + 1);
		if (h->body) {
			evbuffer_copyout(in, h->body, h->body_len);
			h->body[h->body_len] = '\0';
		} else {
			h->body_len = 0;
		}
	} else {
		unsigned long e = ERR_get_error();

		snprintf(h->error, sizeof(h->error), "HTTPS request failed%s%s",
			 e ? ": " : "", e ? ERR_reason_error_string(e) : "");
	}
	event_active(h->done_ev, EV_TIMEOUT, 0);
}

static int hreq_k(lua_State *L, int status, lua_KContext ctx)
{
	if (scen_waiter_timed_out(L)) {
		lua_pushnil(L);
		lua_pushstring(L, "timed out");
		return 2;
	}
	return 2; /* response, nil | nil, why */
}

/* The lab decrypts every TLS connection it takes part in: its HTTPS client logs its keys too. */
static void prov_keylog(const SSL *ssl, const char *line)
{
	const char *path = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	FILE *f = path ? fopen(path, "a") : NULL;

	if (!f)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

static SSL_CTX *prov_ssl(lua_State *L, struct lprov *p)
{
	char root[700];

	if (p->ssl)
		return p->ssl;
	p->ssl = SSL_CTX_new(TLS_client_method());
	if (!p->ssl)
		luaL_error(L, "cannot make an HTTPS client context");
	lab_site_ca(scen_lab(p->s), root, sizeof(root));
	if (SSL_CTX_load_verify_locations(p->ssl, root, NULL) != 1) {
		SSL_CTX_free(p->ssl);
		p->ssl = NULL;
		luaL_error(L, "cannot load the lab's public root %s", root);
	}
	SSL_CTX_set_verify(p->ssl, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_app_data(p->ssl, (void *)lab_keylog_path(scen_lab(p->s)));
	SSL_CTX_set_keylog_callback(p->ssl, prov_keylog);
	return p->ssl;
}

/* Sends one request to provisioning.test over a fresh HTTPS connection from the enterprise's
 * address, and yields until its response (or a failure, or the timeout). */
static int http_send(lua_State *L, enum evhttp_cmd_type cmd, const char *path, const char *body)
{
	struct lprov *p = lua_prov_check(L, 1);
	struct lab *lab = scen_lab(p->s);
	const struct sockaddr_in *sin;
	struct evkeyvalq *out;
	struct bufferevent *bev;
	struct evhttp_request *req;
	char ip[64];
	struct hreq *h;
	SSL *ssl;

	sin = (const struct sockaddr_in *)site_listen_addr(lua_prov_site(L, p));
	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	ssl = SSL_new(prov_ssl(L, p));
	if (!ssl)
		return luaL_error(L, "cannot make an SSL object");
	/* RFC 6066 3: the name we ask for; and the certificate must carry it (RFC 6125) */
	SSL_set_tlsext_host_name(ssl, PROV_SITE_NAME);
	SSL_set1_host(ssl, PROV_SITE_NAME);
	h = mem_zalloc(sizeof(*h), hreq_destroy);
	if (!h) {
		SSL_free(ssl);
		return luaL_error(L, "out of memory");
	}
	bev = bufferevent_openssl_socket_new(scen_base(p->s), -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!bev) {
		SSL_free(ssl);
		mem_deref(h);
		return luaL_error(L, "cannot make a TLS stream");
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	h->conn = evhttp_connection_base_bufferevent_new(scen_base(p->s), NULL, bev, ip,
							 ntohs(sin->sin_port));
	h->done_ev = event_new(scen_base(p->s), -1, 0, hreq_wake, h);
	req = h->conn && h->done_ev ? evhttp_request_new(hreq_done, h) : NULL;
	if (!req) {
		if (!h->conn)
			bufferevent_free(bev);
		mem_deref(h);
		return luaL_error(L, "cannot make an HTTP request");
	}
	evhttp_connection_set_local_address(h->conn, lab_host_ip(lab, LAB_POOL));
	evhttp_connection_set_timeout(h->conn, 10);
	out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Host", PROV_SITE_NAME);
	evhttp_add_header(out, "Connection", "close");
	if (body) {
		evhttp_add_header(out, "Content-Type", "application/x-www-form-urlencoded");
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	}
	if (evhttp_make_request(h->conn, req, cmd, path) != 0) {
		mem_deref(h);
		return luaL_error(L, "cannot send the HTTP request");
	}
	h->w = scen_wait_begin(L, "an HTTPS response", 10);
	scen_waiter_set_data(h->w, h);
	return scen_yield(L, h->w, hreq_k);
}

/* prov:http_get("/") -> { status, reason, body, location, content_type } | nil, error */
static int prov_l_http_get(lua_State *L)
{
	const char *path = luaL_checkstring(L, 2);

	luaL_argcheck(L, path[0] == '/', 2, "a path starting with /");
	lua_settop(L, 2);
	return http_send(L, EVHTTP_REQ_GET, path, NULL);
}

/* prov:http_post("/submit", { field = value } or "a=b&c=d") -> as http_get */
static int prov_l_http_post(lua_State *L)
{
	const char *path = luaL_checkstring(L, 2);

	luaL_argcheck(L, path[0] == '/', 2, "a path starting with /");
	if (lua_istable(L, 3))
		lua_prov_form_push(L, 3);
	else
		luaL_checkstring(L, 3);
	return http_send(L, EVHTTP_REQ_POST, path, lua_tostring(L, -1));
}

void lua_provhttp_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "http_get", prov_l_http_get },
		{ "http_post", prov_l_http_post },
		{ NULL, NULL },
	};

	lua_class_extend(L, MT_PROV, methods);
}
