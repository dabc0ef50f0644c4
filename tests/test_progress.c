/* test_progress.c - the progress line: on a terminal only. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

/* Runs a step of 100 bytes, half done, with standard error on FD and
 * progress asked for when SHOW. */
static void
run_step(int fd, int show)
{
	int saved = dup(2);

	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	progress_init(show);
	progress_begin("checking", 100);
	progress_update(50);
	progress_end();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
}

static void
test_terminal_gets_the_line_then_clears_it(void **state)
{
	int master, slave;
	char buf[512];
	ssize_t n;

	(void)state;
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	run_step(slave, 1);
	/* A pty may hand the output over in more than one read: take all
	 * of it, until nothing more comes for a while. */
	n = 0;
	for (;;) {
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t r;
		if (poll(&p, 1, 200) <= 0 || (size_t)n + 1 >= sizeof buf)
			break;
		r = read(master, buf + n, sizeof buf - 1 - (size_t)n);
		if (r <= 0)
			break;
		n += r;
	}
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "checking"));
	/* The line is drawn at the start, then cleared. */
	assert_non_null(strstr(buf, "  0%"));
	assert_non_null(strstr(buf, "\r\033[K"));
	close(master);
	close(slave);
}

static void
test_quiet_or_no_terminal_writes_nothing(void **state)
{
	char path[] = "/tmp/test_progress.XXXXXX";
	int fd = mkstemp(path), master, slave;

	(void)state;
	assert_true(fd >= 0);
	run_step(fd, 1);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	unlink(path);
	/* -q: a terminal, but nothing shown. */
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	run_step(slave, 0);
	assert_int_equal(fcntl(master, F_SETFL, O_NONBLOCK), 0);
	{
		char buf[64];
		assert_int_equal(read(master, buf, sizeof buf), -1);
	}
	close(master);
	close(slave);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terminal_gets_the_line_then_clears_it),
		cmocka_unit_test(test_quiet_or_no_terminal_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
