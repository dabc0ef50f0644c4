/* catalog.h - the archives in a backup folder: finding, listing, pruning.
 *
 * Only regular files whose name is exactly polarity-server-backup-
 * YYYYMMDDhhmmss.tgz, with a real date (format_parse_name()), count as
 * archives: nothing else in the folder is ever listed or removed.  The
 * date in the name (local time) is the archive's age.
 */
#ifndef POLARITY_CATALOG_H
#define POLARITY_CATALOG_H

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

struct catalog_entry {
	char name[64];
	time_t when;		/* from the name (local time) */
	time_t created;		/* when it was made, as it records it; 0:
				 * unknown (then the name's time stands) */
	off_t size;
	int verified;		/* -1 not checked, 0 damaged, 1 sound */
	int kind;		/* -1 unknown, 0 ours, 1 the original
				 * utility's (legacy) */
	char error[512];	/* why it is damaged */
	int keep;		/* pruning: 1 keep, 0 remove */
	const char *why;	/* pruning: the rule that keeps it */
};

/* Makes sure the backup folder DIR exists, creating it mode 0700 when
 * missing (not its parents).  Returns 0, or -1 with ERR saying why. */
int catalog_dir_ensure(const char *dir, char *err, size_t elen);

/* Lists the archives in DIR, newest first, into a new array *V (the
 * caller frees it) of *N entries.  Returns 0, or -1 with errno set. */
int catalog_scan(const char *dir, struct catalog_entry **v, size_t *n);

/* Checks an archive: returns 1 when sound, 0 when not (with the reason
 * in ERR).  A seam, so that tests can decide. */
typedef int (*catalog_check)(void *arg, const char *path, char *err,
    size_t elen);

/* Decides which of the N archives V (newest first) to keep: the KEEP
 * newest (0: no such rule), those younger than KEEP_DAYS days at NOW (0:
 * no such rule), and in any case the newest one that CHECK finds sound,
 * looked for from the newest down.  Sets keep and why of each entry.
 * Returns the count to remove. */
size_t catalog_plan(struct catalog_entry *v, size_t n, int keep,
    int keep_days, time_t now, const char *dir, catalog_check check,
    void *arg);

/* Removes from DIR the archives catalog_plan() does not keep, writing
 * "removed PATH" lines (with DRY_RUN, "would remove PATH", and nothing is
 * removed) to OUT unless it is NULL.  The caller holds the lock.  Returns
 * the count, or -1 with ERR saying why. */
int catalog_prune(const char *dir, int keep, int keep_days, int dry_run,
    catalog_check check, void *arg, FILE *out, char *err, size_t elen);

/* Writes the N entries as a JSON array to F: "created" in ISO 8601 with
 * its offset, "created_unix" the moment itself. */
void catalog_json(FILE *f, const char *dir, const struct catalog_entry *v,
    size_t n);

/* Writes the N entries as a table to F, times with their offset. */
void catalog_table(FILE *f, const struct catalog_entry *v, size_t n);

#endif
