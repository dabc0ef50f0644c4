/* test_swap.c - the commit and its undo order, the stamp, the folder
 * exchange. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "tmpdir.h"
#include "swap.h"

static char trail[64];

struct fake {
	char name;
	int fail;
};

static int
apply(void *arg, char *err, size_t elen)
{
	struct fake *f = arg;
	size_t n = strlen(trail);

	trail[n] = f->name;
	trail[n + 1] = '\0';
	if (f->fail) {
		snprintf(err, elen, "step %c failed", f->name);
		return -1;
	}
	return 0;
}

static void
undo(void *arg)
{
	struct fake *f = arg;
	size_t n = strlen(trail);

	/* Undoing is written in lower case. */
	trail[n] = (char)(f->name - 'A' + 'a');
	trail[n + 1] = '\0';
}

static void
test_commit_runs_every_step_in_order(void **state)
{
	struct fake a = { 'A', 0 }, b = { 'B', 0 }, c = { 'C', 0 };
	const struct swap_step steps[] = { { apply, undo, &a },
		{ apply, undo, &b }, { apply, NULL, &c } };
	char err[64] = "";

	(void)state;
	trail[0] = '\0';
	assert_int_equal(swap_commit(steps, 3, err, sizeof err), 0);
	assert_string_equal(trail, "ABC");
	assert_string_equal(err, "");
}

static void
test_failure_undoes_done_steps_last_first(void **state)
{
	struct fake a = { 'A', 0 }, b = { 'B', 0 }, c = { 'C', 1 };
	struct fake d = { 'D', 0 };
	const struct swap_step steps[] = { { apply, undo, &a },
		{ apply, undo, &b }, { apply, undo, &c }, { apply, undo, &d } };
	char err[64];

	(void)state;
	trail[0] = '\0';
	assert_int_equal(swap_commit(steps, 4, err, sizeof err), -1);
	/* C failed: it is not undone, D never ran, B then A are undone. */
	assert_string_equal(trail, "ABCba");
	assert_string_equal(err, "step C failed");
	/* A first step that fails undoes nothing. */
	a.fail = 1;
	trail[0] = '\0';
	assert_int_equal(swap_commit(steps, 4, err, sizeof err), -1);
	assert_string_equal(trail, "A");
}

static int
taken_until(void *arg, const char *candidate)
{
	const char *free_one = arg;

	if (strcmp(free_one, "error") == 0)
		return -1;
	return strcmp(candidate, free_one) != 0;
}

static void
test_stamp_takes_the_first_free_one(void **state)
{
	char stamp[32];

	(void)state;
	snprintf(stamp, sizeof stamp, "20261126000000");
	assert_int_equal(swap_choose_stamp(stamp, sizeof stamp, taken_until,
	    "20261126000000"), 0);
	assert_string_equal(stamp, "20261126000000");
	assert_int_equal(swap_choose_stamp(stamp, sizeof stamp, taken_until,
	    "20261126000000_3"), 0);
	assert_string_equal(stamp, "20261126000000_3");
	snprintf(stamp, sizeof stamp, "20261126000000");
	assert_int_equal(swap_choose_stamp(stamp, sizeof stamp, taken_until,
	    "never"), -2);
	snprintf(stamp, sizeof stamp, "20261126000000");
	assert_int_equal(swap_choose_stamp(stamp, sizeof stamp, taken_until,
	    "error"), -1);
}



/* Makes the folder NAME below DIR holding a file MARK. */
static void
tree(const char *name, const char *mark)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/%s/%s", dir, name, mark);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static int
has(const char *name, const char *mark)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s/%s", dir, name, mark);
	return access(path, F_OK) == 0;
}

/* Points D at the folders "integrations" (LIVE) and "stage" (STAGED) of
 * the test's folder. */
static void
folders(struct swap_dir *d, char *live, char *staged)
{
	snprintf(live, PATH_MAX, "%s/integrations", dir);
	snprintf(staged, PATH_MAX, "%s/stage", dir);
	d->live = live;
	d->staged = staged;
}

static void
test_folder_exchange_and_undo(void **state)
{
	char live[PATH_MAX], staged[PATH_MAX], err[256];
	struct swap_dir d = { 0 };

	(void)state;
	tree("integrations", "old");
	tree("stage", "new");
	folders(&d, live, staged);
	assert_int_equal(swap_dir_apply(&d, "S1", err, sizeof err), 0);
	assert_true(has("integrations", "new"));
	assert_true(has("integrations.before-restore-S1", "old"));
	assert_string_equal(d.kept + strlen(dir),
	    "/integrations.before-restore-S1");
	swap_dir_undo(&d);
	assert_true(has("integrations", "old"));
	assert_true(has("stage", "new"));
	assert_string_equal(d.kept, "");
}

static void
test_folder_that_was_not_there(void **state)
{
	char live[PATH_MAX], staged[PATH_MAX], err[256];
	struct swap_dir d = { 0 };

	(void)state;
	tree("stage", "new");
	folders(&d, live, staged);
	assert_int_equal(swap_dir_apply(&d, "S1", err, sizeof err), 0);
	assert_true(has("integrations", "new"));
	assert_string_equal(d.kept, "");
	swap_dir_undo(&d);
	assert_true(has("stage", "new"));
	assert_int_equal(access(live, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_runs_every_step_in_order),
		cmocka_unit_test(test_failure_undoes_done_steps_last_first),
		cmocka_unit_test(test_stamp_takes_the_first_free_one),
		cmocka_unit_test_setup_teardown(test_folder_exchange_and_undo,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_folder_that_was_not_there,
		    tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
