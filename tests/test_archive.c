/* test_archive.c - members, the tree walk and the manifest. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "archive.h"

struct fixture {
	char dir[64];
	char file[128];
	int fd;
	struct archive a;
};

/* openat() and fstatat(), interposed for the walk's calls (the library's
 * own calls inside libc do not come here): fstatat() counts, and before
 * the open of the entry named swap_name, once, swap() does what a live
 * tree does between the listing of a folder and the open of a file. */
static const char *swap_name;
static void (*swap)(int dirfd, const char *name);
static int fstatat_calls;

int
openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "openat");
	if (swap_name != NULL && strcmp(path, swap_name) == 0) {
		swap_name = NULL;
		swap(dirfd, path);
	}
	return real(dirfd, path, flags, mode);
}

int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	static int (*real)(int, const char *, struct stat *, int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fstatat");
	fstatat_calls++;
	return real(dirfd, path, st, flags);
}

static void
to_fifo(int dirfd, const char *name)
{
	assert_int_equal(unlinkat(dirfd, name, 0), 0);
	assert_int_equal(mkfifoat(dirfd, name, 0644), 0);
}

static void
to_link(int dirfd, const char *name)
{
	assert_int_equal(unlinkat(dirfd, name, 0), 0);
	assert_int_equal(symlinkat("g", dirfd, name), 0);
}

static void
to_socket(int dirfd, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char fdpath[64], dir[PATH_MAX];
	ssize_t n;
	int s;

	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", dirfd);
	n = readlink(fdpath, dir, sizeof dir - 1);
	assert_true(n > 0);
	dir[n] = '\0';
	assert_int_equal(unlinkat(dirfd, name, 0), 0);
	assert_true((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s",
	    dir, name) < sizeof sa.sun_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	close(s);
}

static void
to_nothing(int dirfd, const char *name)
{
	assert_int_equal(unlinkat(dirfd, name, 0), 0);
}

/* Runs the shell SCRIPT in the directory DIR; it must succeed. */
static void
run_in(const char *dir, const char *script)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd, "cd '%s' && %s", dir, script);
	assert_int_equal(system(cmd), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_archive.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof f->file, "%s/out.tar", f->dir);
	f->fd = open(f->file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(f->fd >= 0);
	assert_int_equal(archive_open(&f->a, f->fd, "top"), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	archive_close(&f->a);
	close(f->fd);
	run_in(f->dir, "rm -rf -- \"$PWD\"");
	free(f);
	return 0;
}

/* Reads the whole of DIR/REL into a new string. */
static char *
slurp(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	static char buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof buf - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}




static void
test_tree_is_archived_whole(void **state)
{
	struct fixture *f = *state;
	char src[128], cmd[512];

	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir -p 'src/b dir/empty' src/a && printf x > "
	    "src/a/f && ln -s ../a/f 'src/b dir/link' && printf '#!/bin/sh\\n'"
	    " > src/a/run && chmod 750 src/a/run && mkfifo src/fifo && "
	    "touch src/z");
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_int_equal(archive_finish(&f->a, "tool test 1\n"), 0);
	assert_int_equal(f->a.skipped, 1);	/* the FIFO */
	assert_int_equal(f->a.links, 1);
	assert_int_equal(f->a.dirs, 4);
	/* GNU tar gives back the same tree, FIFO aside. */
	snprintf(cmd, sizeof cmd, "cd '%s' && mkdir x && tar -xf out.tar -C x "
	    "&& rm src/fifo && diff -r --no-dereference src x/top/integrations "
	    "&& [ \"$(stat -c %%a x/top/integrations/a/run)\" = 750 ] && "
	    "[ \"$(readlink 'x/top/integrations/b dir/link')\" = ../a/f ] && "
	    "[ -d 'x/top/integrations/b dir/empty' ]", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_manifest_lists_every_member(void **state)
{
	struct fixture *f = *state;
	char src[128], *m;

	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir -p src/d && printf abc > 'src/d/f x' && "
	    "ln -s 'd/f x' src/l");
	assert_int_equal(archive_add_data(&f->a, "FORMAT", "v\n", 2, 0644), 0);
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_int_equal(archive_finish(&f->a, "tool test 1\ncreated now\n"),
	    0);
	run_in(f->dir, "mkdir x && tar -xf out.tar -C x");
	m = slurp(f->dir, "x/top/MANIFEST");
	assert_non_null(strstr(m, "polarity-server-backup-manifest 1\n"
	    "tool test 1\ncreated now\n"));
	assert_non_null(strstr(m, "\nf 0644 2 "));
	assert_non_null(strstr(m, " FORMAT\n"));
	assert_non_null(strstr(m, "\nd 0"));
	assert_non_null(strstr(m, "integrations/d\n"));
	assert_non_null(strstr(m, "\nf 0644 3 ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad integrations/d/f\\040x\n"));
	assert_non_null(strstr(m, "\nl 0777 0 - integrations/l d/f\\040x\n"));
	/* The manifest does not list itself. */
	assert_null(strstr(m, " MANIFEST\n"));
}

/* Makes the 3-byte file F->dir/small and a stat of it that says 10
 * bytes, as if it shrank after fstat.  Returns its descriptor. */
static int
shrunk_file(struct fixture *f, char *path, size_t len, struct stat *st)
{
	int fd;

	snprintf(path, len, "%s/small", f->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(fstat(fd, st), 0);
	st->st_size = 10;
	return fd;
}

static void
test_shrinking_file_in_a_live_tree_keeps_its_size(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct stat st;
	int fd = shrunk_file(f, path, sizeof path, &st);

	f->a.churn = 1;		/* as archive_add_tree() walks */
	assert_int_equal(archive_add_fd(&f->a, "small", fd, &st, path), 0);
	f->a.churn = 0;
	assert_int_equal(f->a.changed, 1);
	assert_int_equal(f->a.files, 1);
	close(fd);
}

static void
test_shrinking_file_is_an_error(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct stat st;
	int fd = shrunk_file(f, path, sizeof path, &st);

	assert_int_equal(archive_add_fd(&f->a, "small", fd, &st, path), -1);
	assert_non_null(strstr(f->a.err, "shrank"));
	assert_non_null(strstr(f->a.err, path));
	close(fd);
}

static void
test_link_escapes(void **state)
{
	(void)state;
	assert_false(archive_link_escapes("link", "target"));
	assert_false(archive_link_escapes("a/b/link", "../../x"));
	assert_false(archive_link_escapes("a/link", "./b/../c"));
	assert_false(archive_link_escapes("a/link", "../a/./b/"));
	assert_true(archive_link_escapes("link", "../x"));
	assert_true(archive_link_escapes("a/b/link", "../../../x"));
	assert_true(archive_link_escapes("a/link", "b/../../../x"));
	assert_true(archive_link_escapes("a/link", "/etc/passwd"));
	assert_true(archive_link_escapes("a/link", ""));
}

static void
test_escaping_links_are_skipped(void **state)
{
	struct fixture *f = *state;
	char src[128], *m;

	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir -p src/d && ln -s /etc/passwd src/d/abs && "
	    "ln -s ../../outside src/d/up && ln -s ../in src/d/ok");
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_int_equal(archive_finish(&f->a, ""), 0);
	assert_int_equal(f->a.skipped, 2);
	assert_int_equal(f->a.links, 1);
	run_in(f->dir, "mkdir x && tar -xf out.tar -C x");
	m = slurp(f->dir, "x/top/MANIFEST");
	assert_non_null(strstr(m, "integrations/d/ok ../in\n"));
	assert_null(strstr(m, "abs"));
	assert_null(strstr(m, "outside"));
}

static void
test_missing_tree_names_it(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(archive_add_tree(&f->a, "integrations",
	    "/nonexistent/integrations"), -1);
	assert_string_equal(f->a.err, "cannot read directory "
	    "'/nonexistent/integrations': No such file or directory");
}

/* Each file's owner and group by name, from more owners than the archive
 * remembers (ten, cycled), and by number alone where the id has no name.
 * Root only: the files are given to other owners. */
static void
test_owner_names_are_each_files_own(void **state)
{
	struct fixture *f = *state;
	char src[128], cmd[1024];

	if (geteuid() != 0)
		skip();
	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir src && for i in $(seq 10 39); do "
	    "u=$((i % 10)); [ $u = 9 ] && u=54321; touch src/f$i && "
	    "chown $u:$u src/f$i; done");
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_int_equal(archive_finish(&f->a, "tool test 1\n"), 0);
	/* What GNU tar reads in each header against the system's names. */
	snprintf(cmd, sizeof cmd, "cd '%s' && tar -tvf out.tar | awk "
	    "'$6 ~ /\\/f[0-9]+$/ { print $2, $6 }' > got && "
	    "for p in src/f*; do u=$(stat -c %%u $p); g=$(stat -c %%g $p); "
	    "un=$(getent passwd $u | cut -d: -f1); "
	    "gn=$(getent group $g | cut -d: -f1); "
	    "echo \"${un:-$u}/${gn:-$g} top/integrations/${p#src/}\"; "
	    "done > want && [ $(wc -l < got) = 30 ] && "
	    "grep -q '^daemon/daemon ' got && grep -q '^54321/54321 ' got && "
	    "diff want got", f->dir);
	assert_int_equal(system(cmd), 0);
}

/* Whether the file system of DIR gives each name's kind in a listing. */
static int
says_kinds(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int known = 1;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		known &= de->d_type != DT_UNKNOWN;
	closedir(d);
	return known;
}

/* A file the listing said is one is opened without a stat first; what
 * is not a file (or may not be: a file system without d_type) is looked
 * at.  Where the file system says: one fstatat a folder, a link. */
static void
test_listed_files_are_not_stat(void **state)
{
	struct fixture *f = *state;
	char src[128];

	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir -p src/d && printf 1 > src/a && printf 2 > "
	    "src/b && printf 3 > src/d/c && ln -s a src/l");
	if (!says_kinds(src))
		skip();
	fstatat_calls = 0;
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_int_equal(f->a.files, 3);
	assert_int_equal(f->a.links, 1);
	assert_int_equal(f->a.dirs, 2);
	assert_int_equal(fstatat_calls, 2);
}

/* Walks a tree of the files f and g, WHAT done to f between the listing
 * and its open; the walk must succeed. */
static void
walk_swapped(struct fixture *f, void (*what)(int, const char *))
{
	char src[128];

	snprintf(src, sizeof src, "%s/src", f->dir);
	run_in(f->dir, "mkdir src && printf 1 > src/f && printf 2 > src/g");
	swap_name = "f";
	swap = what;
	assert_int_equal(archive_add_tree(&f->a, "integrations", src), 0);
	assert_null(swap_name);
}

/* Listed as a file, a FIFO when opened: skipped with a warning, not
 * waited on for a writer (the alarm ends a walk that waits). */
static void
test_file_become_fifo_is_skipped(void **state)
{
	struct fixture *f = *state;

	alarm(20);
	walk_swapped(f, to_fifo);
	alarm(0);
	assert_int_equal(f->a.skipped, 1);
	assert_int_equal(f->a.files, 1);
	assert_int_equal(f->a.vanished, 0);
}

/* Listed as a file, a symbolic link when opened: archived as the link
 * it is now, not counted as vanished. */
static void
test_file_become_link_is_a_link(void **state)
{
	struct fixture *f = *state;
	char *m;

	walk_swapped(f, to_link);
	assert_int_equal(f->a.links, 1);
	assert_int_equal(f->a.files, 1);
	assert_int_equal(f->a.vanished, 0);
	assert_int_equal(archive_finish(&f->a, ""), 0);
	run_in(f->dir, "mkdir x && tar -xf out.tar -C x");
	m = slurp(f->dir, "x/top/MANIFEST");
	assert_non_null(strstr(m, "\nl 0777 0 - integrations/f g\n"));
}

/* Listed as a file, a socket when opened (which open() refuses):
 * skipped with a warning, the backup goes on. */
static void
test_file_become_socket_is_skipped(void **state)
{
	struct fixture *f = *state;

	walk_swapped(f, to_socket);
	assert_int_equal(f->a.skipped, 1);
	assert_int_equal(f->a.files, 1);
	assert_int_equal(f->a.vanished, 0);
}

/* Listed, then removed before its open: counted as vanished. */
static void
test_file_removed_vanished(void **state)
{
	struct fixture *f = *state;

	walk_swapped(f, to_nothing);
	assert_int_equal(f->a.vanished, 1);
	assert_int_equal(f->a.files, 1);
}

static void
test_add_file_refuses_non_regular(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(archive_add_file(&f->a, ".env", "/tmp"), -1);
	assert_non_null(strstr(f->a.err, "not a regular file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_owner_names_are_each_files_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tree_is_archived_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_manifest_lists_every_member,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_shrinking_file_in_a_live_tree_keeps_its_size, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shrinking_file_is_an_error,
		    setup, teardown),
		cmocka_unit_test(test_link_escapes),
		cmocka_unit_test_setup_teardown(test_escaping_links_are_skipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_tree_names_it,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_add_file_refuses_non_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_files_are_not_stat,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_become_fifo_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_become_link_is_a_link, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_file_become_socket_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_removed_vanished,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
