/* postdata.c - the post-data dump, its index builds side by side. */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "postdata.h"
#include "progress.h"
#include "sqllex.h"

/* What is read of a statement to know what it is: two qualified names
 * and the words around them. */
#define HEAD_MAX 600
#define READ_BUF 65536
#define NONE UINT64_MAX

/* The words of a statement's head: a bare word folded to upper case, a
 * quoted name as "Q", any other byte as itself. */
#define MAX_WORDS 24
struct words {
	char w[MAX_WORDS][16];
	size_t at[MAX_WORDS], to[MAX_WORDS];	/* where each one is */
	size_t n;
};

static void
split_words(const char *p, const char *end, struct words *ws)
{
	const char *head = p;

	ws->n = 0;
	while (p < end && ws->n < MAX_WORDS) {
		char *w = ws->w[ws->n];
		size_t o = 0;

		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		ws->at[ws->n] = (size_t)(p - head);
		if (*p == '"') {
			/* A quoted name: "" inside is one quote. */
			for (p++; p < end; p++) {
				if (*p == '"' && !(p + 1 < end && p[1] == '"'))
					break;
				if (*p == '"')
					p++;
			}
			if (p < end)
				p++;
			snprintf(w, sizeof ws->w[0], "Q");
		} else if (sqllex_ident_byte((unsigned char)*p) && *p != '$') {
			for (; p < end && sqllex_ident_byte((unsigned char)*p);
			    p++)
				if (o + 1 < sizeof ws->w[0])
					w[o++] = (char)(*p >= 'a' && *p <= 'z' ?
					    *p - 'a' + 'A' : *p);
			w[o] = '\0';
		} else {
			w[0] = *p++;
			w[1] = '\0';
		}
		ws->to[ws->n++] = (size_t)(p - head);
	}
}

/* Whether word I of WS is WORD. */
static int
word(const struct words *ws, size_t i, const char *w)
{
	return i < ws->n && strcmp(ws->w[i], w) == 0;
}

/* Past the qualified name at word I of WS (name, or name.name...), or 0
 * when there is none. */
static size_t
qualified(const struct words *ws, size_t i)
{
	for (;;) {
		if (i >= ws->n || !(ws->w[i][0] == 'Q' || ws->w[i][0] == '_' ||
		    (ws->w[i][0] >= 'A' && ws->w[i][0] <= 'Z') ||
		    (unsigned char)ws->w[i][0] >= 0x80))
			return 0;
		if (!word(ws, i + 1, "."))
			return i + 1;
		i += 2;
	}
}

enum postdata_kind
postdata_kind(const char *head, size_t len)
{
	struct words ws;
	size_t i;

	split_words(head, head + len, &ws);
	if (word(&ws, 0, "SET") || word(&ws, 0, "RESET"))
		return POSTDATA_SETTING;
	if (word(&ws, 0, "SELECT") && word(&ws, 1, "PG_CATALOG") &&
	    word(&ws, 2, ".") && word(&ws, 3, "SET_CONFIG") &&
	    word(&ws, 4, "("))
		return POSTDATA_SETTING;
	/* COPY brings data after it; a function's body may hold what
	 * psql reads as the end of a statement (BEGIN ATOMIC); a
	 * transaction would be taken apart. */
	if (word(&ws, 0, "COPY") || word(&ws, 0, "BEGIN") ||
	    word(&ws, 0, "START") || word(&ws, 0, "COMMIT") ||
	    word(&ws, 0, "END") || word(&ws, 0, "ROLLBACK"))
		return POSTDATA_UNSURE;
	if (word(&ws, 0, "CREATE")) {
		i = word(&ws, 1, "OR") && word(&ws, 2, "REPLACE") ? 3 : 1;
		if (word(&ws, i, "FUNCTION") || word(&ws, i, "PROCEDURE"))
			return POSTDATA_UNSURE;
		i = word(&ws, 1, "UNIQUE") ? 2 : 1;
		return word(&ws, i, "INDEX") ? POSTDATA_BUILD : POSTDATA_OTHER;
	}
	if (word(&ws, 0, "ALTER") && word(&ws, 1, "TABLE")) {
		i = word(&ws, 2, "ONLY") ? 3 : 2;
		if ((i = qualified(&ws, i)) == 0 || !word(&ws, i, "ADD") ||
		    !word(&ws, i + 1, "CONSTRAINT") ||
		    (i = qualified(&ws, i + 2)) == 0)
			return POSTDATA_OTHER;
		if ((word(&ws, i, "PRIMARY") && word(&ws, i + 1, "KEY")) ||
		    word(&ws, i, "UNIQUE"))
			return POSTDATA_BUILD;
	}
	return POSTDATA_OTHER;
}

/* Part I of a qualified name in WS (the words of HEAD) as the server
 * names it, into OUT (LEN bytes).  Returns 0 or -1. */
static int
name_part(const char *head, const struct words *ws, size_t i, char *out,
    size_t len)
{
	char raw[2 * POSTDATA_NAME_MAX + 3];
	size_t n = ws->to[i] - ws->at[i];
	const char *past;

	if (n >= sizeof raw)
		return -1;
	memcpy(raw, head + ws->at[i], n);
	raw[n] = '\0';
	past = pg_parse_ident(raw, out, len);
	return past == raw + n ? 0 : -1;
}

int
postdata_build_table(const char *head, size_t len, struct postdata_table *t)
{
	/* Per byte of the table, against a btree's 2: a GIN or GiST build
	 * takes many entries from each row (the bench's GIN over jsonb,
	 * 5 to 20 times a btree over the same table); BRIN only reads. */
	static const struct {
		const char *method;
		unsigned weight;
	} weights[] = { { "GIN", 16 }, { "GIST", 16 }, { "SPGIST", 8 },
		{ "BTREE", 2 }, { "HASH", 2 }, { "BRIN", 1 } };
	struct words ws;
	size_t i, end;

	memset(t, 0, sizeof *t);
	t->weight = 2;
	split_words(head, head + len, &ws);
	if (word(&ws, 0, "CREATE")) {
		/* CREATE [UNIQUE] INDEX [name] ON [ONLY] table [USING m] */
		for (i = 2; i < ws.n && !word(&ws, i, "ON"); i++)
			;
		i += word(&ws, i + 1, "ONLY") ? 2 : 1;
	} else if (word(&ws, 0, "ALTER") && word(&ws, 1, "TABLE")) {
		i = word(&ws, 2, "ONLY") ? 3 : 2;
		t->exclusive = 1;
	} else {
		return -1;
	}
	/* pg_dump names every table with its schema. */
	if ((end = qualified(&ws, i)) != i + 3 ||
	    name_part(head, &ws, i, t->schema, sizeof t->schema) < 0 ||
	    name_part(head, &ws, i + 2, t->table, sizeof t->table) < 0)
		return -1;
	if (word(&ws, 0, "CREATE") && word(&ws, end, "USING"))
		for (i = 0; i < sizeof weights / sizeof weights[0]; i++)
			if (word(&ws, end + 1, weights[i].method))
				t->weight = weights[i].weight;
	return 0;
}

/* A statement of the script: its bytes [start, end), the semicolon
 * included. */
struct stmt {
	uint64_t start, end;
	enum postdata_kind kind;
	const char *head;	/* its first bytes */
	size_t headlen;
};

typedef int (*stmt_fn)(void *arg, const struct stmt *st);

/* Reads the script FD from its start and calls FN (with ARG) for each
 * statement; FN returns 0, or -1 to stop.  Returns 0, 1 when the script
 * is not one to take apart (POSTDATA_UNSURE), or -1 (ERR: a read failed,
 * or FN's own failure). */
static int
scan(int fd, stmt_fn fn, void *arg, char *err, size_t elen)
{
	unsigned char *buf = malloc(READ_BUF);
	char head[HEAD_MAX];
	struct sqllex x;
	struct stmt st;
	size_t headlen = 0;
	uint64_t off = 0;
	ssize_t got;
	int rc = 0;

	if (buf == NULL) {
		snprintf(err, elen, "out of memory");
		return -1;
	}
	memset(&x, 0, sizeof x);
	st.start = NONE;
	while (rc == 0 && (got = io_pread(fd, buf, READ_BUF, (off_t)off)) > 0) {
		for (ssize_t k = 0; k < got && rc == 0; k++, off++) {
			int c = buf[k];
			enum sqllex_state before = x.state;
			enum sqllex_event ev;

			ev = c == '\n' ? sqllex_line_end(&x) :
			    sqllex_byte(&x, c);
			if (ev == SQLLEX_META_END) {
				/* Only pg_dump's own, between statements. */
				if (st.start != NONE ||
				    (strcmp(x.meta, "restrict") != 0 &&
				    strcmp(x.meta, "unrestrict") != 0))
					rc = 1;
				continue;
			}
			if (c == '\n')
				sqllex_next_line(&x);
			if (x.state == SQLLEX_META ||
			    x.state == SQLLEX_META_ARGS)
				continue;
			if (st.start == NONE) {
				if (before != SQLLEX_NORMAL || c == ' ' ||
				    c == '\n' || c == '\t' || c == '\r')
					continue;
				st.start = off;
				headlen = 0;
			} else if ((x.state == SQLLEX_LINECOMMENT ||
			    x.state == SQLLEX_BLOCK) && st.start + 1 == off) {
				/* It was the opening of a comment. */
				st.start = NONE;
				continue;
			}
			if (headlen < sizeof head)
				head[headlen++] = c == '\n' ? ' ' : (char)c;
			if (ev != SQLLEX_END)
				continue;
			st.end = off + 1;
			st.kind = postdata_kind(head, headlen);
			st.head = head;
			st.headlen = headlen;
			if (st.kind == POSTDATA_UNSURE) {
				rc = 1;
				continue;
			}
			if (st.kind == POSTDATA_SETTING && headlen > 0) {
				/* What changes how quotes are read. */
				head[headlen - 1] = '\0';
				if (strcmp(head, "SET standard_conforming_"
				    "strings = off") == 0)
					x.nonstd = 1;
				else if (strcmp(head, "SET standard_"
				    "conforming_strings = on") == 0)
					x.nonstd = 0;
			}
			if (fn(arg, &st) < 0)
				rc = -1;
			st.start = NONE;
		}
	}
	if (rc == 0 && got < 0) {
		snprintf(err, elen, "cannot read the post-data dump: %s",
		    strerror(errno));
		rc = -1;
	}
	/* Cut off inside a statement or a quote. */
	if (rc == 0 && (st.start != NONE || (x.state != SQLLEX_NORMAL &&
	    x.state != SQLLEX_LINECOMMENT && x.state != SQLLEX_META_ARGS)))
		rc = 1;
	free(buf);
	return rc;
}

static int
count_build(void *arg, const struct stmt *st)
{
	if (st->kind == POSTDATA_BUILD)
		(*(size_t *)arg)++;
	return 0;
}

int
postdata_plan(int fd, size_t *builds, char *err, size_t elen)
{
	*builds = 0;
	return scan(fd, count_build, builds, err, elen);
}

/* The builds, side by side. */
struct range {
	uint64_t off;
	size_t len;
};

/* A build: its statement, the settings before it, what it costs. */
struct build {
	uint64_t start, end;
	size_t nset;			/* the settings the script made
					 * before it */
	size_t order;			/* its place in the script */
	uint64_t cost;			/* its table's size, weighted */
	struct postdata_table t;
	int named;			/* t names its table */
};

struct builds {
	int fd;
	unsigned n;			/* sessions */
	struct pg_session w[POSTDATA_JOBS];
	int open[POSTDATA_JOBS];
	int busy[POSTDATA_JOBS];
	size_t running[POSTDATA_JOBS];	/* the build each busy one runs */
	size_t sent[POSTDATA_JOBS];	/* settings each one has had, the
					 * script's first ones */
	struct range *set;		/* the settings so far */
	size_t nset, capset;
	struct build *todo;		/* the builds, in the script's
					 * order, then costliest first */
	size_t ntodo, captodo;
	int failed;			/* the session that failed, or -1 */
	const volatile int *stop;
	volatile uint64_t *done;
	volatile int *last;
	char *err;
	size_t elen;
};

/* Reads the LEN bytes at OFF of FD into BUF.  Returns 0, or -1 with
 * errno set (EIO: the file is shorter). */
static int
pread_all(int fd, void *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = io_pread(fd, buf, len, off);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Appends the LEN bytes at OFF of the script to *BUF (*N used of
 * *CAP).  Returns 0 or -1. */
static int
append(struct builds *b, char **buf, size_t *n, size_t *cap, uint64_t off,
    size_t len)
{
	if (*buf == NULL || *n + len + 1 > *cap) {
		size_t c = (*n + len + 1) * 2;
		char *p = realloc(*buf, c);
		if (p == NULL) {
			snprintf(b->err, b->elen, "out of memory");
			return -1;
		}
		*buf = p;
		*cap = c;
	}
	if (pread_all(b->fd, *buf + *n, len, (off_t)off) < 0) {
		snprintf(b->err, b->elen, "cannot read the post-data dump: "
		    "%s", strerror(errno));
		return -1;
	}
	*n += len;
	(*buf)[*n] = '\0';
	return 0;
}

/* What wait_free() waits for. */
enum wait_for {
	FREE_ONE,		/* a session free (at once when one is) */
	FREE_ALL,		/* every one */
	FREE_MORE		/* one more than now */
};

/* Waits until sessions are free as WHAT says.  Returns the index of a
 * free one, or -2 (a session failed: b->failed; or a signal). */
static int
wait_free(struct builds *b, enum wait_for what)
{
	for (;;) {
		struct pollfd p[POSTDATA_JOBS];
		unsigned ix[POSTDATA_JOBS], np = 0;
		int freed = -1;

		for (unsigned i = 0; i < b->n; i++) {
			if (!b->busy[i]) {
				freed = (int)i;
				continue;
			}
			p[np].fd = b->w[i].from;
			p[np].events = POLLIN;
			ix[np++] = i;
		}
		if (np == 0 || (what == FREE_ONE && freed >= 0))
			return freed;
		if (io_stop_signal || (b->stop && *b->stop)) {
			snprintf(b->err, b->elen, "interrupted");
			return -2;
		}
		/* A stop is seen within a fifth of a second. */
		if (poll(p, np, 200) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(b->err, b->elen, "cannot wait for psql: %s",
			    strerror(errno));
			return -2;
		}
		for (unsigned k = 0; k < np; k++) {
			int r;
			if (p[k].revents == 0)
				continue;
			r = pg_session_answered(&b->w[ix[k]], b->err, b->elen);
			if (r < 0) {
				b->failed = (int)ix[k];
				return -2;
			}
			if (r == 1) {
				b->busy[ix[k]] = 0;
				if (what == FREE_MORE)
					return (int)ix[k];
			}
		}
	}
}

/* Grows the array *P of *CAP elements of SIZE bytes to hold N + 1.
 * Returns 0, or -1 with B's error. */
static int
grow(struct builds *b, void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 32;
	void *q;

	if (n < *cap)
		return 0;
	while (c <= n)
		c *= 2;
	if ((q = reallocarray(*p, c, size)) == NULL) {
		snprintf(b->err, b->elen, "out of memory");
		return -1;
	}
	*p = q;
	*cap = c;
	return 0;
}

/* A statement of the builds pass: the settings and the builds are
 * kept. */
static int
collect_one(void *arg, const struct stmt *st)
{
	struct builds *b = arg;
	struct build *d;

	if (st->kind == POSTDATA_SETTING) {
		if (grow(b, (void **)&b->set, &b->capset, b->nset,
		    sizeof *b->set) < 0)
			return -1;
		b->set[b->nset++] = (struct range){ st->start,
			(size_t)(st->end - st->start) };
		return 0;
	}
	if (st->kind != POSTDATA_BUILD)
		return 0;
	if (grow(b, (void **)&b->todo, &b->captodo, b->ntodo,
	    sizeof *b->todo) < 0)
		return -1;
	d = &b->todo[b->ntodo];
	d->start = st->start;
	d->end = st->end;
	d->nset = b->nset;
	d->order = b->ntodo++;
	d->cost = 0;
	d->named = postdata_build_table(st->head, st->headlen, &d->t) == 0;
	return 0;
}

/* How many tables one question asks the size of: its answer, one line,
 * must fit in a session's buffer. */
#define SIZES_AT_ONCE 64

/* Asks session S the sizes of the tables of the builds [FROM, TO) of B
 * and sets their costs.  Returns 0, or -1 (the session failed). */
static int
ask_sizes(struct builds *b, struct pg_session *s, size_t from, size_t to)
{
	char q[2 * 2 * POSTDATA_NAME_MAX + 8], answer[SIZES_AT_ONCE * 24];
	char *sql = NULL, *p;
	size_t n = 0, cap = 0;
	int rc = -1;

	for (int part = 0; part < 3; part++) {
		static const char *const text[] = {
			/* A name unknown, or gone: no size. */
			"SELECT pg_catalog.array_to_string(ARRAY(SELECT "
			    "coalesce(pg_catalog.pg_relation_size(c.oid), 0) "
			    "FROM ROWS FROM (pg_catalog.unnest(ARRAY[",
			"]::text[]), pg_catalog.unnest(ARRAY[",
			"]::text[])) WITH ORDINALITY AS u(s, t, i) LEFT JOIN "
			    "pg_catalog.pg_namespace ns ON ns.nspname = u.s "
			    "LEFT JOIN pg_catalog.pg_class c ON c.relnamespace "
			    "= ns.oid AND c.relname = u.t ORDER BY u.i), ' ');"
		};
		if (grow(b, (void **)&sql, &cap, n + strlen(text[part]), 1) < 0)
			goto out;
		memcpy(sql + n, text[part], strlen(text[part]));
		n += strlen(text[part]);
		for (size_t k = from; part < 2 && k < to; k++) {
			const struct build *d = &b->todo[k];
			if (pg_quote_literal(!d->named ? "" : part == 0 ?
			    d->t.schema : d->t.table, q, sizeof q) < 0)
				snprintf(q, sizeof q, "''");
			if (grow(b, (void **)&sql, &cap, n + strlen(q) + 2,
			    1) < 0)
				goto out;
			n += (size_t)sprintf(sql + n, "%s%s", k > from ? "," :
			    "", q);
		}
	}
	if (grow(b, (void **)&sql, &cap, n, 1) < 0)
		goto out;
	sql[n] = '\0';
	if (pg_session_query(s, sql, answer, sizeof answer, b->err,
	    b->elen) < 0)
		goto out;
	p = answer;
	for (size_t k = from; k < to; k++) {
		char *e;
		unsigned long long size = strtoull(p, &e, 10);
		if (e == p)
			break;
		b->todo[k].cost = (uint64_t)size * b->todo[k].t.weight;
		p = e;
	}
	rc = 0;
out:
	free(sql);
	return rc;
}

/* Costliest first; the script's order among equals. */
static int
by_cost(const void *x, const void *y)
{
	const struct build *a = x, *c = y;

	if (a->cost != c->cost)
		return a->cost > c->cost ? -1 : 1;
	return a->order < c->order ? -1 : a->order > c->order;
}

/* How many of B's sessions build. */
static unsigned
busy_count(const struct builds *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < b->n; i++)
		n += b->busy[i] != 0;
	return n;
}

/* Sends build D to the free session I, after the settings the script
 * made before it: those it has not had yet, or, when it has had later
 * ones, all of them again after RESET ALL (back to how it connected).
 * A build sent beside another one builds without parallel workers: the
 * two share the server's cores already, and the one beside is not the
 * costliest (a btree's workers beside the GIN build took a third more
 * time from it, scale 1 of the bench).  Alone, it has what the server
 * allows. */
static int
build_one(struct builds *b, int i, const struct build *d)
{
	static const char reset[] = "RESET ALL;\n";
	static const char *const workers[] = {
		"RESET max_parallel_maintenance_workers;\n",
		"SET max_parallel_maintenance_workers = 0;\n"
	};
	const char *w = workers[busy_count(b) > 0];
	char *buf = NULL;
	size_t n = 0, cap = 0, k;
	int rc = -1;

	k = b->sent[i];
	if (k > d->nset) {
		if (grow(b, (void **)&buf, &cap, sizeof reset, 1) < 0)
			goto out;
		memcpy(buf, reset, sizeof reset);
		n = sizeof reset - 1;
		k = 0;
	}
	for (; k < d->nset; k++)
		if (append(b, &buf, &n, &cap, b->set[k].off,
		    b->set[k].len) < 0)
			goto out;
	if (grow(b, (void **)&buf, &cap, n + strlen(w) + 1, 1) < 0)
		goto out;
	memcpy(buf + n, w, strlen(w));
	n += strlen(w);
	if (append(b, &buf, &n, &cap, d->start, (size_t)(d->end - d->start))
	    < 0)
		goto out;
	b->sent[i] = d->nset;
	if (pg_session_send(&b->w[i], buf, n, b->err, b->elen) < 0) {
		b->failed = i;
		goto out;
	}
	b->busy[i] = 1;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Whether builds A and C cannot run at once: ADD CONSTRAINT takes its
 * table whole (ACCESS EXCLUSIVE), CREATE INDEX shares it with other
 * builds.  A build whose table is not known is taken to be on any. */
static int
conflict(const struct build *a, const struct build *c)
{
	return (a->t.exclusive || c->t.exclusive) && (!a->named ||
	    !c->named || (strcmp(a->t.schema, c->t.schema) == 0 &&
	    strcmp(a->t.table, c->t.table) == 0));
}

/* The first build of B not sent yet (TAKEN) that can run beside those
 * running, or NONE. */
static size_t
pick(const struct builds *b, const char *taken)
{
	for (size_t k = 0; k < b->ntodo; k++) {
		unsigned i;
		if (taken[k])
			continue;
		for (i = 0; i < b->n; i++)
			if (b->busy[i] &&
			    conflict(&b->todo[b->running[i]], &b->todo[k]))
				break;
		if (i == b->n)
			return k;
	}
	return (size_t)NONE;
}

/* Runs the builds B collected, the costliest first, in its sessions,
 * never two that would wait for each other's lock (a session waiting
 * for a lock builds nothing); SIZE is the script's, for the progress.
 * Returns 0 or -1. */
static int
run_builds(struct builds *b, uint64_t size)
{
	char *taken;
	int rc = -1;

	for (size_t k = 0; k < b->ntodo; k += SIZES_AT_ONCE) {
		size_t to = k + SIZES_AT_ONCE < b->ntodo ? k + SIZES_AT_ONCE :
		    b->ntodo;
		if (ask_sizes(b, &b->w[0], k, to) < 0) {
			b->failed = 0;
			return -1;
		}
	}
	qsort(b->todo, b->ntodo, sizeof *b->todo, by_cost);
	if ((taken = calloc(b->ntodo + 1, 1)) == NULL) {
		snprintf(b->err, b->elen, "out of memory");
		return -1;
	}
	for (size_t sent = 0; sent < b->ntodo; ) {
		int i = wait_free(b, FREE_ONE);
		size_t k;
		uint64_t at;

		if (i < 0)
			goto out;
		if ((k = pick(b, taken)) == (size_t)NONE) {
			/* Each one left waits for one that runs: with one
			 * running, one at a time from here on. */
			if (busy_count(b) <= 1 && b->last)
				*b->last = 1;
			if (wait_free(b, FREE_MORE) < 0)
				goto out;
			continue;
		}
		if (build_one(b, i, &b->todo[k]) < 0)
			goto out;
		b->running[i] = k;
		taken[k] = 1;
		at = size * ++sent / b->ntodo;
		if (b->done)
			*b->done = at;
		else
			progress_update(at);
	}
	/* Down to the last build: what else wants a core may run. */
	while (busy_count(b) > 1)
		if (wait_free(b, FREE_MORE) < 0)
			goto out;
	if (b->last)
		*b->last = 1;
	rc = wait_free(b, FREE_ALL) < -1 ? -1 : 0;
out:
	free(taken);
	return rc;
}

/* The rest, in order, fed to one psql: every byte of the script but the
 * builds'. */
struct rest {
	int fd, to;
	uint64_t at;		/* what is fed up to */
	int fed;		/* as pg_load_finish() takes it */
	char *buf;
	struct fence *fence;	/* what psql is given passes it */
};

/* Feeds the script's bytes from R->at up to END. */
static int
feed_to(struct rest *r, uint64_t end)
{
	while (r->fed == 0 && r->at < end) {
		size_t len = end - r->at < READ_BUF ? (size_t)(end - r->at) :
		    READ_BUF;
		if (pread_all(r->fd, r->buf, len, (off_t)r->at) < 0 ||
		    fence_write(r->fence, r->to, r->buf, len) < 0) {
			/* EPIPE: psql stopped at an error; it says which. */
			r->fed = errno == EPIPE ? -1 : errno;
			return -1;
		}
		r->at += len;
	}
	return r->fed == 0 ? 0 : -1;
}

static int
rest_one(void *arg, const struct stmt *st)
{
	struct rest *r = arg;

	if (st->kind != POSTDATA_BUILD)
		return 0;
	if (feed_to(r, st->start) < 0)
		return -1;
	r->at = st->end;
	return 0;
}


/* Feeds R's psql (started, reading R->to) all of the script but the
 * builds (with WHOLE, all of it), unless STOP, and waits for it.  Returns
 * as postdata_run(). */
static int
run_rest(struct rest *r, struct child *c, uint64_t size, int whole, int stop,
    char *errtext, size_t tlen, char *err, size_t elen)
{
	char why[512];
	int rc, refused;

	if ((r->fence = malloc(sizeof *r->fence)) != NULL)
		fence_begin(r->fence, 1);
	if (stop) {
		r->fed = ECANCELED;
	} else if (r->fence == NULL || (r->buf = malloc(READ_BUF)) == NULL) {
		r->fed = ENOMEM;
	} else {
		rc = whole ? 0 : scan(r->fd, rest_one, r, why, sizeof why);
		if (rc == 0 && feed_to(r, size) == 0 &&
		    fence_end(r->fence, r->to) < 0)
			r->fed = errno == EPIPE ? -1 : errno;
		else if (rc != 0 && r->fed == 0)
			r->fed = EIO;	/* it read the same bytes before */
	}
	close(r->to);
	free(r->buf);
	r->buf = NULL;
	refused = r->fence != NULL && r->fence->refused;
	free(r->fence);
	r->fence = NULL;
	rc = pg_load_finish(c, r->fed, errtext, tlen, err, elen);
	if (refused) {
		snprintf(err, elen, "%s", FENCE_REFUSED);
		rc = -1;
	}
	return stop ? -1 : rc;
}

/* Runs the script whole in one psql, once O's ready() said so.  Returns
 * as postdata_run(). */
static int
run_whole(struct pg *pg, int fd, uint64_t size,
    const struct postdata_opts *o, char *errtext, size_t tlen, char *err,
    size_t elen)
{
	struct rest r = { .fd = fd, .to = -1 };
	struct child c;

	if (o->ready && o->ready(o->ready_arg, err, elen) < 0)
		return -1;
	if (pg_load_start(pg, &c, -1, &r.to, o->guard, err, elen) < 0)
		return -1;
	return run_rest(&r, &c, size, 1, 0, errtext, tlen, err, elen);
}

/* Ends every session of B; with STOP, as soon as they can.  The failed
 * one's error output goes to ERRTEXT.  Returns 0, or -1 when one of them
 * did not end well (ERR says how, unless it was said before). */
static int
end_builds(struct builds *b, int stop, char *errtext, size_t tlen)
{
	char why[1024], ignored[2048] = "";
	int rc = 0;

	for (unsigned i = 0; i < b->n; i++) {
		if (!b->open[i])
			continue;
		b->open[i] = 0;
		if ((int)i == b->failed) {
			pg_session_end(&b->w[i], 0, errtext, tlen, why,
			    sizeof why);
			rc = -1;
		} else if (pg_session_end(&b->w[i], stop, stop ? ignored :
		    errtext, stop ? sizeof ignored : tlen, why,
		    sizeof why) < 0 && !stop) {
			snprintf(b->err, b->elen, "%s", why);
			rc = -1;
		}
	}
	return rc;
}

int
postdata_run(struct pg *pg, int fd, uint64_t size,
    const struct postdata_opts *o, char *errtext, size_t tlen, char *err,
    size_t elen)
{
	unsigned jobs = o->jobs < POSTDATA_JOBS ? o->jobs : POSTDATA_JOBS;
	struct rest r = { .to = -1 };
	struct child rest;
	struct builds b;
	size_t builds = 0;
	int rc = 0, rest_on = 0, own = -1, plan = 0, whole;

	errtext[0] = '\0';
	memset(&b, 0, sizeof b);
	b.n = jobs;
	b.failed = -1;
	b.stop = o->stop;
	b.done = o->done;
	b.last = o->last;
	b.err = err;
	b.elen = elen;
	/* Every psql starts first: each takes a while to start and connect
	 * (on Debian a Perl wrapper first picks the version), while the
	 * rows may still be loading and the script still on its way. */
	for (unsigned i = 0; jobs >= 2 && i < jobs && rc == 0; i++) {
		if (pg_session_open_guarded(pg, &b.w[i], o->guard, err,
		    elen) < 0) {
			rc = -1;
			break;
		}
		b.w[i].keep_stderr = 1;
		b.open[i] = 1;
	}
	if (rc == 0 && jobs >= 2) {
		if (pg_load_start(pg, &rest, -1, &r.to, o->guard, err,
		    elen) == 0)
			rest_on = 1;
		else
			rc = -1;
	}
	if (rc == 0 && o->script && (fd = own = o->script(o->script_arg,
	    &size, err, elen)) < 0)
		rc = -1;
	r.fd = b.fd = fd;
	whole = jobs < 2;
	if (rc == 0 && !whole) {
		if ((plan = postdata_plan(fd, &builds, err, elen)) < 0)
			rc = -1;
		whole = plan == 1 || builds < 2;
	}
	if (rc == 0 && whole) {
		log_detail("post-data: run whole by one psql (%s)", jobs < 2 ?
		    "one session asked" : plan == 1 ? "it holds more than "
		    "pg_dump's statements" : "fewer than two indexes to build");
		/* The sessions are not needed. */
		end_builds(&b, 0, errtext, tlen);
		if (!rest_on) {
			rc = run_whole(pg, fd, size, o, errtext, tlen, err,
			    elen);
			goto out;
		}
	} else if (rc == 0) {
		log_detail("post-data: %zu indexes and keys built in %u "
		    "sessions, then the rest in order", builds, jobs);
		/* What to build is known while the rows still load; what
		 * each costs, once they are in. */
		if ((rc = scan(fd, collect_one, &b, err, elen)) == 1) {
			snprintf(err, elen, "the post-data dump changed while "
			    "it was read");
			rc = -1;
		}
	}
	if (rc == 0 && o->ready && o->ready(o->ready_arg, err, elen) < 0)
		rc = -1;
	if (!whole) {
		if (b.done == NULL)
			progress_begin("indexing", size);
		if (rc == 0)
			rc = run_builds(&b, size);
		if (b.done == NULL)
			progress_end();
	}
	if (end_builds(&b, rc < 0, errtext, tlen) < 0)
		rc = -1;
	if (rest_on && rc < 0) {
		char ignored[2048] = "", why[512];
		run_rest(&r, &rest, size, whole, 1, ignored, sizeof ignored,
		    why, sizeof why);
	} else if (rest_on) {
		rc = run_rest(&r, &rest, size, whole, 0, errtext, tlen, err,
		    elen);
	}
out:
	if (o->last)
		*o->last = 1;
	free(b.set);
	free(b.todo);
	if (own >= 0)
		close(own);
	return rc;
}
