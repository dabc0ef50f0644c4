/* test_docker.c - where the client programs run, and how docker exec is
 * called: names of variables, never their values. */
#include "autoconf.h"

#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "docker.h"
#include "io.h"
#include "pg.h"
#include "tmpdir.h"

/* Writes an executable shell script BODY into DIR/NAME; its path goes
 * to OUT. */
static void
script(const char *name, const char *body, char *out, size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(out, 0755), 0);
}

static void
test_exec_argv_passes_names_only(void **state)
{
	struct config c;
	struct spawn_cmd cmd;
	char *envp[] = { "PATH=/usr/bin", "PGHOST=db", "PGPASSWORD=s3cret",
		"PGUSER=polarity", "HOME=/root", NULL };
	char *args[] = { "psql", "-X", "-q", NULL };
	const char *want[] = { "podman", "--remote", "exec", "-i", "-e",
		"PGHOST", "-e", "PGUSER", "-e", "PGPASSWORD", "pgbox", "psql",
		"-X", "-q", NULL };
	size_t i;

	(void)state;
	config_init(&c);
	snprintf(c.docker, sizeof c.docker, "podman --remote");
	assert_int_equal(docker_exec_argv(&cmd, &c, "pgbox", envp, args), 0);
	for (i = 0; want[i]; i++) {
		assert_non_null(cmd.argv[i]);
		assert_string_equal(cmd.argv[i], want[i]);
	}
	assert_null(cmd.argv[i]);
	for (i = 0; cmd.argv[i]; i++) {
		assert_null(strstr(cmd.argv[i], "s3cret"));
		assert_null(strchr(cmd.argv[i], '='));
		/* Never a terminal: it would turn \n into \r\n. */
		assert_string_not_equal(cmd.argv[i], "-t");
	}
}

static void
test_exec_argv_refuses_a_bad_docker_command(void **state)
{
	struct config c;
	struct spawn_cmd cmd;
	char *envp[] = { NULL };
	char *args[] = { "psql", NULL };

	(void)state;
	config_init(&c);
	snprintf(c.docker, sizeof c.docker, "docker 'unclosed");
	assert_int_equal(docker_exec_argv(&cmd, &c, "db", envp, args), -1);
}

static void
test_pick_name_before_service(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(docker_pick("app-db-1\tdb\nweb\t\ndb\t\n", "db", name,
	    sizeof name), 1);
	assert_string_equal(name, "db");
	assert_int_equal(docker_pick("app-db-1\tdb\nweb\t\n", "db", name,
	    sizeof name), 1);
	assert_string_equal(name, "app-db-1");
	assert_int_equal(docker_pick("polarity_platform_local_postgres\t\n",
	    "polarity_platform_local_postgres", name, sizeof name), 1);
	assert_string_equal(name, "polarity_platform_local_postgres");
	/* A prefix is not a match, nor is an empty list. */
	assert_int_equal(docker_pick("dbx\t\nxdb\tdbx\n", "db", name,
	    sizeof name), 0);
	assert_int_equal(docker_pick("", "db", name, sizeof name), 0);
}

/* docker_locate() with --db-container SETTING, the host HOST and the
 * fake docker BODY (NULL: none); returns its result, NAME and WHY/ERR. */
static int
locate(const char *setting, const char *host, const char *body, char *name,
    size_t len, char *msg, size_t mlen)
{
	struct config c;
	struct db db = { host, "5432", "u", "p", "d", NULL, NULL };
	char why[512], err[1024], path[PATH_MAX];
	int rc;

	config_init(&c);
	snprintf(c.db_container, sizeof c.db_container, "%s", setting);
	if (body != NULL) {
		script("docker", body, path, sizeof path);
		snprintf(c.docker, sizeof c.docker, "%s", path);
	} else {
		snprintf(c.docker, sizeof c.docker, "%s/none", dir);
	}
	rc = docker_locate(&c, &db, name, len, why, sizeof why, err,
	    sizeof err);
	snprintf(msg, mlen, "%s", rc == 0 ? why : err);
	return rc;
}

static void
test_locate_none_and_name(void **state)
{
	char name[256], msg[1024];

	(void)state;
	assert_int_equal(locate("none", "db.invalid", NULL, name, sizeof name,
	    msg, sizeof msg), 0);
	assert_string_equal(name, "");
	assert_non_null(strstr(msg, "--db-container none"));
	assert_int_equal(locate("pg1", "localhost", NULL, name, sizeof name,
	    msg, sizeof msg), 0);
	assert_string_equal(name, "pg1");
	assert_non_null(strstr(msg, "container 'pg1' (as --db-container"));
}

static void
test_locate_auto_takes_this_host_when_it_resolves(void **state)
{
	char name[256], msg[1024];

	(void)state;
	/* docker is never asked: the fake would fail the test. */
	assert_int_equal(locate("auto", "127.0.0.1", "exit 9\n", name,
	    sizeof name, msg, sizeof msg), 0);
	assert_string_equal(name, "");
	assert_non_null(strstr(msg, "'127.0.0.1' resolves here"));
	assert_int_equal(locate("auto", "/var/run/postgresql", "exit 9\n",
	    name, sizeof name, msg, sizeof msg), 0);
	assert_string_equal(name, "");
	assert_non_null(strstr(msg, "socket folder"));
}

static void
test_locate_auto_finds_the_container(void **state)
{
	char name[256], msg[1024];

	(void)state;
	assert_int_equal(locate("auto", "pgdb.invalid",
	    "[ \"$1\" = ps ] || exit 9\n"
	    "printf 'web\\t\\nproject-pg-1\\tpgdb.invalid\\n'\n", name,
	    sizeof name, msg, sizeof msg), 0);
	assert_string_equal(name, "project-pg-1");
	assert_non_null(strstr(msg, "resolves only inside containers"));
}

static void
test_locate_auto_says_what_to_do(void **state)
{
	char name[256], msg[1024];

	(void)state;
	assert_int_equal(locate("auto", "pgdb.invalid",
	    "printf 'web\\t\\n'\n", name, sizeof name, msg, sizeof msg), -1);
	assert_string_equal(msg, "POLARITY_DB_HOST 'pgdb.invalid' resolves "
	    "nowhere on this host and no running container has that name: "
	    "start the database container, or give --db-container NAME");
	assert_int_equal(locate("auto", "pgdb.invalid",
	    "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n", name,
	    sizeof name, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "docker does not answer ('docker' "
	    "exited with status 1: Cannot connect to the Docker daemon)"));
	assert_int_equal(locate("auto", "pgdb.invalid", NULL, name,
	    sizeof name, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "docker does not answer (cannot run"));
}

/* A fake docker that records its argv and PGPASSWORD, then answers as
 * pg_dump --version would, or fails as psql would. */
static void
test_programs_run_in_the_container(void **state)
{
	struct config c;
	struct db db = { "pgdb", "5432", "u", "pa ss'word", "d", NULL,
		"box1" };
	struct pg pg;
	struct pg_session s;
	char path[PATH_MAX], body[1024], err[1024], text[64], *log;
	int num;

	(void)state;
	snprintf(body, sizeof body,
	    "echo \"$*\" >>%s/argv\n"
	    "echo \"$PGPASSWORD\" >>%s/pw\n"
	    "case \"$*\" in *' pg_dump --version') "
	    "echo 'pg_dump (PostgreSQL) 16.2'; exit 0;; esac\n"
	    "echo 'psql: error: connection refused' >&2; exit 2\n", dir, dir);
	script("docker", body, path, sizeof path);
	config_init(&c);
	snprintf(c.docker, sizeof c.docker, "%s", path);
	snprintf(c.pg_bindir, sizeof c.pg_bindir, "/nonexistent");
	assert_int_equal(pg_init(&pg, &c, &db), 0);
	assert_string_equal(pg_where(&pg), "box1");
	assert_int_equal(pg_client_version(&pg, "pg_dump", &num, text,
	    sizeof text, err, sizeof err), 0);
	assert_int_equal(num, 160002);
	assert_string_equal(text, "16.2");
	assert_int_equal(pg_session_open(&pg, &s, err, sizeof err), 0);
	assert_int_equal(pg_session_query(&s, "SELECT 1;", text, sizeof text,
	    err, sizeof err), -1);
	assert_string_equal(err, "'psql' in container 'box1' exited with "
	    "status 2: psql: error: connection refused");
	pg_free(&pg);

	snprintf(path, sizeof path, "%s/argv", dir);
	log = io_slurp(AT_FDCWD, path, 1 << 16, 0);
	assert_non_null(log);
	/* --pg-bindir is for this host only; the names go, not values. */
	assert_non_null(strstr(log, "exec -i -e PGHOST -e PGPORT -e PGUSER "
	    "-e PGPASSWORD -e PGDATABASE -e PGAPPNAME -e PGCONNECT_TIMEOUT "
	    "box1 pg_dump --version\n"));
	assert_non_null(strstr(log, " box1 psql -X -A -t -q --no-password "
	    "-v ON_ERROR_STOP=1\n"));
	assert_null(strstr(log, "pa ss"));
	assert_null(strstr(log, "nonexistent"));
	free(log);
	snprintf(path, sizeof path, "%s/pw", dir);
	log = io_slurp(AT_FDCWD, path, 1 << 16, 0);
	assert_non_null(log);
	assert_string_equal(log, "pa ss'word\npa ss'word\n");
	free(log);
}

static void
test_empty_settings_are_refused(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_init(&c);
	assert_string_equal(c.db_container, "auto");
	assert_string_equal(c.docker, "docker");
	assert_int_equal(config_set(&c, "db-container", "", err, sizeof err),
	    0);
	assert_int_equal(config_resolve(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "db-container takes"));
	config_init(&c);
	assert_int_equal(config_set(&c, "docker", "", err, sizeof err), 0);
	assert_int_equal(config_resolve(&c, err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_argv_passes_names_only),
		cmocka_unit_test(test_exec_argv_refuses_a_bad_docker_command),
		cmocka_unit_test(test_pick_name_before_service),
		cmocka_unit_test_setup_teardown(test_locate_none_and_name,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_locate_auto_takes_this_host_when_it_resolves,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_locate_auto_finds_the_container,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_locate_auto_says_what_to_do,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_programs_run_in_the_container,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_empty_settings_are_refused),
	};

	/* As the program does: a psql that is gone shows as EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
