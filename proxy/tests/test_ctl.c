/* test_ctl: the control socket: file mode, one answer per line, unknown commands, cleanup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>

#include "tests/testreg.h"
#include "base/mem.h"
#include "../ctl/ctl.h"
#include "testconf.h"

static int ctl_test_echo(const char *args, char *out, size_t size, void *arg)
{
	(*(int *)arg)++;
	if (!strcmp(args, "fail"))
		return EPERM;
	snprintf(out, size, "echo[%s]", args);
	return 0;
}

static void test_ctl_exec(void)
{
	struct event_base *base = event_base_new();
	struct ctl *c = NULL;
	char path[256], out[128];
	int calls = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(testconf_dir());
	snprintf(path, sizeof(path), "%s/exec.sock", testconf_dir());
	CU_ASSERT_EQUAL_FATAL(ctl_alloc(&c, base, path), 0);
	CU_ASSERT_EQUAL(ctl_add(c, "echo", ctl_test_echo, &calls), 0);
	ctl_exec(c, "echo  a b", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "echo[a b]");
	ctl_exec(c, "echo fail", out, sizeof(out));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "error"));
	ctl_exec(c, "nope", out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "error unknown command 'nope'");
	CU_ASSERT_EQUAL(calls, 2);
	mem_deref(c);
	event_base_free(base);
}

static void test_ctl_socket(void)
{
	struct event_base *base = event_base_new();
	struct sockaddr_un sun;
	struct ctl *c = NULL, *c2 = NULL;
	struct stat st;
	char path[256], buf[256];
	size_t got = 0;
	int fd, calls = 0, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	snprintf(path, sizeof(path), "%s/ctl.sock", testconf_dir());
	CU_ASSERT_EQUAL_FATAL(ctl_alloc(&c, base, path), 0);
	CU_ASSERT_EQUAL(ctl_add(c, "echo", ctl_test_echo, &calls), 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	/* a second instance must not steal a live socket */
	CU_ASSERT_EQUAL(ctl_alloc(&c2, base, path), EADDRINUSE);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	CU_ASSERT_EQUAL(write(fd, "echo 1\r\necho 2\n", 15), 15);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 200 && !(got && memchr(buf, '\n', got) &&
				 strchr(memchr(buf, '\n', got) + 1, '\n')); i++) {
		ssize_t n;

		event_base_loop(base, EVLOOP_NONBLOCK);
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n > 0)
			got += (size_t)n;
		buf[got] = '\0';
		usleep(1000);
	}
	CU_ASSERT_STRING_EQUAL(buf, "echo[1]\necho[2]\n");
	close(fd);
	mem_deref(c);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0); /* removed with its owner */
	event_base_free(base);
}

static CU_TestInfo ctl_tests[] = {
	{ "command table", test_ctl_exec },
	{ "unix socket", test_ctl_socket },
	CU_TEST_INFO_NULL,
};

TEST_SUITE("ctl", ctl_tests)
