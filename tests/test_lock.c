/* test_lock.c - one run at a time, and a dead run never blocks. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_lock.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME);
	unlink(path);
	rmdir(dir);
	return 0;
}

static void
test_second_taker_is_refused_with_holder_named(void **state)
{
	char err[512];
	int a, b;

	(void)state;
	a = lock_take(dir, "backup", err, sizeof err);
	assert_true(a >= 0);
	/* A second open file description: as another process would. */
	b = lock_take(dir, "restore", err, sizeof err);
	assert_int_equal(b, -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_non_null(strstr(err, "backup (pid "));
	assert_non_null(strstr(err, LOCK_NAME));
	close(a);
	b = lock_take(dir, "restore", err, sizeof err);
	assert_true(b >= 0);
	close(b);
}

static void
test_lock_file_is_private(void **state)
{
	char err[512], path[128];
	struct stat st;
	int a;

	(void)state;
	a = lock_take(dir, "backup", err, sizeof err);
	assert_true(a >= 0);
	snprintf(path, sizeof path, "%s/%s", dir, LOCK_NAME);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	close(a);
}

static void
test_killed_holder_does_not_block(void **state)
{
	char err[512];
	int p[2], st, fd;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (lock_take(dir, "backup", err, sizeof err) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(lock_take(dir, "backup", err, sizeof err), -1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fd = lock_take(dir, "backup", err, sizeof err);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_missing_directory_is_described(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(lock_take("/nonexistent/dir", "backup", err,
	    sizeof err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir/" LOCK_NAME));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_second_taker_is_refused_with_holder_named, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_file_is_private,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_killed_holder_does_not_block, setup, teardown),
		cmocka_unit_test(test_missing_directory_is_described),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
