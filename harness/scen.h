/* scen: one scenario — a Lua file run as a coroutine against a fresh lab, judged into a verdict. */
#ifndef PIC_SCEN_H
#define PIC_SCEN_H

#include <event2/event.h>
#include <lua.h>
#include <stdio.h>
#include <stdbool.h>

struct lab;

/* TTCN-3-like: inconc = the lab could not establish what the test needs; na = the SUT's PICS
 * does not claim a capability the scenario exercises (it does not run). */
enum scen_verdict { SCEN_PASS = 0, SCEN_FAIL, SCEN_ERROR, SCEN_SKIP, SCEN_INCONC, SCEN_NA };

struct scen_result {
	enum scen_verdict verdict;
	char name[256];      /* path relative to the suite root, without .lua */
	char title[256];
	char covers[512];    /* requirement ids, space separated */
	char tags[256];      /* tags, space separated */
	char waived[1024];   /* invariants waived, "name: reason" lines */
	char reason[2048];   /* why it did not pass, expected vs actual */
	char where[512];     /* file:line of the failing step */
	char dir[512];       /* its output folder */
	double seconds;
	unsigned long packets;
	/* evidence: the capture frame the failure is about (exact for a capture invariant), or
	 * the frames captured when it was raised (the message before it); 0 if none */
	unsigned long fail_frame;
	bool fail_frame_exact;
	/* --repeat: runs made, how many passed, their verdicts in order ("pass fail pass") */
	unsigned runs, runs_passed;
	char history[128];
	unsigned assertions;  /* expect/expect_eq calls and waits for an outcome */
	unsigned workers;    /* the SUT's worker processes in this run */
	char sut_identity[200]; /* "name version (build)" of the SUT its lab ran (sutkind.h) */
};

struct scen_opts {
	unsigned lab_index;     /* the lab's /24: 127.77.<lab_index>.0/24 */
	const char *out_dir;    /* the run's folder; the scenario gets <out_dir>/<name>/ */
	const char *pki_dir;
	const char *sut_binary;
	const char *sut_kind;   /* adapter name (sutkind.h); NULL: accessproxy */
	double default_timeout; /* seconds, when the scenario does not say */
	double time_scale;      /* every time limit and wait of a scenario times this (0: 1) */
	unsigned long seed;     /* math.randomseed of the scenario's Lua state */
	bool capture;
	bool keep;              /* leave a failed lab up until Ctrl-C */
	unsigned workers;       /* >0: the SUT's worker processes, over the scenario's lab.workers */
	FILE *run_log;
	const char *root;       /* the project root: fixture() paths, apctl beside the SUT */          /* where logging goes back to after the scenario (NULL: stderr) */
};

const char *scen_verdict_str(enum scen_verdict v);
/* Loads the file only to read its title, covers and tags into res (for listing and filtering);
 * EINVAL with res->reason set if it is not a valid scenario file. */
int scen_probe(const char *path, const char *name, struct scen_result *res);
/* Runs the scenario file at path (named name) to its verdict. Never raises; lab problems come
 * back as SCEN_ERROR with the reason. */
void scen_run(struct event_base *base, const char *path, const char *name,
	      const struct scen_opts *opts, struct scen_result *res);

/* A session: the lab a scenario gets, driven step by step (the console, piclab lab --script).
 * Each step is Lua code run as a coroutine of the scenario engine (waits work as in a
 * scenario); when it ends, h gets its verdict, and for a pass its results on co (nres values;
 * otherwise co is NULL: a failure, an interrupt, or the lab broke between steps). The lab stays up until the session closes. */
typedef void (scen_step_h)(lua_State *co, int nres, enum scen_verdict v, const char *reason,
			   const char *where, void *arg);
struct scen_session;
/* Boots the lab (with the lab options of the scenario file script returns, if it is one; NULL:
 * the default lab) in <opts->out_dir>/<name>/; the global `lab` is the Lab object. */
int scen_session_open(struct scen_session **ssp, struct event_base *base,
		      const struct scen_opts *opts, const char *name, const char *script,
		      scen_step_h *h, void *arg, char *why, size_t whysize);
/* Runs code (chunkname for messages) as a step: EBUSY while a step runs, EINVAL with why set
 * if it does not compile (EAGAIN: it is incomplete, more lines may finish it). With
 * as_expression, "return <code>" is tried first so that values are shown. */
int scen_session_step(struct scen_session *ss, const char *code, const char *chunkname,
		      bool as_expression, char *why, size_t whysize);
/* Runs the file given to scen_session_open as the first step (its run(lab) for a scenario file).
 * EINVAL with why if the file does not load. */
int scen_session_script(struct scen_session *ss, char *why, size_t whysize);
bool scen_session_busy(const struct scen_session *ss);
/* Ends the running step's waits; the step ends with verdict fail "interrupted". */
void scen_session_interrupt(struct scen_session *ss);
lua_State *scen_session_lua(struct scen_session *ss);
struct lab *scen_session_lab(struct scen_session *ss);
const struct scen_result *scen_session_result(const struct scen_session *ss);
/* Tears the lab down (the capture is written out as after a scenario). */
void scen_session_close(struct scen_session *ss);

/* --- for the Lua bindings (lua_*.c) --- */
struct scen;
struct scen *scen_of(lua_State *L);
/* The scenario's waivers (a "decrypted" waiver also exempts a flow from capture queries). */
struct waivers *scen_waivers(struct scen *s);
struct lab *scen_lab(struct scen *s);
/* The project root (fixture() paths, scenarios/lib). */
const char *scen_root(struct scen *s);
struct event_base *scen_base(struct scen *s);
/* secs in the time of this run: a slow build (sanitizers) waits time_scale times longer. */
double scen_time(const struct scen *s, double secs);
/* A wait: the binding calls scen_wait_begin, starts its asynchronous operation with the returned
 * waiter as argument, then returns scen_yield(L, waiter, k). When the operation completes, it
 * pushes its results on the coroutine with scen_waiter_thread() and calls scen_wake(w, nres);
 * the continuation k then sees them. A waiter whose scenario has ended ignores wakes. */
struct scen_waiter;
struct scen_waiter *scen_wait_begin(lua_State *L, const char *what, double timeout_s);
int scen_yield(lua_State *L, struct scen_waiter *w, lua_KFunction k);
/* The coroutine to push results on, or NULL if the wait is over (scenario ended, timed out). */
lua_State *scen_waiter_thread(struct scen_waiter *w);
void scen_wake(struct scen_waiter *w, int nres);
/* Sets the waiter's private data (released with mem_deref when the waiter goes). */
void scen_waiter_set_data(struct scen_waiter *w, void *data);
void *scen_waiter_data(struct scen_waiter *w);
/* In a continuation: true if the wait ended by its own timeout (then nothing was pushed). */
bool scen_waiter_timed_out(lua_State *L);
/* The failure about to be raised is about the capture frame `frame` (a decoded message's
 * `frame`): the report links exactly that message. 0: no-op. */
void scen_evidence(lua_State *L, unsigned long frame);
/* Counts one assertion (expect, expect_eq, a wait for an outcome) for the results. */
void scen_count_assertion(lua_State *L);
/* Raises a scenario failure (verdict fail, with file:line of the Lua caller at level). */
int scen_fail(lua_State *L, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Ends the scenario as not applicable to this SUT (verdict n/a, with the reason), for what
 * the SUT kind under test does not offer. */
int scen_not_applicable(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void lua_base_open(lua_State *L);
void lua_lab_open(lua_State *L);
/* Adds methods to a class of the API ("piclab.Lab", "piclab.Site", "piclab.User", ...), so a
 * binding file per concern can extend the classes lua_lab.c defines. */
struct luaL_Reg;
void lua_class_extend(lua_State *L, const char *mt, const struct luaL_Reg *fns);
void lua_capture_open(lua_State *L);
void lua_im_open(lua_State *L);
void lua_raw_open(lua_State *L);
void lua_load_open(lua_State *L);
void lua_job_open(lua_State *L);
void lua_tls_open(lua_State *L);
/* Reads the TLS lab options of the scenario table at t (lab.sut_cert, lab.sut_tls) into lo. */
struct lab_opts;
void lua_tls_lab_opts(lua_State *L, int t, struct lab_opts *lo);
/* Pushes { serial = "hex", subject = "...", issuer = "...", not_after = "..." } of an X509
 * certificate (x: an X509 *, void here so this header needs no OpenSSL). */
void lua_tls_push_cert(lua_State *L, const void *x);
void lua_prov_open(lua_State *L);
void lua_dns_open(lua_State *L);
/* piclab_decode() for report renderers (no lab needed). */
void lua_capture_open_reports(lua_State *L);
/* The server behind a Site argument, the user agent behind a User argument (errors if not). */
struct imsrv;
struct ua;
struct imsrv *lua_site_srv(lua_State *L, int idx);
struct ua *lua_user_ua(lua_State *L, int idx);
/* A ua_resp_h for waits on a final response: arg is a referenced waiter; pushes status, reason
 * (or nil, why) on the waiting coroutine, wakes it and drops the reference. */
void lua_resp_h(int status, const char *reason, int err, void *arg);
/* Pushes the Lab object for s. */
void lua_lab_push(lua_State *L, struct scen *s);

#endif
