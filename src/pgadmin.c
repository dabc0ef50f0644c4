/* pgadmin.c - databases made, marked, dropped and swapped. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
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
pgadmin_rights(struct pg_session *s, int *db, int *roles, char *err,
    size_t elen)
{
	char out[8];

	if (pg_session_query(s, "SELECT (rolsuper OR rolcreatedb)::int::text "
	    "|| (rolsuper OR rolcreaterole)::int::text FROM pg_roles WHERE "
	    "rolname = current_user;", out, sizeof out, err, elen) < 0)
		return -1;
	*db = out[0] == '1';
	*roles = out[0] != '\0' && out[1] == '1';
	return 0;
}

int
pgadmin_drop_marked(struct pg_session *s, char *err, size_t elen)
{
	char name[128], q[QNAME], lit[QNAME];

	for (int i = 0; i < 16; i++) {
		/* A marked database whose lock nobody holds: its restore
		 * is gone.  One another restore holds is left alone (the
		 * fence keeps the lock from being tried on the others). */
		if (pg_session_askf(s, name, sizeof name, err, elen, "SELECT "
		    "m.datname FROM (SELECT d.datname FROM pg_database d JOIN "
		    "pg_shdescription s ON s.objoid = d.oid AND s.classoid = "
		    "'pg_database'::regclass WHERE s.description = '"
		    PGADMIN_MARK "' OFFSET 0) m WHERE pg_try_advisory_lock(%d, "
		    "hashtext(m.datname)) LIMIT 1;", PGADMIN_LOCK_CLASS) < 0)
			return -1;
		if (name[0] == '\0')
			return 0;
		pg_quote_ident(name, q, sizeof q);
		pg_quote_literal(name, lit, sizeof lit);
		if (pgadmin_end_sessions(s, name, err, elen) < 0 ||
		    pg_session_execf(s, err, elen, "DROP DATABASE %s;", q) < 0 ||
		    pg_session_execf(s, err, elen, "SELECT pg_advisory_unlock("
		    "%d, hashtext(%s));", PGADMIN_LOCK_CLASS, lit) < 0)
			return -1;
		log_step("dropped database %s left by an interrupted restore",
		    q);
	}
	return 0;
}

/* Whether H records a locale of its own. */
static int
has_locale(const struct format_header *h)
{
	return h != NULL && h->db_props[0] && h->db_collate[0] &&
	    h->db_ctype[0];
}

int
pgadmin_create_marked(struct pg_session *s, const char *name,
    const char *encoding, const struct format_header *locale,
    const char *owner, char *err, size_t elen)
{
	char by[QNAME + 8] = "", enc[100] = "", q[QNAME], qname[QNAME];
	char lit[100], loc[2400] = "", a[600], b[600], c[600], qlit[QNAME];
	int exists = 0;

	if (pgadmin_role_exists(s, owner, &exists, err, elen) < 0)
		return -1;
	if (exists && pg_quote_ident(owner, q, sizeof q) == 0)
		snprintf(by, sizeof by, " OWNER %s", q);
	if (encoding[0] && pg_quote_literal(encoding, lit, sizeof lit) == 0)
		snprintf(enc, sizeof enc, " ENCODING %s", lit);
	if (has_locale(locale) &&
	    pg_quote_literal(locale->db_collate, a, sizeof a) == 0 &&
	    pg_quote_literal(locale->db_ctype, b, sizeof b) == 0) {
		int n = snprintf(loc, sizeof loc, " LC_COLLATE %s LC_CTYPE %s",
		    a, b);
		/* LOCALE_PROVIDER came with PostgreSQL 15: name it only
		 * when it is not the one older servers have. */
		if (strcmp(locale->db_locale_provider, "icu") == 0 &&
		    pg_quote_literal(locale->db_icu_locale, c, sizeof c) == 0)
			snprintf(loc + n, sizeof loc - (size_t)n,
			    " LOCALE_PROVIDER icu ICU_LOCALE %s", c);
	}
	pg_quote_ident(name, qname, sizeof qname);
	/* While this session lives, the database is known to be ours:
	 * another install's restore on this server leaves it alone. */
	if (pg_quote_literal(name, qlit, sizeof qlit) < 0 ||
	    pg_session_execf(s, err, elen, "SELECT pg_advisory_lock(%d, "
	    "hashtext(%s));", PGADMIN_LOCK_CLASS, qlit) < 0)
		return -1;
	if (pg_session_execf(s, err, elen, "CREATE DATABASE %s TEMPLATE "
	    "template0%s%s%s;", qname, enc, loc, by) < 0)
		return -1;
	return pg_session_execf(s, err, elen, "COMMENT ON DATABASE %s IS '"
	    PGADMIN_MARK "';", qname);
}

/* The value of the hex digit C, or -1000 when it is none. */
static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1000;
}

/* Decodes the N hex digits HEX (text sent hex-encoded, so that any
 * bytes come through one line) into OUT (LEN bytes), with a NUL.
 * Returns 0; -1 for an odd count, a bad digit or a NUL byte; -2 when
 * OUT is too small. */
static int
from_hex(const char *hex, size_t n, char *out, size_t len)
{
	if (n % 2 != 0)
		return -1;
	if (n / 2 >= len)
		return -2;
	for (size_t i = 0; i < n / 2; i++) {
		int v = nibble(hex[2 * i]) * 16 + nibble(hex[2 * i + 1]);
		if (v <= 0)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return 0;
}

/* The locale provider and the ICU locale: columns that not every
 * version has, read through jsonb. */
static const char provider[] = "CASE to_jsonb(d)->>'datlocprovider' WHEN "
    "'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END";
static const char icu[] = "coalesce(to_jsonb(d)->>'daticulocale', "
    "to_jsonb(d)->>'datlocale')";

/* Asks for EXPR about database NAME (NULL: the session's own) as d, from
 * pg_database, hex-encoded on the way so that any text comes through one
 * line, and decodes it into OUT (LEN bytes).  Returns 0 or -1. */
static int
ask_db(struct pg_session *s, const char *name, const char *expr, char *out,
    size_t len, char *err, size_t elen)
{
	char sql[2048], which[QNAME] = "current_database()";
	size_t hl = 2 * len + 16, n;
	char *hex = malloc(hl);
	int rc = -1;

	if (hex == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	if (name != NULL && pg_quote_literal(name, which, sizeof which) < 0) {
		free(hex);
		snprintf(err, elen, "database name too long");
		return -1;
	}
	snprintf(sql, sizeof sql, "SELECT encode(convert_to(coalesce((%s)::"
	    "text, ''), 'UTF8'), 'hex') FROM pg_catalog.pg_database d WHERE "
	    "d.datname = %s;", expr, which);
	if (pg_session_query(s, sql, hex, hl, err, elen) < 0)
		goto out;
	n = strlen(hex);
	switch (from_hex(hex, n, out, len)) {
	case -2:
		snprintf(err, elen, "a property of the database is too long "
		    "to record (%zu bytes)", n / 2);
		break;
	case -1:
		snprintf(err, elen, "cannot read a property of the database");
		break;
	default:
		rc = 0;
	}
out:
	free(hex);
	return rc;
}

int
pgadmin_db_encoding(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen)
{
	return ask_db(s, name, "pg_encoding_to_char(d.encoding)", out, len,
	    err, elen);
}

int
pgadmin_db_oid(struct pg_session *s, const char *name, char *out, size_t len,
    char *err, size_t elen)
{
	return ask_db(s, name, "d.oid", out, len, err, elen);
}

int
pgadmin_props_read(struct pg_session *s, struct format_header *h, char *err,
    size_t elen)
{
	const struct {
		char *field;
		size_t len;
		const char *expr;
	} q[] = {
		{ h->db_owner, sizeof h->db_owner, "pg_get_userbyid(d.datdba)" },
		{ h->db_connlimit, sizeof h->db_connlimit, "d.datconnlimit" },
		{ h->db_acl, sizeof h->db_acl, "d.datacl" },
		{ h->db_settings, sizeof h->db_settings,
		  "(SELECT string_agg(CASE WHEN r.setrole = 0 THEN '' ELSE "
		  "pg_get_userbyid(r.setrole) END || E'\\t' || c || E'\\n', "
		  "'' ORDER BY r.setrole, c) FROM pg_catalog.pg_db_role_setting "
		  "r, unnest(r.setconfig) c WHERE r.setdatabase = d.oid)" },
		{ h->db_comment, sizeof h->db_comment,
		  "nullif(shobj_description(d.oid, 'pg_database'), '"
		  PGADMIN_MARK "')" },
	};

	if (pgadmin_db_locale(s, NULL, h, err, elen) < 0)
		return -1;
	for (size_t i = 0; i < sizeof q / sizeof *q; i++)
		if (ask_db(s, NULL, q[i].expr, q[i].field, q[i].len, err,
		    elen) < 0)
			return -1;
	snprintf(h->db_props, sizeof h->db_props, "1");
	return 0;
}

int
pgadmin_db_locale(struct pg_session *s, const char *name,
    struct format_header *h, char *err, size_t elen)
{
	if (ask_db(s, name, "pg_encoding_to_char(d.encoding)", h->encoding,
	    sizeof h->encoding, err, elen) < 0 ||
	    ask_db(s, name, provider, h->db_locale_provider,
	    sizeof h->db_locale_provider, err, elen) < 0 ||
	    ask_db(s, name, "d.datcollate", h->db_collate,
	    sizeof h->db_collate, err, elen) < 0 ||
	    ask_db(s, name, "d.datctype", h->db_ctype, sizeof h->db_ctype, err,
	    elen) < 0 ||
	    ask_db(s, name, icu, h->db_icu_locale, sizeof h->db_icu_locale,
	    err, elen) < 0)
		return -1;
	snprintf(h->db_props, sizeof h->db_props, "%s", h->db_collate[0] ?
	    "1" : "");
	return 0;
}

/* Whether NAME is a setting's name: letters, digits, '_' and '.'. */
static int
setting_name(const char *name, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		    name[i] == '.'))
			return 0;
	return 1;
}

/* Applies one "ROLE\tNAME=VALUE" line of db_settings to database Q (a
 * quoted name). */
static int
apply_setting(struct pg_session *s, const char *q, const char *line,
    size_t len, char *err, size_t elen)
{
	/* These hold lists: the stored value is already in SQL's list
	 * syntax, and quoting it whole would make it one element. */
	static const char *const lists[] = { "search_path",
		"temp_tablespaces", "session_preload_libraries",
		"local_preload_libraries", NULL };
	const char *tab = memchr(line, '\t', len), *eq;
	char role[300], qrole[QNAME], name[128], *value, *sql;
	size_t vl;
	int list = 0, rc;

	if (tab == NULL || (size_t)(tab - line) >= sizeof role ||
	    (eq = memchr(tab + 1, '=', len - (size_t)(tab + 1 - line))) ==
	    NULL || (size_t)(eq - tab - 1) >= sizeof name ||
	    !setting_name(tab + 1, (size_t)(eq - tab - 1))) {
		snprintf(err, elen, "the archive records a database setting "
		    "that is not one: '%.*s'", (int)(len > 200 ? 200 : len),
		    line);
		return -1;
	}
	memcpy(role, line, (size_t)(tab - line));
	role[tab - line] = '\0';
	memcpy(name, tab + 1, (size_t)(eq - tab - 1));
	name[eq - tab - 1] = '\0';
	vl = len - (size_t)(eq + 1 - line);
	for (size_t i = 0; lists[i]; i++)
		list |= strcmp(name, lists[i]) == 0;
	value = malloc(2 * vl + 3);
	sql = malloc(2 * vl + 3 + 2 * QNAME + 256);
	if (value == NULL || sql == NULL) {
		free(value);
		free(sql);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	memcpy(value, eq + 1, vl);
	value[vl] = '\0';
	if (!list) {
		char *lit = malloc(2 * vl + 3);
		if (lit == NULL || pg_quote_literal(value, lit, 2 * vl + 3) < 0) {
			free(lit);
			free(value);
			free(sql);
			snprintf(err, elen, "out of memory");
			return -1;
		}
		memcpy(value, lit, strlen(lit) + 1);
		free(lit);
	}
	if (role[0]) {
		pg_quote_ident(role, qrole, sizeof qrole);
		snprintf(sql, 2 * vl + 3 + 2 * QNAME + 256, "ALTER ROLE %s IN "
		    "DATABASE %s SET %s TO %s;", qrole, q, name, value);
	} else {
		snprintf(sql, 2 * vl + 3 + 2 * QNAME + 256, "ALTER DATABASE %s "
		    "SET %s TO %s;", q, name, value);
	}
	rc = pg_session_query(s, sql, NULL, 0, err, elen);
	free(value);
	free(sql);
	return rc;
}

int
pgadmin_props_apply(struct pg_session *s, const char *name,
    const struct format_header *h, char *err, size_t elen)
{
	char q[QNAME], qowner[QNAME], lit[QNAME], *acl, *sql;
	size_t len;
	long limit;
	int rc;

	if (h->db_props[0] == '\0')
		return 0;
	pg_quote_ident(name, q, sizeof q);
	if (h->db_owner[0]) {
		pg_quote_ident(h->db_owner, qowner, sizeof qowner);
		if (pg_session_execf(s, err, elen, "ALTER DATABASE %s OWNER TO "
		    "%s;", q, qowner) < 0)
			return -1;
	}
	limit = pg_number(h->db_connlimit);
	if (h->db_connlimit[0] && limit >= -1 && pg_session_execf(s, err, elen,
	    "ALTER DATABASE %s CONNECTION LIMIT %ld;", q, limit) < 0)
		return -1;
	/* The rights as recorded, in place of the defaults (which let
	 * PUBLIC connect).  The grantor is the owner's. */
	if (h->db_acl[0]) {
		len = 2 * strlen(h->db_acl) + 3;
		acl = malloc(len);
		sql = malloc(len + 1024);
		if (acl == NULL || sql == NULL ||
		    pg_quote_literal(h->db_acl, acl, len) < 0 ||
		    pg_quote_literal(name, lit, sizeof lit) < 0) {
			free(acl);
			free(sql);
			snprintf(err, elen, "out of memory");
			return -1;
		}
		snprintf(sql, len + 1024, "DO $polarity$ DECLARE a record; "
		    "BEGIN EXECUTE format('REVOKE ALL ON DATABASE %%I FROM "
		    "PUBLIC', %s); EXECUTE format('REVOKE ALL ON DATABASE %%I "
		    "FROM %%I', %s, (SELECT pg_get_userbyid(datdba) FROM "
		    "pg_catalog.pg_database WHERE datname = %s)); FOR a IN "
		    "SELECT * FROM aclexplode(%s::aclitem[]) LOOP EXECUTE "
		    "format('GRANT %%s ON DATABASE %%I TO %%s%%s', "
		    "a.privilege_type, %s, CASE WHEN a.grantee = 0 THEN "
		    "'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
		    "CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' "
		    "END); END LOOP; END $polarity$;", lit, lit, lit, acl, lit);
		rc = pg_session_query(s, sql, NULL, 0, err, elen);
		free(acl);
		free(sql);
		if (rc < 0)
			return -1;
	}
	for (const char *p = h->db_settings; *p; ) {
		size_t l = strcspn(p, "\n");
		if (l > 0 && apply_setting(s, q, p, l, err, elen) < 0)
			return -1;
		p += l + (p[l] == '\n');
	}
	return 0;
}

int
pgadmin_props_comment(struct pg_session *s, const char *name,
    const struct format_header *h, char *err, size_t elen)
{
	char q[QNAME], *lit;
	size_t len = 2 * strlen(h->db_comment) + 3;
	int rc;

	pg_quote_ident(name, q, sizeof q);
	if (h->db_comment[0] == '\0')
		return pg_session_execf(s, err, elen, "COMMENT ON DATABASE %s "
		    "IS NULL;", q);
	lit = malloc(len);
	if (lit == NULL || pg_quote_literal(h->db_comment, lit, len) < 0) {
		free(lit);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	rc = pg_session_execf(s, err, elen, "COMMENT ON DATABASE %s IS %s;",
	    q, lit);
	free(lit);
	return rc;
}

int
pgadmin_props_match(struct pg_session *s, const char *name,
    const struct format_header *h, int *same, char *err, size_t elen)
{
	char lit[QNAME], out[16];

	*same = 1;
	if (!has_locale(h))
		return 0;
	if (pg_quote_literal(name, lit, sizeof lit) < 0) {
		snprintf(err, elen, "database name too long");
		return -1;
	}
	/* The comparison is made by the server, on its own columns. */
	{
		char *cl = malloc(600), *ct = malloc(600);
		int rc;
		if (cl == NULL || ct == NULL ||
		    pg_quote_literal(h->db_collate, cl, 600) < 0 ||
		    pg_quote_literal(h->db_ctype, ct, 600) < 0) {
			free(cl);
			free(ct);
			snprintf(err, elen, "out of memory");
			return -1;
		}
		rc = pg_session_askf(s, out, sizeof out, err, elen, "SELECT "
		    "count(*) FROM pg_catalog.pg_database WHERE datname = %s "
		    "AND datcollate = %s AND datctype = %s;", lit, cl, ct);
		free(cl);
		free(ct);
		if (rc < 0)
			return -1;
	}
	*same = strcmp(out, "1") == 0;
	return 0;
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
	pg_quote_ident(tmp ? tmp : "", qtmp, sizeof qtmp);
	pg_quote_ident(kept, qkept, sizeof qkept);
	if (!existed)
		return pg_session_execf(s, err, elen, "ALTER DATABASE %s RENAME "
		    "TO %s;", qtmp, qtarget);
	if (tmp == NULL)
		snprintf(both, sizeof both, "ALTER DATABASE %s RENAME TO %s",
		    qtarget, qkept);
	else
		snprintf(both, sizeof both, "ALTER DATABASE %s RENAME TO %s; "
		    "ALTER DATABASE %s RENAME TO %s", qtarget, qkept, qtmp,
		    qtarget);
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

/* For every foreign key: the rows of its table (ONLY: a partition has
 * its own copy of the key) whose columns are all set but match no row
 * of the table it references (the whole tree when that is partitioned),
 * and under MATCH FULL the rows with only some of them set.  The copies
 * a key gets for each partition of the table it references are skipped:
 * their parent covers them.  The offending keys are raised as one error,
 * which is how the answer comes back through psql. */
static const char check_keys_sql[] =
    "DO $polarity$\n"
    "DECLARE k record; n bigint; ex text; bad text := ''; q text;\n"
    "BEGIN\n"
    "FOR k IN SELECT c.conname,\n"
    "  format('%I.%I', tn.nspname, t.relname) AS tbl,\n"
    "  format('%I.%I', rn.nspname, r.relname) AS ref, r.relkind,\n"
    "  c.confmatchtype AS mt,\n"
    "  (SELECT string_agg(format('c.%I', a.attname), ', ' ORDER BY x.i)\n"
    "   FROM unnest(c.conkey) WITH ORDINALITY x(n, i)\n"
    "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.n)"
    " AS cols,\n"
    "  (SELECT string_agg(format('c.%I IS NOT NULL', a.attname), ' AND ')\n"
    "   FROM unnest(c.conkey) x(n)\n"
    "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.n)"
    " AS allset,\n"
    "  (SELECT string_agg(format('c.%I IS NULL', a.attname), ' OR ')\n"
    "   FROM unnest(c.conkey) x(n)\n"
    "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.n)"
    " AS someunset,\n"
    "  (SELECT string_agg(format('p.%I = c.%I', b.attname, a.attname),"
    " ' AND ')\n"
    "   FROM unnest(c.conkey, c.confkey) x(n, m)\n"
    "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.n\n"
    "   JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = x.m)"
    " AS eq\n"
    " FROM pg_constraint c\n"
    " JOIN pg_class t ON t.oid = c.conrelid\n"
    " JOIN pg_namespace tn ON tn.oid = t.relnamespace\n"
    " JOIN pg_class r ON r.oid = c.confrelid\n"
    " JOIN pg_namespace rn ON rn.oid = r.relnamespace\n"
    " WHERE c.contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_constraint pc"
    " WHERE pc.oid = c.conparentid AND pc.conrelid = c.conrelid)\n"
    " ORDER BY 2, 1\n"
    "LOOP\n"
    "  q := format('SELECT count(*), min(row(%s)::text) FROM ONLY %s c "
    "WHERE (%s AND NOT EXISTS (SELECT 1 FROM %s%s p WHERE %s))%s',\n"
    "    k.cols, k.tbl, k.allset, CASE WHEN k.relkind = 'p' THEN '' ELSE "
    "'ONLY ' END, k.ref, k.eq,\n"
    "    CASE WHEN k.mt = 'f' THEN format(' OR ((%s) AND NOT (%s))', "
    "k.someunset, replace(k.allset, 'IS NOT NULL', 'IS NULL')) ELSE '' "
    "END);\n"
    "  EXECUTE q INTO n, ex;\n"
    "  IF n > 0 THEN\n"
    "    bad := bad || format('%s%s rows of %s break its foreign key %I "
    "to %s (e.g. the key %s)', CASE WHEN bad = '' THEN '' ELSE '; ' END,"
    " n, k.tbl, k.conname, k.ref, ex);\n"
    "  END IF;\n"
    "END LOOP;\n"
    "IF bad <> '' THEN RAISE EXCEPTION 'polarity-keys: %', bad; END IF;\n"
    "END $polarity$;";

int
pgadmin_check_keys(struct pg_session *s, char *err, size_t elen)
{
	char text[2048];
	const char *p;

	if (pg_session_query(s, check_keys_sql, NULL, 0, err, elen) == 0)
		return 0;
	p = strstr(err, "polarity-keys: ");
	if (p == NULL)
		return -1;
	snprintf(text, sizeof text, "%s", p + 15);
	snprintf(err, elen, "%s", text);
	return 1;
}

int
pgadmin_kept_db(struct pg_session *s, const char *live, int index,
    char *name, size_t nlen, char *size, size_t slen, char *err,
    size_t elen)
{
	static const char dated[] = "_(?:before_restore|undone)_[0-9]{14}"
	    "(?:_[0-9]+)?$";
	char lit[QNAME], answer[400], *sp;

	if (pg_quote_literal(live, lit, sizeof lit) < 0) {
		snprintf(err, elen, "database name too long");
		return -1;
	}
	/* Hex on the way: any name comes through one line. */
	if (pg_session_askf(s, answer, sizeof answer, err, elen, "SELECT "
	    "encode(convert_to(datname, 'UTF8'), 'hex') || ' ' || "
	    "pg_size_pretty(pg_database_size(oid)) FROM pg_database WHERE "
	    "datname <> %s AND datname ~ '%s' AND starts_with(%s, "
	    "substring(datname from '^(.*)%s')) ORDER BY datname OFFSET %d "
	    "LIMIT 1;", lit, dated, lit, dated, index) < 0)
		return -1;
	sp = strchr(answer, ' ');
	if (answer[0] == '\0' || sp == NULL)
		return 0;
	if (from_hex(answer, (size_t)(sp - answer), name, nlen) < 0) {
		snprintf(err, elen, "a database name the server garbled");
		return -1;
	}
	snprintf(size, slen, "%s", sp + 1);
	return 1;
}

int
pgadmin_db_size(struct pg_session *s, const char *name, char *out,
    size_t len, char *err, size_t elen)
{
	return ask_db(s, name, "pg_size_pretty(pg_database_size(d.oid))", out,
	    len, err, elen);
}

int
pgadmin_drop_now(struct pg_session *s, const char *name, char *err,
    size_t elen)
{
	char q[QNAME], why[512];

	pg_quote_ident(name, q, sizeof q);
	if (pgadmin_end_sessions(s, name, err, elen) < 0)
		return -1;
	if (pg_session_execf(s, err, elen, "DROP DATABASE %s;", q) == 0)
		return 0;
	/* Most likely the applications came back at once. */
	snprintf(why, sizeof why, "%s", err);
	snprintf(err, elen, "cannot drop %s: %s; stop the Polarity containers "
	    "first (cd /app && ./down.sh)", q, why);
	return -1;
}
