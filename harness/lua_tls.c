/* lua_tls: the lab's TLS knobs for scenarios — the SUT's config check, bad certificates on
 * demand for a site or a config variant, and the lab options that give the SUT other TLS. */
#define LOG_MODULE "luatls"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/log.h"
#include "../fakes/ca/labca.h"
#include "lab.h"
#include "proc.h"
#include "scen.h"
#include "sutkind.h"

#define TLS_CHECK_OUT_MAX 65536

static struct lab *tls_lab(lua_State *L)
{
	luaL_checkudata(L, 1, "piclab.Lab");
	return scen_lab(scen_of(L));
}

/* lab:sut_check([config_text]) -> exit code, output
 * Runs the SUT's configuration check (`accessproxy -t -c FILE`) on this lab's generated config,
 * or on the given text written to <lab.dir>/check-N.conf (CONF-006, TLS-004, TLS-006). */
static int tls_l_sut_check(lua_State *L)
{
	static unsigned seq;
	struct lab *lab = tls_lab(L);
	char path[700];
	const char *conf = lab_sut_conf(lab);
	int rc = 0, err;

	if (!(lab_sut_kind(lab)->caps & SUTK_CONTROL))
		return scen_not_applicable(L, "lab:sut_check runs accessproxy -t, which a SUT of "
					   "kind %s does not have", lab_sut_kind(lab)->name);
	if (!lua_isnoneornil(L, 2)) {
		size_t len;
		const char *text = luaL_checklstring(L, 2, &len);
		FILE *f;

		snprintf(path, sizeof(path), "%s/check-%u.conf", lab_dir(lab), ++seq);
		f = fopen(path, "w");
		if (!f || fwrite(text, 1, len, f) != len) {
			err = errno;
			if (f)
				fclose(f);
			return luaL_error(L, "sut_check: cannot write %s: %s", path, strerror(err));
		}
		if (fclose(f) != 0)
			return luaL_error(L, "sut_check: cannot write %s: %s", path, strerror(errno));
		conf = path;
	}
	{
		const char *argv[] = { lab_sut_binary(lab), "-t", "-c", conf, NULL };
		static char out[TLS_CHECK_OUT_MAX];

		err = proc_run(argv, 10, out, sizeof(out), &rc);
		if (err)
			return luaL_error(L, "sut_check: cannot run %s: %s", lab_sut_binary(lab),
					  strerror(err));
		lua_pushinteger(L, rc);
		lua_pushstring(L, out);
	}
	log_info("%s -t -c %s: exit %d", lab_sut_binary(lab), conf, rc);
	return 2;
}

static enum labca_bad tls_kind_check(lua_State *L, int idx)
{
	const char *name = luaL_checkstring(L, idx);
	enum labca_bad kind;

	if (labca_bad_parse(name, &kind))
		luaL_error(L, "'%s' is not a bad certificate kind (no-client-auth, "
			   "cn-wrong-san-right, expired, not-yet-valid, enterprise-signed, "
			   "public-signed, self-signed, wrong-key-usage)", name);
	return kind;
}

/* lab:bad_cert(kind, fqdn) -> cert path, key path
 * The labca bad leaf of that kind for that name, made on first use (for config variants). */
static int tls_l_bad_cert(lua_State *L)
{
	struct lab *lab = tls_lab(L);
	enum labca_bad kind = tls_kind_check(L, 2);
	const char *cn = luaL_checkstring(L, 3);
	char cert[700], key[700];
	int err = labca_make_bad(lab_pki_dir(lab), kind, cn);

	if (err)
		return luaL_error(L, "bad_cert: %s for %s: %s", labca_bad_name(kind), cn,
				  strerror(err));
	lua_pushstring(L, labca_bad_cert_path(lab_pki_dir(lab), kind, cn, cert, sizeof(cert)));
	lua_pushstring(L, labca_bad_key_path(lab_pki_dir(lab), kind, cn, key, sizeof(key)));
	return 2;
}

/* site:present_cert(kind | nil)
 * The site shows the bad leaf of that kind for its own FQDN on every new connection it makes
 * or accepts (nil: its good leaf again); connections already up keep theirs. */
static int tls_l_present_cert(lua_State *L)
{
	struct imsrv *srv = lua_site_srv(L, 1);
	const char *kind = NULL;
	int err;

	if (!lua_isnoneornil(L, 2)) {
		tls_kind_check(L, 2);
		kind = lua_tostring(L, 2);
	}
	err = lab_site_cert(scen_lab(scen_of(L)), srv, kind);
	if (err)
		return luaL_error(L, "present_cert: %s", strerror(err));
	return 0;
}

void lua_tls_push_cert(lua_State *L, const void *xv)
{
	X509 *x = (X509 *)xv;
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL, name[512], when[64] = "";
	BIO *b = BIO_new(BIO_s_mem());

	lua_createtable(L, 0, 4);
	lua_pushstring(L, hex ? hex : "");
	lua_setfield(L, -2, "serial");
	X509_NAME_oneline(X509_get_subject_name(x), name, sizeof(name));
	lua_pushstring(L, name);
	lua_setfield(L, -2, "subject");
	X509_NAME_oneline(X509_get_issuer_name(x), name, sizeof(name));
	lua_pushstring(L, name);
	lua_setfield(L, -2, "issuer");
	if (b && ASN1_TIME_print(b, X509_get0_notAfter(x)))
		BIO_read(b, when, (int)sizeof(when) - 1);
	lua_pushstring(L, when);
	lua_setfield(L, -2, "not_after");
	BIO_free(b);
	OPENSSL_free(hex);
	BN_free(bn);
}

/* lab:cert_info(path) -> { serial, subject, issuer, not_after }
 * The first certificate of a PEM file (a config's cert, a bad_cert path): serial as upper-case
 * hex, names in OpenSSL's one-line form. An error if the file is missing or holds none. */
static int tls_l_cert_info(lua_State *L)
{
	const char *path = luaL_checkstring(L, 2);
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return luaL_error(L, "cert_info: cannot open %s: %s", path, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return luaL_error(L, "cert_info: no PEM certificate in %s", path);
	lua_tls_push_cert(L, x);
	X509_free(x);
	return 1;
}

static void tls_opt_str(lua_State *L, int t, const char *key, char *buf, size_t size)
{
	if (lua_getfield(L, t, key) == LUA_TSTRING)
		snprintf(buf, size, "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
}

void lua_tls_lab_opts(lua_State *L, int t, struct lab_opts *lo)
{
	if (lua_getfield(L, t, "lab") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	tls_opt_str(L, -1, "sut_cert", lo->sut_cert, sizeof(lo->sut_cert));
	if (lua_getfield(L, -1, "sut_tls") == LUA_TTABLE) {
		tls_opt_str(L, -1, "min_version", lo->sut_tls_min, sizeof(lo->sut_tls_min));
		tls_opt_str(L, -1, "ciphers", lo->sut_ciphers, sizeof(lo->sut_ciphers));
		tls_opt_str(L, -1, "ciphersuites", lo->sut_ciphersuites,
			    sizeof(lo->sut_ciphersuites));
	}
	lua_pop(L, 2);
}

void lua_tls_open(lua_State *L)
{
	static const luaL_Reg lab_methods[] = {
		{ "sut_check", tls_l_sut_check },
		{ "bad_cert", tls_l_bad_cert },
		{ "cert_info", tls_l_cert_info },
		{ NULL, NULL },
	};
	static const luaL_Reg site_methods[] = {
		{ "present_cert", tls_l_present_cert },
		{ NULL, NULL },
	};

	lua_class_extend(L, "piclab.Lab", lab_methods);
	lua_class_extend(L, "piclab.Site", site_methods);
}
