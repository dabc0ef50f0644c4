/* test_dumps.c - the reader that takes the dumps from the archive: the
 * pre-data and data dumps to psql's input, the post-data dump kept, each
 * hashed; and the stage that failed named. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumps.h"
#include "io.h"
#include "tmpdir.h"
#include "seeds.h"

/* Reads all of FD into a new string. */
static char *
drain(int fd)
{
	size_t len = 0, cap = 4096;
	char *s = malloc(cap);
	ssize_t n;

	while ((n = io_read(fd, s + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			s = realloc(s, cap *= 2);
	}
	s[len] = '\0';
	return s;
}

/* What COMMAND (a shell command line) prints, as a new string. */
static char *
output(const char *command)
{
	FILE *f = popen(command, "r");
	char *s;

	assert_non_null(f);
	s = drain(fileno(f));
	assert_int_equal(pclose(f), 0);
	return s;
}

/* What tar itself extracts of the seed's MEMBERS, and their SHA-256. */
static char *
extract(const char *members, int sha)
{
	char seed[PATH_MAX], cmd[3 * PATH_MAX];

	seed_path("sound.tar", seed, sizeof seed);
	snprintf(cmd, sizeof cmd, "cd '%s' && tar -xOf \"$OLDPWD/%s\" %s%s",
	    dir, seed, members, sha ? " | sha256sum | cut -c1-64 | tr -d "
	    "'\\n'" : "");
	return output(cmd);
}

#define PRE SEED_TOP "/database/1-pre-data.sql"
#define DATA SEED_TOP "/database/2-data.sql"
#define POST SEED_TOP "/database/3-post-data.sql"

static void
test_reader_gives_the_dumps_where_they_go(void **state)
{
	char path[PATH_MAX], err[512], hex[3][65];
	const char *names[3] = { PRE, DATA, POST };
	struct dumps d;
	uint64_t size;
	char *got, *want, *post;
	int p[2], fd, stage;

	(void)state;
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	fd = open(path, O_RDONLY);
	stage = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, SEED_TOP, fd, p[1], -1, stage,
	    err, sizeof err), 0);
	got = drain(p[0]);
	close(p[0]);
	/* The pre-data and data dumps, in that order; never the roles. */
	want = extract(PRE " " DATA, 0);
	assert_true(strlen(want) > 0);
	assert_string_equal(got, want);
	assert_int_equal(dumps_fed(&d), strlen(want));
	free(got);
	free(want);
	/* The post-data dump, whole, from its start. */
	assert_true((fd = dumps_post(&d, NULL, &size, err, sizeof err)) >= 0);
	post = drain(fd);
	close(fd);
	want = extract(POST, 0);
	assert_string_equal(post, want);
	assert_int_equal(size, strlen(want));
	free(post);
	free(want);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), 0);
	/* Each hashed as it passed. */
	for (int i = 0; i < 3; i++) {
		want = extract(names[i], 1);
		snprintf(hex[i], sizeof hex[i], "%s", want);
		free(want);
	}
	assert_int_equal(dumps_same(&d, (const char (*)[65])hex), 1);
	hex[1][0] = hex[1][0] == '0' ? '1' : '0';
	assert_int_equal(dumps_same(&d, (const char (*)[65])hex), 0);
	/* Ended twice: nothing more to do. */
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), 0);
	close(stage);
}

static void
test_reader_names_the_stage_that_failed(void **state)
{
	char path[PATH_MAX], err[512];
	struct dumps d;
	uint64_t size;
	int fd, p[2], stage;

	(void)state;
	stage = open(dir, O_RDONLY | O_DIRECTORY);
	/* Not gzip at all: the decompressor's failure, not the empty
	 * stream it left. */
	snprintf(path, sizeof path, "%s/text.tgz", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_int_equal(write(fd, "not an archive\n", 15), 15);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, SEED_TOP, fd, p[1], -1, stage,
	    err, sizeof err), 0);
	free(drain(p[0]));
	close(p[0]);
	assert_int_equal(dumps_post(&d, NULL, &size, err, sizeof err), -1);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "'gzip'"));
	close(fd);
	/* A sound archive of another top folder: no dumps in it. */
	assert_int_equal(seed_gzip(dir, "sound.tar", path, sizeof path), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dumps_start(&d, &cfg, "polarity-server-backup-"
	    "20990101000000", fd, p[1], -1, stage, err, sizeof err), 0);
	free(drain(p[0]));
	close(p[0]);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "holds no"));
	close(fd);
	close(stage);
}

/* Drains both A and B at once (the reader writes to each as it has
 * room) into new strings. */
static void
drain_both(int a, int b, char **sa, char **sb)
{
	size_t len[2] = { 0, 0 }, cap[2] = { 1 << 16, 1 << 16 };
	char *s[2] = { malloc(cap[0]), malloc(cap[1]) };
	struct pollfd p[2] = { { .fd = a, .events = POLLIN },
		{ .fd = b, .events = POLLIN } };
	int open = 2;

	while (open > 0) {
		assert_true(poll(p, 2, -1) > 0);
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			if (cap[i] - len[i] < 65536)
				s[i] = realloc(s[i], cap[i] *= 2);
			n = read(p[i].fd, s[i] + len[i], cap[i] - len[i] - 1);
			assert_true(n >= 0);
			if (n == 0) {
				p[i].fd = -1;
				open--;
			}
			len[i] += (size_t)n;
		}
	}
	s[0][len[0]] = s[1][len[1]] = '\0';
	*sa = s[0];
	*sb = s[1];
}

/* The lines of S that are rows of the COPY of t (between its COPY line
 * and \.), in order, as one string; the rest of S to OTHER. */
static void
rows_of(const char *s, char **rows, char **other)
{
	size_t n = strlen(s);
	char *r = calloc(n + 1, 1), *o = calloc(n + 1, 1);
	size_t rl = 0, ol = 0;
	int in = 0;

	for (const char *p = s; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (in && l == 3 && memcmp(p, "\\.\n", 3) == 0)
			in = 0;
		if (in) {
			memcpy(r + rl, p, l);
			rl += l;
		} else {
			memcpy(o + ol, p, l);
			ol += l;
		}
		if (l > 5 && memcmp(p, "COPY ", 5) == 0)
			in = 1;
		p += l;
	}
	*rows = r;
	*other = o;
}

static int
by_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of S, sorted, as one string. */
static char *
sorted(const char *s)
{
	size_t n = 0, len = strlen(s);
	char *copy = strdup(s), **lines, *out = malloc(len + 1), *o = out;

	for (const char *p = s; *p; p++)
		n += *p == '\n';
	lines = calloc(n + 1, sizeof *lines);
	n = 0;
	for (char *p = strtok(copy, "\n"); p; p = strtok(NULL, "\n"))
		lines[n++] = p;
	qsort(lines, n, sizeof *lines, by_line);
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s\n", lines[i]);
	*o = '\0';
	free(lines);
	free(copy);
	return out;
}

static void
test_a_large_table_goes_to_two_sessions(void **state)
{
	char path[PATH_MAX + 64], cmd[3 * PATH_MAX], err[512];
	char *a, *b, *rows_a, *rows_b, *other_a, *other_b, *want_rows;
	char *want_other, *all, *got;
	const char *top = "polarity-server-backup-20260101000000";
	struct dumps d;
	uint64_t size;
	int p[2], q[2], fd, stage;
	FILE *f;

	(void)state;
	stage = open(dir, O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof path, "%s/%s/database", dir, top);
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/%s/database/1-pre-data.sql", dir, top);
	f = fopen(path, "w");
	fputs("CREATE TABLE public.t (n int, s text);\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/%s/database/3-post-data.sql", dir,
	    top);
	f = fopen(path, "w");
	fputs("CREATE INDEX t_n ON public.t USING btree (n);\n", f);
	fclose(f);
	/* 10 MB of rows, each ending in an escaped backslash and a dot: a
	 * read that ends between the two backslashes leaves a line that
	 * starts as the end of the rows does. */
	snprintf(path, sizeof path, "%s/%s/database/2-data.sql", dir, top);
	f = fopen(path, "w");
	fputs("\\restrict K\nSET statement_timeout = 0;\n"
	    "SELECT pg_catalog.set_config('search_path', '', false);\n"
	    "COPY public.small (n) FROM stdin;\n1\n\\.\n"
	    "COPY public.t (n, s) FROM stdin;\n", f);
	for (int i = 0; i < 800000; i++)
		fprintf(f, "%d\tx\\\\.\n", i);
	fputs("\\.\nSELECT pg_catalog.setval('public.s', 7, true);\n"
	    "\\unrestrict K\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/two.tgz", dir);
	snprintf(cmd, sizeof cmd, "cd '%s' && tar -czf two.tgz "
	    "%s/database/1-pre-data.sql %s/database/2-data.sql "
	    "%s/database/3-post-data.sql", dir, top, top, top);
	assert_int_equal(system(cmd), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	assert_int_equal(dumps_start(&d, &cfg, top, fd, p[1], q[1], stage,
	    err, sizeof err), 0);
	drain_both(p[0], q[0], &a, &b);
	close(p[0]);
	close(q[0]);
	size = 0;
	assert_true((fd = dumps_post(&d, NULL, &size, err, sizeof err)) >= 0);
	close(fd);
	assert_int_equal(dumps_end(&d, 0, err, sizeof err), 0);
	/* The second session: the settings, the big table's COPY, rows,
	 * its end; never the small table, the psql commands or setval(). */
	assert_non_null(strstr(b, "SET statement_timeout = 0;\n"
	    "SELECT pg_catalog.set_config('search_path', '', false);\n"
	    "COPY public.t (n, s) FROM stdin;\n"));
	assert_null(strstr(b, "small"));
	assert_null(strstr(b, "restrict"));
	assert_null(strstr(b, "setval"));
	assert_int_equal(strlen(b) > 1000000, 1);
	rows_of(a, &rows_a, &other_a);
	rows_of(b, &rows_b, &other_b);
	/* The first: all but the rows the second had, in order, less the
	 * dump's own \restrict lines, which the fence takes out. */
	assert_null(strstr(a, "restrict K"));
	snprintf(cmd, sizeof cmd, "cd '%s/%s/database' && cat "
	    "1-pre-data.sql 2-data.sql | grep -v -x -e '\\\\restrict K' "
	    "-e '\\\\unrestrict K'", dir, top);
	got = output(cmd);
	rows_of(got, &want_rows, &want_other);
	assert_string_equal(other_a, want_other);
	/* Every row once, across the two. */
	all = malloc(strlen(rows_a) + strlen(rows_b) + 1);
	strcpy(all, rows_a);
	strcat(all, rows_b);
	free(want_other);
	want_other = sorted(want_rows);
	free(want_rows);
	want_rows = sorted(all);
	assert_string_equal(want_rows, want_other);
	assert_true(strlen(rows_b) > 0);
	free(a); free(b); free(rows_a); free(rows_b); free(other_a);
	free(other_b); free(want_rows); free(want_other); free(all);
	free(got);
	close(stage);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_reader_gives_the_dumps_where_they_go, setup,
		    tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reader_names_the_stage_that_failed, setup,
		    tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_large_table_goes_to_two_sessions, setup,
		    tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
