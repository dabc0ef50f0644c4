/* tar.c - a streaming pax writer with SHA-256 of every member. */
#include "autoconf.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "tar.h"

/* The largest value an ustar numeric field of LEN bytes holds in octal. */
static uint64_t
octal_max(size_t len)
{
	return (UINT64_C(1) << (3 * (len - 1))) - 1;
}

static void
put_octal(char *field, size_t len, uint64_t v)
{
	snprintf(field, len, "%0*llo", (int)(len - 1), (unsigned long long)v);
}

static int
flush(struct tar_writer *w)
{
	if (w->used > 0 && io_write_all(w->fd, w->buf, w->used) < 0)
		return -1;
	w->used = 0;
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
	w->md = EVP_MD_CTX_new();
	if (w->md == NULL) {
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
	memcpy(h + 263, "00", 2);
	if (e->uname)
		memcpy(h + 265, e->uname, strnlen(e->uname, 31));
	if (e->gname)
		memcpy(h + 297, e->gname, strnlen(e->gname, 31));
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof h; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
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
	if (EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
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
tar_end(struct tar_writer *w, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (w->left != 0) {
		errno = EIO;
		return -1;
	}
	if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1 || mdlen != 32) {
		errno = ENOMEM;
		return -1;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
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
