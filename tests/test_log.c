/* test_log.c - what reaches standard error and syslog, and when. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int prios[16];
static char lines[16][256];
static int n;

static void
fake_syslog(int prio, const char *line)
{
	if (n < 16) {
		prios[n] = prio;
		snprintf(lines[n], sizeof lines[n], "%s", line);
		n++;
	}
}

static void
test_every_message_reaches_syslog_whatever_the_level(void **state)
{
	(void)state;
	n = 0;
	log_set_syslog(fake_syslog);
	log_set_level(LOG_QUIET);
	log_step("dumping database '%s'", "polarity");
	log_detail("snapshot %d", 7);
	log_warn("skipping '%s'", "x");
	log_error("backup failed: %s", "why");
	log_set_syslog(NULL);
	log_set_level(LOG_NORMAL);
	assert_int_equal(n, 4);
	assert_int_equal(prios[0], LOG_INFO);
	assert_string_equal(lines[0], "dumping database 'polarity'");
	assert_int_equal(prios[1], LOG_DEBUG);
	assert_int_equal(prios[2], LOG_WARNING);
	assert_int_equal(prios[3], LOG_ERR);
	assert_string_equal(lines[3], "backup failed: why");
}

static void
test_no_syslog_unless_turned_on(void **state)
{
	(void)state;
	n = 0;
	log_step("nothing to syslog");
	log_error("nor this");
	assert_int_equal(n, 0);
}

static void
test_syslog_when_unattended_or_auditing_but_never_twice(void **state)
{
	(void)state;
	/* At a terminal: only what changes the server. */
	assert_false(log_wants_syslog(0, 1, NULL, 1, 2));
	assert_true(log_wants_syslog(1, 1, NULL, 1, 2));
	/* Under cron: everything. */
	assert_true(log_wants_syslog(0, 0, NULL, 1, 2));
	/* Standard error is the journal's stream: never twice. */
	assert_false(log_wants_syslog(0, 0, "1:2", 1, 2));
	assert_false(log_wants_syslog(1, 0, "1:2", 1, 2));
	/* Another stream (a redirect inside the unit), or nonsense. */
	assert_true(log_wants_syslog(0, 0, "1:3", 1, 2));
	assert_true(log_wants_syslog(0, 0, "1:2x", 1, 2));
	assert_true(log_wants_syslog(0, 0, "", 1, 2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_syslog_when_unattended_or_auditing_but_never_twice),
		cmocka_unit_test(test_every_message_reaches_syslog_whatever_the_level),
		cmocka_unit_test(test_no_syslog_unless_turned_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
