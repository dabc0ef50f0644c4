/* restore.h - checking an archive, and putting a server back from it.
 *
 * restore_run() never changes anything before the whole archive has been
 * checked (see check.h).  It then loads the database into a new database
 * beside the current one, and only once that loaded completely swaps the
 * names, moves the integrations and rewrites the database lines of .env.
 * What it replaces is kept under a dated name, and a failure at any step
 * puts back what the previous steps changed.
 */
#ifndef POLARITY_RESTORE_H
#define POLARITY_RESTORE_H

#include <stddef.h>

#include "config.h"

enum restore_result {
	RESTORE_OK = 0,
	RESTORE_FAILED,		/* ERR says why; nothing was lost */
	RESTORE_BUSY,		/* another run holds the lock */
	RESTORE_BAD_ARCHIVE,	/* the archive did not check out */
	RESTORE_DECLINED,	/* no --yes and no "yes" from a terminal */
	RESTORE_INTERRUPTED,	/* a signal asked us to stop */
	RESTORE_RESTART_FAILED,	/* restored, but --restart failed */
	RESTORE_FAILED_DROPPED,	/* failed after --drop-first dropped the
				 * database: there is none now */
};

/* The parts of a restore, for --only. */
#define RESTORE_DATABASE 1u
#define RESTORE_INTEGRATIONS 2u
#define RESTORE_ENV 4u

struct restore_opts {
	unsigned only;		/* the parts to restore; 0: all of them */
	int whole_env;		/* put the archive's whole .env in place, not
				 * only its database lines */
	int drop_first;		/* drop the current database before the load
				 * (no room for two), as the original did */
	int keep_row_order;	/* each table's rows through one session,
				 * in the archive's order */
	int yes;		/* do not ask */
	int restart;		/* run ./down.sh and ./up.sh afterwards */
	int dry_run;		/* check everything, say the plan, change
				 * nothing */
};

/* Restores the archive at PATH as described above.  On success REPORT
 * (RLEN bytes) holds the lines to show the operator: what was kept, how to
 * remove it, what to do next.  Otherwise ERR holds one line. */
enum restore_result restore_run(const struct config *c, const char *path,
    const struct restore_opts *o, char *report, size_t rlen, char *err,
    size_t elen);

#endif
