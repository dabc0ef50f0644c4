/* test_unpack.c - the archive checks on uncompressed streams: the seed
 * corpus of the fuzzer, and unpacking into a staging folder. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unpack.h"

static char seeds[PATH_MAX];

/* Checks the seed NAME; returns unpack_stream()'s result, message in ERR. */
static int
check(const char *name, int stage, struct unpacked *u, char *err, size_t len)
{
	char path[PATH_MAX * 2];
	int fd, rc;

	snprintf(path, sizeof path, "%s/%s", seeds, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	rc = unpack_stream(fd, &(struct unpack_opts){ .stage = stage }, u, err,
	    len);
	close(fd);
	return rc;
}

static void
test_sound_archive_checks_out(void **state)
{
	struct unpacked u;
	char err[1024];

	(void)state;
	assert_int_equal(check("sound.tar", -1, &u, err, sizeof err), 0);
	assert_string_equal(u.top, "polarity-server-backup-20260101000000");
	assert_int_equal(u.format, 1);
	assert_string_equal(u.h.database, "polarity");
	assert_string_equal(u.h.encoding, "UTF8");
	assert_int_equal(u.files, 7);	/* the MANIFEST is not counted */
	assert_int_equal(u.links, 1);
	assert_int_equal(u.dirs, 4);
	assert_true(u.has_roles);
}

static void
test_archive_without_roles_checks_out(void **state)
{
	struct unpacked u;
	char err[1024];

	(void)state;
	/* Its manifest still lists roles.sql: so it is refused. */
	assert_int_equal(check("no-roles.tar", -1, &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "'database/roles.sql', which the "
	    "archive lacks"));
}

static void
test_broken_seeds_are_refused(void **state)
{
	struct unpacked u;
	char err[1024];

	(void)state;
	assert_int_equal(check("no-manifest.tar", -1, &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "has no MANIFEST"));
	assert_int_equal(check("truncated.tar", -1, &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "ends too early"));
	assert_int_equal(check("link-out.tar", -1, &u, err, sizeof err), -1);
	assert_non_null(strstr(err, "symbolic link to '/etc'"));
}

/* A staging folder in DIR (a mkdtemp template), open. */
static int
stage_new(char *dir)
{
	int fd;

	assert_non_null(mkdtemp(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Closes the staging folder FD and removes DIR. */
static void
stage_end(const char *dir, int fd)
{
	char cmd[128];

	close(fd);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_unpacks_into_a_stage(void **state)
{
	char dir[] = "/tmp/test_unpack.XXXXXX", err[1024], got[64];
	struct unpacked u;
	struct stat st;
	ssize_t n;
	int stage;

	(void)state;
	stage = stage_new(dir);
	assert_int_equal(check("sound.tar", stage, &u, err, sizeof err), 0);
	assert_int_equal(fstatat(stage, "integrations/pkg/lib/index.js", &st,
	    0), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(fstatat(stage, "database/2-data.sql", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(fstatat(stage, "database", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	n = readlinkat(stage, "integrations/pkg/main.js", got, sizeof got - 1);
	assert_int_equal(n, 12);
	got[n] = '\0';
	assert_string_equal(got, "lib/index.js");
	/* FORMAT and MANIFEST are read, not written. */
	assert_int_equal(fstatat(stage, "MANIFEST", &st, 0), -1);
	stage_end(dir, stage);
}

static void
test_a_legacy_archive_is_read_by_content(void **state)
{
	char dir[] = "/tmp/test_unpack.XXXXXX", err[1024], got[64];
	struct unpacked u;
	struct stat st;
	ssize_t n;
	int stage;

	(void)state;
	stage = stage_new(dir);
	assert_int_equal(check("legacy.tar", stage, &u, err, sizeof err), 0);
	assert_true(u.legacy);
	assert_int_equal(u.format, 0);
	assert_string_equal(u.top, "");
	assert_false(u.no_integrations);
	assert_int_equal(u.db.how, LEGACY_SPLIT);
	assert_string_equal(u.db.dump[0].member, "./schema.sql");
	assert_string_equal(u.db.dump[1].member, "./data.sql");
	assert_string_equal(u.h.encoding, "UTF8");
	assert_int_equal(u.db.nroles, 1);
	assert_string_equal(u.db.roles[0], "polarity");
	/* The .env and the integrations are staged; the dumps are not. */
	assert_int_equal(fstatat(stage, ".env", &st, 0), 0);
	assert_int_equal(fstatat(stage, "integrations/pkg/index.js", &st, 0),
	    0);
	n = readlinkat(stage, "integrations/pkg/main.js", got, sizeof got - 1);
	assert_int_equal(n, 8);
	assert_int_equal(fstatat(stage, "schema.sql", &st, 0), -1);
	stage_end(dir, stage);
}

/* Writes a tar header of a folder NAME to FD. */
static void
folder_header(int fd, const char *name)
{
	unsigned char h[512];
	unsigned sum = 0;

	memset(h, 0, sizeof h);
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, "0000755", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	memcpy(h + 124, "00000000000", 12);
	memcpy(h + 136, "00000000000", 12);
	h[156] = '5';
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	assert_int_equal(write(fd, h, sizeof h), 512);
}

static void
test_more_members_than_a_backup_has(void **state)
{
	char path[PATH_MAX * 2], err[1024], name[100];
	struct unpacked u;
	const struct unpack_opts o = { .stage = -1, .max_members = 100 };
	int in, fd = memfd_create("bomb", MFD_CLOEXEC);
	char buf[65536];
	ssize_t n;

	(void)state;
	/* The sound archive's members, then 200 more folders: over a limit
	 * lowered to 100. */
	snprintf(path, sizeof path, "%s/sound.tar", seeds);
	in = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0 && fd >= 0);
	n = read(in, buf, 4 * 512);	/* FORMAT and .env */
	assert_int_equal(n, 4 * 512);
	assert_int_equal(write(fd, buf, (size_t)n), n);
	close(in);
	folder_header(fd, "polarity-server-backup-20260101000000/"
	    "integrations/");
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "polarity-server-backup-"
		    "20260101000000/integrations/d%03d/", i);
		folder_header(fd, name);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(unpack_stream(fd, &o, &u, err, sizeof err), -1);
	close(fd);
	assert_non_null(strstr(err, "more members than a backup has"));
	assert_true(u.damaged);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sound_archive_checks_out),
		cmocka_unit_test(test_archive_without_roles_checks_out),
		cmocka_unit_test(test_broken_seeds_are_refused),
		cmocka_unit_test(test_unpacks_into_a_stage),
		cmocka_unit_test(test_a_legacy_archive_is_read_by_content),
		cmocka_unit_test(test_more_members_than_a_backup_has),
	};
	const char *src = getenv("srcdir");

	snprintf(seeds, sizeof seeds, "%s/tests/fuzz/corpus-unpack",
	    src ? src : ".");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
