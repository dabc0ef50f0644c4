/* test_load.c - an early load that never started. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "load.h"

static void
test_early_load_that_never_started(void **state)
{
	struct early_load e = { .on = 1 };
	static struct format_header h = { .encoding = "UTF8" };

	(void)state;
	/* Stopped before it started: nothing to undo, nothing loaded. */
	early_stop(&e, NULL);
	assert_false(e.on);
	assert_int_equal(early_settle(&e, 1, &h), 0);
	assert_false(e.made_db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_load_that_never_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
