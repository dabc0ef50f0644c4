/* check.c - checking an archive through the configured decompressor. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "spawn.h"

struct unpack *
check_begin(const struct config *c, int fd, const char *path,
    const struct unpack_opts *o, struct unpacked *u, char *err, size_t elen)
{
	char zip[PATH_MAX];
	char **envp = spawn_env();
	struct unpack *p;

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
	const struct unpack_opts o = { .stage = -1 };
	struct unpack *p;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		memset(u, 0, sizeof *u);
		snprintf(err, elen, "cannot read '%s': %s", path,
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
check_sound(void *arg, const char *path, char *err, size_t elen)
{
	struct unpacked u;

	return check_archive(arg, path, &u, err, elen) == 0;
}
