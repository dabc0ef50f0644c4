/* test_format.c - archive names, the FORMAT member and manifest lines,
 * written and read back. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "format.h"

static void
test_name_is_local_time(void **state)
{
	char name[64];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-11-26 13:05:09 UTC */
	assert_int_equal(format_name(1795698309LL, 0, name, sizeof name), 0);
	assert_string_equal(name, "polarity-server-backup-20261126130509.tgz");
	/* A POSIX rule, so no time zone database is needed: UTC-5. */
	setenv("TZ", "XST5", 1);
	tzset();
	assert_int_equal(format_name(1795698309LL, 0, name, sizeof name), 0);
	assert_string_equal(name, "polarity-server-backup-20261126080509.tgz");
}

static void
test_name_needs_room(void **state)
{
	char name[20];

	(void)state;
	assert_int_equal(format_name(0, 0, name, sizeof name), -1);
}

static void
test_top_folder_is_the_name_without_suffix(void **state)
{
	char name[64], top[64];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(format_name(1795698309LL, 1, top, sizeof top), 0);
	assert_string_equal(top, "polarity-server-backup-20261126130509");
	assert_true(format_is_top(top, strlen(top)));
	assert_int_equal(format_name(1795698309LL, 0, name, sizeof name), 0);
	assert_int_equal(strncmp(name, top, strlen(top)), 0);
	assert_false(format_is_top(top, strlen(top) - 1));
	assert_false(format_is_top("polarity-server-backup-2026112613050x",
	    37));
}

static void
test_names_are_parsed_strictly(void **state)
{
	time_t t;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(format_parse_name("polarity-server-backup-20261126130509.tgz",
	    &t));
	assert_int_equal(t, 1795698309);
	assert_false(format_parse_name("polarity-server-backup-20261126130509.tgz~",
	    &t));
	assert_false(format_parse_name("polarity-server-backup-2026112613050.tgz",
	    &t));
	assert_false(format_parse_name(".polarity-server-backup-20261126130509.tgz",
	    &t));
	assert_false(format_parse_name("polarity-server-backup-20260231000000.tgz",
	    &t));	/* 31 February */
	assert_false(format_parse_name("polarity-server-backup-2026112613050x.tgz",
	    &t));
	assert_false(format_parse_name("notes.txt", &t));
}
static void
test_version_text_round_trip(void **state)
{
	char text[64];
	int n;

	(void)state;
	n = format_version_text(text, sizeof text);
	assert_int_equal(n, (int)strlen(text));
	assert_string_equal(text, "polarity-server-backup 1\n");
	assert_int_equal(format_parse_version(text), FORMAT_VERSION);
	assert_int_equal(format_parse_version("polarity-server-backup 7\n"), 7);
	/* Strict: no trailing bytes, no sign, a newline at the end. */
	assert_int_equal(format_parse_version("polarity-server-backup 1"), -1);
	assert_int_equal(format_parse_version("polarity-server-backup 1x\n"),
	    -1);
	assert_int_equal(format_parse_version("polarity-server-backup -1\n"),
	    -1);
	assert_int_equal(format_parse_version("tar-backup 1\n"), -1);
	assert_int_equal(format_version_text(text, 10), -1);
}

static void
test_members_allowed_by_kind(void **state)
{
	(void)state;
	assert_true(format_member_allowed(".env", 'f'));
	assert_false(format_member_allowed(".env", 'd'));
	assert_true(format_member_allowed("integrations", 'd'));
	assert_false(format_member_allowed("integrations", 'l'));
	assert_true(format_member_allowed("integrations/a/b", 'l'));
	assert_true(format_member_allowed("database", 'd'));
	assert_true(format_member_allowed("database/2-data.sql", 'f'));
	assert_false(format_member_allowed("database/2-data.sql", 'l'));
	assert_false(format_member_allowed("database/extra.sql", 'f'));
	assert_false(format_member_allowed("integrationsX", 'd'));
	assert_true(format_member_allowed("MANIFEST", 'f'));
	assert_false(format_member_allowed("FORMAT", 'f'));	/* first only */
	for (int i = 0; i < FORMAT_NDUMPS; i++)
		assert_true(format_member_allowed(format_dump_member[i], 'f'));
}

/* Reads the header TEXT (changed in place), whose every line is a header
 * line, into a zeroed *BACK. */
static void
read_back(char *text, struct format_header *back)
{
	char *line, *save = NULL;

	memset(back, 0, sizeof *back);
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_false(format_is_member_line(line));
		format_header_line(back, line);
	}
}

static void
test_header_round_trip(void **state)
{
	struct format_header h, back;
	char text[2048];

	(void)state;
	memset(&h, 0, sizeof h);
	snprintf(h.tool, sizeof h.tool, "polarity 1.0");
	snprintf(h.created, sizeof h.created, "2026-11-26T00:00:00Z");
	snprintf(h.hostname, sizeof h.hostname, "host");
	snprintf(h.database, sizeof h.database, "polarity db");
	snprintf(h.server_version, sizeof h.server_version, "15.18");
	snprintf(h.pg_dump_version, sizeof h.pg_dump_version, "15.18");
	snprintf(h.encoding, sizeof h.encoding, "UTF8");
	assert_true(format_header_text(&h, text, sizeof text) > 0);
	assert_non_null(strstr(text, "database polarity db\n"));
	assert_non_null(strstr(text, "server-version 15.18\n"));
	read_back(text, &back);
	assert_memory_equal(&h, &back, sizeof h);
	/* A key must be followed by its space: "tools x" is no "tool". */
	format_header_line(&back, "tools x");
	assert_string_equal(back.tool, "polarity 1.0");
	assert_int_equal(format_header_text(&h, text, 20), -1);
}

static void
test_database_properties_round_trip(void **state)
{
	static struct format_header h, back;
	static char text[1 << 16];
	size_t i;

	(void)state;
	memset(&h, 0, sizeof h);
	snprintf(h.database, sizeof h.database, "polarity");
	snprintf(h.db_props, sizeof h.db_props, "1");
	snprintf(h.db_owner, sizeof h.db_owner, "Db Owner");
	snprintf(h.db_collate, sizeof h.db_collate, "C.utf8");
	snprintf(h.db_acl, sizeof h.db_acl, "{\"Db Owner\"=CTc/\"Db Owner\"}");
	snprintf(h.db_settings, sizeof h.db_settings, "\tsearch_path=a, b\n"
	    "r\twork_mem=8MB\n");
	/* The longest comment there is room for, all of it escaped. */
	for (i = 0; i + 1 < sizeof h.db_comment; i++)
		h.db_comment[i] = i % 2 ? '\n' : ' ';
	assert_true(format_header_text(&h, text, sizeof text) > 0);
	/* One line each, whatever they hold. */
	assert_non_null(strstr(text, "\ndb-owner Db\\040Owner\n"));
	assert_non_null(strstr(text, "\ndb-settings \\011search_path=a,"
	    "\\040b\\012r\\011work_mem=8MB\\012\n"));
	/* What was not recorded is not written. */
	assert_null(strstr(text, "db-icu-locale"));
	read_back(text, &back);
	assert_memory_equal(&h, &back, sizeof h);
	/* A bad escape is no value. */
	format_header_line(&back, "db-owner a\\9");
	assert_string_equal(back.db_owner, "");
}

static void
test_member_line_round_trip(void **state)
{
	char line[512], name[256], target[256], sha[65], kind;
	unsigned mode;
	unsigned long long size;
	const char *hex = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";

	(void)state;
	assert_true(format_member_line('f', 0640, 42, hex, "integrations/a b",
	    NULL, line, sizeof line) > 0);
	assert_non_null(strstr(line, "integrations/a\\040b\n"));
	assert_true(format_is_member_line(line));
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(format_parse_member(line, &kind, &mode, &size, sha,
	    name, target, sizeof name), 0);
	assert_int_equal(kind, 'f');
	assert_int_equal(mode, 0640);
	assert_int_equal(size, 42);
	assert_string_equal(sha, hex);
	assert_string_equal(name, "integrations/a b");
	assert_string_equal(target, "");

	assert_true(format_member_line('l', 0777, 0, "-", "integrations/l",
	    "../x\ty", line, sizeof line) > 0);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(format_parse_member(line, &kind, &mode, &size, sha,
	    name, target, sizeof name), 0);
	assert_int_equal(kind, 'l');
	assert_string_equal(target, "../x\ty");
	assert_int_equal(format_member_line('f', 0, 0, "-", "abc", NULL, line,
	    8), -1);
}

static void
test_member_lines_are_read_strictly(void **state)
{
	const char *bad[] = {
		"f 0644 1 - ",			/* too few fields */
		"f 0644 1 - a b",		/* a target for a file */
		"l 0777 0 - a",			/* a link without one */
		"f 0648 1 - a",			/* not octal */
		"f 10000 1 - a",		/* mode out of range */
		"f 0644 -1 - a",		/* a sign */
		"f 0644 1x - a",		/* trailing bytes */
		"f 0644 1 abc a",		/* a short hash */
		"f 0644 1 - a\\9zz",		/* a bad escape */
		"ff 0644 1 - a",		/* a long kind */
	};
	char line[128], name[64], target[64], sha[65], kind;
	unsigned mode;
	unsigned long long size;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(line, sizeof line, "%s", bad[i]);
		assert_int_equal(format_parse_member(line, &kind, &mode, &size,
		    sha, name, target, sizeof name), -1);
	}
}

static void
test_escape_round_trip(void **state)
{
	const char *names[] = { "plain", "with space", "tab\tnew\nline",
		"back\\slash", "émoji ☃", "\x7f" "del" };
	char esc[256];

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		assert_int_equal(format_escape(names[i], esc, sizeof esc), 0);
		assert_null(strpbrk(esc, " \t\n"));
		assert_int_equal(format_unescape(esc), 0);
		assert_string_equal(esc, names[i]);
	}
	assert_int_equal(format_escape("a b", esc, sizeof esc), 0);
	assert_string_equal(esc, "a\\040b");
	/* Non-ASCII stays readable. */
	assert_int_equal(format_escape("é", esc, sizeof esc), 0);
	assert_string_equal(esc, "é");
}

static void
test_escape_needs_room(void **state)
{
	char esc[4];

	(void)state;
	assert_int_equal(format_escape("a b", esc, sizeof esc), -1);
	assert_int_equal(format_escape("abc", esc, sizeof esc), 0);
}

static void
test_unescape_refuses_bad_escapes(void **state)
{
	char a[] = "x\\9zz", b[] = "x\\000", c[] = "x\\04", d[] = "x\\400";

	(void)state;
	assert_int_equal(format_unescape(a), -1);
	assert_int_equal(format_unescape(b), -1);
	assert_int_equal(format_unescape(c), -1);
	assert_int_equal(format_unescape(d), -1);
}

/* Inflates the gzip members IN (LEN bytes) back to back into OUT (CAP
 * bytes), checking each member's CRC as zlib does.  Returns the length,
 * or -1 on any error. */
static long
inflate_members(const unsigned char *in, size_t len, unsigned char *out,
    size_t cap)
{
	z_stream z;
	long got = 0;
	int rc;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	while (z.avail_in > 0) {
		z.next_out = out + got;
		z.avail_out = (uInt)(cap - (size_t)got);
		rc = inflate(&z, Z_NO_FLUSH);
		got = (long)(cap - z.avail_out);
		if (rc == Z_STREAM_END) {
			if (inflateReset(&z) != Z_OK)
				break;
			continue;
		}
		if (rc != Z_OK) {
			got = -1;
			break;
		}
	}
	if (z.avail_in > 0)
		got = -1;
	inflateEnd(&z);
	return got;
}

/* TEXT as one gzip member of its own, into OUT (CAP bytes). */
static size_t
member_of(const char *text, unsigned char *out, size_t cap)
{
	z_stream z;
	size_t n;

	memset(&z, 0, sizeof z);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (uInt)strlen(text);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = cap - z.avail_out;
	deflateEnd(&z);
	return n;
}

static void
test_gzip_pad_is_empty_and_exact(void **state)
{
	/* The lengths the backup asks for: the least, a block's worth, the
	 * most one member takes, and more, which takes two. */
	static const size_t want[] = { FORMAT_PAD_MIN, FORMAT_PAD_MIN + 1,
		4096, FORMAT_PAD_MAX, FORMAT_PAD_MAX + 1, 70000,
		FORMAT_PAD_MAX + FORMAT_PAD_MIN };
	const size_t cap = 3 * FORMAT_PAD_MAX;
	unsigned char *buf = malloc(cap), *out = malloc(64);
	unsigned char pad[FORMAT_PAD_MAX];

	(void)state;
	assert_non_null(buf);
	assert_non_null(out);
	assert_int_equal(format_gzip_pad(pad, FORMAT_PAD_MIN - 1), 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		size_t n = member_of("before ", buf, cap), left = want[i];
		int members = 0;
		while (left > 0) {
			size_t m = format_gzip_pad(pad, left);
			assert_true(m >= FORMAT_PAD_MIN && m <= left);
			memcpy(buf + n, pad, m);
			n += m;
			left -= m;
			members++;
		}
		assert_int_equal(members, want[i] > FORMAT_PAD_MAX ? 2 : 1);
		n += member_of("after", buf + n, cap - n);
		assert_int_equal(inflate_members(buf, n, out, 64), 12);
		assert_memory_equal(out, "before after", 12);
	}
	free(buf);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_is_local_time),
		cmocka_unit_test(test_database_properties_round_trip),
		cmocka_unit_test(test_name_needs_room),
		cmocka_unit_test(test_top_folder_is_the_name_without_suffix),
		cmocka_unit_test(test_names_are_parsed_strictly),
		cmocka_unit_test(test_version_text_round_trip),
		cmocka_unit_test(test_members_allowed_by_kind),
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_member_line_round_trip),
		cmocka_unit_test(test_member_lines_are_read_strictly),
		cmocka_unit_test(test_escape_round_trip),
		cmocka_unit_test(test_escape_needs_room),
		cmocka_unit_test(test_unescape_refuses_bad_escapes),
		cmocka_unit_test(test_gzip_pad_is_empty_and_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
