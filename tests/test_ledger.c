/* test_ledger.c - records kept in a temporary file, read both ways. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "tmpdir.h"

/* Record I: "record I" and then I bytes of 'a' + I % 26. */
static size_t
make(unsigned i, char *buf)
{
	size_t n = (size_t)snprintf(buf, 64, "record %u", i);

	memset(buf + n, 'a' + (int)(i % 26), i % 3000);
	return n + i % 3000;
}

static void
test_forwards_and_backwards(void **state)
{
	static char want[4096], got[4096];
	struct ledger l;
	const unsigned count = 5000;

	(void)state;
	assert_int_equal(ledger_open(&l, dir), 0);
	for (unsigned i = 0; i < count; i++)
		assert_int_equal(ledger_add(&l, want, make(i, want)), 0);
	assert_int_equal(l.count, count);
	assert_int_equal(ledger_start(&l, 0), 0);
	for (unsigned i = 0; i < count; i++) {
		size_t n = make(i, want);
		assert_int_equal(ledger_next(&l, got, sizeof got), (ssize_t)n);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(ledger_next(&l, got, sizeof got), 0);
	assert_int_equal(ledger_start(&l, 1), 0);
	for (unsigned i = count; i-- > 0;) {
		size_t n = make(i, want);
		assert_int_equal(ledger_prev(&l, got, sizeof got), (ssize_t)n);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(ledger_prev(&l, got, sizeof got), 0);
	ledger_close(&l);
}

/* The file has no name: nothing is left in the folder, even while open. */
static void
test_leaves_nothing_behind(void **state)
{
	struct ledger l;
	struct dirent **v;
	int n;

	(void)state;
	assert_int_equal(ledger_open(&l, dir), 0);
	assert_int_equal(ledger_add(&l, "x", 1), 0);
	n = scandir(dir, &v, NULL, NULL);
	assert_int_equal(n, 2);	/* "." and ".." */
	while (n--)
		free(v[n]);
	free(v);
	ledger_close(&l);
}

static void
test_too_large_or_too_small(void **state)
{
	static char big[LEDGER_MAX + 1];
	char small[4];
	struct ledger l;

	(void)state;
	assert_int_equal(ledger_open(&l, dir), 0);
	assert_int_equal(ledger_add(&l, big, sizeof big), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(ledger_add(&l, "hello", 5), 0);
	/* An empty record would read as the end. */
	assert_int_equal(ledger_add(&l, "", 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ledger_start(&l, 0), 0);
	assert_int_equal(ledger_next(&l, small, sizeof small), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(ledger_start(&l, 1), 0);
	assert_int_equal(ledger_prev(&l, small, sizeof small), -1);
	assert_int_equal(errno, EMSGSIZE);
	ledger_close(&l);
}

static void
test_close_of_a_zeroed_ledger(void **state)
{
	struct ledger l;

	(void)state;
	memset(&l, 0, sizeof l);
	ledger_close(&l);
	assert_null(l.f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forwards_and_backwards,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_leaves_nothing_behind,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_too_large_or_too_small,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_close_of_a_zeroed_ledger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
