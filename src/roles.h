/* roles.h - the roles a database needs, on a server that may lack them.
 *
 * An archive carries the server's roles as database/roles.sql, written
 * by pg_dumpall --roles-only --no-role-passwords: "CREATE ROLE x;" then
 * "ALTER ROLE x WITH ...;" for each, then "GRANT a TO b ...;" for the
 * memberships.  A restore creates the roles this server lacks before it
 * loads, with only the harmless attributes and no password; and when a
 * load still fails with 'role "X" does not exist' (the documented manual
 * step of the original utility), it creates X and loads again.
 */
#ifndef POLARITY_ROLES_H
#define POLARITY_ROLES_H

#include <stddef.h>
#include <stdio.h>

#include "pg.h"

/* One line of roles.sql that a restore acts on. */
struct roles_line {
	enum { ROLES_ALTER = 1, ROLES_GRANT } kind;
	char role[256];		/* ALTER: the role; GRANT: the granted role */
	char member[256];	/* GRANT: the role it is granted to */
	char attrs[256];	/* ALTER: the attributes roles_safe_attrs()
				 * keeps */
};

/* Reads LINE: returns 1 with *L for "ALTER ROLE x WITH ...;" or
 * "GRANT a TO b ...;", else 0. */
int roles_parse_line(const char *line, struct roles_line *l);

/* The attributes of an "ALTER ROLE x WITH ...;" line (WITH is the text
 * after "WITH ") that an archive may give a new role: never SUPERUSER,
 * REPLICATION or BYPASSRLS, never a password.  Writes them, space
 * separated, into OUT. */
void roles_safe_attrs(const char *with, char *out, size_t len);

/* Creates ROLE with the attributes ATTRS (from roles_safe_attrs()) on
 * the session S, and says so on REPORT.  Returns 0, or -1 with ERR. */
int roles_create_one(struct pg_session *s, const char *role,
    const char *attrs, FILE *report, char *err, size_t elen);

/* Creates the roles of TEXT (roles.sql, changed in place) that the server
 * lacks, then the memberships that involve a role it made (one that
 * cannot be given is a warning).  With MISSING, creates nothing and only
 * counts the roles it would create there, naming each on REPORT ("  role
 * x with LOGIN") unless REPORT is NULL.  Returns 0, or -1 with ERR. */
int roles_create(struct pg_session *s, char *text, int *missing,
    FILE *report, char *err, size_t elen);

/* Creates those of the N role names NAMES (as a legacy archive's dumps
 * name them: legacy.h) that the server lacks, with no attribute and no
 * password; with MISSING, creates nothing and only counts them (naming
 * each on REPORT unless it is NULL).  Returns 0, or -1 with ERR. */
int roles_create_names(struct pg_session *s, const char (*names)[64],
    size_t n, int *missing, FILE *report, char *err, size_t elen);

/* After a load that failed with the psql error text ERRTEXT: when it is
 * 'role "X" does not exist', creates X (no attributes) and returns 1, for
 * the caller to load again; 0 when ERRTEXT names no missing role; -1 when
 * creating it failed (ERR says why). */
int roles_from_error(struct pg_session *s, const char *errtext,
    FILE *report, char *err, size_t elen);

#endif
