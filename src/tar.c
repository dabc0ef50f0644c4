/* tar.c - a streaming pax writer with SHA-256 of every member. */
#include "autoconf.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "tar.h"

/* The largest value an ustar numeric field of LEN bytes holds in octal. */
static uint64_t
octal_max(size_t len)
{
	return (UINT64_C(1) << (3 * (len - 1))) - 1;
}

/* Writes V in LEN - 1 octal digits and a NUL.  V fits: the callers see
 * to it with octal_max(). */
static void
put_octal(char *field, size_t len, uint64_t v)
{
	field[len - 1] = '\0';
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

/* SHA-256 as this process's library gives it.  OpenSSL 3 looks an
 * algorithm up anew on every EVP_DigestInit_ex() given EVP_sha256() (a
 * lock and a search, a tenth of the work for the small files of an
 * integrations tree); fetched once by the stream that hashes, it is not. */
static void *
sha256_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	return EVP_MD_fetch(NULL, "SHA256", NULL);
#else
	return (void *)(uintptr_t)EVP_sha256();
#endif
}

static void
sha256_free(void *sha)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(sha);
#else
	(void)sha;
#endif
}

static int
flush(struct tar_writer *w)
{
	if (w->used > 0 && io_write_all(w->fd, w->buf, w->used) < 0)
		return -1;
	w->used = 0;
	if (w->progress)
		w->progress(w->offset);
	return 0;
}

static int
emit(struct tar_writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;

	w->offset += len;
	while (len > 0) {
		size_t n = sizeof w->buf - w->used;
		if (n > len)
			n = len;
		memcpy(w->buf + w->used, p, n);
		w->used += n;
		p += n;
		len -= n;
		if (w->used == sizeof w->buf && flush(w) < 0)
			return -1;
	}
	return 0;
}

static int
pad(struct tar_writer *w)
{
	static const char zero[TAR_BLOCK];
	size_t r = (size_t)(w->offset % TAR_BLOCK);

	return r ? emit(w, zero, TAR_BLOCK - r) : 0;
}

int
tar_open(struct tar_writer *w, int fd)
{
	w->fd = fd;
	w->offset = 0;
	w->left = 0;
	w->used = 0;
	w->progress = NULL;
	w->md = EVP_MD_CTX_new();
	w->sha = sha256_fetch();
	if (w->md == NULL || w->sha == NULL) {
		tar_close(w);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
tar_close(struct tar_writer *w)
{
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	sha256_free(w->sha);
	w->sha = NULL;
}

/* Appends the pax record "LEN KEY=VALUE\n" to REC (CAP bytes) at *N. */
static int
pax_record(char *rec, size_t cap, size_t *n, const char *key,
    const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
	size_t len = body, digits;

	/* The length counts its own digits. */
	for (;;) {
		digits = (size_t)snprintf(NULL, 0, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	if (*n + len + 1 > cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(rec + *n, cap - *n, "%zu %s=%s\n", len, key, value);
	*n += len;
	return 0;
}

/* Writes one 512-byte header of type TYPE. */
static int
header(struct tar_writer *w, const char *name, char type, mode_t mode,
    uint64_t size, const struct tar_entry *e)
{
	char h[TAR_BLOCK];
	unsigned sum = 0;

	memset(h, 0, sizeof h);
	memcpy(h, name, strnlen(name, 100));
	put_octal(h + 100, 8, mode & 07777);
	put_octal(h + 108, 8, e->uid <= octal_max(8) ? e->uid : 0);
	put_octal(h + 116, 8, e->gid <= octal_max(8) ? e->gid : 0);
	put_octal(h + 124, 12, size <= octal_max(12) ? size : 0);
	put_octal(h + 136, 12, e->mtime > 0 &&
	    (uint64_t)e->mtime <= octal_max(12) ? (uint64_t)e->mtime : 0);
	h[156] = type;
	if (type == TAR_SYMLINK && e->linkname)
		memcpy(h + 157, e->linkname, strnlen(e->linkname, 100));
	memcpy(h + 257, "ustar", 6);
	/* The version field is two bytes with no NUL, by the standard. */
	memcpy(h + 263, "00", 2);	/* NOLINT(bugprone-not-null-terminated-result) */
	if (e->uname)
		memcpy(h + 265, e->uname, strnlen(e->uname, 31));
	if (e->gname)
		memcpy(h + 297, e->gname, strnlen(e->gname, 31));
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof h; i++)
		sum += (unsigned char)h[i];
	/* Six digits, a NUL, and the blank that stays. */
	put_octal(h + 148, 7, sum);
	return emit(w, h, sizeof h);
}

int
tar_begin(struct tar_writer *w, const struct tar_entry *e)
{
	/* Room for a path and a link target of PATH_MAX each, and more. */
	char rec[3 * 4096 + 512];
	size_t n = 0, plen = strlen(e->path);
	char num[32];
	uint64_t size = e->type == TAR_FILE ? e->size : 0;

	if (w->left != 0 || plen == 0 || e->path[0] == '/' ||
	    (e->type == TAR_SYMLINK && e->linkname == NULL)) {
		errno = EINVAL;
		return -1;
	}
	/* ustar fields take names under 100 bytes; the rest goes in a pax
	 * header, which readers prefer over the truncated ustar field. */
	if (plen >= 100 && pax_record(rec, sizeof rec, &n, "path", e->path) < 0)
		return -1;
	if (e->type == TAR_SYMLINK && strlen(e->linkname) >= 100 &&
	    pax_record(rec, sizeof rec, &n, "linkpath", e->linkname) < 0)
		return -1;
	if (size > octal_max(12)) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)size);
		if (pax_record(rec, sizeof rec, &n, "size", num) < 0)
			return -1;
	}
	if (n > 0) {
		struct tar_entry x = *e;
		x.uname = x.gname = NULL;
		if (header(w, "././@PaxHeader", 'x', 0644, n, &x) < 0 ||
		    emit(w, rec, n) < 0 || pad(w) < 0)
			return -1;
	}
	if (header(w, e->path, (char)e->type, e->mode, size, e) < 0)
		return -1;
	if (EVP_DigestInit_ex(w->md, w->sha, NULL) != 1) {
		errno = ENOMEM;
		return -1;
	}
	w->left = size;
	w->member_size = size;
	return 0;
}

int
tar_write(struct tar_writer *w, const void *data, size_t len)
{
	if (len > w->left) {
		errno = EFBIG;
		return -1;
	}
	if (EVP_DigestUpdate(w->md, data, len) != 1) {
		errno = ENOMEM;
		return -1;
	}
	w->left -= len;
	return emit(w, data, len);
}

int
tar_sha256_hex(void *md, char hex[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(md, d, &len) != 1 || len != 32) {
		errno = ENOMEM;
		return -1;
	}
	for (unsigned i = 0; i < len; i++) {
		hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	hex[2 * len] = '\0';
	return 0;
}

int
tar_flush(struct tar_writer *w)
{
	return flush(w);
}

int
tar_written(struct tar_writer *w, uint64_t len)
{
	if (len > w->left) {
		errno = EFBIG;
		return -1;
	}
	w->left -= len;
	w->offset += len;
	return 0;
}

int
tar_end(struct tar_writer *w, char hex[65])
{
	if (w->left != 0) {
		errno = EIO;
		return -1;
	}
	if (hex != NULL && tar_sha256_hex(w->md, hex) < 0)
		return -1;
	return pad(w);
}

int
tar_finish(struct tar_writer *w)
{
	static const char zero[2 * TAR_BLOCK];

	if (w->left != 0) {
		errno = EIO;
		return -1;
	}
	if (emit(w, zero, sizeof zero) < 0)
		return -1;
	return flush(w);
}

/* Reading. */

static int
rfail(struct tar_reader *r, int e, const char *what)
{
	snprintf(r->err, sizeof r->err, "%s at byte %llu", what,
	    (unsigned long long)r->offset);
	errno = e;
	return -1;
}

int
tar_reader_open(struct tar_reader *r, int fd)
{
	memset(r, 0, offsetof(struct tar_reader, buf));
	r->fd = fd;
	r->md = EVP_MD_CTX_new();
	r->sha = sha256_fetch();
	if (r->md == NULL || r->sha == NULL) {
		tar_reader_close(r);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
tar_reader_close(struct tar_reader *r)
{
	EVP_MD_CTX_free(r->md);
	r->md = NULL;
	sha256_free(r->sha);
	r->sha = NULL;
}

/* Makes at least one byte available.  Returns 1, 0 at end of stream, -1. */
static int
fill(struct tar_reader *r)
{
	ssize_t n;

	if (r->pos < r->have)
		return 1;
	n = io_read(r->fd, r->buf, sizeof r->buf);
	if (n < 0)
		return rfail(r, errno, "cannot read the archive stream");
	r->have = (size_t)n;
	r->pos = 0;
	if (r->progress)
		r->progress(r->offset);
	return n > 0;
}

/* Consumes exactly LEN bytes into OUT (or drops them when OUT is NULL). */
static int
take(struct tar_reader *r, void *out, size_t len)
{
	unsigned char *o = out;

	while (len > 0) {
		int f = fill(r);
		if (f < 0)
			return -1;
		if (f == 0)
			return rfail(r, EIO, "the archive ends too early");
		size_t n = r->have - r->pos;
		if (n > len)
			n = len;
		if (o) {
			memcpy(o, r->buf + r->pos, n);
			o += n;
		}
		r->pos += n;
		r->offset += n;
		len -= n;
	}
	return 0;
}

/* Parses an octal numeric field: optional leading blanks, digits, then
 * NULs or blanks; or, as GNU tar writes a number too large for octal (a
 * file of 8 GiB or more), base-256: the first byte 0x80, the rest a
 * big-endian number.  Negative numbers and anything else are refused. */
static int
get_octal(const unsigned char *f, size_t len, uint64_t *v)
{
	size_t i = 0;
	int digits = 0;

	*v = 0;
	if (f[0] == 0x80) {
		for (i = 1; i < len; i++) {
			if (*v > (UINT64_MAX >> 8))
				return -1;
			*v = *v << 8 | f[i];
		}
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (*v > (UINT64_MAX >> 3))
			return -1;
		*v = *v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return -1;
	return digits > 0 || f[0] == '\0' ? 0 : -1;
}

static int
all_zero(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Parses the pax records REC (LEN bytes) into M.  Returns 0 or -1. */
static int
parse_pax(struct tar_reader *r, char *rec, size_t len, struct tar_member *m,
    int *have_path, int *have_link, int *have_size)
{
	size_t pos = 0;

	while (pos < len) {
		char *end, *key, *eq;
		unsigned long n = strtoul(rec + pos, &end, 10);
		if (end == rec + pos || *end != ' ' || n < 5 || n > len - pos ||
		    rec[pos + n - 1] != '\n')
			return rfail(r, EINVAL, "malformed pax header");
		rec[pos + n - 1] = '\0';
		key = end + 1;
		eq = strchr(key, '=');
		if (eq == NULL)
			return rfail(r, EINVAL, "malformed pax record");
		*eq = '\0';
		char *val = eq + 1;
		size_t vlen = (size_t)(rec + pos + n - 1 - val);
		if (strcmp(key, "path") == 0 || strcmp(key, "linkpath") == 0) {
			int path = key[0] == 'p';
			if (vlen >= TAR_NAME_MAX || memchr(val, '\0', vlen))
				return rfail(r, EINVAL, "a name in a pax "
				    "header is too long or holds a NUL byte");
			memcpy(path ? m->path : m->linkname, val, vlen + 1);
			*(path ? have_path : have_link) = 1;
		} else if (strcmp(key, "size") == 0) {
			char *e;
			errno = 0;
			unsigned long long v = strtoull(val, &e, 10);
			if (errno || e == val || *e)
				return rfail(r, EINVAL, "bad size in a pax "
				    "header");
			m->size = v;
			*have_size = 1;
		} else if (strncmp(key, "GNU.sparse", 10) == 0) {
			return rfail(r, EINVAL, "sparse files are not taken");
		}
		/* Times, owners, charset and the like: ustar has them. */
		pos += n;
	}
	return 0;
}

static void
copy_field(char *dst, size_t dlen, const unsigned char *f, size_t flen)
{
	size_t n = strnlen((const char *)f, flen);

	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, f, n);
	dst[n] = '\0';
}

int
tar_next(struct tar_reader *r, struct tar_member *m)
{
	unsigned char h[TAR_BLOCK];
	int have_path = 0, have_link = 0, have_size = 0, pax = 0;
	char hex[65];

	if ((r->left > 0 || r->pad > 0) && tar_skip(r, hex) < 0)
		return -1;
	memset(m, 0, sizeof *m);
	for (;;) {
		uint64_t sum = 0, ssum = 0, stored, v;
		if (take(r, h, sizeof h) < 0)
			return -1;
		if (all_zero(h, sizeof h)) {
			if (pax)
				return rfail(r, EINVAL, "a pax header "
				    "without its member");
			if (take(r, h, sizeof h) < 0)
				return -1;
			if (!all_zero(h, sizeof h))
				return rfail(r, EIO, "a lone zero block "
				    "inside the archive");
			return 0;
		}
		for (size_t i = 0; i < sizeof h; i++) {
			unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
			sum += c;
			ssum += (uint64_t)(int64_t)(signed char)c;
		}
		if (get_octal(h + 148, 8, &stored) < 0 ||
		    (stored != sum && stored != (ssum & 0777777)))
			return rfail(r, EIO, "a damaged tar header (bad "
			    "checksum)");
		if (memcmp(h + 257, "ustar\0" "00", 8) != 0 &&
		    memcmp(h + 257, "ustar  \0", 8) != 0)
			return rfail(r, EINVAL, "not a POSIX tar header");
		char type = h[156] ? (char)h[156] : '0';
		if (get_octal(h + 124, 12, &v) < 0)
			return rfail(r, EINVAL, "a bad size in a tar header");
		if (type == 'x') {
			char *rec;
			if (pax++ || v > TAR_PAX_MAX)
				return rfail(r, EINVAL, "an oversized or "
				    "repeated pax header");
			rec = malloc(v + 1);
			if (rec == NULL)
				return rfail(r, ENOMEM, "out of memory");
			if (take(r, rec, v) < 0 ||
			    take(r, NULL, (TAR_BLOCK - v % TAR_BLOCK) %
			    TAR_BLOCK) < 0) {
				free(rec);
				return -1;
			}
			rec[v] = '\0';
			int rc = parse_pax(r, rec, v, m, &have_path,
			    &have_link, &have_size);
			free(rec);
			if (rc < 0)
				return -1;
			continue;
		}
		if (type == 'L' || type == 'K') {
			/* GNU tar's long name or link target, for the member
			 * that follows (its default format writes them). */
			char *dst = type == 'L' ? m->path : m->linkname;
			int *have = type == 'L' ? &have_path : &have_link;
			if (*have || v == 0 || v >= TAR_NAME_MAX)
				return rfail(r, EINVAL, "an oversized or "
				    "repeated GNU long-name header");
			if (take(r, dst, v) < 0 || take(r, NULL, (TAR_BLOCK -
			    v % TAR_BLOCK) % TAR_BLOCK) < 0)
				return -1;
			dst[v] = '\0';
			if (strlen(dst) == 0)
				return rfail(r, EINVAL, "an empty GNU long name");
			*have = 1;
			pax = 1;	/* a member must follow */
			continue;
		}
		if (!have_size)
			m->size = v;
		m->type = type;
		if (!have_path) {
			char name[101], prefix[156];
			copy_field(name, sizeof name, h, 100);
			copy_field(prefix, sizeof prefix, h + 345, 155);
			if (h[257 + 5] == '\0' && prefix[0])	/* ustar */
				snprintf(m->path, sizeof m->path, "%s/%s",
				    prefix, name);
			else
				snprintf(m->path, sizeof m->path, "%s", name);
		}
		if (!have_link)
			copy_field(m->linkname, sizeof m->linkname, h + 157,
			    100);
		if (get_octal(h + 100, 8, &v) < 0)
			return rfail(r, EINVAL, "a bad mode in a tar header");
		m->mode = (mode_t)(v & 07777);
		if (get_octal(h + 108, 8, &v) < 0)
			return rfail(r, EINVAL, "a bad uid in a tar header");
		m->uid = (uid_t)v;
		if (get_octal(h + 116, 8, &v) < 0)
			return rfail(r, EINVAL, "a bad gid in a tar header");
		m->gid = (gid_t)v;
		if (get_octal(h + 136, 12, &v) < 0)
			return rfail(r, EINVAL, "a bad time in a tar header");
		m->mtime = (int64_t)v;
		copy_field(m->uname, sizeof m->uname, h + 265, 32);
		copy_field(m->gname, sizeof m->gname, h + 297, 32);
		break;
	}
	/* Only regular files carry data here: a link or folder that says
	 * otherwise is not from a sane tar. */
	if (m->type != '0' && m->size != 0)
		return rfail(r, EINVAL, "a member other than a file carries "
		    "data");
	r->left = m->size;
	r->pad = (TAR_BLOCK - m->size % TAR_BLOCK) % TAR_BLOCK;
	if (EVP_DigestInit_ex(r->md, r->sha, NULL) != 1)
		return rfail(r, ENOMEM, "out of memory");
	return 1;
}

ssize_t
tar_read(struct tar_reader *r, void *buf, size_t len)
{
	int f;
	size_t n;

	if (r->left == 0 || len == 0)
		return 0;
	if ((f = fill(r)) < 0)
		return -1;
	if (f == 0)
		return rfail(r, EIO, "the archive ends too early");
	n = r->have - r->pos;
	if (n > len)
		n = len;
	if (n > r->left)
		n = (size_t)r->left;
	memcpy(buf, r->buf + r->pos, n);
	if (EVP_DigestUpdate(r->md, buf, n) != 1)
		return rfail(r, ENOMEM, "out of memory");
	r->pos += n;
	r->offset += n;
	r->left -= n;
	return (ssize_t)n;
}

int
tar_skip(struct tar_reader *r, char hex[65])
{
	unsigned char tmp[8192];

	while (r->left > 0) {
		ssize_t n = tar_read(r, tmp, sizeof tmp);
		if (n <= 0)
			return n < 0 ? -1 : rfail(r, EIO, "the archive ends "
			    "too early");
	}
	if (take(r, NULL, (size_t)r->pad) < 0)
		return -1;
	r->pad = 0;
	if (tar_sha256_hex(r->md, hex) < 0)
		return rfail(r, ENOMEM, "out of memory");
	return 0;
}

int
tar_drain(struct tar_reader *r)
{
	for (;;) {
		int f = fill(r);
		if (f <= 0)
			return f;
		if (!all_zero(r->buf + r->pos, r->have - r->pos))
			return rfail(r, EINVAL, "data after the end of the "
			    "archive");
		r->offset += r->have - r->pos;
		r->pos = r->have;
	}
}
