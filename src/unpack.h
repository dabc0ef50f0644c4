/* unpack.h - checking an archive in full, and unpacking it safely.
 *
 * unpack() streams the archive once through the decompressor and checks
 * everything a restore relies on: the gzip stream and its CRC, every tar
 * header, the format version, that each member is one this format has and
 * is named and typed as it should be (no absolute names, no "..", nothing
 * under a symbolic link, no link pointing out of the integrations folder,
 * no hard links, devices or FIFOs, no duplicates), and that the MANIFEST
 * lists exactly the members present with their sizes and SHA-256.
 *
 * Given a staging folder it also writes the members there as they stream
 * (.env, integrations/, database/): files are created new (O_EXCL), never
 * through a symbolic link, without set-user or set-group bits; symbolic
 * links are made only at the end, once all else checked out.  What is in
 * the staging folder is to be trusted only when unpack() returned 0.
 */
#ifndef POLARITY_UNPACK_H
#define POLARITY_UNPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* More members than this and the archive is refused (a tar bomb).  A
 * variable, so that a test can lower it. */
extern unsigned long unpack_max_members;

struct unpacked {
	char top[64];		/* the top folder */
	int format;
	char created[64];	/* manifest header values, "" when absent */
	char database[256];
	char server_version[64];
	char pg_dump_version[64];
	char tool[128];
	char encoding[64];
	int has_roles;		/* database/roles.sql is present */
	unsigned long files, dirs, links;
	uint64_t bytes;		/* data bytes of all files */
	uint64_t stream;	/* bytes of the uncompressed stream */
	int damaged;		/* on failure: the archive's fault (not ours,
				 * e.g. a full disk) */
};

/* What a caller may have said of the files as the archive streams, to
 * start on the work that follows while the rest is still being checked (a
 * restore starts loading the database once the .env is unpacked).
 * Nothing a tap learns has been checked yet: what it does must be undone
 * unless unpack() returns 0.
 *
 * skip() is called as a file member NAME (below the top folder) of SIZE
 * bytes starts, and returns nonzero for it to be checked but not written
 * in the stage; end() is called once a member was read in full and
 * (unless skipped) is complete in the stage.  Either may be NULL. */
struct unpack_tap {
	int (*skip)(void *arg, const char *name, uint64_t size);
	void (*end)(void *arg, const char *name);
	void *arg;
};

/* Checks the archive at PATH, decompressed by DECOMPRESSOR (a gzip-like
 * program run with -dc, found in ENVP's PATH) and, when STAGE is not -1,
 * unpacks it below the folder open as STAGE, showing TAP (or NULL) the
 * files as they stream.  Returns 0 when the archive
 * is whole and sound, with what it says in *U.  Otherwise -1 with ERR
 * (ELEN bytes) saying what is wrong, naming the member concerned, and
 * U->damaged telling whether the archive is at fault (rather than, say, a
 * full disk under the stage). */
int unpack(const char *path, const char *decompressor, char *const envp[],
    int stage, const struct unpack_tap *tap, struct unpacked *u, char *err,
    size_t elen);

/* Like unpack(), from the archive open as IN (read from where it stands;
 * it stays the caller's), named PATH in messages. */
int unpack_fd(int in, const char *path, const char *decompressor,
    char *const envp[], int stage, const struct unpack_tap *tap,
    struct unpacked *u, char *err, size_t elen);

/* Like unpack(), from the uncompressed tar stream on FD (which stays the
 * caller's).  The fuzzing harness drives this. */
int unpack_stream(int fd, int stage, const struct unpack_tap *tap,
    struct unpacked *u, char *err, size_t elen);

/* Removes NAME below the folder open as AT and everything under it,
 * never following a symbolic link.  Returns 0, or -1 with errno set. */
int unpack_remove(int at, const char *name);

#endif
