/* sqllex.h - psql's lexer, as far as we need it: where a script's
 * quotes, comments, psql commands and statements begin and end.
 *
 * A script is fed one byte at a time, its newlines through
 * sqllex_line_end() and sqllex_next_line(): psql ends a line comment and
 * a psql command's arguments at the end of their line.  Quotes ('...',
 * E'...', "...", $tag$...$tag$), nested block comments, line comments and
 * psql commands (a backslash outside quotes) are followed as psql follows
 * them; a semicolon outside them and outside parentheses ends a
 * statement.  COPY data is not SQL: the caller skips it.  Pure: no I/O,
 * no allocation.
 */
#ifndef POLARITY_SQLLEX_H
#define POLARITY_SQLLEX_H

#include <stddef.h>

/* Where the lexer is. */
enum sqllex_state {
	SQLLEX_NORMAL,		/* between tokens, or in a bare word */
	SQLLEX_LINECOMMENT,	/* -- to the end of the line */
	SQLLEX_BLOCK,		/* slash-star, nested */
	SQLLEX_SQUOTE,		/* '...' */
	SQLLEX_ESQUOTE,		/* E'...': backslashes escape */
	SQLLEX_DQUOTE,		/* "..." */
	SQLLEX_DOLLAR_TAG,	/* $tag being read */
	SQLLEX_DOLLAR,		/* $tag$...$tag$ */
	SQLLEX_META,		/* \command being read */
	SQLLEX_META_ARGS	/* a psql command's arguments */
};

/* What a byte did. */
enum sqllex_event {
	SQLLEX_BYTE,		/* nothing of note */
	SQLLEX_META_END,	/* the name of a psql command ended: meta */
	SQLLEX_END		/* a semicolon ended a statement */
};

/* The lexer's state: zeroed, it is at the start of a script.  The
 * caller sets NONSTD while standard_conforming_strings is off (plain
 * quotes then take backslash escapes). */
struct sqllex {
	enum sqllex_state state;
	int nonstd;
	char meta[32];		/* the psql command's name, at META_END */
	int depth;		/* of block comments */
	int parens;		/* of parentheses, outside quotes */
	char tag[66];		/* "$tag$" being closed */
	size_t taglen, tagmatch;
	int prev, prev2;	/* the bytes before, in this state */
	enum sqllex_state reopen;	/* a quote just closed: doubled, it
					 * reopens */
	size_t metalen;
	int eprefix;		/* this E'...' quote was opened by its E
				 * (not by NONSTD) */
};

/* Takes the byte C of a line (never a newline).  Returns what it did. */
enum sqllex_event sqllex_byte(struct sqllex *x, int c);

/* The line ends: returns SQLLEX_META_END when the name of a psql command
 * ended with it, else SQLLEX_BYTE.  The state is left as it was for the
 * caller to read, until sqllex_next_line(). */
enum sqllex_event sqllex_line_end(struct sqllex *x);

/* A new line begins: a line comment or a psql command is over. */
void sqllex_next_line(struct sqllex *x);

/* Whether C can be part of a bare SQL word. */
int sqllex_ident_byte(int c);

#endif
