/* test_sqllex.c - where psql's lexer ends statements and sees commands. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sqllex.h"

/* Lexes SCRIPT; writes into OUT, one per event, the offset just past the
 * semicolon of each statement ("E12 ") and the name of each psql command
 * ("M12:name "), and the state at the end ("S0"). */
static void
lex(const char *script, int nonstd, char *out, size_t len)
{
	struct sqllex x;
	size_t n = 0;

	memset(&x, 0, sizeof x);
	x.nonstd = nonstd;
	out[0] = '\0';
	for (size_t i = 0; script[i]; i++) {
		enum sqllex_event ev;
		if (script[i] == '\n') {
			ev = sqllex_line_end(&x);
		} else {
			ev = sqllex_byte(&x, (unsigned char)script[i]);
		}
		if (ev == SQLLEX_END)
			n += (size_t)snprintf(out + n, len - n, "E%zu ", i + 1);
		else if (ev == SQLLEX_META_END)
			n += (size_t)snprintf(out + n, len - n, "M%zu:%s ", i,
			    x.meta);
		if (script[i] == '\n')
			sqllex_next_line(&x);
	}
	snprintf(out + n, len - n, "S%d", (int)x.state);
}

static void
test_semicolons_end_statements_outside_quotes(void **state)
{
	char out[256];

	(void)state;
	lex("SELECT 1; SELECT 2;\n", 0, out, sizeof out);
	assert_string_equal(out, "E9 E19 S0");
	/* Quotes, doubled quotes, identifiers, comments. */
	lex("SELECT 'a;b''c;', \"x;\"\"y\"; -- no; end\nSELECT /* a; /* b; */"
	    " c; */ 1;\n", 0, out, sizeof out);
	assert_string_equal(out, "E26 E68 S0");
	/* Dollar quotes, with and without a tag; $1 is no quote. */
	lex("CREATE FUNCTION f() AS $$ a; $x$ $$; SELECT $1; SELECT "
	    "$t$;$$;$t$;\n", 0, out, sizeof out);
	assert_string_equal(out, "E36 E47 E66 S0");
	/* E'' strings take backslash escapes; plain ones only when
	 * standard_conforming_strings is off. */
	lex("SELECT E'\\';', 'x\\';\n", 0, out, sizeof out);
	assert_string_equal(out, "E20 S0");
	lex("SELECT 'x\\';';\n", 1, out, sizeof out);
	assert_string_equal(out, "E14 S0");
	/* A word ending in e is no E'' prefix. */
	lex("SELECT some'\\';\n", 0, out, sizeof out);
	assert_string_equal(out, "E15 S0");
}

static void
test_parentheses_hold_semicolons(void **state)
{
	char out[256];

	(void)state;
	lex("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a "
	    "VALUES (1); DELETE FROM b);\nSELECT 2;\n", 0, out, sizeof out);
	assert_string_equal(out, "E82 E92 S0");
	/* A stray closing parenthesis does not hold the next ones. */
	lex("SELECT 1); SELECT 2;\n", 0, out, sizeof out);
	assert_string_equal(out, "E10 E20 S0");
}

static void
test_psql_commands_are_seen(void **state)
{
	char out[256];

	(void)state;
	lex("\\restrict KEY;\nSELECT 1;\n\\connect x\n\\!\n", 0, out,
	    sizeof out);
	assert_string_equal(out, "M9:restrict E24 M33:connect M37:! S0");
	/* A backslash inside quotes is no command; the end of a line ends
	 * the name. */
	lex("SELECT '\\x';\n\\unrestrict\n", 0, out, sizeof out);
	assert_string_equal(out, "E12 M24:unrestrict S0");
	/* A script that ends inside a quote says so. */
	lex("SELECT 'open;\n", 0, out, sizeof out);
	assert_string_equal(out, "S3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semicolons_end_statements_outside_quotes),
		cmocka_unit_test(test_parentheses_hold_semicolons),
		cmocka_unit_test(test_psql_commands_are_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
