/* catalog.c - archives in the backup folder. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "catalog.h"
#include "io.h"
#include "log.h"

int
catalog_dir_ensure(const char *dir, char *err, size_t elen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		log_step("created backup directory '%s'", dir);
		if (io_fsync_dir_of(dir) == 0)
			return 0;
	} else if (errno == EEXIST && stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
	}
	snprintf(err, elen, "cannot use backup directory '%s': %s", dir,
	    strerror(errno));
	return -1;
}

static int
newest_first(const void *a, const void *b)
{
	/* The names sort as their dates. */
	return -strcmp(((const struct catalog_entry *)a)->name,
	    ((const struct catalog_entry *)b)->name);
}

int
catalog_scan(const char *dir, struct catalog_entry **v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct catalog_entry *e = NULL;
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		time_t when;
		if (!format_parse_name(de->d_name, &when) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			struct catalog_entry *ne = realloc(e, cap * sizeof *e);
			if (ne == NULL) {
				free(e);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			e = ne;
		}
		memset(&e[*n], 0, sizeof *e);
		snprintf(e[*n].name, sizeof e[*n].name, "%s", de->d_name);
		e[*n].when = when;
		e[*n].size = st.st_size;
		e[*n].verified = -1;
		e[*n].kind = -1;
		e[*n].keep = 1;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(e, *n, sizeof *e, newest_first);
	*v = e;
	return 0;
}

size_t
catalog_plan(struct catalog_entry *v, size_t n, int keep, int keep_days,
    time_t now, const char *dir, catalog_check check, void *arg)
{
	size_t remove = 0;

	for (size_t i = 0; i < n; i++) {
		v[i].keep = 0;
		v[i].why = NULL;
		if (keep > 0 && i < (size_t)keep) {
			v[i].keep = 1;
			v[i].why = "one of the newest";
		} else if (keep_days > 0 &&
		    v[i].when > now - (time_t)keep_days * 86400) {
			v[i].keep = 1;
			v[i].why = "young enough";
		}
	}
	/* Whatever the rules say, the newest sound archive stays: a backup
	 * folder must never end up with nothing to restore. */
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
		v[i].verified = check(arg, path, v[i].error,
		    sizeof v[i].error) ? 1 : 0;
		if (v[i].verified) {
			if (!v[i].keep) {
				v[i].keep = 1;
				v[i].why = "the newest sound archive";
			}
			break;
		}
	}
	for (size_t i = 0; i < n; i++)
		remove += !v[i].keep;
	return remove;
}

int
catalog_prune(const char *dir, int keep, int keep_days, int dry_run,
    catalog_check check, void *arg, FILE *out, char *err, size_t elen)
{
	struct catalog_entry *v;
	size_t n, gone = 0;
	int rc = 0;

	if (catalog_scan(dir, &v, &n) < 0) {
		snprintf(err, elen, "cannot list '%s': %s", dir,
		    strerror(errno));
		return -1;
	}
	catalog_plan(v, n, keep, keep_days, time(NULL), dir, check, arg);
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		if (v[i].keep)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
		if (dry_run) {
			if (out)
				fprintf(out, "would remove %s\n", path);
			gone++;
			continue;
		}
		if (unlink(path) < 0) {
			snprintf(err, elen, "cannot remove '%s': %s", path,
			    strerror(errno));
			rc = -1;
			break;
		}
		log_step("removed '%s'", path);
		if (out)
			fprintf(out, "removed %s\n", path);
		gone++;
	}
	free(v);
	if (rc == 0 && !dry_run && gone > 0 && io_fsync_dir(dir) < 0)
		log_warn("cannot sync '%s': %s", dir, strerror(errno));
	return rc < 0 ? -1 : (int)gone;
}

/* T in local time, as ISO 8601 or with a space for people. */
static void
local_time(time_t t, char *out, size_t len, int iso)
{
	struct tm tm;
	char off[8];

	localtime_r(&t, &tm);
	strftime(off, sizeof off, "%z", &tm);
	if (iso) {
		strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
		/* ISO 8601 spells the offset with a colon. */
		snprintf(out + strlen(out), len - strlen(out), "%.3s:%s", off,
		    off + 3);
	} else {
		strftime(out, len, "%Y-%m-%d %H:%M:%S %z", &tm);
	}
}

/* When E was made: what it records, else what its name says. */
static time_t
made(const struct catalog_entry *e)
{
	return e->created ? e->created : e->when;
}

/* The KIND column: whose archive it is. */
static const char *
kind_word(int kind)
{
	return kind < 0 ? "?" : kind ? "legacy" : "polarity";
}

void
catalog_json(FILE *f, const char *dir, const struct catalog_entry *v, size_t n)
{
	fputs("[", f);
	for (size_t i = 0; i < n; i++) {
		char when[32], path[PATH_MAX];
		local_time(made(&v[i]), when, sizeof when, 1);
		snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
		fputs(i ? ",\n {" : "\n {", f);
		fputs("\"archive\": ", f);
		io_json_string(f, v[i].name);
		fputs(", \"path\": ", f);
		io_json_string(f, path);
		fprintf(f, ", \"created\": \"%s\", \"created_unix\": %lld, "
		    "\"size\": %lld, \"kind\": %s%s%s, \"verified\": %s", when,
		    (long long)made(&v[i]), (long long)v[i].size,
		    v[i].kind < 0 ? "" : "\"", v[i].kind < 0 ? "null" :
		    kind_word(v[i].kind), v[i].kind < 0 ? "" : "\"",
		    v[i].verified < 0 ? "null" : v[i].verified ? "true" :
		    "false");
		if (v[i].verified == 0) {
			fputs(", \"error\": ", f);
			io_json_string(f, v[i].error);
		}
		fputs("}", f);
	}
	fputs(n ? "\n]\n" : "]\n", f);
}

static void
human(off_t size, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double s = (double)size;
	int u = 0;

	while (s >= 1024 && u < 4) {
		s /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%lld B", (long long)size);
	else
		snprintf(out, len, "%.1f %s", s, unit[u]);
}

void
catalog_table(FILE *f, const struct catalog_entry *v, size_t n)
{
	fprintf(f, "%-25s  %10s  %-8s  %-8s  %s\n", "CREATED", "SIZE",
	    "STATUS", "KIND", "ARCHIVE");
	for (size_t i = 0; i < n; i++) {
		char when[32], size[32];
		local_time(made(&v[i]), when, sizeof when, 0);
		human(v[i].size, size, sizeof size);
		fprintf(f, "%-25s  %10s  %-8s  %-8s  %s%s%s\n", when, size,
		    v[i].verified < 0 ? "-" : v[i].verified ? "ok" : "DAMAGED",
		    kind_word(v[i].kind), v[i].name,
		    v[i].verified == 0 ? ": " : "",
		    v[i].verified == 0 ? v[i].error : "");
	}
}
