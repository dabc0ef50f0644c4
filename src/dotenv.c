/* dotenv.c - reading .env files through libinih without losing a byte. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotenv.h"
#include "io.h"

/* A logical line longer than this is refused: no sane .env has one, and
 * it bounds what a hostile file can make us allocate. */
#define MAX_LOGICAL (1024 * 1024)

struct reader {
	FILE *f;
	char *line;		/* current logical line, NUL-free */
	size_t len;
	size_t keylen;		/* length of KEY in line; 0 when not one */
	size_t valpos;		/* where the raw value starts */
	size_t sent;		/* value bytes already handed to inih */
	bool started;		/* first piece of this value sent */
	bool bom_checked;
	int lineno;		/* physical line number of the last line read */
	int err;		/* errno-style error, or 0 */
	int err_line;
	bool unterminated;
};

struct parse {
	struct dotenv *env;
	struct dotenv_var *cur;	/* the variable being assembled */
	char *raw;		/* its raw (still quoted) value so far */
	size_t rawlen;
	int err;
	bool unterminated;
};

/* Appends the physical line of F to R->line; returns its length (with the
 * newline, if any), 0 at end of file, or -1. */
static ssize_t
read_physical(struct reader *r)
{
	char *buf = NULL;
	size_t cap = 0, n;
	ssize_t got;
	char *nl;

	got = getline(&buf, &cap, r->f);
	if (got < 0) {
		free(buf);
		if (ferror(r->f)) {
			r->err = errno ? errno : EIO;
			return -1;
		}
		return 0;
	}
	r->lineno++;
	n = (size_t)got;
	if (!r->bom_checked) {
		r->bom_checked = true;
		if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			memmove(buf, buf + 3, n - 3);
			n -= 3;
		}
	}
	/* CRLF: the carriage return belongs to the line ending. */
	if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n') {
		buf[n - 2] = '\n';
		n--;
	}
	if (r->len + n > MAX_LOGICAL) {
		free(buf);
		r->err = EFBIG;
		r->err_line = r->lineno;
		return -1;
	}
	nl = realloc(r->line, r->len + n + 1);
	if (nl == NULL) {
		free(buf);
		r->err = ENOMEM;
		return -1;
	}
	r->line = nl;
	for (size_t i = 0; i < n; i++)
		if (buf[i] != '\0')	/* as a shell does, drop NUL bytes */
			r->line[r->len++] = buf[i];
	r->line[r->len] = '\0';
	free(buf);
	return (ssize_t)n;
}

/* Whether the text S (LEN bytes) leaves a quote open or ends with a
 * backslash-newline, so that the next physical line continues it. */
static bool
continues(const char *s, size_t len)
{
	char q = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (q == '\'') {
			if (c == '\'')
				q = 0;
		} else if (q == '"') {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				q = 0;
		} else if (c == '\\') {
			if (i + 1 == len - 1 && s[i + 1] == '\n')
				return true;
			i++;
		} else if (c == '\'' || c == '"') {
			q = c;
		} else if (c == '#' && i > 0 && (s[i - 1] == ' ' ||
		    s[i - 1] == '\t')) {
			return false;	/* the rest is a comment */
		}
	}
	return q != 0;
}

static bool
is_name_start(int c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Reads the next logical line and finds its KEY=; returns false at end of
 * file or on error. */
static bool
next_logical(struct reader *r)
{
	size_t i = 0;
	ssize_t got;
	int first;

	r->len = 0;
	r->keylen = 0;
	r->sent = 0;
	r->started = false;
	got = read_physical(r);
	if (got <= 0)
		return false;
	first = r->lineno;
	while (r->line[i] == ' ' || r->line[i] == '\t')
		i++;
	if (strncmp(r->line + i, "export", 6) == 0 &&
	    (r->line[i + 6] == ' ' || r->line[i + 6] == '\t')) {
		i += 6;
		while (r->line[i] == ' ' || r->line[i] == '\t')
			i++;
	}
	if (!is_name_start((unsigned char)r->line[i]))
		return true;	/* blank, comment, or not an assignment */
	size_t k = i;
	while (is_name_char((unsigned char)r->line[k]))
		k++;
	if (r->line[k] != '=')
		return true;
	memmove(r->line, r->line + i, r->len - i + 1);
	r->len -= i;
	r->keylen = k - i;
	r->valpos = r->keylen + 1;
	/* A quoted value may go on over the next lines. */
	while (continues(r->line + r->valpos, r->len - r->valpos)) {
		got = read_physical(r);
		if (got < 0)
			return false;
		if (got == 0) {
			r->unterminated = true;
			r->err_line = first;
			break;
		}
	}
	/* Drop the final newline: it ends the line, it is not the value's. */
	if (r->len > r->valpos && r->line[r->len - 1] == '\n')
		r->line[--r->len] = '\0';
	return true;
}

static const char hexdigits[] = "0123456789abcdef";

/* The ini_reader: emits "KEY=s<hex>" for the first piece of each value and
 * "KEY=c<hex>" for the next ones, each shorter than NUM. */
static char *
reader_fn(char *str, int num, void *stream)
{
	struct reader *r = stream;
	size_t room, take, o = 0;

	for (;;) {
		if (r->keylen > 0 && (!r->started || r->sent <
		    r->len - r->valpos))
			break;
		if (r->err || r->unterminated || !next_logical(r))
			return NULL;
		/* Room for "KEY=s", two hex digits, "\n" and the NUL; a key
		 * too long for that is nothing we read. */
		if (r->keylen > 0 && (size_t)num < r->keylen + 6) {
			r->keylen = 0;
		}
		if (r->keylen == 0) {
			if (num < 2)
				return NULL;
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
	}
	memcpy(str, r->line, r->keylen);
	o = r->keylen;
	str[o++] = '=';
	str[o++] = r->started ? 'c' : 's';
	room = ((size_t)num - o - 2) / 2;
	take = r->len - r->valpos - r->sent;
	if (take > room)
		take = room;
	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)r->line[r->valpos + r->sent + i];
		str[o++] = hexdigits[c >> 4];
		str[o++] = hexdigits[c & 15];
	}
	str[o++] = '\n';
	str[o] = '\0';
	r->sent += take;
	r->started = true;
	return str;
}

const char *
dotenv_get(const struct dotenv *env, const char *key)
{
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->vars[i].key, key) == 0)
			return env->vars[i].value;
	return NULL;
}

/* A growing string for the unquoted value. */
struct buf {
	char *s;
	size_t len, cap;
	bool fail;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->fail)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->fail = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Expands $NAME or ${NAME} at S[*I] (S[*I] is '$') into B, with values set
 * earlier in the file, then the environment; anything else after '$' is
 * taken literally. */
static void
expand(const struct dotenv *env, const char *s, size_t len, size_t *i,
    struct buf *b)
{
	size_t start = *i + 1, end;
	bool brace = false;
	char name[256];
	const char *v;

	if (start < len && s[start] == '{') {
		brace = true;
		start++;
	}
	end = start;
	if (end < len && is_name_start((unsigned char)s[end]))
		while (end < len && is_name_char((unsigned char)s[end]))
			end++;
	if (end == start || end - start >= sizeof name ||
	    (brace && (end >= len || s[end] != '}'))) {
		buf_add(b, "$", 1);
		return;
	}
	memcpy(name, s + start, end - start);
	name[end - start] = '\0';
	v = dotenv_get(env, name);
	if (v == NULL)
		v = getenv(name);
	if (v != NULL)
		buf_add(b, v, strlen(v));
	*i = brace ? end : end - 1;
}

/* Turns the raw value S (LEN bytes) into what a shell would assign.
 * Returns the new string, or NULL with errno set. */
static char *
unquote(const struct dotenv *env, const char *s, size_t len)
{
	struct buf b = { 0 };

	buf_add(&b, "", 0);
	/* "A=  x" gives "x", as Docker Compose reads it. */
	size_t start = 0;
	while (start < len && (s[start] == ' ' || s[start] == '\t'))
		start++;
	for (size_t i = start; i < len; i++) {
		char c = s[i];
		if (c == '\'') {
			size_t j = i + 1;
			while (j < len && s[j] != '\'')
				j++;
			buf_add(&b, s + i + 1, j - i - 1);
			i = j;
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < len &&
				    s[i + 1] != '\0' && strchr("$`\"\\\n", s[i + 1])) {
					i++;
					if (s[i] != '\n')
						buf_add(&b, s + i, 1);
				} else if (s[i] == '$') {
					expand(env, s, len, &i, &b);
				} else {
					buf_add(&b, s + i, 1);
				}
			}
		} else if (c == '\\') {
			if (i + 1 < len) {
				i++;
				if (s[i] != '\n')
					buf_add(&b, s + i, 1);
			}
		} else if (c == '$') {
			expand(env, s, len, &i, &b);
		} else if (c == ' ' || c == '\t') {
			/* Blanks then '#' or the end: a comment follows.
			 * Blanks inside an unquoted value are kept, as
			 * Docker Compose keeps them. */
			size_t j = i;
			while (j < len && (s[j] == ' ' || s[j] == '\t'))
				j++;
			if (j == len || s[j] == '#')
				break;
			buf_add(&b, s + i, j - i);
			i = j - 1;
		} else {
			buf_add(&b, &c, 1);
		}
	}
	if (b.fail) {
		free(b.s);
		errno = ENOMEM;
		return NULL;
	}
	return b.s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Turns the finished raw value of P->cur into its real value. */
static void
finish(struct parse *p)
{
	char *v;

	if (p->cur == NULL)
		return;
	v = unquote(p->env, p->raw ? p->raw : "", p->rawlen);
	if (v == NULL)
		p->err = ENOMEM;
	else {
		free(p->cur->value);
		p->cur->value = v;
	}
	free(p->raw);
	p->raw = NULL;
	p->rawlen = 0;
	p->cur = NULL;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	size_t hl;
	char *raw;

	(void)section;
	if (p->err)
		return 0;
	if (value[0] == 's') {
		finish(p);
		struct dotenv_var *var = NULL;
		for (size_t i = 0; i < p->env->n; i++)
			if (strcmp(p->env->vars[i].key, name) == 0)
				var = &p->env->vars[i];
		if (var == NULL) {
			struct dotenv_var *nv = realloc(p->env->vars,
			    (p->env->n + 1) * sizeof *nv);
			if (nv == NULL)
				goto nomem;
			p->env->vars = nv;
			var = &nv[p->env->n];
			var->key = strdup(name);
			var->value = NULL;
			if (var->key == NULL)
				goto nomem;
			p->env->n++;
		}
		p->cur = var;
	} else if (value[0] != 'c' || p->cur == NULL) {
		p->err = EINVAL;	/* not a line our reader wrote */
		return 0;
	}
	hl = strlen(value + 1);
	if (hl % 2 != 0) {
		p->err = EINVAL;
		return 0;
	}
	raw = realloc(p->raw, p->rawlen + hl / 2 + 1);
	if (raw == NULL)
		goto nomem;
	p->raw = raw;
	for (size_t i = 0; i < hl; i += 2) {
		int hi = hexval(value[1 + i]), lo = hexval(value[2 + i]);
		if (hi < 0 || lo < 0) {
			p->err = EINVAL;
			return 0;
		}
		p->raw[p->rawlen++] = (char)(hi << 4 | lo);
	}
	p->raw[p->rawlen] = '\0';
	return 1;
nomem:
	p->err = ENOMEM;
	return 0;
}

int
dotenv_parse(struct dotenv *env, FILE *f, const char *name, char *err,
    size_t len)
{
	struct reader r = { .f = f };
	struct parse p = { .env = env };
	int rc;

	rc = ini_parse_stream(reader_fn, &r, handler, &p);
	finish(&p);
	free(r.line);
	if (r.err == EFBIG) {
		snprintf(err, len, "cannot read '%s': line %d is longer than "
		    "%d bytes", name, r.err_line, MAX_LOGICAL);
		errno = EFBIG;
		return -1;
	}
	if (r.err || p.err || rc < 0) {
		int e = r.err ? r.err : p.err ? p.err : ENOMEM;
		snprintf(err, len, "cannot read '%s': %s", name, strerror(e));
		errno = e;
		return -1;
	}
	if (r.unterminated) {
		snprintf(err, len, "cannot read '%s': a quote opened by line "
		    "%d is never closed", name, r.err_line);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
dotenv_read(struct dotenv *env, const char *path, char *err, size_t len)
{
	FILE *f;
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (f = fdopen(fd, "r")) == NULL) {
		e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, len, "cannot read '%s': %s", path, strerror(e));
		errno = e;
		return -1;
	}
	rc = dotenv_parse(env, f, path, err, len);
	e = errno;
	fclose(f);
	errno = e;
	return rc;
}

void
dotenv_free(struct dotenv *env)
{
	for (size_t i = 0; i < env->n; i++) {
		free(env->vars[i].key);
		free(env->vars[i].value);
	}
	free(env->vars);
	env->vars = NULL;
	env->n = 0;
}

/* Rewriting. */

struct rawline {
	size_t start, end;	/* the logical line, without its ending */
	size_t next;		/* where the next one starts */
	size_t key, keylen;	/* the assigned name, keylen 0 if none */
};

/* Finds the logical line of TEXT (LEN bytes) starting at POS. */
static void
scan_line(const char *text, size_t len, size_t pos, struct rawline *l)
{
	size_t i = pos, k, e;

	l->start = pos;
	l->keylen = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\t'))
		i++;
	if (len - i > 7 && strncmp(text + i, "export", 6) == 0 &&
	    (text[i + 6] == ' ' || text[i + 6] == '\t')) {
		i += 6;
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
	}
	k = i;
	if (i < len && is_name_start((unsigned char)text[i])) {
		while (k < len && is_name_char((unsigned char)text[k]))
			k++;
		if (k < len && text[k] == '=') {
			l->key = i;
			l->keylen = k - i;
		}
	}
	/* The end: the first newline that closes no quote. */
	e = pos;
	for (;;) {
		const char *nl = memchr(text + e, '\n', len - e);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t vstart = l->keylen ? l->key + l->keylen + 1 : end;
		if (!nl || l->keylen == 0 || !continues(text + vstart,
		    end + 1 - vstart)) {
			l->end = end;
			l->next = nl ? end + 1 : len;
			break;
		}
		e = end + 1;
	}
	/* CRLF: the carriage return is part of the ending. */
	if (l->end > l->start && l->next > l->end && text[l->end - 1] == '\r')
		l->end--;
}

static int
is_key(const char *text, const struct rawline *l, const char *const keys[])
{
	for (size_t i = 0; keys[i]; i++)
		if (strlen(keys[i]) == l->keylen &&
		    memcmp(text + l->key, keys[i], l->keylen) == 0)
			return (int)i;
	return -1;
}

int
dotenv_merge(const char *live, size_t llen, const char *arch, size_t alen,
    const char *const keys[], char **out, size_t *outlen)
{
	size_t nkeys = 0, pos;
	struct rawline l, *found;
	char *used;
	FILE *f;

	while (keys[nkeys])
		nkeys++;
	found = calloc(nkeys + 1, sizeof *found);
	used = calloc(nkeys + 1, 1);
	f = open_memstream(out, outlen);
	if (found == NULL || used == NULL || f == NULL) {
		free(found);
		free(used);
		if (f)
			fclose(f);
		errno = ENOMEM;
		return -1;
	}
	/* The archive's last assignment of each key wins, as in a shell. */
	for (pos = 0; pos < alen; pos = l.next) {
		scan_line(arch, alen, pos, &l);
		int k = is_key(arch, &l, keys);
		if (k >= 0)
			found[k] = l, used[k] = 1;
	}
	for (pos = 0; pos < llen; pos = l.next) {
		scan_line(live, llen, pos, &l);
		int k = is_key(live, &l, keys);
		if (k >= 0 && used[k]) {
			fwrite(arch + found[k].start, 1,
			    found[k].end - found[k].start, f);
			used[k] = 2;
		} else {
			fwrite(live + l.start, 1, l.end - l.start, f);
		}
		fwrite(live + l.end, 1, l.next - l.end, f);
	}
	for (size_t k = 0; k < nkeys; k++) {
		if (used[k] != 1)
			continue;
		if (llen > 0 && live[llen - 1] != '\n' && ftell(f) > 0) {
			fputc('\n', f);
			llen = 0;	/* once */
		}
		fwrite(arch + found[k].start, 1, found[k].end -
		    found[k].start, f);
		fputc('\n', f);
	}
	free(found);
	free(used);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
dotenv_replace(const char *path, const char *text, size_t len,
    const char *keep, char *err, size_t elen)
{
	/* A .env holds secrets: a new one is 0600, a replaced one keeps its
	 * owner and mode. */
	if (io_replace(path, text, len, 0600, IO_LIKE_OLD, keep) == 0)
		return 0;
	snprintf(err, elen, "cannot write '%s': %s", path, strerror(errno));
	return -1;
}
