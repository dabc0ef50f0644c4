/* unpack.h - checking an archive in full, and unpacking it safely.
 *
 * An unpack streams the archive once through the decompressor and checks
 * everything a restore relies on: the gzip stream and its CRC, every tar
 * header, the format version, that each member is one this format has and
 * is named and typed as it should be (no absolute names, no "..", nothing
 * under a symbolic link, no link pointing out of the integrations folder,
 * no hard links, devices or FIFOs, no duplicates), and that the MANIFEST
 * lists exactly the members present with their sizes and SHA-256; and
 * that each database dump a restore loads is one psql may be given
 * (script.h): none holds a psql command.
 *
 * An archive whose first member is not our FORMAT is read as one of the
 * original utility's (legacy.h): the same checks of names and kinds, no
 * manifest; a leading "./" is dropped from names; the .env and the
 * integrations folder are found at the top or in the one top folder, and
 * the database dumps by what they hold.  Once unpack_end() returned 0
 * the stage holds .env and integrations/ at its top, as for ours.
 *
 * Given a staging folder it also writes the members there as they stream
 * (.env, integrations/, database/): files are created new (O_EXCL), never
 * through a symbolic link, without set-user or set-group bits; symbolic
 * links are made only at the end, once all else checked out.  What is in
 * the staging folder is to be trusted only once unpack_end() returned 0.
 */
#ifndef POLARITY_UNPACK_H
#define POLARITY_UNPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "format.h"
#include "legacy.h"

/* More members than this and the archive is refused (a tar bomb), unless
 * the caller sets another limit. */
#define UNPACK_MAX_MEMBERS 2000000UL

struct unpacked {
	char top[64];		/* the top folder */
	int format;
	struct format_header h;	/* the manifest's header */
	int has_roles;		/* database/roles.sql is present */
	unsigned long files, dirs, links;
	uint64_t bytes;		/* data bytes of all files */
	uint64_t dump_bytes;	/* of the three dumps a restore loads */
	uint64_t post_bytes;	/* of which the post-data dump's */
	char dump_sha[3][65];	/* the SHA-256 of the pre-data, data and
				 * post-data dumps, as read (once the
				 * pass ended well, the manifest's) */
	uint64_t stream;	/* bytes of the uncompressed stream */
	int damaged;		/* on failure: the archive's fault (not ours,
				 * e.g. a full disk) */
	/* An archive of the original utility (legacy.h): no FORMAT, no
	 * manifest.  Its .env and integrations are unpacked as ours are
	 * (top is its top folder, or ""); its database is DB. */
	int legacy;
	int no_integrations;	/* it holds no integrations folder */
	char need[300];		/* the first thing in the dumps it loads
				 * that only psql's \restrict makes safe
				 * (script.h), naming the dump; or "" */
	unsigned long others;	/* members neither restored nor loaded */
	struct legacy_set db;
};

/* A member as the archive holds it, for a caller that lists them. */
struct unpack_entry {
	char kind;		/* 'f', 'd' or 'l' */
	unsigned mode;
	uint64_t size;
	const char *name;	/* below the top folder (legacy: "./"
				 * dropped) */
	const char *target;	/* a link's, else NULL */
};

/* How to take an archive. */
struct unpack_opts {
	int stage;		/* the folder to unpack below, or -1: only
				 * check */
	int skip_dumps;		/* check the database dumps a restore
				 * loads, but do not write them in the
				 * stage: the load reads them from the
				 * archive */
	unsigned long max_members;	/* 0: UNPACK_MAX_MEMBERS */
	/* Told of each member as it is read (NULL: nobody), with ARG. */
	void (*on_member)(void *arg, const struct unpack_entry *e);
	void *arg;
};

/* One pass over an archive, member by member, for a caller that starts on
 * the work that follows while the rest is still being checked (a restore
 * starts loading the database once the .env is unpacked).  Nothing a
 * caller learns before unpack_end() returned 0 has been checked: what it
 * does with it must be undone otherwise. */
struct unpack;

/* Starts checking the archive open as IN (read from where it stands; it
 * stays the caller's), named PATH in messages, decompressed by
 * DECOMPRESSOR (a gzip-like command line, run with -dc, found in ENVP's
 * PATH), as O says.  What it learns goes to *U; ERR (ELEN bytes) holds
 * the reason for a failure until unpack_end().  Returns the pass, or NULL
 * with ERR set (nothing to end). */
struct unpack *unpack_begin(int in, const char *path,
    const char *decompressor, char *const envp[],
    const struct unpack_opts *o, struct unpacked *u, char *err, size_t elen);

/* Reads the next member.  Returns 1 when a file member was read in full
 * (and, unless skipped, is complete in the stage), with its name below
 * the top folder in *NAME (valid until the next call); 0 when the stream
 * ended; -1 on a failure.  After 0 or -1, call unpack_end(). */
int unpack_next(struct unpack *p, const char **name);

/* Ends the pass that unpack_next() ended with RC: waits for the
 * decompressor, checks the manifest, finishes the stage (links, folder
 * modes) and frees P.  Returns 0 when the archive is whole and sound,
 * else -1 with ERR saying what is wrong, naming the member concerned, and
 * U->damaged telling whether the archive is at fault (rather than, say, a
 * full disk under the stage). */
int unpack_end(struct unpack *p, int rc);

/* Sets the CPU priority (nice) of the pass P's decompressor to NICE, for
 * a caller that has more urgent work running beside it (the calling
 * thread's own priority is the caller's).  Returns 0, or -1 with errno
 * set (raising it again takes privileges). */
int unpack_nice(struct unpack *p, int nice);

/* Reads only the first member's header of the pass P, which has read
 * nothing yet, and ends it.  Returns 1 when it is our FORMAT member (its
 * time, the moment the backup began writing, goes to *MTIME), 0 when it
 * is another (an archive of the original utility, or no archive), -1
 * when there is no member to read. */
int unpack_peek(struct unpack *p, time_t *mtime);

/* Reads what is left of the pass P and ends it, as unpack_end(). */
int unpack_rest(struct unpack *p);

/* A whole pass over the uncompressed tar stream on FD (which stays the
 * caller's), as unpack_begin() then unpack_rest() would make it.  The
 * fuzzing harness drives this. */
int unpack_stream(int fd, const struct unpack_opts *o, struct unpacked *u,
    char *err, size_t elen);

#endif
