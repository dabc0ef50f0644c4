/* status.c - the node_exporter textfile. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "status.h"

#define M "polarity_backup_"

/* The value of METRIC in the previous file TEXT, or -1. */
static double
previous(const char *text, const char *metric)
{
	size_t n = strlen(metric);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, metric, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

int
status_write(const char *path, const struct status *s, char *err, size_t len)
{
	char *old, *text = NULL;
	size_t tlen = 0;
	double last_ok = -1, last_size = -1;
	FILE *f;
	int rc;

	old = io_slurp(AT_FDCWD, path, 1 << 20, 0);
	if (old != NULL) {
		last_ok = previous(old, M "last_success_timestamp_seconds");
		last_size = previous(old, M "last_success_size_bytes");
		free(old);
	}
	if (s->ok) {
		last_ok = (double)s->end;
		last_size = (double)s->size;
	}
	f = open_memstream(&text, &tlen);
	if (f == NULL)
		goto fail;
	fprintf(f,
	    "# HELP " M "last_run_timestamp_seconds When the last backup ended.\n"
	    "# TYPE " M "last_run_timestamp_seconds gauge\n"
	    M "last_run_timestamp_seconds %lld\n"
	    "# HELP " M "last_run_success 1 if the last backup succeeded, else 0.\n"
	    "# TYPE " M "last_run_success gauge\n"
	    M "last_run_success %d\n"
	    "# HELP " M "last_run_duration_seconds How long the last backup took.\n"
	    "# TYPE " M "last_run_duration_seconds gauge\n"
	    M "last_run_duration_seconds %.3f\n"
	    "# HELP " M "last_run_files_vanished Integrations files gone "
	    "while the last backup archived them (skipped).\n"
	    "# TYPE " M "last_run_files_vanished gauge\n"
	    M "last_run_files_vanished %lu\n"
	    "# HELP " M "last_run_files_changed Integrations files that "
	    "changed while the last backup read them.\n"
	    "# TYPE " M "last_run_files_changed gauge\n"
	    M "last_run_files_changed %lu\n",
	    (long long)s->end, s->ok, s->duration, s->vanished, s->changed);
	if (last_ok >= 0)
		fprintf(f,
		    "# HELP " M "last_success_timestamp_seconds When the last "
		    "successful backup ended.\n"
		    "# TYPE " M "last_success_timestamp_seconds gauge\n"
		    M "last_success_timestamp_seconds %.0f\n"
		    "# HELP " M "last_success_size_bytes The size of the last "
		    "successful backup's archive.\n"
		    "# TYPE " M "last_success_size_bytes gauge\n"
		    M "last_success_size_bytes %.0f\n", last_ok,
		    last_size < 0 ? 0 : last_size);
	if (fclose(f) != 0) {
		free(text);
		goto fail;
	}
	/* Monitoring must read it, and it holds no secret. */
	rc = io_replace(path, text, tlen, 0644, 0, NULL);
	free(text);
	if (rc == 0)
		return 0;
fail:
	snprintf(err, len, "cannot write the status file '%s': %s", path,
	    strerror(errno));
	return -1;
}

int
status_read(const char *path, struct status *s, time_t *last_ok)
{
	char *text = io_slurp(AT_FDCWD, path, 1 << 20, 0);
	double end, ok, dur, good, size;

	if (text == NULL)
		return -1;
	end = previous(text, M "last_run_timestamp_seconds");
	ok = previous(text, M "last_run_success");
	dur = previous(text, M "last_run_duration_seconds");
	good = previous(text, M "last_success_timestamp_seconds");
	size = previous(text, M "last_success_size_bytes");
	free(text);
	if (end < 0 || ok < 0) {
		errno = EINVAL;
		return -1;
	}
	s->end = (time_t)end;
	s->ok = ok > 0;
	s->duration = dur < 0 ? 0 : dur;
	s->size = s->ok && size > 0 ? (long long)size : 0;
	*last_ok = good < 0 ? 0 : (time_t)good;
	return 0;
}
