/* legacy.c - the members of an original utility's archive, read by
 * content. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "legacy.h"
#include "pg.h"
#include "script.h"
#include "sqllex.h"

#define ZBUF (64 * 1024)
/* A plain script names itself in its first lines. */
#define HEADER_LINES 3

enum content { C_UNKNOWN, C_PLAIN, C_CUSTOM, C_OTHER };

/* One member being read. */
struct scan {
	char member[TAR_NAME_MAX];
	int gzip;		/* the raw bytes are a gzip stream */
	int zinit, zend;	/* inflate set up; a gzip member ended */
	z_stream z;
	unsigned char raw[8];	/* the first raw bytes, to sniff */
	size_t rawn;
	int raw_known;
	unsigned char head[8];	/* the first bytes of the content */
	size_t headn;
	enum content content;
	uint64_t raw_size, size;
	/* A plain script, read as psql reads it. */
	struct script sc;
	struct legacy_read *l;	/* for the roles its lines name */
	int header, complete, schema, data, createdb, connect;
	char encoding[64], server[64], dumper[64];
};

struct legacy_read {
	struct scan s;
	int open;
	struct legacy_dump dumps[LEGACY_MAX_DUMPS];
	size_t ndumps;
	char roles[LEGACY_MAX_ROLES][LEGACY_ROLE_MAX];
	size_t nroles;
	unsigned long others;
	unsigned char zout[ZBUF];
};

struct legacy_read *
legacy_new(void)
{
	return calloc(1, sizeof(struct legacy_read));
}

void
legacy_free(struct legacy_read *l)
{
	if (l == NULL)
		return;
	if (l->s.zinit)
		inflateEnd(&l->s.z);
	free(l);
}

const char *
legacy_kind_word(enum legacy_kind k)
{
	switch (k) {
	case LEGACY_EMPTY: return "an empty dump";
	case LEGACY_SCHEMA: return "a schema-only dump";
	case LEGACY_DATA: return "a data-only dump";
	case LEGACY_FULL: return "a full dump";
	case LEGACY_CUSTOM: return "a custom-format dump";
	default: return "not a dump";
	}
}

/* A kind's word without its article: "schema-only dump". */
static const char *
bare(enum legacy_kind k)
{
	return strchr(legacy_kind_word(k), ' ') + 1;
}

void
legacy_describe(const struct legacy_set *set, char *out, size_t len)
{
	const struct legacy_dump *a = &set->dump[0], *b = &set->dump[1];

	if (set->how == LEGACY_SPLIT)
		snprintf(out, len, "the %s '%s'%s and the %s '%s'%s",
		    bare(a->kind), a->member, a->gzip ? " (gzip)" : "",
		    bare(b->kind), b->member, b->gzip ? " (gzip)" : "");
	else if (set->how == LEGACY_ONE)
		snprintf(out, len, "the %s '%s'%s", bare(a->kind), a->member,
		    a->gzip ? " (gzip)" : "");
	else
		snprintf(out, len, "no dump");
}

void
legacy_member_begin(struct legacy_read *l, const char *member)
{
	struct scan *s = &l->s;

	if (s->zinit)
		inflateEnd(&s->z);
	memset(s, 0, sizeof *s);
	snprintf(s->member, sizeof s->member, "%s", member);
	l->open = 1;
}

/* Adds NAME to the list ROLES of *N names, unless it is there, too long,
 * or the list is full. */
static void
role_list_add(char (*roles)[LEGACY_ROLE_MAX], size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(roles[i], name) == 0)
			return;
	if (*n < LEGACY_MAX_ROLES && strlen(name) < LEGACY_ROLE_MAX)
		snprintf(roles[(*n)++], LEGACY_ROLE_MAX, "%s", name);
}

static void
add_role(struct legacy_read *l, const char *name)
{
	static const char *const never[] = { "public", "current_user",
		"session_user", "current_role", "none", NULL };

	if (name[0] == '\0' || strncmp(name, "pg_", 3) == 0)
		return;
	for (size_t i = 0; never[i]; i++)
		if (strcmp(name, never[i]) == 0)
			return;
	role_list_add(l->roles, &l->nroles, name);
}

/* A token of a statement's line. */
enum tok_kind { T_WORD, T_QID, T_STR, T_PUNCT };
struct tok {
	enum tok_kind kind;
	char text[LEGACY_ROLE_MAX];	/* a word folded, a name unquoted */
};
#define MAX_TOKS 48

/* Splits LINE into at most MAX_TOKS tokens.  Returns their count. */
static size_t
tokens(const char *p, struct tok *t)
{
	size_t n = 0;

	while (*p && n < MAX_TOKS) {
		struct tok *k = &t[n];
		const char *q;
		size_t o = 0;

		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		k->text[0] = '\0';
		if (*p == '"' || *p == '_' || (unsigned char)*p >= 0x80 ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
			k->kind = *p == '"' ? T_QID : T_WORD;
			q = pg_parse_ident(p, k->text, sizeof k->text);
			if (q != NULL) {
				p = q;
			} else if (*p == '"') {
				/* Too long for a role: skipped whole. */
				k->text[0] = '\0';
				for (p++; *p && !(*p == '"' && p[1] != '"');
				    p += *p == '"' ? 2 : 1)
					;
				if (*p)
					p++;
			} else {
				k->text[0] = '\0';
				while (sqllex_ident_byte((unsigned char)*p))
					p++;
			}
		} else if (*p == '\'') {
			k->kind = T_STR;
			for (p++; *p; p++) {
				if (*p == '\'' && p[1] != '\'')
					break;
				if (*p == '\'')
					p++;
				if (o + 1 < sizeof k->text)
					k->text[o++] = *p;
			}
			k->text[o] = '\0';
			if (*p)
				p++;
		} else {
			k->kind = T_PUNCT;
			k->text[0] = *p++;
			k->text[1] = '\0';
		}
		n++;
	}
	return n;
}

static int
is(const struct tok *t, size_t n, size_t i, const char *word)
{
	return i < n && t[i].kind == T_WORD && strcasecmp(t[i].text, word) == 0;
}

/* Adds the roles of the list that starts at token I: names separated by
 * commas. */
static void
role_list(struct legacy_read *l, const struct tok *t, size_t n, size_t i)
{
	for (; i < n; i += 2) {
		if (t[i].kind != T_WORD && t[i].kind != T_QID)
			return;
		if (t[i].kind == T_WORD && (strcasecmp(t[i].text, "group") ==
		    0 || strcasecmp(t[i].text, "role") == 0) && i + 1 < n &&
		    t[i + 1].kind != T_PUNCT) {
			i--;	/* GROUP x, ROLE x: the name follows */
			continue;
		}
		add_role(l, t[i].text);
		if (i + 1 >= n || strcmp(t[i + 1].text, ",") != 0 ||
		    t[i + 1].kind != T_PUNCT)
			return;
	}
}

/* The roles a statement of pg_dump names, where it names them. */
static void
line_roles(struct legacy_read *l, const char *line)
{
	struct tok t[MAX_TOKS];
	size_t n = tokens(line, t), g = 0;

	if (n < 3)
		return;
	if (is(t, n, 0, "SET")) {
		if (is(t, n, 1, "SESSION") && is(t, n, 2, "AUTHORIZATION") &&
		    n > 3 && t[3].kind != T_PUNCT &&
		    strcasecmp(t[3].text, "default") != 0)
			add_role(l, t[3].text);
		else if (is(t, n, 1, "ROLE") && t[2].kind != T_PUNCT &&
		    strcasecmp(t[2].text, "none") != 0)
			add_role(l, t[2].text);
		return;
	}
	if (is(t, n, 0, "ALTER") && is(t, n, 1, "DEFAULT") &&
	    is(t, n, 2, "PRIVILEGES")) {
		if (is(t, n, 3, "FOR") && (is(t, n, 4, "ROLE") ||
		    is(t, n, 4, "USER")))
			role_list(l, t, n, 5);
		for (g = 3; g < n && !is(t, n, g, "GRANT") &&
		    !is(t, n, g, "REVOKE"); g++)
			;
	}
	if (is(t, n, g, "GRANT") || is(t, n, g, "REVOKE")) {
		const char *to = is(t, n, g, "GRANT") ? "TO" : "FROM";
		size_t last = 0;
		for (size_t i = g + 1; i < n; i++) {
			if (is(t, n, i, to))
				last = i;
			if (is(t, n, i, "GRANTED") && is(t, n, i + 1, "BY"))
				role_list(l, t, n, i + 2);
		}
		if (last)
			role_list(l, t, n, last + 1);
		return;
	}
	if (is(t, n, 0, "ALTER")) {
		for (size_t i = 1; i + 2 < n; i++)
			if (is(t, n, i, "OWNER") && is(t, n, i + 1, "TO")) {
				add_role(l, t[i + 2].text);
				return;
			}
		return;
	}
	if (is(t, n, 0, "CREATE") && (is(t, n, 1, "POLICY") ||
	    (is(t, n, 1, "USER") && is(t, n, 2, "MAPPING")))) {
		for (size_t i = 2; i + 1 < n; i++)
			if (is(t, n, i, is(t, n, 1, "POLICY") ? "TO" : "FOR")) {
				role_list(l, t, n, i + 1);
				return;
			}
	}
}

/* The text after PREFIX in LINE, up to the first byte of STOP, into
 * OUT; nothing when LINE does not start with PREFIX. */
static int
after(const char *line, const char *prefix, const char *stop, char *out,
    size_t len)
{
	size_t n = strlen(prefix), k;

	if (strncmp(line, prefix, n) != 0)
		return 0;
	k = strcspn(line + n, stop);
	snprintf(out, len, "%.*s", (int)k, line + n);
	return 1;
}

/* A TOC comment's type: data, or anything else (schema). */
static void
toc_type(struct scan *s, const char *type)
{
	static const char *const data[] = { "TABLE DATA", "SEQUENCE SET",
		"BLOBS", "BLOB", "BLOB DATA", "BLOB METADATA",
		"LARGE OBJECT", "LARGE OBJECTS", NULL };

	for (size_t i = 0; data[i]; i++)
		if (strcmp(type, data[i]) == 0) {
			s->data = 1;
			return;
		}
	s->schema = 1;
}

/* A whole line of a plain script that began between statements (the
 * script reader's callback). */
static void
line_meaning(void *arg, const char *line, size_t len)
{
	struct scan *s = arg;
	char type[64];
	const char *p;

	(void)len;
	if (s->sc.lines < HEADER_LINES &&
	    strcmp(line, "-- PostgreSQL database dump") == 0)
		s->header = 1;
	if (line[0] == '-' && line[1] == '-') {
		if (strcmp(line, "-- PostgreSQL database dump complete") == 0)
			s->complete = 1;
		else if (after(line, "-- Dumped from database version ", "",
		    s->server, sizeof s->server) ||
		    after(line, "-- Dumped by pg_dump version ", "",
		    s->dumper, sizeof s->dumper))
			;
		else if (((p = strstr(line, "; Type: ")) != NULL) &&
		    (strncmp(line, "-- Name: ", 9) == 0 ||
		    strncmp(line, "-- Data for Name: ", 18) == 0) &&
		    after(p, "; Type: ", ";", type, sizeof type))
			toc_type(s, type);
		return;
	}
	if (strncmp(line, "\\connect", 8) == 0 || strncmp(line, "\\c ", 3) ==
	    0) {
		s->connect = 1;
		return;
	}
	if (after(line, "SET client_encoding = '", "'", s->encoding,
	    sizeof s->encoding))
		return;
	if (strncasecmp(line, "CREATE DATABASE ", 16) == 0) {
		s->createdb = 1;
		return;
	}
	line_roles(s->l, line);
}

/* Bytes of a plain script. */
static void
plain_feed(struct scan *s, const unsigned char *p, size_t n)
{
	unsigned long before = s->sc.lines;

	script_feed(&s->sc, p, n);
	/* Some other SQL or text: no pg_dump header in its first lines. */
	if (before < HEADER_LINES && s->sc.lines >= HEADER_LINES &&
	    !s->header)
		s->content = C_OTHER;
}

/* Bytes of what the member holds (after gzip, when it is compressed). */
static void
content_feed(struct legacy_read *l, struct scan *s, const unsigned char *p,
    size_t n)
{
	s->size += n;
	if (s->content == C_UNKNOWN) {
		size_t k = n < sizeof s->head - s->headn ? n :
		    sizeof s->head - s->headn;
		memcpy(s->head + s->headn, p, k);
		s->headn += k;
		if (s->headn == 0)
			return;
		if (s->head[0] == '-' && s->headn >= 2)
			s->content = s->head[1] == '-' ? C_PLAIN : C_OTHER;
		else if (s->head[0] == 'P')
			s->content = memcmp(s->head, "PGDMP", s->headn < 5 ?
			    s->headn : 5) != 0 ? C_OTHER : s->headn >= 5 ?
			    C_CUSTOM : C_UNKNOWN;
		else if (s->head[0] != '-')
			s->content = C_OTHER;
		if (s->content == C_UNKNOWN)
			return;		/* too little to tell */
		if (s->content == C_PLAIN) {
			script_begin(&s->sc, line_meaning, s);
			s->l = l;
			plain_feed(s, s->head, s->headn);
		}
		p += k;
		n -= k;
	}
	if (s->content == C_PLAIN)
		plain_feed(s, p, n);
}

static int
inflate_feed(struct legacy_read *l, struct scan *s, const unsigned char *p,
    size_t n, char *err, size_t elen)
{
	s->z.next_in = (unsigned char *)(uintptr_t)p;
	s->z.avail_in = (unsigned)n;
	while (s->z.avail_in > 0 && s->content != C_OTHER) {
		int rc;
		if (s->zend) {
			/* Another gzip member follows (pigz, cat a b). */
			if (inflateReset(&s->z) != Z_OK)
				goto bad;
			s->zend = 0;
		}
		s->z.next_out = l->zout;
		s->z.avail_out = sizeof l->zout;
		rc = inflate(&s->z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			goto bad;
		content_feed(l, s, l->zout, sizeof l->zout - s->z.avail_out);
		if (rc == Z_STREAM_END)
			s->zend = 1;
		else if (rc == Z_BUF_ERROR && s->z.avail_out != 0)
			break;
	}
	return 0;
bad:
	snprintf(err, elen, "'%s' is damaged: it is gzip-compressed, but %s",
	    s->member, s->z.msg ? s->z.msg : "it does not decompress");
	return -1;
}

/* The first raw bytes decided what the member is. */
static int
raw_known(struct legacy_read *l, struct scan *s, char *err, size_t elen)
{
	s->raw_known = 1;
	if (s->rawn >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b) {
		s->gzip = 1;
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
			snprintf(err, elen, "out of memory");
			return -1;
		}
		s->zinit = 1;
		return inflate_feed(l, s, s->raw, s->rawn, err, elen);
	}
	content_feed(l, s, s->raw, s->rawn);
	return 0;
}

int
legacy_member_data(struct legacy_read *l, const void *buf, size_t n,
    char *err, size_t elen)
{
	struct scan *s = &l->s;
	const unsigned char *p = buf;

	s->raw_size += n;
	if (!s->raw_known) {
		size_t k = n < sizeof s->raw - s->rawn ? n :
		    sizeof s->raw - s->rawn;
		memcpy(s->raw + s->rawn, p, k);
		s->rawn += k;
		p += k;
		n -= k;
		if (s->rawn < sizeof s->raw)
			return 0;
		if (raw_known(l, s, err, elen) < 0)
			return -1;
	}
	if (s->content == C_OTHER || n == 0)
		return 0;
	if (s->gzip)
		return inflate_feed(l, s, p, n, err, elen);
	content_feed(l, s, p, n);
	return 0;
}

/* What keeps a plain script from being loaded, into FLAW. */
static void
plain_flaw(const struct scan *s, char *flaw, size_t len)
{
	if (s->createdb || s->connect)
		snprintf(flaw, len, "it was made with pg_dump --create (it "
		    "holds %s), and a restore loads into a database of its "
		    "own", s->connect ? "\\connect" : "CREATE DATABASE");
	else if (s->sc.flaw[0])
		snprintf(flaw, len, "%s, which a restore never runs",
		    s->sc.flaw);
	else if (!s->complete || !script_whole(&s->sc))
		snprintf(flaw, len, "it ends before pg_dump's closing line "
		    "(cut short when it was written?)");
}

int
legacy_member_end(struct legacy_read *l, char *err, size_t elen)
{
	struct scan *s = &l->s;
	struct legacy_dump *d;
	enum legacy_kind kind;

	if (!l->open)
		return 0;
	l->open = 0;
	if (!s->raw_known && s->rawn > 0 && raw_known(l, s, err, elen) < 0)
		return -1;
	if (s->gzip && s->content != C_OTHER && !s->zend) {
		snprintf(err, elen, "'%s' is damaged: it is gzip-compressed, "
		    "but cut short", s->member);
		return -1;
	}
	if (s->content == C_UNKNOWN && s->headn > 0)
		s->content = C_OTHER;
	if (s->content == C_PLAIN)
		script_end(&s->sc);
	if (s->content == C_PLAIN && !s->header)
		s->content = C_OTHER;
	if (s->content == C_CUSTOM)
		kind = LEGACY_CUSTOM;
	else if (s->content != C_PLAIN) {
		l->others++;
		return 0;
	} else if (s->schema && s->data)
		kind = LEGACY_FULL;
	else if (s->schema)
		kind = LEGACY_SCHEMA;
	else if (s->data)
		kind = LEGACY_DATA;
	else
		kind = LEGACY_EMPTY;
	if (l->ndumps == LEGACY_MAX_DUMPS) {
		snprintf(err, elen, "more than %d database dumps (at '%s')",
		    LEGACY_MAX_DUMPS, s->member);
		return -1;
	}
	d = &l->dumps[l->ndumps++];
	memset(d, 0, sizeof *d);
	memcpy(d->member, s->member, sizeof d->member);
	d->kind = kind;
	d->gzip = s->gzip;
	d->size = s->size;
	memcpy(d->encoding, s->encoding, sizeof d->encoding);
	memcpy(d->server_version, s->server, sizeof d->server_version);
	memcpy(d->pg_dump_version, s->dumper, sizeof d->pg_dump_version);
	if (kind != LEGACY_CUSTOM) {
		plain_flaw(s, d->flaw, sizeof d->flaw);
		snprintf(d->need, sizeof d->need, "%s", s->sc.need);
	}
	return 0;
}

unsigned long
legacy_others(const struct legacy_read *l)
{
	return l->others;
}

void
legacy_roles_into(const struct legacy_read *l, struct legacy_set *set)
{
	for (size_t i = 0; i < l->nroles; i++)
		role_list_add(set->roles, &set->nroles, l->roles[i]);
}

/* The dumps of kind K: their count, the first two in *A and *B. */
static size_t
of_kind(struct legacy_read *l, enum legacy_kind k, struct legacy_dump **a,
    struct legacy_dump **b)
{
	size_t n = 0;

	*a = *b = NULL;
	for (size_t i = 0; i < l->ndumps; i++) {
		if (l->dumps[i].kind != k)
			continue;
		if (n == 0)
			*a = &l->dumps[i];
		else if (n == 1)
			*b = &l->dumps[i];
		n++;
	}
	return n;
}

static int
two(const struct legacy_dump *a, const struct legacy_dump *b, char *err,
    size_t elen)
{
	snprintf(err, elen, "two database dumps of one kind, '%s' and '%s' "
	    "(%s each): which one is the database cannot be told; restore "
	    "by hand", a->member, b->member, legacy_kind_word(a->kind));
	return -1;
}

static int
beside(const struct legacy_dump *a, const struct legacy_dump *b, char *err,
    size_t elen)
{
	snprintf(err, elen, "%s '%s' beside %s '%s': which one is the "
	    "database cannot be told; restore by hand",
	    legacy_kind_word(a->kind), a->member, legacy_kind_word(b->kind),
	    b->member);
	return -1;
}

int
legacy_choose(struct legacy_read *l, struct legacy_set *set, char *err,
    size_t elen)
{
	struct legacy_dump *c1, *c2, *f1, *f2, *s1, *s2, *d1, *d2, *e1, *e2;
	size_t ne;
	struct legacy_dump *plain;

	of_kind(l, LEGACY_CUSTOM, &c1, &c2);
	of_kind(l, LEGACY_FULL, &f1, &f2);
	of_kind(l, LEGACY_SCHEMA, &s1, &s2);
	of_kind(l, LEGACY_DATA, &d1, &d2);
	ne = of_kind(l, LEGACY_EMPTY, &e1, &e2);
	plain = f1 ? f1 : s1 ? s1 : d1 ? d1 : e1;
	memset(set, 0, sizeof *set);
	if (c1 && c2)
		return two(c1, c2, err, elen);
	if (c1 && plain)
		return beside(c1, plain, err, elen);
	if (f1 && f2)
		return two(f1, f2, err, elen);
	if (s1 && s2)
		return two(s1, s2, err, elen);
	if (d1 && d2)
		return two(d1, d2, err, elen);
	if (f1 && (s1 || d1))
		return beside(f1, s1 ? s1 : d1, err, elen);
	if (c1 || f1) {
		set->how = LEGACY_ONE;
		set->dump[0] = c1 ? *c1 : *f1;
	} else if (s1 && (d1 || e1)) {
		set->how = LEGACY_SPLIT;
		set->dump[0] = *s1;
		set->dump[1] = d1 ? *d1 : *e1;
	} else if (d1) {
		snprintf(err, elen, "a data-only dump '%s' but no schema dump "
		    "to load it into", d1->member);
		return -1;
	} else if (s1) {
		snprintf(err, elen, "a schema-only dump '%s' but no data dump",
		    s1->member);
		return -1;
	} else if (e1 && !e2) {
		set->how = LEGACY_ONE;
		set->dump[0] = *e1;
	} else if (e1 && e2 && ne == 2) {
		set->how = LEGACY_SPLIT;
		set->dump[0] = *e1;
		set->dump[1] = *e2;
	} else if (e1 && e2) {
		snprintf(err, elen, "%zu empty database dumps ('%s', '%s', "
		    "...): which ones are the database cannot be told", ne,
		    e1->member, e2->member);
		return -1;
	} else {
		snprintf(err, elen, "no database dump: no member is a pg_dump "
		    "script or custom-format file");
		return -1;
	}
	for (int i = 0; i < (set->how == LEGACY_SPLIT ? 2 : 1); i++)
		if (set->dump[i].flaw[0]) {
			snprintf(err, elen, "the database dump '%s' cannot be "
			    "loaded: %s", set->dump[i].member,
			    set->dump[i].flaw);
			return -1;
		}
	legacy_roles_into(l, set);
	return 0;
}
