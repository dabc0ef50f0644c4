/* test_legacy.c - members of the original utility's archives, told apart
 * by what they hold. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "legacy.h"

#define HEAD "--\n-- PostgreSQL database dump\n--\n\n" \
	"\\restrict abcDEF123\n\n" \
	"-- Dumped from database version 15.18\n" \
	"-- Dumped by pg_dump version 15.18\n\n" \
	"SET client_encoding = 'UTF8';\n" \
	"SET standard_conforming_strings = on;\n"
#define TAIL "\n--\n-- PostgreSQL database dump complete\n--\n\n" \
	"\\unrestrict abcDEF123\n\n"

static const char schema_sql[] = HEAD
	"--\n-- Name: a; Type: TABLE; Schema: public; Owner: polarity\n--\n\n"
	"CREATE TABLE public.a (id integer);\n"
	"ALTER TABLE public.a OWNER TO polarity;\n"
	"ALTER TABLE public.b OWNER TO \"Mixed \"\"Case\"\" Owner\";\n"
	"GRANT SELECT ON TABLE public.a TO reader;\n"
	"GRANT ALL ON TABLE public.\"x TO y\" TO writer WITH GRANT OPTION;\n"
	"REVOKE ALL ON SCHEMA public FROM PUBLIC;\n"
	"REVOKE ALL ON TABLE public.a FROM revoked;\n"
	"SET SESSION AUTHORIZATION grantor;\n"
	"ALTER DEFAULT PRIVILEGES FOR ROLE definer IN SCHEMA public GRANT "
	"SELECT ON TABLES TO adp_grantee;\n"
	"GRANT ALL ON TABLE public.a TO pg_read_all_data;\n"
	"CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $_$\n"
	"GRANT ALL ON TABLE public.a TO inside_body;\n"
	"\\! rm -rf /\n"
	"$_$;\n"
	"COMMENT ON TABLE public.a IS 'it''s\n"
	"GRANT x TO in_string;\n"
	"\\! echo';\n"
	"/* a comment /* nested */\n"
	"GRANT x TO in_comment; */\n"
	TAIL;

static const char data_sql[] = HEAD
	"--\n-- Data for Name: a; Type: TABLE DATA; Schema: public; "
	"Owner: polarity\n--\n\n"
	"COPY public.a (id, t) FROM stdin;\n"
	"1\t\\\\! not a command\n"
	"2\tGRANT x TO in_copy;\n"
	"3\t-- Name: t; Type: TABLE; Schema: x; Owner: y\n"
	"\\.\n\n"
	"--\n-- Name: a_seq; Type: SEQUENCE SET; Schema: public; "
	"Owner: polarity\n--\n\n"
	"SELECT pg_catalog.setval('public.a_seq', 5, true);\n"
	TAIL;

/* A full plain dump: both kinds of table-of-contents entries. */
static const char full[] = HEAD
	"-- Name: a; Type: TABLE; Schema: public; Owner: o\n"
	"-- Data for Name: a; Type: TABLE DATA; Schema: public; "
	"Owner: o\n" TAIL;

static struct legacy_read *l;

static int
setup(void **state)
{
	(void)state;
	l = legacy_new();
	return l == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	legacy_free(l);
	return 0;
}

/* Feeds TEXT (N bytes) as member NAME, in pieces of STEP bytes. */
static void
member(const char *name, const void *text, size_t n, size_t step)
{
	char err[512];
	const unsigned char *p = text;

	legacy_member_begin(l, name);
	for (size_t at = 0; at < n; at += step)
		assert_int_equal(legacy_member_data(l, p + at, n - at < step ?
		    n - at : step, err, sizeof err), 0);
	assert_int_equal(legacy_member_end(l, err, sizeof err), 0);
}

static int
has_role(const struct legacy_set *set, const char *name)
{
	for (size_t i = 0; i < set->nroles; i++)
		if (strcmp(set->roles[i], name) == 0)
			return 1;
	return 0;
}

static void
test_split_dumps_make_a_set_whatever_their_order(void **state)
{
	struct legacy_set set;
	char err[512];

	(void)state;
	member("backup/data.sql", data_sql, sizeof data_sql - 1, 7);
	member("backup/.env", "A=1\n", 4, 100);
	member("backup/schema.sql", schema_sql, sizeof schema_sql - 1, 1);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), 0);
	assert_int_equal(set.how, LEGACY_SPLIT);
	assert_string_equal(set.dump[0].member, "backup/schema.sql");
	assert_int_equal(set.dump[0].kind, LEGACY_SCHEMA);
	assert_string_equal(set.dump[1].member, "backup/data.sql");
	assert_int_equal(set.dump[1].kind, LEGACY_DATA);
	assert_int_equal(set.dump[1].size, sizeof data_sql - 1);
	assert_string_equal(set.dump[0].encoding, "UTF8");
	assert_string_equal(set.dump[0].server_version, "15.18");
	assert_int_equal(legacy_others(l), 1);
}

static void
test_roles_come_from_statements_not_from_bodies_strings_or_data(void **state)
{
	struct legacy_set set;
	char err[512];
	static const char *const want[] = { "polarity", "Mixed \"Case\" Owner",
		"reader", "writer", "revoked", "grantor", "definer",
		"adp_grantee", NULL };
	static const char *const never[] = { "public", "pg_read_all_data",
		"inside_body", "in_string", "in_comment", "in_copy", "x",
		"y", NULL };

	(void)state;
	member("schema.sql", schema_sql, sizeof schema_sql - 1, 3);
	member("data.sql", data_sql, sizeof data_sql - 1, 4096);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), 0);
	for (size_t i = 0; want[i]; i++)
		if (!has_role(&set, want[i]))
			fail_msg("role '%s' not found", want[i]);
	for (size_t i = 0; never[i]; i++)
		if (has_role(&set, never[i]))
			fail_msg("role '%s' found", never[i]);
	assert_int_equal(set.nroles, 8);
}

static void
test_a_full_dump_alone_is_the_database(void **state)
{
	struct legacy_set set;
	char err[512];

	(void)state;
	member("db.sql", full, sizeof full - 1, 5);
	member("README", "hello\n", 6, 5);
	member("empty.sql", "", 0, 1);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), 0);
	assert_int_equal(set.how, LEGACY_ONE);
	assert_int_equal(set.dump[0].kind, LEGACY_FULL);
	assert_int_equal(legacy_others(l), 2);
}

static void
test_two_full_dumps_are_refused_naming_both(void **state)
{
	struct legacy_set set;
	char err[512];

	(void)state;
	member("one.sql", full, sizeof full - 1, 64);
	member("two.sql", full, sizeof full - 1, 64);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "'one.sql' and 'two.sql'"));
	assert_non_null(strstr(err, "a full dump"));
}

static void
test_lone_halves_and_mixtures_are_refused(void **state)
{
	struct legacy_set set;
	char err[512];

	(void)state;
	member("schema.sql", schema_sql, sizeof schema_sql - 1, 64);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "schema-only dump 'schema.sql' but no "
	    "data dump"));
	member("db.dump", "PGDMP\x01\x0e\x00", 8, 3);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "a custom-format dump 'db.dump' beside "
	    "a schema-only dump 'schema.sql'"));
}

static void
test_a_custom_dump_is_loaded_whole(void **state)
{
	struct legacy_set set;
	char err[512];

	(void)state;
	member("x/db.dump", "PGDMP\x01\x0e\x00 and the rest", 20, 2);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), 0);
	assert_int_equal(set.how, LEGACY_ONE);
	assert_int_equal(set.dump[0].kind, LEGACY_CUSTOM);
	assert_int_equal(set.dump[0].gzip, 0);
}

/* TEXT compressed with gzip into OUT; returns its length. */
static size_t
gz(const char *text, size_t n, unsigned char *out, size_t cap)
{
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)text;
	z.avail_in = (unsigned)n;
	z.next_out = out;
	z.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static void
test_gzip_compressed_dumps_are_read_inside(void **state)
{
	unsigned char a[8192], b[8192];
	size_t na = gz(schema_sql, sizeof schema_sql - 1, a, sizeof a);
	size_t nb = gz(data_sql, sizeof data_sql - 1, b, sizeof b);
	struct legacy_set set;
	char err[512];

	(void)state;
	member("s.sql.gz", a, na, 11);
	member("d.sql.gz", b, nb, 1);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), 0);
	assert_int_equal(set.how, LEGACY_SPLIT);
	assert_true(set.dump[0].gzip && set.dump[1].gzip);
	assert_int_equal(set.dump[1].size, sizeof data_sql - 1);
}

static void
test_a_damaged_or_cut_gzip_dump_is_refused(void **state)
{
	unsigned char a[8192];
	size_t na = gz(schema_sql, sizeof schema_sql - 1, a, sizeof a);
	char err[512];
	int rc = 0;

	(void)state;
	legacy_member_begin(l, "cut.sql.gz");
	assert_int_equal(legacy_member_data(l, a, na - 20, err, sizeof err),
	    0);
	assert_int_equal(legacy_member_end(l, err, sizeof err), -1);
	assert_non_null(strstr(err, "'cut.sql.gz' is damaged"));

	a[na - 5] ^= 0xff;	/* the CRC */
	legacy_member_begin(l, "crc.sql.gz");
	rc = legacy_member_data(l, a, na, err, sizeof err);
	if (rc == 0)
		rc = legacy_member_end(l, err, sizeof err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "'crc.sql.gz' is damaged"));
}

static void
test_flaws_keep_a_dump_from_loading(void **state)
{
	static const struct { const char *text, *flaw; } t[] = {
		{ HEAD "CREATE DATABASE polarity;\n\\connect polarity\n" TAIL,
		  "pg_dump --create" },
		{ HEAD "SELECT 1; \\! touch /tmp/x\n" TAIL,
		  "psql command '\\!'" },
		{ HEAD "SELECT 'a' \\o /tmp/out\n" TAIL,
		  "psql command '\\o'" },
		{ HEAD "-- Name: a; Type: TABLE; Schema: public; Owner: o\n"
		  "-- Data for Name: a; Type: TABLE DATA; Schema: public; "
		  "Owner: o\n" "CREATE TABLE a (id int);\n", "closing line" },
		{ HEAD "COPY a (id) FROM stdin;\n1\n" TAIL, "closing line" },
		{ HEAD "SELECT $x$ never closed\n" TAIL, "closing line" },
	};
	struct legacy_set set;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		legacy_free(l);
		l = legacy_new();
		member("x.sql", t[i].text, strlen(t[i].text), 2);
		assert_int_equal(legacy_choose(l, &set, err, sizeof err), -1);
		if (strstr(err, t[i].flaw) == NULL)
			fail_msg("case %zu: %s", i, err);
	}
}

static void
test_other_files_are_not_dumps(void **state)
{
	static const char sql[] = "-- some notes\nSELECT 1;\n\n\n";
	struct legacy_set set;
	char err[512];

	(void)state;
	member("notes.sql", sql, sizeof sql - 1, 3);
	member("P", "P", 1, 1);
	member("-", "-", 1, 1);
	member("bin", "\x7f" "ELF", 4, 1);
	assert_int_equal(legacy_others(l), 4);
	assert_int_equal(legacy_choose(l, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "no database dump"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_split_dumps_make_a_set_whatever_their_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_roles_come_from_statements_not_from_bodies_strings_or_data,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_full_dump_alone_is_the_database, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_two_full_dumps_are_refused_naming_both, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_lone_halves_and_mixtures_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_custom_dump_is_loaded_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_gzip_compressed_dumps_are_read_inside, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_damaged_or_cut_gzip_dump_is_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_flaws_keep_a_dump_from_loading, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_files_are_not_dumps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
