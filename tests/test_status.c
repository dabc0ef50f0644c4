/* test_status.c - the monitoring file, and the last success it keeps. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "status.h"

static char dir[32], path[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_status.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/polarity.prom", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* no temporary file left */
	return 0;
}

static void
test_success_then_failure_keeps_last_success(void **state)
{
	struct status ok = { 1, 1795698309, 12.5, 123456, 3, 2 };
	struct status bad = { 0, 1795784709, 3.25, 0, 0, 0 };
	char err[256], *text;
	struct stat st;

	(void)state;
	assert_int_equal(status_write(path, &ok, err, sizeof err), 0);
	text = io_slurp(AT_FDCWD, path, 1 << 16, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "\npolarity_backup_last_run_success 1\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_run_timestamp_seconds 1795698309\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_run_duration_seconds 12.500\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_success_timestamp_seconds 1795698309\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_success_size_bytes 123456\n"));
	assert_non_null(strstr(text, "# TYPE polarity_backup_last_run_success gauge\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_run_files_vanished 3\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_run_files_changed 2\n"));
	free(text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	assert_int_equal(status_write(path, &bad, err, sizeof err), 0);
	text = io_slurp(AT_FDCWD, path, 1 << 16, 0);
	assert_non_null(strstr(text, "\npolarity_backup_last_run_success 0\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_run_timestamp_seconds 1795784709\n"));
	/* The failure does not erase when the last success was. */
	assert_non_null(strstr(text, "\npolarity_backup_last_success_timestamp_seconds 1795698309\n"));
	assert_non_null(strstr(text, "\npolarity_backup_last_success_size_bytes 123456\n"));
	free(text);
}

static void
test_first_run_failing_has_no_success_line(void **state)
{
	struct status bad = { 0, 1795784709, 1, 0, 0, 0 };
	char err[256], *text;

	(void)state;
	assert_int_equal(status_write(path, &bad, err, sizeof err), 0);
	text = io_slurp(AT_FDCWD, path, 1 << 16, 0);
	assert_null(strstr(text, "last_success_timestamp"));
	free(text);
}

static void
test_unwritable_place_is_reported(void **state)
{
	struct status ok = { 1, 1, 1, 1, 0, 0 };
	char err[256];

	(void)state;
	assert_int_equal(status_write("/nonexistent/dir/p.prom", &ok, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "cannot write the status file "
	    "'/nonexistent/dir/p.prom'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_success_then_failure_keeps_last_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_first_run_failing_has_no_success_line, setup, teardown),
		cmocka_unit_test(test_unwritable_place_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
