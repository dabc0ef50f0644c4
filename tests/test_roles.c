/* test_roles.c - roles.sql read and filtered, roles created (on a
 * stand-in psql: no server needed). */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "roles.h"
#include "fakepsql.h"

static void
test_lines_that_matter_are_read(void **state)
{
	struct roles_line l;

	(void)state;
	assert_int_equal(roles_parse_line("ALTER ROLE \"we\"\"ird\" WITH "
	    "SUPERUSER INHERIT LOGIN;", &l), 1);
	assert_int_equal(l.kind, ROLES_ALTER);
	assert_string_equal(l.role, "we\"ird");
	assert_string_equal(l.attrs, "INHERIT LOGIN");
	assert_int_equal(roles_parse_line("GRANT app TO \"Ops Team\" GRANTED "
	    "BY postgres;", &l), 1);
	assert_int_equal(l.kind, ROLES_GRANT);
	assert_string_equal(l.role, "app");
	assert_string_equal(l.member, "Ops Team");
	/* Bare names fold to lower case, as the server folds them. */
	assert_int_equal(roles_parse_line("ALTER ROLE App WITH LOGIN;", &l), 1);
	assert_string_equal(l.role, "app");
	assert_int_equal(roles_parse_line("CREATE ROLE app;", &l), 0);
	assert_int_equal(roles_parse_line("-- ALTER ROLE x WITH LOGIN;", &l),
	    0);
	assert_int_equal(roles_parse_line("ALTER ROLE x SET work_mem = 1;",
	    &l), 0);
}

static void
test_attributes_never_widen_access(void **state)
{
	char out[256];

	(void)state;
	roles_safe_attrs("SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN "
	    "REPLICATION BYPASSRLS PASSWORD 'md5abc' VALID UNTIL 'x';", out,
	    sizeof out);
	assert_string_equal(out, "INHERIT CREATEROLE CREATEDB LOGIN");
	roles_safe_attrs("NOSUPERUSER NOINHERIT NOLOGIN;", out, sizeof out);
	assert_string_equal(out, "NOINHERIT NOLOGIN");
	/* A word that only starts like an attribute is not one. */
	roles_safe_attrs("LOGINX CREATEDBZ;", out, sizeof out);
	assert_string_equal(out, "");
}

struct fixture {
	char dir[64];
	struct config c;
	struct pg pg;
	struct pg_session s;
	char err[512];
	char *report;
	size_t rlen;
	FILE *rf;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_roles.XXXXXX");
	fake_open(f->dir, &f->c, &f->pg, &f->s);
	f->rf = open_memstream(&f->report, &f->rlen);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fake_close(f->dir, &f->pg, &f->s);
	fclose(f->rf);
	free(f->report);
	free(f);
	return 0;
}

static const char roles_sql[] =
    "CREATE ROLE present;\n"
    "ALTER ROLE present WITH SUPERUSER LOGIN;\n"
    "CREATE ROLE app;\n"
    "ALTER ROLE app WITH NOSUPERUSER INHERIT LOGIN REPLICATION;\n"
    "GRANT app TO present GRANTED BY postgres;\n"
    "GRANT present TO other GRANTED BY postgres;\n";

static void
test_counting_creates_nothing(void **state)
{
	struct fixture *f = *state;
	char text[sizeof roles_sql], *log;
	int missing = -1;

	memcpy(text, roles_sql, sizeof text);
	assert_int_equal(roles_create(&f->s, text, &missing, f->rf, f->err,
	    sizeof f->err), 0);
	assert_int_equal(missing, 1);
	log = fake_log(f->dir);
	assert_null(strstr(log, "CREATE ROLE"));
	free(log);
}

static void
test_only_missing_roles_are_made(void **state)
{
	struct fixture *f = *state;
	char text[sizeof roles_sql], *log;

	memcpy(text, roles_sql, sizeof text);
	assert_int_equal(roles_create(&f->s, text, NULL, f->rf, f->err,
	    sizeof f->err), 0);
	fflush(f->rf);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "CREATE ROLE \"app\" WITH INHERIT "
	    "LOGIN;"));
	assert_null(strstr(log, "CREATE ROLE \"present\""));
	/* The membership of the new role is given; one between roles that
	 * were there already is not. */
	assert_non_null(strstr(log, "GRANT \"app\" TO \"present\""));
	assert_null(strstr(log, "GRANT \"present\" TO \"other\""));
	assert_non_null(strstr(f->report, "Created role \"app\""));
	free(log);
}

static void
test_missing_role_from_a_load_error(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(roles_from_error(&f->s, "psql:<stdin>:40: ERROR:  "
	    "role \"ghost\" does not exist\n", f->rf, f->err, sizeof f->err),
	    1);
	assert_int_equal(roles_from_error(&f->s, "ERROR:  syntax error at or "
	    "near \"x\"\n", f->rf, f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "CREATE ROLE \"ghost\";"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_that_matter_are_read),
		cmocka_unit_test(test_attributes_never_widen_access),
		cmocka_unit_test_setup_teardown(test_counting_creates_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_only_missing_roles_are_made, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_role_from_a_load_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
