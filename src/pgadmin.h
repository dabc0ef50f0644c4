/* pgadmin.h - what a restore asks of the server about whole databases.
 *
 * A restore loads into a new database beside the one it replaces, marked
 * by its comment (PGADMIN_MARK) until it is put in place, and swaps the
 * names once it loaded.  Each function here takes an open maintenance
 * session (pg.h, on the postgres database) and, on failure, leaves one
 * line in ERR (ELEN bytes) and returns -1; none prints an error.
 */
#ifndef POLARITY_PGADMIN_H
#define POLARITY_PGADMIN_H

#include <stddef.h>

#include "format.h"
#include "pg.h"

/* The comment of a database that a restore is loading. */
#define PGADMIN_MARK "polarity restore in progress"

/* The first key of the advisory lock a restore's maintenance session
 * holds on each database it makes (the second: hashtext of its name),
 * for as long as the restore runs ("pola"). */
#define PGADMIN_LOCK_CLASS 1886350433

/* Writes NAME_SUFFIX_STAMP into OUT (LEN bytes), cutting NAME so that the
 * whole fits PostgreSQL's 63 bytes. */
void pgadmin_dated(char *out, size_t len, const char *name,
    const char *suffix, const char *stamp);

/* Opens S on the maintenance database of the server PG points at:
 * postgres, else template1.  Returns 0 or -1. */
int pgadmin_connect(struct pg *pg, struct pg_session *s, char *err,
    size_t elen);

/* Whether the database (role) NAME exists, into *EXISTS.  Returns 0 or
 * -1. */
int pgadmin_db_exists(struct pg_session *s, const char *name, int *exists,
    char *err, size_t elen);
int pgadmin_role_exists(struct pg_session *s, const char *name,
    int *exists, char *err, size_t elen);

/* The encoding of database NAME into OUT ("" when there is no such
 * database).  Returns 0 or -1. */
int pgadmin_db_encoding(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen);

/* The OID of database NAME into OUT ("" when there is no such
 * database).  Returns 0 or -1. */
int pgadmin_db_oid(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen);

/* Ends every other session on database NAME.  Returns 0 or -1. */
int pgadmin_end_sessions(struct pg_session *s, const char *name, char *err,
    size_t elen);

/* Whether the session's role may create databases (superuser or
 * CREATEDB) into *DB, and roles into *ROLES.  Returns 0 or -1. */
int pgadmin_rights(struct pg_session *s, int *db, int *roles, char *err,
    size_t elen);

/* Drops the databases that a restore which died left marked, logging
 * each: those whose advisory lock nobody holds.  A restore of another
 * install on the same server (another backup folder, another lock file)
 * holds its own, and its database is left alone.  Returns 0 or -1. */
int pgadmin_drop_marked(struct pg_session *s, char *err, size_t elen);

/* Reads the properties of the session's own database that its dumps do
 * not hold (encoding, owner, locale, connection limit, access, settings,
 * comment) into the encoding and db_ fields of H.  Returns 0 or -1. */
int pgadmin_props_read(struct pg_session *s, struct format_header *h,
    char *err, size_t elen);

/* The encoding and locale of database NAME, into H (all "" when there is
 * no such database).  Returns 0 or -1. */
int pgadmin_db_locale(struct pg_session *s, const char *name,
    struct format_header *h, char *err, size_t elen);

/* Gives database NAME the owner, connection limit, access and settings
 * H records (nothing when H records none).  Before the swap, so that a
 * failure changes nothing in place.  Returns 0 or -1. */
int pgadmin_props_apply(struct pg_session *s, const char *name,
    const struct format_header *h, char *err, size_t elen);

/* Sets the comment of database NAME to the one H records, or none: once
 * its name is final, since until then the comment marks it. */
int pgadmin_props_comment(struct pg_session *s, const char *name,
    const struct format_header *h, char *err, size_t elen);

/* Whether database NAME has the encoding and locale H records (as far as
 * it records them), into *SAME.  Returns 0 or -1. */
int pgadmin_props_match(struct pg_session *s, const char *name,
    const struct format_header *h, int *same, char *err, size_t elen);

/* Creates the empty database NAME from template0, in ENCODING unless it
 * is "", with the locale LOCALE records (NULL or none recorded: the
 * server's default), owned by OWNER when that role exists, and marks it.
 * Returns 0 or -1 (NAME may then exist without its mark). */
int pgadmin_create_marked(struct pg_session *s, const char *name,
    const char *encoding, const struct format_header *locale,
    const char *owner, char *err, size_t elen);

/* Drops database NAME after ending its sessions (a load we stopped may
 * still be at work in it).  When S is the thing that failed, a new
 * session is opened on PG.  Never fails: what it cannot do it warns of,
 * and the caller's ERR stays as it was. */
void pgadmin_drop(struct pg *pg, struct pg_session *s, const char *name);

/* Puts database TMP in place of TARGET, which is kept as KEPT, in one
 * transaction (both renames or neither), keeping the applications out
 * while the names change; when TARGET did not EXIST, only renames TMP;
 * when TMP is NULL, only puts TARGET aside as KEPT.  Returns 0 or -1
 * (then nothing changed). */
int pgadmin_swap(struct pg_session *s, const char *target, const char *tmp,
    const char *kept, int existed, char *err, size_t elen);

/* Undoes pgadmin_swap() and drops TMP.  Logs, and returns -1, when it
 * cannot. */
int pgadmin_unswap(struct pg *pg, struct pg_session *s, const char *target,
    const char *tmp, const char *kept, int existed);

/* Checks that every foreign key of the database S is connected to holds
 * for every row (a load with triggers held off does not check them).
 * Returns 0 when they hold; 1 when rows break one, with ERR naming the
 * keys, tables, counts and a key of an offending row; -1 when the check
 * itself failed (ERR says why; the session is then over). */
int pgadmin_check_keys(struct pg_session *s, char *err, size_t elen);

/* The INDEX-th (from 0, by name) database that a restore or an undo kept
 * beside LIVE (LIVE_before_restore_STAMP, LIVE_undone_STAMP, LIVE cut
 * to fit), never LIVE itself: its name into NAME and its size, as the
 * server spells it ("120 MB"), into SIZE.  Returns 1, 0 when there is no
 * such database, -1 on a failure. */
int pgadmin_kept_db(struct pg_session *s, const char *live, int index,
    char *name, size_t nlen, char *size, size_t slen, char *err,
    size_t elen);

/* The size of database NAME as the server spells it ("120 MB") into
 * OUT; "" when there is no such database.  Returns 0 or -1. */
int pgadmin_db_size(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen);

/* Drops database NAME now: ends the sessions there, and drops it.
 * Returns 0, or -1 with ERR (then it still exists, and the session is
 * over). */
int pgadmin_drop_now(struct pg_session *s, const char *name, char *err,
    size_t elen);

#endif
