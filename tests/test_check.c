/* test_check.c - whole archives checked through the decompressor. */
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
#include <unistd.h>

#include "check.h"
#include "io.h"
#include "tmpdir.h"
#include "seeds.h"



static void
test_sound_archive_checks_out(void **state)
{
	char path[PATH_MAX], err[1024];
	struct unpacked u;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	assert_int_equal(check_archive(&cfg, path, &u, err, sizeof err), 0);
	assert_string_equal(u.top, SEED_TOP);
	assert_string_equal(u.h.database, "polarity");
	assert_true(u.dump_bytes > 0);
	assert_int_equal(check_sound(&cfg, path, err, sizeof err), 1);
}

static void
test_damage_is_the_archives_fault(void **state)
{
	char path[PATH_MAX], err[1024];
	struct unpacked u;
	off_t size;
	int fd;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	/* Cut the gzip stream short. */
	fd = open(path, O_RDWR);
	size = lseek(fd, 0, SEEK_END);
	assert_int_equal(ftruncate(fd, size / 2), 0);
	close(fd);
	assert_int_equal(check_archive(&cfg, path, &u, err, sizeof err), -1);
	assert_true(u.damaged);
	assert_non_null(strstr(err, "is damaged"));
	assert_int_equal(check_sound(&cfg, path, err, sizeof err), 0);
}

static void
test_missing_file_is_not_damage(void **state)
{
	char path[PATH_MAX], err[1024];
	struct unpacked u;

	(void)state;
	snprintf(path, sizeof path, "%s/none.tgz", dir);
	assert_int_equal(check_archive(&cfg, path, &u, err, sizeof err), -1);
	assert_false(u.damaged);
	assert_non_null(strstr(err, "cannot be read"));
}

static void
test_members_come_one_by_one(void **state)
{
	const struct unpack_opts o = { .stage = -1 };
	char path[PATH_MAX], err[1024], seen[512] = "";
	struct unpacked u;
	struct unpack *p;
	const char *name;
	int fd, rc;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	fd = open(path, O_RDONLY);
	p = check_begin(&cfg, fd, path, &o, &u, err, sizeof err);
	assert_non_null(p);
	while ((rc = unpack_next(p, &name)) == 1) {
		strcat(seen, name);
		strcat(seen, " ");
	}
	assert_int_equal(rc, 0);
	assert_int_equal(unpack_end(p, rc), 0);
	close(fd);
	/* The .env comes first: a restore starts on it at once. */
	assert_int_equal(strncmp(seen, ".env ", 5), 0);
	assert_non_null(strstr(seen, "database/roles.sql "));
	assert_non_null(strstr(seen, "database/2-data.sql "));
	assert_null(strstr(seen, "MANIFEST"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sound_archive_checks_out,
		    setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_damage_is_the_archives_fault, setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_not_damage,
		    setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_members_come_one_by_one,
		    setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
