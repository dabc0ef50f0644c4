/* lock.c - the run lock. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "lock.h"

int
lock_take(const char *dir, const char *what, char *err, size_t len)
{
	char path[4096], who[256], when[64];
	struct tm tm;
	time_t now;
	ssize_t n;
	int fd, e;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME) >=
	    sizeof path) {
		snprintf(err, len, "path too long: '%s'", dir);
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		snprintf(err, len, "cannot open lock file '%s': %s", path,
		    strerror(e));
		errno = e;
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		if (e == EWOULDBLOCK) {
			n = pread(fd, who, sizeof who - 1, 0);
			who[n > 0 ? n : 0] = '\0';
			who[strcspn(who, "\n")] = '\0';
			snprintf(err, len, "another polarity run holds '%s': "
			    "%s; wait for it to finish", path,
			    who[0] ? who : "unknown");
		} else {
			snprintf(err, len, "cannot lock '%s': %s", path,
			    strerror(e));
		}
		close(fd);
		errno = e;
		return -1;
	}
	now = time(NULL);
	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(who, sizeof who, "%s (pid %ld, started %s)\n", what,
	    (long)getpid(), when);
	/* Who holds it is only advice for the message: failing to write it
	 * does not make the lock any less held. */
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, who, (size_t)n, 0);
	return fd;
}
