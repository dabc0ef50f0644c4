/* fence.h - psql kept to SQL while it loads a dump.
 *
 * A dump is text that psql runs, and psql runs its own commands too (\!
 * runs a shell command, \o |cmd and \g |cmd a pipe, \copy ... program,
 * \i a file): a crafted archive could run any of them as the user the
 * restore runs as.  Two defences, both always on:
 *
 * - psql 13.22, 14.19, 15.14, 16.10, 17.6 and later refuse every psql
 *   command after "\restrict KEY" until "\unrestrict KEY".  Every psql a
 *   load feeds first reads \restrict of a key of the run's own
 *   (fence_key(): random, written nowhere but psql's standard input),
 *   whatever the dump says; the dump's own \restrict line at its head,
 *   and its \unrestrict of the same key, which psql would refuse while
 *   ours holds, are taken out as the dump passes (struct fence).
 * - psql reads the arguments of the one command it still takes,
 *   \unrestrict, before it compares the key, and runs what they hold
 *   between backquotes.  So a dump in which "\unrestrict" follows a
 *   backslash that psql could read as a command's (an odd run of
 *   backslashes), anywhere, other than the dump's own line, is refused
 *   as it passes: nothing of it reaches psql after that point.  pg_dump
 *   writes none (in COPY data every backslash is doubled).
 *
 * Besides, every dump is read by script.h during the check, and one that
 * holds a psql command is never loaded at all.
 */
#ifndef POLARITY_FENCE_H
#define POLARITY_FENCE_H

#include <stddef.h>

#include "script.h"

#define FENCE_KEY_LEN 32

/* Whether psql of version NUM (major * 10000 + minor) has \restrict. */
int fence_has_restrict(int num);

/* Writes a random key (letters and digits) to KEY.  Returns 0, or -1
 * with errno set. */
int fence_key(char key[FENCE_KEY_LEN + 1]);

/* The filter between a dump and psql's input.  Each holds at most one
 * line's start of a dump, so that a line taken out is never half
 * written. */
struct fence {
	int head;		/* still in the dump's head (blank and --
				 * lines, then perhaps its \restrict) */
	int dashes;		/* of a head line: 1 '-' seen, 2 a comment */
	char last;		/* the byte before (a newline at a start) */
	unsigned long run;	/* backslashes right before */
	size_t um;		/* bytes of "unrestrict" matched after an
				 * odd run */
	int holding;		/* a line that may be taken out is held */
	int held_u;		/* and it holds a \unrestrict */
	char hold[96];
	size_t nhold;
	char key[SCRIPT_KEY_MAX + 1];	/* the dump's own */
	int refused;		/* a \unrestrict not its own came */
	char out[32768];	/* what is written next */
	size_t nout;
};

/* Starts the filter of one psql's input: at a dump's start when HEAD (it
 * may have its \restrict line there), else in the middle of one (the
 * second session of a table's rows). */
void fence_begin(struct fence *f, int head);

/* Gives psql (its input FD) the N bytes at BUF of the dump, less the
 * lines taken out.  Returns 0; or -1 with errno set, where F->refused
 * tells a dump refused (nothing more may be written) from a failed
 * write (EPIPE: psql ended). */
int fence_write(struct fence *f, int fd, const void *buf, size_t n);

/* The dump ended: writes what is held.  Returns as fence_write(). */
int fence_end(struct fence *f, int fd);

/* What a refused dump is told: one line. */
#define FENCE_REFUSED "the dump holds a \\unrestrict that is not its " \
	"own, whose arguments psql would run: refused"

/* Whether the N bytes at P hold no "\unrestrict" after an odd run of
 * backslashes (a statement a session of ours is given). */
int fence_clean(const char *p, size_t n);

#endif
