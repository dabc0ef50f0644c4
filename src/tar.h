/* tar.h - writing and reading POSIX tar (pax) streams.
 *
 * The stream is written to a descriptor (usually the pipe to the
 * compressor) through a small fixed buffer.  Names and link targets of any
 * length, and sizes past 8 GiB, are carried in pax extended headers, which
 * GNU tar, bsdtar and busybox tar all read.  Each member's data is hashed
 * with SHA-256 as it is written, so the archive's manifest costs no second
 * read.
 */
#ifndef POLARITY_TAR_H
#define POLARITY_TAR_H

#include <stdint.h>
#include <sys/types.h>

#define TAR_BLOCK 512
#define TAR_BUF (64 * 1024)

enum tar_type {
	TAR_FILE = '0',
	TAR_SYMLINK = '2',
	TAR_DIR = '5',
};

struct tar_entry {
	const char *path;	/* member name, no leading '/' */
	enum tar_type type;
	mode_t mode;		/* permission bits */
	uint64_t size;		/* data size, for TAR_FILE */
	int64_t mtime;
	uid_t uid;
	gid_t gid;
	const char *uname;	/* owner names, or NULL */
	const char *gname;
	const char *linkname;	/* target, for TAR_SYMLINK */
};

struct tar_writer {
	int fd;
	uint64_t offset;	/* bytes of the stream produced so far */
	uint64_t left;		/* data bytes the current member still owes */
	uint64_t member_size;
	void *md;		/* SHA-256 state of the current member */
	void *sha;		/* the algorithm, fetched once */
	void (*progress)(uint64_t offset);	/* told after each write */
	size_t used;
	unsigned char buf[TAR_BUF];
};

/* Starts a stream on FD, which stays the caller's.  Returns 0, or -1 with
 * errno set. */
int tar_open(struct tar_writer *w, int fd);

/* Begins member E.  For a file, exactly E->size bytes must follow through
 * tar_write() before tar_end(); other kinds take no data.  Returns 0, or
 * -1 with errno set (EINVAL for an entry that cannot be written). */
int tar_begin(struct tar_writer *w, const struct tar_entry *e);

/* Adds LEN bytes of the current member's data.  Returns 0, or -1 with
 * errno set (EFBIG when that is more than the header announced). */
int tar_write(struct tar_writer *w, const void *data, size_t len);

/* Finishes the SHA-256 state MD (an EVP_MD_CTX) and stores the digest as
 * 64 lowercase hex digits and a NUL in HEX.  Returns 0, or -1 with errno
 * ENOMEM. */
int tar_sha256_hex(void *md, char hex[65]);

/* Writes out what the buffer holds.  Returns 0, or -1 with errno set. */
int tar_flush(struct tar_writer *w);

/* Counts LEN bytes of the current member's data as written: the caller
 * put them into the stream by another way, after tar_flush() (e.g. the
 * data compressed on its own, appended after the compressed stream so
 * far), and knows their hash; tar_end() is then given HEX NULL.  Returns
 * 0, or -1 with errno EFBIG when that is more than the header announced. */
int tar_written(struct tar_writer *w, uint64_t len);

/* Ends the current member, padding it to a whole block, and, unless HEX
 * is NULL, stores the SHA-256 of its data as 64 lowercase hex digits and
 * a NUL in HEX.  Returns 0, or -1 with errno set (EIO when the data was
 * short). */
int tar_end(struct tar_writer *w, char hex[65]);

/* Writes the end-of-archive blocks and flushes the buffer.  Returns 0, or
 * -1 with errno set.  tar_close() must still be called. */
int tar_finish(struct tar_writer *w);

/* Frees what W holds; the descriptor stays open. */
void tar_close(struct tar_writer *w);

/* Reading.  The reader takes the stream from a descriptor (usually the
 * pipe from the decompressor) and checks what tar itself would: header
 * checksums, well-formed numbers, pax records.  It returns members as they
 * are; what a member may be named or be is the caller's policy. */

#define TAR_NAME_MAX 4096	/* longest path or link target we take */
#define TAR_PAX_MAX (64 * 1024)	/* largest pax header we take */

struct tar_member {
	char path[TAR_NAME_MAX];
	char linkname[TAR_NAME_MAX];
	char type;		/* the raw type flag; '\0' is read as '0' */
	mode_t mode;
	uint64_t size;
	int64_t mtime;
	uid_t uid;
	gid_t gid;
	char uname[33];
	char gname[33];
};

struct tar_reader {
	int fd;
	uint64_t offset;	/* bytes of the stream consumed */
	uint64_t left;		/* data bytes of the member not yet read */
	uint64_t pad;		/* padding bytes after them */
	void *md;
	void *sha;		/* the algorithm, fetched once */
	void (*progress)(uint64_t offset);	/* told after each read */
	size_t have, pos;
	char err[512];
	unsigned char buf[TAR_BUF];
};

/* Starts reading the stream on FD, which stays the caller's.  Returns 0,
 * or -1 with errno set. */
int tar_reader_open(struct tar_reader *r, int fd);

/* Reads the next member's header into M, first skipping what is left of
 * the previous member.  Returns 1 for a member, 0 at the end-of-archive
 * blocks, or -1 with errno set and R->err saying what is wrong (EIO for a
 * damaged or truncated stream, EINVAL for something no tar should hold). */
int tar_next(struct tar_reader *r, struct tar_member *m);

/* Reads up to LEN bytes of the current member's data.  Returns the count,
 * 0 once all is read, or -1 (a stream that ends early is EIO). */
ssize_t tar_read(struct tar_reader *r, void *buf, size_t len);

/* Skips what is left of the current member and stores the SHA-256 of its
 * data in HEX, as tar_end() does (all of the data is hashed, also what is
 * skipped).  Returns 0 or -1. */
int tar_skip(struct tar_reader *r, char hex[65]);

/* After tar_next() returned 0: reads the rest of the stream, which must be
 * zeros.  Returns 0, or -1 with R->err set. */
int tar_drain(struct tar_reader *r);

/* Frees what R holds; the descriptor stays open. */
void tar_reader_close(struct tar_reader *r);

#endif
