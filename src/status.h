/* status.h - the outcome of each backup, for monitoring.
 *
 * The status file is in the Prometheus node_exporter textfile format, so
 * that existing monitoring can alert on a failed or missing backup.  It is
 * replaced atomically after every backup, and remembers the last success
 * across failures.
 */
#ifndef POLARITY_STATUS_H
#define POLARITY_STATUS_H

#include <stddef.h>
#include <time.h>

struct status {
	int ok;			/* the backup succeeded */
	time_t end;		/* when it ended */
	double duration;	/* seconds it took */
	long long size;		/* the archive's size, when ok */
	unsigned long vanished;	/* integrations files gone while archived */
	unsigned long changed;	/* and changed while read */
};

/* Writes S to the file PATH (mode 0644: monitoring must read it, and it
 * holds no secret).  Returns 0, or -1 with ERR saying why. */
int status_write(const char *path, const struct status *s, char *err,
    size_t len);

/* Reads the status file PATH back: the last run into S (its size only
 * when it succeeded) and when the last success ended into *LAST_OK (0:
 * never).  Returns 0, or -1 with errno set (EINVAL: not a status file of
 * ours). */
int status_read(const char *path, struct status *s, time_t *last_ok);

#endif
