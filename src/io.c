/* io.c - EINTR-safe reads, writes and waits; files replaced, made and
 * removed safely. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <signal.h>
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
io_pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, off);
	while (n < 0 && again(errno));
	return n;
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

/* Copies the bytes of FROM from OFF up to END to TO, at TO's offset,
 * through a buffer, front first: FROM and TO may be one file, with the
 * copy lower down.  Returns 0, or -1 with errno set (EIO when FROM ends
 * early). */
static int
copy_through(int from, off_t off, off_t end, int to)
{
	char buf[64 * 1024];

	while (off < end) {
		size_t want = end - off < (off_t)sizeof buf ?
		    (size_t)(end - off) : sizeof buf;
		ssize_t n = io_pread(from, buf, want, off);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (io_write_all(to, buf, (size_t)n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

int
io_close_gap(int fd, off_t at, off_t gap, int *moved)
{
	struct stat st;
	off_t len;

	if (fstat(fd, &st) < 0)
		return -1;
	if (gap < 0 || at < 0 || at + gap > st.st_size) {
		errno = EINVAL;
		return -1;
	}
	len = st.st_size - at - gap;
	*moved = 0;
	if (gap > 0 && fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, at, gap) < 0) {
		/* Only "cannot here" leads to the copy. */
		if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS)
			return -1;
		*moved = 1;
		if (lseek(fd, at, SEEK_SET) < 0 ||
		    copy_through(fd, at + gap, at + gap + len, fd) < 0 ||
		    ftruncate(fd, at + len) < 0)
			return -1;
	}
	return lseek(fd, at + len, SEEK_SET) < 0 ? -1 : 0;
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
io_parent(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, len, ".");
	else
		n = snprintf(out, len, "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
io_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];

	if (io_parent(path, dir, sizeof dir) < 0)
		return -1;
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

/* Copies the file FROM to the new file TO, with ST's mode and (as root)
 * owner, synced.  Returns 0 or -1 with errno set (TO then gone). */
static int
copy_file(const char *from, const char *to, const struct stat *st)
{
	int in, out, e;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	if (io_append(in, out) < 0 || (geteuid() == 0 && fchown(out,
	    st->st_uid, st->st_gid) < 0) ||
	    fchmod(out, st->st_mode & 0777) < 0 || fsync(out) < 0) {
		e = errno;
		close(in);
		close(out);
		unlink(to);
		errno = e;
		return -1;
	}
	close(in);
	return close(out);
}

int
io_replace(const char *path, const void *data, size_t len, mode_t mode,
    int flags, const char *keep)
{
	char tmp[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int fd, e, have = 1;

	/* A symbolic link (configuration management's) stays as it is: its
	 * target is what is replaced, in the target's own folder. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (realpath(path, real) == NULL)
			return -1;
		path = real;
	}
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return -1;
		have = 0;
	}
	if (!have || !(flags & IO_LIKE_OLD)) {
		st.st_mode = mode;
		st.st_uid = geteuid();
		st.st_gid = getegid();
	}
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.polarity-XXXXXX", path) >=
	    sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Never more open than the file it replaces: a .env holds
	 * secrets. */
	if ((geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
	    fchmod(fd, st.st_mode & 0777) < 0 ||
	    io_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	e = close(fd);
	fd = -1;
	if (e < 0)
		goto fail;
	/* The old file stays as KEEP: a second name of it, or where that
	 * cannot be (another file system), a copy. */
	if (have && keep && link(path, keep) < 0 && (errno != EXDEV ||
	    copy_file(path, keep, &st) < 0))
		goto fail;
	if (rename(tmp, path) < 0) {
		e = errno;
		if (have && keep)
			unlink(keep);
		errno = e;
		goto fail;
	}
	return io_fsync_dir_of(path);
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int
io_append(int from, int to)
{
	loff_t off = 0;
	struct stat st;
	ssize_t n;

	if (fstat(from, &st) < 0)
		return -1;
	while (off < st.st_size) {
		n = copy_file_range(from, &off, to, NULL,
		    (size_t)(st.st_size - off), 0);
		if (n > 0)
			continue;
		if (n == 0) {
			errno = EIO;	/* FROM shrank under us */
			return -1;
		}
		if (errno == EINTR && !io_stop_signal)
			continue;
		/* Across file systems, or where the kernel cannot: copy. */
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return -1;
		break;
	}
	return copy_through(from, off, st.st_size, to);
}

int
io_tmpfile(const char *dir, const char *prefix, int flags, char *name,
    size_t len)
{
	char path[PATH_MAX];
	int fd;

	if (name == NULL || access("/proc/self/fd", X_OK) == 0) {
		fd = open(dir, O_TMPFILE | flags | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (name)
				name[0] = '\0';
			return fd;
		}
		/* Only "this file system cannot" leads to the fallback. */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -1;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/.%sXXXXXX.tmp", dir,
	    prefix) >= sizeof path || (name && strlen(path) >= len)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemps(path, 4, (flags & ~O_ACCMODE) | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (name)
		memcpy(name, path, strlen(path) + 1);
	else
		unlink(path);
	return fd;
}

void
io_sweep(int dirfd, const char *prefix, const char *suffix,
    void (*removed)(void *arg, const char *name), void *arg)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	size_t plen = strlen(prefix), slen = strlen(suffix);
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n < plen + slen || strncmp(de->d_name, prefix, plen) != 0 ||
		    strcmp(de->d_name + n - slen, suffix) != 0)
			continue;
		if (io_remove_tree(dirfd, de->d_name) == 0 && removed)
			removed(arg, de->d_name);
	}
	closedir(d);
}

int
io_remove_tree(int at, const char *name)
{
	struct stat st;
	int fd, e;
	DIR *d;
	struct dirent *de;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A folder we made read-only must still be emptied. */
	(void)fchmod(fd, 0700);
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (io_remove_tree(dirfd(d), de->d_name) < 0) {
			e = errno;
			closedir(d);
			errno = e;
			return -1;
		}
	}
	closedir(d);
	return unlinkat(at, name, AT_REMOVEDIR);
}

void
io_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void *
flush_run(void *arg)
{
	struct io_flush *f = arg;

	f->rc = syncfs(f->fd);
	f->err = f->rc < 0 ? errno : 0;
	return NULL;
}

int
io_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int e;

	/* The new thread inherits the mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

void
io_flush_start(struct io_flush *f, int fd)
{
	f->fd = fd;
	f->rc = -1;
	f->err = 0;
	f->started = io_thread_start(&f->thread, flush_run, f) == 0;
}

int
io_flush_wait(struct io_flush *f)
{
	if (!f->started) {
		flush_run(f);
	} else {
		pthread_join(f->thread, NULL);
		f->started = 0;
	}
	errno = f->err;
	return f->rc;
}

void
io_test_point(const char *point)
{
	const char *at = getenv("POLARITY_TEST_KILL_AT");

	if (at && strcmp(at, point) == 0)
		raise(SIGKILL);
}

static uint64_t tree_bytes;

static int
tree_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	tree_bytes += (uint64_t)st->st_blocks * 512;
	return 0;
}

int
io_tree_size(const char *path, uint64_t *bytes)
{
	int rc;

	tree_bytes = 0;
	rc = nftw(path, tree_add, 16, FTW_PHYS);
	*bytes = tree_bytes;
	return rc == 0 ? 0 : -1;
}
