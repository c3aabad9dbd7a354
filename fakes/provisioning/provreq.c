/* provreq: one provisioning request, its workflow timers, its mails and its routes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/event_struct.h>

#include "base/log.h"
#include "base/mem.h"
#include "esc.h"
#include "provreq.h"

#define LOG_MODULE "prov-req"
/* Mails remembered for the views; later ones are still sent and counted. */
#define MAIL_MAX 32

struct provmail {
	char stage[16];
	char subject[128];
	char file[160];
};

struct provreq {
	const struct provreq_env *env;
	unsigned id;
	enum provreq_state state;
	bool forwarding;                      /* validated; details on their way (send_ms) */
	struct provform *form;                /* the submission: domains, contact, language */
	char *fqdn;                           /* access proxy FQDN now asked for */
	bool chosen[SITE_PROV_COUNT];
	enum provreq_pstate pstate[SITE_PROV_COUNT];
	char *routed[SITE_PROV_COUNT];        /* FQDN the provider routes to, when configured */
	bool removed[SITE_PROV_COUNT];        /* taken out by the last change (for the mails) */
	unsigned changes;
	struct event timer;                   /* the workflow */
	struct provtimer {                    /* each provider's configuration */
		struct event ev;
		struct provreq *r;
		enum site_prov p;
	} pt[SITE_PROV_COUNT];
	unsigned nmail;
	struct provmail mail[MAIL_MAX];
};

static const char *const prov_label[SITE_PROV_COUNT] = { "AOL", "Yahoo!", "MSN" };

const char *provreq_statename(enum provreq_state s)
{
	switch (s) {
	case PR_RECEIVED: return "received";
	case PR_VALIDATING: return "validating";
	case PR_SENT: return "sent";
	case PR_PROVISIONED: return "provisioned";
	}
	return "?";
}

const char *provreq_pstatename(enum provreq_pstate s)
{
	switch (s) {
	case PP_NONE: return "none";
	case PP_PENDING: return "pending";
	case PP_CONFIGURED: return "configured";
	}
	return "?";
}

static void provreq_destroy(void *data)
{
	struct provreq *r = data;

	/* The world is going away with the site: routes are not withdrawn here. */
	event_del(&r->timer);
	for (int i = 0; i < SITE_PROV_COUNT; i++) {
		event_del(&r->pt[i].ev);
		mem_deref(r->routed[i]);
	}
	mem_deref(r->form);
	mem_deref(r->fqdn);
}

static void timer_start(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* ---- mails ---- */

static void domains_text(const struct provreq *r, struct evbuffer *b)
{
	evbuffer_add_printf(b, "  %s\n", r->form->val[PF_DOMAIN]);
	for (int i = 0; i < PROVFORM_EXTRA; i++)
		if (r->form->xdomain[i])
			evbuffer_add_printf(b, "  %s\n", r->form->xdomain[i]);
}

static void providers_text(const struct provreq *r, struct evbuffer *b, enum provreq_pstate want)
{
	for (int i = 0; i < SITE_PROV_COUNT; i++) {
		if (r->chosen[i] && r->pstate[i] == want)
			evbuffer_add_printf(b, "  %s\n", prov_label[i]);
		else if (want == PP_PENDING && r->removed[i])
			evbuffer_add_printf(b, "  %s (routes removed / 删除路由)\n", prov_label[i]);
	}
}

static void mail_send(struct provreq *r, const char *stage, const char *subject,
		      struct evbuffer *body)
{
	const struct provform *f = r->form;
	char extra[512], file[160] = "", *text;
	int err;

	/* Both addresses the form named hear of the request: the contact, and the domain admin. */
	snprintf(extra, sizeof(extra), "%s%s%sX-PIC-Request: %u\r\nX-PIC-Stage: %s\r\n",
		 strcasecmp(f->val[PF_ADMIN_EMAIL], f->val[PF_EMAIL]) ? "Cc: " : "",
		 strcasecmp(f->val[PF_ADMIN_EMAIL], f->val[PF_EMAIL]) ? f->val[PF_ADMIN_EMAIL] : "",
		 strcasecmp(f->val[PF_ADMIN_EMAIL], f->val[PF_EMAIL]) ? "\r\n" : "", r->id, stage);
	evbuffer_add_printf(body, "\n-- \nPIC Provisioning (lab) / PIC 预配\n");
	text = esc_take(body);
	err = text ? maildir_deliver(r->env->md, r->env->from, f->val[PF_EMAIL], subject, extra,
				     text, file, sizeof(file)) : ENOMEM;
	mem_deref(text);
	if (err)
		log_warn("request %u: %s mail not delivered: %s", r->id, stage, strerror(err));
	else
		log_info("request %u: mail '%s'", r->id, subject);
	if (r->nmail < MAIL_MAX) {
		struct provmail *m = &r->mail[r->nmail];

		snprintf(m->stage, sizeof(m->stage), "%s", stage);
		snprintf(m->subject, sizeof(m->subject), "%s", subject);
		snprintf(m->file, sizeof(m->file), "%s", err ? "" : file);
	}
	r->nmail++;
}

/* PROV-003: received and being validated. */
static void mail_received(struct provreq *r)
{
	struct evbuffer *b = evbuffer_new();
	char subject[128];

	if (!b)
		return;
	snprintf(subject, sizeof(subject), "PIC provisioning %s %u received - being validated",
		 r->changes ? "change for request" : "request", r->id);
	evbuffer_add_printf(b, "Your Public IM Connectivity provisioning %s (number %u) for %s "
			    "was received and is being validated.\n\nSIP domains:\n",
			    r->changes ? "change" : "request", r->id, r->form->val[PF_ORG]);
	domains_text(r, b);
	evbuffer_add_printf(b, "Access proxy FQDN: %s\n", r->fqdn);
	if (!strcmp(r->form->val[PF_LANGUAGE], "zh"))
		evbuffer_add_printf(b, "\n您的 PIC 预配请求 (编号 %u) 已收到，正在验证。\n", r->id);
	mail_send(r, "received", subject, b);
	evbuffer_free(b);
}

/* PROV-004: details went to the providers; roughly how long they take. */
static void mail_sent(struct provreq *r)
{
	struct evbuffer *b = evbuffer_new();
	char subject[128];
	unsigned ms = 0;

	if (!b)
		return;
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		if (r->pstate[i] == PP_PENDING && r->env->configure_ms[i] > ms)
			ms = r->env->configure_ms[i];
	snprintf(subject, sizeof(subject), "PIC provisioning request %u sent to providers", r->id);
	evbuffer_add_printf(b, "Your request number %u was validated. Its details were sent to "
			    "these public IM service providers:\n", r->id);
	providers_text(r, b, PP_PENDING);
	evbuffer_add_printf(b, "\nApproximate processing time: %u ms (%u seconds).\n"
			    "A final mail follows when every provider is configured.\n", ms,
			    (ms + 999) / 1000);
	if (!strcmp(r->form->val[PF_LANGUAGE], "zh"))
		evbuffer_add_printf(b, "\n详细信息已传递给公共即时通讯服务提供商，大致处理时间: "
				    "%u 毫秒。\n", ms);
	mail_send(r, "sent", subject, b);
	evbuffer_free(b);
}

/* PROV-006: every chosen provider is configured. */
static void mail_provisioned(struct provreq *r)
{
	struct evbuffer *b = evbuffer_new();
	char subject[128];

	if (!b)
		return;
	snprintf(subject, sizeof(subject), "PIC provisioning request %u complete - communication "
		 "can start", r->id);
	evbuffer_add_printf(b, "Every provider of request %u is configured. Communication with "
			    "their users can start through %s.\n\nProviders:\n", r->id, r->fqdn);
	providers_text(r, b, PP_CONFIGURED);
	evbuffer_add_printf(b, "\nSIP domains:\n");
	domains_text(r, b);
	if (!strcmp(r->form->val[PF_LANGUAGE], "zh"))
		evbuffer_add_printf(b, "\n预配已完成，现在可以与这些提供商进行通信。\n");
	mail_send(r, "provisioned", subject, b);
	evbuffer_free(b);
}

/* ---- routes and the workflow ---- */

/* PROV-005: a provider routes every provisioned domain (primary and additional). */
static void routes_push(struct provreq *r, enum site_prov p, const char *fqdn, bool add)
{
	const char *name = site_prov_name(p);

	if (!r->env->routeh)
		return;
	r->env->routeh(name, r->form->val[PF_DOMAIN], fqdn, add, r->env->arg);
	for (int i = 0; i < PROVFORM_EXTRA; i++)
		if (r->form->xdomain[i])
			r->env->routeh(name, r->form->xdomain[i], fqdn, add, r->env->arg);
}

static void provisioned_check(struct provreq *r)
{
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		if (r->chosen[i] && r->pstate[i] != PP_CONFIGURED)
			return;
	r->state = PR_PROVISIONED;
	log_info("request %u: provisioned", r->id);
	mail_provisioned(r);
}

static void ptimer_h(evutil_socket_t fd, short what, void *arg)
{
	struct provtimer *pt = arg;
	struct provreq *r = pt->r;

	r->pstate[pt->p] = PP_CONFIGURED;
	r->routed[pt->p] = mem_deref(r->routed[pt->p]);
	r->routed[pt->p] = mem_strdup(r->fqdn);
	log_info("request %u: %s configured, routing to %s", r->id, site_prov_name(pt->p),
		 r->fqdn);
	routes_push(r, pt->p, r->fqdn, true);
	if (r->state == PR_SENT)
		provisioned_check(r);
}

/* received -> validating -> (validate_ms) forwarding -> (send_ms) sent -> providers. */
static void timer_h(evutil_socket_t fd, short what, void *arg)
{
	struct provreq *r = arg;

	switch (r->state) {
	case PR_RECEIVED:
		r->state = PR_VALIDATING;
		r->forwarding = false;
		timer_start(&r->timer, r->env->validate_ms);
		break;
	case PR_VALIDATING:
		if (!r->forwarding) {
			r->forwarding = true;
			timer_start(&r->timer, r->env->send_ms);
			break;
		}
		r->state = PR_SENT;
		mail_sent(r);
		for (int i = 0; i < SITE_PROV_COUNT; i++)
			if (r->pstate[i] == PP_PENDING)
				timer_start(&r->pt[i].ev, r->env->configure_ms[i]);
		memset(r->removed, 0, sizeof(r->removed));
		provisioned_check(r);
		break;
	case PR_SENT:
	case PR_PROVISIONED:
		break;
	}
	log_debug("request %u: %s%s", r->id, provreq_statename(r->state),
		  r->forwarding && r->state == PR_VALIDATING ? " (forwarding)" : "");
}

static void workflow_start(struct provreq *r)
{
	r->state = PR_RECEIVED;
	r->forwarding = false;
	event_del(&r->timer);
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		event_del(&r->pt[i].ev);
	mail_received(r);
	timer_start(&r->timer, 0);
}

int provreq_alloc(struct provreq **rp, const struct provreq_env *env, unsigned id,
		  struct provform *f)
{
	struct provreq *r;
	int i;

	if (!rp || !env || !f || !f->val[PF_FQDN] || !f->val[PF_DOMAIN])
		return EINVAL;
	r = mem_zalloc(sizeof(*r), provreq_destroy);
	if (!r)
		return ENOMEM;
	r->env = env;
	r->id = id;
	r->form = mem_ref(f);
	evtimer_assign(&r->timer, env->base, timer_h, r);
	for (i = 0; i < SITE_PROV_COUNT; i++) {
		r->pt[i].r = r;
		r->pt[i].p = i;
		evtimer_assign(&r->pt[i].ev, env->base, ptimer_h, &r->pt[i]);
		r->chosen[i] = f->prov[i];
		r->pstate[i] = f->prov[i] ? PP_PENDING : PP_NONE;
	}
	r->fqdn = mem_strdup(f->val[PF_FQDN]);
	if (!r->fqdn) {
		mem_deref(r);
		return ENOMEM;
	}
	log_info("request %u from %s: %s via %s", id, f->val[PF_ORG], f->val[PF_DOMAIN], r->fqdn);
	workflow_start(r);
	*rp = r;
	return 0;
}

/* PROV-007: a provider is affected when it is added, dropped, or kept while the FQDN moves. */
int provreq_change(struct provreq *r, const struct provform *f)
{
	const char *fqdn = f->val[PF_FQDN] ? f->val[PF_FQDN] : r->fqdn;
	bool moved = strcasecmp(fqdn, r->fqdn) != 0, any = false;
	bool want[SITE_PROV_COUNT];
	char *nf;
	int i;

	for (i = 0; i < SITE_PROV_COUNT; i++) {
		want[i] = f->prov_given ? f->prov[i] : r->chosen[i];
		any |= want[i] != r->chosen[i] || (want[i] && moved);
	}
	if (!any)
		return EALREADY;
	nf = mem_strdup(fqdn);
	if (!nf)
		return ENOMEM;
	for (i = 0; i < SITE_PROV_COUNT; i++) {
		if (want[i] == r->chosen[i] && !(want[i] && moved))
			continue;
		if (r->pstate[i] == PP_CONFIGURED) {
			log_info("request %u: %s routes to %s withdrawn", r->id, site_prov_name(i),
				 r->routed[i]);
			routes_push(r, i, r->routed[i], false);
		}
		r->routed[i] = mem_deref(r->routed[i]);
		r->removed[i] = r->chosen[i] && !want[i];
		r->chosen[i] = want[i];
		r->pstate[i] = want[i] ? PP_PENDING : PP_NONE;
	}
	mem_deref(r->fqdn);
	r->fqdn = nf;
	r->changes++;
	workflow_start(r);
	return 0;
}

unsigned provreq_id(const struct provreq *r)
{
	return r->id;
}

enum provreq_state provreq_state(const struct provreq *r)
{
	return r->state;
}

enum provreq_pstate provreq_pstate(const struct provreq *r, enum site_prov p)
{
	return (unsigned)p < SITE_PROV_COUNT ? r->pstate[p] : PP_NONE;
}

unsigned provreq_mails(const struct provreq *r)
{
	return r->nmail;
}

/* ---- views ---- */

static void json_domains(const struct provreq *r, struct evbuffer *b)
{
	evbuffer_add_printf(b, "[");
	esc_json(b, r->form->val[PF_DOMAIN]);
	for (int i = 0; i < PROVFORM_EXTRA; i++) {
		if (!r->form->xdomain[i])
			continue;
		evbuffer_add_printf(b, ",");
		esc_json(b, r->form->xdomain[i]);
	}
	evbuffer_add_printf(b, "]");
}

static void json_member(struct evbuffer *b, const char *name, const char *v, bool comma)
{
	evbuffer_add_printf(b, "%s\"%s\":", comma ? "," : "", name);
	esc_json(b, v);
}

void provreq_json(const struct provreq *r, struct evbuffer *b)
{
	const struct provform *f = r->form;
	unsigned i;

	evbuffer_add_printf(b, "{\"id\":%u", r->id);
	json_member(b, "state", provreq_statename(r->state), true);
	json_member(b, "language", f->val[PF_LANGUAGE], true);
	json_member(b, "organization", f->val[PF_ORG], true);
	json_member(b, "agreement_type", f->val[PF_AGREEMENT], true);
	json_member(b, "primary_domain", f->val[PF_DOMAIN], true);
	evbuffer_add_printf(b, ",\"domains\":");
	json_domains(r, b);
	json_member(b, "fqdn", r->fqdn, true);
	json_member(b, "admin_email", f->val[PF_ADMIN_EMAIL], true);
	evbuffer_add_printf(b, ",\"contact\":{");
	json_member(b, "last", f->val[PF_LAST], false);
	json_member(b, "first", f->val[PF_FIRST], true);
	json_member(b, "email", f->val[PF_EMAIL], true);
	json_member(b, "phone", f->val[PF_PHONE], true);
	evbuffer_add_printf(b, "},\"providers\":{");
	for (i = 0; i < SITE_PROV_COUNT; i++)
		json_member(b, site_prov_name(i), provreq_pstatename(r->pstate[i]), i > 0);
	evbuffer_add_printf(b, "},\"changes\":%u,\"mail_count\":%u,\"mails\":[", r->changes,
			    r->nmail);
	for (i = 0; i < r->nmail && i < MAIL_MAX; i++) {
		evbuffer_add_printf(b, "%s{", i ? "," : "");
		json_member(b, "stage", r->mail[i].stage, false);
		json_member(b, "subject", r->mail[i].subject, true);
		json_member(b, "file", r->mail[i].file, true);
		evbuffer_add_printf(b, "}");
	}
	evbuffer_add_printf(b, "]}");
}

static void row_html(struct evbuffer *b, const char *id, const char *label, const char *v)
{
	evbuffer_add_printf(b, "<tr><th>%s</th><td id=\"%s\">", label, id);
	esc_html(b, v);
	evbuffer_add_printf(b, "</td></tr>\n");
}

static void change_form_html(const struct provreq *r, struct evbuffer *b)
{
	evbuffer_add_printf(b, "<h2>Change / 变更</h2>\n<form id=\"changeform\" method=\"post\" "
			    "action=\"/request/%u/change\" accept-charset=\"utf-8\">\n<p>"
			    "<label for=\"ap_fqdn\">Access proxy FQDN / 访问代理的完全限定域名 "
			    "(FQDN)</label> <input type=\"text\" id=\"ap_fqdn\" name=\"ap_fqdn\" "
			    "value=\"", r->id);
	esc_html(b, r->fqdn);
	evbuffer_add_printf(b, "\"></p>\n");
	for (int i = 0; i < SITE_PROV_COUNT; i++)
		evbuffer_add_printf(b, "<p><input type=\"checkbox\" id=\"provider_%s\" "
				    "name=\"provider_%s\" value=\"on\"%s> <label for=\"provider_%s"
				    "\">%s</label></p>\n", site_prov_name(i), site_prov_name(i),
				    r->chosen[i] ? " checked" : "", site_prov_name(i),
				    prov_label[i]);
	evbuffer_add_printf(b, "<p><button type=\"submit\" id=\"submit\">Submit change / 提交"
			    "变更</button></p>\n</form>\n");
}

void provreq_page(const struct provreq *r, struct evbuffer *b, const struct provform *problems)
{
	char id[32];

	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			    "<title>Provisioning request %u / 预配请求 %u</title></head>\n<body>\n"
			    "<h1>Provisioning request %u / 预配请求 %u</h1>\n", r->id, r->id, r->id,
			    r->id);
	provform_problems_html(b, problems);
	evbuffer_add_printf(b, "<table>\n");
	row_html(b, "state", "State / 状态", provreq_statename(r->state));
	row_html(b, "org_name", "Organization name / 组织名称", r->form->val[PF_ORG]);
	row_html(b, "primary_domain", "Primary SIP domain / 主要 SIP 域名",
		 r->form->val[PF_DOMAIN]);
	for (int i = 0; i < PROVFORM_EXTRA; i++) {
		snprintf(id, sizeof(id), "extra_domain_%d", i + 1);
		if (r->form->xdomain[i])
			row_html(b, id, "Additional SIP domain / 其他 SIP 域名", r->form->xdomain[i]);
	}
	row_html(b, "fqdn", "Access proxy FQDN / 访问代理 FQDN", r->fqdn);
	for (int i = 0; i < SITE_PROV_COUNT; i++) {
		snprintf(id, sizeof(id), "state_%s", site_prov_name(i));
		row_html(b, id, prov_label[i], provreq_pstatename(r->pstate[i]));
	}
	evbuffer_add_printf(b, "</table>\n<h2>Mails / 邮件</h2>\n<ol id=\"mails\">\n");
	for (unsigned i = 0; i < r->nmail && i < MAIL_MAX; i++) {
		evbuffer_add_printf(b, "<li>");
		esc_html(b, r->mail[i].subject);
		evbuffer_add_printf(b, "</li>\n");
	}
	evbuffer_add_printf(b, "</ol>\n<p><a href=\"/request/%u.json\">JSON</a></p>\n", r->id);
	change_form_html(r, b);
	evbuffer_add_printf(b, "</body></html>\n");
}
