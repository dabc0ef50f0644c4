/* sqllex.c - psql's lexer, as far as we need it. */
#include "autoconf.h"

#include <string.h>

#include "sqllex.h"

int
sqllex_ident_byte(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* The name of a psql command ended. */
static enum sqllex_event
meta_end(struct sqllex *x)
{
	x->meta[x->metalen] = '\0';
	x->state = SQLLEX_META_ARGS;
	return SQLLEX_META_END;
}

enum sqllex_event
sqllex_byte(struct sqllex *x, int c)
{
	enum sqllex_event ev = SQLLEX_BYTE;

	switch (x->state) {
	case SQLLEX_NORMAL:
		if (x->reopen != SQLLEX_NORMAL && c == (x->reopen ==
		    SQLLEX_DQUOTE ? '"' : '\'')) {
			x->state = x->reopen;	/* a doubled quote */
			x->reopen = SQLLEX_NORMAL;
			break;
		}
		x->reopen = SQLLEX_NORMAL;
		if (c == '-' && x->prev == '-')
			x->state = SQLLEX_LINECOMMENT;
		else if (c == '*' && x->prev == '/') {
			x->state = SQLLEX_BLOCK;
			x->depth = 1;
			c = 0;
		} else if (c == '\'') {
			x->eprefix = (x->prev == 'E' || x->prev == 'e') &&
			    !sqllex_ident_byte(x->prev2);
			x->state = x->nonstd || x->eprefix ? SQLLEX_ESQUOTE :
			    SQLLEX_SQUOTE;
		}
		else if (c == '"')
			x->state = SQLLEX_DQUOTE;
		else if (c == '$' && !sqllex_ident_byte(x->prev)) {
			x->state = SQLLEX_DOLLAR_TAG;
			x->tag[0] = '$';
			x->taglen = 1;
		} else if (c == '\\') {
			x->state = SQLLEX_META;
			x->metalen = 0;
		} else if (c == '(')
			x->parens++;
		else if (c == ')' && x->parens > 0)
			x->parens--;
		else if (c == ';' && x->parens == 0)
			ev = SQLLEX_END;
		break;
	case SQLLEX_LINECOMMENT:
	case SQLLEX_META_ARGS:
		break;
	case SQLLEX_BLOCK:
		if (c == '*' && x->prev == '/') {
			x->depth++;
			c = 0;
		} else if (c == '/' && x->prev == '*') {
			if (--x->depth == 0)
				x->state = SQLLEX_NORMAL;
			c = 0;
		}
		break;
	case SQLLEX_SQUOTE:
		if (c == '\'') {
			x->state = SQLLEX_NORMAL;
			x->reopen = SQLLEX_SQUOTE;
			c = 0;
		}
		break;
	case SQLLEX_ESQUOTE:
		if (x->prev == '\\') {
			c = 0;		/* escaped */
		} else if (c == '\'') {
			x->state = SQLLEX_NORMAL;
			x->reopen = SQLLEX_ESQUOTE;
			c = 0;
		}
		break;
	case SQLLEX_DQUOTE:
		if (c == '"') {
			x->state = SQLLEX_NORMAL;
			x->reopen = SQLLEX_DQUOTE;
			c = 0;
		}
		break;
	case SQLLEX_DOLLAR_TAG:
		if (c == '$') {
			x->tag[x->taglen++] = '$';
			x->tag[x->taglen] = '\0';
			x->tagmatch = 0;
			x->state = SQLLEX_DOLLAR;
			c = 0;
		} else if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || c >= 0x80 || (x->taglen > 1 && c >= '0' &&
		    c <= '9')) && x->taglen < sizeof x->tag - 2) {
			x->tag[x->taglen++] = (char)c;
		} else {
			/* A parameter ($1) or a word's '$': not a quote. */
			x->state = SQLLEX_NORMAL;
			x->prev = '$';
			return sqllex_byte(x, c);
		}
		break;
	case SQLLEX_DOLLAR:
		if (c == x->tag[x->tagmatch]) {
			if (++x->tagmatch == x->taglen) {
				x->state = SQLLEX_NORMAL;
				c = 0;
			}
		} else {
			x->tagmatch = c == '$' ? 1 : 0;
		}
		break;
	case SQLLEX_META:
		if (((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) &&
		    x->metalen + 1 < sizeof x->meta) {
			x->meta[x->metalen++] = (char)c;
			break;
		}
		if (x->metalen == 0 && x->metalen + 1 < sizeof x->meta)
			x->meta[x->metalen++] = (char)c;
		ev = meta_end(x);
		break;
	}
	x->prev2 = x->prev;
	x->prev = c;
	return ev;
}

enum sqllex_event
sqllex_line_end(struct sqllex *x)
{
	return x->state == SQLLEX_META ? meta_end(x) : SQLLEX_BYTE;
}

void
sqllex_next_line(struct sqllex *x)
{
	if (x->state == SQLLEX_LINECOMMENT || x->state == SQLLEX_META_ARGS ||
	    x->state == SQLLEX_META)
		x->state = SQLLEX_NORMAL;
	x->prev = x->prev2 = 0;
	x->reopen = SQLLEX_NORMAL;
}
