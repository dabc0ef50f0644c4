/* log.h - what the program tells the operator on standard error.
 *
 * Errors and warnings always go out; steps ("dumping database ...") are
 * shown unless quiet, each with a timestamp.  When standard error is not
 * a terminal (cron), and for a restore always, every message, steps
 * included and whatever the level, also goes to syslog (LOG_DAEMON, ident
 * polarity-backup), so that a nightly run leaves a trace beside its mail
 * and a restore by hand an audit trail; under systemd, whose journal
 * takes standard error, not twice.  Nothing here exits.
 */
#ifndef POLARITY_LOG_H
#define POLARITY_LOG_H

enum log_level {
	LOG_QUIET = 0,		/* errors and warnings only */
	LOG_NORMAL = 1,		/* and each step */
	LOG_VERBOSE = 2,	/* and details */
};

/* Starts syslog when log_wants_syslog() says so for standard error;
 * COMMAND is named in the first line logged.  AUDIT: the command changes
 * the server (restore), so it leaves a trace also when run by hand. */
void log_open(const char *command, int audit);

/* Whether messages go to syslog as well: not when standard error already
 * reaches the journal (systemd sets JOURNAL_STREAM to "DEV:INO" of that
 * stream: the same lines would be there twice); else always for an AUDIT
 * command, and for the others when standard error is no terminal (TTY
 * 0).  JOURNAL is the variable's value or NULL; DEV and INO are standard
 * error's. */
int log_wants_syslog(int audit, int tty, const char *journal,
    unsigned long long dev, unsigned long long ino);

/* Where syslog lines go: syslog(3) unless a test says otherwise.  FN gets
 * the priority and the line; NULL turns the mirroring off. */
void log_set_syslog(void (*fn)(int prio, const char *line));

/* Sets how much is shown.  The default is LOG_NORMAL. */
void log_set_level(enum log_level level);

/* "polarity: error: ..." */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "polarity: warning: ..." */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "YYYY-mm-dd HH:MM:SS ...", a step of the work, unless quiet. */
void log_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like log_step(), only when verbose. */
void log_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
