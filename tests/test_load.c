/* test_load.c - the reader that feeds the dumps from the archive, and an
 * early load that never started. */
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

#include "io.h"
#include "tmpdir.h"
#include "load.h"
#include "seeds.h"



/* Reads all of FD into a new string. */
static char *
drain(int fd)
{
	size_t len = 0, cap = 4096;
	char *s = malloc(cap);
	ssize_t n;

	while ((n = io_read(fd, s + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			s = realloc(s, cap *= 2);
	}
	s[len] = '\0';
	return s;
}

static void
test_reader_gives_the_two_dumps_in_order(void **state)
{
	char path[PATH_MAX], seed[PATH_MAX], cmd[3 * PATH_MAX], err[512];
	struct unpacked u = { .top = SEED_TOP };
	struct load_source src = { .cfg = &cfg, .u = &u };
	struct child kids[2];
	char *got, *want;
	int p[2];
	FILE *f;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	src.archive = path;
	src.fd = open(path, O_RDONLY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(load_reader_start(&src, kids, src.fd, p[1], err,
	    sizeof err), 0);
	close(p[1]);
	got = drain(p[0]);
	close(p[0]);
	assert_int_equal(load_reader_end(kids, 0, err, sizeof err), 0);
	/* What tar itself extracts, in load order; never the roles, nor
	 * the post-data dump (loaded from the stage, postdata.h). */
	seed_path("sound.tar", seed, sizeof seed);
	snprintf(cmd, sizeof cmd, "tar -xOf '%s' " SEED_TOP
	    "/database/1-pre-data.sql " SEED_TOP "/database/2-data.sql",
	    seed);
	f = popen(cmd, "r");
	want = drain(fileno(f));
	assert_int_equal(pclose(f), 0);
	assert_true(strlen(want) > 0);
	assert_string_equal(got, want);
	free(got);
	free(want);
	close(src.fd);
}

static void
test_reader_names_the_stage_that_failed(void **state)
{
	char path[PATH_MAX], err[512];
	struct unpacked u = { .top = SEED_TOP };
	struct load_source src = { .cfg = &cfg, .u = &u };
	struct child kids[2];
	int fd, p[2];

	(void)state;
	/* Not gzip at all. */
	snprintf(path, sizeof path, "%s/text.tgz", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(write(fd, "not an archive\n", 15), 15);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(load_reader_start(&src, kids, fd, p[1], err,
	    sizeof err), 0);
	close(p[1]);
	free(drain(p[0]));
	close(p[0]);
	assert_int_equal(load_reader_end(kids, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "'gzip'"));
	close(fd);
}

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
		cmocka_unit_test_setup_teardown(
		    test_reader_gives_the_two_dumps_in_order, setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reader_names_the_stage_that_failed, setup, tmpdir_teardown),
		cmocka_unit_test(test_early_load_that_never_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
