/* labrt: the per-run runtime folder for unix sockets, the lab index locks, who holds a port. */
#define LOG_MODULE "labrt"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "labrt.h"

static char labrt_base_path[256];
static char labrt_dir_path[300];
static pid_t labrt_owner;

const char *labrt_base(void)
{
	const char *env = getenv("PICLAB_RUNTIME");

	if (labrt_base_path[0])
		return labrt_base_path;
	if (env && *env && strlen(env) < 200) {
		snprintf(labrt_base_path, sizeof(labrt_base_path), "%s", env);
		mkdir(labrt_base_path, 0755);
		return labrt_base_path;
	}
	snprintf(labrt_base_path, sizeof(labrt_base_path), "/run/piclab");
	if (mkdir(labrt_base_path, 0755) == 0 || (errno == EEXIST &&
						   access(labrt_base_path, W_OK | X_OK) == 0))
		return labrt_base_path;
	snprintf(labrt_base_path, sizeof(labrt_base_path), "/tmp/piclab-%u", (unsigned)getuid());
	mkdir(labrt_base_path, 0700);
	return labrt_base_path;
}

/* Everything in a runtime folder is flat: sockets and small files, no subfolders. */
static void labrt_rmdir(const char *dir)
{
	char path[600];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Folders of processes that died without cleaning up (killed, crashed). */
static void labrt_sweep(const char *base)
{
	struct dirent *de;
	DIR *d = opendir(base);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end, path[600];
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
		labrt_rmdir(path);
	}
	closedir(d);
}

void labrt_cleanup(void)
{
	/* a forked worker inherits the path but not the folder's ownership */
	if (!labrt_dir_path[0] || labrt_owner != getpid())
		return;
	labrt_rmdir(labrt_dir_path);
	labrt_dir_path[0] = '\0';
}

const char *labrt_dir(void)
{
	const char *base;

	if (labrt_dir_path[0])
		return labrt_dir_path;
	base = labrt_base();
	labrt_sweep(base);
	snprintf(labrt_dir_path, sizeof(labrt_dir_path), "%s/%d", base, (int)getpid());
	if (mkdir(labrt_dir_path, 0700) != 0 && errno != EEXIST) {
		int err = errno;

		log_warn("runtime folder %s: %s", labrt_dir_path, strerror(err));
		labrt_dir_path[0] = '\0';
		errno = err;
		return NULL;
	}
	/* a folder left by an earlier process with the same pid must not widen access */
	chmod(labrt_dir_path, 0700);
	if (!labrt_owner)
		atexit(labrt_cleanup);
	labrt_owner = getpid();
	return labrt_dir_path;
}

/* "pid N: command line" of this process, for the lock file. */
static void labrt_self(char *buf, size_t size)
{
	char cmd[512];
	size_t n = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t r = read(fd, cmd, sizeof(cmd) - 1);

		n = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	cmd[n] = '\0';
	for (size_t i = 0; n && i < n - 1; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	snprintf(buf, size, "pid %d: %s", (int)getpid(), n ? cmd : "?");
}

int labrt_lock(unsigned index, int *fdp, char *holder, size_t hsize)
{
	char path[400], self[600];
	int fd, err;

	if (holder && hsize)
		holder[0] = '\0';
	snprintf(path, sizeof(path), "%s/lab-%u.lock", labrt_base(), index);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		err = errno == EWOULDBLOCK ? EBUSY : errno;
		if (err == EBUSY && holder && hsize) {
			ssize_t n = pread(fd, holder, hsize - 1, 0);

			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			if (!holder[0])
				snprintf(holder, hsize, "a process that holds %s", path);
		}
		close(fd);
		return err;
	}
	labrt_self(self, sizeof(self));
	if (ftruncate(fd, 0) != 0 || pwrite(fd, self, strlen(self), 0) < 0 ||
	    pwrite(fd, "\n", 1, (off_t)strlen(self)) < 0)
		log_debug("lock file %s: %s", path, strerror(errno));
	*fdp = fd;
	return 0;
}

void labrt_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* The socket inode bound to ip:port in /proc/net/<proto> (or on the wildcard address). */
static unsigned long labrt_port_inode(const char *proto, const char *ip, unsigned port)
{
	char path[64], line[512];
	struct in_addr want;
	unsigned long inode = 0;
	FILE *f;

	if (inet_pton(AF_INET, ip, &want) != 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/net/%s", proto);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!inode && fgets(line, sizeof(line), f)) {
		unsigned a, p, st;
		unsigned long ino;

		/* sl local rem st tx:rx tr:when retr uid timeout inode */
		if (sscanf(line, " %*d: %8X:%4X %*8X:%*4X %2X %*s %*s %*s %*u %*u %lu", &a, &p, &st,
			   &ino) != 4)
			continue;
		if (p != port || (a != want.s_addr && a != 0))
			continue;
		/* TCP: only a listener (state 0A) holds the port for bind */
		if (!strcmp(proto, "tcp") && st != 0x0A)
			continue;
		inode = ino;
	}
	fclose(f);
	return inode;
}

void labrt_port_holder(const char *proto, const char *ip, unsigned port, char *buf, size_t size)
{
	unsigned long inode = labrt_port_inode(proto, ip, port);
	char want[64];
	struct dirent *de;
	DIR *proc;

	buf[0] = '\0';
	if (!inode || !(proc = opendir("/proc")))
		return;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!buf[0] && (de = readdir(proc))) {
		char fdir[300], link[600], target[64];
		struct dirent *fe;
		DIR *fds;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(fdir, sizeof(fdir), "/proc/%s/fd", de->d_name);
		if (!(fds = opendir(fdir)))
			continue;
		while ((fe = readdir(fds))) {
			ssize_t n;

			snprintf(link, sizeof(link), "%s/%s", fdir, fe->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			if (strcmp(target, want) == 0) {
				char comm[64] = "?", cpath[300];
				FILE *cf;

				snprintf(cpath, sizeof(cpath), "/proc/%s/comm", de->d_name);
				cf = fopen(cpath, "r");
				if (cf) {
					if (fgets(comm, sizeof(comm), cf))
						comm[strcspn(comm, "\n")] = '\0';
					fclose(cf);
				}
				snprintf(buf, size, "pid %s (%s)", de->d_name, comm);
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
}
