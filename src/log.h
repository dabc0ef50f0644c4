/* log.h - what the program tells the operator on standard error.
 *
 * Errors and warnings always go out; steps ("dumping database ...") are
 * shown unless quiet, each with a timestamp.  Nothing here exits.
 */
#ifndef POLARITY_LOG_H
#define POLARITY_LOG_H

enum log_level {
	LOG_QUIET = 0,		/* errors and warnings only */
	LOG_NORMAL = 1,		/* and each step */
	LOG_VERBOSE = 2,	/* and details */
};

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
