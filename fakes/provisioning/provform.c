/* provform: the provisioning request form: fields, parsing, server-side checks, the page. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/log.h"
#include "base/mem.h"
#include "esc.h"
#include "provform.h"

#define LOG_MODULE "prov-form"
/* No field of the original form needed more; longer input is refused, not truncated. */
#define VALUE_MAX 200

enum kind { K_TEXT = 0, K_CHOICE, K_DOMAIN, K_FQDN, K_EMAIL, K_PHONE };

struct field {
	const char *name, *en, *zh;
	enum kind kind;
};

static const struct field fields[PF_COUNT] = {
	[PF_LANGUAGE] = { "language", "Preferred language", "首选语言", K_CHOICE },
	[PF_ORG] = { "org_name", "Organization name", "组织名称", K_TEXT },
	[PF_MASTER] = { "master_agreement", "Master agreement number", "主商业协议编号", K_TEXT },
	[PF_ENROLL] = { "enrollment", "Enrollment number", "协议注册编号", K_TEXT },
	[PF_AGREEMENT] = { "agreement_type", "License agreement type", "许可证协议类型",
			   K_CHOICE },
	[PF_DOMAIN] = { "primary_domain", "Primary SIP domain", "主要 SIP 域名", K_DOMAIN },
	[PF_ADMIN_EMAIL] = { "admin_email", "Administrator e-mail", "管理员电子邮件地址",
			     K_EMAIL },
	[PF_FQDN] = { "ap_fqdn", "Access proxy FQDN", "访问代理的完全限定域名 (FQDN)", K_FQDN },
	[PF_LAST] = { "contact_last", "Last name", "姓氏", K_TEXT },
	[PF_FIRST] = { "contact_first", "First name", "名字", K_TEXT },
	[PF_EMAIL] = { "contact_email", "E-mail", "电子邮件地址", K_EMAIL },
	[PF_PHONE] = { "contact_phone", "Phone", "电话号码", K_PHONE },
};

struct choice {
	const char *value, *label;
};

static const struct choice languages[] = {
	{ "en", "English" }, { "zh", "中文 (简体)" }, { "de", "Deutsch" }, { "fr", "Français" },
	{ "ja", "日本語" }, { "es", "Español" }, { NULL, NULL },
};

/* The first entry is the unselected placeholder "Select one". */
static const struct choice agreements[] = {
	{ "", "Select one / 请选择" }, { "select", "Select / 选择许可证" },
	{ "enterprise", "Enterprise Agreement / 企业协议" },
	{ "open_value", "Open Value / 开放价值许可" }, { "other", "Other / 其他" },
	{ NULL, NULL },
};

static const char *const prov_label[SITE_PROV_COUNT] = { "AOL", "Yahoo!", "MSN" };

static void provform_destroy(void *data)
{
	struct provform *f = data;
	int i;

	for (i = 0; i < PF_COUNT; i++)
		mem_deref(f->val[i]);
	for (i = 0; i < PROVFORM_EXTRA; i++) {
		mem_deref(f->xdomain[i]);
		mem_deref(f->xemail[i]);
	}
}

const char *provform_name(enum provform_field fld)
{
	return (unsigned)fld < PF_COUNT ? fields[fld].name : NULL;
}

/* Trims blanks around v; an empty result is stored as NULL ("missing"). */
static int value_set(char **dst, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	*dst = mem_deref(*dst);
	*dst = mem_strndup(v, n);
	return *dst ? 0 : ENOMEM;
}

static int pair_take(struct provform *f, const char *k, const char *v)
{
	unsigned i;
	int pos = -1;

	for (i = 0; i < PF_COUNT; i++)
		if (!strcmp(k, fields[i].name))
			return value_set(&f->val[i], v);
	for (i = 0; i < SITE_PROV_COUNT; i++) {
		if (!strncmp(k, "provider_", 9) && !strcmp(k + 9, site_prov_name(i))) {
			/* A browser sends a checked box only: presence is the choice. */
			f->prov[i] = true;
			f->prov_given = true;
			return 0;
		}
	}
	if (!strcmp(k, "ack_vl"))
		f->ack_vl = true;
	else if (!strcmp(k, "ack_pic"))
		f->ack_pic = true;
	else if (sscanf(k, "extra_domain_%d", &pos) == 1 && pos >= 1 && pos <= PROVFORM_EXTRA)
		return value_set(&f->xdomain[pos - 1], v);
	else if (sscanf(k, "extra_email_%d", &pos) == 1 && pos >= 1 && pos <= PROVFORM_EXTRA)
		return value_set(&f->xemail[pos - 1], v);
	else
		log_debug("ignoring form field %s", k);
	return 0;
}

int provform_alloc(struct provform **fp, const char *urlencoded)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	struct provform *f;
	int err = 0;

	if (!fp || !urlencoded)
		return EINVAL;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(urlencoded, &q))
		return EBADMSG;
	f = mem_zalloc(sizeof(*f), provform_destroy);
	if (!f) {
		err = ENOMEM;
		goto out;
	}
	TAILQ_FOREACH(kv, &q, next) {
		err = pair_take(f, kv->key, kv->value);
		if (err)
			break;
	}
out:
	evhttp_clear_headers(&q);
	if (err)
		mem_deref(f);
	else
		*fp = f;
	return err;
}

/* ---- checks ---- */

/* RFC 1035 2.3.1 host names (letters, digits, inner hyphens; labels of 1..63, 253 in all),
 * at least two labels and a top-level label that is not all digits (so no IP literals). */
static bool domain_ok(const char *s)
{
	size_t len = strlen(s), lab = 0, labels = 1;
	bool digits = true;

	if (!len || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (!lab || s[i - 1] == '-')
				return false;
			if (c == '.') {
				labels++;
				lab = 0;
				digits = true;
			}
			continue;
		}
		if (!isalnum((unsigned char)c) && !(c == '-' && lab))
			return false;
		if (++lab > 63)
			return false;
		digits &= isdigit((unsigned char)c) != 0;
	}
	return labels >= 2 && !digits;
}

/* RFC 5322 3.4.1 addr-spec restricted to a dot-atom local part and a host-name domain. */
static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";

	if (!at || at == s || at - s > 64 || strchr(at + 1, '@'))
		return false;
	if (s[0] == '.' || at[-1] == '.')
		return false;
	for (const char *p = s; p < at; p++) {
		if (*p == '.' && p[1] == '.')
			return false;
		if (!isalnum((unsigned char)*p) && !strchr(atext, *p))
			return false;
	}
	return domain_ok(at + 1);
}

static bool phone_ok(const char *s)
{
	unsigned digits = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (!strchr(" +-().", *s))
			return false;
	}
	return digits >= 5 && digits <= 20;
}

static bool choice_ok(const struct choice *c, const char *v)
{
	for (; c->value; c++)
		if (c->value[0] && !strcmp(c->value, v))
			return true;
	return false;
}

static void problem(struct provform *f, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct provform *f, const char *field, const char *fmt, ...)
{
	struct provform_problem *p;
	va_list ap;

	if (f->nprob == PROVFORM_PROB_MAX)
		return;
	p = &f->prob[f->nprob++];
	snprintf(p->field, sizeof(p->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

static void text_check(struct provform *f, const char *name, const char *label, enum kind kind,
		       const char *v)
{
	static const char *const what[] = {
		[K_DOMAIN] = "not a valid domain name", [K_FQDN] = "not a valid FQDN",
		[K_EMAIL] = "not a valid e-mail address", [K_PHONE] = "not a valid phone number",
		[K_CHOICE] = "not one of the offered choices",
	};
	bool ok = true;

	if (strlen(v) > VALUE_MAX) {
		problem(f, name, "%s: longer than %d characters", label, VALUE_MAX);
		return;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20)
			ok = false;
	if (ok) {
		switch (kind) {
		case K_DOMAIN: ok = domain_ok(v); break;
		case K_FQDN: ok = domain_ok(v); break;
		case K_EMAIL: ok = email_ok(v); break;
		case K_PHONE: ok = phone_ok(v); break;
		case K_CHOICE: ok = choice_ok(!strcmp(name, "language") ? languages : agreements, v);
			break;
		case K_TEXT: break;
		}
	}
	if (!ok)
		problem(f, name, "%s: %s", label, kind == K_TEXT ? "contains control characters"
			: what[kind]);
}

static void extras_check(struct provform *f)
{
	char name[24], label[96];
	int i, j;

	for (i = 0; i < PROVFORM_EXTRA; i++) {
		const char *d = f->xdomain[i], *m = f->xemail[i];

		snprintf(label, sizeof(label), "Additional SIP domain %d / 其他 SIP 域名 %d", i + 1,
			 i + 1);
		snprintf(name, sizeof(name), "extra_domain_%d", i + 1);
		if (d) {
			text_check(f, name, label, K_DOMAIN, d);
			if (f->val[PF_DOMAIN] && !strcasecmp(d, f->val[PF_DOMAIN]))
				problem(f, name, "%s: same as the primary SIP domain", label);
			for (j = 0; j < i; j++)
				if (f->xdomain[j] && !strcasecmp(d, f->xdomain[j]))
					problem(f, name, "%s: listed twice", label);
		}
		snprintf(name, sizeof(name), "extra_email_%d", i + 1);
		snprintf(label, sizeof(label), "Administrator e-mail for additional domain %d / "
			 "其他 SIP 域名 %d 的管理员电子邮件地址", i + 1, i + 1);
		if (d && !m)
			problem(f, name, "%s: required when the domain is given", label);
		else if (m)
			text_check(f, name, label, K_EMAIL, m);
		if (m && !d)
			problem(f, name, "%s: given without a domain", label);
	}
}

static void providers_check(struct provform *f)
{
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		if (f->prov[i])
			return;
	problem(f, "providers", "Public IM service providers / 公共即时通讯服务提供商: "
		"choose at least one");
}

unsigned provform_check(struct provform *f)
{
	char label[128];
	int i;

	f->nprob = 0;
	if (!f->ack_vl)
		problem(f, "ack_vl", "Volume licensing agreement / 批量许可协议: not acknowledged");
	if (!f->ack_pic)
		problem(f, "ack_pic", "PIC service licenses / PIC 服务许可证: not acknowledged");
	for (i = 0; i < PF_COUNT; i++) {
		snprintf(label, sizeof(label), "%s / %s", fields[i].en, fields[i].zh);
		if (!f->val[i])
			problem(f, fields[i].name, "%s: required", label);
		else
			text_check(f, fields[i].name, label, fields[i].kind, f->val[i]);
	}
	extras_check(f);
	providers_check(f);
	return f->nprob;
}

unsigned provform_check_change(struct provform *f)
{
	f->nprob = 0;
	if (!f->val[PF_FQDN] && !f->prov_given)
		problem(f, "ap_fqdn", "Change / 变更: give a new access proxy FQDN or providers");
	if (f->val[PF_FQDN])
		text_check(f, "ap_fqdn", "Access proxy FQDN / 访问代理的完全限定域名 (FQDN)", K_FQDN,
			   f->val[PF_FQDN]);
	if (f->prov_given)
		providers_check(f);
	return f->nprob;
}

void provform_problems(const struct provform *f, char *buf, size_t size)
{
	size_t off = 0;

	if (!buf || !size)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < f->nprob && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? "\n" : "", f->prob[i].text);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void provform_problems_html(struct evbuffer *b, const struct provform *f)
{
	if (!f || !f->nprob)
		return;
	evbuffer_add_printf(b, "<div class=\"error\"><p>The request was not accepted; please "
			    "correct %u problem(s) / 请求未被接受，请更正以下问题:</p>\n"
			    "<ul id=\"problems\">\n", f->nprob);
	for (unsigned i = 0; i < f->nprob; i++) {
		evbuffer_add_printf(b, "<li data-field=\"%s\">", f->prob[i].field);
		esc_html(b, f->prob[i].text);
		evbuffer_add_printf(b, "</li>\n");
	}
	evbuffer_add_printf(b, "</ul></div>\n");
}

/* ---- the page ---- */

static void label_html(struct evbuffer *b, const char *id, const char *en, const char *zh)
{
	evbuffer_add_printf(b, "<label for=\"%s\">%s / %s</label> ", id, en, zh);
}

static void input_html(struct evbuffer *b, const char *name, const char *type, const char *v)
{
	evbuffer_add_printf(b, "<input type=\"%s\" id=\"%s\" name=\"%s\" value=\"", type, name,
			    name);
	esc_html(b, v);
	evbuffer_add_printf(b, "\">");
}

static void field_html(struct evbuffer *b, const struct provform *f, enum provform_field i)
{
	static const char *const type[] = {
		[K_TEXT] = "text", [K_DOMAIN] = "text", [K_FQDN] = "text", [K_EMAIL] = "email",
		[K_PHONE] = "tel", [K_CHOICE] = "text",
	};

	evbuffer_add_printf(b, "<p>");
	label_html(b, fields[i].name, fields[i].en, fields[i].zh);
	input_html(b, fields[i].name, type[fields[i].kind], f ? f->val[i] : NULL);
	evbuffer_add_printf(b, "</p>\n");
}

static void select_html(struct evbuffer *b, const struct provform *f, enum provform_field i,
			const struct choice *c)
{
	const char *cur = f ? f->val[i] : NULL;

	evbuffer_add_printf(b, "<p>");
	label_html(b, fields[i].name, fields[i].en, fields[i].zh);
	evbuffer_add_printf(b, "<select id=\"%s\" name=\"%s\">", fields[i].name, fields[i].name);
	for (; c->value; c++)
		evbuffer_add_printf(b, "<option value=\"%s\"%s>%s</option>", c->value,
				    cur && !strcmp(cur, c->value) ? " selected" : "", c->label);
	evbuffer_add_printf(b, "</select></p>\n");
}

static void check_html(struct evbuffer *b, const char *name, bool on, const char *text)
{
	evbuffer_add_printf(b, "<p><input type=\"checkbox\" id=\"%s\" name=\"%s\" value=\"on\"%s>"
			    " <label for=\"%s\">%s</label></p>\n", name, name,
			    on ? " checked" : "", name, text);
}

static void extras_html(struct evbuffer *b, const struct provform *f)
{
	char d[24], m[24];

	evbuffer_add_printf(b, "<fieldset><legend>Additional SIP domains for your organization / "
			    "组织的其他 SIP 域名</legend>\n<table>\n<tr><th>SIP domain / SIP 域名"
			    "</th><th>Administrator e-mail / 管理员电子邮件地址</th></tr>\n");
	for (int i = 0; i < PROVFORM_EXTRA; i++) {
		snprintf(d, sizeof(d), "extra_domain_%d", i + 1);
		snprintf(m, sizeof(m), "extra_email_%d", i + 1);
		evbuffer_add_printf(b, "<tr><td>");
		input_html(b, d, "text", f ? f->xdomain[i] : NULL);
		evbuffer_add_printf(b, "</td><td>");
		input_html(b, m, "email", f ? f->xemail[i] : NULL);
		evbuffer_add_printf(b, "</td></tr>\n");
	}
	evbuffer_add_printf(b, "</table>\n<p class=\"note\">Optional. Up to %d domains here; "
			    "add more later with a change request. / 可选。此处最多 %d 个域名，"
			    "其余可稍后通过变更请求添加。</p>\n</fieldset>\n", PROVFORM_EXTRA,
			    PROVFORM_EXTRA);
}

static void providers_html(struct evbuffer *b, const struct provform *f)
{
	char name[32];

	evbuffer_add_printf(b, "<fieldset id=\"providers\"><legend>Public IM service providers "
			    "to provision / 要预配的公共即时通讯服务提供商</legend>\n");
	for (int i = 0; i < SITE_PROV_COUNT; i++) {
		snprintf(name, sizeof(name), "provider_%s", site_prov_name(i));
		check_html(b, name, f && f->prov[i], prov_label[i]);
	}
	evbuffer_add_printf(b, "</fieldset>\n");
}

void provform_page(struct evbuffer *b, const struct provform *f)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<title>Public IM Connectivity Provisioning Request / 公共即时通讯连接"
			    "预配请求</title></head>\n<body>\n<h1>Live Communications Server Public"
			    " IM Connectivity Provisioning Request<br>Live Communications Server "
			    "公共即时通讯连接预配请求</h1>\n");
	provform_problems_html(b, f);
	evbuffer_add_printf(b, "<form id=\"provform\" method=\"post\" action=\"/submit\" "
			    "accept-charset=\"utf-8\">\n<fieldset><legend>Language / 语言"
			    "</legend>\n");
	select_html(b, f, PF_LANGUAGE, languages);
	evbuffer_add_printf(b, "</fieldset>\n<fieldset><legend>Agreements / 协议</legend>\n");
	check_html(b, "ack_vl", f && f->ack_vl, "My company is a Microsoft Volume Licensing "
		   "customer with a current agreement, has licensed Live Communications Server "
		   "2005, and has read and accepts the Product Use Rights. / 本公司是具有当前协议"
		   "的 Microsoft 批量许可客户，拥有许可的 Live Communications Server 2005，且已"
		   "阅读并接受产品使用权利。");
	check_html(b, "ack_pic", f && f->ack_pic, "My company has purchased Live Communications "
		   "Server 2005 Public IM Connectivity service licenses and has read and accepts "
		   "the Product Use Rights. / 本公司已购买 Live Communications Server 2005 PIC "
		   "服务许可证，并已阅读并接受产品使用权利。");
	evbuffer_add_printf(b, "</fieldset>\n<fieldset><legend>Profile and product information / "
			    "配置文件和产品信息</legend>\n");
	field_html(b, f, PF_ORG);
	field_html(b, f, PF_MASTER);
	field_html(b, f, PF_ENROLL);
	select_html(b, f, PF_AGREEMENT, agreements);
	evbuffer_add_printf(b, "</fieldset>\n<fieldset><legend>Connectivity information for your "
			    "organization / 组织的连接信息</legend>\n");
	field_html(b, f, PF_DOMAIN);
	field_html(b, f, PF_ADMIN_EMAIL);
	field_html(b, f, PF_FQDN);
	evbuffer_add_printf(b, "</fieldset>\n");
	extras_html(b, f);
	evbuffer_add_printf(b, "<fieldset><legend>Administrator contact information / "
			    "管理员联系信息</legend>\n");
	field_html(b, f, PF_LAST);
	field_html(b, f, PF_FIRST);
	field_html(b, f, PF_EMAIL);
	field_html(b, f, PF_PHONE);
	evbuffer_add_printf(b, "</fieldset>\n");
	providers_html(b, f);
	evbuffer_add_printf(b, "<p>Review all the information, then submit. / 请检查输入的所有"
			    "信息，然后提交。</p>\n<p><button type=\"submit\" id=\"submit\">"
			    "Submit / 提交</button></p>\n</form>\n</body></html>\n");
}
