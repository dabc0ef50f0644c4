/* archive.c - members, the integrations tree, and the manifest. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "format.h"
#include "io.h"
#include "log.h"

/* Deeper trees than this are refused rather than exhausting descriptors. */
#define MAX_DEPTH 64

static int
fail(struct archive *a, const char *what, const char *name)
{
	int e = errno;

	snprintf(a->err, sizeof a->err, "cannot %s '%s': %s", what, name,
	    strerror(e));
	errno = e;
	return -1;
}

int
archive_open(struct archive *a, int fd, const char *top)
{
	memset(a, 0, sizeof *a);
	snprintf(a->top, sizeof a->top, "%s", top);
	/* The manifest grows with the number of files: it waits in an
	 * unnamed temporary file, not in our memory. */
	a->mf = tmpfile();
	a->buf = malloc(ARCHIVE_COPY);
	if (a->mf == NULL || a->buf == NULL || tar_open(&a->tar, fd) < 0) {
		int e = a->buf == NULL && a->mf != NULL ? ENOMEM : errno;
		if (a->mf)
			fclose(a->mf);
		a->mf = NULL;
		free(a->buf);
		a->buf = NULL;
		errno = e;
		return fail(a, "start archive", top);
	}
	return 0;
}

void
archive_close(struct archive *a)
{
	if (a->mf)
		fclose(a->mf);
	a->mf = NULL;
	free(a->buf);
	a->buf = NULL;
	tar_close(&a->tar);
}

/* Records a member in the manifest. */
static int
note(struct archive *a, char kind, mode_t mode, unsigned long long size,
    const char *sha, const char *name, const char *target)
{
	char line[2 * 4 * PATH_MAX + 128];
	int n = format_member_line(kind, (unsigned)(mode & 07777), size, sha,
	    name, target, line, sizeof line);

	if (n < 0) {
		errno = ENAMETOOLONG;
		return fail(a, "store", name);
	}
	fwrite(line, 1, (size_t)n, a->mf);
	return 0;
}

/* Builds TOP/NAME into OUT. */
static int
member_path(struct archive *a, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s", a->top, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return fail(a, "store", name);
	}
	return 0;
}

/* The name of user (or, with GROUP, group) ID, or NULL: from the last
 * ARCHIVE_OWNERS looked up in CACHE (*N so far), else from the system. */
static const char *
owner_name(struct archive_owner *cache, unsigned *n, unsigned long id,
    int group)
{
	struct archive_owner *o;
	char buf[4096];

	for (unsigned i = 0; i < *n && i < ARCHIVE_OWNERS; i++)
		if (cache[i].id == id)
			return cache[i].name[0] ? cache[i].name : NULL;
	o = &cache[*n % ARCHIVE_OWNERS];
	(*n)++;
	o->id = id;
	o->name[0] = '\0';
	if (group) {
		struct group gr, *grp = NULL;
		if (getgrgid_r((gid_t)id, &gr, buf, sizeof buf, &grp) == 0 &&
		    grp)
			snprintf(o->name, sizeof o->name, "%s", gr.gr_name);
	} else {
		struct passwd pw, *pwp = NULL;
		if (getpwuid_r((uid_t)id, &pw, buf, sizeof buf, &pwp) == 0 &&
		    pwp)
			snprintf(o->name, sizeof o->name, "%s", pw.pw_name);
	}
	return o->name[0] ? o->name : NULL;
}

static void
owner_names(struct archive *a, struct tar_entry *e)
{
	e->uname = owner_name(a->users, &a->nusers, e->uid, 0);
	e->gname = owner_name(a->groups, &a->ngroups, e->gid, 1);
}

int
archive_add_data(struct archive *a, const char *name, const void *data,
    size_t len, mode_t mode)
{
	char path[PATH_MAX], sha[65];
	struct tar_entry e = {
		.path = path, .type = TAR_FILE, .mode = mode, .size = len,
		.mtime = time(NULL), .uid = getuid(), .gid = getgid(),
	};

	if (member_path(a, name, path, sizeof path) < 0)
		return -1;
	owner_names(a, &e);
	if (tar_begin(&a->tar, &e) < 0 || tar_write(&a->tar, data, len) < 0 ||
	    tar_end(&a->tar, sha) < 0)
		return fail(a, "write archive member", name);
	a->files++;
	return note(a, 'f', mode, len, sha, name, NULL);
}

/* Writes the header of the file member NAME as ST describes it. */
static int
file_begin(struct archive *a, const char *name, const struct stat *st)
{
	char path[PATH_MAX];
	struct tar_entry e = {
		.path = path, .type = TAR_FILE, .mode = st->st_mode,
		.size = (uint64_t)st->st_size, .mtime = st->st_mtime,
		.uid = st->st_uid, .gid = st->st_gid,
	};

	if (member_path(a, name, path, sizeof path) < 0)
		return -1;
	owner_names(a, &e);
	if (tar_begin(&a->tar, &e) < 0)
		return fail(a, "write archive member", name);
	return 0;
}

int
archive_begin_outside(struct archive *a, const char *name,
    const struct stat *st)
{
	if (file_begin(a, name, st) < 0)
		return -1;
	if (tar_flush(&a->tar) < 0)
		return fail(a, "write archive member", name);
	return 0;
}

int
archive_end_outside(struct archive *a, const char *name,
    const struct stat *st, const char *hex)
{
	if (tar_written(&a->tar, (uint64_t)st->st_size) < 0 ||
	    tar_end(&a->tar, NULL) < 0)
		return fail(a, "write archive member", name);
	a->files++;
	return note(a, 'f', st->st_mode, (unsigned long long)st->st_size, hex,
	    name, NULL);
}

int
archive_add_fd(struct archive *a, const char *name, int fd,
    const struct stat *st, const char *source)
{
	char sha[65];
	unsigned char *buf = a->buf;
	uint64_t left = (uint64_t)st->st_size;
	off_t off = 0;
	int shrank = 0;
	struct stat after;

	if (file_begin(a, name, st) < 0)
		return -1;
	while (left > 0) {
		size_t want = left < ARCHIVE_COPY ? (size_t)left : ARCHIVE_COPY;
		ssize_t n = io_pread(fd, buf, want, off);
		if (n < 0)
			return fail(a, "read", source);
		if (n == 0 && a->churn) {
			/* The header said its size: keep to it. */
			n = (ssize_t)want;
			memset(buf, 0, want);
			shrank = 1;
		} else if (n == 0) {
			snprintf(a->err, sizeof a->err, "'%s' shrank while "
			    "it was being archived", source);
			errno = EIO;
			return -1;
		}
		if (tar_write(&a->tar, buf, (size_t)n) < 0)
			return fail(a, "write archive member", name);
		left -= (uint64_t)n;
		off += n;
	}
	if (tar_end(&a->tar, sha) < 0)
		return fail(a, "write archive member", name);
	if (a->churn && (shrank || (fstat(fd, &after) == 0 &&
	    (after.st_size != st->st_size ||
	    after.st_mtim.tv_sec != st->st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != st->st_mtim.tv_nsec)))) {
		log_warn("'%s' changed while it was archived: archived %s",
		    source, shrank ? "with zeros where it shrank" :
		    "as far as its size was when read began");
		a->changed++;
	}
	a->files++;
	return note(a, 'f', st->st_mode, (unsigned long long)st->st_size, sha,
	    name, NULL);
}

int
archive_add_file(struct archive *a, const char *name, const char *path)
{
	struct stat st;
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(a, "read", path);
	if (fstat(fd, &st) < 0) {
		rc = fail(a, "read", path);
	} else if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		snprintf(a->err, sizeof a->err, "cannot read '%s': not a "
		    "regular file", path);
		rc = -1;
	} else {
		rc = archive_add_fd(a, name, fd, &st, path);
	}
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int
add_dir_entry(struct archive *a, const char *name, const struct stat *st)
{
	char path[PATH_MAX], sha[65];
	struct tar_entry e = {
		.path = path, .type = TAR_DIR, .mode = st->st_mode,
		.mtime = st->st_mtime, .uid = st->st_uid, .gid = st->st_gid,
	};
	size_t n;

	if (member_path(a, name, path, sizeof path) < 0)
		return -1;
	/* Directory members end in '/', as tar writes them. */
	n = strlen(path);
	if (n + 1 >= sizeof path) {
		errno = ENAMETOOLONG;
		return fail(a, "store", name);
	}
	path[n] = '/';
	path[n + 1] = '\0';
	owner_names(a, &e);
	if (tar_begin(&a->tar, &e) < 0 || tar_end(&a->tar, sha) < 0)
		return fail(a, "write archive member", name);
	a->dirs++;
	return note(a, 'd', st->st_mode, 0, "-", name, NULL);
}

int
archive_add_dir(struct archive *a, const char *name, mode_t mode)
{
	struct stat st = { .st_mode = S_IFDIR | mode, .st_mtime = time(NULL),
		.st_uid = getuid(), .st_gid = getgid() };

	return add_dir_entry(a, name, &st);
}

int
archive_link_escapes(const char *path, const char *target)
{
	long depth = 0;
	const char *p;

	if (target[0] == '/' || target[0] == '\0')
		return 1;
	/* The link's own folder: one level per '/' in its path. */
	for (p = path; *p; p++)
		if (*p == '/' && p[1] != '\0')
			depth++;
	for (p = target; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 1;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n + (p[n] == '/');
	}
	return 0;
}

/* An entry of the tree at SRC could not be read (WHAT): gone since it
 * was listed (or replaced by another kind, ELOOP and ENOTDIR under
 * O_NOFOLLOW), it is skipped with a warning; else it is an error. */
static int
gone(struct archive *a, const char *src, const char *what)
{
	if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
		return fail(a, what, src);
	log_warn("'%s' vanished while the integrations were archived: "
	    "skipped", src);
	a->vanished++;
	return 0;
}

static int
add_symlink(struct archive *a, int dirfd, const char *entry,
    const char *name, const char *rel, const struct stat *st,
    const char *source)
{
	char path[PATH_MAX], target[PATH_MAX], sha[65];
	struct tar_entry e = {
		.path = path, .type = TAR_SYMLINK, .mode = st->st_mode,
		.mtime = st->st_mtime, .uid = st->st_uid, .gid = st->st_gid,
		.linkname = target,
	};
	ssize_t n;

	n = readlinkat(dirfd, entry, target, sizeof target - 1);
	/* EINVAL: no longer a link.  Gone, as far as we are concerned. */
	if (n < 0 && errno == EINVAL)
		errno = ENOENT;
	if (n < 0)
		return gone(a, source, "read link");
	target[n] = '\0';
	if (archive_link_escapes(rel, target)) {
		log_warn("skipping '%s': its target '%s' is outside the "
		    "folder backed up", source, target);
		a->skipped++;
		return 0;
	}
	if (member_path(a, name, path, sizeof path) < 0)
		return -1;
	owner_names(a, &e);
	if (tar_begin(&a->tar, &e) < 0 || tar_end(&a->tar, sha) < 0)
		return fail(a, "write archive member", name);
	a->links++;
	return note(a, 'l', 0777, 0, "-", name, target);
}

/* A name in a folder, and its kind as the listing gave it (d_type;
 * DT_UNKNOWN where the file system does not say). */
struct dent {
	unsigned char type;
	char name[];
};

static int
by_name(const void *x, const void *y)
{
	return strcmp((*(struct dent *const *)x)->name,
	    (*(struct dent *const *)y)->name);
}

/* Reads the names in DIRFD (which it takes over), sorted; the caller frees
 * each and the array.  Returns the count or -1. */
static ssize_t
list_dir(int dirfd, struct dent ***names)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	struct dent **v = NULL;
	size_t n = 0, cap = 0;

	*names = NULL;
	if (d == NULL) {
		int e = errno;
		close(dirfd);
		errno = e;
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		size_t len;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct dent **nv = realloc(v,
			    cap * sizeof(struct dent *));
			if (nv == NULL)
				goto fail;
			v = nv;
		}
		len = strlen(de->d_name);
		if ((v[n] = malloc(sizeof *v[n] + len + 1)) == NULL)
			goto fail;
		v[n]->type = de->d_type;
		memcpy(v[n]->name, de->d_name, len + 1);
		n++;
		errno = 0;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(struct dent *), by_name);
	*names = v;
	return (ssize_t)n;
fail:
	{
		int e = errno ? errno : ENOMEM;
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		closedir(d);
		errno = e;
		return -1;
	}
}

/* Archives ENTRY of DIRFD, a regular file when last looked at (listed as
 * one: then opened without a stat first, one system call a file fewer in
 * trees of hundreds of thousands of them).  O_NONBLOCK: what took its
 * place since may be a FIFO, whose open would wait for a writer.  A
 * lease holder's break is waited for, as any reader does.  Returns 1
 * when it is not a regular file now (a link, a FIFO, a socket, ...), else
 * archive_add_fd()'s result, or gone()'s. */
static int
add_file(struct archive *a, int dirfd, const char *entry, const char *name,
    const char *source)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int rc, f;

	f = openat(dirfd, entry, flags | O_NONBLOCK);
	if (f < 0 && errno == EWOULDBLOCK)
		f = openat(dirfd, entry, flags);
	/* ELOOP: a link now; ENXIO: a socket. */
	if (f < 0)
		return errno == ELOOP || errno == ENXIO ? 1 :
		    gone(a, source, "read");
	if (fstat(f, &st) < 0)
		rc = fail(a, "read", source);
	else if (!S_ISREG(st.st_mode))
		rc = 1;
	else
		rc = archive_add_fd(a, name, f, &st, source);
	close(f);
	return rc;
}

/* Archives the entries of DIRFD as NAME/...; ROOTLEN is the length of
 * the tree's own name in NAME, so that NAME + ROOTLEN + 1 is the path
 * inside the tree. */
static int
walk(struct archive *a, int dirfd, const char *name, size_t rootlen,
    const char *source, int depth)
{
	struct dent **names;
	ssize_t n;
	int rc = 0, fd;

	if (depth > MAX_DEPTH) {
		errno = ELOOP;
		return fail(a, "archive", source);
	}
	fd = dup(dirfd);
	if (fd < 0)
		return fail(a, "read directory", source);
	n = list_dir(fd, &names);
	if (n < 0)
		return fail(a, "read directory", source);
	for (ssize_t i = 0; i < n && rc == 0; i++) {
		char child[PATH_MAX], src[PATH_MAX];
		const char *entry = names[i]->name;
		struct stat st;

		if (io_stop_signal) {
			errno = EINTR;
			rc = fail(a, "archive", source);
			break;
		}
		if ((size_t)snprintf(child, sizeof child, "%s/%s", name,
		    entry) >= sizeof child ||
		    (size_t)snprintf(src, sizeof src, "%s/%s", source,
		    entry) >= sizeof src) {
			errno = ENAMETOOLONG;
			rc = fail(a, "archive", source);
			break;
		}
		if (names[i]->type == DT_REG) {
			rc = add_file(a, dirfd, entry, child, src);
			if (rc != 1)
				continue;
			rc = 0;	/* changed its kind: look again */
		}
		if (fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = gone(a, src, "read");
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, entry, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				rc = gone(a, src, "read directory");
			else {
				rc = add_dir_entry(a, child, &st);
				if (rc == 0)
					rc = walk(a, sub, child, rootlen,
					    src, depth + 1);
				close(sub);
			}
		} else if (S_ISLNK(st.st_mode)) {
			rc = add_symlink(a, dirfd, entry, child,
			    child + rootlen + 1, &st, src);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_file(a, dirfd, entry, child, src);
			/* Changed its kind again since the stat. */
			if (rc == 1) {
				errno = ENOENT;
				rc = gone(a, src, "read");
			}
		} else {
			log_warn("skipping '%s': not a file, folder or "
			    "symbolic link", src);
			a->skipped++;
		}
	}
	for (ssize_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
archive_add_tree(struct archive *a, const char *name, const char *dir)
{
	struct stat st;
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(a, "read directory", dir);
	if (fstat(fd, &st) < 0)
		rc = fail(a, "read directory", dir);
	else {
		rc = add_dir_entry(a, name, &st);
		a->churn = 1;
		if (rc == 0)
			rc = walk(a, fd, name, strlen(name), dir, 0);
		a->churn = 0;
	}
	close(fd);
	return rc;
}

int
archive_finish(struct archive *a, const char *header)
{
	char path[PATH_MAX], sha[65];
	struct tar_entry e = { .path = path, .type = TAR_FILE, .mode = 0600,
		.mtime = time(NULL), .uid = getuid(), .gid = getgid() };
	long mlen;
	size_t n, got;
	int hn;

	char magic[64];

	format_manifest_magic(magic, sizeof magic);
	n = strlen(magic);
	magic[n] = '\n';
	magic[n + 1] = '\0';
	hn = (int)(strlen(magic) + strlen(header));
	if (fflush(a->mf) != 0 || (mlen = ftell(a->mf)) < 0 ||
	    fseek(a->mf, 0, SEEK_SET) != 0)
		return fail(a, "write", "MANIFEST");
	if (member_path(a, "MANIFEST", path, sizeof path) < 0)
		return -1;
	owner_names(a, &e);
	e.size = (uint64_t)hn + (uint64_t)mlen;
	if (tar_begin(&a->tar, &e) < 0 ||
	    tar_write(&a->tar, magic, strlen(magic)) < 0 ||
	    tar_write(&a->tar, header, strlen(header)) < 0)
		return fail(a, "write", "MANIFEST");
	for (n = 0; n < (size_t)mlen; n += got) {
		got = fread(a->buf, 1, ARCHIVE_COPY, a->mf);
		if (got == 0) {
			errno = ferror(a->mf) ? EIO : ENODATA;
			return fail(a, "write", "MANIFEST");
		}
		if (tar_write(&a->tar, a->buf, got) < 0)
			return fail(a, "write", "MANIFEST");
	}
	if (tar_end(&a->tar, sha) < 0)
		return fail(a, "write", "MANIFEST");
	if (tar_finish(&a->tar) < 0)
		return fail(a, "write", "archive");
	return 0;
}
