/* pg.c - the PostgreSQL client programs, driven safely. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker.h"
#include "io.h"
#include "pg.h"
#include "progress.h"

/* What pg_run_fd() copies at a time. */
#define RUN_BUF (128 * 1024)

int
pg_init(struct pg *pg, const struct config *c, const struct db *db)
{
	int rc = 0;

	memset(pg, 0, sizeof *pg);
	pg->cfg = c;
	pg->database = db->database;
	pg->envp = spawn_env();
	if (pg->envp == NULL)
		return -1;
	rc = spawn_env_add(&pg->envp, "PGHOST", db->host);
	if (rc == 0)
		rc = spawn_env_add(&pg->envp, "PGPORT", db->port);
	if (rc == 0)
		rc = spawn_env_add(&pg->envp, "PGUSER", db->user);
	if (rc == 0)
		rc = spawn_env_add(&pg->envp, "PGPASSWORD", db->password);
	if (rc == 0)
		rc = spawn_env_add(&pg->envp, "PGDATABASE", db->database);
	if (rc == 0 && db->container && db->container[0]) {
		pg->container = db->container;
		rc = docker_env_add(&pg->envp);
	}
	if (rc == 0 && db->sslmode)
		rc = spawn_env_add(&pg->envp, "PGSSLMODE", db->sslmode);
	/* In a container our programs outlive a docker exec that is
	 * stopped; a name of this run's own lets pg_end_own_sessions()
	 * find their sessions. */
	if (rc == 0) {
		char app[64];
		snprintf(app, sizeof app, pg->container ? "polarity-backup.%ld"
		    : "polarity-backup", (long)getpid());
		rc = spawn_env_add(&pg->envp, "PGAPPNAME", app);
	}
	/* An unreachable server must not hang a cron job forever. */
	if (rc == 0)
		rc = spawn_env_add(&pg->envp, "PGCONNECT_TIMEOUT", "15");
	if (rc < 0) {
		pg_free(pg);
		errno = ENOMEM;
	}
	return rc;
}

void
pg_free(struct pg *pg)
{
	/* The password was in there: spawn_env_free() wipes it. */
	spawn_env_free(pg->envp);
	pg->envp = NULL;
}

/* Where Debian keeps each version's client programs. */
#define PG_BINROOT "/usr/lib/postgresql"

int
pg_unwrap(const char *prog, char *const envp[], char *out, size_t len)
{
	char found[PATH_MAX], real[PATH_MAX], cand[PATH_MAX];
	const char *base;
	unsigned long best = 0;
	struct dirent *e;
	DIR *d;

	if (spawn_find(prog, envp, found, sizeof found) < 0 ||
	    realpath(found, real) == NULL || (base = strrchr(real, '/')) ==
	    NULL || strcmp(base + 1, "pg_wrapper") != 0 ||
	    (d = opendir(PG_BINROOT)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		/* "15", "9.6": major and minor, compared as numbers. */
		char *end;
		unsigned long major = strtoul(e->d_name, &end, 10), minor = 0;
		if (end == e->d_name || e->d_name[0] < '0' ||
		    e->d_name[0] > '9')
			continue;
		if (*end == '.')
			minor = strtoul(end + 1, &end, 10);
		if (*end != '\0' || major * 1000 + minor + 1 <= best)
			continue;
		snprintf(cand, sizeof cand, "%s/%s/bin/%s", PG_BINROOT,
		    e->d_name, prog);
		if (access(cand, X_OK) != 0)
			continue;
		best = major * 1000 + minor + 1;
		snprintf(out, len, "%s", cand);
	}
	closedir(d);
	return best > 0 ? 0 : -1;
}

/* Starts the client program ARGS[0] (a bare name) with the rest of
 * ARGS, reading IN and writing OUT: from --pg-bindir or PATH here
 * (Debian's wrapper's choice run directly), or inside the container
 * through docker exec. */
static int
start(struct pg *pg, struct child *c, char *const args[], int in, int out,
    char *err, size_t elen)
{
	char path[PATH_MAX];
	char *argv[16];
	struct spawn_cmd cmd;
	size_t n;

	if (pg->container != NULL) {
		if (docker_exec_argv(&cmd, pg->cfg, pg->container, pg->envp,
		    args) < 0) {
			snprintf(err, elen, "the docker command '%s' cannot "
			    "be split into words", pg->cfg->docker);
			return -1;
		}
		if (spawn_start(c, cmd.argv, in, out, pg->envp) < 0) {
			snprintf(err, elen, "cannot run '%s' to reach container "
			    "'%s': %s", cmd.argv[0], pg->container,
			    strerror(errno));
			return -1;
		}
		/* Messages name the program inside, not docker. */
		snprintf(c->name, sizeof c->name, "%s", args[0]);
		snprintf(c->where, sizeof c->where, " in container '%s'",
		    pg->container);
		return 0;
	}
	if (pg->cfg->pg_bindir[0] != '\0' ||
	    pg_unwrap(args[0], pg->envp, path, sizeof path) < 0)
		config_pg_program(pg->cfg, args[0], path, sizeof path);
	argv[0] = path;
	for (n = 1; args[n] && n + 1 < sizeof argv / sizeof *argv; n++)
		argv[n] = args[n];
	argv[n] = NULL;
	if (spawn_start(c, argv, in, out, pg->envp) < 0) {
		snprintf(err, elen, "cannot run '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

const char *
pg_where(const struct pg *pg)
{
	return pg->container;
}

long
pg_number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	return errno || end == s || *end ? -1 : v;
}

int
pg_dump_can_dump(int dump_num, int server_num)
{
	return dump_num / 10000 >= server_num / 10000;
}

int
pg_client_version(struct pg *pg, const char *prog, int *num, char *text,
    size_t tlen, char *err, size_t elen)
{
	char out[512];
	char *argv[] = { (char *)(uintptr_t)prog, "--version", NULL };
	struct child c;
	int p[2];
	ssize_t n;
	int major = 0, minor = 0;
	const char *s;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (start(pg, &c, argv, -1, p[1], err, elen) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	n = io_read_full(p[0], out, sizeof out - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	if (spawn_wait(&c, err, elen) < 0) {
		spawn_close(&c);
		return -1;
	}
	spawn_close(&c);
	/* "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" */
	s = strstr(out, ") ");
	if (s != NULL) {
		char *end;
		errno = 0;
		major = (int)strtol(s + 2, &end, 10);
		if (!errno && *end == '.')
			minor = (int)strtol(end + 1, &end, 10);
		if (errno || major > 1000 || minor < 0 || minor > 1000)
			major = 0;
	}
	if (s == NULL || major <= 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, elen, "cannot understand the version of '%s'%s: "
		    "'%s'", prog, c.where, out);
		return -1;
	}
	/* Before 10 the second number was part of the major version. */
	*num = major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100;
	snprintf(text, tlen, "%d.%d", major, minor);
	return 0;
}

int
pg_fence(struct pg *pg, char *text, size_t tlen, char *err, size_t elen)
{
	int num;

	pg->fence[0] = '\0';
	if (pg_client_version(pg, "psql", &num, text, tlen, err, elen) < 0)
		return -1;
	if (!fence_has_restrict(num))
		return 0;
	if (fence_key(pg->fence) < 0) {
		snprintf(err, elen, "cannot make a key: %s", strerror(errno));
		pg->fence[0] = '\0';
		return -1;
	}
	return 1;
}

/* Writes PG's \restrict line to FD, psql's input.  Returns 0 or -1. */
static int
restrict_line(const struct pg *pg, int fd)
{
	char line[FENCE_KEY_LEN + 16];
	int n = snprintf(line, sizeof line, "\\restrict %s\n", pg->fence);

	return io_write_all(fd, line, (size_t)n);
}

static int died(struct pg_session *s, char *err, size_t elen);

int
pg_session_open(struct pg *pg, struct pg_session *s, char *err, size_t elen)
{
	return pg_session_open_guarded(pg, s, NULL, err, elen);
}

int
pg_session_open_guarded(struct pg *pg, struct pg_session *s, char *guard,
    char *err, size_t elen)
{
	/* -X: no ~/.psqlrc; -A -t: bare values; ON_ERROR_STOP: an error
	 * ends psql, so that we see it as an exit status. */
	char *argv[] = { "psql", "-X", "-A", "-t", "-q", "--no-password",
		"-v", "ON_ERROR_STOP=1", NULL, NULL, NULL, NULL, NULL };
	int in[2], out[2];

	if (guard != NULL) {
		argv[8] = "-c";
		argv[9] = guard;
		argv[10] = "-f";
		argv[11] = "-";
	}

	memset(s, 0, sizeof *s);
	s->to = s->from = -1;
	if (pipe2(in, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (start(pg, &s->c, argv, in[0], out[1], err, elen) < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	close(in[0]);
	close(out[1]);
	s->to = in[1];
	s->from = out[0];
	if (pg->fence[0]) {
		s->fenced = 1;
		if (restrict_line(pg, s->to) < 0)
			return died(s, err, elen);
	}
	return 0;
}

/* Ends psql and describes how it ended. */
static int
session_end(struct pg_session *s, char *err, size_t elen)
{
	int rc;

	if (s->to >= 0)
		close(s->to);
	if (s->from >= 0)
		close(s->from);
	s->to = s->from = -1;
	rc = spawn_wait(&s->c, err, elen);
	if (!s->keep_stderr)
		spawn_close(&s->c);
	return rc;
}

/* psql ended before it answered: describes how, and ends the session. */
static int
died(struct pg_session *s, char *err, size_t elen)
{
	if (session_end(s, err, elen) == 0)
		snprintf(err, elen, "'psql' ended before answering");
	return -1;
}

int
pg_session_send(struct pg_session *s, const char *sql, size_t len,
    char *err, size_t elen)
{
	/* A marker line after each statement tells us its answer is
	 * complete, and makes psql flush its output. */
	static const char mark[] = "\\echo __polarity_done__\n";
	/* Under \restrict, \echo is refused: a query answers instead. */
	static const char qmark[] = "SELECT '__polarity_done__';\n";

	if (s->fenced && !fence_clean(sql, len)) {
		snprintf(err, elen, "%s", FENCE_REFUSED);
		return -1;
	}
	if (io_write_all(s->to, sql, len) < 0 ||
	    io_write_all(s->to, "\n", 1) < 0 ||
	    io_write_all(s->to, s->fenced ? qmark : mark, s->fenced ?
	    sizeof qmark - 1 : sizeof mark - 1) < 0)
		return died(s, err, elen);
	return 0;
}

/* Takes the whole lines in S's buffer: the first one not the marker goes
 * into OUT, if it is still empty.  Returns 1 once the marker came, else
 * 0. */
static int
answer_lines(struct pg_session *s, char *out, size_t olen)
{
	char *nl;

	while ((nl = memchr(s->buf, '\n', s->have)) != NULL) {
		size_t l = (size_t)(nl - s->buf);
		*nl = '\0';
		int done = strcmp(s->buf, "__polarity_done__") == 0;
		if (!done && out && out[0] == '\0')
			snprintf(out, olen, "%s", s->buf);
		memmove(s->buf, nl + 1, s->have - l - 1);
		s->have -= l + 1;
		if (done)
			return 1;
	}
	if (s->have == sizeof s->buf)
		s->have = 0;	/* an absurd line: drop it */
	return 0;
}

int
pg_session_answered(struct pg_session *s, char *err, size_t elen)
{
	ssize_t n;

	if (answer_lines(s, NULL, 0))
		return 1;
	n = io_read(s->from, s->buf + s->have, sizeof s->buf - s->have);
	if (n <= 0)
		return died(s, err, elen);
	s->have += (size_t)n;
	return answer_lines(s, NULL, 0);
}

int
pg_session_query(struct pg_session *s, const char *sql, char *out,
    size_t olen, char *err, size_t elen)
{
	if (pg_session_send(s, sql, strlen(sql), err, elen) < 0)
		return -1;
	if (out && olen)
		out[0] = '\0';
	while (!answer_lines(s, out, olen)) {
		ssize_t n = io_read(s->from, s->buf + s->have,
		    sizeof s->buf - s->have);
		if (n <= 0)
			return died(s, err, elen);
		s->have += (size_t)n;
	}
	return 0;
}

/* pg_session_query() of a statement made from FMT and AP. */
static int
vquery(struct pg_session *s, char *out, size_t olen, char *err, size_t elen,
    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static int
vquery(struct pg_session *s, char *out, size_t olen, char *err, size_t elen,
    const char *fmt, va_list ap)
{
	char sql[2048];

	vsnprintf(sql, sizeof sql, fmt, ap);
	return pg_session_query(s, sql, out, olen, err, elen);
}

int
pg_session_execf(struct pg_session *s, char *err, size_t elen,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vquery(s, NULL, 0, err, elen, fmt, ap);
	va_end(ap);
	return rc;
}

int
pg_session_askf(struct pg_session *s, char *out, size_t olen, char *err,
    size_t elen, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vquery(s, out, olen, err, elen, fmt, ap);
	va_end(ap);
	return rc;
}

int
pg_session_try(struct pg_session *s, const char *stmt, char *why,
    size_t wlen, char *err, size_t elen)
{
	size_t len = strlen(stmt) * 2 + 3;
	char *lit = malloc(len), *sql;
	int rc;

	if (lit == NULL || pg_quote_literal(stmt, lit, len) < 0) {
		free(lit);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	len = strlen(lit) + 256;
	sql = malloc(len);
	if (sql == NULL) {
		free(lit);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	/* The error lands in a session setting we read back: the handler's
	 * subtransaction undoes the statement, not the setting. */
	snprintf(sql, len, "DO $polarity$ BEGIN PERFORM set_config("
	    "'polarity.error', '', false); EXECUTE %s; EXCEPTION WHEN OTHERS "
	    "THEN PERFORM set_config('polarity.error', SQLERRM, false); END "
	    "$polarity$;", lit);
	rc = pg_session_query(s, sql, NULL, 0, err, elen);
	free(sql);
	free(lit);
	if (rc < 0)
		return -1;
	if (pg_session_query(s, "SELECT current_setting('polarity.error');",
	    why, wlen, err, elen) < 0)
		return -1;
	return why[0] ? 1 : 0;
}

void
pg_session_hangup(struct pg_session *s)
{
	/* Its output stays open: psql quitting must not meet a closed
	 * pipe. */
	if (s->to >= 0)
		close(s->to);
	s->to = -1;
}

int
pg_session_close(struct pg_session *s, char *err, size_t elen)
{
	if (s->c.pid == 0 && s->to < 0)
		return 0;
	return session_end(s, err, elen);
}

int
pg_session_end(struct pg_session *s, int stop, char *errtext, size_t tlen,
    char *err, size_t elen)
{
	int rc;

	if (stop && s->c.pid > 0)
		kill(s->c.pid, SIGTERM);
	if (s->c.pid == 0 && s->c.errfd < 0)
		return 0;	/* ended before */
	s->keep_stderr = 1;
	rc = session_end(s, err, elen);
	spawn_stderr(&s->c, errtext, tlen);
	spawn_close(&s->c);
	return rc;
}

int
pg_dump_start(struct pg *pg, struct child *c, const char *section,
    const char *snapshot, int out, char *err, size_t elen)
{
	char sec[64], snap[128];
	char *argv[] = { "pg_dump", "--no-password", sec, snap, NULL };

	snprintf(sec, sizeof sec, "--section=%s", section);
	snprintf(snap, sizeof snap, "--snapshot=%s", snapshot);
	return start(pg, c, argv, -1, out, err, elen);
}

int
pg_schema_start(struct pg *pg, struct child *c, const char *snapshot,
    int out, char *err, size_t elen)
{
	char snap[128];
	char *argv[] = { "pg_dump", "--no-password", "--format=custom",
		"--section=pre-data", "--section=post-data", snap, NULL };

	snprintf(snap, sizeof snap, "--snapshot=%s", snapshot);
	return start(pg, c, argv, -1, out, err, elen);
}

int
pg_section_start(struct pg *pg, struct child *c, const char *section,
    int version, int in, int out, char *err, size_t elen)
{
	char sec[64];
	/* From 12 on the standard output must be asked for ("-" there
	 * before was a file of that name). */
	char *argv[] = { "pg_restore", sec, version >= 120000 ? "--file=-" :
		NULL, NULL };

	snprintf(sec, sizeof sec, "--section=%s", section);
	return start(pg, c, argv, in, out, err, elen);
}

int
pg_roles_start(struct pg *pg, struct child *c, int out, char *err,
    size_t elen)
{
	char db[1024];
	char *argv[] = { "pg_dumpall", "--roles-only", "--no-role-passwords",
		"--no-password", "-l", db, NULL };

	snprintf(db, sizeof db, "%s", pg->database);
	return start(pg, c, argv, -1, out, err, elen);
}

int
pg_end_own_sessions(struct pg *pg, char *err, size_t elen)
{
	struct pg_session s;
	char n[32];

	if (pg_session_open(pg, &s, err, elen) < 0 ||
	    pg_session_query(&s, "SELECT count(pg_terminate_backend(pid)) "
	    "FROM pg_stat_activity WHERE application_name = "
	    "current_setting('application_name') AND pid <> "
	    "pg_backend_pid();", n, sizeof n, err, elen) < 0)
		return -1;
	if (pg_session_close(&s, err, elen) < 0)
		return -1;
	return (int)pg_number(n);
}

int
pg_set_database(struct pg *pg, const char *name)
{
	for (char **p = pg->envp; *p; p++)
		if (strncmp(*p, "PGDATABASE=", 11) == 0) {
			size_t len = strlen(name) + 12;
			char *s = malloc(len);
			if (s == NULL)
				return -1;
			snprintf(s, len, "PGDATABASE=%s", name);
			free(*p);
			*p = s;
			pg->database = s + 11;
			return 0;
		}
	if (spawn_env_add(&pg->envp, "PGDATABASE", name) < 0)
		return -1;
	return pg_set_database(pg, name);
}

/* Writes S between Q quotes, doubling each Q inside. */
static int
quote(const char *s, char q, char *out, size_t len)
{
	size_t o = 0;

	if (len < 3)
		return -1;
	out[o++] = q;
	for (; *s; s++) {
		if (o + 3 >= len)
			return -1;
		if (*s == q)
			out[o++] = q;
		out[o++] = *s;
	}
	out[o++] = q;
	out[o] = '\0';
	return 0;
}

int
pg_quote_ident(const char *name, char *out, size_t len)
{
	return quote(name, '"', out, len);
}

int
pg_quote_literal(const char *s, char *out, size_t len)
{
	/* standard_conforming_strings is on since PostgreSQL 9.1: inside
	 * '...' only the quote itself needs doubling. */
	return quote(s, '\'', out, len);
}

const char *
pg_parse_ident(const char *s, char *out, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return NULL;
	if (*s == '"') {
		for (s++; *s; s++) {
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			if (o + 1 >= len)
				return NULL;
			out[o++] = *s;
		}
		if (*s != '"' || o == 0)
			return NULL;
		out[o] = '\0';
		return s + 1;
	}
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	    (*s >= '0' && *s <= '9') || *s == '_' || *s == '$' ||
	    (unsigned char)*s >= 0x80) {
		if (o + 1 >= len)
			return NULL;
		out[o++] = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') :
		    *s;
		s++;
	}
	if (o == 0 || (out[0] >= '0' && out[0] <= '9') || out[0] == '$')
		return NULL;
	out[o] = '\0';
	return s;
}

int
pg_missing_role(const char *err, char *role, size_t len)
{
	static const char head[] = "role \"", tail[] = "\" does not exist";
	const char *p = err;

	while ((p = strstr(p, head)) != NULL) {
		const char *start = p + sizeof head - 1;
		const char *eol = strchr(start, '\n');
		const char *end = NULL, *q = start;
		/* The last match on the line: a name may hold quotes. */
		while ((q = strstr(q, tail)) != NULL && (!eol || q < eol))
			end = q++;
		if (end && end > start && (size_t)(end - start) < len) {
			memcpy(role, start, (size_t)(end - start));
			role[end - start] = '\0';
			return 1;
		}
		p = start;
	}
	return 0;
}

int
pg_program_start(struct pg *pg, struct child *c, char *const args[], int in,
    int out, char *err, size_t elen)
{
	return start(pg, c, args, in, out, err, elen);
}

/* Starts the loader ARGV (psql, or pg_restore) as pg_load_start() says. */
static int
loader_start(struct pg *pg, struct child *c, char *const argv[], int in,
    int *to, char *err, size_t elen)
{
	int p[2] = { in, -1 };

	if (in >= 0 && pg->fence[0]) {
		/* Its \restrict could not come first. */
		snprintf(err, elen, "a fenced load reads from a pipe of ours");
		return -1;
	}
	if (in < 0 && pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, elen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if (start(pg, c, argv, p[0], -1, err, elen) < 0) {
		if (in < 0) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (in < 0) {
		close(p[0]);
		*to = p[1];
		if (pg->fence[0] && strcmp(argv[0], "psql") == 0 &&
		    restrict_line(pg, p[1]) < 0) {
			/* psql ended already: pg_load_finish() says how. */
			return 0;
		}
	}
	return 0;
}

int
pg_load_start(struct pg *pg, struct child *c, int in, int *to,
    char *guard, char *err, size_t elen)
{
	char *argv[] = { "psql", "-X", "-q", "--no-password", "-v",
		"ON_ERROR_STOP=1", NULL, NULL, NULL, NULL, NULL };

	if (guard != NULL) {
		argv[6] = "-c";
		argv[7] = guard;
		argv[8] = "-f";
		argv[9] = "-";
	}
	return loader_start(pg, c, argv, in, to, err, elen);
}

int
pg_load_finish(struct child *c, int fed, char *errtext, size_t tlen,
    char *err, size_t elen)
{
	int rc;

	if (fed > 0 && c->pid > 0)
		kill(c->pid, SIGTERM);
	rc = spawn_wait(c, err, elen);
	spawn_stderr(c, errtext, tlen);
	spawn_close(c);
	if (rc == 0 && fed > 0) {
		snprintf(err, elen, "cannot feed the dump to psql: %s",
		    strerror(fed));
		return -1;
	}
	return rc;
}

/* Feeds what IN holds to the loader ARGV, as pg_run_fd() says. */
static int
run_fd(struct pg *pg, char *const argv[], int in, uint64_t total,
    char *errtext, size_t tlen, char *err, size_t elen)
{
	char *buf = malloc(RUN_BUF);
	struct fence *f = malloc(sizeof *f);
	/* pg_restore reads its own binary format, and runs no psql
	 * command. */
	int psql = strcmp(argv[0], "psql") == 0, rc;
	struct child c;
	uint64_t done = 0;
	int to, fed = 0;
	ssize_t got;

	if (buf == NULL || f == NULL) {
		free(buf);
		free(f);
		snprintf(err, elen, "out of memory");
		return -1;
	}
	if (loader_start(pg, &c, argv, -1, &to, err, elen) < 0) {
		free(buf);
		free(f);
		return -1;
	}
	fence_begin(f, 1);
	/* We feed psql ourselves, so that a terminal sees how far it is. */
	progress_begin("loading", total);
	while ((got = io_read(in, buf, RUN_BUF)) > 0) {
		/* EPIPE: psql stopped at an error; it says which. */
		if ((psql ? fence_write(f, to, buf, (size_t)got) :
		    io_write_all(to, buf, (size_t)got)) < 0) {
			fed = errno == EPIPE ? -1 : errno;
			break;
		}
		done += (uint64_t)got;
		progress_update(done);
	}
	if (got < 0 && fed == 0)
		fed = errno;
	if (got == 0 && fed == 0 && psql && fence_end(f, to) < 0)
		fed = errno == EPIPE ? -1 : errno;
	close(to);
	free(buf);
	progress_end();
	rc = pg_load_finish(&c, fed, errtext, tlen, err, elen);
	if (f->refused) {
		snprintf(err, elen, "%s", FENCE_REFUSED);
		rc = -1;
	}
	free(f);
	return rc;
}

int
pg_run_fd(struct pg *pg, int in, uint64_t total, char *errtext, size_t tlen,
    char *err, size_t elen)
{
	char *argv[] = { "psql", "-X", "-q", "--no-password", "-v",
		"ON_ERROR_STOP=1", NULL };

	return run_fd(pg, argv, in, total, errtext, tlen, err, elen);
}

int
pg_restore_fd(struct pg *pg, int in, uint64_t total, char *errtext,
    size_t tlen, char *err, size_t elen)
{
	char db[256];
	char *argv[] = { "pg_restore", "--exit-on-error", "--no-password",
		"-d", db, NULL };

	snprintf(db, sizeof db, "%s", pg->database);
	return run_fd(pg, argv, in, total, errtext, tlen, err, elen);
}
