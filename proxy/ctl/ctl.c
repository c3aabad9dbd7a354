/* ctl: the unix control socket (mode 0600): "command [args]\n" in, one line out. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "base/mem.h"
#include "base/log.h"
#include "ctl.h"

#define LOG_MODULE "ctl"

#define CTL_MAX_CMDS 32

struct ctl_cmd {
	char name[32];
	ctl_cmd_h *h;
	void *arg;
};

struct ctl_client {
	struct ctl *ctl;
	struct bufferevent *bev;
	struct ctl_client *prev, *next;
};

struct ctl {
	struct event_base *base;
	char *path;
	struct evconnlistener *lst;
	struct ctl_cmd cmds[CTL_MAX_CMDS];
	size_t ncmds;
	struct ctl_client *clients;
	size_t nclients;
};

static void ctl_client_free(struct ctl_client *cl)
{
	struct ctl *c = cl->ctl;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->nclients--;
	bufferevent_free(cl->bev);
	free(cl);
}

static void ctl_destroy(void *data)
{
	struct ctl *c = data;

	while (c->clients)
		ctl_client_free(c->clients);
	if (c->lst)
		evconnlistener_free(c->lst);
	if (c->path) {
		unlink(c->path);
		log_info("control socket %s removed", c->path);
	}
	mem_deref(c->path);
}

int ctl_add(struct ctl *c, const char *name, ctl_cmd_h *h, void *arg)
{
	struct ctl_cmd *cmd;

	if (!c || !name || !h || strlen(name) >= sizeof(cmd->name))
		return EINVAL;
	if (c->ncmds == CTL_MAX_CMDS)
		return ENOSPC;
	cmd = &c->cmds[c->ncmds++];
	strcpy(cmd->name, name);
	cmd->h = h;
	cmd->arg = arg;
	return 0;
}

void ctl_exec(struct ctl *c, const char *line, char *out, size_t size)
{
	char name[32];
	const char *args;
	size_t n, i;
	int err;

	if (!c || !line || !out || !size)
		return;
	while (*line == ' ' || *line == '\t')
		line++;
	n = strcspn(line, " \t");
	args = line + n;
	while (*args == ' ' || *args == '\t')
		args++;
	if (!n || n >= sizeof(name)) {
		snprintf(out, size, "error empty or overlong command");
		return;
	}
	memcpy(name, line, n);
	name[n] = '\0';
	for (i = c->ncmds; i-- > 0;) {
		if (strcmp(c->cmds[i].name, name))
			continue;
		out[0] = '\0';
		err = c->cmds[i].h(args, out, size, c->cmds[i].arg);
		if (err && !out[0])
			snprintf(out, size, "error %s", strerror(err));
		return;
	}
	snprintf(out, size, "error unknown command '%s'", name);
}

static void ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line, out[4096];
	size_t len;
	int budget = 64; /* bounded work per read event */

	while (budget-- > 0 && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
		ctl_exec(cl->ctl, line, out, sizeof(out));
		free(line);
		bufferevent_write(bev, out, strlen(out));
		bufferevent_write(bev, "\n", 1);
	}
	if (evbuffer_get_length(in) > CTL_MAX_LINE) {
		log_warn("control client sent an overlong line; closing it");
		ctl_client_free(cl);
	}
}

static void ctl_drained(struct bufferevent *bev, void *arg)
{
	ctl_client_free(arg);
}

/* A client that half-closes after its command still gets its answer. */
static void ctl_event(struct bufferevent *bev, short what, void *arg)
{
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, ctl_drained, ctl_event, arg);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_client_free(arg);
}

static void ctl_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		       int salen, void *arg)
{
	struct ctl *c = arg;
	struct ctl_client *cl;

	if (c->nclients >= CTL_MAX_CLIENTS || !(cl = calloc(1, sizeof(*cl)))) {
		evutil_closesocket(fd);
		return;
	}
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev) {
		evutil_closesocket(fd);
		free(cl);
		return;
	}
	cl->ctl = c;
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->nclients++;
	bufferevent_setcb(cl->bev, ctl_read, NULL, ctl_event, cl);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

/* A socket file nobody answers on is left over from a crash: replace it. */
static int ctl_clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(sun->sun_path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live)
		return EADDRINUSE;
	return unlink(sun->sun_path) == 0 ? 0 : errno;
}

static int ctl_listen(struct ctl *c, const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	err = ctl_clear_stale(&sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	old = umask(0177); /* no window in which the socket is wider than 0600 */
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : errno;
	umask(old);
	if (!err && chmod(path, 0600) != 0)
		err = errno;
	if (err) {
		close(fd);
		return err;
	}
	c->path = mem_strdup(path);
	c->lst = evconnlistener_new(c->base, ctl_accept, c, LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (!c->path || !c->lst) {
		if (!c->lst)
			close(fd);
		return ENOMEM;
	}
	return 0;
}

int ctl_alloc(struct ctl **cp, struct event_base *base, const char *path)
{
	struct ctl *c;
	int err;

	if (!cp || !base || !path || !*path)
		return EINVAL;
	c = mem_zalloc(sizeof(*c), ctl_destroy);
	if (!c)
		return ENOMEM;
	c->base = base;
	err = ctl_listen(c, path);
	if (err) {
		log_error("control socket %s: %s", path, strerror(err));
		mem_deref(c);
		return err;
	}
	log_info("control socket %s (mode 0600)", path);
	*cp = c;
	return 0;
}
