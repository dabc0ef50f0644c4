/* check.c - checking an archive through the configured decompressor. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "format.h"
#include "io.h"
#include "spawn.h"

/* What the file at FD is, before anything reads it as an archive: a
 * folder or a device is the wrong path (not a damaged archive); an empty
 * file or one that is not gzip is no backup.  Returns 0, or -1 with ERR
 * and U->damaged telling which. */
static int
check_input(int fd, const char *path, struct unpacked *u, char *err,
    size_t elen)
{
	unsigned char magic[2];
	struct stat st;
	ssize_t n;

	memset(u, 0, sizeof *u);
	if (fstat(fd, &st) < 0) {
		snprintf(err, elen, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, elen, "'%s' is a folder, not an archive: give the "
		    "path of a %sYYYYMMDDhhmmss%s file, or 'latest'", path,
		    FORMAT_PREFIX, FORMAT_SUFFIX);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, elen, "'%s' is not a regular file, so not an "
		    "archive", path);
		return -1;
	}
	u->damaged = 1;
	if (st.st_size == 0) {
		snprintf(err, elen, "'%s' is empty, so not a backup archive",
		    path);
		return -1;
	}
	n = io_pread(fd, magic, sizeof magic, 0);
	if (n < 0) {
		u->damaged = 0;
		snprintf(err, elen, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (n < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
		snprintf(err, elen, "'%s' is not gzip-compressed, so not a "
		    "backup archive", path);
		return -1;
	}
	u->damaged = 0;
	return 0;
}

struct unpack *
check_begin(const struct config *c, int fd, const char *path,
    const struct unpack_opts *o, struct unpacked *u, char *err, size_t elen)
{
	char zip[PATH_MAX];
	char **envp;
	struct unpack *p;

	if (check_input(fd, path, u, err, elen) < 0)
		return NULL;
	envp = spawn_env();
	if (envp == NULL) {
		memset(u, 0, sizeof *u);	/* not the archive's fault */
		snprintf(err, elen, "out of memory");
		return NULL;
	}
	config_decompressor(c, envp, zip, sizeof zip);
	/* The environment is needed only to start the decompressor. */
	p = unpack_begin(fd, path, zip, envp, o, u, err, elen);
	spawn_env_free(envp);
	return p;
}

int
check_archive(const struct config *c, const char *path, struct unpacked *u,
    char *err, size_t elen)
{
	return check_list(c, path, NULL, NULL, u, err, elen);
}

int
check_list(const struct config *c, const char *path,
    void (*on_member)(void *, const struct unpack_entry *), void *arg,
    struct unpacked *u, char *err, size_t elen)
{
	const struct unpack_opts o = { .stage = -1, .on_member = on_member,
		.arg = arg };
	struct unpack *p;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		memset(u, 0, sizeof *u);
		snprintf(err, elen, "'%s' cannot be read: %s", path,
		    strerror(errno));
		return -1;
	}
	p = check_begin(c, fd, path, &o, u, err, elen);
	if (p == NULL) {
		close(fd);
		return -1;
	}
	rc = unpack_rest(p);
	close(fd);
	return rc;
}

int
check_kind(const struct config *c, const char *path, time_t *created)
{
	const struct unpack_opts o = { .stage = -1 };
	struct unpacked u;
	struct unpack *p;
	char err[512];
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	p = check_begin(c, fd, path, &o, &u, err, sizeof err);
	*created = 0;
	if (p != NULL)
		rc = unpack_peek(p, created);
	close(fd);
	return rc;
}

int
check_sound(void *arg, const char *path, char *err, size_t elen)
{
	struct unpacked u;

	return check_archive(arg, path, &u, err, elen) == 0;
}
