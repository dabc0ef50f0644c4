/* fakepsql.h - a stand-in psql for the unit tests that check what is
 * said to the server: it writes every line it reads to DIR/log and
 * answers the end-of-answer marker, and "1" to a count of anything
 * named 'present'.  The test points --pg-bindir at DIR. */
#ifndef POLARITY_FAKEPSQL_H
#define POLARITY_FAKEPSQL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"
#include "pg.h"

static const char fake_psql[] =
    "#!/bin/sh\n"
    "log=\"$(dirname \"$0\")/log\"\n"
    "while IFS= read -r line; do\n"
    "  printf '%s\\n' \"$line\" >>\"$log\"\n"
    "  case $line in\n"
    "    '\\echo '*) printf '%s\\n' \"${line#?echo }\" ;;\n"
    "    *\"name = 'present'\"*) echo 1 ;;\n"
    "  esac\n"
    "done\n";

/* Makes DIR (a mkdtemp template) with the fake psql in it, and a session
 * S on it through PG (configured in C). */
static inline void
fake_open(char *dir, struct config *c, struct pg *pg, struct pg_session *s)
{
	static struct db db = { "h", "5432", "u", "secret", "d", NULL, NULL };
	char path[PATH_MAX], err[256];
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/psql", dir);
	f = fopen(path, "w");
	if (f == NULL || fputs(fake_psql, f) < 0 || fclose(f) != 0 ||
	    chmod(path, 0755) != 0)
		abort();
	config_init(c);
	snprintf(c->pg_bindir, sizeof c->pg_bindir, "%s", dir);
	if (pg_init(pg, c, &db) < 0 || pg_session_open(pg, s, err,
	    sizeof err) < 0)
		abort();
}

/* What the fake psql was told so far; the caller frees it. */
static inline char *
fake_log(const char *dir)
{
	char path[PATH_MAX], *text;

	snprintf(path, sizeof path, "%s/log", dir);
	text = io_slurp(AT_FDCWD, path, 1 << 20, 0);
	return text ? text : strdup("");
}

/* Ends the session and removes DIR. */
static inline void
fake_close(const char *dir, struct pg *pg, struct pg_session *s)
{
	char err[256];

	pg_session_close(s, err, sizeof err);
	pg_free(pg);
	io_remove_tree(AT_FDCWD, dir);
}

#endif
