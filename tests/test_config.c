/* test_config.c - paths from the app directory; settings from .env. */
#include "autoconf.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	assert_int_equal(c.compress_level, 0);	/* not given: 5 */
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

/* Makes an executable file NAME in DIR. */
static void
make_program(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Fails unless C with the PATH of ENVP compresses with ZIP and
 * decompresses with UNZIP. */
static void
expect_choice(const struct config *c, char *envp[], const char *zip,
    const char *unzip)
{
	char out[PATH_MAX];

	config_compressor(c, envp, out, sizeof out);
	assert_string_equal(out, zip);
	config_decompressor(c, envp, out, sizeof out);
	assert_string_equal(out, unzip);
}

/* Fails unless C with the PATH of ENVP compresses the data dump with DZIP
 * at DLEVEL and the other members with ZIP at LEVEL. */
static void
expect_for(const struct config *c, char *envp[], const char *dzip,
    int dlevel, const char *zip, int level)
{
	char out[PATH_MAX];
	int n = -1;

	config_compressor_for(c, envp, 1, out, sizeof out, &n);
	assert_string_equal(out, dzip);
	assert_int_equal(n, dlevel);
	config_compressor_for(c, envp, 0, out, sizeof out, &n);
	assert_string_equal(out, zip);
	assert_int_equal(n, level);
}

/* The compressor: the one given, else pigz, else gzip; the decompressor:
 * the one given, else igzip, else the compressor.  The data dump's
 * compressor is the compressor at the level given, else 5; the other
 * members' igzip -3 when it is installed and neither was given, else the
 * data dump's. */
static void
test_compressor_and_decompressor_choice(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", path[PATH_MAX + 8];
	char rm[PATH_MAX + 16];
	char *envp[] = { path, NULL };
	struct config c;

	(void)state;
	config_init(&c);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "PATH=%s", dir);
	expect_choice(&c, envp, "gzip", "gzip");
	expect_for(&c, envp, "gzip", 5, "gzip", 5);
	make_program(dir, "pigz");
	expect_choice(&c, envp, "pigz", "pigz");
	expect_for(&c, envp, "pigz", 5, "pigz", 5);
	make_program(dir, "igzip");
	expect_choice(&c, envp, "pigz", "igzip");
	expect_for(&c, envp, "pigz", 5, "igzip", 3);
	c.compress_level = 9;
	expect_for(&c, envp, "pigz", 9, "pigz", 9);
	c.compress_level = 0;
	snprintf(c.compressor, sizeof c.compressor, "pigz -p 1");
	expect_choice(&c, envp, "pigz -p 1", "pigz -p 1");
	expect_for(&c, envp, "pigz -p 1", 5, "pigz -p 1", 5);
	snprintf(rm, sizeof rm, "rm -r %s", dir);
	assert_int_equal(system(rm), 0);
}

/* Writes TEXT to a new temporary file; its path goes to PATH. */
static void
write_temp(char *path, size_t len, const char *text)
{
	int fd;

	snprintf(path, len, "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_set_takes_dashes_and_checks_values(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_init(&c);
	assert_int_equal(config_set(&c, "backup-dir", "/b", err, sizeof err), 0);
	assert_string_equal(c.backup_dir, "/b");
	assert_int_equal(config_set(&c, "keep_days", "30", err, sizeof err), 0);
	assert_int_equal(c.keep_days, 30);
	assert_int_equal(config_set(&c, "nice", "yes", err, sizeof err), 0);
	assert_int_equal(c.nice, 1);
	assert_int_equal(config_set(&c, "compress-level", "10", err,
	    sizeof err), -1);
	assert_string_equal(err, "compress-level takes 1 to 9, not '10'");
	assert_int_equal(config_set(&c, "keep", "0", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "keep", "3x", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "nice", "maybe", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "backup-dir", "", err, sizeof err), -1);
	assert_int_equal(config_set(&c, "colour", "red", err, sizeof err), -1);
	assert_string_equal(err, "unknown setting 'colour'");
}

static void
test_file_sets_keys_in_their_sections(void **state)
{
	struct config c;
	char err[256], path[64];

	(void)state;
	write_temp(path, sizeof path,
	    "; comment\n# comment\n[paths]\napp_dir = /srv/polarity\n"
	    "backup_dir=/var/backups/polarity\n\n[retention]\nkeep = 14\n"
	    "keep_days = 30 ; inline\n[backup]\ncompress_level = 3\n"
	    "nice = yes\nstatus_file = /var/lib/node/polarity.prom\n"
	    "hook = rclone copy --quiet\n");
	config_init(&c);
	assert_int_equal(config_read_file(&c, path, 1, err, sizeof err), 0);
	unlink(path);
	assert_string_equal(c.app_dir, "/srv/polarity");
	assert_string_equal(c.backup_dir, "/var/backups/polarity");
	assert_int_equal(c.keep, 14);
	assert_int_equal(c.keep_days, 30);
	assert_int_equal(c.compress_level, 3);
	assert_int_equal(c.nice, 1);
	assert_string_equal(c.status_file, "/var/lib/node/polarity.prom");
	assert_string_equal(c.hook, "rclone copy --quiet");
}

/* Reads a configuration file holding TEXT, which must be refused; the
 * file's path goes to PATH and the error to ERR. */
static void
read_bad(struct config *c, const char *text, char *path, size_t plen,
    char *err, size_t elen)
{
	write_temp(path, plen, text);
	assert_int_equal(config_read_file(c, path, 1, err, elen), -1);
	unlink(path);
}

static void
test_file_errors_name_file_line_and_key(void **state)
{
	struct config c;
	char err[256], path[64], want[160];

	(void)state;
	config_init(&c);
	read_bad(&c, "[paths]\napp_dir = /a\n\nbackupdir = /b\n", path,
	    sizeof path, err, sizeof err);
	snprintf(want, sizeof want, "'%s' line 4: unknown key 'backupdir' in "
	    "[paths]", path);
	assert_string_equal(err, want);

	read_bad(&c, "[paths]\n[colours]\nred = 1\n", path, sizeof path, err,
	    sizeof err);
	snprintf(want, sizeof want, "'%s' line 3: unknown section [colours]",
	    path);
	assert_string_equal(err, want);

	/* A key in the wrong section is as unknown there. */
	read_bad(&c, "[backup]\nkeep = 3\n", path, sizeof path, err,
	    sizeof err);
	assert_non_null(strstr(err, "line 2: unknown key 'keep' in [backup]"));

	read_bad(&c, "[retention]\nkeep = many\n", path, sizeof path, err,
	    sizeof err);
	assert_non_null(strstr(err, "line 2: keep takes a whole number"));

	read_bad(&c, "keep = 3\n", path, sizeof path, err, sizeof err);
	assert_non_null(strstr(err, "line 1: 'keep' is outside a section"));

	read_bad(&c, "[paths]\njust words\n", path, sizeof path, err,
	    sizeof err);
	assert_non_null(strstr(err, "line 2: not a 'key = value' line"));
}

static void
test_missing_file_only_an_error_when_named(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_init(&c);
	assert_int_equal(config_read_file(&c, "/nonexistent/p.conf", 0, err,
	    sizeof err), 0);
	assert_int_equal(config_read_file(&c, "/nonexistent/p.conf", 1, err,
	    sizeof err), -1);
	assert_string_equal(err, "cannot read '/nonexistent/p.conf': No such "
	    "file or directory");
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
		cmocka_unit_test(test_compressor_and_decompressor_choice),
		cmocka_unit_test(test_set_takes_dashes_and_checks_values),
		cmocka_unit_test(test_file_sets_keys_in_their_sections),
		cmocka_unit_test(test_file_errors_name_file_line_and_key),
		cmocka_unit_test(test_missing_file_only_an_error_when_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
