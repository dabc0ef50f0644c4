/* tar.h - writing POSIX tar (pax) streams.
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

/* Ends the current member, padding it to a whole block, and stores the
 * SHA-256 of its data as 64 lowercase hex digits and a NUL in HEX.
 * Returns 0, or -1 with errno set (EIO when the data was short). */
int tar_end(struct tar_writer *w, char hex[65]);

/* Writes the end-of-archive blocks and flushes the buffer.  Returns 0, or
 * -1 with errno set.  tar_close() must still be called. */
int tar_finish(struct tar_writer *w);

/* Frees what W holds; the descriptor stays open. */
void tar_close(struct tar_writer *w);

#endif
