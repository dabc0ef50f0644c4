/* test_script.c - psql scripts read as psql reads them: what a restore
 * refuses to hand to psql, and what only psql's \restrict makes safe. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "script.h"

#define KEY "mh383Z0zeWKnFqJZSL82cepCfIPoReXHnCCfGzslm4QI72BnPhA6Uuw0LXCk7QI"
#define HEAD "--\n-- PostgreSQL database dump\n--\n\n\\restrict " KEY "\n\n"
#define TAIL "\n\\unrestrict " KEY "\n\n--\n-- PostgreSQL database dump " \
	"complete\n--\n\n"

static struct script s;

/* Reads TEXT whole; with BYTEWISE, one byte a call. */
static void
read_text(const char *text, int bytewise)
{
	size_t n = strlen(text);

	script_begin(&s, NULL, NULL);
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			script_feed(&s, (const unsigned char *)text + i, 1);
	else
		script_feed(&s, (const unsigned char *)text, n);
	script_end(&s);
}

static void
test_a_dump_of_pg_dump_passes(void **state)
{
	static const char text[] = HEAD
	    "SET standard_conforming_strings = on;\n"
	    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $_$ SELECT "
	    "'\\! no' $_$;\n"
	    "COMMENT ON TABLE t IS 'it''s fine; -- not a comment';\n"
	    "COPY public.t (id, v) FROM stdin;\n"
	    "1\t\\\\! a backslash and a bang\n"
	    "2\t\\N\n"
	    "3\t'unclosed quote\n"
	    "\\.\n"
	    "/* \\! in a comment */ SELECT E'\\\\ \\' ok';\n"
	    "-- \\! in a line comment\n"
	    "SELECT pg_catalog.setval('public.s', 1, true);\n" TAIL;

	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		read_text(text, bytewise);
		assert_string_equal(s.flaw, "");
		assert_string_equal(s.need, "");
		assert_true(script_whole(&s));
		assert_string_equal(s.key, KEY);
	}
}

/* The archive of the issue: a COPY line in the middle of a statement is
 * no COPY to psql, and the line after it is a psql command. */
static void
test_a_copy_inside_a_statement_is_no_copy(void **state)
{
	static const char text[] = HEAD "SELECT 1 AS\nCOPY FROM stdin;\n"
	    "\\! touch /tmp/PWNED\nSELECT '\n\\.\n';\n" TAIL;

	(void)state;
	read_text(text, 0);
	assert_non_null(strstr(s.flaw, "psql command '\\!'"));
}

static void
test_every_psql_command_is_a_flaw(void **state)
{
	static const char *const cmd[] = { "\\! touch /tmp/x",
		"\\o |touch /tmp/x", "SELECT 1 \\g |touch /tmp/x",
		"\\copy t from program 'touch /tmp/x'", "\\setenv X y",
		"SELECT 'touch' \\gexec", "\\i /etc/passwd", "\\ir x.sql",
		"\\w /tmp/x", "\\password postgres", "\\c other",
		"\\connect postgres", "SELECT 1 \\; SELECT 2;",
		"SELECT 1 \\unrestrict `touch /tmp/x`", "\\set ON_ERROR_STOP 0",
		"\\echo hi \\\\ \\! touch /tmp/x" };
	static const char *const name[] = { "\\!", "\\o", "\\g", "\\copy",
		"\\setenv", "\\gexec", "\\i", "\\ir", "\\w", "\\password",
		"\\c", "\\connect", "\\;", "\\unrestrict", "\\set",
		"\\echo" };
	char text[512], want[64];

	(void)state;
	for (size_t i = 0; i < sizeof cmd / sizeof *cmd; i++) {
		snprintf(text, sizeof text, HEAD "SELECT 1;\n%s\n" TAIL,
		    cmd[i]);
		read_text(text, 0);
		snprintf(want, sizeof want, "psql command '%s'", name[i]);
		if (strstr(s.flaw, want) == NULL)
			fail_msg("'%s': flaw '%s', wanted '%s'", cmd[i], s.flaw,
			    want);
	}
}

static void
test_copy_of_another_form_is_a_flaw(void **state)
{
	static const char *const copy[] = { "copy t (id) from stdin;",
		"COPY t (id) FROM STDIN WITH (FORMAT csv);",
		"COPY t (id) FROM PROGRAM 'touch /tmp/x';",
		"  COPY t (id) FROM stdin;",
		"COPY t (id)\nFROM stdin;",
		"SELECT 1; COPY t (id) FROM stdin;",
		"/* x */ COPY t (id) FROM stdin;" };
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof copy / sizeof *copy; i++) {
		snprintf(text, sizeof text, HEAD "%s\n1\n\\.\n" TAIL, copy[i]);
		read_text(text, 0);
		if (strstr(s.flaw, "COPY statement unlike pg_dump's") == NULL)
			fail_msg("'%s': flaw '%s'", copy[i], s.flaw);
	}
	read_text(HEAD "COPY t (id) FROM stdin; \\! touch /tmp/x\n1\n\\.\n"
	    TAIL, 0);
	assert_non_null(strstr(s.flaw, "text after a COPY statement"));
}

static void
test_restrict_lines_only_where_pg_dump_writes_them(void **state)
{
	(void)state;
	read_text(HEAD "SELECT 1;\n\\restrict other\n" TAIL, 0);
	assert_non_null(strstr(s.flaw, "'\\restrict'"));
	read_text(HEAD "SELECT 1;\n\\unrestrict wrongkey\n" TAIL, 0);
	assert_non_null(strstr(s.flaw, "\\unrestrict line unlike"));
	read_text(HEAD "SELECT 1\n\\unrestrict " KEY "\n;\n" TAIL, 0);
	assert_non_null(strstr(s.flaw, "'\\unrestrict'"));
	read_text("--\n-- PostgreSQL database dump\n--\n\n\\restrict a b\n"
	    "SELECT 1;\n", 0);
	assert_non_null(strstr(s.flaw, "\\restrict line unlike"));
	/* An older pg_dump wrote none. */
	read_text("--\n-- PostgreSQL database dump\n--\n\nSELECT 1;\n", 0);
	assert_string_equal(s.flaw, "");
	assert_string_equal(s.key, "");
}

static void
test_copy_data_that_reads_as_the_closing_line(void **state)
{
	(void)state;
	read_text(HEAD "COPY t (v) FROM stdin;\n\\unrestrict " KEY "\n"
	    "\\! touch /tmp/x\n\\.\n" TAIL, 0);
	assert_non_null(strstr(s.flaw, "COPY data reads as"));
}

static void
test_what_only_restrict_makes_safe(void **state)
{
	(void)state;
	read_text(HEAD "SELECT 'a\\' || 'b';\n" TAIL, 0);
	assert_non_null(strstr(s.need, "backslash in a quote"));
	assert_string_equal(s.flaw, "");
	read_text(HEAD "SELECT 'caf\xc3\xa9';\n" TAIL, 0);
	assert_non_null(strstr(s.need, "multibyte"));
	/* Unambiguous whatever the settings. */
	read_text(HEAD "SELECT E'a\\\\b';\n-- caf\xc3\xa9\n/* \xc3\xa9 */\n"
	    "COPY t (v) FROM stdin;\ncaf\xc3\xa9 \\\\\n\\.\n" TAIL, 0);
	assert_string_equal(s.need, "");
	assert_string_equal(s.flaw, "");
	/* Under pg_dump's "off", plain quotes take escapes, as psql reads
	 * them then. */
	read_text(HEAD "SET standard_conforming_strings = off;\n"
	    "SELECT 'it\\'s \\! here';\n" TAIL, 0);
	assert_string_equal(s.flaw, "");
	assert_true(script_whole(&s));
	assert_non_null(strstr(s.need, "backslash in a quote"));
}

static void
test_a_script_cut_short_is_not_whole(void **state)
{
	static const char *const cut[] = { HEAD "SELECT 'open",
		HEAD "COPY t (v) FROM stdin;\n1\n", HEAD "SELECT $x$ body",
		HEAD "SELECT 1", HEAD "/* open" };

	(void)state;
	for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
		read_text(cut[i], 0);
		assert_false(script_whole(&s));
	}
	read_text(HEAD "SELECT 1;\n-- the end, no newline", 0);
	assert_true(script_whole(&s));
}

/* The lines the callback is given: those that begin between
 * statements. */
static char seen[8][64];
static size_t nseen;

static void
collect(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (nseen < 8)
		snprintf(seen[nseen++], sizeof seen[0], "%.*s", (int)len, line);
}

static void
test_lines_between_statements_are_told(void **state)
{
	static const char text[] = "-- a\r\nSELECT 1,\n2;\nCOPY t (v) FROM "
	    "stdin;\nrow\n\\.\nSELECT 3;\n";

	(void)state;
	nseen = 0;
	script_begin(&s, collect, NULL);
	script_feed(&s, (const unsigned char *)text, sizeof text - 1);
	script_end(&s);
	assert_int_equal(nseen, 4);
	assert_string_equal(seen[0], "-- a");
	assert_string_equal(seen[1], "SELECT 1,");
	assert_string_equal(seen[2], "COPY t (v) FROM stdin;");
	assert_string_equal(seen[3], "SELECT 3;");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_dump_of_pg_dump_passes),
		cmocka_unit_test(test_a_copy_inside_a_statement_is_no_copy),
		cmocka_unit_test(test_every_psql_command_is_a_flaw),
		cmocka_unit_test(test_copy_of_another_form_is_a_flaw),
		cmocka_unit_test(test_restrict_lines_only_where_pg_dump_writes_them),
		cmocka_unit_test(test_copy_data_that_reads_as_the_closing_line),
		cmocka_unit_test(test_what_only_restrict_makes_safe),
		cmocka_unit_test(test_a_script_cut_short_is_not_whole),
		cmocka_unit_test(test_lines_between_statements_are_told),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
