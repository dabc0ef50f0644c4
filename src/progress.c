/* progress.c - the progress line. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static int on;
static char what[32];
static uint64_t total;
static struct timespec start, drawn;
static int active;

void
progress_init(int show)
{
	on = show && isatty(STDERR_FILENO);
}

static double
since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void
bytes(double b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

void
progress_begin(const char *w, uint64_t t)
{
	if (!on)
		return;
	snprintf(what, sizeof what, "%s", w);
	total = t;
	clock_gettime(CLOCK_MONOTONIC, &start);
	drawn.tv_sec = 0;
	active = 1;
	progress_update(0);
}

void
progress_update(uint64_t done)
{
	char d[32], rate[32], pct[16] = "";
	double el;
	int secs;

	if (!on || !active)
		return;
	/* The first call draws; then at most four times a second. */
	if (drawn.tv_sec != 0 && since(&drawn) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &drawn);
	el = since(&start);
	secs = (int)el;
	bytes((double)done, d, sizeof d);
	bytes(el > 0.1 ? (double)done / el : 0, rate, sizeof rate);
	if (total > 0)
		snprintf(pct, sizeof pct, " %3d%%", (int)(done * 100 / total));
	fprintf(stderr, "\r  %-10s %10s%s  %10s/s  %d:%02d\033[K", what, d,
	    pct, rate, secs / 60, secs % 60);
	fflush(stderr);
}

void
progress_end(void)
{
	if (!on || !active)
		return;
	active = 0;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}
