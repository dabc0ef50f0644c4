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
	    NULL, "present", f->err, sizeof f->err), 0);
	assert_int_equal(pgadmin_create_marked(&f->s, "b", "", NULL, "absent",
	    f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "CREATE DATABASE \"db_restoring_1\" "
	    "TEMPLATE template0 ENCODING 'UTF8' OWNER \"present\";"));
	assert_non_null(strstr(log, "COMMENT ON DATABASE \"db_restoring_1\" IS "
	    "'" PGADMIN_MARK "';"));
	/* Held for the session, taken before the database exists. */
	assert_true(strstr(log, "SELECT pg_advisory_lock(1886350433, "
	    "hashtext('db_restoring_1'));") != NULL &&
	    strstr(log, "SELECT pg_advisory_lock(1886350433, "
	    "hashtext('db_restoring_1'));") < strstr(log, "CREATE DATABASE "
	    "\"db_restoring_1\""));
	/* No owner that does not exist, no encoding when none is known. */
	assert_non_null(strstr(log, "CREATE DATABASE \"b\" TEMPLATE "
	    "template0;"));
	free(log);
}

static void
test_new_database_gets_the_recorded_locale(void **state)
{
	struct fixture *f = *state;
	static struct format_header h = { .db_props = "1",
		.db_locale_provider = "libc", .db_collate = "C.utf8",
		.db_ctype = "en_US.utf8" };
	static struct format_header icu = { .db_props = "1",
		.db_locale_provider = "icu", .db_collate = "C", .db_ctype = "C",
		.db_icu_locale = "de-x-it's" };
	char *log;

	assert_int_equal(pgadmin_create_marked(&f->s, "a", "UTF8", &h,
	    "absent", f->err, sizeof f->err), 0);
	assert_int_equal(pgadmin_create_marked(&f->s, "b", "UTF8", &icu,
	    "absent", f->err, sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "CREATE DATABASE \"a\" TEMPLATE template0 "
	    "ENCODING 'UTF8' LC_COLLATE 'C.utf8' LC_CTYPE 'en_US.utf8';"));
	assert_non_null(strstr(log, "CREATE DATABASE \"b\" TEMPLATE template0 "
	    "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' LOCALE_PROVIDER icu "
	    "ICU_LOCALE 'de-x-it''s';"));
	free(log);
}

static void
test_properties_applied_before_the_swap(void **state)
{
	struct fixture *f = *state;
	static struct format_header h = { .db_props = "1",
		.db_owner = "Db Owner", .db_connlimit = "33",
		.db_acl = "{\"Db Owner\"=CTc/\"Db Owner\",r1=c/\"Db Owner\"}",
		.db_settings = "\tsearch_path=app, \"$user\"\n"
		    "r1\twork_mem=8MB\n\tstatement_timeout=it's\n",
		.db_comment = "x's\ndata" };
	static struct format_header none;
	char *log;

	assert_int_equal(pgadmin_props_apply(&f->s, "t_restoring", &h, f->err,
	    sizeof f->err), 0);
	assert_int_equal(pgadmin_props_comment(&f->s, "t", &h, f->err,
	    sizeof f->err), 0);
	assert_int_equal(pgadmin_props_comment(&f->s, "u", &none, f->err,
	    sizeof f->err), 0);
	log = fake_log(f->dir);
	assert_non_null(strstr(log, "ALTER DATABASE \"t_restoring\" OWNER TO "
	    "\"Db Owner\";"));
	assert_non_null(strstr(log, "ALTER DATABASE \"t_restoring\" "
	    "CONNECTION LIMIT 33;"));
	/* PUBLIC loses its default rights; the recorded ones come back. */
	assert_non_null(strstr(log, "REVOKE ALL ON DATABASE %I FROM PUBLIC"));
	assert_non_null(strstr(log, "aclexplode('{\"Db Owner\"=CTc/\"Db "
	    "Owner\",r1=c/\"Db Owner\"}'::aclitem[])"));
	/* A list keeps its own syntax; any other value is one literal. */
	assert_non_null(strstr(log, "ALTER DATABASE \"t_restoring\" SET "
	    "search_path TO app, \"$user\";"));
	assert_non_null(strstr(log, "ALTER ROLE \"r1\" IN DATABASE "
	    "\"t_restoring\" SET work_mem TO '8MB';"));
	assert_non_null(strstr(log, "ALTER DATABASE \"t_restoring\" SET "
	    "statement_timeout TO 'it''s';"));
	assert_non_null(strstr(log, "COMMENT ON DATABASE \"t\" IS 'x''s\n"
	    "data';"));
	assert_non_null(strstr(log, "COMMENT ON DATABASE \"u\" IS NULL;"));
	free(log);
}

static void
test_nothing_applied_when_nothing_recorded(void **state)
{
	struct fixture *f = *state;
	static struct format_header none = { .encoding = "UTF8" };
	static struct format_header bad = { .db_props = "1",
		.db_settings = "\twork_mem; DROP TABLE x=1\n" };
	char *log;

	assert_int_equal(pgadmin_props_apply(&f->s, "t", &none, f->err,
	    sizeof f->err), 0);
	assert_int_equal(pgadmin_props_apply(&f->s, "t", &bad, f->err,
	    sizeof f->err), -1);
	assert_non_null(strstr(f->err, "a database setting that is not one"));
	log = fake_log(f->dir);
	assert_null(strstr(log, "ALTER"));
	assert_null(strstr(log, "DROP"));
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
	/* Only one whose restore is gone: nobody holds its lock. */
	assert_non_null(strstr(log, "OFFSET 0) m WHERE "
	    "pg_try_advisory_lock(1886350433, hashtext(m.datname))"));
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
		    test_new_database_gets_the_recorded_locale, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_properties_applied_before_the_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_nothing_applied_when_nothing_recorded, setup,
		    teardown),
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
