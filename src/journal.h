/* journal.h - the record of a restore's commit, for undo and recovery.
 *
 * A restore writes, beside its lock in the backup folder, what its commit
 * is about to replace and where each thing goes, before it replaces
 * anything, and again as each step is done; each write is whole (temp
 * name, fsync, rename, fsync of the folder).  So a restore killed in the
 * middle of its commit (SIGKILL, a power cut) leaves a record that says
 * so, and "polarity undo" finds from it, step by step, what was done and
 * puts back what was replaced.  One record: the most recent restore's.
 *
 * Where a step stands is read from the things themselves where it can be
 * (which database names exist, which folder is where by its inode),
 * since a kill can fall between a step and its record.
 */
#ifndef POLARITY_JOURNAL_H
#define POLARITY_JOURNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_NAME ".polarity-restore.journal"

enum journal_state {
	JOURNAL_NONE,		/* no record */
	JOURNAL_COMMITTING,	/* a commit began and did not end */
	JOURNAL_COMPLETE,	/* the restore went through */
	JOURNAL_ROLLED_BACK,	/* its commit failed and was undone */
	JOURNAL_UNDONE,		/* undo reversed it */
	JOURNAL_CLEANED		/* cleanup removed what undo needs */
};

struct journal {
	enum journal_state state;
	char stamp[24];			/* the restore's */
	char archive[PATH_MAX];
	char steps[8];			/* "d", "i", "e": those it takes */
	char done[8];			/* those recorded done */
	/* The database step. */
	char db_target[64], db_restored[64], db_kept[64];
	int db_existed;
	int db_dropped;			/* dropped before the load
					 * (--drop-first): gone for good */
	char db_env[PATH_MAX];		/* the .env whose settings it
					 * connected with, as it is now */
	/* The integrations step. */
	char integ_live[PATH_MAX], integ_staged[PATH_MAX];
	char integ_kept[PATH_MAX];	/* "" when there was none */
	char stage[PATH_MAX];		/* the staging folder */
	uint64_t integ_old_dev, integ_old_ino;	/* the tree replaced */
	uint64_t integ_new_dev, integ_new_ino;	/* the tree restored */
	/* The .env step. */
	char env_live[PATH_MAX];
	char env_kept[PATH_MAX];	/* "" when there was none */
	char undo_stamp[24];		/* undo's, once it ran */
};

/* Writes J as the record in the folder DIR, whole or not at all.
 * Returns 0, or -1 with ERR. */
int journal_write(const char *dir, const struct journal *j, char *err,
    size_t elen);

/* Reads the record in DIR into J.  Returns 1 when there is one, 0 when
 * there is none (J->state JOURNAL_NONE), -1 with ERR when it cannot be
 * read or makes no sense. */
int journal_read(const char *dir, struct journal *j, char *err, size_t elen);

/* A word for STATE, for messages. */
const char *journal_state_word(enum journal_state state);

#endif
