/* swap.h - putting restored things in place, all of them or none.
 *
 * A restore's last part is a commit: steps run in order (the database,
 * the integrations, the .env), each one undoable, and when one fails
 * those before it are undone, last first, so that the server is as it
 * was.  Signals wait until the commit is over.  What a step replaces is
 * kept under a dated name, one stamp for the whole restore.
 */
#ifndef POLARITY_SWAP_H
#define POLARITY_SWAP_H

#include <limits.h>
#include <stddef.h>

/* One step of a commit.  APPLY returns 0, or -1 with ERR (ELEN bytes)
 * saying why; UNDO (or NULL: nothing to undo) reverses an APPLY that
 * succeeded. */
struct swap_step {
	int (*apply)(void *arg, char *err, size_t elen);
	void (*undo)(void *arg);
	void *arg;
};

/* Runs the N STEPS in order with SIGINT, SIGTERM and SIGHUP held back;
 * on the first failure undoes the steps done, last first.  Returns 0, or
 * -1 with the failing step's ERR. */
int swap_commit(const struct swap_step *steps, size_t n, char *err,
    size_t elen);

/* Picks the stamp that everything a restore keeps is named with: STAMP
 * itself, else STAMP_2, STAMP_3 ... STAMP_99 (two restores in one
 * second).  TAKEN(ARG, CANDIDATE) returns 1 when a name made from the
 * candidate is in use, 0 when all are free, -1 on a failure of its own.
 * Returns 0 with the choice in STAMP (LEN bytes), -1 when TAKEN failed,
 * or -2 when every candidate is taken. */
int swap_choose_stamp(char *stamp, size_t len,
    int (*taken)(void *arg, const char *candidate), void *arg);

/* The integrations folder LIVE and the restored tree STAGED (in the same
 * file system) that takes its place. */
struct swap_dir {
	const char *live;
	const char *staged;
	char kept[PATH_MAX];	/* where the old tree went, "" when there
				 * was none */
};

/* Moves STAGED to LIVE in one atomic exchange, and the old tree to
 * LIVE.before-restore-STAMP (D->kept).  Returns 0 or -1 with ERR. */
int swap_dir_apply(struct swap_dir *d, const char *stamp, char *err,
    size_t elen);

/* Undoes swap_dir_apply(); logs what it cannot. */
void swap_dir_undo(struct swap_dir *d);

#endif
