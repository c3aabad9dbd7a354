/* ua: a scripted lab user agent registered on an imsrv, with an inbox of received MESSAGEs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

#include "ua.h"
#include "../im/imsess.h"
#include "../im/imsrv_int.h"

#define LOG_MODULE "ua"

/* One inbox entry; the FIFO is a singly linked queue with a tail pointer. */
struct ua_entry {
	struct ua_entry *next;
	struct ua_msg msg;
};

struct ua {
	char *aor;
	struct imsrv *s;
	struct imsrv_user *reg;   /* registration; holds the server */
	struct ua_entry *head, **tailp;
	size_t count;
	ua_inbox_h *inbox_h;
	void *inbox_arg;
	ua_event_h *event_h;
	void *event_arg;
};

static void ua_destroy(void *data)
{
	struct ua *u = data;

	while (u->head) {
		struct ua_entry *e = u->head;

		u->head = e->next;
		mem_deref(e);
	}
	mem_deref(u->reg);
	mem_deref(u->aor);
	mem_deref(u->inbox_arg);
}

int ua_alloc(struct ua **up, struct imsrv *s, const char *aor)
{
	const char *at = aor ? strchr(aor, '@') : NULL;
	char user[128];
	struct ua *u;
	int err;

	if (!up || !s || !at || at == aor || !at[1] || (size_t)(at - aor) >= sizeof(user))
		return EINVAL;
	memcpy(user, aor, at - aor);
	user[at - aor] = '\0';
	u = mem_zalloc(sizeof(*u), ua_destroy);
	if (!u)
		return ENOMEM;
	u->tailp = &u->head;
	u->s = s;
	u->aor = mem_strdup(aor);
	if (!u->aor) {
		err = ENOMEM;
		goto out;
	}
	err = imsrv_user_add(&u->reg, s, user, u);
	if (err) {
		log_warn("cannot register %s: %s", aor, strerror(err));
		goto out;
	}
	*up = u;
	return 0;
out:
	mem_deref(u);
	return err;
}

const char *ua_aor(const struct ua *u)
{
	return u ? u->aor : NULL;
}

int ua_send_message(struct ua *u, const char *to_aor, const char *text, ua_resp_h *rh,
		    void *arg)
{
	if (!u || !to_aor || !text)
		return EINVAL;
	return imuac_submit(u->s, u->aor, to_aor, text, rh, arg);
}

void ua_set_inbox_handler(struct ua *u, ua_inbox_h *h, void *arg)
{
	if (!u)
		return;
	void *old = u->inbox_arg;

	u->inbox_h = h;
	u->inbox_arg = mem_ref(arg);
	mem_deref(old);
}

size_t ua_inbox_count(const struct ua *u)
{
	return u ? u->count : 0;
}

int ua_inbox_take(struct ua *u, struct ua_msg *out)
{
	struct ua_entry *e;

	if (!u || !out)
		return EINVAL;
	e = u->head;
	if (!e)
		return ENOENT;
	u->head = e->next;
	if (!u->head)
		u->tailp = &u->head;
	u->count--;
	*out = e->msg;
	mem_deref(e);
	return 0;
}

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void ua_deliver(struct ua *u, const char *from, const char *to, const char *call_id,
		const char *body, size_t body_len, const char *trust)
{
	struct ua_entry *e = mem_zalloc(sizeof(*e), NULL);

	if (!e) {
		log_error("%s: inbox full (out of memory), message from %s lost", u->aor, from);
		return;
	}
	copy_str(e->msg.from, sizeof(e->msg.from), from, strlen(from));
	copy_str(e->msg.to, sizeof(e->msg.to), to, strlen(to));
	copy_str(e->msg.call_id, sizeof(e->msg.call_id), call_id, strlen(call_id));
	copy_str(e->msg.body, sizeof(e->msg.body), body ? body : "", body ? body_len : 0);
	if (trust)
		copy_str(e->msg.trust, sizeof(e->msg.trust), trust, strlen(trust));
	*u->tailp = e;
	u->tailp = &e->next;
	u->count++;
	log_debug("%s: message from %s (%zu in inbox)", u->aor, from, u->count);
	if (u->inbox_h) {
		void *arg = mem_ref(u->inbox_arg); /* the handler may replace itself */

		u->inbox_h(u, arg);
		mem_deref(arg);
	}
}

/* ---- presence, contacts, lists, sessions: the server keeps the state ---- */

void ua_set_event_handler(struct ua *u, ua_event_h *h, void *arg)
{
	if (!u)
		return;
	u->event_h = h;
	u->event_arg = arg;
}

void ua_event(struct ua *u, enum ua_event ev, const char *aor)
{
	if (u && u->event_h)
		u->event_h(u, ev, aor, u->event_arg);
}

int ua_pres_parse(const char *s, enum ua_pres *p)
{
	enum profile_pres pp;
	int err = profile_pres_parse(s, &pp);

	if (!err && p)
		*p = (enum ua_pres)pp;
	return err;
}

const char *ua_pres_str(enum ua_pres p)
{
	return profile_pres_str((enum profile_pres)p);
}

int ua_set_presence(struct ua *u, enum ua_pres p)
{
	return u ? impres_set(u->reg, (enum profile_pres)p) : EINVAL;
}

enum ua_pres ua_presence(const struct ua *u)
{
	return u ? (enum ua_pres)impres_state(u->reg) : UA_OFFLINE;
}

int ua_add_contact(struct ua *u, const char *aor)
{
	return u ? impres_contact_add(u->reg, aor) : EINVAL;
}

int ua_remove_contact(struct ua *u, const char *aor)
{
	return u ? impres_contact_remove(u->reg, aor) : EINVAL;
}

int ua_contact_info(const struct ua *u, const char *aor, struct ua_contact *out)
{
	return u ? impres_contact_info(u->reg, aor, out) : EINVAL;
}

void ua_set_auto_refresh(struct ua *u, bool on)
{
	if (u)
		impres_set_auto_refresh(u->reg, on);
}

int ua_refresh_contact(struct ua *u, const char *aor)
{
	return u ? impres_contact_refresh(u->reg, aor) : EINVAL;
}

bool ua_authreq_pending(const struct ua *u, const char *aor)
{
	return u && aor && impres_authreq_pending(u->reg, aor);
}

int ua_authorize(struct ua *u, const char *aor, bool grant)
{
	return u && aor ? impres_authorize(u->reg, aor, grant) : EINVAL;
}

int ua_allow(struct ua *u, const char *aor, bool on)
{
	return u && aor ? impres_list_set(u->reg, false, aor, on) : EINVAL;
}

int ua_block(struct ua *u, const char *aor, bool on)
{
	return u && aor ? impres_list_set(u->reg, true, aor, on) : EINVAL;
}

bool ua_is_allowed(const struct ua *u, const char *aor)
{
	return u && aor && impres_listed(u->reg, false, aor);
}

bool ua_is_blocked(const struct ua *u, const char *aor)
{
	return u && aor && impres_listed(u->reg, true, aor);
}

int ua_send_request(struct ua *u, const char *method, const char *to_aor, const char *hdrs,
		    const char *ctype, const char *body, ua_raw_h *rh, void *arg)
{
	if (!u)
		return EINVAL;
	return imuac_raw(u->s, u->aor, method, to_aor, hdrs, ctype, body, rh, arg);
}

int ua_session_start(struct imsess **xp, struct ua *u, const char *to_aor, ua_resp_h *rh,
		     void *arg)
{
	return u ? imsess_start(xp, u->reg, to_aor, rh, arg) : EINVAL;
}

int ua_session_take_offer(struct ua *u, const char *from_aor, struct imsess **xp)
{
	return u && xp ? imsess_take_offer(u->reg, from_aor, xp) : EINVAL;
}
