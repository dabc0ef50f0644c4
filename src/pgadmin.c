/* pgadmin.c - databases made, marked, dropped and swapped. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pgadmin.h"

/* A quoted name of at most 63 bytes, or a role name of at most 255. */
#define QNAME 520

void
pgadmin_dated(char *out, size_t len, const char *name, const char *suffix,
    const char *stamp)
{
	/* Two underscores join the three parts. */
	int room = 63 - (int)strlen(suffix) - (int)strlen(stamp) - 2;

	snprintf(out, len, "%.*s_%s_%s", room < 0 ? 0 : room, name, suffix,
	    stamp);
}

int
pgadmin_connect(struct pg *pg, struct pg_session *s, char *err, size_t elen)
{
	static const char *const dbs[] = { "postgres", "template1" };

	for (size_t i = 0; i < 2; i++) {
		if (pg_set_database(pg, dbs[i]) < 0) {
			snprintf(err, elen, "out of memory");
			return -1;
		}
		if (pg_session_open(pg, s, err, elen) == 0 &&
		    pg_session_query(s, "SELECT 1;", NULL, 0, err, elen) == 0)
			return 0;
		if (!strstr(err, "does not exist"))
			break;
	}
	return -1;
}

/* Counts the rows of CATALOG whose COLUMN is NAME. */
static int
count_named(struct pg_session *s, const char *catalog, const char *column,
    const char *name, int *exists, char *err, size_t elen)
{
	char lit[QNAME], out[16];

	if (pg_quote_literal(name, lit, sizeof lit) < 0) {
		snprintf(err, elen, "name too long: '%.64s'", name);
		return -1;
	}
	if (pg_session_askf(s, out, sizeof out, err, elen, "SELECT count(*) "
	    "FROM %s WHERE %s = %s;", catalog, column, lit) < 0)
		return -1;
	*exists = pg_number(out) > 0;
	return 0;
}

int
pgadmin_db_exists(struct pg_session *s, const char *name, int *exists,
    char *err, size_t elen)
{
	return count_named(s, "pg_database", "datname", name, exists, err,
	    elen);
}

int
pgadmin_role_exists(struct pg_session *s, const char *name, int *exists,
    char *err, size_t elen)
{
	return count_named(s, "pg_roles", "rolname", name, exists, err, elen);
}

int
pgadmin_db_encoding(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen)
{
	char lit[QNAME];

	pg_quote_literal(name, lit, sizeof lit);
	return pg_session_askf(s, out, len, err, elen, "SELECT "
	    "pg_encoding_to_char(encoding) FROM pg_database WHERE datname = "
	    "%s;", lit);
}

int
pgadmin_end_sessions(struct pg_session *s, const char *name, char *err,
    size_t elen)
{
	char lit[QNAME], out[32];

	pg_quote_literal(name, lit, sizeof lit);
	return pg_session_askf(s, out, sizeof out, err, elen, "SELECT "
	    "count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
	    "datname = %s AND pid <> pg_backend_pid();", lit);
}

int
pgadmin_drop_marked(struct pg_session *s, char *err, size_t elen)
{
	char name[128], q[QNAME];

	for (int i = 0; i < 16; i++) {
		if (pg_session_askf(s, name, sizeof name, err, elen, "SELECT "
		    "d.datname FROM pg_database d JOIN pg_shdescription s ON "
		    "s.objoid = d.oid AND s.classoid = "
		    "'pg_database'::regclass WHERE s.description = '"
		    PGADMIN_MARK "' LIMIT 1;") < 0)
			return -1;
		if (name[0] == '\0')
			return 0;
		pg_quote_ident(name, q, sizeof q);
		if (pg_session_execf(s, err, elen, "DROP DATABASE %s;", q) < 0)
			return -1;
		log_step("dropped database %s left by an interrupted restore",
		    q);
	}
	return 0;
}

int
pgadmin_create_marked(struct pg_session *s, const char *name,
    const char *encoding, const char *owner, char *err, size_t elen)
{
	char by[QNAME + 8] = "", enc[100] = "", q[QNAME], qname[QNAME];
	char lit[100];
	int exists = 0;

	if (pgadmin_role_exists(s, owner, &exists, err, elen) < 0)
		return -1;
	if (exists && pg_quote_ident(owner, q, sizeof q) == 0)
		snprintf(by, sizeof by, " OWNER %s", q);
	if (encoding[0] && pg_quote_literal(encoding, lit, sizeof lit) == 0)
		snprintf(enc, sizeof enc, " ENCODING %s", lit);
	pg_quote_ident(name, qname, sizeof qname);
	if (pg_session_execf(s, err, elen, "CREATE DATABASE %s TEMPLATE "
	    "template0%s%s;", qname, enc, by) < 0)
		return -1;
	return pg_session_execf(s, err, elen, "COMMENT ON DATABASE %s IS '"
	    PGADMIN_MARK "';", qname);
}

void
pgadmin_drop(struct pg *pg, struct pg_session *s, const char *name)
{
	char err[512] = "", q[QNAME];

	pg_quote_ident(name, q, sizeof q);
	/* The session may be the thing that failed: then use a fresh one. */
	for (int tries = 0; tries < 2; tries++) {
		if (s->c.pid > 0 && pgadmin_end_sessions(s, name, err,
		    sizeof err) == 0) {
			if (pg_session_execf(s, err, sizeof err, "DROP DATABASE "
			    "IF EXISTS %s;", q) == 0)
				return;
			break;
		}
		pg_session_close(s, err, sizeof err);
		if (pg_session_open(pg, s, err, sizeof err) < 0)
			break;
	}
	log_warn("cannot drop database %s: %s; drop it by hand", q, err);
}

/* Lets connections to database Q in again, or keeps them out. */
static void
allow(struct pg_session *s, const char *q, int yes, char *err, size_t elen)
{
	char stmt[400], why[512];

	snprintf(stmt, sizeof stmt, "ALTER DATABASE %s ALLOW_CONNECTIONS %s",
	    q, yes ? "true" : "false");
	(void)pg_session_try(s, stmt, why, sizeof why, err, elen);
}

int
pgadmin_swap(struct pg_session *s, const char *target, const char *tmp,
    const char *kept, int existed, char *err, size_t elen)
{
	char qtarget[QNAME], qtmp[QNAME], qkept[QNAME], why[512] = "";
	char both[1200];

	pg_quote_ident(target, qtarget, sizeof qtarget);
	pg_quote_ident(tmp, qtmp, sizeof qtmp);
	pg_quote_ident(kept, qkept, sizeof qkept);
	if (!existed)
		return pg_session_execf(s, err, elen, "ALTER DATABASE %s RENAME "
		    "TO %s;", qtmp, qtarget);
	snprintf(both, sizeof both, "ALTER DATABASE %s RENAME TO %s; ALTER "
	    "DATABASE %s RENAME TO %s", qtarget, qkept, qtmp, qtarget);
	for (int tries = 0; tries < 10; tries++) {
		char stmt[400];
		/* Keep the applications out while the names change; they
		 * reconnect to the restored database afterwards. */
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s "
		    "ALLOW_CONNECTIONS false", qtarget);
		if (pg_session_try(s, stmt, why, sizeof why, err, elen) < 0 ||
		    pgadmin_end_sessions(s, target, err, elen) < 0)
			return -1;
		/* Both renames or neither. */
		int t = pg_session_try(s, both, why, sizeof why, err, elen);
		if (t < 0)
			return -1;
		if (t == 0) {
			allow(s, qkept, 1, err, elen);
			return 0;
		}
		if (!strstr(why, "being accessed by other users"))
			break;
		usleep(200 * 1000);
	}
	{
		char ignored[512];
		allow(s, qtarget, 1, ignored, sizeof ignored);
	}
	snprintf(err, elen, "cannot put the restored database in place of %s: "
	    "%s", qtarget, why);
	return -1;
}

int
pgadmin_unswap(struct pg *pg, struct pg_session *s, const char *target,
    const char *tmp, const char *kept, int existed)
{
	char qtarget[QNAME], qtmp[QNAME], qkept[QNAME], why[512], err[512];
	char stmt[1200];

	pg_quote_ident(target, qtarget, sizeof qtarget);
	pg_quote_ident(tmp, qtmp, sizeof qtmp);
	pg_quote_ident(kept, qkept, sizeof qkept);
	if (pgadmin_end_sessions(s, target, err, sizeof err) < 0)
		goto fail;
	if (existed)
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s RENAME TO %s; "
		    "ALTER DATABASE %s RENAME TO %s", qtarget, qtmp, qkept,
		    qtarget);
	else
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s RENAME TO %s",
		    qtarget, qtmp);
	if (pg_session_try(s, stmt, why, sizeof why, err, sizeof err) != 0)
		goto fail;
	pgadmin_drop(pg, s, tmp);
	return 0;
fail:
	log_error("could not put database %s back: rename %s to %s by hand",
	    qtarget, qkept, qtarget);
	return -1;
}
