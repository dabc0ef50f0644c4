/* seeds.h - the archives of the fuzzing corpus, for the unit tests that
 * read whole archives: gzip-compressed copies in a temporary folder, and
 * the settings and setup those tests share. */
#ifndef POLARITY_SEEDS_H
#define POLARITY_SEEDS_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "tmpdir.h"

/* The top folder of every seed. */
#define SEED_TOP "polarity-server-backup-20260101000000"

/* Writes the path of the seed NAME ("sound.tar") to OUT. */
static inline void
seed_path(const char *name, char *out, size_t len)
{
	const char *src = getenv("srcdir");

	snprintf(out, len, "%s/tests/fuzz/corpus-unpack/%s", src ? src : ".",
	    name);
}

/* Compresses the seed NAME with gzip into FOLDER/NAME.gz, whose path
 * goes to OUT. */
static inline int
seed_gzip(const char *folder, const char *name, char *out, size_t len)
{
	char in[PATH_MAX], cmd[3 * PATH_MAX];

	seed_path(name, in, sizeof in);
	snprintf(out, len, "%s/%s.gz", folder, name);
	snprintf(cmd, sizeof cmd, "gzip -c '%s' >'%s'", in, out);
	return system(cmd) == 0 ? 0 : -1;
}

/* The settings the tests read seeds with: the system's own gzip,
 * whatever else is installed. */
static struct config cfg;

/* A test's setup: those settings and a temporary folder (tmpdir.h). */
static int
setup(void **state)
{
	config_init(&cfg);
	snprintf(cfg.compressor, sizeof cfg.compressor, "gzip");
	return tmpdir_setup(state);
}

#endif
