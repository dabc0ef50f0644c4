/* backup.h - writing one backup archive.
 *
 * backup_run() takes the lock, reads the .env, dumps the database inside
 * one snapshot, and writes BACKUP_DIR/polarity-server-backup-STAMP.tgz
 * with the .env, the integrations tree, the roles, the dumps and the
 * manifest.  The archive appears under its final name only once complete
 * and on disk; until then it has no name at all, so a crash, a kill or a
 * power cut leaves nothing that looks like a backup.
 */
#ifndef POLARITY_BACKUP_H
#define POLARITY_BACKUP_H

#include <stddef.h>

#include "config.h"

enum backup_result {
	BACKUP_OK = 0,
	BACKUP_FAILED,		/* ERR says why */
	BACKUP_BUSY,		/* another run holds the lock */
	BACKUP_INTERRUPTED,	/* a signal asked us to stop */
};

/* Makes a backup as C says.  On success writes the archive's absolute
 * path to PATH (LEN bytes).  Otherwise ERR (ELEN bytes) holds one line
 * saying what failed, and nothing was left in the backup directory. */
enum backup_result backup_run(const struct config *c, char *path,
    size_t len, char *err, size_t elen);

/* Makes sure the backup folder DIR exists, creating it mode 0700 when
 * missing (not its parents).  Returns 0, or -1 with ERR saying why. */
int backup_dir_ensure(const char *dir, char *err, size_t elen);

/* Writes the archive name for the local time T ("polarity-server-backup-
 * YYYYmmddHHMMSS.tgz") to OUT.  Returns 0, or -1 when OUT is too small. */
int backup_name(long long t, char *out, size_t len);

#endif
