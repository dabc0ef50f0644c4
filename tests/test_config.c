/* test_config.c - paths from the app directory; settings from .env. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static void
test_defaults_derive_from_app_dir(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_init(&c);
	assert_int_equal(config_resolve(&c, err, sizeof err), 0);
	assert_string_equal(c.env_file, "/app/.env");
	assert_string_equal(c.backup_dir, "/app/backups");
	assert_string_equal(c.integrations_dir, "/app/integrations");
	assert_int_equal(c.compress_level, 6);
}

static void
test_given_paths_win_and_trailing_slash_goes(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_init(&c);
	snprintf(c.app_dir, sizeof c.app_dir, "/srv/polarity//");
	snprintf(c.backup_dir, sizeof c.backup_dir, "/var/backups/p");
	assert_int_equal(config_resolve(&c, err, sizeof err), 0);
	assert_string_equal(c.env_file, "/srv/polarity/.env");
	assert_string_equal(c.backup_dir, "/var/backups/p");
}

static void
test_relative_paths_become_absolute(void **state)
{
	struct config c;
	char err[256], cwd[PATH_MAX], want[PATH_MAX + 16];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	config_init(&c);
	snprintf(c.app_dir, sizeof c.app_dir, "app");
	assert_int_equal(config_resolve(&c, err, sizeof err), 0);
	snprintf(want, sizeof want, "%s/app/backups", cwd);
	assert_string_equal(c.backup_dir, want);
}

static void
test_db_settings_from_env(void **state)
{
	struct dotenv_var v[] = {
		{ "POLARITY_DB_HOST", "db" }, { "POLARITY_DB_PORT", "5432" },
		{ "POLARITY_DB_USER", "u" }, { "POLARITY_DB_PASSWORD", "" },
		{ "POLARITY_DB_DATABASE", "polarity" }, { "PGSSLMODE", "require" },
	};
	struct dotenv env = { v, 6 };
	struct db db;
	char err[256];

	(void)state;
	assert_int_equal(config_db(&db, &env, "/app/.env", err, sizeof err), 0);
	assert_string_equal(db.host, "db");
	assert_string_equal(db.port, "5432");
	assert_string_equal(db.user, "u");
	assert_string_equal(db.password, "");
	assert_string_equal(db.database, "polarity");
	assert_string_equal(db.sslmode, "require");
}

static void
test_missing_variable_is_named(void **state)
{
	struct dotenv_var v[] = {
		{ "POLARITY_DB_HOST", "db" }, { "POLARITY_DB_PORT", "5432" },
		{ "POLARITY_DB_PASSWORD", "x" },
		{ "POLARITY_DB_DATABASE", "polarity" },
	};
	struct dotenv env = { v, 4 };
	struct db db;
	char err[256];

	(void)state;
	assert_int_equal(config_db(&db, &env, "/app/.env", err, sizeof err),
	    -1);
	assert_string_equal(err, "'/app/.env' does not set POLARITY_DB_USER");
}

static void
test_empty_host_is_an_error(void **state)
{
	struct dotenv_var v[] = {
		{ "POLARITY_DB_HOST", "" }, { "POLARITY_DB_PORT", "5432" },
		{ "POLARITY_DB_USER", "u" }, { "POLARITY_DB_PASSWORD", "x" },
		{ "POLARITY_DB_DATABASE", "polarity" },
	};
	struct dotenv env = { v, 5 };
	struct db db;
	char err[256];

	(void)state;
	assert_int_equal(config_db(&db, &env, "e", err, sizeof err), -1);
	assert_string_equal(err, "'e' sets POLARITY_DB_HOST to an empty value");
}

static void
test_pg_program_path(void **state)
{
	struct config c;
	char out[PATH_MAX];

	(void)state;
	config_init(&c);
	config_pg_program(&c, "pg_dump", out, sizeof out);
	assert_string_equal(out, "pg_dump");
	snprintf(c.pg_bindir, sizeof c.pg_bindir, "/usr/lib/postgresql/16/bin");
	config_pg_program(&c, "pg_dump", out, sizeof out);
	assert_string_equal(out, "/usr/lib/postgresql/16/bin/pg_dump");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_derive_from_app_dir),
		cmocka_unit_test(test_given_paths_win_and_trailing_slash_goes),
		cmocka_unit_test(test_relative_paths_become_absolute),
		cmocka_unit_test(test_db_settings_from_env),
		cmocka_unit_test(test_missing_variable_is_named),
		cmocka_unit_test(test_empty_host_is_an_error),
		cmocka_unit_test(test_pg_program_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
