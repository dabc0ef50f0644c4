/* script.h - a psql script read as psql reads it, to learn whether a
 * restore may hand it to psql.
 *
 * One reader for every dump a restore loads, ours and the original
 * utility's.  It follows statements as psql does (quotes, E'...', dollar
 * quotes, comments, parentheses: sqllex.h), and takes COPY data only
 * after a whole COPY statement in pg_dump's own form ("COPY name (cols)
 * FROM stdin;" alone on its line, between statements), up to a line
 * "\.".  It finds two kinds of trouble:
 *
 * - a flaw: what a dump of pg_dump never holds and psql would act on
 *   (any psql command but the dump's own \restrict line at its head and
 *   the \unrestrict of the same key between statements, a COPY
 *   statement of another form, COPY data that reads as that
 *   \unrestrict line).  Such a script is never loaded, and verify says
 *   why.
 * - a need: what is harmless to a psql that runs the script under
 *   \restrict (fence.h), but that a psql without \restrict could read
 *   otherwise than this reader does, once the script changes a setting
 *   on the server (standard_conforming_strings, client_encoding): a
 *   backslash in a quote that is not E'...', a byte of a multibyte
 *   character outside comments and COPY data.  A restore with an older
 *   psql refuses such a script.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef POLARITY_SCRIPT_H
#define POLARITY_SCRIPT_H

#include <stddef.h>

#include "sqllex.h"

/* Of each line, what is kept for its meaning: pg_dump's lines that mean
 * something here are far shorter. */
#define SCRIPT_LINE 8192
/* The longest key of a \restrict line taken out (pg_dump's are 64). */
#define SCRIPT_KEY_MAX 64

/* Told of each whole line that began between statements, outside COPY
 * data (LINE, LEN bytes, at most SCRIPT_LINE, without its newline or a
 * final carriage return), with ARG. */
typedef void (*script_line_fn)(void *arg, const char *line, size_t len);

struct script {
	struct sqllex x;	/* x.nonstd follows pg_dump's SET lines */
	script_line_fn on_line;
	void *arg;
	unsigned long lines;	/* read so far */
	int copy;		/* in COPY data */
	int copy_next;		/* a COPY statement ended this line */
	unsigned long copy_u;	/* the line of its data that reads as the
				 * closing \unrestrict, or 0 */
	int stmt;		/* 0: between statements; 1: a '-' or '/'
				 * began one, or a comment; 2: one began */
	int stmt_bol;		/* it began at its line's start */
	int between;		/* this line began between statements */
	int body;		/* past the header (blank and -- lines) */
	int meta;		/* this line holds \restrict (1) or
				 * \unrestrict (2), checked at its end */
	int prev_high;		/* the byte before was >= 0x80 */
	char head[8];		/* the statement's first word, lower case */
	size_t headlen;
	int head_done;
	char line[SCRIPT_LINE + 1];
	size_t len;		/* of the line so far (more than kept:
				 * longer) */
	enum sqllex_state start;	/* where the line began */
	char key[SCRIPT_KEY_MAX + 1];	/* the dump's own \restrict key */
	char flaw[200];		/* the first flaw, or "" */
	char need[200];		/* the first need, or "" */
};

/* Starts reading a script; ON_LINE (or NULL) is told of its lines. */
void script_begin(struct script *s, script_line_fn on_line, void *arg);

/* Reads the N bytes at P of the script. */
void script_feed(struct script *s, const unsigned char *p, size_t n);

/* The script ended: its last line, if it has no newline, is read. */
void script_end(struct script *s);

/* Whether the script, once ended, ends between statements, outside
 * quotes and COPY data (as a whole dump does). */
int script_whole(const struct script *s);

#endif
