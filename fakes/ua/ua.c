/* ua: a scripted lab user agent registered on an imsrv, with an inbox of received MESSAGEs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"

#include "ua.h"
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
	u->inbox_h = h;
	u->inbox_arg = arg;
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
	if (u->inbox_h)
		u->inbox_h(u, u->inbox_arg);
}
