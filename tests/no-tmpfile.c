/* no-tmpfile.c - a preload for the tests: makes this machine's file
 * systems look like those without O_TMPFILE (some NFS, old kernels), so
 * that a test reaches the program's fallback without a seam in the
 * program itself.  Every other open() goes through unchanged.
 *
 *     LD_PRELOAD=tests/no-tmpfile.so polarity backup
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

/* The mode argument, which is there only with O_CREAT or O_TMPFILE. */
#define MODE_ARG(flags, last) \
	mode_t mode = 0; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_list ap; \
		va_start(ap, last); \
		mode = (mode_t)va_arg(ap, int); \
		va_end(ap); \
	}

static int
refused(int flags)
{
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return 1;
	}
	return 0;
}

#define OPEN(name) \
int name(const char *path, int flags, ...); \
int \
name(const char *path, int flags, ...) \
{ \
	MODE_ARG(flags, flags) \
	if (refused(flags)) \
		return -1; \
	return ((open_fn)dlsym(RTLD_NEXT, #name))(path, flags, mode); \
}

#define OPENAT(name) \
int name(int dirfd, const char *path, int flags, ...); \
int \
name(int dirfd, const char *path, int flags, ...) \
{ \
	MODE_ARG(flags, flags) \
	if (refused(flags)) \
		return -1; \
	return ((openat_fn)dlsym(RTLD_NEXT, #name))(dirfd, path, flags, \
	    mode); \
}

OPEN(open)
OPEN(open64)
OPENAT(openat)
OPENAT(openat64)
