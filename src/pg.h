/* pg.h - what we ask of PostgreSQL, through its own client programs.
 *
 * The connection settings reach the children in their environment
 * (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), never in
 * their argv: a password in argv is readable by every user of the host.
 * The rest of the children's environment is a short whitelist of ours.
 * Every function that fails leaves a one-line description in ERR.
 */
#ifndef POLARITY_PG_H
#define POLARITY_PG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fence.h"
#include "spawn.h"

struct pg {
	const struct config *cfg;
	char **envp;		/* the children's environment */
	const char *database;
	const char *container;	/* run the programs in it, or NULL */
	char fence[FENCE_KEY_LEN + 1];	/* when set, every psql of a load
					 * or of a guarded session first
					 * reads \restrict of this key
					 * (fence.h) */
};

/* The container the programs run in (DB's container), or NULL. */
const char *pg_where(const struct pg *pg);

/* Builds the environment for talking to DB.  Returns 0, or -1 with errno
 * set.  pg_free() releases it. */
int pg_init(struct pg *pg, const struct config *c, const struct db *db);
void pg_free(struct pg *pg);

/* Runs "PROG --version" and parses it.  Stores the version as
 * major * 10000 + minor (the server_version_num form) in *NUM and its text
 * ("15.18") in TEXT.  Returns 0 or -1. */
int pg_client_version(struct pg *pg, const char *prog, int *num, char *text,
    size_t tlen, char *err, size_t elen);

/* The whole number S (an answer of the server), or -1 when it is not
 * one. */
long pg_number(const char *s);

/* Asks PG's psql (here or in the container) its version, into TEXT:
 * when it has \restrict, gives PG a fence key (fence_key()) and returns
 * 1; when it has not, leaves PG without one and returns 0; -1 when psql
 * cannot be asked (ERR). */
int pg_fence(struct pg *pg, char *text, size_t tlen, char *err,
    size_t elen);

/* Whether a pg_dump of version DUMP_NUM can dump a server of version
 * SERVER_NUM: its major version must be at least the server's. */
int pg_dump_can_dump(int dump_num, int server_num);

/* A psql session we feed statements to, one answer line at a time. */
struct pg_session {
	struct child c;
	int to;			/* psql's standard input */
	int from;		/* psql's standard output */
	size_t have;
	char buf[4096];
	int keep_stderr;	/* once psql ended, its error output stays
				 * for pg_session_end() */
	int fenced;		/* under \restrict: the end of an answer is
				 * marked by a query, not by \echo */
};

/* Starts psql on the database.  Returns 0 or -1. */
int pg_session_open(struct pg *pg, struct pg_session *s, char *err,
    size_t elen);

/* pg_session_open() of a psql that first runs GUARD (as pg_load_start()
 * takes it) and reads nothing when it fails.  A session of a PG with a
 * fence key (either way) is under \restrict, for the statements of a
 * dump: pg_session_send() then refuses one that fence_clean() does not
 * pass. */
int pg_session_open_guarded(struct pg *pg, struct pg_session *s, char *guard,
    char *err, size_t elen);

/* The two halves of pg_session_query(), for a caller that waits on
 * several sessions (poll() on S->from): pg_session_send() sends the LEN
 * bytes of SQL, whatever they answer, and pg_session_answered() reads
 * once what psql wrote since.  It returns 1 once psql has done all that
 * was sent, 0 when it is not done yet, and -1 when psql ended (ERR says
 * how; the session is over, and pg_session_end() gives its error
 * output).  pg_session_send() returns 0 or -1 in the same way. */
int pg_session_send(struct pg_session *s, const char *sql, size_t len,
    char *err, size_t elen);
int pg_session_answered(struct pg_session *s, char *err, size_t elen);

/* Sends SQL (one statement returning one row of one column, or none if
 * OUT is NULL) and reads the answer into OUT.  Returns 0 or -1 (psql
 * failed: ERR says why, and the session is over). */
int pg_session_query(struct pg_session *s, const char *sql, char *out,
    size_t olen, char *err, size_t elen);

/* pg_session_query() of the statement that FMT and its arguments make
 * (at most 2 KiB), with no answer (execf) or one (askf, into OUT). */
int pg_session_execf(struct pg_session *s, char *err, size_t elen,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int pg_session_askf(struct pg_session *s, char *out, size_t olen, char *err,
    size_t elen, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Runs the statement STMT inside a DO block that catches its error, so
 * that a failure does not end the session.  Returns 0 when it ran; 1 when
 * it failed, with the server's message in WHY (WLEN bytes); -1 when the
 * session itself failed (ERR says why).  STMT cannot be one that refuses
 * to run in a transaction (CREATE DATABASE, DROP DATABASE). */
int pg_session_try(struct pg_session *s, const char *stmt, char *why,
    size_t wlen, char *err, size_t elen);

/* Tells psql that no more statements come (its input ends), so that it
 * ends its transaction and quits while the caller goes on; no statement
 * may follow.  pg_session_close() then waits for it. */
void pg_session_hangup(struct pg_session *s);

/* Ends the session (its transaction, if any, is rolled back).  Returns 0
 * or -1 when psql did not end well. */
int pg_session_close(struct pg_session *s, char *err, size_t elen);

/* Ends the session, with SIGTERM first when STOP, and waits for psql.
 * Returns 0, or -1 when psql did not end well (ERR says how), with its
 * whole error output in ERRTEXT either way.  A session already ended
 * returns 0. */
int pg_session_end(struct pg_session *s, int stop, char *errtext, size_t tlen,
    char *err, size_t elen);

/* Debian's client programs on PATH are one Perl script, pg_wrapper, that
 * picks a version and runs that version's program: 35 to 50 ms of CPU
 * for each start, and a restore starts psql half a dozen times.  With
 * PGHOST in the environment, as pg_init() always sets it, it takes the
 * newest version that has the program (/usr/lib/postgresql/V/bin/PROG),
 * whatever cluster is configured; our programs run that one directly.
 * When PROG on ENVP's PATH is the wrapper, writes the path of the program
 * it would run to OUT (LEN bytes) and returns 0; else returns -1. */
int pg_unwrap(const char *prog, char *const envp[], char *out, size_t len);

/* Starts pg_dump for SECTION ("pre-data", "data" or "post-data") inside
 * the exported SNAPSHOT, writing to OUT.  The caller waits for C. */
int pg_dump_start(struct pg *pg, struct child *c, const char *section,
    const char *snapshot, int out, char *err, size_t elen);

/* Starts pg_dump for the pre-data and post-data sections at once, in its
 * custom format, inside the exported SNAPSHOT, writing to OUT: it reads
 * the catalog once for both.  pg_section_start() then writes each
 * section from it as plain SQL.  The caller waits for C. */
int pg_schema_start(struct pg *pg, struct child *c, const char *snapshot,
    int out, char *err, size_t elen);

/* Starts pg_restore writing SECTION ("pre-data" or "post-data") of the
 * custom-format dump read from IN to OUT, as plain SQL: the same bytes a
 * pg_dump of that section alone writes.  It runs where pg_dump does
 * (here, or in the container); VERSION is theirs (pg_client_version()'s
 * number).  The caller waits for C. */
int pg_section_start(struct pg *pg, struct child *c, const char *section,
    int version, int in, int out, char *err, size_t elen);

/* Starts pg_dumpall for the roles (no passwords: that needs no superuser
 * and keeps secrets out of the archive), writing to OUT. */
int pg_roles_start(struct pg *pg, struct child *c, int out, char *err,
    size_t elen);

/* Ends, on the server, every session of this run but the one it opens
 * for that: in a container, docker exec leaves the programs it started
 * running when it is stopped, and a pg_dump would keep its locks until it
 * finished.  In a container each run's sessions carry a name of their own
 * (polarity-backup.PID).  Returns the count ended, or -1. */
int pg_end_own_sessions(struct pg *pg, char *err, size_t elen);

/* Points the children at the database NAME instead.  Returns 0 or -1. */
int pg_set_database(struct pg *pg, const char *name);

/* Writes NAME as an SQL identifier, always double-quoted, into OUT.
 * Returns 0, or -1 when OUT is too small. */
int pg_quote_ident(const char *name, char *out, size_t len);

/* Writes S as an SQL string literal into OUT.  Returns 0 or -1. */
int pg_quote_literal(const char *s, char *out, size_t len);

/* Reads an SQL identifier at S (quoted or not; a bare one is folded to
 * lower case, as the server does) into OUT.  Returns a pointer past it,
 * or NULL when S does not start with one. */
const char *pg_parse_ident(const char *s, char *out, size_t len);

/* Finds in the psql error text ERR the role of a 'role "X" does not
 * exist' error.  Returns 1 with the name in ROLE, else 0. */
int pg_missing_role(const char *err, char *role, size_t len);

/* Runs psql on the SQL read from IN until its end, stopping at the first
 * error: it is fed to psql's standard input (with progress on a terminal,
 * against TOTAL bytes), so its messages say "<stdin>" and the line.
 * Returns 0, or -1 with ERR describing it; the whole of psql's error
 * output is left in ERRTEXT (TLEN bytes) for the caller to read.  The
 * dump passes through a fence (fence.h), under PG's \restrict when it
 * has a key. */
int pg_run_fd(struct pg *pg, int in, uint64_t total, char *errtext,
    size_t tlen, char *err, size_t elen);

/* pg_run_fd() with pg_restore in place of psql: loads the custom-format
 * dump read from IN into PG's database, stopping at the first error. */
int pg_restore_fd(struct pg *pg, int in, uint64_t total, char *errtext,
    size_t tlen, char *err, size_t elen);

/* Starts the client program ARGS[0] ("pg_restore"; a bare name) with the
 * rest of ARGS, reading IN and writing OUT (-1: none), where PG's
 * programs run: from --pg-bindir or PATH here, or in the container.  The
 * caller waits for C.  Returns 0, or -1 with ERR. */
int pg_program_start(struct pg *pg, struct child *c, char *const args[],
    int in, int out, char *err, size_t elen);

/* The two halves of pg_run_fd(), for a caller that feeds psql from
 * elsewhere: pg_load_start() starts psql with ON_ERROR_STOP, reading SQL
 * from IN (which stays the caller's), or when IN is -1 from *TO, a pipe
 * for the caller to write (through a fence of its own: fence.h) and
 * close; when GUARD is not NULL, psql runs that statement first and
 * reads nothing when it fails.  With PG's fence key the pipe holds
 * \restrict of it first, and IN must be -1.
 * pg_load_finish() waits for it.  FED
 * is 0 when everything was written, -1 when psql stopped reading (EPIPE:
 * it says why), or the errno of a failure of the caller's own, which
 * stops psql.  Returns as pg_run_fd() does. */
int pg_load_start(struct pg *pg, struct child *c, int in, int *to,
    char *guard, char *err, size_t elen);
int pg_load_finish(struct child *c, int fed, char *errtext, size_t tlen,
    char *err, size_t elen);

#endif
