/* apctl: administers a running accessproxy through its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_MODULE "apctl"

#define APCTL_DEFAULT_SOCKET "/run/accessproxy.sock"
#define APCTL_TIMEOUT_S 5

static void apctl_usage(FILE *f)
{
	fprintf(f,
		"usage: apctl [-s SOCKET] COMMAND\n"
		"  -s, --socket PATH  control socket (default " APCTL_DEFAULT_SOCKET ")\n"
		"  -h, --help         this text\n"
		"commands:\n"
		"  ready    prints \"ok\" once the proxy listens on every edge\n"
		"  status   one JSON line: pid, uptime, connections, transactions, counters\n"
		"exit codes: 0 answered, 1 the proxy answered with an error or not at all, "
		"2 usage\n");
}

/* Sends one line, prints the one-line answer; bounded by APCTL_TIMEOUT_S. */
static int apctl_exchange(const char *path, const char *cmd)
{
	struct timeval tv = { APCTL_TIMEOUT_S, 0 };
	struct sockaddr_un sun;
	char answer[8192];
	size_t got = 0;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "apctl: socket path too long: %s\n", path);
		return 1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "apctl: cannot reach %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (dprintf(fd, "%s\n", cmd) < 0) {
		fprintf(stderr, "apctl: send: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	while (got < sizeof(answer) - 1 && !memchr(answer, '\n', got)) {
		ssize_t n = read(fd, answer + got, sizeof(answer) - 1 - got);

		if (n <= 0) {
			fprintf(stderr, "apctl: no answer from %s: %s\n", path,
				n == 0 ? "closed" : strerror(errno));
			close(fd);
			return 1;
		}
		got += (size_t)n;
	}
	close(fd);
	answer[got] = '\0';
	answer[strcspn(answer, "\n")] = '\0';
	printf("%s\n", answer);
	return strncmp(answer, "error", 5) == 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("APCTL_SOCKET");
	int c;

	if (!path || !*path)
		path = APCTL_DEFAULT_SOCKET;
	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'h': apctl_usage(stdout); return 0;
		default: apctl_usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		apctl_usage(stderr);
		return 2;
	}
	if (strcmp(argv[optind], "status") && strcmp(argv[optind], "ready")) {
		fprintf(stderr, "apctl: unknown command '%s'\n", argv[optind]);
		apctl_usage(stderr);
		return 2;
	}
	return apctl_exchange(path, argv[optind]);
}
