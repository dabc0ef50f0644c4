/* roles.c - roles.sql read, filtered and applied. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgadmin.h"
#include "roles.h"

int
roles_parse_line(const char *line, struct roles_line *l)
{
	const char *p;

	memset(l, 0, sizeof *l);
	if (strncmp(line, "ALTER ROLE ", 11) == 0 &&
	    (p = pg_parse_ident(line + 11, l->role, sizeof l->role)) != NULL &&
	    strncmp(p, " WITH ", 6) == 0) {
		l->kind = ROLES_ALTER;
		roles_safe_attrs(p + 6, l->attrs, sizeof l->attrs);
		return 1;
	}
	if (strncmp(line, "GRANT ", 6) == 0 &&
	    (p = pg_parse_ident(line + 6, l->role, sizeof l->role)) != NULL &&
	    strncmp(p, " TO ", 4) == 0 &&
	    pg_parse_ident(p + 4, l->member, sizeof l->member) != NULL) {
		l->kind = ROLES_GRANT;
		return 1;
	}
	memset(l, 0, sizeof *l);
	return 0;
}

void
roles_safe_attrs(const char *with, char *out, size_t len)
{
	static const char *const ok[] = { "LOGIN", "NOLOGIN", "INHERIT",
		"NOINHERIT", "CREATEDB", "NOCREATEDB", "CREATEROLE",
		"NOCREATEROLE", NULL };
	size_t o = 0;

	out[0] = '\0';
	while (*with) {
		size_t n = strcspn(with, " ;");
		for (size_t i = 0; ok[i]; i++)
			if (strlen(ok[i]) == n && strncmp(with, ok[i], n) == 0 &&
			    o + n + 2 < len) {
				o += (size_t)snprintf(out + o, len - o, "%s%s",
				    o ? " " : "", ok[i]);
			}
		with += n;
		while (*with == ' ' || *with == ';')
			with++;
	}
}

int
roles_create_one(struct pg_session *s, const char *role, const char *attrs,
    FILE *report, char *err, size_t elen)
{
	char q[520];

	if (pg_quote_ident(role, q, sizeof q) < 0) {
		snprintf(err, elen, "role name too long");
		return -1;
	}
	if (pg_session_execf(s, err, elen, "CREATE ROLE %s%s%s;", q,
	    attrs[0] ? " WITH " : "", attrs) < 0)
		return -1;
	log_step("created role %s", q);
	fprintf(report, "Created role %s, which the database needs "
	    "(without a password).\n", q);
	return 0;
}

/* Whether NAME is one of the N names MADE. */
static int
made_here(char **made, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(made[i], name) == 0)
			return 1;
	return 0;
}

/* Gives the memberships of TEXT that involve a role of MADE. */
static int
grant(struct pg_session *s, char *text, char **made, size_t nmade,
    char *err, size_t elen)
{
	char *line, *save = NULL, why[512];
	struct roles_line l;

	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char qa[520], qb[520], stmt[1100];
		if (roles_parse_line(line, &l) != 1 || l.kind != ROLES_GRANT ||
		    !(made_here(made, nmade, l.role) ||
		    made_here(made, nmade, l.member)) ||
		    pg_quote_ident(l.role, qa, sizeof qa) < 0 ||
		    pg_quote_ident(l.member, qb, sizeof qb) < 0)
			continue;
		snprintf(stmt, sizeof stmt, "GRANT %s TO %s", qa, qb);
		int t = pg_session_try(s, stmt, why, sizeof why, err, elen);
		if (t < 0)
			return -1;
		if (t > 0)
			log_warn("cannot grant role %s to %s: %s", qa, qb, why);
	}
	return 0;
}

/* "  role x with LOGIN" on REPORT, unless it is NULL: a role that would
 * be created. */
static void
name_missing(FILE *report, const char *role, const char *attrs)
{
	char q[520];

	if (report == NULL)
		return;
	pg_quote_ident(role, q, sizeof q);
	fprintf(report, "  role %s%s%s\n", q, attrs[0] ? " with " : "", attrs);
}

int
roles_create(struct pg_session *s, char *text, int *missing, FILE *report,
    char *err, size_t elen)
{
	char *copy, *line, *save = NULL, **made = NULL;
	size_t nmade = 0;
	struct roles_line l;
	int rc = 0;

	if (missing)
		*missing = 0;
	/* The grants are read in a second pass over the same text. */
	copy = strdup(text);
	if (copy == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line && rc == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		int exists;
		if (roles_parse_line(line, &l) != 1 || l.kind != ROLES_ALTER)
			continue;
		if (pgadmin_role_exists(s, l.role, &exists, err, elen) < 0) {
			rc = -1;
			break;
		}
		if (exists)
			continue;
		if (missing) {
			/* Counting: REPORT, when given, gets the names. */
			++*missing;
			name_missing(report, l.role, l.attrs);
			continue;
		}
		if (roles_create_one(s, l.role, l.attrs, report, err,
		    elen) < 0) {
			rc = -1;
			break;
		}
		char **v = realloc(made, (nmade + 1) * sizeof *v);
		if (v == NULL || (v[nmade] = strdup(l.role)) == NULL) {
			made = v ? v : made;
			snprintf(err, elen, "out of memory");
			rc = -1;
			break;
		}
		made = v;
		nmade++;
	}
	if (rc == 0 && nmade)
		rc = grant(s, copy, made, nmade, err, elen);
	free(copy);
	for (size_t i = 0; i < nmade; i++)
		free(made[i]);
	free(made);
	return rc;
}

int
roles_create_names(struct pg_session *s, const char (*names)[64], size_t n,
    int *missing, FILE *report, char *err, size_t elen)
{
	if (missing)
		*missing = 0;
	for (size_t i = 0; i < n; i++) {
		int exists;
		if (pgadmin_role_exists(s, names[i], &exists, err, elen) < 0)
			return -1;
		if (exists)
			continue;
		if (missing) {
			++*missing;
			name_missing(report, names[i], "");
		} else if (roles_create_one(s, names[i], "", report, err,
		    elen) < 0) {
			return -1;
		}
	}
	return 0;
}

int
roles_from_error(struct pg_session *s, const char *errtext, FILE *report,
    char *err, size_t elen)
{
	char role[256];

	if (!pg_missing_role(errtext, role, sizeof role))
		return 0;
	/* The fallback the Polarity documentation describes, done for the
	 * operator: create the role, load again. */
	log_step("role \"%s\" does not exist here: creating it and loading "
	    "again", role);
	return roles_create_one(s, role, "", report, err, elen) < 0 ? -1 : 1;
}
