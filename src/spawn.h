/* spawn.h - starting programs and pipelines, and learning how they ended.
 *
 * Programs are started with posix_spawn(3) from an argv array: never a
 * shell.  Each leads a process group of its own.  We find the program
 * ourselves first, in the PATH the child will have, so that "not found"
 * is an error of the call everywhere, even where the C library (or
 * valgrind) can only report it as exit status 127.  Each child gets a
 * clean signal state (default dispositions, no blocked signals) and
 * exactly the environment the caller gives it.
 * Its standard error goes to a private memory file, so that a failure can
 * be reported with the child's own words and nothing leaks to the terminal
 * or the cron mail unasked.
 *
 * Every child that was started must be waited for with spawn_wait() or
 * spawn_wait_all(); until then it is known to spawn_kill_all().  At most
 * 64 children run at once: a start beyond that fails with EAGAIN rather
 * than leave a child that a signal would not stop.
 */
#ifndef POLARITY_SPAWN_H
#define POLARITY_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct child {
	pid_t pid;		/* 0 once reaped (or never started) */
	char name[32];		/* basename of argv[0], for messages */
	char where[128];	/* " in container 'X'" when it runs there */
	int errfd;		/* memory file with the child's stderr, or -1 */
	int status;		/* wait status, valid once reaped */
};

/* Finds the program PROG as the environment ENVP would: PROG itself when
 * it holds a '/', else the first executable regular file PROG in the
 * directories of ENVP's PATH (ours when ENVP has none).  Writes the path
 * to OUT.  Returns 0, or -1 with errno set (ENOENT, EACCES). */
int spawn_find(const char *prog, char *const envp[], char *out, size_t len);

/* Starts ARGV[0], found with spawn_find(), with standard input IN and standard
 * output OUT (-1 means /dev/null) and the environment ENVP.  IN and OUT
 * stay the caller's: close your copy of a pipe end right after this call,
 * or the other side never sees end of file.  Returns 0, or -1 with errno
 * set (and C->pid 0; EAGAIN when 64 children already run). */
int spawn_start(struct child *c, char *const argv[], int in, int out,
    char *const envp[]);

/* Like spawn_start(), with the child started in the folder DIR. */
int spawn_start_in(struct child *c, char *const argv[], int in, int out,
    char *const envp[], const char *dir);

/* Starts the N programs ARGVS[0..N-1] as a pipeline: IN feeds the first,
 * each one's standard output feeds the next, the last writes to OUT.
 * The pipes between stages are the children's alone.  On failure the
 * stages already started are killed and reaped, and -1 is returned with
 * errno set. */
int spawn_pipeline(struct child *c, size_t n, char *const *const argvs[],
    int in, int out, char *const envp[]);

/* Whether C has ended, without waiting: returns 1 once it has (it is then
 * reaped, and spawn_wait() only describes how it ended), else 0. */
int spawn_poll(struct child *c);

/* Waits for C to end.  Returns 0 when it exited with status 0.  Otherwise
 * returns -1 and writes one line to MSG (LEN bytes) that names the
 * program, how it ended and the first error line it printed, e.g.
 * "'pg_dump' exited with status 1: pg_dump: error: ...", or
 * "'pg_dump' in container 'X' exited ..." when WHERE says so. */
int spawn_wait(struct child *c, char *msg, size_t len);

/* Waits for all N children.  Returns 0 when all succeeded, otherwise -1
 * with MSG describing the failure that explains the others: the first
 * stage that failed other than by a broken pipe. */
int spawn_wait_all(struct child *c, size_t n, char *msg, size_t len);

/* The shell-style exit code of a reaped child: its exit status, or 128+N
 * when it was killed by signal N. */
int spawn_exit_code(const struct child *c);

/* Copies up to LEN-1 bytes of what C wrote to standard error into BUF and
 * terminates it.  Returns the count copied. */
size_t spawn_stderr(const struct child *c, char *buf, size_t len);

/* Closes the memory file holding C's standard error.  Call it once C was
 * waited for and its messages are no longer needed. */
void spawn_close(struct child *c);

/* Makes a child environment: the few variables of ours a child may see
 * (PATH, HOME, the locale, TZ, TMPDIR, USER, LOGNAME; PATH gets a default
 * when we have none).  Returns it, NULL terminated, for spawn_env_free();
 * or NULL with errno set. */
char **spawn_env(void);

/* Adds KEY=VALUE to *ENVP.  Returns 0, or -1 with errno set (and *ENVP
 * unchanged). */
int spawn_env_add(char ***envp, const char *key, const char *value);

/* Frees ENVP, wiping each string first: secrets go in there. */
void spawn_env_free(char **envp);

/* Sends SIG to every child not yet waited for, and to what it started:
 * each child leads its own process group.  Async-signal-safe: a signal
 * handler calls it to stop the whole pipeline. */
void spawn_kill_all(int sig);

/* Splits the command line CMD into at most MAX - 1 words, on blanks,
 * with '...' and "..." grouping (no expansion, no escapes inside '...';
 * \ escapes inside "..." and outside).  The words are written into BUF
 * (BLEN bytes) and pointed to by ARGV, which ends with NULL.  Returns the
 * count, or -1 for an unclosed quote or too little room. */
int spawn_split(const char *cmd, char **argv, size_t max, char *buf,
    size_t blen);

/* A command line that the operator gave (a compressor with its options,
 * a hook), split into an argv that spawn_start() takes. */
struct spawn_cmd {
	char *argv[68];
	char words[4096];
};

/* Splits CMD into C (see spawn_split()) and appends the words of EXTRA
 * (NULL terminated, or NULL), which stay the caller's.  Returns the count
 * of words, or -1 when CMD holds no word, has an unclosed quote or is too
 * long. */
int spawn_cmd(struct spawn_cmd *c, const char *cmd, const char *const extra[]);

/* Runs ARGV for the operator (a hook, their restart scripts) in the
 * folder DIR (NULL: here), with our whole environment and its output on
 * our standard error, and waits for it.  Returns 0 when it exited with 0;
 * 1 when it failed, with MSG (LEN bytes) saying how; -1 when it could not
 * be started, with errno set. */
int spawn_run(char *const argv[], const char *dir, char *msg, size_t len);

#endif
