/* archive.h - the members of a Polarity backup archive and its manifest.
 *
 * An archive is a tar stream (see tar.h) whose members all sit under one
 * top folder named like the archive file.  Every member added here is
 * recorded, with its kind, mode, size and SHA-256, in the MANIFEST that
 * archive_finish() writes as the last member.  format.h holds the names
 * and the manifest's lines; docs/FORMAT.md describes the layout.
 *
 * On failure a function returns -1 with errno set and leaves a one-line
 * description, naming the file concerned, in A->err.
 */
#ifndef POLARITY_ARCHIVE_H
#define POLARITY_ARCHIVE_H

#include <stdio.h>
#include <sys/stat.h>

#include "tar.h"

/* The size of the buffer that copies a file into the stream. */
#define ARCHIVE_COPY (128 * 1024)

/* How many owners' and groups' names an archive remembers: a tree's
 * files have few, and looking one up reads /etc/passwd or /etc/group. */
#define ARCHIVE_OWNERS 8

struct archive_owner {
	unsigned long id;
	char name[32];		/* what ustar holds; "" when it has none */
};

struct archive {
	struct tar_writer tar;
	char top[128];		/* top folder, e.g. polarity-server-backup-2026... */
	FILE *mf;		/* member lines so far: a temporary file */
	unsigned char *buf;	/* ARCHIVE_COPY bytes for copying files */
	unsigned long files, dirs, links, skipped;
	unsigned long vanished;	/* listed, then gone before they were read */
	unsigned long changed;	/* changed size or time while read */
	int churn;		/* a tree is being walked: files may come,
				 * go and change (see archive_add_tree()) */
	struct archive_owner users[ARCHIVE_OWNERS], groups[ARCHIVE_OWNERS];
	unsigned nusers, ngroups;	/* looked up so far */
	char err[1024];
};

/* Starts an archive written to FD (which stays the caller's) with the top
 * folder TOP.  Returns 0 or -1. */
int archive_open(struct archive *a, int fd, const char *top);

/* Adds the member NAME (relative to the top folder) holding LEN bytes of
 * DATA, with permission bits MODE.  Returns 0 or -1. */
int archive_add_data(struct archive *a, const char *name, const void *data,
    size_t len, mode_t mode);

/* Adds the member NAME with the whole content of the open file FD, read
 * from offset 0; ST gives its size, mode, owner and time.  SOURCE names
 * the file in messages.  Returns 0 or -1: the file shrinking while read
 * is an error, unless within archive_add_tree(), where the member keeps
 * its size (the rest zeros), and a file that shrank or grew is warned of
 * and counted in CHANGED. */
int archive_add_fd(struct archive *a, const char *name, int fd,
    const struct stat *st, const char *source);

/* Begins the file member NAME whose data the caller brings into the
 * stream by another way; ST gives its size, mode, owner and time.  The
 * header is written and A->tar flushed, so that the data can follow at
 * once: e.g. the caller ends the compressor that took the stream so far,
 * appends the data compressed on its own, starts a new compressor and
 * points A->tar.fd at it.  archive_end_outside() then ends the member.
 * Returns 0 or -1. */
int archive_begin_outside(struct archive *a, const char *name,
    const struct stat *st);

/* Ends the member archive_begin_outside() began: all of its data passed
 * outside, with the SHA-256 HEX (64 lowercase hex digits).  Pads it and
 * records it in the manifest.  Returns 0 or -1. */
int archive_end_outside(struct archive *a, const char *name,
    const struct stat *st, const char *hex);

/* Adds the folder NAME with permission bits MODE.  Returns 0 or -1. */
int archive_add_dir(struct archive *a, const char *name, mode_t mode);

/* Adds the regular file at PATH as member NAME.  Returns 0 or -1. */
int archive_add_file(struct archive *a, const char *name, const char *path);

/* Adds the directory DIR and everything below it as NAME/...: folders,
 * files and symbolic links (stored as links, never followed), with their
 * modes, owners and times, in name order.  Sockets, FIFOs and devices are
 * skipped with a warning, and so are symbolic links that point outside
 * DIR (see archive_link_escapes()): a restore refuses those.  The tree
 * is live (integrations write logs and caches into it), so an entry that
 * is gone by the time it is read is skipped with a warning and counted in
 * VANISHED, as tar does, and a file that changes while read is archived
 * as it was at its start (see archive_add_fd()).  Returns 0 or -1. */
int archive_add_tree(struct archive *a, const char *name, const char *dir);

/* Whether a symbolic link at PATH (relative to a tree's root, e.g.
 * "a/b/link") with target TARGET points outside that tree: an absolute
 * target, or one whose ".." climb above the root, read lexically. */
int archive_link_escapes(const char *path, const char *target);

/* Writes the MANIFEST: the line "polarity-server-backup-manifest N", the
 * lines of HEADER (each "key value\n"), then one line per member; then
 * ends the stream.  Returns 0 or -1. */
int archive_finish(struct archive *a, const char *header);

/* Frees what A holds; the descriptor stays open. */
void archive_close(struct archive *a);

#endif
