/* backup.h - writing one backup archive, and what comes after it.
 *
 * backup_run() takes the lock, reads the .env, dumps the database inside
 * one snapshot, and writes BACKUP_DIR/polarity-server-backup-STAMP.tgz
 * with the .env, the integrations tree, the roles, the dumps and the
 * manifest.  The archive appears under its final name only once complete
 * and on disk; until then it has no name at all, so a crash, a kill or a
 * power cut leaves nothing that looks like a backup.
 *
 * Then, as the configuration asks: old archives are pruned (still under
 * the lock, and only after a success), the hook is run with the new
 * archive's path, and the status file is written (after every run).
 */
#ifndef POLARITY_BACKUP_H
#define POLARITY_BACKUP_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum backup_result {
	BACKUP_OK = 0,
	BACKUP_FAILED,		/* ERR says why */
	BACKUP_BUSY,		/* another run holds the lock */
	BACKUP_INTERRUPTED,	/* a signal asked us to stop */
	BACKUP_AFTER_FAILED,	/* the archive is written, but pruning or
				 * the hook failed: ERR says which */
};

/* Makes a backup as C says.  On success writes the archive's absolute
 * path to PATH (LEN bytes), and to ERR a note for the last line ("" or
 * how many integrations files vanished or changed while archived).
 * Otherwise ERR (ELEN bytes) holds one line saying what failed, and
 * nothing was left in the backup directory. */
enum backup_result backup_run(const struct config *c, char *path,
    size_t len, char *err, size_t elen);

/* Removes the archives that C's retention rules (keep, keep_days) do not
 * keep, never the newest one that verifies, under the lock; with DRY_RUN
 * removes nothing.  Writes "removed PATH" (or "would remove PATH") lines
 * to OUT (NULL: nowhere).  Returns the count, or -1 with ERR saying why. */
int backup_prune(const struct config *c, int dry_run, FILE *out, char *err,
    size_t elen);

#endif
