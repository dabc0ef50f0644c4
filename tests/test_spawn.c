/* test_spawn.c - children and pipelines: statuses, messages, plumbing. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "spawn.h"

static char *const envp[] = { "PATH=/usr/bin:/bin", "ONLY_THIS=1", NULL };

/* Runs "sh -c SCRIPT"; returns spawn_wait()'s result, message in MSG. */
static int
run_sh(const char *script, char *msg, size_t len, struct child *c)
{
	char *argv[] = { "sh", "-c", (char *)(uintptr_t)script, NULL };
	int rc;

	assert_int_equal(spawn_start(c, argv, -1, -1, envp), 0);
	rc = spawn_wait(c, msg, len);
	spawn_close(c);
	return rc;
}

static void
test_success_is_zero(void **state)
{
	struct child c;
	char msg[256] = "";

	(void)state;
	assert_int_equal(run_sh("exit 0", msg, sizeof msg, &c), 0);
	assert_int_equal(spawn_exit_code(&c), 0);
	assert_int_equal(c.pid, 0);
}

static void
test_exit_status_and_error_line(void **state)
{
	struct child c;
	char msg[256];

	(void)state;
	assert_int_equal(run_sh("echo starting >&2; echo 'sh: error: it "
	    "broke' >&2; exit 3", msg, sizeof msg, &c), -1);
	assert_int_equal(spawn_exit_code(&c), 3);
	assert_string_equal(msg, "'sh' exited with status 3: sh: error: it "
	    "broke");
}

static void
test_first_line_without_error_word(void **state)
{
	struct child c;
	char msg[256];

	(void)state;
	assert_int_equal(run_sh("printf '\\nfirst\\nsecond\\n' >&2; exit 1",
	    msg, sizeof msg, &c), -1);
	assert_string_equal(msg, "'sh' exited with status 1: first");
}

static void
test_killed_by_signal(void **state)
{
	struct child c;
	char msg[256];

	(void)state;
	assert_int_equal(run_sh("kill -9 $$", msg, sizeof msg, &c), -1);
	assert_int_equal(spawn_exit_code(&c), 128 + 9);
	assert_string_equal(msg, "'sh' was killed by signal 9");
}

static void
test_missing_program(void **state)
{
	struct child c;
	char *argv[] = { "/nonexistent/program", NULL };

	(void)state;
	assert_int_equal(spawn_start(&c, argv, -1, -1, envp), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(c.pid, 0);
	assert_int_equal(c.errfd, -1);
}

static void
test_environment_is_only_what_we_give(void **state)
{
	struct child c;
	char msg[256];

	(void)state;
	setenv("POLARITY_SECRET_TEST", "leak", 1);
	assert_int_equal(run_sh("[ \"$ONLY_THIS\" = 1 ] && "
	    "[ -z \"$POLARITY_SECRET_TEST\" ]", msg, sizeof msg, &c), 0);
}

static void
test_stdin_is_dev_null(void **state)
{
	struct child c;
	char msg[256];

	(void)state;
	/* With our stdin a terminal or pipe, a read would block. */
	assert_int_equal(run_sh("n=$(cat | wc -c); [ \"$n\" -eq 0 ]", msg,
	    sizeof msg, &c), 0);
}

/* Runs a pipeline and returns what the last stage wrote. */
static int
pipeline(char *const *const argvs[], size_t n, char *out, size_t len,
    char *msg, size_t mlen)
{
	struct child c[4];
	int p[2], rc;
	ssize_t got;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(spawn_pipeline(c, n, argvs, -1, p[1], envp), 0);
	close(p[1]);
	got = io_read_full(p[0], out, len - 1);
	close(p[0]);
	assert_true(got >= 0);
	out[got] = '\0';
	rc = spawn_wait_all(c, n, msg, mlen);
	for (size_t i = 0; i < n; i++)
		spawn_close(&c[i]);
	return rc;
}

static void
test_pipeline_passes_data(void **state)
{
	char *a[] = { "printf", "hello pipeline", NULL };
	char *b[] = { "tr", "a-z", "A-Z", NULL };
	char *cc[] = { "rev", NULL };
	char *const *const argvs[] = { a, b, cc };
	char out[64], msg[256];

	(void)state;
	assert_int_equal(pipeline(argvs, 3, out, sizeof out, msg, sizeof msg),
	    0);
	assert_string_equal(out, "ENILEPIP OLLEH");
}

static void
test_pipeline_fails_if_any_stage_fails(void **state)
{
	char *a[] = { "printf", "data", NULL };
	char *b[] = { "sh", "-c", "cat >/dev/null; echo 'middle: error' >&2; "
		"exit 4", NULL };
	char *cc[] = { "cat", NULL };
	char *const *const argvs[] = { a, b, cc };
	char out[64], msg[256];

	(void)state;
	assert_int_equal(pipeline(argvs, 3, out, sizeof out, msg, sizeof msg),
	    -1);
	assert_string_equal(msg, "'sh' exited with status 4: middle: error");
}

static void
test_pipeline_blames_the_cause_not_sigpipe(void **state)
{
	/* yes dies of SIGPIPE because head quit: the failure to report is
	 * the one that made it die, here head's status 5. */
	char *a[] = { "yes", NULL };
	char *b[] = { "sh", "-c", "head -c 10 >/dev/null; exit 5", NULL };
	char *const *const argvs[] = { a, b };
	char out[64], msg[256];

	(void)state;
	assert_int_equal(pipeline(argvs, 2, out, sizeof out, msg, sizeof msg),
	    -1);
	assert_string_equal(msg, "'sh' exited with status 5");
}

static void
test_pipeline_start_failure_cleans_up(void **state)
{
	char *a[] = { "sleep", "30", NULL };
	char *b[] = { "/nonexistent/stage", NULL };
	char *const *const argvs[] = { a, b };
	struct child c[2];

	(void)state;
	assert_int_equal(spawn_pipeline(c, 2, argvs, -1, -1, envp), -1);
	assert_int_equal(errno, ENOENT);
	/* The first stage was killed and reaped. */
	assert_int_equal(c[0].pid, 0);
	assert_true(WIFSIGNALED(c[0].status));
}

static void
test_kill_all_stops_children(void **state)
{
	struct child c;
	char *argv[] = { "sleep", "30", NULL };
	char msg[256];

	(void)state;
	assert_int_equal(spawn_start(&c, argv, -1, -1, envp), 0);
	spawn_kill_all(SIGTERM);
	assert_int_equal(spawn_wait(&c, msg, sizeof msg), -1);
	assert_int_equal(spawn_exit_code(&c), 128 + SIGTERM);
	spawn_close(&c);
}

static void
test_stderr_is_kept_for_the_caller(void **state)
{
	struct child c;
	char msg[256], buf[64];

	(void)state;
	char *argv[] = { "sh", "-c", "echo warning here >&2", NULL };
	assert_int_equal(spawn_start(&c, argv, -1, -1, envp), 0);
	assert_int_equal(spawn_wait(&c, msg, sizeof msg), 0);
	assert_int_equal(spawn_stderr(&c, buf, sizeof buf), 13);
	assert_string_equal(buf, "warning here\n");
	spawn_close(&c);
	assert_int_equal(spawn_stderr(&c, buf, sizeof buf), 0);
}

static void
test_find_uses_the_child_path(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", prog[128], out[256], env[160];
	char *cenv[] = { env, NULL };
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(prog, sizeof prog, "%s/only-here", dir);
	fd = open(prog, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	close(fd);
	snprintf(env, sizeof env, "PATH=/nonexistent:%s", dir);
	assert_int_equal(spawn_find("only-here", cenv, out, sizeof out), 0);
	assert_string_equal(out, prog);
	/* Our own PATH does not have it. */
	assert_int_equal(spawn_find("only-here", envp, out, sizeof out), -1);
	assert_int_equal(errno, ENOENT);
	/* Not executable: EACCES, the way exec would say it. */
	assert_int_equal(chmod(prog, 0644), 0);
	assert_int_equal(spawn_find("only-here", cenv, out, sizeof out), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(spawn_find(prog, envp, out, sizeof out), -1);
	assert_int_equal(errno, EACCES);
	/* A directory is not a program. */
	assert_int_equal(spawn_find(dir, envp, out, sizeof out), -1);
	unlink(prog);
	rmdir(dir);
}

static void
test_find_with_slash_takes_the_path_as_is(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(spawn_find("/bin/sh", envp, out, sizeof out), 0);
	assert_string_equal(out, "/bin/sh");
	assert_int_equal(spawn_find("", envp, out, sizeof out), -1);
	assert_int_equal(errno, ENOENT);
}
static void
test_split_command_lines(void **state)
{
	char *argv[8], buf[256];

	(void)state;
	assert_int_equal(spawn_split("  rclone  copy 'my remote:x' \"a \\\" b\""
	    " c\\ d", argv, 8, buf, sizeof buf), 5);
	assert_string_equal(argv[0], "rclone");
	assert_string_equal(argv[1], "copy");
	assert_string_equal(argv[2], "my remote:x");
	assert_string_equal(argv[3], "a \" b");
	assert_string_equal(argv[4], "c d");
	assert_null(argv[5]);
	assert_int_equal(spawn_split("x'y z'w", argv, 8, buf, sizeof buf), 1);
	assert_string_equal(argv[0], "xy zw");
	assert_int_equal(spawn_split("'open", argv, 8, buf, sizeof buf), -1);
	assert_int_equal(spawn_split("a b c", argv, 3, buf, sizeof buf), -1);
	assert_int_equal(spawn_split("", argv, 8, buf, sizeof buf), 0);
}

static void
test_cmd_appends_the_callers_words(void **state)
{
	static const char *const extra[] = { "-dc", NULL };
	struct spawn_cmd c;

	(void)state;
	assert_int_equal(spawn_cmd(&c, "pigz -p 2", extra), 4);
	assert_string_equal(c.argv[0], "pigz");
	assert_string_equal(c.argv[1], "-p");
	assert_string_equal(c.argv[2], "2");
	assert_ptr_equal(c.argv[3], extra[0]);
	assert_null(c.argv[4]);
	assert_int_equal(spawn_cmd(&c, "", extra), -1);
	assert_int_equal(spawn_cmd(&c, "'open", NULL), -1);
}

static void
test_run_tells_failure_from_not_started(void **state)
{
	char msg[256];
	char *ok[] = { "true", NULL }, *no[] = { "false", NULL };
	char *missing[] = { "/nonexistent/polarity-hook", NULL };
	char *where[] = { "sh", "-c", "test \"$(pwd)\" = /", NULL };

	(void)state;
	assert_int_equal(spawn_run(ok, NULL, msg, sizeof msg), 0);
	assert_int_equal(spawn_run(no, NULL, msg, sizeof msg), 1);
	assert_string_equal(msg, "'false' exited with status 1");
	assert_int_equal(spawn_run(missing, NULL, msg, sizeof msg), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(spawn_run(where, "/", msg, sizeof msg), 0);
}

/* A child that the table of live children cannot hold is not started:
 * it would escape spawn_kill_all(). */
static void
test_no_more_children_than_the_table_holds(void **state)
{
	enum { MANY = 64 };
	static struct child c[MANY + 1];
	char *argv[] = { "sleep", "30", NULL };
	char **env = spawn_env();
	char msg[256];
	int started = 0;

	(void)state;
	for (int i = 0; i < MANY; i++)
		if (spawn_start(&c[i], argv, -1, -1, env) == 0)
			started++;
	assert_int_equal(started, MANY);
	assert_int_equal(spawn_start(&c[MANY], argv, -1, -1, env), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(c[MANY].pid, 0);
	/* Every one that runs is reached by spawn_kill_all(). */
	spawn_kill_all(SIGKILL);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(spawn_wait(&c[i], msg, sizeof msg), -1);
		assert_non_null(strstr(msg, "killed by signal 9"));
		spawn_close(&c[i]);
	}
	spawn_env_free(env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_is_zero),
		cmocka_unit_test(test_exit_status_and_error_line),
		cmocka_unit_test(test_first_line_without_error_word),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_environment_is_only_what_we_give),
		cmocka_unit_test(test_stdin_is_dev_null),
		cmocka_unit_test(test_pipeline_passes_data),
		cmocka_unit_test(test_pipeline_fails_if_any_stage_fails),
		cmocka_unit_test(test_pipeline_blames_the_cause_not_sigpipe),
		cmocka_unit_test(test_pipeline_start_failure_cleans_up),
		cmocka_unit_test(test_kill_all_stops_children),
		cmocka_unit_test(test_stderr_is_kept_for_the_caller),
		cmocka_unit_test(test_find_uses_the_child_path),
		cmocka_unit_test(test_find_with_slash_takes_the_path_as_is),
		cmocka_unit_test(test_split_command_lines),
		cmocka_unit_test(test_cmd_appends_the_callers_words),
		cmocka_unit_test(test_run_tells_failure_from_not_started),
		cmocka_unit_test(test_no_more_children_than_the_table_holds),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
