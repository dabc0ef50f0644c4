/* script.c - a psql script read as psql reads it. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "script.h"

static void flaw(struct script *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void need(struct script *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first flaw: the one an operator is told of. */
static void
flaw(struct script *s, const char *fmt, ...)
{
	va_list ap;

	if (s->flaw[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->flaw, sizeof s->flaw, fmt, ap);
	va_end(ap);
}

static void
need(struct script *s, const char *fmt, ...)
{
	va_list ap;

	if (s->need[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->need, sizeof s->need, fmt, ap);
	va_end(ap);
}

void
script_begin(struct script *s, script_line_fn on_line, void *arg)
{
	memset(s, 0, sizeof *s);
	s->on_line = on_line;
	s->arg = arg;
	s->between = 1;
}

/* Whether the LEN bytes at P are PREFIX followed by a key: letters and
 * digits, SCRIPT_KEY_MAX at most.  Returns the key's length, or 0. */
static size_t
keyed_line(const char *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (len <= n || len - n > SCRIPT_KEY_MAX || memcmp(p, prefix, n) != 0)
		return 0;
	for (size_t i = n; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' &&
		    p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
			return 0;
	return len - n;
}

/* The line just read holds the dump's \restrict or \unrestrict: it must
 * be exactly the line fence.h takes out. */
static void
meta_line(struct script *s, size_t kept)
{
	static const char r[] = "\\restrict ", u[] = "\\unrestrict ";
	size_t k;

	if (s->len > SCRIPT_LINE)
		k = 0;
	else if (s->meta == 1)
		k = keyed_line(s->line, kept, r);
	else
		k = keyed_line(s->line, kept, u) == strlen(s->key) &&
		    memcmp(s->line + sizeof u - 1, s->key, strlen(s->key)) == 0;
	if (k == 0) {
		flaw(s, "line %lu, a \\%s line unlike pg_dump's", s->lines + 1,
		    s->meta == 1 ? "restrict" : "unrestrict");
		return;
	}
	if (s->meta == 1)
		snprintf(s->key, sizeof s->key, "%s", s->line + sizeof r - 1);
}

/* The name of a psql command ended. */
static void
meta_end(struct script *s, int bol)
{
	const char *m = s->x.meta;

	if (strcmp(m, "restrict") == 0 && bol && !s->body && s->stmt == 0)
		s->meta = 1;
	else if (strcmp(m, "unrestrict") == 0 && bol && s->body &&
	    s->key[0] && s->stmt == 0)
		s->meta = 2;
	else
		flaw(s, "line %lu holds the psql command '\\%s'", s->lines + 1,
		    m);
}

/* The end of a line outside COPY data. */
static void
line_end(struct script *s)
{
	size_t kept = s->len < SCRIPT_LINE ? s->len : SCRIPT_LINE;

	if (sqllex_line_end(&s->x) == SQLLEX_META_END)
		meta_end(s, s->line[0] == '\\');
	s->line[kept] = '\0';
	if (s->meta)
		meta_line(s, kept);
	if (s->copy_next && s->meta == 0)
		s->copy = 1;
	if (kept > 0 && s->line[kept - 1] == '\r')
		s->line[--kept] = '\0';
	if (!s->body && !(kept == 0 || (kept >= 2 && s->line[0] == '-' &&
	    s->line[1] == '-')))
		s->body = 1;
	if (s->between && s->start == SQLLEX_NORMAL) {
		/* What changes how quotes are read, as pg_dump writes it. */
		if (strcmp(s->line, "SET standard_conforming_strings = off;") ==
		    0)
			s->x.nonstd = 1;
		else if (strcmp(s->line, "SET standard_conforming_strings = "
		    "on;") == 0)
			s->x.nonstd = 0;
		if (s->on_line)
			s->on_line(s->arg, s->line, kept);
	}
	if (s->stmt == 1)
		s->stmt = 2;	/* a lone '-' or '/' */
	s->stmt_bol = 0;	/* a statement over lines is no COPY's */
	s->copy_next = 0;
	s->meta = 0;
	s->prev_high = 0;
	sqllex_next_line(&s->x);
	s->start = s->x.state;
	s->between = s->stmt == 0 && !s->copy;
	s->len = 0;
	s->lines++;
}

/* A statement ended (a semicolon): a COPY's data may follow. */
static void
stmt_end(struct script *s)
{
	static const char from[] = " FROM stdin;";
	size_t fl = sizeof from - 1;

	if (s->headlen == 4 && memcmp(s->head, "copy", 4) == 0 &&
	    s->head_done) {
		if (s->stmt_bol && s->len <= SCRIPT_LINE && s->len > fl &&
		    memcmp(s->line + s->len - fl, from, fl) == 0 &&
		    memcmp(s->line, "COPY ", 5) == 0)
			s->copy_next = 1;
		else
			flaw(s, "line %lu, a COPY statement unlike pg_dump's",
			    s->lines + 1);
	}
	s->stmt = 0;
	s->headlen = 0;
	s->head_done = 0;
}

/* Byte C of a line, outside COPY data; it is kept in S->line already. */
static void
byte(struct script *s, int c)
{
	enum sqllex_state before = s->x.state;
	enum sqllex_event ev;
	int bol = s->len == 1;

	if (s->copy_next && c != '\r')
		flaw(s, "line %lu, text after a COPY statement on its line",
		    s->lines + 1);
	if (c >= 0x80 && before != SQLLEX_LINECOMMENT && before !=
	    SQLLEX_BLOCK)
		need(s, "line %lu, a multibyte character outside comments",
		    s->lines + 1);
	if (c == '\\' && (before == SQLLEX_SQUOTE || (before ==
	    SQLLEX_ESQUOTE && !s->x.eprefix)))
		need(s, "line %lu, a backslash in a quote that is not E'...'",
		    s->lines + 1);
	ev = sqllex_byte(&s->x, c);
	if (ev == SQLLEX_META_END) {
		/* The byte that ended the name is read as the command's. */
		meta_end(s, s->line[0] == '\\');
		return;
	}
	if (s->stmt == 1)	/* a '-' or '/': a comment, or a statement */
		s->stmt = s->x.state == SQLLEX_LINECOMMENT || s->x.state ==
		    SQLLEX_BLOCK ? 0 : 2;
	if (before == SQLLEX_NORMAL && s->stmt == 0 && c != ' ' &&
	    c != '\t' && c != '\r' && c != '\f' && c != '\\' &&
	    s->x.state != SQLLEX_META && s->x.state != SQLLEX_LINECOMMENT &&
	    s->x.state != SQLLEX_BLOCK) {
		s->stmt = c == '-' || c == '/' ? 1 : 2;
		s->stmt_bol = bol;
		s->headlen = 0;
		s->head_done = 0;
	}
	if (s->stmt == 2 && !s->head_done) {
		if (before == SQLLEX_NORMAL && sqllex_ident_byte(c) &&
		    s->headlen < sizeof s->head - 1)
			s->head[s->headlen++] = (char)(c >= 'A' && c <= 'Z' ?
			    c - 'A' + 'a' : c);
		else if (s->headlen > 0 || !sqllex_ident_byte(c))
			s->head_done = 1;
	}
	if (ev == SQLLEX_END)
		stmt_end(s);
}

/* COPY data: lines up to "\.", of which only those that start with a
 * backslash are looked at.  Returns the bytes taken. */
static size_t
copy_feed(struct script *s, const unsigned char *p, size_t n)
{
	static const char u[] = "\\unrestrict ";
	const unsigned char *nl = memchr(p, '\n', n);
	size_t k = nl ? (size_t)(nl - p) : n, keep;

	if (s->len == 0 && k > 0)
		s->line[0] = (char)p[0];
	if (s->line[0] == '\\' && s->len < SCRIPT_KEY_MAX + sizeof u + 1) {
		keep = SCRIPT_KEY_MAX + sizeof u + 1 - s->len;
		keep = keep < k ? keep : k;
		memcpy(s->line + s->len, p, keep);
	}
	s->len += k;
	if (nl == NULL)
		return n;
	if (s->len > 0 && s->line[0] == '\\') {
		size_t l = s->len, kl = strlen(s->key);
		if (l > 0 && s->line[l - 1] == '\r')
			l--;
		if (l == 2 && s->line[1] == '.') {
			/* Rows never closed are a dump cut short instead. */
			if (s->copy_u)
				flaw(s, "line %lu of COPY data reads as "
				    "pg_dump's \\unrestrict line", s->copy_u);
			s->copy = 0;
			s->copy_u = 0;
			s->between = 1;
			s->start = SQLLEX_NORMAL;
		} else if (kl > 0 && l == sizeof u - 1 + kl &&
		    memcmp(s->line, u, sizeof u - 1) == 0 &&
		    memcmp(s->line + sizeof u - 1, s->key, kl) == 0 &&
		    s->copy_u == 0) {
			s->copy_u = s->lines + 1;
		}
	}
	s->line[0] = '\0';
	s->len = 0;
	s->lines++;
	return k + 1;
}

void
script_feed(struct script *s, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (s->copy) {
			size_t k = copy_feed(s, p, n);
			p += k;
			n -= k;
			continue;
		}
		int c = *p++;
		n--;
		if (c == '\n') {
			line_end(s);
			continue;
		}
		if (s->len < SCRIPT_LINE)
			s->line[s->len] = (char)c;
		s->len++;
		byte(s, c);
	}
}

void
script_end(struct script *s)
{
	if (s->len == 0)
		return;
	if (s->copy)
		copy_feed(s, (const unsigned char *)"\n", 1);
	else
		line_end(s);
}

int
script_whole(const struct script *s)
{
	return !s->copy && s->stmt == 0 && s->x.state == SQLLEX_NORMAL;
}
