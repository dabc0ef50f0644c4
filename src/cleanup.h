/* cleanup.h - removing what restores and undos kept.
 *
 * A restore keeps what it replaces (NAME_before_restore_STAMP,
 * integrations.before-restore-STAMP, .env.before-restore-STAMP) and an
 * undo what it reverses (NAME_undone_STAMP, ...undone-STAMP).  cleanup
 * finds them, by those names only, beside the live database (through the
 * live .env's settings, in the container when the database is in one),
 * the live integrations folder and the live .env, and removes them; never
 * a live one.  What a killed restore left being loaded (a marked
 * database) goes too.  A restore whose commit was cut short must be
 * undone first: cleanup refuses.
 */
#ifndef POLARITY_CLEANUP_H
#define POLARITY_CLEANUP_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum cleanup_result {
	CLEANUP_OK = 0,
	CLEANUP_FAILED,		/* ERR says what was not removed */
	CLEANUP_BUSY,
	CLEANUP_DECLINED
};

/* Lists on OUT what would go; with DRY_RUN stops there; else asks at a
 * terminal unless YES, and removes each, saying so on OUT. */
enum cleanup_result cleanup_run(const struct config *c, int yes,
    int dry_run, FILE *out, char *err, size_t elen);

#endif
