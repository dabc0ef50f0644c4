/* test_postdata.c - which statements of a post-data dump build an index,
 * and which scripts are taken apart at all. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "postdata.h"

static enum postdata_kind
kind(const char *s)
{
	return postdata_kind(s, strlen(s));
}

static void
test_builds_are_told_apart(void **state)
{
	(void)state;
	assert_int_equal(kind("CREATE INDEX entity_meta ON intel.entity "
	    "USING gin (meta);"), POSTDATA_BUILD);
	assert_int_equal(kind("CREATE UNIQUE INDEX u ON ONLY public.p USING "
	    "btree (a);"), POSTDATA_BUILD);
	assert_int_equal(kind("ALTER TABLE ONLY intel.entity     ADD "
	    "CONSTRAINT entity_pkey PRIMARY KEY (id);"), POSTDATA_BUILD);
	assert_int_equal(kind("ALTER TABLE ONLY \"My \"\"odd\"\" schema\"."
	    "\"t t\" ADD CONSTRAINT \"k k\" UNIQUE (name);"), POSTDATA_BUILD);
	assert_int_equal(kind("alter table x add constraint y primary key "
	    "(id);"), POSTDATA_BUILD);
	/* Foreign keys, checks, exclusions, attaches, triggers: in order,
	 * after the builds. */
	assert_int_equal(kind("ALTER TABLE ONLY intel.tag ADD CONSTRAINT "
	    "tag_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES "
	    "intel.entity(id);"), POSTDATA_OTHER);
	assert_int_equal(kind("ALTER TABLE ONLY a ADD CONSTRAINT c CHECK "
	    "(x > 0) NOT VALID;"), POSTDATA_OTHER);
	assert_int_equal(kind("ALTER TABLE ONLY a ADD CONSTRAINT e EXCLUDE "
	    "USING gist (r WITH &&);"), POSTDATA_OTHER);
	assert_int_equal(kind("ALTER INDEX public.p_idx ATTACH PARTITION "
	    "public.c_idx;"), POSTDATA_OTHER);
	assert_int_equal(kind("CREATE TRIGGER t AFTER INSERT ON a FOR EACH "
	    "ROW EXECUTE FUNCTION f();"), POSTDATA_OTHER);
	assert_int_equal(kind("COMMENT ON INDEX a_idx IS 'CREATE INDEX';"),
	    POSTDATA_OTHER);
	assert_int_equal(kind("CREATE RULE r AS ON INSERT TO a DO INSTEAD "
	    "NOTHING;"), POSTDATA_OTHER);
}

static void
test_settings_and_the_unsure(void **state)
{
	(void)state;
	assert_int_equal(kind("SET default_tablespace = '';"),
	    POSTDATA_SETTING);
	assert_int_equal(kind("SELECT pg_catalog.set_config('search_path', "
	    "'', false);"), POSTDATA_SETTING);
	assert_int_equal(kind("RESET ROLE;"), POSTDATA_SETTING);
	assert_int_equal(kind("SELECT 1;"), POSTDATA_OTHER);
	/* What would be taken apart wrongly. */
	assert_int_equal(kind("COPY a (id) FROM stdin;"), POSTDATA_UNSURE);
	assert_int_equal(kind("BEGIN;"), POSTDATA_UNSURE);
	assert_int_equal(kind("CREATE OR REPLACE FUNCTION f() RETURNS int "
	    "BEGIN ATOMIC SELECT 1; END;"), POSTDATA_UNSURE);
	assert_int_equal(kind("CREATE PROCEDURE p() LANGUAGE sql AS "
	    "'SELECT 1';"), POSTDATA_UNSURE);
}

/* The table of build statement S: 0 and *T, or -1. */
static int
table(const char *s, struct postdata_table *t)
{
	return postdata_build_table(s, strlen(s), t);
}

/* Fails unless build statement S reads SCHEMA.NAME, by WEIGHT, and
 * takes it whole or not (EXCLUSIVE). */
static void
reads(const char *s, const char *schema, const char *name, unsigned weight,
    int exclusive)
{
	struct postdata_table t;

	assert_int_equal(table(s, &t), 0);
	assert_string_equal(t.schema, schema);
	assert_string_equal(t.table, name);
	assert_int_equal(t.weight, weight);
	assert_int_equal(t.exclusive, exclusive);
}

static void
test_a_build_names_its_table_and_kind(void **state)
{
	struct postdata_table t;

	(void)state;
	reads("CREATE INDEX entity_meta ON intel.entity USING gin (meta);",
	    "intel", "entity", 16, 0);
	/* Quoted names as the server stores them, bare ones folded. */
	reads("CREATE UNIQUE INDEX \"U\" ON ONLY \"My \"\"odd\"\" schema\"."
	    "Parts USING btree (a);", "My \"odd\" schema", "parts", 2, 0);
	/* A constraint takes its table whole, an index shares it. */
	reads("ALTER TABLE ONLY public.\"t t\"\n    ADD CONSTRAINT k PRIMARY "
	    "KEY (id);", "public", "t t", 2, 1);
	assert_int_equal(table("CREATE INDEX b ON s.t USING brin (at);", &t),
	    0);
	assert_int_equal(t.weight, 1);
	assert_int_equal(table("CREATE INDEX g ON s.t USING gist (r);", &t),
	    0);
	assert_int_equal(t.weight, 16);
	/* Not as pg_dump names it: no schema, or a database too. */
	assert_int_equal(table("CREATE INDEX a ON t (c);", &t), -1);
	assert_int_equal(t.weight, 2);
	assert_int_equal(table("CREATE INDEX a ON d.s.t USING gin (c);", &t),
	    -1);
	assert_int_equal(table("ALTER TABLE x ADD CONSTRAINT y PRIMARY KEY "
	    "(id);", &t), -1);
	/* A name longer than the server keeps. */
	assert_int_equal(table("CREATE INDEX a ON s.\"a23456789012345678901"
	    "23456789012345678901234567890123456789012345\" (c);", &t), -1);
	assert_int_equal(table("CREATE INDEX a ON s.\"cut off", &t), -1);
}

/* The plan of SCRIPT: 0 (taken apart, *BUILDS) or 1 (run whole). */
static int
plan(const char *script, size_t *builds)
{
	char err[256];
	int fd = memfd_create("script", MFD_CLOEXEC), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)),
	    (ssize_t)strlen(script));
	rc = postdata_plan(fd, builds, err, sizeof err);
	close(fd);
	return rc;
}

#define HEAD "--\n-- PostgreSQL database dump\n--\n\n\\restrict KEY1\n\n" \
	"SET statement_timeout = 0;\n" \
	"SELECT pg_catalog.set_config('search_path', '', false);\n\n"
#define TAIL "\n--\n-- PostgreSQL database dump complete\n--\n\n" \
	"\\unrestrict KEY1\n\n"

static void
test_scripts_are_taken_apart_only_when_plain(void **state)
{
	size_t n;

	(void)state;
	assert_int_equal(plan(HEAD
	    "--\n-- Name: a a_pkey; Type: CONSTRAINT; Schema: public\n--\n\n"
	    "ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY"
	    " (id);\n\n"
	    "SET default_tablespace = fast;\n\n"
	    "CREATE INDEX a_v ON public.a USING btree (v) WHERE (v <> "
	    "'x;\\y');\n\n"
	    "/* a comment; */ CREATE INDEX a_w ON public.a (w);\n"
	    "CREATE RULE r AS ON INSERT TO public.a DO ALSO (SELECT 1; "
	    "SELECT 2);\n" TAIL, &n), 0);
	assert_int_equal(n, 3);
	/* A psql command of its own, or none of pg_dump's. */
	assert_int_equal(plan(HEAD "CREATE INDEX a ON b (c);\n"
	    "\\connect other\nCREATE INDEX d ON e (f);\n" TAIL, &n), 1);
	assert_int_equal(plan(HEAD "CREATE INDEX a ON b (c) \\g\n" TAIL, &n),
	    1);
	assert_int_equal(plan(HEAD "\\! touch x\n" TAIL, &n), 1);
	/* COPY data, a function, a transaction. */
	assert_int_equal(plan(HEAD "COPY a (b) FROM stdin;\n1\n\\.\n" TAIL,
	    &n), 1);
	assert_int_equal(plan(HEAD "BEGIN;\nCREATE INDEX a ON b (c);\n"
	    "COMMIT;\n" TAIL, &n), 1);
	/* Cut off inside a statement, or a quote. */
	assert_int_equal(plan(HEAD "CREATE INDEX a ON b (c)\n", &n), 1);
	assert_int_equal(plan(HEAD "CREATE INDEX a ON b (c) WHERE d = 'x;\n",
	    &n), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builds_are_told_apart),
		cmocka_unit_test(test_settings_and_the_unsure),
		cmocka_unit_test(test_a_build_names_its_table_and_kind),
		cmocka_unit_test(test_scripts_are_taken_apart_only_when_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
