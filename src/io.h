/* io.h - reading and writing descriptors and files without surprises.
 *
 * Every EINTR loop of the program lives here.  A call that blocks is
 * retried after a signal, unless a termination signal has been recorded
 * with io_note_signal(): then it fails with errno EINTR, so that the work
 * in progress unwinds and cleans up instead of going on.  A call made
 * after the signal is not refused: the clean-up needs I/O too, and the
 * handler stops every child (spawn_kill_all()), so that no pipe is left
 * to block on.
 */
#ifndef POLARITY_IO_H
#define POLARITY_IO_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The termination signal received (SIGINT, SIGTERM, ...), or 0. */
extern volatile sig_atomic_t io_stop_signal;

/* Record that signal SIG asks the program to stop.  Async-signal-safe. */
void io_note_signal(int sig);

/* Reads up to LEN bytes.  Returns the count (0 at end of file) or -1 with
 * errno set. */
ssize_t io_read(int fd, void *buf, size_t len);

/* pread(2) at OFF, again on EINTR as io_read() is. */
ssize_t io_pread(int fd, void *buf, size_t len, off_t off);

/* Reads until LEN bytes or end of file.  Returns the count read, which is
 * less than LEN only at end of file, or -1 with errno set. */
ssize_t io_read_full(int fd, void *buf, size_t len);

/* Writes all LEN bytes, handling short writes.  Returns 0, or -1 with
 * errno set (EPIPE when the reader went away: SIGPIPE is ignored). */
int io_write_all(int fd, const void *buf, size_t len);

/* Waits for child PID like waitpid(2).  Returns the pid or -1. */
pid_t io_waitpid(pid_t pid, int *status, int flags);

/* Reads the whole file NAME (relative to the folder open as AT, or
 * AT_FDCWD) into a new NUL-terminated buffer that the caller frees; a
 * symbolic link is not followed when NOFOLLOW.  Refuses a file larger
 * than MAX bytes (EFBIG).  Returns the buffer, or NULL with errno set. */
char *io_slurp(int at, const char *name, size_t max, int nofollow);

/* Makes the directory holding PATH durable: opens it and fsyncs it.
 * Returns 0 or -1 with errno set. */
int io_fsync_dir_of(const char *path);

/* Writes the folder holding PATH to OUT (LEN bytes): "/" for "/x", "."
 * for a bare name.  Returns 0, or -1 with errno ENAMETOOLONG. */
int io_parent(const char *path, char *out, size_t len);

/* Appends the whole content of the file FROM (from its offset 0) to TO
 * at TO's offset, in the kernel where it can (copy_file_range(2)).
 * Returns 0, or -1 with errno set. */
int io_append(int from, int to);

/* Removes the GAP bytes at AT from the file FD, moving what follows down:
 * by FALLOC_FL_COLLAPSE_RANGE where the file system can (AT and GAP
 * multiples of its block size, something after the gap), which moves no
 * data; else by a copy down and a truncation.  *MOVED says which: 0 for
 * the collapse, 1 for the copy.  The file's offset is left at its new
 * end.  Returns 0, or -1 with errno set. */
int io_close_gap(int fd, off_t at, off_t gap, int *moved);

/* fsyncs the directory DIR.  Returns 0 or -1 with errno set. */
int io_fsync_dir(const char *dir);

/* Replaces the file PATH with LEN bytes of DATA, atomically: a temporary
 * file beside it, fsync, rename, fsync of the folder, so that PATH is at
 * every instant either the old file or the whole new one.  The new file
 * has the mode MODE; with IO_LIKE_OLD, the mode and (as root) the owner
 * of the file it replaces instead, MODE only for a file that did not
 * exist.  When KEEP is not NULL the previous file stays as KEEP: a hard
 * link to it, or a copy when KEEP is on another file system.  When PATH
 * is a symbolic link, the link stays and its target is replaced, in the
 * target's folder.  Returns 0, or -1 with errno set and PATH as it
 * was. */
#define IO_LIKE_OLD 1
int io_replace(const char *path, const void *data, size_t len, mode_t mode,
    int flags, const char *keep);

/* Opens a new private (0600) file in the folder DIR, with FLAGS (O_RDWR
 * or O_WRONLY) and O_CLOEXEC.  Where the file system allows, the file has
 * no name at all (O_TMPFILE).  Elsewhere it is named DIR/.PREFIXXXXXXX.tmp:
 * when NAME is NULL the name is removed at once; otherwise it is kept and
 * written to NAME (LEN bytes), for the caller to rename or remove.  NAME
 * is "" when the file has no name: then only linkat() of
 * /proc/self/fd/FD names it, so a NAME asks for O_TMPFILE only where
 * /proc is mounted.  Returns the descriptor, or -1 with errno set. */
int io_tmpfile(const char *dir, const char *prefix, int flags, char *name,
    size_t len);

/* Removes every entry of the folder open as DIRFD whose name starts with
 * PREFIX and ends with SUFFIX ("" for any), folders with all they hold
 * (io_remove_tree()); calls REMOVED (unless NULL) with ARG and each name
 * removed.  For what runs that died left behind: the caller holds the
 * lock that keeps live runs out.  Errors are passed over. */
void io_sweep(int dirfd, const char *prefix, const char *suffix,
    void (*removed)(void *arg, const char *name), void *arg);

/* Removes NAME below the folder open as AT and everything under it,
 * never following a symbolic link.  Returns 0 (also when NAME does not
 * exist), or -1 with errno set. */
int io_remove_tree(int at, const char *name);

/* Writes S to F as a JSON string, quoted and escaped. */
void io_json_string(FILE *f, const char *s);

/* The room the tree at PATH takes on disk (blocks in use, links not
 * followed), into *BYTES.  Returns 0, or -1 with errno set. */
int io_tree_size(const char *path, uint64_t *bytes);

/* Starts FN(ARG) in a new thread *T, born with every signal blocked:
 * they stay the main thread's to take (io_stop_signal).  Returns 0, or
 * the error number of pthread_create(). */
int io_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* A syncfs() of FD's file system in a thread of its own (every signal
 * blocked there), so that the flush overlaps other work: what was written
 * before io_flush_start() is on disk once io_flush_wait() returns 0.
 * io_flush_wait() returns the flush's result (0, or -1 with errno set);
 * when the thread could not start, it flushes then. */
struct io_flush {
	pthread_t thread;
	int fd;
	int started;		/* the thread runs, or ran */
	int rc, err;		/* its syncfs()'s result and errno */
};
void io_flush_start(struct io_flush *f, int fd);
int io_flush_wait(struct io_flush *f);

/* A point a test may stop the program at: when POLARITY_TEST_KILL_AT
 * names POINT, the program kills itself with SIGKILL there, as a power
 * cut would stop it.  Nothing happens otherwise. */
void io_test_point(const char *point);

#endif
