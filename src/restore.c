/* restore.c - from a checked archive back to a running server. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "dotenv.h"
#include "io.h"
#include "lock.h"
#include "log.h"
#include "pg.h"
#include "progress.h"
#include "restore.h"
#include "spawn.h"
#include "unpack.h"

#define STAGE_PREFIX ".polarity-restore-"
#define DB_MARK "polarity restore in progress"
/* Each missing role found by a failed load costs one more load. */
#define MAX_ROLE_RETRIES 32
#define ROLES_MAX (16 * 1024 * 1024)
#define ENV_MAX (1024 * 1024)

/* The dumps, in the order they are loaded. */
static const char *const dump_names[] = { "database/1-pre-data.sql",
	"database/2-data.sql", "database/3-post-data.sql" };

/* The .env keys a restore takes from the archive. */
static const char *const env_keys[] = {
	"POLARITY_DB_HOST", "POLARITY_DB_PORT", "POLARITY_DB_USER",
	"POLARITY_DB_PASSWORD", "POLARITY_DB_DATABASE", "PGSSLMODE", NULL
};

/* The load that runs while the archive is still being checked: see
 * early_start(). */
enum early_state {
	EARLY_OFF,		/* not (or no longer) loading early */
	EARLY_WAIT,		/* waiting for the archive's .env */
	EARLY_LOADING		/* the reader and psql run */
};

struct early {
	enum early_state state;
	int made_db;		/* the new database exists */
	int started;		/* the children run */
	int stopped;		/* and were told to stop */
	uint64_t fed_seen;	/* bytes given to psql, as last seen */
	struct pg loader;
	struct child kids[2];	/* the decompressor and tar */
	struct child psql;
	char err[1024];		/* the error buffer of the steps it runs */
};

struct restore {
	const struct config *cfg;
	const struct restore_opts *o;
	const char *archive;
	char stamp[24];
	char parent[PATH_MAX];		/* holds the integrations folder */
	char stage_name[64];
	char stage_path[PATH_MAX];
	int parent_fd, stage_fd;
	int archive_fd;
	uint64_t dump_bytes;		/* of the three dumps */
	struct unpacked u;
	struct dotenv live_env, arch_env;
	struct db live, arch;
	int have_live_env;
	struct pg pg;			/* the maintenance connection */
	struct pg_session sql;
	char target[64], tmpdb[64], kept[64];
	char qtarget[160], qtmp[160], qkept[160];
	int target_existed;
	char kept_integrations[PATH_MAX];
	char kept_env[PATH_MAX];
	int had_integrations;
	int lock;
	char *err;
	size_t elen;
	FILE *report;
	/* What the steps between the check and the load did, when they ran
	 * during the check: 1 done, -1 failed (with PREP_RES and PREP_ERR),
	 * 0 not yet. */
	int prepared;
	enum restore_result prep_res;
	char prep_err[1024];
	struct early early;
};

static enum restore_result
failf(struct restore *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum restore_result
failf(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, r->elen, fmt, ap);
	va_end(ap);
	return RESTORE_FAILED;
}

/* Checks the archive at PATH (open as FD, unless that is -1) in full,
 * unpacking it below STAGE unless that is -1, with the configured
 * decompressor, showing TAP (or NULL) the files as they stream. */
static int
check_archive(const struct config *c, const char *path, int fd, int stage,
    const struct unpack_tap *tap, struct unpacked *u, char *err, size_t elen)
{
	char zip[PATH_MAX];
	char **envp = spawn_env();
	int rc;

	if (envp == NULL) {
		memset(u, 0, sizeof *u);	/* not the archive's fault */
		snprintf(err, elen, "out of memory");
		return -1;
	}
	config_decompressor(c, envp, zip, sizeof zip);
	if (fd >= 0)
		rc = unpack_fd(fd, path, zip, envp, stage, tap, u, err, elen);
	else
		rc = unpack(path, zip, envp, stage, tap, u, err, elen);
	spawn_env_free(envp);
	return rc;
}

int
restore_verify(const struct config *c, const char *path, struct unpacked *u,
    char *err, size_t elen)
{
	return check_archive(c, path, -1, -1, NULL, u, err, elen);
}

/* Removes the staging folders of runs that died; we hold the lock. */
static void
clean_stale_stages(struct restore *r)
{
	DIR *d = fdopendir(dup(r->parent_fd));
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX))
		    == 0 && unpack_remove(r->parent_fd, de->d_name) == 0)
			log_step("removed '%s/%s' left by an interrupted "
			    "restore", r->parent, de->d_name);
	closedir(d);
}

/* The staging folder: beside the integrations folder, so that moving the
 * unpacked tree into place is a rename on one file system. */
static enum restore_result
open_stage(struct restore *r)
{
	const char *dir = r->cfg->integrations_dir;
	const char *slash = strrchr(dir, '/');
	size_t n = slash && slash != dir ? (size_t)(slash - dir) : 1;

	memcpy(r->parent, dir, n);
	r->parent[n] = '\0';
	r->parent_fd = open(r->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->parent_fd < 0)
		return failf(r, "cannot use '%s' (it holds the integrations "
		    "folder): %s", r->parent, strerror(errno));
	clean_stale_stages(r);
	snprintf(r->stage_path, sizeof r->stage_path, "%s/" STAGE_PREFIX
	    "XXXXXX", r->parent);
	if (mkdtemp(r->stage_path) == NULL) {
		r->stage_path[0] = '\0';
		return failf(r, "cannot make a staging folder in '%s': %s",
		    r->parent, strerror(errno));
	}
	snprintf(r->stage_name, sizeof r->stage_name, "%s",
	    strrchr(r->stage_path, '/') + 1);
	r->stage_fd = open(r->stage_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->stage_fd < 0)
		return failf(r, "cannot open '%s': %s", r->stage_path,
		    strerror(errno));
	return RESTORE_OK;
}

static enum restore_result
read_envs(struct restore *r)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/.env", r->stage_path);
	if (dotenv_read(&r->arch_env, path, r->err, r->elen) < 0 ||
	    config_db(&r->arch, &r->arch_env, "the archive's .env", r->err,
	    r->elen) < 0)
		return RESTORE_BAD_ARCHIVE;
	if (access(r->cfg->env_file, F_OK) < 0 && errno == ENOENT) {
		/* A new server without a .env: the archive's is all. */
		r->live = r->arch;
		return RESTORE_OK;
	}
	r->have_live_env = 1;
	if (dotenv_read(&r->live_env, r->cfg->env_file, r->err, r->elen) < 0 ||
	    config_db(&r->live, &r->live_env, r->cfg->env_file, r->err,
	    r->elen) < 0)
		return RESTORE_FAILED;
	return RESTORE_OK;
}

/* Builds NAME_SUFFIX_STAMP within PostgreSQL's 63 bytes. */
static void
dated(char *out, size_t len, const char *name, const char *suffix,
    const char *stamp)
{
	/* Two underscores join the three parts. */
	int room = 63 - (int)strlen(suffix) - (int)strlen(stamp) - 2;

	snprintf(out, len, "%.*s_%s_%s", room, name, suffix, stamp);
}

static int db_exists(struct restore *r, const char *name, int *exists);

/* Picks the dated names of what the restore makes and keeps: the time of
 * the restore, with "_2", "_3"... when a name is taken (two restores in
 * one second). */
static int
choose_names(struct restore *r)
{
	char base[16], path[PATH_MAX];
	struct stat st;

	snprintf(base, sizeof base, "%s", r->stamp);
	for (int i = 1; i < 100; i++) {
		int taken_tmp = 0, taken_kept = 0;
		if (i > 1)
			snprintf(r->stamp, sizeof r->stamp, "%s_%d", base, i);
		dated(r->tmpdb, sizeof r->tmpdb, r->target, "restoring",
		    r->stamp);
		dated(r->kept, sizeof r->kept, r->target, "before_restore",
		    r->stamp);
		pg_quote_ident(r->tmpdb, r->qtmp, sizeof r->qtmp);
		pg_quote_ident(r->kept, r->qkept, sizeof r->qkept);
		if (db_exists(r, r->tmpdb, &taken_tmp) < 0 ||
		    db_exists(r, r->kept, &taken_kept) < 0)
			return -1;
		if (taken_tmp || taken_kept)
			continue;
		snprintf(path, sizeof path, "%s.before-restore-%s",
		    r->cfg->integrations_dir, r->stamp);
		if (lstat(path, &st) == 0)
			continue;
		snprintf(path, sizeof path, "%s.before-restore-%s",
		    r->cfg->env_file, r->stamp);
		if (lstat(path, &st) == 0)
			continue;
		return 0;
	}
	failf(r, "cannot find a free name to keep the current state under");
	return -1;
}

static enum restore_result
confirm(struct restore *r)
{
	char answer[32];

	fprintf(stderr,
	    "Restore from '%s'\n"
	    "  created %s, PostgreSQL %s, database '%s'\n"
	    "This replaces:\n"
	    "  database '%s' on %s:%s (the current one is kept as '%s')\n"
	    "  integrations in '%s' (kept as '%s.before-restore-%s')\n"
	    "  the database settings in '%s' (kept as '%s.before-restore-%s')\n"
	    "Type 'yes' to go on: ",
	    r->archive, r->u.created, r->u.server_version, r->u.database,
	    r->target, r->live.host, r->live.port, r->kept,
	    r->cfg->integrations_dir, r->cfg->integrations_dir, r->stamp,
	    r->cfg->env_file, r->cfg->env_file, r->stamp);
	fflush(stderr);
	if (fgets(answer, sizeof answer, stdin) == NULL ||
	    strcmp(answer, "yes\n") != 0) {
		snprintf(r->err, r->elen, "restore cancelled; nothing was "
		    "changed");
		return RESTORE_DECLINED;
	}
	return RESTORE_OK;
}

/* Opens the maintenance session: the postgres database, else template1. */
static enum restore_result
connect_admin(struct restore *r)
{
	static const char *const dbs[] = { "postgres", "template1" };

	if (pg_init(&r->pg, r->cfg, &r->live) < 0)
		return failf(r, "out of memory");
	for (size_t i = 0; i < 2; i++) {
		if (pg_set_database(&r->pg, dbs[i]) < 0)
			return failf(r, "out of memory");
		if (pg_session_open(&r->pg, &r->sql, r->err, r->elen) == 0 &&
		    pg_session_query(&r->sql, "SELECT 1;", NULL, 0, r->err,
		    r->elen) == 0)
			return RESTORE_OK;
		if (!strstr(r->err, "does not exist"))
			break;
	}
	return RESTORE_FAILED;
}

/* Sends one statement that must succeed. */
static int
exec(struct restore *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
exec(struct restore *r, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return pg_session_query(&r->sql, sql, NULL, 0, r->err, r->elen);
}

/* Asks a one-value question; the answer goes to OUT. */
static int
ask(struct restore *r, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
ask(struct restore *r, char *out, size_t len, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	return pg_session_query(&r->sql, sql, out, len, r->err, r->elen);
}

static int
role_exists(struct restore *r, const char *role, int *exists)
{
	char lit[512], out[16];

	if (pg_quote_literal(role, lit, sizeof lit) < 0)
		return failf(r, "role name too long"), -1;
	if (ask(r, out, sizeof out, "SELECT count(*) FROM pg_roles WHERE "
	    "rolname = %s;", lit) < 0)
		return -1;
	*exists = pg_number(out) > 0;
	return 0;
}

/* Creates ROLE with the attributes ATTRS (already filtered). */
static int
create_role(struct restore *r, const char *role, const char *attrs)
{
	char q[512];

	if (pg_quote_ident(role, q, sizeof q) < 0)
		return failf(r, "role name too long"), -1;
	if (exec(r, "CREATE ROLE %s%s%s;", q, attrs[0] ? " WITH " : "",
	    attrs) < 0)
		return -1;
	log_step("created role %s", q);
	fprintf(r->report, "Created role %s, which the database needs "
	    "(without a password).\n", q);
	return 0;
}

/* The attributes of an "ALTER ROLE x WITH ...;" line that an archive may
 * give a new role: never SUPERUSER, REPLICATION or BYPASSRLS. */
static void
safe_attrs(const char *with, char *out, size_t len)
{
	static const char *const ok[] = { "LOGIN", "NOLOGIN", "INHERIT",
		"NOINHERIT", "CREATEDB", "NOCREATEDB", "CREATEROLE",
		"NOCREATEROLE", NULL };
	size_t o = 0;

	out[0] = '\0';
	while (*with) {
		size_t n = strcspn(with, " ;");
		for (size_t i = 0; ok[i]; i++)
			if (strlen(ok[i]) == n && strncmp(with, ok[i], n) == 0 &&
			    o + n + 2 < len) {
				o += (size_t)snprintf(out + o, len - o, "%s%s",
				    o ? " " : "", ok[i]);
			}
		with += n;
		while (*with == ' ' || *with == ';')
			with++;
	}
}

/* Reads the whole file NAME of the stage into a new string. */
static char *
stage_read(struct restore *r, const char *name, size_t max)
{
	return io_slurp(r->stage_fd, name, max, 1);
}

/* Creates the roles of the archive that this server lacks, with their
 * memberships; when MISSING is not NULL, only counts them there. */
static enum restore_result
create_roles(struct restore *r, int *missing)
{
	char *text, *line, *save = NULL, role[256], other[256], why[512];
	char **made = NULL;
	size_t nmade = 0;
	enum restore_result res = RESTORE_OK;

	if (missing)
		*missing = 0;
	if (!r->u.has_roles)
		return RESTORE_OK;
	text = stage_read(r, "database/roles.sql", ROLES_MAX);
	if (text == NULL)
		return failf(r, "cannot read the archive's roles: %s",
		    strerror(errno));
	/* First the roles ("CREATE ROLE x;" then "ALTER ROLE x WITH ...;"). */
	for (line = strtok_r(text, "\n", &save); line && res == RESTORE_OK;
	    line = strtok_r(NULL, "\n", &save)) {
		const char *p;
		int exists;
		char attrs[256];
		if (strncmp(line, "ALTER ROLE ", 11) != 0 ||
		    (p = pg_parse_ident(line + 11, role, sizeof role)) == NULL ||
		    strncmp(p, " WITH ", 6) != 0)
			continue;
		if (role_exists(r, role, &exists) < 0) {
			res = RESTORE_FAILED;
			break;
		}
		if (exists)
			continue;
		if (missing) {
			++*missing;
			continue;
		}
		safe_attrs(p + 6, attrs, sizeof attrs);
		if (create_role(r, role, attrs) < 0) {
			res = RESTORE_FAILED;
			break;
		}
		char **v = realloc(made, (nmade + 1) * sizeof *v);
		if (v == NULL || (v[nmade] = strdup(role)) == NULL) {
			made = v ? v : made;
			res = failf(r, "out of memory");
			break;
		}
		made = v;
		nmade++;
	}
	free(text);
	/* Then the memberships that involve a role we made: "GRANT a TO b
	 * ...;".  One that cannot be given is a warning, not a failure. */
	text = res == RESTORE_OK && nmade ? stage_read(r, "database/roles.sql",
	    ROLES_MAX) : NULL;
	save = NULL;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	    line = strtok_r(NULL, "\n", &save)) {
		const char *p;
		char qa[512], qb[512], stmt[1100];
		int mine = 0;
		if (strncmp(line, "GRANT ", 6) != 0 ||
		    (p = pg_parse_ident(line + 6, role, sizeof role)) == NULL ||
		    strncmp(p, " TO ", 4) != 0 ||
		    pg_parse_ident(p + 4, other, sizeof other) == NULL)
			continue;
		for (size_t i = 0; i < nmade; i++)
			mine |= !strcmp(made[i], role) || !strcmp(made[i], other);
		if (!mine || pg_quote_ident(role, qa, sizeof qa) < 0 ||
		    pg_quote_ident(other, qb, sizeof qb) < 0)
			continue;
		snprintf(stmt, sizeof stmt, "GRANT %s TO %s", qa, qb);
		int t = pg_session_try(&r->sql, stmt, why, sizeof why, r->err,
		    r->elen);
		if (t < 0) {
			res = RESTORE_FAILED;
			break;
		}
		if (t > 0)
			log_warn("cannot grant role %s to %s: %s", qa, qb, why);
	}
	free(text);
	for (size_t i = 0; i < nmade; i++)
		free(made[i]);
	free(made);
	return res;
}

static int
db_exists(struct restore *r, const char *name, int *exists)
{
	char lit[160], out[16];

	pg_quote_literal(name, lit, sizeof lit);
	if (ask(r, out, sizeof out, "SELECT count(*) FROM pg_database WHERE "
	    "datname = %s;", lit) < 0)
		return -1;
	*exists = pg_number(out) > 0;
	return 0;
}

/* The encoding of database NAME into OUT ("" when there is no such
 * database). */
static int
db_encoding(struct restore *r, const char *name, char *out, size_t len)
{
	char lit[160];

	pg_quote_literal(name, lit, sizeof lit);
	return ask(r, out, len, "SELECT pg_encoding_to_char(encoding) FROM "
	    "pg_database WHERE datname = %s;", lit);
}

/* Drops databases that a restore which died left half loaded: they carry
 * our mark, and we hold the lock. */
static enum restore_result
drop_stale_databases(struct restore *r)
{
	char name[128], q[300];

	for (int i = 0; i < 16; i++) {
		if (ask(r, name, sizeof name, "SELECT d.datname FROM "
		    "pg_database d JOIN pg_shdescription s ON s.objoid = d.oid "
		    "AND s.classoid = 'pg_database'::regclass WHERE "
		    "s.description = '" DB_MARK "' LIMIT 1;") < 0)
			return RESTORE_FAILED;
		if (name[0] == '\0')
			return RESTORE_OK;
		pg_quote_ident(name, q, sizeof q);
		if (exec(r, "DROP DATABASE %s;", q) < 0)
			return RESTORE_FAILED;
		log_step("dropped database %s left by an interrupted restore",
		    q);
	}
	return RESTORE_OK;
}

/* Makes the empty database the load goes into, in ENCODING unless that is
 * "". */
static int
create_tmpdb(struct restore *r, const char *encoding)
{
	char owner[300] = "", enc[100] = "", q[300], lit[100];
	int exists = 0;

	if (role_exists(r, r->arch.user, &exists) < 0)
		return -1;
	if (exists && pg_quote_ident(r->arch.user, q, sizeof q) == 0)
		snprintf(owner, sizeof owner, " OWNER %s", q);
	if (encoding[0] && pg_quote_literal(encoding, lit, sizeof lit) == 0)
		snprintf(enc, sizeof enc, " ENCODING %s", lit);
	if (exec(r, "CREATE DATABASE %s TEMPLATE template0%s%s;", r->qtmp,
	    enc, owner) < 0)
		return -1;
	return exec(r, "COMMENT ON DATABASE %s IS '" DB_MARK "';", r->qtmp);
}

static void
drop_tmpdb(struct restore *r)
{
	char err[512] = "", lit[160], sql[600];

	/* A load we stopped may still be at work in it (building an index
	 * does not notice that psql went away). */
	pg_quote_literal(r->tmpdb, lit, sizeof lit);
	snprintf(sql, sizeof sql, "SELECT count(pg_terminate_backend(pid)) "
	    "FROM pg_stat_activity WHERE datname = %s AND pid <> "
	    "pg_backend_pid();", lit);
	/* The session may be the thing that failed: then use a fresh one.
	 * ERR stays ours: the caller's holds the failure that brought us. */
	for (int tries = 0; tries < 2; tries++) {
		char out[32];
		if (r->sql.c.pid > 0 && pg_session_query(&r->sql, sql, out,
		    sizeof out, err, sizeof err) == 0) {
			snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s;",
			    r->qtmp);
			if (pg_session_query(&r->sql, sql, NULL, 0, err,
			    sizeof err) == 0)
				return;
			break;
		}
		pg_session_close(&r->sql, err, sizeof err);
		if (pg_session_open(&r->pg, &r->sql, err, sizeof err) < 0)
			break;
	}
	log_warn("cannot drop database %s: %s; drop it by hand", r->qtmp,
	    err);
}

/* Starts the reader of the dumps: the decompressor on the archive open
 * as IN (from where it stands), then tar writing the three dumps, in
 * their order, to OUT.  Returns 0, or -1 with the error in R. */
static int
start_reader(struct restore *r, struct child kids[2], int in, int out)
{
	char zip[PATH_MAX], words[PATH_MAX], names[3][PATH_MAX], *zipv[40];
	char *tarv[] = { "tar", "--no-wildcards", "-xOf", "-", names[0],
		names[1], names[2], NULL };
	char *const *argvs[] = { zipv, tarv };
	char **envp = spawn_env();
	int n, rc = -1;

	if (envp == NULL)
		return failf(r, "out of memory"), -1;
	config_decompressor(r->cfg, envp, zip, sizeof zip);
	n = config_split(zip, zipv, 38, words, sizeof words);
	if (n <= 0) {
		failf(r, "the compressor '%s' is not a command line", zip);
		goto out;
	}
	zipv[n++] = "-dc";
	zipv[n] = NULL;
	for (int i = 0; i < 3; i++)
		snprintf(names[i], sizeof names[i], "%s/%s", r->u.top,
		    dump_names[i]);
	if (spawn_pipeline(kids, 2, argvs, in, out, envp) < 0)
		failf(r, "cannot run '%s' and tar: %s", zipv[0],
		    strerror(errno));
	else
		rc = 0;
out:
	spawn_env_free(envp);
	return rc;
}

/* Waits for the reader started by start_reader(), stopping it first when
 * STOP.  Returns 0 when both ended well, else -1 with WHY saying how. */
static int
end_reader(struct child kids[2], int stop, char *why, size_t len)
{
	int rc;

	for (int i = 0; stop && i < 2; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	rc = spawn_wait_all(kids, 2, why, len);
	for (int i = 0; i < 2; i++)
		spawn_close(&kids[i]);
	return rc;
}

/* Loads the dumps once, straight from the checked archive (they are not
 * unpacked: a restore needs no room for them). */
static int
load_once(struct restore *r, struct pg *loader, char *errtext, size_t tlen)
{
	struct child kids[2];
	char why[1024];
	int p[2], rc, zrc;

	if (lseek(r->archive_fd, 0, SEEK_SET) < 0)
		return failf(r, "cannot read '%s' again: %s", r->archive,
		    strerror(errno)), -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return failf(r, "cannot make a pipe: %s", strerror(errno)), -1;
	if (start_reader(r, kids, r->archive_fd, p[1]) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	rc = pg_run_fd(loader, p[0], r->dump_bytes, errtext, tlen, r->err,
	    r->elen);
	close(p[0]);
	zrc = end_reader(kids, rc < 0, why, sizeof why);
	if (rc == 0 && zrc < 0) {
		failf(r, "cannot read the dumps from '%s': %s", r->archive,
		    why);
		rc = -1;
	}
	return rc;
}

/* Loads the dumps into the new database; a missing role is created and
 * the load made again from an empty database. */
static enum restore_result
load(struct restore *r)
{
	char errtext[8192], role[256];
	struct pg loader;
	enum restore_result res = RESTORE_FAILED;

	if (pg_init(&loader, r->cfg, &r->live) < 0 ||
	    pg_set_database(&loader, r->tmpdb) < 0) {
		pg_free(&loader);
		return failf(r, "out of memory");
	}
	for (int attempt = 0; attempt <= MAX_ROLE_RETRIES; attempt++) {
		/* A signal that came between two steps stops the next. */
		if (io_stop_signal || create_tmpdb(r, r->u.encoding) < 0)
			break;
		log_step("loading the database into %s", r->qtmp);
		errtext[0] = '\0';
		if (load_once(r, &loader, errtext, sizeof errtext) == 0) {
			res = RESTORE_OK;
			break;
		}
		drop_tmpdb(r);
		if (io_stop_signal || !pg_missing_role(errtext, role,
		    sizeof role) || attempt == MAX_ROLE_RETRIES)
			break;
		/* The fallback the Polarity documentation describes, done
		 * for the operator: create the role, load again. */
		log_step("role \"%s\" does not exist here: creating it and "
		    "loading again", role);
		if (create_role(r, role, "") < 0)
			break;
	}
	pg_free(&loader);
	return res;
}

/* The point of no return, done so that it can be undone: swap the names
 * of the databases in one transaction. */
static enum restore_result
swap_databases(struct restore *r)
{
	char lit[160], why[512];

	if (!r->target_existed)
		return exec(r, "ALTER DATABASE %s RENAME TO %s;", r->qtmp,
		    r->qtarget) < 0 ? RESTORE_FAILED : RESTORE_OK;
	pg_quote_literal(r->target, lit, sizeof lit);
	for (int tries = 0; tries < 10; tries++) {
		/* Keep the applications out while the names change; they
		 * reconnect to the restored database afterwards. */
		char stmt[400];
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s "
		    "ALLOW_CONNECTIONS false", r->qtarget);
		if (pg_session_try(&r->sql, stmt, why, sizeof why, r->err,
		    r->elen) < 0)
			return RESTORE_FAILED;
		if (ask(r, why, sizeof why, "SELECT count(pg_terminate_backend("
		    "pid)) FROM pg_stat_activity WHERE datname = %s AND pid <> "
		    "pg_backend_pid();", lit) < 0)
			return RESTORE_FAILED;
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s RENAME TO %s",
		    r->qtarget, r->qkept);
		char both[900];
		snprintf(both, sizeof both, "%s; ALTER DATABASE %s RENAME TO %s",
		    stmt, r->qtmp, r->qtarget);
		/* Both renames or neither. */
		int t = pg_session_try(&r->sql, both, why, sizeof why, r->err,
		    r->elen);
		if (t < 0)
			return RESTORE_FAILED;
		if (t == 0) {
			snprintf(stmt, sizeof stmt, "ALTER DATABASE %s "
			    "ALLOW_CONNECTIONS true", r->qkept);
			(void)pg_session_try(&r->sql, stmt, why, sizeof why,
			    r->err, r->elen);
			return RESTORE_OK;
		}
		if (!strstr(why, "being accessed by other users"))
			break;
		usleep(200 * 1000);
	}
	{
		char stmt[400], ignored[512];
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s "
		    "ALLOW_CONNECTIONS true", r->qtarget);
		(void)pg_session_try(&r->sql, stmt, ignored, sizeof ignored,
		    r->err, r->elen);
	}
	return failf(r, "cannot put the restored database in place of %s: "
	    "%s", r->qtarget, why);
}

/* Undoes swap_databases(). */
static void
unswap_databases(struct restore *r)
{
	char why[512], stmt[900], lit[160];

	pg_quote_literal(r->target, lit, sizeof lit);
	if (ask(r, why, sizeof why, "SELECT count(pg_terminate_backend(pid)) "
	    "FROM pg_stat_activity WHERE datname = %s AND pid <> "
	    "pg_backend_pid();", lit) < 0)
		goto fail;
	if (r->target_existed)
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s RENAME TO %s; "
		    "ALTER DATABASE %s RENAME TO %s", r->qtarget, r->qtmp,
		    r->qkept, r->qtarget);
	else
		snprintf(stmt, sizeof stmt, "ALTER DATABASE %s RENAME TO %s",
		    r->qtarget, r->qtmp);
	if (pg_session_try(&r->sql, stmt, why, sizeof why, r->err, r->elen)
	    != 0)
		goto fail;
	drop_tmpdb(r);
	return;
fail:
	log_error("could not put database %s back: rename %s to %s by hand",
	    r->qtarget, r->qkept, r->qtarget);
}

/* Moves the unpacked integrations into place, the current ones aside. */
static enum restore_result
swap_integrations(struct restore *r)
{
	const char *live = r->cfg->integrations_dir;
	char staged[PATH_MAX];
	struct stat st;

	snprintf(staged, sizeof staged, "%s/integrations", r->stage_path);
	snprintf(r->kept_integrations, sizeof r->kept_integrations,
	    "%s.before-restore-%s", live, r->stamp);
	if (lstat(live, &st) < 0) {
		if (errno != ENOENT)
			return failf(r, "cannot use '%s': %s", live,
			    strerror(errno));
		if (rename(staged, live) < 0)
			return failf(r, "cannot move the integrations to '%s': "
			    "%s", live, strerror(errno));
		r->had_integrations = 0;
		r->kept_integrations[0] = '\0';
		return RESTORE_OK;
	}
	/* One atomic exchange: at every instant a whole tree is there. */
	if (renameat2(AT_FDCWD, staged, AT_FDCWD, live, RENAME_EXCHANGE) < 0)
		return failf(r, "cannot swap the integrations into '%s': %s",
		    live, strerror(errno));
	if (rename(staged, r->kept_integrations) < 0) {
		int e = errno;
		renameat2(AT_FDCWD, staged, AT_FDCWD, live, RENAME_EXCHANGE);
		return failf(r, "cannot keep the current integrations as "
		    "'%s': %s", r->kept_integrations, strerror(e));
	}
	r->had_integrations = 1;
	io_fsync_dir(r->parent);
	return RESTORE_OK;
}

static void
unswap_integrations(struct restore *r)
{
	const char *live = r->cfg->integrations_dir;
	char staged[PATH_MAX];

	snprintf(staged, sizeof staged, "%s/integrations", r->stage_path);
	if (rename(live, staged) < 0 || (r->had_integrations &&
	    rename(r->kept_integrations, live) < 0))
		log_error("could not put the integrations back: move '%s' to "
		    "'%s' by hand", r->kept_integrations, live);
}

/* Writes the archive's database settings into the live .env. */
static enum restore_result
rewrite_env(struct restore *r)
{
	char *arch, *live = NULL, *out = NULL;
	size_t outlen = 0;
	int rc;

	arch = stage_read(r, ".env", ENV_MAX);
	if (arch == NULL)
		return failf(r, "cannot read the archive's .env: %s",
		    strerror(errno));
	if (!r->have_live_env) {
		r->kept_env[0] = '\0';
		rc = dotenv_replace(r->cfg->env_file, arch, strlen(arch), NULL,
		    r->err, r->elen);
		free(arch);
		return rc < 0 ? RESTORE_FAILED : RESTORE_OK;
	}
	live = io_slurp(AT_FDCWD, r->cfg->env_file, ENV_MAX, 0);
	if (live == NULL) {
		free(arch);
		return failf(r, "cannot read '%s': %s", r->cfg->env_file,
		    strerror(errno));
	}
	snprintf(r->kept_env, sizeof r->kept_env, "%s.before-restore-%s",
	    r->cfg->env_file, r->stamp);
	rc = dotenv_merge(live, strlen(live), arch, strlen(arch), env_keys,
	    &out, &outlen);
	if (rc == 0)
		rc = dotenv_replace(r->cfg->env_file, out, outlen, r->kept_env,
		    r->err, r->elen);
	else
		failf(r, "out of memory");
	free(arch);
	free(live);
	free(out);
	return rc < 0 ? RESTORE_FAILED : RESTORE_OK;
}

/* Swaps everything in, or nothing.  Signals wait until it is done. */
static enum restore_result
commit(struct restore *r)
{
	sigset_t block, old;
	enum restore_result res;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	log_step("putting the restored database, integrations and settings "
	    "in place");
	res = swap_databases(r);
	if (res == RESTORE_OK) {
		res = swap_integrations(r);
		if (res == RESTORE_OK) {
			res = rewrite_env(r);
			if (res != RESTORE_OK)
				unswap_integrations(r);
		}
		if (res != RESTORE_OK)
			unswap_databases(r);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return res;
}

/* Tries the restored settings, as the containers will. */
static void
check_connection(struct restore *r)
{
	struct pg pg;
	struct pg_session s;
	char err[1024];

	if (pg_init(&pg, r->cfg, &r->arch) < 0)
		return;
	if (pg_session_open(&pg, &s, err, sizeof err) == 0 &&
	    pg_session_query(&s, "SELECT 1;", NULL, 0, err, sizeof err) == 0) {
		pg_session_close(&s, err, sizeof err);
		pg_free(&pg);
		return;
	}
	pg_free(&pg);
	log_warn("THE RESTORED SETTINGS DO NOT CONNECT: %s", err);
	fprintf(r->report, "WARNING: with the restored .env settings the "
	    "database does not accept a connection:\n  %s\nFix the role or "
	    "its password before starting Polarity, e.g.\n  ALTER ROLE \"%s\" "
	    "WITH LOGIN PASSWORD '...';\n", err, r->arch.user);
}

/* Runs ./down.sh then ./up.sh in the app folder. */
static int
restart(struct restore *r)
{
	extern char **environ;
	static const char *const scripts[] = { "./down.sh", "./up.sh" };

	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX], msg[1024];
		char *argv[] = { path, NULL };
		struct child c;
		snprintf(path, sizeof path, "%s/%s", r->cfg->app_dir,
		    scripts[i] + 2);
		log_step("running %s in '%s'", scripts[i], r->cfg->app_dir);
		/* The operator's own scripts: they get our environment, and
		 * their output goes to our standard error. */
		if (spawn_start_in(&c, argv, -1, 2, environ, r->cfg->app_dir)
		    < 0) {
			failf(r, "cannot run '%s': %s", path, strerror(errno));
			return -1;
		}
		if (spawn_wait(&c, msg, sizeof msg) < 0) {
			spawn_close(&c);
			failf(r, "%s", msg);
			return -1;
		}
		spawn_close(&c);
	}
	return 0;
}

/* What must be known and open before the load: the settings, the
 * maintenance session, the names.  Run once, during the check or after
 * it. */
static enum restore_result
prepare(struct restore *r)
{
	enum restore_result res;

	if ((res = read_envs(r)) != RESTORE_OK)
		return res;
	if (strlen(r->arch.database) > 63 ||
	    pg_quote_ident(r->arch.database, r->qtarget, sizeof r->qtarget) < 0)
		return failf(r, "the archive's database name is too long"),
		    RESTORE_BAD_ARCHIVE;
	snprintf(r->target, sizeof r->target, "%s", r->arch.database);
	log_step("connecting to %s:%s as '%s'", r->live.host, r->live.port,
	    r->live.user);
	if (connect_admin(r) != RESTORE_OK ||
	    drop_stale_databases(r) != RESTORE_OK ||
	    db_exists(r, r->target, &r->target_existed) < 0 ||
	    choose_names(r) < 0)
		return RESTORE_FAILED;
	return RESTORE_OK;
}

/* Loading early.
 *
 * A load takes far longer than the check.  So when the operator has
 * already said yes (--yes), the load starts as soon as the archive's .env
 * has been read: a second reader of the archive (the decompressor, then
 * tar extracting the three dumps to its standard output) feeds psql,
 * which loads into the new database under its marked temporary name,
 * while the check goes on unhindered.  That database is the only thing
 * made before the check ends, and it is dropped unless the check passes
 * and the load went through; a run that dies leaves it marked, for the
 * next restore to drop.  The second reader opens the very file the check
 * reads, through the check's own descriptor.  Anything amiss (a role to
 * create, psql failing, an encoding other than the manifest's) drops what
 * the early load made, and the restore loads after the check, from the
 * archive, as it would have without it. */

/* Stops the early load for a reason worth a line of detail. */
static void
early_stop(struct restore *r, const char *why)
{
	struct early *e = &r->early;

	if (e->state != EARLY_OFF && why)
		log_detail("loading after the check: %s", why);
	e->state = EARLY_OFF;
	if (e->started && !e->stopped) {
		for (int i = 0; i < 2; i++)
			if (e->kids[i].pid > 0)
				kill(e->kids[i].pid, SIGTERM);
		if (e->psql.pid > 0)
			kill(e->psql.pid, SIGTERM);
		e->stopped = 1;
	}
}

/* Starts the second reader and psql into a new database made with the
 * encoding of the database it replaces (the manifest's, known only at
 * the end, must then agree). */
static void
early_start(struct restore *r)
{
	struct early *e = &r->early;
	char src[64], enc[64] = "";
	int in = -1, p[2] = { -1, -1 };

	if (r->target_existed && db_encoding(r, r->target, enc,
	    sizeof enc) < 0) {
		early_stop(r, r->err);
		return;
	}
	if (create_tmpdb(r, enc) < 0) {
		e->made_db = 1;		/* it may exist without its mark */
		early_stop(r, r->err);
		return;
	}
	e->made_db = 1;
	/* A description of its own (the check's offset is the check's),
	 * of the file the check reads. */
	snprintf(src, sizeof src, "/proc/self/fd/%d", r->archive_fd);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0) {
		early_stop(r, "cannot open the archive a second time");
		goto out;
	}
	if (start_reader(r, e->kids, in, p[1]) < 0) {
		early_stop(r, r->err);
		goto out;
	}
	close(p[1]);
	p[1] = -1;
	if (pg_init(&e->loader, r->cfg, &r->live) < 0 ||
	    pg_set_database(&e->loader, r->tmpdb) < 0 ||
	    pg_load_start(&e->loader, &e->psql, p[0], NULL, r->err,
	    r->elen) < 0) {
		char ignored[256];
		end_reader(e->kids, 1, ignored, sizeof ignored);
		early_stop(r, r->err);
		goto out;
	}
	e->started = 1;
	e->state = EARLY_LOADING;
	log_step("loading the database into %s while the archive is "
	    "checked", r->qtmp);
out:
	if (in >= 0)
		close(in);
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* The dumps are checked but not unpacked: they load from the archive. */
static int
skip_dumps(void *arg, const char *name, uint64_t size)
{
	struct restore *r = arg;

	for (int i = 0; i < 3; i++)
		if (strcmp(name, dump_names[i]) == 0) {
			r->dump_bytes += size;
			return 1;
		}
	return 0;
}

/* The check's tap: once the .env is unpacked, the steps before the load
 * and the early load itself; once the roles are, whether any is missing.
 * The steps write their errors to the early load's own buffer, never to
 * the one the check reports in. */
static void
early_end(void *arg, const char *name)
{
	struct restore *r = arg;
	struct early *e = &r->early;
	char *saved = r->err;
	size_t saved_len = r->elen;
	int missing = 0;

	if (e->state == EARLY_OFF)
		return;
	r->err = e->err;
	r->elen = sizeof e->err;
	if (strcmp(name, ".env") == 0 && e->state == EARLY_WAIT) {
		r->prep_res = prepare(r);
		r->prepared = r->prep_res == RESTORE_OK ? 1 : -1;
		if (r->prepared > 0) {
			early_start(r);
		} else {
			snprintf(r->prep_err, sizeof r->prep_err, "%s", r->err);
			early_stop(r, NULL);
		}
	} else if (strcmp(name, "database/roles.sql") == 0) {
		if (create_roles(r, &missing) != RESTORE_OK)
			early_stop(r, r->err);
		else if (missing > 0)
			early_stop(r, "roles to create first");
	}
	r->err = saved;
	r->elen = saved_len;
}

/* How much of the dumps the early reader has given psql: what tar wrote,
 * as the kernel counts it; all of it once tar is gone. */
static uint64_t
early_fed(struct restore *r)
{
	char path[64], line[128], *end;
	unsigned long long n;
	uint64_t fed = r->dump_bytes;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/io", (int)r->early.kids[1].pid);
	f = fopen(path, "re");
	if (f == NULL)
		return fed;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "wchar: ", 7) != 0)
			continue;
		errno = 0;
		n = strtoull(line + 7, &end, 10);
		if (errno == 0 && end != line + 7 && n < fed)
			fed = n;
	}
	fclose(f);
	/* Never backwards (an ended tar may show no counts). */
	if (fed < r->early.fed_seen)
		fed = r->early.fed_seen;
	r->early.fed_seen = fed;
	return fed;
}

/* Waits for the early load to end, with its progress on a terminal. */
static void
early_wait(struct restore *r)
{
	struct early *e = &r->early;

	log_step("finishing the load into %s", r->qtmp);
	progress_begin("loading", r->dump_bytes);
	while (!spawn_poll(&e->psql) && !io_stop_signal) {
		progress_update(early_fed(r));
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 },
		    NULL);
	}
	progress_end();
}

/* After the check, which passed when CHECKED: keeps what the early load
 * made when it went through, else undoes it.  Returns 1 when the new
 * database is loaded, 0 when the load is still to be made. */
static int
early_settle(struct restore *r, int checked)
{
	struct early *e = &r->early;
	char errtext[8192], why[1024], zipwhy[1024], enc[64] = "";
	int ok = 0, zrc, prc;

	if (e->started) {
		if (!checked)
			early_stop(r, NULL);
		else if (!e->stopped)
			early_wait(r);
		/* A stopped reader was sent its signal by early_stop(). */
		zrc = end_reader(e->kids, 0, zipwhy, sizeof zipwhy);
		prc = pg_load_finish(&e->psql, e->stopped ? ECANCELED : 0,
		    errtext, sizeof errtext, why, sizeof why);
		ok = checked && !e->stopped && zrc == 0 && prc == 0;
		if (checked && !e->stopped && !ok)
			log_detail("loading after the check: the early load "
			    "failed: %s", prc < 0 ? why : zipwhy);
		e->started = 0;
	}
	/* The database must have the encoding the manifest names. */
	if (ok && r->u.encoding[0] && (db_encoding(r, r->tmpdb, enc,
	    sizeof enc) < 0 || strcmp(enc, r->u.encoding) != 0)) {
		log_detail("loading after the check: the archive's encoding "
		    "is %s", r->u.encoding);
		ok = 0;
	}
	if (!ok && e->made_db)
		drop_tmpdb(r);
	e->made_db = 0;
	e->state = EARLY_OFF;
	pg_free(&e->loader);
	return ok;
}

static void
teardown(struct restore *r)
{
	char ignored[512];

	pg_session_close(&r->sql, ignored, sizeof ignored);
	pg_free(&r->pg);
	if (r->stage_fd >= 0)
		close(r->stage_fd);
	if (r->stage_name[0] && r->parent_fd >= 0 &&
	    unpack_remove(r->parent_fd, r->stage_name) < 0)
		log_warn("cannot remove '%s': %s", r->stage_path,
		    strerror(errno));
	if (r->parent_fd >= 0)
		close(r->parent_fd);
	if (r->archive_fd >= 0)
		close(r->archive_fd);
	dotenv_free(&r->live_env);
	dotenv_free(&r->arch_env);
	if (r->lock >= 0)
		close(r->lock);
}

enum restore_result
restore_run(const struct config *c, const char *path,
    const struct restore_opts *o, char *report, size_t rlen, char *err,
    size_t elen)
{
	struct restore r = { .cfg = c, .o = o, .archive = path,
		.parent_fd = -1, .stage_fd = -1, .lock = -1, .err = err,
		.archive_fd = -1, .elen = elen };
	struct unpack_tap tap = { skip_dumps, early_end, &r };
	enum restore_result res;
	int rc, loaded;
	char *rep = NULL;
	size_t replen = 0;
	time_t now = time(NULL);
	struct tm tm;

	err[0] = report[0] = '\0';
	r.sql.to = r.sql.from = -1;
	localtime_r(&now, &tm);
	strftime(r.stamp, sizeof r.stamp, "%Y%m%d%H%M%S", &tm);
	if (!o->yes && !isatty(STDIN_FILENO)) {
		snprintf(err, elen, "restore replaces the database, the "
		    "integrations and the .env settings: give --yes when not "
		    "at a terminal");
		return RESTORE_DECLINED;
	}
	r.report = open_memstream(&rep, &replen);
	if (r.report == NULL)
		return failf(&r, "out of memory");
	if (backup_dir_ensure(c->backup_dir, err, elen) < 0) {
		res = RESTORE_FAILED;
		goto out;
	}
	r.lock = lock_take(c->backup_dir, "restore", err, elen);
	if (r.lock < 0) {
		res = errno == EWOULDBLOCK ? RESTORE_BUSY : RESTORE_FAILED;
		goto out;
	}
	if ((res = open_stage(&r)) != RESTORE_OK)
		goto out;
	r.archive_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r.archive_fd < 0) {
		res = failf(&r, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	/* Without a question to ask, the load starts during the check. */
	if (o->yes)
		r.early.state = EARLY_WAIT;
	log_step("checking and unpacking '%s'", path);
	rc = check_archive(c, path, r.archive_fd, r.stage_fd, &tap, &r.u, err,
	    elen);
	if (rc == 0)
		log_step("archive checked: %lu files, %lu folders, %lu links, "
		    "database '%s' from %s", r.u.files, r.u.dirs, r.u.links,
		    r.u.database, r.u.created);
	loaded = early_settle(&r, rc == 0 && !io_stop_signal);
	if (rc == 0 && io_stop_signal) {
		res = RESTORE_INTERRUPTED;
		goto out;
	}
	if (rc < 0) {
		res = io_stop_signal ? RESTORE_INTERRUPTED : r.u.damaged ?
		    RESTORE_BAD_ARCHIVE : RESTORE_FAILED;
		goto out;
	}
	if (r.prepared == 0 && (res = prepare(&r)) != RESTORE_OK)
		goto out;
	if (r.prepared < 0) {
		snprintf(err, elen, "%s", r.prep_err);
		res = r.prep_res;
		goto out;
	}
	if (!o->yes && (res = confirm(&r)) != RESTORE_OK)
		goto out;
	res = RESTORE_FAILED;
	if (!loaded && (create_roles(&r, NULL) != RESTORE_OK ||
	    load(&r) != RESTORE_OK))
		goto out;
	if (io_stop_signal)
		goto out;
	if ((res = commit(&r)) != RESTORE_OK)
		goto out;
	(void)exec(&r, "COMMENT ON DATABASE %s IS NULL;", r.qtarget);
	log_step("restore complete");
	check_connection(&r);
	if (r.target_existed)
		fprintf(r.report, "The previous database is kept as %s; drop "
		    "it when no longer needed:\n  psql -d postgres -c 'DROP "
		    "DATABASE %s'\n", r.qkept, r.qkept);
	if (r.had_integrations)
		fprintf(r.report, "The previous integrations are kept in "
		    "'%s'; remove them with:\n  rm -rf '%s'\n",
		    r.kept_integrations, r.kept_integrations);
	if (r.kept_env[0])
		fprintf(r.report, "The previous settings are kept in '%s'.\n",
		    r.kept_env);
	if (o->restart) {
		if (restart(&r) < 0) {
			fprintf(r.report, "Restart the Polarity containers by "
			    "hand:\n  cd %s && ./down.sh && ./up.sh\n",
			    c->app_dir);
			res = RESTORE_RESTART_FAILED;
			goto out;
		}
		fprintf(r.report, "The Polarity containers were restarted.\n");
	} else {
		fprintf(r.report, "Now restart the Polarity containers:\n"
		    "  cd %s && ./down.sh && ./up.sh\n", c->app_dir);
	}
	res = RESTORE_OK;
out:
	if (res == RESTORE_FAILED && io_stop_signal)
		res = RESTORE_INTERRUPTED;
	teardown(&r);
	fclose(r.report);
	snprintf(report, rlen, "%s", rep ? rep : "");
	free(rep);
	return res;
}
