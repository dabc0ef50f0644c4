/* test_dotenv.c - the .env reader gives values exactly as a shell would. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotenv.h"

static struct dotenv env;
static char err[512];

/* Parses the LEN bytes of TEXT; returns dotenv_parse()'s result. */
static int
parse_n(const char *text, size_t len)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, len, "r");
	int rc;

	assert_non_null(f);
	dotenv_free(&env);
	err[0] = '\0';
	rc = dotenv_parse(&env, f, "test.env", err, sizeof err);
	fclose(f);
	return rc;
}

static int
parse(const char *text)
{
	return parse_n(text, strlen(text));
}

static int
teardown(void **state)
{
	(void)state;
	dotenv_free(&env);
	return 0;
}

static void
test_plain_assignments(void **state)
{
	(void)state;
	assert_int_equal(parse("A=1\nB=two\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
	assert_string_equal(dotenv_get(&env, "B"), "two");
	assert_null(dotenv_get(&env, "C"));
}

static void
test_export_prefix(void **state)
{
	(void)state;
	assert_int_equal(parse("export A=1\n  export\tB=2\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
	assert_string_equal(dotenv_get(&env, "B"), "2");
}

static void
test_comments_and_blank_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("# comment\n\n; ini comment\n[section]\n"
	    "A=1 # trailing comment\nB=x#y\nC=#z\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
	assert_string_equal(dotenv_get(&env, "B"), "x#y");
	assert_string_equal(dotenv_get(&env, "C"), "#z");
	assert_int_equal(env.n, 3);
}

static void
test_semicolons_are_not_comments(void **state)
{
	(void)state;
	assert_int_equal(parse("A=x ;y\nB=x;y\nC='a ; b'\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "x ;y");
	assert_string_equal(dotenv_get(&env, "B"), "x;y");
	assert_string_equal(dotenv_get(&env, "C"), "a ; b");
}

static void
test_single_quotes_are_literal(void **state)
{
	(void)state;
	assert_int_equal(parse("P='a b;c#d$e=f\"g\\h'\n"), 0);
	assert_string_equal(dotenv_get(&env, "P"), "a b;c#d$e=f\"g\\h");
}

static void
test_double_quotes_escape_and_expand(void **state)
{
	(void)state;
	assert_int_equal(parse("U=bob\nA=\"x \\\"y\\\" \\$z \\\\ $U ${U}s\"\n"
	    "B=\"\\n stays\"\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "x \"y\" $z \\ bob bobs");
	assert_string_equal(dotenv_get(&env, "B"), "\\n stays");
}

static void
test_unquoted_backslash_and_dollar(void **state)
{
	(void)state;
	assert_int_equal(parse("U=u\nA=a\\ b\\#c$U\nB=cost$\nC=$1x\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "a b#cu");
	assert_string_equal(dotenv_get(&env, "B"), "cost$");
	assert_string_equal(dotenv_get(&env, "C"), "$1x");
}

static void
test_unset_variable_expands_to_nothing(void **state)
{
	(void)state;
	unsetenv("POLARITY_TEST_UNSET");
	assert_int_equal(parse("A=\"x${POLARITY_TEST_UNSET}y\"\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "xy");
}

static void
test_concatenated_quotes(void **state)
{
	(void)state;
	assert_int_equal(parse("A='it'\\''s'\"  \"two\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "it's  two");
}

static void
test_empty_values(void **state)
{
	(void)state;
	assert_int_equal(parse("A=\nB=''\nC=\"\"\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "");
	assert_string_equal(dotenv_get(&env, "B"), "");
	assert_string_equal(dotenv_get(&env, "C"), "");
}

static void
test_indented_line_is_not_a_continuation(void **state)
{
	(void)state;
	/* libinih on its own would append an indented line to A. */
	assert_int_equal(parse("A=1\n    B=2\n\tC = 3\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
	assert_string_equal(dotenv_get(&env, "B"), "2");
	assert_null(dotenv_get(&env, "C"));
}

static void
test_spaces_inside_unquoted_value(void **state)
{
	(void)state;
	assert_int_equal(parse("A=two words  \nB=  lead\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "two words");
	assert_string_equal(dotenv_get(&env, "B"), "lead");
}

static void
test_long_values_survive(void **state)
{
	char text[20100], want[20001];

	(void)state;
	for (size_t i = 0; i < sizeof want - 1; i++)
		want[i] = "a;b #c=d$"[i % 8];
	want[sizeof want - 1] = '\0';
	snprintf(text, sizeof text, "LONG='%s'\nNEXT=1\n", want);
	assert_int_equal(parse(text), 0);
	assert_string_equal(dotenv_get(&env, "LONG"), want);
	assert_string_equal(dotenv_get(&env, "NEXT"), "1");
}

static void
test_password_of_300_characters(void **state)
{
	char text[512], want[301];

	(void)state;
	for (size_t i = 0; i < 300; i++)
		want[i] = (char)('!' + (i * 7) % 90);
	want[300] = '\0';
	/* Single quotes cannot hold a quote: keep it out of this one. */
	for (size_t i = 0; i < 300; i++)
		if (want[i] == '\'')
			want[i] = 'Q';
	snprintf(text, sizeof text, "POLARITY_DB_PASSWORD='%s'\n", want);
	assert_int_equal(parse(text), 0);
	assert_string_equal(dotenv_get(&env, "POLARITY_DB_PASSWORD"), want);
}

static void
test_crlf_line_endings(void **state)
{
	(void)state;
	assert_int_equal(parse("A=1\r\nB='x y'\r\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
	assert_string_equal(dotenv_get(&env, "B"), "x y");
}

static void
test_no_final_newline(void **state)
{
	(void)state;
	assert_int_equal(parse("A=1\nB=last"), 0);
	assert_string_equal(dotenv_get(&env, "B"), "last");
}

static void
test_byte_order_mark(void **state)
{
	(void)state;
	assert_int_equal(parse("\xef\xbb\xbf" "A=1\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "1");
}

static void
test_nul_bytes_are_dropped(void **state)
{
	static const char text[] = "A=x\0y\nB=2\n";

	(void)state;
	assert_int_equal(parse_n(text, sizeof text - 1), 0);
	assert_string_equal(dotenv_get(&env, "A"), "xy");
	assert_string_equal(dotenv_get(&env, "B"), "2");
}

static void
test_last_duplicate_wins(void **state)
{
	(void)state;
	assert_int_equal(parse("A=first\nB=b\nA=second\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "second");
	assert_int_equal(env.n, 2);
}

static void
test_quoted_value_over_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("A=\"one\ntwo\"\nB='x\ny'\nC=1\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "one\ntwo");
	assert_string_equal(dotenv_get(&env, "B"), "x\ny");
	assert_string_equal(dotenv_get(&env, "C"), "1");
}

static void
test_backslash_newline_continues(void **state)
{
	(void)state;
	assert_int_equal(parse("A=one\\\ntwo\nB=2\n"), 0);
	assert_string_equal(dotenv_get(&env, "A"), "onetwo");
	assert_string_equal(dotenv_get(&env, "B"), "2");
}

static void
test_unterminated_quote_is_an_error(void **state)
{
	(void)state;
	assert_int_equal(parse("A=1\nB='open\nC=3\n"), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "test.env"));
	assert_non_null(strstr(err, "line 2"));
}

static void
test_missing_file_names_it(void **state)
{
	(void)state;
	dotenv_free(&env);
	assert_int_equal(dotenv_read(&env, "/nonexistent/dir/.env", err,
	    sizeof err), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "cannot read '/nonexistent/dir/.env': No "
	    "such file or directory");
}

static void
test_reads_a_real_file(void **state)
{
	char path[] = "/tmp/test_dotenv.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "X='y z'\n", 8), 8);
	close(fd);
	dotenv_free(&env);
	assert_int_equal(dotenv_read(&env, path, err, sizeof err), 0);
	unlink(path);
	assert_string_equal(dotenv_get(&env, "X"), "y z");
}

static const char *const dbkeys[] = { "POLARITY_DB_HOST",
	"POLARITY_DB_PASSWORD", "POLARITY_DB_DATABASE", "PGSSLMODE", NULL };

/* Merges LIVE with ARCH and checks the result is WANT. */
static void
merge_is(const char *live, const char *arch, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(dotenv_merge(live, strlen(live), arch, strlen(arch),
	    dbkeys, &out, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	free(out);
}

static void
test_merge_replaces_only_the_db_lines(void **state)
{
	(void)state;
	merge_is("# live settings\nA=1\nPOLARITY_DB_HOST=old  # here\n"
	    "  B='x;y'\nPOLARITY_DB_PASSWORD=\"old pw\"\nZ=last\n",
	    "POLARITY_DB_PASSWORD='new $pw'\nOTHER=ignored\n"
	    "export POLARITY_DB_HOST=db.new\n",
	    "# live settings\nA=1\nexport POLARITY_DB_HOST=db.new\n"
	    "  B='x;y'\nPOLARITY_DB_PASSWORD='new $pw'\nZ=last\n");
}

static void
test_merge_keeps_keys_the_archive_lacks(void **state)
{
	(void)state;
	merge_is("PGSSLMODE=require\nPOLARITY_DB_HOST=a\n",
	    "POLARITY_DB_HOST=b\n",
	    "PGSSLMODE=require\nPOLARITY_DB_HOST=b\n");
}

static void
test_merge_appends_keys_live_lacks(void **state)
{
	(void)state;
	merge_is("A=1", "POLARITY_DB_DATABASE=polarity\nPGSSLMODE=verify-full\n",
	    "A=1\nPOLARITY_DB_DATABASE=polarity\nPGSSLMODE=verify-full\n");
	merge_is("", "POLARITY_DB_HOST=h\n", "POLARITY_DB_HOST=h\n");
}

static void
test_merge_takes_the_last_archive_line(void **state)
{
	(void)state;
	merge_is("POLARITY_DB_HOST=live\n",
	    "POLARITY_DB_HOST=first\nPOLARITY_DB_HOST=second\n",
	    "POLARITY_DB_HOST=second\n");
}

static void
test_merge_multiline_values_whole(void **state)
{
	(void)state;
	merge_is("POLARITY_DB_PASSWORD='two\nlines'\nA=1\n",
	    "POLARITY_DB_PASSWORD=\"new\nvalue\"\n",
	    "POLARITY_DB_PASSWORD=\"new\nvalue\"\nA=1\n");
}

static void
test_merge_keeps_crlf_and_duplicates(void **state)
{
	(void)state;
	merge_is("POLARITY_DB_HOST=a\r\nX=1\r\nPOLARITY_DB_HOST=b\r\n",
	    "POLARITY_DB_HOST=new\n",
	    "POLARITY_DB_HOST=new\r\nX=1\r\nPOLARITY_DB_HOST=new\r\n");
}

static void
test_merged_text_reads_back(void **state)
{
	char *out = NULL;
	size_t len = 0;
	const char *live = "A='keep me'\nPOLARITY_DB_PASSWORD=old\n";
	const char *arch = "POLARITY_DB_PASSWORD='p a;ss #wo$rd'\n";

	(void)state;
	assert_int_equal(dotenv_merge(live, strlen(live), arch, strlen(arch),
	    dbkeys, &out, &len), 0);
	assert_int_equal(parse_n(out, len), 0);
	assert_string_equal(dotenv_get(&env, "POLARITY_DB_PASSWORD"),
	    "p a;ss #wo$rd");
	assert_string_equal(dotenv_get(&env, "A"), "keep me");
	free(out);
}

static void
test_replace_is_atomic_and_keeps_mode(void **state)
{
	char dir[] = "/tmp/test_dotenv_dir.XXXXXX", path[64], keep[80];
	char buf[64];
	struct stat st;
	int fd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/.env", dir);
	snprintf(keep, sizeof keep, "%s/.env.before", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "OLD=1\n", 6), 6);
	close(fd);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(dotenv_replace(path, "NEW=2\n", 6, keep, err,
	    sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "NEW=2\n");
	fd = open(keep, O_RDONLY);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "OLD=1\n");
	/* No temporary file is left beside it. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(keep), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_replace_failure_leaves_the_file(void **state)
{
	(void)state;
	assert_int_equal(dotenv_replace("/nonexistent/dir/.env", "X", 1, NULL,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot write '/nonexistent/dir/.env'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_assignments),
		cmocka_unit_test(test_export_prefix),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_semicolons_are_not_comments),
		cmocka_unit_test(test_single_quotes_are_literal),
		cmocka_unit_test(test_double_quotes_escape_and_expand),
		cmocka_unit_test(test_unquoted_backslash_and_dollar),
		cmocka_unit_test(test_unset_variable_expands_to_nothing),
		cmocka_unit_test(test_concatenated_quotes),
		cmocka_unit_test(test_empty_values),
		cmocka_unit_test(test_indented_line_is_not_a_continuation),
		cmocka_unit_test(test_spaces_inside_unquoted_value),
		cmocka_unit_test(test_long_values_survive),
		cmocka_unit_test(test_password_of_300_characters),
		cmocka_unit_test(test_crlf_line_endings),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_nul_bytes_are_dropped),
		cmocka_unit_test(test_last_duplicate_wins),
		cmocka_unit_test(test_quoted_value_over_lines),
		cmocka_unit_test(test_backslash_newline_continues),
		cmocka_unit_test(test_unterminated_quote_is_an_error),
		cmocka_unit_test(test_missing_file_names_it),
		cmocka_unit_test(test_reads_a_real_file),
		cmocka_unit_test(test_merge_replaces_only_the_db_lines),
		cmocka_unit_test(test_merge_keeps_keys_the_archive_lacks),
		cmocka_unit_test(test_merge_appends_keys_live_lacks),
		cmocka_unit_test(test_merge_takes_the_last_archive_line),
		cmocka_unit_test(test_merge_multiline_values_whole),
		cmocka_unit_test(test_merge_keeps_crlf_and_duplicates),
		cmocka_unit_test(test_merged_text_reads_back),
		cmocka_unit_test(test_replace_is_atomic_and_keeps_mode),
		cmocka_unit_test(test_replace_failure_leaves_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
