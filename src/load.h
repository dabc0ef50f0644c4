/* load.h - the dumps of a checked archive, loaded into a new database.
 *
 * The dumps are never unpacked: a reader (dumps.h) feeds psql the
 * pre-data and data dumps straight from the archive, so a restore needs
 * no room for them, and keeps the post-data dump, small, which is loaded
 * once the rows are in, its index builds side by side (postdata.h).  What
 * was loaded is kept only when the reader's hashes of the three dumps are
 * the ones the check found in the manifest.  The database loaded into is
 * made for the load and marked (pgadmin.h); what a failed load made is
 * dropped again.
 *
 * The early load runs the same reader on a second description of the
 * archive while the check of the first is still going on, so that the
 * long load overlaps the check; a thread of its own loads the post-data
 * dump as soon as the rows are in, while the check may still go on.  Its
 * caller drives it: early_start() once the settings are known,
 * early_stop() when something rules it out, early_settle() once the check
 * ended.  Nothing it made survives unless the check passed.
 */
#ifndef POLARITY_LOAD_H
#define POLARITY_LOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "dumps.h"
#include "pg.h"
#include "spawn.h"
#include "unpack.h"

/* Where the dumps come from. */
struct load_source {
	const struct config *cfg;	/* the decompressor */
	const char *archive;		/* the archive's path, for messages */
	int fd;				/* the archive, open */
	const struct unpacked *u;	/* its top folder, and the size of
					 * the dumps (as far as checked) */
	int stage;			/* the stage: the reader keeps the
					 * post-data dump there */
	int one_session;		/* each table's rows through one
					 * psql, in the archive's order */
	const char *fence;		/* the key every psql of the load
					 * is held under (fence.h), or ""
					 * when its psql has no \restrict */
};

/* Where they go. */
struct load_target {
	struct pg *admin;		/* the maintenance connection */
	struct pg_session *sql;		/* and its session */
	const struct db *db;		/* how the loader connects */
	const char *name;		/* the database to make and load */
	const char *owner;		/* its owner, when that role exists */
	FILE *report;			/* roles created are said here */
};

/* Makes T->name in the encoding and locale H records (the archive's
 * manifest header) and loads the dumps into it
 * from the start of the archive; when the load fails for a missing role,
 * creates the role (roles_from_error()) and loads again into a new
 * database, up to 32 times.  Returns 0, or -1 with ERR (the database is
 * then dropped). */
int load_run(const struct load_source *src, const struct load_target *t,
    const struct format_header *h, char *err, size_t elen);

/* load_run() for an archive of the original utility (SRC->u->legacy):
 * first creates the roles its dumps name (for a custom-format dump, as
 * pg_restore --schema-only writes them) that the server lacks; then
 * loads the full or custom-format dump, or the schema dump and then the
 * data dump with triggers and foreign keys held off
 * (session_replication_role = replica), and checks afterwards that every
 * foreign key holds.  Each dump streams from the archive.  Returns 0, or
 * -1 with ERR (the database is then dropped). */
int load_legacy(const struct load_source *src, const struct load_target *t,
    const struct format_header *h, char *err, size_t elen);

/* The early load. */
struct early_load {
	int on;			/* started, and not stopped */
	int made_db;		/* the database may exist */
	int started;		/* the children run */
	int stopped;		/* and were told to stop */
	const struct load_source *src;
	const struct load_target *t;
	struct pg loader;
	struct dumps rd;	/* the reader of the archive */
	struct child psql;
	struct child psql2;	/* the second session for a large
				 * table's rows, when TWO */
	int two;
	char guard[320];	/* what each of its psql runs first */
	pthread_t finisher;	/* waits for the rows, then loads the
				 * post-data dump */
	int finishing;		/* it was started */
	volatile int stop;	/* tells it to stop */
	int rc;			/* how it went: 0, or -1 with WHY */
	volatile int phase;	/* 0: the rows, 1: the post-data dump,
				 * 2: it ended */
	volatile uint64_t post_done;	/* how far the builds are */
	volatile int post_last;	/* one build at most left to end */
	int rows_waited, rows_failed;	/* the pre-data and data load
					 * was waited for; it failed */
	char why[1200];
};

/* Makes T->name, in the encoding and locale of the database it replaces
 * (REPLACED, as pgadmin_db_locale() read them), and starts loading SRC
 * into it
 * through a second reader.  Returns 0 when it runs; -1 when it did not
 * start, with WHY (what is left is undone by early_settle()). */
int early_start(struct early_load *e, const struct load_source *src,
    const struct load_target *t, const struct format_header *replaced,
    char *why, size_t wlen);

/* Waits until the early load's rows are in and its index builds are
 * down to the last one, or it stopped, or a signal came
 * (io_stop_signal); at once when it does not run, or nothing would say so
 * (its thread did not start).  For the check, which wants the cores the
 * rows' load and the builds use, and need only end before the commit:
 * the last build, most often the long GIN one, leaves a core free. */
void early_wait_rows(struct early_load *e);

/* Stops the early load (when it runs), giving WHY (or NULL) as a line
 * of detail. */
void early_stop(struct early_load *e, const char *why);

/* Once the check ended, CHECKED when it passed: waits for the load (with
 * progress at a terminal) and keeps what it made when it went through,
 * from the dumps the check found (their hashes), and the database has
 * the encoding and locale H (the manifest's header) records; otherwise
 * stops it and drops what it made.  Returns 1 when the database is
 * loaded, 0 when the load is still to be made. */
int early_settle(struct early_load *e, int checked,
    const struct format_header *h);

#endif
