/* test_backup.c - archive names. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "backup.h"

static void
test_name_is_local_time(void **state)
{
	char name[64];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-11-26 13:05:09 UTC */
	assert_int_equal(backup_name(1795698309LL, name, sizeof name), 0);
	assert_string_equal(name, "polarity-server-backup-20261126130509.tgz");
	/* A POSIX rule, so no time zone database is needed: UTC-5. */
	setenv("TZ", "XST5", 1);
	tzset();
	assert_int_equal(backup_name(1795698309LL, name, sizeof name), 0);
	assert_string_equal(name, "polarity-server-backup-20261126080509.tgz");
}

static void
test_name_needs_room(void **state)
{
	char name[20];

	(void)state;
	assert_int_equal(backup_name(0, name, sizeof name), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_local_time),
		cmocka_unit_test(test_name_needs_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
