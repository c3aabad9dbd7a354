/* lua_job: apctl run in the background while the lab goes on (BAK-001: a backup taken while
 * MESSAGEs flow and other changes are made). The child's output is read on the lab's event
 * loop; waiting for it yields the scenario's coroutine. */
#define LOG_MODULE "job"

#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "lab.h"
#include "scen.h"
#include "sutkind.h"

#define MT_JOB "piclab.Job"
#define JOB_OUT_MAX (4u << 20)

struct job {
	pid_t pid;
	int fd;
	struct event *ev;
	char *out;
	size_t len, cap;
	bool truncated, done;
	int code;                /* exit code, 128+signal if killed */
	char what[64];           /* the apctl command, for logs */
	struct scen_waiter *w;   /* a reference while a branch waits */
};

static void job_destroy(void *data)
{
	struct job *j = data;

	if (j->ev)
		event_free(j->ev);
	if (j->fd >= 0)
		close(j->fd);
	if (!j->done && j->pid > 0) {
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	mem_deref(j->w);
	free(j->out);
}

static void job_push(lua_State *L, const struct job *j)
{
	lua_pushinteger(L, j->code);
	lua_pushlstring(L, j->out ? j->out : "", j->len);
}

static void job_end(struct job *j)
{
	int status = 0;
	lua_State *co;

	event_del(j->ev);
	close(j->fd);
	j->fd = -1;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	j->done = true;
	log_info("apctl %s (background) -> %d", j->what, j->code);
	co = j->w ? scen_waiter_thread(j->w) : NULL;
	if (co) {
		job_push(co, j);
		scen_wake(j->w, 2);
	}
}

static void job_read(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	char buf[8192];
	ssize_t r;

	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0)
			break;
		if (j->len + (size_t)r > JOB_OUT_MAX) {
			j->truncated = true;
			continue;
		}
		if (j->len + (size_t)r > j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 16384;
			char *n;

			while (cap < j->len + (size_t)r)
				cap *= 2;
			n = realloc(j->out, cap);
			if (!n) {
				j->truncated = true;
				continue;
			}
			j->out = n;
			j->cap = cap;
		}
		memcpy(j->out + j->len, buf, (size_t)r);
		j->len += (size_t)r;
	}
	job_end(j);
}

/* lab:apctl_start(args...) -> Job with :done() and :wait() -> exit code, output
 * Starts the proxy's apctl on this lab's config like lab:apctl, but returns at once: the lab
 * (traffic, other branches) runs while it works. Bounded to 30 s. */
static int job_l_start(lua_State *L)
{
	struct scen *s = (luaL_checkudata(L, 1, "piclab.Lab"), scen_of(L));
	int n = lua_gettop(L), i, err;
	const char *args[40];
	struct job *j, **jp;

	if (n - 1 > 38)
		return luaL_error(L, "apctl_start: too many arguments");
	if (!(lab_sut_kind(scen_lab(s))->caps & SUTK_CONTROL))
		return scen_not_applicable(L, "lab:apctl_start needs accessproxy's apctl, which a "
					   "SUT of kind %s does not offer",
					   lab_sut_kind(scen_lab(s))->name);
	for (i = 2; i <= n; i++)
		args[i - 2] = luaL_checkstring(L, i);
	args[n - 1] = NULL;
	j = mem_zalloc(sizeof(*j), job_destroy);
	if (!j)
		return luaL_error(L, "out of memory");
	j->fd = -1;
	snprintf(j->what, sizeof(j->what), "%s", n >= 2 ? args[0] : "");
	err = lab_apctl_spawn(scen_lab(s), args, &j->pid, &j->fd);
	if (!err) {
		j->ev = event_new(scen_base(s), j->fd, EV_READ | EV_PERSIST, job_read, j);
		err = !j->ev || event_add(j->ev, NULL) ? ENOMEM : 0;
	}
	if (err) {
		mem_deref(j);
		return luaL_error(L, "apctl_start: %s", strerror(err));
	}
	jp = lua_newuserdatauv(L, sizeof(*jp), 0);
	*jp = j;
	luaL_setmetatable(L, MT_JOB);
	return 1;
}

static struct job *job_ud(lua_State *L)
{
	struct job **jp = luaL_checkudata(L, 1, MT_JOB);

	return *jp;
}

static int job_l_done(lua_State *L)
{
	lua_pushboolean(L, job_ud(L)->done);
	return 1;
}

static int job_wait_k(lua_State *L, int status, lua_KContext ctx)
{
	struct job *j = job_ud(L);

	j->w = mem_deref(j->w);
	if (scen_waiter_timed_out(L))
		return scen_fail(L, 1, "apctl %s still running after 40 s", j->what);
	if (j->truncated)
		return luaL_error(L, "apctl %s: output longer than %u bytes", j->what, JOB_OUT_MAX);
	return 2;
}

/* job:wait() -> exit code, output (stdout and stderr), once apctl has exited */
static int job_l_wait(lua_State *L)
{
	struct job *j = job_ud(L);

	if (j->w)
		return luaL_error(L, "job:wait() already waiting in another branch");
	lua_settop(L, 1);
	if (j->done) {
		if (j->truncated)
			return luaL_error(L, "apctl %s: output longer than %u bytes", j->what,
					  JOB_OUT_MAX);
		job_push(L, j);
		return 2;
	}
	j->w = mem_ref(scen_wait_begin(L, "apctl in the background", 40));
	return scen_yield(L, j->w, job_wait_k);
}

static int job_l_gc(lua_State *L)
{
	struct job **jp = luaL_checkudata(L, 1, MT_JOB);

	*jp = mem_deref(*jp);
	return 0;
}

void lua_job_open(lua_State *L)
{
	static const luaL_Reg lab_methods[] = {
		{ "apctl_start", job_l_start }, { NULL, NULL },
	};
	static const luaL_Reg job_methods[] = {
		{ "done", job_l_done }, { "wait", job_l_wait }, { NULL, NULL },
	};

	luaL_newmetatable(L, MT_JOB);
	luaL_newlib(L, job_methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, job_l_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	lua_class_extend(L, "piclab.Lab", lab_methods);
}
