/* test_fence.c - what psql is given of a dump: pg_dump's own \restrict
 * lines taken out, every other byte as it was, and a \unrestrict that is
 * not the dump's own refused; and, against a live server when
 * tests/hostile.sh points the test at one, a real psql kept from every
 * psql command under the fence. */
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

#include "config.h"
#include "fence.h"
#include "io.h"
#include "pg.h"

#define KEY "mh383Z0zeWKnFqJZSL82cepCfIPoReXHnCCfGzslm4QI72BnPhA6Uuw0LXCk7QI"
#define HEAD "--\n-- PostgreSQL database dump\n--\n\n"
#define BODY "SET x = 1;\nCOPY t (v) FROM stdin;\n\\N\n\\\\unrestrict no\n" \
	"\\.\nSELECT 'a\\b';\n"
#define TAIL "\n--\n-- PostgreSQL database dump complete\n--\n\n"

/* Gives TEXT through a fence (one byte a call with BYTEWISE) into a
 * file, and reads back what came through into OUT.  Returns the
 * fence's result. */
static int
through(const char *text, int bytewise, int head, char *out, size_t olen,
    int *refused)
{
	char path[] = "/tmp/test_fence.XXXXXX";
	struct fence f;
	size_t n = strlen(text);
	int fd = mkstemp(path), rc = 0;
	ssize_t got;

	assert_true(fd >= 0);
	unlink(path);
	fence_begin(&f, head);
	if (bytewise)
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = fence_write(&f, fd, text + i, 1);
	else
		rc = fence_write(&f, fd, text, n);
	if (rc == 0)
		rc = fence_end(&f, fd);
	*refused = f.refused;
	got = pread(fd, out, olen - 1, 0);
	assert_true(got >= 0);
	out[got] = '\0';
	close(fd);
	return rc;
}

static void
test_the_dumps_own_lines_are_taken_out(void **state)
{
	static const char in[] = HEAD "\\restrict " KEY "\n\n" BODY
	    "\\unrestrict " KEY "\n" TAIL;
	static const char want[] = HEAD "\n" BODY TAIL;
	char out[1024];
	int refused;

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		assert_int_equal(through(in, bytewise, 1, out, sizeof out,
		    &refused), 0);
		assert_string_equal(out, want);
	}
}

static void
test_a_dump_without_them_passes_as_it_is(void **state)
{
	static const char in[] = HEAD BODY TAIL;
	/* Not at the head: no line of pg_dump's, left for psql to refuse. */
	static const char late[] = HEAD "SELECT 1;\n\\restrict " KEY "\n";
	char out[1024];
	int refused;

	(void)state;
	assert_int_equal(through(in, 0, 1, out, sizeof out, &refused), 0);
	assert_string_equal(out, in);
	assert_int_equal(through(late, 1, 1, out, sizeof out, &refused), 0);
	assert_string_equal(out, late);
	/* The middle of a dump: nothing taken out. */
	assert_int_equal(through("\\restrict " KEY "\n", 0, 0, out,
	    sizeof out, &refused), 0);
	assert_string_equal(out, "\\restrict " KEY "\n");
}

/* psql reads \unrestrict's arguments, backquotes run, before it compares
 * the key: no such line other than the dump's own reaches it. */
static void
test_another_unrestrict_is_refused(void **state)
{
	static const char *const bad[] = {
		HEAD "\\restrict " KEY "\nSELECT 1;\n\\unrestrict `touch x`\n",
		HEAD "SELECT 1; \\unrestrict `touch x`\n",
		HEAD "COPY t FROM stdin;\n\\\\\\unrestrict `touch x`\n",
		HEAD "\\restrict " KEY "\n\\unrestrict other\n",
		HEAD "\\restrict " KEY "\n\\unrestrict " KEY " `touch x`\n",
		"\\unrestrict",
	};
	char out[1024];
	int refused;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			assert_int_equal(through(bad[i], bytewise, 1, out,
			    sizeof out, &refused), -1);
			assert_true(refused);
			/* Its arguments never reach psql. */
			assert_null(strstr(out, "`touch"));
			assert_null(strstr(out, "\\unrestrict"));
		}
	/* An even run is a doubled backslash and a word: data. */
	assert_int_equal(through("x\\\\unrestrict\n", 0, 0, out, sizeof out,
	    &refused), 0);
	assert_string_equal(out, "x\\\\unrestrict\n");
}

static void
test_clean_statements(void **state)
{
	(void)state;
	assert_true(fence_clean("CREATE INDEX i ON t (v);", 24));
	assert_true(fence_clean("SELECT '\\\\unrestrict';", 22));
	assert_false(fence_clean("SELECT 1 \\unrestrict `x`", 24));
	assert_false(fence_clean("\\\\\\unrestrict", 13));
}

static void
test_versions_with_restrict(void **state)
{
	(void)state;
	assert_false(fence_has_restrict(150013));
	assert_true(fence_has_restrict(150014));
	assert_true(fence_has_restrict(150018));
	assert_false(fence_has_restrict(160009));
	assert_true(fence_has_restrict(160010));
	assert_true(fence_has_restrict(170006));
	assert_false(fence_has_restrict(170005));
	assert_true(fence_has_restrict(140019));
	assert_true(fence_has_restrict(130022));
	assert_false(fence_has_restrict(130021));
	assert_false(fence_has_restrict(120022));
	assert_true(fence_has_restrict(180000));
}

static void
test_keys_are_random(void **state)
{
	char a[FENCE_KEY_LEN + 1], b[FENCE_KEY_LEN + 1];

	(void)state;
	assert_int_equal(fence_key(a), 0);
	assert_int_equal(fence_key(b), 0);
	assert_int_equal(strlen(a), FENCE_KEY_LEN);
	assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), FENCE_KEY_LEN);
	assert_string_not_equal(a, b);
}

/* A real psql, fed through pg_run_fd() under the fence, a dump that runs
 * psql commands: not one of them runs.  tests/hostile.sh gives the
 * server (POLARITY_TEST_PG*: host, port, user, password, database) and a
 * folder; without them the test is skipped. */
static void
test_psql_runs_no_command_under_the_fence(void **state)
{
	const char *host = getenv("POLARITY_TEST_PGHOST");
	const char *dir = getenv("POLARITY_TEST_DIR");
	/* Each command: its text before the folder, and after it. */
	static const char *const cmd[][2] = { { "\\! touch ", "/ran-shell" },
		{ "\\o |touch ", "/ran-o" }, { "SELECT 1 \\g |touch ", "/ran-g" },
		{ "\\copy (SELECT 1) to program 'touch ", "/ran-copy'" },
		{ "\\setenv X ", "" },
		{ "SELECT 'touch ", "/ran-gexec' \\gexec" },
		{ "\\w ", "/ran-w" }, { "\\i ", "/script" },
		{ "\\ir ", "/script" }, { "\\o ", "/ran-file" },
		{ "\\c postgres ", "" }, { "\\password ", "" },
		{ "\\unrestrict abc ", "" }, { "\\restrict again ", "" } };
	char text[1024], path[PATH_MAX], errtext[4096], err[1024], line[512];
	struct db db;
	struct config c;
	struct pg pg;
	struct stat st;

	(void)state;
	if (host == NULL || dir == NULL)
		skip();
	db = (struct db){ host, getenv("POLARITY_TEST_PGPORT"),
		getenv("POLARITY_TEST_PGUSER"),
		getenv("POLARITY_TEST_PGPASSWORD"), "postgres", NULL, NULL };
	config_init(&c);
	snprintf(path, sizeof path, "%s/script", dir);
	FILE *sf = fopen(path, "w");
	assert_non_null(sf);
	fprintf(sf, "\\! touch %s/ran-include\n", dir);
	fclose(sf);
	for (size_t i = 0; i < sizeof cmd / sizeof *cmd; i++) {
		assert_int_equal(pg_init(&pg, &c, &db), 0);
		assert_int_equal(pg_fence(&pg, line, sizeof line, err,
		    sizeof err), 1);
		snprintf(line, sizeof line, "%s%s%s", cmd[i][0], dir,
		    cmd[i][1]);
		snprintf(text, sizeof text, HEAD "\\restrict " KEY "\n\n"
		    "SELECT 1;\n%s\nSELECT 2;\n\\unrestrict " KEY "\n", line);
		snprintf(path, sizeof path, "%s/dump", dir);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
		assert_true(fd >= 0);
		assert_int_equal(io_write_all(fd, text, strlen(text)), 0);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		errtext[0] = '\0';
		int rc = pg_run_fd(&pg, fd, strlen(text), errtext,
		    sizeof errtext, err, sizeof err);
		close(fd);
		pg_free(&pg);
		/* psql refused it, or the fence did before psql saw it. */
		if (rc != -1 || (strstr(errtext, "restricted") == NULL &&
		    strstr(err, "is not its own") == NULL))
			fail_msg("'%s': psql said '%s' (%s)", line, errtext,
			    err);
	}
	/* No command left a trace. */
	static const char *const trace[] = { "ran-shell", "ran-o", "ran-g",
		"ran-copy", "ran-gexec", "ran-w", "ran-include", "ran-file" };
	for (size_t i = 0; i < sizeof trace / sizeof *trace; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, trace[i]);
		if (stat(path, &st) == 0)
			fail_msg("'%s' exists: a psql command ran", path);
	}
	/* And the same dump without a command loads. */
	assert_int_equal(pg_init(&pg, &c, &db), 0);
	assert_int_equal(pg_fence(&pg, line, sizeof line, err, sizeof err), 1);
	snprintf(text, sizeof text, HEAD "\\restrict " KEY "\n\nSELECT 1;\n"
	    "\\unrestrict " KEY "\n");
	snprintf(path, sizeof path, "%s/dump", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(io_write_all(fd, text, strlen(text)), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	if (pg_run_fd(&pg, fd, strlen(text), errtext, sizeof errtext, err,
	    sizeof err) != 0)
		fail_msg("a clean dump did not load: %s (%s)", err, errtext);
	close(fd);
	pg_free(&pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_dumps_own_lines_are_taken_out),
		cmocka_unit_test(test_a_dump_without_them_passes_as_it_is),
		cmocka_unit_test(test_another_unrestrict_is_refused),
		cmocka_unit_test(test_clean_statements),
		cmocka_unit_test(test_versions_with_restrict),
		cmocka_unit_test(test_keys_are_random),
		cmocka_unit_test(test_psql_runs_no_command_under_the_fence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
