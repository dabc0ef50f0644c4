/* io.c - EINTR-safe reads, writes and waits; durable directories. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"

volatile sig_atomic_t io_stop_signal;

void
io_note_signal(int sig)
{
	if (io_stop_signal == 0)
		io_stop_signal = sig;
}

/* Whether a call that failed with errno E should be made again. */
static int
again(int e)
{
	return e == EINTR && io_stop_signal == 0;
}

ssize_t
io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && again(errno));
	return n;
}

ssize_t
io_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = io_read(fd, p + done, len - done);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int
io_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (again(errno))
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

pid_t
io_waitpid(pid_t pid, int *status, int flags)
{
	pid_t r;

	/* A signal must not leave a zombie behind: keep waiting even when
	 * a stop was requested; the children are sent a signal then. */
	do
		r = waitpid(pid, status, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

int
io_fsync_dir(const char *dir)
{
	int fd, r, e;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
io_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return io_fsync_dir(".");
	if (slash == path)
		return io_fsync_dir("/");
	if ((size_t)(slash - path) >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return io_fsync_dir(dir);
}

char *
io_slurp(int at, const char *name, size_t max, int nofollow)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, e;

	fd = openat(at, name, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	n = io_read_full(fd, buf, (size_t)st.st_size);
	if (n < 0)
		goto fail;
	buf[n] = '\0';
	close(fd);
	return buf;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return NULL;
}
