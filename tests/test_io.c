/* test_io.c - files replaced atomically, made nameless, swept and
 * removed. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "tmpdir.h"



/* The names in DIR, sorted, space separated, into OUT. */
static const char *
listing(char *out, size_t len)
{
	struct dirent **v;
	int n = scandir(dir, &v, NULL, alphasort);
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.' || (strcmp(v[i]->d_name, ".") &&
		    strcmp(v[i]->d_name, "..")))
			o += (size_t)snprintf(out + o, len - o, "%s%s",
			    o ? " " : "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
	return out;
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_replace_new_file_gets_the_mode(void **state)
{
	char path[128], names[256], *text;
	struct stat st;

	(void)state;
	snprintf(path, sizeof path, "%s/status", dir);
	assert_int_equal(io_replace(path, "a=1\n", 4, 0644, 0, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	text = io_slurp(AT_FDCWD, path, 100, 0);
	assert_string_equal(text, "a=1\n");
	free(text);
	/* No temporary file is left beside it. */
	assert_string_equal(listing(names, sizeof names), "status");
}

static void
test_replace_like_old_keeps_mode_and_copy(void **state)
{
	char path[128], keep[128], names[256], *text;
	struct stat st;

	(void)state;
	write_file(".env", "OLD=1\n", 0640);
	snprintf(path, sizeof path, "%s/.env", dir);
	snprintf(keep, sizeof keep, "%s/.env.kept", dir);
	assert_int_equal(io_replace(path, "NEW=2\n", 6, 0600, IO_LIKE_OLD,
	    keep), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	text = io_slurp(AT_FDCWD, path, 100, 0);
	assert_string_equal(text, "NEW=2\n");
	free(text);
	text = io_slurp(AT_FDCWD, keep, 100, 0);
	assert_string_equal(text, "OLD=1\n");
	free(text);
	assert_string_equal(listing(names, sizeof names), ".env .env.kept");
	/* Without IO_LIKE_OLD the mode given wins. */
	assert_int_equal(io_replace(path, "X\n", 2, 0600, 0, NULL), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_replace_through_a_link_keeps_the_link(void **state)
{
	char path[128], target[128], keep[128], link_to[128], *text;
	struct stat st;
	ssize_t n;

	(void)state;
	assert_int_equal(mkdir(strcat(strcpy(target, dir), "/conf"), 0700), 0);
	write_file("conf/env", "OLD=1\n", 0640);
	snprintf(path, sizeof path, "%s/.env", dir);
	snprintf(keep, sizeof keep, "%s/.env.kept", dir);
	assert_int_equal(symlink("conf/env", path), 0);
	assert_int_equal(io_replace(path, "NEW=2\n", 6, 0600, IO_LIKE_OLD,
	    keep), 0);
	/* The link is the same link; its target has the new content. */
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(path, link_to, sizeof link_to - 1);
	assert_int_equal(n, 8);
	link_to[n] = '\0';
	assert_string_equal(link_to, "conf/env");
	snprintf(target, sizeof target, "%s/conf/env", dir);
	text = io_slurp(AT_FDCWD, target, 100, 0);
	assert_string_equal(text, "NEW=2\n");
	free(text);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* The kept copy is the old content, not a link to the live file. */
	assert_int_equal(lstat(keep, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	text = io_slurp(AT_FDCWD, keep, 100, 0);
	assert_string_equal(text, "OLD=1\n");
	free(text);
	/* No temporary file left beside the target. */
	snprintf(target, sizeof target, "%s/conf", dir);
	{
		DIR *d = opendir(target);
		struct dirent *e;
		int entries = 0;
		assert_non_null(d);
		while ((e = readdir(d)) != NULL)
			entries += e->d_name[0] != '.';
		closedir(d);
		assert_int_equal(entries, 1);
	}
}

static void
test_replace_keeps_a_copy_across_file_systems(void **state)
{
	char other[] = "/dev/shm/polarity-unit.XXXXXX", target[128];
	char path[128], keep[128], *text;
	struct stat st;

	(void)state;
	/* The link's target on another file system than the kept copy. */
	if (mkdtemp(other) == NULL) {
		skip();
		return;
	}
	snprintf(target, sizeof target, "%s/env", other);
	{
		int fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "OLD=1\n", 6), 6);
		close(fd);
	}
	snprintf(path, sizeof path, "%s/.env", dir);
	snprintf(keep, sizeof keep, "%s/.env.kept", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(io_replace(path, "NEW=2\n", 6, 0600, IO_LIKE_OLD,
	    keep), 0);
	text = io_slurp(AT_FDCWD, target, 100, 0);
	assert_string_equal(text, "NEW=2\n");
	free(text);
	assert_int_equal(lstat(keep, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	text = io_slurp(AT_FDCWD, keep, 100, 0);
	assert_string_equal(text, "OLD=1\n");
	free(text);
	assert_int_equal(io_remove_tree(AT_FDCWD, other), 0);
}

static void
test_replace_failure_changes_nothing(void **state)
{
	char path[128], names[256];

	(void)state;
	snprintf(path, sizeof path, "%s/missing/file", dir);
	assert_int_equal(io_replace(path, "x", 1, 0600, 0, NULL), -1);
	assert_int_equal(errno, ENOENT);
	/* A keep name that is taken: the file stays as it was. */
	write_file("f", "old", 0600);
	write_file("taken", "t", 0600);
	snprintf(path, sizeof path, "%s/f", dir);
	{
		char keep[128], *text;
		snprintf(keep, sizeof keep, "%s/taken", dir);
		assert_int_equal(io_replace(path, "new", 3, 0600, 0, keep), -1);
		assert_int_equal(errno, EEXIST);
		text = io_slurp(AT_FDCWD, path, 100, 0);
		assert_string_equal(text, "old");
		free(text);
	}
	assert_string_equal(listing(names, sizeof names), "f taken");
}

static void
test_tmpfile_leaves_no_name(void **state)
{
	char names[256], name[128];
	struct stat st;
	int fd;

	(void)state;
	fd = io_tmpfile(dir, "x-", O_RDWR, NULL, 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_string_equal(listing(names, sizeof names), "");
	close(fd);
	/* Asked for a name: none (O_TMPFILE), or the one it reports, 0600. */
	fd = io_tmpfile(dir, "x-", O_WRONLY, name, sizeof name);
	assert_true(fd >= 0);
	if (name[0] == '\0') {
		assert_string_equal(listing(names, sizeof names), "");
	} else {
		assert_int_equal(stat(name, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_non_null(strstr(name, "/.x-"));
		unlink(name);
	}
	close(fd);
	assert_int_equal(io_tmpfile("/nonexistent", "x-", O_RDWR, NULL, 0),
	    -1);
}

static int swept_count;

static void
swept(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	swept_count++;
}

static void
test_sweep_takes_only_what_matches(void **state)
{
	char path[128], names[256];
	int fd;

	(void)state;
	write_file(".p-1.tmp", "x", 0600);
	snprintf(path, sizeof path, "%s/.p-dir.tmp", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file(".p-dir.tmp/inner", "x", 0600);
	write_file("keep.tmp", "x", 0600);
	write_file(".p-no", "x", 0600);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	swept_count = 0;
	io_sweep(fd, ".p-", ".tmp", swept, NULL);
	close(fd);
	assert_int_equal(swept_count, 2);
	assert_string_equal(listing(names, sizeof names), ".p-no keep.tmp");
}

static void
test_remove_tree_never_follows_links(void **state)
{
	char path[128], outside[128], target[160];
	int fd;

	(void)state;
	snprintf(outside, sizeof outside, "%s/outside", dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	write_file("outside/precious", "x", 0600);
	snprintf(path, sizeof path, "%s/tree", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/tree/ro", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	write_file("tree/ro/f", "x", 0600);
	assert_int_equal(chmod(path, 0500), 0);
	snprintf(path, sizeof path, "%s/tree/link", dir);
	snprintf(target, sizeof target, "%s", outside);
	assert_int_equal(symlink(target, path), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(io_remove_tree(fd, "tree"), 0);
	assert_int_equal(io_remove_tree(fd, "tree"), 0);	/* gone: fine */
	close(fd);
	snprintf(path, sizeof path, "%s/outside/precious", dir);
	assert_int_equal(access(path, F_OK), 0);
}

/* Writes N bytes of a pattern (byte i is i*7 mod 251) to FD. */
static void
write_pattern(int fd, size_t n)
{
	unsigned char b[4096];

	for (size_t done = 0; done < n; ) {
		size_t k = n - done < sizeof b ? n - done : sizeof b;
		for (size_t i = 0; i < k; i++)
			b[i] = (unsigned char)((done + i) * 7 % 251);
		assert_int_equal(write(fd, b, k), (ssize_t)k);
		done += k;
	}
}

static void
test_append_adds_the_whole_file_at_the_offset(void **state)
{
	char path[128];
	unsigned char *got;
	size_t n = 300 * 1024 + 17;
	int from, to;

	(void)state;
	snprintf(path, sizeof path, "%s/from", dir);
	from = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write_pattern(from, n);
	/* The source's own offset is at its end: the copy must not care. */
	snprintf(path, sizeof path, "%s/to", dir);
	to = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(to, "head", 4), 4);
	assert_int_equal(io_append(from, to), 0);
	assert_int_equal(write(to, "tail", 4), 4);
	got = malloc(n + 8);
	assert_int_equal(pread(to, got, n + 8, 0), (ssize_t)(n + 8));
	assert_memory_equal(got, "head", 4);
	for (size_t i = 0; i < n; i++)
		if (got[4 + i] != (unsigned char)(i * 7 % 251))
			fail_msg("byte %zu differs", i);
	assert_memory_equal(got + 4 + n, "tail", 4);
	free(got);
	close(from);
	close(to);
}

/* Where the kernel cannot copy (here: into a pipe), bytes are copied by
 * hand, just as whole. */
static void
test_append_into_a_pipe(void **state)
{
	char path[128], got[8192];
	int from, p[2];
	ssize_t k;

	(void)state;
	snprintf(path, sizeof path, "%s/from", dir);
	from = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write_pattern(from, 5000);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(io_append(from, p[1]), 0);
	close(p[1]);
	k = io_read_full(p[0], got, sizeof got);
	assert_int_equal(k, 5000);
	for (int i = 0; i < 5000; i++)
		assert_int_equal((unsigned char)got[i], i * 7 % 251);
	close(p[0]);
	close(from);
}

/* A flush in its own thread: its result, and a failure's errno, come
 * back through io_flush_wait(). */
static void
test_flush_in_a_thread(void **state)
{
	struct io_flush f;
	char path[128];
	int fd, d;

	(void)state;
	snprintf(path, sizeof path, "%s/written", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write_pattern(fd, 5000);
	close(fd);
	d = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(d >= 0);
	io_flush_start(&f, d);
	assert_true(f.started);
	assert_int_equal(io_flush_wait(&f), 0);
	close(d);
	io_flush_start(&f, -1);
	errno = 0;
	assert_int_equal(io_flush_wait(&f), -1);
	assert_int_equal(errno, EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_replace_new_file_gets_the_mode,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_like_old_keeps_mode_and_copy,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_through_a_link_keeps_the_link,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_keeps_a_copy_across_file_systems,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_failure_changes_nothing,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_tmpfile_leaves_no_name,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_sweep_takes_only_what_matches,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_remove_tree_never_follows_links,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(
		    test_append_adds_the_whole_file_at_the_offset,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_append_into_a_pipe,
		    tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_flush_in_a_thread,
		    tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
