/* swap.c - commit and undo; folders exchanged, files replaced. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "swap.h"

int
swap_commit(const struct swap_step *steps, size_t n, char *err, size_t elen)
{
	sigset_t block, old;
	size_t done;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (done = 0; done < n; done++)
		if (steps[done].apply(steps[done].arg, err, elen) < 0) {
			rc = -1;
			break;
		}
	if (rc < 0)
		while (done-- > 0)
			if (steps[done].undo)
				steps[done].undo(steps[done].arg);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
swap_choose_stamp(char *stamp, size_t len,
    int (*taken)(void *arg, const char *candidate), void *arg)
{
	char base[32];

	snprintf(base, sizeof base, "%s", stamp);
	for (int i = 1; i < 100; i++) {
		int t;
		if (i > 1)
			snprintf(stamp, len, "%s_%d", base, i);
		t = taken(arg, stamp);
		if (t < 0)
			return -1;
		if (t == 0)
			return 0;
	}
	return -2;
}

int
swap_dir_apply(struct swap_dir *d, const char *stamp, char *err, size_t elen)
{
	char parent[PATH_MAX];
	struct stat st;

	snprintf(d->kept, sizeof d->kept, "%s.before-restore-%s", d->live,
	    stamp);
	if (lstat(d->live, &st) < 0) {
		d->kept[0] = '\0';
		if (errno != ENOENT) {
			snprintf(err, elen, "cannot use '%s': %s", d->live,
			    strerror(errno));
			return -1;
		}
		if (rename(d->staged, d->live) < 0) {
			snprintf(err, elen, "cannot move the integrations to "
			    "'%s': %s", d->live, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* One atomic exchange: at every instant a whole tree is there. */
	if (renameat2(AT_FDCWD, d->staged, AT_FDCWD, d->live,
	    RENAME_EXCHANGE) < 0) {
		snprintf(err, elen, "cannot swap the integrations into '%s': %s",
		    d->live, strerror(errno));
		d->kept[0] = '\0';
		return -1;
	}
	io_test_point("integrations-exchanged");
	if (rename(d->staged, d->kept) < 0) {
		int e = errno;
		renameat2(AT_FDCWD, d->staged, AT_FDCWD, d->live,
		    RENAME_EXCHANGE);
		snprintf(err, elen, "cannot keep the current integrations as "
		    "'%s': %s", d->kept, strerror(e));
		d->kept[0] = '\0';
		return -1;
	}
	io_parent(d->live, parent, sizeof parent);
	io_fsync_dir(parent);
	return 0;
}

void
swap_dir_undo(struct swap_dir *d)
{
	if (rename(d->live, d->staged) < 0 || (d->kept[0] &&
	    rename(d->kept, d->live) < 0))
		log_error("could not put the integrations back: move '%s' to "
		    "'%s' by hand", d->kept, d->live);
	else
		d->kept[0] = '\0';
}
