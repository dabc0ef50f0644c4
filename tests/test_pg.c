/* test_pg.c - the children's environment and the version rule. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakepsql.h"
#include "pg.h"

static const char *
env_value(char **envp, const char *key)
{
	size_t n = strlen(key);

	for (; *envp; envp++)
		if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void
test_environment_carries_the_connection(void **state)
{
	struct config c;
	struct db db = { "db.example", "6543", "polarity", "p a;ss$",
		"polarity", "require", NULL };
	struct pg pg;

	(void)state;
	config_init(&c);
	setenv("PGPASSWORD", "from-the-caller", 1);
	setenv("SECRET_OF_THE_CALLER", "x", 1);
	setenv("LANG", "C.UTF-8", 1);
	assert_int_equal(pg_init(&pg, &c, &db), 0);
	assert_string_equal(env_value(pg.envp, "PGHOST"), "db.example");
	assert_string_equal(env_value(pg.envp, "PGPORT"), "6543");
	assert_string_equal(env_value(pg.envp, "PGUSER"), "polarity");
	assert_string_equal(env_value(pg.envp, "PGPASSWORD"), "p a;ss$");
	assert_string_equal(env_value(pg.envp, "PGDATABASE"), "polarity");
	assert_string_equal(env_value(pg.envp, "PGSSLMODE"), "require");
	assert_string_equal(env_value(pg.envp, "LANG"), "C.UTF-8");
	assert_non_null(env_value(pg.envp, "PATH"));
	assert_non_null(env_value(pg.envp, "PGCONNECT_TIMEOUT"));
	/* Nothing of ours beyond the whitelist, and one PGPASSWORD only. */
	assert_null(env_value(pg.envp, "SECRET_OF_THE_CALLER"));
	int passwords = 0;
	for (char **p = pg.envp; *p; p++)
		passwords += strncmp(*p, "PGPASSWORD=", 11) == 0;
	assert_int_equal(passwords, 1);
	pg_free(&pg);
	assert_null(pg.envp);
}

static void
test_no_sslmode_unless_set(void **state)
{
	struct config c;
	struct db db = { "h", "1", "u", "", "d", NULL, NULL };
	struct pg pg;

	(void)state;
	config_init(&c);
	assert_int_equal(pg_init(&pg, &c, &db), 0);
	assert_null(env_value(pg.envp, "PGSSLMODE"));
	assert_string_equal(env_value(pg.envp, "PGPASSWORD"), "");
	pg_free(&pg);
}

static void
test_pg_dump_major_must_reach_the_server(void **state)
{
	(void)state;
	assert_true(pg_dump_can_dump(150018, 150002));
	assert_true(pg_dump_can_dump(150002, 150018));	/* minor: fine */
	assert_true(pg_dump_can_dump(160001, 150018));	/* newer: fine */
	assert_false(pg_dump_can_dump(140009, 150018));
	assert_false(pg_dump_can_dump(90624, 100001));
}

static void
test_quote_ident_and_literal(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(pg_quote_ident("plain", out, sizeof out), 0);
	assert_string_equal(out, "\"plain\"");
	assert_int_equal(pg_quote_ident("Mixed \"Case\"; drop", out,
	    sizeof out), 0);
	assert_string_equal(out, "\"Mixed \"\"Case\"\"; drop\"");
	assert_int_equal(pg_quote_literal("it's \\ ok", out, sizeof out), 0);
	assert_string_equal(out, "'it''s \\ ok'");
	assert_int_equal(pg_quote_ident("toolongforthis", out, 8), -1);
}

static void
test_parse_ident(void **state)
{
	char out[64];
	const char *rest;

	(void)state;
	rest = pg_parse_ident("Polarity_Reader;", out, sizeof out);
	assert_non_null(rest);
	assert_string_equal(out, "polarity_reader");
	assert_string_equal(rest, ";");
	rest = pg_parse_ident("\"Mixed \"\"Case\"\" Owner\" WITH", out,
	    sizeof out);
	assert_non_null(rest);
	assert_string_equal(out, "Mixed \"Case\" Owner");
	assert_string_equal(rest, " WITH");
	assert_null(pg_parse_ident("\"unterminated", out, sizeof out));
	assert_null(pg_parse_ident("\"\"", out, sizeof out));
	assert_null(pg_parse_ident("1abc", out, sizeof out));
	assert_null(pg_parse_ident(";", out, sizeof out));
}

static void
test_missing_role_from_psql_error(void **state)
{
	char role[64];

	(void)state;
	assert_true(pg_missing_role("psql:/x/1-pre-data.sql:42: ERROR:  role "
	    "\"app_owner\" does not exist\n", role, sizeof role));
	assert_string_equal(role, "app_owner");
	assert_true(pg_missing_role("ERROR:  role \"we\"ird\" does not exist",
	    role, sizeof role));
	assert_string_equal(role, "we\"ird");
	assert_false(pg_missing_role("ERROR:  relation \"t\" does not exist",
	    role, sizeof role));
	assert_false(pg_missing_role("", role, sizeof role));
}

/* The newest /usr/lib/postgresql/V/bin/PROG, as a listing finds it, in
 * OUT; 0 when there is none. */
static int
newest(const char *prog, char *out, size_t len)
{
	unsigned long best = 0;
	struct dirent *e;
	DIR *d = opendir("/usr/lib/postgresql");

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char cand[PATH_MAX];
		unsigned long v;
		unsigned major, minor = 0;
		if (sscanf(e->d_name, "%u.%u", &major, &minor) < 1)
			continue;
		v = major * 1000UL + minor + 1;
		snprintf(cand, sizeof cand, "/usr/lib/postgresql/%s/bin/%s",
		    e->d_name, prog);
		if (v > best && access(cand, X_OK) == 0) {
			best = v;
			snprintf(out, len, "%s", cand);
		}
	}
	closedir(d);
	return best > 0;
}

static void
test_debian_wrapper_is_run_through(void **state)
{
	char out[PATH_MAX], want[PATH_MAX], dir[] = "/tmp/test_pg.XXXXXX";
	char path[PATH_MAX + 8], link[PATH_MAX], *env[2] = { path, NULL };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "PATH=%s", dir);
	/* A program of that name that is not the wrapper: run as it is. */
	snprintf(link, sizeof link, "%s/psql", dir);
	assert_int_equal(symlink("/bin/true", link), 0);
	assert_int_equal(pg_unwrap("psql", env, out, sizeof out), -1);
	assert_int_equal(unlink(link), 0);
	/* Not on PATH at all. */
	assert_int_equal(pg_unwrap("psql", env, out, sizeof out), -1);
	/* Debian's wrapper: the newest version's own program. */
	if (access("/usr/share/postgresql-common/pg_wrapper", X_OK) == 0 &&
	    newest("psql", want, sizeof want)) {
		assert_int_equal(symlink("/usr/share/postgresql-common/"
		    "pg_wrapper", link), 0);
		assert_int_equal(pg_unwrap("psql", env, out, sizeof out), 0);
		assert_string_equal(out, want);
		assert_int_equal(unlink(link), 0);
		/* No version has the program: run as it is. */
		snprintf(link, sizeof link, "%s/polarity-none", dir);
		assert_int_equal(symlink("/usr/share/postgresql-common/"
		    "pg_wrapper", link), 0);
		assert_int_equal(pg_unwrap("polarity-none", env, out,
		    sizeof out), -1);
		assert_int_equal(unlink(link), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* After pg_session_hangup(), psql quits on its own (its input ended)
 * while the caller goes on; pg_session_close() then finds it ended well. */
static void
test_hangup_lets_psql_quit(void **state)
{
	char dir[] = "/tmp/test_pg.XXXXXX", out[64], err[256];
	struct config c;
	struct pg pg;
	struct pg_session s;
	siginfo_t si;
	int waited;

	(void)state;
	fake_open(dir, &c, &pg, &s);
	assert_int_equal(pg_session_query(&s, "SELECT 1;", out, sizeof out,
	    err, sizeof err), 0);
	pg_session_hangup(&s);
	/* Seen to end without being reaped, for up to 10 s. */
	for (waited = 0; waited < 1000; waited++) {
		memset(&si, 0, sizeof si);
		assert_int_equal(waitid(P_PID, (id_t)s.c.pid, &si, WEXITED |
		    WNOHANG | WNOWAIT), 0);
		if (si.si_pid != 0)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 },
		    NULL);
	}
	assert_true(si.si_pid == s.c.pid);
	assert_int_equal(si.si_code, CLD_EXITED);
	assert_int_equal(pg_session_close(&s, err, sizeof err), 0);
	fake_close(dir, &pg, &s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_carries_the_connection),
		cmocka_unit_test(test_no_sslmode_unless_set),
		cmocka_unit_test(test_pg_dump_major_must_reach_the_server),
		cmocka_unit_test(test_quote_ident_and_literal),
		cmocka_unit_test(test_parse_ident),
		cmocka_unit_test(test_missing_role_from_psql_error),
		cmocka_unit_test(test_debian_wrapper_is_run_through),
		cmocka_unit_test(test_hangup_lets_psql_quit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
