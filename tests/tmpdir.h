/* tmpdir.h - a private temporary folder for each unit test: made by
 * tmpdir_setup(), removed with all it holds by tmpdir_teardown(). */
#ifndef POLARITY_TMPDIR_H
#define POLARITY_TMPDIR_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "io.h"

static char dir[64];

static int
tmpdir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/polarity-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
tmpdir_teardown(void **state)
{
	(void)state;
	return io_remove_tree(AT_FDCWD, dir);
}

#endif
