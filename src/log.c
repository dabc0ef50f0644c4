/* log.c - messages to standard error, and to syslog under cron. */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level level = LOG_NORMAL;
static void (*to_syslog)(int, const char *);

static void
real_syslog(int prio, const char *line)
{
	syslog(prio, "%s", line);
}

void
log_set_syslog(void (*fn)(int, const char *))
{
	to_syslog = fn;
}

int
log_wants_syslog(int audit, int tty, const char *journal,
    unsigned long long dev, unsigned long long ino)
{
	if (journal && journal[0] >= '0' && journal[0] <= '9') {
		char *end;
		unsigned long long jdev, jino;

		errno = 0;
		jdev = strtoull(journal, &end, 10);
		if (errno == 0 && *end == ':' && end[1] >= '0' &&
		    end[1] <= '9') {
			jino = strtoull(end + 1, &end, 10);
			if (errno == 0 && *end == '\0' && jdev == dev &&
			    jino == ino)
				return 0;
		}
	}
	return audit || !tty;
}

void
log_open(const char *command, int audit)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0 || !log_wants_syslog(audit,
	    isatty(STDERR_FILENO), getenv("JOURNAL_STREAM"),
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino))
		return;
	openlog("polarity-backup", LOG_PID, LOG_DAEMON);
	to_syslog = real_syslog;
	syslog(LOG_INFO, "starting %s", command);
}

void
log_set_level(enum log_level l)
{
	level = l;
}

/* Writes one message: to standard error when SHOW, with PREFIX and, when
 * STAMP, the time; to syslog at PRIO when that is on. */
static void
say(int show, int prio, const char *prefix, int stamp, const char *fmt,
    va_list ap)
{
	char line[4096], when[32] = "";

	vsnprintf(line, sizeof line, fmt, ap);
	if (to_syslog)
		to_syslog(prio, line);
	if (!show)
		return;
	if (stamp) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S ", &tm);
	}
	/* One write per line, so lines of concurrent writers never mix. */
	fprintf(stderr, "%s%s%s\n", when, prefix, line);
	fflush(stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, LOG_ERR, "polarity: error: ", 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, LOG_WARNING, "polarity: warning: ", 0, fmt, ap);
	va_end(ap);
}

void
log_step(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(level >= LOG_NORMAL, LOG_INFO, "", 1, fmt, ap);
	va_end(ap);
}

void
log_detail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(level >= LOG_VERBOSE, LOG_DEBUG, "", 1, fmt, ap);
	va_end(ap);
}
