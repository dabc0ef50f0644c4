/* doctor.c - the checks of "polarity doctor", and a backup's own. */
#include "autoconf.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "docker.h"
#include "doctor.h"
#include "dotenv.h"
#include "io.h"
#include "log.h"
#include "pg.h"
#include "spawn.h"
#include "status.h"

/* A backup older than this is late: it runs nightly. */
#define LATE_SECONDS (26 * 3600)

static struct doctor_check *
add(struct doctor *d, const char *name, enum doctor_state state,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct doctor_check *
add(struct doctor *d, const char *name, enum doctor_state state,
    const char *fmt, ...)
{
	struct doctor_check *k;
	va_list ap;

	if (d->n == DOCTOR_MAX)
		return NULL;
	k = &d->v[d->n++];
	k->name = name;
	k->state = state;
	va_start(ap, fmt);
	vsnprintf(k->text, sizeof k->text, fmt, ap);
	va_end(ap);
	return k;
}

/* BYTES for people: "812 B", "45.6 MB", "1.2 GB". */
static void
human(double bytes, char *out, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	size_t u = 0;

	while (bytes >= 1000 && u + 1 < sizeof unit / sizeof *unit) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

/* T in local time with its offset, so that a reader in another zone
 * knows the moment. */
static void
when(time_t t, char *out, size_t len)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/* The .env and its database keys.  Returns 0 when DB is usable. */
static int
check_env(const struct config *c, struct doctor *d, struct dotenv *env,
    struct db *db)
{
	char err[1024], set[512] = "";
	size_t o = 0;

	if (dotenv_read(env, c->env_file, err, sizeof err) < 0) {
		add(d, "env", DOCTOR_FAIL, "%s; give the right file with "
		    "--env-file", err);
		return -1;
	}
	for (size_t i = 0; config_db_keys[i]; i++)
		if (dotenv_get(env, config_db_keys[i]) != NULL && o < sizeof set)
			o += (size_t)snprintf(set + o, sizeof set - o, "%s%s",
			    o ? ", " : "", config_db_keys[i]);
	if (config_db(db, env, c->env_file, err, sizeof err) < 0) {
		add(d, "env", DOCTOR_FAIL, "%s (it sets %s)", err,
		    o ? set : "none of them");
		return -1;
	}
	add(d, "env", DOCTOR_OK, "'%s' sets %s", c->env_file, set);
	return 0;
}

/* The client, the server and the role.  Returns 0 when a backup could
 * connect and dump. */
static int
check_database(const struct config *c, struct doctor *d,
    const struct db *settings)
{
	char container[256], why[512], err[1024], client[64], server[64];
	char rclient[64];
	const char *install;
	char num[32], rights[32], where[300] = "";
	struct db here = *settings, *db = &here;
	struct pg pg;
	struct pg_session s;
	int dump_num, server_num, restore_num = 0, rc = -1;
	int super = 0, createdb = 0, createrole = 0;

	if (docker_locate(c, db, container, sizeof container, why, sizeof why,
	    err, sizeof err) < 0) {
		add(d, "database", DOCTOR_FAIL, "%s", err);
		return -1;
	}
	add(d, "database", DOCTOR_OK, "reached with %s", why);
	db->container = container[0] ? container : NULL;
	if (db->container)
		snprintf(where, sizeof where, " in container '%s'", container);
	/* What to do about a client that is missing or too old. */
	install = db->container ? "give --db-container none and install a "
	    "PostgreSQL client here" : "install postgresql-client, or give "
	    "--pg-bindir";
	if (pg_init(&pg, c, db) < 0) {
		add(d, "client", DOCTOR_FAIL, "out of memory");
		return -1;
	}
	if (pg_client_version(&pg, "pg_dump", &dump_num, client,
	    sizeof client, err, sizeof err) < 0) {
		add(d, "client", DOCTOR_FAIL, "%s; %s", err, install);
		goto out;
	}
	/* A backup writes the schema's sections with pg_restore, from the
	 * custom-format dump of pg_dump beside it: as new as that. */
	if (pg_client_version(&pg, "pg_restore", &restore_num, rclient,
	    sizeof rclient, err, sizeof err) < 0 ||
	    restore_num / 10000 < dump_num / 10000) {
		if (restore_num > 0)
			snprintf(err, sizeof err, "pg_restore %s%s is older "
			    "than pg_dump %s", rclient, where, client);
		add(d, "client", DOCTOR_FAIL, "%s; a backup needs the "
		    "pg_restore of pg_dump's own version: %s", err, install);
		goto out;
	}
	add(d, "client", DOCTOR_OK, "pg_dump %s%s, with pg_restore %s", client,
	    where, rclient);
	if (pg_session_open(&pg, &s, err, sizeof err) < 0 ||
	    pg_session_query(&s, "SHOW server_version_num;", num, sizeof num,
	    err, sizeof err) < 0 ||
	    pg_session_query(&s, "SHOW server_version;", server,
	    sizeof server, err, sizeof err) < 0) {
		add(d, "server", DOCTOR_FAIL, "%s; check the POLARITY_DB_ "
		    "settings in '%s'", err, c->env_file);
		goto out;
	}
	server[strcspn(server, " ")] = '\0';
	server_num = (int)pg_number(num);
	if (server_num <= 0 || !pg_dump_can_dump(dump_num, server_num)) {
		add(d, "server", DOCTOR_FAIL, "PostgreSQL %s is newer than "
		    "pg_dump %s%s: install postgresql-client-%d, or give "
		    "--pg-bindir", server, client, where, server_num / 10000);
		pg_session_close(&s, err, sizeof err);
		goto out;
	}
	add(d, "server", DOCTOR_OK, "PostgreSQL %s at %s:%s accepts '%s' on "
	    "database '%s'", server, db->host, db->port, db->user,
	    db->database);
	rc = 0;
	/* Three digits, 0 or 1: superuser, createdb, createrole. */
	if (pg_session_query(&s, "SELECT rolsuper::int::text || "
	    "rolcreatedb::int::text || rolcreaterole::int::text FROM "
	    "pg_roles WHERE rolname = current_user;", rights, sizeof rights,
	    err, sizeof err) < 0 || strlen(rights) != 3 ||
	    strspn(rights, "01") != 3)
		add(d, "privileges", DOCTOR_SKIP, "cannot read the role's "
		    "rights: %s", err);
	else {
		super = rights[0] == '1';
		createdb = rights[1] == '1';
		createrole = rights[2] == '1';
		if (super || (createdb && createrole))
			add(d, "privileges", DOCTOR_OK, "'%s' may create "
			    "databases and roles%s", db->user, super ?
			    " (superuser)" : "");
		else
			add(d, "privileges", DOCTOR_WARN, "'%s' may not create "
			    "%s: a backup works, a restore with these settings "
			    "does not; ALTER ROLE \"%s\" CREATEDB CREATEROLE",
			    db->user, createdb ? "roles" : createrole ?
			    "databases" : "databases or roles", db->user);
	}
	pg_session_close(&s, err, sizeof err);
out:
	pg_free(&pg);
	return rc;
}

/* nftw() passes no argument: the one walk at a time keeps its count
 * here. */
static unsigned long walk_files;
static double walk_bytes;

static int
count(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path;
	(void)f;
	if (type == FTW_F) {
		walk_files++;
		walk_bytes += (double)st->st_size;
	}
	return 0;
}

static void
check_integrations(const struct config *c, struct doctor *d)
{
	struct stat st;
	char size[32];

	int e = stat(c->integrations_dir, &st) < 0 ? errno :
	    !S_ISDIR(st.st_mode) ? ENOTDIR : 0;

	if (e != 0) {
		add(d, "integrations", DOCTOR_FAIL, "cannot read integrations "
		    "directory '%s': %s; give the right one with "
		    "--integrations-dir", c->integrations_dir, strerror(e));
		return;
	}
	walk_files = 0;
	walk_bytes = 0;
	if (nftw(c->integrations_dir, count, 32, FTW_PHYS) < 0) {
		add(d, "integrations", DOCTOR_FAIL, "cannot read '%s': %s",
		    c->integrations_dir, strerror(errno));
		return;
	}
	human(walk_bytes, size, sizeof size);
	add(d, "integrations", DOCTOR_OK, "'%s': %lu file%s, %s",
	    c->integrations_dir, walk_files, walk_files == 1 ? "" : "s",
	    size);
}

/* Whether paths A and B are one folder. */
static int
same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (realpath(a, ra) == NULL || realpath(b, rb) == NULL)
		return strcmp(a, b) == 0;
	return strcmp(ra, rb) == 0;
}

static void
check_platform(const struct config *c, struct doctor *d)
{
	static char *const args[] = { "inspect", "--format",
		"{{range .Mounts}}{{.Source}}\t{{.Destination}}\n{{end}}",
		DOCTOR_PLATFORM, NULL };
	struct spawn_cmd cmd;
	char found[PATH_MAX], out[8192], err[1024];
	char **envp;
	const char *p;
	int rc;

	if (spawn_cmd(&cmd, c->docker, NULL) < 0 ||
	    spawn_find(cmd.argv[0], NULL, found, sizeof found) < 0) {
		add(d, "platform", DOCTOR_SKIP, "no '%s' here: the platform "
		    "container's integrations folder is not checked",
		    c->docker);
		return;
	}
	envp = docker_env();
	if (envp == NULL) {
		add(d, "platform", DOCTOR_SKIP, "out of memory");
		return;
	}
	rc = docker_query(c, args, envp, out, sizeof out, err, sizeof err);
	spawn_env_free(envp);
	if (rc < 0) {
		if (strstr(err, "No such"))
			add(d, "platform", DOCTOR_OK, "no container '%s' "
			    "here", DOCTOR_PLATFORM);
		else
			add(d, "platform", DOCTOR_SKIP, "docker does not "
			    "answer, the platform container is not checked: "
			    "%s", err);
		return;
	}
	for (p = out; *p; ) {
		size_t l = strcspn(p, "\n"), t = strcspn(p, "\t\n");
		char src[PATH_MAX], dst[PATH_MAX];
		const char *base;

		if (t < sizeof src && p[t] == '\t' && l - t - 1 < sizeof dst) {
			memcpy(src, p, t);
			src[t] = '\0';
			memcpy(dst, p + t + 1, l - t - 1);
			dst[l - t - 1] = '\0';
			while (strlen(dst) > 1 && dst[strlen(dst) - 1] == '/')
				dst[strlen(dst) - 1] = '\0';
			base = strrchr(dst, '/');
			base = base ? base + 1 : dst;
			if (strcmp(base, "integrations") == 0) {
				if (same_dir(src, c->integrations_dir))
					add(d, "platform", DOCTOR_OK,
					    "container '%s' mounts its "
					    "integrations from '%s'",
					    DOCTOR_PLATFORM, src);
				else
					add(d, "platform", DOCTOR_FAIL,
					    "container '%s' mounts its "
					    "integrations from '%s', not '%s': "
					    "give --integrations-dir %s",
					    DOCTOR_PLATFORM, src,
					    c->integrations_dir, src);
				return;
			}
		}
		p += l + (p[l] == '\n');
	}
	add(d, "platform", DOCTOR_OK, "container '%s' mounts no "
	    "integrations folder", DOCTOR_PLATFORM);
}

static void
check_backups(const struct config *c, struct doctor *d)
{
	struct catalog_entry *v = NULL;
	struct statvfs vfs;
	char free_s[32], last_s[32], parent[PATH_MAX];
	const char *dir = c->backup_dir;
	double avail;
	size_t n = 0;

	if (access(dir, F_OK) < 0) {
		/* A backup creates the folder, not its parents. */
		if (io_parent(dir, parent, sizeof parent) < 0 ||
		    access(parent, W_OK) < 0) {
			add(d, "backups", DOCTOR_FAIL, "'%s' does not exist and "
			    "cannot be made in '%s': %s; create it, or give "
			    "--backup-dir", dir, parent, strerror(errno));
			return;
		}
		dir = parent;
	} else if (access(dir, W_OK | X_OK) < 0) {
		add(d, "backups", DOCTOR_FAIL, "cannot write in '%s': %s; give "
		    "--backup-dir", dir, strerror(errno));
		return;
	}
	if (statvfs(dir, &vfs) < 0) {
		add(d, "backups", DOCTOR_SKIP, "cannot read the free space of "
		    "'%s': %s", dir, strerror(errno));
		return;
	}
	avail = (double)vfs.f_bavail * (double)vfs.f_frsize;
	human(avail, free_s, sizeof free_s);
	if (catalog_scan(c->backup_dir, &v, &n) < 0 || n == 0) {
		add(d, "backups", DOCTOR_OK, "'%s': %s free, no archive yet",
		    c->backup_dir, free_s);
		free(v);
		return;
	}
	human((double)v[0].size, last_s, sizeof last_s);
	/* The last archive is a guess at the next one's size: under half
	 * of it cannot be enough; under all of it may not be. */
	if (avail < (double)v[0].size / 2)
		add(d, "backups", DOCTOR_FAIL, "'%s' cannot hold the next "
		    "archive: %s free, and the last one took %s; make room "
		    "(polarity prune), or give --backup-dir", c->backup_dir,
		    free_s, last_s);
	else if (avail < (double)v[0].size)
		add(d, "backups", DOCTOR_WARN, "'%s' has %s free, less than "
		    "the last archive (%s): the next one may not fit",
		    c->backup_dir, free_s, last_s);
	else
		add(d, "backups", DOCTOR_OK, "'%s': %s free, the last archive "
		    "%s", c->backup_dir, free_s, last_s);
	free(v);
}

/* Whether the file PATH has a line, not a comment, that runs a backup
 * with polarity. */
static int
runs_backup(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int yes = 0;

	if (f == NULL)
		return 0;
	while (!yes && fgets(line, sizeof line, f)) {
		const char *p = line + strspn(line, " \t");
		yes = *p != '#' && strstr(p, "polarity") &&
		    strstr(p, " backup");
	}
	fclose(f);
	return yes;
}

static void
check_schedule(struct doctor *d)
{
	/* cron reads /etc/cron.d, whatever our prefix. */
	static const char crond[] = "/etc/cron.d";
	static const char timer[] =
	    "/etc/systemd/system/timers.target.wants/polarity-backup.timer";
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	if (access(timer, F_OK) == 0) {
		add(d, "schedule", DOCTOR_OK, "polarity-backup.timer is "
		    "enabled");
		return;
	}
	dir = opendir(crond);
	while (dir && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", crond, e->d_name);
		if (runs_backup(path)) {
			closedir(dir);
			add(d, "schedule", DOCTOR_OK, "'%s' runs the backup",
			    path);
			return;
		}
	}
	if (dir)
		closedir(dir);
	add(d, "schedule", DOCTOR_WARN, "no entry in %s and no "
	    "polarity-backup.timer enabled: no nightly backup runs; install "
	    "one (README, Scheduling)", crond);
}

static void
check_last(const struct config *c, struct doctor *d)
{
	struct catalog_entry *v = NULL;
	struct status s;
	time_t good, now = time(NULL);
	char t1[64], t2[64];
	size_t n = 0;

	if (c->status_file[0] && status_read(c->status_file, &s, &good) == 0) {
		when(s.end, t1, sizeof t1);
		if (!s.ok) {
			if (good)
				when(good, t2, sizeof t2);
			add(d, "last", DOCTOR_WARN, "the last backup failed at "
			    "%s; the last success %s%s; see the log (syslog, "
			    "polarity-backup)", t1, good ? "was at " : "",
			    good ? t2 : "is unknown");
		} else if (now - s.end > LATE_SECONDS) {
			add(d, "last", DOCTOR_WARN, "the last backup succeeded "
			    "at %s, more than a day ago", t1);
		} else {
			add(d, "last", DOCTOR_OK, "the last backup succeeded "
			    "at %s in %.0f s", t1, s.duration);
		}
		return;
	}
	if (catalog_scan(c->backup_dir, &v, &n) < 0 || n == 0) {
		add(d, "last", DOCTOR_WARN, "no archive in '%s' yet",
		    c->backup_dir);
		free(v);
		return;
	}
	when(v[0].when, t1, sizeof t1);
	add(d, "last", now - v[0].when > LATE_SECONDS ? DOCTOR_WARN :
	    DOCTOR_OK, "the newest archive is %s, of %s%s", v[0].name, t1,
	    now - v[0].when > LATE_SECONDS ? ", more than a day ago" : "");
	free(v);
}

int
doctor_run(const struct config *c, struct doctor *d)
{
	struct dotenv env;
	struct db db;
	int failed = 0;

	memset(d, 0, sizeof *d);
	memset(&env, 0, sizeof env);
	if (check_env(c, d, &env, &db) == 0)
		check_database(c, d, &db);
	dotenv_free(&env);
	check_integrations(c, d);
	check_platform(c, d);
	check_backups(c, d);
	check_schedule(d);
	check_last(c, d);
	for (size_t i = 0; i < d->n; i++)
		failed += d->v[i].state == DOCTOR_FAIL;
	return failed;
}

void
doctor_preflight_run(const struct config *c, struct doctor *d)
{
	memset(d, 0, sizeof *d);
	check_platform(c, d);
	check_backups(c, d);
}

int
doctor_preflight_report(const struct doctor *d, char *err, size_t elen)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct doctor_check *k = &d->v[i];
		/* A platform that mounts other integrations, or no room
		 * for half the last archive: refused before anything is
		 * written.  Short of that, try, and fail cleanly if the
		 * space runs out. */
		if (k->state == DOCTOR_FAIL) {
			snprintf(err, elen, "%s", k->text);
			return -1;
		}
		if (k->state == DOCTOR_WARN)
			log_warn("%s", k->text);
		else
			log_detail("%s: %s", k->name, k->text);
	}
	return 0;
}

static const char *const state_name[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_WARN] = "warn", [DOCTOR_FAIL] = "FAIL",
	[DOCTOR_SKIP] = "skip",
};

void
doctor_print(FILE *f, const struct doctor *d)
{
	const struct doctor_check *first = NULL;

	for (size_t i = 0; i < d->n; i++) {
		fprintf(f, "%-5s %-13s %s\n", state_name[d->v[i].state],
		    d->v[i].name, d->v[i].text);
		if (first == NULL && d->v[i].state == DOCTOR_FAIL)
			first = &d->v[i];
	}
	if (first)
		fprintf(f, "a backup would fail: %s: %s\n", first->name,
		    first->text);
	else
		fprintf(f, "a backup would succeed\n");
}

void
doctor_json(FILE *f, const struct doctor *d)
{
	int ok = 1;

	for (size_t i = 0; i < d->n; i++)
		ok &= d->v[i].state != DOCTOR_FAIL;
	fprintf(f, "{\"ok\": %s, \"checks\": [", ok ? "true" : "false");
	for (size_t i = 0; i < d->n; i++) {
		fprintf(f, "%s\n  {\"check\": ", i ? "," : "");
		io_json_string(f, d->v[i].name);
		fprintf(f, ", \"state\": \"%s\", \"text\": ",
		    d->v[i].state == DOCTOR_FAIL ? "fail" :
		    state_name[d->v[i].state]);
		io_json_string(f, d->v[i].text);
		fputc('}', f);
	}
	fprintf(f, "\n]}\n");
}
