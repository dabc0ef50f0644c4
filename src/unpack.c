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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "config.h"
#include "io.h"
#include "progress.h"
#include "spawn.h"
#include "tar.h"
#include "unpack.h"

#define MANIFEST_MAX (512 * 1024 * 1024)

unsigned long unpack_max_members = 2000000;
#define COPY_BUF (128 * 1024)

/* What the archive held, member by member: kept small, as there is one
 * for every file of the integrations tree. */
struct member {
	char *name;		/* below the top folder (in the arena) */
	char *target;		/* link target, or NULL (in the arena) */
	uint64_t size;
	int64_t mtime;
	uint32_t uid, gid;
	uint16_t mode;
	char kind;		/* 'f', 'd' or 'l' */
	char listed;		/* seen in the manifest */
	unsigned char sha[32];	/* of a file's data */
};

/* Names live in blocks that never move, without malloc's per-string
 * overhead. */
#define ARENA_BLOCK (64 * 1024)
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

struct state {
	struct unpacked *u;
	int stage;
	const struct unpack_tap *tap;
	struct member *m;
	size_t n, cap;
	uint32_t *slot;		/* hash table of indexes + 1; 0 is empty */
	size_t slots;
	struct arena_block *arena;
	int manifest_seen;
	unsigned long manifest_lines;
	int done;		/* MANIFEST read: nothing may follow */
	char *err;
	size_t elen;
};

static int bad(struct state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Describes what is wrong with the archive; returns -1 with EINVAL. */
static int
bad(struct state *s, const char *fmt, ...)
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
find(struct state *s, const char *name)
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
arena_dup(struct state *s, const char *str)
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
grow(struct state *s)
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

/* Records member M (NAME is copied).  Returns it, or NULL. */
static struct member *
record(struct state *s, const char *name, char kind,
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
	return m;
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

/* Where a member may be, and what it may be. */
static int
allowed(const char *name, char kind)
{
	static const char *const dumps[] = {
		"database/roles.sql", "database/1-pre-data.sql",
		"database/2-data.sql", "database/3-post-data.sql", NULL,
	};

	if (strcmp(name, ".env") == 0 || strcmp(name, "MANIFEST") == 0)
		return kind == 'f';
	if (strcmp(name, "integrations") == 0 || strcmp(name, "database") == 0)
		return kind == 'd';
	if (strncmp(name, "integrations/", 13) == 0)
		return 1;
	for (size_t i = 0; dumps[i]; i++)
		if (strcmp(name, dumps[i]) == 0)
			return kind == 'f';
	return 0;
}

/* Nothing may be below a symbolic link or a file. */
static int
parents_ok(struct state *s, const char *name)
{
	char buf[TAR_NAME_MAX];
	const char *p = name;

	while ((p = strchr(p, '/')) != NULL) {
		size_t n = (size_t)(p - name);
		memcpy(buf, name, n);
		buf[n] = '\0';
		struct member *m = find(s, buf);
		if (m && m->kind != 'd')
			return 0;
		p++;
	}
	return 1;
}

static void
set_owner(int dirfd, const char *name, const struct tar_member *tm,
    int flags)
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
	if (tm->uname[0] && getpwnam_r(tm->uname, &pw, buf, sizeof buf,
	    &pwp) == 0 && pwp)
		uid = pw.pw_uid;
	if (tm->gname[0] && getgrnam_r(tm->gname, &gr, buf, sizeof buf,
	    &grp) == 0 && grp)
		gid = gr.gr_gid;
	(void)fchownat(dirfd, name, uid, gid, flags);
}

/* Writes the data of the current member to a new file NAME below the
 * stage, or only hashes it when there is no stage or the tap skips it. */
static int
write_file(struct state *s, struct tar_reader *r, const struct tar_member *tm,
    const char *name, char sha[65])
{
	static unsigned char buf[COPY_BUF];
	const struct unpack_tap *tap = s->tap;
	int fd = -1;
	ssize_t n;

	if (s->stage >= 0 && !(tap && tap->skip && tap->skip(tap->arg,
	    name, tm->size))) {
		fd = openat(s->stage, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
	}
	while ((n = tar_read(r, buf, sizeof buf)) > 0) {
		s->u->bytes += (uint64_t)n;
		if (fd >= 0 && io_write_all(fd, buf, (size_t)n) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			close(fd);
			return -1;
		}
	}
	if (n < 0 || tar_skip(r, sha) < 0) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "in '%s': %s", name, r->err);
		if (fd >= 0)
			close(fd);
		return -1;
	}
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
		set_owner(fd, "", tm, AT_EMPTY_PATH);
		if (close(fd) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
	}
	if (tap && tap->end)
		tap->end(tap->arg, name);
	return 0;
}

/* Reads the FORMAT member, the first of every archive. */
static int
read_format(struct state *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char text[64], sha[65];
	size_t got = 0;
	ssize_t n;
	const char *slash = strchr(tm->path, '/');
	size_t toplen = slash ? (size_t)(slash - tm->path) : 0;
	const char *digits = tm->path + strlen(ARCHIVE_PREFIX);

	if (tm->type != '0' || slash == NULL || strcmp(slash, "/FORMAT") != 0 ||
	    toplen != strlen(ARCHIVE_PREFIX) + 14 ||
	    strncmp(tm->path, ARCHIVE_PREFIX, strlen(ARCHIVE_PREFIX)) != 0 ||
	    strspn(digits, "0123456789") != 14 || tm->size >= sizeof text)
		return bad(s, "not a Polarity backup archive (it begins with "
		    "'%s', not a FORMAT member)", tm->path);
	memcpy(s->u->top, tm->path, toplen);
	s->u->top[toplen] = '\0';
	while ((n = tar_read(r, text + got, sizeof text - 1 - got)) > 0)
		got += (size_t)n;
	if (n < 0 || tar_skip(r, sha) < 0)
		return bad(s, "%s", r->err);
	text[got] = '\0';
	static const char head[] = "polarity-server-backup ";
	char *end;
	long format = -1;
	if (strncmp(text, head, sizeof head - 1) == 0) {
		errno = 0;
		format = strtol(text + sizeof head - 1, &end, 10);
		if (errno || end == text + sizeof head - 1 || *end != '\n' ||
		    format < 0 || format > 1000000)
			format = -1;
	}
	if (format < 0)
		return bad(s, "not a Polarity backup archive (FORMAT says "
		    "'%.40s')", text);
	s->u->format = (int)format;
	if (s->u->format != ARCHIVE_FORMAT) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "archive format %d is not one this "
		    "version reads (it reads format %d); use a newer "
		    "polarity", s->u->format, ARCHIVE_FORMAT);
		errno = EINVAL;
		return -1;
	}
	struct member *m = record(s, "FORMAT", 'f', tm);
	if (m == NULL)
		return bad(s, "out of memory reading '%s'", "FORMAT");
	unhex(sha, m->sha);
	s->u->files++;
	s->u->bytes += got;
	return 0;
}

static int manifest_take(struct state *s, char *line);

static int
read_manifest(struct state *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	/* Line by line as it streams: a manifest grows with the number of
	 * files, our memory must not. */
	static char line[2 * 4 * TAR_NAME_MAX + 256];
	char buf[8192], sha[65];
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
				if (len + 1 >= sizeof line)
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

/* Checks one member and unpacks it. */
static int
take_member(struct state *s, struct tar_reader *r,
    const struct tar_member *tm)
{
	char name[TAR_NAME_MAX], kind;
	size_t toplen = strlen(s->u->top), len;
	struct member *m;

	if (s->done)
		return bad(s, "'%s' comes after the MANIFEST", tm->path);
	if (s->n >= unpack_max_members)
		return bad(s, "more members than a backup has (%s)",
		    "a tar bomb?");
	if (strncmp(tm->path, s->u->top, toplen) != 0 ||
	    tm->path[toplen] != '/')
		return bad(s, "'%s' is outside the archive's top folder",
		    tm->path);
	snprintf(name, sizeof name, "%s", tm->path + toplen + 1);
	len = strlen(name);
	switch (tm->type) {
	case '0': kind = 'f'; break;
	case '5': kind = 'd'; break;
	case '2': kind = 'l'; break;
	default:
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' is %s, which a backup never "
		    "holds", tm->path, type_word(tm->type));
		errno = EINVAL;
		return -1;
	}
	if (kind == 'd' && len > 0 && name[len - 1] == '/')
		name[--len] = '\0';
	if (!clean_name(name))
		return bad(s, "'%.200s' has an unsafe name (empty, '.' or "
		    "'..' parts, or a part longer than %d bytes)", tm->path,
		    NAME_MAX);
	if (!allowed(name, kind))
		return bad(s, "'%s' is not a member a backup has", tm->path);
	if (find(s, name))
		return bad(s, "'%s' appears twice", tm->path);
	if (!parents_ok(s, name))
		return bad(s, "'%s' lies below a symbolic link or a file",
		    tm->path);
	if (kind == 'l' && (strncmp(name, "integrations/", 13) != 0 ||
	    archive_link_escapes(name + 13, tm->linkname))) {
		s->u->damaged = 1;
		snprintf(s->err, s->elen, "'%s' is a symbolic link to '%s', "
		    "outside the integrations folder", tm->path, tm->linkname);
		errno = EINVAL;
		return -1;
	}
	if (strcmp(name, "MANIFEST") == 0)
		return read_manifest(s, r, tm);
	m = record(s, name, kind, tm);
	if (m == NULL)
		return bad(s, "out of memory reading '%s'", tm->path);
	switch (kind) {
	case 'f': {
		char hex[65];
		s->u->files++;
		if (strcmp(name, "database/roles.sql") == 0)
			s->u->has_roles = 1;
		if (write_file(s, r, tm, name, hex) < 0)
			return -1;
		unhex(hex, m->sha);
		return 0;
	}
	case 'd':
		s->u->dirs++;
		if (s->stage >= 0 && mkdirat(s->stage, name, 0700) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    name, strerror(errno));
			return -1;
		}
		return 0;
	default:
		s->u->links++;
		return 0;
	}
}

/* Takes the manifest's header line LINE. */
static void
header_line(struct unpacked *u, const char *line)
{
	static const struct {
		const char *key;
		size_t off, len;
	} keys[] = {
		{ "created ", offsetof(struct unpacked, created), 64 },
		{ "database ", offsetof(struct unpacked, database), 256 },
		{ "server-version ", offsetof(struct unpacked, server_version),
		  64 },
		{ "pg-dump-version ",
		  offsetof(struct unpacked, pg_dump_version), 64 },
		{ "tool ", offsetof(struct unpacked, tool), 128 },
		{ "encoding ", offsetof(struct unpacked, encoding), 64 },
	};

	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		size_t k = strlen(keys[i].key);
		if (strncmp(line, keys[i].key, k) == 0)
			snprintf((char *)u + keys[i].off, keys[i].len, "%s",
			    line + k);
	}
}

/* Splits the manifest line LINE, "KIND MODE SIZE SHA NAME [TARGET]", into
 * its fields (NAME and TARGET, LEN bytes each, unescaped), strictly:
 * every number whole and in range, a target for links only.  Returns 0
 * or -1. */
static int
manifest_line(char *line, char *kind, unsigned *mode,
    unsigned long long *size, char sha[65], char *name, char *target,
    size_t len)
{
	char *f[7], *save = NULL, *end;
	int n = 0;
	unsigned long m;

	for (char *t = strtok_r(line, " ", &save); t && n < 7;
	    t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 5 || n > 6 || strlen(f[0]) != 1)
		return -1;
	*kind = f[0][0];
	if ((*kind == 'l') != (n == 6))
		return -1;
	errno = 0;
	m = strtoul(f[1], &end, 8);
	if (errno || *end || end == f[1] || m > 07777)
		return -1;
	*mode = (unsigned)m;
	if (f[2][0] == '-' || f[2][0] == '+')
		return -1;
	*size = strtoull(f[2], &end, 10);
	if (errno || *end || end == f[2])
		return -1;
	if (strcmp(f[3], "-") != 0 && (strlen(f[3]) != 64 ||
	    strspn(f[3], "0123456789abcdef") != 64))
		return -1;
	snprintf(sha, 65, "%s", f[3]);
	snprintf(name, len, "%s", f[4]);
	target[0] = '\0';
	if (n == 6)
		snprintf(target, len, "%s", f[5]);
	return archive_unescape(name) < 0 ||
	    (n == 6 && archive_unescape(target) < 0) ? -1 : 0;
}

/* Takes one line of the manifest: the format line, a header line, or a
 * member line compared with what the archive held. */
static int
manifest_take(struct state *s, char *line)
{
	static char name[4 * TAR_NAME_MAX], target[4 * TAR_NAME_MAX];
	char kind, sha[65], want[64];
	unsigned char bin[32];
	unsigned mode;
	unsigned long long size;
	struct member *m;

	if (s->manifest_lines++ == 0) {
		snprintf(want, sizeof want, "polarity-server-backup-manifest %d",
		    ARCHIVE_FORMAT);
		if (strcmp(line, want) != 0)
			return bad(s, "the MANIFEST is not format '%s'", want);
		return 0;
	}
	if (line[0] == '\0')
		return 0;
	if (!(line[0] == 'f' || line[0] == 'd' || line[0] == 'l') ||
	    line[1] != ' ') {
		header_line(s->u, line);
		return 0;
	}
	if (strlen(line) >= sizeof name ||
	    manifest_line(line, &kind, &mode, &size, sha, name, target,
	    sizeof name) < 0)
		return bad(s, "a malformed MANIFEST line: '%.200s'", line);
	m = find(s, name);
	if (m == NULL)
		return bad(s, "the MANIFEST lists '%s', which the archive "
		    "lacks", name);
	if (m->listed)
		return bad(s, "the MANIFEST lists '%s' twice", name);
	m->listed = 1;
	if (m->kind != kind ||
	    (kind != 'l' && (m->mode & 07777) != (mode & 07777)) ||
	    (kind == 'f' && (m->size != size || strcmp(sha, "-") == 0 ||
	    (unhex(sha, bin), memcmp(m->sha, bin, sizeof bin) != 0))) ||
	    (kind == 'l' && strcmp(m->target, target) != 0))
		return bad(s, "'%s' does not match the MANIFEST: it was "
		    "changed or damaged", name);
	return 0;
}

/* Once the stream is read: every member listed, nothing missing. */
static int
check_manifest(struct state *s)
{
	static const char *const needed[] = { ".env", "integrations",
		"database/1-pre-data.sql", "database/2-data.sql",
		"database/3-post-data.sql", NULL };

	if (!s->manifest_seen)
		return bad(s, "the archive has no %s (is it cut short?)",
		    "MANIFEST");
	for (size_t i = 0; i < s->n; i++)
		if (!s->m[i].listed)
			return bad(s, "'%s' is not in the MANIFEST",
			    s->m[i].name);
	for (size_t i = 0; needed[i]; i++)
		if (find(s, needed[i]) == NULL)
			return bad(s, "the archive has no '%s'", needed[i]);
	return 0;
}

/* Makes the links and gives folders their modes, owners and times, once
 * every file is in place. */
static int
finish_stage(struct state *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct member *m = &s->m[i];
		struct tar_member tm = { .uid = m->uid, .gid = m->gid };
		struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
			{ .tv_sec = (time_t)m->mtime } };
		if (m->kind != 'l')
			continue;
		if (symlinkat(m->target, s->stage, m->name) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    m->name, strerror(errno));
			return -1;
		}
		set_owner(s->stage, m->name, &tm, AT_SYMLINK_NOFOLLOW);
		utimensat(s->stage, m->name, t, AT_SYMLINK_NOFOLLOW);
	}
	/* Children before parents: a folder's time is set last. */
	for (size_t i = s->n; i-- > 0;) {
		struct member *m = &s->m[i];
		struct tar_member tm = { .uid = m->uid, .gid = m->gid };
		struct timespec t[2] = { { .tv_nsec = UTIME_OMIT },
			{ .tv_sec = (time_t)m->mtime } };
		if (m->kind != 'd')
			continue;
		if (fchmodat(s->stage, m->name, m->mode & 01777, 0) < 0) {
			snprintf(s->err, s->elen, "cannot unpack '%s': %s",
			    m->name, strerror(errno));
			return -1;
		}
		set_owner(s->stage, m->name, &tm, AT_SYMLINK_NOFOLLOW);
		utimensat(s->stage, m->name, t, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

static int
read_all(struct state *s, int fd)
{
	struct tar_reader r;
	struct tar_member tm;
	int rc, first = 1;

	if (tar_reader_open(&r, fd) < 0)
		return bad(s, "%s", strerror(errno));
	r.progress = progress_update;
	progress_begin("checking", 0);
	while ((rc = tar_next(&r, &tm)) == 1) {
		if (io_stop_signal) {
			errno = EINTR;
			rc = -1;
			snprintf(s->err, s->elen, "interrupted");
			break;
		}
		rc = first ? read_format(s, &r, &tm) : take_member(s, &r, &tm);
		first = 0;
		if (rc < 0)
			break;
	}
	if (rc == 0 && first)
		rc = bad(s, "not a Polarity backup archive (%s)",
		    "an empty tar archive");
	else if (rc == 0 && tar_drain(&r) < 0)
		rc = bad(s, "%s", r.err);
	else if (rc < 0 && s->err[0] == '\0' && first)
		bad(s, "not a Polarity backup archive (%s)", r.err);
	else if (rc < 0 && s->err[0] == '\0')
		bad(s, "%s", r.err);
	progress_end();
	s->u->stream = r.offset;
	tar_reader_close(&r);
	return rc;
}

/* After the stream was read with result RC: the manifest, the links and
 * folders of the stage, and the memory. */
static int
finish(struct state *s, int rc)
{
	if (rc == 0)
		rc = check_manifest(s);
	if (rc == 0 && s->stage >= 0)
		rc = finish_stage(s);
	while (s->arena) {
		struct arena_block *next = s->arena->next;
		free(s->arena);
		s->arena = next;
	}
	free(s->m);
	free(s->slot);
	return rc;
}

int
unpack_fd(int in, const char *path, const char *decompressor,
    char *const envp[], int stage, const struct unpack_tap *tap,
    struct unpacked *u, char *err, size_t elen)
{
	struct state s = { .u = u, .stage = stage, .tap = tap, .err = err,
		.elen = elen };
	char *argv[40], words[PATH_MAX];
	struct child c;
	char zipmsg[1024];
	int p[2], rc, zrc, n;

	memset(u, 0, sizeof *u);
	err[0] = '\0';
	/* The decompressor may carry options of its own ("pigz -p 2"). */
	n = config_split(decompressor, argv, 38, words, sizeof words);
	if (n <= 0) {
		snprintf(err, elen, "the compressor '%s' is not a command line",
		    decompressor);
		return -1;
	}
	argv[n++] = "-dc";
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (spawn_start(&c, argv, in, p[1], envp) < 0) {
		snprintf(err, elen, "cannot run '%s': %s", decompressor,
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	rc = read_all(&s, p[0]);
	/* Whatever we stopped at, the decompressor must end. */
	if (rc < 0)
		kill(c.pid, SIGTERM);
	close(p[0]);
	zrc = spawn_wait(&c, zipmsg, sizeof zipmsg);
	spawn_close(&c);
	/* A decompressor that failed on its own tells the real story: a
	 * damaged gzip stream shows first as a short or garbled tar stream.
	 * One we stopped (or that lost its pipe when we did) says nothing. */
	if (zrc < 0 && !(rc < 0 && WIFSIGNALED(c.status) &&
	    (WTERMSIG(c.status) == SIGTERM || WTERMSIG(c.status) == SIGPIPE))) {
		u->damaged = !WIFSIGNALED(c.status);
		if (u->damaged)
			snprintf(err, elen, "'%s' is damaged: %s", path,
			    zipmsg);
		else
			snprintf(err, elen, "cannot read '%s': %s", path,
			    zipmsg);
		rc = -1;
	}
	return finish(&s, rc);
}

int
unpack(const char *path, const char *decompressor, char *const envp[],
    int stage, const struct unpack_tap *tap, struct unpacked *u, char *err,
    size_t elen)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (in < 0) {
		memset(u, 0, sizeof *u);
		snprintf(err, elen, "cannot read '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	rc = unpack_fd(in, path, decompressor, envp, stage, tap, u, err, elen);
	close(in);
	return rc;
}

int
unpack_stream(int fd, int stage, const struct unpack_tap *tap,
    struct unpacked *u, char *err, size_t elen)
{
	struct state s = { .u = u, .stage = stage, .tap = tap, .err = err,
		.elen = elen };

	memset(u, 0, sizeof *u);
	err[0] = '\0';
	return finish(&s, read_all(&s, fd));
}

int
unpack_remove(int at, const char *name)
{
	struct stat st;
	int fd, e;
	DIR *d;
	struct dirent *de;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A folder we made read-only must still be emptied. */
	(void)fchmod(fd, 0700);
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unpack_remove(dirfd(d), de->d_name) < 0) {
			e = errno;
			closedir(d);
			errno = e;
			return -1;
		}
	}
	closedir(d);
	return unlinkat(at, name, AT_REMOVEDIR);
}
