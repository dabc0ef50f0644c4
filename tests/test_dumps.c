/* test_dumps.c - the reader that takes the dumps from the archive: the
 * pre-data and data dumps to psql's input, the post-data dump kept, each
 * hashed; and the stage that failed named. */
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

#include "dumps.h"
#include "io.h"
#include "tmpdir.h"
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

/* What COMMAND (a shell command line) prints, as a new string. */
static char *
output(const char *command)
{
	FILE *f = popen(command, "r");
	char *s;

	assert_non_null(f);
	s = drain(fileno(f));
	assert_int_equal(pclose(f), 0);
	return s;
}

/* What tar itself extracts of the seed's MEMBERS, and their SHA-256. */
static char *
extract(const char *members, int sha)
{
	char seed[PATH_MAX], cmd[3 * PATH_MAX];

	seed_path("sound.tar", seed, sizeof seed);
	snprintf(cmd, sizeof cmd, "cd '%s' && tar -xOf \"$OLDPWD/%s\" %s%s",
	    dir, seed, members, sha ? " | sha256sum | cut -c1-64 | tr -d "
	    "'\\n'" : "");
	return output(cmd);
}

#define PRE SEED_TOP "/database/1-pre-data.sql"
#define DATA SEED_TOP "/database/2-data.sql"
#define POST SEED_TOP "/database/3-post-data.sql"

static void
test_reader_gives_the_dumps_where_they_go(void **state)
{
	char path[PATH_MAX], err[512], hex[3][65];
	const char *names[3] = { PRE, DATA, POST };
	struct dumps d;
	uint64_t size;
	char *got, *want, *post;
	int p[2], fd, stage;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	fd = open(path, O_RDONLY);
	stage = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, SEED_TOP, fd, p[1], stage,
	    err, sizeof err), 0);
	got = drain(p[0]);
	close(p[0]);
	/* The pre-data and data dumps, in that order; never the roles. */
	want = extract(PRE " " DATA, 0);
	assert_true(strlen(want) > 0);
	assert_string_equal(got, want);
	assert_int_equal(dumps_fed(&d), strlen(want));
	free(got);
	free(want);
	/* The post-data dump, whole, from its start. */
	assert_true((fd = dumps_post(&d, NULL, &size, err, sizeof err)) >= 0);
	post = drain(fd);
	close(fd);
	want = extract(POST, 0);
	assert_string_equal(post, want);
	assert_int_equal(size, strlen(want));
	free(post);
	free(want);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), 0);
	/* Each hashed as it passed. */
	for (int i = 0; i < 3; i++) {
		want = extract(names[i], 1);
		snprintf(hex[i], sizeof hex[i], "%s", want);
		free(want);
	}
	assert_int_equal(dumps_same(&d, (const char (*)[65])hex), 1);
	hex[1][0] = hex[1][0] == '0' ? '1' : '0';
	assert_int_equal(dumps_same(&d, (const char (*)[65])hex), 0);
	/* Ended twice: nothing more to do. */
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), 0);
	close(stage);
}

static void
test_reader_names_the_stage_that_failed(void **state)
{
	char path[PATH_MAX], err[512];
	struct dumps d;
	uint64_t size;
	int fd, p[2], stage;

	(void)state;
	stage = open(dir, O_RDONLY | O_DIRECTORY);
	/* Not gzip at all: the decompressor's failure, not the empty
	 * stream it left. */
	snprintf(path, sizeof path, "%s/text.tgz", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(write(fd, "not an archive\n", 15), 15);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, SEED_TOP, fd, p[1], stage,
	    err, sizeof err), 0);
	free(drain(p[0]));
	close(p[0]);
	assert_int_equal(dumps_post(&d, NULL, &size, err, sizeof err), -1);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "'gzip'"));
	close(fd);
	/* A sound archive of another top folder: no dumps in it. */
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, "polarity-server-backup-"
	    "20990101000000", fd, p[1], stage, err, sizeof err), 0);
	free(drain(p[0]));
	close(p[0]);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "holds no"));
	close(fd);
	close(stage);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_reader_gives_the_dumps_where_they_go, setup,
		    tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reader_names_the_stage_that_failed, setup,
		    tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
