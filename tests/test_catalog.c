/* test_catalog.c - which files are archives, and which to keep. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"


/* A fake check: the archives named in ARG (a NULL-terminated list) are
 * damaged. */
static int
fake_check(void *arg, const char *path, char *err, size_t elen)
{
	for (const char *const *bad = arg; *bad; bad++)
		if (strstr(path, *bad)) {
			snprintf(err, elen, "damaged");
			return 0;
		}
	return 1;
}

/* Six archives, a day apart, newest first; day 0 is NOW. */
static struct catalog_entry v[6];
static const time_t now = 1795698309;

static void
make_entries(void)
{
	memset(v, 0, sizeof v);
	for (int i = 0; i < 6; i++) {
		snprintf(v[i].name, sizeof v[i].name, "a%d", i);
		v[i].when = now - i * 86400 - 60;
	}
}

static void
test_plan_keep_newest(void **state)
{
	const char *none[] = { NULL };

	(void)state;
	make_entries();
	assert_int_equal(catalog_plan(v, 6, 2, 0, now, "/d", fake_check,
	    none), 4);
	assert_true(v[0].keep && v[1].keep);
	assert_false(v[2].keep || v[3].keep || v[4].keep || v[5].keep);
}

static void
test_plan_keep_days_and_union(void **state)
{
	const char *none[] = { NULL };

	(void)state;
	make_entries();
	/* Younger than 3 days: a0, a1, a2. */
	assert_int_equal(catalog_plan(v, 6, 0, 3, now, "/d", fake_check,
	    none), 3);
	assert_true(v[0].keep && v[1].keep && v[2].keep);
	assert_false(v[3].keep);
	/* Either rule keeps: the 4 newest, or younger than 2 days. */
	make_entries();
	assert_int_equal(catalog_plan(v, 6, 4, 2, now, "/d", fake_check,
	    none), 2);
	assert_true(v[3].keep);
	assert_false(v[4].keep || v[5].keep);
}

static void
test_plan_never_drops_the_newest_sound_archive(void **state)
{
	const char *bad[] = { "a0", "a1", "a2", NULL };

	(void)state;
	make_entries();
	/* Keep 2, but both are damaged: a3 stays too. */
	assert_int_equal(catalog_plan(v, 6, 2, 0, now, "/d", fake_check, bad),
	    3);
	assert_true(v[0].keep && v[1].keep);
	assert_false(v[2].keep);
	assert_true(v[3].keep);
	assert_string_equal(v[3].why, "the newest sound archive");
	assert_int_equal(v[0].verified, 0);
	assert_string_equal(v[0].error, "damaged");
	assert_int_equal(v[3].verified, 1);
	assert_false(v[4].keep);
}

static void
test_plan_all_damaged_keeps_by_rules_only(void **state)
{
	const char *bad[] = { "a", NULL };

	(void)state;
	make_entries();
	assert_int_equal(catalog_plan(v, 6, 1, 0, now, "/d", fake_check, bad),
	    5);
	assert_true(v[0].keep);
}

static void
test_scan_takes_only_archives_newest_first(void **state)
{
	char dir[] = "/tmp/test_catalog.XXXXXX", cmd[512];
	struct catalog_entry *e;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cd %s && "
	    "echo a > polarity-server-backup-20260101000000.tgz && "
	    "echo bb > polarity-server-backup-20261126000000.tgz && "
	    "echo c > polarity-server-backup-20250101000000.tgz.partial && "
	    "echo d > notes.txt && mkdir polarity-server-backup-20270101000000.tgz && "
	    "ln -s polarity-server-backup-20260101000000.tgz "
	    "polarity-server-backup-20280101000000.tgz", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(catalog_scan(dir, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].name, "polarity-server-backup-20261126000000.tgz");
	assert_int_equal(e[0].size, 3);
	assert_string_equal(e[1].name, "polarity-server-backup-20260101000000.tgz");
	assert_int_equal(e[1].verified, -1);
	free(e);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_json_is_escaped(void **state)
{
	struct catalog_entry e[2];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	memset(e, 0, sizeof e);
	snprintf(e[0].name, sizeof e[0].name, "x.tgz");
	e[0].size = 10;
	e[0].verified = 0;
	snprintf(e[0].error, sizeof e[0].error, "bad \"quote\" \\ and\nline");
	snprintf(e[1].name, sizeof e[1].name, "y.tgz");
	e[1].verified = -1;
	catalog_json(f, "/b", e, 2);
	fclose(f);
	assert_non_null(strstr(buf, "\"error\": \"bad \\\"quote\\\" \\\\ "
	    "and\\u000aline\""));
	assert_non_null(strstr(buf, "\"path\": \"/b/x.tgz\""));
	assert_non_null(strstr(buf, "\"verified\": false"));
	assert_non_null(strstr(buf, "\"verified\": null"));
	assert_true(buf[0] == '[');
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_keep_newest),
		cmocka_unit_test(test_plan_keep_days_and_union),
		cmocka_unit_test(test_plan_never_drops_the_newest_sound_archive),
		cmocka_unit_test(test_plan_all_damaged_keeps_by_rules_only),
		cmocka_unit_test(test_scan_takes_only_archives_newest_first),
		cmocka_unit_test(test_json_is_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
