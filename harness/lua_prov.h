/* lua_prov: what the Provisioning class's binding files (lua_prov.c, lua_provhttp.c) share. */
#ifndef PIC_LUA_PROV_H
#define PIC_LUA_PROV_H

#include <lua.h>
#include <openssl/ssl.h>

#define MT_PROV "piclab.Provisioning"

struct scen;
struct site;

/* The userdata behind a Provisioning object. */
struct lprov {
	struct scen *s;
	SSL_CTX *ssl;      /* HTTPS client context trusting the lab's public root (lazily) */
};

/* The Provisioning argument at i (errors if not one). */
struct lprov *lua_prov_check(lua_State *L, int i);
/* The lab's site (errors if the lab has none). */
struct site *lua_prov_site(lua_State *L, struct lprov *p);
/* Pushes the form table at t as application/x-www-form-urlencoded: true -> "on", false left
 * out, providers = { "aol", ... } -> provider_aol=on; keys in sorted order. */
void lua_prov_form_push(lua_State *L, int t);
/* Adds http_get and http_post to the class. */
void lua_provhttp_open(lua_State *L);

#endif
