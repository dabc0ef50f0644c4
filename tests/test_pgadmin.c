/* test_pgadmin.c - dated names, and the statements sent to make, mark
 * and swap databases (to a stand-in psql: no server needed). */
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
#include "pgadmin.h"
#include "fakepsql.h"

static void
test_dated_names_fit_63_bytes(void **state)
{
	char out[128], longname[100];

	(void)state;
	pgadmin_dated(out, sizeof out, "polarity", "restoring",
	    "20261126000000");
	assert_string_equal(out, "polarity_restoring_20261126000000");
	memset(longname, 'x', 80);
	longname[80] = '\0';
	pgadmin_dated(out, sizeof out, longname, "before_restore",
	    "20261126000000_2");
	assert_int_equal(strlen(out), 63);
	assert_string_equal(out + 63 - strlen("_before_restore_20261126000000_2"),
	    "_before_restore_20261126000000_2");
}

struct fixture {
	char dir[64];
	struct config c;
	struct pg pg;
	struct pg_session s;
	char err[512];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/test_pgadmin.XXXXXX");
	fake_open(f->dir, &f->c, &f->pg, &f->s);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fake_close(f->dir, &f->pg, &f->s);
	free(f);
	return 0;
}

static void
test_existence_is_asked_by_name(void **state)
{
	struct fixture *f = *state;
	int exists = -1;
	char *log;

	assert_int_equal(pgadmin_db_exists(&f->s, "present", &exists, f->err,
	    sizeof f->err), 0);
	assert_int_equal(exists, 1);
	assert_int_equal(pgadmin_role_exists(&f->s, "it's", &exists, f->err,
	    sizeof f->err), 0);
	assert_int_equal(exists, 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "FROM pg_database WHERE datname = "
	    "'present';"));
	assert_non_null(strstr(log, "FROM pg_roles WHERE rolname = 'it''s';"));
	free(log);
}

static void
test_new_database_is_marked_and_owned(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(pgadmin_create_marked(&f->s, "db_restoring_1", "UTF8",
	    "present", f->err, sizeof f->err), 0);
	assert_int_equal(pgadmin_create_marked(&f->s, "b", "", "absent",
	    f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "CREATE DATABASE \"db_restoring_1\" "
	    "TEMPLATE template0 ENCODING 'UTF8' OWNER \"present\";"));
	assert_non_null(strstr(log, "COMMENT ON DATABASE \"db_restoring_1\" IS "
	    "'" PGADMIN_MARK "';"));
	/* No owner that does not exist, no encoding when none is known. */
	assert_non_null(strstr(log, "CREATE DATABASE \"b\" TEMPLATE "
	    "template0;"));
	free(log);
}

static void
test_swap_renames_both_or_neither(void **state)
{
	struct fixture *f = *state;
	char *log, *off, *rename, *on;

	assert_int_equal(pgadmin_swap(&f->s, "db", "db_tmp", "db_kept", 1,
	    f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	off = strstr(log, "ALTER DATABASE \"db\" ALLOW_CONNECTIONS false");
	rename = strstr(log, "ALTER DATABASE \"db\" RENAME TO "
	    "\"db_kept\"; ALTER DATABASE \"db_tmp\" RENAME TO "
	    "\"db\"");
	on = strstr(log, "ALTER DATABASE \"db_kept\" ALLOW_CONNECTIONS "
	    "true");
	/* Connections kept out, sessions ended, both renames in one
	 * statement, and the kept database open again. */
	assert_non_null(off);
	assert_non_null(rename);
	assert_non_null(on);
	assert_true(off < rename && rename < on);
	assert_non_null(strstr(off, "pg_terminate_backend"));
	free(log);
}

static void
test_swap_without_a_database_to_replace(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(pgadmin_swap(&f->s, "db", "db_tmp", "db_kept", 0,
	    f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "ALTER DATABASE \"db_tmp\" RENAME TO "
	    "\"db\";"));
	assert_null(strstr(log, "db_kept"));
	free(log);
}

static void
test_stale_databases_are_found_by_their_mark(void **state)
{
	struct fixture *f = *state;
	char *log;

	assert_int_equal(pgadmin_drop_marked(&f->s, f->err, sizeof f->err),
	    0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "s.description = '" PGADMIN_MARK "'"));
	/* The stand-in names none: nothing is dropped. */
	assert_null(strstr(log, "DROP DATABASE"));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dated_names_fit_63_bytes),
		cmocka_unit_test_setup_teardown(
		    test_existence_is_asked_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_new_database_is_marked_and_owned, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_swap_renames_both_or_neither, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_swap_without_a_database_to_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stale_databases_are_found_by_their_mark, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
