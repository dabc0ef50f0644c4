/* check.h - whether an archive is whole and sound.
 *
 * The one way the program checks an archive: verify, list --verify, prune
 * (which never removes the newest sound archive) and restore all come
 * here.  The check reads the archive once, through the configured
 * decompressor, and is described in unpack.h.
 */
#ifndef POLARITY_CHECK_H
#define POLARITY_CHECK_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "unpack.h"

/* Checks the archive at PATH in full and changes nothing.  Returns 0 with
 * what it holds in *U, or -1 with ERR (ELEN bytes) saying what is wrong
 * and U->damaged telling whether the archive is at fault. */
int check_archive(const struct config *c, const char *path,
    struct unpacked *u, char *err, size_t elen);

/* check_archive() that tells ON_MEMBER (with ARG) of each member as it
 * is read: for show. */
int check_list(const struct config *c, const char *path,
    void (*on_member)(void *, const struct unpack_entry *), void *arg,
    struct unpacked *u, char *err, size_t elen);

/* check_archive() in the shape of catalog_check (catalog.h), for pruning:
 * ARG is the struct config.  Returns 1 when sound, else 0. */
int check_sound(void *arg, const char *path, char *err, size_t elen);

/* What the archive at PATH is, from its first member alone: 1 ours
 * (with the moment it was made in *CREATED), 0 another (legacy.h), -1
 * not a gzip-compressed tar or unreadable. */
int check_kind(const struct config *c, const char *path, time_t *created);

/* Starts checking (and, as O says, unpacking) the archive open as FD,
 * named PATH, for a caller that works member by member: see
 * unpack_begin(), whose pass it returns (NULL: ERR says why). */
struct unpack *check_begin(const struct config *c, int fd, const char *path,
    const struct unpack_opts *o, struct unpacked *u, char *err,
    size_t elen);

#endif
