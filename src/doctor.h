/* doctor.h - what a backup would use, and whether each part works.
 *
 * "polarity doctor" runs every check and prints one line each: the .env,
 * where the database is reached (here or in a container) and why, the
 * client and the server, the role's rights, the integrations folder and
 * the platform container's view of it, the backup folder's free space,
 * the schedule, the last backup.  Every check is read-only and quick.
 * A backup runs the checks it does not make on its way
 * (doctor_preflight_run(), doctor_preflight_report()) before it starts.
 */
#ifndef POLARITY_DOCTOR_H
#define POLARITY_DOCTOR_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum doctor_state {
	DOCTOR_OK,
	DOCTOR_WARN,		/* worth knowing; a backup would still work */
	DOCTOR_FAIL,		/* a backup would fail, or do the wrong thing */
	DOCTOR_SKIP,		/* could not be checked here */
};

struct doctor_check {
	const char *name;	/* "env", "database", ... */
	enum doctor_state state;
	char text[1024];	/* what was found, or the problem and what to do */
};

#define DOCTOR_MAX 12

struct doctor {
	struct doctor_check v[DOCTOR_MAX];
	size_t n;
};

/* The container whose mounts tell where the platform reads its
 * integrations from. */
#define DOCTOR_PLATFORM "polarity_platform"

/* Runs every check with the settings C into D.  Returns the count of
 * checks that failed. */
int doctor_run(const struct config *c, struct doctor *d);

/* The checks a backup makes before it starts, into D: the platform
 * container's integrations folder and the backup folder's free space.
 * Logs nothing, so it may run in a thread of its own while the backup
 * reaches the database. */
void doctor_preflight_run(const struct config *c, struct doctor *d);

/* Logs the checks of D as details (-v); less room than the last archive
 * took is a warning, less than half of it a failure.  Returns 0, or -1
 * with the failed check's text in ERR. */
int doctor_preflight_report(const struct doctor *d, char *err, size_t elen);

/* Writes D as lines ("ok    env  ...") and a verdict, or as JSON. */
void doctor_print(FILE *f, const struct doctor *d);
void doctor_json(FILE *f, const struct doctor *d);

#endif
