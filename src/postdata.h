/* postdata.h - the post-data dump, its index builds side by side.
 *
 * Once the rows are in, a load is mostly the post-data dump: every index
 * and key is built by reading its whole table, one after the other.
 * Here the statements that build one (CREATE [UNIQUE] INDEX, ALTER TABLE
 * ... ADD CONSTRAINT ... PRIMARY KEY or UNIQUE) run in several psql
 * sessions at once, each one after the settings (SET ..., set_config())
 * the script had made before it; then everything else runs in one more
 * session, in the script's order.  Nothing of a post-data dump that is
 * not a build comes before a build it needs: foreign keys need the keys,
 * an index is attached or clustered on once it exists, a comment or a
 * grant follows its object.  A script read here is pg_dump's, checked
 * against the manifest; one that holds anything else (a psql command
 * other than \restrict and \unrestrict, a function's body, COPY data, a
 * statement cut off), or fewer than two builds, is run whole by one
 * psql, as psql -f would.
 */
#ifndef POLARITY_POSTDATA_H
#define POLARITY_POSTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "pg.h"

/* Sessions that build at once: the server's cores are not known here
 * (it may be another host), and two are what the usual post-data dump
 * needs, its one long GIN or GiST build beside all the others. */
#define POSTDATA_JOBS 2

/* A statement of a post-data dump, by its first words. */
enum postdata_kind {
	POSTDATA_OTHER,		/* run in order, after the builds */
	POSTDATA_BUILD,		/* builds an index: may run beside others */
	POSTDATA_SETTING,	/* SET, RESET, set_config(): a build needs
				 * the ones before it */
	POSTDATA_UNSURE		/* the script is run whole, as it is */
};

/* What the statement whose first LEN bytes are HEAD (from its first
 * word; the rest of a longer one is not needed) is. */
enum postdata_kind postdata_kind(const char *head, size_t len);

/* The table a build statement (its head, as postdata_kind() takes it)
 * reads, and how costly its kind of index is to build, by the byte of
 * that table.  The builds start the costliest first, so that the longest
 * one does not start last. */
#define POSTDATA_NAME_MAX 64	/* the server's NAMEDATALEN */
struct postdata_table {
	char schema[POSTDATA_NAME_MAX];	/* as the server stores them */
	char table[POSTDATA_NAME_MAX];
	unsigned weight;	/* BRIN 1, btree and hash 2, SP-GiST 8,
				 * GIN and GiST 16 */
	int exclusive;		/* ALTER TABLE ... ADD CONSTRAINT: it takes
				 * the table whole, no other build on it
				 * runs beside it */
};

/* Fills T for the build statement HEAD (LEN bytes).  Returns 0, or -1
 * when its table is not named as pg_dump names it (schema.table; T is
 * then a btree's weight and no name, and says whether it is
 * exclusive). */
int postdata_build_table(const char *head, size_t len,
    struct postdata_table *t);

/* Reads the script FD from its start: returns 0 when it can be taken
 * apart, with the count of its builds in *BUILDS; 1 when it is to be run
 * whole; -1 when it cannot be read (ERR). */
int postdata_plan(int fd, size_t *builds, char *err, size_t elen);

/* How to load it. */
struct postdata_opts {
	unsigned jobs;		/* sessions that build at once, at most
				 * POSTDATA_JOBS; 1: the script whole */
	char *guard;		/* what each psql runs first
				 * (pg_load_start()), or NULL */
	const volatile int *stop;	/* once set, the builds stop, as on a
					 * signal (io.h); or NULL */
	volatile int *last;	/* set once one build at most is left to
				 * end (or the load ended), for a caller
				 * with work that wants a core; or NULL */
	volatile uint64_t *done;	/* where to keep how far the builds
					 * are (bytes of the script), for a
					 * caller that shows it; NULL: the
					 * progress is shown here */
	/* When not NULL, called with READY_ARG once the sessions are
	 * started (psql takes a while to start), before anything is sent
	 * to them: it waits for the rows to be in, and returns 0 to go on
	 * or -1 to stop (ERR says why). */
	int (*ready)(void *arg, char *err, size_t elen);
	void *ready_arg;
	/* When not NULL, the script is not FD and SIZE but what SCRIPT
	 * gives (called with SCRIPT_ARG once the sessions are started,
	 * before ready()): a descriptor of it, closed here, and its size
	 * in *SIZE; or -1 to stop (ERR says why). */
	int (*script)(void *arg, uint64_t *size, char *err, size_t elen);
	void *script_arg;
};

/* Loads the post-data script FD (a regular file, read from its start;
 * SIZE bytes) into PG's database as O says.  Returns 0, or -1 with ERR;
 * the failing psql's whole error output is left in ERRTEXT (TLEN
 * bytes). */
int postdata_run(struct pg *pg, int fd, uint64_t size,
    const struct postdata_opts *o, char *errtext, size_t tlen, char *err,
    size_t elen);

#endif
