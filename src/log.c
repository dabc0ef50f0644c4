/* log.c - messages to standard error. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static enum log_level level = LOG_NORMAL;

void
log_set_level(enum log_level l)
{
	level = l;
}

static void
say(const char *prefix, int stamp, const char *fmt, va_list ap)
{
	char line[4096], when[32] = "";

	if (stamp) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S ", &tm);
	}
	vsnprintf(line, sizeof line, fmt, ap);
	/* One write per line, so lines of concurrent writers never mix. */
	fprintf(stderr, "%s%s%s\n", when, prefix, line);
	fflush(stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("polarity: error: ", 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("polarity: warning: ", 0, fmt, ap);
	va_end(ap);
}

void
log_step(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_NORMAL)
		return;
	va_start(ap, fmt);
	say("", 1, fmt, ap);
	va_end(ap);
}

void
log_detail(const char *fmt, ...)
{
	va_list ap;

	if (level < LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	say("", 1, fmt, ap);
	va_end(ap);
}
