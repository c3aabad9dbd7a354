/* console: piclab lab — a scenario's lab kept up, with a Lua console driven by the lab's event
 * loop (libedit's callback interface on a read event), so waits and the live ladder run while
 * a person types. */
#define LOG_MODULE "console"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "base/log.h"
#include "base/mem.h"
#include "capture.h"
#include "../fakes/ca/labca.h"
#include "apidoc.h"
#include "console.h"
#include "console_int.h"
#include "ladder.h"
#include "lab.h"
#include "labrt.h"
#include "runner.h"
#include "scen.h"
#include "sut.h"

#define CONSOLE_PROMPT "lab> "
#define CONSOLE_MORE ">> "

static struct console *console_cur;   /* libedit's callbacks take no argument */

struct console *console_get(void)
{
	return console_cur;
}

void console_printf(struct console *c, const char *fmt, ...)
{
	va_list ap;

	if (c->editing)
		fputs("\r\033[K", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (c->editing)
		rl_forced_update_display();
}

static void console_ladder_line(const char *line, void *arg)
{
	console_printf(arg, "  %s\n", line);
}

/* The live view: each SIP message that crossed since the last look, one ladder line each. */
static void console_tick(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	struct lab *lab = scen_session_lab(c->ss);
	struct capture *cap = lab ? lab_capture(lab) : NULL;
	struct stat st;

	if (!cap || !c->ladder)
		return;
	capture_sync(cap);
	if (stat(lab_pcap_path(lab), &st) != 0 || st.st_size == c->pcap_size)
		return;
	c->pcap_size = st.st_size;
	ladder_live(c->ladder, lab_pcap_path(lab), lab_keylog_path(lab), &c->seen,
		    console_ladder_line, c);
}

static void console_line_cb(char *line);

static void console_input_pause(struct console *c)
{
	if (c->tty && c->editing) {
		rl_callback_handler_remove();
		c->editing = false;
	}
	if (c->in_ev)
		event_del(c->in_ev);
}

static void console_drain(struct console *c);

static void console_input_resume(struct console *c)
{
	if (c->quit)
		return;
	if (c->tty) {
		if (!c->editing)
			rl_callback_handler_install(c->pending ? CONSOLE_MORE : CONSOLE_PROMPT,
						    console_line_cb);
		c->editing = true;
		event_add(c->in_ev, NULL);
		return;
	}
	if (!c->stdin_eof && c->in_ev)
		event_add(c->in_ev, NULL);
	console_drain(c);
}

/* A value as a person reads it: a table's first level shown (up to 16 entries). */
static void console_show(struct console *c, lua_State *co, int idx)
{
	int n = 0;

	idx = lua_absindex(co, idx);
	if (!lua_istable(co, idx) || luaL_getmetafield(co, idx, "__tostring") != LUA_TNIL) {
		if (lua_istable(co, idx))
			lua_pop(co, 1);
		console_printf(c, "%s", luaL_tolstring(co, idx, NULL));
		lua_pop(co, 1);
		return;
	}
	console_printf(c, "{");
	lua_pushnil(co);
	while (lua_next(co, idx)) {
		if (n++ == 16) {
			console_printf(c, " ...");
			lua_pop(co, 2);
			break;
		}
		if (lua_type(co, -2) == LUA_TSTRING) {
			console_printf(c, "%s %s = ", n > 1 ? "," : "", lua_tostring(co, -2));
		} else {
			/* a copy: tolstring must not turn the key lua_next walks into a string */
			lua_pushvalue(co, -2);
			console_printf(c, "%s [%s] = ", n > 1 ? "," : "", luaL_tolstring(co, -1, NULL));
			lua_pop(co, 2);
		}
		if (lua_type(co, -1) == LUA_TSTRING)
			console_printf(c, "\"%.200s\"", lua_tostring(co, -1));
		else {
			console_printf(c, "%s", luaL_tolstring(co, -1, NULL));
			lua_pop(co, 1);
		}
		lua_pop(co, 1);
	}
	console_printf(c, " }");
}

/* A step ended: its values or its failure, and it is kept for :save if it passed. */
static void console_step_done(lua_State *co, int nres, enum scen_verdict v, const char *reason,
			      const char *where, void *arg)
{
	struct console *c = arg;
	int i;

	/* show what crossed during the step before its outcome */
	console_tick(-1, 0, c);
	if (!c->cur) {
		/* nothing was running: the lab itself broke (the proxy died) */
		console_printf(c, "lab: %s\n", reason);
		return;
	}
	if (v == SCEN_PASS) {
		for (i = 1; co && i <= nres; i++) {
			if (i > 1)
				console_printf(c, "\t");
			console_show(c, co, -nres - 1 + i);
		}
		if (co && nres > 0)
			console_printf(c, "\n");
		if (c->cur_saveable)
			console_steps_add(c, c->cur);
	} else {
		console_printf(c, "%s%s%s%s\n", v == SCEN_ERROR ? "error: " : "fail: ",
			       where && *where ? where : "", where && *where ? ": " : "", reason);
		if (c->in_script)
			c->script_failed = true;
	}
	c->in_script = false;
	free(c->cur);
	c->cur = NULL;
	console_input_resume(c);
}

/* Runs one chunk of Lua typed (or fed) at the console. */
static void console_exec(struct console *c, const char *line)
{
	lua_State *L = scen_session_lua(c->ss);
	char why[2048], *code;
	size_t n;
	int err;

	if (c->pending) {
		n = strlen(c->pending) + strlen(line) + 2;
		code = malloc(n);
		if (!code)
			return;
		snprintf(code, n, "%s\n%s", c->pending, line);
		free(c->pending);
		c->pending = NULL;
	} else {
		code = strdup(line);
		if (!code)
			return;
	}
	c->cur_saveable = luaL_loadbuffer(L, code, strlen(code), "=console") == LUA_OK;
	lua_pop(L, 1);
	c->cur = code;
	console_input_pause(c);
	err = scen_session_step(c->ss, code, "=console", true, why, sizeof(why));
	if (!err)
		return;
	c->cur = NULL;
	if (err == EAGAIN)
		c->pending = code;
	else
		free(code);
	if (err == EINVAL)
		console_printf(c, "error: %s\n", why);
	console_input_resume(c);
}

/* After it hands a line over, libedit's callback reader reads whole lines again until its
 * handler is installed anew, and a Ctrl-D on the empty line is then lost. A Lua step installs
 * it when input resumes; a line that runs no step (a command, an empty line) does it here. */
static void console_rearm(struct console *c)
{
	if (!c->tty || !c->editing || c->quit)
		return;
	rl_callback_handler_remove();
	rl_callback_handler_install(c->pending ? CONSOLE_MORE : CONSOLE_PROMPT, console_line_cb);
}

static void console_line(struct console *c, char *line)
{
	char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!c->tty && *p)
		printf("%s%s\n", c->pending ? CONSOLE_MORE : CONSOLE_PROMPT, line);
	if (!*p && !c->pending) {
		console_rearm(c);
		return;
	}
	if (*p == ':' && !c->pending) {
		console_command(c, p + 1);
		console_rearm(c);
		return;
	}
	if (c->tty)
		add_history(line);
	console_exec(c, line);
}

static void console_line_cb(char *line)
{
	struct console *c = console_cur;

	if (!line) {
		/* Ctrl-D */
		console_printf(c, "\n");
		console_quit(c);
		return;
	}
	console_line(c, line);
	free(line);
}

/* Lines fed on a stdin that is not a terminal, one step at a time. */
static void console_drain(struct console *c)
{
	char *line;

	while (!c->quit && !scen_session_busy(c->ss) &&
	       (line = evbuffer_readln(c->inbuf, NULL, EVBUFFER_EOL_LF))) {
		console_line(c, line);
		free(line);
	}
	if (c->stdin_eof && !c->quit && !scen_session_busy(c->ss) &&
	    evbuffer_get_length(c->inbuf) == 0 && !c->o->script)
		console_quit(c);
}

static void console_readable(evutil_socket_t fd, short what, void *arg)
{
	struct console *c = arg;
	int n;

	if (c->tty) {
		rl_callback_read_char();
		return;
	}
	n = evbuffer_read(c->inbuf, fd, 4096);
	if (n <= 0) {
		c->stdin_eof = true;
		event_del(c->in_ev);
		/* a last line without a newline still counts */
		if (evbuffer_get_length(c->inbuf))
			evbuffer_add(c->inbuf, "\n", 1);
	}
	console_drain(c);
}

void console_quit(struct console *c)
{
	c->quit = true;
	console_input_pause(c);
	event_base_loopbreak(c->base);
}

static void console_signal(evutil_socket_t sig, short what, void *arg)
{
	struct console *c = arg;

	if (sig == SIGINT && scen_session_busy(c->ss)) {
		console_printf(c, "^C\n");
		scen_session_interrupt(c->ss);
		return;
	}
	if (sig == SIGINT && c->tty && !c->quit) {
		free(c->pending);
		c->pending = NULL;
		if (c->editing) {
			rl_replace_line("", 0);
			rl_callback_handler_remove();
			c->editing = false;
		}
		printf("^C (:quit or Ctrl-D stops the lab)\n");
		console_input_resume(c);
		return;
	}
	console_quit(c);
}

/* The lab is up: what a person needs to reach it. */
static void console_banner(struct console *c, struct lab *lab)
{
	const struct lab_opts *lo = lab_options(lab);
	char path[600];
	unsigned h;
	int i;

	printf("lab %u is up in 127.77.%u.0/24; files in %s\n", c->o->index, c->o->index,
	       lab_dir(lab));
	printf("hosts (SIP over TLS on 5061, DNS on 53, HTTPS on 443), with their certificates:\n");
	for (h = 0; h < LAB_NHOSTS; h++) {
		const char *fqdn = lab_host_name(h);

		if (h == LAB_NS)
			printf("  %-22s %-14s (no certificate)\n", fqdn, lab_host_ip(lab, h));
		else
			printf("  %-22s %-14s %s\n", fqdn, lab_host_ip(lab, h),
			       labca_cert_path(lab_pki_dir(lab), fqdn, path, sizeof(path)));
	}
	printf("roots:            public %s\n",
	       labca_root_path(lab_pki_dir(lab), LABCA_PUBLIC, path, sizeof(path)));
	printf("                  enterprise %s\n",
	       labca_root_path(lab_pki_dir(lab), LABCA_ENTERPRISE, path, sizeof(path)));
	printf("PIC users:       ");
	for (i = 0; i < lo->npic_users; i++)
		printf(" %s%s", lo->pic_users[i].aor, lo->pic_users[i].enabled ? "" : " (not enabled)");
	printf("\nproviders:       ");
	for (i = 0; i < LAB_NPROVIDERS; i++)
		printf(" %s (%s%s)", lab_provider_name((unsigned)i),
		       lo->provider_allow[i] ? "allowed" : "not allowed",
		       lo->unprovisioned ? "" : ", route to contoso.test provisioned");
	printf("\nproxy:            pid %d, config %s, control socket %s, log %s/sut.log\n",
	       (int)sut_pid(lab_sut(lab)), lab_sut_conf(lab), lab_ctl_path(lab), lab_dir(lab));
	printf("administer it:    %s/apctl -c %s status\n", c->bindir, lab_sut_conf(lab));
	printf("capture:          %s (key log %s); :capture prints the commands to read it\n",
	       lab_pcap_path(lab), lab_keylog_path(lab));
	fflush(stdout);
}

static int console_start(struct console *c, char *why, size_t whysize)
{
	const struct console_opts *o = c->o;
	struct scen_opts so = {
		.lab_index = o->index, .out_dir = c->dirs.out, .pki_dir = c->dirs.pki,
		.sut_binary = o->sut_binary, .default_timeout = 30, .capture = o->capture,
		.seed = (unsigned long)time(NULL), .run_log = c->dirs.log, .root = o->root,
	};
	char readme[1200];
	int err;

	snprintf(readme, sizeof(readme), "%s/scenarios/README.md", o->root);
	if (apidoc_load(&c->doc, readme) != 0)
		log_warn("no API reference at %s: :help and completion are limited", readme);
	if (ladder_open(&c->ladder, o->root) != 0)
		log_warn("no ladder: the live view is off");
	if (!labrt_dir()) {
		snprintf(why, whysize, "runtime folder under %s: %s", labrt_base(), strerror(errno));
		return errno;
	}
	err = scen_session_open(&c->ss, c->base, &so, "console", o->script, console_step_done, c,
				why, whysize);
	return err;
}

static void console_stdin(struct console *c)
{
	static char breaks[] = " \t\n\"'`<>=;|&{(,.:)[]+-*/~";

	struct stat st;

	c->tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	c->inbuf = evbuffer_new();
	if (!c->tty && (fstat(STDIN_FILENO, &st) != 0 ||
			(!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)))) {
		/* a file or /dev/null cannot be polled: it is all there, take it now */
		while (evbuffer_read(c->inbuf, STDIN_FILENO, 65536) > 0)
			;
		if (evbuffer_get_length(c->inbuf))
			evbuffer_add(c->inbuf, "\n", 1);
		c->stdin_eof = true;
		return;
	}
	c->in_ev = event_new(c->base, STDIN_FILENO, EV_READ | EV_PERSIST, console_readable, c);
	if (!c->tty)
		return;
	rl_readline_name = "piclab";
	rl_catch_signals = 0;
	rl_initialize();
	using_history();
	read_history(c->hist);
	rl_completer_word_break_characters = breaks;
	rl_basic_word_break_characters = breaks;
	rl_attempted_completion_function = console_complete;
	rl_bind_key('\t', rl_complete);
}

int console_run(const struct console_opts *o)
{
	struct console c = { .o = o, .lockfd = -1 };
	char why[2048], holder[600], *slash;
	struct event *sigint = NULL, *sigterm = NULL;
	int err, rc = 0;

	if (runner_need_root("lab"))
		return 2;
	err = labrt_lock(o->index, &c.lockfd, holder, sizeof(holder));
	if (err == EBUSY) {
		fprintf(stderr, "piclab lab: lab %u (127.77.%u.0/24) is in use by %s. Stop that "
			"one, or pick another index with --lab N (piclab run moves to a free one by "
			"itself)\n", o->index, o->index, holder);
		return 2;
	}
	if (err) {
		fprintf(stderr, "piclab lab: lock of lab %u under %s: %s\n", o->index, labrt_base(),
			strerror(err));
		return 2;
	}
	snprintf(c.bindir, sizeof(c.bindir), "%s", o->sut_binary);
	slash = strrchr(c.bindir, '/');
	snprintf(slash ? slash : c.bindir, sizeof(c.bindir) - (size_t)(slash ? slash - c.bindir : 0),
		 "%s", slash ? "" : ".");
	snprintf(c.hist, sizeof(c.hist), "%s/.piclab_history", getenv("HOME") ? getenv("HOME") :
		 "/tmp");
	c.base = event_base_new();
	if (!c.base || runner_dirs_open(&c.dirs, o->out_base, NULL) != 0) {
		rc = 2;
		goto out;
	}
	if (console_start(&c, why, sizeof(why)) != 0) {
		fprintf(stderr, "piclab lab: %s\n", why);
		rc = 2;
		goto out;
	}
	console_cur = &c;
	console_banner(&c, scen_session_lab(c.ss));
	console_stdin(&c);
	if (c.tty)
		printf("the console speaks the scenario API (lab, lab.enterprise:user(...), "
		       "lab.provider(\"aol\"), lab.capture, lab.sut); :help lists it, Tab completes, "
		       ":save AREA/NAME keeps what worked, :quit or Ctrl-D stops the lab\n");
	fflush(stdout);
	c.tick = event_new(c.base, -1, EV_PERSIST, console_tick, &c);
	if (c.tick) {
		struct timeval tv = { 0, 250000 };

		event_add(c.tick, &tv);
	}
	sigint = evsignal_new(c.base, SIGINT, console_signal, &c);
	sigterm = evsignal_new(c.base, SIGTERM, console_signal, &c);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	if (o->script) {
		c.cur = strdup(o->script);
		c.cur_saveable = false;
		c.in_script = true;
		printf("running %s\n", o->script);
		fflush(stdout);
		err = scen_session_script(c.ss, why, sizeof(why));
		if (err) {
			fprintf(stderr, "piclab lab: %s\n", why);
			free(c.cur);
			c.cur = NULL;
			c.script_failed = true;
			console_input_resume(&c);
		}
	} else {
		console_input_resume(&c);
	}
	if (!c.quit)
		event_base_dispatch(c.base);
	console_input_pause(&c);
	if (c.tty)
		write_history(c.hist);
	printf("stopping lab %u; its files stay in %s\n", o->index,
	       scen_session_result(c.ss)->dir);
	fflush(stdout);
	rc = c.script_failed ? 2 : 0;
out:
	console_cur = NULL;
	scen_session_close(c.ss);
	if (c.tick)
		event_free(c.tick);
	if (c.in_ev)
		event_free(c.in_ev);
	if (c.inbuf)
		evbuffer_free(c.inbuf);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	mem_deref(c.ladder);
	mem_deref(c.doc);
	console_steps_free(&c);
	free(c.pending);
	runner_dirs_close(&c.dirs);
	labrt_unlock(c.lockfd);
	if (c.base)
		event_base_free(c.base);
	return rc;
}
