/* test_tar.c - the pax writer: what it writes, and that GNU tar reads it. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"

struct fixture {
	char dir[64];
	char file[128];
	int fd;
	struct tar_writer w;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_tar.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof f->file, "%s/out.tar", f->dir);
	f->fd = open(f->file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->fd >= 0);
	assert_int_equal(tar_open(&f->w, f->fd), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	tar_close(&f->w);
	close(f->fd);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
add(struct tar_writer *w, const char *path, const char *data, mode_t mode,
    char hex[65])
{
	struct tar_entry e = { .path = path, .type = TAR_FILE, .mode = mode,
		.size = strlen(data), .mtime = 1700000000 };

	assert_int_equal(tar_begin(w, &e), 0);
	assert_int_equal(tar_write(w, data, strlen(data)), 0);
	assert_int_equal(tar_end(w, hex), 0);
}

/* Extracts the stream with the system's tar into DIR/x. */
static void
extract(struct fixture *f)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "mkdir -p '%s/x' && tar -xf '%s' -C '%s/x'",
	    f->dir, f->file, f->dir);
	assert_int_equal(system(cmd), 0);
}

static void
read_back(struct fixture *f, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/x/%s", f->dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void
test_member_is_read_by_gnu_tar(void **state)
{
	struct fixture *f = *state;
	char hex[65], buf[64], path[PATH_MAX];
	struct stat st;

	add(&f->w, "top/hello.txt", "hello, world\n", 0640, hex);
	assert_int_equal(tar_finish(&f->w), 0);
	extract(f);
	read_back(f, "top/hello.txt", buf, sizeof buf);
	assert_string_equal(buf, "hello, world\n");
	snprintf(path, sizeof path, "%s/x/top/hello.txt", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_mtime, 1700000000);
}

static void
test_sha256_of_member(void **state)
{
	struct fixture *f = *state;
	char hex[65];

	add(&f->w, "abc", "abc", 0600, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	add(&f->w, "empty", "", 0600, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
}

static void
test_long_name_goes_in_pax_header(void **state)
{
	struct fixture *f = *state;
	char name[400], hex[65], buf[64];

	memset(name, 'n', sizeof name);
	memcpy(name, "top/", 4);
	name[200] = '/';
	name[sizeof name - 1] = '\0';
	add(&f->w, name, "long\n", 0644, hex);
	assert_int_equal(tar_finish(&f->w), 0);
	extract(f);
	read_back(f, name, buf, sizeof buf);
	assert_string_equal(buf, "long\n");
}

static void
test_symlink_and_directory(void **state)
{
	struct fixture *f = *state;
	char target[300], path[PATH_MAX], got[PATH_MAX], hex[65];
	struct tar_entry d = { .path = "top/dir/", .type = TAR_DIR,
		.mode = 0750, .mtime = 1700000000 };
	struct tar_entry l = { .path = "top/dir/link", .type = TAR_SYMLINK,
		.mode = 0777, .mtime = 1700000000, .linkname = target };
	struct stat st;
	ssize_t n;

	memset(target, 't', sizeof target);
	target[sizeof target - 1] = '\0';
	assert_int_equal(tar_begin(&f->w, &d), 0);
	assert_int_equal(tar_end(&f->w, hex), 0);
	assert_int_equal(tar_begin(&f->w, &l), 0);
	assert_int_equal(tar_end(&f->w, hex), 0);
	assert_int_equal(tar_finish(&f->w), 0);
	extract(f);
	snprintf(path, sizeof path, "%s/x/top/dir", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0750);
	snprintf(path, sizeof path, "%s/x/top/dir/link", f->dir);
	n = readlink(path, got, sizeof got - 1);
	assert_int_equal(n, (ssize_t)strlen(target));
	got[n] = '\0';
	assert_string_equal(got, target);
}

static void
test_stream_layout(void **state)
{
	struct fixture *f = *state;
	char hex[65];
	unsigned char h[TAR_BLOCK], end[2 * TAR_BLOCK];
	unsigned sum = 0, stored;
	struct stat st;

	add(&f->w, "a", "12345", 0644, hex);
	assert_int_equal(tar_finish(&f->w), 0);
	assert_int_equal(fstat(f->fd, &st), 0);
	/* Header, one data block, two zero blocks. */
	assert_int_equal(st.st_size, 4 * TAR_BLOCK);
	assert_int_equal(f->w.offset, 4 * TAR_BLOCK);
	assert_int_equal(pread(f->fd, h, sizeof h, 0), TAR_BLOCK);
	assert_memory_equal(h + 257, "ustar\0" "00", 8);
	assert_int_equal(h[156], '0');
	assert_memory_equal(h + 124, "00000000005", 11);
	for (size_t i = 0; i < sizeof h; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	assert_int_equal(sscanf((char *)h + 148, "%o", &stored), 1);
	assert_int_equal(stored, sum);
	assert_int_equal(pread(f->fd, end, sizeof end, 2 * TAR_BLOCK),
	    sizeof end);
	for (size_t i = 0; i < sizeof end; i++)
		assert_int_equal(end[i], 0);
}

static void
test_short_data_is_an_error(void **state)
{
	struct fixture *f = *state;
	char hex[65];
	struct tar_entry e = { .path = "a", .type = TAR_FILE, .mode = 0644,
		.size = 10 };

	assert_int_equal(tar_begin(&f->w, &e), 0);
	assert_int_equal(tar_write(&f->w, "12345", 5), 0);
	assert_int_equal(tar_end(&f->w, hex), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(tar_finish(&f->w), -1);
}

static void
test_too_much_data_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct tar_entry e = { .path = "a", .type = TAR_FILE, .mode = 0644,
		.size = 3 };

	assert_int_equal(tar_begin(&f->w, &e), 0);
	assert_int_equal(tar_write(&f->w, "12345", 5), -1);
	assert_int_equal(errno, EFBIG);
}

static void
test_absolute_and_empty_names_refused(void **state)
{
	struct fixture *f = *state;
	struct tar_entry e = { .path = "/etc/passwd", .type = TAR_FILE };

	assert_int_equal(tar_begin(&f->w, &e), -1);
	assert_int_equal(errno, EINVAL);
	e.path = "";
	assert_int_equal(tar_begin(&f->w, &e), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_write_to_closed_pipe_fails_with_epipe(void **state)
{
	struct tar_writer w;
	static char big[TAR_BUF * 2];
	struct tar_entry e = { .path = "a", .type = TAR_FILE, .mode = 0644,
		.size = sizeof big };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(tar_open(&w, p[1]), 0);
	assert_int_equal(tar_begin(&w, &e), 0);
	assert_int_equal(tar_write(&w, big, sizeof big), -1);
	assert_int_equal(errno, EPIPE);
	tar_close(&w);
	close(p[1]);
}

/* Reads the first member of the stream in FILE into M and up to LEN
 * bytes of its data into BUF; returns tar_next()'s result. */
static int
first_member(const char *file, struct tar_member *m, char *buf, size_t len)
{
	struct tar_reader r;
	int fd = open(file, O_RDONLY | O_CLOEXEC), rc;
	ssize_t n = 0;

	assert_true(fd >= 0);
	assert_int_equal(tar_reader_open(&r, fd), 0);
	rc = tar_next(&r, m);
	if (rc == 1)
		n = tar_read(&r, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	tar_reader_close(&r);
	close(fd);
	return rc;
}

static void
test_gnu_long_names_and_base256_sizes_are_read(void **state)
{
	struct fixture *f = *state;
	struct tar_member m;
	char name[300], cmd[1024], buf[64];
	unsigned char h[512];
	unsigned sum = 0;
	int fd;

	memset(name, 'n', 150);
	snprintf(name + 150, sizeof name - 150, "/file");
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir -p x/%.150s && printf abc "
	    ">x/%s && tar --format=gnu -C x -cf gnu.tar %s", f->dir, name,
	    name, name);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/gnu.tar", f->dir);
	/* The folder comes first: its name is long too. */
	assert_int_equal(first_member(cmd, &m, buf, sizeof buf), 1);
	assert_int_equal(strncmp(m.path, name, 150), 0);

	/* One file, its name in an 'L' header, its size in base-256. */
	snprintf(cmd, sizeof cmd, "cd '%s/x' && tar --format=gnu "
	    "--no-recursion -cf ../one.tar %s", f->dir, name);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/one.tar", f->dir);
	fd = open(cmd, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, h, sizeof h, 1024), (ssize_t)sizeof h);
	assert_int_equal(h[156], '0');
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[135] = 3;
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	assert_int_equal(pwrite(fd, h, sizeof h, 1024), (ssize_t)sizeof h);
	close(fd);
	assert_int_equal(first_member(cmd, &m, buf, sizeof buf), 1);
	assert_string_equal(m.path, name);
	assert_int_equal(m.size, 3);
	assert_string_equal(buf, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_member_is_read_by_gnu_tar,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha256_of_member, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_name_goes_in_pax_header,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_and_directory,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_layout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_short_data_is_an_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_much_data_is_an_error,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_absolute_and_empty_names_refused, setup, teardown),
		cmocka_unit_test(test_write_to_closed_pipe_fails_with_epipe),
		cmocka_unit_test_setup_teardown(
		    test_gnu_long_names_and_base256_sizes_are_read, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
