/* unpack.c - one pass over an archive: check it, and unpack it. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "format.h"
#include "io.h"
#include "ledger.h"
#include "legacy.h"
#include "progress.h"
#include "script.h"
#include "spawn.h"
#include "tar.h"
#include "unpack.h"

#define MANIFEST_MAX (512 * 1024 * 1024)

#define COPY_BUF (128 * 1024)
/* A manifest line: a kind, numbers, a hash and two escaped names. */
#define LINE_MAX_ (2 * 4 * TAR_NAME_MAX + 256)

/* What an archive of the original utility held, member by member: its
 * members come in no known order, so its checks look names up in a table
 * (in memory, kept small).  Ours need no table: see in_order(). */
struct member {
	char *name;		/* below the top folder (in the arena) */
	char *target;		/* link target, or NULL (in the arena) */
	uint64_t size;
	int64_t mtime;
	uint32_t uid, gid;
	uint16_t mode;
	char kind;		/* 'f', 'd' or 'l' */
	char staged;		/* a folder or link made in the stage */
	unsigned char sha[32];	/* of a file's data */
};

/* A member of ours, as its ledger record holds it: this, then the name
 * and the link target (or ""), each ending with a NUL. */
struct rec {
	uint64_t size;
	int64_t mtime;
	uint32_t uid, gid;
	uint16_t mode;
	char kind;
	unsigned char sha[32];
};

/* Names live in blocks that never move, without malloc's per-string
 * overhead. */
#define ARENA_BLOCK (64 * 1024)
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

/* The last user and group names looked up, and what they gave: the
 * members of a tree mostly share their owner, and each lookup reads
 * /etc/passwd or /etc/group again. */
struct owners {
	char uname[sizeof ((struct tar_member *)0)->uname];
	char gname[sizeof ((struct tar_member *)0)->gname];
	uid_t uid;
	gid_t gid;
	int uid_found, gid_found;	/* the name is known here */
};

struct unpack {
	struct unpacked *u;
	struct owners own;
	struct unpack_opts o;
	const char *path;
	struct child zip;	/* the decompressor (pid 0: none) */
	int from;		/* the tar stream, from the decompressor */
	int first;		/* no member read yet */
	int ended;		/* unpack_next() returned 0 or -1 */
	struct tar_reader r;
	struct tar_member tm;
	struct member *m;
	size_t n, cap;
	uint32_t *slot;		/* hash table of indexes + 1; 0 is empty */
	size_t slots;
	struct arena_block *arena;
	/* Ours: what each member was, in a ledger on disk (compared with
	 * the manifest, and read again for the links and folders of the
	 * stage), and where the previous member stood (see in_order()). */
	struct ledger led;
	int led_reading;	/* the ledger is being read back */
	unsigned long count;	/* members so far */
	unsigned long matched;	/* ledger records the manifest matched */
	unsigned fixed;		/* the fixed members seen (fixed_index()) */
	char prev[TAR_NAME_MAX];	/* the previous member's name */
	char prev_kind;
	char cur[TAR_NAME_MAX];	/* the file unpack_next() returns */
	unsigned char rec[sizeof(struct rec) + 2 * TAR_NAME_MAX];
	int manifest_seen;
	unsigned long manifest_lines;
	int done;		/* MANIFEST read: nothing may follow */
	/* An archive of the original utility. */
	int legacy;
	struct legacy_read *lg;
	char cand[NAME_MAX + 1];	/* the top folder, if there is one:
					 * the first member's first part */
	int cand_set, under;		/* and whether all are below it */
	char *err;
	size_t elen;
	struct script sc;	/* the dump being read, as psql reads it */
	unsigned char buf[COPY_BUF];
	char line[LINE_MAX_];	/* the manifest line being read */
	char name[4 * TAR_NAME_MAX], target[4 * TAR_NAME_MAX];
};

static int bad(struct unpack *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Describes what is wrong with the archive; returns -1 with EINVAL. */
static int
bad(struct unpack *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->elen, fmt, ap);
	va_end(ap);
	s->u->damaged = 1;
	errno = EINVAL;
	return -1;
}

static size_t
hash(const char *str)
{
	size_t h = 1469598103934665603ULL;

	for (; *str; str++)
		h = (h ^ (unsigned char)*str) * 1099511628211ULL;
	return h;
}

static struct member *
find(struct unpack *s, const char *name)
{
	if (s->slots == 0)
		return NULL;
	for (size_t i = hash(name) & (s->slots - 1);; i = (i + 1) &
	    (s->slots - 1)) {
		if (s->slot[i] == 0)
			return NULL;
		if (strcmp(s->m[s->slot[i] - 1].name, name) == 0)
			return &s->m[s->slot[i] - 1];
	}
}

/* Copies STR into the arena.  Returns the copy, or NULL. */
static char *
arena_dup(struct unpack *s, const char *str)
{
	size_t len = strlen(str) + 1;
	struct arena_block *b = s->arena;
	char *p;

	if (b == NULL || b->size - b->used < len) {
		size_t size = len > ARENA_BLOCK ? len : ARENA_BLOCK;
		b = malloc(sizeof *b + size);
		if (b == NULL)
			return NULL;
		b->next = s->arena;
		b->used = 0;
		b->size = size;
		s->arena = b;
	}
	p = b->data + b->used;
	memcpy(p, str, len);
	b->used += len;
	return p;
}

/* The 32 bytes of the 64 hex digits HEX. */
static void
unhex(const char *hex, unsigned char out[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + j];
			v = v << 4 | (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		out[i] = (unsigned char)v;
	}
}

static int
grow(struct unpack *s)
{
	if (s->n == s->cap) {
		/* By half: an array that doubles may hold twice what it
		 * needs. */
		size_t cap = s->cap ? s->cap + s->cap / 2 : 1024;
		struct member *m = realloc(s->m, cap * sizeof *m);
		if (m == NULL)
			return -1;
		s->m = m;
		s->cap = cap;
	}
	if ((s->n + 1) * 2 > s->slots) {
		size_t slots = s->slots ? s->slots * 2 : 1024;
		uint32_t *t = calloc(slots, sizeof *t);
		if (t == NULL)
			return -1;
		for (size_t k = 0; k < s->n; k++) {
			size_t i = hash(s->m[k].name) & (slots - 1);
			while (t[i])
				i = (i + 1) & (slots - 1);
			t[i] = (uint32_t)(k + 1);
		}
		free(s->slot);
		s->slot = t;
		s->slots = slots;
	}
	return 0;
}

/* Tells the caller of member NAME, if it asked. */
static void
tell(struct unpack *s, char kind, const char *name,
    const struct tar_member *tm)
{
	if (s->o.on_member) {
		struct unpack_entry e = { .kind = kind,
			.mode = (unsigned)(tm->mode & 07777), .size = tm->size,
			.name = name,
			.target = kind == 'l' ? tm->linkname : NULL };
		s->o.on_member(s->o.arg, &e);
	}
}

/* Records member M (NAME is copied).  Returns it, or NULL. */
static struct member *
record(struct unpack *s, const char *name, char kind,
    const struct tar_member *tm)
{
	struct member *m;
	size_t i;

	if (grow(s) < 0)
		return NULL;
	m = &s->m[s->n];
	memset(m, 0, sizeof *m);
	m->name = arena_dup(s, name);
	if (m->name == NULL)
		return NULL;
	if (kind == 'l' && (m->target = arena_dup(s, tm->linkname)) == NULL)
		return NULL;
	m->kind = kind;
	m->mode = (uint16_t)(tm->mode & 07777);
	m->size = tm->size;
	m->mtime = tm->mtime;
	m->uid = (uint32_t)tm->uid;
	m->gid = (uint32_t)tm->gid;
	for (i = hash(name) & (s->slots - 1); s->slot[i]; i = (i + 1) &
	    (s->slots - 1))
		;
	s->slot[i] = (uint32_t)++s->n;
	tell(s, kind, m->name, tm);
	return m;
}

/* Ours: checks in the order the members come, and a ledger. */

/* The members the format names: their bit in S->fixed, or -1. */
static int
fixed_index(const char *name)
{
	static const char *const top[] = { FORMAT_FORMAT, FORMAT_ENV,
		FORMAT_INTEGRATIONS, FORMAT_DATABASE, FORMAT_MANIFEST };

	for (int i = 0; i < 5; i++)
		if (strcmp(name, top[i]) == 0)
			return i;
	for (int i = 0; i < FORMAT_NDUMPS; i++)
		if (strcmp(name, format_dump_member[i]) == 0)
			return 5 + i;
	return -1;
}

/* Opens the ledger: in the stage when there is one (its room is checked
 * already), else in TMPDIR or /tmp. */
static int
open_ledger(struct unpack *s)
{
	const char *tmp = getenv("TMPDIR");
	char dir[64];

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (s->o.stage >= 0 && access("/proc/self/fd", X_OK) == 0) {
		snprintf(dir, sizeof dir, "/proc/self/fd/%d", s->o.stage);
		tmp = dir;
	}
	if (ledger_open(&s->led, tmp) < 0) {
		snprintf(s->err, s->elen, "cannot make a temporary file in "
		    "'%s': %s", tmp == dir ? "the staging folder" : tmp,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Adds member NAME to the ledger; HEX is a file's SHA-256. */
static int
note_member(struct unpack *s, const char *name, char kind,
    const struct tar_member *tm, const char *hex)
{
	struct rec r;
	size_t nl = strlen(name) + 1;
	const char *target = kind == 'l' ? tm->linkname : "";
	size_t tl = strlen(target) + 1;

	memset(&r, 0, sizeof r);	/* the padding too: it is written */
	r.size = kind == 'f' ? tm->size : 0;
	r.mtime = tm->mtime;
	r.uid = (uint32_t)tm->uid;
	r.gid = (uint32_t)tm->gid;
	r.mode = (uint16_t)(tm->mode & 07777);
	r.kind = kind;
	if (hex)
		unhex(hex, r.sha);
	memcpy(s->rec, &r, sizeof r);
	memcpy(s->rec + sizeof r, name, nl);
	memcpy(s->rec + sizeof r + nl, target, tl);
	if (ledger_add(&s->led, s->rec, sizeof r + nl + tl) < 0) {
		snprintf(s->err, s->elen, "cannot keep the list of members: "
		    "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads the next ledger record (backwards when BACK) into S->rec: its
 * fields into *R, its name and target.  Returns 1, 0 at the end, -1. */
static int
next_rec(struct unpack *s, int back, struct rec *r, const char **name,
    const char **target)
{
	ssize_t n = back ? ledger_prev(&s->led, s->rec, sizeof s->rec - 1) :
	    ledger_next(&s->led, s->rec, sizeof s->rec - 1);
	size_t nl;

	if (n == 0)
		return 0;
	if (n < (ssize_t)sizeof *r + 2) {
		snprintf(s->err, s->elen, "cannot read the list of members: "
		    "%s", strerror(n < 0 ? errno : EIO));
		return -1;
	}
	s->rec[n] = '\0';
	memcpy(r, s->rec, sizeof *r);
	*name = (const char *)s->rec + sizeof *r;
	nl = strlen(*name) + 1;
	*target = sizeof *r + nl < (size_t)n ? *name + nl : "";
	return 1;
}

/* Whether NAME may come where it does.  polarity writes each folder's
 * entries right after it, the integrations in name order (strcmp), so
 * that a member's folder is the previous member or one of that one's
 * folders, and its name sorts after the entry of that folder that came
 * last: this alone rules out duplicates and members below a file or a
 * link, with nothing remembered but the previous member.  The members the
 * format names come in its own order, each once. */
static int
in_order(struct unpack *s, const struct tar_member *tm, const char *name,
    char kind)
{
	const char *slash = strrchr(name, '/'), *child, *last;
	size_t plen, prevlen = strlen(s->prev), llen;
	int fi = fixed_index(name), c;

	if (fi >= 0 && (s->fixed & 1u << fi))
		return bad(s, "'%s' appears twice", tm->path);
	if (fi >= 0)
		s->fixed |= 1u << fi;
	if (slash == NULL)
		goto keep;
	plen = (size_t)(slash - name);
	child = slash + 1;
	if (prevlen == plen && memcmp(s->prev, name, plen) == 0) {
		/* The first entry of the previous member, a folder. */
		if (s->prev_kind != 'd')
			return bad(s, "'%s' lies below a symbolic link or a "
			    "file", tm->path);
		goto keep;
	}
	if (prevlen > plen && memcmp(s->prev, name, plen) == 0 &&
	    s->prev[plen] == '/') {
		/* A later entry of one of the previous member's folders. */
		if (fi >= 0)
			goto keep;
		last = s->prev + plen + 1;
		llen = strcspn(last, "/");
		c = strncmp(child, last, llen);
		if (c == 0)
			c = child[llen] != '\0';
		if (c == 0)
			return bad(s, "'%s' appears twice", tm->path);
		if (c > 0)
			goto keep;
	} else if (plen > prevlen && memcmp(s->prev, name, prevlen) == 0 &&
	    name[prevlen] == '/' && s->prev_kind != 'd') {
		return bad(s, "'%s' lies below a symbolic link or a file",
		    tm->path);
	}
	return bad(s, "'%s' is out of place (a backup holds each folder's "
	    "entries right after it, in name order, each once): the archive "
	    "was altered", tm->path);
keep:
	memcpy(s->prev, name, strlen(name) + 1);
	s->prev_kind = kind;
	return 0;
}

/* Whether NAME is a path we would write: no empty, "." or ".."
 * component, no leading '/'. */
static int
clean_name(const char *name)
{
	const char *p = name;

	if (*p == '\0' || *p == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/' && *++p == '\0')
			return 0;
	}
	return 1;
}

static const char *
type_word(char t)
{
	switch (t) {
	case '1': return "a hard link";
	case '3': return "a character device";
	case '4': return "a block device";
	case '6': return "a FIFO";
	case '7': return "a contiguous file";
	case 'L': case 'K': return "a GNU long-name header";
	case 'g': return "a pax global header";
	case 'S': return "a sparse file";
	default: return "an unknown kind of member";
	}
}

/* The folders above NAME, from the top down: call first with *AT NULL;
 * each call writes the next one into BUF (TAR_NAME_MAX bytes) and
 * returns 1, then 0 once there is none. */
static int
next_parent(const char *name, const char **at, char *buf)
{
	const char *p = strchr(*at ? *at + 1 : name, '/');
	size_t n;

	if (p == NULL)
		return 0;
	n = (size_t)(p - name);
	memcpy(buf, name, n);
	buf[n] = '\0';
	*at = p;
	return 1;
}

/* Nothing may be below a symbolic link or a file. */
static int
parents_ok(struct unpack *s, const char *name)
{
	char buf[TAR_NAME_MAX];
	const char *at = NULL;

	while (next_parent(name, &at, buf)) {
		struct member *m = find(s, buf);
		if (m && m->kind != 'd')
			return 0;
	}
	return 1;
}

static void
set_owner(struct owners *o, int dirfd, const char *name,
    const struct tar_member *tm, int flags)
{
	/* Only root can give files away; others keep them as their own. */
	if (geteuid() != 0)
		return;
	uid_t uid = tm->uid;
	gid_t gid = tm->gid;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];

	/* Names first, as tar does: uids differ between hosts. */
	if (tm->uname[0] && strcmp(tm->uname, o->uname) != 0) {
		snprintf(o->uname, sizeof o->uname, "%s", tm->uname);
		o->uid_found = getpwnam_r(tm->uname, &pw, buf, sizeof buf,
		    &pwp) == 0 && pwp;
		if (o->uid_found)
			o->uid = pw.pw_uid;
	}
	if (tm->uname[0] && o->uid_found)
		uid = o->uid;
	if (tm->gname[0] && strcmp(tm->gname, o->gname) != 0) {
		snprintf(o->gname, sizeof o->gname, "%s", tm->gname);
		o->gid_found = getgrnam_r(tm->gname, &gr, buf, sizeof buf,
		    &grp) == 0 && grp;
		if (o->gid_found)
			o->gid = gr.gr_gid;
	}
	if (tm->gname[0] && o->gid_found)
		gid = o->gid;
	(void)fchownat(dirfd, name, uid, gid, flags);
}

/* Which of the dumps a restore loads NAME is: 0 for the pre-data dump,
 * 1 for the data dump, 2 for the post-data dump; else -1. */
static int
loaded_dump(const char *name)
{
	for (int i = FORMAT_PRE; i <= FORMAT_POST; i++)
		if (strcmp(name, format_dump_member[i]) == 0)
			return i - FORMAT_PRE;
	return -1;
}

/* Writes the N bytes of BUF at *OFF in FD, leaving a hole where a block
 * of SPARSE_BLOCK bytes is all zeros, as a sparse file had one (the
 * archive holds its zeros; on disk they take no room); advances *OFF.
 * Returns 0 or -1 with errno set. */
#define SPARSE_BLOCK 4096
static int
sparse_write(int fd, const unsigned char *buf, size_t n, off_t *off)
{
	static const unsigned char zeros[SPARSE_BLOCK];

	for (size_t at = 0; at < n; ) {
		size_t len = n - at < SPARSE_BLOCK ? n - at : SPARSE_BLOCK;
		if (memcmp(buf + at, zeros, len) != 0) {
			size_t done = 0;
			while (done < len) {
				ssize_t w = pwrite(fd, buf + at + done,
				    len - done, *off + (off_t)done);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					return -1;
				done += (size_t)w;
			}
		}
		*off += (off_t)len;
		at += len;
	}
	return 0;
}

/* The dump NAME was read whole (S->sc): one a restore may hand to psql,
 * or refused.  Returns 0, or -1 with S->err. */
static int
dump_read(struct unpack *s, const char *name)
{
	script_end(&s->sc);
	if (s->sc.flaw[0]) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' cannot be loaded: %s, which a "
		    "restore never runs", name, s->sc.flaw);
		return -1;
	}
	if (s->sc.need[0] && s->u->need[0] == '\0')
		snprintf(s->u->need, sizeof s->u->need, "'%s', %s", name,
		    s->sc.need);
	return 0;
}

/* Writes the data of the current member to a new file NAME below the
 * stage, or only hashes it when there is no stage or it is skipped. */
static int
write_file(struct unpack *s, struct tar_reader *r, const struct tar_member *tm,
    const char *name, char sha[65])
{
	unsigned char *buf = s->buf;
	int fd = -1, dump = loaded_dump(name);
	ssize_t n;
	off_t off = 0;

	if (dump >= 0)
		s->u->dump_bytes += tm->size;
	if (dump == 2)
		s->u->post_bytes = tm->size;
	if (s->o.stage >= 0 && !(s->o.skip_dumps && dump >= 0)) {
		fd = openat(s->o.stage, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
	}
	if (dump >= 0)
		script_begin(&s->sc, NULL, NULL);
	while ((n = tar_read(r, buf, COPY_BUF)) > 0) {
		s->u->bytes += (uint64_t)n;
		if (dump >= 0)
			script_feed(&s->sc, buf, (size_t)n);
		if (fd >= 0 && sparse_write(fd, buf, (size_t)n, &off) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			close(fd);
			return -1;
		}
	}
	/* A file that ends in a hole gets its length here. */
	if (fd >= 0 && n == 0 && ftruncate(fd, off) < 0) {
		snprintf(s->err, s->elen, "cannot unpack '%s': %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (n < 0 || tar_skip(r, sha) < 0) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "in '%s': %s", name, r->err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (dump >= 0 && dump_read(s, name) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (dump >= 0)
		memcpy(s->u->dump_sha[dump], sha, sizeof s->u->dump_sha[dump]);
	if (fd >= 0) {
		struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
			{ .tv_sec = (time_t)tm->mtime } };
		/* No set-user or set-group bits from an archive. */
		if (fchmod(fd, tm->mode & 01777) < 0 || futimens(fd, t) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			close(fd);
			return -1;
		}
		set_owner(&s->own, fd, "", tm, AT_EMPTY_PATH);
		if (close(fd) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Whether TM, an archive's first member, is the FORMAT member of ours. */
static int
ours(const struct tar_member *tm)
{
	const char *slash = strchr(tm->path, '/');

	return slash != NULL && strcmp(slash + 1, FORMAT_FORMAT) == 0 &&
	    format_is_top(tm->path, (size_t)(slash - tm->path));
}

/* Reads the FORMAT member, the first of every archive. */
static int
read_format(struct unpack *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char text[64], sha[65];
	size_t got = 0;
	ssize_t n;
	long format;
	const char *slash = strchr(tm->path, '/');
	size_t toplen = slash ? (size_t)(slash - tm->path) : 0;

	if (tm->type != '0' || slash == NULL ||
	    strcmp(slash + 1, FORMAT_FORMAT) != 0 ||
	    !format_is_top(tm->path, toplen) || tm->size >= sizeof text)
		return bad(s, "not a Polarity backup archive (it begins with "
		    "'%s', not a FORMAT member)", tm->path);
	memcpy(s->u->top, tm->path, toplen);
	s->u->top[toplen] = '\0';
	while ((n = tar_read(r, text + got, sizeof text - 1 - got)) > 0)
		got += (size_t)n;
	if (n < 0 || tar_skip(r, sha) < 0)
		return bad(s, "%s", r->err);
	text[got] = '\0';
	format = format_parse_version(text);
	if (format < 0)
		return bad(s, "not a Polarity backup archive (FORMAT says "
		    "'%.40s')", text);
	s->u->format = (int)format;
	if (s->u->format != FORMAT_VERSION) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "archive format %d is not one this "
		    "version reads (it reads format %d); use a newer "
		    "polarity", s->u->format, FORMAT_VERSION);
		errno = EINVAL;
		return -1;
	}
	if (open_ledger(s) < 0)
		return -1;
	tell(s, 'f', FORMAT_FORMAT, tm);
	if (note_member(s, FORMAT_FORMAT, 'f', tm, sha) < 0)
		return -1;
	s->fixed |= 1u << fixed_index(FORMAT_FORMAT);
	snprintf(s->prev, sizeof s->prev, "%s", FORMAT_FORMAT);
	s->prev_kind = 'f';
	s->count = 1;
	s->u->files++;
	s->u->bytes += got;
	return 0;
}

static int manifest_take(struct unpack *s, char *line);

static int
read_manifest(struct unpack *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	/* Line by line as it streams: a manifest grows with the number of
	 * files, our memory must not. */
	char *line = s->line, buf[8192], sha[65];
	size_t len = 0;
	ssize_t n;

	if (tm->size > MANIFEST_MAX)
		return bad(s, "the %s is too large", "MANIFEST");
	s->manifest_seen = 1;
	while ((n = tar_read(r, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\0')
				return bad(s, "the %s holds a NUL byte",
				    "MANIFEST");
			if (buf[i] != '\n') {
				if (len + 1 >= LINE_MAX_)
					return bad(s, "a %s line is too long",
					    "MANIFEST");
				line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (manifest_take(s, line) < 0)
				return -1;
		}
	}
	if (n < 0 || tar_skip(r, sha) < 0)
		return bad(s, "%s", r->err);
	if (len > 0) {
		line[len] = '\0';
		if (manifest_take(s, line) < 0)
			return -1;
	}
	s->done = 1;
	return 0;
}

/* The kind of member TM ('f', 'd' or 'l') into *KIND; anything else
 * (hard links, devices, FIFOs, ...) is refused.  Returns 0 or -1. */
static int
member_kind(struct unpack *s, const struct tar_member *tm, char *kind)
{
	switch (tm->type) {
	case '0': *kind = 'f'; return 0;
	case '5': *kind = 'd'; return 0;
	case '2': *kind = 'l'; return 0;
	default:
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' is %s, which a backup never "
		    "holds", tm->path, type_word(tm->type));
		errno = EINVAL;
		return -1;
	}
}

static int
unsafe(struct unpack *s, const struct tar_member *tm)
{
	return bad(s, "'%.200s' has an unsafe name (empty, '.' or '..' "
	    "parts, or a part longer than %d bytes)", tm->path, NAME_MAX);
}

/* What every member's NAME in a legacy archive must be: safe, new, and
 * below no link or file.  Returns 0 or -1. */
static int
name_ok(struct unpack *s, const struct tar_member *tm, const char *name)
{
	if (!clean_name(name))
		return unsafe(s, tm);
	if (find(s, name))
		return bad(s, "'%s' appears twice", tm->path);
	if (!parents_ok(s, name))
		return bad(s, "'%s' lies below a symbolic link or a file",
		    tm->path);
	return 0;
}

/* Checks one member and unpacks it.  Returns 1 for a file read in
 * full, 0 for another member, or -1. */
static int
take_member(struct unpack *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char *name = s->cur, kind;
	size_t toplen = strlen(s->u->top), len;

	if (s->done)
		return bad(s, "'%s' comes after the MANIFEST", tm->path);
	if (s->count >= s->o.max_members)
		return bad(s, "more members than a backup has (%s)",
		    "a tar bomb?");
	if (strncmp(tm->path, s->u->top, toplen) != 0 ||
	    tm->path[toplen] != '/')
		return bad(s, "'%s' is outside the archive's top folder",
		    tm->path);
	snprintf(name, sizeof s->cur, "%s", tm->path + toplen + 1);
	len = strlen(name);
	if (member_kind(s, tm, &kind) < 0)
		return -1;
	if (kind == 'd' && len > 0 && name[len - 1] == '/')
		name[--len] = '\0';
	if (clean_name(name) && !format_member_allowed(name, kind))
		return bad(s, "'%s' is not a member a backup has", tm->path);
	if (!clean_name(name))
		return unsafe(s, tm);
	if (kind == 'l' && (strncmp(name, "integrations/", 13) != 0 ||
	    archive_link_escapes(name + 13, tm->linkname))) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' is a symbolic link to '%s', "
		    "outside the integrations folder", tm->path, tm->linkname);
		errno = EINVAL;
		return -1;
	}
	if (strcmp(name, FORMAT_MANIFEST) == 0)
		return read_manifest(s, r, tm);
	if (in_order(s, tm, name, kind) < 0)
		return -1;
	s->count++;
	tell(s, kind, name, tm);
	switch (kind) {
	case 'f': {
		char hex[65];
		s->u->files++;
		if (strcmp(name, format_dump_member[FORMAT_ROLES]) == 0)
			s->u->has_roles = 1;
		if (write_file(s, r, tm, name, hex) < 0 ||
		    note_member(s, name, kind, tm, hex) < 0)
			return -1;
		return 1;
	}
	case 'd':
		s->u->dirs++;
		if (s->o.stage >= 0 && mkdirat(s->o.stage, name, 0700) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
		return note_member(s, name, kind, tm, NULL);
	default:
		s->u->links++;
		return note_member(s, name, kind, tm, NULL);
	}
}

/* Reads the ledger again from its first record (BACK 0) or its last. */
static int
led_start(struct unpack *s, int back)
{
	if (ledger_start(&s->led, back) == 0)
		return 0;
	snprintf(s->err, s->elen, "cannot read the list of members: %s",
	    strerror(errno));
	return -1;
}

/* The next record the manifest is compared with (the first, the first
 * time), as next_rec() reads it. */
static int
next_listed(struct unpack *s, struct rec *r, const char **name,
    const char **target)
{
	if (!s->led_reading && led_start(s, 0) < 0)
		return -1;
	s->led_reading = 1;
	return next_rec(s, 0, r, name, target);
}

/* The manifest lists NAME where the archive held the member AT (NULL:
 * none was left): which of the two is wrong, found by reading the ledger
 * again (a damaged archive's path only). */
static int
misplaced(struct unpack *s, const char *name, const char *at)
{
	char held[TAR_NAME_MAX] = "";
	const char *rname, *rtarget;
	unsigned long i = 0;
	struct rec r;
	int rc;

	if (at)
		snprintf(held, sizeof held, "%s", at);
	if (led_start(s, 0) < 0)
		return -1;
	while ((rc = next_rec(s, 0, &r, &rname, &rtarget)) == 1 &&
	    strcmp(rname, name) != 0)
		i++;
	if (rc < 0)
		return -1;
	if (rc == 0)
		return bad(s, "the MANIFEST lists '%s', which the archive "
		    "lacks", name);
	if (i < s->matched)
		return bad(s, "the MANIFEST lists '%s' twice", name);
	return bad(s, "'%s' is not in the MANIFEST", held);
}

/* Takes one line of the manifest: the format line, a header line, or a
 * member line compared with what the archive held. */
static int
manifest_take(struct unpack *s, char *line)
{
	char *name = s->name, *target = s->target;
	char kind, sha[65], want[64];
	const char *rname, *rtarget;
	unsigned char bin[32];
	unsigned mode;
	unsigned long long size;
	struct rec r;
	int rc;

	if (s->manifest_lines++ == 0) {
		format_manifest_magic(want, sizeof want);
		if (strcmp(line, want) != 0)
			return bad(s, "the MANIFEST is not format '%s'", want);
		return 0;
	}
	if (line[0] == '\0')
		return 0;
	if (!format_is_member_line(line)) {
		format_header_line(&s->u->h, line);
		return 0;
	}
	if (strlen(line) >= sizeof s->name ||
	    format_parse_member(line, &kind, &mode, &size, sha, name, target,
	    sizeof s->name) < 0)
		return bad(s, "a malformed MANIFEST line: '%.200s'", line);
	/* The manifest lists the members in the archive's order: each line
	 * is compared with the next record of the ledger. */
	rc = next_listed(s, &r, &rname, &rtarget);
	if (rc < 0)
		return -1;
	if (rc == 0 || strcmp(rname, name) != 0)
		return misplaced(s, name, rc ? rname : NULL);
	s->matched++;
	if (r.kind != kind ||
	    (kind != 'l' && (r.mode & 07777) != (mode & 07777)) ||
	    (kind == 'f' && (r.size != size || strcmp(sha, "-") == 0 ||
	    (unhex(sha, bin), memcmp(r.sha, bin, sizeof bin) != 0))) ||
	    (kind == 'l' && strcmp(rtarget, target) != 0))
		return bad(s, "'%s' does not match the MANIFEST: it was "
		    "changed or damaged", name);
	return 0;
}

/* Once the stream is read: every member listed, nothing missing. */
static int
check_manifest(struct unpack *s)
{
	const char *const *needed = format_required;
	const char *rname, *rtarget;
	struct rec r;
	int rc;

	if (!s->manifest_seen)
		return bad(s, "the archive has no %s (is it cut short?)",
		    FORMAT_MANIFEST);
	rc = next_listed(s, &r, &rname, &rtarget);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return bad(s, "'%s' is not in the MANIFEST", rname);
	for (size_t i = 0; needed[i]; i++)
		if (!(s->fixed & 1u << fixed_index(needed[i])))
			return bad(s, "the archive has no '%s'", needed[i]);
	return 0;
}

/* Gives the link or folder NAME in the stage the owner and time R says. */
static void
settle(struct unpack *s, const char *name, const struct rec *r)
{
	struct tar_member tm = { .uid = r->uid, .gid = r->gid };
	struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
		{ .tv_sec = (time_t)r->mtime } };

	set_owner(&s->own, s->o.stage, name, &tm, AT_SYMLINK_NOFOLLOW);
	utimensat(s->o.stage, name, t, AT_SYMLINK_NOFOLLOW);
}

/* Makes the links and gives folders their modes, owners and times, once
 * every file is in place: from the ledger, links in order, then folders
 * last first, so that a folder's time is set after its children's. */
static int
finish_ours(struct unpack *s)
{
	const char *name, *target;
	struct rec r;
	int rc;

	if (led_start(s, 0) < 0)
		return -1;
	while ((rc = next_rec(s, 0, &r, &name, &target)) == 1) {
		if (r.kind != 'l')
			continue;
		if (symlinkat(target, s->o.stage, name) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
		settle(s, name, &r);
	}
	if (rc < 0)
		return -1;
	if (led_start(s, 1) < 0)
		return -1;
	while ((rc = next_rec(s, 1, &r, &name, &target)) == 1) {
		if (r.kind != 'd')
			continue;
		if (fchmodat(s->o.stage, name, r.mode & 01777, 0) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
		settle(s, name, &r);
	}
	return rc;
}

/* A legacy archive's stage: makes the links and gives folders their
 * modes, owners and times, once every file is in place. */
static int
finish_stage(struct unpack *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct member *m = &s->m[i];
		struct tar_member tm = { .uid = m->uid, .gid = m->gid };
		struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
			{ .tv_sec = (time_t)m->mtime } };
		if (m->kind != 'l' || !m->staged)
			continue;
		if (symlinkat(m->target, s->o.stage, m->name) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    m->name, strerror(errno));
			return -1;
		}
		set_owner(&s->own, s->o.stage, m->name, &tm,
		    AT_SYMLINK_NOFOLLOW);
		utimensat(s->o.stage, m->name, t, AT_SYMLINK_NOFOLLOW);
	}
	/* Children before parents: a folder's time is set last. */
	for (size_t i = s->n; i-- > 0;) {
		struct member *m = &s->m[i];
		struct tar_member tm = { .uid = m->uid, .gid = m->gid };
		struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
			{ .tv_sec = (time_t)m->mtime } };
		if (m->kind != 'd' || !m->staged)
			continue;
		if (fchmodat(s->o.stage, m->name, m->mode & 01777, 0) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    m->name, strerror(errno));
			return -1;
		}
		set_owner(&s->own, s->o.stage, m->name, &tm,
		    AT_SYMLINK_NOFOLLOW);
		utimensat(s->o.stage, m->name, t, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

/* The original utility's archives. */

/* Whether NAME is the member ROOT names (".env", "integrations") at the
 * top or in the candidate top folder; with BELOW, or anything under it.
 * *REL gets the name below ROOT ("" for ROOT itself). */
static int
legacy_is(struct unpack *s, const char *name, const char *root, int below,
    const char **rel)
{
	size_t cl = strlen(s->cand), rl = strlen(root);

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (cl == 0 || strncmp(name, s->cand, cl) != 0 ||
			    name[cl] != '/')
				return 0;
			name += cl + 1;
		}
		if (strncmp(name, root, rl) != 0 || (name[rl] != '\0' &&
		    !(below && name[rl] == '/')))
			continue;
		if (rel)
			*rel = name[rl] ? name + rl + 1 : "";
		return 1;
	}
	return 0;
}

/* Makes the folders above NAME in the stage that the archive did not
 * hold (tar lists of files leave them out). */
static int
legacy_parents(struct unpack *s, const char *name)
{
	char buf[TAR_NAME_MAX];
	const char *at = NULL;

	while (next_parent(name, &at, buf))
		if (mkdirat(s->o.stage, buf, 0755) < 0 && errno != EEXIST) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s", buf,
			    strerror(errno));
			return -1;
		}
	return 0;
}

/* Reads a member that may be a database dump, for legacy.c to judge. */
static int
legacy_dump_member(struct unpack *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char sha[65];
	ssize_t n;

	legacy_member_begin(s->lg, tm->path);
	while ((n = tar_read(r, s->buf, COPY_BUF)) > 0) {
		s->u->bytes += (uint64_t)n;
		if (legacy_member_data(s->lg, s->buf, (size_t)n, s->err,
		    s->elen) < 0) {
			s->u->damaged = 1;
			return -1;
		}
	}
	if (n < 0 || tar_skip(r, sha) < 0)
		return bad(s, "in '%s': %s", tm->path, r->err);
	if (legacy_member_end(s->lg, s->err, s->elen) < 0) {
		s->u->damaged = 1;
		return -1;
	}
	return 1;
}

/* Checks one member of a legacy archive and unpacks what a restore puts
 * in place.  Returns 1 for a file read in full, 0 for another member, or
 * -1. */
static int
take_legacy(struct unpack *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char name[TAR_NAME_MAX], kind;
	const char *p = tm->path, *rel;
	size_t len;
	struct member *m;
	int env, integ;

	if (s->n >= s->o.max_members)
		return bad(s, "more members than a backup has (%s)",
		    "a tar bomb?");
	/* "./x" is "x": an archive made with tar -C DIR . names them so. */
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	snprintf(name, sizeof name, "%s", p);
	len = strlen(name);
	if (member_kind(s, tm, &kind) < 0)
		return -1;
	while (kind == 'd' && len > 0 && name[len - 1] == '/')
		name[--len] = '\0';
	if (kind == 'd' && (len == 0 || strcmp(name, ".") == 0))
		return 0;	/* the folder it was made from */
	if (name_ok(s, tm, name) < 0)
		return -1;
	/* The top folder, if any, is the first member's first part; it
	 * stays one only while every member is below it. */
	len = strcspn(name, "/");
	if (!s->cand_set) {
		s->cand_set = 1;
		if ((name[len] == '/' || kind == 'd') && len < sizeof s->cand) {
			memcpy(s->cand, name, len);
			s->cand[len] = '\0';
			s->under = 1;
		}
	} else if (s->under && (len != strlen(s->cand) ||
	    strncmp(name, s->cand, len) != 0)) {
		s->under = 0;
	}
	env = legacy_is(s, name, FORMAT_ENV, 0, NULL);
	integ = legacy_is(s, name, FORMAT_INTEGRATIONS, 1, &rel);
	m = record(s, name, kind, tm);
	if (m == NULL)
		return bad(s, "out of memory reading '%s'", tm->path);
	if (kind == 'l' && env)
		return bad(s, "'%s' is a symbolic link, not the settings file",
		    tm->path);
	if (kind == 'l' && integ && (rel[0] == '\0' ||
	    archive_link_escapes(rel, tm->linkname))) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' is a symbolic link to '%s', "
		    "outside the integrations folder", tm->path, tm->linkname);
		errno = EINVAL;
		return -1;
	}
	if (kind == 'd' && env)
		return bad(s, "'%s' is a folder, not the settings file",
		    tm->path);
	if (kind == 'f' && integ && rel[0] == '\0')
		return bad(s, "'%s' is a file, not the integrations folder",
		    tm->path);
	/* What a restore puts in place is unpacked; the rest only read. */
	m->staged = (char)((env || integ || (kind == 'd' &&
	    strcmp(name, s->cand) == 0)) && s->o.stage >= 0);
	switch (kind) {
	case 'f': {
		char hex[65];
		s->u->files++;
		if (!env && !integ)
			return legacy_dump_member(s, r, tm);
		if (s->o.stage >= 0 && legacy_parents(s, name) < 0)
			return -1;
		if (write_file(s, r, tm, name, hex) < 0)
			return -1;
		unhex(hex, m->sha);
		return 1;
	}
	case 'd':
		s->u->dirs++;
		if (m->staged && (legacy_parents(s, name) < 0 ||
		    (mkdirat(s->o.stage, name, 0700) < 0 && errno != EEXIST))) {
			if (s->err[0] == '\0')
				snprintf(s->err, s->elen, "cannot unpack '%s': "
				    "%s", name, strerror(errno));
			return -1;
		}
		return 0;
	default:
		s->u->links++;
		if (!integ)
			s->u->others++;	/* a link elsewhere: not restored */
		if (m->staged && legacy_parents(s, name) < 0)
			return -1;
		return 0;
	}
}

/* The first member was not our FORMAT: read the archive as one of the
 * original utility's. */
static int
legacy_start(struct unpack *s)
{
	s->legacy = 1;
	s->u->legacy = 1;
	s->lg = legacy_new();
	if (s->lg == NULL)
		return bad(s, "out of memory");
	return take_legacy(s, &s->r, &s->tm);
}

/* The archive's date, from its name, as the manifest would say it. */
static void
legacy_created(struct unpack *s)
{
	const char *base = strrchr(s->path, '/');
	struct tm tm;
	time_t when;

	base = base ? base + 1 : s->path;
	if (format_parse_name(base, &when) && localtime_r(&when, &tm))
		strftime(s->u->h.created, sizeof s->u->h.created,
		    "%Y-%m-%d %H:%M:%S (from its name)", &tm);
}

/* Once a legacy archive was read: its .env and integrations, its dumps,
 * and the stage laid out as for ours. */
static int
legacy_finish(struct unpack *s)
{
	struct unpacked *u = s->u;
	const char *top = s->under ? s->cand : "";
	char env[NAME_MAX + 8], integ[NAME_MAX + 16], why[600];
	struct member *e, *i;
	struct legacy_set *db = &u->db;

	snprintf(env, sizeof env, "%s%s" FORMAT_ENV, top, top[0] ? "/" : "");
	snprintf(integ, sizeof integ, "%s%s" FORMAT_INTEGRATIONS, top,
	    top[0] ? "/" : "");
	e = find(s, env);
	i = find(s, integ);
	if (legacy_choose(s->lg, db, why, sizeof why) < 0) {
		if (e == NULL && i == NULL)
			return bad(s, "not a Polarity backup archive: it has no "
			    "FORMAT member, nor the .env and database dump of "
			    "one written by the original utility");
		return bad(s, "a legacy archive (no FORMAT member) whose "
		    "database cannot be restored: %s", why);
	}
	if (e == NULL || e->kind != 'f')
		return bad(s, "a legacy archive (no FORMAT member) without a "
		    "%s%s%s", top, top[0] ? "/" : "", FORMAT_ENV);
	snprintf(u->top, sizeof u->top, "%s", top);
	u->no_integrations = i == NULL;
	u->others += legacy_others(s->lg);
	snprintf(u->h.encoding, sizeof u->h.encoding, "%s",
	    db->dump[0].encoding);
	snprintf(u->h.server_version, sizeof u->h.server_version, "%s",
	    db->dump[0].server_version);
	snprintf(u->h.pg_dump_version, sizeof u->h.pg_dump_version, "%s",
	    db->dump[0].pg_dump_version);
	u->dump_bytes = db->dump[0].size + (db->how == LEGACY_SPLIT ?
	    db->dump[1].size : 0);
	for (int k = 0; k < (db->how == LEGACY_SPLIT ? 2 : 1); k++)
		if (db->dump[k].need[0] && u->need[0] == '\0')
			snprintf(u->need, sizeof u->need, "'%s', %s",
			    db->dump[k].member, db->dump[k].need);
	legacy_created(s);
	return 0;
}

/* The stage of a legacy archive laid out as ours: .env and integrations
 * at its top. */
static int
legacy_stage(struct unpack *s)
{
	const char *top = s->u->top;
	char from[NAME_MAX + 16];

	if (top[0] == '\0')
		return 0;
	snprintf(from, sizeof from, "%s/" FORMAT_ENV, top);
	if (renameat(s->o.stage, from, s->o.stage, FORMAT_ENV) < 0)
		goto fail;
	snprintf(from, sizeof from, "%s/" FORMAT_INTEGRATIONS, top);
	if (!s->u->no_integrations && renameat(s->o.stage, from, s->o.stage,
	    FORMAT_INTEGRATIONS) < 0)
		goto fail;
	return 0;
fail:
	snprintf(s->err, s->elen, "cannot unpack '%s': %s", from,
	    strerror(errno));
	return -1;
}

/* Allocates a pass with its options; the caller sets what else it needs. */
static struct unpack *
pass_new(const struct unpack_opts *o, struct unpacked *u, const char *path,
    char *err, size_t elen)
{
	struct unpack *s;

	memset(u, 0, sizeof *u);
	err[0] = '\0';
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, elen, "out of memory");
		return NULL;
	}
	s->u = u;
	s->o = *o;
	if (s->o.max_members == 0)
		s->o.max_members = UNPACK_MAX_MEMBERS;
	s->path = path;
	s->err = err;
	s->elen = elen;
	s->first = 1;
	s->from = -1;
	return s;
}

/* Starts reading the tar stream on FD. */
static int
pass_open(struct unpack *s, int fd)
{
	if (tar_reader_open(&s->r, fd) < 0)
		return bad(s, "%s", strerror(errno));
	s->r.progress = progress_update;
	progress_begin("checking", 0);
	return 0;
}

int
unpack_next(struct unpack *s, const char **name)
{
	int rc;

	if (s->ended)
		return -1;
	while ((rc = tar_next(&s->r, &s->tm)) == 1) {
		if (io_stop_signal) {
			errno = EINTR;
			rc = -1;
			snprintf(s->err, s->elen, "interrupted");
			break;
		}
		if (s->first && !ours(&s->tm))
			rc = legacy_start(s);
		else if (s->first)
			rc = read_format(s, &s->r, &s->tm);
		else if (s->legacy)
			rc = take_legacy(s, &s->r, &s->tm);
		else
			rc = take_member(s, &s->r, &s->tm);
		s->first = 0;
		if (rc < 0)
			break;
		if (rc == 1) {
			*name = s->legacy ? s->m[s->n - 1].name : s->cur;
			return 1;
		}
	}
	if (rc == 0 && s->first)
		rc = bad(s, "not a Polarity backup archive (%s)",
		    "an empty tar archive");
	else if (rc == 0 && tar_drain(&s->r) < 0)
		rc = bad(s, "%s", s->r.err);
	else if (rc < 0 && s->err[0] == '\0' && s->first)
		bad(s, "not a backup archive: it is gzip-compressed, but what "
		    "it holds is not a tar archive (%s)", s->r.err);
	else if (rc < 0 && s->err[0] == '\0')
		bad(s, "%s", s->r.err);
	progress_end();
	s->u->stream = s->r.offset;
	s->ended = 1;
	return rc;
}

/* After the stream was read with result RC: the manifest, the links and
 * folders of the stage, and the memory. */
static int
finish(struct unpack *s, int rc)
{
	if (rc == 0)
		rc = s->legacy ? legacy_finish(s) : check_manifest(s);
	if (rc == 0 && s->o.stage >= 0)
		rc = s->legacy ? finish_stage(s) : finish_ours(s);
	if (rc == 0 && s->o.stage >= 0 && s->legacy)
		rc = legacy_stage(s);
	legacy_free(s->lg);
	ledger_close(&s->led);
	tar_reader_close(&s->r);
	while (s->arena) {
		struct arena_block *next = s->arena->next;
		free(s->arena);
		s->arena = next;
	}
	free(s->m);
	free(s->slot);
	free(s);
	return rc;
}

struct unpack *
unpack_begin(int in, const char *path, const char *decompressor,
    char *const envp[], const struct unpack_opts *o, struct unpacked *u,
    char *err, size_t elen)
{
	static const char *const dc[] = { "-dc", NULL };
	struct unpack *s = pass_new(o, u, path, err, elen);
	struct spawn_cmd cmd;
	int p[2];

	if (s == NULL)
		return NULL;
	/* The decompressor may carry options of its own ("pigz -p 2"). */
	if (spawn_cmd(&cmd, decompressor, dc) < 0) {
		snprintf(err, elen, "the compressor '%s' is not a command line",
		    decompressor);
		goto fail;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		goto fail;
	}
	if (spawn_start(&s->zip, cmd.argv, in, p[1], envp) < 0) {
		snprintf(err, elen, "cannot run '%s': %s", decompressor,
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		goto fail;
	}
	close(p[1]);
	s->from = p[0];
	/* A reader that cannot start ends the pass at its first step. */
	if (pass_open(s, s->from) < 0)
		s->ended = 1;
	return s;
fail:
	free(s);
	return NULL;
}

int
unpack_nice(struct unpack *s, int nice)
{
	return s->zip.pid > 0 ? setpriority(PRIO_PROCESS, (id_t)s->zip.pid,
	    nice) : 0;
}

int
unpack_end(struct unpack *s, int rc)
{
	struct unpacked *u = s->u;
	char zipmsg[1024];
	int zrc;

	if (s->zip.pid == 0 && s->from < 0)
		return finish(s, rc);
	/* Whatever we stopped at, the decompressor must end. */
	if (rc < 0 && s->zip.pid > 0)
		kill(s->zip.pid, SIGTERM);
	close(s->from);
	s->from = -1;
	zrc = spawn_wait(&s->zip, zipmsg, sizeof zipmsg);
	spawn_close(&s->zip);
	/* A decompressor that failed on its own tells the real story: a
	 * damaged gzip stream shows first as a short or garbled tar stream.
	 * One we stopped (or that lost its pipe when we did) says nothing. */
	if (zrc < 0 && !(rc < 0 && WIFSIGNALED(s->zip.status) &&
	    (WTERMSIG(s->zip.status) == SIGTERM ||
	    WTERMSIG(s->zip.status) == SIGPIPE))) {
		u->damaged = !WIFSIGNALED(s->zip.status);
		if (u->damaged)
			snprintf(s->err, s->elen, "'%s' is damaged: %s",
			    s->path, zipmsg);
		else
			snprintf(s->err, s->elen, "cannot read '%s': %s",
			    s->path, zipmsg);
		rc = -1;
	}
	return finish(s, rc);
}

int
unpack_peek(struct unpack *s, time_t *mtime)
{
	int rc = s->ended ? -1 : tar_next(&s->r, &s->tm);

	*mtime = 0;
	if (rc != 1)
		rc = -1;
	else if ((rc = ours(&s->tm)) == 1)
		*mtime = (time_t)s->tm.mtime;
	progress_end();
	s->ended = 1;
	unpack_end(s, -1);
	return rc;
}

int
unpack_rest(struct unpack *s)
{
	const char *name;
	int rc;

	while ((rc = unpack_next(s, &name)) == 1)
		;
	return unpack_end(s, rc);
}

int
unpack_stream(int fd, const struct unpack_opts *o, struct unpacked *u,
    char *err, size_t elen)
{
	struct unpack *s = pass_new(o, u, "", err, elen);

	if (s == NULL)
		return -1;
	if (pass_open(s, fd) < 0)
		s->ended = 1;
	return unpack_rest(s);
}
