/* undo.h - going back from the most recent restore.
 *
 * undo reads the restore's record (journal.h) and reverses each step it
 * finds done, last first: the .env, the integrations, the database.  What
 * the restore replaced comes back under its own name; what the restore
 * had put in place is kept under a dated name (NAME_undone_STAMP,
 * integrations.undone-STAMP, .env.undone-STAMP), so an undo loses
 * nothing either.  It works as well on a restore whose commit was cut
 * short (a kill, a power cut): each step's state is read from the things
 * themselves, and running undo again after it was itself cut short
 * finishes it.
 */
#ifndef POLARITY_UNDO_H
#define POLARITY_UNDO_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum undo_result {
	UNDO_OK = 0,
	UNDO_NOTHING,		/* no restore to undo: ERR says why */
	UNDO_FAILED,		/* ERR says what is left to do by hand */
	UNDO_BUSY,		/* another run holds the lock */
	UNDO_DECLINED		/* no --yes and no "yes" at a terminal */
};

/* Undoes the most recent restore, asking first at a terminal unless
 * YES.  What it did goes to REPORT.  Returns as above, ERR (ELEN bytes)
 * holding one line when not UNDO_OK. */
enum undo_result undo_run(const struct config *c, int yes, FILE *report,
    char *err, size_t elen);

/* When the record says a restore's commit was cut short, writes the
 * line to warn the operator with into LINE (LEN bytes) and returns 1;
 * else returns 0. */
int undo_pending(const struct config *c, char *line, size_t len);

#endif
