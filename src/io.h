/* io.h - reading and writing descriptors without surprises.
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

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* The termination signal received (SIGINT, SIGTERM, ...), or 0. */
extern volatile sig_atomic_t io_stop_signal;

/* Record that signal SIG asks the program to stop.  Async-signal-safe. */
void io_note_signal(int sig);

/* Reads up to LEN bytes.  Returns the count (0 at end of file) or -1 with
 * errno set. */
ssize_t io_read(int fd, void *buf, size_t len);

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

/* fsyncs the directory DIR.  Returns 0 or -1 with errno set. */
int io_fsync_dir(const char *dir);

#endif
